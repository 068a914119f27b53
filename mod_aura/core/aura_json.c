/*
 * aura_json.c - the JSON helpers (aura_json.h): values bound to pools,
 * typed getters, the tokener cache, and serializing json-c trees on the
 * hot path.
 *
 * json-c's printer builds each string through a printbuf, one escape check
 * and append per character, then the gateway copied the result into pool
 * memory: about a third of the JSON cost of a request. This writer makes
 * one pass over the tree into a growing pool buffer, copying strings in
 * runs between the characters that need escaping. The output is byte for
 * byte what json-c prints with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE (tests/unit/test_core.c compares them);
 * doubles are left to json-c, which knows their original text.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "aura.h"
#include "aura_buf.h"

/* The writer is a pool buffer; puts leave out the NUL until the end. */
typedef aura_buf_t jw_t;

#define JW_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void jw_put(jw_t *w, const char *s, apr_size_t n)
{
    aura_buf_need(w, n);
    memcpy(w->s + w->len, s, n);
    w->len += n;
}

/* Which bytes json-c escapes (and how): '"', '\\' and the controls. */
static const char *escape_of(unsigned char c, char tmp[8])
{
    switch (c) {
    case '"':  return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default:
        apr_snprintf(tmp, 8, "\\u00%c%c", "0123456789abcdef"[c >> 4],
                     "0123456789abcdef"[c & 15]);
        return tmp;
    }
}

static void jw_string(jw_t *w, const char *s, apr_size_t n)
{
    apr_size_t i, run = 0;
    char tmp[8];

    aura_buf_need(w, n + 2);
    w->s[w->len++] = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jw_put(w, s + run, i - run);
        jw_put(w, escape_of(c, tmp), strlen(escape_of(c, tmp)));
        run = i + 1;
    }
    jw_put(w, s + run, n - run);
    jw_put(w, "\"", 1);
}

static void jw_value(jw_t *w, json_object *o);

static void jw_object(jw_t *w, json_object *o)
{
    int first = 1;
    jw_put(w, "{", 1);
    json_object_object_foreach(o, k, v) {
        if (!first)
            jw_put(w, ",", 1);
        first = 0;
        jw_string(w, k, strlen(k));
        jw_put(w, ":", 1);
        jw_value(w, v);
    }
    jw_put(w, "}", 1);
}

static void jw_array(jw_t *w, json_object *o)
{
    size_t i, n = json_object_array_length(o);
    jw_put(w, "[", 1);
    for (i = 0; i < n; i++) {
        if (i)
            jw_put(w, ",", 1);
        jw_value(w, json_object_array_get_idx(o, i));
    }
    jw_put(w, "]", 1);
}

static void jw_value(jw_t *w, json_object *o)
{
    char num[32];
    size_t n;
    const char *s;

    switch (json_object_get_type(o)) {
    case json_type_null:
        jw_put(w, "null", 4);
        break;
    case json_type_boolean:
        if (json_object_get_boolean(o))
            jw_put(w, "true", 4);
        else
            jw_put(w, "false", 5);
        break;
    case json_type_int:
        n = (size_t)apr_snprintf(num, sizeof(num), "%" APR_INT64_T_FMT,
                                 (apr_int64_t)json_object_get_int64(o));
        jw_put(w, num, n);
        break;
    case json_type_string:
        jw_string(w, json_object_get_string(o),
                  (apr_size_t)json_object_get_string_len(o));
        break;
    case json_type_object:
        jw_object(w, o);
        break;
    case json_type_array:
        jw_array(w, o);
        break;
    default:                        /* double: json-c keeps its text */
        s = json_object_to_json_string_length(o, JW_FLAGS, &n);
        jw_put(w, s, n);
        break;
    }
}

const char *aura_json_frame(apr_pool_t *p, const char *pre,
                            json_object *obj, const char *post,
                            apr_size_t *len)
{
    jw_t w;

    aura_buf_init(&w, p, 1024);
    if (pre)
        jw_put(&w, pre, strlen(pre));
    jw_value(&w, obj);
    if (post)
        jw_put(&w, post, strlen(post));
    w.s[w.len] = '\0';
    if (len)
        *len = w.len;
    return w.s;
}

const char *aura_json_str(apr_pool_t *p, json_object *obj, apr_size_t *len)
{
    return aura_json_frame(p, NULL, obj, NULL, len);
}

static apr_status_t json_put_cleanup(void *data)
{
    json_object_put(data);
    return APR_SUCCESS;
}

json_object *aura_json_pool(apr_pool_t *p, json_object *obj)
{
    if (obj)
        apr_pool_cleanup_register(p, obj, json_put_cleanup,
                                  apr_pool_cleanup_null);
    return obj;
}

const char *aura_json_type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:    return "null";
    case json_type_boolean: return "a boolean";
    case json_type_int:
    case json_type_double:  return "a number";
    case json_type_string:  return "a string";
    case json_type_array:   return "an array";
    case json_type_object:  return "an object";
    }
    return "an unknown value";
}

json_object *aura_json_get(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!obj || !json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v; /* JSON null is stored as NULL by json-c */
}

const char *aura_json_string(json_object *obj, const char *key)
{
    json_object *v = aura_json_get(obj, key);
    return (v && json_object_is_type(v, json_type_string))
               ? json_object_get_string(v) : NULL;
}

json_object *aura_json_nstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

void aura_json_add_str(json_object *o, const char *key, const char *s)
{
    json_object_object_add(o, key, aura_json_nstr(s));
}

json_object *aura_json_money(double v)
{
    char buf[64];
    if (!isfinite(v))
        return NULL;
    /* %.12g keeps micro-cent precision without binary noise; the "ds"
     * variant makes json-c print exactly this text. */
    snprintf(buf, sizeof(buf), "%.12g", v);
    if (!strpbrk(buf, ".eE"))
        apr_cpystrn(buf + strlen(buf), ".0", sizeof(buf) - strlen(buf));
    return json_object_new_double_s(v, buf);
}

#define AURA_TOKENER_CACHE 4

static __thread struct json_tokener *tl_tokeners[AURA_TOKENER_CACHE];
static __thread int tl_ntokeners;

struct json_tokener *aura_tokener_acquire(void)
{
    if (tl_ntokeners > 0)
        return tl_tokeners[--tl_ntokeners];
    return json_tokener_new_ex(AURA_JSON_DEPTH);
}

void aura_tokener_release(struct json_tokener *tok)
{
    if (!tok)
        return;
    if (tl_ntokeners < AURA_TOKENER_CACHE) {
        /* reset keeps the flags: a request parser's STRICT must not make
         * the next user (a decoder) parse strictly too */
        json_tokener_reset(tok);
        json_tokener_set_flags(tok, 0);
        tl_tokeners[tl_ntokeners++] = tok;
    }
    else {
        json_tokener_free(tok);
    }
}

static apr_status_t tokener_cleanup(void *tok)
{
    aura_tokener_release(tok);
    return APR_SUCCESS;
}

struct json_tokener *aura_tokener_pool(apr_pool_t *p)
{
    struct json_tokener *tok = aura_tokener_acquire();
    if (tok)
        apr_pool_cleanup_register(p, tok, tokener_cleanup,
                                  apr_pool_cleanup_null);
    return tok;
}

/* ------------------------------------------------ quoted strings */

/* Length of the valid UTF-8 sequence at s, or 0. PostgreSQL refuses a
 * batch with one bad byte in it (the ledger line), and end-user ids come
 * from clients. */
static int utf8_len(const unsigned char *s)
{
    int n, i;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) { n = 2; cp = s[0] & 0x1f; }
    else if ((s[0] & 0xf0) == 0xe0) { n = 3; cp = s[0] & 0x0f; }
    else if ((s[0] & 0xf8) == 0xf0) { n = 4; cp = s[0] & 0x07; }
    else return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

const char *aura_json_quote(apr_pool_t *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    char *out, *o;
    int k;

    if (!s)
        return "null";
    /* Worst case: every byte becomes a six-character escape. */
    o = out = apr_palloc(p, strlen(s) * 6 + 3);
    *o++ = '"';
    while (*u) {
        if (*u == '"' || *u == '\\') {
            *o++ = '\\';
            *o++ = (char)*u++;
        }
        else if (*u < 0x20) {
            o += sprintf(o, "\\u%04x", *u++);
        }
        else if ((k = utf8_len(u)) > 0) {
            memcpy(o, u, (size_t)k);
            o += k;
            u += k;
        }
        else {
            memcpy(o, "\\ufffd", 6);
            o += 6;
            u++;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}
