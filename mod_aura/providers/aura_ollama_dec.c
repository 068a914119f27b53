/*
 * aura_ollama_dec.c - Ollama's answers: NDJSON lines when streaming
 * (application/x-ndjson), one JSON object otherwise. Each line is a chunk
 * {message:{content, thinking, tool_calls}, done, done_reason,
 * prompt_eval_count, eval_count}; a mid-stream failure is a line
 * {"error":"text"} (the HTTP status stays 200). Ollama gives tool calls no
 * ids: the decoder derives one per call from the chunk. The request side
 * is aura_ollama_enc.c.
 */
#include <string.h>

#include <openssl/sha.h>

#include "aura_buf.h"
#include "aura_decoder.h"
#include "aura_ollama.h"


#define OLLAMA_MAX_LINE AURA_SSE_MAX_EVENT

typedef struct ollama_dec {
    aura_decoder_t d;
    int cur;                    /* the open message / reasoning, or -1 */
    int msg, rs;
    int ncalls;                 /* calls so far (the call id's index) */
    int done;                   /* saw done:true */
    aura_buf_t line;            /* stream: the partial line */
} ollama_dec;

static void oll_leave(ollama_dec *o)
{
    if (o->cur >= 0)
        aura_dec_st(&o->d, aura_rb_close(o->d.rb, o->cur));
    o->cur = o->msg = o->rs = -1;
}

static void oll_text(ollama_dec *o, const char *s, int reasoning)
{
    int *idx = reasoning ? &o->rs : &o->msg;

    if (!s || !*s)
        return;
    if (*idx < 0) {
        oll_leave(o);
        aura_dec_st(&o->d, reasoning
                    ? aura_rb_open_reasoning(o->d.rb, NULL, idx)
                    : aura_rb_open_message(o->d.rb, NULL, idx));
        o->cur = *idx;
    }
    aura_dec_st(&o->d, reasoning
                ? aura_rb_reasoning_delta(o->d.rb, *idx, s, strlen(s))
                : aura_rb_text_delta(o->d.rb, *idx, s, strlen(s)));
}

/* Ollama's calls carry no id. One is derived from the chunk's created_at
 * (unique per answer, nanosecond resolution), the call's position and its
 * content: the same bytes always decode to the same id, and two answers
 * do not share ids. */
static const char *oll_call_id(ollama_dec *o, json_object *chunk,
                               const char *name, const char *args)
{
    static const char hex[] = "0123456789abcdef";
    const char *src = apr_psprintf(o->d.pool, "%s|%d|%s|%s",
                                   aura_json_string(chunk, "created_at")
                                       ? aura_json_string(chunk, "created_at")
                                       : "", o->ncalls, name, args);
    unsigned char md[SHA256_DIGEST_LENGTH];
    char *id = apr_palloc(o->d.pool, 5 + 24 + 1);
    int i;

    SHA256((const unsigned char *)src, strlen(src), md);
    memcpy(id, "call_", 5);
    for (i = 0; i < 12; i++) {
        id[5 + 2 * i] = hex[md[i] >> 4];
        id[6 + 2 * i] = hex[md[i] & 15];
    }
    id[29] = '\0';
    return id;
}

/* Each call arrives whole (arguments as an object): added and done at
 * once. */
static void oll_calls(ollama_dec *o, json_object *chunk, json_object *tcs)
{
    size_t i, n;

    if (!json_object_is_type(tcs, json_type_array))
        return;
    n = json_object_array_length(tcs);
    for (i = 0; i < n; i++) {
        json_object *fn = aura_json_get(json_object_array_get_idx(tcs, i),
                                        "function");
        json_object *args = aura_json_get(fn, "arguments");
        const char *name = aura_json_string(fn, "name");
        const char *a = json_object_is_type(args, json_type_string)
                            ? json_object_get_string(args)
                            : args ? aura_json_str(o->d.pool, args, NULL)
                                   : "{}";
        const char *id = oll_call_id(o, chunk, name, a);
        int idx = -1;

        AURA_DEC_TRACE(&o->d, "ollama: tool call %s has no id: %s derived",
                       aura_dec_str(&o->d, name), id);
        oll_leave(o);
        aura_dec_st(&o->d, aura_rb_open_call(o->d.rb, NULL, id,
                                             name ? name : "", &idx));
        aura_dec_st(&o->d, aura_rb_call_args_delta(o->d.rb, idx, a,
                                                   strlen(a)));
        aura_dec_st(&o->d, aura_rb_close(o->d.rb, idx));
        o->ncalls++;
    }
}

static void oll_finish(ollama_dec *o, json_object *chunk)
{
    aura_usage_t us = { 0, 0, 0, 0, 1 };
    const char *why = aura_json_string(chunk, "done_reason");

    us.input = aura_dec_long(chunk, "prompt_eval_count", 0);
    us.output = aura_dec_long(chunk, "eval_count", 0);
    if (aura_json_get(chunk, "prompt_eval_count")
        || aura_json_get(chunk, "eval_count"))
        aura_rb_usage(o->d.rb, &us);
    o->done = 1;
    if (why && strcmp(why, "length") && strcmp(why, "stop")
        && strcmp(why, "load") && strcmp(why, "unload"))
        AURA_DEC_TRACE(&o->d, "ollama: done_reason %s read as completed",
                       aura_dec_str(&o->d, why));
    if (why && !strcmp(why, "length"))
        aura_dec_st(&o->d, aura_rb_finish(o->d.rb, "incomplete",
                                          "max_output_tokens"));
    else                        /* stop, load, unload, absent */
        aura_dec_st(&o->d, aura_rb_finish(o->d.rb, "completed", NULL));
}

/* One chunk: a stream line, or the whole body. /api/generate's shape
 * (top-level response/thinking) is read too: same server, same framing. */
static void oll_chunk(ollama_dec *o, json_object *chunk)
{
    json_object *m = aura_json_get(chunk, "message");
    json_object *err = aura_json_get(chunk, "error");
    json_object *done = aura_json_get(chunk, "done");

    if (err) {
        aura_dec_fail_upstream(&o->d, "upstream_error", err);
        return;
    }
    oll_text(o, aura_json_string(m, "thinking"), 1);
    oll_text(o, aura_json_string(chunk, "thinking"), 1);
    oll_text(o, aura_json_string(m, "content"), 0);
    oll_text(o, aura_json_string(chunk, "response"), 0);
    oll_calls(o, chunk, aura_json_get(m, "tool_calls"));
    if (json_object_is_type(done, json_type_boolean)
        && json_object_get_boolean(done))
        oll_finish(o, chunk);
}

static void oll_line(ollama_dec *o, const char *s, apr_size_t n)
{
    json_object *chunk;

    while (n && strchr(" \t\r", s[n - 1]))
        n--;
    if (!n || o->done || aura_rb_ended(o->d.rb))
        return;
    if ((chunk = aura_dec_parse(&o->d, s, n))) {
        oll_chunk(o, chunk);
        json_object_put(chunk);
    }
}

static int oll_keep(ollama_dec *o, const char *buf, apr_size_t n)
{
    if (o->line.len + n > OLLAMA_MAX_LINE) {
        aura_dec_fail(&o->d, "upstream_bad_response",
                      "upstream line larger than %d bytes", OLLAMA_MAX_LINE);
        return 0;
    }
    aura_buf_add(&o->line, buf, n);
    return 1;
}

/* NDJSON: complete lines are decoded straight from the caller's buffer;
 * only a line split across feeds is copied. */
static apr_status_t oll_feed(aura_decoder_t *d, const char *buf,
                             apr_size_t len)
{
    ollama_dec *o = (ollama_dec *)d;
    const char *nl;

    while (len && !aura_rb_ended(d->rb)
           && (nl = memchr(buf, '\n', len)) != NULL) {
        apr_size_t n = (apr_size_t)(nl - buf);
        if (o->line.len) {
            if (oll_keep(o, buf, n))
                oll_line(o, o->line.s, o->line.len);
            aura_buf_reset(&o->line);
        }
        else {
            oll_line(o, buf, n);
        }
        buf += n + 1;
        len -= n + 1;
    }
    if (len && !aura_rb_ended(d->rb))
        oll_keep(o, buf, len);
    return d->rv;
}

static apr_status_t oll_end(aura_decoder_t *d)
{
    ollama_dec *o = (ollama_dec *)d;

    d->at_eof = 1;
    if (o->line.len && !aura_rb_ended(d->rb))
        oll_line(o, o->line.s, o->line.len);   /* a last line without newline */
    aura_buf_reset(&o->line);
    if (!aura_rb_ended(d->rb))
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended before the response finished");
    return d->rv;
}

static apr_status_t oll_body(aura_decoder_t *d, json_object *doc)
{
    ollama_dec *o = (ollama_dec *)d;

    oll_chunk(o, doc);
    if (!aura_rb_ended(d->rb))      /* a body without done: true */
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream body is not a finished answer");
    return d->rv;
}

aura_decoder_t *aura_ollama_decoder(apr_pool_t *p, aura_rb_t *rb, int stream)
{
    ollama_dec *o = apr_pcalloc(p, sizeof(*o));

    /* Set up as a body decoder (no SSE parser), then switch a stream
     * to NDJSON lines. */
    aura_dec_init(&o->d, p, rb, 0);
    aura_buf_init(&o->line, p, 0);
    o->d.on_body = oll_body;
    if (stream) {
        o->d.stream = 1;
        o->d.feed = oll_feed;
        o->d.end = oll_end;
    }
    o->cur = o->msg = o->rs = -1;
    return &o->d;
}

