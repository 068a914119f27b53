/*
 * admin_policy.c - budgets and rate limits in the console.
 *
 * Both attach to one scope (an org, team, project, key or end-user) and
 * take their org from that scope's row, never from the input: naming an
 * id of another org cannot put a budget there, because the row must
 * exist, be live and be the caller's to change.
 *
 * Budgets and limits differ only in their three value columns, so one set
 * of handlers serves both, driven by a pol_kind_t chosen by the path.
 */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "admin.h"

/* numeric(14, 6) holds up to 99999999.999999: amounts stay below $1e8. */
#define AMOUNT_LIMIT_MICROS (100000000LL * 1000000)
#define ROLLING_MIN 60
#define ROLLING_MAX 31536000                        /* a year */
#define INT4_MAX 2147483647LL
#define INT8_SAFE 999999999999999999LL      /* what adm_parse_id reads */

/* One budget or limit as query parameters: the scope and the kind's
 * three values (budget: amount_usd, period, rolling_seconds; limit:
 * requests_per_min, tokens_per_min, concurrency), NULL for SQL NULL. */
typedef struct {
    const char *scope_type;
    long long scope_id, org;
    const char *v[3];
} pol_in_t;

typedef struct pol_kind {
    const char *noun;           /* audit actions and messages */
    const char *path;           /* "/budgets" */
    const char *title;          /* of the list page */
    const char *label;          /* of one: "Budget 7" */
    const char *const *fields;  /* the three value fields (= columns) */
    const char *const *create_fields;   /* the create form's: scope too */
    const char *list_sql, *html_sql, *one_sql, *html_one_sql;
    const char *insert_sql, *update_sql, *archive_sql;
    /* Reads, merges (PATCH: old row, else NULL) and checks the values. */
    int (*values)(adm_t *a, adm_bad_t *b, pol_in_t *in, PGresult *old);
    void (*head)(adm_t *a);                 /* value column headings */
    void (*cells)(adm_t *a, PGresult *r, int i);
    void (*inputs)(adm_t *a, const adm_bad_t *b, PGresult *old);
} pol_kind_t;

/* ---------------------------------------------------------- scopes */

static const struct {
    const char *type, *label, *sql;
} scopes[] = {
    {"org", "organization",
     "SELECT id AS org_id, status FROM organizations WHERE id = $1"},
    {"team", "team", "SELECT org_id, status FROM teams WHERE id = $1"},
    {"project", "project",
     "SELECT org_id, status FROM projects WHERE id = $1"},
    {"key", "key", "SELECT org_id, status FROM virtual_keys WHERE id = $1"},
    {"end_user", "end-user",
     "SELECT org_id, status FROM end_users WHERE id = $1"},
};
#define NSCOPES (sizeof(scopes) / sizeof(scopes[0]))

static int scope_index(const char *type)
{
    size_t i;

    for (i = 0; type && i < NSCOPES; i++)
        if (!strcmp(type, scopes[i].type))
            return (int)i;
    return -1;
}

/* The scope row must exist, be live and be the caller's to change; its
 * org becomes in->org. A row of another org answers as a missing one.
 * 0, 1 with *b, -1 answered. */
static int scope_resolve(adm_t *a, adm_bad_t *b, pol_in_t *in)
{
    int s = scope_index(in->scope_type);
    const char *pv[1] = {adm_id(a, in->scope_id)}, *st;
    PGresult *r;

    if (s < 0)
        return adm_form_bad(a, b, 400, "scope_type", "scope_type must be "
                            "org, team, project, key or end_user");
    if (!(r = adm_qx(a, scopes[s].sql, 1, pv)))
        return -1;
    in->org = PQntuples(r) ? adm_parse_id(adm_v(r, 0, "org_id")) : 0;
    if (!in->org || !adm_org_writable(a, in->org))
        return adm_form_bad(a, b, 400, "scope_id", "scope_id: no %s %lld",
                            scopes[s].label, in->scope_id);
    st = adm_v(r, 0, "status");
    if (strcmp(st, "active"))
        return adm_form_bad(a, b, 400, "scope_id", "scope_id: %s %lld is %s",
                            scopes[s].label, in->scope_id, st);
    return 0;
}

static int scope_read(adm_t *a, adm_bad_t *b, pol_in_t *in)
{
    const char *id = adm_field(a, "scope_id");

    in->scope_type = adm_field(a, "scope_type");
    if (!in->scope_type)
        return adm_form_bad(a, b, 400, "scope_type", "scope_type is required");
    if (!id)
        return adm_form_bad(a, b, 400, "scope_id", "scope_id is required");
    if (!(in->scope_id = adm_parse_id(id)))
        return adm_form_bad(a, b, 400, "scope_id",
                            "scope_id must be a positive integer id");
    return scope_resolve(a, b, in);
}

/* ---------------------------------------------------------- values */

/* A field's new value: given (PATCH or form), else the old row's. */
static const char *pick(adm_t *a, const char *field, PGresult *old)
{
    return old && !adm_has_field(a, field) ? adm_v(old, 0, field)
                                           : adm_field(a, field);
}

/* A USD amount as people and JSON encoders write it ("12", "0.5",
 * "1e-06"): canonical text with six decimals, or NULL unless it is above
 * 0, below 1e8 and has at most six decimals. Parsed as decimal text,
 * never through a double, so 0.1 stays exactly 0.1. */
static const char *amount_parse(apr_pool_t *p, const char *s)
{
    const char *dig = s;
    long long micros = 0, scale;
    char buf[32];
    int nd = 0, point = -1, exp = 0, esign = 1, k, place;

    for (; (*s >= '0' && *s <= '9') || (*s == '.' && point < 0); s++)
        if (*s == '.')
            point = nd;
        else
            nd++;
    if (!nd || nd > 40)
        return NULL;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            esign = *s++ == '-' ? -1 : 1;
        if (*s < '0' || *s > '9')
            return NULL;
        for (; *s >= '0' && *s <= '9' && exp <= 100; s++)
            exp = exp * 10 + (*s - '0');
    }
    if (*s || exp > 100)
        return NULL;
    point = (point < 0 ? nd : point) + esign * exp;
    /* digit k is worth 10^(point - 1 - k) */
    for (k = 0; k < nd; k++, dig++) {
        if (*dig == '.')
            dig++;
        place = point - 1 - k;
        if (*dig == '0')
            continue;
        if (place < -6 || place > 8)
            return NULL;
        for (scale = 1; place > -6; place--)
            scale *= 10;
        micros += (*dig - '0') * scale;
    }
    if (micros <= 0 || micros >= AMOUNT_LIMIT_MICROS)
        return NULL;
    snprintf(buf, sizeof(buf), "%lld.%06lld", micros / 1000000,
             micros % 1000000);
    return apr_pstrdup(p, buf);
}

static const char *const periods[] = {
    "hour", "day", "week", "month", "year", "rolling", NULL
};

/* rolling_seconds goes with period rolling and only with it: a PATCH
 * that leaves rolling drops the old window, one that enters it must
 * bring one. */
static int budget_rolling(adm_t *a, adm_bad_t *b, pol_in_t *in, PGresult *old)
{
    int rolling = !strcmp(in->v[1], "rolling");
    const char *s = old && !adm_has_field(a, "rolling_seconds")
                    ? (rolling ? adm_v(old, 0, "rolling_seconds") : NULL)
                    : adm_field(a, "rolling_seconds");
    long long n = s ? adm_parse_id(s) : 0;

    if (!rolling && s)
        return adm_form_bad(a, b, 400, "rolling_seconds",
                            "rolling_seconds is only for period rolling");
    if (rolling && !s)
        return adm_form_bad(a, b, 400, "rolling_seconds",
                            "rolling_seconds is required for period rolling");
    if (rolling && (n < ROLLING_MIN || n > ROLLING_MAX))
        return adm_form_bad(a, b, 400, "rolling_seconds", "rolling_seconds "
                            "must be an integer from %d to %d", ROLLING_MIN,
                            ROLLING_MAX);
    in->v[2] = rolling ? adm_id(a, n) : NULL;
    return 0;
}

static int budget_values(adm_t *a, adm_bad_t *b, pol_in_t *in, PGresult *old)
{
    const char *amount = pick(a, "amount_usd", old);

    if (!amount)
        return adm_form_bad(a, b, 400, "amount_usd", "amount_usd is required");
    if (!(in->v[0] = amount_parse(a->p, amount)))
        return adm_form_bad(a, b, 400, "amount_usd", "amount_usd must be a "
                            "USD amount above 0 and below 100000000, with at "
                            "most 6 decimals");
    in->v[1] = pick(a, "period", old);
    if (!in->v[1])
        return adm_form_bad(a, b, 400, "period", "period is required");
    if (!adm_form_one_of(in->v[1], periods))
        return adm_form_bad(a, b, 400, "period", "period must be hour, day, "
                            "week, month, year or rolling");
    return budget_rolling(a, b, in, old);
}

static const char *const limit_fields[] = {
    "requests_per_min", "tokens_per_min", "concurrency", NULL
};

static int limit_values(adm_t *a, adm_bad_t *b, pol_in_t *in, PGresult *old)
{
    static const long long max[] = {INT4_MAX, INT8_SAFE, INT4_MAX};
    int i, any = 0;

    for (i = 0; i < 3; i++) {
        const char *s = pick(a, limit_fields[i], old);
        long long n = s ? adm_parse_id(s) : 0;

        if (s && (!n || n > max[i]))
            return adm_form_bad(a, b, 400, limit_fields[i], "%s must be a "
                                "positive integer up to %lld",
                                limit_fields[i], max[i]);
        in->v[i] = s ? adm_id(a, n) : NULL;
        any |= s != NULL;
    }
    if (!any)
        return adm_form_bad(a, b, 400, "requests_per_min", "give at least "
                            "one of requests_per_min, tokens_per_min and "
                            "concurrency");
    return 0;
}

/* ---------------------------------------------------------- html bits */

/* An input's value: what was posted when re-rendering after an error or
 * creating, else the row's (col: its display column). */
static const char *shown(adm_t *a, const adm_bad_t *b, PGresult *old,
                         const char *field, const char *col)
{
    return b || !old ? adm_field(a, field) : adm_v(old, 0, col);
}

static void budget_head(adm_t *a)
{
    adm_puts(a, "<th>Amount (USD)</th><th>Period</th>");
}

static void budget_cells(adm_t *a, PGresult *r, int i)
{
    adm_printf(a, "<td class=\"num\">%s</td><td>%s",
               adm_escs(a->p, adm_v(r, i, "amount_txt")),
               adm_escs(a->p, adm_v(r, i, "period")));
    if (adm_v(r, i, "rolling_seconds"))
        adm_printf(a, " (%s s)", adm_escs(a->p, adm_v(r, i,
                                                      "rolling_seconds")));
    adm_puts(a, "</td>");
}

static void budget_inputs(adm_t *a, const adm_bad_t *b, PGresult *old)
{
    adm_form_input(a, b, "Amount (USD)", "amount_usd", "text",
                   shown(a, b, old, "amount_usd", "amount_txt"),
                   " required inputmode=\"decimal\"");
    adm_form_select(a, b, "Period (calendar periods in UTC)", "period",
                    periods, shown(a, b, old, "period", "period"));
    adm_form_input(a, b, "Rolling window in seconds (period rolling only)",
                   "rolling_seconds", "text",
                   shown(a, b, old, "rolling_seconds", "rolling_seconds"),
                   " inputmode=\"numeric\"");
}

static void limit_head(adm_t *a)
{
    adm_puts(a, "<th>Requests/min</th><th>Tokens/min</th>"
                "<th>Concurrency</th>");
}

static void limit_cells(adm_t *a, PGresult *r, int i)
{
    int f;

    for (f = 0; f < 3; f++) {
        const char *v = adm_v(r, i, limit_fields[f]);
        adm_printf(a, "<td class=\"num\">%s</td>",
                   v ? adm_escs(a->p, v) : "—");
    }
}

static void limit_inputs(adm_t *a, const adm_bad_t *b, PGresult *old)
{
    static const char *const labels[] = {
        "Requests per minute", "Tokens per minute", "Concurrent requests"
    };
    int f;

    adm_puts(a, "<p class=\"muted\">Empty: no limit of that kind; give at "
                "least one.</p>\n");
    for (f = 0; f < 3; f++)
        adm_form_input(a, b, labels[f], limit_fields[f], "text",
                       shown(a, b, old, limit_fields[f], limit_fields[f]),
                       " inputmode=\"numeric\"");
}

/* ---------------------------------------------------------- the kinds */

#define SCOPE_NAME \
    "CASE x.scope_type " \
    "WHEN 'org' THEN (SELECT name FROM organizations WHERE id = x.scope_id) " \
    "WHEN 'team' THEN (SELECT name FROM teams WHERE id = x.scope_id) " \
    "WHEN 'project' THEN (SELECT name FROM projects WHERE id = x.scope_id) " \
    "WHEN 'key' THEN (SELECT name || ' (sk-aura-' || key_id || ')' " \
    "FROM virtual_keys WHERE id = x.scope_id) " \
    "WHEN 'end_user' THEN (SELECT coalesce(name, external_id) " \
    "FROM end_users WHERE id = x.scope_id) END AS scope_name"
#define HTML_EXTRA \
    ", " SCOPE_NAME ", " ADM_SQL_MINUTE("x.created_at") " AS created_txt"
#define LIST_WHERE \
    " WHERE ($1::bigint IS NULL OR x.org_id = $1)" \
    " AND ($2::bigint IS NULL OR x.org_id = $2)" \
    " AND ($3::text IS NULL OR x.scope_type = $3)" \
    " AND ($4::bigint IS NULL OR x.scope_id = $4)" \
    " AND ($5::text IS NULL OR x.status = $5) ORDER BY x.id DESC"
#define ONE_WHERE " WHERE x.id = $1 AND ($2::bigint IS NULL OR x.org_id = $2)"

#define BUDGET_COLS \
    "x.id, x.org_id, x.scope_type, x.scope_id, x.amount_usd, x.period, " \
    "x.rolling_seconds, x.status, x.created_at, x.updated_at"
#define BUDGET_HTML \
    BUDGET_COLS HTML_EXTRA ", trim_scale(x.amount_usd)::text AS amount_txt"

static const char *const budget_fields[] = {
    "amount_usd", "period", "rolling_seconds", NULL
};
static const char *const budget_create_fields[] = {
    "scope_type", "scope_id", "amount_usd", "period", "rolling_seconds", NULL
};

static const pol_kind_t budget_kind = {
    "budget", "/budgets", "Budgets", "Budget", budget_fields,
    budget_create_fields,
    "SELECT " BUDGET_COLS " FROM budgets x" LIST_WHERE,
    "SELECT " BUDGET_HTML " FROM budgets x" LIST_WHERE,
    "SELECT " BUDGET_COLS " FROM budgets x" ONE_WHERE,
    "SELECT " BUDGET_HTML " FROM budgets x" ONE_WHERE,
    "INSERT INTO budgets AS x (org_id, scope_type, scope_id, amount_usd, "
    "period, rolling_seconds) VALUES ($1, $2, $3, $4::numeric, $5, "
    "$6::integer) RETURNING " BUDGET_COLS,
    "UPDATE budgets AS x SET amount_usd = $2::numeric, period = $3, "
    "rolling_seconds = $4::integer, updated_at = now() WHERE x.id = $1 "
    "RETURNING " BUDGET_COLS,
    "UPDATE budgets AS x SET status = 'archived', updated_at = now() "
    "WHERE x.id = $1 RETURNING " BUDGET_COLS,
    budget_values, budget_head, budget_cells, budget_inputs
};

#define LIMIT_COLS \
    "x.id, x.org_id, x.scope_type, x.scope_id, x.requests_per_min, " \
    "x.tokens_per_min, x.concurrency, x.status, x.created_at, x.updated_at"

static const char *const limit_create_fields[] = {
    "scope_type", "scope_id", "requests_per_min", "tokens_per_min",
    "concurrency", NULL
};

static const pol_kind_t limit_kind = {
    "limit", "/limits", "Rate limits", "Rate limit", limit_fields,
    limit_create_fields,
    "SELECT " LIMIT_COLS " FROM rate_limits x" LIST_WHERE,
    "SELECT " LIMIT_COLS HTML_EXTRA " FROM rate_limits x" LIST_WHERE,
    "SELECT " LIMIT_COLS " FROM rate_limits x" ONE_WHERE,
    "SELECT " LIMIT_COLS HTML_EXTRA " FROM rate_limits x" ONE_WHERE,
    "INSERT INTO rate_limits AS x (org_id, scope_type, scope_id, "
    "requests_per_min, tokens_per_min, concurrency) VALUES ($1, $2, $3, "
    "$4::integer, $5::bigint, $6::integer) RETURNING " LIMIT_COLS,
    "UPDATE rate_limits AS x SET requests_per_min = $2::integer, "
    "tokens_per_min = $3::bigint, concurrency = $4::integer, "
    "updated_at = now() WHERE x.id = $1 RETURNING " LIMIT_COLS,
    "UPDATE rate_limits AS x SET status = 'archived', updated_at = now() "
    "WHERE x.id = $1 RETURNING " LIMIT_COLS,
    limit_values, limit_head, limit_cells, limit_inputs
};

/* The routes name the kind by their first segment. */
static const pol_kind_t *kind_of(adm_t *a)
{
    return strstr(a->path, "/limits") ? &limit_kind : &budget_kind;
}

/* ---------------------------------------------------------- pages */

static void scope_cell(adm_t *a, PGresult *r, int i)
{
    adm_printf(a, "<span class=\"muted\">%s %s</span> ",
               adm_escs(a->p, adm_v(r, i, "scope_type")),
               adm_escs(a->p, adm_v(r, i, "scope_id")));
    adm_esc(a, adm_v(r, i, "scope_name"));
}

static void archive_button(adm_t *a, const pol_kind_t *k, const char *id)
{
    adm_form_button(a, apr_pstrcat(a->p, k->path, "/", id, "/archive", NULL),
                    "Archive");
}

static void pol_row(adm_t *a, const pol_kind_t *k, PGresult *r, int i)
{
    const char *id = adm_v(r, i, "id");
    int live = !strcmp(adm_v(r, i, "status"), "active");

    adm_puts(a, "<tr><td>");
    scope_cell(a, r, i);
    adm_puts(a, "</td>");
    k->cells(a, r, i);
    adm_printf(a, "<td>%s</td><td>%s</td><td>",
               adm_escs(a->p, adm_v(r, i, "status")),
               adm_escs(a->p, adm_v(r, i, "created_txt")));
    if (live && adm_can_write(a)) {
        adm_printf(a, "<a href=\"%s%s/%s\">Edit</a> ",
                   adm_escs(a->p, a->base), k->path, id);
        archive_button(a, k, id);
    }
    adm_puts(a, "</td></tr>\n");
}

static const char *const scope_types[] = {
    "org", "team", "project", "key", "end_user", NULL
};

static void pol_create_form(adm_t *a, const pol_kind_t *k, const adm_bad_t *b)
{
    adm_printf(a, "<h2>New %s</h2><form class=\"box\" method=\"post\" "
               "action=\"%s%s\">", k->noun, adm_escs(a->p, a->base),
               k->path);
    adm_csrf_input(a);
    adm_form_top_error(a, b, k->create_fields);
    adm_form_select(a, b, "Scope", "scope_type", scope_types,
                    adm_field(a, "scope_type"));
    adm_form_input(a, b, "Scope id (of the org, team, project, key or "
                   "end-user)", "scope_id", "text", adm_field(a, "scope_id"),
                   " required inputmode=\"numeric\"");
    k->inputs(a, b, NULL);
    adm_printf(a, "<p><button type=\"submit\">Create %s</button></p>"
               "</form>\n", k->noun);
}

/* List filters: caller scope, org, scope type, scope id, status (default
 * active). 0 or the status answered. */
static const char *const pol_statuses[] = {"active", "archived", "all", NULL};

static int pol_filters(adm_t *a, const char **pv)
{
    const char *st;
    int rc;

    pv[0] = adm_scope_param(a);
    if ((rc = adm_form_id_arg(a, "org_id", &pv[1])) != 0
        || (rc = adm_form_id_arg(a, "scope_id", &pv[3])) != 0)
        return rc;
    pv[2] = adm_arg(a, "scope_type");
    if (pv[2] && scope_index(pv[2]) < 0)
        return adm_error(a, 400, "invalid_request", "scope_type",
                         "scope_type must be org, team, project, key or "
                         "end_user");
    if ((rc = adm_form_status_arg(a, pol_statuses, "active", &st)) != 0)
        return rc;
    pv[4] = strcmp(st, "all") ? st : NULL;
    return 0;
}

static int pol_list_page(adm_t *a, const pol_kind_t *k, const adm_bad_t *b)
{
    const char *pv[5];
    PGresult *r;
    int i, rc;

    if ((rc = pol_filters(a, pv)) != 0)
        return rc;
    if (!(r = adm_qx(a, k->html_sql, 5, pv)))
        return a->status;
    adm_page_begin(a, k->title, k->path + 1);
    adm_form_status_links(a, k->path, pol_statuses);
    adm_puts(a, "<table><thead><tr><th>Scope</th>");
    k->head(a);
    adm_puts(a, "<th>Status</th><th>Created (UTC)</th><th></th></tr>"
                "</thead><tbody>\n");
    for (i = 0; i < PQntuples(r); i++)
        pol_row(a, k, r, i);
    adm_puts(a, "</tbody></table>\n");
    if (!PQntuples(r))
        adm_printf(a, "<p class=\"muted\">No %ss.</p>\n", k->noun);
    if (adm_can_write(a))
        pol_create_form(a, k, b);
    a->status = b ? b->status : 200;
    return adm_page_end(a);
}

static int pol_list(adm_t *a)
{
    const pol_kind_t *k = kind_of(a);
    const char *pv[5];
    json_object *o;
    PGresult *r;
    int rc;

    if (!a->api)
        return pol_list_page(a, k, NULL);
    if ((rc = pol_filters(a, pv)) != 0)
        return rc;
    if (!(r = adm_qx(a, k->list_sql, 5, pv)))
        return a->status;
    o = json_object_new_object();
    json_object_object_add(o, "data", adm_rows_json(r));
    return adm_json(a, 200, o);
}

/* One row as the caller may see it; NULL answered (404 included). */
static PGresult *pol_fetch(adm_t *a, const pol_kind_t *k, const char *sql,
                           const char *lock)
{
    const char *pv[2] = {adm_id(a, a->id), adm_scope_param(a)};
    PGresult *r = adm_qx(a, lock ? apr_pstrcat(a->p, sql, lock, NULL) : sql,
                         2, pv);

    if (r && !PQntuples(r)) {
        adm_rollback(a);
        adm_error(a, 404, "not_found", NULL, "no %s %lld", k->noun, a->id);
        return NULL;
    }
    return r;
}

static int pol_edit_page(adm_t *a, const pol_kind_t *k, const adm_bad_t *b)
{
    PGresult *r = pol_fetch(a, k, k->html_one_sql, NULL);
    const char *id;

    if (!r)
        return a->status;
    id = adm_v(r, 0, "id");
    adm_page_begin(a, apr_pstrcat(a->p, k->label, " ", id, NULL),
                   k->path + 1);
    adm_puts(a, "<p>Scope: ");
    scope_cell(a, r, 0);
    adm_printf(a, " · status %s</p>\n",
               adm_escs(a->p, adm_v(r, 0, "status")));
    if (adm_can_write(a) && !strcmp(adm_v(r, 0, "status"), "active")) {
        adm_printf(a, "<form class=\"box\" method=\"post\" "
                   "action=\"%s%s/%s\">", adm_escs(a->p, a->base), k->path,
                   id);
        adm_csrf_input(a);
        adm_form_top_error(a, b, k->fields);
        k->inputs(a, b, r);
        adm_puts(a, "<p><button type=\"submit\">Save</button></p></form>\n");
        archive_button(a, k, id);
    }
    adm_printf(a, "<p><a href=\"%s%s\">All %ss</a></p>\n",
               adm_escs(a->p, a->base), k->path, k->noun);
    a->status = b ? b->status : 200;
    return adm_page_end(a);
}

static int pol_show(adm_t *a)
{
    const pol_kind_t *k = kind_of(a);
    PGresult *r;

    if (!a->api)
        return pol_edit_page(a, k, NULL);
    if (!(r = pol_fetch(a, k, k->one_sql, NULL)))
        return a->status;
    return adm_json(a, 200, adm_row_json(r, 0));
}

/* ---------------------------------------------------------- changes */

/* The audit detail is the row itself: budgets and limits hold nothing
 * secret. */
static int pol_audit(adm_t *a, const pol_kind_t *k, const char *verb,
                     PGresult *r)
{
    json_object *d = adm_row_json(r, 0);

    json_object_object_del(d, "created_at");   /* the audit row has its own */
    json_object_object_del(d, "updated_at");
    return adm_audit_x(a, apr_pstrcat(a->p, k->noun, ".", verb, NULL),
                       k->noun, adm_parse_id(adm_v(r, 0, "id")),
                       adm_parse_id(adm_v(r, 0, "org_id")), d);
}

/* The key page's forms carry next=/keys/{id}: their answers (success
 * and refusal) go back there. NULL: the kind's own pages. */
#define KEY_PAGE "/keys/"

static const char *key_next(adm_t *a)
{
    return adm_form_next(a, KEY_PAGE);
}

static int pol_bad(adm_t *a, const pol_kind_t *k, const adm_bad_t *b,
                   int edit)
{
    const char *next = key_next(a);

    if (a->api)
        return adm_form_refuse(a, b);
    if (next && !edit)
        return adm_key_page_refused(a, adm_parse_id(next + strlen(KEY_PAGE)),
                                    b);
    return edit ? pol_edit_page(a, k, b) : pol_list_page(a, k, b);
}

/* A change done: the row with status (API), else 303 to where the form
 * came from. */
static int pol_done(adm_t *a, const pol_kind_t *k, PGresult *r, int status)
{
    const char *next = key_next(a);

    return a->api ? adm_json(a, status, adm_row_json(r, 0))
                  : adm_redirect(a, next ? next : k->path);
}

/* The change (sql, in the open transaction), its audit row and COMMIT;
 * answers as pol_done. */
static int pol_apply(adm_t *a, const pol_kind_t *k, const char *verb,
                     const char *sql, int n, const char *const *pv,
                     int status)
{
    PGresult *r;

    if (!(r = adm_qx(a, sql, n, pv)) || pol_audit(a, k, verb, r)
        || adm_commit(a))
        return adm_abort(a);
    return pol_done(a, k, r, status);
}

/* Inserts a checked budget or limit and its audit row, in the open
 * transaction: the row, or NULL answered. */
static PGresult *pol_insert(adm_t *a, const pol_kind_t *k,
                            const pol_in_t *in)
{
    const char *pv[6];
    PGresult *r;

    pv[0] = adm_id(a, in->org);
    pv[1] = in->scope_type;
    pv[2] = adm_id(a, in->scope_id);
    memcpy(&pv[3], in->v, sizeof(in->v));
    if (!(r = adm_qx(a, k->insert_sql, 6, pv)) || pol_audit(a, k, "create", r))
        return NULL;
    return r;
}

static int pol_create(adm_t *a)
{
    const pol_kind_t *k = kind_of(a);
    pol_in_t in;
    adm_bad_t b = {0, NULL, NULL};
    PGresult *r;
    int rc;

    memset(&in, 0, sizeof(in));
    if ((rc = scope_read(a, &b, &in)) == 0)
        rc = k->values(a, &b, &in, NULL);
    if (rc)
        return rc < 0 ? a->status : pol_bad(a, k, &b, 0);
    if (adm_begin(a))
        return a->status;
    if (!(r = pol_insert(a, k, &in)) || adm_commit(a))
        return adm_abort(a);
    return pol_done(a, k, r, 201);
}

static int pol_update(adm_t *a)
{
    const pol_kind_t *k = kind_of(a);
    pol_in_t in;
    adm_bad_t b = {0, NULL, NULL};
    const char *pv[4];
    PGresult *r;

    memset(&in, 0, sizeof(in));
    if (adm_begin(a) || !(r = pol_fetch(a, k, k->one_sql, " FOR UPDATE")))
        return adm_abort(a);
    if (strcmp(adm_v(r, 0, "status"), "active")) {
        adm_rollback(a);
        return adm_error(a, 409, "conflict", NULL, "the %s is archived",
                         k->noun);
    }
    if (k->values(a, &b, &in, r)) {
        adm_rollback(a);
        return pol_bad(a, k, &b, 1);
    }
    pv[0] = adm_id(a, a->id);
    memcpy(&pv[1], in.v, sizeof(in.v));
    return pol_apply(a, k, "update", k->update_sql, 4, pv, 200);
}

static int pol_archive(adm_t *a)
{
    const pol_kind_t *k = kind_of(a);
    const char *pv[1] = {adm_id(a, a->id)};
    PGresult *r;

    if (adm_begin(a) || !(r = pol_fetch(a, k, k->one_sql, " FOR UPDATE")))
        return adm_abort(a);
    /* Archiving twice is not an error: it is archived either way. */
    if (!strcmp(adm_v(r, 0, "status"), "active")
        && (!(r = adm_qx(a, k->archive_sql, 1, pv))
            || pol_audit(a, k, "archive", r)))
        return adm_abort(a);
    if (adm_commit(a))
        return adm_abort(a);
    return pol_done(a, k, r, 200);
}

/* ---------------------------------------------------------- a key's own
 * A new key's budget and limit, and the key page's section: the handlers
 * above do the work, so a key's budget is checked, stored and audited as
 * any other.
 */

struct adm_key_policy {
    pol_in_t in[2];             /* as key_kinds */
    int given[2];
};

static const pol_kind_t *const key_kinds[2] = {&budget_kind, &limit_kind};

/* The form fields "budget.X" as a form of their own (X), or NULL when
 * none was filled in: the period select always sends a choice, so it
 * alone does not ask for a budget. */
static apr_table_t *sub_form(adm_t *a, const pol_kind_t *k)
{
    apr_table_t *t = apr_table_make(a->p, 4);
    int i, any = 0;

    for (i = 0; a->form && k->fields[i]; i++) {
        const char *v = apr_table_get(a->form, apr_pstrcat(a->p, k->noun,
                                      ".", k->fields[i], NULL));
        if (!v)
            continue;
        apr_table_setn(t, k->fields[i], v);
        any |= *v && strcmp(k->fields[i], "period");
    }
    return any ? t : NULL;
}

/* The kind's values() reads the JSON member (or the prefixed fields) as
 * if it were the whole input: POST /budgets' own checks. The refusal is
 * renamed "budget.amount_usd". 0 (none, or *in), 1 with *b. */
static int sub_read(adm_t *a, adm_bad_t *b, const pol_kind_t *k,
                    pol_in_t *in, int *given)
{
    json_object *m = NULL, *body = a->body;
    apr_table_t *form = a->form;
    int rc;

    if (a->api) {
        if (!a->body || !json_object_object_get_ex(a->body, k->noun, &m)
            || json_object_is_type(m, json_type_null))
            return 0;
        if (!json_object_is_type(m, json_type_object))
            return adm_form_bad(a, b, 400, k->noun, "%s must be an object "
                                "(or null for none)", k->noun);
        a->body = m;
    } else if (!(a->form = sub_form(a, k))) {
        a->form = form;
        return 0;
    }
    *given = 1;
    rc = k->values(a, b, in, NULL);
    a->body = body;
    a->form = form;
    if (rc && b->field) {
        b->field = apr_pstrcat(a->p, k->noun, ".", b->field, NULL);
        b->msg = apr_pstrcat(a->p, k->noun, ": ", b->msg, NULL);
    }
    return rc;
}

int adm_key_policy_read(adm_t *a, adm_bad_t *b, adm_key_policy_t **out)
{
    adm_key_policy_t *kp = apr_pcalloc(a->p, sizeof(*kp));
    int i;

    *out = kp;
    for (i = 0; i < 2; i++)
        if (sub_read(a, b, key_kinds[i], &kp->in[i], &kp->given[i]))
            return 1;
    return 0;
}

int adm_key_policy_insert(adm_t *a, const adm_key_policy_t *kp,
                          long long key, long long org)
{
    int i;

    for (i = 0; i < 2; i++) {
        pol_in_t in = kp->in[i];

        if (!kp->given[i])
            continue;
        in.scope_type = "key";
        in.scope_id = key;
        in.org = org;
        if (!pol_insert(a, key_kinds[i], &in))
            return -1;
    }
    return 0;
}

void adm_key_policy_inputs(adm_t *a, const adm_bad_t *b)
{
    const char *period = adm_field(a, "budget.period");

    adm_puts(a, "<p class=\"muted\">Optional: a budget and a rate limit "
                "for this key (more on the key's page).</p>\n");
    adm_form_input(a, b, "Budget (USD; empty: none)", "budget.amount_usd",
                   "text", adm_field(a, "budget.amount_usd"),
                   " inputmode=\"decimal\"");
    adm_form_select(a, b, "Budget period (calendar periods in UTC)",
                    "budget.period", periods, period ? period : "month");
    adm_form_input(a, b, "Rolling window in seconds (period rolling only)",
                   "budget.rolling_seconds", "text",
                   adm_field(a, "budget.rolling_seconds"),
                   " inputmode=\"numeric\"");
    adm_form_input(a, b, "Requests/min (empty: no limit)",
                   "limit.requests_per_min", "text",
                   adm_field(a, "limit.requests_per_min"),
                   " inputmode=\"numeric\"");
}

/* The key's live rows of one kind with their Archive buttons. */
static int key_kind_rows(adm_t *a, const pol_kind_t *k, const char *key,
                         int writable, const char *next)
{
    const char *pv[5] = {adm_scope_param(a), NULL, "key", key, "active"};
    PGresult *r = adm_qx(a, k->html_sql, 5, pv);
    int i;

    if (!r)
        return -1;
    adm_printf(a, "<h3>%s</h3>\n", k->title);
    if (!PQntuples(r)) {
        adm_printf(a, "<p class=\"muted\">No %ss.</p>\n", k->noun);
        return 0;
    }
    adm_printf(a, "<table id=\"key-%ss\"><thead><tr>", k->noun);
    k->head(a);
    adm_puts(a, "<th>Created (UTC)</th><th></th></tr></thead><tbody>\n");
    for (i = 0; i < PQntuples(r); i++) {
        adm_puts(a, "<tr>");
        k->cells(a, r, i);
        adm_printf(a, "<td>%s</td><td>",
                   adm_escs(a->p, adm_v(r, i, "created_txt")));
        if (writable)
            adm_form_button_with(a, apr_pstrcat(a->p, k->path, "/",
                                 adm_v(r, i, "id"), "/archive", NULL),
                                 "Archive", "next", next);
        adm_puts(a, "</td></tr>\n");
    }
    adm_puts(a, "</tbody></table>\n");
    return 0;
}

/* A form adding one to the key; b: it was refused. */
static void key_kind_form(adm_t *a, const pol_kind_t *k, const char *key,
                          const char *next, const adm_bad_t *b)
{
    adm_printf(a, "<form class=\"box\" method=\"post\" action=\"%s%s\">",
               adm_escs(a->p, a->base), k->path);
    adm_csrf_input(a);
    adm_form_hidden(a, "scope_type", "key");
    adm_form_hidden(a, "scope_id", key);
    adm_form_hidden(a, "next", next);
    adm_form_top_error(a, b, k->fields);
    k->inputs(a, b, NULL);
    adm_printf(a, "<p><button type=\"submit\">Add %s</button></p></form>\n",
               k->noun);
}

int adm_key_policy_section(adm_t *a, const char *key, int writable,
                           int live, const adm_bad_t *b)
{
    const char *next = apr_pstrcat(a->p, KEY_PAGE, key, NULL);
    const pol_kind_t *failed = b ? kind_of(a) : NULL;
    int i;

    adm_puts(a, "<section id=\"key-policy\"><h2>Budgets and limits</h2>\n");
    if (b && !(writable && live))       /* no form to show it in */
        adm_form_error(a, b->field, b->msg);
    for (i = 0; i < 2; i++) {
        if (key_kind_rows(a, key_kinds[i], key, writable, next))
            return -1;
        if (writable && live)
            key_kind_form(a, key_kinds[i], key, next,
                          failed == key_kinds[i] ? b : NULL);
    }
    adm_puts(a, "</section>\n");
    return 0;
}

int adm_key_policy_json(adm_t *a, long long key, json_object *o)
{
    const char *pv[5] = {adm_scope_param(a), NULL, "key", adm_id(a, key),
                         "active"};
    PGresult *r;
    int i;

    for (i = 0; i < 2; i++) {
        if (!(r = adm_qx(a, key_kinds[i]->list_sql, 5, pv)))
            return -1;
        json_object_object_add(o, key_kinds[i]->path + 1, adm_rows_json(r));
    }
    return 0;
}

/* ---------------------------------------------------------- routes */

const adm_route_t adm_policy_routes[] = {
    {"GET", "/budgets", pol_list, 0},
    {"POST", "/budgets", pol_create, 1},
    {"GET", "/budgets/{id}", pol_show, 0},
    {"POST", "/budgets/{id}", pol_update, 1},
    {"PATCH", "/budgets/{id}", pol_update, 1},
    {"POST", "/budgets/{id}/archive", pol_archive, 1},
    {"GET", "/limits", pol_list, 0},
    {"POST", "/limits", pol_create, 1},
    {"GET", "/limits/{id}", pol_show, 0},
    {"POST", "/limits/{id}", pol_update, 1},
    {"PATCH", "/limits/{id}", pol_update, 1},
    {"POST", "/limits/{id}/archive", pol_archive, 1},
    {NULL, NULL, NULL, 0}
};
