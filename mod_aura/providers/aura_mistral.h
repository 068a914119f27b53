/*
 * aura_mistral.h - Mistral's Chat Completions dialect: encoder + request()
 * (aura_mistral_enc.c) and decoder (aura_mistral_dec.c), both built on the
 * OpenAI Chat Completions ones.
 */
#ifndef AURA_MISTRAL_H
#define AURA_MISTRAL_H

#include "aura_adapter.h"

/* Thinking chunks become reasoning_content, then the chat decoder runs. */
aura_decoder_t *aura_mistral_decoder(apr_pool_t *p, aura_rb_t *rb,
                                     int stream);

extern const aura_adapter_t aura_adapter_mistral;

#endif /* AURA_MISTRAL_H */
