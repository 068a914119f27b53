/*
 * aura_adapter.c - the provider kinds table and the helpers every
 * adapter's request() shares. Adding a provider = aura_<name>.h, its
 * encoder + request() in aura_<name>_enc.c, its decoder in
 * aura_<name>_dec.c, and one row in aura_kinds.
 */
#include <string.h>

#include "aura_adapter.h"
#include "aura_anthropic.h"
#include "aura_azure.h"
#include "aura_bedrock.h"
#include "aura_gemini.h"
#include "aura_mistral.h"
#include "aura_ollama.h"
#include "aura_openai_chat.h"
#include "aura_openai_responses.h"

void aura_wire_header(apr_pool_t *p, aura_wire_t *w, const char *name,
                      const char *value)
{
    if (!w->headers)
        w->headers = apr_array_make(p, 6, sizeof(const char *));
    APR_ARRAY_PUSH(w->headers, const char *) =
        apr_pstrcat(p, name, ": ", value, NULL);
}

aura_error_t *aura_wire_bearer(apr_pool_t *p, const aura_target_t *t,
                               const char *path, aura_wire_t *w)
{
    w->url = apr_pstrcat(p, t->base_url, path, NULL);
    if (t->key)
        aura_wire_header(p, w, "Authorization",
                         apr_pstrcat(p, "Bearer ", t->key, NULL));
    return NULL;
}

#define OPENAI_ALL (AURA_TF_MAX_COMPLETION_TOKENS | AURA_TF_REASONING_EFFORT | \
                    AURA_TF_OPENAI_EXTRAS | AURA_TF_ALLOWED_TOOLS)

const aura_kind_t aura_kinds[] = {
    {"openai", &aura_adapter_openai_responses, OPENAI_ALL,
     "https://api.openai.com/v1", "OPENAI_API_KEY", "OPENAI_BASE_URL"},
    {"openai-compatible", &aura_adapter_openai_chat, 0, NULL, NULL, NULL},
    {"azure", &aura_adapter_azure,
     AURA_TF_MAX_COMPLETION_TOKENS | AURA_TF_REASONING_EFFORT,
     NULL, "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"},
    {"anthropic", &aura_adapter_anthropic, 0, "https://api.anthropic.com",
     "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"},
    {"gemini", &aura_adapter_gemini, 0,
     "https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY",
     "GEMINI_BASE_URL"},
    {"bedrock", &aura_adapter_bedrock, 0, NULL, "AWS_BEARER_TOKEN_BEDROCK",
     "BEDROCK_BASE_URL"},
    {"mistral", &aura_adapter_mistral, 0, "https://api.mistral.ai/v1",
     "MISTRAL_API_KEY", "MISTRAL_BASE_URL"},
    {"ollama", &aura_adapter_ollama, 0, "http://127.0.0.1:11434", NULL,
     "OLLAMA_BASE_URL"},
    {"huggingface", &aura_adapter_openai_chat, 0,
     "https://router.huggingface.co/v1", "HF_TOKEN", "HF_BASE_URL"},
    {NULL, NULL, 0, NULL, NULL, NULL}
};

const aura_kind_t *aura_kind_find(const char *name)
{
    const aura_kind_t *k;
    for (k = aura_kinds; name && k->name; k++)
        if (!strcmp(k->name, name))
            return k;
    return NULL;
}
