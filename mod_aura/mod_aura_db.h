/*
 * mod_aura_db.h - PostgreSQL for the module: a small per-child pool of
 * connections for the request path (a cold key's lookup), and plain
 * connections for the background thread (ledger ingestion, credentials).
 *
 * Every connection: connect timeout 3 s, TimeZone UTC, a statement
 * timeout (2 s on the request path), application_name mod_aura. After a
 * failed connect the pool answers "unavailable" at once for a second
 * instead of making every cold request wait for its own timeout.
 */
#ifndef MOD_AURA_DB_H
#define MOD_AURA_DB_H

#include <httpd.h>
#include <libpq-fe.h>

typedef struct aura_db aura_db_t;

#define AURA_DB_CONNECT_TIMEOUT_S 3
#define AURA_DB_REQUEST_TIMEOUT_MS 2000

/* One connection; NULL and *err (in p, no secret) on failure. */
PGconn *aura_db_connect(apr_pool_t *p, const char *conninfo,
                        int statement_timeout_ms, const char **err);

/* The request-path pool, in pchild. */
aura_db_t *aura_db_pool_create(apr_pool_t *pchild, server_rec *s,
                               const char *conninfo);

/* A connection for one query, or NULL (database unreachable, or every
 * connection busy for the connect timeout). Give it back with
 * aura_db_release; `broken` drops it instead of reusing it. */
PGconn *aura_db_acquire(aura_db_t *db);
void aura_db_release(aura_db_t *db, PGconn *conn, int broken);

/* PQexecParams, text in, text out. */
PGresult *aura_db_exec(PGconn *conn, const char *sql, int n,
                       const char *const *params);

/* What a result means. */
typedef enum {
    AURA_DB_OK = 0,
    AURA_DB_DATA_ERROR,     /* the statement or its data was refused */
    AURA_DB_DOWN            /* connection lost, timeout, server going down */
} aura_db_outcome_e;

aura_db_outcome_e aura_db_outcome(PGconn *conn, const PGresult *res);

/* The first line of the server's or libpq's message, in p. */
const char *aura_db_error(apr_pool_t *p, PGconn *conn, const PGresult *res);

#endif /* MOD_AURA_DB_H */
