/*
 * aura_gemini.h - Google Gemini's generateContent / streamGenerateContent:
 * encoder + request() (aura_gemini_enc.c) and decoder (aura_gemini_dec.c).
 */
#ifndef AURA_GEMINI_H
#define AURA_GEMINI_H

#include "aura_adapter.h"

/* Call ids the decoder makes up when Gemini sends none: never sent back
 * as `id` (Gemini never saw them). Anything else is sent as the `id` of
 * both the functionCall and its functionResponse. */
#define GEM_SYNTH_ID "call_gemini_"
/* The marker of Gemini's thought signatures in encrypted_content. */
#define GEM_SIG_MARK "aura:gemini:"

aura_decoder_t *aura_gemini_decoder(apr_pool_t *p, aura_rb_t *rb, int stream);

extern const aura_adapter_t aura_adapter_gemini;

#endif /* AURA_GEMINI_H */
