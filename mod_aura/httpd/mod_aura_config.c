/*
 * mod_aura_config.c - directives, per-server and per-directory merging.
 *
 * Every directive is declared once, in aura_cmds below; conf/aura.conf is
 * its annotated reference and a test fails when the two drift apart.
 */
#include <stdlib.h>
#include <string.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_file_io.h>

#include "mod_aura_config.h"
#include "aura_openai_chat.h"
#include "aura_openai_responses.h"

APLOG_USE_MODULE(aura);

/* ---------------------------------------------------------------- create */

#define MOD_CONF_KEY "mod_aura-mod-conf"

/* The module-wide settings of this configuration cycle: created by the
 * first create_srv_conf (the main server's), found by the others in the
 * userdata of the same pool (pconf), gone when pconf is cleared for the
 * next cycle, so a restart starts from the sentinels again. */
static aura_mod_conf_t *mod_conf_get(apr_pool_t *p)
{
    aura_mod_conf_t *mc;
    void *v = NULL;

    apr_pool_userdata_get(&v, MOD_CONF_KEY, p);
    if (v)
        return v;
    mc = apr_pcalloc(p, sizeof(*mc));
    mc->key_ttl_s = mc->neg_ttl_s = mc->flush_ms = mc->cred_refresh_s = -1;
    apr_pool_userdata_setn(mc, MOD_CONF_KEY, apr_pool_cleanup_null, p);
    return mc;
}

void *aura_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    aura_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));
    (void)s;
    c->mc = mod_conf_get(p);
    c->providers = apr_hash_make(p);
    c->model_files = apr_array_make(p, 2, sizeof(const char *));
    c->connect_ms = c->first_byte_ms = c->idle_ms = c->total_ms = -1;
    return c;
}

#define MERGE_UNSET(f) c->f = (add->f != -1) ? add->f : base->f

void *aura_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    aura_srv_conf_t *base = basev, *add = addv;
    aura_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->mc = add->mc;            /* the same for every server: no merge */
    c->providers = apr_hash_overlay(p, add->providers, base->providers);
    c->model_files = apr_array_append(p, base->model_files, add->model_files);
    MERGE_UNSET(connect_ms);
    MERGE_UNSET(first_byte_ms);
    MERGE_UNSET(idle_ms);
    MERGE_UNSET(total_ms);
    return c;
}

void *aura_create_dir_conf(apr_pool_t *p, char *dir)
{
    aura_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->max_body = -1;
    c->require_key = -1;
    return c;
}

void *aura_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    aura_dir_conf_t *base = basev, *add = addv;
    aura_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->rules.default_model = add->rules.default_model
                                 ? add->rules.default_model
                                 : base->rules.default_model;
    /* Inner aliases first: apr_table_get returns the first match. */
    if (add->rules.aliases && base->rules.aliases)
        c->rules.aliases = apr_table_overlay(p, add->rules.aliases,
                                             base->rules.aliases);
    else
        c->rules.aliases = add->rules.aliases ? add->rules.aliases
                                              : base->rules.aliases;
    c->allow_set = add->allow_set || base->allow_set;
    c->rules.allow = add->allow_set ? add->rules.allow : base->rules.allow;
    /* Inner routes are tried first; outer ones still apply after them. */
    if (add->rules.routes && base->rules.routes)
        c->rules.routes = apr_array_append(p, add->rules.routes,
                                           base->rules.routes);
    else
        c->rules.routes = add->rules.routes ? add->rules.routes
                                            : base->rules.routes;
    MERGE_UNSET(max_body);
    MERGE_UNSET(require_key);
    return c;
}

/* ------------------------------------------------------ server directives */

static aura_srv_conf_t *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &aura_module);
}

static aura_mod_conf_t *mod_conf(cmd_parms *cmd)
{
    return srv_conf(cmd)->mc;
}

static void provider_init(aura_provider_t *pv, const char *name,
                          const aura_kind_t *kind)
{
    pv->name = name;
    pv->kind = kind;
    pv->adapter = kind->adapter;
    pv->flags = kind->flags;
}

/* The base URL without trailing slashes: paths are appended to it. */
static const char *base_url(apr_pool_t *p, const char *url)
{
    apr_size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    return apr_pstrmemdup(p, url, n);
}

static int is_url(const char *s)
{
    return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

static const char *provider_option(apr_pool_t *p, aura_provider_t *pv,
                                   const char *opt)
{
    if (!strcmp(opt, "api=chat"))
        pv->adapter = &aura_adapter_openai_chat;
    else if (!strcmp(opt, "api=responses"))
        pv->adapter = &aura_adapter_openai_responses;
    else if (!strncmp(opt, "region=", 7) && opt[7])
        pv->region = opt + 7;
    else if (!strncmp(opt, "api-version=", 12) && opt[12])
        pv->api_version = opt + 12;
    else
        return apr_psprintf(p, "AuraProvider %s: unknown option '%s' (api=, "
                            "region=, api-version=)", pv->name, opt);
    return NULL;
}

static const char *kind_names(apr_pool_t *p)
{
    const aura_kind_t *k;
    const char *out = "";
    for (k = aura_kinds; k->name; k++)
        out = apr_pstrcat(p, out, *out ? ", " : "", k->name, NULL);
    return out;
}

static const char *set_provider(cmd_parms *cmd, void *d, int argc,
                                char *const argv[])
{
    aura_srv_conf_t *c = srv_conf(cmd);
    const aura_kind_t *kind;
    aura_provider_t *pv;
    const char *err;
    int i = 2;
    (void)d;

    if (argc < 2)
        return "AuraProvider needs: name kind [base-url] [options]";
    if (strchr(argv[0], '/'))
        return "AuraProvider: a provider name cannot contain '/'";
    if (!(kind = aura_kind_find(argv[1])))
        return apr_psprintf(cmd->pool, "AuraProvider %s: unknown kind '%s' "
                            "(%s)", argv[0], argv[1], kind_names(cmd->pool));
    pv = apr_pcalloc(cmd->pool, sizeof(*pv));
    provider_init(pv, argv[0], kind);
    if (argc > 2 && is_url(argv[2]))
        pv->base_url = base_url(cmd->pool, argv[i++]);
    else if (kind->default_url)
        pv->base_url = kind->default_url;
    else
        return apr_psprintf(cmd->pool, "AuraProvider %s: kind %s needs a "
                            "base URL (http:// or https://)", argv[0],
                            argv[1]);
    for (; i < argc; i++)
        if ((err = provider_option(cmd->pool, pv, argv[i])) != NULL)
            return err;
    apr_hash_set(c->providers, pv->name, APR_HASH_KEY_STRING, pv);
    return NULL;
}

static aura_provider_t *named_provider(cmd_parms *cmd, const char *name)
{
    return apr_hash_get(srv_conf(cmd)->providers, name, APR_HASH_KEY_STRING);
}

static int secret_source(const char *src)
{
    return !strncmp(src, "env:", 4) || !strncmp(src, "file:", 5);
}

static const char *set_provider_aws(cmd_parms *cmd, void *d, int argc,
                                    char *const argv[])
{
    aura_provider_t *pv;
    int i;
    (void)d;

    if (argc < 3 || argc > 4)
        return "AuraProviderAWSKeys needs: provider access-key-id-source "
               "secret-access-key-source [session-token-source]";
    if (!(pv = named_provider(cmd, argv[0])))
        return apr_psprintf(cmd->pool, "AuraProviderAWSKeys: no AuraProvider "
                            "named '%s' above this line", argv[0]);
    for (i = 1; i < argc; i++) {
        if (!secret_source(argv[i]))
            return "AuraProviderAWSKeys: each source must be env:VARIABLE or "
                   "file:/path (literal credentials are refused)";
        pv->aws_source[i - 1] = argv[i];
    }
    pv->has_aws = 1;
    return NULL;
}

static const char *set_provider_key(cmd_parms *cmd, void *d, const char *name,
                                    const char *source)
{
    aura_provider_t *pv = named_provider(cmd, name);
    (void)d;
    if (!pv)
        return apr_psprintf(cmd->pool, "AuraProviderKey: no AuraProvider "
                            "named '%s' above this line", name);
    /* Secrets never sit in the config itself (it ends up in backups,
     * tickets and `apachectl -S` output): only a pointer to them. */
    if (!secret_source(source))
        return "AuraProviderKey: the key source must be env:VARIABLE or "
               "file:/path (a literal key is refused)";
    pv->key_source = source;
    return NULL;
}

static const char *set_models(cmd_parms *cmd, void *d, const char *path)
{
    (void)d;
    APR_ARRAY_PUSH(srv_conf(cmd)->model_files, const char *) =
        ap_server_root_relative(cmd->pool, path);
    return NULL;
}

/* "2", "1.5", "1.5s", "250ms" → milliseconds. */
static const char *parse_ms(apr_pool_t *p, const char *arg, long *out)
{
    char *end;
    double v = strtod(arg, &end);
    /* A day at most: anything larger is a typo, and keeps the cast safe. */
    if (end == arg || !(v >= 0) || v > 86400000.0)
        return apr_psprintf(p, "'%s' is not a duration (0 to 86400 s)", arg);
    if (!strcmp(end, "ms"))
        *out = (long)v;
    else if ((!*end || !strcmp(end, "s")) && v <= 86400.0)
        *out = (long)(v * 1000.0);
    else
        return apr_psprintf(p, "'%s': use seconds (1.5) or ms (1500ms)", arg);
    return NULL;
}

static const char *set_timeout(cmd_parms *cmd, void *d, const char *arg)
{
    aura_srv_conf_t *c = srv_conf(cmd);
    long *slot = (long *)((char *)c + (apr_size_t)cmd->info);
    (void)d;
    return parse_ms(cmd->pool, arg, slot);
}

/* ----------------------------------------------------------- tenancy */

/* One key store, key cache, spool and ingester per httpd instance: a
 * <VirtualHost> with its own database would need its own of each. */
static const char *tenancy_arg(cmd_parms *cmd, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err)
        return err;
    if (!*arg)
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": empty argument",
                           NULL);
    return NULL;
}

/* A string kept as given. AuraDatabase's is never echoed back: a
 * conninfo may hold a password (PGPASSFILE is where passwords belong,
 * docs/operations.md). */
static const char *set_tenancy_str(cmd_parms *cmd, void *d, const char *arg)
{
    aura_mod_conf_t *c = mod_conf(cmd);
    const char *err = tenancy_arg(cmd, arg);
    (void)d;
    if (!err)
        *(const char **)((char *)c + (apr_size_t)cmd->info) = arg;
    return err;
}

static const char *set_tenancy_path(cmd_parms *cmd, void *d, const char *arg)
{
    aura_mod_conf_t *c = mod_conf(cmd);
    const char *err = tenancy_arg(cmd, arg);
    const char **slot = (const char **)((char *)c + (apr_size_t)cmd->info);
    (void)d;
    if (!err)
        *slot = ap_server_root_relative(cmd->pool, arg);
    return err;
}

/* A whole number in [lo, hi]; `unit` ("ms") may follow it. */
static const char *parse_long(cmd_parms *cmd, const char *arg, long lo,
                              long hi, const char *unit, long *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (end == arg || (*end && !(unit && !strcmp(end, unit))) || v < lo ||
        v > hi)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number from "
                            "%ld to %ld%s%s", cmd->cmd->name, arg, lo, hi,
                            unit ? " " : "", unit ? unit : "");
    *out = v;
    return NULL;
}

static const char *set_tenancy_num(cmd_parms *cmd, void *d, const char *arg)
{
    aura_mod_conf_t *c = mod_conf(cmd);
    const char *err = tenancy_arg(cmd, arg);
    const char *name = cmd->cmd->name;
    long *slot = (long *)((char *)c + (apr_size_t)cmd->info);
    (void)d;
    if (err)
        return err;
    if (!strcmp(name, "AuraUsageFlushInterval"))
        return parse_long(cmd, arg, 10, 60000, "ms", slot);
    if (!strcmp(name, "AuraKeyNegativeTTL"))
        return parse_long(cmd, arg, 0, 3600, NULL, slot);
    return parse_long(cmd, arg, 1, 86400, NULL, slot);
}

/* --------------------------------------------------- per-dir directives */

static const char *set_default_model(cmd_parms *cmd, void *d, const char *m)
{
    (void)cmd;
    ((aura_dir_conf_t *)d)->rules.default_model = m;
    return NULL;
}

static const char *set_alias(cmd_parms *cmd, void *d, const char *alias,
                             const char *model)
{
    aura_dir_conf_t *c = d;
    if (!c->rules.aliases)
        c->rules.aliases = apr_table_make(cmd->pool, 4);
    apr_table_set(c->rules.aliases, alias, model);
    return NULL;
}

static const char *add_allow(cmd_parms *cmd, void *d, const char *glob)
{
    aura_dir_conf_t *c = d;
    if (!c->rules.allow)
        c->rules.allow = apr_array_make(cmd->pool, 4, sizeof(const char *));
    c->allow_set = 1;
    APR_ARRAY_PUSH(c->rules.allow, const char *) = glob;
    return NULL;
}

static const char *add_route(cmd_parms *cmd, void *d, const char *glob,
                             const char *provider, const char *upstream)
{
    aura_dir_conf_t *c = d;
    aura_route_rule_t *rr;
    if (!c->rules.routes)
        c->rules.routes = apr_array_make(cmd->pool, 4, sizeof(*rr));
    rr = apr_array_push(c->rules.routes);
    rr->pattern = glob;
    rr->provider = provider;
    rr->upstream = upstream;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *d, const char *arg)
{
    apr_off_t v;
    if (apr_strtoff(&v, arg, NULL, 10) != APR_SUCCESS || v <= 0)
        return apr_psprintf(cmd->pool, "AuraMaxBodySize: '%s' is not a "
                            "positive number of bytes", arg);
    ((aura_dir_conf_t *)d)->max_body = v;
    return NULL;
}

static const char *set_require_key(cmd_parms *cmd, void *d, int on)
{
    aura_mod_conf_t *mc = mod_conf(cmd);

    ((aura_dir_conf_t *)d)->require_key = on;
    if (on && !mc->require_key_on_at && cmd->directive)
        mc->require_key_on_at = apr_psprintf(cmd->pool, "%s:%d",
                                             cmd->directive->filename,
                                             cmd->directive->line_num);
    return NULL;
}

#define DIR_SCOPE (RSRC_CONF | ACCESS_CONF | OR_FILEINFO)
#define TENANCY(name, fn, field, help) \
    AP_INIT_TAKE1(name, fn, (void *)APR_OFFSETOF(aura_mod_conf_t, field), \
                  RSRC_CONF, help)
#define TIMEOUT(name, field, help) \
    AP_INIT_TAKE1(name, set_timeout, \
                  (void *)APR_OFFSETOF(aura_srv_conf_t, field), RSRC_CONF, help)

const command_rec aura_cmds[] = {
    AP_INIT_TAKE_ARGV("AuraProvider", set_provider, NULL, RSRC_CONF,
                      "name kind [base-url] [api=|region=|api-version=]"),
    AP_INIT_TAKE2("AuraProviderKey", set_provider_key, NULL, RSRC_CONF,
                  "provider env:VARIABLE|file:/path"),
    AP_INIT_TAKE_ARGV("AuraProviderAWSKeys", set_provider_aws, NULL,
                      RSRC_CONF, "provider access-key-id-source "
                      "secret-access-key-source [session-token-source]"),
    AP_INIT_TAKE1("AuraModels", set_models, NULL, RSRC_CONF,
                  "model registry JSON file (repeatable, later files win)"),
    TIMEOUT("AuraConnectTimeout", connect_ms, "upstream connect timeout"),
    TIMEOUT("AuraFirstByteTimeout", first_byte_ms,
            "upstream time to first response byte"),
    TIMEOUT("AuraIdleTimeout", idle_ms, "upstream silence mid-response"),
    TIMEOUT("AuraTotalTimeout", total_ms, "whole upstream transfer"),
    AP_INIT_TAKE1("AuraDefaultModel", set_default_model, NULL, DIR_SCOPE,
                  "model used when the request names none"),
    AP_INIT_TAKE2("AuraModelAlias", set_alias, NULL, DIR_SCOPE,
                  "alias model"),
    AP_INIT_ITERATE("AuraAllowModels", add_allow, NULL, DIR_SCOPE,
                    "glob patterns of the models allowed here"),
    AP_INIT_TAKE23("AuraRoute", add_route, NULL, DIR_SCOPE,
                   "model-glob provider [upstream-model]"),
    /* Not in .htaccess: bodies are held in memory, and a .htaccess author
     * must not be able to raise what one request may cost the server. */
    AP_INIT_TAKE1("AuraMaxBodySize", set_max_body, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "largest request body accepted, in bytes"),
    TENANCY("AuraDatabase", set_tenancy_str, db_conninfo,
            "libpq conninfo of the tenancy database (enables keys)"),
    TENANCY("AuraMasterKeyFile", set_tenancy_path, master_key_file,
            "file with the master key that opens provider credentials"),
    TENANCY("AuraKeyCache", set_tenancy_str, keycache,
            "socache provider[:args] for virtual key records"),
    TENANCY("AuraKeyCacheTTL", set_tenancy_num, key_ttl_s,
            "seconds a key record is cached (revocation delay)"),
    TENANCY("AuraKeyNegativeTTL", set_tenancy_num, neg_ttl_s,
            "seconds an unknown key id is remembered as unknown"),
    TENANCY("AuraUsageSpool", set_tenancy_path, spool_dir,
            "directory of the usage ledger spool"),
    TENANCY("AuraUsageFlushInterval", set_tenancy_num, flush_ms,
            "milliseconds between moves of the spool into PostgreSQL"),
    TENANCY("AuraCredentialRefresh", set_tenancy_num, cred_refresh_s,
            "seconds between reloads of provider credentials"),
    /* Not in .htaccess: its author must not be able to switch keys off. */
    AP_INIT_FLAG("AuraRequireKey", set_require_key, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "On: a virtual key is required here (with AuraDatabase)"),
    {NULL}
};

/* ------------------------------------------------------------ post_config */

static const char *read_key_file(apr_pool_t *p, const char *path,
                                 const char **key)
{
    char buf[4096];
    apr_file_t *f;
    apr_size_t n = sizeof(buf) - 1;

    if (apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p) !=
        APR_SUCCESS)
        return apr_psprintf(p, "cannot open key file %s", path);
    apr_file_read(f, buf, &n);
    apr_file_close(f);
    if (n == sizeof(buf) - 1)
        return apr_psprintf(p, "key file %s is larger than %d bytes", path,
                            (int)sizeof(buf) - 2);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                 buf[n - 1] == ' '))
        buf[--n] = '\0';
    *key = n ? apr_pstrdup(p, buf) : NULL;
    return NULL;
}

/* A secret from env:VAR or file:/path; NULL value when the variable is
 * unset (a warning: the request then goes out without it). */
static const char *read_secret(apr_pool_t *p, server_rec *s,
                               const char *who, const char *src,
                               const char **out)
{
    *out = NULL;
    if (!src)
        return NULL;
    if (!strncmp(src, "env:", 4)) {
        const char *v = getenv(src + 4);
        *out = (v && *v) ? apr_pstrdup(p, v) : NULL;
        if (!*out)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "%s: environment "
                         "variable %s is not set", who, src + 4);
        return NULL;
    }
    return read_key_file(p, src + 5, out);
}

static const char *resolve_secrets(apr_pool_t *p, server_rec *s,
                                   aura_provider_t *pv)
{
    const char *who = apr_pstrcat(p, "provider ", pv->name, NULL);
    const char *err;

    if ((err = read_secret(p, s, who, pv->key_source, &pv->key)) != NULL)
        return err;
    if (!pv->has_aws)
        return NULL;
    if ((err = read_secret(p, s, who, pv->aws_source[0],
                           &pv->aws.access_key_id)) ||
        (err = read_secret(p, s, who, pv->aws_source[1],
                           &pv->aws.secret_access_key)) ||
        (err = read_secret(p, s, who, pv->aws_source[2],
                           &pv->aws.session_token)))
        return err;
    pv->has_aws = pv->aws.access_key_id && pv->aws.secret_access_key;
    return NULL;
}

static const char *env_or(const char *var, const char *dflt)
{
    const char *v = var ? getenv(var) : NULL;
    return (v && *v) ? v : dflt;
}

/* Bedrock from the AWS environment: keys (or a Bedrock API key), region,
 * and the runtime endpoint of that region unless BEDROCK_BASE_URL says. */
static int bedrock_from_env(apr_pool_t *p, aura_provider_t *pv)
{
    const char *region = env_or("AWS_REGION",
                                env_or("AWS_DEFAULT_REGION", "us-east-1"));
    int keys = getenv("AWS_ACCESS_KEY_ID") && getenv("AWS_SECRET_ACCESS_KEY");

    if (!keys && !getenv("AWS_BEARER_TOKEN_BEDROCK"))
        return 0;
    pv->region = region;
    pv->base_url = base_url(p, env_or("BEDROCK_BASE_URL", apr_psprintf(p,
                   "https://bedrock-runtime.%s.amazonaws.com", region)));
    if (keys) {
        pv->has_aws = 1;
        pv->aws_source[0] = "env:AWS_ACCESS_KEY_ID";
        pv->aws_source[1] = "env:AWS_SECRET_ACCESS_KEY";
        if (getenv("AWS_SESSION_TOKEN"))
            pv->aws_source[2] = "env:AWS_SESSION_TOKEN";
    }
    return 1;
}

/* Zero-config: a provider named after its kind for every kind whose
 * environment variables are set (OPENAI_API_KEY, ANTHROPIC_API_KEY,
 * GEMINI_API_KEY, MISTRAL_API_KEY, OLLAMA_BASE_URL, AWS_*, AZURE_OPENAI_*,
 * HF_TOKEN, and their *_BASE_URL), unless the config declares that name. */
static void kind_from_env(apr_pool_t *p, server_rec *s, aura_srv_conf_t *c,
                          const aura_kind_t *k)
{
    aura_provider_t *pv;
    const char *url = env_or(k->env_url, NULL);
    const char *key = env_or(k->env_key, NULL);

    if (apr_hash_get(c->providers, k->name, APR_HASH_KEY_STRING))
        return;
    pv = apr_pcalloc(p, sizeof(*pv));
    provider_init(pv, k->name, k);
    if (!strcmp(k->name, "bedrock")) {
        if (!bedrock_from_env(p, pv))
            return;
    }
    else if (!url && !key) {
        return;
    }
    else if (!pv->base_url && !(url || k->default_url)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "provider %s: %s is "
                     "set but %s is not; not configured", k->name,
                     k->env_key, k->env_url);
        return;
    }
    if (!pv->base_url)
        pv->base_url = base_url(p, url ? url : k->default_url);
    if (key)
        pv->key_source = apr_pstrcat(p, "env:", k->env_key, NULL);
    if (!strcmp(k->name, "azure"))
        pv->api_version = env_or("AZURE_OPENAI_API_VERSION", NULL);
    apr_hash_set(c->providers, pv->name, APR_HASH_KEY_STRING, pv);
}

static void providers_from_env(apr_pool_t *p, server_rec *s,
                               aura_srv_conf_t *c)
{
    const aura_kind_t *k;
    for (k = aura_kinds; k->name; k++)
        if (k->env_key || k->env_url)
            kind_from_env(p, s, c, k);
}

static const char *finish_server(apr_pool_t *p, server_rec *s)
{
    aura_srv_conf_t *c = ap_get_module_config(s->module_config, &aura_module);
    apr_hash_index_t *hi;
    const char *err;
    int i;

    providers_from_env(p, s, c);
    for (hi = apr_hash_first(p, c->providers); hi; hi = apr_hash_next(hi)) {
        aura_provider_t *pv = apr_hash_this_val(hi);
        if ((err = resolve_secrets(p, s, pv)) != NULL)
            return apr_psprintf(p, "provider %s: %s", pv->name, err);
    }
    c->registry = aura_registry_create(p);
    for (i = 0; i < c->model_files->nelts; i++) {
        const char *f = APR_ARRAY_IDX(c->model_files, i, const char *);
        if ((err = aura_registry_load(c->registry, f)) != NULL)
            return apr_psprintf(p, "AuraModels: %s", err);
    }
    if (c->connect_ms < 0) c->connect_ms = AURA_DEFAULT_CONNECT_MS;
    if (c->first_byte_ms < 0) c->first_byte_ms = AURA_DEFAULT_FIRST_BYTE_MS;
    if (c->idle_ms < 0) c->idle_ms = AURA_DEFAULT_IDLE_MS;
    if (c->total_ms < 0) c->total_ms = AURA_DEFAULT_TOTAL_MS;
    return NULL;
}

/* Once per cycle, not per server: every server shares these. */
static void finish_module(apr_pool_t *p, aura_mod_conf_t *c)
{
    if (!c->keycache) c->keycache = AURA_DEFAULT_KEYCACHE;
    if (c->key_ttl_s < 0) c->key_ttl_s = AURA_DEFAULT_KEY_TTL;
    if (c->neg_ttl_s < 0) c->neg_ttl_s = AURA_DEFAULT_NEG_TTL;
    if (c->flush_ms < 0) c->flush_ms = AURA_DEFAULT_FLUSH_MS;
    if (c->cred_refresh_s < 0) c->cred_refresh_s = AURA_DEFAULT_CRED_REFRESH;
    if (!c->spool_dir)
        c->spool_dir = ap_runtime_dir_relative(p, AURA_DEFAULT_SPOOL);
}

/* Keys are only checked with AuraDatabase: without it, a location the
 * operator meant to protect would be open. Said, not refused, so that a
 * configuration can be written before its database exists. */
static void warn_require_key(server_rec *s, const aura_mod_conf_t *mc)
{
    if (mc->require_key_on_at && !mc->db_conninfo)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mod_aura: "
                     "AuraRequireKey On (%s) has no effect without "
                     "AuraDatabase: no virtual key is checked and requests "
                     "are served without one", mc->require_key_on_at);
}

aura_mod_conf_t *aura_mod_conf(server_rec *s)
{
    aura_srv_conf_t *c = ap_get_module_config(s->module_config, &aura_module);
    return c->mc;
}

const char *aura_config_finish(apr_pool_t *p, server_rec *s)
{
    aura_mod_conf_t *mc = aura_mod_conf(s);
    const char *err;

    warn_require_key(s, mc);
    finish_module(p, mc);
    for (; s; s = s->next)
        if ((err = finish_server(p, s)) != NULL)
            return err;
    return NULL;
}
