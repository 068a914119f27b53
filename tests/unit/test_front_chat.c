/*
 * test_front_chat.c - the Chat Completions front door: the parser (every
 * mapping, compared with what aura_request_parse makes of the equivalent
 * Open Responses body; bad input with exact code and param), the chunk
 * encoder driven by a real response builder, and the chat.completion body.
 */
#include <math.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "aura_test.h"
#include "aura_front.h"

static apr_pool_t *pool;

/* ---- parser helpers ---------------------------------------------------- */

static aura_request_t *chat(const char *body)
{
    aura_request_t *req = NULL;
    aura_error_t *e = aura_front_chat.parse(pool, body, strlen(body), NULL,
                                            &req);
    if (e)
        printf("# unexpected error %s %s: %s\n", e->code,
               e->param ? e->param : "-", e->message);
    return req;
}

static aura_request_t *oresp(const char *body)
{
    aura_request_t *req = NULL;
    aura_error_t *e = aura_request_parse(pool, body, strlen(body), &req);
    if (e)
        printf("# oresp error %s %s: %s\n", e->code, e->param, e->message);
    return req;
}

static const char *js(json_object *o)
{
    return o ? aura_json_str(pool, o, NULL) : "(null)";
}

/* The normalized model of a chat body equals that of a Responses body. */
static void same(const char *chat_body, const char *oresp_body,
                 const char *what)
{
    aura_request_t *a = chat(chat_body), *b = oresp(oresp_body);

    AT_OK(a && b, apr_pstrcat(pool, what, ": both parse", NULL));
    if (!a || !b)
        return;
    AT_STREQ(js(a->input), js(b->input), apr_pstrcat(pool, what, ": input",
                                                     NULL));
    AT_STREQ(js(a->tools), js(b->tools), apr_pstrcat(pool, what, ": tools",
                                                     NULL));
    AT_STREQ(js(a->tool_choice), js(b->tool_choice),
             apr_pstrcat(pool, what, ": tool_choice", NULL));
    AT_STREQ(js(a->text), js(b->text), apr_pstrcat(pool, what, ": text",
                                                   NULL));
    AT_STREQ(js(a->reasoning), js(b->reasoning),
             apr_pstrcat(pool, what, ": reasoning", NULL));
    AT_STREQ(js(a->metadata), js(b->metadata),
             apr_pstrcat(pool, what, ": metadata", NULL));
    AT_STREQ(a->model, b->model, apr_pstrcat(pool, what, ": model", NULL));
    AT_STREQ(a->safety_identifier, b->safety_identifier,
             apr_pstrcat(pool, what, ": safety_identifier", NULL));
    AT_STREQ(a->service_tier, b->service_tier,
             apr_pstrcat(pool, what, ": service_tier", NULL));
    AT_STREQ(a->prompt_cache_key, b->prompt_cache_key,
             apr_pstrcat(pool, what, ": prompt_cache_key", NULL));
    AT_OK(a->stream == b->stream && a->store == b->store
          && a->parallel_tool_calls == b->parallel_tool_calls
          && a->max_output_tokens == b->max_output_tokens
          && (a->temperature == b->temperature
              || (isnan(a->temperature) && isnan(b->temperature)))
          && (a->top_p == b->top_p || (isnan(a->top_p) && isnan(b->top_p)))
          && (a->presence_penalty == b->presence_penalty
              || (isnan(a->presence_penalty) && isnan(b->presence_penalty)))
          && (a->frequency_penalty == b->frequency_penalty
              || (isnan(a->frequency_penalty)
                  && isnan(b->frequency_penalty))),
          apr_pstrcat(pool, what, ": scalars", NULL));
}

static void bad(const char *body, const char *code, const char *param)
{
    aura_request_t *req = NULL;
    aura_error_t *e = aura_front_chat.parse(pool, body, strlen(body), NULL,
                                            &req);
    const char *what = apr_psprintf(pool, "%s -> %s %s", body, code,
                                    param ? param : "(null)");

    AT_OK(e && !req, what);
    if (!e)
        return;
    AT_STREQ(e->code, code, apr_pstrcat(pool, "  code of ", body, NULL));
    AT_STREQ(e->param, param, apr_pstrcat(pool, "  param of ", body, NULL));
    AT_INTEQ(e->status, 400, "  status 400");
    AT_OK(!param || strstr(e->message, param), "  the message names it");
}

#define U(s) "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"," \
             "\"content\":\"hi\"}]" s "}"
#define M(s) "{\"model\":\"m\",\"messages\":[" s "]}"
#define R(s) "{\"model\":\"m\",\"input\":[" s "]}"

/* ---- parser: mappings -------------------------------------------------- */

static void test_messages(void)
{
    same(M("{\"role\":\"system\",\"content\":\"S\"},"
           "{\"role\":\"developer\",\"content\":[{\"type\":\"text\","
           "\"text\":\"D\"}]},{\"role\":\"user\",\"content\":\"U\","
           "\"name\":\"bob\"}"),
         R("{\"type\":\"message\",\"role\":\"system\",\"content\":\"S\"},"
           "{\"type\":\"message\",\"role\":\"developer\",\"content\":[{\"type"
           "\":\"input_text\","
           "\"text\":\"D\"}]},{\"type\":\"message\",\"role\":\"user\",\"conte"
           "nt\":\"U\"}"),
         "system, developer, user");
    same(M("{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a"
           "\"},"
           "{\"type\":\"image_url\",\"image_url\":{\"url\":"
           "\"https://x/i.png\",\"detail\":\"low\"}},"
           "{\"type\":\"image_url\",\"image_url\":{\"url\":"
           "\"data:image/png;base64,AAAA\"}},"
           "{\"type\":\"file\",\"file\":{\"file_data\":"
           "\"data:application/pdf;base64,AAAA\",\"filename\":\"a.pdf\"}},"
           "{\"type\":\"file\",\"file\":{\"file_id\":\"file-1\"}}]}"),
         R("{\"type\":\"message\",\"role\":\"user\",\"content\":["
           "{\"type\":\"input_text\",\"text\":\"a\"},"
           "{\"type\":\"input_image\",\"image_url\":\"https://x/i.png\","
           "\"detail\":\"low\"},{\"type\":\"input_image\",\"image_url\":"
           "\"data:image/png;base64,AAAA\"},{\"type\":\"input_file\","
           "\"file_data\":\"data:application/pdf;base64,AAAA\","
           "\"filename\":\"a.pdf\"},{\"type\":\"input_file\","
           "\"file_id\":\"file-1\"}]}"),
         "user parts");
    same(M("{\"role\":\"user\",\"content\":\"q\"},"
           "{\"role\":\"assistant\",\"content\":\"Let me look.\","
           "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
           "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},"
           "{\"id\":\"call_2\",\"function\":{\"name\":\"g\","
           "\"arguments\":\"{\\\"x\\\":1}\"}}]},"
           "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"r1"
           "\"},"
           "{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":"
           "[{\"type\":\"text\",\"text\":\"r2\"}]},"
           "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"done"
           "\"}"),
         R("{\"type\":\"message\",\"role\":\"user\",\"content\":\"q\"},"
           "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"Let me"
           " look.\"},"
           "{\"type\":\"function_call\",\"call_id\":\"call_1\",\"name\":\"f\","
           "\"arguments\":\"{}\"},"
           "{\"type\":\"function_call\",\"call_id\":\"call_2\",\"name\":\"g\","
           "\"arguments\":\"{\\\"x\\\":1}\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"call_1\","
           "\"output\":\"r1\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"call_2\","
           "\"output\":[{\"type\":\"input_text\",\"text\":\"r2\"}]},"
           "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"done"
           "\"}"),
         "assistant tool_calls and tool messages");
    same(M("{\"role\":\"user\",\"content\":\"q\"},"
           "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
           "\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\","
           "\"arguments\":\"{}\"}}]},"
           "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{"
           "\"id\":\"d\",\"type\":\"function\",\"function\":{\"name\":\"f\","
           "\"arguments\":\"{}\"}}]}"),
         R("{\"type\":\"message\",\"role\":\"user\",\"content\":\"q\"},"
           "{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\","
           "\"arguments\":\"{}\"},"
           "{\"type\":\"function_call\",\"call_id\":\"d\",\"name\":\"f\","
           "\"arguments\":\"{}\"}"),
         "assistant null or empty content next to calls: no message item");
    same(M("{\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
           "\"text\":\"a\"},{\"type\":\"refusal\",\"refusal\":\"no\"}]},"
           "{\"role\":\"assistant\",\"content\":null,\"refusal\":\"nope\"}"),
         R("{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type"
           "\":\"output_text\","
           "\"text\":\"a\",\"annotations\":[]},{\"type\":\"refusal\","
           "\"refusal\":\"no\"}]},{\"type\":\"message\",\"role\":\"assistant"
           "\",\"content\":["
           "{\"type\":\"refusal\",\"refusal\":\"nope\"}]}"),
         "assistant parts and refusal");
    same(M("{\"role\":\"user\",\"content\":\"q\"},"
           "{\"role\":\"assistant\",\"content\":null,\"function_call\":{"
           "\"name\":\"f\",\"arguments\":\"{}\"}},"
           "{\"role\":\"function\",\"name\":\"f\",\"content\":\"42\"}"),
         R("{\"type\":\"message\",\"role\":\"user\",\"content\":\"q\"},"
           "{\"type\":\"function_call\",\"call_id\":\"call_legacy_1\","
           "\"name\":\"f\",\"arguments\":\"{}\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"call_legacy_1\","
           "\"output\":\"42\"}"),
         "legacy function_call and role function");
    same(M("{\"role\":\"assistant\",\"content\":\"\"}"),
         R("{\"type\":\"message\",\"role\":\"assistant\","
           "\"content\":\"\"}"),
         "an empty assistant message without calls is kept");
}

#define TOOLS "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":" \
    "\"f\",\"description\":\"F\",\"parameters\":{\"type\":\"object\"}," \
    "\"strict\":true}},{\"type\":\"function\",\"function\":{\"name\":\"g\"}}]"
#define FLAT "\"tools\":[{\"type\":\"function\",\"name\":\"f\"," \
    "\"description\":\"F\",\"parameters\":{\"type\":\"object\"}," \
    "\"strict\":true},{\"type\":\"function\",\"name\":\"g\"}]"
#define RI "\"input\":\"hi\""

static void test_tools(void)
{
    aura_request_t *r;

    same(U("," TOOLS ",\"tool_choice\":\"required\","
           "\"parallel_tool_calls\":false"),
         "{\"model\":\"m\"," RI "," FLAT ",\"tool_choice\":\"required\","
         "\"parallel_tool_calls\":false}", "tools flattened, required");
    same(U("," TOOLS ",\"tool_choice\":{\"type\":\"function\",\"function\":"
           "{\"name\":\"g\"}}"),
         "{\"model\":\"m\"," RI "," FLAT ",\"tool_choice\":{\"type\":"
         "\"function\",\"name\":\"g\"}}", "tool_choice function");
    same(U("," TOOLS ",\"tool_choice\":{\"type\":\"allowed_tools\","
           "\"allowed_tools\":{\"mode\":\"required\",\"tools\":[{\"type\":"
           "\"function\",\"function\":{\"name\":\"f\"}}]}}"),
         "{\"model\":\"m\"," RI "," FLAT ",\"tool_choice\":{\"type\":"
         "\"allowed_tools\",\"mode\":\"required\",\"tools\":[{\"type\":"
         "\"function\",\"name\":\"f\"}]}}", "tool_choice allowed_tools");
    same(U(",\"tool_choice\":\"none\""),
         "{\"model\":\"m\"," RI ",\"tool_choice\":\"none\"}",
         "tool_choice none");
    r = chat(U("," TOOLS));
    AT_STREQ(js(json_object_array_get_idx(r->tools, 1)),
             "{\"type\":\"function\",\"name\":\"g\",\"description\":null,"
             "\"parameters\":null,\"strict\":null}",
             "flat tools carry all five keys");
}

static void test_formats(void)
{
    same(U(",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
           "{\"name\":\"n\",\"schema\":{\"type\":\"object\"},\"strict\":true,"
           "\"description\":\"d\"}}"),
         "{\"model\":\"m\"," RI ",\"text\":{\"format\":{\"type\":"
         "\"json_schema\",\"name\":\"n\",\"schema\":{\"type\":\"object\"},"
         "\"strict\":true,\"description\":\"d\"}}}", "json_schema");
    same(U(",\"response_format\":{\"type\":\"json_object\"}"),
         "{\"model\":\"m\"," RI ",\"text\":{\"format\":{\"type\":"
         "\"json_object\"}}}", "json_object");
    same(U(",\"response_format\":{\"type\":\"text\"},\"verbosity\":\"low\""),
         "{\"model\":\"m\"," RI ",\"text\":{\"format\":{\"type\":\"text\"},"
         "\"verbosity\":\"low\"}}", "text and verbosity");
    same(U(",\"reasoning_effort\":\"high\""),
         "{\"model\":\"m\"," RI ",\"reasoning\":{\"effort\":\"high\"}}",
         "reasoning_effort");
}

static void test_scalars(void)
{
    aura_request_t *r;

    same(U(",\"temperature\":0.7,\"top_p\":0.9,\"presence_penalty\":1,"
           "\"frequency_penalty\":-1,\"stream\":true,\"store\":false,"
           "\"metadata\":{\"k\":\"v\"},\"service_tier\":\"flex\","
           "\"prompt_cache_key\":\"pk\",\"safety_identifier\":\"s\","
           "\"user\":\"u\",\"max_completion_tokens\":100"),
         "{\"model\":\"m\"," RI ",\"temperature\":0.7,\"top_p\":0.9,"
         "\"presence_penalty\":1,\"frequency_penalty\":-1,\"stream\":true,"
         "\"store\":false,\"metadata\":{\"k\":\"v\"},\"service_tier\":"
         "\"flex\",\"prompt_cache_key\":\"pk\",\"safety_identifier\":\"s\","
         "\"max_output_tokens\":100}", "scalars");
    same(U(",\"user\":\"u1\",\"max_tokens\":64"),
         "{\"model\":\"m\"," RI ",\"safety_identifier\":\"u1\","
         "\"max_output_tokens\":64}", "user and max_tokens");
    r = chat(U(",\"max_tokens\":5"));
    AT_INTEQ(r ? r->max_output_tokens : 0, 5,
             "max_tokens below the Responses floor of 16 is Chat-valid");
    r = chat(U(",\"max_tokens\":50,\"max_completion_tokens\":20"));
    AT_INTEQ(r ? r->max_output_tokens : 0, 20,
             "max_completion_tokens wins over max_tokens");
    r = chat(U(",\"user\":\"" "0123456789012345678901234567890123456789"
               "0123456789012345678901234567890\""));
    AT_OK(r && !r->safety_identifier, "a user over 64 chars is dropped");
    r = chat(U(",\"stream\":true,\"stream_options\":{\"include_usage\":true"
               "}"));
    AT_OK(r && r->include_usage && r->stream, "include_usage");
    r = chat(U(",\"stream\":true"));
    AT_OK(r && !r->include_usage, "include_usage defaults to off");
    r = chat(U(",\"n\":1,\"logprobs\":false,\"top_logprobs\":0,\"seed\":7,"
               "\"stop\":null,\"logit_bias\":{},\"modalities\":[\"text\"],"
               "\"prediction\":{\"type\":\"content\",\"content\":\"x\"},"
               "\"audio\":null,\"web_search_options\":null,\"functions\":[]"));
    AT_OK(r != NULL, "harmless and empty fields are accepted");
    r = chat(U(",\"stop\":[]"));
    AT_OK(r != NULL, "stop [] is accepted");
    r = chat(U(""));
    AT_OK(r && r->body && aura_json_get(r->body, "input")
          && !aura_json_get(r->body, "messages"),
          "req->body is the equivalent Responses body");
    AT_OK(r && r->max_output_tokens == AURA_UNSET && isnan(r->temperature),
          "unset fields stay unset");
}

/* ---- parser: bad input ------------------------------------------------- */

static void test_bad(void)
{
    bad("{\"model\":", "invalid_json", NULL);
    bad("", "invalid_json", NULL);
    bad("[1]", "invalid_type", NULL);
    bad("{\"model\":\"m\"}", "missing_required_parameter", "messages");
    bad("{\"messages\":\"hi\"}", "invalid_type", "messages");
    bad("{\"messages\":[]}", "invalid_value", "messages");
    bad(M("\"hi\""), "invalid_type", "messages[0]");
    bad(M("{\"content\":\"x\"}"), "missing_required_parameter",
        "messages[0].role");
    bad(M("{\"role\":\"bot\",\"content\":\"x\"}"), "invalid_value",
        "messages[0].role");
    bad(M("{\"role\":\"user\"}"), "missing_required_parameter",
        "messages[0].content");
    bad(M("{\"role\":\"user\",\"content\":5}"), "invalid_type",
        "messages[0].content");
    bad(M("{\"role\":\"user\",\"content\":[{\"type\":\"video\"}]}"),
        "invalid_value", "messages[0].content[0].type");
    bad(M("{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
          "{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AA\","
          "\"format\":\"wav\"}}]}"),
        "unsupported_value", "messages[0].content[1].type");
    bad(M("{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
          "\"image_url\":{\"url\":\"ftp://x\"}}]}"),
        "invalid_value", "messages[0].content[0].image_url.url");
    bad(M("{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}"),
        "missing_required_parameter", "messages[0].content[0].image_url");
    bad(M("{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
          "\"image_url\":{\"url\":\"https://x/y\",\"detail\":\"ultra\"}}]}"),
        "invalid_value", "messages[0].content[0].image_url.detail");
    bad(M("{\"role\":\"user\",\"content\":[{\"type\":\"file\",\"file\":{}}]}"),
        "missing_required_parameter", "messages[0].content[0].file.file_data");
    bad(M("{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}"),
        "invalid_type", "messages[0].content[0].text");
    bad(M("{\"role\":\"system\",\"content\":[{\"type\":\"image_url\","
          "\"image_url\":{\"url\":\"https://x/y\"}}]}"),
        "invalid_value", "messages[0].content[0].type");
    bad(M("{\"role\":\"assistant\"}"), "missing_required_parameter",
        "messages[0].content");
    bad(M("{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\","
          "\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\",\"function\":"
          "{\"name\":\"f\",\"arguments\":\"{}\"}},{\"type\":\"function\","
          "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}"),
        "missing_required_parameter", "messages[1].tool_calls[1].id");
    bad(M("{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\","
          "\"function\":{\"name\":\"bad name!\",\"arguments\":\"{}\"}}]}"),
        "invalid_value", "messages[0].tool_calls[0].function.name");
    bad(M("{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\","
          "\"function\":{\"name\":\"f\",\"arguments\":{}}}]}"),
        "invalid_type", "messages[0].tool_calls[0].function.arguments");
    bad(M("{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\","
          "\"type\":\"custom\",\"custom\":{}}]}"),
        "unsupported_value", "messages[0].tool_calls[0].type");
    bad(M("{\"role\":\"assistant\",\"tool_calls\":{}}"), "invalid_type",
        "messages[0].tool_calls");
    bad(M("{\"role\":\"tool\",\"content\":\"r\"}"),
        "missing_required_parameter", "messages[0].tool_call_id");
    bad(M("{\"role\":\"tool\",\"tool_call_id\":\"c\",\"content\":[{\"type\":"
          "\"image_url\",\"image_url\":{\"url\":\"https://x/y\"}}]}"),
        "invalid_value", "messages[0].content[0].type");
    bad(M("{\"role\":\"function\",\"name\":\"f\",\"content\":\"r\"}"),
        "invalid_value", "messages[0].name");
    bad(U(",\"n\":2"), "unsupported_value", "n");
    bad(U(",\"n\":0"), "invalid_value", "n");
    bad(U(",\"stop\":[\"\\n\"]"), "unsupported_parameter", "stop");
    bad(U(",\"stop\":\"END\""), "unsupported_parameter", "stop");
    bad(U(",\"logit_bias\":{\"50256\":-100}"), "unsupported_parameter",
        "logit_bias");
    bad(U(",\"audio\":{\"voice\":\"alloy\",\"format\":\"mp3\"}"),
        "unsupported_parameter", "audio");
    bad(U(",\"web_search_options\":{}"), "unsupported_parameter",
        "web_search_options");
    bad(U(",\"functions\":[{\"name\":\"f\"}]"), "unsupported_parameter",
        "functions");
    bad(U(",\"modalities\":[\"text\",\"audio\"]"), "unsupported_value",
        "modalities");
    bad(U(",\"logprobs\":true"), "unsupported_parameter", "logprobs");
    bad(U(",\"top_logprobs\":3"), "unsupported_parameter", "top_logprobs");
    bad(U(",\"foo\":1"), "unknown_parameter", "foo");
    bad(U(",\"temperature\":3"), "invalid_value", "temperature");
    bad(U(",\"top_p\":\"x\""), "invalid_type", "top_p");
    bad(U(",\"max_tokens\":0"), "invalid_value", "max_tokens");
    bad(U(",\"max_completion_tokens\":1.5"), "invalid_type",
        "max_completion_tokens");
    bad(U(",\"tools\":[{\"type\":\"function\",\"function\":{}}]"),
        "missing_required_parameter", "tools[0].function.name");
    bad(U("," TOOLS ",\"tool_choice\":{\"type\":\"function\",\"function\":"
          "{\"name\":\"nope\"}}"), "invalid_value", "tool_choice.function.nam"
          "e");
    bad(U("," TOOLS ",\"tool_choice\":{\"type\":\"allowed_tools\","
          "\"allowed_tools\":{\"tools\":[{\"type\":\"function\",\"function\":"
          "{\"name\":\"nope\"}}]}}"),
        "invalid_value", "tool_choice.allowed_tools.tools[0].function.name");
    bad(U("," TOOLS ",\"tool_choice\":{\"type\":\"allowed_tools\","
          "\"allowed_tools\":{\"mode\":\"sometimes\",\"tools\":[{\"type\":"
          "\"function\",\"function\":{\"name\":\"f\"}}]}}"),
        "invalid_value", "tool_choice.allowed_tools.mode");
    bad(U(",\"response_format\":{\"type\":\"xml\"}"), "invalid_value",
        "response_format.type");
    bad(U(",\"response_format\":{\"type\":\"json_schema\"}"),
        "missing_required_parameter", "response_format.json_schema");
    bad(U(",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
          "{\"schema\":{}}}"), "missing_required_parameter",
        "response_format.json_schema.name");
    bad(U(",\"reasoning_effort\":\"max\""), "invalid_value",
        "reasoning_effort");
    bad(U(",\"verbosity\":\"loud\""), "invalid_value", "verbosity");
    bad(U(",\"stream_options\":{\"include_usage\":\"yes\"}"), "invalid_type",
        "stream_options.include_usage");
    bad(U(",\"user\":5"), "invalid_type", "user");
    bad(U(",\"safety_identifier\":\"" "01234567890123456789012345678901234567"
          "89"
          "0123456789012345678901234567890\""), "invalid_value",
        "safety_identifier");
    bad(U(",\"metadata\":{\"k\":5}"), "invalid_type", "metadata.k");
    bad(U(",\"service_tier\":\"gold\""), "invalid_value", "service_tier");
}

static void test_error_text(void)
{
    aura_request_t *req;
    const char *body = M("{\"role\":\"assistant\",\"tool_calls\":[{\"type\":"
                         "\"function\",\"function\":{\"name\":\"f\","
                         "\"arguments\":\"{}\"}}]}");
    aura_error_t *e = aura_front_chat.parse(pool, body, strlen(body), NULL,
                                            &req);
    json_object *j;

    AT_OK(e && strstr(e->message, "'messages[0].tool_calls[0].id'")
          && !strstr(e->message, "input["),
          "mapped errors name the chat path in the message too");
    j = aura_json_pool(pool, aura_front_chat.error(e));
    AT_STREQ(js(j), "{\"error\":{\"message\":\"Missing required parameter: "
             "'messages[0].tool_calls[0].id'.\",\"type\":"
             "\"invalid_request_error\",\"param\":"
             "\"messages[0].tool_calls[0].id\",\"code\":"
             "\"missing_required_parameter\"}}", "OpenAI's error shape");
}

/* ---- the chunk encoder, driven by a real builder ----------------------- */

typedef struct wire {
    const aura_front_t *f;
    void *state;
    char *buf;
    apr_size_t len, cap;
} wire_t;

static apr_status_t frame(void *baton, const char *data, apr_size_t n)
{
    wire_t *w = baton;

    if (w->len + n + 1 > w->cap) {
        char *nb;
        w->cap = (w->len + n + 1) * 2;
        nb = apr_palloc(pool, w->cap);
        if (w->len)
            memcpy(nb, w->buf, w->len);
        w->buf = nb;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
    w->buf[w->len] = 0;
    return APR_SUCCESS;
}

static apr_status_t sink(void *baton, const char *type, json_object *ev)
{
    wire_t *w = baton;
    return w->f->stream_event(w->state, type, ev, frame, w);
}

/* The meter's part, as the glue does it: cost and `aura`. */
static void finalize(void *baton, aura_rb_t *rb, json_object *res)
{
    json_object *u = aura_json_get(res, "usage"), *a;
    (void)baton; (void)rb;

    if (u)
        json_object_object_add(u, "cost_usd", json_tokener_parse(
                                   "{\"total\":0.5}"));
    a = json_object_new_object();
    json_object_object_add(a, "request_id", json_object_new_string("req_1"));
    json_object_object_add(res, "aura", a);
}

static aura_rb_t *rb_new(const char *chat_body, wire_t *w)
{
    aura_request_t *req = chat(chat_body);
    aura_rb_t *rb = aura_rb_create(pool, req, "resp_abc", "sim/text");

    memset(w, 0, sizeof(*w));
    w->f = &aura_front_chat;
    w->state = w->f->stream_open(pool, req, rb);
    aura_rb_set_sink(rb, sink, w);
    aura_rb_set_finalize(rb, finalize, NULL);
    return rb;
}

/* The frames with "created" zeroed, one per line; checks the framing. */
static const char *frames(wire_t *w)
{
    const char *out = "", *s = w->buf ? w->buf : "";

    while (*s) {
        const char *end = strstr(s, "\n\n");
        json_object *o;

        if (strncmp(s, "data: ", 6) || !end)
            return apr_pstrcat(pool, out, "BAD FRAMING: ", s, NULL);
        o = aura_json_pool(pool, json_tokener_parse(
                apr_pstrmemdup(pool, s + 6, (apr_size_t)(end - s - 6))));
        if (aura_json_get(o, "created"))
            json_object_object_add(o, "created", json_object_new_int(0));
        out = apr_pstrcat(pool, out, js(o), "\n", NULL);
        s = end + 2;
    }
    return out;
}

#define HEAD "{\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\"," \
             "\"created\":0,\"model\":\"sim/text\"," \
             "\"system_fingerprint\":null,"
#define CH(d, f) HEAD "\"choices\":[{\"index\":0,\"delta\":" d \
                 ",\"logprobs\":null,\"finish_reason\":" f "}]"
#define ROLE CH("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", \
                "null")
#define AURA ",\"aura\":{\"request_id\":\"req_1\"}"
#define USAGE "{\"prompt_tokens\":10,\"completion_tokens\":4," \
    "\"total_tokens\":14,\"prompt_tokens_details\":{\"cached_tokens\":2}," \
    "\"completion_tokens_details\":{\"reasoning_tokens\":1}," \
    "\"cost_usd\":{\"total\":0.5}}"

static const aura_usage_t usage = { 10, 2, 4, 1, 1 };

static void test_stream_text(void)
{
    wire_t w;
    aura_rb_t *rb = rb_new(U(",\"stream\":true"), &w);
    int m;

    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "Hel", 3);
    aura_rb_text_delta(rb, m, "lo", 2);
    aura_rb_usage(rb, &usage);
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(frames(&w),
             ROLE "}\n"
             CH("{\"content\":\"Hel\"}", "null") "}\n"
             CH("{\"content\":\"lo\"}", "null") "}\n"
             CH("{}", "\"stop\"") AURA "}\n",
             "text stream without include_usage: no usage chunk");
    AT_STREQ(aura_front_chat.stream_trailer, "data: [DONE]\n\n",
             "the trailer is data: [DONE]");
}

static void test_stream_usage(void)
{
    wire_t w;
    aura_rb_t *rb = rb_new(U(",\"stream\":true,\"stream_options\":"
                             "{\"include_usage\":true}"), &w);
    int m;

    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "Hi", 2);
    aura_rb_refusal_delta(rb, m, "No", 2);
    aura_rb_usage(rb, &usage);
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(frames(&w),
             ROLE ",\"usage\":null}\n"
             CH("{\"content\":\"Hi\"}", "null") ",\"usage\":null}\n"
             CH("{\"refusal\":\"No\"}", "null") ",\"usage\":null}\n"
             CH("{}", "\"stop\"") ",\"usage\":null" AURA "}\n"
             HEAD "\"choices\":[],\"usage\":" USAGE "}\n",
             "include_usage: usage null on each chunk, then the usage chunk");
}

static void test_stream_calls(void)
{
    wire_t w;
    aura_rb_t *rb = rb_new(U(",\"stream\":true"), &w);
    int m, a, b;

    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "ok", 2);
    aura_rb_close(rb, m);
    aura_rb_open_call(rb, NULL, "call_A", "get_weather", &a);
    aura_rb_call_args_delta(rb, a, "{\"c\":", 5);
    aura_rb_open_call(rb, NULL, "call_B", "get_stock", &b);
    aura_rb_call_args_delta(rb, b, "{}", 2);
    aura_rb_call_args_delta(rb, a, "1}", 2);
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(frames(&w),
             ROLE "}\n"
             CH("{\"content\":\"ok\"}", "null") "}\n"
             CH("{\"tool_calls\":[{\"index\":0,\"id\":\"call_A\",\"type\":"
                "\"function\",\"function\":{\"name\":\"get_weather\","
                "\"arguments\":\"\"}}]}", "null") "}\n"
             CH("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                "\"{\\\"c\\\":\"}}]}", "null") "}\n"
             CH("{\"tool_calls\":[{\"index\":1,\"id\":\"call_B\",\"type\":"
                "\"function\",\"function\":{\"name\":\"get_stock\","
                "\"arguments\":\"\"}}]}", "null") "}\n"
             CH("{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":"
                "\"{}\"}}]}", "null") "}\n"
             CH("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                "\"1}\"}}]}", "null") "}\n"
             CH("{}", "\"tool_calls\"") AURA "}\n",
             "parallel calls: indices among calls, finish tool_calls");
}

static void test_stream_reasoning(void)
{
    wire_t w;
    aura_rb_t *rb = rb_new(U(",\"stream\":true"), &w);
    int r, m;

    aura_rb_open_reasoning(rb, NULL, &r);
    aura_rb_reasoning_summary_delta(rb, r, 0, "Think", 5);
    aura_rb_reasoning_summary_delta(rb, r, 0, "ing.", 4);
    aura_rb_reasoning_summary_delta(rb, r, 1, "More.", 5);
    aura_rb_close(rb, r);
    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "A", 1);
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(frames(&w),
             ROLE "}\n"
             CH("{\"reasoning_content\":\"Think\"}", "null") "}\n"
             CH("{\"reasoning_content\":\"ing.\"}", "null") "}\n"
             CH("{\"reasoning_content\":\"\\n\\nMore.\"}", "null") "}\n"
             CH("{\"content\":\"A\"}", "null") "}\n"
             CH("{}", "\"stop\"") AURA "}\n",
             "reasoning summaries as reasoning_content");
    rb = rb_new(U(",\"stream\":true"), &w);
    aura_rb_open_reasoning(rb, NULL, &r);
    aura_rb_reasoning_delta(rb, r, "raw", 3);
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(frames(&w),
             ROLE "}\n"
             CH("{\"reasoning_content\":\"raw\"}", "null") "}\n"
             CH("{}", "\"stop\"") AURA "}\n",
             "raw reasoning as reasoning_content");
}

static void test_stream_ends(void)
{
    wire_t w;
    aura_rb_t *rb = rb_new(U(",\"stream\":true"), &w);
    aura_error_t err = { 502, "server_error", "upstream_error", NULL,
                         "upstream went away", NULL };
    int m;

    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "cut", 3);
    aura_rb_finish(rb, "incomplete", "max_output_tokens");
    AT_STREQ(frames(&w),
             ROLE "}\n" CH("{\"content\":\"cut\"}", "null") "}\n"
             CH("{}", "\"length\"") AURA "}\n",
             "incomplete (max_output_tokens) -> length");
    rb = rb_new(U(",\"stream\":true"), &w);
    aura_rb_finish(rb, "incomplete", "content_filter");
    AT_STREQ(frames(&w), ROLE "}\n" CH("{}", "\"content_filter\"") AURA "}\n",
             "incomplete (content_filter) -> content_filter");
    rb = rb_new(U(",\"stream\":true,\"stream_options\":{\"include_usage\":"
                  "true}"), &w);
    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "par", 3);
    aura_rb_fail(rb, &err);
    AT_STREQ(frames(&w),
             ROLE ",\"usage\":null}\n"
             CH("{\"content\":\"par\"}", "null") ",\"usage\":null}\n"
             "{\"error\":{\"message\":\"upstream went away\",\"type\":"
             "\"server_error\",\"param\":null,\"code\":\"upstream_error\"}"
             AURA "}\n",
             "failure: OpenAI's mid-stream error chunk with aura, nothing "
             "after");
}

/* ---- the chat.completion body ------------------------------------------ */

static const char *body_of(aura_rb_t *rb)
{
    aura_request_t *req = chat(U(""));
    json_object *doc = aura_json_pool(pool, aura_front_chat.body(
                                          pool, req, aura_rb_resource(rb)));

    json_object_object_add(doc, "created", json_object_new_int(0));
    return js(doc);
}

#define BHEAD "{\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion\"," \
              "\"created\":0,\"model\":\"sim/text\"," \
              "\"choices\":[{\"index\":0,\"message\":"
#define BTAIL ",\"service_tier\":\"default\",\"system_fingerprint\":null" \
              AURA "}"

static void test_body(void)
{
    aura_rb_t *rb = aura_rb_create(pool, chat(U("")), "resp_abc", "sim/text");
    int m, r, a;

    aura_rb_set_finalize(rb, finalize, NULL);
    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "Hello", 5);
    aura_rb_text_delta(rb, m, " you", 4);
    aura_rb_usage(rb, &usage);
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(body_of(rb),
             BHEAD "{\"role\":\"assistant\",\"content\":\"Hello you\","
             "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}"
             "],"
             "\"usage\":" USAGE BTAIL, "text body");

    rb = aura_rb_create(pool, chat(U("")), "resp_abc", "sim/text");
    aura_rb_set_finalize(rb, finalize, NULL);
    aura_rb_open_reasoning(rb, NULL, &r);
    aura_rb_reasoning_summary_delta(rb, r, 0, "R1", 2);
    aura_rb_reasoning_summary_delta(rb, r, 1, "R2", 2);
    aura_rb_open_call(rb, NULL, "call_A", "f", &a);
    aura_rb_call_args_delta(rb, a, "{}", 2);
    aura_rb_open_call(rb, NULL, "call_B", "g", &a);
    aura_rb_call_args_delta(rb, a, "{\"x\":1}", 7);
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(body_of(rb),
             BHEAD "{\"role\":\"assistant\",\"content\":null,\"refusal\":null,"
             "\"tool_calls\":[{\"id\":\"call_A\",\"type\":\"function\","
             "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},"
             "{\"id\":\"call_B\",\"type\":\"function\",\"function\":{\"name\":"
             "\"g\",\"arguments\":\"{\\\"x\\\":1}\"}}],\"reasoning_content\":"
             "\"R1\\n\\nR2\"},\"logprobs\":null,\"finish_reason\":"
             "\"tool_calls\"}],\"usage\":null" BTAIL,
             "calls and reasoning body; usage null when none was reported");

    rb = aura_rb_create(pool, chat(U("")), "resp_abc", "sim/text");
    aura_rb_set_finalize(rb, finalize, NULL);
    aura_rb_open_message(rb, NULL, &m);
    aura_rb_refusal_delta(rb, m, "No.", 3);
    aura_rb_finish(rb, "incomplete", "max_output_tokens");
    AT_STREQ(body_of(rb),
             BHEAD "{\"role\":\"assistant\",\"content\":null,\"refusal\":"
             "\"No.\"},\"logprobs\":null,\"finish_reason\":\"length\"}],"
             "\"usage\":null" BTAIL, "refusal, incomplete -> length");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_messages();
    test_tools();
    test_formats();
    test_scalars();
    test_bad();
    test_error_text();
    test_stream_text();
    test_stream_usage();
    test_stream_calls();
    test_stream_reasoning();
    test_stream_ends();
    test_body();
    apr_pool_destroy(pool);
    apr_terminate();
    return AT_DONE();
}
