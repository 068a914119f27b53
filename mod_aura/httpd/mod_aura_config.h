/*
 * mod_aura_config.h - server and per-directory configuration.
 *
 * Credentials and upstream endpoints live only in the server config
 * (RSRC_CONF): a .htaccess author can choose among configured upstreams
 * but can never point a key at a new host. Routing directives are
 * per-directory (also .htaccess, AllowOverride FileInfo) and merge the
 * Apache way: the inner section wins; unset values (sentinels) inherit.
 */
#ifndef MOD_AURA_CONFIG_H
#define MOD_AURA_CONFIG_H

#include <httpd.h>
#include <http_config.h>
#include "aura_registry.h"
#include "aura_adapter.h"

typedef struct aura_provider {
    const char *name;           /* "openai", "sim", "vllm" ... */
    const aura_kind_t *kind;    /* openai, anthropic, bedrock, ... */
    const char *base_url;       /* without trailing slash */
    const aura_adapter_t *adapter;  /* default wire API */
    unsigned flags;             /* AURA_TF_* */
    const char *region;         /* region= (Bedrock) */
    const char *api_version;    /* api-version= (Azure, Anthropic) */
    const char *key_source;     /* "env:VAR" | "file:/path" | NULL */
    const char *key;            /* resolved at post_config; never logged */
    const char *aws_source[3];  /* access key id, secret, session token */
    aura_aws_cred_t aws;        /* resolved at post_config */
    int has_aws;
} aura_provider_t;

/* Module-wide settings: one per configuration cycle (allocated in pconf
 * at the first create_srv_conf, found again through pconf's userdata),
 * the same object behind every server_rec's config (sc->mc), as mod_md's
 * md_mod_conf_t. The tenancy directives that set it are refused in a
 * <VirtualHost> (GLOBAL_ONLY): one key store, key cache, spool and
 * ingester per httpd instance, and no merge can make vhosts disagree. */
typedef struct aura_mod_conf {
    const char *db_conninfo;    /* AuraDatabase; NULL: no tenancy */
    const char *master_key_file;/* AuraMasterKeyFile */
    const char *keycache;       /* AuraKeyCache "provider[:args]" */
    long key_ttl_s, neg_ttl_s;  /* AuraKeyCacheTTL, AuraKeyNegativeTTL */
    const char *spool_dir;      /* AuraUsageSpool */
    long flush_ms;              /* AuraUsageFlushInterval */
    long cred_refresh_s;        /* AuraCredentialRefresh */
    /* Where the first "AuraRequireKey On" is, for the startup warning
     * when there is no AuraDatabase. */
    const char *require_key_on_at;
} aura_mod_conf_t;

typedef struct aura_srv_conf {
    aura_mod_conf_t *mc;        /* module-wide, shared by every server */
    apr_hash_t *providers;      /* name → aura_provider_t* */
    apr_array_header_t *model_files;
    aura_registry_t *registry;  /* built at post_config */
    long connect_ms, first_byte_ms, idle_ms, total_ms; /* -1: unset */
} aura_srv_conf_t;

typedef struct aura_dir_conf {
    aura_rules_t rules;         /* default model, aliases, allow, routes */
    int allow_set;
    apr_off_t max_body;         /* -1: unset */
    int require_key;            /* AuraRequireKey; -1: unset (= On when
                                   AuraDatabase is set) */
} aura_dir_conf_t;

extern module AP_MODULE_DECLARE_DATA aura_module;
extern const command_rec aura_cmds[];

void *aura_create_srv_conf(apr_pool_t *p, server_rec *s);
void *aura_merge_srv_conf(apr_pool_t *p, void *base, void *add);
void *aura_create_dir_conf(apr_pool_t *p, char *dir);
void *aura_merge_dir_conf(apr_pool_t *p, void *base, void *add);

/* The module-wide settings, from any server's config. */
aura_mod_conf_t *aura_mod_conf(server_rec *s);

/* post_config: env zero-config, keys, registry. Returns NULL or an error. */
const char *aura_config_finish(apr_pool_t *p, server_rec *s);

#define AURA_DEFAULT_MAX_BODY (16 * 1024 * 1024)
#define AURA_DEFAULT_CONNECT_MS 10000
#define AURA_DEFAULT_FIRST_BYTE_MS 120000
#define AURA_DEFAULT_IDLE_MS 120000
#define AURA_DEFAULT_TOTAL_MS 600000
#define AURA_DEFAULT_KEYCACHE "shmcb"
#define AURA_DEFAULT_KEY_TTL 30
#define AURA_DEFAULT_NEG_TTL 5
#define AURA_DEFAULT_SPOOL "aura-spool"
#define AURA_DEFAULT_FLUSH_MS 1000
#define AURA_DEFAULT_CRED_REFRESH 60

#endif /* MOD_AURA_CONFIG_H */
