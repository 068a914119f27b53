/*
 * aura_json.h - the JSON helpers of the core, in one place: json-c values
 * bound to pools, typed getters, the hot-path writer (aura_json.c), and
 * the per-thread tokener cache.
 */
#ifndef AURA_JSON_H
#define AURA_JSON_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

/* Nesting depth accepted in any JSON the gateway parses (request bodies,
 * upstream answers): tool schemas nest deeper than json-c's default 32,
 * and providers echo them back. */
#define AURA_JSON_DEPTH 128

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

/* A new string, or NULL (JSON null) for NULL; and o[key] = that. */
json_object *aura_json_nstr(const char *s);
void aura_json_add_str(json_object *o, const char *key, const char *s);

/* A double serialized with at most 12 significant digits (cost figures),
 * so that 0.1 + 0.2 prints as 0.3 and not 0.30000000000000004. */
json_object *aura_json_money(double v);

/* A JSON string literal (quoted, escaped; invalid UTF-8 as U+FFFD) or
 * "null", in p: for JSON written without a json-c tree (ledger lines). */
const char *aura_json_quote(apr_pool_t *p, const char *s);

/* A json-c tokener (depth AURA_JSON_DEPTH), reset, from a small per-thread
 * cache: creating one costs a 4 KiB calloc and free per use, on the hot
 * path of every request. Give it back with aura_tokener_release (which
 * frees it when the cache is full). aura_tokener_pool: acquired now,
 * released when `p` is cleared. */
struct json_tokener *aura_tokener_acquire(void);
void aura_tokener_release(struct json_tokener *tok);
struct json_tokener *aura_tokener_pool(apr_pool_t *p);

#endif /* AURA_JSON_H */
