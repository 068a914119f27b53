/*
 * aura_openai_responses.h - OpenAI's Responses API (POST {base}/responses): encoder
 * (aura_openai_responses_enc.c) and decoder (aura_openai_responses_dec.c).
 */
#ifndef AURA_OPENAI_RESPONSES_H
#define AURA_OPENAI_RESPONSES_H

#include "aura_adapter.h"

aura_error_t *aura_oresp_encode(apr_pool_t *p, const aura_request_t *req,
                                const aura_target_t *t, const char **body,
                                apr_size_t *len);
aura_decoder_t *aura_oresp_decoder(apr_pool_t *p, aura_rb_t *rb, int stream);

extern const aura_adapter_t aura_adapter_openai_responses;

#endif /* AURA_OPENAI_RESPONSES_H */
