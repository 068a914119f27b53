/*
 * admin_reports.c - the console's reports: overview, cost report (HTML,
 * JSON and CSV), request log and audit log. Every route is a read-only GET.
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

#include "admin.h"

/* A timestamptz as the API's "YYYY-MM-DDTHH:MM:SSZ", in SQL. */
#define UTC_TS(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* $2, $3: first and last UTC day (inclusive); $4: org, NULL = every org. */
#define RANGE_SQL \
    "l.created_at >= $2::date::timestamp AT TIME ZONE 'UTC' " \
    "AND l.created_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC' " \
    "AND ($4::bigint IS NULL OR l.org_id = $4::bigint)"

#define MAX_BARS 400        /* beyond this a bar chart says nothing */

/* ---------------------------------------------------------- input */

/* Why a request's filters were refused: 400 (a bad field) or 404 (an org
 * outside the caller's scope). */
typedef struct {
    int status;
    const char *field;
    const char *msg;
} bad_t;

static int bad(bad_t *b, int status, const char *field, const char *msg)
{
    b->status = status;
    b->field = field;
    b->msg = msg;
    return -1;
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

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
static int text_arg(adm_t *a, const char *name, size_t max, const char **out,
                    bad_t *b)
{
    const char *s = adm_arg(a, name), *c;

    *out = s;
    if (!s)
        return 0;
    for (c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            break;
    if (*c || strlen(s) > max)
        return bad(b, 400, name, apr_psprintf(a->p, "%s must be printable "
                   "text of at most %d bytes", name, (int)max));
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

static int page_args(adm_t *a, long *limit, long *offset, bad_t *b)
{
    if (int_arg(a, "limit", 1, 500, 100, limit))
        return bad(b, 400, "limit", "limit must be an integer from 1 to 500");
    if (int_arg(a, "offset", 0, 1000000000L, 0, offset))
        return bad(b, 400, "offset", "offset must be a non-negative integer");
    return 0;
}

/* from/to as given (inclusive UTC dates, either may be absent). */
static int date_args(adm_t *a, const char **from, const char **to, bad_t *b)
{
    *from = adm_arg(a, "from");
    *to = adm_arg(a, "to");
    if (*from && !valid_date(*from))
        return bad(b, 400, "from", "from must be a date YYYY-MM-DD");
    if (*to && !valid_date(*to))
        return bad(b, 400, "to", "to must be a date YYYY-MM-DD");
    if (*from && *to && strcmp(*from, *to) > 0)
        return bad(b, 400, "from", "from must not be after to");
    return 0;
}

/* The org a report covers, as a query parameter (NULL = every org). A
 * caller confined to one org always gets that org, and asking for another
 * answers 404, so that the other's existence is not revealed. */
static int org_arg(adm_t *a, const char *given, const char **org, bad_t *b)
{
    long long id;

    *org = adm_scope_param(a);
    if (!given)
        return 0;
    if (!(id = adm_parse_id(given)))
        return bad(b, 400, "org_id", "org_id must be a positive integer");
    if (!adm_org_visible(a, id))
        return bad(b, 404, "org_id", "no such organization");
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
static const char *thousands(apr_pool_t *p, const char *digits)
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
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", v);  /* apr_psprintf has no %lld */
    return thousands(p, buf);
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
    return apr_pstrcat(p, "$", thousands(p, buf), ".", dot + 1, NULL);
}

/* A numeric column as dollars; NULL (no price known) says so. */
static const char *money(apr_pool_t *p, const char *v)
{
    return v ? usd_d(p, strtod(v, NULL)) : "unpriced";
}

static double num(const char *v)
{
    return v ? strtod(v, NULL) : 0;
}

/* "&name=value", URL-encoded, when value is set: links that keep a
 * report's filters. */
static const char *qs_add(apr_pool_t *p, const char *qs, const char *name,
                          const char *v)
{
    if (!v || !*v)
        return qs;
    return apr_pstrcat(p, qs, *qs ? "&" : "", name, "=",
                       apr_pescape_urlencoded(p, v), NULL);
}

static void anchor(adm_t *a, const char *path, const char *qs, const char *text)
{
    adm_puts(a, "<a href=\"");
    adm_esc(a, apr_pstrcat(a->p, a->base, path, *qs ? "?" : "", qs, NULL));
    adm_puts(a, "\">");
    adm_esc(a, text);
    adm_puts(a, "</a>");
}

static void td(adm_t *a, const char *s)
{
    adm_puts(a, "<td>");
    adm_esc(a, s);
    adm_puts(a, "</td>");
}

static void td_num(adm_t *a, const char *s)
{
    adm_puts(a, "<td class=\"num\">");
    adm_esc(a, s);
    adm_puts(a, "</td>");
}

/* A cost cell: the priced sum, plus how many requests had no price. */
static void td_cost(adm_t *a, const char *cost, long long unpriced)
{
    adm_puts(a, "<td class=\"num\">");
    adm_esc(a, money(a->p, cost));
    if (cost && unpriced > 0)
        adm_printf(a, " <span class=\"unpriced\">+ %lld unpriced</span>",
                   unpriced);
    adm_puts(a, "</td>");
}

static void th_row(adm_t *a, const char *const *cols)
{
    adm_puts(a, "<thead><tr>");
    for (; *cols; cols++)
        adm_printf(a, "<th>%s</th>", *cols);
    adm_puts(a, "</tr></thead>\n<tbody>\n");
}

/* ---------------------------------------------------------- forms */

static void input(adm_t *a, const char *label, const char *name,
                  const char *type, const char *v)
{
    adm_printf(a, "<label>%s <input type=\"%s\" name=\"%s\" value=\"",
               label, type, name);
    adm_esc(a, v);
    adm_puts(a, "\"></label>\n");
}

static void select_of(adm_t *a, const char *label, const char *name,
                      const char *const *set, const char *cur)
{
    adm_printf(a, "<label>%s <select name=\"%s\">", label, name);
    for (; *set; set++)
        adm_printf(a, "<option%s>%s</option>",
                   cur && !strcmp(cur, *set) ? " selected" : "", *set);
    adm_puts(a, "</select></label>\n");
}

/* The org chooser, for callers who see more than one org. */
static void org_select(adm_t *a, const char *cur)
{
    PGresult *r;
    int i;

    if (a->org_id)
        return;
    r = adm_q(a, "SELECT id, name, status FROM organizations"
                 " ORDER BY status, name, id", 0, NULL);
    if (!r)
        return;             /* the report still works without the list */
    adm_puts(a, "<label>Organization <select name=\"org_id\">"
                "<option value=\"\">all</option>");
    for (i = 0; i < PQntuples(r); i++) {
        const char *id = adm_v(r, i, "id");
        adm_printf(a, "<option value=\"%s\"%s>", adm_escs(a->p, id),
                   cur && !strcmp(cur, id) ? " selected" : "");
        adm_esc(a, adm_v(r, i, "name"));
        if (strcmp(adm_v(r, i, "status"), "active"))
            adm_puts(a, " (archived)");
        adm_puts(a, "</option>");
    }
    adm_puts(a, "</select></label>\n");
}

static void form_begin(adm_t *a, const char *path)
{
    adm_puts(a, "<form method=\"get\" class=\"filters\" style=\"display:"
                "flex;flex-wrap:wrap;gap:0 1em;align-items:end\" action=\"");
    adm_esc(a, apr_pstrcat(a->p, a->base, path, NULL));
    adm_puts(a, "\">\n");
}

static void form_end(adm_t *a)
{
    adm_puts(a, "<button type=\"submit\">Show</button></form>\n");
}

typedef void (*form_fn)(adm_t *a, const void *filters);

/* Refused filters: the API's error object; in HTML, for a bad field, the
 * page's form again with the values kept and the message by it. */
static int refuse(adm_t *a, const bad_t *b, const char *title,
                  const char *nav, form_fn form, const void *filters)
{
    if (a->api || b->status != 400)
        return adm_error(a, b->status, b->status == 404 ? "not_found"
                         : "invalid_request", b->field, "%s", b->msg);
    adm_page_begin(a, title, nav);
    adm_form_error(a, b->field, b->msg);
    form(a, filters);
    a->status = 400;
    return adm_page_end(a);
}

/* A list answer: the first `limit` rows (one more was fetched to learn
 * whether another page exists). */
static int list_json(adm_t *a, PGresult *r, long limit, long offset)
{
    json_object *o = json_object_new_object(), *d = json_object_new_array();
    int i, n = PQntuples(r);

    for (i = 0; i < n && i < limit; i++)
        json_object_array_add(d, adm_row_json(r, i));
    json_object_object_add(o, "data", d);
    json_object_object_add(o, "limit", json_object_new_int64(limit));
    json_object_object_add(o, "offset", json_object_new_int64(offset));
    json_object_object_add(o, "has_more", json_object_new_boolean(n > limit));
    return adm_json(a, 200, o);
}

/* Newer / older links for a list page; qs holds its filters. */
static void pager(adm_t *a, const char *path, const char *qs, long limit,
                  long offset, int more)
{
    const char *lim = apr_psprintf(a->p, "%s%slimit=%ld", qs, *qs ? "&" : "",
                                   limit);

    if (offset <= 0 && !more)
        return;
    adm_puts(a, "<nav class=\"pager\">");
    if (offset > 0)
        anchor(a, path, apr_psprintf(a->p, "%s&offset=%ld", lim,
             offset > limit ? offset - limit : 0), "\xe2\x86\x90 Newer");
    if (offset > 0 && more)
        adm_puts(a, " | ");
    if (more)
        anchor(a, path, apr_psprintf(a->p, "%s&offset=%ld", lim,
             offset + limit), "Older \xe2\x86\x92");
    adm_puts(a, "</nav>\n");
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
        what = apr_psprintf(a->p, "%s, %s request%s%s", money(a->p, cost),
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
    form_begin(a, "/");
    org_select(a, o->org_given);
    form_end(a);
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
    adm_esc(a, money(a->p, cost));
    adm_printf(a, "</p><p>%s requests", thousands(a->p, n));
    if (u && strcmp(u, "0"))
        adm_printf(a, ", %s unpriced", thousands(a->p, u));
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
    th_row(a, cols);
    for (i = 0; i < PQntuples(m); i++) {
        const char *model = adm_v(m, i, "model");
        adm_puts(a, "<tr><td>");
        anchor(a, "/requests", qs_add(a->p, qs_add(a->p, "", "org_id",
             o->org_given), "model", model), model);
        adm_puts(a, "</td>");
        td_num(a, thousands(a->p, adm_v(m, i, "requests")));
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
    bad_t b;
    int rc;

    if (org_arg(a, o.org_given, &o.org, &b))
        return refuse(a, &b, "Overview", "overview", ov_form, &o);
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
} group_t;

static const group_t groups[] = {
    {"org", "Organization", "l.org_id", "g.name",
     "LEFT JOIN organizations g ON g.id = l.org_id"},
    {"team", "Team", "l.team_id", "g.name",
     "LEFT JOIN teams g ON g.id = l.team_id"},
    {"project", "Project", "l.project_id", "g.name",
     "LEFT JOIN projects g ON g.id = l.project_id"},
    {"end_user", "End-user", "l.end_user_id", "g.external_id",
     "LEFT JOIN end_users g ON g.id = l.end_user_id"},
    {"key", "Key", "l.key_id", "g.name",
     "LEFT JOIN virtual_keys g ON g.key_id = l.key_id"},
    {"model", "Model", "NULL::bigint", "l.model", ""},
    {"provider", "Provider", "NULL::bigint", "l.provider", ""},
    {NULL, NULL, NULL, NULL, NULL}
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

    form_begin(a, "/costs");
    org_select(a, c->org_given);
    select_of(a, "Group by", "group", group_names, c->group);
    select_of(a, "Bucket", "bucket", buckets, c->bucket);
    input(a, "From", "from", "date", c->from);
    input(a, "To", "to", "date", c->to);
    form_end(a);
}

static int costs_args(adm_t *a, costs_t *c, bad_t *b)
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
        return bad(b, 400, "group", "group must be one of org, team, "
                   "project, end_user, key, model, provider");
    if (!one_of(c->bucket, buckets))
        return bad(b, 400, "bucket", "bucket must be day, week or month");
    if (date_args(a, &c->from, &c->to, b))
        return -1;
    return org_arg(a, c->org_given, &c->org, b);
}

/* Parse the report's query and complete its range. Returns 0, or the
 * status already answered. */
static int costs_prepare(adm_t *a, costs_t *c)
{
    bad_t b;
    int rc;

    if (costs_args(a, c, &b))
        return refuse(a, &b, "Costs", "costs", costs_form, c);
    if ((rc = default_range(a, &c->from, &c->to, &c->days)))
        return rc;
    if (c->days < 0) {          /* from given alone, after today */
        bad(&b, 400, "from", "from must not be after to");
        return refuse(a, &b, "Costs", "costs", costs_form, c);
    }
    return 0;
}

static PGresult *costs_q(adm_t *a, const costs_t *c)
{
    const char *pv[4] = {c->bucket, c->from, c->to, c->org};
    const char *sql = apr_pstrcat(a->p,
        "SELECT to_char(date_trunc($1::text, l.created_at AT TIME ZONE"
        " 'UTC'), 'YYYY-MM-DD') AS bucket, ", c->g->id_sql, " AS group_id, ",
        c->g->name_sql, " AS group_name, count(*) AS requests,"
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
    th_row(a, cols);
    for (i = 0; i < PQntuples(r); i++) {
        adm_puts(a, "<tr>");
        td(a, adm_v(r, i, "bucket"));
        td_group(a, c, r, i);
        td_num(a, thousands(a->p, adm_v(r, i, "requests")));
        td_num(a, thousands(a->p, adm_v(r, i, "input_tokens")));
        td_num(a, thousands(a->p, adm_v(r, i, "output_tokens")));
        td_cost(a, adm_v(r, i, "cost_usd"),
                atoll(adm_v(r, i, "unpriced_requests")));
        adm_puts(a, "</tr>\n");
        tot_add(&t, r, i);
    }
    adm_puts(a, "</tbody><tfoot><tr><th colspan=\"2\">Total</th>");
    td_num(a, thousands_ll(a->p, t.requests));
    td_num(a, thousands_ll(a->p, t.in));
    td_num(a, thousands_ll(a->p, t.out));
    snprintf(sum, sizeof(sum), "%.9f", t.cost);
    td_cost(a, t.priced ? sum : NULL, t.unpriced);
    adm_puts(a, "</tr></tfoot></table>\n");
}

static const char *costs_qs(adm_t *a, const costs_t *c)
{
    const char *qs = qs_add(a->p, "", "org_id", c->org_given);

    qs = qs_add(a->p, qs, "group", c->group);
    qs = qs_add(a->p, qs, "bucket", c->bucket);
    qs = qs_add(a->p, qs, "from", c->from);
    return qs_add(a->p, qs, "to", c->to);
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
    anchor(a, "/costs.csv", costs_qs(a, &c), "Download CSV");
    adm_puts(a, "</p>\n");
    if (costs_chart(a, &c))
        return a->status ? a->status : 500;
    costs_table(a, &c, r);
    return adm_page_end(a);
}

/* One CSV cell (RFC 4180). A cell a spreadsheet would read as a formula
 * (= + - @, or a leading tab or CR) gets a ' in front: the names in it
 * were typed by tenants. */
static void csv_cell(adm_t *a, const char *s, int last)
{
    int quote;

    s = s ? s : "";
    quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        adm_puts(a, "\"");
    if (*s && strchr("=+-@\t\r", *s))
        adm_puts(a, "'");
    for (; *s; s++)
        adm_write(a, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
    if (quote)
        adm_puts(a, "\"");
    adm_puts(a, last ? "\r\n" : ",");
}

/* GET /costs.csv: the report's rows as a spreadsheet download. */
static int costs_csv(adm_t *a)
{
    static const char *const cols[] = {"bucket", "group_id", "group_name",
        "requests", "input_tokens", "output_tokens", "cost_usd",
        "unpriced_requests", NULL};
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
    for (k = 0; cols[k]; k++)
        csv_cell(a, cols[k], !cols[k + 1]);
    for (i = 0; i < PQntuples(r); i++)
        for (k = 0; cols[k]; k++)
            csv_cell(a, adm_v(r, i, cols[k]), !cols[k + 1]);
    a->status = 200;
    return 200;
}

/* ---------------------------------------------------------- requests */

static const char *const statuses[] = {"completed", "incomplete", "failed",
                                       NULL};

typedef struct {
    const char *org_given, *org, *key_id, *model, *provider, *status;
    const char *from, *to;
    long limit, offset;
} reqs_t;

static void reqs_form(adm_t *a, const void *filters)
{
    const reqs_t *f = filters;
    static const char *const st[] = {"", "completed", "incomplete", "failed",
                                     NULL};

    form_begin(a, "/requests");
    org_select(a, f->org_given);
    input(a, "Key id", "key_id", "text", f->key_id);
    input(a, "Model", "model", "text", f->model);
    input(a, "Provider", "provider", "text", f->provider);
    select_of(a, "Status", "status", st, f->status);
    input(a, "From", "from", "date", f->from);
    input(a, "To", "to", "date", f->to);
    form_end(a);
}

static int key_id_ok(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789");
    return n == 12 && !s[n];
}

static int reqs_args(adm_t *a, reqs_t *f, bad_t *b)
{
    memset(f, 0, sizeof(*f));
    f->org_given = adm_arg(a, "org_id");
    f->key_id = adm_arg(a, "key_id");
    f->status = adm_arg(a, "status");
    f->limit = 100;
    /* The key's public id only: refuse anything else without echoing it,
     * in case someone pasted a whole key. */
    if (f->key_id && !key_id_ok(f->key_id))
        return bad(b, 400, "key_id", "key_id must be a key's 12-character "
                   "public id (letters a-z and digits)");
    if (f->status && !one_of(f->status, statuses))
        return bad(b, 400, "status",
                   "status must be completed, incomplete or failed");
    if (text_arg(a, "model", 200, &f->model, b) ||
        text_arg(a, "provider", 200, &f->provider, b) ||
        date_args(a, &f->from, &f->to, b) ||
        page_args(a, &f->limit, &f->offset, b))
        return -1;
    return org_arg(a, f->org_given, &f->org, b);
}

static PGresult *reqs_q(adm_t *a, const reqs_t *f)
{
    const char *pv[9] = {f->org, f->key_id, f->model, f->provider, f->status,
        f->from, f->to, apr_ltoa(a->p, f->limit + 1),
        apr_ltoa(a->p, f->offset)};

    return adm_qx(a,
        "SELECT l.request_id, " UTC_TS("l.created_at") " AS created_at,"
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

static const char *reqs_qs(adm_t *a, const reqs_t *f)
{
    const char *qs = qs_add(a->p, "", "org_id", f->org_given);

    qs = qs_add(a->p, qs, "key_id", f->key_id);
    qs = qs_add(a->p, qs, "model", f->model);
    qs = qs_add(a->p, qs, "provider", f->provider);
    qs = qs_add(a->p, qs, "status", f->status);
    qs = qs_add(a->p, qs, "from", f->from);
    return qs_add(a->p, qs, "to", f->to);
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
    td(a, adm_v(r, i, "created_at"));
    td(a, adm_v(r, i, "org_name"));
    td_key(a, r, i);
    td(a, adm_v(r, i, "end_user"));
    td(a, adm_v(r, i, "model"));
    td(a, adm_v(r, i, "provider"));
    td_num(a, thousands(a->p, adm_v(r, i, "input_tokens")));
    td_num(a, thousands(a->p, adm_v(r, i, "output_tokens")));
    td_num(a, cost ? money(a->p, cost) : strcmp(adm_v(r, i, "cost_status"),
           "no_usage") ? "unpriced" : "no usage");
    td_num(a, lat ? apr_pstrcat(a->p, thousands(a->p, lat), " ms", NULL)
                  : NULL);
    td(a, apr_pstrcat(a->p, adm_v(r, i, "status"), " ",
                      adm_v(r, i, "http_status"),
                      hit && !strcmp(hit, "t") ? " (cache)" : "", NULL));
    adm_puts(a, "</tr>\n");
}

/* GET /requests, /api/requests: the ledger, newest first. */
static int requests(adm_t *a)
{
    static const char *const cols[] = {"Time (UTC)", "Org", "Key",
        "End-user", "Model", "Provider", "Input", "Output", "Cost",
        "Latency", "Status", NULL};
    reqs_t f;
    PGresult *r;
    bad_t b;
    int i;

    if (reqs_args(a, &f, &b))
        return refuse(a, &b, "Requests", "requests", reqs_form, &f);
    if (!(r = reqs_q(a, &f)))
        return a->status ? a->status : 500;
    if (a->api)
        return list_json(a, r, f.limit, f.offset);
    adm_page_begin(a, "Requests", "requests");
    reqs_form(a, &f);
    if (!PQntuples(r)) {
        adm_puts(a, "<p class=\"empty\">No requests match.</p>\n");
    } else {
        adm_puts(a, "<table class=\"list\" id=\"requests\">");
        th_row(a, cols);
        for (i = 0; i < PQntuples(r) && i < f.limit; i++)
            reqs_row(a, r, i);
        adm_puts(a, "</tbody></table>\n");
    }
    pager(a, "/requests", reqs_qs(a, &f), f.limit, f.offset,
          PQntuples(r) > f.limit);
    return adm_page_end(a);
}

/* ---------------------------------------------------------- audit */

typedef struct {
    const char *org_given, *org, *actor, *action;
    long limit, offset;
} audit_t;

static void audit_form(adm_t *a, const void *filters)
{
    const audit_t *f = filters;

    form_begin(a, "/audit");
    org_select(a, f->org_given);
    input(a, "Actor", "actor", "text", f->actor);
    input(a, "Action", "action", "text", f->action);
    form_end(a);
}

static int audit_args(adm_t *a, audit_t *f, bad_t *b)
{
    memset(f, 0, sizeof(*f));
    f->org_given = adm_arg(a, "org_id");
    f->limit = 100;
    if (text_arg(a, "actor", 200, &f->actor, b) ||
        text_arg(a, "action", 100, &f->action, b) ||
        page_args(a, &f->limit, &f->offset, b))
        return -1;
    return org_arg(a, f->org_given, &f->org, b);
}

/* action matches exactly, or as a family: "key" finds key.create,
 * key.revoke... (no LIKE, so no wildcard in the input can widen it). */
static PGresult *audit_q(adm_t *a, const audit_t *f)
{
    const char *pv[5] = {f->org, f->actor, f->action,
        apr_ltoa(a->p, f->limit + 1), apr_ltoa(a->p, f->offset)};

    return adm_qx(a,
        "SELECT au.id, " UTC_TS("au.at") " AS at, au.actor, au.action,"
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

static void audit_row(adm_t *a, PGresult *r, int i)
{
    const char *oid = adm_v(r, i, "object_id");

    adm_puts(a, "<tr>");
    td(a, adm_v(r, i, "at"));
    td(a, adm_v(r, i, "actor"));
    td(a, adm_v(r, i, "action"));
    td(a, apr_pstrcat(a->p, adm_v(r, i, "object_type"), oid ? " #" : "",
                      oid, NULL));
    td(a, adm_v(r, i, "org_name"));
    adm_puts(a, "<td><code>");
    adm_esc(a, adm_v(r, i, "detail"));
    adm_puts(a, "</code></td>");
    td(a, adm_v(r, i, "remote_addr"));
    adm_puts(a, "</tr>\n");
}

/* GET /audit, /api/audit: who changed what, newest first. */
static int audit(adm_t *a)
{
    static const char *const cols[] = {"Time (UTC)", "Actor", "Action",
        "Object", "Org", "Detail", "From", NULL};
    audit_t f;
    PGresult *r;
    bad_t b;
    int i;

    if (audit_args(a, &f, &b))
        return refuse(a, &b, "Audit log", "audit", audit_form, &f);
    if (!(r = audit_q(a, &f)))
        return a->status ? a->status : 500;
    if (a->api)
        return list_json(a, r, f.limit, f.offset);
    adm_page_begin(a, "Audit log", "audit");
    audit_form(a, &f);
    if (!PQntuples(r)) {
        adm_puts(a, "<p class=\"empty\">No audit entries match.</p>\n");
    } else {
        adm_puts(a, "<table class=\"list\" id=\"audit\">");
        th_row(a, cols);
        for (i = 0; i < PQntuples(r) && i < f.limit; i++)
            audit_row(a, r, i);
        adm_puts(a, "</tbody></table>\n");
    }
    pager(a, "/audit", qs_add(a->p, qs_add(a->p, qs_add(a->p, "", "org_id",
          f.org_given), "actor", f.actor), "action", f.action), f.limit,
          f.offset, PQntuples(r) > f.limit);
    return adm_page_end(a);
}

/* ---------------------------------------------------------- routes */

/* The API paths are matched without their "/api" prefix (a->api tells the
 * handler to answer JSON): /api/overview, /api/reports/costs,
 * /api/requests, /api/audit. */
const adm_route_t adm_report_routes[] = {
    {"GET", "/", overview, 0},
    {"GET", "/overview", overview, 0},
    {"GET", "/costs", costs, 0},
    {"GET", "/costs.csv", costs_csv, 0},
    {"GET", "/reports/costs", costs, 0},
    {"GET", "/requests", requests, 0},
    {"GET", "/audit", audit, 0},
    {NULL, NULL, NULL, 0}
};
