/*
 * mod_aura_db.h - PostgreSQL for the module: a small per-child pool of
 * connections for the request path (a cold key's lookup), and plain
 * connections for the background thread (ledger ingestion, credentials).
 *
 * Every connection: connect timeout 3 s, TCP keepalives and a TCP user
 * timeout (a host that vanished is noticed), TimeZone UTC, a server-side
 * statement timeout, application_name mod_aura. Every query also has a
 * client-side deadline (aura_db_query): a server that stops answering
 * without closing the connection cannot hold a thread. After a failed
 * connect or a timeout the pool answers "unavailable" at once for a
 * second instead of making every cold request wait for its own timeout.
 */
#ifndef MOD_AURA_DB_H
#define MOD_AURA_DB_H

#include <httpd.h>
#include <libpq-fe.h>

typedef struct aura_db aura_db_t;

#define AURA_DB_CONNECT_TIMEOUT_S 3
/* Request path and credentials: the server gives up after this... */
#define AURA_DB_REQUEST_TIMEOUT_MS 2000
/* ...and the client half a second later, whatever the server does. */
#define AURA_DB_DEADLINE_MS 2500

/* What a query came to. */
typedef enum {
    AURA_DB_OK = 0,
    AURA_DB_DATA_ERROR,     /* the statement or its data was refused */
    AURA_DB_DOWN,           /* refused for now (shutdown, not migrated) */
    AURA_DB_BROKEN,         /* the connection is gone: a new one may work */
    AURA_DB_TIMEOUT         /* no answer in time (either side's timeout) */
} aura_db_outcome_e;

/* One connection; NULL and *err (in p, no secret) on failure. */
PGconn *aura_db_connect(apr_pool_t *p, const char *conninfo,
                        int statement_timeout_ms, const char **err);

/* The request-path pool, in pchild. */
aura_db_t *aura_db_pool_create(apr_pool_t *pchild, server_rec *s,
                               const char *conninfo);

/* A connection for one query, or NULL (database unreachable or timing
 * out, or every connection busy for the connect timeout). Give it back
 * with aura_db_release and the query's outcome: a connection that is not
 * idle and healthy is dropped, and AURA_DB_TIMEOUT also holds the pool
 * "unavailable" for a second. */
PGconn *aura_db_acquire(aura_db_t *db);
void aura_db_release(aura_db_t *db, PGconn *conn, aura_db_outcome_e how);

/* One statement (text in, text out) within deadline_ms, or less when
 * *stop becomes non-zero (checked a few times a second; NULL: never).
 * *res is the last result, or NULL on BROKEN/TIMEOUT; PQclear it. After
 * a client-side timeout the statement may still be running: drop the
 * connection (its server-side statement_timeout ends it there). */
aura_db_outcome_e aura_db_query(PGconn *conn, const char *sql, int n,
                                const char *const *params, int deadline_ms,
                                const volatile int *stop, PGresult **res);

/* What a finished result means (aura_db_query's verdict). */
aura_db_outcome_e aura_db_outcome(PGconn *conn, const PGresult *res);

/* The first line of the server's or libpq's message for a query that
 * came to `how`, in p. */
const char *aura_db_error(apr_pool_t *p, PGconn *conn, const PGresult *res,
                          aura_db_outcome_e how);

#endif /* MOD_AURA_DB_H */
