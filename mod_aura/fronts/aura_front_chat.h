/*
 * aura_front_chat.h - private to the Chat Completions front door: what
 * its request side (aura_front_chat_in.c, aura_front_chat_in_errors.c)
 * and its response side and table (aura_front_chat_out.c) use.
 */
#ifndef AURA_FRONT_CHAT_H
#define AURA_FRONT_CHAT_H

#include <apr_hash.h>

#include "aura_front.h"

typedef enum { O_MSG, O_CALL, O_FN_CALL, O_OUTPUT, O_FN_OUTPUT } okind_t;

/* Where a generated input item came from, to name it in errors. */
typedef struct origin {
    const char *path;           /* "messages[2]", "...tool_calls[0]" */
    okind_t kind;
} origin_t;

typedef struct cctx {
    apr_pool_t *p;
    json_object *chat;          /* the client's body */
    json_object *out;           /* the Open Responses body being built */
    json_object *input;         /* out.input */
    apr_array_header_t *origin; /* origin_t per input item */
    apr_hash_t *legacy;         /* function name -> call_id (role function) */
    const char *max_key;        /* the field max_tokens came from */
    long max_tokens;
    int include_usage;
} cctx_t;

/* e with its Responses path (param, and the message's quotes of it)
 * renamed to the chat path the offending item came from. */
aura_error_t *aura_fc_map_error(cctx_t *c, aura_error_t *e);

/* The chat body into the request model: aura_front_chat.parse. */
aura_error_t *aura_fc_parse(apr_pool_t *p, const char *body, apr_size_t len,
                            apr_table_t *headers, aura_request_t **out);

/* Shares v under key (v may be NULL: the key is added as null). */
void aura_fc_put(json_object *o, const char *key, json_object *v);

#endif /* AURA_FRONT_CHAT_H */
