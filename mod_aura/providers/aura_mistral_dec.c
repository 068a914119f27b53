/*
 * aura_mistral_dec.c - Mistral's answers: reasoning models send content
 * as chunks, [{type:"thinking", thinking:[{type:"text",text}]},
 * {type:"text",text}]; this decoder wraps the Chat Completions decoder and
 * hands the thinking text to it as reasoning_content. The request side is
 * aura_mistral_enc.c.
 */
#include <string.h>

#include "aura_decoder.h"
#include "aura_mistral.h"
#include "aura_openai_chat.h"


typedef struct mistral_dec {
    aura_decoder_t d;           /* SSE framing and body parsing */
    aura_decoder_t *chat;       /* does the decoding, through its hooks */
} mistral_dec;

/* The text pieces of a thinking chunk, {"thinking":[{"type":"text",
 * "text"}]} (or a plain string), pushed onto `out`. */
static void thinking_text(json_object *part, apr_array_header_t *out)
{
    json_object *th = aura_json_get(part, "thinking");
    size_t i, n;

    if (json_object_is_type(th, json_type_string)) {
        APR_ARRAY_PUSH(out, const char *) = json_object_get_string(th);
        return;
    }
    if (!json_object_is_type(th, json_type_array))
        return;
    n = json_object_array_length(th);
    for (i = 0; i < n; i++) {
        const char *s = aura_json_string(json_object_array_get_idx(th, i),
                                         "text");
        if (s)
            APR_ARRAY_PUSH(out, const char *) = s;
    }
}

/* A message or delta whose content is a chunk array: its thinking text
 * becomes reasoning_content (the chat decoder reads that, and the text
 * chunks it reads itself). The pieces are joined once, at the end: a
 * concatenation per chunk would copy the text so far each time, quadratic
 * in a body of many thinking chunks. (Its length is bounded by the event
 * or body holding it; the builder counts it against the content cap as
 * reasoning.) Returns whether anything changed. */
static int move_thinking(apr_pool_t *p, json_object *m)
{
    json_object *content = aura_json_get(m, "content");
    apr_array_header_t *pieces;
    const char *out;
    size_t i, n;

    if (!json_object_is_type(content, json_type_array))
        return 0;
    n = json_object_array_length(content);
    pieces = apr_array_make(p, 4, sizeof(const char *));
    for (i = 0; i < n; i++) {
        json_object *part = json_object_array_get_idx(content, i);
        const char *type = aura_json_string(part, "type");
        if (type && !strcmp(type, "thinking"))
            thinking_text(part, pieces);
    }
    out = apr_array_pstrcat(p, pieces, 0);
    if (!*out)
        return 0;
    json_object_object_add(m, "reasoning_content",
                           json_object_new_string(out));
    return 1;
}

static int move_all(apr_pool_t *p, json_object *doc, const char *key)
{
    json_object *choices = aura_json_get(doc, "choices");
    size_t i, n = json_object_is_type(choices, json_type_array)
                      ? json_object_array_length(choices) : 0;
    int changed = 0;

    for (i = 0; i < n; i++)
        changed |= move_thinking(p, aura_json_get(
            json_object_array_get_idx(choices, i), key));
    return changed;
}

/* The chat decoder logs where this one does (set after creation). */
static void mis_log(mistral_dec *m)
{
    m->chat->log = m->d.log;
}

static void mis_sync(mistral_dec *m)
{
    if (m->chat->rv != APR_SUCCESS)
        aura_dec_st(&m->d, m->chat->rv);
}

static apr_status_t mis_event(aura_decoder_t *d, const char *event,
                              const char *data, apr_size_t len)
{
    mistral_dec *m = (mistral_dec *)d;
    json_object *o;
    apr_pool_t *tp;

    m->chat->at_eof = d->at_eof;
    mis_log(m);
    /* Only chunks that carry thinking are rewritten; the rest pass
     * untouched (and unparsed) to the chat decoder. */
    if (!memmem(data, len, "\"thinking\"", 10)) {
        m->chat->on_event(m->chat, event, data, len);
    }
    else if ((o = aura_dec_parse(d, data, len)) != NULL) {
        apr_pool_create(&tp, d->pool);   /* per-event garbage */
        if (move_all(tp, o, "delta")) {
            apr_size_t n;
            const char *s = aura_json_str(tp, o, &n);
            m->chat->on_event(m->chat, event, s, n);
        }
        else {
            m->chat->on_event(m->chat, event, data, len);
        }
        json_object_put(o);
        apr_pool_destroy(tp);
    }
    mis_sync(m);
    return d->rv;
}

static apr_status_t mis_eof(aura_decoder_t *d)
{
    mistral_dec *m = (mistral_dec *)d;
    m->chat->at_eof = 1;
    mis_log(m);
    m->chat->on_eof(m->chat);
    mis_sync(m);
    return d->rv;
}

static apr_status_t mis_body(aura_decoder_t *d, json_object *doc)
{
    mistral_dec *m = (mistral_dec *)d;
    move_all(d->pool, doc, "message");
    mis_log(m);
    m->chat->on_body(m->chat, doc);
    mis_sync(m);
    return d->rv;
}

aura_decoder_t *aura_mistral_decoder(apr_pool_t *p, aura_rb_t *rb, int stream)
{
    mistral_dec *m = apr_pcalloc(p, sizeof(*m));

    aura_dec_init(&m->d, p, rb, stream);
    /* The chat decoder is driven through its hooks only; as a body
     * decoder it sets up no SSE parser of its own. */
    m->chat = aura_chat_decoder(p, rb, 0);
    m->chat->stream = stream;
    m->d.on_event = mis_event;
    m->d.on_eof = mis_eof;
    m->d.on_body = mis_body;
    return &m->d;
}

