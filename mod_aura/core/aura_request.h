/*
 * aura_request.h - the internal request model (Open Responses items) and
 * the front-door parser for POST /v1/responses bodies.
 *
 * The parser validates the whole body and normalizes it, so that every
 * provider encoder reads one canonical shape:
 *   - `input` is always an array of items; a string input becomes one
 *     {"type":"message","role":"user","content":[{"type":"input_text",..}]}
 *   - message `content` given as a string is normalized to an array of
 *     parts (input_text for user/system/developer, output_text with
 *     "annotations":[] for assistant), so encoders handle one case.
 *   - items without `type` but with `role` are messages (the spec allows it)
 *   - tools are always flat FunctionTool objects
 *     {"type":"function","name","description"|null,"parameters"|null,
 *      "strict"|null}; the nested Chat shape {"type":"function",
 *     "function":{...}} is accepted and flattened.
 */
#ifndef AURA_REQUEST_H
#define AURA_REQUEST_H

#include "aura.h"

#define AURA_UNSET (-1)

typedef struct aura_request {
    apr_pool_t *pool;
    json_object *body;          /* the parsed body as received (pool-bound) */

    const char *model;          /* as requested; NULL when absent/null */
    json_object *input;         /* normalized item array (never NULL) */
    const char *instructions;   /* or NULL */
    json_object *tools;         /* normalized flat FunctionTool array (never NULL) */
    json_object *hosted_tools;  /* provider-hosted tools (web_search,
                                   file_search, custom, ...) as sent, or
                                   NULL: only OpenAI's Responses API runs
                                   them; other adapters leave them out */
    json_object *tool_choice;   /* "none"|"auto"|"required"|object, NULL = absent */
    json_object *text;          /* {"format":{...},"verbosity"?} or NULL */
    json_object *reasoning;     /* {"effort","summary"} or NULL */
    json_object *metadata;      /* object or NULL */
    json_object *include;       /* array of strings or NULL */

    int stream;                 /* 0/1 */
    int store;                  /* AURA_UNSET, 0, 1 */
    int background;             /* 0/1 (background:true is refused: 400) */
    int parallel_tool_calls;    /* AURA_UNSET, 0, 1 */
    long max_output_tokens;     /* AURA_UNSET or >= 16 */
    long max_tool_calls;        /* AURA_UNSET or >= 1 */
    long top_logprobs;          /* AURA_UNSET or 0..20 */
    double temperature;         /* NAN when absent */
    double top_p;               /* NAN when absent */
    double presence_penalty;    /* NAN when absent */
    double frequency_penalty;   /* NAN when absent */

    const char *previous_response_id;
    const char *safety_identifier;
    const char *prompt_cache_key;
    const char *truncation;     /* "auto"|"disabled" or NULL */
    int include_usage;          /* chat front door: the client asked for
                                   the usage chunk (stream_options) */
    const char *service_tier;   /* or NULL */
} aura_request_t;

/* Parse and validate a /v1/responses body. On success returns NULL and sets
 * *out. On failure returns a 400 error whose `param` names the offending
 * field as a path (e.g. "input[2].content[0].image_url", "tools[0].name",
 * "temperature"). A missing model is NOT an error here (a per-directory
 * default model may apply); the router reports it. */
aura_error_t *aura_request_parse(apr_pool_t *p, const char *body,
                                 apr_size_t len, aura_request_t **out);

/* The same, for a body another front door built as JSON (it must be bound
 * to `p`, see aura_json_pool; it becomes req->body): no text round trip. */
aura_error_t *aura_request_parse_object(apr_pool_t *p, json_object *root,
                                        aura_request_t **out);

/* A documented estimate of a request's input tokens for count_tokens when
 * the provider cannot count: the JSON of instructions, input and tools,
 * one token per 4 bytes (rounded up) - the usual rule of thumb for
 * English and code with BPE tokenizers; it is marked as an estimate. */
long aura_estimate_tokens(apr_pool_t *p, const aura_request_t *req);

#endif /* AURA_REQUEST_H */
