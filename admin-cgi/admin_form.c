/*
 * admin_form.c - what every handler file needs to read input and to show
 * a form: refused input (adm_bad_t) and its answer, small input checks,
 * list filters from the query string, and the HTML of form controls and
 * filter bars.
 *
 * One copy of each, so that every page labels a field, marks the selected
 * choice and puts an error next to its field the same way (the browser
 * tests look for class "error" and the field names, whatever the page).
 * Values and labels are escaped here; callers pass plain text.
 */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/rand.h>

#include "admin.h"
#include "aura_vkey.h"

/* ---------------------------------------------------------- refusals */

int adm_form_bad(adm_t *a, adm_bad_t *b, int status, const char *field,
                 const char *fmt, ...)
{
    va_list ap;

    b->status = status;
    b->field = field;
    va_start(ap, fmt);                  /* printf's rules: %lld works */
    b->msg = adm_vfmt(a->p, fmt, ap);
    va_end(ap);
    return 1;
}

static const char *bad_type(int status)
{
    switch (status) {
    case 403: return "forbidden";
    case 404: return "not_found";
    case 409: return "conflict";
    default: return "invalid_request";
    }
}

int adm_form_refuse(adm_t *a, const adm_bad_t *b)
{
    return adm_error(a, b->status, bad_type(b->status), b->field, "%s",
                     b->msg);
}

void adm_form_field_error(adm_t *a, const adm_bad_t *b, const char *field)
{
    if (b && b->field && !strcmp(b->field, field))
        adm_form_error(a, field, b->msg);
}

void adm_form_top_error(adm_t *a, const adm_bad_t *b,
                        const char *const *shown)
{
    if (b && !(b->field && adm_form_one_of(b->field, shown)))
        adm_form_error(a, b->field, b->msg);
}

/* ---------------------------------------------------------- checks */

int adm_form_text_ok(const char *s, size_t max)
{
    size_t chars = 0;

    /* Forms, query strings and JSON bodies are valid UTF-8 already
     * (admin_http.c): counting lead bytes counts code points, as the
     * schema's length() does. */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            return 0;
        chars += (c & 0xc0) != 0x80;
    }
    return chars <= max;
}

int adm_form_one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

int adm_form_id_field(adm_t *a, adm_bad_t *b, const char *name, int required,
                      long long *id)
{
    const char *s = adm_field(a, name);

    *id = s ? adm_parse_id(s) : 0;
    if (s && !*id)
        return adm_form_bad(a, b, 400, name,
                            "%s must be a positive integer id", name);
    if (!s && required)
        return adm_form_bad(a, b, 400, name, "%s is required", name);
    return 0;
}

int adm_form_org_check(adm_t *a, adm_bad_t *b, long long org)
{
    const char *pv[1] = {adm_id(a, org)};
    PGresult *r;

    if (!adm_org_writable(a, org))
        return adm_form_bad(a, b, 400, "org_id",
                            "org_id: no organization %lld", org);
    if (!(r = adm_qx(a, "SELECT status FROM organizations WHERE id = $1",
                     1, pv)))
        return -1;
    if (!PQntuples(r))
        return adm_form_bad(a, b, 400, "org_id",
                            "org_id: no organization %lld", org);
    if (strcmp(adm_v(r, 0, "status"), "active"))
        return adm_form_bad(a, b, 400, "org_id",
                            "org_id: organization %lld is archived", org);
    return 0;
}

int adm_form_id_arg(adm_t *a, const char *name, const char **out)
{
    const char *s = adm_arg(a, name);

    *out = s && adm_parse_id(s) ? s : NULL;
    if (s && !*out)
        return adm_error(a, 400, "invalid_request", name,
                         "%s must be a positive integer id", name);
    return 0;
}

/* "a, b or c" */
static const char *words(apr_pool_t *p, const char *const *set)
{
    const char *s = set[0];

    for (set++; *set; set++)
        s = apr_pstrcat(p, s, set[1] ? ", " : " or ", *set, NULL);
    return s;
}

int adm_form_status_arg(adm_t *a, const char *const *set, const char *dflt,
                        const char **out)
{
    const char *st = adm_arg(a, "status");

    *out = st ? st : dflt;
    if (st && !adm_form_one_of(st, set))
        return adm_error(a, 400, "invalid_request", "status",
                         "status must be %s", words(a->p, set));
    return 0;
}

/* ---------------------------------------------------------- instants */

static int read_digits(const char **s, int n, int *out)
{
    int v = 0;

    for (; n > 0; n--, (*s)++) {
        if (**s < '0' || **s > '9')
            return -1;
        v = v * 10 + (**s - '0');
    }
    *out = v;
    return 0;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return days[m - 1] + (m == 2 && leap);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 1970). */
static long long civil_days(int y, int m, int d)
{
    long long days = 0;
    int i;

    for (i = 1970; i < y; i++)
        days += 365 + ((i % 4 == 0 && i % 100 != 0) || i % 400 == 0);
    for (i = 1; i < m; i++)
        days += month_days(y, i);
    return days + d - 1;
}

/* Time of day and zone after the date: "Thh:mm:ss[.frac](Z|+hh:mm)";
 * with `loose` (HTML forms) also "Thh:mm[:ss]" read as UTC. Seconds
 * from midnight UTC in *secs. */
static int parse_clock(const char *s, int loose, long long *secs)
{
    int h, mi, se = 0, oh = 0, om = 0, sign = 0;

    if (*s != 'T' && *s != 't' && *s != ' ')
        return -1;
    s++;
    if (read_digits(&s, 2, &h) || *s++ != ':' || read_digits(&s, 2, &mi))
        return -1;
    if (*s == ':') {
        s++;
        if (read_digits(&s, 2, &se))
            return -1;
    }
    if (*s == '.') {            /* fractions of a second: accepted, dropped */
        if (s[1] < '0' || s[1] > '9')
            return -1;
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s++ == '-' ? -1 : 1;
        if (read_digits(&s, 2, &oh) || *s++ != ':' || read_digits(&s, 2, &om))
            return -1;
    } else if (!loose) {
        return -1;              /* RFC 3339 requires the offset */
    }
    if (*s || h > 23 || mi > 59 || se > 59 || oh > 23 || om > 59)
        return -1;
    *secs = h * 3600LL + mi * 60 + se - sign * (oh * 3600LL + om * 60);
    return 0;
}

int adm_form_instant(const char *s, int loose, long long *t)
{
    int y, m, d;
    long long secs = 0;

    if (read_digits(&s, 4, &y) || *s++ != '-' || read_digits(&s, 2, &m)
        || *s++ != '-' || read_digits(&s, 2, &d))
        return -1;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return -1;
    if ((*s || !loose) && parse_clock(s, loose, &secs))
        return -1;
    *t = civil_days(y, m, d) * 86400 + secs;
    return 0;
}

/* ---------------------------------------------------------- controls */

static void label_for(adm_t *a, const char *name, const char *label)
{
    adm_printf(a, "<label for=\"f-%s\">", name);
    adm_esc(a, label);
    adm_puts(a, "</label>");
}

void adm_form_input(adm_t *a, const adm_bad_t *b, const char *label,
                    const char *name, const char *type, const char *value,
                    const char *attrs)
{
    label_for(a, name, label);
    adm_printf(a, "<input id=\"f-%s\" name=\"%s\" type=\"%s\" value=\"",
               name, name, type);
    adm_esc(a, value);
    adm_printf(a, "\"%s>\n", attrs ? attrs : "");
    adm_form_field_error(a, b, name);
}

static void choices(adm_t *a, const char *const *set, const char *sel)
{
    for (; *set; set++) {
        adm_printf(a, "<option%s>", sel && !strcmp(sel, *set)
                                    ? " selected" : "");
        adm_esc(a, *set);
        adm_puts(a, "</option>");
    }
}

void adm_form_select(adm_t *a, const adm_bad_t *b, const char *label,
                     const char *name, const char *const *set,
                     const char *sel)
{
    label_for(a, name, label);
    adm_printf(a, "<select id=\"f-%s\" name=\"%s\">", name, name);
    choices(a, set, sel);
    adm_puts(a, "</select>\n");
    adm_form_field_error(a, b, name);
}

void adm_form_options(adm_t *a, PGresult *rows, const char *sel)
{
    int i;

    for (i = 0; i < PQntuples(rows); i++) {
        const char *id = adm_v(rows, i, "id");
        const char *st = adm_v(rows, i, "status");

        if (st && strcmp(st, "active"))
            continue;
        adm_printf(a, "<option value=\"%s\"%s>", adm_escs(a->p, id),
                   sel && !strcmp(sel, id) ? " selected" : "");
        adm_esc(a, adm_v(rows, i, "label"));
        adm_puts(a, "</option>");
    }
}

void adm_form_id_select(adm_t *a, const adm_bad_t *b, const char *label,
                        const char *name, PGresult *rows, const char *sel,
                        const char *none)
{
    label_for(a, name, label);
    adm_printf(a, "<select id=\"f-%s\" name=\"%s\">", name, name);
    if (none) {
        adm_puts(a, "<option value=\"\">");
        adm_esc(a, none);
        adm_puts(a, "</option>");
    }
    adm_form_options(a, rows, sel);
    adm_puts(a, "</select>\n");
    adm_form_field_error(a, b, name);
}

void adm_form_id_choose(adm_t *a, const adm_bad_t *b, const char *label,
                        const char *name, PGresult *rows, const char *sel,
                        const char *any)
{
    label_for(a, name, label);
    adm_printf(a, "<select id=\"f-%s\" name=\"%s\" required>"
               "<option value=\"\">— choose —</option>", name, name);
    adm_printf(a, "<option value=\"*\"%s>",
               sel && !strcmp(sel, "*") ? " selected" : "");
    adm_esc(a, any);
    adm_puts(a, "</option>");
    adm_form_options(a, rows, sel);
    adm_puts(a, "</select>\n");
    adm_form_field_error(a, b, name);
}

void adm_form_hidden(adm_t *a, const char *name, const char *value)
{
    adm_puts(a, "<input type=\"hidden\" name=\"");
    adm_esc(a, name);
    adm_puts(a, "\" value=\"");
    adm_esc(a, value);
    adm_puts(a, "\">");
}

void adm_form_button_with(adm_t *a, const char *path, const char *label,
                          const char *name, const char *value)
{
    /* These actions cannot be undone (revoke, rotate, archive): the
     * button only unfolds a second one that does it. HTML's <details>
     * asks for confirmation without any script (the CSP allows none). */
    adm_puts(a, "<details class=\"confirm\"><summary>");
    adm_esc(a, label);
    adm_puts(a, "&hellip;</summary><form class=\"inline\" method=\"post\" "
                "action=\"");
    adm_esc(a, apr_pstrcat(a->p, a->base, path, NULL));
    adm_puts(a, "\">");
    adm_csrf_input(a);
    if (name)
        adm_form_hidden(a, name, value);
    adm_puts(a, "<button type=\"submit\">Yes, ");
    adm_esc(a, label);
    adm_puts(a, "</button></form></details> ");
}

void adm_form_button(adm_t *a, const char *path, const char *label)
{
    adm_form_button_with(a, path, label, NULL, NULL);
}

const char *adm_form_next(adm_t *a, const char *prefix)
{
    const char *s = a->api ? NULL : adm_field(a, "next");
    size_t n = strlen(prefix);

    /* adm_parse_id takes digits only: no "/", ".", "%" or "\\" can
     * follow the prefix, so the path stays this console's page. */
    if (!s || strncmp(s, prefix, n) || !adm_parse_id(s + n))
        return NULL;
    return s;
}

void adm_form_status_links(adm_t *a, const char *path,
                           const char *const *statuses)
{
    const char *to = adm_escs(a->p, apr_pstrcat(a->p, a->base, path, NULL));

    adm_puts(a, "<p>Show:");
    for (; *statuses; statuses++)
        adm_printf(a, " <a href=\"%s?status=%s\">%s</a>", to,
                   adm_escs(a->p, *statuses), adm_escs(a->p, *statuses));
    adm_puts(a, "</p>\n");
}

/* ---------------------------------------------------------- filter bars */

void adm_form_filter_begin(adm_t *a, const char *path)
{
    adm_puts(a, "<form method=\"get\" class=\"filters\" style=\"display:"
                "flex;flex-wrap:wrap;gap:0 1em;align-items:end\" action=\"");
    adm_esc(a, apr_pstrcat(a->p, a->base, path, NULL));
    adm_puts(a, "\">\n");
}

void adm_form_filter_input(adm_t *a, const char *label, const char *name,
                           const char *type, const char *value)
{
    adm_printf(a, "<label>%s <input type=\"%s\" name=\"%s\" value=\"",
               adm_escs(a->p, label), type, name);
    adm_esc(a, value);
    adm_puts(a, "\"></label>\n");
}

void adm_form_filter_select(adm_t *a, const char *label, const char *name,
                            const char *const *set, const char *cur)
{
    adm_printf(a, "<label>%s <select name=\"%s\">", adm_escs(a->p, label),
               name);
    choices(a, set, cur);
    adm_puts(a, "</select></label>\n");
}

void adm_form_filter_rows(adm_t *a, const char *label, const char *name,
                          PGresult *rows, const char *cur)
{
    adm_printf(a, "<label>%s <select name=\"%s\"><option value=\"\">all"
               "</option>", adm_escs(a->p, label), name);
    adm_form_options(a, rows, cur);
    adm_puts(a, "</select></label>\n");
}

void adm_form_filter_org(adm_t *a, const char *cur)
{
    PGresult *r;

    if (a->org_id)
        return;
    /* adm_q: a filter bar without the list still works */
    r = adm_q(a, "SELECT id, name || CASE WHEN status = 'active' THEN '' "
                 "ELSE ' (archived)' END AS label FROM organizations "
                 "ORDER BY status, name, id", 0, NULL);
    if (r)
        adm_form_filter_rows(a, "Organization", "org_id", r, cur);
}

void adm_form_filter_end(adm_t *a)
{
    adm_puts(a, "<button type=\"submit\">Show</button></form>\n");
}

/* ---------------------------------------------------------- one-time */

#define ONCE_BYTES 16

const char *adm_form_once_new(adm_t *a)
{
    unsigned char r[ONCE_BYTES];

    if (RAND_bytes(r, sizeof(r)) != 1) {
        /* the form still works, it just cannot tell a repeat */
        fprintf(stderr, "aura-admin: no randomness for a form_id\n");
        return NULL;
    }
    return aura_hex(a->p, r, sizeof(r));
}

int adm_form_once_read(adm_t *a, adm_bad_t *b, const char **id)
{
    const char *s = a->api ? NULL : adm_field(a, "form_id");

    *id = s;
    if (s && (strlen(s) != 2 * ONCE_BYTES
              || strspn(s, "0123456789abcdef") != 2 * ONCE_BYTES))
        return adm_form_bad(a, b, 400, "form_id", "form_id is not one this "
                            "console made: reload the form and submit it "
                            "again");
    return 0;
}

long long adm_form_once_seen(adm_t *a, const char *id, const char *action,
                             long long org)
{
    const char *pv[4] = {id, a->user, action, adm_id(a, org)};
    PGresult *r;

    /* Its own statement: a READ COMMITTED statement sees what committed
     * before it began, so the look-up must begin after the lock is held
     * (a twin request that held it has committed its audit row by then). */
    if (!adm_qx(a, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, pv)
        || !(r = adm_qx(a, "SELECT object_id FROM audit_log WHERE org_id = "
                           "$4::bigint AND action = $3 AND actor = $2 AND "
                           "detail->>'form_id' = $1 ORDER BY id LIMIT 1",
                        4, pv)))
        return -1;
    return PQntuples(r) ? adm_parse_id(adm_v(r, 0, "object_id")) : 0;
}
