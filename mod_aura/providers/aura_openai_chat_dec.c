/*
 * aura_openai_chat_dec.c - the OpenAI Chat Completions decoder (OpenAI,
 * Azure, Mistral, vLLM, TGI, Ollama and the other "OpenAI-compatible"
 * servers).
 *
 * Chat Completions has no items, only one growing message per choice; the
 * decoder cuts it into Open Responses items: a reasoning item (vLLM and
 * DeepSeek `reasoning_content`/`reasoning`), a message item (content,
 * refusal) and one function_call item per tool_calls index. Only choice 0
 * is used (the gateway never asks for n > 1).
 */
#include <stdlib.h>
#include <string.h>

#include "aura_decoder.h"
#include "aura_openai_chat.h"

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
    long k = aura_dec_long(tc, "index", pos);
    int *slot = chat_call_slot(c, (int)k);

    if (!slot) {
        AURA_DEC_TRACE(&c->d, "chat: tool call index %ld out of range: "
                       "skipped", k);
        return;
    }
    if (*slot < 0) {            /* the id matters only when a call opens */
        const char *id = aura_json_string(tc, "id");
        if (!id || !*id)
            AURA_DEC_TRACE(&c->d, "chat: tool call %ld without an id: the "
                           "gateway makes one", k);
        chat_leave(c);
        aura_dec_st(&c->d, aura_rb_open_call(c->d.rb, NULL, id,
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

/* A content part: its text. Others (images, audio) have no place in the
 * answer; thinking parts are Mistral's, moved to reasoning_content before
 * (aura_mistral_dec.c). */
static void chat_part(chat_dec *c, json_object *part)
{
    const char *text = aura_json_string(part, "text"), *type;

    if (text) {
        if (*text)
            chat_text(c, text, strlen(text), 0);
        return;
    }
    if (!aura_log_is_level(c->d.log, AURA_LOG_TRACE1))
        return;                 /* the type is read for the trace only */
    type = aura_json_string(part, "type");
    if (!type || strcmp(type, "thinking"))
        AURA_DEC_TRACE(&c->d, "chat: content part of type %s skipped",
                       aura_dec_str(&c->d, type));
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
            chat_part(c, json_object_array_get_idx(content, i));
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

    if (!c->finish)
        AURA_DEC_TRACE(&c->d, "chat: no finish_reason, stop assumed");
    else if (strcmp(f, "stop") && strcmp(f, "length")
             && strcmp(f, "tool_calls") && strcmp(f, "content_filter")
             && strcmp(f, "function_call"))
        AURA_DEC_TRACE(&c->d, "chat: finish_reason %s read as completed",
                       aura_dec_str(&c->d, f));
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
        else if (!aura_json_get(o, "usage")) {
            AURA_DEC_TRACE(d, "chat: chunk without choice 0 or usage "
                           "ignored");
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
    if (c->finish) {
        AURA_DEC_TRACE(d, "chat: stream ended without [DONE]; finished by "
                       "its finish_reason");
        chat_finish(c);
    }
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
