/*
 * aura_azure.h - Azure OpenAI: OpenAI's Chat Completions wire addressed by
 * deployment (aura_azure_enc.c: request(); the body is encoded and the
 * answer decoded by the OpenAI Chat Completions encoder and decoder).
 */
#ifndef AURA_AZURE_H
#define AURA_AZURE_H

#include "aura_adapter.h"

extern const aura_adapter_t aura_adapter_azure;

#endif /* AURA_AZURE_H */
