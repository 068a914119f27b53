/*
 * aura_json.c - serializing json-c trees on the hot path.
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
#include <string.h>
#include <apr_strings.h>

#include "aura.h"

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
} jw_t;

#define JW_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void jw_need(jw_t *w, apr_size_t n)
{
    char *bigger;
    if (w->len + n + 1 <= w->cap)
        return;
    while (w->len + n + 1 > w->cap)
        w->cap *= 2;
    bigger = apr_palloc(w->p, w->cap);
    memcpy(bigger, w->buf, w->len);
    w->buf = bigger;
}

static void jw_put(jw_t *w, const char *s, apr_size_t n)
{
    jw_need(w, n);
    memcpy(w->buf + w->len, s, n);
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

    jw_need(w, n + 2);
    w->buf[w->len++] = '"';
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

    w.p = p;
    w.cap = 1024;
    w.len = 0;
    w.buf = apr_palloc(p, w.cap);
    if (pre)
        jw_put(&w, pre, strlen(pre));
    jw_value(&w, obj);
    if (post)
        jw_put(&w, post, strlen(post));
    w.buf[w.len] = '\0';
    if (len)
        *len = w.len;
    return w.buf;
}

const char *aura_json_str(apr_pool_t *p, json_object *obj, apr_size_t *len)
{
    return aura_json_frame(p, NULL, obj, NULL, len);
}
