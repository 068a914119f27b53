/*
 * aura_adapters.c - the table of provider adapters (encoder + decoder
 * pairs). Adding a provider = one encoder, one decoder, one entry here.
 */
#include "aura_adapter.h"

const aura_adapter_t aura_adapter_openai_chat = {
    "openai-chat", "/chat/completions", aura_chat_encode, aura_chat_decoder
};

const aura_adapter_t aura_adapter_openai_responses = {
    "openai-responses", "/responses", aura_oresp_encode, aura_oresp_decoder
};
