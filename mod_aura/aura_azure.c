/*
 * aura_azure.c - the azure adapter (placeholder until its implementation lands:
 * answers 501 so that a configured provider fails clearly, never silently).
 */
#include "aura_adapter.h"

static aura_error_t *azure_encode(apr_pool_t *p, const aura_request_t *req,
                                 const aura_target_t *t, const char **body,
                                 apr_size_t *len)
{
    (void)req; (void)body; (void)len;
    return aura_error_make(p, 501, "server_error", "provider_not_implemented",
                           NULL, "The %s adapter is not implemented yet.",
                           t->provider);
}

static aura_error_t *azure_request(apr_pool_t *p, const aura_target_t *t,
                                  int stream, aura_wire_t *w)
{
    (void)stream;
    return aura_wire_bearer(p, t, "", w);
}

const aura_adapter_t aura_adapter_azure = {
    "azure", azure_encode, azure_request, aura_chat_decoder
};
