/*
 * aura_front_chat_out.c - the OpenAI Chat Completions front door, out,
 * and its aura_front_chat table; the request side is aura_front_chat_in.c.
 *
 * Out: builder events become chat.completion.chunk deltas, the final
 * resource a chat.completion; both carry the `aura` extension object and
 * usage.cost_usd (docs/api.md). Extensions and choices:
 *   - reasoning (raw text and summaries) → message.reasoning_content /
 *     delta.reasoning_content, the field DeepSeek, vLLM and OpenRouter
 *     use; pieces are joined with a blank line. Absent when there is none.
 *   - the finish chunk carries `aura` as an extra top-level key; the
 *     usage chunk (choices []) follows only with include_usage, and then
 *     every other chunk has "usage": null, as OpenAI sends them.
 *   - a failed stream ends with OpenAI's mid-stream error chunk
 *     {"error":{message,type,param,code}} (plus `aura`), no finish chunk.
 *   - finish_reason: length for an incomplete answer (content_filter when
 *     that was the reason), tool_calls when any call was made, else stop.
 */
#include <string.h>

#include "aura_front_chat.h"

/* ================================================================== */
/* out: shared by the stream and the body                             */

/* chatcmpl-<the response id's random part> */
static const char *chat_id(apr_pool_t *p, json_object *res)
{
    const char *id = aura_json_string(res, "id");

    if (!id)
        return aura_make_id(p, "chatcmpl-");
    return apr_pstrcat(p, "chatcmpl-", strncmp(id, "resp_", 5) ? id : id + 5,
                       NULL);
}

static int has_call(json_object *res)
{
    json_object *output = aura_json_get(res, "output");
    size_t i, n = output ? json_object_array_length(output) : 0;

    for (i = 0; i < n; i++) {
        const char *t = aura_json_string(json_object_array_get_idx(output, i),
                                         "type");
        if (t && !strcmp(t, "function_call"))
            return 1;
    }
    return 0;
}

static const char *finish_reason(json_object *res)
{
    const char *status = aura_json_string(res, "status");
    const char *why = aura_json_string(aura_json_get(res,
                                       "incomplete_details"), "reason");

    if (status && !strcmp(status, "incomplete"))
        return why && !strcmp(why, "content_filter") ? "content_filter"
                                                     : "length";
    return has_call(res) ? "tool_calls" : "stop";
}

static json_object *num(json_object *o, const char *key)
{
    json_object *v = aura_json_get(o, key);
    return v ? json_object_get(v) : json_object_new_int(0);
}

/* Responses usage → Chat usage, cost_usd kept (null when absent). */
static json_object *chat_usage(json_object *res)
{
    json_object *u = aura_json_get(res, "usage"), *o, *d;

    if (!u)
        return NULL;
    o = json_object_new_object();
    AURA_ADD_NEW(o, "prompt_tokens", num(u, "input_tokens"));
    AURA_ADD_NEW(o, "completion_tokens", num(u, "output_tokens"));
    AURA_ADD_NEW(o, "total_tokens", num(u, "total_tokens"));
    d = json_object_new_object();
    AURA_ADD_NEW(d, "cached_tokens",
                 num(aura_json_get(u, "input_tokens_details"),
                     "cached_tokens"));
    AURA_ADD_NEW(o, "prompt_tokens_details", d);
    d = json_object_new_object();
    AURA_ADD_NEW(d, "reasoning_tokens",
                 num(aura_json_get(u, "output_tokens_details"),
                     "reasoning_tokens"));
    AURA_ADD_NEW(o, "completion_tokens_details", d);
    aura_fc_put(o, "cost_usd", aura_json_get(u, "cost_usd"));
    return o;
}

/* ================================================================== */
/* out: streaming                                                     */

typedef struct chat_stream {
    apr_pool_t *p;
    apr_pool_t *scratch;        /* cleared per event: a long stream does not
                                   grow the request pool */
    int include_usage;
    json_object *id, *model;    /* shared by every chunk */
    long created;
    int role_sent;
    int ncalls;
    apr_array_header_t *call_of;/* output_index -> tool call index, -1 */
    int reasoning_seen, last_item, last_summary;
    json_object *error;         /* the `error` event, sent with the end */
} chat_stream_t;

static void *chat_open(apr_pool_t *p, const aura_request_t *req,
                       aura_rb_t *rb)
{
    chat_stream_t *s = apr_pcalloc(p, sizeof(*s));
    json_object *res = aura_rb_resource(rb);
    json_object *created = aura_json_get(res, "created_at");

    s->p = p;
    apr_pool_create(&s->scratch, p);
    s->include_usage = req->include_usage;
    s->id = aura_json_pool(p, json_object_new_string(chat_id(p, res)));
    s->model = aura_json_pool(p, json_object_new_string(
        aura_json_string(res, "model") ? aura_json_string(res, "model") : ""));
    s->created = created ? (long)json_object_get_int64(created)
                         : (long)apr_time_sec(apr_time_now());
    s->call_of = apr_array_make(p, 4, sizeof(int));
    return s;
}

/* The chunk head; `choices` is added by the caller. */
static json_object *chunk_head(chat_stream_t *s)
{
    json_object *c = json_object_new_object();

    AURA_ADD_NEW(c, "id", json_object_get(s->id));
    AURA_ADD_NEW(c, "object", json_object_new_string("chat.completion.chunk"));
    AURA_ADD_NEW(c, "created", json_object_new_int64(s->created));
    AURA_ADD_NEW(c, "model", json_object_get(s->model));
    AURA_ADD_NEW(c, "system_fingerprint", NULL);
    return c;
}

static json_object *chunk(chat_stream_t *s, json_object *delta,
                          const char *finish)
{
    json_object *c = chunk_head(s), *choices = json_object_new_array();
    json_object *ch = json_object_new_object();

    AURA_ADD_NEW(ch, "index", json_object_new_int(0));
    AURA_ADD_NEW(ch, "delta", delta);
    AURA_ADD_NEW(ch, "logprobs", NULL);
    AURA_ADD_NEW(ch, "finish_reason",
                 finish ? json_object_new_string(finish) : NULL);
    json_object_array_add(choices, ch);
    AURA_ADD_NEW(c, "choices", choices);
    /* OpenAI puts "usage": null on every chunk but the last when asked. */
    if (s->include_usage)
        AURA_ADD_NEW(c, "usage", NULL);
    return c;
}

/* "data: <json>\n\n" built in one pass and handed on as one piece; the
 * chunk is released. */
static apr_status_t send_chunk(chat_stream_t *s, json_object *c,
                               aura_frame_fn emit, void *baton)
{
    apr_size_t n;
    const char *frame = aura_json_frame(s->scratch, "data: ", c, "\n\n", &n);

    json_object_put(c);
    return emit(baton, frame, n);
}

static apr_status_t send_role(chat_stream_t *s, aura_frame_fn emit,
                              void *baton)
{
    json_object *d = json_object_new_object();

    s->role_sent = 1;
    AURA_ADD_NEW(d, "role", json_object_new_string("assistant"));
    AURA_ADD_NEW(d, "content", json_object_new_string(""));
    AURA_ADD_NEW(d, "refusal", NULL);
    return send_chunk(s, chunk(s, d, NULL), emit, baton);
}

/* A delta chunk; the role chunk first if the stream has none yet. */
static apr_status_t send_delta(chat_stream_t *s, json_object *delta,
                               aura_frame_fn emit, void *baton)
{
    apr_status_t rv = s->role_sent ? APR_SUCCESS : send_role(s, emit, baton);

    if (rv != APR_SUCCESS) {
        json_object_put(delta);
        return rv;
    }
    return send_chunk(s, chunk(s, delta, NULL), emit, baton);
}

static apr_status_t send_str(chat_stream_t *s, const char *key,
                             json_object *v, aura_frame_fn emit, void *baton)
{
    json_object *d = json_object_new_object();

    json_object_object_add(d, key, json_object_get(v));
    return send_delta(s, d, emit, baton);
}

typedef apr_status_t (*ev_fn)(chat_stream_t *s, json_object *ev,
                              aura_frame_fn emit, void *baton);

static apr_status_t on_created(chat_stream_t *s, json_object *ev,
                               aura_frame_fn emit, void *baton)
{
    (void)ev;
    return s->role_sent ? APR_SUCCESS : send_role(s, emit, baton);
}

static int call_index(chat_stream_t *s, json_object *ev)
{
    json_object *oi = aura_json_get(ev, "output_index");
    int i = oi ? json_object_get_int(oi) : -1;

    return i >= 0 && i < s->call_of->nelts
        ? APR_ARRAY_IDX(s->call_of, i, int) : -1;
}

/* {"tool_calls":[{"index", "id"?, "type"?, "function"}]}: id and type
 * only on a call's first chunk, as OpenAI sends them. */
static json_object *call_delta(int index, json_object *call_id,
                               json_object *fn)
{
    json_object *d = json_object_new_object();
    json_object *calls = json_object_new_array();
    json_object *tc = json_object_new_object();

    AURA_ADD_NEW(tc, "index", json_object_new_int(index));
    if (call_id) {
        aura_fc_put(tc, "id", call_id);
        AURA_ADD_NEW(tc, "type", json_object_new_string("function"));
    }
    AURA_ADD_NEW(tc, "function", fn);
    json_object_array_add(calls, tc);
    AURA_ADD_NEW(d, "tool_calls", calls);
    return d;
}

/* Function calls are numbered among calls only (index 0, 1, ...). */
static apr_status_t on_item_added(chat_stream_t *s, json_object *ev,
                                  aura_frame_fn emit, void *baton)
{
    json_object *item = aura_json_get(ev, "item"), *fn;
    const char *type = aura_json_string(item, "type");
    int *slot = apr_array_push(s->call_of);

    *slot = -1;
    if (!type || strcmp(type, "function_call"))
        return APR_SUCCESS;
    *slot = s->ncalls++;
    fn = json_object_new_object();
    aura_fc_put(fn, "name", aura_json_get(item, "name"));
    AURA_ADD_NEW(fn, "arguments", json_object_new_string(""));
    return send_delta(s, call_delta(*slot, aura_json_get(item, "call_id"), fn),
                      emit, baton);
}

static apr_status_t on_args(chat_stream_t *s, json_object *ev,
                            aura_frame_fn emit, void *baton)
{
    int i = call_index(s, ev);
    json_object *fn;

    if (i < 0)
        return APR_SUCCESS;
    fn = json_object_new_object();
    aura_fc_put(fn, "arguments", aura_json_get(ev, "delta"));
    return send_delta(s, call_delta(i, NULL, fn), emit, baton);
}

static apr_status_t on_text(chat_stream_t *s, json_object *ev,
                            aura_frame_fn emit, void *baton)
{
    return send_str(s, "content", aura_json_get(ev, "delta"), emit, baton);
}

static apr_status_t on_refusal(chat_stream_t *s, json_object *ev,
                               aura_frame_fn emit, void *baton)
{
    return send_str(s, "refusal", aura_json_get(ev, "delta"), emit, baton);
}

/* Reasoning text and summaries both go to delta.reasoning_content;
 * separate pieces (items, summary parts) are joined with a blank line, as
 * in the body. */
static apr_status_t send_reasoning(chat_stream_t *s, json_object *ev,
                                   int summary, aura_frame_fn emit,
                                   void *baton)
{
    json_object *oi = aura_json_get(ev, "output_index");
    int item = oi ? json_object_get_int(oi) : 0;
    const char *delta = aura_json_string(ev, "delta");
    json_object *d;

    if (!delta || !*delta)
        return APR_SUCCESS;
    if (s->reasoning_seen && (item != s->last_item
                              || summary != s->last_summary))
        delta = apr_pstrcat(s->scratch, "\n\n", delta, NULL);
    s->reasoning_seen = 1;
    s->last_item = item;
    s->last_summary = summary;
    d = json_object_new_object();
    AURA_ADD_NEW(d, "reasoning_content", json_object_new_string(delta));
    return send_delta(s, d, emit, baton);
}

static apr_status_t on_reasoning(chat_stream_t *s, json_object *ev,
                                 aura_frame_fn emit, void *baton)
{
    return send_reasoning(s, ev, -1, emit, baton);
}

static apr_status_t on_summary(chat_stream_t *s, json_object *ev,
                               aura_frame_fn emit, void *baton)
{
    json_object *si = aura_json_get(ev, "summary_index");
    return send_reasoning(s, ev, si ? json_object_get_int(si) : 0, emit,
                          baton);
}

/* The finish chunk with `aura`, then the usage chunk when asked for. */
static apr_status_t on_end(chat_stream_t *s, json_object *ev,
                           aura_frame_fn emit, void *baton)
{
    json_object *res = aura_json_get(ev, "response"), *c;
    apr_status_t rv = s->role_sent ? APR_SUCCESS : send_role(s, emit, baton);

    if (rv != APR_SUCCESS)
        return rv;
    c = chunk(s, json_object_new_object(), finish_reason(res));
    aura_fc_put(c, "aura", aura_json_get(res, "aura"));
    if ((rv = send_chunk(s, c, emit, baton)) != APR_SUCCESS
        || !s->include_usage)
        return rv;
    c = chunk_head(s);
    AURA_ADD_NEW(c, "choices", json_object_new_array());
    AURA_ADD_NEW(c, "usage", chat_usage(res));
    return send_chunk(s, c, emit, baton);
}

/* Held until response.failed, which follows at once: that is when the
 * `aura` object exists. */
static apr_status_t on_error(chat_stream_t *s, json_object *ev,
                             aura_frame_fn emit, void *baton)
{
    (void)emit; (void)baton;
    if (!s->error)
        s->error = aura_json_pool(s->p, json_object_get(
                                      aura_json_get(ev, "error")));
    return APR_SUCCESS;
}

/* OpenAI's mid-stream error: data: {"error":{message,type,param,code}},
 * plus `aura`. */
static apr_status_t on_failed(chat_stream_t *s, json_object *ev,
                              aura_frame_fn emit, void *baton)
{
    json_object *res = aura_json_get(ev, "response");
    json_object *src = s->error ? s->error : aura_json_get(res, "error");
    json_object *c = json_object_new_object(), *e = json_object_new_object();
    const char *type = aura_json_string(src, "type");

    AURA_ADD_NEW(e, "message", json_object_new_string(
        aura_json_string(src, "message") ? aura_json_string(src, "message")
                                         : "The response failed."));
    AURA_ADD_NEW(e, "type", json_object_new_string(type ? type
                                                        : "server_error"));
    aura_fc_put(e, "param", aura_json_get(src, "param"));
    aura_fc_put(e, "code", aura_json_get(src, "code"));
    AURA_ADD_NEW(c, "error", e);
    aura_fc_put(c, "aura", aura_json_get(res, "aura"));
    return send_chunk(s, c, emit, baton);
}

static const struct {
    const char *type;
    ev_fn fn;
} events[] = {
    { "response.created", on_created },
    { "response.output_item.added", on_item_added },
    { "response.output_text.delta", on_text },
    { "response.refusal.delta", on_refusal },
    { "response.reasoning.delta", on_reasoning },
    { "response.reasoning_summary_text.delta", on_summary },
    { "response.function_call_arguments.delta", on_args },
    { "response.completed", on_end },
    { "response.incomplete", on_end },
    { "error", on_error },
    { "response.failed", on_failed },
    { NULL, NULL }
};

static apr_status_t chat_event(void *state, const char *type,
                               json_object *ev, aura_frame_fn emit,
                               void *baton)
{
    chat_stream_t *s = state;
    int i;

    for (i = 0; events[i].type; i++)
        if (!strcmp(events[i].type, type)) {
            apr_pool_clear(s->scratch);
            return events[i].fn(s, ev, emit, baton);
        }
    return APR_SUCCESS;             /* the rest has no chat counterpart */
}

/* ================================================================== */
/* out: the chat.completion body                                      */

/* Text pieces joined (with a separator), NUL bytes kept. */
typedef struct joiner {
    apr_pool_t *p;
    apr_array_header_t *parts;  /* json_object* strings */
    const char *sep;
} joiner_t;

static void join_add(joiner_t *j, json_object *s)
{
    if (s && json_object_is_type(s, json_type_string))
        APR_ARRAY_PUSH(j->parts, json_object *) = s;
}

static json_object *join_done(joiner_t *j)
{
    apr_size_t n = 0, k = strlen(j->sep);
    char *buf, *w;
    int i;

    if (j->parts->nelts == 0)
        return NULL;
    for (i = 0; i < j->parts->nelts; i++)
        n += (apr_size_t)json_object_get_string_len(
                 APR_ARRAY_IDX(j->parts, i, json_object *)) + (i ? k : 0);
    w = buf = apr_palloc(j->p, n + 1);
    for (i = 0; i < j->parts->nelts; i++) {
        json_object *s = APR_ARRAY_IDX(j->parts, i, json_object *);
        apr_size_t len = (apr_size_t)json_object_get_string_len(s);

        if (i) {
            memcpy(w, j->sep, k);
            w += k;
        }
        memcpy(w, json_object_get_string(s), len);
        w += len;
    }
    return json_object_new_string_len(buf, (int)n);
}

static void joiner_init(joiner_t *j, apr_pool_t *p, const char *sep)
{
    j->p = p;
    j->parts = apr_array_make(p, 4, sizeof(json_object *));
    j->sep = sep;
}

static json_object *tool_call(json_object *item)
{
    json_object *tc = json_object_new_object(), *fn = json_object_new_object();

    aura_fc_put(tc, "id", aura_json_get(item, "call_id"));
    AURA_ADD_NEW(tc, "type", json_object_new_string("function"));
    aura_fc_put(fn, "name", aura_json_get(item, "name"));
    aura_fc_put(fn, "arguments", aura_json_get(item, "arguments"));
    AURA_ADD_NEW(tc, "function", fn);
    return tc;
}

/* Parts of kind `type` (and their `key`) from an item's array `arr`. */
static void collect(joiner_t *j, json_object *item, const char *arr,
                    const char *type, const char *key)
{
    json_object *a = aura_json_get(item, arr);
    size_t i, n = a ? json_object_array_length(a) : 0;

    for (i = 0; i < n; i++) {
        json_object *part = json_object_array_get_idx(a, i);
        const char *t = aura_json_string(part, "type");

        if (t && !strcmp(t, type))
            join_add(j, aura_json_get(part, key));
    }
}

static json_object *message_of(apr_pool_t *p, json_object *res)
{
    json_object *output = aura_json_get(res, "output");
    json_object *m = json_object_new_object(), *calls = NULL, *v;
    size_t i, n = output ? json_object_array_length(output) : 0;
    joiner_t text, refusal, reasoning;

    joiner_init(&text, p, "");
    joiner_init(&refusal, p, "");
    joiner_init(&reasoning, p, "\n\n");
    for (i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(output, i);
        const char *t = aura_json_string(item, "type");

        if (!t)
            continue;
        if (!strcmp(t, "message")) {
            collect(&text, item, "content", "output_text", "text");
            collect(&refusal, item, "content", "refusal", "refusal");
        }
        else if (!strcmp(t, "reasoning")) {
            collect(&reasoning, item, "content", "reasoning_text", "text");
            collect(&reasoning, item, "summary", "summary_text", "text");
        }
        else if (!strcmp(t, "function_call")) {
            if (!calls)
                calls = json_object_new_array();
            json_object_array_add(calls, tool_call(item));
        }
    }
    AURA_ADD_NEW(m, "role", json_object_new_string("assistant"));
    AURA_ADD_NEW(m, "content", join_done(&text));
    AURA_ADD_NEW(m, "refusal", join_done(&refusal));
    if (calls)
        AURA_ADD_NEW(m, "tool_calls", calls);
    if ((v = join_done(&reasoning)))
        AURA_ADD_NEW(m, "reasoning_content", v);
    return m;
}

static json_object *chat_body(apr_pool_t *p, const aura_request_t *req,
                              json_object *res)
{
    json_object *doc = json_object_new_object();
    json_object *choices = json_object_new_array();
    json_object *ch = json_object_new_object();
    json_object *created = aura_json_get(res, "created_at");
    (void)req;

    AURA_ADD_NEW(doc, "id", json_object_new_string(chat_id(p, res)));
    AURA_ADD_NEW(doc, "object", json_object_new_string("chat.completion"));
    AURA_ADD_NEW(doc, "created", created ? json_object_get(created)
                 : json_object_new_int64(apr_time_sec(apr_time_now())));
    aura_fc_put(doc, "model", aura_json_get(res, "model"));
    AURA_ADD_NEW(ch, "index", json_object_new_int(0));
    AURA_ADD_NEW(ch, "message", message_of(p, res));
    AURA_ADD_NEW(ch, "logprobs", NULL);
    AURA_ADD_NEW(ch, "finish_reason",
                 json_object_new_string(finish_reason(res)));
    json_object_array_add(choices, ch);
    AURA_ADD_NEW(doc, "choices", choices);
    AURA_ADD_NEW(doc, "usage", chat_usage(res));
    if (aura_json_string(res, "service_tier"))
        aura_fc_put(doc, "service_tier", aura_json_get(res, "service_tier"));
    AURA_ADD_NEW(doc, "system_fingerprint", NULL);
    aura_fc_put(doc, "aura", aura_json_get(res, "aura"));
    return doc;
}

const aura_front_t aura_front_chat = {
    "chat", aura_fc_parse, chat_open, chat_event, "data: [DONE]\n\n",
    chat_body, aura_error_json
};
