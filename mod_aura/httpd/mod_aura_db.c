/*
 * mod_aura_db.c - libpq connections and the per-child pool (apr_reslist,
 * as mod_dbd does it, without mod_dbd: the module needs one database and
 * no driver layer).
 */
#include <errno.h>
#include <poll.h>
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
/* After a failed connect or a timeout, cold requests fail fast for this
 * long. */
#define DOWN_HOLD apr_time_from_sec(1)
/* How often a query's wait looks at its stop flag. */
#define STOP_POLL_MS 200

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
     * URI); the keywords after it override what it says. Keepalives find
     * a vanished host under an idle pooled connection within ~9 s; the
     * user timeout ends a connection whose sent data goes unacknowledged
     * for 3 s (both ignored on a unix socket, which cannot vanish so). */
    static const char *const keys[] = {
        "dbname", "connect_timeout", "options", "application_name",
        "tcp_user_timeout", "keepalives", "keepalives_idle",
        "keepalives_interval", "keepalives_count", NULL };
    const char *vals[10];
    char timeout[16], options[96];
    PGconn *c;

    apr_snprintf(timeout, sizeof(timeout), "%d", AURA_DB_CONNECT_TIMEOUT_S);
    apr_snprintf(options, sizeof(options), "-c statement_timeout=%d "
                 "-c TimeZone=UTC", statement_timeout_ms);
    vals[0] = conninfo;
    vals[1] = timeout;
    vals[2] = options;
    vals[3] = "mod_aura";
    vals[4] = "3000";
    vals[5] = "1";
    vals[6] = "5";
    vals[7] = "2";
    vals[8] = "2";
    vals[9] = NULL;
    c = PQconnectdbParams(keys, vals, 1);
    /* Non-blocking: sending a large statement must not block either. */
    if (c && PQstatus(c) == CONNECTION_OK && PQsetnonblocking(c, 1) == 0)
        return c;
    *err = c ? aura_db_error(p, c, NULL, AURA_DB_BROKEN) : "out of memory";
    PQfinish(c);
    return NULL;
}

static int is_down(const aura_db_t *db)
{
    return apr_time_now() < db->down_until;
}

static void hold_down(aura_db_t *db)
{
    db->down_until = apr_time_now() + DOWN_HOLD;
}

static apr_status_t conn_make(void **res, void *params, apr_pool_t *pool)
{
    aura_db_t *db = params;
    apr_pool_t *tmp;
    const char *err = NULL;
    PGconn *c;

    (void)pool;
    *res = NULL;
    /* Marked down while this thread waited for a connection. */
    if (is_down(db))
        return APR_EGENERAL;
    /* The reslist's pool lives as long as the child: allocate nothing in
     * it per connection. */
    apr_pool_create(&tmp, NULL);
    c = aura_db_connect(tmp, db->conninfo, AURA_DB_REQUEST_TIMEOUT_MS, &err);
    if (!c) {
        hold_down(db);
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, db->s, "mod_aura: tenancy "
                     "database unreachable: %s", err);
    }
    apr_pool_destroy(tmp);
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

    if (!db || is_down(db))
        return NULL;
    if (apr_reslist_acquire(db->list, &c) != APR_SUCCESS)
        return NULL;
    /* The wait for a free connection may have outlasted a timeout that
     * marked the store down: fail fast like the others. */
    if (is_down(db)) {
        apr_reslist_release(db->list, c);
        return NULL;
    }
    return c;
}

void aura_db_release(aura_db_t *db, PGconn *conn, aura_db_outcome_e how)
{
    if (how == AURA_DB_TIMEOUT)
        hold_down(db);
    if (how == AURA_DB_BROKEN || PQstatus(conn) != CONNECTION_OK ||
        PQtransactionStatus(conn) != PQTRANS_IDLE)
        apr_reslist_invalidate(db->list, conn);
    else
        apr_reslist_release(db->list, conn);
}

/* ---------------------------------------------------------------- query */

/* 1: the socket is ready for `events`; 0: the deadline passed or *stop
 * was set; -1: the socket failed. */
static int wait_socket(PGconn *c, short events, apr_time_t deadline,
                       const volatile int *stop)
{
    struct pollfd pfd;

    pfd.fd = PQsocket(c);
    pfd.events = events;
    if (pfd.fd < 0)
        return -1;
    for (;;) {
        apr_interval_time_t left = deadline - apr_time_now();
        int ms, n;

        if (left <= 0 || (stop && *stop))
            return 0;
        ms = (int)((left + 999) / 1000);
        if (stop && ms > STOP_POLL_MS)
            ms = STOP_POLL_MS;
        if ((n = poll(&pfd, 1, ms)) > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static aura_db_outcome_e waited(int w)
{
    return w == 0 ? AURA_DB_TIMEOUT : AURA_DB_BROKEN;
}

/* libpq's non-blocking send: flush, reading whatever the server says
 * meanwhile so that neither side blocks on a full buffer. */
static aura_db_outcome_e send_all(PGconn *c, apr_time_t deadline,
                                  const volatile int *stop)
{
    int f, w;

    while ((f = PQflush(c)) == 1) {
        if ((w = wait_socket(c, POLLIN | POLLOUT, deadline, stop)) <= 0)
            return waited(w);
        if (!PQconsumeInput(c))
            return AURA_DB_BROKEN;
    }
    return f == 0 ? AURA_DB_OK : AURA_DB_BROKEN;
}

/* Every result until libpq has no more; the last one is kept. */
static aura_db_outcome_e receive(PGconn *c, apr_time_t deadline,
                                 const volatile int *stop, PGresult **res)
{
    PGresult *r;
    int w;

    for (;;) {
        while (PQisBusy(c)) {
            if ((w = wait_socket(c, POLLIN, deadline, stop)) <= 0)
                return waited(w);
            if (!PQconsumeInput(c))
                return AURA_DB_BROKEN;
        }
        if (!(r = PQgetResult(c)))
            return AURA_DB_OK;
        PQclear(*res);
        *res = r;
    }
}

/* No PQcancel on expiry: libpq 15's is a blocking connect plus a wait
 * for the server to close, without any timeout, so against a vanished
 * host it would hang exactly as the query did. The server's own
 * statement_timeout, below every deadline here, ends the statement. */
aura_db_outcome_e aura_db_query(PGconn *conn, const char *sql, int n,
                                const char *const *params, int deadline_ms,
                                const volatile int *stop, PGresult **res)
{
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(deadline_ms);
    aura_db_outcome_e out;

    *res = NULL;
    if (!PQsendQueryParams(conn, sql, n, NULL, params, NULL, NULL, 0))
        return AURA_DB_BROKEN;
    if ((out = send_all(conn, deadline, stop)) != AURA_DB_OK ||
        (out = receive(conn, deadline, stop, res)) != AURA_DB_OK) {
        PQclear(*res);
        *res = NULL;
        return out;
    }
    return aura_db_outcome(conn, *res);
}

aura_db_outcome_e aura_db_outcome(PGconn *conn, const PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    const char *state;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return AURA_DB_OK;
    if (!res || PQstatus(conn) != CONNECTION_OK)
        return AURA_DB_BROKEN;
    /* Only data the server refused (class 22 data exception, 23 integrity
     * violation) is final; a statement timeout is a timeout; anything
     * else (shutdown, a schema not migrated yet) may work later. */
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2)))
        return AURA_DB_DATA_ERROR;
    if (state && !strcmp(state, "57014"))
        return AURA_DB_TIMEOUT;
    return AURA_DB_DOWN;
}

const char *aura_db_error(apr_pool_t *p, PGconn *conn, const PGresult *res,
                          aura_db_outcome_e how)
{
    const char *m = res ? PQresultErrorMessage(res) : NULL;

    if ((!m || !*m) && how == AURA_DB_TIMEOUT)
        return "no answer in time";
    if (!m || !*m)
        m = conn ? PQerrorMessage(conn) : "no connection";
    if (!*m)
        m = "connection lost";
    return apr_pstrmemdup(p, m, strcspn(m, "\n"));
}
