/*
 * aura_ollama.h - Ollama's native /api/chat: encoder + request()
 * (aura_ollama_enc.c) and the NDJSON decoder (aura_ollama_dec.c).
 */
#ifndef AURA_OLLAMA_H
#define AURA_OLLAMA_H

#include "aura_adapter.h"

aura_decoder_t *aura_ollama_decoder(apr_pool_t *p, aura_rb_t *rb,
                                    int stream);

extern const aura_adapter_t aura_adapter_ollama;

#endif /* AURA_OLLAMA_H */
