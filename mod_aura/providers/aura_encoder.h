/*
 * aura_encoder.h - helpers shared by the provider request encoders
 * (aura_openai_chat_enc.c, aura_anthropic_enc.c, aura_gemini_enc.c, aura_bedrock_enc.c,
 * aura_ollama_enc.c, aura_mistral_enc.c): small JSON builders, the 400 answers
 * every encoder gives alike, and the Chat-style message list that the
 * Chat Completions and Ollama encoders both build.
 */
#ifndef AURA_ENCODER_H
#define AURA_ENCODER_H

#include <apr_hash.h>

#include "aura_adapter.h"

/* o[key] = the string s. */
void aura_enc_add_str(json_object *o, const char *key, const char *s);

/* A new {"role": role} message. */
json_object *aura_enc_new_msg(const char *role);

/* 400 unsupported_parameter for `param`; `what` says why. */
aura_error_t *aura_enc_unsupported(apr_pool_t *p, const char *param,
                                   const char *what);

/* 400 previous_response_not_found when the request names a previous
 * response (no stored responses for the provider, `whose` in the
 * message); NULL otherwise. */
aura_error_t *aura_enc_refuse_previous(apr_pool_t *p,
                                       const aura_request_t *req,
                                       const char *whose);

/* 400 for an input item the Chat Completions-like wires cannot take: an
 * item_reference, or (any other `type`) a compaction item. */
aura_error_t *aura_enc_refuse_item(apr_pool_t *p, const char *type,
                                   const char *at);

/* o[as] = the typed value v, unless NaN (not given). `as` NULL: key. */
void aura_enc_add_num(const aura_request_t *req, json_object *o,
                      const char *key, const char *as, double v);

/* call_id -> name of the first function_call with that id in the input,
 * from one pass over it (per-output scans were quadratic). Look up with
 * aura_enc_lookup. */
apr_hash_t *aura_enc_call_names(apr_pool_t *p, const aura_request_t *req);

/* The "name" of each {"name": ...} object in `list` (may be NULL), as a
 * set for aura_enc_lookup. Built once per request, so filtering N tools
 * is linear. */
apr_hash_t *aura_enc_name_set(apr_pool_t *p, json_object *list);

/* h[key], or NULL (also when key is NULL). */
const char *aura_enc_lookup(apr_hash_t *h, const char *key);

/* ------------------------------------------------------------------ */
/* Chat-style message lists (Chat Completions, Ollama)                */

typedef struct aura_enc_msgs {
    json_object *messages;
    json_object *pending;       /* assistant message collecting tool_calls */
} aura_enc_msgs_t;

/* Encodes input item i; ctx is the encoder's own state. */
typedef aura_error_t *(*aura_enc_item_fn)(void *ctx, json_object *item,
                                          size_t i);

/* Sends the pending assistant message, if any. */
void aura_enc_flush(aura_enc_msgs_t *ms);

/* Appends message m, after the pending one. */
void aura_enc_emit(aura_enc_msgs_t *ms, json_object *m);

/* Makes assistant message m the pending one. */
void aura_enc_hold(aura_enc_msgs_t *ms, json_object *m);

/* Appends `call` to the tool_calls of the pending assistant message; with
 * none pending, opens one whose content is `text`, or null when NULL. */
void aura_enc_add_call(aura_enc_msgs_t *ms, json_object *call,
                       const char *text);

/* out.messages: the instructions as a system message, then each input
 * item through `item`. 400 when nothing is left to send. */
aura_error_t *aura_enc_messages(apr_pool_t *p, const aura_request_t *req,
                                aura_enc_msgs_t *ms, json_object *out,
                                aura_enc_item_fn item, void *ctx);

#endif
