/*
 * aura_sigv4.c - AWS Signature Version 4 header signing (see aura_sigv4.h).
 *
 * Steps, as the IAM User Guide names them:
 *   1 canonical request: method \n canonical URI \n canonical query \n
 *     canonical headers \n signed headers \n hex(sha256(payload))
 *   2 string to sign: "AWS4-HMAC-SHA256" \n amz-date \n scope \n
 *     hex(sha256(canonical request)), scope = date/region/service/aws4_request
 *   3 key = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
 *     "aws4_request")
 *   4 signature = hex(HMAC(key, string to sign))
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <apr_time.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include "aura_sigv4.h"

#define SIGV4_ALGO "AWS4-HMAC-SHA256"

static void hmac(const void *key, apr_size_t klen, const char *msg,
                 unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
         strlen(msg), out, &n);
}

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

const char *aura_sigv4_uri_encode(apr_pool_t *p, const char *s, apr_size_t n,
                                  int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, n * 3 + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            *o++ = (char)c;
            continue;
        }
        *o++ = '%';
        *o++ = digits[c >> 4];
        *o++ = digits[c & 15];
    }
    *o = '\0';
    return out;
}

/* ---- canonical query ------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Query parameters are normalized: decoded, then encoded the SigV4 way,
 * so "a%2fb" and "a/b" sign alike (as AWS computes them). */
static const char *requery(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *dec = apr_palloc(p, n + 1);
    apr_size_t i, k = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0
            && hexval(s[i + 2]) >= 0) {
            dec[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        else {
            dec[k++] = s[i];
        }
    }
    return aura_sigv4_uri_encode(p, dec, k, 0);
}

typedef struct kv {
    const char *k, *v;
} kv_t;

static int kv_cmp(const void *a, const void *b)
{
    const kv_t *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static const char *canonical_query(apr_pool_t *p, const char *q)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(kv_t));
    const char *out = "";
    int i;

    while (q && *q) {
        const char *amp = strchr(q, '&');
        apr_size_t n = amp ? (apr_size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        kv_t *e;

        if (n) {
            e = apr_array_push(a);
            e->k = requery(p, q, eq ? (apr_size_t)(eq - q) : n);
            e->v = eq ? requery(p, eq + 1, n - (apr_size_t)(eq - q) - 1) : "";
        }
        q = amp ? amp + 1 : NULL;
    }
    qsort(a->elts, (size_t)a->nelts, sizeof(kv_t), kv_cmp);
    for (i = 0; i < a->nelts; i++) {
        kv_t *e = &APR_ARRAY_IDX(a, i, kv_t);
        out = apr_pstrcat(p, out, i ? "&" : "", e->k, "=", e->v, NULL);
    }
    return out;
}

/* ---- canonical headers ----------------------------------------------- */

/* Lower-case name; value trimmed, inner runs of spaces collapsed. */
static void add_header(apr_pool_t *p, apr_array_header_t *a, const char *name,
                       apr_size_t nlen, const char *value)
{
    kv_t *e = apr_array_push(a);
    char *k = apr_pstrmemdup(p, name, nlen);
    char *v = apr_palloc(p, strlen(value) + 1), *o = v;
    char *s;

    for (s = k; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    while (*value == ' ' || *value == '\t')
        value++;
    for (; *value; value++) {
        int sp = *value == ' ' || *value == '\t';
        if (sp && (o == v || o[-1] == ' '))
            continue;
        *o++ = sp ? ' ' : *value;
    }
    while (o > v && o[-1] == ' ')
        o--;
    *o = '\0';
    e->k = k;
    e->v = v;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const kv_t *)a)->k, ((const kv_t *)b)->k);
}

/* A repeated header becomes one line, its values comma-joined in the
 * order given (the SigV4 rule); then the lines are sorted by name.
 * Merging first means qsort's instability cannot reorder the values. */
static apr_array_header_t *merge_repeats(apr_pool_t *p, apr_array_header_t *a)
{
    apr_array_header_t *m = apr_array_make(p, a->nelts, sizeof(kv_t));
    int i, j;

    for (i = 0; i < a->nelts; i++) {
        kv_t *e = &APR_ARRAY_IDX(a, i, kv_t);
        for (j = 0; j < m->nelts; j++) {
            kv_t *f = &APR_ARRAY_IDX(m, j, kv_t);
            if (!strcmp(f->k, e->k)) {
                f->v = apr_pstrcat(p, f->v, ",", e->v, NULL);
                break;
            }
        }
        if (j == m->nelts)
            *(kv_t *)apr_array_push(m) = *e;
    }
    qsort(m->elts, (size_t)m->nelts, sizeof(kv_t), name_cmp);
    return m;
}

static apr_array_header_t *signed_headers(apr_pool_t *p,
                                          const aura_sigv4_req_t *r,
                                          const char *amz_date)
{
    apr_array_header_t *a = apr_array_make(p, 6, sizeof(kv_t));
    int i;

    add_header(p, a, "host", 4, r->host);
    add_header(p, a, "x-amz-date", 10, amz_date);
    if (r->cred->session_token && *r->cred->session_token)
        add_header(p, a, "x-amz-security-token", 20, r->cred->session_token);
    for (i = 0; r->headers && i < r->headers->nelts; i++) {
        const char *h = APR_ARRAY_IDX(r->headers, i, const char *);
        const char *colon = strchr(h, ':');
        if (colon)
            add_header(p, a, h, (apr_size_t)(colon - h), colon + 1);
    }
    return merge_repeats(p, a);
}

/* ---- the signature --------------------------------------------------- */

static const char *amz_date_of(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;

    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d%02d%02dT%02d%02d%02dZ", x.tm_year + 1900,
                        x.tm_mon + 1, x.tm_mday, x.tm_hour, x.tm_min,
                        x.tm_sec);
}

static const char *canonical_request(apr_pool_t *p, const aura_sigv4_req_t *r,
                                     apr_array_header_t *h,
                                     const char **names)
{
    const char *path = r->path && *r->path ? r->path : "/";
    const char *lines = "", *list = "";
    int i;

    for (i = 0; i < h->nelts; i++) {
        kv_t *e = &APR_ARRAY_IDX(h, i, kv_t);
        lines = apr_pstrcat(p, lines, e->k, ":", e->v, "\n", NULL);
        list = apr_pstrcat(p, list, i ? ";" : "", e->k, NULL);
    }
    *names = list;
    return apr_pstrcat(p, r->method, "\n",
                       aura_sigv4_uri_encode(p, path, strlen(path), 1), "\n",
                       canonical_query(p, r->query), "\n", lines, "\n", list,
                       "\n", aura_sha256_hex(p, r->body, r->len), NULL);
}

/* The derived key never leaves this function's stack, and is wiped. */
static const char *signature(apr_pool_t *p, const aura_sigv4_req_t *r,
                             const char *date, const char *sts)
{
    const char *secret = r->cred->secret_access_key;
    apr_size_t klen = strlen(secret) + 4;
    char *k0 = apr_palloc(p, klen + 1);
    unsigned char a[32], b[32];
    const char *hex;

    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, klen - 4 + 1);
    hmac(k0, klen, date, a);
    OPENSSL_cleanse(k0, klen);
    hmac(a, 32, r->region, b);
    hmac(b, 32, r->service, a);
    hmac(a, 32, "aws4_request", b);
    hmac(b, 32, sts, a);
    hex = aura_hex(p, a, 32);
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    return hex;
}

aura_error_t *aura_sigv4_sign(apr_pool_t *p, const aura_sigv4_req_t *r,
                              aura_sigv4_out_t *out)
{
    const char *date, *scope, *names;
    apr_array_header_t *h;

    memset(out, 0, sizeof(*out));
    if (!r->cred || !r->cred->access_key_id || !*r->cred->access_key_id
        || !r->cred->secret_access_key || !*r->cred->secret_access_key)
        return aura_error_make(p, 500, "server_error", "provider_misconfigured",
                               NULL, "The AWS credentials for this provider "
                               "are incomplete (access key id and secret "
                               "access key are both needed).");
    out->amz_date = amz_date_of(p, r->now);
    date = apr_pstrmemdup(p, out->amz_date, 8);
    scope = apr_pstrcat(p, date, "/", r->region, "/", r->service,
                        "/aws4_request", NULL);
    h = signed_headers(p, r, out->amz_date);
    out->canonical_request = canonical_request(p, r, h, &names);
    out->string_to_sign = apr_pstrcat(p, SIGV4_ALGO "\n", out->amz_date, "\n",
                                      scope, "\n", aura_sha256_hex(p,
                                          out->canonical_request,
                                          strlen(out->canonical_request)),
                                      NULL);
    out->signature = signature(p, r, date, out->string_to_sign);
    out->authorization = apr_pstrcat(p, SIGV4_ALGO " Credential=",
                                     r->cred->access_key_id, "/", scope,
                                     ", SignedHeaders=", names,
                                     ", Signature=", out->signature, NULL);
    if (r->cred->session_token && *r->cred->session_token)
        out->token = r->cred->session_token;
    return NULL;
}
