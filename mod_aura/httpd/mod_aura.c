/*
 * mod_aura.c - module declaration and hooks.
 *
 *   handler  (mod_aura_handler.c)  transport: body in, upstream out
 *   filter   (mod_aura_filter.c)   translation and metering of the answer
 *   config   (mod_aura_config.c)   directives
 *   tenancy  (mod_aura_tenancy.c)  keys, key cache, credentials, ledger
 *   worker   (mod_aura_worker.c)   the child's periodic tasks
 *   answer   (mod_aura_answer.c)   error answers, the overhead clock
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include "mod_aura_private.h"
#include "aura_log.h"

_Static_assert(AURA_LOG_TRACE1 == APLOG_TRACE1 && AURA_LOG_DEBUG == APLOG_DEBUG
               && AURA_LOG_TRACE8 == APLOG_TRACE8,
               "aura_log.h levels are httpd's");

/* The core's logger (aura_log.h): a request's lines go to its error log
 * at the module's per-directory level, so `LogLevel aura:trace1` in a
 * <Location> traces that location only; the file and line are the
 * core's. Code outside a request (no baton) does not log through it. */
static int core_log_is_level(const aura_log_ctx_t *ctx, int level)
{
    const request_rec *r = ctx->baton;
    return r && APLOG_R_MODULE_IS_LEVEL(r, aura_module.module_index, level);
}

static void core_log_print(const char *file, int line, int level,
                           const aura_log_ctx_t *ctx, const char *msg)
{
    const request_rec *r = ctx->baton;
    if (r)
        ap_log_rerror_(file, line, aura_module.module_index, level, 0, r,
                       "[%s] %s", ctx->id, msg);
}

static int aura_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp)
{
    (void)plog; (void)ptemp;
    aura_tenancy_pre_config(pconf);
    return OK;
}

/* Also run by `apachectl configtest`: what can be checked without
 * starting anything (the key cache's socache provider is loaded). */
static int aura_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    const char *err;
    (void)plog; (void)ptemp;

    if ((err = aura_tenancy_check(pconf, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "mod_aura: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int aura_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    const char *err;
    (void)plog;

    aura_http_global_init();
    aura_log_set(core_log_is_level, core_log_print);
    if ((err = aura_config_finish(pconf, s)) != NULL ||
        (err = aura_tenancy_post_config(pconf, ptemp, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "mod_aura: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* The periodic work of the child runs on one background worker: each
 * concern adds its tasks, then the thread starts (none without tasks). */
static void aura_child_init(apr_pool_t *pchild, server_rec *s)
{
    aura_worker_t *w = aura_worker_create(pchild, s);

    aura_tenancy_child_init(pchild, s, w);
    aura_worker_start(w);
}

static void aura_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(aura_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(aura_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(aura_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(aura_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(aura_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(AURA_TRANSLATE_FILTER, aura_translate_filter,
                              NULL, AP_FTYPE_RESOURCE);
}

AP_DECLARE_MODULE(aura) = {
    STANDARD20_MODULE_STUFF,
    aura_create_dir_conf,
    aura_merge_dir_conf,
    aura_create_srv_conf,
    aura_merge_srv_conf,
    aura_cmds,
    aura_register_hooks,
    AP_MODULE_FLAG_NONE
};
