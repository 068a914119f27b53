/*
 * aura_anthropic.h - Anthropic's Messages API: encoder + request()
 * (aura_anthropic_enc.c) and decoder (aura_anthropic_dec.c).
 */
#ifndef AURA_ANTHROPIC_H
#define AURA_ANTHROPIC_H

#include "aura_adapter.h"

/* Anthropic reasoning state in a reasoning item's encrypted_content (the
 * cross-provider rule: "aura:<kind>:<payload>"). */
#define AURA_ANTHROPIC_SIG "aura:anthropic:"
#define AURA_ANTHROPIC_REDACTED "aura:anthropic-redacted:"

/* Messages (stream=0: one JSON body; stream=1: Anthropic's SSE) into the
 * response builder. */
aura_decoder_t *aura_anthropic_decoder(apr_pool_t *p, aura_rb_t *rb,
                                       int stream);

extern const aura_adapter_t aura_adapter_anthropic;

#endif /* AURA_ANTHROPIC_H */
