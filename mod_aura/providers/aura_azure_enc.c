/*
 * aura_azure_enc.c - Azure OpenAI: OpenAI's Chat Completions wire, addressed
 * by deployment:
 *   POST {endpoint}/openai/deployments/{deployment}/chat/completions
 *        ?api-version={version}
 * with the key in an `api-key` header (not Authorization). The deployment
 * is the upstream model id (the registry's "upstream", or the name after
 * "azure/"); the body's `model` is ignored by Azure. api-version defaults
 * to 2024-10-21, the current GA version; "AuraProvider ... api-version=v1"
 * selects the v1 API instead ({endpoint}/openai/v1/chat/completions, no
 * api-version, the deployment in `model`).
 * Bodies and answers are OpenAI's (plus content-filter annotations the
 * Chat Completions decoder ignores).
 */
#include <string.h>

#include <apr_escape.h>

#include "aura_azure.h"
#include "aura_openai_chat.h"

#define AZURE_API_VERSION "2024-10-21"

static aura_error_t *azure_request(apr_pool_t *p, const aura_target_t *t,
                                   int stream, aura_wire_t *w)
{
    const char *v = t->api_version ? t->api_version : AZURE_API_VERSION;

    (void)stream;
    if (!t->upstream_model || !*t->upstream_model)
        return aura_bad_request(p, "invalid_value", "model",
                                "Invalid value for 'model': Azure OpenAI "
                                "needs a deployment name.");
    if (!strcmp(v, "v1"))
        w->url = apr_pstrcat(p, t->base_url, "/openai/v1/chat/completions",
                             NULL);
    else    /* deployment names are [A-Za-z0-9._-]; escaped all the same */
        w->url = apr_pstrcat(p, t->base_url, "/openai/deployments/",
                             apr_pescape_path_segment(p, t->upstream_model),
                             "/chat/completions?api-version=",
                             apr_pescape_urlencoded(p, v), NULL);
    if (t->key)
        aura_wire_header(p, w, "api-key", t->key);
    return NULL;
}

const aura_adapter_t aura_adapter_azure = {
    "azure", aura_chat_encode, azure_request, aura_chat_decoder
};
