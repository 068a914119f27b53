/*
 * aura_bedrock_dec.c - the Bedrock Converse / ConverseStream decoder.
 *
 * Converse answers one JSON document (output.message.content[], stopReason,
 * usage). ConverseStream answers application/vnd.amazon.eventstream
 * frames (aura_eventstream.c) whose :event-type names the payload:
 * messageStart, contentBlockStart (toolUse id + name), contentBlockDelta
 * (text | toolUse.input fragment | reasoningContent text/signature/
 * redactedContent), contentBlockStop, messageStop (stopReason), metadata
 * (usage, metrics); frames with :message-type exception/error end the
 * response as failed. Reference: the Bedrock API Reference,
 * ConverseStreamOutput and ContentBlockDelta
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html).
 *
 * Both modes drive the same per-block functions: a content block becomes
 * one output item (text -> message, toolUse -> function_call,
 * reasoningContent -> reasoning), closed at its block's end.
 */
#include <string.h>

#include "aura_buf.h"
#include "aura_decoder.h"
#include "aura_eventstream.h"
#include "aura_bedrock.h"

#define MAX_BLOCKS 4096         /* a sane bound on contentBlockIndex */

typedef struct block {
    int idx;                    /* builder index, -1 until opened */
    char kind;                  /* 'm' message, 'r' reasoning, 'c' call */
    int has_args;               /* call: an input fragment arrived */
    aura_buf_t sig;             /* reasoning: signature so far (a buffer
                                 * that doubles: many deltas stay linear) */
    aura_buf_t redacted;        /* reasoning: redactedContent (base64) */
} block_t;

typedef struct bed_dec {
    aura_decoder_t d;
    aura_es_t *es;              /* stream mode */
    apr_array_header_t *blocks; /* block_t per contentBlockIndex */
    int cur;                    /* the block whose item is open, or -1 */
    const char *stop;           /* stopReason once known */
    apr_size_t sig_total;       /* signature + redacted bytes, all blocks */
} bed_dec;

/* ---- blocks ------------------------------------------------------------ */

static void block_reset(bed_dec *c, block_t *b)
{
    memset(b, 0, sizeof(*b));
    aura_buf_init(&b->sig, c->d.pool, 0);
    aura_buf_init(&b->redacted, c->d.pool, 0);
}

static block_t *block_at(bed_dec *c, long bi)
{
    if (bi < 0 || bi >= MAX_BLOCKS) {
        AURA_DEC_TRACE(&c->d, "bedrock: contentBlockIndex %ld out of "
                       "range: skipped", bi);
        return NULL;
    }
    while (c->blocks->nelts <= bi) {
        block_t *b = apr_array_push(c->blocks);
        block_reset(c, b);
        b->idx = -1;
    }
    return &APR_ARRAY_IDX(c->blocks, bi, block_t);
}

/* What a block's item needs before it is done: arguments for a call that
 * had none, the reasoning signature (or redacted data) as encrypted
 * content. */
static void block_seal(bed_dec *c, block_t *b)
{
    aura_rb_t *rb = c->d.rb;

    if (b->kind == 'c' && !b->has_args)     /* a call without arguments */
        aura_dec_st(&c->d, aura_rb_call_args_delta(rb, b->idx, "{}", 2));
    if (b->kind == 'r' && (b->sig.len || b->redacted.len))
        aura_dec_st(&c->d, aura_rb_reasoning_encrypted(rb, b->idx,
            b->sig.len ? apr_pstrcat(c->d.pool, AURA_BEDROCK_SIG, b->sig.s,
                                     NULL)
                       : apr_pstrcat(c->d.pool, AURA_BEDROCK_REDACTED,
                                     b->redacted.s, NULL)));
}

static void block_close(bed_dec *c, long bi)
{
    block_t *b = block_at(c, bi);

    if (!b || b->idx < 0)
        return;
    block_seal(c, b);
    aura_dec_st(&c->d, aura_rb_close(c->d.rb, b->idx));
    if (c->cur == bi)
        c->cur = -1;
    b->idx = -1;
}

/* The block for bi as an item of `kind`, opened if needed. The block
 * before it is closed first: clients see an item done before the next
 * one is added (Bedrock does not interleave blocks). A block is not
 * closed at its contentBlockStop but when the next one starts or the
 * message ends: only messageStop says whether the last block was cut
 * (max_tokens), and a cut item must end "incomplete". */
static block_t *block_open(bed_dec *c, long bi, char kind, const char *id,
                           const char *name)
{
    block_t *b = block_at(c, bi);
    aura_rb_t *rb = c->d.rb;

    if (!b)
        return NULL;
    if (b->idx >= 0 && b->kind == kind)
        return b;
    if (b->idx >= 0)
        block_close(c, bi);
    if (c->cur >= 0)
        block_close(c, c->cur);
    block_reset(c, b);
    b->kind = kind;
    if (kind == 'm')
        aura_dec_st(&c->d, aura_rb_open_message(rb, NULL, &b->idx));
    else if (kind == 'r')
        aura_dec_st(&c->d, aura_rb_open_reasoning(rb, NULL, &b->idx));
    else
        aura_dec_st(&c->d, aura_rb_open_call(rb, NULL, id, name, &b->idx));
    c->cur = (int)bi;
    return b;
}

static void block_text(bed_dec *c, long bi, const char *s)
{
    block_t *b;
    if (s && *s && (b = block_open(c, bi, 'm', NULL, NULL)))
        aura_dec_st(&c->d, aura_rb_text_delta(c->d.rb, b->idx, s, strlen(s)));
}

static void block_args(bed_dec *c, long bi, const char *s)
{
    block_t *b = block_at(c, bi);

    if (b && (b->idx < 0 || b->kind != 'c') && s && *s)
        AURA_DEC_TRACE(&c->d, "bedrock: toolUse input for block %ld "
                       "without a toolUse start ignored", bi);
    if (!b || b->idx < 0 || b->kind != 'c' || !s || !*s)
        return;             /* input without a toolUse start: ignored */
    b->has_args = 1;
    aura_dec_st(&c->d, aura_rb_call_args_delta(c->d.rb, b->idx, s, strlen(s)));
}

/* Appends a signature (or redacted data) delta. All of them together are
 * held to the builder's content cap: they are kept for the final resource
 * like any content, and a hostile upstream must not grow the worker
 * through them either. */
static void grow_add(bed_dec *c, aura_buf_t *g, const char *s)
{
    apr_size_t n = s ? strlen(s) : 0, max = aura_rb_max_content(c->d.rb);

    if (!n || aura_rb_ended(c->d.rb))
        return;
    if (n > max - c->sig_total) {       /* sig_total <= max always */
        aura_dec_fail(&c->d, "upstream_response_too_large",
                      "the upstream response is larger than the gateway's "
                      "limit of %" APR_SIZE_T_FMT " bytes of content (a "
                      "reasoning signature); the rest was not read", max);
        aura_dec_st(&c->d, APR_ENOSPC);
        return;
    }
    c->sig_total += n;
    aura_buf_add(g, s, n);
}

/* reasoningContent, as a delta ({text}|{signature}|{redactedContent}) or
 * as a whole block ({reasoningText:{text,signature}}|{redactedContent}). */
static void block_reasoning(bed_dec *c, long bi, json_object *rc)
{
    json_object *rt = aura_json_get(rc, "reasoningText");
    const char *text = aura_json_string(rt ? rt : rc, "text");
    const char *sig = aura_json_string(rt ? rt : rc, "signature");
    const char *red = aura_json_string(rc, "redactedContent");
    block_t *b;

    if (!(text && *text) && !sig && !red)
        return;
    if (!(b = block_open(c, bi, 'r', NULL, NULL)))
        return;
    if (text && *text)
        aura_dec_st(&c->d, aura_rb_reasoning_delta(c->d.rb, b->idx, text,
                                                   strlen(text)));
    grow_add(c, &b->sig, sig);
    grow_add(c, &b->redacted, red);
}

/* ---- usage and the end ------------------------------------------------- */

/* Bedrock's inputTokens excludes the cache: the recorded stream has
 * inputTokens 9, cacheReadInputTokens 4508, outputTokens 6 and
 * totalTokens 4523 = 9 + 4508 + 6. OpenAI's input counts every prompt
 * token, so input = inputTokens + cache reads + cache writes. */
static void usage(bed_dec *c, json_object *u)
{
    aura_usage_t us = { 0, 0, 0, 0, 1 };
    long rd, wr;

    if (!u || !json_object_is_type(u, json_type_object))
        return;
    rd = aura_dec_long(u, "cacheReadInputTokens", 0);
    wr = aura_dec_long(u, "cacheWriteInputTokens", 0);
    us.input = aura_dec_long(u, "inputTokens", 0) + rd + wr;
    us.cached = rd;
    us.output = aura_dec_long(u, "outputTokens", 0);
    aura_rb_usage(c->d.rb, &us);
    if (wr > 0)
        aura_rb_cache_write(c->d.rb, wr);
}

static void note_stop(bed_dec *c, json_object *o)
{
    const char *s = aura_json_string(o, "stopReason");

    if (!s || !*s)
        AURA_DEC_TRACE(&c->d, "bedrock: no stopReason, end_turn assumed");
    c->stop = apr_pstrdup(c->d.pool, s && *s ? s : "end_turn");
}

/* stopReason (API_runtime_ConverseStream / MessageStopEvent): end_turn,
 * tool_use, stop_sequence -> completed; max_tokens and
 * model_context_window_exceeded -> incomplete (output cut);
 * guardrail_intervened, content_filtered -> incomplete content_filter. */
static void finish(bed_dec *c)
{
    const char *s = c->stop ? c->stop : "end_turn";
    const char *why = NULL;

    if (!strcmp(s, "max_tokens") || !strcmp(s, "model_context_window_exceeded"))
        why = "max_output_tokens";
    else if (!strcmp(s, "guardrail_intervened")
             || !strcmp(s, "content_filtered"))
        why = "content_filter";
    else if (strcmp(s, "end_turn") && strcmp(s, "tool_use")
             && strcmp(s, "stop_sequence"))
        AURA_DEC_TRACE(&c->d, "bedrock: stopReason %s read as completed",
                       aura_dec_str(&c->d, s));
    if (c->cur >= 0 && !why)
        block_close(c, c->cur);
    else if (c->cur >= 0)           /* cut: the builder ends it incomplete */
        block_seal(c, block_at(c, c->cur));
    aura_dec_st(&c->d, aura_rb_finish(c->d.rb, why ? "incomplete"
                                                   : "completed", why));
}

/* ---- ConverseStream ---------------------------------------------------- */

/* contentBlockStop: the current block stays open until the next block or
 * the message's end (see block_open); any other block is closed now. */
static void block_stop(bed_dec *c, long bi)
{
    if (bi != c->cur)
        block_close(c, bi);
}

static void on_start(bed_dec *c, json_object *o)
{
    json_object *tu = aura_json_get(aura_json_get(o, "start"), "toolUse");
    long bi = aura_dec_long(o, "contentBlockIndex", 0);

    if (tu)
        block_open(c, bi, 'c', aura_json_string(tu, "toolUseId"),
                   aura_json_string(tu, "name"));
    else if (aura_dec_first_key(aura_json_get(o, "start")))
        AURA_DEC_TRACE(&c->d, "bedrock: contentBlockStart %s ignored",
                       aura_dec_str(&c->d, aura_dec_first_key(
                                               aura_json_get(o, "start"))));
}

static void on_delta(bed_dec *c, json_object *o)
{
    json_object *dl = aura_json_get(o, "delta"), *v;
    long bi = aura_dec_long(o, "contentBlockIndex", 0);
    int known = 0;

    if ((v = aura_json_get(dl, "text")) && ++known)
        block_text(c, bi, json_object_get_string(v));
    if ((v = aura_json_get(dl, "toolUse")) && ++known)
        block_args(c, bi, aura_json_string(v, "input"));
    if ((v = aura_json_get(dl, "reasoningContent")) && ++known)
        block_reasoning(c, bi, v);
    if (!known)                 /* citation, and deltas added later */
        AURA_DEC_TRACE(&c->d, "bedrock: contentBlockDelta %s ignored",
                       aura_dec_str(&c->d, aura_dec_first_key(dl)));
}

static void on_event(bed_dec *c, const char *type, json_object *o)
{
    if (!strcmp(type, "contentBlockStart"))
        on_start(c, o);
    else if (!strcmp(type, "contentBlockDelta"))
        on_delta(c, o);
    else if (!strcmp(type, "contentBlockStop"))
        block_stop(c, aura_dec_long(o, "contentBlockIndex", 0));
    else if (!strcmp(type, "messageStop"))
        note_stop(c, o);
    else if (!strcmp(type, "metadata")) {
        usage(c, aura_json_get(o, "usage"));
        if (c->stop)                /* metadata is the last event */
            finish(c);
    }
    else if (strcmp(type, "messageStart")) {
        AURA_DEC_TRACE(&c->d, "bedrock: event %s ignored",
                       aura_dec_str(&c->d, type));
    }
}

/* Exception frames carry {"message": ...} (and the type in a header);
 * error frames carry :error-code / :error-message headers. */
static void on_exception(bed_dec *c, const aura_es_msg_t *m)
{
    const char *type = m->exception_type ? m->exception_type
                     : m->error_code ? m->error_code : "unknown";
    const char *msg = m->error_message;
    json_object *o;
    const char *code = !strcmp(type, "throttlingException")
                           ? "rate_limit_exceeded"
                     : !strcmp(type, "serviceUnavailableException")
                           ? "upstream_overloaded" : "upstream_error";

    json_tokener_reset(c->d.tok);
    o = json_tokener_parse_ex(c->d.tok, m->payload, (int)m->len);
    if (!msg)
        msg = aura_json_string(o, "message");
    /* Not redacted here: aura_rb_fail scrubs every failure message once,
     * centrally (scrubbing twice would mangle "[redacted]"). */
    aura_dec_fail(&c->d, code, "upstream error: %s: %s", type,
                  msg && *msg ? msg : "(no message)");
    json_object_put(o);
}

static apr_status_t on_frame(void *baton, const aura_es_msg_t *m)
{
    bed_dec *c = baton;
    json_object *o;

    if (aura_rb_ended(c->d.rb))
        return APR_EOF;             /* stop parsing: the answer is over */
    if (m->message_type && strcmp(m->message_type, "event")) {
        on_exception(c, m);
        return APR_SUCCESS;
    }
    if (!m->event_type) {
        AURA_DEC_TRACE(&c->d, "bedrock: frame without :event-type ignored");
        return APR_SUCCESS;
    }
    if (!(o = aura_dec_parse(&c->d, m->payload, m->len)))
        return APR_SUCCESS;         /* the response failed already */
    on_event(c, m->event_type, o);
    json_object_put(o);
    return APR_SUCCESS;
}

static apr_status_t es_feed(aura_decoder_t *d, const char *buf,
                            apr_size_t len)
{
    bed_dec *c = (bed_dec *)d;

    if (aura_es_feed(c->es, buf, len) == APR_EGENERAL
        && aura_es_error(c->es))
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream sent a malformed event stream: %s",
                      aura_es_error(c->es));
    return d->rv;
}

static apr_status_t es_end(aura_decoder_t *d)
{
    bed_dec *c = (bed_dec *)d;

    d->at_eof = 1;
    if (aura_rb_ended(d->rb))
        return d->rv;
    if (aura_es_pending(c->es))
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended inside an event stream frame");
    else if (c->stop) {             /* messageStop seen, metadata missing */
        AURA_DEC_TRACE(d, "bedrock: stream ended without metadata; "
                       "finished by its stopReason");
        finish(c);
    }
    else
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended before the response finished");
    return d->rv;
}

/* ---- Converse (one body) ----------------------------------------------- */

static void body_block(bed_dec *c, long bi, json_object *cb)
{
    json_object *v;

    if ((v = aura_json_get(cb, "text"))) {
        block_text(c, bi, json_object_get_string(v));
    }
    else if ((v = aura_json_get(cb, "toolUse"))) {
        json_object *in = aura_json_get(v, "input");
        block_open(c, bi, 'c', aura_json_string(v, "toolUseId"),
                   aura_json_string(v, "name"));
        block_args(c, bi, in ? aura_json_str(c->d.pool, in, NULL) : NULL);
    }
    else if ((v = aura_json_get(cb, "reasoningContent"))) {
        block_reasoning(c, bi, v);
    }
    else {      /* image, document, citationsContent, ...: no place */
        AURA_DEC_TRACE(&c->d, "bedrock: content block %ld (%s) skipped",
                       bi, aura_dec_str(&c->d, aura_dec_first_key(cb)));
    }
}

static apr_status_t on_body(aura_decoder_t *d, json_object *doc)
{
    bed_dec *c = (bed_dec *)d;
    json_object *msg = aura_json_get(aura_json_get(doc, "output"), "message");
    json_object *content = aura_json_get(msg, "content");
    size_t i, n;

    if (!msg) {
        if (aura_json_string(doc, "message"))   /* an error shape */
            return aura_dec_fail_upstream(d, "upstream_error", doc);
        return aura_dec_fail(d, "upstream_bad_response",
                             "upstream body has no output.message");
    }
    n = json_object_is_type(content, json_type_array)
            ? json_object_array_length(content) : 0;
    for (i = 0; i < n; i++)
        body_block(c, (long)i, json_object_array_get_idx(content, i));
    note_stop(c, doc);
    usage(c, aura_json_get(doc, "usage"));
    finish(c);
    return d->rv;
}

aura_decoder_t *aura_bedrock_decoder(apr_pool_t *p, aura_rb_t *rb, int stream)
{
    bed_dec *c = apr_pcalloc(p, sizeof(*c));

    /* Body mode's plumbing (json_tokener, body feed/end); a stream swaps
     * in the event stream parser for the SSE one. */
    aura_dec_init(&c->d, p, rb, 0);
    c->d.on_body = on_body;
    c->blocks = apr_array_make(p, 4, sizeof(block_t));
    c->cur = -1;
    if (stream) {
        c->d.stream = 1;
        c->es = aura_es_create(p, 0, on_frame, c);
        c->d.feed = es_feed;
        c->d.end = es_end;
    }
    return &c->d;
}
