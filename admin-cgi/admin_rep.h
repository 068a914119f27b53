/*
 * admin_rep.h - what the report pages (admin_reports.c: overview, costs)
 * share with the logs (admin_logs.c: requests, audit): their query
 * filters, the answer to refused filters, and table cells for people.
 * Private to those two files; everything else uses admin.h.
 */
#ifndef AURA_ADMIN_REP_H
#define AURA_ADMIN_REP_H

#include "admin.h"

/* A timestamptz as the API's "YYYY-MM-DDTHH:MM:SSZ", in SQL. */
#define REP_UTC_TS(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* ---------------------------------------------------------- filters
 * Each returns 0, or 1 with *b: 400 (a bad field) or 404 (an org outside
 * the caller's scope). */

/* A free-text filter: at most max bytes, no control characters. */
int rep_text_arg(adm_t *a, const char *name, size_t max, const char **out,
                 adm_bad_t *b);
/* limit 1-500 (default 100) and offset >= 0 (default 0). */
int rep_page_args(adm_t *a, long *limit, long *offset, adm_bad_t *b);
/* from / to as given: inclusive UTC dates YYYY-MM-DD, either may be
 * absent, from not after to. */
int rep_date_args(adm_t *a, const char **from, const char **to,
                  adm_bad_t *b);
/* The org a report covers as a query parameter (NULL = every org): a
 * caller confined to one org always gets that org, and naming another
 * answers 404, so that the other's existence is not revealed. */
int rep_org_arg(adm_t *a, const char *given, const char **org,
                adm_bad_t *b);

/* A page's filter bar, drawn from its parsed filters. */
typedef void (*rep_form_fn)(adm_t *a, const void *filters);
/* Refused filters: the API's error object; in HTML, for a bad field, the
 * page's filter bar again with the values kept and the message above it.
 * Returns the status. */
int rep_refuse(adm_t *a, const adm_bad_t *b, const char *title,
               const char *nav, rep_form_fn form, const void *filters);

/* ---------------------------------------------------------- cells */

/* Integer digits with thousands separators: "1234567" → "1,234,567". */
const char *rep_thousands(apr_pool_t *p, const char *digits);
/* A numeric column as dollars ("$1,234.50", "$0.0042"); NULL (no price
 * known) as "unpriced". */
const char *rep_money(apr_pool_t *p, const char *v);
/* qs plus "&name=value" (URL-encoded) when value is set: links that keep
 * a page's filters. */
const char *rep_qs_add(apr_pool_t *p, const char *qs, const char *name,
                       const char *v);
/* <a href="BASE PATH?QS">text</a> */
void rep_anchor(adm_t *a, const char *path, const char *qs,
                const char *text);
/* <td>s of escaped text; td_num right-aligned. */
void rep_td(adm_t *a, const char *s);
void rep_td_num(adm_t *a, const char *s);
/* A REP_UTC_TS time as the pages show times, "2030-01-31 12:00" (the
 * whole of it, seconds included, as the cell's title). */
void rep_td_time(adm_t *a, const char *ts);
/* The <thead> of the columns, and the <tbody> opened. */
void rep_th_row(adm_t *a, const char *const *cols);

#endif /* AURA_ADMIN_REP_H */
