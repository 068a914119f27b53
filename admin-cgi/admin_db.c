/*
 * admin_db.c - the admin console's database side: the connection,
 * parameterised queries, rows as typed JSON, transactions, the audit log
 * and the caller's org scope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <apr_strings.h>

#include "admin_int.h"

/* PostgreSQL type OIDs (pg_type.dat; stable across versions). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_TEXTARRAY 1009
#define OID_TIMESTAMP 1114
#define OID_TIMESTAMPTZ 1184
#define OID_NUMERIC 1700
#define OID_JSONB 3802

/* The SQLSTATE of the last failed query: the console is one request per
 * process, so one slot is enough. */
static const char *last_sqlstate;
static int last_down;

static apr_status_t db_close(void *db)
{
    PQfinish(db);
    return APR_SUCCESS;
}

PGconn *adm_db_connect(apr_pool_t *p)
{
    const char *conninfo = getenv("AURA_DB");
    PGconn *db = PQconnectdb(conninfo ? conninfo : "");
    PGresult *r;

    if (!db) {
        fprintf(stderr, "aura-admin: database: out of memory\n");
        return NULL;
    }
    apr_pool_cleanup_register(p, db, db_close, apr_pool_cleanup_null);
    if (PQstatus(db) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password (which
         * belongs in PGPASSFILE anyway); not the conninfo itself. */
        fprintf(stderr, "aura-admin: database connection failed: %s",
                PQerrorMessage(db));
        return NULL;
    }
    /* Timestamps leave the database in UTC, so that adm_row_json only has
     * to reshape them; a stuck query must not hold a CGI process forever. */
    r = PQexec(db, "SET TimeZone = 'UTC'; SET statement_timeout = '60s'; "
                   "SET client_min_messages = 'warning'");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "aura-admin: database session setup failed: %s",
                PQerrorMessage(db));
        PQclear(r);
        return NULL;
    }
    PQclear(r);
    return db;
}

int adm_db_down(adm_t *a)
{
    (void)a;
    return last_down;
}

static apr_status_t res_clear(void *r)
{
    PQclear(r);
    return APR_SUCCESS;
}

PGresult *adm_q(adm_t *a, const char *sql, int n, const char *const *params)
{
    PGresult *r;
    ExecStatusType st;
    const char *state, *msg;

    last_sqlstate = NULL;
    last_down = 0;
    if (!a->db || PQstatus(a->db) != CONNECTION_OK) {
        last_down = 1;
        fprintf(stderr, "aura-admin: query without a database connection\n");
        return NULL;
    }
    r = PQexecParams(a->db, sql, n, NULL, params, NULL, NULL, 0);
    st = PQresultStatus(r);
    if (r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
        apr_pool_cleanup_register(a->p, r, res_clear, apr_pool_cleanup_null);
        return r;
    }
    state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    /* The primary message only: DETAIL can quote row values. */
    msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    last_sqlstate = state ? apr_pstrdup(a->p, state) : NULL;
    last_down = PQstatus(a->db) != CONNECTION_OK
                || (state && (!strncmp(state, "08", 2)
                              || !strncmp(state, "57P", 3)));
    /* Data errors (classes 22, 23: a taken name, a bad value) are the
     * client's and answered as such; the log is for what is not. */
    if (!state || (strncmp(state, "22", 2) && strncmp(state, "23", 2)))
        fprintf(stderr, "aura-admin: query failed (%s): %s\n",
                state ? state : "no sqlstate",
                msg ? msg : PQerrorMessage(a->db));
    PQclear(r);
    return NULL;
}

const char *adm_sqlstate(adm_t *a)
{
    (void)a;
    return last_sqlstate;
}

int adm_q_failed(adm_t *a)
{
    const char *st = last_sqlstate;
    int rc;

    if (last_down)
        rc = adm_error(a, 503, "unavailable", NULL,
                       "the tenant database is unavailable");
    else if (st && !strcmp(st, "23505"))
        rc = adm_error(a, 409, "conflict", NULL, "that name is already taken");
    else if (st && !strcmp(st, "23503"))
        rc = adm_error(a, 400, "invalid_request", NULL,
                       "a referenced object does not exist");
    else if (st && (!strncmp(st, "22", 2) || !strncmp(st, "23", 2)))
        rc = adm_error(a, 400, "invalid_request", NULL, "a value is invalid");
    else
        rc = adm_error(a, 500, "server_error", NULL, "internal error");
    if (a->db && PQtransactionStatus(a->db) == PQTRANS_INERROR)
        adm_rollback(a);
    return rc;
}

PGresult *adm_qx(adm_t *a, const char *sql, int n, const char *const *params)
{
    PGresult *r = adm_q(a, sql, n, params);

    if (!r)
        adm_q_failed(a);
    return r;
}

const char *adm_v(PGresult *res, int row, const char *col)
{
    int c = res ? PQfnumber(res, col) : -1;

    if (c < 0 || row < 0 || row >= PQntuples(res)
        || PQgetisnull(res, row, c))
        return NULL;
    return PQgetvalue(res, row, c);
}

/* ---------------------------------------------------------- typed JSON */

/* One element of a PostgreSQL array literal starting at *s (after '{' or
 * ','): quoted with backslash escapes, or bare up to ',' / '}'. Returns
 * NULL for a bare NULL element. */
static json_object *array_elem(const char **s)
{
    const char *c = *s;
    char *buf = malloc(strlen(c) + 1), *o = buf;
    json_object *v;
    int quoted = *c == '"';

    if (!buf)
        return NULL;
    if (quoted) {
        for (c++; *c && *c != '"'; c++) {
            if (*c == '\\' && c[1])
                c++;
            *o++ = *c;
        }
        if (*c == '"')
            c++;
    } else {
        while (*c && *c != ',' && *c != '}')
            *o++ = *c++;
    }
    *o = '\0';
    *s = c;
    v = !quoted && !strcmp(buf, "NULL") ? NULL : json_object_new_string(buf);
    free(buf);
    return v;
}

static json_object *pg_array(const char *s)
{
    json_object *arr = json_object_new_array();

    if (*s != '{')
        return arr;
    s++;
    if (*s == '}')
        return arr;
    for (;;) {
        json_object_array_add(arr, array_elem(&s));
        if (*s != ',')
            break;
        s++;
    }
    return arr;
}

/* "2024-05-01 12:34:56.789+00" (session in UTC) → "2024-05-01T12:34:56Z" */
static json_object *pg_time(const char *s)
{
    char buf[21];

    if (strlen(s) < 19 || s[10] != ' ')
        return json_object_new_string(s);   /* infinity, BC dates */
    memcpy(buf, s, 19);
    buf[10] = 'T';
    buf[19] = 'Z';
    buf[20] = '\0';
    return json_object_new_string(buf);
}

/* numeric → a JSON number written as the database wrote it, minus the
 * scale's trailing zeros: 12.500000 → 12.5, exact, never 12.4999999. */
static json_object *pg_number(const char *s)
{
    char buf[128];
    size_t n = strlen(s);
    double d = strtod(s, NULL);

    if (!isfinite(d) || n >= sizeof(buf))
        return isfinite(d) ? json_object_new_double(d) : NULL;
    memcpy(buf, s, n + 1);
    if (strchr(buf, '.') && !strpbrk(buf, "eE")) {
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = '\0';
        if (n > 0 && buf[n - 1] == '.')
            buf[--n] = '\0';
    }
    return json_object_new_double_s(d, buf);
}

static json_object *pg_value(PGresult *res, int row, int col)
{
    const char *s = PQgetvalue(res, row, col);

    if (PQgetisnull(res, row, col))
        return NULL;
    switch (PQftype(res, col)) {
    case OID_INT8: case OID_INT2: case OID_INT4:
        return json_object_new_int64(strtoll(s, NULL, 10));
    case OID_NUMERIC: case OID_FLOAT4: case OID_FLOAT8:
        return pg_number(s);
    case OID_BOOL:
        return json_object_new_boolean(*s == 't');
    case OID_TEXTARRAY:
        return pg_array(s);
    case OID_TIMESTAMPTZ: case OID_TIMESTAMP:
        return pg_time(s);
    case OID_JSON: case OID_JSONB: {
        json_object *o = json_tokener_parse(s);
        return o ? o : json_object_new_string(s);
    }
    default:
        return json_object_new_string(s);
    }
}

json_object *adm_row_json(PGresult *res, int row)
{
    json_object *o = json_object_new_object();
    int c, n = PQnfields(res);

    for (c = 0; c < n; c++)
        json_object_object_add(o, PQfname(res, c), pg_value(res, row, c));
    return o;
}

json_object *adm_rows_json(PGresult *res)
{
    json_object *arr = json_object_new_array();
    int r, n = res ? PQntuples(res) : 0;

    for (r = 0; r < n; r++)
        json_object_array_add(arr, adm_row_json(res, r));
    return arr;
}

/* ---------------------------------------------------------- transactions */

/* On failure these answer the request themselves (503 or 500) and return
 * -1; the caller just returns a->status. */
int adm_begin(adm_t *a)
{
    return adm_qx(a, "BEGIN", 0, NULL) ? 0 : -1;
}

int adm_commit(adm_t *a)
{
    return adm_qx(a, "COMMIT", 0, NULL) ? 0 : -1;
}

void adm_rollback(adm_t *a)
{
    PGresult *r;

    if (!a->db || PQtransactionStatus(a->db) == PQTRANS_IDLE)
        return;
    r = PQexec(a->db, "ROLLBACK");
    PQclear(r);
}

int adm_abort(adm_t *a)
{
    adm_rollback(a);
    return a->status;
}

int adm_audit(adm_t *a, const char *action, const char *object_type,
              const char *object_id, long long org_id, json_object *detail)
{
    const char *params[7];

    params[0] = a->user ? a->user : "unknown";
    params[1] = action;
    params[2] = object_type;
    params[3] = object_id;
    params[4] = org_id > 0 ? adm_id(a, org_id) : NULL;
    params[5] = detail ? apr_pstrdup(a->p, json_object_to_json_string_ext(
                    detail, JSON_C_TO_STRING_PLAIN)) : NULL;
    params[6] = a->remote_addr;
    return adm_q(a, "INSERT INTO audit_log (actor, action, object_type, "
                    "object_id, org_id, detail, remote_addr) VALUES "
                    "($1, $2, $3, $4, $5::bigint, "
                    "coalesce($6::jsonb, '{}'::jsonb), $7)",
                 7, params) ? 0 : -1;
}

int adm_audit_x(adm_t *a, const char *action, const char *object_type,
                long long object_id, long long org_id, json_object *detail)
{
    int rc = adm_audit(a, action, object_type, adm_id(a, object_id), org_id,
                       detail);

    json_object_put(detail);
    if (rc && last_down)
        adm_error(a, 503, "unavailable", NULL,
                  "the tenant database is unavailable");
    else if (rc)
        adm_error(a, 500, "server_error", NULL,
                  "could not write the audit log");
    return rc;
}

/* ---------------------------------------------------------- scope */

int adm_org_visible(adm_t *a, long long org)
{
    return org == 0 || a->org_id == 0 || org == a->org_id;
}

int adm_org_writable(adm_t *a, long long org)
{
    if (!a->role || !strcmp(a->role, "viewer"))
        return 0;
    if (!strcmp(a->role, "superadmin"))
        return 1;
    return org != 0 && org == a->org_id;    /* org_admin: its own org only */
}

const char *adm_scope_param(adm_t *a)
{
    return a->org_id ? adm_id(a, a->org_id) : NULL;
}

int adm_can_write(adm_t *a)
{
    return a->role && strcmp(a->role, "viewer") != 0;
}

const char *adm_id(adm_t *a, long long id)
{
    return apr_psprintf(a->p, "%" APR_INT64_T_FMT, (apr_int64_t)id);
}

const char *adm_id_opt(adm_t *a, long long id)
{
    return id ? adm_id(a, id) : NULL;
}
