/*
 * aura_front_chat.h - private to the Chat Completions front door: what
 * its request side (aura_front_chat_in.c) and its response side and table
 * (aura_front_chat_out.c) both use.
 */
#ifndef AURA_FRONT_CHAT_H
#define AURA_FRONT_CHAT_H

#include "aura_front.h"

/* The chat body into the request model: aura_front_chat.parse. */
aura_error_t *aura_fc_parse(apr_pool_t *p, const char *body, apr_size_t len,
                            apr_table_t *headers, aura_request_t **out);

/* Shares v under key (v may be NULL: the key is added as null). */
void aura_fc_put(json_object *o, const char *key, json_object *v);

#endif /* AURA_FRONT_CHAT_H */
