/*
 * test_ollama.c - the Ollama native adapter (NDJSON decoder, /api/chat
 * encoder), the Mistral adapter (id mapping and the other documented
 * differences, thinking chunks) and the Azure OpenAI adapter (URL and
 * api-key), against every recorded transcript of those providers: whole,
 * and fed in 1-byte and 7-byte pieces.
 *
 * Fixtures: tests/fixtures/ollama (Ollama's own) and tests/fixtures/openai
 * (mistral__*, azure_openai__*, tgi__*), under $AURA_FIXTURES.
 */
#include <apr_general.h>
#include <apr_lib.h>
#include <time.h>
#include <unistd.h>

#include "aura_adapter.h"
#include "aura_azure.h"
#include "aura_mistral.h"
#include "aura_ollama.h"
#include "aura_openai_chat.h"

/* dec_check.h decodes with DEC_CHECK_DECODER: here the adapter under
 * test, switched per section. */
static aura_decoder_t *(*under_test)(apr_pool_t *, aura_rb_t *, int);
#define DEC_CHECK_DECODER under_test
#include "dec_check.h"
#include "scale_check.h"

static apr_pool_t *pool;

/* ---- helpers ------------------------------------------------------------ */

/* fx_read reads tests/fixtures/openai; Ollama's files are next door. */
static const char *ollama_fx(apr_pool_t *p, const char *name)
{
    apr_size_t n;
    return fx_read_in(p, "ollama", name, &n);
}

/* A pretty-printed documentation object as the one line it is on the
 * wire (the docs show NDJSON chunks pretty-printed; SOURCES.md). */
static const char *one_line(apr_pool_t *p, const char *pretty)
{
    json_object *o = aura_json_pool(p, json_tokener_parse(pretty));
    return apr_pstrcat(p, aura_json_str(p, o, NULL), "\n", NULL);
}

/* "C" chunk files → SSE frames + [DONE], as the providers send them. */
static const char *frame_lines(apr_pool_t *p, const char *in)
{
    const char *out = "";
    char *copy = apr_pstrdup(p, in), *save = NULL, *l;
    for (l = apr_strtok(copy, "\n", &save); l; l = apr_strtok(NULL, "\n", &save))
        if (*l)
            out = apr_pstrcat(p, out, "data: ", l, "\n\n", NULL);
    return apr_pstrcat(p, out, "data: [DONE]\n\n", NULL);
}

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

static int n_output(json_object *res)
{
    json_object *o = aura_json_get(res, "output");
    return o ? (int)json_object_array_length(o) : -1;
}

/* ---- encoders ----------------------------------------------------------- */

static aura_error_t *enc(const aura_adapter_t *a, const char *in,
                         unsigned flags, const char **body)
{
    aura_target_t t = {.provider = "x", .upstream_model = "up-model",
                       .flags = flags};
    aura_request_t *req = NULL;
    apr_size_t len = 0;
    aura_error_t *e = aura_request_parse(pool, in, strlen(in), &req);

    *body = NULL;
    if (!e)
        e = a->encode(pool, req, &t, body, &len);
    if (!e && strlen(*body) != len)
        printf("#   length mismatch\n");
    return e;
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

static void enc_eq(const aura_adapter_t *a, const char *in, const char *want,
                   const char *what)
{
    const char *body;
    aura_error_t *e = enc(a, in, 0, &body);

    if (e)
        printf("#   unexpected error: %s (%s)\n", e->message,
               e->param ? e->param : "-");
    AT_OK(!e && json_same(body, want), what);
}

static void enc_err(const aura_adapter_t *a, const char *in, const char *code,
                    const char *param, const char *what)
{
    const char *body;
    aura_error_t *e = enc(a, in, 0, &body);

    AT_OK(e && e->status == 400, what);
    AT_STREQ(e ? e->code : NULL, code, apr_pstrcat(pool, what, ": code", NULL));
    AT_STREQ(e ? e->param : NULL, param,
             apr_pstrcat(pool, what, ": param", NULL));
}

#define OLL (&aura_adapter_ollama)
#define MIS (&aura_adapter_mistral)

static void ollama_encoder(void)
{
    enc_eq(OLL, "{\"model\":\"m\",\"instructions\":\"Be brief.\",\"input\":["
           "{\"role\":\"developer\",\"content\":\"Dev rule\"},"
           "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
           "\"text\":\"a\"},{\"type\":\"input_text\",\"text\":\"b\"},"
           "{\"type\":\"input_image\",\"image_url\":"
           "\"data:image/png;base64,iVBORw0KGgo=\"}]}],"
           "\"max_output_tokens\":64,\"temperature\":0.7,\"top_p\":0.9,"
           "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"x\","
           "\"schema\":{\"type\":\"object\",\"properties\":{\"a\":"
           "{\"type\":\"integer\"}}}}},"
           "\"reasoning\":{\"effort\":\"high\"},\"stream\":true}",
           "{\"model\":\"up-model\",\"messages\":["
           "{\"role\":\"system\",\"content\":\"Be brief.\"},"
           "{\"role\":\"system\",\"content\":\"Dev rule\"},"
           "{\"role\":\"user\",\"content\":\"a\\nb\",\"images\":"
           "[\"iVBORw0KGgo=\"]}],"
           "\"format\":{\"type\":\"object\",\"properties\":{\"a\":"
           "{\"type\":\"integer\"}}},"
           "\"options\":{\"num_predict\":64,\"temperature\":0.7,"
           "\"top_p\":0.9},\"think\":\"high\",\"stream\":true}",
           "ollama: system, images as base64, options, schema format, think");

    /* the tool round trip: arguments as an object, tool_name by call id */
    enc_eq(OLL, "{\"input\":[{\"role\":\"user\",\"content\":\"Weather?\"},"
           "{\"role\":\"assistant\",\"content\":\"Let me check.\"},"
           "{\"type\":\"function_call\",\"call_id\":\"toolu_01A\","
           "\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":"
           "\\\"Tokyo\\\"}\"},"
           "{\"type\":\"function_call\",\"call_id\":\"c2\",\"name\":\"now\","
           "\"arguments\":\"\"},"
           "{\"type\":\"reasoning\",\"summary\":[],\"encrypted_content\":"
           "\"aura:anthropic:sig\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"toolu_01A\","
           "\"output\":\"sunny\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"c2\","
           "\"output\":[{\"type\":\"input_text\",\"text\":\"noon\"}]}],"
           "\"tools\":[{\"type\":\"function\",\"name\":\"get_weather\","
           "\"description\":\"Weather\",\"parameters\":{\"type\":\"object\","
           "\"properties\":{\"city\":{\"type\":\"string\"}}}},"
           "{\"type\":\"function\",\"name\":\"now\"}],"
           "\"tool_choice\":\"auto\",\"reasoning\":{\"effort\":\"medium\"},"
           "\"text\":{\"format\":{\"type\":\"json_object\"}}}",
           "{\"model\":\"up-model\",\"messages\":["
           "{\"role\":\"user\",\"content\":\"Weather?\"},"
           "{\"role\":\"assistant\",\"content\":\"Let me check.\","
           "\"tool_calls\":[{\"function\":{\"name\":\"get_weather\","
           "\"arguments\":{\"city\":\"Tokyo\"}}},{\"function\":{\"name\":"
           "\"now\",\"arguments\":{}}}]},"
           "{\"role\":\"tool\",\"content\":\"sunny\",\"tool_name\":"
           "\"get_weather\"},"
           "{\"role\":\"tool\",\"content\":\"noon\",\"tool_name\":\"now\"}],"
           "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
           "\"get_weather\",\"description\":\"Weather\",\"parameters\":"
           "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
           "\"string\"}}}}},{\"type\":\"function\",\"function\":{\"name\":"
           "\"now\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}}],"
           "\"format\":\"json\",\"think\":true,\"stream\":false}",
           "ollama: tool loop (object arguments, tool_name), foreign "
           "reasoning dropped, json_object → \"json\", medium → true");

    enc_eq(OLL, "{\"input\":\"hi\",\"tools\":[{\"type\":\"function\","
           "\"name\":\"f\"}],\"tool_choice\":\"none\",\"reasoning\":"
           "{\"effort\":\"none\"}}",
           "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
           "\"content\":\"hi\"}],\"think\":false,\"stream\":false}",
           "ollama: tool_choice none sends no tools; effort none → false");
    enc_eq(OLL, "{\"input\":\"hi\",\"tools\":[{\"type\":\"function\","
           "\"name\":\"f\"},{\"type\":\"function\",\"name\":\"g\"}],"
           "\"tool_choice\":{\"type\":\"allowed_tools\",\"mode\":\"auto\","
           "\"tools\":[{\"type\":\"function\",\"name\":\"g\"}]},"
           "\"reasoning\":{\"effort\":\"minimal\"}}",
           "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
           "\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\","
           "\"function\":{\"name\":\"g\",\"parameters\":{\"type\":"
           "\"object\",\"properties\":{}}}}],\"think\":\"low\","
           "\"stream\":false}",
           "ollama: allowed_tools filters the list; minimal → \"low\"");

    enc_err(OLL, "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
            "\"input_text\",\"text\":\"x\"},{\"type\":\"input_image\","
            "\"image_url\":\"https://e.x/a.png\"}]}]}", "invalid_value",
            "input[0].content[1].image_url", "ollama: image URL refused");
    enc_err(OLL, "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
            "\"input_file\",\"file_id\":\"f1\"}]}]}", "unsupported_parameter",
            "input[0].content[0]", "ollama: files refused");
    enc_err(OLL, "{\"input\":[{\"type\":\"function_call\",\"call_id\":\"a\","
            "\"name\":\"f\",\"arguments\":\"[1]\"}]}", "invalid_value",
            "input[0].arguments", "ollama: non-object arguments refused");
    enc_err(OLL, "{\"input\":\"x\",\"tools\":[{\"type\":\"function\","
            "\"name\":\"f\"}],\"tool_choice\":\"required\"}",
            "unsupported_parameter", "tool_choice",
            "ollama: a forced call cannot be expressed");
    enc_err(OLL, "{\"input\":\"x\",\"top_logprobs\":2}",
            "unsupported_parameter", "top_logprobs", "ollama: logprobs");

    /* tool_name: the first call with the output's id, wherever it is
     * (Ollama keeps no ids: the name is all it gets) */
    enc_eq(OLL, "{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"b\","
           "\"output\":\"o1\"},"
           "{\"type\":\"function_call\",\"call_id\":\"a\",\"name\":\"fa\","
           "\"arguments\":\"\"},"
           "{\"type\":\"function_call\",\"call_id\":\"b\",\"name\":\"fb\","
           "\"arguments\":\"\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"a\","
           "\"output\":\"o2\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"zz\","
           "\"output\":\"o3\"},"
           "{\"type\":\"function_call\",\"call_id\":\"a\",\"name\":\"fa2\","
           "\"arguments\":\"\"},"
           "{\"type\":\"function_call_output\",\"call_id\":\"a\","
           "\"output\":\"o4\"}]}",
           "{\"model\":\"up-model\",\"messages\":["
           "{\"role\":\"user\",\"content\":\"q\"},"
           "{\"role\":\"tool\",\"content\":\"o1\",\"tool_name\":\"fb\"},"
           "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":["
           "{\"function\":{\"name\":\"fa\",\"arguments\":{}}},"
           "{\"function\":{\"name\":\"fb\",\"arguments\":{}}}]},"
           "{\"role\":\"tool\",\"content\":\"o2\",\"tool_name\":\"fa\"},"
           "{\"role\":\"tool\",\"content\":\"o3\"},"
           "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":["
           "{\"function\":{\"name\":\"fa2\",\"arguments\":{}}}]},"
           "{\"role\":\"tool\",\"content\":\"o4\",\"tool_name\":\"fa\"}],"
           "\"stream\":false}",
           "ollama: tool_name from the first call with the id (before or "
           "after), none for an unknown id");

    /* a refused part after an image: the images array built so far is
     * freed (LSan in the sanitizer build) */
    enc_err(OLL, "{\"input\":[{\"role\":\"user\",\"content\":["
            "{\"type\":\"input_image\",\"image_url\":"
            "\"data:image/png;base64,AAAA\"},{\"type\":\"input_file\","
            "\"file_data\":\"data:application/pdf;base64,JVBE\","
            "\"filename\":\"a.pdf\"}]}]}", "unsupported_parameter",
            "input[0].content[1]", "ollama: file after an image refused");
    enc_err(OLL, "{\"input\":[{\"role\":\"user\",\"content\":["
            "{\"type\":\"input_image\",\"image_url\":"
            "\"data:image/png;base64,AAAA\"},{\"type\":\"input_image\","
            "\"image_url\":\"https://e.x/a.png\"}]}]}", "invalid_value",
            "input[0].content[1].image_url",
            "ollama: image URL after an image refused");
    enc_err(OLL, "{\"input\":[{\"type\":\"function_call\",\"call_id\":\"c\","
            "\"name\":\"f\",\"arguments\":\"{}\"},{\"type\":"
            "\"function_call_output\",\"call_id\":\"c\",\"output\":["
            "{\"type\":\"input_image\",\"image_url\":"
            "\"data:image/png;base64,AAAA\"},{\"type\":\"input_image\","
            "\"file_id\":\"f1\"}]}]}", "invalid_value",
            "input[1].output[1]",
            "ollama: image by file_id after an image (in an output) refused");
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
static void ollama_scale(void)
{
    apr_pool_t *p;
    json_object *doc;
    double secs = 0;
    long mb = 0;

    /* 20,000 outputs before their call (the reproducer's order): each
     * finds its tool_name without a rescan of the input */
    apr_pool_create(&p, pool);
    doc = encode_big(OLL, p, apr_pstrcat(p, "{\"input\":[{\"role\":\"user\","
                     "\"content\":\"hi\"},",
                     repeat(p, "{\"type\":\"function_call_output\","
                            "\"call_id\":\"a\",\"output\":\"%d\"}", BIG_N, 0),
                     ",{\"type\":\"function_call\",\"call_id\":\"a\","
                     "\"name\":\"f\",\"arguments\":\"{}\"}]}", NULL),
                     &secs, &mb);
    AT_INTEQ(alen(doc, "messages"), BIG_N + 2,
             "ollama scale: 20,000 tool messages");
    AT_STREQ(sat(doc, "messages.20000.tool_name"), "f",
             "ollama scale: the last one named");
    printf("#   20,000 outputs: %.3f s\n", secs);
    AT_OK(secs < BIG_SECONDS, "ollama scale: outputs in linear time");
    apr_pool_destroy(p);

    /* 20,000 tools, all allowed (listed backwards) */
    apr_pool_create(&p, pool);
    doc = encode_big(OLL, p, apr_pstrcat(p, "{\"input\":\"q\",\"tools\":[",
                     repeat(p, "{\"type\":\"function\",\"name\":\"f%d\"}",
                            BIG_N, 0),
                     "],\"tool_choice\":{\"type\":\"allowed_tools\","
                     "\"mode\":\"auto\",\"tools\":[",
                     repeat(p, "{\"type\":\"function\",\"name\":\"f%d\"}",
                            BIG_N, 1), "]}}", NULL), &secs, &mb);
    AT_INTEQ(alen(doc, "tools"), BIG_N, "ollama scale: 20,000 tools sent");
    AT_STREQ(sat(doc, "tools.19999.function.name"), "f19999",
             "ollama scale: in order");
    printf("#   20,000 allowed tools: %.3f s\n", secs);
    AT_OK(secs < BIG_SECONDS, "ollama scale: allowed_tools in linear time");
    apr_pool_destroy(p);
}

static void request_checks(void)
{
    aura_target_t t = {.provider = "o", .upstream_model = "llama3.2",
                       .base_url = "http://127.0.0.1:11434"};
    aura_wire_t w;

    memset(&w, 0, sizeof(w));
    aura_adapter_ollama.request(pool, &t, 1, &w);
    AT_STREQ(w.url, "http://127.0.0.1:11434/api/chat", "ollama: URL");
    AT_OK(!w.headers, "ollama: no key, no header");
    memset(&w, 0, sizeof(w));
    t.key = "ok-cloud";
    aura_adapter_ollama.request(pool, &t, 0, &w);
    AT_STREQ(APR_ARRAY_IDX(w.headers, 0, const char *),
             "Authorization: Bearer ok-cloud", "ollama: cloud bearer");

    memset(&w, 0, sizeof(w));
    t.base_url = "https://api.mistral.ai/v1";
    t.key = "mk";
    aura_adapter_mistral.request(pool, &t, 1, &w);
    AT_STREQ(w.url, "https://api.mistral.ai/v1/chat/completions",
             "mistral: URL");
    AT_STREQ(APR_ARRAY_IDX(w.headers, 0, const char *),
             "Authorization: Bearer mk", "mistral: bearer");

    memset(&w, 0, sizeof(w));
    t.base_url = "https://res.openai.azure.com";
    t.upstream_model = "my-gpt4o";
    t.key = "azkey";
    aura_adapter_azure.request(pool, &t, 1, &w);
    AT_STREQ(w.url, "https://res.openai.azure.com/openai/deployments/"
             "my-gpt4o/chat/completions?api-version=2024-10-21",
             "azure: deployment URL, default api-version");
    AT_INTEQ(w.headers->nelts, 1, "azure: one header");
    AT_STREQ(APR_ARRAY_IDX(w.headers, 0, const char *), "api-key: azkey",
             "azure: api-key header, not Authorization");
    memset(&w, 0, sizeof(w));
    t.api_version = "2025-04-01-preview";
    t.upstream_model = "a b/c";
    aura_adapter_azure.request(pool, &t, 0, &w);
    AT_STREQ(w.url, "https://res.openai.azure.com/openai/deployments/"
             "a%20b%2fc/chat/completions?api-version=2025-04-01-preview",
             "azure: configured api-version; deployment escaped");
    memset(&w, 0, sizeof(w));
    t.api_version = "v1";
    aura_adapter_azure.request(pool, &t, 0, &w);
    AT_STREQ(w.url, "https://res.openai.azure.com/openai/v1/chat/completions",
             "azure: v1 API");
}

static void azure_encoder(void)
{
    const char *body;
    aura_error_t *e = enc(&aura_adapter_azure, "{\"input\":\"hi\","
                          "\"max_output_tokens\":100,\"reasoning\":"
                          "{\"effort\":\"low\"},\"stream\":true}",
                          AURA_TF_MAX_COMPLETION_TOKENS
                          | AURA_TF_REASONING_EFFORT, &body);
    AT_OK(!e && json_same(body, "{\"model\":\"up-model\",\"messages\":["
                          "{\"role\":\"user\",\"content\":\"hi\"}],"
                          "\"max_completion_tokens\":100,"
                          "\"reasoning_effort\":\"low\",\"stream\":true,"
                          "\"stream_options\":{\"include_usage\":true}}"),
          "azure: chat body with the kind's flags");
}

/* The mapped id of `id`, read back from an encoded tool message. */
static const char *mistral_mapped(const char *id)
{
    const char *body;
    json_object *o;
    const char *in = apr_psprintf(pool, "{\"input\":[{\"type\":"
        "\"function_call_output\",\"call_id\":\"%s\",\"output\":\"x\"}]}",
        id);

    if (enc(MIS, in, 0, &body))
        return NULL;
    o = aura_json_pool(pool, json_tokener_parse(body));
    return sat(o, "messages.0.tool_call_id");
}

static void mistral_encoder(void)
{
    const char *a = mistral_mapped("call_JMW1whyEaYG438VE1OIflxA2");
    const char *b = mistral_mapped("toolu_01A09q90qw90lq917835lq9");
    int i, ok = a && strlen(a) == 9;

    for (i = 0; ok && a[i]; i++)
        ok = apr_isalnum(a[i]);
    AT_OK(ok, "mistral: a foreign id maps to 9 characters [a-zA-Z0-9]");
    AT_STREQ(mistral_mapped("call_JMW1whyEaYG438VE1OIflxA2"), a,
             "mistral: the mapping is deterministic");
    AT_OK(b && strcmp(a, b), "mistral: different ids map apart");
    AT_STREQ(mistral_mapped("gSIMJiOkT"), "gSIMJiOkT",
             "mistral: its own 9-character ids are kept");

    enc_eq(MIS, "{\"input\":[{\"role\":\"developer\",\"content\":\"D\"},"
           "{\"role\":\"user\",\"content\":\"Weather?\"},"
           "{\"type\":\"function_call\",\"call_id\":"
           "\"call_JMW1whyEaYG438VE1OIflxA2\",\"name\":\"weather\","
           "\"arguments\":\"{\\\"location\\\":\\\"SF\\\"}\"},"
           "{\"type\":\"function_call_output\",\"call_id\":"
           "\"call_JMW1whyEaYG438VE1OIflxA2\",\"output\":\"sunny\"}],"
           "\"tools\":[{\"type\":\"function\",\"name\":\"weather\","
           "\"strict\":true},{\"type\":\"function\",\"name\":\"x\","
           "\"parameters\":{\"type\":\"object\"}}],"
           "\"tool_choice\":\"required\",\"parallel_tool_calls\":false,"
           "\"max_output_tokens\":300,\"temperature\":0.3,"
           "\"reasoning\":{\"effort\":\"medium\"},\"stream\":true,"
           "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"w\","
           "\"schema\":{\"type\":\"object\"},\"strict\":true}}}",
           apr_psprintf(pool, "{\"model\":\"up-model\",\"messages\":["
           "{\"role\":\"system\",\"content\":\"D\"},"
           "{\"role\":\"user\",\"content\":\"Weather?\"},"
           "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
           "\"%s\",\"type\":\"function\",\"function\":{\"name\":\"weather\","
           "\"arguments\":\"{\\\"location\\\":\\\"SF\\\"}\"}}]},"
           "{\"role\":\"tool\",\"tool_call_id\":\"%s\",\"content\":"
           "\"sunny\",\"name\":\"weather\"}],"
           "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
           "\"weather\",\"strict\":true,\"parameters\":{\"type\":\"object\","
           "\"properties\":{}}}},{\"type\":\"function\",\"function\":"
           "{\"name\":\"x\",\"parameters\":{\"type\":\"object\"}}}],"
           "\"tool_choice\":\"any\",\"parallel_tool_calls\":false,"
           "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
           "{\"name\":\"w\",\"schema\":{\"type\":\"object\"},\"strict\":true}},"
           "\"temperature\":0.3,\"max_tokens\":300,"
           "\"reasoning_effort\":\"high\",\"stream\":true}", a, a),
           "mistral: ids mapped alike in call and output, tool name, any, "
           "max_tokens, no stream_options, reasoning_effort high");

    enc_eq(MIS, "{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
           "{\"role\":\"assistant\",\"content\":[{\"type\":\"refusal\","
           "\"refusal\":\"No.\"}]},{\"role\":\"user\",\"content\":["
           "{\"type\":\"input_text\",\"text\":\"see\"},{\"type\":"
           "\"input_file\",\"file_id\":\"f-1\"}]}],"
           "\"reasoning\":{\"effort\":\"minimal\"}}",
           "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\","
           "\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"No.\"},"
           "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
           "\"see\"},{\"type\":\"file\",\"file_id\":\"f-1\"}]}],"
           "\"reasoning_effort\":\"none\"}",
           "mistral: refusal as text, file_id chunk, minimal → none");

    enc_err(MIS, "{\"input\":\"x\",\"top_logprobs\":3}",
            "unsupported_parameter", "top_logprobs", "mistral: no logprobs");
    enc_err(MIS, "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
            "\"input_file\",\"filename\":\"a.pdf\",\"file_data\":"
            "\"data:application/pdf;base64,JVBERi0=\"}]}]}",
            "unsupported_parameter", "input",
            "mistral: inline file data refused");
}

/* ---- Ollama transcripts ------------------------------------------------- */

static void ollama_fixtures(apr_pool_t *p)
{
    json_object *res;
    const char *s;
    aura_rb_t *rb;
    rec r;
    int k;

    under_test = aura_adapter_ollama.decoder;
    res = body_all_ways(p, "ollama body text",
                        ollama_fx(p, "ollama__chat_nonstream_text.json"));
    AT_STREQ(sat(res, "status"), "completed", "ollama text: completed");
    AT_INTEQ(n_output(res), 1, "ollama text: one item");
    AT_STREQ(sat(res, "output.0.content.0.text"), "Hello! How are you today?",
             "ollama text: the text");
    usage_is(res, 26, 0, 298, 0, "ollama text");

    res = body_all_ways(p, "ollama body call",
                        ollama_fx(p, "ollama__chat_nonstream_tool_calls.json"));
    AT_INTEQ(n_output(res), 1, "ollama call: empty content → no message");
    AT_STREQ(sat(res, "output.0.type"), "function_call", "ollama call: type");
    AT_STREQ(sat(res, "output.0.name"), "get_weather", "ollama call: name");
    AT_STREQ(sat(res, "output.0.arguments"), "{\"city\":\"Tokyo\"}",
             "ollama call: object arguments → JSON text");
    AT_OK(!strncmp(sat(res, "output.0.call_id"), "call_", 5)
          && strlen(sat(res, "output.0.call_id")) == 29,
          "ollama call: a derived call_ id");
    usage_is(res, 169, 0, 18, 0, "ollama call");

    /* the documented stream: the tool-call chunk, then the final chunk */
    s = apr_pstrcat(p,
        one_line(p, ollama_fx(p, "ollama__chat_stream_tool_call_chunk.json")),
        one_line(p, ollama_fx(p, "ollama__chat_stream_tools_final_chunk.json")),
        NULL);
    res = stream_all_ways(p, "ollama stream call", s);
    AT_STREQ(sat(res, "output.0.name"), "get_weather", "stream call: name");
    AT_STREQ(sat(res, "output.0.arguments"), "{\"city\":\"Tokyo\"}",
             "stream call: arguments");
    AT_STREQ(sat(res, "status"), "completed", "stream call: done_reason stop");
    usage_is(res, 169, 0, 15, 0, "ollama stream call");

    res = stream_all_ways(p, "ollama generate stream",
                          ollama_fx(p, "ollama__generate_stream.ndjson"));
    AT_STREQ(sat(res, "output.0.content.0.text"),
             "That's a fantastic question!", "generate: every delta");
    AT_STREQ(sat(res, "status"), "completed", "generate: completed");
    AT_OK(!at(res, "usage"), "generate: no counts reported → usage null");

    s = ollama_fx(p, "ollama__generate_stream_midstream_error.ndjson");
    for (k = 0; k < 3; k++) {
        const char *bad;
        rb = decode(p, s, strlen(s), feed_pieces[k], 1, &r);
        res = aura_rb_resource(rb);
        bad = check_events(p, &r, 1);
        AT_OK(!bad, bad ? bad : "midstream error: stream rules");
        AT_OK(aura_rb_failed(rb), "midstream error: failed");
        AT_STREQ(sat(res, "error.code"), "upstream_error",
                 "midstream error: code");
        AT_STREQ(sat(res, "error.message"), "upstream error: an error was "
                 "encountered while running the model",
                 "midstream error: Ollama's text kept");
        AT_STREQ(sat(res, "output.0.content.0.text"), " Yes.Ican",
                 "midstream error: what came before is kept");
    }
}

#define OL(x) "{\"model\":\"m\",\"created_at\":\"2025-01-01T00:00:00.1Z\"," x "}\n"

static void ollama_synthetic(apr_pool_t *p)
{
    json_object *res;
    const char *s;
    aura_rb_t *rb;
    rec r;

    under_test = aura_adapter_ollama.decoder;
    /* thinking, text, two calls in one chunk, cut off by num_predict */
    s = OL("\"message\":{\"role\":\"assistant\",\"content\":\"\","
           "\"thinking\":\"Hmm, \"},\"done\":false")
        OL("\"message\":{\"role\":\"assistant\",\"content\":\"\","
           "\"thinking\":\"weather.\"},\"done\":false")
        OL("\"message\":{\"role\":\"assistant\",\"content\":\"Checking.\"},"
           "\"done\":false")
        OL("\"message\":{\"role\":\"assistant\",\"content\":\"\","
           "\"tool_calls\":[{\"function\":{\"name\":\"a\",\"arguments\":"
           "{\"x\":1}}},{\"function\":{\"name\":\"a\",\"arguments\":"
           "{\"x\":2}}}]},\"done\":false")
        OL("\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
           "\"done_reason\":\"length\",\"done\":true,"
           "\"prompt_eval_count\":12,\"eval_count\":34");
    res = stream_all_ways(p, "ollama thinking+calls+length", s);
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "synthetic: reasoning");
    AT_STREQ(sat(res, "output.0.content.0.text"), "Hmm, weather.",
             "synthetic: thinking text");
    AT_STREQ(sat(res, "output.1.content.0.text"), "Checking.",
             "synthetic: message");
    AT_STREQ(sat(res, "output.2.arguments"), "{\"x\":1}", "synthetic: call 1");
    AT_STREQ(sat(res, "output.3.arguments"), "{\"x\":2}", "synthetic: call 2");
    AT_OK(strcmp(sat(res, "output.2.call_id"), sat(res, "output.3.call_id")),
          "synthetic: equal calls get distinct ids");
    AT_STREQ(sat(res, "status"), "incomplete", "synthetic: length");
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "synthetic: reason");
    usage_is(res, 12, 0, 34, 0, "synthetic");

    /* no trailing newline, CRLF lines */
    s = "{\"message\":{\"content\":\"a\"},\"done\":false}\r\n"
        "{\"message\":{\"content\":\"b\"},\"done\":true}";
    res = stream_all_ways(p, "ollama last line without newline", s);
    AT_STREQ(sat(res, "output.0.content.0.text"), "ab", "no final newline");

    s = "{\"message\":{\"content\":\"a\"},\"done\":false}\n";
    rb = decode(p, s, strlen(s), 1, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_stream_truncated", "no done:true → truncated");
    s = "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"message\":{\"co";
    rb = decode(p, s, strlen(s), 7, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_stream_truncated", "cut inside a line → truncated");
    s = "{\"message\":{\"content\":\"a\"},\"done\":false}\nnot json\n"
        "{\"done\":true}\n";
    rb = decode(p, s, strlen(s), 0, 1, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_bad_response", "a line that is not JSON");
    AT_OK(!check_events(p, &r, 1), "bad line: error + response.failed");

    /* 200 + {"error": "..."} as a whole body, with a credential echoed */
    s = "{\"error\":\"unauthorized: Bearer sk-abcdefghijklmnop1234\"}";
    rb = decode(p, s, strlen(s), 0, 0, &r);
    AT_OK(aura_rb_failed(rb), "error body: failed");
    AT_OK(!strstr(sat(aura_rb_resource(rb), "error.message"), "abcdefghij"),
          "error body: redacted");
    s = "{\"message\":{\"content\":\"x\"},\"done\":false}";
    rb = decode(p, s, strlen(s), 0, 0, &r);
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"), "upstream_bad_response",
             "a body without done:true is not an answer");
}

/* ---- Mistral, Azure and TGI transcripts --------------------------------- */

static void mistral_fixtures(apr_pool_t *p)
{
    apr_size_t n;
    json_object *res;

    under_test = aura_adapter_mistral.decoder;
    res = body_all_ways(p, "mistral body text",
                        fx_read_in(p, "openai", "mistral__chat_nonstream_text.json", &n));
    AT_INTEQ(strlen(sat(res, "output.0.content.0.text")), 1936,
             "mistral body: text length");
    AT_OK(!strncmp(sat(res, "output.0.content.0.text"),
                   "**Holiday Name: \"World Kindness Day of Sharing\"**", 48),
          "mistral body: text start");
    usage_is(res, 13, 0, 434, 0, "mistral body text");

    res = body_all_ways(p, "mistral body call",
                        fx_read_in(p, "openai", "mistral__chat_nonstream_tool_call.json", &n));
    AT_STREQ(sat(res, "output.0.call_id"), "gSIMJiOkT", "mistral: call id");
    AT_STREQ(sat(res, "output.0.name"), "weather", "mistral: call name");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"location\": \"San Francisco\"}", "mistral: arguments");
    usage_is(res, 124, 0, 22, 0, "mistral body call");

    res = stream_all_ways(p, "mistral stream call", frame_lines(p,
        fx_read_in(p, "openai", "mistral__chat_stream_tool_call_chunks.txt", &n)));
    AT_INTEQ(n_output(res), 1, "mistral stream: whole call in one chunk");
    AT_STREQ(sat(res, "output.0.call_id"), "gSIMJiOkT", "stream: call id");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{\"location\": \"San Francisco\"}", "stream: arguments");
    AT_STREQ(sat(res, "status"), "completed", "stream: completed");
    usage_is(res, 124, 0, 22, 0, "mistral stream call");
}

#define MCH(delta, fin) "data: {\"id\":\"x\",\"object\":\"chat.completion." \
    "chunk\",\"model\":\"mistral-small-latest\",\"choices\":[{\"index\":0," \
    "\"delta\":" delta ",\"finish_reason\":" fin "}]}\n\n"

/* Reasoning answers (docs.mistral.ai, capabilities/reasoning): thinking
 * chunks in delta.content while thinking, then plain string deltas. */
static void mistral_thinking(apr_pool_t *p)
{
    json_object *res;
    const char *s;

    under_test = aura_adapter_mistral.decoder;
    s = MCH("{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\","
            "\"thinking\":[{\"type\":\"text\",\"text\":\"Four \"}]}]}", "null")
        MCH("{\"content\":[{\"type\":\"thinking\",\"thinking\":[{\"type\":"
            "\"text\",\"text\":\"children.\"}]}]}", "null")
        MCH("{\"content\":\"John is \"}", "null")
        MCH("{\"content\":\"12.\"}", "\"stop\"")
        "data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,"
        "\"completion_tokens\":40,\"total_tokens\":49}}\n\n"
        "data: [DONE]\n\n";
    res = stream_all_ways(p, "mistral thinking stream", s);
    AT_STREQ(sat(res, "output.0.type"), "reasoning", "thinking: reasoning 1st");
    AT_STREQ(sat(res, "output.0.content.0.text"), "Four children.",
             "thinking: the thinking text");
    AT_STREQ(sat(res, "output.1.content.0.text"), "John is 12.",
             "thinking: the answer");
    usage_is(res, 9, 0, 40, 0, "thinking");

    s = "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
        "\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\","
        "\"content\":[{\"type\":\"thinking\",\"thinking\":[{\"type\":\"text\","
        "\"text\":\"Count.\"}]},{\"type\":\"text\",\"text\":\"12.\"}]}}],"
        "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":5,"
        "\"total_tokens\":14}}";
    res = body_all_ways(p, "mistral thinking body", s);
    AT_STREQ(sat(res, "output.0.content.0.text"), "Count.", "body thinking");
    AT_STREQ(sat(res, "output.1.content.0.text"), "12.", "body answer");
}

static void azure_tgi_fixtures(apr_pool_t *p)
{
    apr_size_t n;
    json_object *res;

    under_test = aura_adapter_azure.decoder;
    res = stream_all_ways(p, "azure reasoning tokens", frame_lines(p,
        fx_read_in(p, "openai", "azure_openai__chat_stream_reasoning_tokens_chunks.txt",
                &n)));
    AT_STREQ(sat(res, "output.0.content.0.text"), "Capital of Denmark.",
             "azure: text (prompt_filter_results chunk skipped)");
    AT_STREQ(sat(res, "status"), "completed", "azure: completed");
    usage_is(res, 15, 0, 78, 64, "azure: reasoning tokens 64");

    /* huggingface kind = the Chat Completions adapter */
    under_test = aura_adapter_openai_chat.decoder;
    res = stream_all_ways(p, "tgi length", frame_array(p,
        fx_read_in(p, "openai", "tgi__chat_stream_usage_chunks.json", &n)));
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "tgi: length → incomplete");
    usage_is(res, 40, 0, 10, 0, "tgi");
    res = stream_all_ways(p, "tgi call", frame_array(p,
        fx_read_in(p, "openai", "tgi__chat_stream_tool_call_chunks.json", &n)));
    AT_STREQ(sat(res, "output.0.name"), "get_current_weather", "tgi: call");
    AT_STREQ(sat(res, "output.0.arguments"),
             "{ \"location\": \"Brooklyn, NY\", \"format\": \"fahrenheit\"}",
             "tgi: arguments");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    apr_pool_create(&p, pool);
    ollama_encoder();
    ollama_scale();
    mistral_encoder();
    azure_encoder();
    request_checks();
    ollama_fixtures(p);
    ollama_synthetic(p);
    mistral_fixtures(p);
    mistral_thinking(p);
    azure_tgi_fixtures(p);
    apr_pool_destroy(pool);
    apr_terminate();
    return AT_DONE();
}
