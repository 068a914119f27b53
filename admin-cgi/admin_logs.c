/*
 * admin_logs.c - the request log (usage_ledger) and the audit log
 * (audit_log): filtered lists, newest first, paged by limit and offset,
 * as JSON {"data", "limit", "offset", "has_more"} or an HTML table with
 * newer / older links. Read-only GETs; filters and cells come from
 * admin_rep.h, shared with the reports.
 */
#include <string.h>
#include <apr_strings.h>

#include "admin_rep.h"

/* The paging every list shares; the first member of its filters. */
typedef struct {
    long limit, offset;
} log_span_t;

/* What differs between the two lists. The functions take the list's own
 * filters (reqs_t, audit_t), which begin with their log_span_t. */
typedef struct {
    const char *title, *nav, *path;
    const char *table_id;               /* <table id> */
    const char *empty;                  /* when no row matches */
    const char *const *cols;            /* column headings */
    rep_form_fn form;                   /* the filter bar */
    int (*args)(adm_t *a, void *f, adm_bad_t *b);   /* 0 or 1 with *b */
    PGresult *(*query)(adm_t *a, const void *f);    /* limit + 1 rows */
    const char *(*qs)(adm_t *a, const void *f);     /* the filters' links */
    void (*row)(adm_t *a, PGresult *r, int i);
} log_page_t;

/* ---------------------------------------------------------- lists */

/* A list answer: the first `limit` rows (one more was fetched to learn
 * whether another page exists). */
static int list_json(adm_t *a, PGresult *r, const log_span_t *s)
{
    json_object *o = json_object_new_object(), *d = json_object_new_array();
    int i, n = PQntuples(r);

    for (i = 0; i < n && i < s->limit; i++)
        json_object_array_add(d, adm_row_json(r, i));
    json_object_object_add(o, "data", d);
    json_object_object_add(o, "limit", json_object_new_int64(s->limit));
    json_object_object_add(o, "offset", json_object_new_int64(s->offset));
    json_object_object_add(o, "has_more",
                           json_object_new_boolean(n > s->limit));
    return adm_json(a, 200, o);
}

/* Newer / older links for a list page; qs holds its other filters. */
static void pager(adm_t *a, const char *path, const char *qs,
                  const log_span_t *s, int more)
{
    const char *lim = apr_psprintf(a->p, "%s%slimit=%ld", qs,
                                   *qs ? "&" : "", s->limit);
    long newer = s->offset > s->limit ? s->offset - s->limit : 0;

    if (s->offset <= 0 && !more)
        return;
    adm_puts(a, "<nav class=\"pager\">");
    if (s->offset > 0)
        rep_anchor(a, path, apr_psprintf(a->p, "%s&offset=%ld", lim, newer),
                   "\xe2\x86\x90 Newer");
    if (s->offset > 0 && more)
        adm_puts(a, " | ");
    if (more)
        rep_anchor(a, path, apr_psprintf(a->p, "%s&offset=%ld", lim,
                                         s->offset + s->limit),
                   "Older \xe2\x86\x92");
    adm_puts(a, "</nav>\n");
}

/* The answer to a list query r (limit + 1 rows at most). */
static int log_answer(adm_t *a, const log_page_t *pg, const void *f,
                      PGresult *r)
{
    const log_span_t *s = f;
    int i, n = PQntuples(r);

    if (a->api)
        return list_json(a, r, s);
    adm_page_begin(a, pg->title, pg->nav);
    pg->form(a, f);
    if (!n) {
        adm_printf(a, "<p class=\"empty\">%s</p>\n", pg->empty);
    } else {
        adm_printf(a, "<table class=\"list\" id=\"%s\">", pg->table_id);
        rep_th_row(a, pg->cols);
        for (i = 0; i < n && i < s->limit; i++)
            pg->row(a, r, i);
        adm_puts(a, "</tbody></table>\n");
    }
    pager(a, pg->path, pg->qs(a, f), s, n > s->limit);
    return adm_page_end(a);
}

/* A list's GET: filters, query, answer. f: room for its filters. */
static int log_list(adm_t *a, const log_page_t *pg, void *f)
{
    adm_bad_t b;
    PGresult *r;

    if (pg->args(a, f, &b))
        return rep_refuse(a, &b, pg->title, pg->nav, pg->form, f);
    if (!(r = pg->query(a, f)))
        return a->status ? a->status : 500;
    return log_answer(a, pg, f, r);
}

/* ---------------------------------------------------------- requests */

static const char *const statuses[] = {"completed", "incomplete", "failed",
                                       NULL};

typedef struct {
    log_span_t span;
    const char *org_given, *org, *key_id, *model, *provider, *status;
    const char *from, *to;
} reqs_t;

static void reqs_form(adm_t *a, const void *filters)
{
    const reqs_t *f = filters;
    static const char *const st[] = {"", "completed", "incomplete", "failed",
                                     NULL};

    adm_form_filter_begin(a, "/requests");
    adm_form_filter_org(a, f->org_given);
    adm_form_filter_input(a, "Key id", "key_id", "text", f->key_id);
    adm_form_filter_input(a, "Model", "model", "text", f->model);
    adm_form_filter_input(a, "Provider", "provider", "text", f->provider);
    adm_form_filter_select(a, "Status", "status", st, f->status);
    adm_form_filter_input(a, "From", "from", "date", f->from);
    adm_form_filter_input(a, "To", "to", "date", f->to);
    adm_form_filter_end(a);
}

static int key_id_ok(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789");
    return n == 12 && !s[n];
}

static int reqs_args(adm_t *a, void *filters, adm_bad_t *b)
{
    reqs_t *f = filters;

    memset(f, 0, sizeof(*f));
    f->org_given = adm_arg(a, "org_id");
    f->key_id = adm_arg(a, "key_id");
    f->status = adm_arg(a, "status");
    f->span.limit = 100;
    /* The key's public id only: refuse anything else without echoing it,
     * in case someone pasted a whole key. */
    if (f->key_id && !key_id_ok(f->key_id))
        return adm_form_bad(a, b, 400, "key_id", "key_id must be a key's "
                            "12-character public id (letters a-z and "
                            "digits)");
    if (f->status && !adm_form_one_of(f->status, statuses))
        return adm_form_bad(a, b, 400, "status", "status must be completed, "
                            "incomplete or failed");
    if (rep_text_arg(a, "model", 200, &f->model, b) ||
        rep_text_arg(a, "provider", 200, &f->provider, b) ||
        rep_date_args(a, &f->from, &f->to, b) ||
        rep_page_args(a, &f->span.limit, &f->span.offset, b))
        return -1;
    return rep_org_arg(a, f->org_given, &f->org, b);
}

static PGresult *reqs_q(adm_t *a, const void *filters)
{
    const reqs_t *f = filters;
    const char *pv[9] = {f->org, f->key_id, f->model, f->provider, f->status,
        f->from, f->to, apr_ltoa(a->p, f->span.limit + 1),
        apr_ltoa(a->p, f->span.offset)};

    return adm_qx(a,
        "SELECT l.request_id, " REP_UTC_TS("l.created_at") " AS created_at,"
        " l.org_id, o.name AS org_name, l.team_id, l.project_id, l.key_id,"
        " k.name AS key_name, l.end_user_id, e.external_id AS end_user,"
        " l.front, l.stream, l.model, l.provider, l.upstream_model,"
        " l.input_tokens, l.cached_input_tokens, l.cache_write_tokens,"
        " l.output_tokens, l.reasoning_tokens, l.cost_total AS cost_usd,"
        " l.cost_status, l.latency_ms, l.overhead_us, l.http_status,"
        " l.status, l.cache_hit"
        " FROM usage_ledger l"
        " LEFT JOIN organizations o ON o.id = l.org_id"
        " LEFT JOIN virtual_keys k ON k.key_id = l.key_id"
        " LEFT JOIN end_users e ON e.id = l.end_user_id"
        " WHERE ($1::bigint IS NULL OR l.org_id = $1::bigint)"
        " AND ($2::text IS NULL OR l.key_id = $2::text)"
        " AND ($3::text IS NULL OR l.model = $3::text)"
        " AND ($4::text IS NULL OR l.provider = $4::text)"
        " AND ($5::text IS NULL OR l.status = $5::text)"
        " AND ($6::date IS NULL OR l.created_at >= $6::date::timestamp"
        " AT TIME ZONE 'UTC')"
        " AND ($7::date IS NULL OR l.created_at < ($7::date + 1)::timestamp"
        " AT TIME ZONE 'UTC')"
        " ORDER BY l.created_at DESC, l.request_id DESC"
        " LIMIT $8::bigint OFFSET $9::bigint", 9, pv);
}

static const char *reqs_qs(adm_t *a, const void *filters)
{
    const reqs_t *f = filters;
    const char *qs = rep_qs_add(a->p, "", "org_id", f->org_given);

    qs = rep_qs_add(a->p, qs, "key_id", f->key_id);
    qs = rep_qs_add(a->p, qs, "model", f->model);
    qs = rep_qs_add(a->p, qs, "provider", f->provider);
    qs = rep_qs_add(a->p, qs, "status", f->status);
    qs = rep_qs_add(a->p, qs, "from", f->from);
    return rep_qs_add(a->p, qs, "to", f->to);
}

/* "name k3x9q2m4p8r1", or the bare id of a key that no longer has a row. */
static void td_key(adm_t *a, PGresult *r, int i)
{
    const char *id = adm_v(r, i, "key_id"), *name = adm_v(r, i, "key_name");

    adm_puts(a, "<td>");
    adm_esc(a, name);
    if (id) {
        adm_puts(a, name ? " <code>" : "<code>");
        adm_esc(a, id);
        adm_puts(a, "</code>");
    }
    adm_puts(a, "</td>");
}

static void reqs_row(adm_t *a, PGresult *r, int i)
{
    const char *cost = adm_v(r, i, "cost_usd");
    const char *lat = adm_v(r, i, "latency_ms");
    const char *hit = adm_v(r, i, "cache_hit");

    adm_puts(a, "<tr>");
    rep_td_time(a, adm_v(r, i, "created_at"));
    rep_td(a, adm_v(r, i, "org_name"));
    td_key(a, r, i);
    rep_td(a, adm_v(r, i, "end_user"));
    rep_td(a, adm_v(r, i, "model"));
    rep_td(a, adm_v(r, i, "provider"));
    rep_td_num(a, rep_thousands(a->p, adm_v(r, i, "input_tokens")));
    rep_td_num(a, rep_thousands(a->p, adm_v(r, i, "output_tokens")));
    rep_td_num(a, cost ? rep_money(a->p, cost)
                  : strcmp(adm_v(r, i, "cost_status"), "no_usage")
                  ? "unpriced" : "no usage");
    rep_td_num(a, lat ? apr_pstrcat(a->p, rep_thousands(a->p, lat), " ms",
                                    NULL) : NULL);
    rep_td(a, apr_pstrcat(a->p, adm_v(r, i, "status"), " ",
                          adm_v(r, i, "http_status"),
                          hit && !strcmp(hit, "t") ? " (cache)" : "", NULL));
    adm_puts(a, "</tr>\n");
}

static const char *const reqs_cols[] = {"Time (UTC)", "Org", "Key",
    "End-user", "Model", "Provider", "Input", "Output", "Cost", "Latency",
    "Status", NULL};

static const log_page_t reqs_page = {
    "Requests", "requests", "/requests", "requests", "No requests match.",
    reqs_cols, reqs_form, reqs_args, reqs_q, reqs_qs, reqs_row
};

/* GET /requests, /api/requests: the ledger, newest first. */
static int requests(adm_t *a)
{
    reqs_t f;

    return log_list(a, &reqs_page, &f);
}

/* ---------------------------------------------------------- audit */

typedef struct {
    log_span_t span;
    const char *org_given, *org, *actor, *action;
} audit_t;

static void audit_form(adm_t *a, const void *filters)
{
    const audit_t *f = filters;

    adm_form_filter_begin(a, "/audit");
    adm_form_filter_org(a, f->org_given);
    adm_form_filter_input(a, "Actor", "actor", "text", f->actor);
    adm_form_filter_input(a, "Action", "action", "text", f->action);
    adm_form_filter_end(a);
}

static int audit_args(adm_t *a, void *filters, adm_bad_t *b)
{
    audit_t *f = filters;

    memset(f, 0, sizeof(*f));
    f->org_given = adm_arg(a, "org_id");
    f->span.limit = 100;
    if (rep_text_arg(a, "actor", 200, &f->actor, b) ||
        rep_text_arg(a, "action", 100, &f->action, b) ||
        rep_page_args(a, &f->span.limit, &f->span.offset, b))
        return -1;
    return rep_org_arg(a, f->org_given, &f->org, b);
}

/* action matches exactly, or as a family: "key" finds key.create,
 * key.revoke... (no LIKE, so no wildcard in the input can widen it). */
static PGresult *audit_q(adm_t *a, const void *filters)
{
    const audit_t *f = filters;
    const char *pv[5] = {f->org, f->actor, f->action,
        apr_ltoa(a->p, f->span.limit + 1), apr_ltoa(a->p, f->span.offset)};

    return adm_qx(a,
        "SELECT au.id, " REP_UTC_TS("au.at") " AS at, au.actor, au.action,"
        " au.object_type, au.object_id, au.org_id, o.name AS org_name,"
        " au.detail, au.remote_addr"
        " FROM audit_log au LEFT JOIN organizations o ON o.id = au.org_id"
        " WHERE ($1::bigint IS NULL OR au.org_id = $1::bigint)"
        " AND ($2::text IS NULL OR au.actor = $2::text)"
        " AND ($3::text IS NULL OR au.action = $3::text"
        " OR left(au.action, length($3::text) + 1) = $3::text || '.')"
        " ORDER BY au.at DESC, au.id DESC"
        " LIMIT $4::bigint OFFSET $5::bigint", 5, pv);
}

static const char *audit_qs(adm_t *a, const void *filters)
{
    const audit_t *f = filters;
    const char *qs = rep_qs_add(a->p, "", "org_id", f->org_given);

    qs = rep_qs_add(a->p, qs, "actor", f->actor);
    return rep_qs_add(a->p, qs, "action", f->action);
}

static void audit_row(adm_t *a, PGresult *r, int i)
{
    const char *oid = adm_v(r, i, "object_id");

    adm_puts(a, "<tr>");
    rep_td_time(a, adm_v(r, i, "at"));
    rep_td(a, adm_v(r, i, "actor"));
    rep_td(a, adm_v(r, i, "action"));
    rep_td(a, apr_pstrcat(a->p, adm_v(r, i, "object_type"), oid ? " #" : "",
                          oid, NULL));
    rep_td(a, adm_v(r, i, "org_name"));
    adm_puts(a, "<td><code>");
    adm_esc(a, adm_v(r, i, "detail"));
    adm_puts(a, "</code></td>");
    rep_td(a, adm_v(r, i, "remote_addr"));
    adm_puts(a, "</tr>\n");
}

static const char *const audit_cols[] = {"Time (UTC)", "Actor", "Action",
    "Object", "Org", "Detail", "From", NULL};

static const log_page_t audit_page = {
    "Audit log", "audit", "/audit", "audit", "No audit entries match.",
    audit_cols, audit_form, audit_args, audit_q, audit_qs, audit_row
};

/* GET /audit, /api/audit: who changed what, newest first. */
static int audit(adm_t *a)
{
    audit_t f;

    return log_list(a, &audit_page, &f);
}

/* The API paths are matched without their "/api" prefix: /api/requests,
 * /api/audit. */
const adm_route_t adm_log_routes[] = {
    {"GET", "/requests", requests, 0},
    {"GET", "/audit", audit, 0},
    {NULL, NULL, NULL, 0}
};
