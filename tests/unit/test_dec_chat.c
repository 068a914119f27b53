/*
 * test_dec_chat.c - the Chat Completions decoder against the real recorded
 * provider transcripts in tests/fixtures/openai (OpenAI, Azure, Mistral,
 * TGI), whole and split into 1-byte and 7-byte pieces, plus synthetic
 * streams for the edge cases (errors, truncation, reasoning_content).
 *
 * Fixtures are found under $AURA_FIXTURES (default "tests/fixtures",
 * relative to the repository root the tests run from).
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

/* "C" fixtures: one payload per line -> "data: <line>\n\n" ... [DONE] */
static const char *frame_lines(apr_pool_t *p, const char *in, int done)
{
    const char *out = "";
    char *copy = apr_pstrdup(p, in), *save = NULL, *l;
    for (l = apr_strtok(copy, "\n", &save); l; l = apr_strtok(NULL, "\n", &save))
        if (*l)
            out = apr_pstrcat(p, out, "data: ", l, "\n\n", NULL);
    return done ? apr_pstrcat(p, out, "data: [DONE]\n\n", NULL) : out;
}

/* TGI snapshots: a JSON array of parsed chunks -> data lines + [DONE] */
static const char *frame_array(apr_pool_t *p, const char *in)
{
    json_object *a = aura_json_pool(p, json_tokener_parse(in));
    const char *out = "";
    size_t i;
    for (i = 0; a && i < json_object_array_length(a); i++)
        out = apr_pstrcat(p, out, "data: ", aura_json_str(p,
                          json_object_array_get_idx(a, i), NULL), "\n\n", NULL);
    return apr_pstrcat(p, out, "data: [DONE]\n\n", NULL);
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
    d = aura_chat_decoder(p, rb, stream);
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

/* ---- the recorded transcripts ------------------------------------------ */

static void fixtures_stream(apr_pool_t *p)
{
    apr_size_t n;
    json_object *res;

    res = stream_all_ways(p, "openai text",
        fx_read(p, "openai__chat_stream_text_usage_done.sse", &n));
    AT_STREQ(sat(res, "status"), "completed", "openai text: completed");
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 1,
             "openai text: one item");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "I'm unable to provide real-time weather updates. To get the "
             "current weather in San Francisco, I recommend checking a "
             "reliable weather website or a weather app.",
             "openai text: the text");
    usage_is(res, 14, 0, 30, 0, "openai text");

    res = stream_all_ways(p, "openai parallel calls",
        fx_read(p, "openai__chat_stream_parallel_tool_calls_usage_done.sse",
                &n));
    AT_STREQ(sat(res, "status"), "completed", "parallel: completed");
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 2,
             "parallel: two items (no empty message)");
    AT_STREQ(sat(res, "output.0.type"), "function_call", "parallel: 0 call");
    AT_STREQ(sat(res, "output.0.call_id"), "call_JMW1whyEaYG438VE1OIflxA2",
             "parallel: call 0 id");
    AT_STREQ(sat(res, "output.0.name"), "GetWeatherArgs", "call 0 name");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"city\": \"Edinburgh\", \"country\": \"GB\", \"units\": \"c\"}",
             "call 0 arguments");
    AT_STREQ(sat(res, "output.1.call_id"), "call_DNYTawLBoN8fj3KN6qU9N1Ou",
             "call 1 id");
    AT_STREQ(sat(res, "output.1.name"), "get_stock_price", "call 1 name");
    AT_STREQ(sat(res, "output.1.arguments"),
             "{\"ticker\": \"AAPL\", \"exchange\": \"NASDAQ\"}",
             "call 1 arguments");
    AT_STREQ(sat(res, "output.1.status"), "completed", "call 1 completed");
    usage_is(res, 149, 0, 60, 0, "parallel");

    res = stream_all_ways(p, "openai n=3",
        fx_read(p, "openai__chat_stream_n3_choices_usage_done.sse", &n));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "{\"city\":\"San Francisco\",\"temperature\":65,\"units\":\"f\"}",
             "n=3: choice 0 only");
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 1,
             "n=3: one item");
    usage_is(res, 79, 0, 42, 0, "n=3");

    res = stream_all_ways(p, "openai obfuscation", frame_lines(p,
        fx_read(p, "openai__chat_stream_usage_details_obfuscation_chunks.txt",
                &n), 1));
    AT_INTEQ(strlen(sat(res, "output.0.content.0.text")), 1730,
             "obfuscation: text length (bytes)");
    AT_OK(!strncmp(sat(res, "output.0.content.0.text"),
                   "**Holiday Name:** Harmony Day\n\n**Date:**", 40),
          "obfuscation: text start");
    AT_STREQ(sat(res, "status"), "completed", "obfuscation: completed");
    usage_is(res, 16, 0, 300, 0, "obfuscation");

    res = stream_all_ways(p, "azure reasoning tokens", frame_lines(p,
        fx_read(p, "azure_openai__chat_stream_reasoning_tokens_chunks.txt",
                &n), 1));
    AT_STREQ(sat(res, "output.0.content.0.text"), "Capital of Denmark.",
             "azure: text");
    usage_is(res, 15, 0, 78, 64, "azure");

    res = stream_all_ways(p, "mistral call", frame_lines(p,
        fx_read(p, "mistral__chat_stream_tool_call_chunks.txt", &n), 1));
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 1,
             "mistral: one item");
    AT_STREQ(sat(res, "output.0.call_id"), "gSIMJiOkT", "mistral: call id");
    AT_STREQ(sat(res, "output.0.name"), "weather", "mistral: name");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"location\": \"San Francisco\"}", "mistral: arguments");
    usage_is(res, 124, 0, 22, 0, "mistral");

    res = stream_all_ways(p, "tgi length", frame_array(p,
        fx_read(p, "tgi__chat_stream_usage_chunks.json", &n)));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "**Deep Learning: An Overview**\n"
             "=====================================\n\n", "tgi: text");
    AT_STREQ(sat(res, "status"), "incomplete", "tgi: length -> incomplete");
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "tgi: reason");
    AT_STREQ(sat(res, "output.0.status"), "incomplete", "tgi: item incomplete");
    usage_is(res, 40, 0, 10, 0, "tgi");

    res = stream_all_ways(p, "tgi call", frame_array(p,
        fx_read(p, "tgi__chat_stream_tool_call_chunks.json", &n)));
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 1,
             "tgi call: one item despite id in every fragment");
    AT_STREQ(sat(res, "output.0.call_id"), "0", "tgi call: call id as sent");
    AT_STREQ(sat(res, "output.0.name"), "get_current_weather", "tgi: name");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{ \"location\": \"Brooklyn, NY\", \"format\": \"fahrenheit\"}",
             "tgi call: arguments");
    AT_STREQ(sat(res, "status"), "completed", "tgi call: [DONE] completes");
    AT_OK(!at(res, "usage"), "tgi call: no usage reported -> null");
}

static void fixtures_body(apr_pool_t *p)
{
    apr_size_t n;
    json_object *res;
    rec r;
    aura_rb_t *rb;
    const char *b;

    res = body_all_ways(p, "openai body text",
                        fx_read(p, "openai__chat_nonstream_text.json", &n));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "I'm unable to provide real-time weather updates. To get the "
             "current weather in San Francisco, I recommend checking a "
             "reliable weather website or app like the Weather Channel or a "
             "local news station.", "body text: the text");
    AT_STREQ(sat(res, "output.0.status"), "completed", "body text: item");
    AT_STREQ(sat(res, "status"), "completed", "body text: completed");
    usage_is(res, 14, 0, 37, 0, "body text");

    res = body_all_ways(p, "openai body calls",
        fx_read(p, "openai__chat_nonstream_parallel_tool_calls.json", &n));
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 2,
             "body calls: content null -> no message");
    AT_STREQ(sat(res, "output.0.call_id"), "call_fdNz3vOBKYgOIpMdWotB9MjY",
             "body call 0 id");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"city\": \"Edinburgh\", \"country\": \"GB\", \"units\": \"c\"}",
             "body call 0 arguments");
    AT_STREQ(sat(res, "output.1.call_id"), "call_h1DWI1POMJLb0KwIyQHWXD4p",
             "body call 1 id");
    AT_STREQ(sat(res, "output.1.name"), "get_stock_price", "body call 1 name");
    usage_is(res, 149, 0, 60, 0, "body calls");

    res = body_all_ways(p, "openai docs example",
        fx_read(p, "openai__chat_nonstream_usage_details_docs_example.json",
                &n));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "Hello! How can I assist you today?", "docs: text");
    usage_is(res, 19, 0, 10, 0, "docs");

    res = body_all_ways(p, "mistral body text",
                        fx_read(p, "mistral__chat_nonstream_text.json", &n));
    AT_INTEQ(strlen(sat(res, "output.0.content.0.text")), 1936,
             "mistral body: text length (bytes, \\u escapes decoded)");
    AT_OK(!strncmp(sat(res, "output.0.content.0.text"),
                   "**Holiday Name: \"World Kindness Day of Sharing\"**", 48),
          "mistral body: text start");
    usage_is(res, 13, 0, 434, 0, "mistral body");

    res = body_all_ways(p, "mistral body call",
                        fx_read(p, "mistral__chat_nonstream_tool_call.json", &n));
    AT_STREQ(sat(res, "output.0.call_id"), "gSIMJiOkT", "mistral body call id");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"location\": \"San Francisco\"}", "mistral body arguments");

    b = fx_read(p, "openai__error_429_insufficient_quota.json", &n);
    rb = decode(p, b, n, 7, 0, &r);
    res = aura_rb_resource(rb);
    AT_OK(aura_rb_failed(rb), "error body: failed");
    AT_STREQ(sat(res, "error.code"), "upstream_error", "error body: code");
    AT_OK(strstr(sat(res, "error.message"), "You exceeded your current quota")
          != NULL, "error body: upstream message kept");
    b = fx_read(p, "openai__error_400_unsupported_parameter.json", &n);
    rb = decode(p, b, n, 0, 0, &r);
    AT_OK(aura_rb_failed(rb) && strstr(sat(aura_rb_resource(rb),
          "error.message"), "max_completion_tokens"), "400 body: failed");
}

/* ---- synthetic edge cases ---------------------------------------------- */

static aura_rb_t *synth(apr_pool_t *p, const char *framed, rec *r,
                        apr_size_t piece)
{
    return decode(p, framed, strlen(framed), piece, 1, r);
}

#define CH(delta, finish) \
    "data: {\"choices\":[{\"index\":0,\"delta\":" delta \
    ",\"finish_reason\":" finish "}]}\n\n"

static void synthetic(apr_pool_t *p)
{
    rec r;
    aura_rb_t *rb;
    json_object *res;
    const char *bad;
    const char *s;

    /* vLLM / DeepSeek reasoning_content, then text, then a tool call */
    s = CH("{\"role\":\"assistant\",\"reasoning_content\":\"Let me \"}", "null")
        CH("{\"reasoning\":\"think.\"}", "null")
        CH("{\"content\":\"Answer\"}", "null")
        CH("{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":"
           "{\"name\":\"f\",\"arguments\":\"\"}}]}", "null")
        CH("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
           "\"{\\\"x\\\":1}\"}}]}", "null")
        CH("{\"tool_calls\":[{\"index\":1,\"id\":\"c2\",\"function\":"
           "{\"name\":\"g\"}}]}", "null")
        CH("{}", "\"tool_calls\"")
        "data: [DONE]\n\n";
    rb = synth(p, s, &r, 3);
    res = aura_rb_resource(rb);
    bad = check_events(p, &r, 1);
    AT_OK(!bad, bad ? bad : "reasoning+text+calls: stream rules");
    AT_STREQ(digest(p, res),
             "completed/(null) u=-999,-999,-999,-999,-999 | "
             "reasoning:(null) (null)((null))=(null) "
             "[{\"type\":\"reasoning_text\",\"text\":\"Let me think.\"}] [] | "
             "message:completed (null)((null))=(null) "
             "[{\"type\":\"output_text\",\"text\":\"Answer\",\"annotations\":[]}]  | "
             "function_call:completed f(c1)={\"x\":1}   | "
             "function_call:completed g(c2)={}  ",
             "reasoning first, then message, then calls; empty args {}");

    /* a mid-stream error chunk */
    s = CH("{\"content\":\"Hi\"}", "null")
        "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}"
        "\n\n" CH("{\"content\":\"ignored\"}", "null") "data: [DONE]\n\n";
    rb = synth(p, s, &r, 0);
    res = aura_rb_resource(rb);
    AT_OK(!check_events(p, &r, 1), "error chunk: stream rules");
    AT_STREQ(sat(res, "status"), "failed", "error chunk: failed");
    AT_STREQ(sat(res, "error.code"), "upstream_error", "error chunk: code");
    AT_STREQ(sat(res, "error.message"), "upstream error: overloaded",
             "error chunk: message");
    AT_STREQ(aura_json_string(APR_ARRAY_IDX(r.ev, r.ev->nelts - 2,
             json_object *), "type"), "error", "error event emitted");
    AT_STREQ(sat(APR_ARRAY_IDX(r.ev, r.ev->nelts - 2, json_object *),
                 "error.type"), "server_error", "error event type");

    /* malformed JSON */
    rb = synth(p, CH("{\"content\":\"Hi\"}", "null") "data: {\"choices\":[\n\n",
               &r, 1);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "malformed chunk: upstream_bad_response");
    AT_OK(!check_events(p, &r, 1), "malformed: stream rules");

    /* truncated: no finish_reason, no [DONE] */
    rb = synth(p, CH("{\"content\":\"Hi\"}", "null") "data: {\"choi", &r, 5);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_stream_truncated", "truncated: code");
    AT_OK(!check_events(p, &r, 1), "truncated: stream rules");

    /* EOF after finish_reason and usage, without [DONE]: a whole answer */
    rb = synth(p, CH("{\"content\":\"Hi\"}", "\"stop\"")
               "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
               "\"completion_tokens\":1,\"prompt_tokens_details\":"
               "{\"cached_tokens\":2}}}\n\n", &r, 0);
    res = aura_rb_resource(rb);
    AT_STREQ(sat(res, "status"), "completed", "no [DONE]: completed");
    usage_is(res, 3, 2, 1, 0, "no [DONE]");

    /* content_filter */
    rb = synth(p, CH("{\"content\":\"Hi\"}", "\"content_filter\"")
               "data: [DONE]\n\n", &r, 0);
    AT_STREQ(sat(aura_rb_resource(rb), "incomplete_details.reason"),
             "content_filter", "content_filter -> incomplete");

    /* interleaved calls: the late fragment is not lost */
    rb = synth(p,
        CH("{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":"
           "{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}]}", "null")
        CH("{\"tool_calls\":[{\"index\":1,\"id\":\"b\",\"function\":"
           "{\"name\":\"g\",\"arguments\":\"{}\"}}]}", "null")
        CH("{\"tool_calls\":[{\"index\":0,\"function\":"
           "{\"arguments\":\"1}\"}}]}", "\"tool_calls\"")
        "data: [DONE]\n\n", &r, 0);
    res = aura_rb_resource(rb);
    AT_STREQ(sat(res, "output.0.arguments"), "{\"a\":1}",
             "late fragment appended to the closed call");
    AT_OK(!check_events(p, &r, 1), "interleaved: stream rules");

    /* legacy function_call delta, refusal */
    rb = synth(p,
        CH("{\"function_call\":{\"name\":\"old\",\"arguments\":\"{}\"}}",
           "\"function_call\"") "data: [DONE]\n\n", &r, 0);
    AT_STREQ(sat(aura_rb_resource(rb), "output.0.name"), "old",
             "legacy function_call");
    rb = synth(p, CH("{\"refusal\":\"No.\"}", "\"stop\"") "data: [DONE]\n\n",
               &r, 0);
    AT_STREQ(sat(aura_rb_resource(rb), "output.0.content.0.refusal"), "No.",
             "refusal part");

    /* non-stream: reasoning_content first; 200 + error; no choices; junk */
    s = "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"A\","
        "\"reasoning_content\":\"R\"},\"finish_reason\":\"length\"}],"
        "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9,"
        "\"completion_tokens_details\":{\"reasoning_tokens\":4}}}";
    rb = decode(p, s, strlen(s), 1, 0, &r);
    res = aura_rb_resource(rb);
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "body: reasoning first");
    AT_STREQ(sat(res, "output.0.content.0.text"), "R", "body: reasoning text");
    AT_STREQ(sat(res, "output.1.content.0.text"), "A", "body: text");
    AT_STREQ(sat(res, "output.1.status"), "incomplete", "body: cut item");
    AT_STREQ(sat(res, "status"), "incomplete", "body: length -> incomplete");
    usage_is(res, 5, 0, 9, 4, "body reasoning");
    s = "{\"error\":{\"message\":\"bad key\"}}";
    rb = decode(p, s, strlen(s), 0, 0, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.message"),
             "upstream error: bad key", "200 + error body -> failed");
    s = "{\"id\":\"x\"}";
    rb = decode(p, s, strlen(s), 0, 0, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "body without choices");
    s = "{\"choices\":[]} trailing";
    rb = decode(p, s, strlen(s), 2, 0, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "body with trailing junk");
    s = "<html>502</html>";
    rb = decode(p, s, strlen(s), 0, 0, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "non-JSON body");
    rb = decode(p, "", 0, 0, 0, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "empty body");
    rb = decode(p, "", 0, 0, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_stream_truncated", "empty stream");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    fixtures_stream(p);
    fixtures_body(p);
    synthetic(p);
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
