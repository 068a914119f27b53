/*
 * aura_stream.c - the response builder (see aura_stream.h).
 *
 * One live ResponseResource is kept from the start; items are appended to
 * its `output` when opened and filled in when closed. Streaming events are
 * built with json-c on the spot and handed to the sink; nothing is deep
 * copied (the in-progress snapshot shared by response.created and
 * response.in_progress shares the resource's values). Text accumulates in
 * heap buffers that double, so a long answer costs O(n) copies, not
 * O(n^2), and the total is capped (AURA_RB_MAX_CONTENT).
 */
#include <stdlib.h>
#include <string.h>
#include <apr_time.h>

#include "aura_buf.h"
#include "aura_stream.h"
#include "aura_stream_int.h"

/* ---- text buffers ---------------------------------------------------- */

/* Heap storage (freed with the pool): text grows by doubling in place,
 * so a long answer costs O(n) copies and no abandoned pool blocks. */
static aura_buf_t *buf_make(apr_pool_t *p)
{
    aura_buf_t *b = apr_palloc(p, sizeof(*b));
    aura_buf_init_heap(b, p);
    return b;
}

static json_object *buf_json(const aura_buf_t *b)
{
    return json_object_new_string_len(b->len ? b->s : "", (int)b->len);
}

/* ---- state ----------------------------------------------------------- */

enum { IT_MSG, IT_CALL, IT_REASON };
enum { PT_TEXT, PT_REFUSAL, PT_REASONING };

typedef struct rb_part {
    int kind;                   /* PT_* */
    int done;                   /* its *.done events were emitted */
    aura_buf_t *text;
} rb_part;

typedef struct rb_summary {
    int src;                    /* the decoder's summary_index */
    int done;
    aura_buf_t *text;
} rb_summary;

typedef struct rb_item {
    int type;                   /* IT_* */
    int idx;                    /* output_index */
    int closed;
    int stale;                  /* closed, then changed: refresh before use */
    const char *id;
    json_object *jid;           /* shared by every event of the item */
    json_object *obj;           /* the item inside resource.output */
    const char *call_id, *name;
    aura_buf_t *args;
    apr_array_header_t *parts;     /* rb_part* (message and reasoning) */
    apr_array_header_t *summaries; /* rb_summary* (reasoning) */
    const char *encrypted;
} rb_item;

struct aura_rb {
    apr_pool_t *pool;
    const aura_request_t *req;
    json_object *res;           /* the live resource (pool-bound) */
    json_object *output;        /* res.output */
    apr_array_header_t *items;  /* rb_item* by output_index */
    aura_event_fn sink;
    void *sink_baton;
    aura_finalize_fn fin;
    void *fin_baton;
    apr_status_t sink_rv;       /* first sink failure; sticky */
    long seq;
    apr_size_t content;         /* bytes of content accumulated */
    apr_size_t max_content;     /* 0: AURA_RB_MAX_CONTENT */
    int started, ended, failed;
    aura_usage_t usage;
    long cache_write;           /* part of usage.input */
    const char *secret;         /* scrubbed from failure messages */
};

/* ---- events ---------------------------------------------------------- */

/* Only called when the sink is live: the number is taken here so that it
 * comes right after "type", as OpenAI orders its events. */
static json_object *ev_new(aura_rb_t *rb, const char *type)
{
    json_object *e = json_object_new_object();
    AURA_ADD_NEW(e, "type", json_object_new_string(type));
    AURA_ADD_NEW(e, "sequence_number",
                           json_object_new_int64(rb->seq++));
    return e;
}

/* Numbers the event, hands it to the sink and drops it. Once the sink has
 * failed (client gone) nothing more is sent; the builder still keeps the
 * resource whole, for metering. */
static apr_status_t emit(aura_rb_t *rb, json_object *e)
{
    json_object *t = NULL;

    if (rb->sink_rv == APR_SUCCESS) {
        json_object_object_get_ex(e, "type", &t);
        rb->sink_rv = rb->sink(rb->sink_baton, json_object_get_string(t), e);
    }
    json_object_put(e);
    return rb->sink_rv;
}

static int live(const aura_rb_t *rb)
{
    return rb->sink && rb->sink_rv == APR_SUCCESS;
}

/* {"type", "item_id", "output_index"} common head of item events. */
static json_object *ev_item(aura_rb_t *rb, const char *type, rb_item *it)
{
    json_object *e = ev_new(rb, type);
    AURA_ADD_NEW(e, "item_id", json_object_get(it->jid));
    AURA_ADD_NEW(e, "output_index", json_object_new_int(it->idx));
    return e;
}

static json_object *part_json(int kind, json_object *text)
{
    json_object *p = json_object_new_object();
    switch (kind) {
    case PT_TEXT:
        AURA_ADD_NEW(p, "type", json_object_new_string("output_text"));
        AURA_ADD_NEW(p, "text", text);
        AURA_ADD_NEW(p, "annotations", json_object_new_array());
        break;
    case PT_REFUSAL:
        AURA_ADD_NEW(p, "type", json_object_new_string("refusal"));
        AURA_ADD_NEW(p, "refusal", text);
        break;
    default:
        AURA_ADD_NEW(p, "type",
                               json_object_new_string("reasoning_text"));
        AURA_ADD_NEW(p, "text", text);
        break;
    }
    return p;
}

static json_object *summary_json(json_object *text)
{
    json_object *p = json_object_new_object();
    AURA_SET(p, "type", json_object_new_string("summary_text"));
    AURA_SET(p, "text", text);
    return p;
}

aura_rb_t *aura_rb_create(apr_pool_t *p, const aura_request_t *req,
                          const char *response_id, const char *model)
{
    aura_rb_t *rb = apr_pcalloc(p, sizeof(*rb));

    rb->pool = p;
    rb->req = req;
    rb->res = aura_json_pool(p, aura_rb_resource_new(req, response_id ? response_id
                                    : aura_make_id(p, "resp_"), model));
    json_object_object_get_ex(rb->res, "output", &rb->output);
    rb->items = apr_array_make(p, 4, sizeof(rb_item *));
    return rb;
}

void aura_rb_set_sink(aura_rb_t *rb, aura_event_fn fn, void *baton)
{
    rb->sink = fn;
    rb->sink_baton = baton;
}

void aura_rb_set_finalize(aura_rb_t *rb, aura_finalize_fn fn, void *baton)
{
    rb->fin = fn;
    rb->fin_baton = baton;
}

void aura_rb_set_max_content(aura_rb_t *rb, apr_size_t max)
{
    rb->max_content = max;
}

apr_size_t aura_rb_max_content(const aura_rb_t *rb)
{
    return rb->max_content ? rb->max_content : AURA_RB_MAX_CONTENT;
}

/* The resource as it is now, for response.created / in_progress. The
 * live resource changes as the response goes on, but only by replacing
 * its top-level values (status, usage, error, ...) or by growing
 * `output`; so a new top-level object sharing the current values, with
 * its own empty `output`, stays as it was without deep-copying the
 * echoed request (tools and their schemas can be large). */
static json_object *snapshot(aura_rb_t *rb)
{
    json_object *snap = json_object_new_object();

    json_object_object_foreach(rb->res, k, v) {
        json_object_object_add(snap, k, v == rb->output
                                            ? json_object_new_array()
                                            : json_object_get(v));
    }
    return snap;
}

/* response.created and response.in_progress share one snapshot. */
apr_status_t aura_rb_start(aura_rb_t *rb)
{
    json_object *snap, *e;
    apr_status_t rv;

    if (rb->started)
        return rb->sink_rv;
    rb->started = 1;
    if (!live(rb))
        return rb->sink_rv;
    snap = snapshot(rb);
    e = ev_new(rb, "response.created");
    AURA_SET(e, "response", json_object_get(snap));
    if ((rv = emit(rb, e)) == APR_SUCCESS) {
        e = ev_new(rb, "response.in_progress");
        AURA_SET(e, "response", json_object_get(snap));
        rv = emit(rb, e);
    }
    json_object_put(snap);
    return rv;
}

/* ---- items ------------------------------------------------------------ */

static rb_item *item_get(aura_rb_t *rb, int idx)
{
    if (idx < 0 || idx >= rb->items->nelts)
        return NULL;
    return APR_ARRAY_IDX(rb->items, idx, rb_item *);
}

/* The item as output_item.added shows it: in progress, zero values. */
static json_object *item_zero(const rb_item *it)
{
    json_object *o = json_object_new_object();
    AURA_ADD_NEW(o, "id", json_object_get(it->jid));
    switch (it->type) {
    case IT_MSG:
        AURA_ADD_NEW(o, "type", json_object_new_string("message"));
        AURA_ADD_NEW(o, "status",
                               json_object_new_string("in_progress"));
        AURA_ADD_NEW(o, "role", json_object_new_string("assistant"));
        AURA_ADD_NEW(o, "content", json_object_new_array());
        break;
    case IT_CALL:
        AURA_ADD_NEW(o, "type",
                               json_object_new_string("function_call"));
        AURA_ADD_NEW(o, "status",
                               json_object_new_string("in_progress"));
        AURA_ADD_NEW(o, "call_id",
                               json_object_new_string(it->call_id));
        AURA_ADD_NEW(o, "name", json_object_new_string(it->name));
        AURA_ADD_NEW(o, "arguments", json_object_new_string(""));
        break;
    default:                        /* reasoning has no status field */
        AURA_ADD_NEW(o, "type", json_object_new_string("reasoning"));
        AURA_ADD_NEW(o, "summary", json_object_new_array());
        break;
    }
    return o;
}

static apr_status_t item_open(aura_rb_t *rb, int type, const char *id,
                              const char *call_id, const char *name, int *idx)
{
    static const char *const prefix[] = { "msg_", "fc_", "rs_" };
    rb_item *it = apr_pcalloc(rb->pool, sizeof(*it));
    json_object *e;
    apr_status_t rv;

    if (idx)
        *idx = -1;
    if (rb->ended)                  /* too late: deltas to -1 are no-ops */
        return APR_SUCCESS;
    rv = aura_rb_start(rb);
    it->type = type;
    it->idx = rb->items->nelts;
    it->id = (id && *id) ? apr_pstrdup(rb->pool, id)
                         : aura_make_id(rb->pool, prefix[type]);
    it->jid = aura_json_pool(rb->pool, json_object_new_string(it->id));
    it->call_id = call_id ? apr_pstrdup(rb->pool, call_id) : "";
    it->name = name ? apr_pstrdup(rb->pool, name) : "";
    it->args = buf_make(rb->pool);
    it->parts = apr_array_make(rb->pool, 1, sizeof(rb_part *));
    it->summaries = apr_array_make(rb->pool, 1, sizeof(rb_summary *));
    it->obj = item_zero(it);
    json_object_array_add(rb->output, it->obj);
    APR_ARRAY_PUSH(rb->items, rb_item *) = it;
    if (idx)
        *idx = it->idx;
    if (rv != APR_SUCCESS || !live(rb))
        return rv != APR_SUCCESS ? rv : rb->sink_rv;
    e = ev_new(rb, "response.output_item.added");
    AURA_SET(e, "output_index", json_object_new_int(it->idx));
    AURA_SET(e, "item", item_zero(it));
    return emit(rb, e);
}

apr_status_t aura_rb_open_message(aura_rb_t *rb, const char *id, int *idx)
{
    return item_open(rb, IT_MSG, id, NULL, NULL, idx);
}

apr_status_t aura_rb_open_call(aura_rb_t *rb, const char *id,
                               const char *call_id, const char *name,
                               int *idx)
{
    /* call_id is required and must be non-empty for the client to answer
     * the call; a provider that sends none gets one made up. */
    if (!call_id || !*call_id)
        call_id = aura_make_id(rb->pool, "call_");
    return item_open(rb, IT_CALL, id, call_id, name, idx);
}

apr_status_t aura_rb_open_reasoning(aura_rb_t *rb, const char *id, int *idx)
{
    return item_open(rb, IT_REASON, id, NULL, NULL, idx);
}

/* ---- content parts --------------------------------------------------- */

static const char *delta_type(int kind)
{
    return kind == PT_TEXT ? "response.output_text.delta"
         : kind == PT_REFUSAL ? "response.refusal.delta"
         : "response.reasoning.delta";
}

static apr_status_t part_done(aura_rb_t *rb, rb_item *it, int ci, rb_part *pt)
{
    json_object *e;
    apr_status_t rv;

    pt->done = 1;
    if (!live(rb))
        return rb->sink_rv;
    e = ev_item(rb, pt->kind == PT_TEXT ? "response.output_text.done"
                : pt->kind == PT_REFUSAL ? "response.refusal.done"
                : "response.reasoning.done", it);
    AURA_SET(e, "content_index", json_object_new_int(ci));
    json_object_object_add(e, pt->kind == PT_REFUSAL ? "refusal" : "text",
                           buf_json(pt->text));
    if (pt->kind == PT_TEXT)
        AURA_SET(e, "logprobs", json_object_new_array());
    if ((rv = emit(rb, e)) != APR_SUCCESS)
        return rv;
    e = ev_item(rb, "response.content_part.done", it);
    AURA_SET(e, "content_index", json_object_new_int(ci));
    AURA_SET(e, "part", part_json(pt->kind, buf_json(pt->text)));
    return emit(rb, e);
}

/* The open part of `kind`, or a new one. Parts are sequential: a part of
 * another kind that is still open is finished first, as OpenAI does. */
static apr_status_t part_get(aura_rb_t *rb, rb_item *it, int kind,
                             rb_part **out, int *ci)
{
    int n = it->parts->nelts;
    rb_part *last = n ? APR_ARRAY_IDX(it->parts, n - 1, rb_part *) : NULL;
    json_object *e;
    apr_status_t rv = APR_SUCCESS;

    if (last && last->kind == kind && (!last->done || it->closed)) {
        *out = last;
        *ci = n - 1;
        return APR_SUCCESS;
    }
    if (last && !last->done)
        rv = part_done(rb, it, n - 1, last);  /* on failure: state stays whole */
    *out = apr_pcalloc(rb->pool, sizeof(rb_part));
    (*out)->kind = kind;
    (*out)->text = buf_make(rb->pool);
    (*out)->done = it->closed;
    APR_ARRAY_PUSH(it->parts, rb_part *) = *out;
    *ci = n;
    if (rv != APR_SUCCESS || it->closed || !live(rb))
        return rv != APR_SUCCESS ? rv : rb->sink_rv;
    e = ev_item(rb, "response.content_part.added", it);
    AURA_SET(e, "content_index", json_object_new_int(n));
    AURA_SET(e, "part",
                           part_json(kind, json_object_new_string("")));
    return emit(rb, e);
}

/* Counts n more bytes of content against the cap. Past it the response
 * fails, and the caller returns APR_ENOSPC so that the transfer stops. */
static int over_cap(aura_rb_t *rb, apr_size_t n)
{
    apr_size_t max = aura_rb_max_content(rb);

    if (rb->content <= max && n <= max - rb->content) {
        rb->content += n;
        return 0;
    }
    aura_rb_fail(rb, aura_error_make(rb->pool, 502, "server_error",
        "upstream_response_too_large", NULL, "the upstream response is "
        "larger than the gateway's limit of %" APR_SIZE_T_FMT " bytes of "
        "content; the rest was not read", max));
    return 1;
}

/* A delta for an item that was already closed (a provider sending a late
 * fragment) is not lost: it lands in the final item, without events. The
 * item is rewritten once, when the resource is next used, not per
 * fragment. */
static apr_status_t part_delta(aura_rb_t *rb, int idx, int kind,
                               const char *s, apr_size_t n)
{
    rb_item *it = item_get(rb, idx);
    rb_part *pt;
    json_object *e;
    apr_status_t rv;
    int ci;

    if (!it || !n || rb->ended)
        return rb->sink_rv;
    if (over_cap(rb, n))
        return APR_ENOSPC;
    rv = part_get(rb, it, kind, &pt, &ci);
    aura_buf_add(pt->text, s, n);
    if (it->closed) {
        it->stale = 1;
        return rv;
    }
    if (rv != APR_SUCCESS || !live(rb))
        return rv != APR_SUCCESS ? rv : rb->sink_rv;
    e = ev_item(rb, delta_type(kind), it);
    AURA_SET(e, "content_index", json_object_new_int(ci));
    AURA_SET(e, "delta", json_object_new_string_len(s, (int)n));
    if (kind == PT_TEXT)
        AURA_SET(e, "logprobs", json_object_new_array());
    return emit(rb, e);
}

apr_status_t aura_rb_text_delta(aura_rb_t *rb, int idx, const char *s,
                                apr_size_t n)
{
    return part_delta(rb, idx, PT_TEXT, s, n);
}

apr_status_t aura_rb_refusal_delta(aura_rb_t *rb, int idx, const char *s,
                                   apr_size_t n)
{
    return part_delta(rb, idx, PT_REFUSAL, s, n);
}

apr_status_t aura_rb_reasoning_delta(aura_rb_t *rb, int idx, const char *s,
                                     apr_size_t n)
{
    return part_delta(rb, idx, PT_REASONING, s, n);
}

apr_status_t aura_rb_call_args_delta(aura_rb_t *rb, int idx, const char *s,
                                     apr_size_t n)
{
    rb_item *it = item_get(rb, idx);
    json_object *e;

    if (!it || it->type != IT_CALL || !n || rb->ended)
        return rb->sink_rv;
    if (over_cap(rb, n))
        return APR_ENOSPC;
    aura_buf_add(it->args, s, n);
    if (it->closed) {
        it->stale = 1;
        return rb->sink_rv;
    }
    if (!live(rb))
        return rb->sink_rv;
    e = ev_item(rb, "response.function_call_arguments.delta", it);
    AURA_SET(e, "delta", json_object_new_string_len(s, (int)n));
    return emit(rb, e);
}

/* ---- reasoning summaries --------------------------------------------- */

static apr_status_t summary_done(aura_rb_t *rb, rb_item *it, int si,
                                 rb_summary *sm)
{
    json_object *e;
    apr_status_t rv;

    sm->done = 1;
    if (!live(rb))
        return rb->sink_rv;
    e = ev_item(rb, "response.reasoning_summary_text.done", it);
    AURA_SET(e, "summary_index", json_object_new_int(si));
    AURA_SET(e, "text", buf_json(sm->text));
    if ((rv = emit(rb, e)) != APR_SUCCESS)
        return rv;
    e = ev_item(rb, "response.reasoning_summary_part.done", it);
    AURA_SET(e, "summary_index", json_object_new_int(si));
    AURA_SET(e, "part", summary_json(buf_json(sm->text)));
    return emit(rb, e);
}

/* Summary parts are numbered by position; the decoder's index only says
 * which one a delta belongs to (gaps in it do not leave holes). */
static apr_status_t summary_get(aura_rb_t *rb, rb_item *it, int src,
                                rb_summary **out, int *si)
{
    int i, n = it->summaries->nelts;
    json_object *e;
    apr_status_t rv = APR_SUCCESS;

    for (i = 0; i < n; i++) {
        rb_summary *sm = APR_ARRAY_IDX(it->summaries, i, rb_summary *);
        if (sm->src == src) {
            *out = sm;
            *si = i;
            return APR_SUCCESS;
        }
    }
    for (i = 0; i < n; i++) {
        rb_summary *sm = APR_ARRAY_IDX(it->summaries, i, rb_summary *);
        if (!sm->done && (rv = summary_done(rb, it, i, sm)))
            break;
    }
    *out = apr_pcalloc(rb->pool, sizeof(rb_summary));
    (*out)->src = src;
    (*out)->text = buf_make(rb->pool);
    (*out)->done = it->closed;
    APR_ARRAY_PUSH(it->summaries, rb_summary *) = *out;
    *si = n;
    if (rv != APR_SUCCESS || it->closed || !live(rb))
        return rv != APR_SUCCESS ? rv : rb->sink_rv;
    e = ev_item(rb, "response.reasoning_summary_part.added", it);
    AURA_SET(e, "summary_index", json_object_new_int(n));
    AURA_SET(e, "part", summary_json(json_object_new_string("")));
    return emit(rb, e);
}

apr_status_t aura_rb_reasoning_summary_delta(aura_rb_t *rb, int idx,
                                             int summary_index,
                                             const char *s, apr_size_t n)
{
    rb_item *it = item_get(rb, idx);
    rb_summary *sm;
    json_object *e;
    apr_status_t rv;
    int si;

    if (!it || it->type != IT_REASON || !n || rb->ended)
        return rb->sink_rv;
    if (over_cap(rb, n))
        return APR_ENOSPC;
    rv = summary_get(rb, it, summary_index, &sm, &si);
    aura_buf_add(sm->text, s, n);
    if (it->closed) {
        it->stale = 1;
        return rv;
    }
    if (rv != APR_SUCCESS || !live(rb))
        return rv != APR_SUCCESS ? rv : rb->sink_rv;
    e = ev_item(rb, "response.reasoning_summary_text.delta", it);
    AURA_SET(e, "summary_index", json_object_new_int(si));
    AURA_SET(e, "delta", json_object_new_string_len(s, (int)n));
    return emit(rb, e);
}

apr_status_t aura_rb_reasoning_encrypted(aura_rb_t *rb, int idx,
                                         const char *enc)
{
    rb_item *it = item_get(rb, idx);

    if (!it || it->type != IT_REASON || !enc || rb->ended)
        return rb->sink_rv;
    it->encrypted = apr_pstrdup(rb->pool, enc);
    it->stale = it->closed;
    return rb->sink_rv;
}

/* ---- closing ---------------------------------------------------------- */

static json_object *parts_json(rb_item *it, int kind_mask)
{
    json_object *a = json_object_new_array();
    int i;
    for (i = 0; i < it->parts->nelts; i++) {
        rb_part *pt = APR_ARRAY_IDX(it->parts, i, rb_part *);
        if (kind_mask & (1 << pt->kind))
            json_object_array_add(a, part_json(pt->kind, buf_json(pt->text)));
    }
    return a;
}

/* Writes the accumulated content into the item inside resource.output.
 * status NULL keeps the current one. */
static void item_refresh(rb_item *it, const char *status)
{
    json_object *o = it->obj;
    int i;

    it->stale = 0;
    if (status && it->type != IT_REASON)
        AURA_SET(o, "status", json_object_new_string(status));
    if (it->type == IT_MSG) {
        AURA_SET(o, "content", parts_json(it, 1 << PT_TEXT |
                                                        1 << PT_REFUSAL));
    }
    else if (it->type == IT_CALL) {
        /* Providers stream a parameterless call as no fragments at all;
         * "" is not valid JSON for the client to parse, "{}" is what the
         * call means. */
        AURA_SET(o, "arguments", it->args->len
                               ? buf_json(it->args)
                               : json_object_new_string("{}"));
    }
    else {
        json_object *sum = json_object_new_array();
        for (i = 0; i < it->summaries->nelts; i++) {
            rb_summary *sm = APR_ARRAY_IDX(it->summaries, i, rb_summary *);
            json_object_array_add(sum, summary_json(buf_json(sm->text)));
        }
        AURA_SET(o, "summary", sum);
        if (it->parts->nelts)
            AURA_SET(o, "content",
                                   parts_json(it, 1 << PT_REASONING));
        if (it->encrypted)
            AURA_SET(o, "encrypted_content",
                                   json_object_new_string(it->encrypted));
    }
}

/* Pending *.done events, the final item, output_item.done. */
static apr_status_t item_close(aura_rb_t *rb, rb_item *it, const char *status)
{
    apr_status_t rv = APR_SUCCESS;
    json_object *e;
    int i;

    if (it->closed)
        return rb->sink_rv;
    for (i = 0; i < it->parts->nelts && rv == APR_SUCCESS; i++) {
        rb_part *pt = APR_ARRAY_IDX(it->parts, i, rb_part *);
        if (!pt->done)
            rv = part_done(rb, it, i, pt);
    }
    for (i = 0; i < it->summaries->nelts && rv == APR_SUCCESS; i++) {
        rb_summary *sm = APR_ARRAY_IDX(it->summaries, i, rb_summary *);
        if (!sm->done)
            rv = summary_done(rb, it, i, sm);
    }
    it->closed = 1;
    item_refresh(it, status);
    if (rv != APR_SUCCESS || !live(rb))
        return rv != APR_SUCCESS ? rv : rb->sink_rv;
    if (it->type == IT_CALL) {
        json_object *args = NULL;
        json_object_object_get_ex(it->obj, "arguments", &args);
        e = ev_item(rb, "response.function_call_arguments.done", it);
        AURA_SET(e, "arguments", json_object_get(args));
        if ((rv = emit(rb, e)) != APR_SUCCESS)
            return rv;
    }
    e = ev_new(rb, "response.output_item.done");
    AURA_SET(e, "output_index", json_object_new_int(it->idx));
    AURA_SET(e, "item", json_object_get(it->obj));
    return emit(rb, e);
}

apr_status_t aura_rb_close(aura_rb_t *rb, int idx)
{
    rb_item *it = item_get(rb, idx);
    if (!it || rb->ended)
        return rb->sink_rv;
    return item_close(rb, it, "completed");
}

/* ---- usage and the end ------------------------------------------------ */

void aura_rb_usage(aura_rb_t *rb, const aura_usage_t *u)
{
    if (!u)
        return;
    if (u->input > 0)
        rb->usage.input = u->input;
    if (u->cached > 0)
        rb->usage.cached = u->cached;
    if (u->output > 0)
        rb->usage.output = u->output;
    if (u->reasoning > 0)
        rb->usage.reasoning = u->reasoning;
    rb->usage.present = 1;
}

static json_object *usage_json(const aura_usage_t *u)
{
    json_object *o = json_object_new_object();
    json_object *in = json_object_new_object();
    json_object *out = json_object_new_object();

    AURA_SET(o, "input_tokens", json_object_new_int64(u->input));
    AURA_SET(in, "cached_tokens", json_object_new_int64(u->cached));
    AURA_SET(o, "input_tokens_details", in);
    AURA_SET(o, "output_tokens", json_object_new_int64(u->output));
    AURA_SET(out, "reasoning_tokens",
                           json_object_new_int64(u->reasoning));
    AURA_SET(o, "output_tokens_details", out);
    AURA_SET(o, "total_tokens",
                           json_object_new_int64(u->input + u->output));
    return o;
}

/* Brings closed items that got late content up to date. */
static void refresh_stale(aura_rb_t *rb)
{
    int i;
    for (i = 0; i < rb->items->nelts; i++) {
        rb_item *it = APR_ARRAY_IDX(rb->items, i, rb_item *);
        if (it->stale)
            item_refresh(it, NULL);
    }
}

/* Sets the end state, runs the finalize hook, emits the terminal event. */
static apr_status_t terminal(aura_rb_t *rb, const char *status,
                             const char *type)
{
    json_object *e;

    rb->ended = 1;
    refresh_stale(rb);
    AURA_SET(rb->res, "status", json_object_new_string(status));
    if (strcmp(status, "failed"))
        AURA_SET(rb->res, "completed_at", json_object_new_int64(
                                   apr_time_sec(apr_time_now())));
    if (rb->usage.present)
        AURA_SET(rb->res, "usage", usage_json(&rb->usage));
    if (rb->fin)
        rb->fin(rb->fin_baton, rb, rb->res);
    if (!live(rb))
        return rb->sink_rv;
    e = ev_new(rb, type);
    AURA_SET(e, "response", json_object_get(rb->res));
    return emit(rb, e);
}

apr_status_t aura_rb_finish(aura_rb_t *rb, const char *status,
                            const char *incomplete_reason)
{
    int incomplete = status && !strcmp(status, "incomplete");
    int i, n = rb->items->nelts;

    if (rb->ended)
        return APR_SUCCESS;
    aura_rb_start(rb);
    /* Only an item cut off by the end is "incomplete", and it is the last
     * one (spec: an incomplete item MUST be the last item). */
    for (i = 0; i < n; i++) {
        rb_item *it = APR_ARRAY_IDX(rb->items, i, rb_item *);
        item_close(rb, it, incomplete && i == n - 1 ? "incomplete"
                                                    : "completed");
    }
    if (incomplete) {
        json_object *d = json_object_new_object();
        AURA_SET(d, "reason", json_object_new_string(
            incomplete_reason ? incomplete_reason : "max_output_tokens"));
        AURA_SET(rb->res, "incomplete_details", d);
    }
    return terminal(rb, incomplete ? "incomplete" : "completed",
                    incomplete ? "response.incomplete" : "response.completed");
}

apr_status_t aura_rb_fail(aura_rb_t *rb, const aura_error_t *err)
{
    const char *type = err && err->type ? err->type : "server_error";
    const char *code = err && err->code ? err->code : type;
    /* Every failure text passes here, whichever decoder wrote it: the
     * provider credential is scrubbed once, centrally. */
    const char *msg = aura_redact(rb->pool, err && err->message
                                  ? err->message : "upstream error",
                                  rb->secret);
    json_object *o, *e;
    int i;

    if (rb->ended)
        return APR_SUCCESS;
    aura_rb_start(rb);
    rb->failed = 1;
    /* Items cut off keep what arrived, marked incomplete; no more item
     * events: the spec's failure path is `error` then response.failed. */
    for (i = 0; i < rb->items->nelts; i++) {
        rb_item *it = APR_ARRAY_IDX(rb->items, i, rb_item *);
        if (!it->closed) {
            it->closed = 1;
            item_refresh(it, "incomplete");
        }
    }
    o = json_object_new_object();
    AURA_SET(o, "code", json_object_new_string(code));
    AURA_SET(o, "message", json_object_new_string(msg));
    AURA_SET(rb->res, "error", o);
    if (live(rb)) {
        e = ev_new(rb, "error");
        o = json_object_new_object();
        AURA_SET(o, "type", json_object_new_string(type));
        AURA_SET(o, "code", aura_json_nstr(err ? err->code : NULL));
        AURA_SET(o, "message", json_object_new_string(msg));
        AURA_SET(o, "param", aura_json_nstr(err ? err->param : NULL));
        AURA_SET(e, "error", o);
        emit(rb, e);
    }
    return terminal(rb, "failed", "response.failed");
}

int aura_rb_ended(const aura_rb_t *rb)
{
    return rb->ended;
}

int aura_rb_failed(const aura_rb_t *rb)
{
    return rb->failed;
}

const aura_usage_t *aura_rb_get_usage(const aura_rb_t *rb)
{
    return &rb->usage;
}

void aura_rb_set_secret(aura_rb_t *rb, const char *secret)
{
    rb->secret = secret;
}

const char *aura_rb_secret(const aura_rb_t *rb)
{
    return rb->secret;
}

void aura_rb_cache_write(aura_rb_t *rb, long tokens)
{
    if (tokens > 0)
        rb->cache_write = tokens;
}

long aura_rb_get_cache_write(const aura_rb_t *rb)
{
    return rb->cache_write;
}

json_object *aura_rb_resource(aura_rb_t *rb)
{
    refresh_stale(rb);
    return rb->res;
}

const char *aura_sse_frame(apr_pool_t *p, const char *type,
                           json_object *event, apr_size_t *len)
{
    size_t jn = 0, tn = strlen(type);
    const char *js = json_object_to_json_string_length(
        event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &jn);
    apr_size_t n = 7 + tn + 7 + jn + 2;     /* "event: " T "\ndata: " J "\n\n" */
    char *out = apr_palloc(p, n + 1), *w = out;

    memcpy(w, "event: ", 7);
    memcpy(w += 7, type, tn);
    memcpy(w += tn, "\ndata: ", 7);
    memcpy(w += 7, js, jn);
    memcpy(w += jn, "\n\n", 3);
    if (len)
        *len = n;
    return out;
}
