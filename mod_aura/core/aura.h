/*
 * aura.h - shared types of the mod_aura core library: errors, ids,
 * redaction, hashing; the JSON helpers are aura_json.h (included).
 *
 * The core library (aura_*.c) depends on APR, json-c, libcurl and OpenSSL
 * only; it never includes httpd headers, so the admin CGI and the unit tests
 * link it without a server (the mod_md split: md_*.c vs mod_md_*.c).
 */
#ifndef AURA_H
#define AURA_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_strings.h>
#include "aura_json.h"

/* An error in the Open Responses shape:
 * {"error":{"message","type","param","code"}} sent with HTTP `status`. */
typedef struct aura_error {
    int status;             /* HTTP status to answer with */
    const char *type;       /* invalid_request_error, not_found_error, ... */
    const char *code;       /* machine code, or NULL */
    const char *param;      /* the offending request field, or NULL */
    const char *message;    /* human text; never holds a secret */
    const char *retry_after;/* Retry-After to pass on (429/503), or NULL */
} aura_error_t;

aura_error_t *aura_error_make(apr_pool_t *p, int status, const char *type,
                              const char *code, const char *param,
                              const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Shorthand for the most common case: 400 invalid_request_error. */
#define aura_bad_request(p, code, param, ...) \
    aura_error_make((p), 400, "invalid_request_error", (code), (param), \
                    __VA_ARGS__)

/* {"error":{...}} as a new json object (caller owns it). */
json_object *aura_error_json(const aura_error_t *e);

/* The strings of `parts` (const char*, NULLs skipped) joined by `sep`, in
 * one allocation: joining in a loop with apr_pstrcat copies the whole
 * string each time, which a client with many small parts turns into
 * gigabytes. */
const char *aura_strjoin(apr_pool_t *p, const apr_array_header_t *parts,
                         const char *sep);

/* Text that came from an upstream (error messages), made safe to show and
 * log: every occurrence of `secret` (may be NULL), and anything that looks
 * like a credential ("Bearer <token>", "sk-...", "key=..."), is replaced by
 * "[redacted]". Returns `s` itself when there is nothing to redact. */
const char *aura_redact(apr_pool_t *p, const char *s, const char *secret);

/* Random ids like "resp_3f9a..." (prefix + 24 hex chars), pool-allocated. */
const char *aura_make_id(apr_pool_t *p, const char *prefix);

/* Lower-case hex of n bytes, and back (-1 on bad input); the hex SHA-256
 * of buf (NULL: empty). */
const char *aura_hex(apr_pool_t *p, const unsigned char *d, apr_size_t n);
int aura_unhex(const char *hex, unsigned char *out, apr_size_t len);
const char *aura_sha256_hex(apr_pool_t *p, const void *buf, apr_size_t len);

#endif /* AURA_H */
