/*
 * mod_aura_db.c - libpq connections and the per-child pool (apr_reslist,
 * as mod_dbd does it, without mod_dbd: the module needs one database and
 * no driver layer).
 */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <apr_reslist.h>
#include <apr_strings.h>

#include "mod_aura_db.h"

APLOG_USE_MODULE(aura);

/* Request-path connections per child: a cold key costs one short query,
 * so a few connections serve a burst; more would only multiply the load
 * on PostgreSQL by the number of children. */
#define POOL_MAX 4
#define POOL_IDLE_TTL apr_time_from_sec(60)
/* After a failed connect, cold requests fail fast for this long. */
#define DOWN_HOLD apr_time_from_sec(1)

struct aura_db {
    apr_reslist_t *list;
    server_rec *s;
    const char *conninfo;
    volatile apr_time_t down_until;
};

PGconn *aura_db_connect(apr_pool_t *p, const char *conninfo,
                        int statement_timeout_ms, const char **err)
{
    /* expand_dbname: the first value is the whole conninfo (key=value or
     * URI); the keywords after it override what it says. */
    const char *keys[] = { "dbname", "connect_timeout", "options",
                           "application_name", NULL };
    const char *vals[5];
    char timeout[16], options[96];
    PGconn *c;

    apr_snprintf(timeout, sizeof(timeout), "%d", AURA_DB_CONNECT_TIMEOUT_S);
    apr_snprintf(options, sizeof(options), "-c statement_timeout=%d "
                 "-c TimeZone=UTC", statement_timeout_ms);
    vals[0] = conninfo;
    vals[1] = timeout;
    vals[2] = options;
    vals[3] = "mod_aura";
    vals[4] = NULL;
    c = PQconnectdbParams(keys, vals, 1);
    if (c && PQstatus(c) == CONNECTION_OK)
        return c;
    *err = c ? aura_db_error(p, c, NULL) : "out of memory";
    PQfinish(c);
    return NULL;
}

static apr_status_t conn_make(void **res, void *params, apr_pool_t *pool)
{
    aura_db_t *db = params;
    apr_pool_t *tmp;
    const char *err = NULL;
    PGconn *c;

    /* The reslist's pool lives as long as the child: allocate nothing in
     * it per connection. */
    apr_pool_create(&tmp, NULL);
    c = aura_db_connect(tmp, db->conninfo, AURA_DB_REQUEST_TIMEOUT_MS, &err);
    if (!c) {
        db->down_until = apr_time_now() + DOWN_HOLD;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, db->s, "mod_aura: tenancy "
                     "database unreachable: %s", err);
    }
    apr_pool_destroy(tmp);
    (void)pool;
    *res = c;
    return c ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t conn_drop(void *res, void *params, apr_pool_t *pool)
{
    (void)params; (void)pool;
    PQfinish(res);
    return APR_SUCCESS;
}

aura_db_t *aura_db_pool_create(apr_pool_t *pchild, server_rec *s,
                               const char *conninfo)
{
    aura_db_t *db = apr_pcalloc(pchild, sizeof(*db));
    apr_status_t rv;

    db->s = s;
    db->conninfo = conninfo;
    rv = apr_reslist_create(&db->list, 0, 1, POOL_MAX, POOL_IDLE_TTL,
                            conn_make, conn_drop, db, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_aura: cannot create "
                     "the database connection pool");
        return NULL;
    }
    apr_reslist_timeout_set(db->list,
                            apr_time_from_sec(AURA_DB_CONNECT_TIMEOUT_S));
    return db;
}

PGconn *aura_db_acquire(aura_db_t *db)
{
    void *c = NULL;
    if (!db || apr_time_now() < db->down_until)
        return NULL;
    if (apr_reslist_acquire(db->list, &c) != APR_SUCCESS)
        return NULL;
    return c;
}

void aura_db_release(aura_db_t *db, PGconn *conn, int broken)
{
    if (broken || PQstatus(conn) != CONNECTION_OK ||
        PQtransactionStatus(conn) != PQTRANS_IDLE)
        apr_reslist_invalidate(db->list, conn);
    else
        apr_reslist_release(db->list, conn);
}

PGresult *aura_db_exec(PGconn *conn, const char *sql, int n,
                       const char *const *params)
{
    return PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
}

aura_db_outcome_e aura_db_outcome(PGconn *conn, const PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    const char *state;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return AURA_DB_OK;
    if (!res || PQstatus(conn) != CONNECTION_OK)
        return AURA_DB_DOWN;
    /* Only data the server refused (class 22 data exception, 23 integrity
     * violation) is final; anything else (timeouts, shutdown, a schema not
     * migrated yet) may work on a later try. */
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2)))
        return AURA_DB_DATA_ERROR;
    return AURA_DB_DOWN;
}

const char *aura_db_error(apr_pool_t *p, PGconn *conn, const PGresult *res)
{
    const char *m = res ? PQresultErrorMessage(res) : NULL;
    if (!m || !*m)
        m = conn ? PQerrorMessage(conn) : "no connection";
    return apr_pstrmemdup(p, m, strcspn(m, "\n"));
}
