/*
 * mod_aura_tenancy.c - the tenancy's lifecycle and its key cache.
 *
 * AuraDatabase switches tenancy on for the whole httpd instance. At
 * post_config (as root) the master key file is read and the socache of
 * key records is created, with a global mutex when the provider needs one
 * (shmcb: the pattern of httpd's modules/ssl/ssl_scache.c). Each child
 * re-attaches the mutex and starts its database pool, its credentials
 * table and its spool writer, and gives the worker (mod_aura_worker.c)
 * its tasks: credential refresh and ledger ingestion.
 */
#include <string.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_provider.h>
#include <util_mutex.h>
#include <openssl/crypto.h>

#include "mod_aura_private.h"

APLOG_USE_MODULE(aura);

#define KEYCACHE_MUTEX "aura-keycache"
#define KEYCACHE_NAMESPACE "mod_aura-keys"
#define CACHE_ID_PREFIX "vk:"

static aura_tenancy_t *tenancy;     /* in pconf; children inherit it */

aura_tenancy_t *aura_tenancy_get(void)
{
    return tenancy;
}

void aura_tenancy_pre_config(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, KEYCACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

/* "shmcb" or "shmcb:/path(512000)" → the provider and its arguments. */
static const char *cache_provider(apr_pool_t *p, const char *spec,
                                  const ap_socache_provider_t **prov,
                                  const char **args)
{
    const char *colon = strchr(spec, ':');
    const char *name = colon ? apr_pstrmemdup(p, spec, (apr_size_t)(colon -
                                                                     spec))
                             : spec;
    *args = colon ? colon + 1 : NULL;
    *prov = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                               AP_SOCACHE_PROVIDER_VERSION);
    if (!*prov)
        return apr_psprintf(p, "AuraKeyCache: the socache provider '%s' is "
                            "not loaded; AuraDatabase needs it (LoadModule "
                            "socache_%s_module modules/mod_socache_%s.so)",
                            name, name, name);
    return NULL;
}

/* check_config: also run by `apachectl configtest`. */
const char *aura_tenancy_check(apr_pool_t *pconf, server_rec *s)
{
    const aura_mod_conf_t *c = aura_mod_conf(s);
    const ap_socache_provider_t *prov;
    const char *args;

    if (!c->db_conninfo)
        return NULL;
    return cache_provider(pconf, c->keycache ? c->keycache
                                             : AURA_DEFAULT_KEYCACHE,
                          &prov, &args);
}

static apr_status_t tenancy_cleanup(void *data)
{
    aura_tenancy_t *t = data;
    OPENSSL_cleanse(t->master, sizeof(t->master));
    if (tenancy == t)
        tenancy = NULL;
    return APR_SUCCESS;
}

/* Registered after init, so it runs before the provider's own cleanups
 * (LIFO) release what destroy would touch. */
static apr_status_t cache_cleanup(void *data)
{
    aura_tenancy_t *t = data;
    if (t->cache_inst)
        t->cache->destroy(t->cache_inst, t->s);
    t->cache_inst = NULL;
    return APR_SUCCESS;
}

static const char *cache_init(aura_tenancy_t *t, apr_pool_t *pconf,
                              apr_pool_t *ptemp, const char *spec)
{
    struct ap_socache_hints hints;
    const char *args, *err;
    apr_status_t rv;

    if ((err = cache_provider(ptemp, spec, &t->cache, &args)) != NULL)
        return err;
    if ((err = t->cache->create(&t->cache_inst, args, ptemp, pconf)) != NULL)
        return apr_psprintf(ptemp, "AuraKeyCache: %s", err);
    if ((t->cache->flags & AP_SOCACHE_FLAG_NOTMPSAFE) &&
        (rv = ap_global_mutex_create(&t->cache_mutex, NULL, KEYCACHE_MUTEX,
                                     NULL, t->s, pconf, 0)) != APR_SUCCESS)
        return "AuraKeyCache: cannot create its mutex";
    memset(&hints, 0, sizeof(hints));
    hints.avg_id_len = sizeof(CACHE_ID_PREFIX) - 1 + AURA_VKEY_ID_LEN;
    hints.avg_obj_size = 200;
    hints.expiry_interval = apr_time_from_sec(30);
    if ((rv = t->cache->init(t->cache_inst, KEYCACHE_NAMESPACE, &hints, t->s,
                             pconf)) != APR_SUCCESS)
        return "AuraKeyCache: the cache could not be initialised";
    apr_pool_cleanup_register(pconf, t, cache_cleanup, apr_pool_cleanup_null);
    return NULL;
}

static aura_tenancy_t *tenancy_make(apr_pool_t *pconf, server_rec *s,
                                    const aura_mod_conf_t *c)
{
    aura_tenancy_t *t = apr_pcalloc(pconf, sizeof(*t));
    t->s = s;
    t->mc = c;
    apr_pool_cleanup_register(pconf, t, tenancy_cleanup,
                              apr_pool_cleanup_null);
    return t;
}

const char *aura_tenancy_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                                     server_rec *s)
{
    const aura_mod_conf_t *c = aura_mod_conf(s);
    aura_tenancy_t *t;
    const char *err;

    tenancy = NULL;
    if (!c->db_conninfo)
        return NULL;
    t = tenancy_make(pconf, s, c);
    /* Read here, as root: the file may be unreadable to the workers. */
    if (c->master_key_file) {
        if ((err = aura_master_key_load(ptemp, c->master_key_file,
                                        t->master)) != NULL)
            return apr_psprintf(ptemp, "AuraMasterKeyFile %s: %s",
                                c->master_key_file, err);
        t->has_master = 1;
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mod_aura: no "
                     "AuraMasterKeyFile: provider credentials stored in the "
                     "database are not used");
    }
    if ((err = cache_init(t, pconf, ptemp, c->keycache)) != NULL ||
        (err = aura_ledger_post_config(pconf, c->spool_dir)) != NULL)
        return err;
    tenancy = t;
    aura_cred_post_config(pconf, ptemp);
    return NULL;
}

void aura_tenancy_child_init(apr_pool_t *pchild, server_rec *s,
                             aura_worker_t *w)
{
    aura_tenancy_t *t = tenancy;
    apr_status_t rv;

    if (!t)
        return;
    if (t->cache_mutex &&
        (rv = apr_global_mutex_child_init(&t->cache_mutex,
                  apr_global_mutex_lockfile(t->cache_mutex), pchild))
            != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_aura: cannot "
                     "re-attach the key cache mutex");
    t->db = aura_db_pool_create(pchild, s, t->mc->db_conninfo);
    aura_cred_child_init(pchild, w);
    aura_ledger_child_init(pchild, s, w);
}

/* ------------------------------------------------------------ key cache */

static void cache_lock(aura_tenancy_t *t)
{
    if (t->cache_mutex)
        apr_global_mutex_lock(t->cache_mutex);
}

static void cache_unlock(aura_tenancy_t *t)
{
    if (t->cache_mutex)
        apr_global_mutex_unlock(t->cache_mutex);
}

int aura_keycache_get(request_rec *r, const char *key_id, aura_tenant_t *t)
{
    aura_tenancy_t *ty = tenancy;
    unsigned char id[sizeof(CACHE_ID_PREFIX) + AURA_VKEY_ID_LEN];
    unsigned char buf[AURA_TENANT_REC_MAX];
    unsigned int n = sizeof(buf), idlen = sizeof(id) - 1;
    apr_status_t rv;

    memcpy(id, CACHE_ID_PREFIX, sizeof(CACHE_ID_PREFIX) - 1);
    memcpy(id + sizeof(CACHE_ID_PREFIX) - 1, key_id, AURA_VKEY_ID_LEN);
    cache_lock(ty);
    rv = ty->cache->retrieve(ty->cache_inst, r->server, id, idlen, buf, &n,
                             r->pool);
    cache_unlock(ty);
    return rv == APR_SUCCESS && aura_tenant_decode(r->pool, buf, n, t) == 0;
}

void aura_keycache_put(request_rec *r, const aura_tenant_t *t)
{
    aura_tenancy_t *ty = tenancy;
    unsigned char id[sizeof(CACHE_ID_PREFIX) + AURA_VKEY_ID_LEN];
    unsigned char *buf;
    apr_interval_time_t ttl = apr_time_from_sec(t->state == AURA_KEY_UNKNOWN
                                                ? ty->mc->neg_ttl_s
                                                : ty->mc->key_ttl_s);
    apr_size_t n;

    if (ttl <= 0)
        return;
    buf = apr_palloc(r->pool, AURA_TENANT_REC_MAX);
    if (!(n = aura_tenant_encode(t, buf, AURA_TENANT_REC_MAX))) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "key %s: its record "
                      "is larger than %d bytes and is not cached",
                      t->key_id, AURA_TENANT_REC_MAX);
        return;
    }
    memcpy(id, CACHE_ID_PREFIX, sizeof(CACHE_ID_PREFIX) - 1);
    memcpy(id + sizeof(CACHE_ID_PREFIX) - 1, t->key_id, AURA_VKEY_ID_LEN);
    cache_lock(ty);
    ty->cache->store(ty->cache_inst, r->server, id, sizeof(id) - 1,
                     apr_time_now() + ttl, buf, (unsigned int)n, r->pool);
    cache_unlock(ty);
}
