/*
 * aura.c - errors, json-c helpers bound to pools, ids.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <apr_time.h>
#include <apr_general.h>

#include "aura.h"

aura_error_t *aura_error_make(apr_pool_t *p, int status, const char *type,
                              const char *code, const char *param,
                              const char *fmt, ...)
{
    aura_error_t *e = apr_pcalloc(p, sizeof(*e));
    va_list ap;

    e->status = status;
    e->type = type;
    e->code = code;
    e->param = param;
    va_start(ap, fmt);
    e->message = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return e;
}

static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

json_object *aura_error_json(const aura_error_t *e)
{
    json_object *outer = json_object_new_object();
    json_object *err = json_object_new_object();

    json_object_object_add(err, "message", str_or_null(e->message));
    json_object_object_add(err, "type", str_or_null(e->type));
    json_object_object_add(err, "param", str_or_null(e->param));
    json_object_object_add(err, "code", str_or_null(e->code));
    json_object_object_add(outer, "error", err);
    return outer;
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

const char *aura_make_id(apr_pool_t *p, const char *prefix)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[12];
    char out[25];
    int i;

    if (apr_generate_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        /* Never fatal: fall back to time and address entropy. */
        apr_uint64_t t = (apr_uint64_t)apr_time_now() ^ (apr_uintptr_t)raw;
        for (i = 0; i < (int)sizeof(raw); i++)
            raw[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)i;
    }
    for (i = 0; i < (int)sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[24] = '\0';
    return apr_pstrcat(p, prefix, out, NULL);
}

/* Length of a credential-looking token starting at s, or 0; *skip is how
 * much of it to keep ("Bearer ", "key=": the label, not the secret). */
static apr_size_t credential_at(const char *s, apr_size_t *skip)
{
    static const struct { const char *mark; int keep; } marks[] = {
        {"Bearer ", 1}, {"bearer ", 1}, {"key=", 1}, {"api_key=", 1},
        {"api-key: ", 1},
        {"sk-", 0},     /* OpenAI, Anthropic (sk-ant-) keys */
        {"AIza", 0},    /* Google API keys */
        {"hf_", 0},     /* Hugging Face tokens */
        {"AKIA", 0}, {"ASIA", 0},   /* AWS access key ids */
    };
    apr_size_t i, k, n;

    for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        k = strlen(marks[i].mark);
        if (strncmp(s, marks[i].mark, k))
            continue;
        if (!strncmp(s + k, "[redacted]", 10))
            return 0;       /* idempotent: redacting twice changes nothing */
        n = strcspn(s + k, " \t\r\n\"',;&)}]");
        while (n && s[k + n - 1] == '.')   /* end of a sentence */
            n--;
        if (n >= 4) {
            *skip = marks[i].keep ? k : 0;
            return k + n;
        }
    }
    return 0;
}

const char *aura_redact(apr_pool_t *p, const char *s, const char *secret)
{
    apr_size_t slen = secret ? strlen(secret) : 0, n, skip, len = 0;
    char *out;
    const char *c;
    int changed = 0;

    if (!s)
        return NULL;
    /* Each replacement consumes >= 4 bytes and writes 10: 3x is enough. */
    out = apr_palloc(p, 3 * strlen(s) + 16);
    for (c = s; *c;) {
        skip = 0;
        if (slen >= 4 && !strncmp(c, secret, slen))
            n = slen;
        else if ((c != s && isalnum((unsigned char)c[-1])) ||
                 (n = credential_at(c, &skip)) == 0) {
            out[len++] = *c++;
            continue;
        }
        memcpy(out + len, c, skip);
        len += skip;
        memcpy(out + len, "[redacted]", 10);
        len += 10;
        c += n;
        changed = 1;
    }
    out[len] = '\0';
    return changed ? out : s;
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
        json_tokener_reset(tok);
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

const char *aura_strjoin(apr_pool_t *p, const apr_array_header_t *parts,
                         const char *sep)
{
    apr_size_t total = 0, k = strlen(sep), n;
    char *out, *w;
    int i, first = 1;

    for (i = 0; i < parts->nelts; i++) {
        const char *s = APR_ARRAY_IDX(parts, i, const char *);
        if (s)
            total += strlen(s) + k;
    }
    w = out = apr_palloc(p, total + 1);
    for (i = 0; i < parts->nelts; i++) {
        const char *s = APR_ARRAY_IDX(parts, i, const char *);
        if (!s)
            continue;
        if (!first)
            memcpy(w, sep, k), w += k;
        first = 0;
        n = strlen(s);
        memcpy(w, s, n);
        w += n;
    }
    *w = '\0';
    return out;
}
