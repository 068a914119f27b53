/*
 * mod_aura_answer.c - answers that end a request early (errors, the
 * non-generation endpoints' JSON) and the overhead clock.
 *
 * Their own file so that auth, front, filter, credentials and ledger
 * depend on this small piece instead of on the handler, which only
 * mod_aura.c calls.
 */
#include <httpd.h>
#include <http_protocol.h>

#include "mod_aura_private.h"

APLOG_USE_MODULE(aura);

int aura_send_json(aura_exchange_t *ex, json_object *doc)
{
    request_rec *r = ex->r;
    apr_size_t n;
    const char *text = aura_json_str(r->pool, aura_json_pool(r->pool, doc),
                                     &n);

    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)n);
    ap_rwrite(text, (int)n, r);
    return OK;
}

int aura_send_error(aura_exchange_t *ex, const aura_error_t *e)
{
    request_rec *r = ex->r;

    AURA_LOG(ex, e->status >= 500 ? APLOG_WARNING : APLOG_INFO,
             "%d %s%s%s: %s", e->status, e->code ? e->code : e->type,
             e->param ? " param=" : "", e->param ? e->param : "", e->message);
    r->status = e->status;
    if (e->retry_after)
        apr_table_setn(r->err_headers_out, "Retry-After", e->retry_after);
    return aura_send_json(ex, ex->front->error(e));
}

apr_interval_time_t aura_overhead_now(const aura_exchange_t *ex)
{
    apr_interval_time_t t = ex->pre_time + ex->filter_time;
    if (ex->filter_entered)
        t += apr_time_now() - ex->filter_entered - ex->passing_time;
    return t;
}
