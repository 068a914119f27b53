/*
 * aura_decoder.h - provider response decoders: the entry points the glue
 * calls (aura_decoder_feed/end) and the common part every provider's
 * decoder embeds (aura_decoder.c).
 *
 * A decoder is this struct embedded first in a provider-specific struct.
 * aura_dec_init() wires the generic feed/end for the mode:
 *   stream: bytes -> SSE parser -> on_event (one complete event at a time);
 *           EOF -> on_eof (the provider decides whether the stream ended
 *           properly).
 *   body:   bytes -> incremental json_tokener (no second copy of the body);
 *           EOF -> on_body with the parsed document.
 * Decoders talk only to the response builder (aura_rb_*).
 */
#ifndef AURA_DECODER_H
#define AURA_DECODER_H

#include "aura_adapter.h"
#include "aura_log.h"
#include "aura_sse.h"

struct aura_decoder {
    /* the vtable behind aura_decoder_feed / aura_decoder_end */
    apr_status_t (*feed)(aura_decoder_t *d, const char *buf, apr_size_t len);
    apr_status_t (*end)(aura_decoder_t *d);
    /* provider hooks */
    apr_status_t (*on_event)(aura_decoder_t *d, const char *event,
                             const char *data, apr_size_t len);
    apr_status_t (*on_eof)(aura_decoder_t *d);
    apr_status_t (*on_body)(aura_decoder_t *d, json_object *doc);

    apr_pool_t *pool;
    aura_rb_t *rb;
    int stream;
    apr_status_t rv;            /* first builder failure (client gone, or
                                 * APR_ENOSPC: content cap); sticky */
    aura_sse_t *sse;            /* stream mode */
    json_tokener *tok;          /* body mode; stream mode: reset per event.
                                 * Depth AURA_JSON_DEPTH: upstreams echo the
                                 * request's tool schemas. */
    json_object *doc;           /* body mode: the parsed document */
    apr_size_t body_len;
    int body_bad;               /* body mode: not JSON */
    int at_eof;                 /* stream mode: flushing the last event */
    const aura_log_ctx_t *log;  /* where this request logs; aura_log_none
                                 * until the glue calls aura_dec_set_log */
};

/* Sets up the common part (d is the first member of the provider struct). */
void aura_dec_init(aura_decoder_t *d, apr_pool_t *p, aura_rb_t *rb,
                   int stream);

/* The request's log context (aura_log.h): what the decoder skips or
 * repairs is traced there, with the request id. */
void aura_dec_set_log(aura_decoder_t *d, const aura_log_ctx_t *log);

/* Traces one line at TRACE1 (arguments evaluated only when it is on). */
#define AURA_DEC_TRACE(d, ...) AURA_TRACE((d)->log, __VA_ARGS__)

/* An upstream string for a trace line (aura_log_str, with the credential
 * sent upstream redacted too). Only inside AURA_DEC_TRACE: it allocates. */
const char *aura_dec_str(aura_decoder_t *d, const char *s);

/* The name of an object's first member, or NULL: what a part or block of
 * a one-member-per-kind shape (Gemini parts, Bedrock blocks) is, for a
 * trace line about one that is skipped. */
const char *aura_dec_first_key(json_object *o);

/* Records the first failed builder status; returns it. Decoders keep going
 * after a sink failure so the builder's resource stays whole for metering. */
apr_status_t aura_dec_st(aura_decoder_t *d, apr_status_t rv);

/* Ends the response as failed: error type server_error, `code`, message. */
apr_status_t aura_dec_fail(aura_decoder_t *d, const char *code,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fails with the upstream's own error object ({"message","code",..} or a
 * plain string) as code `code` (e.g. "upstream_error"). The message goes
 * through aura_redact: a provider may echo a credential. */
apr_status_t aura_dec_fail_upstream(aura_decoder_t *d, const char *code,
                                    json_object *err);

/* Parses one event's data as a JSON object; NULL (and the response failed
 * with upstream_bad_response) when it is not. The caller puts the result:
 * binding every event to the request pool would grow it for the whole
 * stream. */
json_object *aura_dec_parse(aura_decoder_t *d, const char *data,
                            apr_size_t len);

/* Integer member, or def. */
long aura_dec_long(json_object *o, const char *key, long def);

/* Feed upstream bytes (any split: mid-line, mid-UTF-8, mid-JSON). Returns
 * non-success when the transfer must stop: the sink's status when the
 * client is gone (APR_ECONNABORTED), or APR_ENOSPC once the answer passed
 * AURA_RB_MAX_CONTENT (the response then failed with
 * "upstream_response_too_large"); both are sticky for later feeds.
 * Malformed upstream data ends the response with aura_rb_fail (type
 * "server_error", code "upstream_bad_response") and later feeds are
 * ignored; that still returns APR_SUCCESS. */
apr_status_t aura_decoder_feed(aura_decoder_t *d, const char *buf,
                               apr_size_t len);

/* Upstream EOF. Non-streaming: decode the document and finish. Streaming:
 * if the provider's stream did not end properly (no finish/[DONE]), fail
 * with code "upstream_stream_truncated". Always leaves rb ended. */
apr_status_t aura_decoder_end(aura_decoder_t *d);

#endif /* AURA_DECODER_H */
