/*
 * mod_aura_cred.c - provider credentials from PostgreSQL.
 *
 * The child loads the active rows of provider_credentials once in
 * child_init (bounded by the query deadline), then the "credentials" task
 * of its background worker (mod_aura_worker.c) reloads them every
 * AuraCredentialRefresh seconds, a failure a second later, on a
 * connection of its own: the ledger's ingestion never holds them back
 * (it yields to this task between files). Each sealed
 * value is opened under the master key with the row's (org, provider) as
 * associated data, and the whole table is swapped in at once. A request
 * copies the one secret it needs into its own pool under a read lock, so
 * a swap never frees memory a request is still using.
 *
 * With a master key, the configured AuraProviderKey is only what an org
 * without a row (and without an every-org row) uses: so until the table
 * has loaded once, and for an org whose row does not open, the request
 * is refused (aura_cred_pick) rather than sent with another credential.
 *
 * The parent loads a first table at post_config and every child starts
 * from that copy (fork): a child started while PostgreSQL is down then
 * serves with the credentials of the last (re)start instead of refusing
 * everything, and replaces them with its own as soon as a load works.
 */
#include <string.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <apr_thread_rwlock.h>
#include <openssl/crypto.h>

#include "mod_aura_private.h"

APLOG_USE_MODULE(aura);

/* Credentials not loaded (or a reload failed): retry this soon. */
#define CRED_RETRY apr_time_from_sec(1)

static const char *const CRED_SQL =
    "SELECT id, coalesce(org_id, 0), provider, sealed"
    " FROM provider_credentials WHERE status = 'active'";

/* A row that does not open is in the table too, as "": it must refuse
 * its org's requests to its provider, not let them fall through to the
 * every-org credential or the configured key. */
#define UNUSABLE ""

/* What the table says for one org and provider. */
typedef enum {
    AURA_CRED_USE = 0,      /* a credential, or the configured key */
    AURA_CRED_NOT_LOADED,   /* credentials in use, table not loaded yet */
    AURA_CRED_UNUSABLE      /* the row that applies does not open */
} aura_cred_gate_e;

typedef struct cred_table {
    apr_pool_t *pool;
    apr_hash_t *by_key;         /* "<org id>/<provider>" → secret */
} cred_table_t;

static apr_thread_rwlock_t *cred_lock;
static cred_table_t *creds;         /* NULL until the first load */
static cred_table_t *inherited;     /* the parent's load, in pconf */
static int load_failing;            /* a failed load was logged */

/* Secrets do not linger in freed pool memory. */
static apr_status_t wipe_table(void *data)
{
    cred_table_t *t = data;
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, t->by_key); hi; hi = apr_hash_next(hi)) {
        char *v = apr_hash_this_val(hi);
        OPENSSL_cleanse(v, strlen(v));
    }
    return APR_SUCCESS;
}

static const char *table_key(apr_pool_t *p, apr_int64_t org,
                             const char *provider)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT "/%s", org, provider);
}

static void add_row(cred_table_t *t, const PGresult *res, int i,
                    const unsigned char *master)
{
    const char *id = PQgetvalue(res, i, 0), *provider = PQgetvalue(res, i, 2);
    apr_int64_t org = apr_atoi64(PQgetvalue(res, i, 1));
    const char *secret = NULL, *err;

    err = aura_open(t->pool, master, aura_cred_aad(t->pool, org, provider),
                    PQgetvalue(res, i, 3), &secret);
    if (err || !secret || !*secret) {
        /* The row's id only: never its content. */
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, aura_tenancy_get()->s,
                     "mod_aura: provider credential id %s (%s) cannot be "
                     "opened: %s; %s requests to %s are refused until it is "
                     "replaced or archived", id, provider,
                     err ? err : "empty secret",
                     org ? "its org's" : "every org's (without their own)",
                     provider);
        secret = UNUSABLE;
    }
    apr_hash_set(t->by_key, table_key(t->pool, org, provider),
                 APR_HASH_KEY_STRING, secret);
}

static void swap_in(cred_table_t *fresh)
{
    cred_table_t *old;

    apr_thread_rwlock_wrlock(cred_lock);
    old = creds;
    creds = fresh;
    apr_thread_rwlock_unlock(cred_lock);
    /* The inherited table lives in pconf, which only the main thread may
     * change; it stays (the parent holds the same bytes anyway). */
    if (old && old != inherited)
        apr_pool_destroy(old->pool);
}

/* Logged once per run of failures: the caller retries every second. */
static void load_failed(aura_tenancy_t *ty, apr_pool_t *p, PGconn *conn,
                        const PGresult *res, aura_db_outcome_e out)
{
    if (!load_failing)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ty->s, "mod_aura: "
                     "provider credentials not %s: %s", creds ? "reloaded"
                     : "loaded (requests are refused until they are)",
                     aura_db_error(p, conn, res, out));
    load_failing = 1;
}

static cred_table_t *build_table(apr_pool_t *p, const PGresult *res,
                                 const unsigned char *master)
{
    cred_table_t *t = apr_pcalloc(p, sizeof(*t));
    int i;

    t->pool = p;
    t->by_key = apr_hash_make(p);
    apr_pool_cleanup_register(p, t, wipe_table, apr_pool_cleanup_null);
    for (i = 0; i < PQntuples(res); i++)
        add_row(t, res, i, master);
    return t;
}

/* Reload the table from `conn`; its pools are children of `owner`, the
 * worker's. AURA_DB_DOWN: try again with a new connection. */
static aura_db_outcome_e refresh(PGconn *conn, apr_pool_t *owner)
{
    aura_tenancy_t *ty = aura_tenancy_get();
    PGresult *res;
    aura_db_outcome_e out;
    cred_table_t *t;
    apr_pool_t *p;

    if (!ty || !ty->has_master || !cred_lock)
        return AURA_DB_OK;
    /* Only the worker thread (and child_init before it starts) creates
     * and destroys these pools. */
    apr_pool_create(&p, owner);
    out = aura_db_query(conn, CRED_SQL, 0, NULL, AURA_DB_DEADLINE_MS, NULL,
                        &res);
    if (out != AURA_DB_OK) {
        load_failed(ty, p, conn, res, out);
        PQclear(res);
        apr_pool_destroy(p);
        return out;
    }
    if (load_failing)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ty->s, "mod_aura: "
                     "provider credentials loaded again");
    load_failing = 0;
    t = build_table(p, res, ty->master);
    PQclear(res);
    swap_in(t);
    return AURA_DB_OK;
}

/* ------------------------------------------------------- the worker task */

typedef struct cred_task {
    aura_tenancy_t *ty;
    apr_pool_t *owner;          /* the tables' parent: the worker's */
    PGconn *conn;               /* its own: never behind an ingest */
    int down;                   /* its connect failure was logged */
} cred_task_t;

static PGconn *connection(cred_task_t *ct, apr_pool_t *p)
{
    const char *err = NULL;

    if (ct->conn && PQstatus(ct->conn) == CONNECTION_OK)
        return ct->conn;
    PQfinish(ct->conn);
    ct->conn = aura_db_connect(p, ct->ty->mc->db_conninfo,
                               AURA_DB_REQUEST_TIMEOUT_MS, &err);
    if (!ct->conn && !ct->down)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ct->ty->s, "mod_aura: "
                     "provider credentials: PostgreSQL unavailable (%s); "
                     "retried every second", err);
    ct->down = !ct->conn;
    return ct->conn;
}

/* Bounded by the connect timeout plus the query deadline, whatever
 * ingestion is doing. */
static apr_status_t refresh_run(void *baton, aura_worker_t *w, apr_pool_t *p)
{
    cred_task_t *ct = baton;
    aura_db_outcome_e out = AURA_DB_BROKEN;
    PGconn *c;
    (void)w;

    if ((c = connection(ct, p)) != NULL)
        out = refresh(c, ct->owner);
    if (out == AURA_DB_OK)
        return APR_SUCCESS;
    /* Timed out or broken: the connection is not reused. */
    if (c && (PQstatus(c) != CONNECTION_OK ||
              PQtransactionStatus(c) != PQTRANS_IDLE)) {
        PQfinish(c);
        ct->conn = NULL;
    }
    return APR_EGENERAL;
}

static void refresh_leave(void *baton, apr_pool_t *p)
{
    cred_task_t *ct = baton;
    (void)p;
    PQfinish(ct->conn);
    ct->conn = NULL;
}

void aura_cred_child_init(apr_pool_t *pchild, aura_worker_t *w)
{
    aura_tenancy_t *ty = aura_tenancy_get();
    cred_task_t *ct = apr_pcalloc(pchild, sizeof(*ct));
    aura_task_def_t def = {"credentials", 0, CRED_RETRY, refresh_run,
                           refresh_leave, ct};

    creds = inherited;
    load_failing = 0;
    if (apr_thread_rwlock_create(&cred_lock, pchild) != APR_SUCCESS)
        cred_lock = NULL;
    /* Without a master key nothing is ever loaded: no task. */
    if (!ty->has_master)
        return;
    ct->ty = ty;
    ct->owner = aura_worker_pool(w);
    def.interval = apr_time_from_sec(ty->mc->cred_refresh_s);
    /* Before the child serves anything: its own table, or the parent's
     * (inherited) while this load fails. */
    aura_worker_run_first(w, aura_worker_add(w, &def));
}

/* ------------------------------------------------------------ post_config */

void aura_cred_post_config(apr_pool_t *pconf, apr_pool_t *ptemp)
{
    aura_tenancy_t *ty = aura_tenancy_get();
    PGresult *res = NULL;
    const char *err = NULL;
    aura_db_outcome_e out = AURA_DB_BROKEN;
    PGconn *c;
    apr_pool_t *p;

    inherited = NULL;
    /* Not on the first of the two startup passes: no child follows it. */
    if (!ty || !ty->has_master ||
        ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return;
    if ((c = aura_db_connect(ptemp, ty->mc->db_conninfo,
                             AURA_DB_REQUEST_TIMEOUT_MS, &err)) != NULL)
        out = aura_db_query(c, CRED_SQL, 0, NULL, AURA_DB_DEADLINE_MS, NULL,
                            &res);
    if (out == AURA_DB_OK) {
        apr_pool_create(&p, pconf);
        inherited = build_table(p, res, ty->master);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ty->s, "mod_aura: "
                     "provider credentials not loaded at startup (%s): each "
                     "child refuses keyed requests until its own load works",
                     err ? err : aura_db_error(ptemp, c, res, out));
    }
    PQclear(res);
    if (c)
        PQfinish(c);
}

static const char *find(apr_int64_t org, const char *provider)
{
    char key[160];

    apr_snprintf(key, sizeof(key), "%" APR_INT64_T_FMT "/%s", org, provider);
    return apr_hash_get(creds->by_key, key, APR_HASH_KEY_STRING);
}

/* Under the read lock: the org's row, else the every-org row; *secret
 * NULL means the configured key. Copied into p. */
static aura_cred_gate_e choose(apr_pool_t *p, apr_int64_t org,
                               const char *provider, const char **secret)
{
    const char *v = NULL;

    *secret = NULL;
    if (!creds)
        return AURA_CRED_NOT_LOADED;
    if (org)
        v = find(org, provider);
    if (!v)
        v = find(0, provider);
    if (v && !*v)
        return AURA_CRED_UNUSABLE;
    if (v)
        *secret = apr_pstrdup(p, v);
    return AURA_CRED_USE;
}

/* Without a master key nothing is loaded and the configured keys are
 * the credentials. */
static int in_use(void)
{
    aura_tenancy_t *ty = aura_tenancy_get();
    return ty && ty->has_master && cred_lock;
}

/* A request whose provider credential cannot be known is refused: the
 * table never loaded (the configured key might not be the one this org
 * is meant to use), or the row that applies does not open (falling back
 * to another credential would bill or expose the wrong account). */
static int refuse(aura_exchange_t *ex, aura_cred_gate_e why,
                  apr_int64_t org)
{
    const char *pv = ex->provider->name;
    aura_error_t *e;

    if (why == AURA_CRED_NOT_LOADED) {
        AURA_LOG(ex, APLOG_WARNING, "provider credentials not loaded from "
                 "the tenant store yet: request refused");
        e = aura_error_make(ex->r->pool, 503, "server_error",
                            "credentials_unavailable", NULL, "The provider "
                            "credentials could not be loaded from the "
                            "tenant store yet. Try again shortly.");
        e->retry_after = "1";
        return aura_send_error(ex, e);
    }
    AURA_LOG(ex, APLOG_ERR, "org %" APR_INT64_T_FMT ": the stored "
             "credential for provider %s cannot be opened: request "
             "refused", org, pv);
    return aura_send_error(ex, aura_error_make(ex->r->pool, 503,
        "server_error", "credentials_unavailable", NULL, "The stored "
        "credential for provider '%s' cannot be used; an administrator "
        "must replace it.", pv));
}

int aura_cred_pick(aura_exchange_t *ex)
{
    const aura_provider_t *pv = ex->provider;
    apr_int64_t org = ex->tenant ? ex->tenant->org_id : 0;
    const char *v = NULL;
    aura_cred_gate_e g;

    ex->upstream_key = pv->key;
    if (!in_use())
        return DECLINED;
    /* One look under one lock: what is checked is what is used. */
    apr_thread_rwlock_rdlock(cred_lock);
    g = choose(ex->r->pool, org, pv->name, &v);
    apr_thread_rwlock_unlock(cred_lock);
    if (g != AURA_CRED_USE)
        return refuse(ex, g, org);
    if (v)
        ex->upstream_key = v;
    return DECLINED;
}
