/*
 * test_encode.c - the request encoders: Open Responses request →
 * Chat Completions body (aura_chat_encode) and → OpenAI Responses body
 * (aura_oresp_encode). Outputs are compared as parsed JSON.
 */
#include <apr_general.h>

#include "aura_test.h"
#include "aura_adapter.h"
#include "aura_encoder.h"
#include "aura_openai_chat.h"
#include "aura_openai_responses.h"

static apr_pool_t *pool;

#define ALL_FLAGS (AURA_TF_MAX_COMPLETION_TOKENS | AURA_TF_REASONING_EFFORT \
                   | AURA_TF_OPENAI_EXTRAS | AURA_TF_ALLOWED_TOOLS)

typedef aura_error_t *(*encode_fn)(apr_pool_t *, const aura_request_t *,
                                   const aura_target_t *, const char **,
                                   apr_size_t *);

/* Parse `in`, encode for model "up-model" with `flags`. Returns the body,
 * or NULL with *err set. */
static const char *encode(encode_fn fn, const char *in, unsigned flags,
                          aura_error_t **err)
{
    aura_target_t t = {.provider = "openai", .upstream_model = "up-model",
                       .flags = flags};
    aura_request_t *req = NULL;
    const char *body = NULL;
    apr_size_t len = 0;
    aura_error_t *e = aura_request_parse(pool, in, strlen(in), &req);

    if (!e)
        e = fn(pool, req, &t, &body, &len);
    if (err)
        *err = e;
    if (e) {
        if (!err)
            printf("#   unexpected error: %s (%s)\n", e->message,
                   e->param ? e->param : "-");
        return NULL;
    }
    if (body && strlen(body) != len)
        printf("#   length mismatch\n");
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

#define CHAT_EQ(in, flags, want, what) \
    AT_OK(json_same(encode(aura_chat_encode, (in), (flags), NULL), (want)), \
          (what))
#define ORESP_EQ(in, flags, want, what) \
    AT_OK(json_same(encode(aura_oresp_encode, (in), (flags), NULL), (want)),\
          (what))

static void expect_error(encode_fn fn, const char *in, unsigned flags,
                         const char *code, const char *param,
                         const char *what)
{
    aura_error_t *e = NULL;
    const char *body = encode(fn, in, flags, &e);

    AT_OK(body == NULL && e != NULL, what);
    if (!e)
        return;
    AT_INTEQ(e->status, 400, "  status 400");
    AT_STREQ(e->code, code, "  code");
    AT_STREQ(e->param, param, "  param");
}

/* ------------------------------------------------------------------ */

static void test_chat_basic(void)
{
    CHAT_EQ("{\"model\":\"m\",\"input\":\"Hi\"}", 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"Hi\"}]}", "string input, model swapped");

    CHAT_EQ("{\"model\":\"m\",\"instructions\":\"Be brief.\",\"input\":["
            "{\"role\":\"developer\",\"content\":\"Dev rule\"},"
            "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
            "\"text\":\"a\"},{\"type\":\"input_text\",\"text\":\"b\"}]},"
            "{\"type\":\"reasoning\",\"summary\":[]},"
            "{\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
            "\"text\":\"Hel\"},{\"type\":\"output_text\",\"text\":\"lo\"}]},"
            "{\"role\":\"user\",\"content\":\"again\"}]}", 0,
            "{\"model\":\"up-model\",\"messages\":["
            "{\"role\":\"system\",\"content\":\"Be brief.\"},"
            "{\"role\":\"system\",\"content\":\"Dev rule\"},"
            "{\"role\":\"user\",\"content\":\"a\\nb\"},"
            "{\"role\":\"assistant\",\"content\":\"Hello\"},"
            "{\"role\":\"user\",\"content\":\"again\"}]}",
            "instructions + multi-turn; developer → system; reasoning dropped");

    CHAT_EQ("{\"input\":[{\"role\":\"developer\",\"content\":\"D\"}]}",
            AURA_TF_OPENAI_EXTRAS,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"developer\","
            "\"content\":\"D\"}]}", "developer kept with OPENAI_EXTRAS");

    CHAT_EQ("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
            "{\"role\":\"assistant\",\"content\":[{\"type\":\"refusal\","
            "\"refusal\":\"No.\"}]}]}", 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"q\"},{\"role\":\"assistant\",\"content\":null,"
            "\"refusal\":\"No.\"}]}", "refusal part → refusal field");
}

static void test_chat_images(void)
{
    CHAT_EQ("{\"input\":[{\"role\":\"user\",\"content\":["
            "{\"type\":\"input_text\",\"text\":\"What is this?\"},"
            "{\"type\":\"input_image\",\"image_url\":\"https://e.x/a.png\","
            "\"detail\":\"high\"},"
            "{\"type\":\"input_image\",\"image_url\":"
            "\"data:image/png;base64,iVBORw0KGgo=\"},"
            "{\"type\":\"input_file\",\"filename\":\"a.pdf\",\"file_data\":"
            "\"data:application/pdf;base64,JVBERi0=\"}]}]}", 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
            "{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"https://e.x/a.png\",\"detail\":\"high\"}},"
            "{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"data:image/png;base64,iVBORw0KGgo=\"}},"
            "{\"type\":\"file\",\"file\":{\"filename\":\"a.pdf\","
            "\"file_data\":\"data:application/pdf;base64,JVBERi0=\"}}]}]}",
            "image URL, image data URL and file parts");

    expect_error(aura_chat_encode,
                 "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"input_text\",\"text\":\"x\"},{\"type\":\"input_file\","
                 "\"file_url\":\"https://e.x/a.pdf\"}]}]}", 0,
                 "invalid_value", "input[0].content[1]",
                 "file_url is refused for chat");
    expect_error(aura_chat_encode,
                 "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"input_image\",\"file_id\":\"file_1\"}]}]}", 0,
                 "invalid_value", "input[0].content[0]",
                 "image file_id is refused for chat");
}

static void test_chat_tool_calls(void)
{
    CHAT_EQ("{\"tools\":[{\"type\":\"function\",\"name\":\"get_w\","
            "\"parameters\":{\"type\":\"object\"}},{\"type\":\"function\","
            "\"function\":{\"name\":\"get_t\",\"description\":\"Time\","
            "\"strict\":true}}],\"parallel_tool_calls\":true,\"input\":["
            "{\"role\":\"user\",\"content\":\"Weather and time?\"},"
            "{\"type\":\"reasoning\",\"summary\":[]},"
            "{\"role\":\"assistant\",\"content\":\"Checking.\"},"
            "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"get_w\","
            "\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"},"
            "{\"type\":\"function_call\",\"call_id\":\"c2\",\"name\":\"get_t\","
            "\"arguments\":\"{}\"},"
            "{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":"
            "\"5C\"},"
            "{\"type\":\"function_call_output\",\"call_id\":\"c2\",\"output\":"
            "[{\"type\":\"input_text\",\"text\":\"12:00\"},{\"type\":"
            "\"input_text\",\"text\":\"CET\"}]},"
            "{\"type\":\"function_call\",\"call_id\":\"c3\",\"name\":\"get_w\","
            "\"arguments\":\"{}\"},"
            "{\"type\":\"function_call_output\",\"call_id\":\"c3\",\"output\":"
            "[{\"type\":\"input_text\",\"text\":\"map:\"},{\"type\":"
            "\"input_image\",\"image_url\":\"https://e.x/m.png\"}]}]}", 0,
            "{\"model\":\"up-model\",\"messages\":["
            "{\"role\":\"user\",\"content\":\"Weather and time?\"},"
            "{\"role\":\"assistant\",\"content\":\"Checking.\",\"tool_calls\":["
            "{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":"
            "\"get_w\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}},"
            "{\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":"
            "\"get_t\",\"arguments\":\"{}\"}}]},"
            "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"5C\"},"
            "{\"role\":\"tool\",\"tool_call_id\":\"c2\",\"content\":"
            "\"12:00\\nCET\"},"
            "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
            "{\"id\":\"c3\",\"type\":\"function\",\"function\":{\"name\":"
            "\"get_w\",\"arguments\":\"{}\"}}]},"
            "{\"role\":\"tool\",\"tool_call_id\":\"c3\",\"content\":["
            "{\"type\":\"text\",\"text\":\"map:\"},{\"type\":\"image_url\","
            "\"image_url\":{\"url\":\"https://e.x/m.png\"}}]}],"
            "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_w\","
            "\"parameters\":{\"type\":\"object\"}}},{\"type\":\"function\","
            "\"function\":{\"name\":\"get_t\",\"description\":\"Time\","
            "\"strict\":true}}],\"parallel_tool_calls\":true}",
            "parallel calls merged into one assistant message; tool outputs");
}

#define TOOLS2 "\"tools\":[{\"type\":\"function\",\"name\":\"f\"}," \
               "{\"type\":\"function\",\"name\":\"g\"}]"
#define CHAT_TOOLS2 "\"tools\":[{\"type\":\"function\",\"function\":{" \
    "\"name\":\"f\"}},{\"type\":\"function\",\"function\":{\"name\":\"g\"}}]"

static void test_chat_tool_choice(void)
{
    const char *allowed = "{\"input\":\"x\"," TOOLS2 ",\"tool_choice\":{"
        "\"type\":\"allowed_tools\",\"mode\":\"required\",\"tools\":["
        "{\"type\":\"function\",\"name\":\"g\"}]}}";

    CHAT_EQ(allowed, AURA_TF_ALLOWED_TOOLS,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}]," CHAT_TOOLS2 ",\"tool_choice\":{\"type\":"
            "\"allowed_tools\",\"allowed_tools\":{\"mode\":\"required\","
            "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
            "\"g\"}}]}}}", "allowed_tools native");
    CHAT_EQ(allowed, 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
            "\"function\":{\"name\":\"g\"}}],\"tool_choice\":\"required\"}",
            "allowed_tools emulated: tools filtered, mode as tool_choice");
    CHAT_EQ("{\"input\":\"x\"," TOOLS2 ",\"tool_choice\":{\"type\":"
            "\"function\",\"name\":\"f\"}}", 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}]," CHAT_TOOLS2 ",\"tool_choice\":{\"type\":"
            "\"function\",\"function\":{\"name\":\"f\"}}}",
            "function tool_choice → chat shape");
    CHAT_EQ("{\"input\":\"x\"," TOOLS2 ",\"tool_choice\":\"none\"}", 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}]," CHAT_TOOLS2 ",\"tool_choice\":\"none\"}",
            "string tool_choice as is");
    CHAT_EQ("{\"input\":\"x\",\"tool_choice\":\"auto\","
            "\"parallel_tool_calls\":false}", 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}]}",
            "no tools: no tool_choice, no parallel_tool_calls");
}

static void test_chat_params(void)
{
    const char *in = "{\"input\":\"x\",\"max_output_tokens\":100,"
        "\"temperature\":0.7,\"top_p\":0.9,\"presence_penalty\":0.5,"
        "\"frequency_penalty\":-1,\"reasoning\":{\"effort\":\"high\"},"
        "\"text\":{\"verbosity\":\"low\"},\"top_logprobs\":3,"
        "\"safety_identifier\":\"u1\",\"prompt_cache_key\":\"pk\","
        "\"service_tier\":\"flex\",\"metadata\":{\"a\":\"b\"},"
        "\"truncation\":\"auto\",\"max_tool_calls\":2}";

    CHAT_EQ(in, 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}],\"temperature\":0.7,\"top_p\":0.9,"
            "\"presence_penalty\":0.5,\"frequency_penalty\":-1,"
            "\"max_tokens\":100,\"logprobs\":true,\"top_logprobs\":3}",
            "no flags: max_tokens, no effort/extras");
    CHAT_EQ(in, ALL_FLAGS,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}],\"temperature\":0.7,\"top_p\":0.9,"
            "\"presence_penalty\":0.5,\"frequency_penalty\":-1,"
            "\"max_completion_tokens\":100,\"reasoning_effort\":\"high\","
            "\"verbosity\":\"low\",\"logprobs\":true,\"top_logprobs\":3,"
            "\"safety_identifier\":\"u1\",\"prompt_cache_key\":\"pk\","
            "\"service_tier\":\"flex\"}",
            "all flags: max_completion_tokens, effort, extras; metadata "
            "without store dropped");
    CHAT_EQ("{\"input\":\"x\",\"store\":true,\"metadata\":{\"a\":\"b\"}}",
            AURA_TF_OPENAI_EXTRAS,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}],\"store\":true,\"metadata\":{\"a\":\"b\"}}",
            "metadata with store:true");
    CHAT_EQ("{\"input\":\"x\",\"reasoning\":{\"effort\":null,\"summary\":"
            "\"auto\"}}", ALL_FLAGS,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}]}", "null effort not sent");
    {
        char what[64];
        const char *got = encode(aura_chat_encode, "{\"input\":\"x\","
                                 "\"temperature\":0.7}", 0, NULL);
        snprintf(what, sizeof(what), "0.7 serialized verbatim");
        AT_OK(got && strstr(got, "\"temperature\":0.7}") != NULL, what);
    }
}

static void test_chat_format_stream(void)
{
    CHAT_EQ("{\"input\":\"x\",\"stream\":true,\"text\":{\"format\":{\"type\":"
            "\"json_schema\",\"name\":\"p\",\"description\":\"d\",\"schema\":"
            "{\"type\":\"object\"},\"strict\":true}}}", 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}],\"response_format\":{\"type\":"
            "\"json_schema\",\"json_schema\":{\"name\":\"p\",\"description\":"
            "\"d\",\"schema\":{\"type\":\"object\"},\"strict\":true}},"
            "\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
            "json_schema → response_format; stream asks for usage");
    CHAT_EQ("{\"input\":\"x\",\"stream\":false,\"text\":{\"format\":{"
            "\"type\":\"json_object\"}}}", 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}],\"response_format\":{\"type\":"
            "\"json_object\"}}", "json_object; no stream key");
    CHAT_EQ("{\"input\":\"x\",\"text\":{\"format\":{\"type\":\"text\"}}}", 0,
            "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}]}", "text format sends nothing");
}

static void test_chat_errors(void)
{
    expect_error(aura_chat_encode, "{\"input\":\"x\",\"previous_response_id\":"
                 "\"resp_1\"}", ALL_FLAGS, "previous_response_not_found",
                 "previous_response_id", "previous_response_id refused");
    expect_error(aura_chat_encode, "{\"input\":[{\"role\":\"user\","
                 "\"content\":\"x\"},{\"type\":\"item_reference\",\"id\":"
                 "\"msg_1\"}]}", 0, "unsupported_parameter", "input[1]",
                 "item_reference refused");
    expect_error(aura_chat_encode, "{\"input\":[{\"type\":\"compaction\","
                 "\"encrypted_content\":\"gAAA\"}]}", 0,
                 "unsupported_parameter", "input[0]", "compaction refused");
    expect_error(aura_chat_encode, "{\"model\":\"m\"}", 0,
                 "missing_required_parameter", "input", "no input");
}

/* ------------------------------------------------------------------ */

static void test_oresp(void)
{
    ORESP_EQ("{\"model\":\"openai/gpt-5\",\"input\":\"Hi\","
             "\"temperature\":0.2,\"stream_options\":null,"
             "\"metadata\":{\"k\":\"v\"},\"instructions\":null}", 0,
             "{\"model\":\"up-model\",\"input\":[{\"type\":\"message\","
             "\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
             "\"text\":\"Hi\"}]}],\"temperature\":0.2,\"metadata\":"
             "{\"k\":\"v\"},\"stream\":false,\"store\":false}",
             "model swapped, input normalized, store:false default, "
             "nulls dropped");
    ORESP_EQ("{\"model\":\"m\",\"input\":\"Hi\",\"stream\":true,"
             "\"stream_options\":{\"include_obfuscation\":false}}", 0,
             "{\"model\":\"up-model\",\"input\":[{\"type\":\"message\","
             "\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
             "\"text\":\"Hi\"}]}],\"stream\":true,\"store\":false}",
             "stream: stream_options dropped, no include without reasoning");
    ORESP_EQ("{\"model\":\"m\",\"input\":[{\"type\":\"reasoning\","
             "\"summary\":[],\"encrypted_content\":\"gAAA\"},{\"role\":"
             "\"user\",\"content\":\"go on\"}]}", 0,
             "{\"model\":\"up-model\",\"input\":[{\"type\":\"reasoning\","
             "\"summary\":[],\"encrypted_content\":\"gAAA\"},{\"type\":"
             "\"message\",\"role\":\"user\",\"content\":[{\"type\":"
             "\"input_text\",\"text\":\"go on\"}]}],\"stream\":false,"
             "\"store\":false,\"include\":[\"reasoning.encrypted_content\"]}",
             "reasoning carried in the input: encrypted reasoning included");
    ORESP_EQ("{\"model\":\"m\",\"input\":[{\"type\":\"reasoning\","
             "\"summary\":[],\"encrypted_content\":\"aura:anthropic:EqQB\"},"
             "{\"role\":\"user\",\"content\":\"go on\"}]}", 0,
             "{\"model\":\"up-model\",\"input\":[{\"type\":"
             "\"message\",\"role\":\"user\",\"content\":[{\"type\":"
             "\"input_text\",\"text\":\"go on\"}]}],\"stream\":false,"
             "\"store\":false}",
             "another provider's reasoning state is dropped, not sent to OpenAI");
    ORESP_EQ("{\"input\":\"Hi\",\"store\":true,\"stream\":true,"
             "\"reasoning\":{\"effort\":\"low\"}}", 0,
             "{\"model\":\"up-model\",\"input\":[{\"type\":\"message\","
             "\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
             "\"text\":\"Hi\"}]}],\"stream\":true,\"store\":true,"
             "\"reasoning\":{\"effort\":\"low\"}}",
             "store:true kept; no include");
    expect_error(aura_oresp_encode, "{\"input\":\"x\",\"store\":true,"
                 "\"previous_response_id\":\"resp_1\"}", 0,
                 "previous_response_not_found", "previous_response_id",
                 "previous_response_id refused: gateway ids are not upstream ids");
    ORESP_EQ("{\"input\":\"Hi\",\"reasoning\":{\"effort\":\"low\"},"
             "\"include\":[\"message.output_text.logprobs\","
             "\"reasoning.encrypted_content\"],\"top_logprobs\":2}", 0,
             "{\"model\":\"up-model\",\"input\":[{\"type\":\"message\","
             "\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
             "\"text\":\"Hi\"}]}],\"stream\":false,\"store\":false,"
             "\"reasoning\":{\"effort\":\"low\"},\"top_logprobs\":2,"
             "\"include\":[\"message.output_text.logprobs\","
             "\"reasoning.encrypted_content\"]}",
             "include not duplicated");
    ORESP_EQ("{\"input\":[{\"role\":\"user\",\"content\":\"q\"}],"
             "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
             "\"parameters\":{\"type\":\"object\"}}}],\"tool_choice\":{"
             "\"type\":\"allowed_tools\",\"tools\":[{\"type\":\"function\","
             "\"name\":\"f\"}]},\"text\":{\"format\":{\"type\":\"json_schema\","
             "\"name\":\"p\",\"schema\":{\"type\":\"object\"}}}}", 0,
             "{\"model\":\"up-model\",\"input\":[{\"type\":\"message\","
             "\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
             "\"text\":\"q\"}]}],\"tools\":[{\"type\":\"function\",\"name\":"
             "\"f\",\"description\":null,\"parameters\":{\"type\":\"object\"},"
             "\"strict\":null}],\"tool_choice\":{\"type\":\"allowed_tools\","
             "\"mode\":\"auto\",\"tools\":[{\"type\":\"function\",\"name\":"
             "\"f\"}]},\"text\":{\"format\":{\"type\":\"json_schema\","
             "\"name\":\"p\",\"schema\":{\"type\":\"object\"}}},"
             "\"stream\":false,\"store\":false}",
             "tools flattened, tool_choice normalized, json_schema kept");
}

static void test_oresp_no_mutation(void)
{
    aura_target_t t = {.provider = "openai", .upstream_model = "up-model"};
    const char *in = "{\"model\":\"m\",\"input\":\"Hi\",\"stream\":true}";
    aura_request_t *req = NULL;
    const char *body = NULL, *before;

    AT_OK(aura_request_parse(pool, in, strlen(in), &req) == NULL, "parse");
    if (!req)
        return;
    before = aura_json_str(pool, req->body, NULL);
    AT_OK(aura_oresp_encode(pool, req, &t, &body, NULL) == NULL, "encode");
    AT_STREQ(aura_json_str(pool, req->body, NULL), before,
             "req->body is not modified by the encoder");
    AT_STREQ(aura_json_string(req->body, "model"), "m", "original model");
}

/* The lookup tables the provider encoders build once per request
 * (call_id -> name; the allowed tool names) answer as the scans they
 * replace did. */
static void test_enc_tables(void)
{
    const char *in = "{\"model\":\"m\",\"input\":["
        "{\"role\":\"user\",\"content\":\"q\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"b\","
        "\"output\":\"x\"},"
        "{\"type\":\"function_call\",\"call_id\":\"a\",\"name\":\"fa\","
        "\"arguments\":\"{}\"},"
        "{\"type\":\"function_call\",\"call_id\":\"b\",\"name\":\"fb\","
        "\"arguments\":\"{}\"},"
        "{\"type\":\"function_call\",\"call_id\":\"a\",\"name\":\"fa2\","
        "\"arguments\":\"{}\"}]}";
    static const char *const ids[] = { "a", "b", "c", "", NULL };
    static const char *const want[] = { "fa", "fb", NULL, NULL, NULL };
    aura_request_t *req = NULL;
    apr_hash_t *h;
    json_object *list;
    int i;

    AT_OK(aura_request_parse(pool, in, strlen(in), &req) == NULL, "parse");
    if (!req)
        return;
    h = aura_enc_call_names(pool, req);
    for (i = 0; i < 5; i++)
        AT_STREQ(aura_enc_lookup(h, ids[i]), want[i],
                 apr_psprintf(pool, "call names: '%s'",
                              ids[i] ? ids[i] : "(null)"));
    AT_STREQ(aura_enc_lookup(h, "a"), "fa", "call names: first call wins");
    AT_STREQ(aura_enc_lookup(h, "b"), "fb", "call names: a later call too");
    AT_INTEQ(apr_hash_count(h), 2, "call names: one entry per id");

    list = aura_json_pool(pool, json_tokener_parse(
        "[{\"type\":\"function\",\"name\":\"f\"},{\"type\":\"function\","
        "\"name\":\"g\"},{\"type\":\"function\",\"name\":\"f\"}]"));
    h = aura_enc_name_set(pool, list);
    AT_OK(aura_enc_lookup(h, "f") && aura_enc_lookup(h, "g"),
          "name set: holds the listed names");
    AT_OK(!aura_enc_lookup(h, "h")
          && !aura_enc_lookup(h, "") && !aura_enc_lookup(h, NULL),
          "name set: and nothing else");
    AT_INTEQ(apr_hash_count(aura_enc_name_set(pool, NULL)), 0,
             "name set: of no list is empty");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_chat_basic();
    test_chat_images();
    test_chat_tool_calls();
    test_chat_tool_choice();
    test_chat_params();
    test_chat_format_stream();
    test_chat_errors();
    test_oresp();
    test_oresp_no_mutation();
    test_enc_tables();

    apr_pool_destroy(pool);
    apr_terminate();
    return AT_DONE();
}
