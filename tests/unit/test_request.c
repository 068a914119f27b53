/*
 * test_request.c - aura_request_parse: validation errors (status, code,
 * param) and normalization of the accepted shapes.
 */
#include <math.h>
#include <apr_general.h>

#include "aura_test.h"
#include "aura_request.h"

static apr_pool_t *pool;

static aura_error_t *parse(const char *body, aura_request_t **req)
{
    aura_request_t *dummy;
    return aura_request_parse(pool, body, strlen(body), req ? req : &dummy);
}

/* Compare a json object with the JSON text `want` (parsed, so key order
 * and spacing do not matter). */
static int json_eq(json_object *got, const char *want)
{
    json_object *w = json_tokener_parse(want);
    int same = json_object_equal(got, w);

    if (!same)
        printf("#   got:  %s\n#   want: %s\n",
               json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN),
               want);
    json_object_put(w);
    return same;
}

typedef struct bad_case {
    const char *body;
    const char *code;
    const char *param;
} bad_case_t;

#define TOOL_F "{\"type\":\"function\",\"name\":\"f\"}"
#define TOOL_G "{\"type\":\"function\",\"name\":\"g\"}"

static const bad_case_t bad[] = {
    /* syntax */
    { "", "invalid_json", NULL },
    { "   ", "invalid_json", NULL },
    { "{\"model\":\"x\"", "invalid_json", NULL },
    { "{\"model\":\"x\"} trailing", "invalid_json", NULL },
    { "{\"model\":\"x\"}{}", "invalid_json", NULL },
    { "{\"model\":\"x\",}", "invalid_json", NULL },
    { "{\"model\":\"\xff\"}", "invalid_json", NULL },
    /* body shape */
    { "[]", "invalid_type", NULL },
    { "null", "invalid_type", NULL },
    { "{\"foo\":1}", "unknown_parameter", "foo" },
    { "{\"max_tokens\":100}", "unknown_parameter", "max_tokens" },
    /* scalars */
    { "{\"temperature\":\"hot\"}", "invalid_type", "temperature" },
    { "{\"temperature\":2.5}", "invalid_value", "temperature" },
    { "{\"temperature\":-0.1}", "invalid_value", "temperature" },
    { "{\"top_p\":1.1}", "invalid_value", "top_p" },
    { "{\"presence_penalty\":-2.1}", "invalid_value", "presence_penalty" },
    { "{\"frequency_penalty\":3}", "invalid_value", "frequency_penalty" },
    { "{\"max_output_tokens\":15}", "invalid_value", "max_output_tokens" },
    { "{\"max_output_tokens\":100.5}", "invalid_type", "max_output_tokens" },
    { "{\"max_output_tokens\":\"100\"}", "invalid_type",
      "max_output_tokens" },
    { "{\"max_tool_calls\":0}", "invalid_value", "max_tool_calls" },
    { "{\"top_logprobs\":21}", "invalid_value", "top_logprobs" },
    { "{\"top_logprobs\":-1}", "invalid_value", "top_logprobs" },
    { "{\"stream\":\"yes\"}", "invalid_type", "stream" },
    { "{\"store\":1}", "invalid_type", "store" },
    { "{\"parallel_tool_calls\":0}", "invalid_type", "parallel_tool_calls" },
    { "{\"truncation\":\"never\"}", "invalid_value", "truncation" },
    { "{\"service_tier\":\"gold\"}", "invalid_value", "service_tier" },
    { "{\"background\":true}", "unsupported_parameter", "background" },
    { "{\"background\":\"no\"}", "invalid_type", "background" },
    { "{\"stream_options\":{\"include_obfuscation\":1}}", "invalid_type",
      "stream_options.include_obfuscation" },
    { "{\"stream_options\":[]}", "invalid_type", "stream_options" },
    { "{\"model\":\"\"}", "invalid_value", "model" },
    { "{\"model\":42}", "invalid_type", "model" },
    { "{\"instructions\":[\"a\"]}", "invalid_type", "instructions" },
    { "{\"safety_identifier\":"
      "\"0123456789012345678901234567890123456789012345678901234567890123X\"}",
      "invalid_value", "safety_identifier" },
    { "{\"prompt_cache_key\":"
      "\"0123456789012345678901234567890123456789012345678901234567890123X\"}",
      "invalid_value", "prompt_cache_key" },
    { "{\"previous_response_id\":7}", "invalid_type",
      "previous_response_id" },
    /* reasoning, text, metadata, include */
    { "{\"reasoning\":{\"effort\":\"max\"}}", "invalid_value",
      "reasoning.effort" },
    { "{\"reasoning\":{\"summary\":\"short\"}}", "invalid_value",
      "reasoning.summary" },
    { "{\"reasoning\":\"high\"}", "invalid_type", "reasoning" },
    { "{\"text\":{\"verbosity\":\"loud\"}}", "invalid_value",
      "text.verbosity" },
    { "{\"text\":{\"format\":{\"type\":\"yaml\"}}}", "invalid_value",
      "text.format.type" },
    { "{\"text\":{\"format\":{}}}", "missing_required_parameter",
      "text.format.type" },
    { "{\"text\":{\"format\":{\"type\":\"json_schema\",\"schema\":{}}}}",
      "missing_required_parameter", "text.format.name" },
    { "{\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"x\"}}}",
      "missing_required_parameter", "text.format.schema" },
    { "{\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"a b\","
      "\"schema\":{}}}}", "invalid_value", "text.format.name" },
    { "{\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"x\","
      "\"schema\":\"{}\"}}}", "invalid_type", "text.format.schema" },
    { "{\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"x\","
      "\"schema\":{},\"strict\":\"yes\"}}}", "invalid_type",
      "text.format.strict" },
    { "{\"metadata\":{\"a\":1}}", "invalid_type", "metadata.a" },
    { "{\"metadata\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\","
      "\"e\":\"5\",\"f\":\"6\",\"g\":\"7\",\"h\":\"8\",\"i\":\"9\","
      "\"j\":\"10\",\"k\":\"11\",\"l\":\"12\",\"m\":\"13\",\"n\":\"14\","
      "\"o\":\"15\",\"p\":\"16\",\"q\":\"17\"}}", "invalid_value",
      "metadata" },
    { "{\"include\":[\"file_search_call.results\"]}", "invalid_value",
      "include[0]" },
    { "{\"include\":\"reasoning.encrypted_content\"}", "invalid_type",
      "include" },
    /* input items */
    { "{\"input\":42}", "invalid_type", "input" },
    { "{\"input\":[\"hi\"]}", "invalid_type", "input[0]" },
    { "{\"input\":[{\"content\":\"x\"}]}", "missing_required_parameter",
      "input[0].type" },
    { "{\"input\":[{\"type\":\"web_search_call\",\"id\":\"ws_1\"}]}",
      "invalid_value", "input[0].type" },
    { "{\"input\":[{\"role\":\"robot\",\"content\":\"x\"}]}",
      "invalid_value", "input[0].role" },
    { "{\"input\":[{\"type\":\"message\",\"content\":\"x\"}]}",
      "missing_required_parameter", "input[0].role" },
    { "{\"input\":[{\"role\":\"user\"}]}", "missing_required_parameter",
      "input[0].content" },
    { "{\"input\":[{\"role\":\"user\",\"content\":5}]}", "invalid_type",
      "input[0].content" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
      "\"text\":\"a\"},{\"type\":\"input_text\"}]}]}",
      "missing_required_parameter", "input[0].content[1].text" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
      "\"text\":\"a\"},{\"type\":\"input_text\",\"text\":\"b\"},"
      "{\"type\":\"input_image\",\"image_url\":\"ftp://x/y.png\"}]}]}",
      "invalid_value", "input[0].content[2].image_url" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
      "\"image_url\":\"data:text/plain;base64,AAAA\"}]}]}",
      "invalid_value", "input[0].content[0].image_url" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
      "\"detail\":\"low\"}]}]}", "missing_required_parameter",
      "input[0].content[0].image_url" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
      "\"image_url\":\"https://x/y.png\",\"detail\":\"max\"}]}]}",
      "invalid_value", "input[0].content[0].detail" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\","
      "\"file_data\":\"JVBERi0=\"}]}]}", "invalid_value",
      "input[0].content[0].file_data" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\","
      "\"filename\":\"a.pdf\"}]}]}", "missing_required_parameter",
      "input[0].content[0].file_data" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\""
      "}]}]}", "invalid_value", "input[0].content[0].type" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]}",
      "missing_required_parameter", "input[0].content[0].type" },
    { "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"output_text\","
      "\"text\":\"x\"}]}]}", "invalid_value", "input[0].content[0].type" },
    { "{\"input\":[{\"role\":\"system\",\"content\":[{\"type\":"
      "\"input_image\",\"image_url\":\"https://x/y.png\"}]}]}",
      "invalid_value", "input[0].content[0].type" },
    { "{\"input\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
      "\"input_text\",\"text\":\"x\"}]}]}", "invalid_value",
      "input[0].content[0].type" },
    { "{\"input\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
      "\"refusal\"}]}]}", "missing_required_parameter",
      "input[0].content[0].refusal" },
    { "{\"input\":[{\"role\":\"user\",\"content\":\"q\"},{\"type\":"
      "\"function_call\",\"name\":\"f\",\"arguments\":\"{}\"}]}",
      "missing_required_parameter", "input[1].call_id" },
    { "{\"input\":[{\"type\":\"function_call\",\"call_id\":\"c1\","
      "\"arguments\":\"{}\"}]}", "missing_required_parameter",
      "input[0].name" },
    { "{\"input\":[{\"type\":\"function_call\",\"call_id\":\"c1\","
      "\"name\":\"get weather\",\"arguments\":\"{}\"}]}", "invalid_value",
      "input[0].name" },
    { "{\"input\":[{\"type\":\"function_call\",\"call_id\":\"c1\","
      "\"name\":\"f\",\"arguments\":{}}]}", "invalid_type",
      "input[0].arguments" },
    { "{\"input\":[{\"type\":\"function_call\",\"call_id\":\"\","
      "\"name\":\"f\",\"arguments\":\"{}\"}]}", "invalid_value",
      "input[0].call_id" },
    { "{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c1\"}]}",
      "missing_required_parameter", "input[0].output" },
    { "{\"input\":[{\"type\":\"function_call_output\",\"output\":\"x\"}]}",
      "missing_required_parameter", "input[0].call_id" },
    { "{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c1\","
      "\"output\":[{\"type\":\"output_text\",\"text\":\"x\"}]}]}",
      "invalid_value", "input[0].output[0].type" },
    { "{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c1\","
      "\"output\":{\"a\":1}}]}", "invalid_type", "input[0].output" },
    { "{\"input\":[{\"type\":\"reasoning\",\"summary\":\"x\"}]}",
      "invalid_type", "input[0].summary" },
    { "{\"input\":[{\"type\":\"reasoning\",\"summary\":[{\"type\":"
      "\"summary_text\"}]}]}", "missing_required_parameter",
      "input[0].summary[0].text" },
    { "{\"input\":[{\"type\":\"item_reference\"}]}",
      "missing_required_parameter", "input[0].id" },
    { "{\"input\":[{\"type\":\"compaction\"}]}",
      "missing_required_parameter", "input[0].encrypted_content" },
    /* tools */
    { "{\"tools\":{}}", "invalid_type", "tools" },
    { "{\"tools\":[{\"type\":\"function\"}]}", "missing_required_parameter",
      "tools[0].name" },
    { "{\"tools\":[" TOOL_F ",{\"type\":\"Web Search\"}]}", "invalid_value",
      "tools[1].type" },
    { "{\"tools\":[{\"type\":\"namespace\",\"name\":\"ns\"}]}",
      "missing_required_parameter", "tools[0].tools" },
    { "{\"tools\":[{\"type\":\"namespace\",\"tools\":[{\"type\":"
      "\"function\"}]}]}", "missing_required_parameter",
      "tools[0].tools[0].name" },
    { "{\"client_metadata\":[]}", "invalid_type", "client_metadata" },
    { "{\"tools\":[{\"name\":\"f\"}]}", "missing_required_parameter",
      "tools[0].type" },
    { "{\"tools\":[{\"type\":\"function\",\"name\":\"f.g\"}]}",
      "invalid_value", "tools[0].name" },
    { "{\"tools\":[{\"type\":\"function\",\"name\":"
      "\"a1234567890123456789012345678901234567890123456789012345678901234\""
      "}]}", "invalid_value", "tools[0].name" },
    { "{\"tools\":[" TOOL_F "," TOOL_F "]}", "invalid_value",
      "tools[1].name" },
    { "{\"tools\":[{\"type\":\"function\",\"function\":{\"description\":"
      "\"d\"}}]}", "missing_required_parameter", "tools[0].function.name" },
    { "{\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"parameters\":"
      "\"{}\"}]}", "invalid_type", "tools[0].parameters" },
    { "{\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"strict\":1}]}",
      "invalid_type", "tools[0].strict" },
    /* tool_choice */
    { "{\"tool_choice\":\"always\"}", "invalid_value", "tool_choice" },
    { "{\"tool_choice\":true}", "invalid_type", "tool_choice" },
    { "{\"tool_choice\":\"required\"}", "invalid_value", "tool_choice" },
    { "{\"tool_choice\":{\"type\":\"function\",\"name\":\"f\"}}",
      "invalid_value", "tool_choice" },
    { "{\"tools\":[" TOOL_F "],\"tool_choice\":{\"type\":\"function\"}}",
      "missing_required_parameter", "tool_choice.name" },
    { "{\"tools\":[" TOOL_F "],\"tool_choice\":{\"type\":\"function\","
      "\"name\":\"g\"}}", "invalid_value", "tool_choice.name" },
    { "{\"tools\":[" TOOL_F "],\"tool_choice\":{\"type\":\"web_search\"}}",
      "invalid_value", "tool_choice.type" },
    { "{\"tools\":[" TOOL_F "," TOOL_G "],\"tool_choice\":{\"type\":"
      "\"allowed_tools\",\"tools\":[{\"type\":\"function\",\"name\":\"f\"},"
      "{\"type\":\"function\",\"name\":\"h\"}]}}", "invalid_value",
      "tool_choice.tools[1].name" },
    { "{\"tools\":[" TOOL_F "],\"tool_choice\":{\"type\":\"allowed_tools\","
      "\"tools\":[{\"type\":\"function\",\"name\":\"f\"}],\"mode\":\"any\"}}",
      "invalid_value", "tool_choice.mode" },
    { "{\"tools\":[" TOOL_F "],\"tool_choice\":{\"type\":\"allowed_tools\""
      "}}", "missing_required_parameter", "tool_choice.tools" },
    { "{\"tools\":[" TOOL_F "],\"tool_choice\":{\"type\":\"allowed_tools\","
      "\"tools\":[{\"type\":\"function\"}]}}", "missing_required_parameter",
      "tool_choice.tools[0].name" },
};

static void test_bad_inputs(void)
{
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        aura_request_t *req = NULL;
        aura_error_t *e = parse(bad[i].body, &req);
        char what[160];

        snprintf(what, sizeof(what), "bad[%zu] %.100s", i, bad[i].body);
        AT_OK(e != NULL && req == NULL, what);
        if (!e)
            continue;
        AT_INTEQ(e->status, 400, "  status 400");
        AT_STREQ(e->type, "invalid_request_error", "  type");
        AT_STREQ(e->code, bad[i].code, "  code");
        AT_STREQ(e->param, bad[i].param, "  param");
        AT_OK(e->message && *e->message, "  has a message");
    }
}

static void test_messages(void)
{
    aura_error_t *e;

    e = parse("{\"temperature\":\"hot\"}", NULL);
    AT_STREQ(e->message, "Invalid type for 'temperature': expected a "
             "number, got a string.", "invalid_type message");
    e = parse("{\"foo\":1}", NULL);
    AT_STREQ(e->message, "Unknown parameter: 'foo'.", "unknown message");
    e = parse("{\"a\":", NULL);
    AT_OK(strstr(e->message, "unexpected end of data") != NULL,
          "invalid_json message carries json-c's description");
    e = parse("{\"truncation\":\"x\"}", NULL);
    AT_STREQ(e->message, "Invalid value for 'truncation': 'x'. Supported "
             "values are: 'auto' and 'disabled'.", "enum message");
    e = parse("{\"tools\":[{\"type\":\"Web Search\"}]}", NULL);
    AT_STREQ(e->message, "Invalid tool type 'Web Search'.",
             "bad tool type message");
}

/* What Codex sends: hosted tools, a namespace of functions, metadata. */
static void test_hosted_tools(void)
{
    aura_request_t *r = NULL;
    aura_error_t *e = parse(
        "{\"input\":\"hi\",\"client_metadata\":{\"session\":\"s1\"},"
        "\"tools\":[" TOOL_F ",{\"type\":\"web_search\","
        "\"external_web_access\":true},{\"type\":\"namespace\",\"name\":"
        "\"multi\",\"tools\":[{\"type\":\"function\",\"name\":\"spawn\","
        "\"parameters\":{\"type\":\"object\"}}]}]}", &r);

    AT_OK(e == NULL, "hosted tools, namespaces and client_metadata accepted");
    if (e)
        return;
    AT_INTEQ(json_object_array_length(r->tools), 2,
             "functions + the namespace's function, flat");
    AT_STREQ(aura_json_string(json_object_array_get_idx(r->tools, 1), "name"),
             "spawn", "namespace function flattened");
    AT_INTEQ(r->hosted_tools ? json_object_array_length(r->hosted_tools) : 0,
             1, "web_search kept as a hosted tool");
    AT_STREQ(json_object_to_json_string_ext(
                 json_object_array_get_idx(r->hosted_tools, 0),
                 JSON_C_TO_STRING_PLAIN),
             "{\"type\":\"web_search\",\"external_web_access\":true}",
             "hosted tool kept as sent");
}

static void test_defaults(void)
{
    aura_request_t *r = NULL;
    aura_error_t *e = parse(" {} \n", &r);

    AT_OK(e == NULL && r != NULL, "empty object parses");
    if (!r)
        return;
    AT_OK(r->model == NULL, "model absent");
    AT_INTEQ(json_object_array_length(r->input), 0, "input empty array");
    AT_INTEQ(json_object_array_length(r->tools), 0, "tools empty array");
    AT_INTEQ(r->store, AURA_UNSET, "store unset");
    AT_INTEQ(r->parallel_tool_calls, AURA_UNSET, "ptc unset");
    AT_INTEQ(r->max_output_tokens, AURA_UNSET, "max_output_tokens unset");
    AT_INTEQ(r->max_tool_calls, AURA_UNSET, "max_tool_calls unset");
    AT_INTEQ(r->top_logprobs, AURA_UNSET, "top_logprobs unset");
    AT_OK(isnan(r->temperature) && isnan(r->top_p)
          && isnan(r->presence_penalty) && isnan(r->frequency_penalty),
          "doubles NAN");
    AT_INTEQ(r->stream, 0, "stream 0");
    AT_OK(r->tool_choice == NULL && r->text == NULL && r->reasoning == NULL
          && r->metadata == NULL && r->include == NULL, "objects NULL");

    e = parse("{\"model\":null,\"input\":null,\"temperature\":null,"
              "\"tools\":null,\"tool_choice\":null}", &r);
    AT_OK(e == NULL, "nulls mean absent");
}

static void test_scalars(void)
{
    aura_request_t *r = NULL;
    aura_error_t *e = parse(
        "{\"model\":\"openai/gpt-4o\",\"instructions\":\"Be brief.\","
        "\"temperature\":0.7,\"top_p\":1,\"presence_penalty\":-2,"
        "\"frequency_penalty\":2,\"max_output_tokens\":16,"
        "\"max_tool_calls\":3,\"top_logprobs\":20,\"stream\":true,"
        "\"store\":false,\"background\":false,\"parallel_tool_calls\":false,"
        "\"truncation\":\"disabled\",\"service_tier\":\"flex\","
        "\"safety_identifier\":\"u1\",\"prompt_cache_key\":\"k\","
        "\"previous_response_id\":\"resp_1\","
        "\"stream_options\":{\"include_obfuscation\":false},"
        "\"reasoning\":{\"effort\":\"minimal\",\"summary\":\"auto\"},"
        "\"include\":[\"reasoning.encrypted_content\"],"
        "\"metadata\":{\"team\":\"a\"},\"text\":{\"verbosity\":\"low\"}}", &r);

    AT_OK(e == NULL, "all scalars parse");
    if (!r)
        return;
    AT_STREQ(r->model, "openai/gpt-4o", "model");
    AT_STREQ(r->instructions, "Be brief.", "instructions");
    AT_OK(r->temperature == 0.7, "temperature");
    AT_OK(r->top_p == 1.0, "top_p from int");
    AT_OK(r->presence_penalty == -2.0 && r->frequency_penalty == 2.0,
          "penalties");
    AT_INTEQ(r->max_output_tokens, 16, "max_output_tokens");
    AT_INTEQ(r->max_tool_calls, 3, "max_tool_calls");
    AT_INTEQ(r->top_logprobs, 20, "top_logprobs");
    AT_INTEQ(r->stream, 1, "stream");
    AT_INTEQ(r->store, 0, "store false");
    AT_INTEQ(r->background, 0, "background false");
    AT_INTEQ(r->parallel_tool_calls, 0, "parallel_tool_calls");
    AT_STREQ(r->truncation, "disabled", "truncation");
    AT_STREQ(r->service_tier, "flex", "service_tier");
    AT_STREQ(r->safety_identifier, "u1", "safety_identifier");
    AT_STREQ(r->prompt_cache_key, "k", "prompt_cache_key");
    AT_STREQ(r->previous_response_id, "resp_1", "previous_response_id");
    AT_STREQ(aura_json_string(r->reasoning, "effort"), "minimal", "effort");
    AT_OK(json_eq(r->include, "[\"reasoning.encrypted_content\"]"),
          "include");
    AT_OK(json_eq(r->metadata, "{\"team\":\"a\"}"), "metadata");
    AT_OK(json_eq(r->text, "{\"verbosity\":\"low\"}"), "text");

    e = parse("{\"max_output_tokens\":1024.0}", &r);
    AT_OK(e == NULL && r->max_output_tokens == 1024,
          "integral double accepted as an integer");
}

static void test_string_input(void)
{
    aura_request_t *r = NULL;
    aura_error_t *e = parse("{\"input\":\"Hello\"}", &r);

    AT_OK(e == NULL, "string input parses");
    if (!r)
        return;
    AT_OK(json_eq(r->input, "[{\"type\":\"message\",\"role\":\"user\","
                  "\"content\":[{\"type\":\"input_text\",\"text\":"
                  "\"Hello\"}]}]"), "string input → one user message");
}

static void test_item_normalization(void)
{
    aura_request_t *r = NULL;
    aura_error_t *e = parse(
        "{\"input\":["
        "{\"role\":\"system\",\"content\":\"S\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
        "\"text\":\"U\"}]},"
        "{\"role\":\"assistant\",\"content\":\"A\",\"phase\":\"final_answer\"},"
        "{\"type\":\"message\",\"role\":\"developer\",\"content\":\"D\"},"
        "{\"type\":\"reasoning\",\"id\":\"rs_1\"},"
        "{\"id\":\"msg_9\"},"
        "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"f\","
        "\"arguments\":\"{}\",\"status\":\"completed\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":"
        "[{\"type\":\"input_text\",\"text\":\"ok\"},{\"type\":\"input_image\","
        "\"image_url\":\"data:image/png;base64,iVBORw0KGgo=\"}]},"
        "{\"type\":\"compaction\",\"encrypted_content\":\"gAAA\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"input_file\","
        "\"filename\":\"a.pdf\",\"file_data\":\"data:application/pdf;base64,"
        "JVBERi0=\"},{\"type\":\"input_image\",\"file_id\":\"file_1\"}]}"
        "]}", &r);

    AT_OK(e == NULL, "mixed items parse");
    if (e)
        printf("#   %s (%s)\n", e->message, e->param);
    if (!r)
        return;
    AT_INTEQ(json_object_array_length(r->input), 10, "10 items");
    AT_OK(json_eq(json_object_array_get_idx(r->input, 0),
                  "{\"type\":\"message\",\"role\":\"system\",\"content\":"
                  "[{\"type\":\"input_text\",\"text\":\"S\"}]}"),
          "role-only system item gets type and parts");
    AT_OK(json_eq(json_object_array_get_idx(r->input, 1),
                  "{\"type\":\"message\",\"role\":\"user\",\"content\":"
                  "[{\"type\":\"input_text\",\"text\":\"U\"}]}"),
          "role-only user item with parts gets type");
    AT_OK(json_eq(json_object_array_get_idx(r->input, 2),
                  "{\"type\":\"message\",\"role\":\"assistant\",\"phase\":"
                  "\"final_answer\",\"content\":[{\"type\":\"output_text\","
                  "\"text\":\"A\",\"annotations\":[]}]}"),
          "assistant string → output_text with annotations; phase kept");
    AT_OK(json_eq(json_object_array_get_idx(r->input, 3),
                  "{\"type\":\"message\",\"role\":\"developer\",\"content\":"
                  "[{\"type\":\"input_text\",\"text\":\"D\"}]}"),
          "developer string content normalized");
    AT_OK(json_eq(json_object_array_get_idx(r->input, 4),
                  "{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]}"),
          "reasoning without summary gets []");
    AT_OK(json_eq(json_object_array_get_idx(r->input, 5),
                  "{\"type\":\"item_reference\",\"id\":\"msg_9\"}"),
          "id-only item is an item_reference");
    AT_OK(json_object_array_get_idx(r->input, 6)
              == json_object_array_get_idx(
                     json_object_object_get(r->body, "input"), 6),
          "unchanged function_call item is shared, not copied");
}

static void test_tools(void)
{
    aura_request_t *r = NULL;
    aura_error_t *e = parse(
        "{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_w\","
        "\"description\":\"Weather\",\"parameters\":{\"type\":\"object\"},"
        "\"strict\":true}},{\"type\":\"function\",\"name\":\"f-2\"}],"
        "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
        "\"f-2\"}},\"parallel_tool_calls\":true}", &r);

    AT_OK(e == NULL, "tools parse");
    if (!r)
        return;
    AT_OK(json_eq(r->tools,
                  "[{\"type\":\"function\",\"name\":\"get_w\",\"description\":"
                  "\"Weather\",\"parameters\":{\"type\":\"object\"},"
                  "\"strict\":true},{\"type\":\"function\",\"name\":\"f-2\","
                  "\"description\":null,\"parameters\":null,\"strict\":null}]"),
          "nested tool flattened; all five keys present");
    AT_OK(json_object_object_get_ex(json_object_array_get_idx(r->tools, 1),
                                    "description", NULL),
          "null description key is present");
    AT_OK(json_eq(r->tool_choice, "{\"type\":\"function\",\"name\":\"f-2\"}"),
          "chat-shape tool_choice flattened");
    AT_INTEQ(r->parallel_tool_calls, 1, "parallel_tool_calls true");

    e = parse("{\"tools\":[" TOOL_F "," TOOL_G "],\"tool_choice\":\"required\"}",
              &r);
    AT_OK(e == NULL && json_eq(r->tool_choice, "\"required\""),
          "string tool_choice kept");
    e = parse("{\"tool_choice\":\"auto\"}", &r);
    AT_OK(e == NULL, "tool_choice auto without tools is fine");
    e = parse("{\"tool_choice\":\"none\"}", &r);
    AT_OK(e == NULL, "tool_choice none without tools is fine");
}

static void test_allowed_tools(void)
{
    aura_request_t *r = NULL;
    aura_error_t *e = parse(
        "{\"tools\":[" TOOL_F "," TOOL_G "],\"tool_choice\":{\"type\":"
        "\"allowed_tools\",\"tools\":[{\"type\":\"function\",\"name\":\"g\"}],"
        "\"mode\":\"required\"}}", &r);

    AT_OK(e == NULL, "allowed_tools parses");
    if (r)
        AT_OK(json_eq(r->tool_choice, "{\"type\":\"allowed_tools\",\"mode\":"
                      "\"required\",\"tools\":[{\"type\":\"function\","
                      "\"name\":\"g\"}]}"), "allowed_tools normalized");
    e = parse("{\"tools\":[" TOOL_F "],\"tool_choice\":{\"type\":"
              "\"allowed_tools\",\"tools\":[{\"name\":\"f\"}]}}", &r);
    AT_OK(e == NULL, "allowed_tools without mode parses");
    if (r)
        AT_STREQ(aura_json_string(r->tool_choice, "mode"), "auto",
                 "mode defaults to auto");
}

static void test_json_schema(void)
{
    aura_request_t *r = NULL;
    aura_error_t *e = parse(
        "{\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"person\","
        "\"description\":\"A person\",\"schema\":{\"type\":\"object\","
        "\"properties\":{\"name\":{\"type\":\"string\"}}},\"strict\":true},"
        "\"verbosity\":\"high\"}}", &r);

    AT_OK(e == NULL, "json_schema parses");
    if (r)
        AT_STREQ(aura_json_string(aura_json_get(r->text, "format"), "name"),
                 "person", "json_schema name kept");
    e = parse("{\"text\":{\"format\":{\"type\":\"json_object\"}}}", &r);
    AT_OK(e == NULL, "json_object format accepted");
    e = parse("{\"text\":{\"format\":{\"type\":\"text\"}}}", &r);
    AT_OK(e == NULL, "text format accepted");
}

static void test_lenient_items(void)
{
    aura_request_t *r = NULL;
    aura_error_t *e = parse(
        "{\"input\":[{\"type\":\"message\",\"role\":\"assistant\",\"id\":"
        "\"msg_1\",\"status\":\"completed\",\"content\":[{\"type\":"
        "\"output_text\",\"text\":\"x\",\"annotations\":[],\"logprobs\":[]}]},"
        "{\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\","
        "\"text\":\"t\"}],\"content\":[{\"type\":\"reasoning_text\",\"text\":"
        "\"r\"}],\"encrypted_content\":null}]}", &r);

    AT_OK(e == NULL, "unknown keys inside items and parts are kept");
    /* A 200-character call_id from another provider is accepted. */
    e = parse("{\"input\":[{\"type\":\"function_call\",\"call_id\":\""
              "toolu_0123456789012345678901234567890123456789012345678901234"
              "567890123456789012345678901234567890\",\"name\":\"f\","
              "\"arguments\":\"{}\"}]}", &r);
    AT_OK(e == NULL, "call_id longer than 64 accepted (up to 256)");
}

/* Length limits, checked with generated strings. */
static void test_lengths(void)
{
    char *big = apr_palloc(pool, 600), body[800];
    aura_error_t *e;

    memset(big, 'a', 599);
    big[599] = '\0';
    snprintf(body, sizeof(body), "{\"model\":\"%.257s\"}", big);
    e = parse(body, NULL);
    AT_OK(e && strcmp(e->code, "invalid_value") == 0
          && strcmp(e->param, "model") == 0, "model > 256 chars");
    snprintf(body, sizeof(body), "{\"model\":\"%.256s\"}", big);
    AT_OK(parse(body, NULL) == NULL, "model of 256 chars accepted");
    snprintf(body, sizeof(body), "{\"metadata\":{\"%.65s\":\"v\"}}", big);
    e = parse(body, NULL);
    AT_OK(e && strcmp(e->code, "invalid_value") == 0
          && strcmp(e->param, "metadata") == 0, "metadata key > 64 chars");
    snprintf(body, sizeof(body), "{\"metadata\":{\"k\":\"%.513s\"}}", big);
    e = parse(body, NULL);
    AT_OK(e && strcmp(e->code, "invalid_value") == 0
          && strcmp(e->param, "metadata.k") == 0, "metadata value > 512");
    snprintf(body, sizeof(body), "{\"metadata\":{\"k\":\"%.512s\"}}", big);
    AT_OK(parse(body, NULL) == NULL, "metadata value of 512 accepted");
    snprintf(body, sizeof(body), "{\"input\":[{\"type\":\"function_call\","
             "\"call_id\":\"%.257s\",\"name\":\"f\",\"arguments\":\"\"}]}",
             big);
    e = parse(body, NULL);
    AT_OK(e && strcmp(e->code, "invalid_value") == 0
          && strcmp(e->param, "input[0].call_id") == 0, "call_id > 256");
    /* Multi-byte characters count once: 64 x "é" (128 bytes) is fine. */
    snprintf(body, sizeof(body), "{\"safety_identifier\":\"%s\"}",
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    AT_OK(parse(body, NULL) == NULL, "64 two-byte characters are 64 chars");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_bad_inputs();
    test_messages();
    test_defaults();
    test_hosted_tools();
    test_scalars();
    test_string_input();
    test_item_normalization();
    test_tools();
    test_allowed_tools();
    test_json_schema();
    test_lenient_items();
    test_lengths();

    apr_pool_destroy(pool);
    apr_terminate();
    return AT_DONE();
}
