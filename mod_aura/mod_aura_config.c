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

APLOG_USE_MODULE(aura);

/* ---------------------------------------------------------------- create */

void *aura_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    aura_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));
    (void)s;
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
    return c;
}

/* ------------------------------------------------------ server directives */

static aura_srv_conf_t *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &aura_module);
}

static void provider_kind(aura_provider_t *pv, const char *kind)
{
    pv->kind = kind;
    if (!strcmp(kind, "openai")) {
        /* OpenAI itself: Responses API by default, every extension. */
        pv->adapter = &aura_adapter_openai_responses;
        pv->flags = AURA_TF_MAX_COMPLETION_TOKENS | AURA_TF_REASONING_EFFORT |
                    AURA_TF_OPENAI_EXTRAS | AURA_TF_ALLOWED_TOOLS;
    }
    else {
        pv->adapter = &aura_adapter_openai_chat;
        pv->flags = 0;
    }
}

/* The base URL without trailing slashes: paths are appended to it. */
static const char *base_url(apr_pool_t *p, const char *url)
{
    apr_size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    return apr_pstrmemdup(p, url, n);
}

static const char *set_provider(cmd_parms *cmd, void *d, int argc,
                                char *const argv[])
{
    aura_srv_conf_t *c = srv_conf(cmd);
    aura_provider_t *pv;
    const char *url;
    int i;
    (void)d;

    if (argc < 3)
        return "AuraProvider needs: name kind base-url [api=responses|chat]";
    if (strcmp(argv[1], "openai") && strcmp(argv[1], "openai-compatible"))
        return apr_psprintf(cmd->pool, "AuraProvider %s: unknown kind '%s' "
                            "(openai, openai-compatible)", argv[0], argv[1]);
    url = argv[2];
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return apr_psprintf(cmd->pool, "AuraProvider %s: the base URL must "
                            "start with http:// or https://", argv[0]);
    if (strchr(argv[0], '/'))
        return "AuraProvider: a provider name cannot contain '/'";
    pv = apr_pcalloc(cmd->pool, sizeof(*pv));
    pv->name = argv[0];
    provider_kind(pv, argv[1]);
    pv->base_url = base_url(cmd->pool, url);
    for (i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "api=chat"))
            pv->adapter = &aura_adapter_openai_chat;
        else if (!strcmp(argv[i], "api=responses"))
            pv->adapter = &aura_adapter_openai_responses;
        else
            return apr_psprintf(cmd->pool, "AuraProvider %s: unknown option "
                                "'%s'", argv[0], argv[i]);
    }
    apr_hash_set(c->providers, pv->name, APR_HASH_KEY_STRING, pv);
    return NULL;
}

static const char *set_provider_key(cmd_parms *cmd, void *d, const char *name,
                                    const char *source)
{
    aura_provider_t *pv = apr_hash_get(srv_conf(cmd)->providers, name,
                                       APR_HASH_KEY_STRING);
    (void)d;
    if (!pv)
        return apr_psprintf(cmd->pool, "AuraProviderKey: no AuraProvider "
                            "named '%s' above this line", name);
    /* Secrets never sit in the config itself (it ends up in backups,
     * tickets and `apachectl -S` output): only a pointer to them. */
    if (strncmp(source, "env:", 4) && strncmp(source, "file:", 5))
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

#define DIR_SCOPE (RSRC_CONF | ACCESS_CONF | OR_FILEINFO)
#define TIMEOUT(name, field, help) \
    AP_INIT_TAKE1(name, set_timeout, \
                  (void *)APR_OFFSETOF(aura_srv_conf_t, field), RSRC_CONF, help)

const command_rec aura_cmds[] = {
    AP_INIT_TAKE_ARGV("AuraProvider", set_provider, NULL, RSRC_CONF,
                      "name kind base-url [api=responses|chat]"),
    AP_INIT_TAKE2("AuraProviderKey", set_provider_key, NULL, RSRC_CONF,
                  "provider env:VARIABLE|file:/path"),
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

static const char *resolve_key(apr_pool_t *p, server_rec *s,
                               aura_provider_t *pv)
{
    const char *src = pv->key_source;
    if (!src)
        return NULL; /* keyless upstream (a local vLLM or Ollama) */
    if (!strncmp(src, "env:", 4)) {
        const char *v = getenv(src + 4);
        pv->key = (v && *v) ? apr_pstrdup(p, v) : NULL;
        if (!pv->key)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "AuraProviderKey %s: environment variable %s is "
                         "not set; requests go out without a key",
                         pv->name, src + 4);
        return NULL;
    }
    return read_key_file(p, src + 5, &pv->key);
}

/* Zero-config: OPENAI_API_KEY / OPENAI_BASE_URL in the environment give
 * an "openai" provider when the config declares none. */
static void provider_from_env(apr_pool_t *p, aura_srv_conf_t *c)
{
    const char *url = getenv("OPENAI_BASE_URL");
    aura_provider_t *pv;

    if (apr_hash_get(c->providers, "openai", APR_HASH_KEY_STRING) ||
        (!getenv("OPENAI_API_KEY") && !url))
        return;
    pv = apr_pcalloc(p, sizeof(*pv));
    pv->name = "openai";
    provider_kind(pv, "openai");
    pv->base_url = base_url(p, (url && *url) ? url
                                             : "https://api.openai.com/v1");
    pv->key_source = "env:OPENAI_API_KEY";
    apr_hash_set(c->providers, pv->name, APR_HASH_KEY_STRING, pv);
}

static const char *finish_server(apr_pool_t *p, server_rec *s)
{
    aura_srv_conf_t *c = ap_get_module_config(s->module_config, &aura_module);
    apr_hash_index_t *hi;
    const char *err;
    int i;

    provider_from_env(p, c);
    for (hi = apr_hash_first(p, c->providers); hi; hi = apr_hash_next(hi)) {
        aura_provider_t *pv = apr_hash_this_val(hi);
        if ((err = resolve_key(p, s, pv)) != NULL)
            return apr_psprintf(p, "AuraProviderKey %s: %s", pv->name, err);
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

const char *aura_config_finish(apr_pool_t *p, server_rec *s)
{
    const char *err;
    for (; s; s = s->next)
        if ((err = finish_server(p, s)) != NULL)
            return err;
    return NULL;
}
