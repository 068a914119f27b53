/*
 * test_dec_oresp.c - the OpenAI Responses decoder against the real recorded
 * transcripts in tests/fixtures/openai (four consecutive agent streams with
 * reasoning summaries and function calls, a stream with cached and
 * reasoning tokens, two non-streaming bodies), whole and split into 1-byte
 * and 7-byte pieces, plus synthetic streams for the edge cases.
 *
 * The "C" fixtures hold one event payload per line; they are re-framed as
 * "event: <type>\ndata: <line>\n\n". Fixtures are found under
 * $AURA_FIXTURES (default "tests/fixtures", relative to the repo root).
 */
#include <math.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "aura_test.h"
#include "aura_adapter.h"

/* ---- fixtures ---------------------------------------------------------- */

static const char *fx_read(apr_pool_t *p, const char *name, apr_size_t *len)
{
    const char *dir = getenv("AURA_FIXTURES");
    const char *path = apr_pstrcat(p, dir && *dir ? dir : "tests/fixtures",
                                   "/openai/", name, NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;

    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                      APR_OS_DEFAULT, p) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        printf("# cannot read fixture %s\n", path);
        *len = 0;
        return "";
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    apr_file_read_full(f, buf, (apr_size_t)fi.size, len);
    buf[*len] = '\0';
    apr_file_close(f);
    return buf;
}

/* ---- recording and checking -------------------------------------------- */

typedef struct rec {
    apr_pool_t *p;
    apr_array_header_t *ev;
} rec;

static apr_status_t sink(void *baton, const char *type, json_object *e)
{
    rec *r = baton;
    json_object *copy = aura_json_pool(r->p, json_tokener_parse(
                                           aura_json_str(r->p, e, NULL)));
    (void)type;
    APR_ARRAY_PUSH(r->ev, json_object *) = copy;
    return APR_SUCCESS;
}

static aura_request_t *req_new(apr_pool_t *p)
{
    aura_request_t *r = apr_pcalloc(p, sizeof(*r));
    r->pool = p;
    r->input = aura_json_pool(p, json_object_new_array());
    r->tools = aura_json_pool(p, json_object_new_array());
    r->store = r->parallel_tool_calls = AURA_UNSET;
    r->max_output_tokens = r->max_tool_calls = r->top_logprobs = AURA_UNSET;
    r->temperature = r->top_p = r->presence_penalty = NAN;
    r->frequency_penalty = NAN;
    return r;
}

/* Decodes `len` bytes fed in `piece`-byte feeds (0: one feed). */
static aura_rb_t *decode(apr_pool_t *p, const char *buf, apr_size_t len,
                         apr_size_t piece, int stream, rec *r)
{
    aura_rb_t *rb = aura_rb_create(p, req_new(p), NULL, "m");
    aura_decoder_t *d;
    apr_size_t off;

    r->p = p;
    r->ev = apr_array_make(p, 64, sizeof(json_object *));
    if (stream)
        aura_rb_set_sink(rb, sink, r);
    d = aura_oresp_decoder(p, rb, stream);
    if (!piece)
        piece = len ? len : 1;
    for (off = 0; off < len; off += piece)
        aura_decoder_feed(d, buf + off, len - off < piece ? len - off : piece);
    aura_decoder_end(d);
    return rb;
}

static json_object *at(json_object *o, const char *path)
{
    char buf[256], *tok, *save = NULL;
    apr_cpystrn(buf, path, sizeof(buf));
    for (tok = strtok_r(buf, ".", &save); tok && o;
         tok = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, atoi(tok));
        else
            o = aura_json_get(o, tok);
    }
    return o;
}

static const char *sat(json_object *o, const char *path)
{
    json_object *v = at(o, path);
    return v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : NULL;
}

static long iat(json_object *o, const char *path)
{
    json_object *v = at(o, path);
    return v ? (long)json_object_get_int64(v) : -999;
}

static const char *const required[] = {
    "id", "object", "created_at", "completed_at", "status",
    "incomplete_details", "model", "previous_response_id", "instructions",
    "output", "error", "tools", "tool_choice", "truncation",
    "parallel_tool_calls", "text", "top_p", "presence_penalty",
    "frequency_penalty", "temperature", "top_logprobs", "reasoning", "usage",
    "max_output_tokens", "max_tool_calls", "store", "background",
    "service_tier", "metadata", "safety_identifier", "prompt_cache_key", NULL
};

static const char *missing_key(json_object *res)
{
    int i;
    for (i = 0; required[i]; i++)
        if (!json_object_object_get_ex(res, required[i], NULL))
            return required[i];
    return NULL;
}

/* What a client would see, without the random ids: status, usage and each
 * item (type, status, text / name, call_id, arguments). */
static const char *digest(apr_pool_t *p, json_object *res)
{
    json_object *out = aura_json_get(res, "output");
    const char *s = apr_psprintf(p, "%s/%s u=%ld,%ld,%ld,%ld,%ld",
        sat(res, "status"), sat(res, "incomplete_details.reason"),
        iat(res, "usage.input_tokens"),
        iat(res, "usage.input_tokens_details.cached_tokens"),
        iat(res, "usage.output_tokens"),
        iat(res, "usage.output_tokens_details.reasoning_tokens"),
        iat(res, "usage.total_tokens"));
    size_t i;
    for (i = 0; out && i < json_object_array_length(out); i++) {
        json_object *it = json_object_array_get_idx(out, i);
        json_object *c = json_object_get(aura_json_get(it, "content"));
        json_object *sum = json_object_get(aura_json_get(it, "summary"));
        s = apr_psprintf(p, "%s | %s:%s %s(%s)=%s %s %s", s,
                         sat(it, "type"), sat(it, "status"), sat(it, "name"),
                         sat(it, "call_id"), sat(it, "arguments"),
                         c ? aura_json_str(p, c, NULL) : "",
                         sum ? aura_json_str(p, sum, NULL) : "");
        json_object_put(c);
        json_object_put(sum);
    }
    return s;
}

static int is_terminal(const char *t)
{
    return !strcmp(t, "response.completed") || !strcmp(t, "response.failed")
           || !strcmp(t, "response.incomplete");
}

/* The Open Responses stream rules. one_open: at most one item open at a
 * time (the Chat decoder's promise). Returns NULL or what is wrong. */
static const char *check_events(apr_pool_t *p, rec *r, int one_open)
{
    int i, n = r->ev->nelts, added = 0, open = 0;
    int state[256] = { 0 };
    const char *ids[256] = { 0 };
    const char *acc[256] = { 0 };
    json_object *res;

    if (n < 3)
        return "too few events";
    for (i = 0; i < n; i++) {
        json_object *e = APR_ARRAY_IDX(r->ev, i, json_object *);
        const char *t = aura_json_string(e, "type");
        int oi = (int)iat(e, "output_index");
        if (iat(e, "sequence_number") != i)
            return apr_psprintf(p, "sequence_number at %d", i);
        if ((i == 0) != !strcmp(t, "response.created")
            || (i == 1) != !strcmp(t, "response.in_progress"))
            return apr_psprintf(p, "start events wrong at %d (%s)", i, t);
        if ((i == n - 1) != is_terminal(t))
            return apr_psprintf(p, "terminal event at %d (%s)", i, t);
        if (!strcmp(t, "error") && (i != n - 2 || strcmp(aura_json_string(
                APR_ARRAY_IDX(r->ev, i + 1, json_object *), "type"),
                "response.failed")))
            return "error not followed by response.failed";
        if (oi == -999)
            continue;
        if (oi < 0 || oi >= 256)
            return "output_index out of range";
        if (!strcmp(t, "response.output_item.added")) {
            if (state[oi] || oi != added++)
                return apr_psprintf(p, "item %d added twice/out of order", oi);
            state[oi] = 1;
            ids[oi] = sat(e, "item.id");
            acc[oi] = "";
            if (one_open && open++)
                return apr_psprintf(p, "item %d added while another is open",
                                    oi);
            if (strcmp(sat(e, "item.type"), "reasoning")
                && strcmp(sat(e, "item.status"), "in_progress"))
                return "added item not in_progress";
            continue;
        }
        if (state[oi] != 1)
            return apr_psprintf(p, "%s for item %d not open", t, oi);
        if (!strcmp(t, "response.output_item.done")) {
            state[oi] = 2;
            open--;
            if (strcmp(sat(e, "item.id"), ids[oi]))
                return "item id changed";
            continue;
        }
        if (strcmp(sat(e, "item_id"), ids[oi]))
            return apr_psprintf(p, "%s: item_id mismatch", t);
        if (strstr(t, ".delta"))
            acc[oi] = apr_pstrcat(p, acc[oi], sat(e, "delta"), NULL);
        if (!strcmp(t, "response.output_text.done")
            || !strcmp(t, "response.reasoning_summary_text.done")
            || !strcmp(t, "response.reasoning.done")) {
            if (strcmp(acc[oi], sat(e, "text")))
                return apr_psprintf(p, "%s text != sum of deltas", t);
            acc[oi] = "";
        }
        if (!strcmp(t, "response.function_call_arguments.done")) {
            if (*acc[oi] && strcmp(acc[oi], sat(e, "arguments")))
                return "arguments != sum of deltas";
            acc[oi] = "";
        }
    }
    res = at(APR_ARRAY_IDX(r->ev, n - 1, json_object *), "response");
    if (missing_key(res))
        return apr_psprintf(p, "terminal resource lacks %s", missing_key(res));
    if ((int)json_object_array_length(aura_json_get(res, "output")) != added)
        return "output length != items added";
    for (i = 0; i < added; i++)
        if (state[i] != 2 && strcmp(sat(res, "status"), "failed"))
            return apr_psprintf(p, "item %d never done", i);
    return NULL;
}

/* Decodes a framed stream whole, in 1-byte and in 7-byte feeds; checks the
 * event rules each time and that all three agree. Returns the whole-feed
 * resource. */
static json_object *stream_all_ways(apr_pool_t *p, const char *name,
                                    const char *framed)
{
    apr_size_t len = strlen(framed);
    static const apr_size_t pieces[] = { 0, 1, 7 };
    const char *first = NULL;
    json_object *res0 = NULL;
    int k;

    for (k = 0; k < 3; k++) {
        rec r;
        aura_rb_t *rb = decode(p, framed, len, pieces[k], 1, &r);
        json_object *res = aura_rb_resource(rb);
        const char *bad = check_events(p, &r, 1);
        const char *dg = digest(p, res);
        AT_OK(!bad, apr_psprintf(p, "%s [%d]: stream rules%s%s", name,
                                 (int)pieces[k], bad ? ": " : "", bad ? bad : ""));
        if (!first) {
            first = dg;
            res0 = res;
        }
        else {
            AT_STREQ(dg, first, apr_psprintf(p, "%s [%d]: same result as "
                                             "one feed", name, (int)pieces[k]));
        }
        AT_STREQ(aura_json_str(p, at(APR_ARRAY_IDX(r.ev, r.ev->nelts - 1,
                                     json_object *), "response.output"), NULL),
                 aura_json_str(p, aura_json_get(res, "output"), NULL),
                 apr_psprintf(p, "%s [%d]: terminal event = resource", name,
                              (int)pieces[k]));
    }
    return res0;
}

static json_object *body_all_ways(apr_pool_t *p, const char *name,
                                  const char *body)
{
    static const apr_size_t pieces[] = { 0, 1, 7 };
    const char *first = NULL;
    json_object *res0 = NULL;
    int k;

    for (k = 0; k < 3; k++) {
        rec r;
        aura_rb_t *rb = decode(p, body, strlen(body), pieces[k], 0, &r);
        json_object *res = aura_rb_resource(rb);
        AT_OK(aura_rb_ended(rb) && r.ev->nelts == 0 && !missing_key(res),
              apr_psprintf(p, "%s [%d]: ended, no events, full resource",
                           name, (int)pieces[k]));
        if (!first) {
            first = digest(p, res);
            res0 = res;
        }
        else {
            AT_STREQ(digest(p, res), first, apr_psprintf(p,
                     "%s [%d]: same result as one feed", name, (int)pieces[k]));
        }
    }
    return res0;
}

static void usage_is(json_object *res, long in, long cached, long out,
                     long reasoning, const char *what)
{
    char buf[200];
    snprintf(buf, sizeof(buf), "%s: usage", what);
    AT_INTEQ(iat(res, "usage.input_tokens"), in, buf);
    AT_INTEQ(iat(res, "usage.input_tokens_details.cached_tokens"), cached, buf);
    AT_INTEQ(iat(res, "usage.output_tokens"), out, buf);
    AT_INTEQ(iat(res, "usage.output_tokens_details.reasoning_tokens"),
             reasoning, buf);
    AT_INTEQ(iat(res, "usage.total_tokens"), in + out, buf);
}

/* ---- framing ------------------------------------------------------------ */

/* One payload per line -> SSE events, one string per upstream response
 * (a new response.created starts the next one). */
static apr_array_header_t *frame_responses(apr_pool_t *p, const char *in)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    char *copy = apr_pstrdup(p, in), *save = NULL, *l;
    const char *cur = NULL;

    for (l = apr_strtok(copy, "\n", &save); l; l = apr_strtok(NULL, "\n", &save)) {
        json_object *o;
        const char *type;
        if (!*l)
            continue;
        o = aura_json_pool(p, json_tokener_parse(l));
        type = aura_json_string(o, "type");
        if (!type)
            type = "?";
        if (!strcmp(type, "response.created") && cur) {
            APR_ARRAY_PUSH(out, const char *) = cur;
            cur = NULL;
        }
        cur = apr_pstrcat(p, cur ? cur : "", "event: ", type, "\ndata: ", l,
                          "\n\n", NULL);
    }
    if (cur)
        APR_ARRAY_PUSH(out, const char *) = cur;
    return out;
}

/* The first event of `type` in a framed fixture stream, parsed. */
static json_object *first_event(apr_pool_t *p, const char *framed,
                                const char *type)
{
    const char *tag = apr_pstrcat(p, "event: ", type, "\ndata: ", NULL);
    const char *s = strstr(framed, tag);
    const char *e;
    if (!s)
        return NULL;
    s += strlen(tag);
    e = strstr(s, "\n\n");
    return aura_json_pool(p, json_tokener_parse(apr_pstrmemdup(p, s,
                                                               (apr_size_t)(e - s))));
}

/* The upstream's own final resource event (the reference the decoded
 * result must match). */
static json_object *upstream_final(apr_pool_t *p, const char *framed)
{
    return first_event(p, framed, "response.completed");
}

/* ---- the recorded transcripts ------------------------------------------ */

static void agent_streams(apr_pool_t *p)
{
    apr_size_t n;
    apr_array_header_t *streams = frame_responses(p,
        fx_read(p, "openai__responses_stream_reasoning_function_call_chunks.txt",
                &n));
    json_object *res, *up;
    const char *s;

    AT_INTEQ(streams->nelts, 4, "agent fixture: four responses");
    if (streams->nelts != 4)
        return;

    s = APR_ARRAY_IDX(streams, 0, const char *);
    res = stream_all_ways(p, "agent 1 (reasoning + call)", s);
    up = upstream_final(p, s);
    AT_STREQ(sat(res, "status"), "completed", "agent 1: completed");
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 2,
             "agent 1: two items");
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "agent 1: reasoning");
    AT_STREQ(sat(res, "output.0.id"),
             "rs_01830d662ab3856501693c321405c88190be3ab04d5782d5f9",
             "agent 1: upstream reasoning id kept");
    AT_STREQ(sat(res, "output.0.summary.0.text"),
             "**Calculating step-by-step using calculator**\n\nI'll compute "
             "12 plus 7, then multiply the result by 3, and finally multiply "
             "that by 10, reporting the final product.",
             "agent 1: summary text");
    AT_OK(sat(res, "output.0.encrypted_content") && !strncmp(sat(res,
          "output.0.encrypted_content"), "gAAAAABpPDIVOKrsHNZ0", 20),
          "agent 1: encrypted_content from the done item");
    /* (the upstream's response.completed carries a different ciphertext
     * than its output_item.done; the decoder takes the done item's) */
    AT_STREQ(sat(res, "output.0.encrypted_content"),
             sat(first_event(p, s, "response.output_item.done"),
                 "item.encrypted_content"),
             "agent 1: encrypted_content whole, from output_item.done");
    AT_STREQ(sat(res, "output.0.summary.0.text"),
             sat(up, "response.output.0.summary.0.text"),
             "agent 1: summary = upstream final");
    AT_OK(!json_object_object_get_ex(at(res, "output.0"), "status", NULL),
          "agent 1: reasoning has no status");
    AT_STREQ(sat(res, "output.1.id"),
             "fc_01830d662ab3856501693c32151234819091cfca267e98cc5f",
             "agent 1: upstream call item id kept");
    AT_STREQ(sat(res, "output.1.call_id"), "call_AB6AaRZ1FYZB2RwS6A5vbdqn",
             "agent 1: call_id");
    AT_STREQ(sat(res, "output.1.name"), "calculator", "agent 1: name");
    AT_STREQ(sat(res, "output.1.arguments"), "{\"a\":12,\"b\":7,\"op\":\"add\"}",
             "agent 1: arguments");
    usage_is(res, 134, 0, 28, 0, "agent 1");

    res = stream_all_ways(p, "agent 2", APR_ARRAY_IDX(streams, 1, const char *));
    AT_STREQ(sat(res, "output.0.call_id"), "call_Q6pW65MUgW9vF59BmItYGos3",
             "agent 2: call_id");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"a\":19,\"b\":3,\"op\":\"multiply\"}", "agent 2: arguments");
    usage_is(res, 221, 0, 26, 0, "agent 2");

    res = stream_all_ways(p, "agent 3", APR_ARRAY_IDX(streams, 2, const char *));
    AT_STREQ(sat(res, "output.0.call_id"), "call_Zl5vIMnD7dVAjgU6FkhmiCZh",
             "agent 3: call_id");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"a\":57,\"b\":10,\"op\":\"multiply\"}", "agent 3: arguments");
    usage_is(res, 260, 0, 26, 0, "agent 3");

    res = stream_all_ways(p, "agent 4", APR_ARRAY_IDX(streams, 3, const char *));
    AT_STREQ(sat(res, "output.0.id"),
             "msg_01830d662ab3856501693c32183a488190a612c410a0a39823",
             "agent 4: message id kept");
    AT_STREQ(sat(res, "output.0.content.0.text"), "The final result is **570**.",
             "agent 4: text");
    AT_STREQ(sat(res, "output.0.role"), "assistant", "agent 4: role");
    usage_is(res, 299, 0, 12, 0, "agent 4");
}

static void cached_stream(apr_pool_t *p)
{
    apr_size_t n;
    apr_array_header_t *streams = frame_responses(p,
        fx_read(p, "openai__responses_stream_cached_reasoning_tokens_chunks.txt",
                &n));
    const char *s = APR_ARRAY_IDX(streams, 0, const char *);
    json_object *up = upstream_final(p, s);
    json_object *res = stream_all_ways(p, "cached tokens", s);

    /* The fixture keeps only a few deltas of each message (its sequence
     * numbers jump); the rest comes from output_text.done. It also skips
     * upstream output_index 1, which must not leave a hole. */
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 2,
             "cached: two messages, no hole");
    AT_OK(!strncmp(sat(res, "output.0.content.0.text"),
                   "Got it \xe2\x80\x94 I\xe2\x80\x99ll quickly check reliable", 36),
          "cached: first message text (deltas + done)");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             sat(up, "response.output.0.content.0.text"),
             "cached: first message = upstream final");
    AT_STREQ(sat(res, "output.1.content.0.text"),
             sat(up, "response.output.1.content.0.text"),
             "cached: second message = upstream final");
    AT_OK(!strncmp(sat(res, "output.1.content.0.text"), "Here are a few **AI "
                   "headlines for today", 39), "cached: second message start");
    AT_STREQ(sat(res, "output.1.id"),
             "msg_0a63f40a2632b74300699f881bfbc88196aec38f30c3dd24b0",
             "cached: second message id");
    usage_is(res, 7112, 3072, 463, 64, "cached");
}

static void bodies(apr_pool_t *p)
{
    apr_size_t n;
    json_object *res;

    res = body_all_ways(p, "body text",
                        fx_read(p, "openai__responses_nonstream_text.json", &n));
    AT_STREQ(sat(res, "status"), "completed", "body text: completed");
    AT_STREQ(sat(res, "output.0.id"),
             "msg_689a0b2637b08193ac478e568f49e3f900b2e36c65a1fd4b",
             "body text: id kept");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "I can't provide real-time updates, but you can easily check the "
             "current weather in San Francisco using a weather website or "
             "app. Typically, San Francisco has cool, foggy summers and mild "
             "winters, so it's good to be prepared for variable weather!",
             "body text: text");
    usage_is(res, 14, 0, 50, 0, "body text");

    res = body_all_ways(p, "body reasoning",
                        fx_read(p, "openai__responses_nonstream_reasoning.json",
                                &n));
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 2,
             "body reasoning: two items");
    AT_STREQ(sat(res, "output.0.id"),
             "rs_0f35ed53160b395301693cc95817ac8190b978637daea4987e",
             "body reasoning: id");
    AT_INTEQ(strlen(sat(res, "output.0.encrypted_content")), 1572,
             "body reasoning: encrypted_content whole");
    AT_OK(!strncmp(sat(res, "output.0.summary.0.text"),
                   "**Reporting final result**\n\nThe tool returned 570", 48),
          "body reasoning: summary");
    AT_STREQ(sat(res, "output.1.content.0.text"),
             "12 + 7 = 19\n19 \xc3\x97 3 = 57\n57 \xc3\x97 10 = 570\n\n"
             "Final result: 570", "body reasoning: text");
    usage_is(res, 865, 0, 163, 128, "body reasoning");
}

/* ---- synthetic edge cases ---------------------------------------------- */

#define EV(type, json) "event: " type "\ndata: {\"type\":\"" type "\"," json "}\n\n"
#define COMPLETED(status, extra) EV("response.completed", "\"response\":{" \
    "\"status\":\"" status "\"" extra "}")

static aura_rb_t *synth(apr_pool_t *p, const char *s, rec *r, apr_size_t piece)
{
    return decode(p, s, strlen(s), piece, 1, r);
}

static void synthetic(apr_pool_t *p)
{
    rec r;
    aura_rb_t *rb;
    json_object *res;
    const char *s, *bad;

    /* arguments only in the done item; an unmodelled item type skipped;
     * a delta for an item never announced */
    s = EV("response.output_item.added", "\"output_index\":0,\"item\":"
           "{\"type\":\"web_search_call\",\"id\":\"ws_1\"}")
        EV("response.output_item.done", "\"output_index\":0,\"item\":"
           "{\"type\":\"web_search_call\",\"id\":\"ws_1\"}")
        EV("response.output_item.added", "\"output_index\":1,\"item\":"
           "{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"c_1\","
           "\"name\":\"f\",\"arguments\":\"\",\"status\":\"in_progress\"}")
        EV("response.output_item.done", "\"output_index\":1,\"item\":"
           "{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"c_1\","
           "\"name\":\"f\",\"arguments\":\"{\\\"q\\\":1}\",\"status\":"
           "\"completed\"}")
        EV("response.output_text.delta", "\"output_index\":2,\"item_id\":"
           "\"msg_lax\",\"content_index\":0,\"delta\":\"lax\"")
        EV("response.reasoning_text.delta", "\"output_index\":3,\"item_id\":"
           "\"rs_1\",\"content_index\":0,\"delta\":\"hmm\"")
        COMPLETED("completed", ",\"usage\":{\"input_tokens\":1,"
                  "\"output_tokens\":2}");
    rb = synth(p, s, &r, 1);
    res = aura_rb_resource(rb);
    bad = check_events(p, &r, 0);
    AT_OK(!bad, bad ? bad : "synthetic: stream rules");
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 3,
             "web_search_call skipped");
    AT_STREQ(sat(res, "output.0.arguments"), "{\"q\":1}",
             "arguments taken from the done item");
    AT_STREQ(sat(res, "output.1.id"), "msg_lax", "unannounced item opened");
    AT_STREQ(sat(res, "output.1.content.0.text"), "lax", "its text");
    AT_STREQ(sat(res, "output.2.content.0.text"), "hmm", "reasoning_text");
    usage_is(res, 1, 0, 2, 0, "synthetic");

    /* response.incomplete with the last item cut */
    s = EV("response.output_item.added", "\"output_index\":0,\"item\":"
           "{\"type\":\"message\",\"id\":\"m\",\"status\":\"in_progress\"}")
        EV("response.output_text.delta", "\"output_index\":0,\"item_id\":\"m\","
           "\"content_index\":0,\"delta\":\"cut\"")
        EV("response.output_item.done", "\"output_index\":0,\"item\":"
           "{\"type\":\"message\",\"id\":\"m\",\"status\":\"incomplete\"}")
        EV("response.incomplete", "\"response\":{\"status\":\"incomplete\","
           "\"incomplete_details\":{\"reason\":\"max_output_tokens\"}}");
    rb = synth(p, s, &r, 7);
    res = aura_rb_resource(rb);
    AT_OK(!check_events(p, &r, 1), "incomplete: stream rules");
    AT_STREQ(sat(res, "status"), "incomplete", "incomplete: status");
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "incomplete: reason");
    AT_STREQ(sat(res, "output.0.status"), "incomplete", "incomplete: item");

    /* response.failed */
    s = EV("response.failed", "\"response\":{\"status\":\"failed\",\"error\":"
           "{\"code\":\"server_error\",\"message\":\"oops\"}}");
    rb = synth(p, s, &r, 0);
    res = aura_rb_resource(rb);
    AT_OK(aura_rb_failed(rb), "response.failed: failed");
    AT_STREQ(sat(res, "error.code"), "server_error", "failed: upstream code");
    AT_STREQ(sat(res, "error.message"), "upstream error: oops",
             "failed: message");
    AT_OK(!check_events(p, &r, 1), "failed: stream rules");

    /* OpenAI's flat error event */
    s = "event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\","
        "\"message\":\"slow down\",\"param\":null}\n\n";
    rb = synth(p, s, &r, 0);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "rate_limit_exceeded",
             "flat error event: code");

    /* truncated, malformed */
    s = EV("response.output_item.added", "\"output_index\":0,\"item\":"
           "{\"type\":\"message\",\"id\":\"m\"}");
    rb = synth(p, s, &r, 0);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_stream_truncated", "no terminal event: truncated");
    AT_OK(!check_events(p, &r, 1), "truncated: stream rules");
    rb = synth(p, "event: x\ndata: {nope}\n\n", &r, 0);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "malformed event: upstream_bad_response");
    rb = synth(p, "data: {\"type\":\"response.output_text.delta\",\"del", &r, 0);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_stream_truncated", "cut inside the last event");

    /* bodies: failed, incomplete, junk */
    s = "{\"status\":\"failed\",\"output\":[],\"error\":{\"code\":\"x\","
        "\"message\":\"y\"}}";
    rb = decode(p, s, strlen(s), 3, 0, &r);
    AT_OK(aura_rb_failed(rb), "failed body");
    s = "{\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":"
        "\"content_filter\"},\"output\":[{\"type\":\"message\",\"id\":\"m\","
        "\"status\":\"incomplete\",\"content\":[{\"type\":\"output_text\","
        "\"text\":\"abc\"},{\"type\":\"refusal\",\"refusal\":\"no\"}]}]}";
    rb = decode(p, s, strlen(s), 1, 0, &r);
    res = aura_rb_resource(rb);
    AT_STREQ(sat(res, "incomplete_details.reason"), "content_filter",
             "incomplete body: reason");
    AT_STREQ(sat(res, "output.0.status"), "incomplete", "incomplete body item");
    AT_STREQ(sat(res, "output.0.content.1.refusal"), "no", "refusal part");
    rb = decode(p, "{\"output\":", 10, 0, 0, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "cut body");
    s = "{\"error\":{\"message\":\"nope\",\"code\":\"invalid_api_key\"}}";
    rb = decode(p, s, strlen(s), 0, 0, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "invalid_api_key",
             "error body");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    agent_streams(p);
    cached_stream(p);
    bodies(p);
    synthetic(p);
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
