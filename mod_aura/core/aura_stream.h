/*
 * aura_stream.h - the response builder: the one internal event model.
 *
 * Provider decoders call the aura_rb_* functions (open an item, append a
 * delta, close it, report usage, finish or fail). The builder
 *   - assigns output_index / content_index / item ids / sequence_number,
 *   - emits the Open Responses streaming events, in the spec's order, to a
 *     sink (one call per complete event) when streaming,
 *   - accumulates the final ResponseResource (every required field, the
 *     request's parameters echoed) for the terminal event or the
 *     non-streaming body.
 * N decoders produce these calls; front-door encoders consume the events.
 */
#ifndef AURA_STREAM_H
#define AURA_STREAM_H

#include "aura.h"
#include "aura_request.h"

typedef struct aura_rb aura_rb_t;

/* The most content (text, refusal, reasoning, summaries and call
 * arguments, all items together) the builder accumulates for one
 * response. Every byte is kept for the final resource and resent by the
 * *.done events and the terminal event, so a runaway or hostile upstream
 * must not grow a worker without limit. The decoders use the same bound
 * for a non-streaming body. */
#define AURA_RB_MAX_CONTENT ((apr_size_t)32 * 1024 * 1024)

/* Token usage as reported by a provider. Counts follow OpenAI's convention:
 * `cached` is part of `input`, `reasoning` is part of `output`. */
typedef struct aura_usage {
    long input;
    long cached;
    long output;
    long reasoning;
    int present;            /* 0 until a provider reported usage */
} aura_usage_t;

/* Streaming sink: receives each complete event (its "type" and the whole
 * event object, sequence_number included). The object is only valid for
 * the duration of the call. A non-APR_SUCCESS return (client gone) is
 * returned by the aura_rb_* call that emitted the event. */
typedef apr_status_t (*aura_event_fn)(void *baton, const char *type,
                                      json_object *event);

/* Called once with the final ResponseResource just before the terminal
 * event is emitted (or the body is returned): the meter adds
 * usage.cost_usd and the `aura` object here. */
typedef void (*aura_finalize_fn)(void *baton, aura_rb_t *rb,
                                 json_object *resource);

/* `model` is the name reported in the resource (the resolved model). */
aura_rb_t *aura_rb_create(apr_pool_t *p, const aura_request_t *req,
                          const char *response_id, const char *model);
void aura_rb_set_sink(aura_rb_t *rb, aura_event_fn fn, void *baton);
void aura_rb_set_finalize(aura_rb_t *rb, aura_finalize_fn fn, void *baton);
/* The credential sent upstream: aura_rb_fail scrubs it (and anything
 * credential-shaped, see aura_redact) from every failure message, so a
 * provider that echoes it mid-stream never reaches the client or a log. */
void aura_rb_set_secret(aura_rb_t *rb, const char *secret);
/* ... and for decoders that log upstream names (aura_log_str). */
const char *aura_rb_secret(const aura_rb_t *rb);
/* Overrides AURA_RB_MAX_CONTENT for this response (tests; 0 restores it).
 * aura_rb_max_content() is the bound in force. */
void aura_rb_set_max_content(aura_rb_t *rb, apr_size_t max);
apr_size_t aura_rb_max_content(const aura_rb_t *rb);

/* Emits response.created and response.in_progress (streaming only; a
 * no-op without a sink). Idempotent. Every other emitting call starts the
 * response implicitly if it has not been started. */
apr_status_t aura_rb_start(aura_rb_t *rb);

/* Items. `id` may be NULL (the builder makes one: msg_, fc_, rs_). Each
 * open returns the item's output_index in *idx. Opening an item does NOT
 * close the others; decoders close items when their provider says so (or
 * when the provider's stream moves on). aura_rb_finish closes all. */
apr_status_t aura_rb_open_message(aura_rb_t *rb, const char *id, int *idx);
apr_status_t aura_rb_open_call(aura_rb_t *rb, const char *id,
                               const char *call_id, const char *name,
                               int *idx);
apr_status_t aura_rb_open_reasoning(aura_rb_t *rb, const char *id, int *idx);

/* Message content. Text and refusal each get their own content part
 * (content_part.added on first delta, done on close).
 *
 * Every delta call below counts toward AURA_RB_MAX_CONTENT. The delta
 * that would pass it is dropped and the response fails instead (type
 * server_error, code "upstream_response_too_large": an `error` event and
 * response.failed); that call returns APR_ENOSPC so the caller stops the
 * upstream transfer. Calls after that are no-ops (the response ended). */
apr_status_t aura_rb_text_delta(aura_rb_t *rb, int idx, const char *s,
                                apr_size_t n);
apr_status_t aura_rb_refusal_delta(aura_rb_t *rb, int idx, const char *s,
                                   apr_size_t n);
/* Function-call arguments fragment (JSON text, appended verbatim). */
apr_status_t aura_rb_call_args_delta(aura_rb_t *rb, int idx, const char *s,
                                     apr_size_t n);
/* Reasoning: raw reasoning text (content[] reasoning_text, events
 * response.reasoning.delta/done) and summaries (summary[] summary_text,
 * events response.reasoning_summary_*). */
apr_status_t aura_rb_reasoning_delta(aura_rb_t *rb, int idx, const char *s,
                                     apr_size_t n);
apr_status_t aura_rb_reasoning_summary_delta(aura_rb_t *rb, int idx,
                                             int summary_index,
                                             const char *s, apr_size_t n);
/* Opaque provider reasoning state (OpenAI encrypted_content, Anthropic
 * thinking signature) carried in the item's encrypted_content. */
apr_status_t aura_rb_reasoning_encrypted(aura_rb_t *rb, int idx,
                                         const char *enc);

/* Closes an item: emits the pending *.done events and output_item.done
 * with the final item (status "completed"). Closing twice is a no-op. */
apr_status_t aura_rb_close(aura_rb_t *rb, int idx);

/* Usage may be reported several times (later values win, field by field
 * where > 0). */
void aura_rb_usage(aura_rb_t *rb, const aura_usage_t *u);
/* Prompt tokens written to a provider's prompt cache (Anthropic
 * cache_creation_input_tokens, Bedrock cacheWriteInputTokens): part of
 * usage.input, priced at the registry's cache_write rate. Later values
 * win when > 0. */
void aura_rb_cache_write(aura_rb_t *rb, long tokens);
long aura_rb_get_cache_write(const aura_rb_t *rb);

/* Ends the response: closes open items (the last one "incomplete" when
 * status is "incomplete"), sets status / incomplete_details / completed_at
 * / usage, calls the finalize hook, and emits response.completed or
 * response.incomplete. `status` is "completed" or "incomplete";
 * `incomplete_reason` e.g. "max_output_tokens", "content_filter", or NULL.
 * Calls after the response ended are no-ops returning APR_SUCCESS. */
apr_status_t aura_rb_finish(aura_rb_t *rb, const char *status,
                            const char *incomplete_reason);

/* Ends the response as failed: emits an `error` event (type, code, message,
 * param) then response.failed whose response.error is {code, message}.
 * The finalize hook runs too (a failed response is still metered). */
apr_status_t aura_rb_fail(aura_rb_t *rb, const aura_error_t *err);

/* State for the glue. */
int aura_rb_ended(const aura_rb_t *rb);           /* finish or fail ran */
int aura_rb_failed(const aura_rb_t *rb);
const aura_usage_t *aura_rb_get_usage(const aura_rb_t *rb);
/* The ResponseResource as it stands (final after finish/fail). Owned by
 * the builder (pool-bound); do not put it. */
json_object *aura_rb_resource(aura_rb_t *rb);

/* SSE framing of one event for the Responses front door:
 * "event: <type>\ndata: <compact json>\n\n" in pool memory. */
const char *aura_sse_frame(apr_pool_t *p, const char *type,
                           json_object *event, apr_size_t *len);

#endif /* AURA_STREAM_H */
