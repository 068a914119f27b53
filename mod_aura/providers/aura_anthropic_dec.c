/*
 * aura_anthropic_dec.c - the Anthropic Messages decoder: the SSE stream
 * (message_start, content_block_start/delta/stop, message_delta,
 * message_stop, ping, error) and the non-streaming message body, into the
 * response builder.
 *
 * Content blocks become items: consecutive text blocks one message;
 * each thinking / redacted_thinking block one reasoning item whose
 * encrypted_content carries what Anthropic needs back
 * ("aura:anthropic:<signature>", "aura:anthropic-redacted:<data>"); each
 * tool_use block one function_call. Server-side tools (server_tool_use,
 * web_search_tool_result, code execution results, ...) run at Anthropic
 * and need nothing from the client: they are skipped, and the text
 * around them is kept. A body is decoded by the same block handlers the
 * stream drives, so both modes give the same items.
 */
#include <string.h>

#include "aura_anthropic.h"
#include "aura_buf.h"
#include "aura_decoder.h"

/* A sane bound on content blocks in one message. */
#define MAX_BLOCKS 4096

typedef enum { B_SKIP = 0, B_TEXT, B_THINKING, B_REDACTED, B_TOOL } bkind_e;

typedef struct block {
    bkind_e kind;
    int idx;                    /* builder item */
    int has_args;               /* tool_use: a non-empty argument delta came */
    const char *start_input;    /* tool_use: input given at the start */
    aura_buf_t sig;             /* thinking: the signature so far;
                                 * redacted_thinking: its data */
} block_t;

/* The provider's counts, merged field by field as they arrive
 * (message_start, then message_delta's cumulative ones). */
typedef struct counts {
    long input, cache_write, cache_read, output, thinking;
} counts_t;

typedef struct anth_dec {
    aura_decoder_t d;
    apr_array_header_t *blocks; /* block_t per content block index */
    int msg;                    /* the open message item, or -1 */
    counts_t n;
    const char *stop_reason;
    int stopped;                /* message_stop seen */
    apr_size_t sig_total;       /* signature + redacted bytes, all blocks */
} anth_dec;

/* ---- usage --------------------------------------------------------------- */

static void merge_count(json_object *u, const char *key, long *field)
{
    long v = aura_dec_long(u, key, -1);
    if (v >= 0)
        *field = v;
}

/* OpenAI's convention: every prompt token is input (cache reads and
 * writes included), cache reads are also `cached`, cache writes are
 * reported beside (aura_rb_cache_write); thinking tokens are
 * part of output_tokens, and counted as reasoning where Anthropic reports
 * them (output_tokens_details.thinking_tokens, newer models). */
static void anth_usage(anth_dec *a, json_object *u)
{
    aura_usage_t us = { 0, 0, 0, 0, 1 };

    if (!u || !json_object_is_type(u, json_type_object))
        return;
    merge_count(u, "input_tokens", &a->n.input);
    merge_count(u, "cache_creation_input_tokens", &a->n.cache_write);
    merge_count(u, "cache_read_input_tokens", &a->n.cache_read);
    merge_count(u, "output_tokens", &a->n.output);
    merge_count(aura_json_get(u, "output_tokens_details"), "thinking_tokens",
                &a->n.thinking);
    us.input = a->n.input + a->n.cache_write + a->n.cache_read;
    us.cached = a->n.cache_read;
    us.output = a->n.output;
    us.reasoning = a->n.thinking;
    aura_rb_usage(a->d.rb, &us);
    /* priced at the registry's cache_write rate (1.25x input for the 5m
     * cache, 2x for 1h) */
    aura_rb_cache_write(a->d.rb, a->n.cache_write);
}

/* ---- blocks ------------------------------------------------------------- */

static block_t *slot(anth_dec *a, long k)
{
    if (k < 0 || k >= MAX_BLOCKS)
        return NULL;
    while (a->blocks->nelts <= k) {
        block_t *b = apr_array_push(a->blocks);
        memset(b, 0, sizeof(*b));
        aura_buf_init(&b->sig, a->d.pool, 0);
        b->idx = -1;
    }
    return &APR_ARRAY_IDX(a->blocks, k, block_t);
}

/* The stream moved on from text to another kind of block: clients see the
 * message done before the next item is added. */
static void close_message(anth_dec *a)
{
    if (a->msg >= 0)
        aura_dec_st(&a->d, aura_rb_close(a->d.rb, a->msg));
    a->msg = -1;
}

static void text_delta(anth_dec *a, block_t *b, const char *s)
{
    if (s && *s)
        aura_dec_st(&a->d, aura_rb_text_delta(a->d.rb, b->idx, s, strlen(s)));
}

static void thinking_delta(anth_dec *a, block_t *b, const char *s)
{
    if (s && *s)
        aura_dec_st(&a->d, aura_rb_reasoning_delta(a->d.rb, b->idx, s,
                                                   strlen(s)));
}

static void args_delta(anth_dec *a, block_t *b, const char *s)
{
    if (!s || !*s)
        return;
    b->has_args = 1;
    aura_dec_st(&a->d, aura_rb_call_args_delta(a->d.rb, b->idx, s, strlen(s)));
}

/* Appends to a block's signature (or redacted data). The buffer doubles,
 * so a signature sent in many small deltas costs linear time, and all of
 * them together are held to the builder's content cap: they are kept for
 * the final resource like any content, and a hostile upstream must not
 * grow the worker through them either. */
static void sig_add(anth_dec *a, block_t *b, const char *s)
{
    apr_size_t n = s ? strlen(s) : 0, max = aura_rb_max_content(a->d.rb);

    if (!n || aura_rb_ended(a->d.rb))
        return;
    if (n > max - a->sig_total) {       /* sig_total <= max always */
        aura_dec_fail(&a->d, "upstream_response_too_large",
                      "the upstream response is larger than the gateway's "
                      "limit of %" APR_SIZE_T_FMT " bytes of content (a "
                      "thinking signature); the rest was not read", max);
        aura_dec_st(&a->d, APR_ENOSPC);
        return;
    }
    a->sig_total += n;
    aura_buf_add(&b->sig, s, n);
}

static void open_tool(anth_dec *a, block_t *b, json_object *cb)
{
    json_object *input = aura_json_get(cb, "input");

    close_message(a);
    b->kind = B_TOOL;
    aura_dec_st(&a->d, aura_rb_open_call(a->d.rb, NULL,
                                         aura_json_string(cb, "id"),
                                         aura_json_string(cb, "name"),
                                         &b->idx));
    /* A body has the whole input here; a stream starts with {} and sends
     * the arguments as input_json_delta. */
    if (json_object_is_type(input, json_type_object)
        && json_object_object_length(input) > 0)
        b->start_input = aura_json_str(a->d.pool, input, NULL);
}

static void open_thinking(anth_dec *a, block_t *b, json_object *cb,
                          bkind_e kind)
{
    close_message(a);
    b->kind = kind;
    aura_dec_st(&a->d, aura_rb_open_reasoning(a->d.rb, NULL, &b->idx));
    if (kind == B_REDACTED) {
        sig_add(a, b, aura_json_string(cb, "data"));
        return;
    }
    thinking_delta(a, b, aura_json_string(cb, "thinking"));
    sig_add(a, b, aura_json_string(cb, "signature"));
}

static void block_start(anth_dec *a, long k, json_object *cb)
{
    block_t *b = slot(a, k);
    const char *type = aura_json_string(cb, "type");

    if (!b || !type || b->kind != B_SKIP || b->idx >= 0) {
        AURA_DEC_TRACE(&a->d, "anthropic: content block %ld (%s) out of "
                       "range, without type or started twice: skipped", k,
                       aura_dec_str(&a->d, type));
        return;
    }
    if (!strcmp(type, "text")) {
        b->kind = B_TEXT;
        if (a->msg < 0)
            aura_dec_st(&a->d, aura_rb_open_message(a->d.rb, NULL, &a->msg));
        b->idx = a->msg;
        text_delta(a, b, aura_json_string(cb, "text"));
    }
    else if (!strcmp(type, "thinking")) {
        open_thinking(a, b, cb, B_THINKING);
    }
    else if (!strcmp(type, "redacted_thinking")) {
        open_thinking(a, b, cb, B_REDACTED);
    }
    else if (!strcmp(type, "tool_use")) {
        open_tool(a, b, cb);
    }
    else {      /* server_tool_use, *_tool_result, anything new */
        AURA_DEC_TRACE(&a->d, "anthropic: content block %ld of type %s "
                       "skipped", k, aura_dec_str(&a->d, type));
    }
}

static void block_delta(anth_dec *a, long k, json_object *delta)
{
    block_t *b = slot(a, k);
    const char *type = aura_json_string(delta, "type");

    if (!b || !type || b->idx < 0)
        return;                 /* a skipped block's: traced at its start */
    if (b->kind == B_TEXT && !strcmp(type, "text_delta"))
        text_delta(a, b, aura_json_string(delta, "text"));
    else if (b->kind == B_THINKING && !strcmp(type, "thinking_delta"))
        thinking_delta(a, b, aura_json_string(delta, "thinking"));
    else if (b->kind == B_THINKING && !strcmp(type, "signature_delta"))
        sig_add(a, b, aura_json_string(delta, "signature"));
    else if (b->kind == B_TOOL && !strcmp(type, "input_json_delta"))
        args_delta(a, b, aura_json_string(delta, "partial_json"));
    else        /* citations_delta and others: nothing to show */
        AURA_DEC_TRACE(&a->d, "anthropic: %s in content block %ld "
                       "ignored", aura_dec_str(&a->d, type), k);
}

/* Text stays open (the next block may be text too); the others end here. */
static void block_stop(anth_dec *a, long k)
{
    block_t *b = slot(a, k);

    if (!b || b->idx < 0 || b->kind == B_TEXT)
        return;
    if (b->kind == B_TOOL && !b->has_args)
        args_delta(a, b, b->start_input ? b->start_input : "{}");
    if (b->kind == B_THINKING && b->sig.len)
        aura_dec_st(&a->d, aura_rb_reasoning_encrypted(a->d.rb, b->idx,
            apr_pstrcat(a->d.pool, AURA_ANTHROPIC_SIG, b->sig.s, NULL)));
    if (b->kind == B_REDACTED && b->sig.len)
        aura_dec_st(&a->d, aura_rb_reasoning_encrypted(a->d.rb, b->idx,
            apr_pstrcat(a->d.pool, AURA_ANTHROPIC_REDACTED, b->sig.s,
                        NULL)));
    aura_dec_st(&a->d, aura_rb_close(a->d.rb, b->idx));
    b->idx = -1;
    b->kind = B_SKIP;
    aura_buf_reset(&b->sig);    /* a block started again starts afresh */
}

/* ---- the end ------------------------------------------------------------ */

static void note_stop(anth_dec *a, json_object *o)
{
    const char *s = aura_json_string(o, "stop_reason");
    if (s && *s)
        a->stop_reason = apr_pstrdup(a->d.pool, s);
}

/* end_turn, stop_sequence, tool_use and pause_turn (a server tool loop
 * paused; the answer so far is whole) complete; max_tokens and a full
 * context window are cut-offs; a refusal is a content filter (its text,
 * if any, stays in the message). */
static void anth_finish(anth_dec *a)
{
    const char *s = a->stop_reason ? a->stop_reason : "end_turn";
    const char *reason = NULL;

    if (!strcmp(s, "max_tokens")
        || !strcmp(s, "model_context_window_exceeded"))
        reason = "max_output_tokens";
    else if (!strcmp(s, "refusal"))
        reason = "content_filter";
    else if (strcmp(s, "end_turn") && strcmp(s, "stop_sequence")
             && strcmp(s, "tool_use") && strcmp(s, "pause_turn"))
        AURA_DEC_TRACE(&a->d, "anthropic: stop_reason %s read as "
                       "completed", aura_dec_str(&a->d, s));
    if (!a->stop_reason)
        AURA_DEC_TRACE(&a->d, "anthropic: no stop_reason, end_turn "
                       "assumed");
    aura_dec_st(&a->d, aura_rb_finish(a->d.rb, reason ? "incomplete"
                                                      : "completed", reason));
}

/* An `error` event (or a 200 body that is an error): overloaded_error is
 * Anthropic's 529, which clients retry; it keeps its own code. */
static void anth_error(anth_dec *a, json_object *err)
{
    const char *type = aura_json_string(err, "type");

    if (!err || !json_object_is_type(err, json_type_object))
        err = NULL;
    aura_dec_fail_upstream(&a->d, type && !strcmp(type, "overloaded_error")
                                      ? "upstream_overloaded"
                                      : "upstream_error", err);
}

/* ---- stream ------------------------------------------------------------- */

static void anth_dispatch(anth_dec *a, const char *type, json_object *o)
{
    long k = aura_dec_long(o, "index", -1);

    if (!strcmp(type, "message_start")) {
        anth_usage(a, aura_json_get(aura_json_get(o, "message"), "usage"));
    }
    else if (!strcmp(type, "content_block_start")) {
        block_start(a, k, aura_json_get(o, "content_block"));
    }
    else if (!strcmp(type, "content_block_delta")) {
        block_delta(a, k, aura_json_get(o, "delta"));
    }
    else if (!strcmp(type, "content_block_stop")) {
        block_stop(a, k);
    }
    else if (!strcmp(type, "message_delta")) {
        note_stop(a, aura_json_get(o, "delta"));
        anth_usage(a, aura_json_get(o, "usage"));
    }
    else if (!strcmp(type, "message_stop")) {
        a->stopped = 1;
        anth_finish(a);
    }
    else if (!strcmp(type, "error")) {
        anth_error(a, aura_json_get(o, "error"));
    }
    else if (strcmp(type, "ping")) {    /* a keepalive: nothing to say */
        AURA_DEC_TRACE(&a->d, "anthropic: event %s ignored",
                       aura_dec_str(&a->d, type));
    }
}

static apr_status_t anth_event(aura_decoder_t *d, const char *event,
                               const char *data, apr_size_t len)
{
    anth_dec *a = (anth_dec *)d;
    json_object *o;
    const char *type;

    if (a->stopped)
        return d->rv;
    if (!(o = aura_dec_parse(d, data, len)))
        return d->rv;
    /* The payload's type names the event (the `event:` line says the
     * same); a proxy that drops event lines still decodes. */
    type = aura_json_string(o, "type");
    if (!type)
        type = event;
    if (type)
        anth_dispatch(a, type, o);
    else
        AURA_DEC_TRACE(d, "anthropic: event without a type ignored");
    json_object_put(o);
    return d->rv;
}

/* No message_stop: a stop_reason still means the answer is whole (the
 * message_delta came); otherwise it was cut. */
static apr_status_t anth_eof(aura_decoder_t *d)
{
    anth_dec *a = (anth_dec *)d;

    if (a->stop_reason) {
        AURA_DEC_TRACE(d, "anthropic: stream ended without message_stop; "
                       "finished by its stop_reason");
        anth_finish(a);
    }
    else
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended before the message finished");
    return d->rv;
}

/* ---- body --------------------------------------------------------------- */

static apr_status_t anth_body(aura_decoder_t *d, json_object *doc)
{
    anth_dec *a = (anth_dec *)d;
    json_object *content = aura_json_get(doc, "content");
    const char *type = aura_json_string(doc, "type");
    size_t i, n;

    if ((type && !strcmp(type, "error")) || aura_json_get(doc, "error")) {
        anth_error(a, aura_json_get(doc, "error"));
        return d->rv;
    }
    if (!json_object_is_type(content, json_type_array))
        return aura_dec_fail(d, "upstream_bad_response",
                             "upstream body has no content array");
    n = json_object_array_length(content);
    for (i = 0; i < n; i++) {
        block_start(a, (long)i, json_object_array_get_idx(content, i));
        block_stop(a, (long)i);
    }
    note_stop(a, doc);
    anth_usage(a, aura_json_get(doc, "usage"));
    anth_finish(a);
    return d->rv;
}

aura_decoder_t *aura_anthropic_decoder(apr_pool_t *p, aura_rb_t *rb,
                                       int stream)
{
    anth_dec *a = apr_pcalloc(p, sizeof(*a));

    aura_dec_init(&a->d, p, rb, stream);
    a->d.on_event = anth_event;
    a->d.on_eof = anth_eof;
    a->d.on_body = anth_body;
    a->msg = -1;
    a->blocks = apr_array_make(p, 4, sizeof(block_t));
    return &a->d;
}
