/*
 * aura_tenant.c - tenant records (cache form and database row), the
 * key's model policy, and usage ledger lines.
 */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <json-c/json.h>

#include "aura_tenant.h"
#include "aura_meter.h"

/* ------------------------------------------------------ cache record */

/* Layout, all integers big-endian:
 *   'T' 1 | state u8 | has_allowed u8 | n_allowed u16
 *   expires, key_pk, org_id, team_id, project_id: i64 each
 *   hash: 32 bytes
 *   key_id, org, team, project, allowed[0..n): NUL-terminated strings
 *   ("" stands for a NULL name: real names are never empty)
 * Fixed-size header, then strings the decoder can point into directly. */
#define REC_MAGIC 'T'
#define REC_VERSION 1
#define REC_HEAD (6 + 5 * 8 + AURA_VKEY_HASH_LEN)

static void put64(unsigned char *b, apr_int64_t v)
{
    apr_uint64_t u = (apr_uint64_t)v;
    int i;
    for (i = 7; i >= 0; i--, u >>= 8)
        b[i] = (unsigned char)(u & 0xff);
}

static apr_int64_t get64(const unsigned char *b)
{
    apr_uint64_t u = 0;
    int i;
    for (i = 0; i < 8; i++)
        u = (u << 8) | b[i];
    return (apr_int64_t)u;
}

/* Appends s and its NUL at *at; 0 when it does not fit. */
static int put_str(unsigned char *buf, apr_size_t cap, apr_size_t *at,
                   const char *s)
{
    apr_size_t n = s ? strlen(s) : 0;
    if (*at + n + 1 > cap)
        return 0;
    if (n)
        memcpy(buf + *at, s, n);
    buf[*at + n] = '\0';
    *at += n + 1;
    return 1;
}

apr_size_t aura_tenant_encode(const aura_tenant_t *t, unsigned char *buf,
                              apr_size_t cap)
{
    int i, n = t->allowed ? t->allowed->nelts : 0;
    apr_size_t at = REC_HEAD;

    if (cap < REC_HEAD || n > 0xffff)
        return 0;
    buf[0] = REC_MAGIC;
    buf[1] = REC_VERSION;
    buf[2] = (unsigned char)t->state;
    buf[3] = t->allowed != NULL;
    buf[4] = (unsigned char)(n >> 8);
    buf[5] = (unsigned char)(n & 0xff);
    put64(buf + 6, t->expires);
    put64(buf + 14, t->key_pk);
    put64(buf + 22, t->org_id);
    put64(buf + 30, t->team_id);
    put64(buf + 38, t->project_id);
    memcpy(buf + 46, t->hash, AURA_VKEY_HASH_LEN);
    if (!put_str(buf, cap, &at, t->key_id) || !put_str(buf, cap, &at, t->org)
        || !put_str(buf, cap, &at, t->team)
        || !put_str(buf, cap, &at, t->project))
        return 0;
    for (i = 0; i < n; i++)
        if (!put_str(buf, cap, &at, APR_ARRAY_IDX(t->allowed, i,
                                                  const char *)))
            return 0;
    return at;
}

/* The string at *at, which must end inside the record. */
static const char *get_str(const char *rec, apr_size_t len, apr_size_t *at)
{
    const char *s = rec + *at;
    const char *nul = *at < len ? memchr(s, '\0', len - *at) : NULL;
    if (!nul)
        return NULL;
    *at += (apr_size_t)(nul - s) + 1;
    return s;
}

static const char *or_null(const char *s)
{
    return s && *s ? s : NULL;
}

int aura_tenant_decode(apr_pool_t *p, const unsigned char *buf,
                       apr_size_t len, aura_tenant_t *t)
{
    const char *rec, *s[4];
    apr_size_t at = REC_HEAD;
    int i, n;

    memset(t, 0, sizeof(*t));
    if (len < REC_HEAD || buf[0] != REC_MAGIC || buf[1] != REC_VERSION ||
        buf[2] > AURA_KEY_PROJECT_ARCHIVED)
        return -1;
    rec = apr_pmemdup(p, buf, len);
    t->state = buf[2];
    n = (buf[4] << 8) | buf[5];
    t->expires = get64(buf + 6);
    t->key_pk = get64(buf + 14);
    t->org_id = get64(buf + 22);
    t->team_id = get64(buf + 30);
    t->project_id = get64(buf + 38);
    memcpy(t->hash, buf + 46, AURA_VKEY_HASH_LEN);
    for (i = 0; i < 4; i++)
        if (!(s[i] = get_str(rec, len, &at)))
            return -1;
    t->key_id = s[0];
    t->org = or_null(s[1]);
    t->team = or_null(s[2]);
    t->project = or_null(s[3]);
    if (!buf[3])
        return n ? -1 : 0;
    t->allowed = apr_array_make(p, n ? n : 1, sizeof(const char *));
    for (i = 0; i < n; i++) {
        const char *m = get_str(rec, len, &at);
        if (!m)
            return -1;
        APR_ARRAY_PUSH(t->allowed, const char *) = m;
    }
    return at == len ? 0 : -1;
}

/* ------------------------------------------------------ database row */

static int parse_id(const char *s, apr_int64_t *out)
{
    char *end;
    *out = 0;
    if (!s)
        return 0;
    *out = apr_strtoi64(s, &end, 10);
    return (*end || *out < 0) ? -1 : 0;
}

static const char *parse_allowed(apr_pool_t *p, const char *text,
                                 apr_array_header_t **out)
{
    json_object *a;
    size_t i, n;

    *out = NULL;
    if (!text)
        return NULL;
    if (!(a = json_tokener_parse(text)) ||
        !json_object_is_type(a, json_type_array)) {
        json_object_put(a);
        return "allowed_models is not an array";
    }
    n = json_object_array_length(a);
    *out = apr_array_make(p, n ? (int)n : 1, sizeof(const char *));
    for (i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(a, i);
        if (json_object_is_type(m, json_type_string))
            APR_ARRAY_PUSH(*out, const char *) =
                apr_pstrdup(p, json_object_get_string(m));
    }
    json_object_put(a);
    return NULL;
}

static int is(const char *s, const char *want)
{
    return s && !strcmp(s, want);
}

/* The first reason the key cannot be used, in the order a person would
 * look: the key itself, then its org, team, project. */
static int row_state(const char *const *c)
{
    if (!is(c[AURA_TCOL_STATUS], "active"))
        return AURA_KEY_REVOKED;
    if (!is(c[AURA_TCOL_ORG_STATUS], "active"))
        return AURA_KEY_ORG_ARCHIVED;
    if (c[AURA_TCOL_TEAM_STATUS] && !is(c[AURA_TCOL_TEAM_STATUS], "active"))
        return AURA_KEY_TEAM_ARCHIVED;
    if (c[AURA_TCOL_PROJECT_STATUS] &&
        !is(c[AURA_TCOL_PROJECT_STATUS], "active"))
        return AURA_KEY_PROJECT_ARCHIVED;
    return AURA_KEY_ACTIVE;
}

const char *aura_tenant_from_row(apr_pool_t *p, const char *key_id,
                                 const char *const *c, aura_tenant_t *t)
{
    apr_int64_t us;

    memset(t, 0, sizeof(*t));
    t->key_id = apr_pstrdup(p, key_id);
    if (parse_id(c[AURA_TCOL_ID], &t->key_pk) ||
        parse_id(c[AURA_TCOL_ORG_ID], &t->org_id) ||
        parse_id(c[AURA_TCOL_TEAM_ID], &t->team_id) ||
        parse_id(c[AURA_TCOL_PROJECT_ID], &t->project_id) ||
        parse_id(c[AURA_TCOL_EXPIRES_US], &us))
        return "a numeric column is not a number";
    t->expires = us;
    if (!c[AURA_TCOL_HASH] ||
        aura_unhex(c[AURA_TCOL_HASH], t->hash, AURA_VKEY_HASH_LEN) != 0)
        return "secret_hash is not 32 bytes";
    t->state = row_state(c);
    t->org = c[AURA_TCOL_ORG] ? apr_pstrdup(p, c[AURA_TCOL_ORG]) : NULL;
    t->team = c[AURA_TCOL_TEAM] ? apr_pstrdup(p, c[AURA_TCOL_TEAM]) : NULL;
    t->project = c[AURA_TCOL_PROJECT] ? apr_pstrdup(p, c[AURA_TCOL_PROJECT])
                                      : NULL;
    return parse_allowed(p, c[AURA_TCOL_ALLOWED_JSON], &t->allowed);
}

/* ----------------------------------------------------------- policy */

int aura_model_allowed(const apr_array_header_t *allowed, const char *name)
{
    int i;
    if (!allowed)
        return 1;
    if (!name)
        return 0;
    for (i = 0; i < allowed->nelts; i++) {
        const char *m = APR_ARRAY_IDX(allowed, i, const char *);
        apr_size_t n = strlen(m);
        if (n && m[n - 1] == '*' ? !strncmp(name, m, n - 1)
                                 : !strcmp(name, m))
            return 1;
    }
    return 0;
}

const char *aura_allowed_text(apr_pool_t *p, const apr_array_header_t *allowed)
{
    if (!allowed)
        return "any model";
    if (!allowed->nelts)
        return "no model";
    return aura_strjoin(p, allowed, ", ");
}

/* ------------------------------------------------------- ledger line */

/* The C library's %g: APR's formatter writes 0.5 as ".5", which is not
 * JSON. 12 significant digits, as aura_json_money. */
static const char *money(apr_pool_t *p, int known, double v)
{
    char buf[40];
    if (!known)
        return "null";
    snprintf(buf, sizeof(buf), "%.12g", v);
    return apr_pstrdup(p, buf);
}

static const char *id_or_null(apr_pool_t *p, const aura_tenant_t *t,
                              apr_int64_t id)
{
    return t && id ? apr_psprintf(p, "%" APR_INT64_T_FMT, id) : "null";
}

static const char *rfc3339(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"",
                        x.tm_year + 1900, x.tm_mon + 1, x.tm_mday,
                        x.tm_hour, x.tm_min, x.tm_sec, x.tm_usec);
}

static const char *tenant_part(apr_pool_t *p, const aura_ledger_rec_t *r)
{
    const aura_tenant_t *t = r->tenant;
    const char *eu = r->end_user && strlen(r->end_user) <= AURA_END_USER_MAX
                         ? r->end_user : NULL;
    return apr_pstrcat(p,
        "\"org_id\":", id_or_null(p, t, t ? t->org_id : 0),
        ",\"team_id\":", id_or_null(p, t, t ? t->team_id : 0),
        ",\"project_id\":", id_or_null(p, t, t ? t->project_id : 0),
        ",\"key_id\":", aura_json_quote(p, t ? t->key_id : NULL),
        ",\"end_user\":", aura_json_quote(p, eu), NULL);
}

static const char *cost_part(apr_pool_t *p, const aura_ledger_rec_t *r)
{
    static const aura_usage_t none;
    const aura_usage_t *u = r->usage ? r->usage : &none;
    const aura_model_t *e = r->entry;
    aura_cost_t c;
    const char *status;
    int k;

    aura_cost_compute(e ? &e->price : NULL, e ? e->priced : 0, u,
                      r->cache_write, &c);
    status = aura_cost_status(u, &c);
    /* Costs only when priced: NULL means "not known", never $0. */
    k = !strcmp(status, "priced");
    return apr_psprintf(p,
        "\"input_tokens\":%ld,\"cached_input_tokens\":%ld,"
        "\"cache_write_tokens\":%ld,\"output_tokens\":%ld,"
        "\"reasoning_tokens\":%ld,\"cost_input\":%s,"
        "\"cost_cached_input\":%s,\"cost_cache_write\":%s,"
        "\"cost_output\":%s,\"cost_reasoning\":%s,\"cost_total\":%s,"
        "\"cost_status\":\"%s\"",
        u->input, u->cached, r->cache_write, u->output, u->reasoning,
        money(p, k, c.input), money(p, k, c.cached_input),
        money(p, k, c.cache_write), money(p, k, c.output),
        money(p, k, c.reasoning), money(p, k, c.total), status);
}

const char *aura_ledger_line(apr_pool_t *p, const aura_ledger_rec_t *r,
                             apr_size_t *len)
{
    const char *line = apr_pstrcat(p,
        "{\"request_id\":", aura_json_quote(p, r->request_id),
        ",\"created_at\":", rfc3339(p, r->created),
        ",", tenant_part(p, r),
        ",\"front\":", aura_json_quote(p, r->front),
        ",\"stream\":", r->stream ? "true" : "false",
        ",\"model\":", aura_json_quote(p, r->model),
        ",\"provider\":", aura_json_quote(p, r->provider),
        ",\"upstream_model\":", aura_json_quote(p, r->upstream_model),
        ",", cost_part(p, r),
        apr_psprintf(p, ",\"latency_ms\":%" APR_INT64_T_FMT
                     ",\"overhead_us\":%" APR_INT64_T_FMT
                     ",\"http_status\":%d", r->latency_ms, r->overhead_us,
                     r->http_status),
        ",\"status\":", aura_json_quote(p, r->status),
        ",\"cache_hit\":", r->cache_hit ? "true" : "false", "}\n", NULL);
    if (len)
        *len = strlen(line);
    return line;
}

/* ---------------------------------------------------- aura.tenant */

static json_object *id_json(apr_int64_t id)
{
    return id ? json_object_new_int64(id) : NULL;
}

json_object *aura_tenant_json(const aura_tenant_t *t, const char *end_user)
{
    json_object *o = json_object_new_object();
    AURA_ADD_NEW(o, "org_id", id_json(t->org_id));
    aura_json_add_str(o, "org", t->org);
    AURA_ADD_NEW(o, "team_id", id_json(t->team_id));
    aura_json_add_str(o, "team", t->team);
    AURA_ADD_NEW(o, "project_id", id_json(t->project_id));
    aura_json_add_str(o, "project", t->project);
    aura_json_add_str(o, "key_id", t->key_id);
    aura_json_add_str(o, "end_user", end_user);
    return o;
}

void aura_tenant_apply(json_object *resource, const aura_tenant_t *t,
                       const char *end_user)
{
    json_object *aura = aura_json_get(resource, "aura");

    if (t && aura)
        AURA_SET(aura, "tenant", aura_tenant_json(t, end_user));
}
