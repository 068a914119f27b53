/*
 * test_core.c - registry, model resolution, cost arithmetic, upstream
 * error mapping, json helpers.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <apr_general.h>

#include "aura_test.h"
#include "aura_buf.h"
#include "aura.h"
#include "aura_registry.h"
#include "aura_meter.h"
#include "aura_upstream.h"

static const char *REG =
    "{\"models\":{"
    "\"gpt-4o\":{\"provider\":\"openai\",\"upstream\":\"gpt-4o-2024-08-06\","
    "\"price\":{\"input\":2.5,\"cached_input\":1.25,\"output\":10},"
    "\"max_output\":16384,\"capabilities\":[\"tools\",\"vision\"],"
    "\"aliases\":[\"4o\"]},"
    "\"o4-mini\":{\"provider\":\"openai\",\"price\":{\"input\":1.1,"
    "\"output\":4.4,\"reasoning\":4.4},\"api\":\"chat\"},"
    "\"vllm/llama\":{\"provider\":\"vllm\",\"upstream\":\"meta/llama\","
    "\"price\":{\"input\":0.1,\"output\":0.2}}},"
    "\"prefixes\":{\"gpt-\":\"openai\",\"gpt-4o-\":\"azure\",\"o\":\"openai\"}}";

static apr_hash_t *providers(apr_pool_t *p)
{
    apr_hash_t *h = apr_hash_make(p);
    apr_hash_set(h, "openai", APR_HASH_KEY_STRING, "x");
    apr_hash_set(h, "vllm", APR_HASH_KEY_STRING, "x");
    apr_hash_set(h, "azure", APR_HASH_KEY_STRING, "x");
    return h;
}

static void test_registry(apr_pool_t *p)
{
    aura_registry_t *reg = aura_registry_create(p);
    const aura_model_t *m;

    AT_OK(aura_registry_load_json(reg, REG, "test") == NULL, "registry loads");
    m = aura_registry_find(reg, "4o");
    AT_OK(m != NULL, "alias finds the entry");
    AT_STREQ(m ? m->name : NULL, "gpt-4o", "alias resolves to canonical name");
    AT_STREQ(m ? m->upstream : NULL, "gpt-4o-2024-08-06", "upstream id");
    AT_OK(m && m->priced && m->price.cached_input == 1.25, "cached price");
    AT_OK(m && m->price.reasoning == 10, "reasoning price defaults to output");
    AT_OK(m && (m->caps & AURA_CAP_VISION) && !(m->caps & AURA_CAP_REASONING),
          "capabilities parsed");
    AT_INTEQ(m ? m->max_output : 0, 16384, "max_output");
    m = aura_registry_find(reg, "o4-mini");
    AT_STREQ(m ? m->api : NULL, "chat", "per-model api");
    AT_OK(m && m->price.cached_input == 1.1, "cached price defaults to input");
    AT_OK(aura_registry_load_json(reg, "{\"models\":{\"x\":{}}}", "bad")
              != NULL, "a model without provider is refused");
    AT_OK(aura_registry_load_json(reg, "{\"models\":{\"x\":{\"provider\":"
              "\"a\",\"price\":{\"input\":1}}}}", "bad") != NULL,
          "a price without output is refused");
    AT_OK(aura_registry_load_json(reg, "not json", "bad") != NULL,
          "garbage is refused");
}

static aura_error_t *resolve(apr_pool_t *p, aura_registry_t *reg,
                             aura_rules_t *rules, const char *m,
                             aura_resolved_t *out)
{
    return aura_resolve(p, reg, rules, providers(p), m, out);
}

static void test_resolve(apr_pool_t *p)
{
    aura_registry_t *reg = aura_registry_create(p);
    aura_rules_t rules = {0};
    aura_resolved_t r;
    aura_error_t *e;

    aura_registry_load_json(reg, REG, "test");
    e = resolve(p, reg, &rules, "gpt-4o", &r);
    AT_OK(!e && !strcmp(r.provider, "openai") && r.entry, "exact name");
    AT_STREQ(r.upstream_model, "gpt-4o-2024-08-06", "exact → upstream id");
    e = resolve(p, reg, &rules, "openai/gpt-4o", &r);
    AT_OK(!e && r.entry && !strcmp(r.entry->name, "gpt-4o"),
          "provider/model finds the priced entry");
    e = resolve(p, reg, &rules, "vllm/meta/llama", &r);
    AT_OK(!e && r.entry && !strcmp(r.upstream_model, "meta/llama"),
          "provider/upstream-id finds provider/name entry");
    e = resolve(p, reg, &rules, "vllm/other", &r);
    AT_OK(!e && !r.entry && !strcmp(r.upstream_model, "other"),
          "provider/model without entry: unpriced, passed as is");
    e = resolve(p, reg, &rules, "gpt-4o-mini-x", &r);
    AT_STREQ(e ? NULL : r.provider, "azure", "longest prefix wins");
    e = resolve(p, reg, &rules, "gpt-5", &r);
    AT_STREQ(e ? NULL : r.provider, "openai", "prefix");
    e = resolve(p, reg, &rules, "claude-x", &r);
    AT_INTEQ(e ? e->status : 0, 404, "unknown model is 404");
    AT_STREQ(e ? e->code : NULL, "model_not_found", "unknown model code");
    AT_STREQ(e ? e->param : NULL, "model", "unknown model param");
    e = resolve(p, reg, &rules, NULL, &r);
    AT_INTEQ(e ? e->status : 0, 400, "no model, no default: 400");
    rules.default_model = "gpt-4o";
    e = resolve(p, reg, &rules, NULL, &r);
    AT_OK(!e && !strcmp(r.name, "gpt-4o"), "default model applies");
    rules.aliases = apr_table_make(p, 2);
    apr_table_set(rules.aliases, "house", "vllm/llama");
    e = resolve(p, reg, &rules, "house", &r);
    AT_OK(!e && !strcmp(r.provider, "vllm"), "per-dir alias");
    apr_table_set(rules.aliases, "loop", "loop");
    e = resolve(p, reg, &rules, "loop", &r);
    AT_INTEQ(e ? e->status : 0, 404, "alias loop ends, unknown");
    rules.allow = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(rules.allow, const char *) = "gpt-*";
    e = resolve(p, reg, &rules, "house", &r);
    AT_INTEQ(e ? e->status : 0, 403, "not allowed → 403");
    AT_STREQ(e ? e->code : NULL, "model_not_allowed", "403 code");
    e = resolve(p, reg, &rules, "4o", &r);
    AT_OK(e == NULL, "allowed through the resolved name");
    rules.allow = NULL;
    rules.routes = apr_array_make(p, 1, sizeof(aura_route_rule_t));
    {
        aura_route_rule_t *rr = apr_array_push(rules.routes);
        rr->pattern = "gpt-4o";
        rr->provider = "azure";
        rr->upstream = "my-deployment";
    }
    e = resolve(p, reg, &rules, "gpt-4o", &r);
    AT_OK(!e && !strcmp(r.provider, "azure") &&
              !strcmp(r.upstream_model, "my-deployment") && r.entry,
          "AuraRoute overrides provider and upstream, keeps prices");
    e = resolve(p, reg, &rules, "openai/gpt-4o", &r);
    AT_OK(!e && !strcmp(r.provider, "openai") && !r.routed,
          "AuraRoute never overrides an explicit provider/model");
    e = resolve(p, reg, &rules, "gpt-4o", &r);
    AT_OK(!e && r.routed, "routed flag set when a route chose");
    e = resolve(p, reg, &rules, "nope/x", &r);
    AT_INTEQ(e ? e->status : 0, 404, "unknown provider prefix is 404");
}

/* The request threads of a threaded MPM resolve concurrently. */
static void *resolve_many(void *arg)
{
    aura_registry_t *reg = arg;
    aura_rules_t rules = {0};
    apr_pool_t *p;
    aura_resolved_t r;
    int i, ok = 1;

    apr_pool_create(&p, NULL);
    for (i = 0; i < 20000; i++) {
        apr_pool_clear(p);
        ok &= aura_resolve(p, reg, &rules, providers(p), "gpt-9-x", &r) == NULL
              && !strcmp(r.provider, "openai");
    }
    apr_pool_destroy(p);
    return ok ? arg : NULL;
}

static void test_resolve_threads(apr_pool_t *p)
{
    aura_registry_t *reg = aura_registry_create(p);
    pthread_t th[6];
    int i, ok = 1;
    void *res;

    aura_registry_load_json(reg, REG, "test");
    for (i = 0; i < 6; i++)
        pthread_create(&th[i], NULL, resolve_many, reg);
    for (i = 0; i < 6; i++) {
        pthread_join(th[i], &res);
        ok &= res != NULL;
    }
    AT_OK(ok, "6 threads resolve by prefix concurrently, all correct");
}

static void test_cost(void)
{
    aura_price_t price = {2.5, 1.25, 10, 10, 2.5};
    aura_usage_t u = {1000, 200, 500, 100, 1};
    aura_cost_t c;

    aura_cost_compute(&price, 1, &u, 0, &c);
    AT_OK(fabs(c.input - 800 * 2.5e-6) < 1e-15, "input part excludes cached");
    AT_OK(fabs(c.cached_input - 200 * 1.25e-6) < 1e-15, "cached part");
    AT_OK(fabs(c.output - 400 * 10e-6) < 1e-15, "output excludes reasoning");
    AT_OK(fabs(c.reasoning - 100 * 10e-6) < 1e-15, "reasoning part");
    AT_OK(fabs(c.total - (0.002 + 0.00025 + 0.004 + 0.001)) < 1e-15, "total");
    aura_cost_compute(&price, 0, &u, 0, &c);
    AT_OK(!c.known, "unpriced → unknown, not $0");
    price.cache_write = 3.125;
    aura_cost_compute(&price, 1, &u, 300, &c);
    AT_OK(fabs(c.input - 500 * 2.5e-6) < 1e-15 &&
              fabs(c.cache_write - 300 * 3.125e-6) < 1e-15,
          "cache writes: part of input, billed at the cache_write rate");
    u.cached = 5000;
    aura_cost_compute(&price, 1, &u, 0, &c);
    AT_OK(c.input == 0 && fabs(c.cached_input - 1000 * 1.25e-6) < 1e-15,
          "cached above input is clamped");
}

static void test_meter(apr_pool_t *p)
{
    aura_registry_t *reg = aura_registry_create(p);
    json_object *res = aura_json_pool(p, json_tokener_parse(
        "{\"output\":[{\"type\":\"reasoning\",\"summary\":[]},"
        "{\"type\":\"function_call\",\"name\":\"get_weather\"},"
        "{\"type\":\"function_call\",\"name\":\"get_weather\"},"
        "{\"type\":\"function_call\",\"name\":\"get_time\"}],"
        "\"usage\":{\"input_tokens\":10}}"));
    aura_usage_t u = {1000, 0, 1000, 50, 1};
    aura_meter_info_t mi = {0};
    json_object *aura, *ag, *cost;

    aura_registry_load_json(reg, REG, "test");
    mi.request_id = "req_1";
    mi.provider = "openai";
    mi.model = "gpt-4o";
    mi.entry = aura_registry_find(reg, "gpt-4o");
    mi.started = apr_time_now();
    mi.attempts = 1;
    aura_meter_apply(res, &u, 0, &mi);
    aura = aura_json_get(res, "aura");
    ag = aura_json_get(aura, "agentic");
    cost = aura_json_get(aura_json_get(res, "usage"), "cost_usd");
    AT_STREQ(aura_json_string(aura, "request_id"), "req_1", "aura.request_id");
    AT_STREQ(aura_json_string(aura, "cost_status"), "priced", "cost_status");
    AT_INTEQ(json_object_get_int(aura_json_get(ag, "tool_calls_count")), 3,
             "tool_calls_count");
    AT_INTEQ(json_object_array_length(aura_json_get(ag, "tools_used")), 2,
             "tools_used is distinct names");
    AT_OK(json_object_get_boolean(aura_json_get(ag, "requires_action")),
          "requires_action with client-side calls");
    AT_OK(json_object_get_boolean(aura_json_get(ag, "has_reasoning")),
          "has_reasoning");
    AT_STREQ(json_object_to_json_string(aura_json_get(cost, "total")),
             "0.0125", "total printed without binary noise");
    mi.entry = NULL;
    aura_meter_apply(res, &u, 0, &mi);
    AT_OK(aura_json_get(aura_json_get(res, "usage"), "cost_usd") == NULL,
          "unknown price → cost_usd null");
    AT_STREQ(aura_json_string(aura_json_get(res, "aura"), "cost_status"),
             "unknown_price", "cost_status unknown_price");
}

static void test_upstream(apr_pool_t *p)
{
    const char *b429 = "{\"error\":{\"message\":\"quota\",\"type\":"
                       "\"insufficient_quota\",\"param\":null,\"code\":"
                       "\"insufficient_quota\"}}";
    const char *b401 = "{\"error\":{\"message\":\"Incorrect API key provided:"
                       " sk-abc***xyz\",\"code\":\"invalid_api_key\"}}";
    const char *b400 = "{\"error\":{\"message\":\"bad temp\",\"type\":"
                       "\"invalid_request_error\",\"param\":\"temperature\","
                       "\"code\":\"unsupported_value\"}}";
    aura_error_t *e;

    e = aura_upstream_status_error(p, "openai", NULL, 429, b429, strlen(b429), "7");
    AT_INTEQ(e->status, 429, "429 stays 429");
    AT_STREQ(e->retry_after, "7", "Retry-After passed on");
    AT_STREQ(e->code, "insufficient_quota", "upstream code kept");
    e = aura_upstream_status_error(p, "openai", NULL, 401, b401, strlen(b401), NULL);
    AT_INTEQ(e->status, 502, "401 → 502");
    AT_STREQ(e->code, "upstream_auth_failed", "401 code");
    AT_OK(!strstr(e->message, "sk-"), "upstream 401 text (key) not passed on");
    e = aura_upstream_status_error(p, "openai", NULL, 400, b400, strlen(b400), NULL);
    AT_INTEQ(e->status, 400, "400 passes");
    AT_STREQ(e->param, "temperature", "upstream param kept");
    e = aura_upstream_status_error(p, "openai", "k-123456", 400,
        "{\"error\":{\"message\":\"bad header: Bearer k-123456 and k-123456\"}}",
        64, NULL);
    AT_OK(!strstr(e->message, "k-123456"), "upstream echo of the key redacted");
    {
        const char *g429 = "{\"error\":{\"code\":429,\"message\":\"quota\","
            "\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":"
            "\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":"
            "\"6.2s\"}]}}";
        const char *oll = "{\"error\":\"model 'x' not found\"}";
        e = aura_upstream_status_error(p, "gem", NULL, 429, g429,
                                       strlen(g429), NULL);
        AT_STREQ(e->retry_after, "7", "Gemini RetryInfo → Retry-After, rounded up");
        {
            const char *g400 = "{\"error\":{\"code\":400,\"message\":"
                "\"API key not valid.\",\"status\":\"INVALID_ARGUMENT\","
                "\"details\":[{\"reason\":\"API_KEY_INVALID\"}]}}";
            e = aura_upstream_status_error(p, "gem", NULL, 400, g400,
                                           strlen(g400), NULL);
            AT_STREQ(e->code, "upstream_auth_failed",
                     "Gemini's 400 API_KEY_INVALID is the gateway's key");
        }
        e = aura_upstream_status_error(p, "oll", NULL, 404, oll, strlen(oll),
                                       NULL);
        AT_OK(strstr(e->message, "model 'x' not found") != NULL,
              "Ollama's {error: string} message kept");
    }
    e = aura_upstream_status_error(p, "openai", NULL, 500, "<html>", 6, NULL);
    AT_INTEQ(e->status, 502, "500 → 502");
    e = aura_upstream_transport_error(p, "x", AURA_HTTP_FIRST_BYTE_TIMEOUT, 0);
    AT_INTEQ(e->status, 504, "first-byte timeout → 504");
    AT_STREQ(e->code, "upstream_timeout", "timeout code");
    e = aura_upstream_transport_error(p, "x", AURA_HTTP_CONNECT_FAILED, "no");
    AT_STREQ(e->code, "upstream_unreachable", "connect failure code");
}

static void test_redact(apr_pool_t *p)
{
    const char *plain = "model overloaded, retry later";
    AT_OK(aura_redact(p, plain, "sk-live-123456") == plain,
          "nothing to redact: same string back");
    AT_STREQ(aura_redact(p, "bad header: Bearer sk-secret-123", NULL),
             "bad header: Bearer [redacted]", "bearer token redacted");
    AT_STREQ(aura_redact(p, "Incorrect API key provided: sk-abc***xyz.", NULL),
             "Incorrect API key provided: [redacted].", "sk- key redacted");
    AT_STREQ(aura_redact(p, "got q1w2e3r4t5 as key", "q1w2e3r4t5"),
             "got [redacted] as key", "the configured secret redacted");
    AT_STREQ(aura_redact(p, "url ?key=AIzaSyABCDEF&x=1", NULL),
             "url ?key=[redacted]&x=1", "key= query value redacted");
    AT_STREQ(aura_redact(p, "key AIzaSyD-abcdefghijklmnop rejected", NULL),
             "key [redacted] rejected", "Google API key redacted");
    AT_STREQ(aura_redact(p, "id AKIAIOSFODNN7EXAMPLE bad", NULL),
             "id [redacted] bad", "AWS access key id redacted");
    AT_STREQ(aura_redact(p, "token hf_AbCdEfGhIjKlMnOp bad", NULL),
             "token [redacted] bad", "Hugging Face token redacted");
    AT_STREQ(aura_redact(p, aura_redact(p, "url ?key=AIzaSyABCDEF&x=1 and "
                                        "Bearer abcdef", NULL), NULL),
             "url ?key=[redacted]&x=1 and Bearer [redacted]",
             "redacting twice changes nothing");
    AT_STREQ(aura_redact(p, "task-1234 and disk-5678", NULL),
             "task-1234 and disk-5678", "sk- inside a word is not a key");
}

static void test_strjoin(apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    int i;

    AT_STREQ(aura_strjoin(p, a, ", "), "", "empty join");
    APR_ARRAY_PUSH(a, const char *) = "a";
    APR_ARRAY_PUSH(a, const char *) = NULL;
    APR_ARRAY_PUSH(a, const char *) = "bc";
    AT_STREQ(aura_strjoin(p, a, "\n\n"), "a\n\nbc", "join skips NULLs");
    for (i = 0; i < 100000; i++)
        APR_ARRAY_PUSH(a, const char *) = "xyz";
    AT_INTEQ(strlen(aura_strjoin(p, a, "--")), 5 + 100000 * 5,
             "100k parts joined in one pass");
}

/* aura_json_str must print exactly what json-c prints. */
static void test_json_writer(apr_pool_t *p)
{
    static const char *docs[] = {
        "{}", "[]", "null", "true", "-0", "\"\"",
        "{\"a\":[1,-2,9223372036854775807,-9223372036854775808,0.5,1e300,"
        "-0.0,3.14159265358979,1.0,2.50],\"b\":{\"c\":null,\"d\":false}}",
        "{\"s\":\"quote \\\" back \\\\ slash / nl \\n tab \\t cr \\r "
        "bs \\b ff \\f nul \\u0000 ctl \\u001f del \\u007f "
        "utf8 \\u00e9\\u4e2d\\ud83d\\ude00 \\u2028\"}",
        "[[[[{\"k\\n\\\"ey\":[{},[],\"\"]}]]]]",
    };
    size_t i;
    json_object *o;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        o = aura_json_pool(p, json_tokener_parse(docs[i]));
        AT_STREQ(aura_json_str(p, o, NULL),
                 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                     JSON_C_TO_STRING_NOSLASHESCAPE), docs[i]);
    }
    o = aura_json_pool(p, json_object_new_object());
    json_object_object_add(o, "money", aura_json_money(0.1 + 0.2));
    json_object_object_add(o, "d", json_object_new_double(1.0 / 3));
    json_object_object_add(o, "bin", json_object_new_string_len("a\0b", 3));
    AT_STREQ(aura_json_str(p, o, NULL),
             json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                 JSON_C_TO_STRING_NOSLASHESCAPE), "built values, embedded NUL");
    {
        /* larger than the first buffer: growth keeps the content */
        char big[5000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        big[100] = '"';
        o = aura_json_pool(p, json_object_new_string(big));
        AT_STREQ(aura_json_str(p, o, NULL),
                 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                     JSON_C_TO_STRING_NOSLASHESCAPE), "growth past 1 KiB");
    }
}

/* A cached tokener comes back without the flags its last user set: a
 * request parser's STRICT must not leak into the decoder that gets the
 * same tokener next (json_tokener_reset keeps the flags). */
static void test_tokener_flags(void)
{
    struct json_tokener *tok = aura_tokener_acquire();
    const char *lax = "[1,2,]";     /* a trailing comma: only non-strict */
    json_object *o;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, lax, (int)strlen(lax));
    AT_OK(o == NULL, "strict refuses a trailing comma");
    aura_tokener_release(tok);
    tok = aura_tokener_acquire();
    o = json_tokener_parse_ex(tok, lax, (int)strlen(lax));
    AT_OK(o != NULL, "the next user of the tokener parses as json-c does");
    json_object_put(o);
    aura_tokener_release(tok);
}

/* Heap storage: realloc'd in place, freed by the pool's cleanup (ASan's
 * leak check fails the run if it is not). */
static void test_buf_heap(apr_pool_t *parent)
{
    apr_pool_t *p;
    aura_buf_t *b;
    int i;

    apr_pool_create(&p, parent);
    b = apr_palloc(parent, sizeof(*b));     /* outlives p, to look at */
    aura_buf_init_heap(b, p);
    AT_OK(b->heap && b->s == NULL, "heap: nothing allocated yet");
    for (i = 0; i < 1000; i++)
        aura_buf_add(b, "abcdefghij", 10);
    AT_OK(b->len == 10000 && b->cap == 16384 && b->s[9999] == 'j'
          && b->s[10000] == '\0', "heap: doubled to 16 KiB, content kept");
    aura_buf_reset(b);
    aura_buf_add(b, "x", 1);
    AT_OK(b->cap == 16384 && !strcmp(b->s, "x"), "heap: reset reuses");
    apr_pool_destroy(p);
    AT_OK(b->s == NULL && b->len == 0 && b->cap == 0,
          "heap: freed when its pool goes");
}

/* The one growable buffer: doubling from its first block, content and
 * the NUL kept across growth, reset keeps the block. */
static void test_buf(apr_pool_t *p)
{
    aura_buf_t b;
    char big[3000];
    char *first;
    apr_size_t i;

    aura_buf_init(&b, p, 0);
    AT_OK(b.s == NULL && b.cap == 0 && b.len == 0, "lazy: nothing yet");
    aura_buf_add(&b, "abc", 3);
    AT_STREQ(b.s, "abc", "first add, NUL-terminated");
    AT_INTEQ((long)b.cap, AURA_BUF_MIN, "first block is AURA_BUF_MIN");
    memset(big, 'y', sizeof(big));
    aura_buf_add(&b, big, sizeof(big));
    AT_INTEQ((long)b.len, 3 + (long)sizeof(big), "length after growth");
    AT_INTEQ((long)b.cap, 4096, "cap doubled 256 -> 4096");
    AT_OK(!memcmp(b.s, "abc", 3) && b.s[3] == 'y' && b.s[b.len - 1] == 'y'
          && b.s[b.len] == '\0', "content and NUL survive growth");
    first = b.s;
    aura_buf_reset(&b);
    AT_OK(b.len == 0 && b.s == first && b.s[0] == '\0', "reset keeps block");
    aura_buf_init(&b, p, 10);
    for (i = 0; i < 100; i++)
        aura_buf_add(&b, "0123456789", 10);
    AT_INTEQ((long)b.len, 1000, "many small adds");
    AT_INTEQ((long)b.cap, 1280, "10 doubled to the first power that fits");
    aura_buf_need(&b, 5000);
    AT_OK(b.cap >= b.len + 5001 && !memcmp(b.s + 990, "0123456789", 10),
          "need: room for n more and a NUL, content kept");
    test_buf_heap(p);
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_registry(p);
    test_resolve(p);
    test_resolve_threads(p);
    test_cost();
    test_meter(p);
    test_upstream(p);
    test_redact(p);
    test_json_writer(p);
    test_strjoin(p);
    test_buf(p);
    test_tokener_flags();
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
