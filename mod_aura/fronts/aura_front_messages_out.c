/*
 * aura_front_messages_out.c - the Anthropic Messages front door
 * (POST .../messages and .../messages/count_tokens), as Claude Code and
 * the Anthropic SDKs use it, routed to any provider.
 *
 * The request parser is aura_front_messages_in.c (and _in_blocks.c). This file has the
 * way out: builder events become Anthropic SSE (message_start,
 * content_block_start/delta/stop, message_delta, message_stop), the final
 * resource an Anthropic message, errors {"type":"error","error":{type,
 * message}}. The request side documents its mapping field by field.
 *
 * Reasoning state travels in a thinking block's `signature`: an Anthropic
 * signature as itself (item encrypted_content "aura:anthropic:<sig>", as
 * the Anthropic adapter writes it), any other provider's state as
 * "aura:rs:<item id>:<encrypted_content>", so that a Claude Code session
 * routed to OpenAI, Gemini or Bedrock keeps their state across turns too.
 * Anthropic's signatures are base64 and never start with "aura:". A
 * redacted_thinking block is "aura:anthropic-redacted:<data>".
 */
#include <string.h>
#include <apr_hash.h>

#include "aura_front_messages.h"

#define MARK_SIG      "aura:anthropic:"
#define MARK_REDACTED "aura:anthropic-redacted:"
#define MARK_RS       "aura:rs:"


static int has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static json_object *typed(const char *type)
{
    json_object *o = json_object_new_object();
    AURA_ADD_NEW(o, "type", json_object_new_string(type));
    return o;
}

/* {"id", "type": "message", "role": "assistant", "model"}, in
 * Anthropic's order. */
static json_object *message_head(const char *id, const char *model)
{
    json_object *m = json_object_new_object();
    AURA_ADD_NEW(m, "id", json_object_new_string(id));
    AURA_ADD_NEW(m, "type", json_object_new_string("message"));
    AURA_ADD_NEW(m, "role", json_object_new_string("assistant"));
    AURA_ADD_NEW(m, "model", json_object_new_string(model ? model : ""));
    return m;
}

/* ================================================================== */
/* shared by the stream and the body                                  */

/* A reasoning item's state as a thinking signature (file comment). */
static const char *signature_of(apr_pool_t *p, json_object *item)
{
    const char *enc = aura_json_string(item, "encrypted_content");
    const char *id = aura_json_string(item, "id");

    if (!enc || !*enc)
        return "";
    if (has_prefix(enc, MARK_SIG))
        return enc + strlen(MARK_SIG);
    return apr_pstrcat(p, MARK_RS, id ? id : "", ":", enc, NULL);
}

static const char *join_texts(apr_pool_t *p, json_object *parts,
                              const char *sep)
{
    size_t i, n = parts ? json_object_array_length(parts) : 0;
    apr_array_header_t *texts = apr_array_make(p, (int)n + 1,
                                               sizeof(const char *));

    for (i = 0; i < n; i++)
        APR_ARRAY_PUSH(texts, const char *) =
            aura_json_string(json_object_array_get_idx(parts, i), "text");
    return aura_strjoin(p, texts, sep);
}

/* Raw reasoning text when there is some, else the summaries. */
static const char *thinking_text(apr_pool_t *p, json_object *item)
{
    const char *s = join_texts(p, aura_json_get(item, "content"), "");
    return *s ? s : join_texts(p, aura_json_get(item, "summary"), "\n\n");
}

static int has_call(json_object *res)
{
    json_object *out = aura_json_get(res, "output");
    size_t i, n = out ? json_object_array_length(out) : 0;

    for (i = 0; i < n; i++) {
        const char *t = aura_json_string(json_object_array_get_idx(out, i),
                                         "type");
        if (t && !strcmp(t, "function_call"))
            return 1;
    }
    return 0;
}

static const char *stop_reason(json_object *res)
{
    const char *status = aura_json_string(res, "status");
    const char *why = aura_json_string(aura_json_get(res,
                                       "incomplete_details"), "reason");

    if (status && !strcmp(status, "incomplete"))
        return why && !strcmp(why, "content_filter") ? "refusal"
                                                     : "max_tokens";
    return has_call(res) ? "tool_use" : "end_turn";
}

static long count_of(json_object *o, const char *key)
{
    json_object *v = aura_json_get(o, key);
    return v ? (long)json_object_get_int64(v) : 0;
}

/* Anthropic's usage: input_tokens are the uncached, unwritten ones
 * (the request model counts every prompt token in input). */
static json_object *usage_json(long input, long cached, long written,
                               long output)
{
    json_object *u = json_object_new_object();
    long fresh = input - cached - written;

    AURA_ADD_NEW(u, "input_tokens", json_object_new_int64(fresh > 0 ? fresh
                                                                    : 0));
    AURA_ADD_NEW(u, "cache_creation_input_tokens",
                 json_object_new_int64(written));
    AURA_ADD_NEW(u, "cache_read_input_tokens", json_object_new_int64(cached));
    AURA_ADD_NEW(u, "output_tokens", json_object_new_int64(output));
    return u;
}

/* From the final resource, with usage.cost_usd carried over. */
static json_object *final_usage(json_object *res)
{
    json_object *u = aura_json_get(res, "usage"), *out, *cost;
    long written = count_of(aura_json_get(res, "aura"), "cache_write_tokens");

    out = usage_json(count_of(u, "input_tokens"),
                     count_of(aura_json_get(u, "input_tokens_details"),
                              "cached_tokens"),
                     written, count_of(u, "output_tokens"));
    if (json_object_object_get_ex(u, "cost_usd", &cost))
        AURA_ADD_NEW(out, "cost_usd", json_object_get(cost));
    return out;
}

static const char *message_id(apr_pool_t *p, const char *resp_id)
{
    if (!resp_id)
        return aura_make_id(p, "msg_");
    return apr_pstrcat(p, "msg_", has_prefix(resp_id, "resp_")
                       ? resp_id + 5 : resp_id, NULL);
}


/* ================================================================== */
/* streaming: builder events → Anthropic SSE                          */

/* A content block of the answer; Anthropic numbers them from 0 and has
 * one open at a time. */
typedef struct mblock {
    int index;
    int stopped;
    int args;               /* tool_use: input_json_delta sent */
    int summary;            /* thinking: the summary part being read */
} mblock_t;

typedef struct mstream {
    apr_pool_t *p;          /* the state's lifetime */
    apr_pool_t *scratch;    /* cleared per builder event: frames */
    aura_rb_t *rb;
    const char *id, *model;
    apr_hash_t *blocks;     /* "t<item>.<part>" | "c<item>" | "r<item>" */
    mblock_t *open;         /* the block being written, or NULL */
    int next;               /* the next block's index */
    int started;            /* message_start sent */
    int ended;              /* message_stop or error sent */
    aura_frame_fn emit;
    void *baton;
} mstream_t;

/* "event: <type>\ndata: <json>\n\n", as Anthropic frames; takes `data`. */
static apr_status_t frame(mstream_t *s, json_object *data)
{
    const char *type = aura_json_string(data, "type");
    const char *json = aura_json_str(s->scratch, data, NULL);
    const char *out = apr_pstrcat(s->scratch, "event: ", type, "\ndata: ",
                                  json, "\n\n", NULL);

    json_object_put(data);
    return s->emit(s->baton, out, strlen(out));
}

/* Lazily, at the first block or the end, so that the usage the upstream
 * reported up to then (Anthropic's and Bedrock's come first) is in it. */
static apr_status_t start(mstream_t *s)
{
    static const aura_usage_t none;
    const aura_usage_t *u = s->rb ? aura_rb_get_usage(s->rb) : &none;
    long written = s->rb ? aura_rb_get_cache_write(s->rb) : 0;
    json_object *m, *e;

    if (s->started)
        return APR_SUCCESS;
    s->started = 1;
    m = message_head(s->id ? s->id : message_id(s->p, NULL), s->model);
    AURA_ADD_NEW(m, "content", json_object_new_array());
    AURA_ADD_NEW(m, "stop_reason", NULL);
    AURA_ADD_NEW(m, "stop_sequence", NULL);
    AURA_ADD_NEW(m, "usage", usage_json(u->input, u->cached, written,
                                        u->output));
    e = typed("message_start");
    AURA_ADD_NEW(e, "message", m);
    return frame(s, e);
}

static json_object *indexed(const char *type, const mblock_t *b)
{
    json_object *e = typed(type);
    AURA_ADD_NEW(e, "index", json_object_new_int(b->index));
    return e;
}

static apr_status_t block_stop(mstream_t *s, mblock_t *b)
{
    if (!b || b->stopped)
        return APR_SUCCESS;
    b->stopped = 1;
    if (s->open == b)
        s->open = NULL;
    return frame(s, indexed("content_block_stop", b));
}

/* Starts a block (stopping the open one): `cb` is its content_block. */
static apr_status_t block_start(mstream_t *s, const char *key,
                                json_object *cb, mblock_t **out)
{
    mblock_t *b = apr_pcalloc(s->p, sizeof(*b));
    json_object *e;
    apr_status_t rv;

    *out = b;
    b->index = s->next++;
    apr_hash_set(s->blocks, apr_pstrdup(s->p, key), APR_HASH_KEY_STRING, b);
    if ((rv = start(s)) != APR_SUCCESS
        || (rv = block_stop(s, s->open)) != APR_SUCCESS) {
        json_object_put(cb);
        return rv;
    }
    s->open = b;
    e = indexed("content_block_start", b);
    AURA_ADD_NEW(e, "content_block", cb);
    return frame(s, e);
}

/* A delta of `type` whose payload is `key`: `val`. A late delta for a
 * block already stopped still goes out under its index (the SDKs
 * accumulate by index), rather than being lost. */
static apr_status_t block_delta(mstream_t *s, mblock_t *b, const char *type,
                                const char *key, const char *val)
{
    json_object *e = indexed("content_block_delta", b), *d = typed(type);

    AURA_ADD_NEW(d, key, json_object_new_string(val));
    AURA_ADD_NEW(e, "delta", d);
    return frame(s, e);
}

static int ev_int(json_object *e, const char *key)
{
    json_object *v = aura_json_get(e, key);
    return v ? json_object_get_int(v) : 0;
}

/* The block key of an event: kind, output_index (and content_index). */
static const char *key_of(mstream_t *s, char kind, json_object *e)
{
    return apr_psprintf(s->scratch, "%c%d.%d", kind,
                        ev_int(e, "output_index"),
                        kind == 't' ? ev_int(e, "content_index") : 0);
}

static mblock_t *find(mstream_t *s, const char *key)
{
    return apr_hash_get(s->blocks, key, APR_HASH_KEY_STRING);
}

static apr_status_t on_created(mstream_t *s, json_object *e)
{
    json_object *r = aura_json_get(e, "response");
    const char *model = aura_json_string(r, "model");

    s->id = message_id(s->p, aura_json_string(r, "id"));
    s->model = apr_pstrdup(s->p, model ? model : "");
    return APR_SUCCESS;
}

/* A tool_use block starts with its id and name, input empty. */
static apr_status_t on_item_added(mstream_t *s, json_object *e)
{
    json_object *item = aura_json_get(e, "item"), *cb;
    const char *type = aura_json_string(item, "type");
    mblock_t *b;

    if (!type || strcmp(type, "function_call"))
        return APR_SUCCESS;
    cb = typed("tool_use");
    AURA_ADD_NEW(cb, "id", json_object_new_string(
                     aura_json_string(item, "call_id")));
    AURA_ADD_NEW(cb, "name", json_object_new_string(
                     aura_json_string(item, "name")));
    AURA_ADD_NEW(cb, "input", json_object_new_object());
    return block_start(s, key_of(s, 'c', e), cb, &b);
}

static apr_status_t text_block(mstream_t *s, json_object *e, mblock_t **b)
{
    const char *key = key_of(s, 't', e);
    json_object *cb;

    if ((*b = find(s, key)))
        return APR_SUCCESS;
    cb = typed("text");
    AURA_ADD_NEW(cb, "text", json_object_new_string(""));
    return block_start(s, key, cb, b);
}

/* Text and refusal parts are text blocks (a refusal's stop_reason says
 * what it is); reasoning parts are left to their deltas. */
static apr_status_t on_part_added(mstream_t *s, json_object *e)
{
    const char *type = aura_json_string(aura_json_get(e, "part"), "type");
    mblock_t *b;

    if (!type || (strcmp(type, "output_text") && strcmp(type, "refusal")))
        return APR_SUCCESS;
    return text_block(s, e, &b);
}

static apr_status_t on_text_delta(mstream_t *s, json_object *e)
{
    mblock_t *b;
    apr_status_t rv = text_block(s, e, &b);

    if (rv != APR_SUCCESS)
        return rv;
    return block_delta(s, b, "text_delta", "text",
                       aura_json_string(e, "delta"));
}

static apr_status_t on_part_done(mstream_t *s, json_object *e)
{
    return block_stop(s, find(s, key_of(s, 't', e)));
}

static apr_status_t thinking_block(mstream_t *s, json_object *e,
                                   mblock_t **b)
{
    const char *key = key_of(s, 'r', e);
    json_object *cb;

    if ((*b = find(s, key)))
        return APR_SUCCESS;
    cb = typed("thinking");
    AURA_ADD_NEW(cb, "thinking", json_object_new_string(""));
    AURA_ADD_NEW(cb, "signature", json_object_new_string(""));
    return block_start(s, key, cb, b);
}

/* Raw reasoning and summaries alike are thinking; summary parts are
 * separated by a blank line, as in the body. */
static apr_status_t on_reasoning_delta(mstream_t *s, json_object *e)
{
    const char *d = aura_json_string(e, "delta");
    int si = ev_int(e, "summary_index");
    mblock_t *b;
    apr_status_t rv = thinking_block(s, e, &b);

    if (rv != APR_SUCCESS)
        return rv;
    if (si > b->summary) {
        b->summary = si;
        d = apr_pstrcat(s->scratch, "\n\n", d, NULL);
    }
    return block_delta(s, b, "thinking_delta", "thinking", d);
}

static apr_status_t on_args_delta(mstream_t *s, json_object *e)
{
    mblock_t *b = find(s, key_of(s, 'c', e));

    if (!b)
        return APR_SUCCESS;
    b->args = 1;
    return block_delta(s, b, "input_json_delta", "partial_json",
                       aura_json_string(e, "delta"));
}

/* Arguments that came without deltas (a provider that sends a call
 * whole) are sent in one piece. */
static apr_status_t call_done(mstream_t *s, json_object *e, json_object *item)
{
    mblock_t *b = find(s, key_of(s, 'c', e));
    const char *args = aura_json_string(item, "arguments");
    apr_status_t rv;

    if (!b)
        return APR_SUCCESS;
    if (!b->args && args && *args && strcmp(args, "{}")
        && (rv = block_delta(s, b, "input_json_delta", "partial_json",
                             args)) != APR_SUCCESS)
        return rv;
    return block_stop(s, b);
}

/* The item is whole now: its signature (or redacted data) goes out. A
 * reasoning item with neither text nor state shows nothing. */
static apr_status_t reasoning_done(mstream_t *s, json_object *e,
                                   json_object *item)
{
    const char *key = key_of(s, 'r', e);
    const char *enc = aura_json_string(item, "encrypted_content");
    const char *sig = signature_of(s->scratch, item), *text;
    mblock_t *b = find(s, key);
    json_object *cb;
    apr_status_t rv;

    if (!b && has_prefix(enc, MARK_REDACTED)) {
        cb = typed("redacted_thinking");
        AURA_ADD_NEW(cb, "data", json_object_new_string(
                         enc + strlen(MARK_REDACTED)));
        rv = block_start(s, key, cb, &b);
        return rv != APR_SUCCESS ? rv : block_stop(s, b);
    }
    if (!b) {
        text = thinking_text(s->scratch, item);
        if (!*text && !*sig)
            return APR_SUCCESS;
        if ((rv = thinking_block(s, e, &b)) != APR_SUCCESS
            || (*text && (rv = block_delta(s, b, "thinking_delta",
                                           "thinking", text))))
            return rv;
    }
    if (*sig && (rv = block_delta(s, b, "signature_delta", "signature",
                                  sig)) != APR_SUCCESS)
        return rv;
    return block_stop(s, b);
}

static apr_status_t on_item_done(mstream_t *s, json_object *e)
{
    json_object *item = aura_json_get(e, "item");
    const char *type = aura_json_string(item, "type");

    if (type && !strcmp(type, "function_call"))
        return call_done(s, e, item);
    if (type && !strcmp(type, "reasoning"))
        return reasoning_done(s, e, item);
    return APR_SUCCESS;
}

/* message_delta carries the stop reason, the final usage and `aura`
 * (an extra key: Anthropic's fields keep their meaning). */
static apr_status_t on_end(mstream_t *s, json_object *e)
{
    json_object *r = aura_json_get(e, "response"), *d, *md, *aura;
    apr_status_t rv;

    if ((rv = start(s)) != APR_SUCCESS
        || (rv = block_stop(s, s->open)) != APR_SUCCESS)
        return rv;
    s->ended = 1;
    d = json_object_new_object();
    AURA_ADD_NEW(d, "stop_reason", json_object_new_string(stop_reason(r)));
    AURA_ADD_NEW(d, "stop_sequence", NULL);
    md = typed("message_delta");
    AURA_ADD_NEW(md, "delta", d);
    AURA_ADD_NEW(md, "usage", final_usage(r));
    if ((aura = aura_json_get(r, "aura")))
        AURA_ADD_NEW(md, "aura", json_object_get(aura));
    if ((rv = frame(s, md)) != APR_SUCCESS)
        return rv;
    return frame(s, typed("message_stop"));
}

/* Anthropic's error types for a failure in a stream: overloaded and rate
 * limited are the ones clients retry differently. */
static const char *stream_error_type(json_object *err)
{
    const char *code = aura_json_string(err, "code");
    const char *type = aura_json_string(err, "type");

    if ((code && strstr(code, "overloaded"))
        || (type && strstr(type, "overloaded")))
        return "overloaded_error";
    if ((code && strstr(code, "rate_limit"))
        || (type && strstr(type, "rate_limit")))
        return "rate_limit_error";
    return "api_error";
}

/* Anthropic ends a failed stream with the error event alone. */
static apr_status_t on_error(mstream_t *s, json_object *e)
{
    json_object *err = aura_json_get(e, "error"), *out, *o;
    const char *msg = aura_json_string(err, "message");

    s->ended = 1;
    o = typed(stream_error_type(err));
    AURA_ADD_NEW(o, "message", json_object_new_string(msg ? msg
                                                  : "upstream error"));
    out = typed("error");
    AURA_ADD_NEW(out, "error", o);
    return frame(s, out);
}

typedef apr_status_t (*event_fn)(mstream_t *s, json_object *e);

static const struct {
    const char *type;
    event_fn fn;
} handlers[] = {
    { "response.created",                       on_created },
    { "response.output_item.added",             on_item_added },
    { "response.content_part.added",            on_part_added },
    { "response.output_text.delta",             on_text_delta },
    { "response.refusal.delta",                 on_text_delta },
    { "response.content_part.done",             on_part_done },
    { "response.reasoning.delta",               on_reasoning_delta },
    { "response.reasoning_summary_text.delta",  on_reasoning_delta },
    { "response.function_call_arguments.delta", on_args_delta },
    { "response.output_item.done",              on_item_done },
    { "response.completed",                     on_end },
    { "response.incomplete",                    on_end },
    { "error",                                  on_error },
    { NULL, NULL }
};

static void *messages_open(apr_pool_t *p, const aura_request_t *req,
                           aura_rb_t *rb)
{
    mstream_t *s = apr_pcalloc(p, sizeof(*s));

    (void)req;
    s->p = p;
    s->rb = rb;
    s->blocks = apr_hash_make(p);
    apr_pool_create(&s->scratch, p);
    return s;
}

/* Events without an Anthropic counterpart (in_progress, *.done of text,
 * summary parts, response.failed after the error) send nothing. */
static apr_status_t messages_event(void *state, const char *type,
                                   json_object *event, aura_frame_fn emit,
                                   void *baton)
{
    mstream_t *s = state;
    int i;

    if (s->ended)
        return APR_SUCCESS;
    apr_pool_clear(s->scratch);
    s->emit = emit;
    s->baton = baton;
    for (i = 0; handlers[i].type; i++)
        if (!strcmp(handlers[i].type, type))
            return handlers[i].fn(s, event);
    return APR_SUCCESS;
}

/* ================================================================== */
/* the body and errors                                                */

/* Call arguments as the JSON object Anthropic's `input` is (parsed as
 * deep as any JSON the gateway reads). A model that wrote something else
 * (invalid JSON, an array) gets {}: the client's tool then reports the
 * missing arguments and the model can retry. */
static json_object *call_input(const char *args)
{
    struct json_tokener *tok = args ? aura_tokener_acquire() : NULL;
    json_object *o = NULL;

    if (tok) {
        o = json_tokener_parse_ex(tok, args, (int)strlen(args));
        if (json_tokener_get_error(tok) != json_tokener_success) {
            json_object_put(o);
            o = NULL;
        }
        aura_tokener_release(tok);
    }
    if (o && json_object_is_type(o, json_type_object))
        return o;
    json_object_put(o);
    return json_object_new_object();
}

static void add_text_blocks(json_object *content, json_object *item)
{
    json_object *parts = aura_json_get(item, "content");
    size_t i, n = parts ? json_object_array_length(parts) : 0;

    for (i = 0; i < n; i++) {
        json_object *part = json_object_array_get_idx(parts, i), *b;
        const char *text = aura_json_string(part, "text");

        if (!text)
            text = aura_json_string(part, "refusal");
        if (!text || !*text)
            continue;       /* Anthropic sends no empty text blocks */
        b = typed("text");
        AURA_ADD_NEW(b, "text", json_object_new_string(text));
        json_object_array_add(content, b);
    }
}

static json_object *thinking_json(apr_pool_t *p, json_object *item)
{
    const char *enc = aura_json_string(item, "encrypted_content");
    const char *text = thinking_text(p, item), *sig = signature_of(p, item);
    json_object *b;

    if (has_prefix(enc, MARK_REDACTED)) {
        b = typed("redacted_thinking");
        AURA_ADD_NEW(b, "data", json_object_new_string(
                         enc + strlen(MARK_REDACTED)));
        return b;
    }
    if (!*text && !*sig)
        return NULL;
    b = typed("thinking");
    AURA_ADD_NEW(b, "thinking", json_object_new_string(text));
    AURA_ADD_NEW(b, "signature", json_object_new_string(sig));
    return b;
}

static json_object *content_json(apr_pool_t *p, json_object *res)
{
    json_object *out = aura_json_get(res, "output");
    json_object *content = json_object_new_array(), *b;
    size_t i, n = out ? json_object_array_length(out) : 0;

    for (i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(out, i);
        const char *type = aura_json_string(item, "type");

        if (!type)
            continue;
        if (!strcmp(type, "message")) {
            add_text_blocks(content, item);
        }
        else if (!strcmp(type, "reasoning")) {
            if ((b = thinking_json(p, item)))
                json_object_array_add(content, b);
        }
        else if (!strcmp(type, "function_call")) {
            b = typed("tool_use");
            AURA_ADD_NEW(b, "id", json_object_new_string(
                             aura_json_string(item, "call_id")));
            AURA_ADD_NEW(b, "name", json_object_new_string(
                             aura_json_string(item, "name")));
            AURA_ADD_NEW(b, "input", call_input(
                             aura_json_string(item, "arguments")));
            json_object_array_add(content, b);
        }
    }
    return content;
}

static json_object *messages_body(apr_pool_t *p, const aura_request_t *req,
                                  json_object *resource)
{
    json_object *m, *aura;

    (void)req;
    m = message_head(message_id(p, aura_json_string(resource, "id")),
                     aura_json_string(resource, "model"));
    AURA_ADD_NEW(m, "content", content_json(p, resource));
    AURA_ADD_NEW(m, "stop_reason", json_object_new_string(
                     stop_reason(resource)));
    AURA_ADD_NEW(m, "stop_sequence", NULL);
    AURA_ADD_NEW(m, "usage", final_usage(resource));
    if ((aura = aura_json_get(resource, "aura")))
        AURA_ADD_NEW(m, "aura", json_object_get(aura));
    return m;
}

/* Anthropic's error type for an HTTP status (its errors page). */
static const char *error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    }
    return status >= 500 ? "api_error" : "invalid_request_error";
}

static json_object *messages_error(const aura_error_t *e)
{
    json_object *out = typed("error");
    json_object *o = typed(error_type(e->status));

    AURA_ADD_NEW(o, "message", json_object_new_string(
                     e->message ? e->message : "error"));
    AURA_ADD_NEW(out, "error", o);
    return out;
}

/* ================================================================== */
/* the front doors                                                    */

/* The anthropic-version and anthropic-beta headers need no parsing: the
 * glue passes anthropic-beta on to an Anthropic upstream, and a missing
 * anthropic-version is not refused (the gateway speaks one version; curl
 * users forget the header). */
static aura_error_t *messages_parse(apr_pool_t *p, const char *body,
                                    apr_size_t len, apr_table_t *headers,
                                    aura_request_t **out)
{
    (void)headers;
    return aura_front_messages_parse(p, body, len, 0, out);
}

static aura_error_t *count_parse(apr_pool_t *p, const char *body,
                                 apr_size_t len, apr_table_t *headers,
                                 aura_request_t **out)
{
    (void)headers;
    return aura_front_messages_parse(p, body, len, 1, out);
}

/* No stream trailer: Anthropic's streams end with message_stop. */
const aura_front_t aura_front_messages = {
    "messages", messages_parse, messages_open, messages_event, NULL,
    messages_body, messages_error
};

/* POST .../messages/count_tokens: the same body without max_tokens. */
const aura_front_t aura_front_messages_count = {
    "messages", count_parse, messages_open, messages_event, NULL,
    messages_body, messages_error
};
