/*
 * aura_openai_chat.h - OpenAI Chat Completions (POST {base}/chat/completions),
 * the wire every "OpenAI-compatible" server speaks: encoder
 * (aura_openai_chat_enc.c) and decoder (aura_openai_chat_dec.c). Azure and
 * Mistral reuse both; Ollama's native decoder does not.
 */
#ifndef AURA_OPENAI_CHAT_H
#define AURA_OPENAI_CHAT_H

#include "aura_adapter.h"

aura_error_t *aura_chat_encode(apr_pool_t *p, const aura_request_t *req,
                               const aura_target_t *t, const char **body,
                               apr_size_t *len);
aura_decoder_t *aura_chat_decoder(apr_pool_t *p, aura_rb_t *rb, int stream);

extern const aura_adapter_t aura_adapter_openai_chat;

#endif /* AURA_OPENAI_CHAT_H */
