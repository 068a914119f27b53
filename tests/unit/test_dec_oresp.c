/*
 * test_dec_oresp.c - the OpenAI Responses decoder against the real recorded
 * transcripts in tests/fixtures/openai (four consecutive agent streams with
 * reasoning summaries and function calls, a stream with cached and
 * reasoning tokens, two non-streaming bodies), whole and split into 1-byte
 * and 7-byte pieces, plus synthetic streams for the edge cases (a deeply
 * nested tool schema echoed back, credential redaction, the content cap).
 *
 * The "C" fixtures hold one event payload per line; they are re-framed as
 * "event: <type>\ndata: <line>\n\n". Fixtures are found under
 * $AURA_FIXTURES (default "tests/fixtures", relative to the repo root).
 */
#define DEC_CHECK_DECODER aura_oresp_decoder
#include "dec_check.h"

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
        fx_read_in(p, "openai", "openai__responses_stream_reasoning_function_call_chunks.txt",
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
        fx_read_in(p, "openai", "openai__responses_stream_cached_reasoning_tokens_chunks.txt",
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
                        fx_read_in(p, "openai", "openai__responses_nonstream_text.json", &n));
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
                        fx_read_in(p, "openai", "openai__responses_nonstream_reasoning.json",
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

/* A tool schema nested `levels` deep: {"type":"object","properties":
 * {"x":{...}}} ... {"type":"string"}. */
static const char *deep_schema(apr_pool_t *p, int levels)
{
    const char *s = "{\"type\":\"string\"}";
    int i;
    for (i = 0; i < levels; i++)
        s = apr_pstrcat(p, "{\"type\":\"object\",\"properties\":{\"x\":", s,
                        "}}", NULL);
    return s;
}

/* The Responses API echoes the request's tools in response.created and
 * response.completed: a deeply nested schema the request parser accepted
 * must not fail the paid-for answer (json-c's default depth is 32). */
static void deep_echo(apr_pool_t *p)
{
    const char *schema = deep_schema(p, 20);
    const char *tools = apr_pstrcat(p, "\"tools\":[{\"type\":\"function\","
                                    "\"name\":\"f\",\"parameters\":", schema,
                                    "}]", NULL);
    const char *s, *bad;
    aura_request_t *req = req_new(p);
    json_object *res;
    json_tokener *tok;
    aura_rb_t *rb;
    rec r;
    int k;

    tok = json_tokener_new_ex(AURA_JSON_DEPTH);
    json_object_array_add(req->tools, json_tokener_parse_ex(tok, apr_pstrcat(p,
        "{\"type\":\"function\",\"name\":\"f\",\"parameters\":", schema, "}",
        NULL), -1));
    json_tokener_free(tok);
    AT_OK(json_object_array_get_idx(req->tools, 0) != NULL,
          "deep: the request's schema parsed");
    s = apr_pstrcat(p,
        "event: response.created\ndata: {\"type\":\"response.created\","
        "\"response\":{\"status\":\"in_progress\",", tools, "}}\n\n",
        EV("response.output_item.added", "\"output_index\":0,\"item\":"
           "{\"type\":\"message\",\"id\":\"m\",\"status\":\"in_progress\"}")
        EV("response.output_text.delta", "\"output_index\":0,\"item_id\":"
           "\"m\",\"content_index\":0,\"delta\":\"deep\""),
        "event: response.completed\ndata: {\"type\":\"response.completed\","
        "\"response\":{\"status\":\"completed\",", tools, ",\"output\":[],"
        "\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n", NULL);
    for (k = 0; k < 3; k++) {
        rb = decode_ex(p, req, s, strlen(s), feed_pieces[k], 1, &r, 0, NULL);
        res = aura_rb_resource(rb);
        bad = check_events(p, &r, 1);
        AT_OK(!bad, bad ? bad : "deep: stream rules");
        AT_STREQ(sat(res, "status"), "completed", "deep: completed");
        AT_STREQ(sat(res, "output.0.content.0.text"), "deep", "deep: text");
        AT_STREQ(sat(res, "tools.0.parameters.properties.x.properties.x.type"),
                 "object", "deep: schema echoed in the resource");
    }

    /* past AURA_JSON_DEPTH an event is still refused, cleanly */
    schema = deep_schema(p, AURA_JSON_DEPTH);
    s = apr_pstrcat(p, "event: response.created\ndata: {\"type\":"
                    "\"response.created\",\"response\":{\"tools\":[{"
                    "\"parameters\":", schema, "}]}}\n\n", NULL);
    rb = decode(p, s, strlen(s), 0, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "deeper than AURA_JSON_DEPTH: upstream_bad_response");
}

/* Upstream error text with a credential in it is redacted (error event,
 * response.failed, error body). */
static void redaction(apr_pool_t *p)
{
    const char *s, *msg;
    aura_rb_t *rb;
    rec r;

    s = "event: error\ndata: {\"type\":\"error\",\"code\":\"invalid_api_key\","
        "\"message\":\"Incorrect API key provided: sk-live-TOPSECRET99.\","
        "\"param\":null}\n\n";
    rb = synth(p, s, &r, 0);
    msg = sat(aura_rb_resource(rb), "error.message");
    AT_STREQ(msg, "upstream error: Incorrect API key provided: [redacted].",
             "error event: redacted");
    AT_STREQ(sat(APR_ARRAY_IDX(r.ev, r.ev->nelts - 2, json_object *),
                 "error.message"), msg, "error event: the client's copy too");
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "invalid_api_key",
             "error event: code kept");

    s = EV("response.failed", "\"response\":{\"status\":\"failed\",\"error\":"
           "{\"code\":\"server_error\",\"message\":\"echo: Authorization: "
           "Bearer abc.def.TOPSECRET\"}}");
    rb = synth(p, s, &r, 3);
    msg = sat(aura_rb_resource(rb), "error.message");
    AT_OK(msg && !strstr(msg, "TOPSECRET")
          && strstr(msg, "Bearer [redacted]"), "response.failed: redacted");
    AT_OK(!strstr(aura_json_str(p, APR_ARRAY_IDX(r.ev, r.ev->nelts - 1,
                                                 json_object *), NULL),
                  "TOPSECRET"), "response.failed event: redacted");

    s = "{\"error\":{\"message\":\"key=TOPSECRET123 rejected\"}}";
    rb = decode(p, s, strlen(s), 0, 0, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.message"),
             "upstream error: key=[redacted] rejected", "error body: redacted");
}

/* The content cap through the relay (summary deltas and a done event's
 * catch-up count alike). */
static void content_cap(apr_pool_t *p)
{
    const char *s, *bad;
    apr_status_t rv;
    aura_rb_t *rb;
    rec r;

    s = EV("response.output_item.added", "\"output_index\":0,\"item\":"
           "{\"type\":\"reasoning\",\"id\":\"rs\",\"summary\":[]}")
        EV("response.reasoning_summary_text.delta", "\"output_index\":0,"
           "\"item_id\":\"rs\",\"summary_index\":0,\"delta\":\"abcdef\"")
        EV("response.reasoning_summary_text.done", "\"output_index\":0,"
           "\"item_id\":\"rs\",\"summary_index\":0,\"text\":\"abcdefghijkl\"")
        COMPLETED("completed", "");
    rb = decode_ex(p, NULL, s, strlen(s), 5, 1, &r, 8, &rv);
    AT_INTEQ(rv, APR_ENOSPC, "cap: feed returns APR_ENOSPC");
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_response_too_large", "cap: code");
    bad = check_events(p, &r, 1);
    AT_OK(!bad, bad ? bad : "cap: stream rules");
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
    deep_echo(p);
    redaction(p);
    content_cap(p);
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
