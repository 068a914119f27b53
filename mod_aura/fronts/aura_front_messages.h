/*
 * aura_front_messages.h - the Messages front door's parts shared by its
 * files: the entry point of the request parser (aura_front_messages_in.c:
 * top-level fields, tools, entry point; aura_front_messages_in_blocks.c:
 * messages, content blocks, system) that aura_front_messages_out.c puts
 * in its table, the
 * parse context, error makers whose message leads with the field path
 * (Anthropic's "messages.1.content: ..."), and the typed getters.
 */
#ifndef AURA_FRONT_MESSAGES_H
#define AURA_FRONT_MESSAGES_H

#include <apr_hash.h>

#include "aura_front.h"

typedef struct mctx {
    apr_pool_t *p;
    aura_request_t *req;
    json_object *root;          /* the Messages body */
    apr_hash_t *tools;          /* declared tool names */
    json_object *cur;           /* the message item being filled, or NULL */
    const char *role;           /* of the message being read */
    const char *effort;         /* reasoning.effort to ask for, or NULL */
    long max_tokens;            /* as the client sent it; 0 = absent */
} mctx_t;

/* The entry point; `count`: a count_tokens body (no max_tokens). */
aura_error_t *aura_front_messages_parse(apr_pool_t *p, const char *body,
                                        apr_size_t len, int count,
                                        aura_request_t **out);

#define ADD(o, k, v) json_object_object_add((o), (k), (v))

/* 400 errors; `at` is the field path and the error's `param`. */
aura_error_t *aura_fm_e_missing(apr_pool_t *p, const char *at);
aura_error_t *aura_fm_e_type(apr_pool_t *p, const char *at, const char *want,
                             json_object *got);
/* "<path>: <text>" with an error code. */
aura_error_t *aura_fm_e_fmt(apr_pool_t *p, const char *code, const char *at,
                            const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define aura_fm_e_value(p, at, ...) \
    aura_fm_e_fmt((p), "invalid_value", (at), __VA_ARGS__)
#define aura_fm_e_unsupported(p, at, ...) \
    aura_fm_e_fmt((p), "unsupported_parameter", (at), __VA_ARGS__)

/* "at.key" ("key" when at is NULL) and "at.i", Anthropic's notation. */
const char *aura_fm_at_key(apr_pool_t *p, const char *at, const char *key);
const char *aura_fm_at_idx(apr_pool_t *p, const char *at, size_t i);

/* o[key], absent and null alike: an error when required, else NULL with
 * *out NULL. */
aura_error_t *aura_fm_get(apr_pool_t *p, json_object *o, const char *at,
                          const char *key, int required, json_type type,
                          json_object **out);
aura_error_t *aura_fm_get_str(apr_pool_t *p, json_object *o, const char *at,
                              const char *key, int required,
                              const char **out);
/* A string from the NULL-terminated set. */
aura_error_t *aura_fm_get_enum(apr_pool_t *p, json_object *o, const char *at,
                               const char *key, int required,
                               const char *const *set, const char **out);
/* A required tool name: ^[a-zA-Z0-9_-]{1,64}$ */
aura_error_t *aura_fm_get_name(apr_pool_t *p, json_object *o, const char *at,
                               const char *key, const char **out);

/* A new {"type": type}. */
json_object *aura_fm_typed(const char *type);

/* messages and system, into c->req->input and c->req->instructions
 * (aura_front_messages_in_blocks.c). */
aura_error_t *aura_fm_parse_messages(mctx_t *c, json_object *v);
aura_error_t *aura_fm_parse_system(mctx_t *c, json_object *v);

#endif /* AURA_FRONT_MESSAGES_H */
