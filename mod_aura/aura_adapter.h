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

/* What the router decided for this request; encoders shape the body by it. */
typedef struct aura_target {
    const char *provider;        /* configured upstream name, e.g. "openai" */
    const char *upstream_model;  /* the model id sent upstream */
    unsigned flags;              /* AURA_TF_* below */
    long max_output_default;     /* registry max output, or 0 (not sent) */
} aura_target_t;

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
    const char *name;            /* "openai-chat", "openai-responses" */
    const char *path;            /* appended to the base URL, e.g.
                                    "/chat/completions" */
    /* Encode the request body for the upstream (stream flag included). */
    aura_error_t *(*encode)(apr_pool_t *p, const aura_request_t *req,
                            const aura_target_t *t, const char **body,
                            apr_size_t *len);
    /* A decoder feeding `rb`. stream=1: the body is the provider's
     * event stream, fed in arbitrary pieces. stream=0: the body is one
     * JSON document, fed in pieces and decoded at aura_decoder_end. */
    aura_decoder_t *(*decoder)(apr_pool_t *p, aura_rb_t *rb, int stream);
} aura_adapter_t;

/* Implementations. Request side (encoders): aura_enc_chat.c,
 * aura_enc_oresp.c. Response side (decoders): aura_dec_chat.c,
 * aura_dec_oresp.c. The adapter tables are in aura_adapters.c. */
aura_error_t *aura_chat_encode(apr_pool_t *p, const aura_request_t *req,
                               const aura_target_t *t, const char **body,
                               apr_size_t *len);
aura_error_t *aura_oresp_encode(apr_pool_t *p, const aura_request_t *req,
                                const aura_target_t *t, const char **body,
                                apr_size_t *len);
aura_decoder_t *aura_chat_decoder(apr_pool_t *p, aura_rb_t *rb, int stream);
aura_decoder_t *aura_oresp_decoder(apr_pool_t *p, aura_rb_t *rb, int stream);

extern const aura_adapter_t aura_adapter_openai_chat;
extern const aura_adapter_t aura_adapter_openai_responses;

/* Feed upstream bytes (any split: mid-line, mid-UTF-8, mid-JSON). Returns
 * non-success when the transfer must stop: the sink's status when the
 * client is gone (APR_ECONNABORTED), or APR_ENOSPC once the answer passed
 * AURA_RB_MAX_CONTENT (the response then failed with
 * "upstream_response_too_large"); both are sticky for later feeds.
 * Malformed upstream data ends the response with aura_rb_fail (type
 * "server_error", code "upstream_bad_response") and later feeds are
 * ignored; that still returns APR_SUCCESS. */
apr_status_t aura_decoder_feed(aura_decoder_t *d, const char *buf,
                               apr_size_t len);

/* Upstream EOF. Non-streaming: decode the document and finish. Streaming:
 * if the provider's stream did not end properly (no finish/[DONE]), fail
 * with code "upstream_stream_truncated". Always leaves rb ended. */
apr_status_t aura_decoder_end(aura_decoder_t *d);

#endif /* AURA_ADAPTER_H */
