/*
 * aura_adapter.h - provider adapters: a request encoder plus a response
 * decoder (whole body, and incremental stream) into the response builder.
 *
 * One adapter per upstream wire format. Nothing provider specific leaks
 * into the shared path: the glue only sees this interface.
 */
#ifndef AURA_ADAPTER_H
#define AURA_ADAPTER_H

#include "aura.h"
#include "aura_request.h"
#include "aura_stream.h"

/* AWS credentials for SigV4 signing (Bedrock). */
typedef struct aura_aws_cred {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;   /* or NULL */
} aura_aws_cred_t;

/* What the router decided for this request; encoders shape the body by it,
 * and an adapter's request() builds the URL and authentication from it. */
typedef struct aura_target {
    const char *provider;        /* configured upstream name, e.g. "openai" */
    const char *upstream_model;  /* the model id sent upstream */
    unsigned flags;              /* AURA_TF_* below */
    long max_output_default;     /* registry max output, or 0 */
    long reasoning_budget;       /* registry: default thinking budget, or 0 */

    const char *base_url;        /* provider base URL, no trailing slash */
    const char *key;             /* API key / bearer token, or NULL */
    const aura_aws_cred_t *aws;  /* SigV4 credentials, or NULL */
    const char *region;          /* AWS region (Bedrock), or NULL */
    const char *api_version;     /* Azure api-version, Anthropic
                                    anthropic-version; NULL: the adapter's
                                    default */
    const char *beta;            /* anthropic-beta from the client, or NULL */
    apr_time_t now;              /* request time (signatures, tests) */
} aura_target_t;

/* The upstream HTTP request an adapter builds for an encoded body. The glue
 * adds Content-Type: application/json and Accept; everything else
 * (authentication included) is the adapter's. */
typedef struct aura_wire {
    const char *url;
    apr_array_header_t *headers; /* const char* "Name: value" */
    const char *body;
    apr_size_t len;
} aura_wire_t;

/* Flags: what the upstream accepts beyond the common Chat Completions core.
 * OpenAI itself sets all of these; a generic OpenAI-compatible server (vLLM,
 * TGI, Mistral, Ollama /v1) sets none unless configured. */
#define AURA_TF_MAX_COMPLETION_TOKENS 0x01 /* max_completion_tokens, not max_tokens */
#define AURA_TF_REASONING_EFFORT      0x02 /* reasoning_effort is understood */
#define AURA_TF_OPENAI_EXTRAS         0x04 /* safety_identifier, prompt_cache_key,
                                              service_tier, metadata+store */
#define AURA_TF_ALLOWED_TOOLS         0x08 /* native allowed_tools tool_choice
                                              (else: tools list filtered) */

typedef struct aura_decoder aura_decoder_t;

typedef struct aura_adapter {
    const char *name;            /* "openai-chat", "anthropic", ... */
    /* Encode the request body for the upstream (stream flag included). */
    aura_error_t *(*encode)(apr_pool_t *p, const aura_request_t *req,
                            const aura_target_t *t, const char **body,
                            apr_size_t *len);
    /* Fill w->url and w->headers for the body in w->body/w->len. */
    aura_error_t *(*request)(apr_pool_t *p, const aura_target_t *t,
                             int stream, aura_wire_t *w);
    /* A decoder feeding `rb`. stream=1: the body is the provider's
     * event stream, fed in arbitrary pieces. stream=0: the body is one
     * JSON document, fed in pieces and decoded at aura_decoder_end. */
    aura_decoder_t *(*decoder)(apr_pool_t *p, aura_rb_t *rb, int stream);
} aura_adapter_t;

/* Shared by request() implementations (aura_adapter.c). */
void aura_wire_header(apr_pool_t *p, aura_wire_t *w, const char *name,
                      const char *value);
/* base_url + path, and "Authorization: Bearer <key>" when there is a key. */
aura_error_t *aura_wire_bearer(apr_pool_t *p, const aura_target_t *t,
                               const char *path, aura_wire_t *w);

/* Every adapter is declared in its provider's header, aura_<name>.h
 * (aura_openai_chat.h, aura_openai_responses.h, aura_azure.h,
 * aura_mistral.h, aura_anthropic.h, aura_gemini.h, aura_bedrock.h,
 * aura_ollama.h), and defined in its aura_<name>_enc.c. The glue reaches
 * them through the kinds table below. */

/* Provider kinds: the slug an AuraProvider line names, its default wire
 * API, flags, and how zero-config finds it in the environment. */
typedef struct aura_kind {
    const char *name;              /* "anthropic" */
    const aura_adapter_t *adapter;
    unsigned flags;                /* AURA_TF_* */
    const char *default_url;       /* NULL: a base URL must be given */
    const char *env_key;           /* e.g. "ANTHROPIC_API_KEY", or NULL */
    const char *env_url;           /* e.g. "ANTHROPIC_BASE_URL", or NULL */
} aura_kind_t;

const aura_kind_t *aura_kind_find(const char *name);
/* The kinds in a stable order (NULL-terminated by name). */
extern const aura_kind_t aura_kinds[];

/* The decoder a provider's adapter makes is driven through
 * aura_decoder_feed / aura_decoder_end (aura_decoder.h). */

#endif /* AURA_ADAPTER_H */
