/*
 * mod_aura_filter.c - AURA_TRANSLATE, the output filter that turns a
 * provider's bytes into the client's answer.
 *
 * Upstream bytes arrive as data buckets in any split. They are fed to the
 * provider's decoder, which drives the response builder; the builder emits
 * complete Open Responses events to the sink below, which frames each one
 * as SSE and passes it on with a FLUSH at once (streams are never
 * buffered). A non-streaming answer is one JSON document, written at EOS.
 * Metering (cost, `aura`) runs in the builder's finalize hook, so a live
 * stream and a JSON body are enriched by the same code.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "mod_aura_private.h"

APLOG_USE_MODULE(aura);

static apr_status_t pass_now(aura_exchange_t *ex)
{
    ap_filter_t *f = ex->filter;
    apr_time_t t0 = apr_time_now();
    apr_status_t rv;

    rv = ap_pass_brigade(f->next, ex->out_bb);
    apr_brigade_cleanup(ex->out_bb);
    ex->passing_time += apr_time_now() - t0;
    if (rv != APR_SUCCESS || f->c->aborted)
        ex->client_gone = 1;
    return ex->client_gone ? APR_ECONNABORTED : APR_SUCCESS;
}

/* Wire bytes from the front door's encoder, copied into bucket memory and
 * appended to the outgoing brigade. aura_filter_flush sends what is there,
 * with a FLUSH, as soon as the upstream piece that produced it is
 * consumed, so events that complete together leave in one write and none
 * waits for more. */
static apr_status_t emit_frame(void *baton, const char *data, apr_size_t n)
{
    aura_exchange_t *ex = baton;
    apr_bucket_alloc_t *ba = ex->r->connection->bucket_alloc;

    if (ex->client_gone)
        return APR_ECONNABORTED;
    if (n)
        APR_BRIGADE_INSERT_TAIL(ex->out_bb,
                                apr_bucket_heap_create(data, n, NULL, ba));
    return APR_SUCCESS;
}

/* The builder's sink: each complete event, through the front door. */
static apr_status_t front_sink(void *baton, const char *type, json_object *ev)
{
    aura_exchange_t *ex = baton;
    if (ex->client_gone)
        return APR_ECONNABORTED;
    return ex->front->stream_event(ex->front_state, type, ev, emit_frame, ex);
}

apr_status_t aura_filter_flush(aura_exchange_t *ex)
{
    if (APR_BRIGADE_EMPTY(ex->out_bb))
        return ex->client_gone ? APR_ECONNABORTED : APR_SUCCESS;
    APR_BRIGADE_INSERT_TAIL(ex->out_bb, apr_bucket_flush_create(
                                ex->filter->c->bucket_alloc));
    return pass_now(ex);
}

static void on_finalize(void *baton, aura_rb_t *rb, json_object *resource)
{
    aura_exchange_t *ex = baton;
    ex->meter.overhead_us = aura_overhead_now(ex);
    aura_meter_apply(resource, aura_rb_get_usage(rb),
                     aura_rb_get_cache_write(rb), &ex->meter);
    aura_tenant_apply(resource, ex->tenant, ex->end_user);
}

void aura_filter_attach(aura_exchange_t *ex)
{
    request_rec *r = ex->r;

    r->status = HTTP_OK;
    if (ex->stream) {
        ap_set_content_type(r, "text/event-stream");
        apr_table_setn(r->headers_out, "Cache-Control", "no-cache");
        /* Ask intermediaries (nginx, mod_deflate users) not to buffer. */
        apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
        ex->front_state = ex->front->stream_open(r->pool, ex->req, ex->rb);
        aura_rb_set_sink(ex->rb, front_sink, ex);
    }
    else {
        ap_set_content_type(r, "application/json");
    }
    aura_rb_set_finalize(ex->rb, on_finalize, ex);
    ex->filter = ap_add_output_filter(AURA_TRANSLATE_FILTER, ex, r,
                                      r->connection);
    ex->out_bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
}

/* A failed non-streaming answer is an HTTP error, not a 200 with a
 * failed resource: clients check the status first. */
static aura_error_t *failure_of(aura_exchange_t *ex)
{
    json_object *res = aura_rb_resource(ex->rb);
    json_object *err = aura_json_get(res, "error");
    const char *code = aura_json_string(err, "code");
    int status = ex->upstream_error ? ex->upstream_error->status : 502;

    return aura_error_make(ex->r->pool, status, "server_error",
                           code ? code : "upstream_error", NULL, "%s",
                           aura_json_string(err, "message")
                               ? aura_json_string(err, "message")
                               : "The provider's answer could not be used.");
}

static apr_status_t write_json(aura_exchange_t *ex)
{
    request_rec *r = ex->r;
    json_object *doc;
    const char *text;
    apr_size_t n;

    if (aura_rb_failed(ex->rb)) {
        aura_error_t *e = failure_of(ex);
        r->status = e->status;
        AURA_LOG(ex, APLOG_WARNING, "%d %s: %s", e->status, e->code,
                 e->message);
        doc = aura_json_pool(r->pool, ex->front->error(e));
    }
    else {
        doc = aura_json_pool(r->pool, ex->front->body(r->pool, ex->req,
                                                       aura_rb_resource(ex->rb)));
    }
    text = aura_json_str(r->pool, doc, &n);
    ap_set_content_length(r, (apr_off_t)n);
    APR_BRIGADE_INSERT_TAIL(ex->out_bb, apr_bucket_pool_create(
                                text, n, r->pool, r->connection->bucket_alloc));
    return APR_SUCCESS;
}

/* Upstream EOF: end the response exactly once, whatever happened. */
static apr_status_t at_eos(aura_exchange_t *ex)
{
    const char *trailer = ex->front->stream_trailer;

    if (ex->upstream_error && !aura_rb_ended(ex->rb))
        aura_rb_fail(ex->rb, ex->upstream_error);
    if (!aura_rb_ended(ex->rb))
        aura_decoder_end(ex->dec);
    if (!ex->stream)
        return write_json(ex);
    if (ex->client_gone)
        return APR_ECONNABORTED;
    if (trailer)
        APR_BRIGADE_INSERT_TAIL(ex->out_bb, apr_bucket_immortal_create(
                                    trailer, strlen(trailer),
                                    ex->filter->c->bucket_alloc));
    return APR_SUCCESS;
}

static apr_status_t feed(aura_exchange_t *ex, apr_bucket *b)
{
    const char *data;
    apr_size_t n;
    apr_status_t rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ);

    if (rv != APR_SUCCESS)
        return rv;
    if (ex->stream)
        aura_rb_start(ex->rb); /* created + in_progress before any item */
    rv = n ? aura_decoder_feed(ex->dec, data, n) : APR_SUCCESS;
    if (rv == APR_SUCCESS && ex->stream)
        rv = aura_filter_flush(ex);
    return rv;
}

apr_status_t aura_translate_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    aura_exchange_t *ex = f->ctx;
    apr_status_t rv = APR_SUCCESS;
    apr_bucket *b;
    int eos = 0;

    /* Only aura_filter_attach gives the filter an exchange. One added by
     * a directive (SetOutputFilter, AddOutputFilter, in .htaccess too)
     * has nothing to translate: it steps aside, so no configuration can
     * make it touch state that does not exist. */
    if (!ex) {
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    ex->filter_entered = apr_time_now();
    ex->passing_time = 0;
    while (rv == APR_SUCCESS && !APR_BRIGADE_EMPTY(bb)) {
        b = APR_BRIGADE_FIRST(bb);
        if (APR_BUCKET_IS_EOS(b)) {
            rv = at_eos(ex);
            eos = 1;
        }
        else if (!APR_BUCKET_IS_METADATA(b)) {
            rv = feed(ex, b);
        }
        apr_bucket_delete(b);
    }
    apr_brigade_cleanup(bb);
    ex->filter_time += apr_time_now() - ex->filter_entered - ex->passing_time;
    ex->filter_entered = 0;
    if (eos && rv == APR_SUCCESS) {
        APR_BRIGADE_INSERT_TAIL(ex->out_bb, apr_bucket_eos_create(
                                    f->c->bucket_alloc));
        rv = ap_pass_brigade(f->next, ex->out_bb);
        apr_brigade_cleanup(ex->out_bb);
    }
    return rv;
}
