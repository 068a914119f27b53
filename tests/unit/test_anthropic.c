/*
 * test_anthropic.c - the Anthropic Messages adapter: the decoder against
 * every recorded Anthropic transcript in tests/fixtures/anthropic (whole,
 * and split into 1-byte and 7-byte pieces), synthetic streams for the
 * edge cases, the encoder's exact JSON, and request().
 *
 * Fixtures are found under $AURA_FIXTURES (default "tests/fixtures",
 * relative to the repository root the tests run from).
 */
#include <time.h>
#include <unistd.h>

#include "aura_adapter.h"
#include "aura_anthropic.h"

#define DEC_CHECK_DECODER aura_anthropic_decoder
#include "dec_check.h"
#include "scale_check.h"

/* dec_check.h reads from the openai folder; ours is its sibling. */
static const char *fx(apr_pool_t *p, const char *name)
{
    apr_size_t n;
    return fx_read_in(p, "anthropic", name, &n);
}

/* "C" fixtures: one payload per line -> Anthropic's framing,
 * "event: <type>\ndata: <line>\n\n" (the recorder dropped both). */
static const char *frame_lines(apr_pool_t *p, const char *in)
{
    const char *out = "";
    char *copy = apr_pstrdup(p, in), *save = NULL, *l;

    for (l = apr_strtok(copy, "\n", &save); l; l = apr_strtok(NULL, "\n",
                                                             &save)) {
        json_object *o = aura_json_pool(p, json_tokener_parse(l));
        if (*l)
            out = apr_pstrcat(p, out, "event: ", aura_json_string(o, "type"),
                              "\ndata: ", l, "\n\n", NULL);
    }
    return out;
}

static size_t n_out(json_object *res)
{
    return json_object_array_length(aura_json_get(res, "output"));
}

/* ---- the recorded streams ------------------------------------------------ */

static void stream_text(apr_pool_t *p)
{
    json_object *res = stream_all_ways(p, "text+ping",
        fx(p, "anthropic__messages_stream_text_ping.sse"));

    AT_STREQ(sat(res, "status"), "completed", "text: completed");
    AT_INTEQ(n_out(res), 1, "text: one item");
    AT_STREQ(sat(res, "output.0.type"), "message", "text: a message");
    AT_STREQ(sat(res, "output.0.content.0.text"), "[12345,67890]",
             "text: every delta");
    usage_is(res, 135, 0, 10, 0, "text");
}

static void stream_tools(apr_pool_t *p)
{
    json_object *res = stream_all_ways(p, "tool_use",
        fx(p, "anthropic__messages_stream_tool_use.sse"));

    AT_STREQ(sat(res, "status"), "completed", "tool: completed");
    AT_INTEQ(n_out(res), 1, "tool: one item");
    AT_STREQ(sat(res, "output.0.type"), "function_call", "tool: a call");
    AT_STREQ(sat(res, "output.0.call_id"), "toolu_018acGYLtfR52q9yDbWaEdQZ",
             "tool: call id");
    AT_STREQ(sat(res, "output.0.name"), "get_weather", "tool: name");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"location\": \"San Francisco, CA\", \"units\": \"f\"}",
             "tool: arguments from every input_json_delta");
    usage_is(res, 656, 0, 74, 0, "tool");

    res = stream_all_ways(p, "text then tool",
        fx(p, "anthropic__messages_stream_text_then_tool_use.sse"));
    AT_INTEQ(n_out(res), 2, "text+tool: two items");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "I'll check the current weather in Paris for you.",
             "text+tool: text");
    AT_STREQ(sat(res, "output.1.call_id"), "toolu_01NRLabsLyVHZPKxbKvkfSMn",
             "text+tool: call id");
    AT_STREQ(sat(res, "output.1.arguments"), "{\"location\": \"Paris\"}",
             "text+tool: arguments");
    usage_is(res, 377, 0, 65, 0, "text+tool (output from message_delta)");
}

static void stream_thinking(apr_pool_t *p)
{
    json_object *res = stream_all_ways(p, "thinking 3.7",
        fx(p, "anthropic__messages_stream_thinking_signature.sse"));
    const char *think = sat(res, "output.0.content.0.text");

    AT_INTEQ(n_out(res), 2, "thinking: reasoning + message");
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "thinking: first");
    AT_STREQ(think, "I need to calculate the product of 15 and 3.\n\n"
             "I can do this step-by-step:\n15 * 3 = 15 + 15 + 15 = 45\n\n"
             "Alternatively, I could do:\n15 * 3 = (10 + 5) * 3 = 10 * 3 + "
             "5 * 3 = 30 + 15 = 45\n\nEither way, the answer is 45.",
             "thinking: all 30 thinking_deltas, ping in between");
    AT_STREQ(sat(res, "output.0.encrypted_content"),
             "aura:anthropic:ErUBCkYICBgCIkCe6vTdwVvupJ/YvhOhOc0fy9yM8K0WqRL"
             "mw6JZk1i8kB733WHt2iVP12ANsPNuIeryNc5UfJzgeCEt5urc3+3VEgyxrjs8m"
             "xQnpiEPaQsaDD3MmKfVlxFjoKWL1CIwh2RzFq/y1aFxrMan98TF/VwxVApqBxh"
             "LshyeMwL6qLNR64QFSzhC5q54pPMuHrkIKh0wx8TvFRx7cfipS35HTY6KfaNLv"
             "isam8ClPxGKQxgC", "thinking: signature carried");
    AT_STREQ(sat(res, "output.1.content.0.text"),
             "To multiply 15 by 3, I'll find the product of these numbers."
             "\n\n15 \xc3\x97 3 = 45\n\nThe answer is 45.", "thinking: text");
    usage_is(res, 66, 0, 158, 0, "thinking");

    res = stream_all_ways(p, "thinking sonnet 4.5", frame_lines(p,
        fx(p, "anthropic__messages_stream_thinking_signature_chunks.txt")));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "The previous result was 925. Now I need to divide that by 5."
             "\n\n925 \xc3\xb7 5 = 185", "thinking 4.5: text");
    AT_STREQ(sat(res, "output.0.encrypted_content"),
             "aura:anthropic:EvQBCkYICxgCKkAxhD4NUKFzudtZ6NzbZdEiBACIScTzqjPV"
             "iM596iWLZIk4EFKYYBj3B6Ptl3b0dcQv/VeJBNbejNWIWRBn+KPNEgz6HWtKx7p+"
             "QRgKsEoaDGjsiqfht7gTRFYHiyIwD1VSmNqHxv3wy8KEMP+LYb/TC4UH3H97tuoa"
             "ADARFFcA0phdfxnzKQxFnc9lwY+dKlzUsaKSUAFeu1bDL5ikZJ1vL0Fkz6JjoFke"
             "0L/wOJRIUDUlDUOFJ1tZ3ea7g6LGE/5hwuvWgLwewdcm64d+43l7F57XrOmqNd6f"
             "lI2K/oPr/4yzNgvi/EhT6Ca17BgB", "thinking 4.5: signature");
    AT_STREQ(sat(res, "output.1.content.0.text"), "925 \xc3\xb7 5 = 185",
             "thinking 4.5: answer");
    usage_is(res, 69, 0, 53, 0, "thinking 4.5");
}

/* Server tools (code execution) are skipped; the cache counts are summed
 * into input: 6 + 3337 written + 6289 read (message_delta's final counts
 * replace message_start's 2 + 3068). */
static void stream_server_tools(apr_pool_t *p)
{
    const char *s = frame_lines(p, fx(p, "anthropic__messages_stream_cache_"
                                         "creation_server_tools_chunks.txt"));
    json_object *res = stream_all_ways(p, "server tools + cache", s);
    rec r;
    aura_rb_t *rb;

    AT_STREQ(sat(res, "status"), "completed", "server tools: completed");
    AT_INTEQ(n_out(res), 1, "server tools: only the text is an item");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "The sum of the squares of the numbers 1 through 12 is **650**.",
             "server tools: text");
    usage_is(res, 9632, 6289, 198, 0, "server tools");
    rb = decode(p, s, strlen(s), 7, 1, &r);
    AT_INTEQ(aura_rb_get_cache_write(rb), 3337,
             "server tools: 3337 cache-write tokens (message_start: 3068)");
    rb = decode(p, s, strstr(s, "event: content_block_start") - s, 0, 1, &r);
    AT_INTEQ(aura_rb_get_cache_write(rb), 3068,
             "server tools: message_start's cache writes count already");
    s = fx(p, "anthropic__messages_nonstream_cache_read.json");
    rb = decode(p, s, strlen(s), 0, 0, &r);
    AT_INTEQ(aura_rb_get_cache_write(rb), 0, "cache read: no cache writes");
}

/* ---- tracing what is skipped ------------------------------------------ */

/* A capturing logger: the lines of every level up to `trace_max`, as
 * "<level> [<id>] <message>". */
static apr_array_header_t *traced;
static int trace_max;

static int cap_is_level(const aura_log_ctx_t *ctx, int level)
{
    (void)ctx;
    return level <= trace_max;
}

static void cap_print(const char *file, int line, int level,
                      const aura_log_ctx_t *ctx, const char *msg)
{
    (void)file; (void)line;
    APR_ARRAY_PUSH(traced, const char *) = apr_psprintf(
        traced->pool, "%d [%s] %s", level, ctx->id, msg);
}

/* The traced lines joined by "\n" ("" when none). */
static const char *trace_of(apr_pool_t *p, const char *s, int level_max,
                            const char **dg)
{
    rec r;
    aura_rb_t *rb;

    traced = apr_array_make(p, 4, sizeof(const char *));
    trace_max = level_max;
    rb = decode(p, s, strlen(s), 7, 1, &r);
    *dg = digest(p, aura_rb_resource(rb));
    return apr_array_pstrcat(p, traced, '\n');
}

static void stream_traced(apr_pool_t *p)
{
    const char *s = fx(p, "anthropic__messages_stream_text_ping.sse");
    const char *ping = strstr(s, "event: ping");
    const char *odd = ping ? apr_pstrcat(p, apr_pstrndup(p, s, ping - s),
        "event: content_block_sparkle\n"
        "data: {\"type\":\"content_block_sparkle\",\"index\":0}\n\n",
        ping, NULL) : "";
    const char *plain, *got, *lines;

    aura_log_set(cap_is_level, cap_print);
    dec_check_log = aura_log_ctx_make(p, "req_t1", NULL);
    stream_all_ways(p, "text+ping+unknown event", odd);
    trace_of(p, s, AURA_LOG_TRACE8, &plain);
    lines = trace_of(p, odd, AURA_LOG_TRACE1, &got);
    AT_OK(strstr(lines, "8 [req_t1] anthropic: event content_block_sparkle "
                        "ignored") != NULL,
          "unknown event: a TRACE1 line with the request id names it");
    AT_STREQ(got, plain, "unknown event: the same answer as without it");
    AT_STREQ(trace_of(p, s, AURA_LOG_TRACE8, &got), "",
             "recorded text+ping: nothing traced (ping is no news)");
    AT_STREQ(trace_of(p, odd, AURA_LOG_DEBUG, &got), "",
             "trace off: no line");
    AT_STREQ(got, plain, "trace off: the same answer");
    s = frame_lines(p, fx(p, "anthropic__messages_stream_cache_"
                             "creation_server_tools_chunks.txt"));
    lines = trace_of(p, s, AURA_LOG_TRACE1, &got);
    AT_OK(strstr(lines, "content block 0 of type server_tool_use skipped")
              != NULL, "server tools: the skipped block is traced by type");
    AT_OK(!strstr(lines, "input_json_delta"),
          "server tools: its deltas are not traced one by one");
    dec_check_log = NULL;
    aura_log_set(NULL, NULL);
}

static void stream_error(apr_pool_t *p)
{
    json_object *res = stream_all_ways(p, "overloaded event",
        fx(p, "anthropic__messages_stream_error_event_overloaded.sse"));

    AT_STREQ(sat(res, "status"), "failed", "overloaded: failed");
    AT_STREQ(sat(res, "error.code"), "upstream_overloaded",
             "overloaded: code");
    AT_STREQ(sat(res, "error.message"), "upstream error: Overloaded",
             "overloaded: message");
}

/* ---- the recorded bodies ------------------------------------------------ */

static void body_text(apr_pool_t *p)
{
    json_object *res = body_all_ways(p, "body text",
        fx(p, "anthropic__messages_nonstream_text.json"));

    AT_STREQ(sat(res, "output.0.content.0.text"),
             "{\"product_name\": \"Green Tea\", \"price\": 5.50, "
             "\"quantity\": 2}", "body text: text");
    AT_STREQ(sat(res, "status"), "completed", "body text: completed");
    usage_is(res, 249, 0, 26, 0, "body text");

    res = body_all_ways(p, "body cache read",
        fx(p, "anthropic__messages_nonstream_cache_read.json"));
    AT_STREQ(sat(res, "output.0.content.0.text"), "OK", "cache read: text");
    usage_is(res, 16533, 16522, 4, 0, "cache read: 11 + 16522 read");
}

static void body_tools(apr_pool_t *p)
{
    json_object *res = body_all_ways(p, "body tool",
        fx(p, "anthropic__messages_nonstream_tool_use.json"));

    AT_INTEQ(n_out(res), 1, "body tool: one item");
    AT_STREQ(sat(res, "output.0.call_id"), "toolu_01A9HHF5Ezy3oBrKmSgfASm9",
             "body tool: id");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"location\":\"San Francisco, CA\",\"units\":\"f\"}",
             "body tool: input serialized");
    usage_is(res, 656, 0, 74, 0, "body tool");

    res = body_all_ways(p, "body server tool",
        fx(p, "anthropic__messages_nonstream_text_server_tool_use_tool_"
              "use.json"));
    AT_INTEQ(n_out(res), 2, "server tool body: text + the client call");
    AT_STREQ(sat(res, "output.0.content.0.text"), "I'll check the weather "
             "for all three cities in Celsius simultaneously.",
             "server tool body: text");
    AT_STREQ(sat(res, "output.1.name"), "get_weather",
             "server tool body: the client tool, not code_execution");
    AT_STREQ(sat(res, "output.1.arguments"),
             "{\"location\":\"San Francisco, CA\",\"units\":\"c\"}",
             "server tool body: arguments");
    usage_is(res, 3182, 0, 237, 0, "server tool body");
}

static void body_thinking(apr_pool_t *p)
{
    json_object *res = body_all_ways(p, "body thinking",
        fx(p, "anthropic__messages_nonstream_thinking.json"));

    AT_STREQ(sat(res, "output.0.type"), "reasoning", "body thinking: first");
    AT_STREQ(sat(res, "output.0.content.0.text"), "925 divided by 5 = 185",
             "body thinking: text");
    AT_OK(!strncmp(sat(res, "output.0.encrypted_content"),
                   "aura:anthropic:Er4BCkYICxgCKkCoxqLH", 35),
          "body thinking: signature");
    AT_STREQ(sat(res, "output.1.content.0.text"),
             "925 \xc3\xb7 5 = 185", "body thinking: text");
    usage_is(res, 69, 0, 33, 0, "body thinking");
}

/* 4xx bodies normally stop at the glue (aura_upstream.c); a decoder that
 * is handed one still fails cleanly with the upstream's message. */
static void body_errors(apr_pool_t *p)
{
    const char *names[] = { "anthropic__error_429_rate_limit_error.json",
                            "anthropic__error_400_invalid_request_error.json" };
    int i;

    for (i = 0; i < 2; i++) {
        rec r;
        const char *b = fx(p, names[i]);
        aura_rb_t *rb = decode(p, b, strlen(b), 7, 0, &r);
        json_object *res = aura_rb_resource(rb);

        AT_OK(aura_rb_failed(rb), "error body: failed");
        AT_STREQ(sat(res, "error.code"), "upstream_error", "error body: code");
        AT_OK(strstr(sat(res, "error.message"), i ? "tool_use_id"
                                                  : "rate limit") != NULL,
              "error body: the upstream's message");
    }
}

/* ---- synthetic streams: the edge cases ----------------------------------- */

#define EV(type, json) "event: " type "\ndata: " json "\n\n"
#define START EV("message_start", "{\"type\":\"message_start\",\"message\":" \
    "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\"," \
    "\"content\":[],\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}")

static const char *const max_tokens_stream =
    START
    EV("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":\"Once upon\"}}")
    EV("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
    EV("message_delta", "{\"type\":\"message_delta\",\"delta\":{"
       "\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":16}}")
    EV("message_stop", "{\"type\":\"message_stop\"}");

static void edge_stop_reasons(apr_pool_t *p)
{
    json_object *res = stream_all_ways(p, "max_tokens", max_tokens_stream);
    const char *refusal;

    AT_STREQ(sat(res, "status"), "incomplete", "max_tokens: incomplete");
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "max_tokens: reason");
    AT_STREQ(sat(res, "output.0.status"), "incomplete", "max_tokens: item");
    usage_is(res, 10, 0, 16, 0, "max_tokens");

    refusal = apr_pstrcat(p, START,
        EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
        EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
           "\"I can't help with that.\"}}")
        EV("content_block_stop", "{\"type\":\"content_block_stop\","
           "\"index\":0}")
        EV("message_delta", "{\"type\":\"message_delta\",\"delta\":{"
           "\"stop_reason\":\"refusal\"},\"usage\":{\"output_tokens\":7}}")
        EV("message_stop", "{\"type\":\"message_stop\"}"), NULL);
    res = stream_all_ways(p, "refusal", refusal);
    AT_STREQ(sat(res, "status"), "incomplete", "refusal: incomplete");
    AT_STREQ(sat(res, "incomplete_details.reason"), "content_filter",
             "refusal: content_filter");
    AT_STREQ(sat(res, "output.0.content.0.text"), "I can't help with that.",
             "refusal: its text kept");
}

/* Redacted thinking and a tool call without arguments (no
 * input_json_delta with content: "{}"); then a truncated stream. */
static void edge_blocks(apr_pool_t *p)
{
    const char *s = apr_pstrcat(p, START,
        EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":0,\"content_block\":{\"type\":\"redacted_thinking\","
           "\"data\":\"EmwKAhgBEgy3va3pzix\"}}")
        EV("content_block_stop", "{\"type\":\"content_block_stop\","
           "\"index\":0}")
        EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":"
           "\"toolu_x\",\"name\":\"now\",\"input\":{}}}")
        EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
           "\"partial_json\":\"\"}}")
        EV("content_block_stop", "{\"type\":\"content_block_stop\","
           "\"index\":1}")
        EV("message_delta", "{\"type\":\"message_delta\",\"delta\":{"
           "\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":5}}")
        EV("message_stop", "{\"type\":\"message_stop\"}"), NULL);
    json_object *res = stream_all_ways(p, "redacted + no-arg call", s);
    rec r;
    aura_rb_t *rb;

    AT_STREQ(sat(res, "output.0.encrypted_content"),
             "aura:anthropic-redacted:EmwKAhgBEgy3va3pzix",
             "redacted_thinking preserved");
    AT_STREQ(sat(res, "output.1.arguments"), "{}", "no-arg call: {}");

    s = fx(p, "anthropic__messages_stream_text_ping.sse");
    rb = decode(p, s, strstr(s, "event: message_delta") - s, 0, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_stream_truncated", "cut before message_delta");
    rb = decode(p, s, strstr(s, "event: message_stop") - s, 0, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "status"), "completed",
             "cut after message_delta: whole");
    s = "event: ping\ndata: {\"type\": \"ping\"}\n\ndata: {\"ty";
    rb = decode(p, s, strlen(s), 0, 1, &r);
    AT_OK(aura_rb_failed(rb), "ends mid-JSON: failed");
    s = "event: message_start\ndata: not json\n\n";
    rb = decode(p, s, strlen(s), 0, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "malformed event: upstream_bad_response");
}

/* ---- the encoder ---------------------------------------------------------- */

static aura_target_t target(void)
{
    aura_target_t t;

    memset(&t, 0, sizeof(t));
    t.provider = "anth";
    t.upstream_model = "claude-x";
    t.base_url = "https://api.anthropic.com";
    t.key = "sk-ant-test";
    return t;
}

/* The encoded body for a /v1/responses body, or "ERR <status> <param>". */
static const char *enc_t(apr_pool_t *p, const char *json,
                         const aura_target_t *t)
{
    aura_request_t *req;
    aura_error_t *e = aura_request_parse(p, json, strlen(json), &req);
    const char *body;

    if (!e)
        e = aura_adapter_anthropic.encode(p, req, t, &body, NULL);
    if (e)
        return apr_psprintf(p, "ERR %d %s", e->status,
                            e->param ? e->param : "-");
    return body;
}

static const char *enc(apr_pool_t *p, const char *json)
{
    aura_target_t t = target();
    return enc_t(p, json, &t);
}

static void enc_basics(apr_pool_t *p)
{
    aura_target_t t = target();

    AT_STREQ(enc(p, "{\"model\":\"m\",\"instructions\":\"Be brief.\","
        "\"input\":[{\"role\":\"system\",\"content\":\"Sys.\"},"
        "{\"role\":\"developer\",\"content\":\"Dev.\"},"
        "{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true,"
        "\"temperature\":0.7,\"top_p\":0.9,\"max_output_tokens\":100}"),
        "{\"model\":\"claude-x\",\"max_tokens\":100,\"system\":["
        "{\"type\":\"text\",\"text\":\"Be brief.\"},"
        "{\"type\":\"text\",\"text\":\"Sys.\"},"
        "{\"type\":\"text\",\"text\":\"Dev.\"}],\"messages\":[{\"role\":"
        "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}],"
        "\"temperature\":0.7,\"top_p\":0.9,\"stream\":true}",
        "enc: system hoisted, sampling as written, stream");
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":\"Hi\"}"),
        "{\"model\":\"claude-x\",\"max_tokens\":4096,\"messages\":[{\"role\":"
        "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}]}",
        "enc: max_tokens 4096 when nobody says");
    t.max_output_default = 64000;
    AT_STREQ(enc_t(p, "{\"model\":\"m\",\"instructions\":\"I.\","
        "\"input\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\","
        "\"content\":\"b\"},{\"role\":\"assistant\",\"content\":\"c\"}],"
        "\"safety_identifier\":\"u-42\"}", &t),
        "{\"model\":\"claude-x\",\"max_tokens\":64000,\"system\":\"I.\","
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
        "\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]},{\"role\":"
        "\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"c\"}]}],"
        "\"metadata\":{\"user_id\":\"u-42\"}}",
        "enc: registry max_tokens, one system string, turns merged");
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":\"Hi\","
                    "\"previous_response_id\":\"resp_1\"}"),
             "ERR 400 previous_response_id", "enc: previous_response_id");
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":[{\"type\":\"item_reference\","
                    "\"id\":\"x\"}]}"), "ERR 400 input[0]",
             "enc: item_reference");
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":\"Hi\","
                    "\"presence_penalty\":0.5}"),
             "ERR 400 presence_penalty", "enc: penalties refused");
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":\"Hi\",\"text\":{\"format\":"
                    "{\"type\":\"json_object\"}}}"),
             "ERR 400 text.format.type", "enc: json_object refused");
}

#define WEATHER "{\"type\":\"function\",\"name\":\"get_weather\"," \
    "\"description\":\"Weather\",\"parameters\":{\"type\":\"object\"," \
    "\"properties\":{\"city\":{\"type\":\"string\"}}}}"
#define CLOCK "{\"type\":\"function\",\"name\":\"now\"}"
#define WEATHER_OUT "{\"name\":\"get_weather\",\"description\":\"Weather\"," \
    "\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":" \
    "{\"type\":\"string\"}}}}"
#define CLOCK_OUT "{\"name\":\"now\",\"input_schema\":{\"type\":\"object\"," \
    "\"properties\":{}}}"

/* Consecutive calls → one assistant turn; their outputs → one user turn
 * of tool_result blocks in order, the next user text merged after them. */
static void enc_tool_loop(apr_pool_t *p)
{
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":["
        "{\"role\":\"user\",\"content\":\"Weather?\"},"
        "{\"type\":\"function_call\",\"call_id\":\"toolu_1\",\"name\":"
        "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"},"
        "{\"type\":\"function_call\",\"call_id\":\"call.2/x\",\"name\":"
        "\"now\",\"arguments\":\"\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"toolu_1\","
        "\"output\":\"sunny\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"call.2/x\","
        "\"output\":[{\"type\":\"input_text\",\"text\":\"noon\"}]},"
        "{\"role\":\"user\",\"content\":\"And?\"}],"
        "\"tools\":[" WEATHER "," CLOCK "],\"tool_choice\":\"required\","
        "\"parallel_tool_calls\":false,\"max_output_tokens\":50}"),
        "{\"model\":\"claude-x\",\"max_tokens\":50,\"messages\":["
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"Weather?\"}]},{\"role\":\"assistant\",\"content\":["
        "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\","
        "\"input\":{\"city\":\"Paris\"}},{\"type\":\"tool_use\",\"id\":"
        "\"call_2_x\",\"name\":\"now\",\"input\":{}}]},{\"role\":\"user\","
        "\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
        "\"content\":\"sunny\"},{\"type\":\"tool_result\",\"tool_use_id\":"
        "\"call_2_x\",\"content\":[{\"type\":\"text\",\"text\":\"noon\"}]},"
        "{\"type\":\"text\",\"text\":\"And?\"}]}],\"tools\":[" WEATHER_OUT
        "," CLOCK_OUT "],\"tool_choice\":{\"type\":\"any\","
        "\"disable_parallel_tool_use\":true}}",
        "enc: tool loop, ids mapped alike, required → any, no parallel");
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":["
        "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"now\","
        "\"arguments\":\"{}\"},{\"type\":\"function_call_output\","
        "\"call_id\":\"c1\",\"output\":\"noon\"}]}"),
        "{\"model\":\"claude-x\",\"max_tokens\":4096,\"messages\":["
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":"
        "\"c1\",\"name\":\"now\",\"input\":{}}]},{\"role\":\"user\","
        "\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"c1\","
        "\"content\":\"noon\"}]}],\"tools\":[{\"name\":\"now\","
        "\"input_schema\":{\"type\":\"object\"}}],\"tool_choice\":"
        "{\"type\":\"none\"}}",
        "enc: history calls without tools → declared, tool_choice none");
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":[{\"type\":\"function_call\","
        "\"call_id\":\"c1\",\"name\":\"now\",\"arguments\":\"[1]\"}]}"),
        "ERR 400 input[0].arguments", "enc: arguments not an object");
}

static void enc_choices(apr_pool_t *p)
{
    const char *base = "{\"model\":\"m\",\"input\":\"Hi\",\"tools\":["
                       WEATHER "," CLOCK "],\"tool_choice\":";
    const char *tools = "\"tools\":[" WEATHER_OUT "," CLOCK_OUT "],";

    AT_OK(strstr(enc(p, apr_pstrcat(p, base, "\"auto\"}", NULL)),
                 apr_pstrcat(p, tools, "\"tool_choice\":{\"type\":\"auto\"}}",
                             NULL)) != NULL, "enc: auto");
    AT_OK(strstr(enc(p, apr_pstrcat(p, base, "\"none\",\"parallel_tool_"
                                    "calls\":false}", NULL)),
                 "\"tool_choice\":{\"type\":\"none\"}}") != NULL,
          "enc: none (no disable_parallel_tool_use on none)");
    AT_OK(strstr(enc(p, apr_pstrcat(p, base, "{\"type\":\"function\","
                                    "\"name\":\"now\"}}", NULL)),
                 "\"tool_choice\":{\"type\":\"tool\",\"name\":\"now\"}}")
          != NULL, "enc: named function → tool");
    AT_OK(strstr(enc(p, apr_pstrcat(p, base, "{\"type\":\"allowed_tools\","
                     "\"mode\":\"required\",\"tools\":[{\"type\":\"function\","
                     "\"name\":\"now\"}]}}", NULL)),
                 "\"tools\":[" CLOCK_OUT "],\"tool_choice\":{\"type\":"
                 "\"any\"}}") != NULL, "enc: allowed_tools filters + mode");
    AT_OK(strstr(enc(p, "{\"model\":\"m\",\"input\":\"Hi\",\"tools\":["
                     WEATHER "],\"parallel_tool_calls\":false}"),
                 "\"tool_choice\":{\"type\":\"auto\","
                 "\"disable_parallel_tool_use\":true}}") != NULL,
          "enc: parallel_tool_calls false alone");
}

static void enc_media(apr_pool_t *p)
{
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":[{\"role\":\"user\","
        "\"content\":[{\"type\":\"input_text\",\"text\":\"Look\"},"
        "{\"type\":\"input_image\",\"image_url\":"
        "\"data:image/png;base64,iVBORw0KGgo=\"},"
        "{\"type\":\"input_image\",\"image_url\":"
        "\"https://example.com/a.jpg\",\"detail\":\"high\"},"
        "{\"type\":\"input_file\",\"filename\":\"a.pdf\",\"file_data\":"
        "\"data:application/pdf;base64,JVBERi0=\"},"
        "{\"type\":\"input_file\",\"file_url\":\"https://example.com/b.pdf\"}"
        "]}]}"),
        "{\"model\":\"claude-x\",\"max_tokens\":4096,\"messages\":[{\"role\":"
        "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Look\"},"
        "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":"
        "\"image/png\",\"data\":\"iVBORw0KGgo=\"}},{\"type\":\"image\","
        "\"source\":{\"type\":\"url\",\"url\":\"https://example.com/a.jpg\"}},"
        "{\"type\":\"document\",\"source\":{\"type\":\"base64\","
        "\"media_type\":\"application/pdf\",\"data\":\"JVBERi0=\"}},"
        "{\"type\":\"document\",\"source\":{\"type\":\"url\",\"url\":"
        "\"https://example.com/b.pdf\"}}]}]}",
        "enc: images (base64, url) and PDFs");
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":[{\"role\":\"user\","
        "\"content\":[{\"type\":\"input_image\",\"file_id\":\"file_1\"}]}]}"),
        "ERR 400 input[0].content[0]", "enc: image by file_id refused");
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":\"Hi\",\"text\":{\"format\":"
        "{\"type\":\"json_schema\",\"name\":\"x\",\"strict\":true,\"schema\":"
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
        "\"required\":[\"a\"],\"additionalProperties\":false}}}}"),
        "{\"model\":\"claude-x\",\"max_tokens\":4096,\"messages\":[{\"role\":"
        "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}],"
        "\"output_config\":{\"format\":{\"type\":\"json_schema\",\"schema\":"
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
        "\"required\":[\"a\"],\"additionalProperties\":false}}}}",
        "enc: json_schema → output_config.format");
}

#define SIG_ITEM "{\"type\":\"reasoning\",\"summary\":[],\"content\":[" \
    "{\"type\":\"reasoning_text\",\"text\":\"Think \"},{\"type\":" \
    "\"reasoning_text\",\"text\":\"more.\"}],\"encrypted_content\":" \
    "\"aura:anthropic:SIG1\"}"
#define RED_ITEM "{\"type\":\"reasoning\",\"summary\":[]," \
    "\"encrypted_content\":\"aura:anthropic-redacted:DATA1\"}"
#define OAI_ITEM "{\"type\":\"reasoning\",\"summary\":[{\"type\":" \
    "\"summary_text\",\"text\":\"s\"}],\"encrypted_content\":\"gAAAAB\"}"
#define CALL_ITEM "{\"type\":\"function_call\",\"call_id\":\"toolu_9\"," \
    "\"name\":\"now\",\"arguments\":\"{}\"}"
#define OUT_ITEM "{\"type\":\"function_call_output\",\"call_id\":" \
    "\"toolu_9\",\"output\":\"noon\"}"

/* Thinking goes back first in its assistant turn (signature and redacted
 * data as received); another provider's reasoning is dropped. */
static void enc_thinking(apr_pool_t *p)
{
    AT_STREQ(enc(p, "{\"model\":\"m\",\"input\":[{\"role\":\"user\","
        "\"content\":\"Time?\"}," SIG_ITEM "," RED_ITEM "," OAI_ITEM ","
        CALL_ITEM "," OUT_ITEM "],\"tools\":[" CLOCK "],\"reasoning\":"
        "{\"effort\":\"high\"},\"max_output_tokens\":1000,"
        "\"temperature\":0.5,\"top_p\":0.97}"),
        "{\"model\":\"claude-x\",\"max_tokens\":5096,\"messages\":["
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"Time?\"}]},{\"role\":\"assistant\",\"content\":[{\"type\":"
        "\"thinking\",\"thinking\":\"Think more.\",\"signature\":\"SIG1\"},"
        "{\"type\":\"redacted_thinking\",\"data\":\"DATA1\"},{\"type\":"
        "\"tool_use\",\"id\":\"toolu_9\",\"name\":\"now\",\"input\":{}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
        "\"tool_use_id\":\"toolu_9\",\"content\":\"noon\"}]}],\"tools\":["
        CLOCK_OUT "],\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":"
        "4096},\"top_p\":0.97}",
        "enc: high → 4096 budget, max_tokens raised, temperature left out");
    AT_OK(strstr(enc(p, "{\"model\":\"m\",\"input\":\"Hi\",\"reasoning\":"
                     "{\"effort\":\"low\"}}"),
                 "\"max_tokens\":4096,\"messages\"") != NULL
          && strstr(enc(p, "{\"model\":\"m\",\"input\":\"Hi\",\"reasoning\":"
                        "{\"effort\":\"low\"}}"),
                    "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":"
                    "1024}}") != NULL, "enc: low → 1024");
    AT_OK(strstr(enc(p, "{\"model\":\"m\",\"input\":\"Hi\",\"reasoning\":"
                     "{\"effort\":\"medium\"}}"), "\"budget_tokens\":2048")
          != NULL, "enc: medium → 2048");
    AT_OK(!strstr(enc(p, "{\"model\":\"m\",\"input\":\"Hi\",\"reasoning\":"
                      "{\"effort\":\"none\"}}"), "thinking"),
          "enc: none → no thinking");
    AT_OK(!strstr(enc(p, "{\"model\":\"m\",\"input\":[{\"role\":\"user\","
                      "\"content\":\"Time?\"}," OAI_ITEM "," CALL_ITEM ","
                      OUT_ITEM "],\"tools\":[" CLOCK "],\"reasoning\":"
                      "{\"effort\":\"high\"}}"), "thinking"),
          "enc: a tool loop from another provider goes without thinking");
    AT_OK(!strstr(enc(p, "{\"model\":\"m\",\"input\":\"Hi\",\"tools\":["
                      CLOCK "],\"tool_choice\":\"required\",\"reasoning\":"
                      "{\"effort\":\"high\"}}"), "thinking"),
          "enc: forced tool use goes without thinking");
    AT_OK(!strstr(enc(p, "{\"model\":\"m\",\"input\":[" SIG_ITEM ","
                      "{\"role\":\"user\",\"content\":\"x\"}]}"), "SIG1"),
          "enc: no thinking requested → thinking blocks not sent");
    AT_OK(strstr(enc(p, "{\"model\":\"m\",\"input\":[{\"role\":\"user\","
                     "\"content\":\"x\"},{\"type\":\"reasoning\",\"summary\":"
                     "[{\"type\":\"summary_text\",\"text\":\"a\"},{\"type\":"
                     "\"summary_text\",\"text\":\"\"},{\"type\":"
                     "\"summary_text\",\"text\":\"bc\"},{\"type\":"
                     "\"summary_text\",\"text\":\"d\"}],\"encrypted_content\":"
                     "\"aura:anthropic:S\"},{\"role\":\"user\",\"content\":"
                     "\"y\"}],\"reasoning\":{\"effort\":\"high\"}}"),
                 "{\"type\":\"thinking\",\"thinking\":\"abcd\","
                 "\"signature\":\"S\"}") != NULL,
          "enc: summaries joined exactly when there is no content");
    AT_OK(strstr(enc(p, "{\"model\":\"m\",\"input\":[{\"role\":\"user\","
                     "\"content\":\"x\"},{\"type\":\"reasoning\",\"summary\":"
                     "[],\"encrypted_content\":\"aura:anthropic:S\"},"
                     "{\"role\":\"user\",\"content\":\"y\"}],\"reasoning\":"
                     "{\"effort\":\"high\"}}"),
                 "{\"type\":\"thinking\",\"thinking\":\"\","
                 "\"signature\":\"S\"}") != NULL,
          "enc: no parts → empty thinking text");
}

/* Each function called in the history is declared once, in order of
 * first use. */
static void enc_history_names(apr_pool_t *p)
{
    AT_OK(strstr(enc(p, "{\"model\":\"m\",\"input\":["
                     "{\"type\":\"function_call\",\"call_id\":\"c1\","
                     "\"name\":\"now\",\"arguments\":\"{}\"},"
                     "{\"type\":\"function_call\",\"call_id\":\"c2\","
                     "\"name\":\"sum\",\"arguments\":\"{}\"},"
                     "{\"type\":\"function_call\",\"call_id\":\"c3\","
                     "\"name\":\"now\",\"arguments\":\"{}\"}]}"),
                 "\"tools\":[{\"name\":\"now\",\"input_schema\":{\"type\":"
                 "\"object\"}},{\"name\":\"sum\",\"input_schema\":{\"type\":"
                 "\"object\"}}],\"tool_choice\":{\"type\":\"none\"}}")
          != NULL, "enc: history names once each, in order of first use");
}

/* ---- scale: per-item work must not grow with the request ---------------- */

/* The review's reproducers: 20,000 outputs / tools / parts took seconds
 * (a rescan of the input or of a name list per item) or hundreds of MB
 * (a string re-copied per part). Linear code does each in well under a
 * second, even under ASan; the quadratic code took over ten. */
static size_t alen(json_object *o, const char *path)
{
    json_object *a = at(o, path);
    return json_object_is_type(a, json_type_array)
               ? json_object_array_length(a) : 0;
}
#define ANT (&aura_adapter_anthropic)

static void enc_scale(apr_pool_t *parent)
{
    apr_pool_t *p;
    json_object *doc;
    const char *s;
    double secs = 0;
    long mb = 0;

    /* a reasoning item of 4,000 summary parts: joined once (the old
     * append copied the growing text per part: 256 MB here) */
    apr_pool_create(&p, parent);
    doc = encode_big(ANT, p, apr_pstrcat(p, "{\"input\":[{\"role\":\"user\","
                     "\"content\":\"hi\"},{\"type\":\"reasoning\","
                     "\"encrypted_content\":\"aura:anthropic:x\","
                     "\"summary\":[",
                     repeat(p, "{\"type\":\"summary_text\",\"text\":"
                            "\"%031d\"}", 4000, 0),
                     "]},{\"role\":\"user\",\"content\":\"go\"}],"
                     "\"reasoning\":{\"effort\":\"high\"}}", NULL),
                     &secs, &mb);
    s = sat(doc, "messages.1.content.0.thinking");
    AT_INTEQ(s ? strlen(s) : 0, 4000 * 31, "scale: 4,000 summary parts");
    AT_OK(s && !strncmp(s + 31, "0000000000000000000000000000001", 31)
          && !strcmp(s + 3999 * 31, "0000000000000000000000000003999"),
          "scale: joined in order");
    printf("#   4,000 summary parts: %.3f s, %ld MB held\n", secs, mb);
    AT_OK(mb < 64, "scale: joining summaries holds no quadratic memory");
    apr_pool_destroy(p);

    /* 20,000 tools, all allowed (listed backwards) */
    apr_pool_create(&p, parent);
    doc = encode_big(ANT, p, apr_pstrcat(p, "{\"input\":\"q\",\"tools\":[",
                     repeat(p, "{\"type\":\"function\",\"name\":\"f%d\"}",
                            BIG_N, 0),
                     "],\"tool_choice\":{\"type\":\"allowed_tools\","
                     "\"mode\":\"auto\",\"tools\":[",
                     repeat(p, "{\"type\":\"function\",\"name\":\"f%d\"}",
                            BIG_N, 1), "]}}", NULL), &secs, &mb);
    AT_INTEQ(alen(doc, "tools"), BIG_N, "scale: 20,000 allowed tools sent");
    AT_STREQ(sat(doc, "tools.19999.name"), "f19999", "scale: in order");
    printf("#   20,000 allowed tools: %.3f s\n", secs);
    AT_OK(secs < BIG_SECONDS, "scale: allowed_tools filter in linear time");
    apr_pool_destroy(p);

    /* 50,000 calls to different functions and no tools: each name is
     * declared once without a scan of the names so far (a cheap scan:
     * it takes this many to show; 8 s before the fix) */
    apr_pool_create(&p, parent);
    doc = encode_big(ANT, p, apr_pstrcat(p, "{\"input\":[{\"role\":\"user\","
                     "\"content\":\"q\"},",
                     repeat(p, "{\"type\":\"function_call\",\"call_id\":"
                            "\"c%d\",\"name\":\"f%d\",\"arguments\":"
                            "\"{}\"}", 50000, 0), "]}", NULL), &secs, &mb);
    AT_INTEQ(alen(doc, "tools"), 50000, "scale: 50,000 history tools");
    AT_STREQ(sat(doc, "tools.49999.name"), "f49999", "scale: in order");
    printf("#   50,000 history calls: %.3f s\n", secs);
    AT_OK(secs < 1.5 * BIG_SECONDS, "scale: history tools in linear time");
    apr_pool_destroy(p);
}

static void enc_request(apr_pool_t *p)
{
    aura_target_t t = target();
    aura_wire_t w;

    memset(&w, 0, sizeof(w));
    aura_adapter_anthropic.request(p, &t, 1, &w);
    AT_STREQ(w.url, "https://api.anthropic.com/v1/messages", "req: url");
    AT_INTEQ(w.headers->nelts, 2, "req: two headers");
    AT_STREQ(APR_ARRAY_IDX(w.headers, 0, const char *),
             "x-api-key: sk-ant-test", "req: x-api-key");
    AT_STREQ(APR_ARRAY_IDX(w.headers, 1, const char *),
             "anthropic-version: 2023-06-01", "req: default version");
    t.api_version = "2024-01-01";
    t.beta = "interleaved-thinking-2025-05-14";
    t.key = NULL;
    memset(&w, 0, sizeof(w));
    aura_adapter_anthropic.request(p, &t, 0, &w);
    AT_INTEQ(w.headers->nelts, 2, "req: no key, no key header");
    AT_STREQ(APR_ARRAY_IDX(w.headers, 0, const char *),
             "anthropic-version: 2024-01-01", "req: version override");
    AT_STREQ(APR_ARRAY_IDX(w.headers, 1, const char *),
             "anthropic-beta: interleaved-thinking-2025-05-14",
             "req: beta passed on");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    stream_text(p);
    stream_tools(p);
    stream_thinking(p);
    stream_server_tools(p);
    stream_traced(p);
    stream_error(p);
    body_text(p);
    body_tools(p);
    body_thinking(p);
    body_errors(p);
    edge_stop_reasons(p);
    edge_blocks(p);
    enc_basics(p);
    enc_tool_loop(p);
    enc_choices(p);
    enc_media(p);
    enc_thinking(p);
    enc_history_names(p);
    enc_scale(p);
    enc_request(p);
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
