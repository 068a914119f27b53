/*
 * admin_reports.c - the console's reports: overview and cost report (HTML,
 * JSON and CSV); and the filters and cells they share with the request and
 * audit logs (admin_logs.c, through admin_rep.h). Every route is a
 * read-only GET.
 *
 * Money comes from usage_ledger.cost_total, which is NULL when the price
 * was unknown. Such requests are counted, and reported as "unpriced"; they
 * never become $0 in a sum (a sum over only unpriced rows is null). Days,
 * weeks and months are UTC calendar periods whatever the session TimeZone:
 * every bound is a UTC date turned into a timestamptz with AT TIME ZONE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_escape.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "admin_rep.h"

/* $2, $3: first and last UTC day (inclusive); $4: org, NULL = every org. */
#define RANGE_SQL \
    "l.created_at >= $2::date::timestamp AT TIME ZONE 'UTC' " \
    "AND l.created_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC' " \
    "AND ($4::bigint IS NULL OR l.org_id = $4::bigint)"

#define MAX_BARS 400        /* beyond this a bar chart says nothing */

/* ---------------------------------------------------------- input */

/* A strict YYYY-MM-DD that names a real day. */
static int valid_date(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                31};
    int y, m, d, i;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !apr_isdigit(s[i]))
            return 0;
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    return !(m == 2 && d == 29 &&
             (y % 4 || (y % 100 == 0 && y % 400)));
}

/* A free-text filter: at most max bytes, no control characters (the
 * framework has already refused a query string that is not UTF-8). */
int rep_text_arg(adm_t *a, const char *name, size_t max, const char **out,
                 adm_bad_t *b)
{
    const char *s = adm_arg(a, name), *c;

    *out = s;
    if (!s)
        return 0;
    for (c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            break;
    if (*c || strlen(s) > max)
        return adm_form_bad(a, b, 400, name, "%s must be printable text of "
                            "at most %zu bytes", name, max);
    return 0;
}

/* An integer in [lo, hi]; dflt when absent. */
static int int_arg(adm_t *a, const char *name, long lo, long hi, long dflt,
                   long *out)
{
    const char *s = adm_arg(a, name);
    char *end;
    long v;

    *out = dflt;
    if (!s)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (!apr_isdigit(*s) || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int rep_page_args(adm_t *a, long *limit, long *offset, adm_bad_t *b)
{
    if (int_arg(a, "limit", 1, 500, 100, limit))
        return adm_form_bad(a, b, 400, "limit",
                            "limit must be an integer from 1 to 500");
    if (int_arg(a, "offset", 0, 1000000000L, 0, offset))
        return adm_form_bad(a, b, 400, "offset",
                            "offset must be a non-negative integer");
    return 0;
}

/* from/to as given (inclusive UTC dates, either may be absent). */
int rep_date_args(adm_t *a, const char **from, const char **to, adm_bad_t *b)
{
    *from = adm_arg(a, "from");
    *to = adm_arg(a, "to");
    if (*from && !valid_date(*from))
        return adm_form_bad(a, b, 400, "from",
                            "from must be a date YYYY-MM-DD");
    if (*to && !valid_date(*to))
        return adm_form_bad(a, b, 400, "to", "to must be a date YYYY-MM-DD");
    if (*from && *to && strcmp(*from, *to) > 0)
        return adm_form_bad(a, b, 400, "from", "from must not be after to");
    return 0;
}

/* The org a report covers, as a query parameter (NULL = every org). A
 * caller confined to one org always gets that org, and asking for another
 * answers 404, so that the other's existence is not revealed. */
int rep_org_arg(adm_t *a, const char *given, const char **org, adm_bad_t *b)
{
    long long id;

    *org = adm_scope_param(a);
    if (!given)
        return 0;
    if (!(id = adm_parse_id(given)))
        return adm_form_bad(a, b, 400, "org_id",
                            "org_id must be a positive integer");
    if (!adm_org_visible(a, id))
        return adm_form_bad(a, b, 404, "org_id", "no such organization");
    *org = adm_id(a, id);
    return 0;
}

/* The range a report covers: `to` defaults to today (UTC), `from` to 29
 * days before `to`, so that the default is 30 calendar days. Today is the
 * database's, the clock the ledger rows are compared with. *days: to -
 * from. Returns 0, or the status of the error already answered. */
static int default_range(adm_t *a, const char **from, const char **to,
                         long *days)
{
    const char *pv[2] = {*from, *to};
    PGresult *r = adm_qx(a,
        "SELECT to_char(f, 'YYYY-MM-DD') AS f, to_char(t, 'YYYY-MM-DD') AS t,"
        " t - f AS days FROM (SELECT coalesce($1::date, coalesce($2::date,"
        " (now() AT TIME ZONE 'UTC')::date) - 29) AS f, coalesce($2::date,"
        " (now() AT TIME ZONE 'UTC')::date) AS t) r", 2, pv);

    if (!r)
        return a->status ? a->status : 500;
    *from = adm_v(r, 0, "f");
    *to = adm_v(r, 0, "t");
    if (days)
        *days = atol(adm_v(r, 0, "days"));
    return 0;
}

/* ---------------------------------------------------------- formatting */

/* Integer digits with thousands separators: "1234567" → "1,234,567". */
const char *rep_thousands(apr_pool_t *p, const char *digits)
{
    const char *sign = "";
    size_t n, i, j = 0;
    char *out;

    if (!digits)
        return "";
    if (*digits == '-') {
        sign = "-";
        digits++;
    }
    n = strlen(digits);
    out = apr_palloc(p, n + n / 3 + 1);
    for (i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[j++] = ',';
        out[j++] = digits[i];
    }
    out[j] = '\0';
    return apr_pstrcat(p, sign, out, NULL);
}

static const char *thousands_ll(apr_pool_t *p, long long v)
{
    return rep_thousands(p, adm_fmt(p, "%lld", v));
}

/* Dollars for people: "$1,234.50", "$0.0042". Two decimals from $100 up;
 * below that up to six, so that fractions of a cent still show. */
static const char *usd_d(apr_pool_t *p, double v)
{
    char buf[64], *dot, *end;

    snprintf(buf, sizeof(buf), v >= 100 || v <= -100 ? "%.2f" : "%.6f", v);
    dot = strchr(buf, '.');
    end = buf + strlen(buf);
    while (end > dot + 3 && end[-1] == '0')
        *--end = '\0';
    *dot = '\0';
    return apr_pstrcat(p, "$", rep_thousands(p, buf), ".", dot + 1, NULL);
}

/* A numeric column as dollars; NULL (no price known) says so. */
const char *rep_money(apr_pool_t *p, const char *v)
{
    return v ? usd_d(p, strtod(v, NULL)) : "unpriced";
}

static double num(const char *v)
{
    return v ? strtod(v, NULL) : 0;
}

/* "&name=value", URL-encoded, when value is set: links that keep a
 * report's filters. */
const char *rep_qs_add(apr_pool_t *p, const char *qs, const char *name,
                          const char *v)
{
    if (!v || !*v)
        return qs;
    return apr_pstrcat(p, qs, *qs ? "&" : "", name, "=",
                       apr_pescape_urlencoded(p, v), NULL);
}

void rep_anchor(adm_t *a, const char *path, const char *qs, const char *text)
{
    adm_puts(a, "<a href=\"");
    adm_esc(a, apr_pstrcat(a->p, a->base, path, *qs ? "?" : "", qs, NULL));
    adm_puts(a, "\">");
    adm_esc(a, text);
    adm_puts(a, "</a>");
}

void rep_td_time(adm_t *a, const char *ts)
{
    char m[17];                 /* "YYYY-MM-DD HH:MM" */

    if (!ts || strlen(ts) < 16) {
        rep_td(a, ts);
        return;
    }
    memcpy(m, ts, 16);
    m[10] = ' ';
    m[16] = '\0';
    adm_printf(a, "<td title=\"%s\">%s</td>", adm_escs(a->p, ts),
               adm_escs(a->p, m));
}

void rep_td(adm_t *a, const char *s)
{
    adm_puts(a, "<td>");
    adm_esc(a, s);
    adm_puts(a, "</td>");
}

void rep_td_num(adm_t *a, const char *s)
{
    adm_puts(a, "<td class=\"num\">");
    adm_esc(a, s);
    adm_puts(a, "</td>");
}

/* A cost cell: the priced sum, plus how many requests had no price. */
static void td_cost(adm_t *a, const char *cost, long long unpriced)
{
    adm_puts(a, "<td class=\"num\">");
    adm_esc(a, rep_money(a->p, cost));
    if (cost && unpriced > 0)
        adm_printf(a, " <span class=\"unpriced\">+ %lld unpriced</span>",
                   unpriced);
    adm_puts(a, "</td>");
}

void rep_th_row(adm_t *a, const char *const *cols)
{
    adm_puts(a, "<thead><tr>");
    for (; *cols; cols++)
        adm_printf(a, "<th>%s</th>", *cols);
    adm_puts(a, "</tr></thead>\n<tbody>\n");
}

/* Refused filters: the API's error object; in HTML, for a bad field, the
 * page's form again with the values kept and the message by it. */
int rep_refuse(adm_t *a, const adm_bad_t *b, const char *title,
               const char *nav, rep_form_fn form, const void *filters)
{
    if (a->api || b->status != 400)
        return adm_form_refuse(a, b);
    adm_page_begin(a, title, nav);
    adm_form_error(a, b->field, b->msg);
    form(a, filters);
    a->status = 400;
    return adm_page_end(a);
}

/* ---------------------------------------------------------- chart */

#define CH_W 640            /* the whole chart */
#define CH_H 180
#define CH_L 72             /* left margin: the value labels */
#define CH_T 12             /* top margin */
#define CH_B 22             /* bottom margin: the date labels */
#define CH_PW (CH_W - CH_L - 8)
#define CH_PH (CH_H - CH_T - CH_B)

/* Cost per bucket, every bucket of the range present (empty ones with no
 * requests): one row per bar. $1 bucket, RANGE_SQL's $2..$4. */
static PGresult *series_q(adm_t *a, const char *bucket, const char *from,
                          const char *to, const char *org)
{
    const char *pv[4] = {bucket, from, to, org};

    return adm_qx(a,
        "WITH u AS (SELECT date_trunc($1::text, l.created_at AT TIME ZONE"
        " 'UTC') AS b, sum(l.cost_total) AS cost, count(*) AS n,"
        " count(*) FILTER (WHERE l.cost_total IS NULL) AS unpriced"
        " FROM usage_ledger l WHERE " RANGE_SQL " GROUP BY 1)"
        " SELECT to_char(s.b, 'YYYY-MM-DD') AS day,"
        " CASE WHEN u.n IS NULL THEN 0 ELSE u.cost END AS cost_usd,"
        " coalesce(u.n, 0) AS requests,"
        " coalesce(u.unpriced, 0) AS unpriced_requests"
        " FROM generate_series(date_trunc($1::text, $2::date::timestamp),"
        " $3::date::timestamp, ('1 ' || $1::text)::interval) AS s(b)"
        " LEFT JOIN u ON u.b = s.b ORDER BY s.b", 4, pv);
}

static void chart_axes(adm_t *a, PGresult *r, double max, double slot)
{
    int n = PQntuples(r), k;
    int at[3] = {0, n / 2, n - 1};
    static const char *const side[3] = {"start", "middle", "end"};

    adm_printf(a, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
               "stroke=\"#888\"/>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
               "y2=\"%d\" stroke=\"#888\"/>\n", CH_L, CH_T + CH_PH,
               CH_L + CH_PW, CH_T + CH_PH, CH_L, CH_T, CH_L, CH_T + CH_PH);
    adm_printf(a, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
               "font-size=\"11\" class=\"max\">%s</text>\n", CH_L - 4,
               CH_T + 8, adm_escs(a->p, usd_d(a->p, max)));
    adm_printf(a, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
               "font-size=\"11\">$0.00</text>\n", CH_L - 4, CH_T + CH_PH);
    for (k = 0; k < 3; k++) {
        if (n < (k == 0 ? 1 : k == 1 ? 3 : 2))
            continue;           /* few bars: a date only once */
        /* start of the first slot, middle of the middle one, end of the
         * last one */
        adm_printf(a, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" "
                   "font-size=\"11\">", CH_L + slot * (at[k] + k * 0.5),
                   CH_H - 6, side[k]);
        adm_esc(a, adm_v(r, at[k], "day"));
        adm_puts(a, "</text>\n");
    }
}

/* One bar. A bucket with requests but no known price gets a grey stub, so
 * that it is not mistaken for an empty one; an empty one is an empty slot
 * (height 0). */
static void chart_bar(adm_t *a, PGresult *r, int i, double max, double slot)
{
    const char *cost = adm_v(r, i, "cost_usd");
    long long n = atoll(adm_v(r, i, "requests"));
    long long unpriced = atoll(adm_v(r, i, "unpriced_requests"));
    double h = cost && max > 0 ? num(cost) / max * CH_PH : 0;
    const char *what;

    if (!cost)
        h = 3;
    else if (num(cost) > 0 && h < 1)
        h = 1;                  /* a tiny spend is still not nothing */
    if (!n)
        what = "no requests";
    else
        what = apr_psprintf(a->p, "%s, %s request%s%s", rep_money(a->p, cost),
                            thousands_ll(a->p, n), n == 1 ? "" : "s",
                            cost && unpriced ? apr_pstrcat(a->p, " (",
                            thousands_ll(a->p, unpriced), " unpriced)", NULL)
                            : "");
    adm_printf(a, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\""
               " fill=\"%s\"><title>", CH_L + slot * i + slot * 0.15,
               CH_T + CH_PH - h, slot * 0.7, h, cost ? "#3b6fb6" : "#999");
    adm_esc(a, adm_v(r, i, "day"));
    adm_puts(a, ": ");
    adm_esc(a, what);
    adm_puts(a, "</title></rect>\n");
}

/* An inline SVG bar chart of series_q's rows: no script, a <title> per
 * bar as its tooltip, the aria-label naming the chart for screen readers.
 * An all-zero range draws empty slots (no division by a zero maximum). */
static void chart(adm_t *a, const char *id, const char *label, PGresult *r)
{
    int n = PQntuples(r), i;
    double max = 0, slot = (double)CH_PW / (n > 0 ? n : 1);

    for (i = 0; i < n; i++)
        if (num(adm_v(r, i, "cost_usd")) > max)
            max = num(adm_v(r, i, "cost_usd"));
    adm_printf(a, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
               "aria-label=\"%s\" id=\"%s\" class=\"chart\" viewBox=\"0 0 "
               "%d %d\" width=\"%d\" height=\"%d\">\n", adm_escs(a->p, label),
               adm_escs(a->p, id), CH_W, CH_H, CH_W, CH_H);
    chart_axes(a, r, max, slot);
    for (i = 0; i < n; i++)
        chart_bar(a, r, i, max, slot);
    adm_puts(a, "</svg>\n");
}

/* ---------------------------------------------------------- overview */

typedef struct {
    const char *org_given;
    const char *org;
} ov_t;

static void ov_form(adm_t *a, const void *filters)
{
    const ov_t *o = filters;

    if (a->org_id)
        return;
    adm_form_filter_begin(a, "/");
    adm_form_filter_org(a, o->org_given);
    adm_form_filter_end(a);
}

static PGresult *ov_totals(adm_t *a, const char *org)
{
    return adm_qx(a,
        "WITH t AS (SELECT date_trunc('day', now() AT TIME ZONE 'UTC')"
        " AT TIME ZONE 'UTC' AS day, date_trunc('month', now() AT TIME ZONE"
        " 'UTC') AT TIME ZONE 'UTC' AS month)"
        " SELECT CASE WHEN count(*) FILTER (WHERE l.created_at >= t.day) = 0"
        " THEN 0 ELSE sum(l.cost_total) FILTER (WHERE l.created_at >= t.day)"
        " END AS spend_today_usd,"
        " CASE WHEN count(*) = 0 THEN 0 ELSE sum(l.cost_total) END"
        " AS spend_month_usd,"
        " count(*) FILTER (WHERE l.created_at >= t.day) AS requests_today,"
        " count(*) AS requests_month,"
        " count(*) FILTER (WHERE l.created_at >= t.day AND l.cost_total"
        " IS NULL) AS unpriced_requests_today,"
        " count(*) FILTER (WHERE l.cost_total IS NULL)"
        " AS unpriced_requests_month"
        " FROM usage_ledger l, t WHERE l.created_at >= t.month"
        " AND ($1::bigint IS NULL OR l.org_id = $1::bigint)", 1, &org);
}

static PGresult *ov_models(adm_t *a, const char *org)
{
    return adm_qx(a,
        "SELECT l.model, count(*) AS requests, sum(l.cost_total) AS cost_usd,"
        " count(*) FILTER (WHERE l.cost_total IS NULL) AS unpriced_requests"
        " FROM usage_ledger l WHERE l.created_at >= date_trunc('month',"
        " now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        " AND ($1::bigint IS NULL OR l.org_id = $1::bigint)"
        " GROUP BY l.model ORDER BY cost_usd DESC NULLS LAST, requests DESC,"
        " l.model LIMIT 5", 1, &org);
}

static void ov_card(adm_t *a, PGresult *t, const char *title,
                    const char *when)
{
    const char *cost = adm_v(t, 0, apr_pstrcat(a->p, "spend_", when,
                                               "_usd", NULL));
    const char *n = adm_v(t, 0, apr_pstrcat(a->p, "requests_", when, NULL));
    const char *u = adm_v(t, 0, apr_pstrcat(a->p, "unpriced_requests_",
                                            when, NULL));

    adm_printf(a, "<div class=\"card\" id=\"spend-%s\" style=\"background:"
               "#fff;border:1px solid #d6dbe1;padding:.2em 1.2em\"><h2>%s</h2>"
               "<p class=\"big\" style=\"font-size:1.8em;margin:0\">", when,
               title);
    adm_esc(a, rep_money(a->p, cost));
    adm_printf(a, "</p><p>%s requests", rep_thousands(a->p, n));
    if (u && strcmp(u, "0"))
        adm_printf(a, ", %s unpriced", rep_thousands(a->p, u));
    adm_puts(a, "</p></div>\n");
}

static void ov_models_table(adm_t *a, const ov_t *o, PGresult *m)
{
    static const char *const cols[] = {"Model", "Requests", "Cost", NULL};
    int i;

    adm_puts(a, "<h2>Top models this month</h2>\n");
    if (!PQntuples(m)) {
        adm_puts(a, "<p class=\"empty\">No requests this month.</p>\n");
        return;
    }
    adm_puts(a, "<table class=\"list\" id=\"top-models\">");
    rep_th_row(a, cols);
    for (i = 0; i < PQntuples(m); i++) {
        const char *model = adm_v(m, i, "model");
        const char *qs = rep_qs_add(a->p, "", "org_id", o->org_given);

        adm_puts(a, "<tr><td>");
        rep_anchor(a, "/requests", rep_qs_add(a->p, qs, "model", model),
                   model);
        adm_puts(a, "</td>");
        rep_td_num(a, rep_thousands(a->p, adm_v(m, i, "requests")));
        td_cost(a, adm_v(m, i, "cost_usd"),
                atoll(adm_v(m, i, "unpriced_requests")));
        adm_puts(a, "</tr>\n");
    }
    adm_puts(a, "</tbody></table>\n");
}

static int ov_json(adm_t *a, PGresult *t, PGresult *m, PGresult *d)
{
    json_object *o = adm_row_json(t, 0);

    json_object_object_add(o, "top_models", adm_rows_json(m));
    json_object_object_add(o, "daily", adm_rows_json(d));
    return adm_json(a, 200, o);
}

/* GET / and /overview, /api/overview: this month at a glance. */
static int overview(adm_t *a)
{
    ov_t o = {adm_arg(a, "org_id"), NULL};
    const char *from = NULL, *to = NULL;
    PGresult *t, *m, *d;
    adm_bad_t b;
    int rc;

    if (rep_org_arg(a, o.org_given, &o.org, &b))
        return rep_refuse(a, &b, "Overview", "overview", ov_form, &o);
    if ((rc = default_range(a, &from, &to, NULL)))
        return rc;
    if (!(t = ov_totals(a, o.org)) || !(m = ov_models(a, o.org)) ||
        !(d = series_q(a, "day", from, to, o.org)))
        return a->status ? a->status : 500;
    if (a->api)
        return ov_json(a, t, m, d);
    adm_page_begin(a, "Overview", "overview");
    ov_form(a, &o);
    adm_puts(a, "<section class=\"cards\" style=\"display:flex;flex-wrap:"
                "wrap;gap:1em\">\n");
    ov_card(a, t, "Spend today", "today");
    ov_card(a, t, "Spend this month", "month");
    adm_puts(a, "</section>\n<h2>Daily spend, last 30 days (UTC)</h2>\n");
    chart(a, "spend-chart", "Daily spend, last 30 days", d);
    ov_models_table(a, &o, m);
    return adm_page_end(a);
}

/* ---------------------------------------------------------- costs */

/* What a cost report can be grouped by: fixed SQL fragments chosen by
 * name, so that no SQL is ever built from the request. */
typedef struct {
    const char *name;
    const char *title;
    const char *id_sql;         /* group_id */
    const char *name_sql;       /* group_name */
    const char *join;
    /* group_name when the report spans every org, or NULL: names are
     * unique within an org only, so two orgs' "alice" would be two rows
     * that read the same: "alice (org acme)". */
    const char *span_sql;
} group_t;

#define IN_ORG(name) name " || ' (org ' || go.name || ')'"
#define ORG_OF_G " LEFT JOIN organizations go ON go.id = g.org_id"

static const group_t groups[] = {
    {"org", "Organization", "l.org_id", "g.name",
     "LEFT JOIN organizations g ON g.id = l.org_id", NULL},
    {"team", "Team", "l.team_id", "g.name",
     "LEFT JOIN teams g ON g.id = l.team_id" ORG_OF_G, IN_ORG("g.name")},
    {"project", "Project", "l.project_id", "g.name",
     "LEFT JOIN projects g ON g.id = l.project_id" ORG_OF_G,
     IN_ORG("g.name")},
    {"end_user", "End-user", "l.end_user_id", "g.external_id",
     "LEFT JOIN end_users g ON g.id = l.end_user_id" ORG_OF_G,
     IN_ORG("g.external_id")},
    {"key", "Key", "l.key_id", "g.name",
     "LEFT JOIN virtual_keys g ON g.key_id = l.key_id", NULL},
    {"model", "Model", "NULL::bigint", "l.model", "", NULL},
    {"provider", "Provider", "NULL::bigint", "l.provider", "", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL}
};
static const char *const group_names[] = {"org", "team", "project",
    "end_user", "key", "model", "provider", NULL};
static const char *const buckets[] = {"day", "week", "month", NULL};

typedef struct {
    const char *org_given, *org;
    const char *group, *bucket, *from, *to;   /* as given, then completed */
    const group_t *g;
    long days;
} costs_t;

static void costs_form(adm_t *a, const void *filters)
{
    const costs_t *c = filters;

    adm_form_filter_begin(a, "/costs");
    adm_form_filter_org(a, c->org_given);
    adm_form_filter_select(a, "Group by", "group", group_names, c->group);
    adm_form_filter_select(a, "Bucket", "bucket", buckets, c->bucket);
    adm_form_filter_input(a, "From", "from", "date", c->from);
    adm_form_filter_input(a, "To", "to", "date", c->to);
    adm_form_filter_end(a);
}

static int costs_args(adm_t *a, costs_t *c, adm_bad_t *b)
{
    memset(c, 0, sizeof(*c));
    c->org_given = adm_arg(a, "org_id");
    c->group = adm_arg(a, "group") ? adm_arg(a, "group") : "model";
    c->bucket = adm_arg(a, "bucket") ? adm_arg(a, "bucket") : "day";
    c->from = adm_arg(a, "from");
    c->to = adm_arg(a, "to");
    for (c->g = groups; c->g->name; c->g++)
        if (!strcmp(c->g->name, c->group))
            break;
    if (!c->g->name)
        return adm_form_bad(a, b, 400, "group", "group must be one of org, "
                            "team, project, end_user, key, model, provider");
    if (!adm_form_one_of(c->bucket, buckets))
        return adm_form_bad(a, b, 400, "bucket",
                            "bucket must be day, week or month");
    if (rep_date_args(a, &c->from, &c->to, b))
        return -1;
    return rep_org_arg(a, c->org_given, &c->org, b);
}

/* Parse the report's query and complete its range. Returns 0, or the
 * status already answered. */
static int costs_prepare(adm_t *a, costs_t *c)
{
    adm_bad_t b;
    int rc;

    if (costs_args(a, c, &b))
        return rep_refuse(a, &b, "Costs", "costs", costs_form, c);
    if ((rc = default_range(a, &c->from, &c->to, &c->days)))
        return rc;
    if (c->days < 0) {          /* from given alone, after today */
        adm_form_bad(a, &b, 400, "from", "from must not be after to");
        return rep_refuse(a, &b, "Costs", "costs", costs_form, c);
    }
    return 0;
}

static PGresult *costs_q(adm_t *a, const costs_t *c)
{
    const char *pv[4] = {c->bucket, c->from, c->to, c->org};
    const char *sql = apr_pstrcat(a->p,
        "SELECT to_char(date_trunc($1::text, l.created_at AT TIME ZONE"
        " 'UTC'), 'YYYY-MM-DD') AS bucket, ", c->g->id_sql, " AS group_id, ",
        c->org || !c->g->span_sql ? c->g->name_sql : c->g->span_sql,
        " AS group_name, count(*) AS requests,"
        " sum(l.input_tokens)::bigint AS input_tokens,"
        " sum(l.output_tokens)::bigint AS output_tokens,"
        " trim_scale(sum(l.cost_total)) AS cost_usd,"  /* 0.0123, for CSV */
        " count(*) FILTER (WHERE l.cost_total IS NULL) AS unpriced_requests"
        " FROM usage_ledger l ", c->g->join, " WHERE " RANGE_SQL
        " GROUP BY 1, 2, 3 ORDER BY 1, 7 DESC NULLS LAST, 3, 2", NULL);

    return adm_qx(a, sql, 4, pv);
}

static int costs_json(adm_t *a, const costs_t *c, PGresult *r)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "group", json_object_new_string(c->group));
    json_object_object_add(o, "bucket", json_object_new_string(c->bucket));
    json_object_object_add(o, "from", json_object_new_string(c->from));
    json_object_object_add(o, "to", json_object_new_string(c->to));
    json_object_object_add(o, "data", adm_rows_json(r));
    return adm_json(a, 200, o);
}

/* A row's group for people: a key shows its name and public key_id; a row
 * without the dimension (e.g. no team) says so. */
static void td_group(adm_t *a, const costs_t *c, PGresult *r, int i)
{
    const char *name = adm_v(r, i, "group_name");
    const char *id = adm_v(r, i, "group_id");

    adm_puts(a, "<td>");
    if (!id && !name)
        adm_puts(a, "<em>(none)</em>");
    else
        adm_esc(a, name ? name : apr_pstrcat(a->p, "#", id, NULL));
    if (!strcmp(c->group, "key") && id && name) {
        adm_puts(a, " <code>");
        adm_esc(a, id);
        adm_puts(a, "</code>");
    }
    adm_puts(a, "</td>");
}

typedef struct {
    long long requests, in, out, unpriced;
    double cost;
    int priced;                 /* some row had a known cost */
} tot_t;

static void tot_add(tot_t *t, PGresult *r, int i)
{
    const char *cost = adm_v(r, i, "cost_usd");

    t->requests += atoll(adm_v(r, i, "requests"));
    t->in += atoll(adm_v(r, i, "input_tokens"));
    t->out += atoll(adm_v(r, i, "output_tokens"));
    t->unpriced += atoll(adm_v(r, i, "unpriced_requests"));
    t->cost += num(cost);
    t->priced |= cost != NULL;
}

static void costs_table(adm_t *a, const costs_t *c, PGresult *r)
{
    const char *cols[] = {"Bucket", c->g->title, "Requests", "Input tokens",
                          "Output tokens", "Cost", NULL};
    tot_t t = {0, 0, 0, 0, 0, 0};
    char sum[64];
    int i;

    if (!PQntuples(r)) {
        adm_puts(a, "<p class=\"empty\">No requests in this range.</p>\n");
        return;
    }
    adm_puts(a, "<table class=\"list\" id=\"costs\">");
    rep_th_row(a, cols);
    for (i = 0; i < PQntuples(r); i++) {
        adm_puts(a, "<tr>");
        rep_td(a, adm_v(r, i, "bucket"));
        td_group(a, c, r, i);
        rep_td_num(a, rep_thousands(a->p, adm_v(r, i, "requests")));
        rep_td_num(a, rep_thousands(a->p, adm_v(r, i, "input_tokens")));
        rep_td_num(a, rep_thousands(a->p, adm_v(r, i, "output_tokens")));
        td_cost(a, adm_v(r, i, "cost_usd"),
                atoll(adm_v(r, i, "unpriced_requests")));
        adm_puts(a, "</tr>\n");
        tot_add(&t, r, i);
    }
    adm_puts(a, "</tbody><tfoot><tr><th colspan=\"2\">Total</th>");
    rep_td_num(a, thousands_ll(a->p, t.requests));
    rep_td_num(a, thousands_ll(a->p, t.in));
    rep_td_num(a, thousands_ll(a->p, t.out));
    snprintf(sum, sizeof(sum), "%.9f", t.cost);
    td_cost(a, t.priced ? sum : NULL, t.unpriced);
    adm_puts(a, "</tr></tfoot></table>\n");
}

static const char *costs_qs(adm_t *a, const costs_t *c)
{
    const char *qs = rep_qs_add(a->p, "", "org_id", c->org_given);

    qs = rep_qs_add(a->p, qs, "group", c->group);
    qs = rep_qs_add(a->p, qs, "bucket", c->bucket);
    qs = rep_qs_add(a->p, qs, "from", c->from);
    return rep_qs_add(a->p, qs, "to", c->to);
}

/* The chart, unless the range has too many buckets to draw. */
static int costs_chart(adm_t *a, const costs_t *c)
{
    long per = !strcmp(c->bucket, "day") ? 1 : !strcmp(c->bucket, "week")
               ? 7 : 28;
    PGresult *s;

    if (c->days / per + 1 > MAX_BARS) {
        adm_puts(a, "<p class=\"note\">Too many buckets to chart; choose a "
                    "shorter range or a longer bucket.</p>\n");
        return 0;
    }
    if (!(s = series_q(a, c->bucket, c->from, c->to, c->org)))
        return -1;
    chart(a, "cost-chart", apr_psprintf(a->p, "Cost per %s, %s to %s",
          c->bucket, c->from, c->to), s);
    return 0;
}

/* GET /costs, /api/reports/costs. */
static int costs(adm_t *a)
{
    costs_t c;
    PGresult *r;
    int rc;

    if ((rc = costs_prepare(a, &c)))
        return rc;
    if (!(r = costs_q(a, &c)))
        return a->status ? a->status : 500;
    if (a->api)
        return costs_json(a, &c, r);
    adm_page_begin(a, "Costs", "costs");
    costs_form(a, &c);
    adm_puts(a, "<p>");
    rep_anchor(a, "/costs.csv", costs_qs(a, &c), "Download CSV");
    adm_puts(a, "</p>\n");
    if (costs_chart(a, &c))
        return a->status ? a->status : 500;
    costs_table(a, &c, r);
    return adm_page_end(a);
}

/* What a spreadsheet may split a line on (some locales split on ; or a
 * tab, not on ,) and what starts a formula there. */
#define CSV_SEPARATORS ",;\t\r\n"
#define CSV_FORMULA "=+-@\t\r"

/* One CSV cell (RFC 4180): quoted when it holds any separator or a quote,
 * quotes doubled. text: a name tenants typed, where a formula start gets a
 * ' in front, at the start of the cell and after every separator in it,
 * since a spreadsheet splitting on ; or tab starts a cell there too. The
 * gateway's own numbers and dates are written as they are: a credit of
 * -0.25 stays a number. */
static void csv_cell(adm_t *a, const char *s, int text, int last)
{
    int quote, after_sep = 1;

    s = s ? s : "";
    quote = strpbrk(s, CSV_SEPARATORS "\"") != NULL;
    if (quote)
        adm_puts(a, "\"");
    for (; *s; s++) {
        if (text && after_sep && strchr(CSV_FORMULA, *s))
            adm_puts(a, "'");
        adm_write(a, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
        after_sep = strchr(CSV_SEPARATORS, *s) != NULL;
    }
    if (quote)
        adm_puts(a, "\"");
    adm_puts(a, last ? "\r\n" : ",");
}

/* GET /costs.csv: the report's rows as a spreadsheet download. */
static int costs_csv(adm_t *a)
{
    static const struct {
        const char *name;
        int text;               /* typed by people (a key's key_id too) */
    } cols[] = {{"bucket", 0}, {"group_id", 1}, {"group_name", 1},
        {"requests", 0}, {"input_tokens", 0}, {"output_tokens", 0},
        {"cost_usd", 0}, {"unpriced_requests", 0}, {NULL, 0}};
    costs_t c;
    PGresult *r;
    int rc, i, k;

    if ((rc = costs_prepare(a, &c)))
        return rc;
    if (!(r = costs_q(a, &c)))
        return a->status ? a->status : 500;
    a->content_type = "text/csv; charset=utf-8";
    apr_table_set(a->headers, "Content-Disposition", apr_psprintf(a->p,
                  "attachment; filename=\"aura-costs-%s-%s.csv\"", c.from,
                  c.to));
    for (k = 0; cols[k].name; k++)
        csv_cell(a, cols[k].name, 0, !cols[k + 1].name);
    for (i = 0; i < PQntuples(r); i++)
        for (k = 0; cols[k].name; k++)
            csv_cell(a, adm_v(r, i, cols[k].name), cols[k].text,
                     !cols[k + 1].name);
    a->status = 200;
    return 200;
}

/* ---------------------------------------------------------- routes */

/* The API paths are matched without their "/api" prefix (a->api tells the
 * handler to answer JSON): /api/overview, /api/reports/costs. */
const adm_route_t adm_report_routes[] = {
    {"GET", "/", overview, 0},
    {"GET", "/overview", overview, 0},
    {"GET", "/costs", costs, 0},
    {"GET", "/costs.csv", costs_csv, 0},
    {"GET", "/reports/costs", costs, 0},
    {NULL, NULL, NULL, 0}
};
