/*
 * aura_dec_chat.c - the common decoder plumbing (aura_decoder_feed/end) and
 * the OpenAI Chat Completions decoder (OpenAI, Azure, Mistral, vLLM, TGI,
 * Ollama and the other "OpenAI-compatible" servers).
 *
 * Chat Completions has no items, only one growing message per choice; the
 * decoder cuts it into Open Responses items: a reasoning item (vLLM and
 * DeepSeek `reasoning_content`/`reasoning`), a message item (content,
 * refusal) and one function_call item per tool_calls index. Only choice 0
 * is used (the gateway never asks for n > 1).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "aura_decoder.h"

/* ---- common plumbing -------------------------------------------------- */

static apr_status_t tok_cleanup(void *data)
{
    aura_decoder_t *d = data;
    if (d->tok)
        aura_tokener_release(d->tok);
    if (d->doc)
        json_object_put(d->doc);
    d->tok = NULL;
    d->doc = NULL;
    return APR_SUCCESS;
}

apr_status_t aura_dec_st(aura_decoder_t *d, apr_status_t rv)
{
    if (d->rv == APR_SUCCESS)
        d->rv = rv;
    return rv;
}

apr_status_t aura_dec_fail(aura_decoder_t *d, const char *code,
                           const char *fmt, ...)
{
    aura_error_t *e;
    va_list ap;

    if (aura_rb_ended(d->rb))
        return d->rv;
    e = aura_error_make(d->pool, 502, "server_error", code, NULL, "%s", "");
    va_start(ap, fmt);
    e->message = apr_pvsprintf(d->pool, fmt, ap);
    va_end(ap);
    return aura_dec_st(d, aura_rb_fail(d->rb, e));
}

apr_status_t aura_dec_fail_upstream(aura_decoder_t *d, const char *code,
                                    json_object *err)
{
    const char *msg = json_object_is_type(err, json_type_string)
                          ? json_object_get_string(err)
                          : aura_json_string(err, "message");
    /* Some providers echo the request's Authorization header in their
     * error text; it must reach neither the client nor the log. */
    return aura_dec_fail(d, aura_redact(d->pool, code, NULL),
                         "upstream error: %s", msg && *msg
                             ? aura_redact(d->pool, msg, NULL)
                             : "(no message)");
}

json_object *aura_dec_parse(aura_decoder_t *d, const char *data,
                            apr_size_t len)
{
    json_object *o;

    json_tokener_reset(d->tok);
    o = json_tokener_parse_ex(d->tok, data, (int)len);
    if (o && (json_tokener_get_parse_end(d->tok) < len
              || !json_object_is_type(o, json_type_object))) {
        /* trailing bytes after the object, or not an object at all */
        size_t i = json_tokener_get_parse_end(d->tok);
        while (i < len && strchr(" \t\r\n", data[i]))
            i++;
        if (i < len || !json_object_is_type(o, json_type_object)) {
            json_object_put(o);
            o = NULL;
        }
    }
    if (!o && d->at_eof)    /* the last event, cut mid-JSON */
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended inside an event");
    else if (!o)
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream sent an event that is not a JSON object");
    return o;
}

long aura_dec_long(json_object *o, const char *key, long def)
{
    json_object *v = aura_json_get(o, key);
    if (!v || !(json_object_is_type(v, json_type_int)
                || json_object_is_type(v, json_type_double)))
        return def;
    return (long)json_object_get_int64(v);
}

static apr_status_t sse_event(void *baton, const char *event,
                              const char *data, apr_size_t len)
{
    aura_decoder_t *d = baton;
    if (!aura_rb_ended(d->rb))
        d->on_event(d, event, data, len);
    return APR_SUCCESS;
}

static apr_status_t stream_feed(aura_decoder_t *d, const char *buf,
                                apr_size_t len)
{
    if (aura_sse_feed(d->sse, buf, len) != APR_SUCCESS)
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream event larger than %d bytes",
                      AURA_SSE_MAX_EVENT);
    return d->rv;
}

static apr_status_t stream_end(aura_decoder_t *d)
{
    d->at_eof = 1;
    if (!aura_rb_ended(d->rb) && aura_sse_finish(d->sse) != APR_SUCCESS)
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream event larger than %d bytes",
                      AURA_SSE_MAX_EVENT);
    if (!aura_rb_ended(d->rb))
        d->on_eof(d);
    if (!aura_rb_ended(d->rb))  /* a provider hook that forgot: never hang */
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended early");
    return d->rv;
}

static apr_status_t body_feed(aura_decoder_t *d, const char *buf,
                              apr_size_t len)
{
    enum json_tokener_error je;
    apr_size_t i;

    if (d->body_bad || !len)
        return d->rv;
    d->body_len += len;
    if (d->body_len > aura_rb_max_content(d->rb)) {
        /* the builder's bound, applied to the whole body: stop reading */
        d->body_bad = 1;
        aura_dec_fail(d, "upstream_response_too_large",
                      "the upstream response is larger than the gateway's "
                      "limit of %" APR_SIZE_T_FMT " bytes; the rest was not "
                      "read", aura_rb_max_content(d->rb));
        return aura_dec_st(d, APR_ENOSPC);
    }
    if (d->doc) {                   /* only whitespace may follow */
        for (i = 0; i < len; i++)
            if (!strchr(" \t\r\n", buf[i]))
                d->body_bad = 1;
        return d->rv;
    }
    d->doc = json_tokener_parse_ex(d->tok, buf, (int)len);
    je = json_tokener_get_error(d->tok);
    if (!d->doc && je != json_tokener_continue)
        d->body_bad = 1;
    else if (d->doc)                /* bytes after the document in buf */
        return body_feed(d, buf + json_tokener_get_parse_end(d->tok),
                         len - json_tokener_get_parse_end(d->tok));
    return d->rv;
}

static apr_status_t body_end(aura_decoder_t *d)
{
    if (aura_rb_ended(d->rb))
        return d->rv;
    if (d->body_bad || !d->doc || !json_object_is_type(d->doc,
                                                       json_type_object))
        return aura_dec_fail(d, "upstream_bad_response",
                             "upstream sent a body that is not a JSON object");
    d->on_body(d, d->doc);
    if (!aura_rb_ended(d->rb))
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream body could not be decoded");
    return d->rv;
}

void aura_dec_init(aura_decoder_t *d, apr_pool_t *p, aura_rb_t *rb,
                   int stream)
{
    d->pool = p;
    d->rb = rb;
    d->stream = stream;
    d->tok = aura_tokener_acquire();
    if (!d->tok)
        abort();                    /* out of memory, as APR does */
    apr_pool_cleanup_register(p, d, tok_cleanup, apr_pool_cleanup_null);
    if (stream) {
        d->sse = aura_sse_create(p, 0, sse_event, d);
        d->feed = stream_feed;
        d->end = stream_end;
    }
    else {
        d->feed = body_feed;
        d->end = body_end;
    }
}

apr_status_t aura_decoder_feed(aura_decoder_t *d, const char *buf,
                               apr_size_t len)
{
    if (aura_rb_ended(d->rb))       /* after fail/finish: ignored */
        return d->rv;
    return d->feed(d, buf, len);
}

apr_status_t aura_decoder_end(aura_decoder_t *d)
{
    return d->end(d);
}

/* ---- Chat Completions ------------------------------------------------- */

typedef struct chat_dec {
    aura_decoder_t d;
    /* Builder indices. At most one message or reasoning item is open:
     * `cur`. When the stream moves to another item it is closed, so
     * clients see it done before the next item is added, as OpenAI's own
     * Responses stream does. Function calls stay open until the finish
     * (which closes them in output_index order): a provider may
     * interleave the fragments of parallel calls, and each call's
     * arguments.done must carry all of its arguments. */
    int cur;                    /* the open message / reasoning, or -1 */
    int msg, rs;                /* the current message / reasoning item */
    apr_array_header_t *calls;  /* int: builder idx per tool_calls index */
    const char *finish;         /* finish_reason of choice 0 */
    int saw_done;               /* data: [DONE] */
} chat_dec;

static void chat_usage(chat_dec *c, json_object *u)
{
    aura_usage_t us = { 0, 0, 0, 0, 1 };

    if (!u || !json_object_is_type(u, json_type_object))
        return;
    us.input = aura_dec_long(u, "prompt_tokens", 0);
    us.output = aura_dec_long(u, "completion_tokens", 0);
    us.cached = aura_dec_long(aura_json_get(u, "prompt_tokens_details"),
                              "cached_tokens", 0);
    us.reasoning = aura_dec_long(aura_json_get(u, "completion_tokens_details"),
                                 "reasoning_tokens", 0);
    aura_rb_usage(c->d.rb, &us);
}

/* Closes the open message or reasoning item, if any: the stream has
 * moved on to another item. */
static void chat_leave(chat_dec *c)
{
    if (c->cur >= 0)
        aura_dec_st(&c->d, aura_rb_close(c->d.rb, c->cur));
    c->cur = c->msg = c->rs = -1;
}

static void chat_reasoning(chat_dec *c, const char *s, apr_size_t n)
{
    if (c->rs < 0) {
        chat_leave(c);
        aura_dec_st(&c->d, aura_rb_open_reasoning(c->d.rb, NULL, &c->rs));
        c->cur = c->rs;
    }
    aura_dec_st(&c->d, aura_rb_reasoning_delta(c->d.rb, c->rs, s, n));
}

static void chat_text(chat_dec *c, const char *s, apr_size_t n, int refusal)
{
    if (c->msg < 0) {
        chat_leave(c);
        aura_dec_st(&c->d, aura_rb_open_message(c->d.rb, NULL, &c->msg));
        c->cur = c->msg;
    }
    aura_dec_st(&c->d, refusal ? aura_rb_refusal_delta(c->d.rb, c->msg, s, n)
                               : aura_rb_text_delta(c->d.rb, c->msg, s, n));
}

static int *chat_call_slot(chat_dec *c, int k)
{
    if (k < 0 || k > 4096)          /* a sane bound on parallel calls */
        return NULL;
    while (c->calls->nelts <= k)
        APR_ARRAY_PUSH(c->calls, int) = -1;
    return &APR_ARRAY_IDX(c->calls, k, int);
}

/* One tool_calls[] fragment (or a whole call: Mistral sends each call in
 * one chunk; TGI repeats id "0" in every fragment). `pos` is the array
 * position, used when the provider omits `index` (Mistral). */
static void chat_call(chat_dec *c, json_object *tc, int pos)
{
    json_object *fn = aura_json_get(tc, "function");
    const char *args = aura_json_string(fn, "arguments");
    int *slot = chat_call_slot(c, (int)aura_dec_long(tc, "index", pos));

    if (!slot)
        return;
    if (*slot < 0) {
        chat_leave(c);
        aura_dec_st(&c->d, aura_rb_open_call(c->d.rb, NULL,
                                             aura_json_string(tc, "id"),
                                             aura_json_string(fn, "name"),
                                             slot));
    }
    if (args && *args)
        aura_dec_st(&c->d, aura_rb_call_args_delta(c->d.rb, *slot, args,
                                                   strlen(args)));
}

static void chat_calls(chat_dec *c, json_object *tcs)
{
    size_t i, n;
    if (!json_object_is_type(tcs, json_type_array))
        return;
    n = json_object_array_length(tcs);
    for (i = 0; i < n; i++)
        chat_call(c, json_object_array_get_idx(tcs, i), (int)i);
}

static void chat_str(chat_dec *c, json_object *o, const char *key, int what)
{
    const char *s = aura_json_string(o, key);
    if (!s || !*s)
        return;
    if (what == 0)
        chat_reasoning(c, s, strlen(s));
    else
        chat_text(c, s, strlen(s), what == 2);
}

/* A delta (stream) or a message (body): same shape, same order. */
static void chat_message(chat_dec *c, json_object *m)
{
    json_object *content = aura_json_get(m, "content");
    json_object *legacy = aura_json_get(m, "function_call");

    chat_str(c, m, "reasoning_content", 0);
    chat_str(c, m, "reasoning", 0);
    if (json_object_is_type(content, json_type_array)) {
        /* some compatible servers answer with content parts */
        size_t i, n = json_object_array_length(content);
        for (i = 0; i < n; i++)
            chat_str(c, json_object_array_get_idx(content, i), "text", 1);
    }
    else {
        chat_str(c, m, "content", 1);
    }
    chat_str(c, m, "refusal", 2);
    chat_calls(c, aura_json_get(m, "tool_calls"));
    if (legacy) {                   /* pre-tools function_call: call 0 */
        json_object *tc = json_object_new_object();
        json_object_object_add(tc, "function", json_object_get(legacy));
        chat_call(c, tc, 0);
        json_object_put(tc);
    }
}

static json_object *chat_choice0(json_object *obj)
{
    json_object *choices = aura_json_get(obj, "choices");
    size_t i, n;

    if (!json_object_is_type(choices, json_type_array))
        return NULL;
    n = json_object_array_length(choices);
    for (i = 0; i < n; i++) {
        json_object *ch = json_object_array_get_idx(choices, i);
        if (aura_dec_long(ch, "index", 0) == 0)
            return ch;
    }
    return NULL;
}

static void chat_finish(chat_dec *c)
{
    const char *f = c->finish ? c->finish : "stop";

    if (!strcmp(f, "length"))
        aura_dec_st(&c->d, aura_rb_finish(c->d.rb, "incomplete",
                                          "max_output_tokens"));
    else if (!strcmp(f, "content_filter"))
        aura_dec_st(&c->d, aura_rb_finish(c->d.rb, "incomplete",
                                          "content_filter"));
    else                            /* stop, tool_calls, function_call, ... */
        aura_dec_st(&c->d, aura_rb_finish(c->d.rb, "completed", NULL));
}

static void chat_note_finish(chat_dec *c, json_object *choice)
{
    const char *f = aura_json_string(choice, "finish_reason");
    if (f && *f)
        c->finish = apr_pstrdup(c->d.pool, f);
}

static apr_status_t chat_event(aura_decoder_t *d, const char *event,
                               const char *data, apr_size_t len)
{
    chat_dec *c = (chat_dec *)d;
    json_object *o, *err, *ch;

    (void)event;
    if (c->saw_done)
        return d->rv;
    if (len == 6 && !memcmp(data, "[DONE]", 6)) {
        c->saw_done = 1;
        chat_finish(c);
        return d->rv;
    }
    if (!(o = aura_dec_parse(d, data, len)))
        return d->rv;
    if ((err = aura_json_get(o, "error"))) {
        aura_dec_fail_upstream(d, "upstream_error", err);
    }
    else {
        if ((ch = chat_choice0(o))) {
            chat_message(c, aura_json_get(ch, "delta"));
            chat_note_finish(c, ch);
        }
        chat_usage(c, aura_json_get(o, "usage"));
    }
    json_object_put(o);
    return d->rv;
}

/* No [DONE]: a finish_reason still means the answer is whole (the usage
 * chunk, if any, came before EOF); nothing at all means it was cut. */
static apr_status_t chat_eof(aura_decoder_t *d)
{
    chat_dec *c = (chat_dec *)d;
    if (c->finish)
        chat_finish(c);
    else
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended before the response finished");
    return d->rv;
}

static apr_status_t chat_body(aura_decoder_t *d, json_object *doc)
{
    chat_dec *c = (chat_dec *)d;
    json_object *err = aura_json_get(doc, "error");
    json_object *ch;

    if (err)                        /* some servers send 200 + error */
        return aura_dec_fail_upstream(d, "upstream_error", err);
    if (!(ch = chat_choice0(doc)))
        return aura_dec_fail(d, "upstream_bad_response",
                             "upstream body has no choices");
    chat_message(c, aura_json_get(ch, "message"));
    chat_note_finish(c, ch);
    chat_usage(c, aura_json_get(doc, "usage"));
    chat_finish(c);
    return d->rv;
}

aura_decoder_t *aura_chat_decoder(apr_pool_t *p, aura_rb_t *rb, int stream)
{
    chat_dec *c = apr_pcalloc(p, sizeof(*c));

    aura_dec_init(&c->d, p, rb, stream);
    c->d.on_event = chat_event;
    c->d.on_eof = chat_eof;
    c->d.on_body = chat_body;
    c->cur = c->msg = c->rs = -1;
    c->calls = apr_array_make(p, 2, sizeof(int));
    return &c->d;
}
