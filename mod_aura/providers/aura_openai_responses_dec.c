/*
 * aura_openai_responses_dec.c - the OpenAI Responses (and upstream Open Responses)
 * decoder.
 *
 * The upstream already speaks the item model, so this is mostly a relay:
 * upstream items are re-opened in the builder (which renumbers events and
 * output indices, so items of types the gateway does not model, e.g.
 * web_search_call, can be skipped without leaving holes) and deltas are
 * passed on. Upstream item ids and call ids are kept.
 *
 * The *.done events and output_item.done carry the final text; whatever
 * of it the deltas did not deliver (a server that sends no deltas, or
 * arguments only in the done item) is fed as one last delta. This trusts
 * the protocol's promise that the deltas are a prefix of the final text.
 */
#include <string.h>

#include "aura_decoder.h"
#include "aura_openai_responses.h"

typedef struct oresp_item {
    int up;                     /* upstream output_index */
    int idx;                    /* builder index; -1: a type not modelled */
    apr_size_t text_fed, refusal_fed, args_fed, reasoning_fed;
    apr_array_header_t *sum_fed;    /* apr_size_t per upstream summary_index */
} oresp_item;

typedef struct oresp_dec {
    aura_decoder_t d;
    apr_array_header_t *items;      /* oresp_item* */
} oresp_dec;

enum { K_TEXT, K_REFUSAL, K_ARGS, K_REASONING, K_SUMMARY };

static oresp_item *item_find(oresp_dec *o, int up)
{
    int i;
    for (i = 0; i < o->items->nelts; i++) {
        oresp_item *it = APR_ARRAY_IDX(o->items, i, oresp_item *);
        if (it->up == up)
            return it;
    }
    return NULL;
}

static apr_size_t *sum_slot(oresp_dec *o, oresp_item *it, int si)
{
    if (si < 0 || si > 4096)
        return NULL;
    while (it->sum_fed->nelts <= si)
        APR_ARRAY_PUSH(it->sum_fed, apr_size_t) = 0;
    (void)o;
    return &APR_ARRAY_IDX(it->sum_fed, si, apr_size_t);
}

static apr_size_t *fed_of(oresp_dec *o, oresp_item *it, int kind, int si)
{
    switch (kind) {
    case K_TEXT: return &it->text_fed;
    case K_REFUSAL: return &it->refusal_fed;
    case K_ARGS: return &it->args_fed;
    case K_REASONING: return &it->reasoning_fed;
    default: return sum_slot(o, it, si);
    }
}

static void delta(oresp_dec *o, oresp_item *it, int kind, int si,
                  const char *s, apr_size_t n)
{
    aura_rb_t *rb = o->d.rb;
    apr_size_t *fed = fed_of(o, it, kind, si);
    apr_status_t rv;

    if (!s || !n || it->idx < 0 || !fed)
        return;
    switch (kind) {
    case K_TEXT: rv = aura_rb_text_delta(rb, it->idx, s, n); break;
    case K_REFUSAL: rv = aura_rb_refusal_delta(rb, it->idx, s, n); break;
    case K_ARGS: rv = aura_rb_call_args_delta(rb, it->idx, s, n); break;
    case K_REASONING: rv = aura_rb_reasoning_delta(rb, it->idx, s, n); break;
    default:
        rv = aura_rb_reasoning_summary_delta(rb, it->idx, si, s, n);
        break;
    }
    *fed += n;
    aura_dec_st(&o->d, rv);
}

/* Feeds the part of a final text that the deltas have not delivered. */
static void catch_up(oresp_dec *o, oresp_item *it, int kind, int si,
                     const char *final)
{
    apr_size_t *fed = it->idx >= 0 ? fed_of(o, it, kind, si) : NULL;
    apr_size_t n = final ? strlen(final) : 0;

    if (fed && n > *fed && o->d.stream)   /* a body has no deltas */
        AURA_DEC_TRACE(&o->d, "responses: item %d: %" APR_SIZE_T_FMT
                       " bytes the deltas did not send taken from the "
                       "final text", it->up, n - *fed);
    if (fed && n > *fed)
        delta(o, it, kind, si, final + *fed, n - *fed);
}

static oresp_item *item_open(oresp_dec *o, int up, json_object *item)
{
    aura_rb_t *rb = o->d.rb;
    const char *type = aura_json_string(item, "type");
    const char *id = aura_json_string(item, "id");
    oresp_item *it = apr_pcalloc(o->d.pool, sizeof(*it));
    apr_status_t rv = APR_SUCCESS;

    it->up = up;
    it->idx = -1;
    it->sum_fed = apr_array_make(o->d.pool, 1, sizeof(apr_size_t));
    APR_ARRAY_PUSH(o->items, oresp_item *) = it;
    if (!type) {
        AURA_DEC_TRACE(&o->d, "responses: item %d without a type skipped",
                       up);
        return it;
    }
    if (!strcmp(type, "message")) {
        rv = aura_rb_open_message(rb, id, &it->idx);
    }
    else if (!strcmp(type, "function_call")) {
        rv = aura_rb_open_call(rb, id, aura_json_string(item, "call_id"),
                               aura_json_string(item, "name"), &it->idx);
    }
    else if (!strcmp(type, "reasoning")) {
        rv = aura_rb_open_reasoning(rb, id, &it->idx);
        if (aura_json_string(item, "encrypted_content"))
            aura_rb_reasoning_encrypted(rb, it->idx,
                aura_json_string(item, "encrypted_content"));
    }
    else {      /* web_search_call, file_search_call, ...: not modelled */
        AURA_DEC_TRACE(&o->d, "responses: item %d of type %s skipped", up,
                       aura_dec_str(&o->d, type));
    }
    aura_dec_st(&o->d, rv);
    return it;
}

/* The final texts of a part list of one kind, concatenated (the builder
 * keeps consecutive parts of a kind as one). */
static const char *parts_text(oresp_dec *o, json_object *parts,
                              const char *type, const char *key)
{
    const char *acc = NULL;
    size_t i, n;

    if (!json_object_is_type(parts, json_type_array))
        return NULL;
    n = json_object_array_length(parts);
    for (i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(parts, i);
        const char *t = aura_json_string(p, key);
        const char *pt = aura_json_string(p, "type");
        if (t && pt && !strcmp(pt, type))
            acc = acc ? apr_pstrcat(o->d.pool, acc, t, NULL) : t;
    }
    return acc;
}

/* output_item.done (or an item of a non-streaming body): catch up with
 * the final item, then close it. An item the upstream left incomplete
 * stays open so that finish marks it incomplete. */
static void item_done(oresp_dec *o, oresp_item *it, json_object *item)
{
    const char *type = aura_json_string(item, "type");
    const char *status = aura_json_string(item, "status");
    json_object *content = aura_json_get(item, "content");

    if (it->idx < 0 || !type)
        return;
    if (!strcmp(type, "message")) {
        catch_up(o, it, K_TEXT, 0, parts_text(o, content, "output_text",
                                              "text"));
        catch_up(o, it, K_REFUSAL, 0, parts_text(o, content, "refusal",
                                                 "refusal"));
    }
    else if (!strcmp(type, "function_call")) {
        catch_up(o, it, K_ARGS, 0, aura_json_string(item, "arguments"));
    }
    else if (!strcmp(type, "reasoning")) {
        json_object *sum = aura_json_get(item, "summary");
        size_t i, n = json_object_is_type(sum, json_type_array)
                          ? json_object_array_length(sum) : 0;
        for (i = 0; i < n; i++)
            catch_up(o, it, K_SUMMARY, (int)i, aura_json_string(
                         json_object_array_get_idx(sum, i), "text"));
        catch_up(o, it, K_REASONING, 0, parts_text(o, content,
                                                   "reasoning_text", "text"));
        if (aura_json_string(item, "encrypted_content"))
            aura_rb_reasoning_encrypted(o->d.rb, it->idx,
                aura_json_string(item, "encrypted_content"));
    }
    if (!status || strcmp(status, "incomplete"))
        aura_dec_st(&o->d, aura_rb_close(o->d.rb, it->idx));
}

static void usage(oresp_dec *o, json_object *u)
{
    aura_usage_t us = { 0, 0, 0, 0, 1 };

    if (!json_object_is_type(u, json_type_object))
        return;
    us.input = aura_dec_long(u, "input_tokens", 0);
    us.output = aura_dec_long(u, "output_tokens", 0);
    us.cached = aura_dec_long(aura_json_get(u, "input_tokens_details"),
                              "cached_tokens", 0);
    us.reasoning = aura_dec_long(aura_json_get(u, "output_tokens_details"),
                                 "reasoning_tokens", 0);
    aura_rb_usage(o->d.rb, &us);
}

/* An upstream error object: its own code when it has one. */
static void fail_with(oresp_dec *o, json_object *err)
{
    const char *code = aura_json_string(err, "code");
    aura_dec_fail_upstream(&o->d, code && *code ? code : "upstream_error",
                           err);
}

/* The final upstream resource (response.completed / .incomplete /
 * .failed, or the non-streaming body). */
static void resource_end(oresp_dec *o, json_object *res)
{
    const char *status = aura_json_string(res, "status");
    json_object *err = aura_json_get(res, "error");

    usage(o, aura_json_get(res, "usage"));
    if ((status && !strcmp(status, "failed")) || err) {
        fail_with(o, err);
    }
    else if (status && !strcmp(status, "incomplete")) {
        const char *why = aura_json_string(aura_json_get(res,
                              "incomplete_details"), "reason");
        aura_dec_st(&o->d, aura_rb_finish(o->d.rb, "incomplete", why));
    }
    else {
        if (!status || strcmp(status, "completed"))
            AURA_DEC_TRACE(&o->d, "responses: status %s read as completed",
                           aura_dec_str(&o->d, status));
        aura_dec_st(&o->d, aura_rb_finish(o->d.rb, "completed", NULL));
    }
}

/* The item an event is about; one never announced by output_item.added
 * (a lax server) is opened from what the event says. */
static oresp_item *event_item(oresp_dec *o, json_object *ev, const char *as)
{
    int up = (int)aura_dec_long(ev, "output_index", -1);
    oresp_item *it = item_find(o, up);
    json_object *fake;

    if (it || up < 0)
        return it;
    AURA_DEC_TRACE(&o->d, "responses: item %d never announced: opened as "
                   "%s", up, aura_dec_str(&o->d, as));
    fake = json_object_new_object();
    json_object_object_add(fake, "type", json_object_new_string(as));
    json_object_object_add(fake, "id", json_object_get(
                               aura_json_get(ev, "item_id")));
    it = item_open(o, up, fake);
    json_object_put(fake);
    return it;
}

typedef struct ev_map {
    const char *type;
    const char *item_type;      /* for event_item */
    int kind;                   /* K_* */
    int done;                   /* 0: "delta"; 1: the *.done final text */
    const char *key;
} ev_map;

static const ev_map content_events[] = {
    { "response.output_text.delta", "message", K_TEXT, 0, "delta" },
    { "response.output_text.done", "message", K_TEXT, 1, "text" },
    { "response.refusal.delta", "message", K_REFUSAL, 0, "delta" },
    { "response.refusal.done", "message", K_REFUSAL, 1, "refusal" },
    { "response.function_call_arguments.delta", "function_call", K_ARGS, 0,
      "delta" },
    { "response.function_call_arguments.done", "function_call", K_ARGS, 1,
      "arguments" },
    { "response.reasoning_summary_text.delta", "reasoning", K_SUMMARY, 0,
      "delta" },
    { "response.reasoning_summary_text.done", "reasoning", K_SUMMARY, 1,
      "text" },
    { "response.reasoning_text.delta", "reasoning", K_REASONING, 0, "delta" },
    { "response.reasoning_text.done", "reasoning", K_REASONING, 1, "text" },
    { "response.reasoning.delta", "reasoning", K_REASONING, 0, "delta" },
    { "response.reasoning.done", "reasoning", K_REASONING, 1, "text" },
    { NULL, NULL, 0, 0, NULL }
};

static void content_event(oresp_dec *o, const ev_map *m, json_object *ev)
{
    oresp_item *it = event_item(o, ev, m->item_type);
    int si = (int)aura_dec_long(ev, "summary_index", 0);
    const char *s = aura_json_string(ev, m->key);

    if (!it || !s) {
        AURA_DEC_TRACE(&o->d, "responses: %s without output_index or %s "
                       "ignored", m->type, m->key);
        return;
    }
    if (m->done)
        catch_up(o, it, m->kind, si, s);
    else
        delta(o, it, m->kind, si, s, strlen(s));
}

/* Events with nothing to do that are no news in a trace: the gateway
 * sends its own lifecycle events, and the builder its own part events. */
static int quiet_event(const char *type)
{
    static const char *const quiet[] = {
        "response.created", "response.in_progress", "response.queued",
        "response.content_part.added", "response.content_part.done",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
        "response.output_text.annotation.added", NULL
    };
    int i;

    for (i = 0; quiet[i]; i++)
        if (!strcmp(type, quiet[i]))
            return 1;
    return 0;
}

static void oresp_dispatch(oresp_dec *o, const char *type, json_object *ev)
{
    const ev_map *m;
    oresp_item *it;

    for (m = content_events; m->type; m++) {
        if (!strcmp(type, m->type)) {
            content_event(o, m, ev);
            return;
        }
    }
    if (!strcmp(type, "response.output_item.added")) {
        int up = (int)aura_dec_long(ev, "output_index", -1);
        if (!item_find(o, up))
            item_open(o, up, aura_json_get(ev, "item"));
    }
    else if (!strcmp(type, "response.output_item.done")) {
        json_object *item = aura_json_get(ev, "item");
        if ((it = event_item(o, ev, aura_json_string(item, "type") ?
                             aura_json_string(item, "type") : "")))
            item_done(o, it, item);
    }
    else if (!strcmp(type, "response.completed")
             || !strcmp(type, "response.incomplete")
             || !strcmp(type, "response.failed")) {
        resource_end(o, aura_json_get(ev, "response"));
        if (!aura_rb_ended(o->d.rb))    /* "failed" without an error */
            aura_dec_fail(&o->d, "upstream_error", "upstream response failed");
    }
    else if (!strcmp(type, "error")) {
        /* OpenAI sends the error flat; Open Responses nests it */
        json_object *err = aura_json_get(ev, "error");
        fail_with(o, err ? err : ev);
    }
    else if (aura_log_is_level(o->d.log, AURA_LOG_TRACE1)
             && !quiet_event(type)) {
        AURA_DEC_TRACE(&o->d, "responses: event %s ignored",
                       aura_dec_str(&o->d, type));
    }
}

static apr_status_t oresp_event(aura_decoder_t *d, const char *event,
                                const char *data, apr_size_t len)
{
    oresp_dec *o = (oresp_dec *)d;
    json_object *ev;
    const char *type;

    if (len == 6 && !memcmp(data, "[DONE]", 6))
        return d->rv;               /* only a terminal event ends it */
    if (!(ev = aura_dec_parse(d, data, len)))
        return d->rv;
    type = aura_json_string(ev, "type");
    if (!type)
        type = event ? event : "";
    oresp_dispatch(o, type, ev);
    json_object_put(ev);
    return d->rv;
}

static apr_status_t oresp_eof(aura_decoder_t *d)
{
    return aura_dec_fail(d, "upstream_stream_truncated",
                         "upstream stream ended without a terminal event");
}

static apr_status_t oresp_body(aura_decoder_t *d, json_object *doc)
{
    oresp_dec *o = (oresp_dec *)d;
    json_object *out = aura_json_get(doc, "output");
    size_t i, n;

    if (!json_object_is_type(out, json_type_array)) {
        if (aura_json_get(doc, "error"))
            fail_with(o, aura_json_get(doc, "error"));
        else
            aura_dec_fail(d, "upstream_bad_response",
                          "upstream body has no output");
        return d->rv;
    }
    n = json_object_array_length(out);
    for (i = 0; i < n && !aura_rb_ended(d->rb); i++) {
        json_object *item = json_object_array_get_idx(out, i);
        item_done(o, item_open(o, (int)i, item), item);
    }
    resource_end(o, doc);
    return d->rv;
}

aura_decoder_t *aura_oresp_decoder(apr_pool_t *p, aura_rb_t *rb, int stream)
{
    oresp_dec *o = apr_pcalloc(p, sizeof(*o));

    aura_dec_init(&o->d, p, rb, stream);
    o->d.on_event = oresp_event;
    o->d.on_eof = oresp_eof;
    o->d.on_body = oresp_body;
    o->items = apr_array_make(p, 4, sizeof(oresp_item *));
    return &o->d;
}
