/*
 * test_gemini.c - the Gemini adapter: the decoder against every recorded
 * transcript in tests/fixtures/gemini (whole, and in 1-byte and 7-byte
 * feeds), synthetic streams for the edge cases, the encoder (exact JSON),
 * request() (URL and key header), a decode → encode round trip of the
 * thought signature, and what the shared upstream-error mapping makes of
 * Gemini's recorded error bodies.
 *
 * Fixtures are found under $AURA_FIXTURES (default "tests/fixtures").
 */
#define DEC_CHECK_DECODER aura_adapter_gemini.decoder
#include "dec_check.h"
#include "aura_upstream.h"

#include <time.h>
#include <unistd.h>
#include "scale_check.h"

static apr_pool_t *pool;

/* dec_check.h reads tests/fixtures/openai; ours are next to it. */
static const char *gx(const char *name)
{
    apr_size_t n;
    return fx_read_in(pool, "gemini", name, &n);
}

static const char *SIG_BODY_START = "CtQOAVSoXO74PmYr9AFurEIJNTAtfagOIxtRA5";
static const char *SIG_STREAM_START = "CiIBVKhc7vB+vaaq6rA/KC79Ts7iXagIOA4EB";

static int starts(const char *s, const char *prefix)
{
    return s && !strncmp(s, prefix, strlen(prefix));
}

static int is_synth_id(const char *id)
{
    size_t i;
    if (!starts(id, "call_gemini_") || strlen(id) != 28)
        return 0;
    for (i = 12; i < 28; i++)
        if (!strchr("0123456789abcdef", id[i]))
            return 0;
    return 1;
}

static size_t nout(json_object *res)
{
    return json_object_array_length(aura_json_get(res, "output"));
}

/* ---- the recorded transcripts ------------------------------------------ */

static void fixtures_body(void)
{
    json_object *res;

    res = body_all_ways(pool, "text body",
                        gx("gemini__generate_content_text.json"));
    AT_STREQ(sat(res, "status"), "completed", "text body: completed");
    AT_INTEQ(nout(res), 1, "text body: one item");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "Google's headquarters, also known as the Googleplex, is "
             "located in **Mountain View, California**.\n",
             "text body: the text");
    usage_is(res, 7, 0, 22, 0, "text body");

    res = body_all_ways(pool, "thinking call body",
                        gx("gemini__generate_content_thinking_function_call"
                           ".json"));
    AT_INTEQ(nout(res), 2, "thinking body: reasoning + call");
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "thinking body: 0");
    AT_OK(starts(sat(res, "output.0.summary.0.text"),
                 "**Thinking Through the New Year's Eve Calculation**\n\n"
                 "Okay, so the user"), "thinking body: summary text");
    AT_INTEQ(strlen(sat(res, "output.0.summary.0.text")), 1319,
             "thinking body: summary length (bytes)");
    AT_OK(starts(sat(res, "output.0.encrypted_content"),
                 apr_pstrcat(pool, "aura:gemini:", SIG_BODY_START, NULL)),
          "thinking body: signature on the reasoning item");
    AT_INTEQ(strlen(sat(res, "output.0.encrypted_content")), 12 + 2508,
             "thinking body: whole signature");
    AT_STREQ(sat(res, "output.1.type"), "function_call", "body: 1 call");
    AT_STREQ(sat(res, "output.1.name"), "now", "thinking body: name");
    AT_STREQ(sat(res, "output.1.arguments"), "{}", "thinking body: args");
    AT_OK(is_synth_id(sat(res, "output.1.call_id")),
          "thinking body: deterministic call id");
    AT_STREQ(sat(res, "status"), "completed", "thinking body: STOP");
    usage_is(res, 38, 0, 509, 501, "thinking body (8 + 501 thoughts)");

    res = body_all_ways(pool, "vertex cached body",
                        gx("vertex_gemini__generate_content_implicit_caching"
                           ".json"));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "Red Riding Hood is looking for **directions** in the forest.",
             "cached body: text");
    usage_is(res, 12013, 11243, 88, 73, "cached body");

    res = body_all_ways(pool, "vertex parallel body",
                        gx("vertex_gemini__generate_content_parallel_function"
                           "_calls.json"));
    AT_INTEQ(nout(res), 3, "parallel: three calls");
    AT_STREQ(sat(res, "output.0.arguments"), "{\"y\":1,\"x\":2}", "call 0");
    AT_STREQ(sat(res, "output.1.arguments"), "{\"y\":3,\"x\":4}", "call 1");
    AT_STREQ(sat(res, "output.2.arguments"), "{\"y\":5,\"x\":6}", "call 2");
    AT_STREQ(sat(res, "output.2.name"), "sum", "call 2 name");
    AT_OK(is_synth_id(sat(res, "output.0.call_id"))
          && strcmp(sat(res, "output.0.call_id"), sat(res, "output.1.call_id"))
          && strcmp(sat(res, "output.1.call_id"), sat(res, "output.2.call_id")),
          "parallel: distinct made-up call ids");
    AT_OK(!at(res, "usage"), "parallel: no usageMetadata → usage null");
}

static void error_bodies(void)
{
    rec r;
    aura_rb_t *rb;
    json_object *res;
    const char *b;

    b = gx("gemini__error_400_api_key_invalid.json");
    rb = decode(pool, b, strlen(b), 7, 0, &r);
    res = aura_rb_resource(rb);
    AT_OK(aura_rb_failed(rb), "400 body: failed");
    AT_STREQ(sat(res, "error.code"), "upstream_error", "400 body: code");
    AT_STREQ(sat(res, "error.message"), "upstream error: API key not valid. "
             "Please pass a valid API key.", "400 body: message only");
    AT_OK(!strstr(aura_json_str(pool, res, NULL), "key1234"),
          "400 body: the DebugInfo (with the key) is not passed on");

    b = gx("gemini__error_429_retry_info.json");
    rb = decode(pool, b, strlen(b), 1, 0, &r);
    AT_OK(aura_rb_failed(rb), "429 body: failed");
    b = gx("vertex_gemini__error_429_quota_exceeded.json");
    rb = decode(pool, b, strlen(b), 0, 0, &r);
    AT_OK(aura_rb_failed(rb), "vertex 429 body: failed");
}

/* aura_upstream.c maps HTTP errors for every provider; Gemini's bodies
 * must come out right there too (no Retry-After header from Gemini). */
static void upstream_mapping(void)
{
    const char *b = gx("gemini__error_429_retry_info.json");
    aura_error_t *e = aura_upstream_status_error(pool, "gem", NULL, 429, b,
                                                 strlen(b), NULL);

    AT_INTEQ(e->status, 429, "429: passed on");
    AT_STREQ(e->retry_after, "35", "429: RetryInfo 34.4s → Retry-After 35");
    AT_OK(strstr(e->message, "You exceeded your current quota") != NULL,
          "429: Gemini's message");
    b = gx("vertex_gemini__error_429_quota_exceeded.json");
    e = aura_upstream_status_error(pool, "gem", NULL, 429, b, strlen(b),
                                   NULL);
    AT_OK(e->status == 429 && !e->retry_after,
          "vertex 429 without RetryInfo: no Retry-After");
    b = gx("gemini__error_400_api_key_invalid.json");
    e = aura_upstream_status_error(pool, "gem", "key1234", 400, b, strlen(b),
                                   NULL);
    AT_OK(!strstr(e->message, "key1234"), "400 bad key: key not shown");
    b = "{\"error\":{\"code\":503,\"message\":\"The model is overloaded. "
        "Please try again later.\",\"status\":\"UNAVAILABLE\"}}";
    e = aura_upstream_status_error(pool, "gem", NULL, 503, b, strlen(b),
                                   NULL);
    AT_INTEQ(e->status, 503, "503 UNAVAILABLE: overloaded");
}

static void fixtures_stream(void)
{
    json_object *res;
    const char *s;

    s = gx("gemini__stream_generate_content_text.sse");
    AT_OK(strstr(s, "}\r\n\r\ndata: ") != NULL, "text stream: CRLF framing");
    res = stream_all_ways(pool, "text stream", s);
    AT_STREQ(sat(res, "status"), "completed", "text stream: completed");
    AT_INTEQ(nout(res), 1, "text stream: one item");
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "The capital of Wyoming is **Cheyenne**.\n",
             "text stream: every delta, the last one in the STOP chunk");
    usage_is(res, 7, 0, 10, 0, "text stream");

    res = stream_all_ways(pool, "thinking call stream",
        gx("gemini__stream_generate_content_thinking_function_call.sse"));
    AT_INTEQ(nout(res), 2, "thinking stream: reasoning + call");
    AT_OK(starts(sat(res, "output.0.summary.0.text"),
                 "**Calculating the Days**\n\nI've determined")
          && strstr(sat(res, "output.0.summary.0.text"),
                    "\n\n\n**Determining the Approach**\n\nI'm now zeroing"),
          "thinking stream: both thought chunks in one summary");
    AT_OK(starts(sat(res, "output.0.encrypted_content"),
                 apr_pstrcat(pool, "aura:gemini:", SIG_STREAM_START, NULL)),
          "thinking stream: signature");
    AT_STREQ(sat(res, "output.1.name"), "now", "thinking stream: call");
    AT_STREQ(sat(res, "output.1.arguments"), "{}", "thinking stream: args");
    AT_OK(is_synth_id(sat(res, "output.1.call_id")),
          "thinking stream: call id");
    usage_is(res, 38, 0, 174, 168, "thinking stream (6 + 168 thoughts)");

    res = stream_all_ways(pool, "mid-stream error",
                          gx("vertex_gemini__stream_error_mid_stream.txt"));
    AT_STREQ(sat(res, "status"), "failed", "mid-stream error: failed");
    AT_STREQ(sat(res, "error.code"), "upstream_error",
             "mid-stream error: code");
    AT_STREQ(sat(res, "error.message"),
             "upstream error: The operation was cancelled.",
             "mid-stream error: Gemini's message");
    AT_STREQ(sat(res, "output.0.content.0.text"), "First Second ",
             "mid-stream error: the text before it kept");
}

/* ---- synthetic streams -------------------------------------------------- */

static const char *ev(const char *json)
{
    return apr_pstrcat(pool, "data: ", json, "\r\n\r\n", NULL);
}

static json_object *run(const char *name, const char *stream)
{
    return stream_all_ways(pool, name, stream);
}

static json_object *body1(const char *json)
{
    rec r;
    return aura_rb_resource(decode(pool, json, strlen(json), 0, 0, &r));
}

static void synthetic(void)
{
    const char *t1 = ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
                        "\"Hel\"}],\"role\":\"model\"}}]}");
    json_object *res;

    res = run("max tokens", apr_pstrcat(pool, t1, ev(
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"}]},"
        "\"finishReason\":\"MAX_TOKENS\"}],\"usageMetadata\":{"
        "\"promptTokenCount\":3,\"candidatesTokenCount\":2}}"), NULL));
    AT_STREQ(sat(res, "status"), "incomplete", "MAX_TOKENS: incomplete");
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "MAX_TOKENS: reason");
    AT_STREQ(sat(res, "output.0.content.0.text"), "Hello",
             "MAX_TOKENS: text of the finishing chunk kept");
    AT_STREQ(sat(res, "output.0.status"), "incomplete", "item incomplete");

    res = run("safety", apr_pstrcat(pool, t1, ev(
        "{\"candidates\":[{\"finishReason\":\"SAFETY\"}]}"), NULL));
    AT_STREQ(sat(res, "incomplete_details.reason"), "content_filter",
             "SAFETY → content_filter");
    res = run("recitation", apr_pstrcat(pool, t1, ev(
        "{\"candidates\":[{\"finishReason\":\"RECITATION\"}]}"), NULL));
    AT_STREQ(sat(res, "incomplete_details.reason"), "content_filter",
             "RECITATION → content_filter");

    res = body1("{\"promptFeedback\":{\"blockReason\":\"PROHIBITED_CONTENT\"},"
                "\"usageMetadata\":{\"promptTokenCount\":9}}");
    AT_STREQ(sat(res, "status"), "incomplete", "blockReason: incomplete");
    AT_STREQ(sat(res, "incomplete_details.reason"), "content_filter",
             "blockReason → content_filter");
    AT_INTEQ(iat(res, "usage.input_tokens"), 9, "blockReason: usage");

    res = run("blocked stream", ev("{\"promptFeedback\":{\"blockReason\":"
                                   "\"SAFETY\"}}"));
    AT_STREQ(sat(res, "incomplete_details.reason"), "content_filter",
             "blocked stream → content_filter");

    res = run("truncated", t1);
    AT_STREQ(sat(res, "error.code"), "upstream_stream_truncated",
             "no finishReason before EOF → truncated");
    res = run("cut mid-event", apr_pstrcat(pool, t1,
                                           "data: {\"candidates\":[{", NULL));
    AT_STREQ(sat(res, "error.code"), "upstream_stream_truncated",
             "EOF inside an event → truncated");
    res = run("bad event", apr_pstrcat(pool, t1, ev("{\"candidates\":[{\"co"),
                                       ev("{}"), NULL));
    AT_STREQ(sat(res, "error.code"), "upstream_bad_response",
             "an event that is not JSON → bad response");
    res = run("error event", apr_pstrcat(pool, t1, ev(
        "{\"error\":{\"code\":503,\"message\":\"The model is overloaded.\","
        "\"status\":\"UNAVAILABLE\"}}"), NULL));
    AT_STREQ(sat(res, "error.message"),
             "upstream error: The model is overloaded.", "error in an event");
    res = run("bare garbage", apr_pstrcat(pool, t1, "{not json\n", NULL));
    AT_STREQ(sat(res, "error.code"), "upstream_bad_response",
             "bare non-JSON after the events → bad response");

    res = run("malformed call", ev("{\"candidates\":[{\"finishReason\":"
        "\"MALFORMED_FUNCTION_CALL\",\"finishMessage\":\"Malformed function "
        "call: print(x\"}]}"));
    AT_STREQ(sat(res, "status"), "failed", "MALFORMED_FUNCTION_CALL: failed");
    AT_STREQ(sat(res, "error.message"), "upstream error: Gemini stopped with "
             "finishReason MALFORMED_FUNCTION_CALL: Malformed function call: "
             "print(x", "MALFORMED_FUNCTION_CALL: message");

    /* Gemini 3 style: the ids come with the calls; a text answer's
     * signature arrives on a last, empty text part. */
    res = run("call ids", ev(
        "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{"
        "\"name\":\"a\",\"args\":{\"q\":\"x\"},\"id\":\"46ww9pp1\"},"
        "\"thoughtSignature\":\"U0lH\"},{\"functionCall\":{\"name\":\"b\","
        "\"id\":\"zz9\"}}]},\"finishReason\":\"STOP\"}],"
        "\"responseId\":\"r1\"}"));
    AT_INTEQ(nout(res), 3, "ids: reasoning + two calls");
    AT_STREQ(sat(res, "output.0.encrypted_content"), "aura:gemini:U0lH",
             "ids: signature item before the first call");
    AT_STREQ(sat(res, "output.1.call_id"), "46ww9pp1", "ids: Gemini's id");
    AT_STREQ(sat(res, "output.2.call_id"), "zz9", "ids: second id");
    AT_STREQ(sat(res, "output.2.arguments"), "{}", "ids: no args → {}");

    res = run("text signature", apr_pstrcat(pool, t1, ev(
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"},{\"text\""
        ":\"\",\"thoughtSignature\":\"VEVYVA==\"}]},\"finishReason\":\"STOP\"}]"
        "}"), NULL));
    AT_INTEQ(nout(res), 2, "text signature: message, then reasoning");
    AT_STREQ(sat(res, "output.0.content.0.text"), "Hello", "text kept");
    AT_STREQ(sat(res, "output.1.encrypted_content"), "aura:gemini:VEVYVA==",
             "text signature carried");

    res = body1("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
                "\"t\",\"thought\":true},{\"text\":\"answer\"}]},"
                "\"finishReason\":\"STOP\"}],\"usageMetadata\":{"
                "\"promptTokenCount\":10,\"cachedContentTokenCount\":4,"
                "\"toolUsePromptTokenCount\":5,\"candidatesTokenCount\":2,"
                "\"thoughtsTokenCount\":3}}");
    AT_STREQ(sat(res, "output.0.summary.0.text"), "t", "thought → summary");
    AT_STREQ(sat(res, "output.1.content.0.text"), "answer", "then the text");
    usage_is(res, 15, 4, 5, 3, "tool-use prompt tokens are input");

    res = body1("{\"usageMetadata\":{\"promptTokenCount\":1}}");
    AT_STREQ(sat(res, "error.code"), "upstream_bad_response",
             "body without candidates → bad response");
}

/* ---- encoder ------------------------------------------------------------ */

static const char *encode_ex(const char *in, const char *model,
                             aura_error_t **err)
{
    aura_target_t t = {.provider = "gem", .upstream_model = model};
    aura_request_t *req = NULL;
    const char *body = NULL;
    apr_size_t len = 0;
    aura_error_t *e = aura_request_parse(pool, in, strlen(in), &req);

    if (!e)
        e = aura_adapter_gemini.encode(pool, req, &t, &body, &len);
    *err = e;
    if (e || (body && strlen(body) != len))
        return NULL;
    return body;
}

static int json_same(const char *got, const char *want)
{
    json_object *g = got ? json_tokener_parse(got) : NULL;
    json_object *w = json_tokener_parse(want);
    int same = g && w && json_object_equal(g, w);

    if (!w)
        printf("#   bad expectation JSON: %s\n", want);
    if (!same)
        printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)", want);
    json_object_put(g);
    json_object_put(w);
    return same;
}

static void enc_eq(const char *in, const char *want, const char *what)
{
    aura_error_t *e = NULL;
    const char *body = encode_ex(in, "gemini-2.5-flash", &e);
    if (e)
        printf("#   error: %s\n", e->message);
    AT_OK(json_same(body, want), what);
}

static void enc_err(const char *in, const char *param, const char *what)
{
    aura_error_t *e = NULL;
    const char *body = encode_ex(in, "gemini-2.5-flash", &e);

    AT_OK(!body && e && e->status == 400, what);
    if (e)
        AT_STREQ(e->param, param, "  param");
}

static void encoder_basic(void)
{
    enc_eq("{\"model\":\"m\",\"input\":\"Hi\",\"instructions\":\"Be brief.\","
           "\"max_output_tokens\":100,\"temperature\":0.7,\"top_p\":0.9,"
           "\"presence_penalty\":0.5,\"frequency_penalty\":0.25,"
           "\"parallel_tool_calls\":false,\"store\":true}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hi\"}]}],"
           "\"systemInstruction\":{\"parts\":[{\"text\":\"Be brief.\"}]},"
           "\"generationConfig\":{\"maxOutputTokens\":100,\"temperature\":0.7,"
           "\"topP\":0.9,\"presencePenalty\":0.5,\"frequencyPenalty\":0.25}}",
           "text, instructions, sampling; no model in the body");

    enc_eq("{\"input\":[{\"role\":\"developer\",\"content\":\"Dev rule\"},"
           "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
           "\"text\":\"a\"},{\"type\":\"input_text\",\"text\":\"b\"}]},"
           "{\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
           "\"text\":\"Hel\"},{\"type\":\"refusal\",\"refusal\":\"No\"}]},"
           "{\"role\":\"system\",\"content\":\"Sys\"},"
           "{\"role\":\"user\",\"content\":\"again\"},"
           "{\"role\":\"user\",\"content\":\"and\"}]}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"a\"},"
           "{\"text\":\"b\"}]},{\"role\":\"model\",\"parts\":[{\"text\":"
           "\"Hel\"},{\"text\":\"No\"}]},{\"role\":\"user\",\"parts\":["
           "{\"text\":\"again\"},{\"text\":\"and\"}]}],"
           "\"systemInstruction\":{\"parts\":[{\"text\":\"Dev rule\"},"
           "{\"text\":\"Sys\"}]}}",
           "roles: assistant → model, system/developer hoisted, same-role "
           "items share a turn");

    enc_eq("{\"input\":[{\"role\":\"user\",\"content\":["
           "{\"type\":\"input_image\",\"image_url\":"
           "\"data:image/png;base64,iVBORw0KGgo=\"},"
           "{\"type\":\"input_image\",\"image_url\":\"https://e.x/a.JPG?s=1\"},"
           "{\"type\":\"input_image\",\"image_url\":\"https://e.x/img\"},"
           "{\"type\":\"input_file\",\"filename\":\"a.pdf\",\"file_data\":"
           "\"data:application/pdf;base64,JVBERi0=\"},"
           "{\"type\":\"input_file\",\"file_url\":\"https://e.x/d.pdf\"}]}]}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":["
           "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":"
           "\"iVBORw0KGgo=\"}},"
           "{\"fileData\":{\"mimeType\":\"image/jpeg\",\"fileUri\":"
           "\"https://e.x/a.JPG?s=1\"}},"
           "{\"fileData\":{\"fileUri\":\"https://e.x/img\"}},"
           "{\"inlineData\":{\"mimeType\":\"application/pdf\",\"data\":"
           "\"JVBERi0=\"}},"
           "{\"fileData\":{\"mimeType\":\"application/pdf\",\"fileUri\":"
           "\"https://e.x/d.pdf\"}}]}]}",
           "images and files: data: → inlineData, http(s) → fileData");

    enc_err("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
            "\"input_image\",\"file_id\":\"file-1\"}]}]}",
            "input[0].content[0]", "image by file_id → 400");
    enc_err("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
            "\"input_file\",\"file_data\":\"data:application/pdf,xyz\"}]}]}",
            "input[0].content[0]", "data: URL without base64 → 400");
    enc_err("{\"input\":[{\"role\":\"system\",\"content\":\"only\"}]}",
            "input", "no user/model turn → 400");
    enc_err("{\"input\":\"x\",\"previous_response_id\":\"resp_1\"}",
            "previous_response_id", "previous_response_id → 400");
    enc_err("{\"input\":[{\"type\":\"item_reference\",\"id\":\"x\"}]}",
            "input[0]", "item_reference → 400");
}

static void encoder_tools(void)
{
    const char *tools =
        "\"tools\":[{\"type\":\"function\",\"name\":\"get_weather\","
        "\"description\":\"Weather\",\"parameters\":{\"$schema\":"
        "\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":"
        "[\"city\"],\"additionalProperties\":false},\"strict\":true},"
        "{\"type\":\"function\",\"name\":\"now\"}]";
    const char *decls =
        "\"tools\":[{\"functionDeclarations\":[{\"name\":\"get_weather\","
        "\"description\":\"Weather\",\"parametersJsonSchema\":{\"type\":"
        "\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
        "\"required\":[\"city\"],\"additionalProperties\":false}},"
        "{\"name\":\"now\"}]}]";
    const char *contents = "\"contents\":[{\"role\":\"user\",\"parts\":"
                           "[{\"text\":\"q\"}]}]";

    enc_eq(apr_pstrcat(pool, "{\"input\":\"q\",", tools, "}", NULL),
           apr_pstrcat(pool, "{", contents, ",", decls, "}", NULL),
           "tools → functionDeclarations (JSON Schema minus $schema)");
    enc_eq(apr_pstrcat(pool, "{\"input\":\"q\",\"tool_choice\":\"auto\",",
                       tools, "}", NULL),
           apr_pstrcat(pool, "{", contents, ",", decls, ",\"toolConfig\":{"
                       "\"functionCallingConfig\":{\"mode\":\"AUTO\"}}}",
                       NULL), "tool_choice auto → AUTO");
    enc_eq(apr_pstrcat(pool, "{\"input\":\"q\",\"tool_choice\":\"required\",",
                       tools, "}", NULL),
           apr_pstrcat(pool, "{", contents, ",", decls, ",\"toolConfig\":{"
                       "\"functionCallingConfig\":{\"mode\":\"ANY\"}}}", NULL),
           "tool_choice required → ANY");
    enc_eq(apr_pstrcat(pool, "{\"input\":\"q\",\"tool_choice\":\"none\",",
                       tools, "}", NULL),
           apr_pstrcat(pool, "{", contents, ",", decls, ",\"toolConfig\":{"
                       "\"functionCallingConfig\":{\"mode\":\"NONE\"}}}",
                       NULL), "tool_choice none → NONE");
    enc_eq(apr_pstrcat(pool, "{\"input\":\"q\",\"tool_choice\":{\"type\":"
                       "\"function\",\"name\":\"now\"},", tools, "}", NULL),
           apr_pstrcat(pool, "{", contents, ",", decls, ",\"toolConfig\":{"
                       "\"functionCallingConfig\":{\"mode\":\"ANY\","
                       "\"allowedFunctionNames\":[\"now\"]}}}", NULL),
           "named function → ANY + allowedFunctionNames");
    enc_eq(apr_pstrcat(pool, "{\"input\":\"q\",\"tool_choice\":{\"type\":"
                       "\"allowed_tools\",\"mode\":\"required\",\"tools\":[{"
                       "\"type\":\"function\",\"name\":\"now\"}]},", tools,
                       "}", NULL),
           apr_pstrcat(pool, "{", contents, ",\"tools\":[{"
                       "\"functionDeclarations\":[{\"name\":\"now\"}]}],"
                       "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":"
                       "\"ANY\",\"allowedFunctionNames\":[\"now\"]}}}", NULL),
           "allowed_tools required → ANY + names (and only those declared)");
    enc_eq(apr_pstrcat(pool, "{\"input\":\"q\",\"tool_choice\":{\"type\":"
                       "\"allowed_tools\",\"mode\":\"auto\",\"tools\":[{"
                       "\"type\":\"function\",\"name\":\"now\"}]},", tools,
                       "}", NULL),
           apr_pstrcat(pool, "{", contents, ",\"tools\":[{"
                       "\"functionDeclarations\":[{\"name\":\"now\"}]}],"
                       "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":"
                       "\"AUTO\"}}}", NULL),
           "allowed_tools auto → AUTO over the allowed declarations only");
}

static void encoder_calls(void)
{
    enc_eq("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
           "{\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\","
           "\"text\":\"thinking\"}],\"encrypted_content\":\"aura:gemini:SIG1\"},"
           "{\"type\":\"function_call\",\"call_id\":\"call_gemini_0123456789"
           "abcdef\",\"name\":\"now\",\"arguments\":\"{}\"},"
           "{\"type\":\"function_call\",\"call_id\":\"call_gemini_fedcba9876"
           "543210\",\"name\":\"sum\",\"arguments\":\"{\\\"x\\\":1}\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"call_gemini_0123"
           "456789abcdef\",\"output\":\"2025-10-26\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"call_gemini_fedc"
           "ba9876543210\",\"output\":\"{\\\"sum\\\":3}\"}]}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]},"
           "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"now\","
           "\"args\":{}},\"thoughtSignature\":\"SIG1\"},{\"functionCall\":{"
           "\"name\":\"sum\",\"args\":{\"x\":1}}}]},"
           "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":"
           "\"now\",\"response\":{\"output\":\"2025-10-26\"}}},"
           "{\"functionResponse\":{\"name\":\"sum\",\"response\":{\"sum\":3}}}"
           "]}]}",
           "calls + outputs: made-up ids not sent, names matched, signature "
           "on the call after its reasoning item, responses in one turn");

    enc_eq("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
           "{\"type\":\"reasoning\",\"summary\":[],\"encrypted_content\":"
           "\"aura:anthropic:c2ln\"},"
           "{\"type\":\"reasoning\",\"summary\":[],\"encrypted_content\":"
           "\"gAAAAABopenai\"},"
           "{\"type\":\"function_call\",\"call_id\":\"toolu_01A\",\"name\":"
           "\"now\",\"arguments\":\"\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"toolu_01A\","
           "\"output\":[{\"type\":\"input_text\",\"text\":\"a\"},{\"type\":"
           "\"input_text\",\"text\":\"b\"},{\"type\":\"input_image\","
           "\"image_url\":\"data:image/png;base64,AA==\"}]}]}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]},"
           "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"now\","
           "\"args\":{},\"id\":\"toolu_01A\"}}]},"
           "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"id\":"
           "\"toolu_01A\",\"name\":\"now\",\"response\":{\"output\":\"ab\"}}},"
           "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"AA==\"}}]}]}",
           "another provider's call: its id on both sides, other reasoning "
           "dropped, output parts → text + inlineData");

    enc_eq("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
           "{\"role\":\"assistant\",\"content\":\"Hello\"},"
           "{\"type\":\"reasoning\",\"summary\":[],\"encrypted_content\":"
           "\"aura:gemini:VEVYVA==\"},"
           "{\"role\":\"user\",\"content\":\"more\"}]}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]},"
           "{\"role\":\"model\",\"parts\":[{\"text\":\"Hello\","
           "\"thoughtSignature\":\"VEVYVA==\"}]},"
           "{\"role\":\"user\",\"parts\":[{\"text\":\"more\"}]}]}",
           "a signature after the text goes back on the text part");

    enc_err("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},{\"type\":"
            "\"function_call_output\",\"call_id\":\"c9\",\"output\":\"x\"}]}",
            "input[1].call_id", "output without its call → 400");
    /* each output takes the name of the nearest EARLIER call with its id:
     * interleaved calls, and an id used again by a later call */
    enc_eq("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
           "{\"type\":\"function_call\",\"call_id\":\"x\",\"name\":\"f1\","
           "\"arguments\":\"{}\"},"
           "{\"type\":\"function_call\",\"call_id\":\"y\",\"name\":\"g\","
           "\"arguments\":\"{}\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"y\","
           "\"output\":\"o1\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"x\","
           "\"output\":\"o2\"},"
           "{\"type\":\"function_call\",\"call_id\":\"x\",\"name\":\"f2\","
           "\"arguments\":\"{}\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"x\","
           "\"output\":\"o3\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"y\","
           "\"output\":\"o4\"}]}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]},"
           "{\"role\":\"model\",\"parts\":["
           "{\"functionCall\":{\"name\":\"f1\",\"args\":{},\"id\":\"x\"}},"
           "{\"functionCall\":{\"name\":\"g\",\"args\":{},\"id\":\"y\"}}]},"
           "{\"role\":\"user\",\"parts\":["
           "{\"functionResponse\":{\"id\":\"y\",\"name\":\"g\",\"response\":"
           "{\"output\":\"o1\"}}},"
           "{\"functionResponse\":{\"id\":\"x\",\"name\":\"f1\",\"response\":"
           "{\"output\":\"o2\"}}}]},"
           "{\"role\":\"model\",\"parts\":["
           "{\"functionCall\":{\"name\":\"f2\",\"args\":{},\"id\":\"x\"}}]},"
           "{\"role\":\"user\",\"parts\":["
           "{\"functionResponse\":{\"id\":\"x\",\"name\":\"f2\",\"response\":"
           "{\"output\":\"o3\"}}},"
           "{\"functionResponse\":{\"id\":\"y\",\"name\":\"g\",\"response\":"
           "{\"output\":\"o4\"}}}]}]}",
           "outputs named by the nearest earlier call with their id "
           "(interleaved ids, an id reused by a later call)");
    enc_err("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
            "{\"type\":\"function_call_output\",\"call_id\":\"x\","
            "\"output\":\"o\"},{\"type\":\"function_call\",\"call_id\":\"x\","
            "\"name\":\"f\",\"arguments\":\"{}\"}]}",
            "input[1].call_id", "a call AFTER its output does not count");
    enc_err("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},{\"type\":"
            "\"function_call\",\"call_id\":\"c\",\"name\":\"f\",\"arguments\":"
            "\"[1]\"}]}", "input[1].arguments", "arguments not an object");
}

/* ---- scale: per-item work must not grow with the request ---------------- */

/* The review's reproducers: 20,000 outputs / tools / parts took seconds
 * (a rescan of the input or of the allowed list per item) or hundreds of
 * MB (a string re-copied per part). Linear code does each in well under
 * a second, even under ASan; the quadratic code took over ten. */
static size_t alen(json_object *o, const char *path)
{
    json_object *a = at(o, path);
    return json_object_is_type(a, json_type_array)
               ? json_object_array_length(a) : 0;
}

static void encoder_scale(void)
{
    apr_pool_t *p;
    json_object *doc;
    const char *s, *tools;
    double secs = 0;
    long mb = 0;

    /* one output of 4,000 text parts: joined once (the old append copied
     * the growing text per part: 256 MB here) */
    apr_pool_create(&p, pool);
    doc = encode_big(&aura_adapter_gemini, p, apr_pstrcat(p, "{\"input\":[{\"type\":"
                     "\"function_call\",\"call_id\":\"c\",\"name\":\"f\","
                     "\"arguments\":\"{}\"},{\"type\":\"function_call_output\","
                     "\"call_id\":\"c\",\"output\":[",
                     repeat(p, "{\"type\":\"input_text\",\"text\":\"%031d\"}",
                            4000, 0), "]}]}", NULL), &secs, &mb);
    s = sat(doc, "contents.1.parts.0.functionResponse.response.output");
    AT_INTEQ(s ? strlen(s) : 0, 4000 * 31, "scale: 4,000 text parts joined");
    AT_OK(s && !strncmp(s + 31, "0000000000000000000000000000001", 31)
          && !strcmp(s + 3999 * 31, "0000000000000000000000000003999"),
          "scale: in order");
    printf("#   4,000 output parts: %.3f s, %ld MB held\n", secs, mb);
    AT_OK(mb < 64, "scale: joining output parts holds no quadratic memory");
    apr_pool_destroy(p);

    /* 20,000 outputs of one call: each finds its name without a rescan */
    apr_pool_create(&p, pool);
    doc = encode_big(&aura_adapter_gemini, p, apr_pstrcat(p, "{\"input\":[{\"role\":\"user\","
                     "\"content\":\"q\"},{\"type\":\"function_call\","
                     "\"call_id\":\"a\",\"name\":\"f\",\"arguments\":\"{}\"},",
                     repeat(p, "{\"type\":\"function_call_output\","
                            "\"call_id\":\"a\",\"output\":\"%d\"}", BIG_N, 0),
                     "]}", NULL), &secs, &mb);
    AT_INTEQ(alen(doc, "contents.2.parts"), BIG_N,
             "scale: 20,000 functionResponses");
    AT_STREQ(sat(doc, "contents.2.parts.19999.functionResponse.name"), "f",
             "scale: the last one named");
    printf("#   20,000 outputs: %.3f s\n", secs);
    AT_OK(secs < BIG_SECONDS, "scale: 20,000 outputs encode in linear time");
    apr_pool_destroy(p);

    /* 20,000 tools, all allowed (listed backwards) */
    apr_pool_create(&p, pool);
    tools = repeat(p, "{\"type\":\"function\",\"name\":\"f%d\"}", BIG_N, 0);
    doc = encode_big(&aura_adapter_gemini, p, apr_pstrcat(p, "{\"input\":\"q\",\"tools\":[", tools,
                     "],\"tool_choice\":{\"type\":\"allowed_tools\","
                     "\"mode\":\"required\",\"tools\":[",
                     repeat(p, "{\"type\":\"function\",\"name\":\"f%d\"}",
                            BIG_N, 1), "]}}", NULL), &secs, &mb);
    AT_INTEQ(alen(doc, "tools.0.functionDeclarations"), BIG_N,
             "scale: 20,000 allowed tools declared");
    AT_STREQ(sat(doc, "toolConfig.functionCallingConfig."
                      "allowedFunctionNames.19999"), "f19999",
             "scale: and named");
    printf("#   20,000 allowed tools: %.3f s\n", secs);
    AT_OK(secs < BIG_SECONDS, "scale: allowed_tools filter in linear time");
    apr_pool_destroy(p);
}

static void encoder_generation(void)
{
    aura_error_t *e = NULL;
    const char *body;

    enc_eq("{\"input\":\"q\",\"text\":{\"format\":{\"type\":\"json_schema\","
           "\"name\":\"x\",\"strict\":true,\"schema\":{\"$schema\":\"s\","
           "\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},"
           "\"additionalProperties\":false}}}}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]}],"
           "\"generationConfig\":{\"responseMimeType\":\"application/json\","
           "\"responseJsonSchema\":{\"type\":\"object\",\"properties\":{\"a\":"
           "{\"type\":\"integer\"}},\"additionalProperties\":false}}}",
           "json_schema → responseMimeType + responseJsonSchema");
    enc_eq("{\"input\":\"q\",\"text\":{\"format\":{\"type\":\"json_object\"}}}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]}],"
           "\"generationConfig\":{\"responseMimeType\":\"application/json\"}}",
           "json_object → responseMimeType");
    enc_eq("{\"input\":\"q\",\"reasoning\":{\"effort\":\"low\"}}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]}],"
           "\"generationConfig\":{\"thinkingConfig\":{\"thinkingBudget\":1024,"
           "\"includeThoughts\":true}}}", "effort low → budget 1024 + thoughts");
    enc_eq("{\"input\":\"q\",\"reasoning\":{\"effort\":\"high\"}}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]}],"
           "\"generationConfig\":{\"thinkingConfig\":{\"thinkingBudget\":24576,"
           "\"includeThoughts\":true}}}", "effort high → 24576");
    enc_eq("{\"input\":\"q\",\"reasoning\":{\"effort\":\"none\"}}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]}],"
           "\"generationConfig\":{\"thinkingConfig\":{\"thinkingBudget\":0,"
           "\"includeThoughts\":false}}}", "effort none → thinking off");
    enc_eq("{\"input\":\"q\",\"reasoning\":{\"summary\":\"auto\"}}",
           "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]}],"
           "\"generationConfig\":{\"thinkingConfig\":{\"thinkingBudget\":-1,"
           "\"includeThoughts\":true}}}", "no effort → dynamic budget");

    body = encode_ex("{\"input\":\"q\",\"reasoning\":{\"effort\":\"none\"}}",
                     "gemini-2.5-pro", &e);
    AT_OK(body && strstr(body, "\"thinkingBudget\":128"),
          "2.5 Pro cannot turn thinking off: 128");
    body = encode_ex("{\"input\":\"q\",\"reasoning\":{\"effort\":\"medium\"}}",
                     "gemini-3-pro-preview", &e);
    AT_OK(json_same(body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{"
                    "\"text\":\"q\"}]}],\"generationConfig\":{\"thinkingConfig"
                    "\":{\"thinkingLevel\":\"high\",\"includeThoughts\":true}}}"),
          "Gemini 3: thinkingLevel");
}

/* ---- request() ---------------------------------------------------------- */

static void request_fn(void)
{
    aura_target_t t = {.provider = "gem", .upstream_model = "gemini-2.5-flash",
                       .base_url = "https://generativelanguage.googleapis.com"
                                   "/v1beta", .key = "AIzaSyTESTKEY0000"};
    aura_wire_t w = {0};
    aura_error_t *e;

    e = aura_adapter_gemini.request(pool, &t, 0, &w);
    AT_OK(!e, "request: ok");
    AT_STREQ(w.url, "https://generativelanguage.googleapis.com/v1beta/models/"
             "gemini-2.5-flash:generateContent", "request: URL");
    AT_INTEQ(w.headers->nelts, 1, "request: one header");
    AT_STREQ(APR_ARRAY_IDX(w.headers, 0, const char *),
             "x-goog-api-key: AIzaSyTESTKEY0000", "request: key header");

    memset(&w, 0, sizeof(w));
    t.upstream_model = "models/gemini-2.0-flash";
    e = aura_adapter_gemini.request(pool, &t, 1, &w);
    AT_STREQ(w.url, "https://generativelanguage.googleapis.com/v1beta/models/"
             "gemini-2.0-flash:streamGenerateContent?alt=sse",
             "request: stream URL, models/ prefix kept once");
    AT_OK(!strstr(w.url, "AIza") && !strstr(w.url, "key="),
          "request: never the key in the URL");

    memset(&w, 0, sizeof(w));
    t.upstream_model = "tunedModels/my-model-1";
    aura_adapter_gemini.request(pool, &t, 0, &w);
    AT_STREQ(w.url, "https://generativelanguage.googleapis.com/v1beta/"
             "tunedModels/my-model-1:generateContent", "request: tuned model");

    t.upstream_model = "../files?key=x";
    memset(&w, 0, sizeof(w));
    e = aura_adapter_gemini.request(pool, &t, 0, &w);
    AT_OK(e && e->status == 400 && !w.url, "request: path tricks refused");
    t.upstream_model = "gemini:x#y";
    e = aura_adapter_gemini.request(pool, &t, 0, &w);
    AT_OK(e && e->status == 400, "request: ':' and '#' refused");
    t.key = NULL;
    t.upstream_model = "gemini-2.5-pro";
    memset(&w, 0, sizeof(w));
    aura_adapter_gemini.request(pool, &t, 0, &w);
    AT_OK(!w.headers, "request: no key, no header");
}

/* ---- decode → encode ---------------------------------------------------- */

/* The thinking transcript decoded, its items sent back with the call's
 * output: the signature lands on the functionCall part it came on. */
static void round_trip(void)
{
    json_object *res = body_all_ways(pool, "round trip",
        gx("gemini__generate_content_thinking_function_call.json"));
    json_object *out = aura_json_get(res, "output");
    const char *call_id = sat(res, "output.1.call_id");
    const char *sig = sat(res, "output.0.encrypted_content");
    const char *in, *body;
    aura_error_t *e = NULL;
    json_object *doc;

    in = apr_psprintf(pool, "{\"model\":\"m\",\"input\":[{\"role\":\"user\","
                      "\"content\":\"How many days until New Year's Eve?\"},"
                      "%s,%s,{\"type\":\"function_call_output\",\"call_id\":"
                      "\"%s\",\"output\":\"2025-10-26\"}]}",
                      aura_json_str(pool, json_object_array_get_idx(out, 0),
                                    NULL),
                      aura_json_str(pool, json_object_array_get_idx(out, 1),
                                    NULL), call_id);
    body = encode_ex(in, "gemini-2.5-pro", &e);
    AT_OK(body != NULL, "round trip: decoded items are valid input");
    doc = aura_json_pool(pool, json_tokener_parse(body ? body : "{}"));
    AT_STREQ(sat(doc, "contents.1.role"), "model", "round trip: model turn");
    AT_STREQ(sat(doc, "contents.1.parts.0.functionCall.name"), "now",
             "round trip: the call");
    AT_STREQ(sat(doc, "contents.1.parts.0.thoughtSignature"),
             sig ? sig + strlen("aura:gemini:") : NULL,
             "round trip: signature back on the functionCall part");
    AT_INTEQ(json_object_array_length(at(doc, "contents.1.parts")), 1,
             "round trip: thought summary not sent back");
    AT_OK(!at(doc, "contents.1.parts.0.functionCall.id"),
          "round trip: made-up id not sent");
    AT_STREQ(sat(doc, "contents.2.parts.0.functionResponse.name"), "now",
             "round trip: response matched by name");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    fixtures_body();
    error_bodies();
    upstream_mapping();
    fixtures_stream();
    synthetic();
    encoder_basic();
    encoder_tools();
    encoder_calls();
    encoder_scale();
    encoder_generation();
    request_fn();
    round_trip();
    apr_pool_destroy(pool);
    apr_terminate();
    return AT_DONE();
}
