/*
 * mod_aura_cred.c - provider credentials from PostgreSQL.
 *
 * The child's background thread (mod_aura_ledger.c) reloads the active
 * rows of provider_credentials every AuraCredentialRefresh seconds, opens
 * each sealed value under the master key with the row's (org, provider)
 * as associated data, and swaps the whole table in at once. A request
 * copies the one secret it needs into its own pool under a read lock, so
 * a swap never frees memory a request is still using.
 */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <apr_thread_rwlock.h>
#include <openssl/crypto.h>

#include "mod_aura_private.h"

APLOG_USE_MODULE(aura);

static const char *const CRED_SQL =
    "SELECT id, coalesce(org_id, 0), provider, sealed"
    " FROM provider_credentials WHERE status = 'active'";

typedef struct cred_table {
    apr_pool_t *pool;
    apr_hash_t *by_key;         /* "<org id>/<provider>" → secret */
} cred_table_t;

static apr_thread_rwlock_t *cred_lock;
static cred_table_t *creds;         /* NULL until the first load */

void aura_cred_child_init(apr_pool_t *pchild)
{
    creds = NULL;
    if (apr_thread_rwlock_create(&cred_lock, pchild) != APR_SUCCESS)
        cred_lock = NULL;
}

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
                     "opened: %s; skipped", id, provider,
                     err ? err : "empty secret");
        return;
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
    if (old)
        apr_pool_destroy(old->pool);
}

aura_db_outcome_e aura_cred_refresh(PGconn *conn, apr_pool_t *owner)
{
    aura_tenancy_t *ty = aura_tenancy_get();
    PGresult *res;
    aura_db_outcome_e out;
    cred_table_t *t;
    apr_pool_t *p;
    int i;

    if (!ty || !ty->has_master || !cred_lock)
        return AURA_DB_OK;
    /* Only the background thread creates and destroys these pools. */
    apr_pool_create(&p, owner);
    res = aura_db_exec(conn, CRED_SQL, 0, NULL);
    if ((out = aura_db_outcome(conn, res)) != AURA_DB_OK) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ty->s, "mod_aura: "
                     "provider credentials not reloaded: %s",
                     aura_db_error(p, conn, res));
        PQclear(res);
        apr_pool_destroy(p);
        return out;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->pool = p;
    t->by_key = apr_hash_make(p);
    apr_pool_cleanup_register(p, t, wipe_table, apr_pool_cleanup_null);
    for (i = 0; i < PQntuples(res); i++)
        add_row(t, res, i, ty->master);
    PQclear(res);
    swap_in(t);
    return AURA_DB_OK;
}

static const char *lookup(apr_pool_t *p, apr_int64_t org,
                          const char *provider)
{
    const char *v;
    char key[96];

    apr_snprintf(key, sizeof(key), "%" APR_INT64_T_FMT "/%s", org, provider);
    v = apr_hash_get(creds->by_key, key, APR_HASH_KEY_STRING);
    return v ? apr_pstrdup(p, v) : NULL;
}

const char *aura_cred_pick(aura_exchange_t *ex)
{
    const aura_provider_t *pv = ex->provider;
    const char *v = NULL;

    if (!aura_tenancy_get() || !cred_lock)
        return pv->key;
    apr_thread_rwlock_rdlock(cred_lock);
    if (creds) {
        if (ex->tenant)
            v = lookup(ex->r->pool, ex->tenant->org_id, pv->name);
        if (!v)
            v = lookup(ex->r->pool, 0, pv->name);
    }
    apr_thread_rwlock_unlock(cred_lock);
    return v ? v : pv->key;
}
