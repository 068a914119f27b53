/*
 * aura_decoder.c - the plumbing every provider decoder shares: SSE framing
 * or incremental JSON parsing by mode (aura_dec_init), the sticky failure
 * status, the upstream-error helpers, and aura_decoder_feed/end, the entry
 * points the glue calls (aura_decoder.h).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "aura_decoder.h"

static apr_status_t tok_cleanup(void *data)
{
    aura_decoder_t *d = data;
    if (d->tok)
        aura_tokener_release(d->tok);
    if (d->doc)
        json_object_put(d->doc);
    d->tok = NULL;
    d->doc = NULL;
    return APR_SUCCESS;
}

apr_status_t aura_dec_st(aura_decoder_t *d, apr_status_t rv)
{
    if (d->rv == APR_SUCCESS)
        d->rv = rv;
    return rv;
}

apr_status_t aura_dec_fail(aura_decoder_t *d, const char *code,
                           const char *fmt, ...)
{
    aura_error_t *e;
    va_list ap;

    if (aura_rb_ended(d->rb))
        return d->rv;
    e = aura_error_make(d->pool, 502, "server_error", code, NULL, "%s", "");
    va_start(ap, fmt);
    e->message = apr_pvsprintf(d->pool, fmt, ap);
    va_end(ap);
    return aura_dec_st(d, aura_rb_fail(d->rb, e));
}

apr_status_t aura_dec_fail_upstream(aura_decoder_t *d, const char *code,
                                    json_object *err)
{
    const char *msg = json_object_is_type(err, json_type_string)
                          ? json_object_get_string(err)
                          : aura_json_string(err, "message");
    /* Some providers echo the request's Authorization header in their
     * error text; it must reach neither the client nor the log. */
    return aura_dec_fail(d, aura_redact(d->pool, code, NULL),
                         "upstream error: %s", msg && *msg
                             ? aura_redact(d->pool, msg, NULL)
                             : "(no message)");
}

json_object *aura_dec_parse(aura_decoder_t *d, const char *data,
                            apr_size_t len)
{
    json_object *o;

    json_tokener_reset(d->tok);
    o = json_tokener_parse_ex(d->tok, data, (int)len);
    if (o && (json_tokener_get_parse_end(d->tok) < len
              || !json_object_is_type(o, json_type_object))) {
        /* trailing bytes after the object, or not an object at all */
        size_t i = json_tokener_get_parse_end(d->tok);
        while (i < len && strchr(" \t\r\n", data[i]))
            i++;
        if (i < len || !json_object_is_type(o, json_type_object)) {
            json_object_put(o);
            o = NULL;
        }
    }
    if (!o && d->at_eof)    /* the last event, cut mid-JSON */
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended inside an event");
    else if (!o)
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream sent an event that is not a JSON object");
    return o;
}

void aura_dec_set_log(aura_decoder_t *d, const aura_log_ctx_t *log)
{
    d->log = log ? log : &aura_log_none;
}

const char *aura_dec_str(aura_decoder_t *d, const char *s)
{
    return aura_log_str(d->pool, s, aura_rb_secret(d->rb));
}

const char *aura_dec_first_key(json_object *o)
{
    struct json_object_iterator it, end;

    if (!json_object_is_type(o, json_type_object))
        return NULL;
    it = json_object_iter_begin(o);
    end = json_object_iter_end(o);
    return json_object_iter_equal(&it, &end) ? NULL
                                             : json_object_iter_peek_name(&it);
}

long aura_dec_long(json_object *o, const char *key, long def)
{
    json_object *v = aura_json_get(o, key);
    if (!v || !(json_object_is_type(v, json_type_int)
                || json_object_is_type(v, json_type_double)))
        return def;
    return (long)json_object_get_int64(v);
}

static apr_status_t sse_event(void *baton, const char *event,
                              const char *data, apr_size_t len)
{
    aura_decoder_t *d = baton;
    if (!aura_rb_ended(d->rb))
        d->on_event(d, event, data, len);
    return APR_SUCCESS;
}

static apr_status_t stream_feed(aura_decoder_t *d, const char *buf,
                                apr_size_t len)
{
    if (aura_sse_feed(d->sse, buf, len) != APR_SUCCESS)
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream event larger than %d bytes",
                      AURA_SSE_MAX_EVENT);
    return d->rv;
}

static apr_status_t stream_end(aura_decoder_t *d)
{
    d->at_eof = 1;
    if (!aura_rb_ended(d->rb) && aura_sse_finish(d->sse) != APR_SUCCESS)
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream event larger than %d bytes",
                      AURA_SSE_MAX_EVENT);
    if (!aura_rb_ended(d->rb))
        d->on_eof(d);
    if (!aura_rb_ended(d->rb))  /* a provider hook that forgot: never hang */
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended early");
    return d->rv;
}

static apr_status_t body_feed(aura_decoder_t *d, const char *buf,
                              apr_size_t len)
{
    enum json_tokener_error je;
    apr_size_t i;

    if (d->body_bad || !len)
        return d->rv;
    d->body_len += len;
    if (d->body_len > aura_rb_max_content(d->rb)) {
        /* the builder's bound, applied to the whole body: stop reading */
        d->body_bad = 1;
        aura_dec_fail(d, "upstream_response_too_large",
                      "the upstream response is larger than the gateway's "
                      "limit of %" APR_SIZE_T_FMT " bytes; the rest was not "
                      "read", aura_rb_max_content(d->rb));
        return aura_dec_st(d, APR_ENOSPC);
    }
    if (d->doc) {                   /* only whitespace may follow */
        for (i = 0; i < len; i++)
            if (!strchr(" \t\r\n", buf[i]))
                d->body_bad = 1;
        return d->rv;
    }
    d->doc = json_tokener_parse_ex(d->tok, buf, (int)len);
    je = json_tokener_get_error(d->tok);
    if (!d->doc && je != json_tokener_continue)
        d->body_bad = 1;
    else if (d->doc)                /* bytes after the document in buf */
        return body_feed(d, buf + json_tokener_get_parse_end(d->tok),
                         len - json_tokener_get_parse_end(d->tok));
    return d->rv;
}

static apr_status_t body_end(aura_decoder_t *d)
{
    if (aura_rb_ended(d->rb))
        return d->rv;
    if (d->body_bad || !d->doc || !json_object_is_type(d->doc,
                                                       json_type_object))
        return aura_dec_fail(d, "upstream_bad_response",
                             "upstream sent a body that is not a JSON object");
    d->on_body(d, d->doc);
    if (!aura_rb_ended(d->rb))
        aura_dec_fail(d, "upstream_bad_response",
                      "upstream body could not be decoded");
    return d->rv;
}

void aura_dec_init(aura_decoder_t *d, apr_pool_t *p, aura_rb_t *rb,
                   int stream)
{
    d->pool = p;
    d->rb = rb;
    d->stream = stream;
    d->log = &aura_log_none;
    d->tok = aura_tokener_acquire();
    if (!d->tok)
        abort();                    /* out of memory, as APR does */
    apr_pool_cleanup_register(p, d, tok_cleanup, apr_pool_cleanup_null);
    if (stream) {
        d->sse = aura_sse_create(p, 0, sse_event, d);
        d->feed = stream_feed;
        d->end = stream_end;
    }
    else {
        d->feed = body_feed;
        d->end = body_end;
    }
}

apr_status_t aura_decoder_feed(aura_decoder_t *d, const char *buf,
                               apr_size_t len)
{
    if (aura_rb_ended(d->rb))       /* after fail/finish: ignored */
        return d->rv;
    return d->feed(d, buf, len);
}

/* Usage is the one repair no provider hook can see missing: it may come
 * in any event up to the last. Without it the answer is not priced. */
static void trace_usage(aura_decoder_t *d)
{
    if (!aura_rb_failed(d->rb) && !aura_rb_get_usage(d->rb)->present)
        AURA_DEC_TRACE(d, "decoder: the upstream reported no usage");
}

apr_status_t aura_decoder_end(aura_decoder_t *d)
{
    apr_status_t rv = d->end(d);

    trace_usage(d);
    return rv;
}
