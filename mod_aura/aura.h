/*
 * aura.h - shared types of the mod_aura core library.
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
#include <json-c/json.h>

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

/* Bind a json-c object's lifetime to a pool: json_object_put() runs when
 * the pool is cleared. Returns obj (NULL-safe). */
json_object *aura_json_pool(apr_pool_t *p, json_object *obj);

/* Serialize compactly into pool memory (no slash escaping). */
const char *aura_json_str(apr_pool_t *p, json_object *obj, apr_size_t *len);

/* Adding keys on the hot path: a literal key is not copied
 * (KEY_IS_CONSTANT), and on a fresh object the duplicate lookup is skipped
 * (KEY_IS_NEW). AURA_ADD_NEW only where the key cannot be there yet. */
#define AURA_SET(o, k, v) \
    json_object_object_add_ex((o), (k), (v), JSON_C_OBJECT_KEY_IS_CONSTANT)
#define AURA_ADD_NEW(o, k, v) \
    json_object_object_add_ex((o), (k), (v), JSON_C_OBJECT_KEY_IS_CONSTANT | \
                              JSON_C_OBJECT_ADD_KEY_IS_NEW)

/* pre + compact JSON + post in one pass into pool memory (a wire frame,
 * e.g. "data: " ... "\n\n"): one allocation, no intermediate copy. */
const char *aura_json_frame(apr_pool_t *p, const char *pre, json_object *obj,
                            const char *post, apr_size_t *len);

/* "a string", "an object", ...: what a JSON value is, for error messages
 * ("expected an array, got a string"). */
const char *aura_json_type_name(json_object *v);

/* Typed getters: NULL / default when the key is absent or JSON null. */
json_object *aura_json_get(json_object *obj, const char *key);
const char *aura_json_string(json_object *obj, const char *key);

/* A double serialized with at most 12 significant digits (cost figures),
 * so that 0.1 + 0.2 prints as 0.3 and not 0.30000000000000004. */
json_object *aura_json_money(double v);

/* The strings of `parts` (const char*, NULLs skipped) joined by `sep`, in
 * one allocation: joining in a loop with apr_pstrcat copies the whole
 * string each time, which a client with many small parts turns into
 * gigabytes. */
const char *aura_strjoin(apr_pool_t *p, const apr_array_header_t *parts,
                         const char *sep);

/* Nesting depth accepted in any JSON the gateway parses (request bodies,
 * upstream answers): tool schemas nest deeper than json-c's default 32,
 * and providers echo them back. */
#define AURA_JSON_DEPTH 128

/* Text that came from an upstream (error messages), made safe to show and
 * log: every occurrence of `secret` (may be NULL), and anything that looks
 * like a credential ("Bearer <token>", "sk-...", "key=..."), is replaced by
 * "[redacted]". Returns `s` itself when there is nothing to redact. */
const char *aura_redact(apr_pool_t *p, const char *s, const char *secret);

/* A json-c tokener (depth AURA_JSON_DEPTH), reset, from a small per-thread
 * cache: creating one costs a 4 KiB calloc and free per use, on the hot
 * path of every request. Give it back with aura_tokener_release (which
 * frees it when the cache is full). aura_tokener_pool: acquired now,
 * released when `p` is cleared. */
struct json_tokener *aura_tokener_acquire(void);
void aura_tokener_release(struct json_tokener *tok);
struct json_tokener *aura_tokener_pool(apr_pool_t *p);

/* Random ids like "resp_3f9a..." (prefix + 24 hex chars), pool-allocated. */
const char *aura_make_id(apr_pool_t *p, const char *prefix);

#endif /* AURA_H */
