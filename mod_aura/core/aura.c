/*
 * aura.c - errors, ids, redaction, hashing (the JSON helpers are
 * aura_json.c).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <apr_time.h>
#include <apr_general.h>
#include <openssl/evp.h>

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

json_object *aura_error_json(const aura_error_t *e)
{
    json_object *outer = json_object_new_object();
    json_object *err = json_object_new_object();

    json_object_object_add(err, "message", aura_json_nstr(e->message));
    json_object_object_add(err, "type", aura_json_nstr(e->type));
    json_object_object_add(err, "param", aura_json_nstr(e->param));
    json_object_object_add(err, "code", aura_json_nstr(e->code));
    json_object_object_add(outer, "error", err);
    return outer;
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

const char *aura_hex(apr_pool_t *p, const unsigned char *d, apr_size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, n * 2 + 1);
    apr_size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[n * 2] = '\0';
    return out;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int aura_unhex(const char *hex, unsigned char *out, apr_size_t len)
{
    apr_size_t i;
    int hi, lo;

    if (!hex || strlen(hex) != 2 * len)
        return -1;
    for (i = 0; i < len; i++) {
        if ((hi = nibble(hex[2 * i])) < 0 || (lo = nibble(hex[2 * i + 1])) < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

const char *aura_sha256_hex(apr_pool_t *p, const void *buf, apr_size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(buf ? buf : "", len, md, &n, EVP_sha256(), NULL);
    return aura_hex(p, md, n);
}
