/*
 * aura_bedrock.h - private: the Bedrock adapter's parts shared between
 * its files (aura_bedrock_enc.c: encoder + request(); aura_bedrock_dec.c:
 * decoder) and the unit tests.
 */
#ifndef AURA_BEDROCK_H
#define AURA_BEDROCK_H

#include "aura_adapter.h"

/* Converse (stream=0: one JSON body) and ConverseStream (stream=1:
 * application/vnd.amazon.eventstream frames) into the response builder. */
aura_decoder_t *aura_bedrock_decoder(apr_pool_t *p, aura_rb_t *rb,
                                     int stream);

extern const aura_adapter_t aura_adapter_bedrock;

/* The marker of Bedrock reasoning state in a reasoning item's
 * encrypted_content (the cross-provider rule: "aura:<kind>:<payload>"). */
#define AURA_BEDROCK_SIG "aura:bedrock:"
#define AURA_BEDROCK_REDACTED "aura:bedrock-redacted:"

#endif /* AURA_BEDROCK_H */
