/*
 * aura_request_int.h - private to the request parser (aura_request.c and
 * aura_request_items.c): the parse context, error makers that carry a
 * field path in `param`, and the typed field getters both files use.
 */
#ifndef AURA_REQUEST_INT_H
#define AURA_REQUEST_INT_H

#include <apr_hash.h>

#include "aura_request.h"

typedef struct pctx {
    apr_pool_t *p;
    aura_request_t *req;
    apr_hash_t *tool_names;     /* name -> "" for tools[] */
} pctx_t;

/* 400 errors; `param` is the field path. */
aura_error_t *aura_rq_e_type(apr_pool_t *p, const char *param,
                             const char *want, json_object *got);
aura_error_t *aura_rq_e_missing(apr_pool_t *p, const char *param);
aura_error_t *aura_rq_e_value(apr_pool_t *p, const char *param,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "at.key" ("key" when at is NULL) and "at[i]". */
const char *aura_rq_path(apr_pool_t *p, const char *at, const char *key);
const char *aura_rq_path_idx(apr_pool_t *p, const char *at, size_t i);

/* Length in characters (code points) of valid UTF-8. */
apr_size_t aura_rq_utf8_len(const char *s);

/* Typed getters for o[key], named at.key in errors. Absent and null are
 * the same: an error when required, else NULL with *out NULL. */
aura_error_t *aura_rq_get_str(apr_pool_t *p, json_object *o, const char *at,
                              const char *key, int required,
                              const char **out);
aura_error_t *aura_rq_get_typed(apr_pool_t *p, json_object *o,
                                const char *at, const char *key,
                                int required, json_type type,
                                const char *want, json_object **out);
/* A string from the NULL-terminated set. */
aura_error_t *aura_rq_get_enum(apr_pool_t *p, json_object *o, const char *at,
                               const char *key, int required,
                               const char *const *set, const char **out);
/* A required tool or schema name: ^[a-zA-Z0-9_-]{1,64}$ */
aura_error_t *aura_rq_get_name(apr_pool_t *p, json_object *o, const char *at,
                               const char *key, const char **out);

/* The `input` field: a string or an array of items, normalized into
 * c->req->input (aura_request_items.c). */
aura_error_t *aura_rq_parse_input(pctx_t *c, json_object *v);

#endif /* AURA_REQUEST_INT_H */
