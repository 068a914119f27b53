/*
 * admin.h - the admin console (a CGI program, also the `aura-admin` CLI).
 *
 * One binary, three faces:
 *   - CGI at /aura-admin/...      server-rendered HTML pages (forms, PRG)
 *   - CGI at /aura-admin/api/...  the same handlers answering JSON
 *   - CLI: aura-admin migrate | bootstrap | create-key | ... (admin_cli.c)
 *
 * Every handler gets one adm_t: the parsed request, the caller's role and
 * org scope, a libpq connection, and an output buffer sent at the end (so
 * that an error found late still becomes a clean error page, never half a
 * page). All memory comes from a->p; PGresults are cleared with it.
 *
 * Contract for handlers:
 *   - read input with adm_arg (query string) and adm_field (form field or
 *     JSON body member, as text);
 *   - query only with adm_q (parameterised; no SQL is ever built from
 *     input);
 *   - check scope with adm_org_visible / adm_org_writable before touching
 *     a row: an object outside the caller's org answers 404 (its existence
 *     is not revealed), a role that may not write answers 403;
 *   - change state inside adm_begin/adm_commit with adm_audit in the same
 *     transaction;
 *   - answer with adm_json (a->api) or adm_page_begin/…/adm_page_end and
 *     adm_redirect after a successful POST (HTML);
 *   - return the HTTP status it answered with (adm_* answer functions
 *     return it).
 */
#ifndef AURA_ADMIN_H
#define AURA_ADMIN_H

#include <stdarg.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "aura_buf.h"

typedef struct adm {
    apr_pool_t *p;
    PGconn *db;

    /* request */
    const char *method;         /* GET, POST, PATCH, DELETE */
    const char *path;           /* PATH_INFO below the script, "/" at least;
                                   "/api/..." for the JSON API */
    int api;                    /* 1: JSON in and out */
    const char *base;           /* SCRIPT_NAME, e.g. "/aura-admin": the
                                   prefix of every link and form action */
    apr_table_t *query;         /* query string */
    apr_table_t *form;          /* application/x-www-form-urlencoded body */
    json_object *body;          /* JSON body (API), or NULL */
    const char *remote_addr;
    long long id;               /* the {id} matched in the route, or 0 */
    const char *action;         /* the {action} matched, or NULL */

    /* who */
    const char *user;           /* REMOTE_USER */
    const char *role;           /* superadmin | org_admin | viewer */
    long long org_id;           /* the caller's org; 0 = every org */
    const char *csrf;           /* the caller's CSRF token */

    /* answer */
    int status;
    const char *content_type;
    apr_table_t *headers;
    aura_buf_t out;             /* the body, sent once by adm_send */
} adm_t;

typedef int (*adm_fn)(adm_t *a);

/* A route: method ("GET", "POST", "PATCH", "DELETE", or "*") and a path
 * pattern whose segments may be {id} (digits → a->id) or {action}
 * (a word → a->action). HTML routes and API routes are separate entries
 * pointing at the same handler where the behaviour is the same. */
typedef struct adm_route {
    const char *method;
    const char *pattern;
    adm_fn fn;
    int write;                  /* 1: changes state (CSRF / JSON checks,
                                   viewers refused with 403) */
} adm_route_t;

/* Route tables, one per file, ended by a {NULL} entry. */
extern const adm_route_t adm_tenant_routes[];   /* admin_tenants.c */
extern const adm_route_t adm_key_routes[];      /* admin_keys.c */
extern const adm_route_t adm_cred_routes[];     /* admin_creds.c */
extern const adm_route_t adm_policy_routes[];   /* admin_policy.c */
extern const adm_route_t adm_report_routes[];   /* admin_reports.c */
extern const adm_route_t adm_log_routes[];      /* admin_logs.c */

/* ---------------------------------------------------------- output */

void adm_puts(adm_t *a, const char *s);
void adm_write(adm_t *a, const char *s, apr_size_t n);
void adm_printf(adm_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* printf into p. The C library's formatter: %lld and %zu work here, while
 * apr_psprintf prints garbage for them (use APR_INT64_T_FMT there). */
const char *adm_fmt(apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *adm_vfmt(apr_pool_t *p, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* HTML-escaped (& < > " ') text; NULL prints nothing. */
void adm_esc(adm_t *a, const char *s);
const char *adm_escs(apr_pool_t *p, const char *s);

/* The page frame: <head>, the navigation (nav = the active entry, e.g.
 * "keys"), the title as <h1>; and its end. */
void adm_page_begin(adm_t *a, const char *title, const char *nav);
int adm_page_end(adm_t *a);          /* returns a->status (200 unless set) */

/* A hidden CSRF input for a form. */
void adm_csrf_input(adm_t *a);

/* Answers. */
int adm_json(adm_t *a, int status, json_object *o);   /* takes o */
/* Gives o to a->p: put when the pool goes. Returns o. */
json_object *adm_json_bind(adm_t *a, json_object *o);
int adm_redirect(adm_t *a, const char *path);          /* 303 to base+path */
/* An error: JSON {"error":{"status","type","message","field"}} in the API,
 * an HTML page otherwise. type: invalid_request, not_found, forbidden,
 * conflict, unavailable. field may be NULL. */
int adm_error(adm_t *a, int status, const char *type, const char *field,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A form error: re-render is the handler's job; this prints the message
 * box (class "error", naming the field) into the page being built. */
void adm_form_error(adm_t *a, const char *field, const char *msg);

/* ---------------------------------------------------------- input */

const char *adm_arg(adm_t *a, const char *name);      /* query string */
/* A form field, or a JSON body member rendered as text (numbers as
 * digits, true/false, arrays of strings joined by ","); NULL if absent,
 * JSON null or empty. */
const char *adm_field(adm_t *a, const char *name);
/* 1 when the field was given at all (even empty / null): PATCH semantics. */
int adm_has_field(adm_t *a, const char *name);
/* Parse a positive int64 id; 0 when absent or malformed. */
long long adm_parse_id(const char *s);

/* ---------------------------------------------------------- database */

/* Parameterised query; NULL params are SQL NULL. On error returns NULL and
 * logs the libpq message to stderr (Apache's error log), never to the
 * client. The result is cleared with a->p. */
PGresult *adm_q(adm_t *a, const char *sql, int n, const char *const *params);
/* Same, and on error answers 500/503 itself: returns NULL then. */
PGresult *adm_qx(adm_t *a, const char *sql, int n,
                 const char *const *params);
/* Answers the last failed adm_q as adm_qx would (503, 409, 400 or 500)
 * and rolls back a failed transaction; returns the status answered. */
int adm_q_failed(adm_t *a);
/* The SQLSTATE of the last failed adm_q ("23505" unique, "23503" fk, "23514"
 * check, "22P02" bad text), or NULL. */
const char *adm_sqlstate(adm_t *a);
/* A value by column name; NULL for SQL NULL or no such column. */
const char *adm_v(PGresult *res, int row, const char *col);
/* The rows as a JSON array of objects, typed by column type (int8/int4 →
 * int, numeric/float → double, bool, text[] → array of strings,
 * timestamptz → "YYYY-MM-DDTHH:MM:SSZ", jsonb/json → parsed). */
json_object *adm_rows_json(PGresult *res);
json_object *adm_row_json(PGresult *res, int row);

int adm_begin(adm_t *a);
int adm_commit(adm_t *a);
void adm_rollback(adm_t *a);
/* Rolls back and returns a->status: the end of a handler whose change
 * failed after the answer was given. */
int adm_abort(adm_t *a);

/* Append to audit_log (in the caller's transaction). detail may be NULL;
 * it must never hold a secret. Returns 0 or -1. */
int adm_audit(adm_t *a, const char *action, const char *object_type,
              const char *object_id, long long org_id, json_object *detail);
/* The same for handlers: takes detail (puts it), and on failure answers
 * (503 when the database went away, else 500) and returns -1; the caller
 * rolls back. */
int adm_audit_x(adm_t *a, const char *action, const char *object_type,
                long long object_id, long long org_id, json_object *detail);

/* A timestamptz to the minute in UTC, for pages ("2030-01-31 12:00"). */
#define ADM_SQL_MINUTE(col) "to_char(" col ", 'YYYY-MM-DD HH24:MI')"

/* ---------------------------------------------------------- scope */

/* May the caller see / change rows of this org? org 0 = global rows
 * (e.g. credentials for every org): visible to all, writable by
 * superadmins only. */
int adm_org_visible(adm_t *a, long long org);
int adm_org_writable(adm_t *a, long long org);
/* The caller's org as a query parameter: NULL for every org, else digits.
 * SQL idiom: WHERE ($1::bigint IS NULL OR org_id = $1::bigint). */
const char *adm_scope_param(adm_t *a);
/* 1 unless the caller is a viewer: whether pages offer forms at all (the
 * row's org is still checked with adm_org_writable). */
int adm_can_write(adm_t *a);

/* The id's decimal text in a->p; adm_id_opt: NULL for 0 (SQL NULL). */
const char *adm_id(adm_t *a, long long id);
const char *adm_id_opt(adm_t *a, long long id);

/* ---------------------------------------------------------- forms
 * admin_form.c: input checks and the HTML of forms, shared by every
 * handler file, so that every page renders a field, a select, an error
 * next to its field and a list filter the same way.
 */

/* Why input was refused. status: 400 (a field), 403, 404, 409; a handler
 * may use -1 for "already answered". The message names the field. */
typedef struct adm_bad {
    int status;
    const char *field;          /* or NULL */
    const char *msg;
} adm_bad_t;

/* Fills *b (msg formatted by printf's rules, %lld included); returns 1. */
int adm_form_bad(adm_t *a, adm_bad_t *b, int status, const char *field,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Answers *b as an error (the type follows the status: invalid_request,
 * forbidden, not_found, conflict): the API's answer to bad input, and the
 * pages' when there is no form to show again. */
int adm_form_refuse(adm_t *a, const adm_bad_t *b);
/* b's message when it is about field (b may be NULL). */
void adm_form_field_error(adm_t *a, const adm_bad_t *b, const char *field);
/* b's message when its field is none of the form's (NULL-ended), at the
 * top of the form: an error must never be lost. */
void adm_form_top_error(adm_t *a, const adm_bad_t *b,
                        const char *const *shown);

/* Input checks. text_ok: no control characters, at most max characters
 * (code points). one_of: s is in the NULL-ended set. */
int adm_form_text_ok(const char *s, size_t max);
int adm_form_one_of(const char *s, const char *const *set);
/* An id field: 0 (*id 0 when absent), 1 with *b when absent but required
 * or not a positive integer. */
int adm_form_id_field(adm_t *a, adm_bad_t *b, const char *name, int required,
                      long long *id);
/* An org an input names: it must exist, be live and be the caller's to
 * change; absent and foreign orgs get the same answer (a foreign org's
 * existence is not revealed). 0, 1 with *b, -1 answered. */
int adm_form_org_check(adm_t *a, adm_bad_t *b, long long org);
/* Query string filters of a list. id: *out NULL or its digits. status:
 * one of set (e.g. active, archived, all), dflt when absent. Both return
 * 0, or the 400 they answered. */
int adm_form_id_arg(adm_t *a, const char *name, const char **out);
int adm_form_status_arg(adm_t *a, const char *const *set, const char *dflt,
                        const char **out);

/* Form controls: a label and its control (id "f-NAME"), then the field's
 * error from b. attrs: extra attributes (" required ..."), or NULL. */
void adm_form_input(adm_t *a, const adm_bad_t *b, const char *label,
                    const char *name, const char *type, const char *value,
                    const char *attrs);
/* A select of fixed words; sel selected. */
void adm_form_select(adm_t *a, const adm_bad_t *b, const char *label,
                     const char *name, const char *const *choices,
                     const char *sel);
/* A select of (id, label) rows; none: the label of an empty first
 * choice, or NULL. */
void adm_form_id_select(adm_t *a, const adm_bad_t *b, const char *label,
                        const char *name, PGresult *rows, const char *sel,
                        const char *none);
/* The <option>s of (id, label) rows, sel selected; rows that have a
 * status column and are not active are left out (nobody picks them). */
void adm_form_options(adm_t *a, PGresult *rows, const char *sel);
/* A one-button POST form (archive, revoke, rotate) to base + path. */
void adm_form_button(adm_t *a, const char *path, const char *label);
/* The same with one more hidden field, name=value (e.g. next). */
void adm_form_button_with(adm_t *a, const char *path, const char *label,
                          const char *name, const char *value);
/* A select that must be changed: an empty "— choose —" first choice
 * (required), then "*" labelled any (e.g. "every organization": a choice
 * made on purpose, never a default), then the rows. */
void adm_form_id_choose(adm_t *a, const adm_bad_t *b, const char *label,
                        const char *name, PGresult *rows, const char *sel,
                        const char *any);
/* A hidden input (value escaped). */
void adm_form_hidden(adm_t *a, const char *name, const char *value);
/* The form field "next" when it is exactly prefix + a positive id in
 * digits (e.g. "/keys/12"): a local page to go back to after a change.
 * Anything else (another host, "//x", "/keys/1/../x", the API) is NULL:
 * never an open redirect. */
const char *adm_form_next(adm_t *a, const char *prefix);
/* "Show: active archived all" links to base + path?status=... */
void adm_form_status_links(adm_t *a, const char *path,
                           const char *const *statuses);

/* List filters: a GET form to base + path whose controls sit in a row. */
void adm_form_filter_begin(adm_t *a, const char *path);
void adm_form_filter_input(adm_t *a, const char *label, const char *name,
                           const char *type, const char *value);
void adm_form_filter_select(adm_t *a, const char *label, const char *name,
                            const char *const *set, const char *cur);
/* An "all" choice, then the rows (as adm_form_options). */
void adm_form_filter_rows(adm_t *a, const char *label, const char *name,
                          PGresult *rows, const char *cur);
/* The org chooser, for callers who see more than one org (nothing for a
 * caller confined to one). */
void adm_form_filter_org(adm_t *a, const char *cur);
void adm_form_filter_end(adm_t *a);

/* An instant: RFC 3339 ("2030-01-31T12:00:00Z", "...:00.5+02:00"); with
 * loose (HTML forms) also "2030-01-31" and "2030-01-31T12:00", UTC.
 * Epoch seconds in *t; 0, or -1 when malformed. */
int adm_form_instant(const char *s, int loose, long long *t);

/* One-time forms. A form whose repeat would make the change again (a
 * key's create and rotate answer 201 at the POST URL, so a refresh posts
 * again) carries a hidden "form_id" from adm_form_once_new (16 random
 * bytes in hex; NULL when there is no randomness: the form still works).
 * The handler reads it (pages only: the API ignores it; *id NULL when
 * absent; 0, or 1 with *b when malformed), and in its transaction asks
 * adm_form_once_seen, under pg_advisory_xact_lock(hashtext(id)), for the
 * object_id of the caller's earlier audit row of action in org whose
 * detail has this form_id (0 none, -1 answered); its own audit row then
 * records "form_id". No secret is kept, no table added. */
const char *adm_form_once_new(adm_t *a);
int adm_form_once_read(adm_t *a, adm_bad_t *b, const char **id);
long long adm_form_once_seen(adm_t *a, const char *id, const char *action,
                             long long org);

/* ---------------------------------------------------------- shared */

/* admin_main.c: an adm_t for the command line (actor "cli", superadmin,
 * connected to AURA_DB), or NULL after printing why to stderr. */
adm_t *adm_cli_context(apr_pool_t *p);

/* admin_keys.c: "a, b,,c" → ["a","b","c"] (a new array, caller owns):
 * split on commas only and the ends trimmed, so that a name with a space
 * inside ("bad model") is checked, and refused, as it was typed. */
json_object *adm_models_from_text(apr_pool_t *p, const char *list);

/* admin_keys.c: insert a new virtual key (in the caller's transaction,
 * with its audit row). models: NULL (all) or a JSON array of strings;
 * expires: NULL or RFC 3339. Returns the new row id (0 on failure, with
 * the answer already given via adm_error when a->api or for HTML, or a
 * message on stderr for the CLI) and the key itself in *secret. */
long long adm_key_insert(adm_t *a, const char *name, long long org,
                         long long team, long long project,
                         json_object *models, const char *expires,
                         long long rotated_from, const char **secret);

/* admin_keys.c: the key page /keys/{key} again, after a budget or limit
 * form of its own (next=/keys/{key}) was refused: b's message next to
 * its field in that form (a->path, /budgets or /limits, names which),
 * status b->status. */
int adm_key_page_refused(adm_t *a, long long key, const adm_bad_t *b);

/* admin_policy.c: a key's own budgets and rate limits.
 *
 * A new key may bring one budget and one limit (POST /keys: JSON members
 * "budget" and "limit", form fields "budget.amount_usd", "budget.period",
 * "budget.rolling_seconds", "limit.requests_per_min", ...), checked by
 * the very code of POST /budgets and /limits; a refusal names the field
 * "budget.amount_usd" etc. read: 0, or 1 with *b. insert: in the
 * caller's transaction, audited as budget.create / limit.create; 0, or -1
 * answered. */
typedef struct adm_key_policy adm_key_policy_t;
int adm_key_policy_read(adm_t *a, adm_bad_t *b, adm_key_policy_t **out);
int adm_key_policy_insert(adm_t *a, const adm_key_policy_t *kp,
                          long long key, long long org);
/* The create form's inputs for them. */
void adm_key_policy_inputs(adm_t *a, const adm_bad_t *b);
/* The key page's "Budgets and limits": the live ones (Archive buttons
 * when writable) and, when writable and live, forms to add one, all
 * coming back to /keys/{key}; b: one of those forms was refused. 0, or
 * -1 answered. */
int adm_key_policy_section(adm_t *a, const char *key, int writable,
                           int live, const adm_bad_t *b);
/* The key's live budgets and limits as o's "budgets" and "limits" (the
 * objects of /api/budgets and /api/limits). 0, or -1 answered. */
int adm_key_policy_json(adm_t *a, long long key, json_object *o);

/* admin_http.c: the master key (AURA_MASTER_KEY_FILE), loaded once; NULL
 * when unset or unreadable (the reason logged to stderr). */
const unsigned char *adm_master_key(adm_t *a);

#endif /* AURA_ADMIN_H */
