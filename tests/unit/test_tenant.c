/*
 * test_tenant.c - tenant records (cache encoding both ways, every way a
 * record can be cut or corrupted, the database row form), a key's model
 * policy, ledger lines (shape, costs, escaping of client-controlled
 * text), and the `tenant` member of `aura`.
 */
#include <math.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "aura_test.h"
#include "json_check.h"
#include "aura.h"
#include "aura_tenant.h"
#include "aura_meter.h"

#define jc_str(o, k) sat((o), (k))
#define jc_int(o, k) iat((o), (k))

static double jc_num(json_object *o, const char *k)
{
    json_object *v = at(o, k);
    return v ? json_object_get_double(v) : -999.0;
}

static int jc_bool(json_object *o, const char *k)
{
    json_object *v = at(o, k);
    return v && json_object_is_type(v, json_type_boolean)
               ? json_object_get_boolean(v) : -1;
}

/* Present, and JSON null. */
static int jc_is_null(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && v == NULL;
}

static apr_array_header_t *list(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *l = apr_array_make(p, 2, sizeof(const char *));
    if (a)
        APR_ARRAY_PUSH(l, const char *) = a;
    if (b)
        APR_ARRAY_PUSH(l, const char *) = b;
    return l;
}

static void sample(apr_pool_t *p, aura_tenant_t *t)
{
    int i;
    memset(t, 0, sizeof(*t));
    t->state = AURA_KEY_ACTIVE;
    t->key_pk = 7;
    t->key_id = "k3x9q2m4p8r1";
    for (i = 0; i < AURA_VKEY_HASH_LEN; i++)
        t->hash[i] = (unsigned char)(i * 7 + 1);
    t->expires = APR_INT64_C(1893456000000000);
    t->org_id = 1;
    t->org = "Acme";
    t->team_id = 2;
    t->team = "Search";
    t->project_id = 0;
    t->project = NULL;
    t->allowed = list(p, "gpt-4o-mini", "sim/*");
}

static void test_roundtrip(apr_pool_t *p)
{
    aura_tenant_t t, d;
    unsigned char buf[AURA_TENANT_REC_MAX];
    apr_size_t n;

    sample(p, &t);
    n = aura_tenant_encode(&t, buf, sizeof(buf));
    AT_OK(n > 0 && n < 256, "a record encodes compactly");
    AT_INTEQ(aura_tenant_decode(p, buf, n, &d), 0, "and decodes");
    AT_INTEQ(d.state, AURA_KEY_ACTIVE, "state");
    AT_INTEQ(d.key_pk, 7, "key_pk");
    AT_STREQ(d.key_id, "k3x9q2m4p8r1", "key_id");
    AT_OK(!memcmp(d.hash, t.hash, AURA_VKEY_HASH_LEN), "hash");
    AT_OK(d.expires == t.expires, "expiry (64 bits)");
    AT_INTEQ(d.org_id, 1, "org_id");
    AT_STREQ(d.org, "Acme", "org name");
    AT_INTEQ(d.team_id, 2, "team_id");
    AT_STREQ(d.team, "Search", "team name");
    AT_INTEQ(d.project_id, 0, "no project id");
    AT_OK(d.project == NULL, "no project name");
    AT_OK(d.allowed && d.allowed->nelts == 2, "two allowed models");
    AT_STREQ(d.allowed ? APR_ARRAY_IDX(d.allowed, 1, const char *) : NULL,
             "sim/*", "allowed model text");

    t.allowed = NULL;
    n = aura_tenant_encode(&t, buf, sizeof(buf));
    AT_OK(aura_tenant_decode(p, buf, n, &d) == 0 && d.allowed == NULL,
          "NULL allowed_models (every model) survives");
    t.allowed = list(p, NULL, NULL);
    n = aura_tenant_encode(&t, buf, sizeof(buf));
    AT_OK(aura_tenant_decode(p, buf, n, &d) == 0 && d.allowed &&
          d.allowed->nelts == 0, "an empty list (no model) stays empty");

    memset(&t, 0, sizeof(t));
    t.state = AURA_KEY_UNKNOWN;
    t.key_id = "zzzzzzzzzzzz";
    n = aura_tenant_encode(&t, buf, sizeof(buf));
    AT_OK(aura_tenant_decode(p, buf, n, &d) == 0 &&
          d.state == AURA_KEY_UNKNOWN && !strcmp(d.key_id, "zzzzzzzzzzzz"),
          "a negative entry round-trips");
}

static void test_bad_records(apr_pool_t *p)
{
    aura_tenant_t t, d;
    unsigned char buf[AURA_TENANT_REC_MAX], copy[AURA_TENANT_REC_MAX];
    apr_size_t n, k;
    int all_cut_refused = 1;

    sample(p, &t);
    n = aura_tenant_encode(&t, buf, sizeof(buf));
    for (k = 0; k < n; k++)
        if (aura_tenant_decode(p, buf, k, &d) == 0)
            all_cut_refused = 0;
    AT_OK(all_cut_refused, "every truncation of a record is refused");
    memcpy(copy, buf, n);
    copy[0] = 'X';
    AT_INTEQ(aura_tenant_decode(p, copy, n, &d), -1, "wrong magic");
    memcpy(copy, buf, n);
    copy[1] = 9;
    AT_INTEQ(aura_tenant_decode(p, copy, n, &d), -1, "other version");
    memcpy(copy, buf, n);
    copy[2] = 200;
    AT_INTEQ(aura_tenant_decode(p, copy, n, &d), -1, "unknown state");
    memcpy(copy, buf, n);
    copy[n] = 'x';
    AT_INTEQ(aura_tenant_decode(p, copy, n + 1, &d), -1, "trailing bytes");
    memcpy(copy, buf, n);
    copy[n - 1] = 'x';
    AT_INTEQ(aura_tenant_decode(p, copy, n, &d), -1,
             "a last string without its NUL");
    AT_INTEQ(aura_tenant_encode(&t, buf, 60), 0,
             "a record that does not fit is not encoded");
    AT_INTEQ(aura_tenant_encode(&t, buf, n - 1), 0,
             "not even one byte short");
    AT_INTEQ(aura_tenant_encode(&t, buf, n), n, "exactly enough room");
}

static void test_row(apr_pool_t *p)
{
    const char *cols[AURA_TCOL_COUNT];
    aura_tenant_t t;
    int i;

    memset(cols, 0, sizeof(cols));
    cols[AURA_TCOL_ID] = "42";
    cols[AURA_TCOL_HASH] = "000102030405060708090a0b0c0d0e0f"
                           "101112131415161718191a1b1c1d1e1f";
    cols[AURA_TCOL_STATUS] = "active";
    cols[AURA_TCOL_EXPIRES_US] = "0";
    cols[AURA_TCOL_ORG_ID] = "3";
    cols[AURA_TCOL_ORG] = "Org \"three\"";
    cols[AURA_TCOL_ORG_STATUS] = "active";
    cols[AURA_TCOL_ALLOWED_JSON] = "[\"a\",\"b*\"]";
    AT_OK(aura_tenant_from_row(p, "abcdefghijkl", cols, &t) == NULL,
          "a row without team or project");
    AT_INTEQ(t.state, AURA_KEY_ACTIVE, "active");
    AT_INTEQ(t.key_pk, 42, "id");
    AT_INTEQ(t.hash[31], 0x1f, "hash from hex");
    AT_OK(t.team_id == 0 && !t.team && t.project_id == 0 && !t.project,
          "NULL team and project");
    AT_OK(t.allowed && t.allowed->nelts == 2, "allowed from JSON");
    cols[AURA_TCOL_ALLOWED_JSON] = NULL;
    aura_tenant_from_row(p, "abcdefghijkl", cols, &t);
    AT_OK(t.allowed == NULL, "NULL allowed_models: every model");

    cols[AURA_TCOL_STATUS] = "revoked";
    aura_tenant_from_row(p, "abcdefghijkl", cols, &t);
    AT_INTEQ(t.state, AURA_KEY_REVOKED, "revoked");
    cols[AURA_TCOL_STATUS] = "active";
    cols[AURA_TCOL_ORG_STATUS] = "archived";
    aura_tenant_from_row(p, "abcdefghijkl", cols, &t);
    AT_INTEQ(t.state, AURA_KEY_ORG_ARCHIVED, "org archived");
    cols[AURA_TCOL_ORG_STATUS] = "active";
    cols[AURA_TCOL_TEAM_ID] = "5";
    cols[AURA_TCOL_TEAM] = "t";
    cols[AURA_TCOL_TEAM_STATUS] = "archived";
    aura_tenant_from_row(p, "abcdefghijkl", cols, &t);
    AT_INTEQ(t.state, AURA_KEY_TEAM_ARCHIVED, "team archived");
    cols[AURA_TCOL_TEAM_STATUS] = "active";
    cols[AURA_TCOL_PROJECT_ID] = "6";
    cols[AURA_TCOL_PROJECT_STATUS] = "archived";
    aura_tenant_from_row(p, "abcdefghijkl", cols, &t);
    AT_INTEQ(t.state, AURA_KEY_PROJECT_ARCHIVED, "project archived");

    cols[AURA_TCOL_HASH] = "00";
    AT_OK(aura_tenant_from_row(p, "abcdefghijkl", cols, &t) != NULL,
          "a short hash is refused");
    cols[AURA_TCOL_HASH] = "000102030405060708090a0b0c0d0e0f"
                           "101112131415161718191a1b1c1d1e1f";
    cols[AURA_TCOL_ORG_ID] = "x3";
    AT_OK(aura_tenant_from_row(p, "abcdefghijkl", cols, &t) != NULL,
          "a non-numeric id is refused");
    cols[AURA_TCOL_ORG_ID] = "3";
    cols[AURA_TCOL_ALLOWED_JSON] = "{\"a\":1}";
    AT_OK(aura_tenant_from_row(p, "abcdefghijkl", cols, &t) != NULL,
          "allowed_models that is not an array is refused");
    for (i = 0; i < AURA_TCOL_COUNT; i++)
        cols[i] = NULL;
    AT_OK(aura_tenant_from_row(p, "abcdefghijkl", cols, &t) != NULL,
          "an all-NULL row is refused");
}

static void test_allowed(apr_pool_t *p)
{
    apr_array_header_t *a = list(p, "gpt-4o-mini", "claude-*");
    apr_array_header_t *star = list(p, "*", NULL);

    AT_OK(aura_model_allowed(NULL, "anything"), "NULL list: every model");
    AT_OK(aura_model_allowed(a, "gpt-4o-mini"), "exact entry");
    AT_OK(!aura_model_allowed(a, "gpt-4o-mini-2024"),
          "an exact entry is not a prefix");
    AT_OK(!aura_model_allowed(a, "gpt-4o"), "nor a longer entry's prefix");
    AT_OK(aura_model_allowed(a, "claude-sonnet-4"), "prefix entry");
    AT_OK(aura_model_allowed(a, "claude-"), "prefix entry, empty rest");
    AT_OK(!aura_model_allowed(a, "claude"), "shorter than the prefix");
    AT_OK(!aura_model_allowed(a, NULL), "no name: refused");
    AT_OK(aura_model_allowed(star, "x/y"), "\"*\" allows everything");
    AT_OK(!aura_model_allowed(list(p, NULL, NULL), "x"),
          "an empty list allows nothing");
    AT_STREQ(aura_allowed_text(p, a), "gpt-4o-mini, claude-*",
             "the list for the 403 message");
    AT_STREQ(aura_allowed_text(p, NULL), "any model", "NULL list text");
}

static json_object *parse_line(const char *line, apr_size_t n)
{
    AT_OK(n > 0 && line[n - 1] == '\n', "a ledger line ends in a newline");
    AT_OK(memchr(line, '\n', n - 1) == NULL, "...and has only that one");
    return json_tokener_parse(line);
}

static void test_ledger(apr_pool_t *p)
{
    aura_tenant_t t;
    aura_model_t m;
    aura_usage_t u = { 1000, 200, 500, 100, 1 };
    aura_ledger_rec_t r;
    json_object *o;
    const char *line;
    apr_size_t n;

    sample(p, &t);
    memset(&m, 0, sizeof(m));
    m.priced = 1;
    m.price.input = 2.0;
    m.price.cached_input = 1.0;
    m.price.cache_write = 2.0;
    m.price.output = 8.0;
    m.price.reasoning = 8.0;
    memset(&r, 0, sizeof(r));
    r.request_id = "req_1";
    r.created = apr_time_from_sec(1700000000) + 123456;
    r.tenant = &t;
    r.end_user = "user \"x\"\n\x01\xff\xc3\xa9";
    r.front = "chat";
    r.stream = 1;
    r.model = "gpt-4o-mini";
    r.provider = "openai";
    r.upstream_model = "gpt-4o-mini-2024-07-18";
    r.entry = &m;
    r.usage = &u;
    r.latency_ms = 250;
    r.overhead_us = 900;
    r.http_status = 200;
    r.status = "completed";
    line = aura_ledger_line(p, &r, &n);
    o = parse_line(line, n);
    AT_OK(o != NULL, "the line is JSON");
    AT_STREQ(jc_str(o, "request_id"), "req_1", "request_id");
    AT_STREQ(jc_str(o, "created_at"), "2023-11-14T22:13:20.123456Z",
             "created_at: RFC 3339 UTC, microseconds");
    AT_INTEQ(jc_int(o, "org_id"), 1, "org_id");
    AT_INTEQ(jc_int(o, "team_id"), 2, "team_id");
    AT_OK(jc_is_null(o, "project_id"), "project_id null");
    AT_STREQ(jc_str(o, "key_id"), "k3x9q2m4p8r1", "key_id");
    AT_STREQ(jc_str(o, "end_user"), "user \"x\"\n\x01\xef\xbf\xbd\xc3\xa9",
             "end_user escaped; a bad byte becomes U+FFFD, good UTF-8 kept");
    AT_STREQ(jc_str(o, "front"), "chat", "front");
    AT_OK(jc_bool(o, "stream") == 1, "stream");
    AT_INTEQ(jc_int(o, "input_tokens"), 1000, "input tokens");
    AT_INTEQ(jc_int(o, "cached_input_tokens"), 200, "cached");
    AT_INTEQ(jc_int(o, "output_tokens"), 500, "output");
    AT_INTEQ(jc_int(o, "reasoning_tokens"), 100, "reasoning");
    AT_OK(strstr(line, "\"cost_input\":0.0016,") != NULL,
          "numbers are JSON (a leading zero before the point)");
    /* 800*2 + 200*1 + 400*8 + 100*8 per 1M */
    AT_OK(fabs(jc_num(o, "cost_total") - 0.0058) < 1e-12, "cost_total");
    AT_OK(fabs(jc_num(o, "cost_input") - 0.0016) < 1e-12, "cost_input");
    AT_STREQ(jc_str(o, "cost_status"), "priced", "priced");
    AT_INTEQ(jc_int(o, "http_status"), 200, "http_status");
    AT_STREQ(jc_str(o, "status"), "completed", "status");
    AT_OK(jc_bool(o, "cache_hit") == 0, "cache_hit false");
    json_object_put(o);

    m.priced = 0;
    r.tenant = NULL;
    r.end_user = apr_pstrcat(p, "a", apr_psprintf(p, "%0257d", 0), NULL);
    line = aura_ledger_line(p, &r, &n);
    o = parse_line(line, n);
    AT_OK(jc_is_null(o, "cost_total") && jc_is_null(o, "cost_input"),
          "unknown price: costs null, never 0");
    AT_STREQ(jc_str(o, "cost_status"), "unknown_price", "unknown_price");
    AT_OK(jc_is_null(o, "org_id") && jc_is_null(o, "key_id"),
          "no tenant: nulls");
    AT_OK(jc_is_null(o, "end_user"), "an end-user id over 256 is dropped");
    json_object_put(o);

    m.priced = 1;
    r.usage = NULL;
    line = aura_ledger_line(p, &r, &n);
    o = parse_line(line, n);
    AT_STREQ(jc_str(o, "cost_status"), "no_usage", "no usage reported");
    AT_OK(jc_is_null(o, "cost_total"), "no usage: cost null");
    AT_INTEQ(jc_int(o, "input_tokens"), 0, "no usage: zero tokens");
    json_object_put(o);
}

static void test_meter_tenant(apr_pool_t *p)
{
    aura_tenant_t t;
    aura_meter_info_t mi;
    aura_usage_t u = { 10, 0, 5, 0, 1 };
    json_object *res = json_tokener_parse("{\"output\":[],\"usage\":{}}");
    json_object *ten;

    sample(p, &t);
    memset(&mi, 0, sizeof(mi));
    mi.request_id = "req_2";
    aura_meter_apply(res, &u, 0, &mi);
    aura_tenant_apply(res, &t, "alice");
    ten = aura_json_get(aura_json_get(res, "aura"), "tenant");
    AT_OK(ten != NULL, "aura.tenant present with a key");
    AT_INTEQ(jc_int(ten, "org_id"), 1, "tenant.org_id");
    AT_STREQ(jc_str(ten, "org"), "Acme", "tenant.org");
    AT_STREQ(jc_str(ten, "team"), "Search", "tenant.team");
    AT_OK(jc_is_null(ten, "project_id") && jc_is_null(ten, "project"),
          "absent project: null members");
    AT_STREQ(jc_str(ten, "key_id"), "k3x9q2m4p8r1", "tenant.key_id");
    AT_STREQ(jc_str(ten, "end_user"), "alice", "tenant.end_user");
    json_object_put(res);

    res = json_tokener_parse("{\"output\":[]}");
    aura_meter_apply(res, &u, 0, &mi);
    aura_tenant_apply(res, NULL, "alice");
    AT_OK(!json_object_object_get_ex(aura_json_get(res, "aura"), "tenant",
                                     NULL),
          "no key: no tenant member (as before tenancy)");
    json_object_put(res);
}

static void test_quote(apr_pool_t *p)
{
    AT_STREQ(aura_json_quote(p, NULL), "null", "NULL is null");
    AT_STREQ(aura_json_quote(p, "a\"b\\c"), "\"a\\\"b\\\\c\"", "escapes");
    AT_STREQ(aura_json_quote(p, "\t"), "\"\\u0009\"", "control chars");
    AT_STREQ(aura_json_quote(p, "\xed\xa0\x80"),
             "\"\\ufffd\\ufffd\\ufffd\"", "a UTF-16 surrogate is not UTF-8");
    AT_STREQ(aura_json_quote(p, "\xc0\xaf"), "\"\\ufffd\\ufffd\"",
             "an overlong form is refused");
    AT_STREQ(aura_json_quote(p, "\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"",
             "a 4-byte character is kept");
}

/* A virtual key that ends up in text from anywhere (an upstream echoing
 * a header, a message) is caught by the redaction every log and error
 * message goes through. */
static void test_redact_vkey(apr_pool_t *p)
{
    const char *id, *key = aura_vkey_generate(p, &id);
    const char *out = aura_redact(p, apr_pstrcat(p, "got key ", key,
                                                 " from client", NULL),
                                  NULL);
    AT_OK(strstr(out, key) == NULL, "a virtual key is redacted");
    AT_OK(strstr(out, key + 8 + AURA_VKEY_ID_LEN + 1) == NULL,
          "...its secret part too");
    out = aura_redact(p, apr_pstrcat(p, "{\"api_key\":\"", key, "\"}",
                                     NULL), NULL);
    AT_OK(strstr(out, key + 8 + AURA_VKEY_ID_LEN + 1) == NULL,
          "a virtual key in JSON is redacted");
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_roundtrip(p);
    test_bad_records(p);
    test_row(p);
    test_allowed(p);
    test_ledger(p);
    test_meter_tenant(p);
    test_quote(p);
    test_redact_vkey(p);
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
