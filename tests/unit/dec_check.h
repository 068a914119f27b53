/*
 * dec_check.h - what the decoder tests (test_dec_*.c) share: the fixture
 * reader, a sink that records every event, the Open Responses stream rules
 * (check_events), a digest of what a client would see, and the runners
 * that decode a transcript whole and in 1-byte and 7-byte feeds.
 *
 * Static functions in a header, included by one test file each. Before
 * including it, define DEC_CHECK_DECODER as the decoder under test, e.g.
 *   #define DEC_CHECK_DECODER aura_chat_decoder
 *
 * Fixtures are found under $AURA_FIXTURES (default "tests/fixtures",
 * relative to the repository root the tests run from).
 */
#ifndef DEC_CHECK_H
#define DEC_CHECK_H

#include <math.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "aura_test.h"
#include "aura_adapter.h"
#include "aura_decoder.h"
/* every provider's decoder, for DEC_CHECK_DECODER */
#include "aura_anthropic.h"
#include "aura_bedrock.h"
#include "aura_gemini.h"
#include "aura_mistral.h"
#include "aura_ollama.h"
#include "aura_openai_chat.h"
#include "aura_openai_responses.h"
#include "json_check.h"

#ifndef DEC_CHECK_DECODER
#error "define DEC_CHECK_DECODER (the decoder under test) first"
#endif

/* ---- fixtures ---------------------------------------------------------- */

/* A fixture of tests/fixtures/<dir>/ ($AURA_FIXTURES overrides the root);
 * "" (and a "#" line) when it cannot be read, so the checks fail. */
static const char *fx_read_in(apr_pool_t *p, const char *dir,
                              const char *name, apr_size_t *len)
{
    const char *root = getenv("AURA_FIXTURES");
    const char *path = apr_pstrcat(p, root && *root ? root : "tests/fixtures",
                                   "/", dir, "/", name, NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;

    *len = 0;
    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                      APR_OS_DEFAULT, p) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        printf("# cannot read fixture %s\n", path);
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

/* Keeps each event as the client would parse it (at the gateway's depth:
 * events echo the request's tool schemas). */
static apr_status_t sink(void *baton, const char *type, json_object *e)
{
    rec *r = baton;
    json_tokener *tok = json_tokener_new_ex(AURA_JSON_DEPTH);
    json_object *copy = aura_json_pool(r->p, json_tokener_parse_ex(
                                           tok, aura_json_str(r->p, e, NULL),
                                           -1));
    (void)type;
    json_tokener_free(tok);
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

/* The log context the decoders get (NULL: none, as without the glue). */
static const aura_log_ctx_t *dec_check_log;

/* Decodes `len` bytes fed in `piece`-byte feeds (0: one feed) for `req`
 * (NULL: an empty request), with a content cap of `max` (0: the default).
 * *feed_rv (may be NULL) gets the first non-success feed status; feeding
 * stops there, as the glue stops the transfer. */
static aura_rb_t *decode_ex(apr_pool_t *p, aura_request_t *req,
                            const char *buf, apr_size_t len, apr_size_t piece,
                            int stream, rec *r, apr_size_t max,
                            apr_status_t *feed_rv)
{
    aura_rb_t *rb = aura_rb_create(p, req ? req : req_new(p), NULL, "m");
    aura_decoder_t *d;
    apr_size_t off;
    apr_status_t rv = APR_SUCCESS;

    r->p = p;
    r->ev = apr_array_make(p, 64, sizeof(json_object *));
    aura_rb_set_max_content(rb, max);
    if (stream)
        aura_rb_set_sink(rb, sink, r);
    d = DEC_CHECK_DECODER(p, rb, stream);
    if (dec_check_log)
        aura_dec_set_log(d, dec_check_log);
    if (!piece)
        piece = len ? len : 1;
    for (off = 0; off < len && rv == APR_SUCCESS; off += piece)
        rv = aura_decoder_feed(d, buf + off,
                               len - off < piece ? len - off : piece);
    if (feed_rv)
        *feed_rv = rv;
    aura_decoder_end(d);
    return rb;
}

static aura_rb_t *decode(apr_pool_t *p, const char *buf, apr_size_t len,
                         apr_size_t piece, int stream, rec *r)
{
    return decode_ex(p, NULL, buf, len, piece, stream, r, 0, NULL);
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

/* The Open Responses stream rules. one_open: no item is added while a
 * message or reasoning item is open (the Chat decoder's promise; its
 * function calls stay open until the finish). Returns NULL or what is
 * wrong. */
static const char *check_events(apr_pool_t *p, rec *r, int one_open)
{
    int i, n = r->ev->nelts, added = 0, open = 0;
    int state[256] = { 0 }, call[256] = { 0 };
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
            call[oi] = !strcmp(sat(e, "item.type"), "function_call");
            if (one_open && open)
                return apr_psprintf(p, "item %d added while a message or "
                                    "reasoning item is open", oi);
            open += !call[oi];
            if (strcmp(sat(e, "item.type"), "reasoning")
                && strcmp(sat(e, "item.status"), "in_progress"))
                return "added item not in_progress";
            continue;
        }
        if (state[oi] != 1)
            return apr_psprintf(p, "%s for item %d not open", t, oi);
        if (!strcmp(t, "response.output_item.done")) {
            state[oi] = 2;
            open -= !call[oi];
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

/* Every transcript is decoded in one feed, then in these piece sizes. */
static const apr_size_t feed_pieces[] = { 0, 1, 7 };

/* Keeps the one-feed result in *first / *res0; later feeds must match it. */
static void same_as_first(apr_pool_t *p, const char *name, int k,
                          json_object *res, const char **first,
                          json_object **res0)
{
    const char *dg = digest(p, res);

    if (!*first) {
        *first = dg;
        *res0 = res;
        return;
    }
    AT_STREQ(dg, *first, apr_psprintf(p, "%s [%d]: same result as one feed",
                                      name, (int)feed_pieces[k]));
}

/* Decodes a framed stream whole, in 1-byte and in 7-byte feeds; checks the
 * event rules each time and that all three agree. Returns the whole-feed
 * resource. */
static json_object *stream_all_ways(apr_pool_t *p, const char *name,
                                    const char *framed)
{
    apr_size_t len = strlen(framed);
    const char *first = NULL;
    json_object *res0 = NULL;
    int k;

    for (k = 0; k < 3; k++) {
        rec r;
        aura_rb_t *rb = decode(p, framed, len, feed_pieces[k], 1, &r);
        json_object *res = aura_rb_resource(rb);
        const char *bad = check_events(p, &r, 1);
        AT_OK(!bad, apr_psprintf(p, "%s [%d]: stream rules%s%s", name,
                                 (int)feed_pieces[k], bad ? ": " : "",
                                 bad ? bad : ""));
        same_as_first(p, name, k, res, &first, &res0);
        AT_STREQ(aura_json_str(p, at(APR_ARRAY_IDX(r.ev, r.ev->nelts - 1,
                                     json_object *), "response.output"), NULL),
                 aura_json_str(p, aura_json_get(res, "output"), NULL),
                 apr_psprintf(p, "%s [%d]: terminal event = resource", name,
                              (int)feed_pieces[k]));
    }
    return res0;
}

/* The same for a non-streaming body: no events, a whole resource. */
static json_object *body_all_ways(apr_pool_t *p, const char *name,
                                  const char *body)
{
    const char *first = NULL;
    json_object *res0 = NULL;
    int k;

    for (k = 0; k < 3; k++) {
        rec r;
        aura_rb_t *rb = decode(p, body, strlen(body), feed_pieces[k], 0, &r);
        json_object *res = aura_rb_resource(rb);
        AT_OK(aura_rb_ended(rb) && r.ev->nelts == 0 && !missing_key(res),
              apr_psprintf(p, "%s [%d]: ended, no events, full resource",
                           name, (int)feed_pieces[k]));
        same_as_first(p, name, k, res, &first, &res0);
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

#endif /* DEC_CHECK_H */
