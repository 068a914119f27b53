/*
 * test_dec_chat.c - the Chat Completions decoder against the real recorded
 * provider transcripts in tests/fixtures/openai (OpenAI, Azure, Mistral,
 * TGI), whole and split into 1-byte and 7-byte pieces, plus synthetic
 * streams for the edge cases (errors, truncation, reasoning_content,
 * interleaved parallel calls, credential redaction, the content cap).
 *
 * Fixtures are found under $AURA_FIXTURES (default "tests/fixtures",
 * relative to the repository root the tests run from).
 */
#define DEC_CHECK_DECODER aura_chat_decoder
#include "dec_check.h"

/* ---- framing ------------------------------------------------------------ */

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

/* ---- the recorded transcripts ------------------------------------------ */

static void fixtures_stream(apr_pool_t *p)
{
    apr_size_t n;
    json_object *res;

    res = stream_all_ways(p, "openai text",
        fx_read_in(p, "openai", "openai__chat_stream_text_usage_done.sse", &n));
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
        fx_read_in(p, "openai", "openai__chat_stream_parallel_tool_calls_usage_done.sse",
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
        fx_read_in(p, "openai", "openai__chat_stream_n3_choices_usage_done.sse", &n));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "{\"city\":\"San Francisco\",\"temperature\":65,\"units\":\"f\"}",
             "n=3: choice 0 only");
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 1,
             "n=3: one item");
    usage_is(res, 79, 0, 42, 0, "n=3");

    res = stream_all_ways(p, "openai obfuscation", frame_lines(p,
        fx_read_in(p, "openai", "openai__chat_stream_usage_details_obfuscation_chunks.txt",
                &n), 1));
    AT_INTEQ(strlen(sat(res, "output.0.content.0.text")), 1730,
             "obfuscation: text length (bytes)");
    AT_OK(!strncmp(sat(res, "output.0.content.0.text"),
                   "**Holiday Name:** Harmony Day\n\n**Date:**", 40),
          "obfuscation: text start");
    AT_STREQ(sat(res, "status"), "completed", "obfuscation: completed");
    usage_is(res, 16, 0, 300, 0, "obfuscation");

    res = stream_all_ways(p, "azure reasoning tokens", frame_lines(p,
        fx_read_in(p, "openai", "azure_openai__chat_stream_reasoning_tokens_chunks.txt",
                &n), 1));
    AT_STREQ(sat(res, "output.0.content.0.text"), "Capital of Denmark.",
             "azure: text");
    usage_is(res, 15, 0, 78, 64, "azure");

    res = stream_all_ways(p, "mistral call", frame_lines(p,
        fx_read_in(p, "openai", "mistral__chat_stream_tool_call_chunks.txt", &n), 1));
    AT_INTEQ(json_object_array_length(aura_json_get(res, "output")), 1,
             "mistral: one item");
    AT_STREQ(sat(res, "output.0.call_id"), "gSIMJiOkT", "mistral: call id");
    AT_STREQ(sat(res, "output.0.name"), "weather", "mistral: name");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"location\": \"San Francisco\"}", "mistral: arguments");
    usage_is(res, 124, 0, 22, 0, "mistral");

    res = stream_all_ways(p, "tgi length", frame_array(p,
        fx_read_in(p, "openai", "tgi__chat_stream_usage_chunks.json", &n)));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "**Deep Learning: An Overview**\n"
             "=====================================\n\n", "tgi: text");
    AT_STREQ(sat(res, "status"), "incomplete", "tgi: length -> incomplete");
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "tgi: reason");
    AT_STREQ(sat(res, "output.0.status"), "incomplete", "tgi: item incomplete");
    usage_is(res, 40, 0, 10, 0, "tgi");

    res = stream_all_ways(p, "tgi call", frame_array(p,
        fx_read_in(p, "openai", "tgi__chat_stream_tool_call_chunks.json", &n)));
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
                        fx_read_in(p, "openai", "openai__chat_nonstream_text.json", &n));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "I'm unable to provide real-time weather updates. To get the "
             "current weather in San Francisco, I recommend checking a "
             "reliable weather website or app like the Weather Channel or a "
             "local news station.", "body text: the text");
    AT_STREQ(sat(res, "output.0.status"), "completed", "body text: item");
    AT_STREQ(sat(res, "status"), "completed", "body text: completed");
    usage_is(res, 14, 0, 37, 0, "body text");

    res = body_all_ways(p, "openai body calls",
        fx_read_in(p, "openai", "openai__chat_nonstream_parallel_tool_calls.json", &n));
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
        fx_read_in(p, "openai", "openai__chat_nonstream_usage_details_docs_example.json",
                &n));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "Hello! How can I assist you today?", "docs: text");
    usage_is(res, 19, 0, 10, 0, "docs");

    res = body_all_ways(p, "mistral body text",
                        fx_read_in(p, "openai", "mistral__chat_nonstream_text.json", &n));
    AT_INTEQ(strlen(sat(res, "output.0.content.0.text")), 1936,
             "mistral body: text length (bytes, \\u escapes decoded)");
    AT_OK(!strncmp(sat(res, "output.0.content.0.text"),
                   "**Holiday Name: \"World Kindness Day of Sharing\"**", 48),
          "mistral body: text start");
    usage_is(res, 13, 0, 434, 0, "mistral body");

    res = body_all_ways(p, "mistral body call",
                        fx_read_in(p, "openai", "mistral__chat_nonstream_tool_call.json", &n));
    AT_STREQ(sat(res, "output.0.call_id"), "gSIMJiOkT", "mistral body call id");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"location\": \"San Francisco\"}", "mistral body arguments");

    b = fx_read_in(p, "openai", "openai__error_429_insufficient_quota.json", &n);
    rb = decode(p, b, n, 7, 0, &r);
    res = aura_rb_resource(rb);
    AT_OK(aura_rb_failed(rb), "error body: failed");
    AT_STREQ(sat(res, "error.code"), "upstream_error", "error body: code");
    AT_OK(strstr(sat(res, "error.message"), "You exceeded your current quota")
          != NULL, "error body: upstream message kept");
    b = fx_read_in(p, "openai", "openai__error_400_unsupported_parameter.json", &n);
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

/* The arguments a call's events carry: its deltas joined, its
 * arguments.done and its output_item.done. */
static void call_events(apr_pool_t *p, rec *r, int oi, const char **deltas,
                        const char **done, const char **item)
{
    int i;

    *deltas = "";
    *done = *item = NULL;
    for (i = 0; i < r->ev->nelts; i++) {
        json_object *e = APR_ARRAY_IDX(r->ev, i, json_object *);
        const char *t = aura_json_string(e, "type");
        if (iat(e, "output_index") != oi)
            continue;
        if (!strcmp(t, "response.function_call_arguments.delta"))
            *deltas = apr_pstrcat(p, *deltas, sat(e, "delta"), NULL);
        else if (!strcmp(t, "response.function_call_arguments.done"))
            *done = sat(e, "arguments");
        else if (!strcmp(t, "response.output_item.done"))
            *item = sat(e, "item.arguments");
    }
}

/* Parallel calls whose fragments interleave (0,1,0,1): every call stays
 * open until the finish, so each one's events carry all its arguments. */
static void interleaved_calls(apr_pool_t *p)
{
    static const char *const want[2] = { "{\"a\":1}", "{\"b\":[2]}" };
    const char *s, *deltas, *done, *item, *bad;
    json_object *res;
    aura_rb_t *rb;
    rec r;
    int k, oi;

    s = CH("{\"content\":\"Calling.\"}", "null")
        CH("{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":"
           "{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}]}", "null")
        CH("{\"tool_calls\":[{\"index\":1,\"id\":\"b\",\"function\":"
           "{\"name\":\"g\",\"arguments\":\"{\\\"b\\\":\"}}]}", "null")
        CH("{\"tool_calls\":[{\"index\":0,\"function\":"
           "{\"arguments\":\"1}\"}}]}", "null")
        CH("{\"tool_calls\":[{\"index\":1,\"function\":"
           "{\"arguments\":\"[2]}\"}}]}", "\"tool_calls\"")
        "data: [DONE]\n\n";
    for (k = 0; k < 3; k++) {
        rb = synth(p, s, &r, feed_pieces[k]);
        res = aura_rb_resource(rb);
        bad = check_events(p, &r, 1);
        AT_OK(!bad, bad ? bad : "interleaved: stream rules");
        AT_STREQ(sat(res, "status"), "completed", "interleaved: completed");
        AT_STREQ(sat(res, "output.0.type"), "message", "interleaved: text 1st");
        for (oi = 1; oi <= 2; oi++) {
            call_events(p, &r, oi, &deltas, &done, &item);
            AT_STREQ(deltas, want[oi - 1], "interleaved: a call's deltas");
            AT_STREQ(done, want[oi - 1], "interleaved: arguments.done whole");
            AT_STREQ(item, want[oi - 1], "interleaved: item.done whole");
            AT_STREQ(sat(res, apr_psprintf(p, "output.%d.arguments", oi)),
                     want[oi - 1], "interleaved: resource = events");
        }
    }
    /* the message closes when the first call opens; the calls at the
     * finish, in output_index order */
    AT_STREQ(sat(APR_ARRAY_IDX(r.ev, 7, json_object *), "type"),
             "response.output_item.done", "interleaved: message done...");
    AT_INTEQ(iat(APR_ARRAY_IDX(r.ev, 7, json_object *), "output_index"), 0,
             "...before the first call is added");
    for (k = r.ev->nelts - 5, oi = 1; oi <= 2; oi++, k += 2) {
        json_object *e = APR_ARRAY_IDX(r.ev, k, json_object *);
        AT_STREQ(sat(e, "type"), "response.function_call_arguments.done",
                 "interleaved: calls done at the finish");
        AT_INTEQ(iat(e, "output_index"), oi, "interleaved: in order");
    }
}

/* A provider error that echoes a credential: redacted before the client
 * or the log can see it (stream chunk and 200 + error body). */
static void redaction(apr_pool_t *p)
{
    static const char secret[] = "sk-proj-SECRETSECRET1234";
    const char *s, *msg, *ev_msg;
    aura_rb_t *rb;
    rec r;

    s = CH("{\"content\":\"Hi\"}", "null")
        "data: {\"error\":{\"message\":\"bad header Authorization: Bearer "
        "sk-proj-SECRETSECRET1234 for key=abcdef123\"}}\n\n";
    rb = synth(p, s, &r, 0);
    msg = sat(aura_rb_resource(rb), "error.message");
    ev_msg = sat(APR_ARRAY_IDX(r.ev, r.ev->nelts - 2, json_object *),
                 "error.message");
    AT_OK(msg && !strstr(msg, secret) && !strstr(msg, "abcdef123")
          && strstr(msg, "Bearer [redacted]"), "stream error: redacted");
    AT_STREQ(ev_msg, msg, "stream error: the error event too");
    AT_OK(!strstr(aura_json_str(p, aura_rb_resource(rb), NULL), "SECRET"),
          "stream error: nowhere in the resource");

    s = "{\"error\":{\"message\":\"Incorrect API key provided: "
        "sk-proj-SECRETSECRET1234.\",\"code\":\"invalid_api_key\"}}";
    rb = decode(p, s, strlen(s), 0, 0, &r);
    msg = sat(aura_rb_resource(rb), "error.message");
    AT_STREQ(msg, "upstream error: Incorrect API key provided: [redacted].",
             "body error: redacted");
}

/* The content cap stops a runaway stream (and an oversized body): the
 * feed returns APR_ENOSPC, the client gets error + response.failed. */
static void content_cap(apr_pool_t *p)
{
    const char *s, *bad;
    apr_status_t rv;
    aura_rb_t *rb;
    rec r;
    int k;

    s = CH("{\"content\":\"0123456789\"}", "null")
        CH("{\"content\":\"0123456789\"}", "null")
        CH("{\"content\":\"more\"}", "null")
        CH("{}", "\"stop\"") "data: [DONE]\n\n";
    for (k = 0; k < 3; k++) {
        rb = decode_ex(p, NULL, s, strlen(s), feed_pieces[k], 1, &r, 16, &rv);
        AT_INTEQ(rv, APR_ENOSPC, "cap: feed returns APR_ENOSPC");
        AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
                 "upstream_response_too_large", "cap: code");
        AT_STREQ(sat(aura_rb_resource(rb), "output.0.content.0.text"),
                 "0123456789", "cap: what fit is kept");
        bad = check_events(p, &r, 1);
        AT_OK(!bad, bad ? bad : "cap: stream rules (error, failed)");
        AT_STREQ(sat(APR_ARRAY_IDX(r.ev, r.ev->nelts - 1, json_object *),
                     "type"), "response.failed", "cap: response.failed");
    }
    /* under the cap: untouched */
    rb = decode_ex(p, NULL, s, strlen(s), 0, 1, &r, 24, &rv);
    AT_INTEQ(rv, APR_SUCCESS, "cap: 24 bytes fit");
    AT_STREQ(sat(aura_rb_resource(rb), "status"), "completed",
             "cap: completed under the cap");

    s = "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"0123456789\"},"
        "\"finish_reason\":\"stop\"}]}";
    rb = decode_ex(p, NULL, s, strlen(s), 7, 0, &r, 32, &rv);
    AT_INTEQ(rv, APR_ENOSPC, "body cap: feed returns APR_ENOSPC");
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_response_too_large", "body cap: code");
    rb = decode_ex(p, NULL, s, strlen(s), 7, 0, &r, strlen(s), &rv);
    AT_STREQ(sat(aura_rb_resource(rb), "status"), "completed",
             "body cap: a body of exactly the cap is fine");
}

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

    interleaved_calls(p);

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
    redaction(p);
    content_cap(p);
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
