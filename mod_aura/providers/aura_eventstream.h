/*
 * aura_eventstream.h - the application/vnd.amazon.eventstream binary
 * framing (Bedrock ConverseStream, InvokeModelWithResponseStream).
 *
 * A message, all integers big-endian (AWS "Event stream encoding",
 * https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html and
 * https://docs.aws.amazon.com/lexv2/latest/dg/event-stream-encoding.html):
 *
 *   total length u32 | headers length u32 | prelude CRC32 u32 (of the 8
 *   bytes before it) | headers | payload | message CRC32 u32 (of every
 *   byte before it)
 *
 * a header: name length u8 | name | value type u8 | value, where type
 * 0/1 = bool true/false (no bytes), 2 byte, 3 int16, 4 int32, 5 int64,
 * 6 bytes and 7 string (u16 length + bytes), 8 timestamp (int64 ms),
 * 9 uuid (16 bytes). CRC32 is the gzip/IEEE one.
 *
 * The parser is incremental: frames may straddle feeds at any byte. Both
 * CRCs are checked before a message is delivered; a frame announcing more
 * than the bound is refused before any of it is buffered.
 */
#ifndef AURA_EVENTSTREAM_H
#define AURA_EVENTSTREAM_H

#include <stdint.h>

#include "aura.h"

/* AWS's event stream decoders refuse messages above 16 MiB; Bedrock's are
 * a few hundred bytes. */
#define AURA_ES_MAX_FRAME ((apr_size_t)16 * 1024 * 1024)

/* One decoded message. Header strings are NUL-terminated copies, valid
 * for the duration of the callback only, like the payload. */
typedef struct aura_es_msg {
    const char *message_type;    /* ":message-type": event|exception|error */
    const char *event_type;      /* ":event-type", or NULL */
    const char *exception_type;  /* ":exception-type", or NULL */
    const char *error_code;      /* ":error-code", or NULL */
    const char *error_message;   /* ":error-message", or NULL */
    const char *content_type;    /* ":content-type", or NULL */
    const char *payload;
    apr_size_t len;
} aura_es_msg_t;

/* A non-success return stops the parser; aura_es_feed returns it. */
typedef apr_status_t (*aura_es_fn)(void *baton, const aura_es_msg_t *m);

typedef struct aura_es aura_es_t;

/* max_frame 0: AURA_ES_MAX_FRAME. */
aura_es_t *aura_es_create(apr_pool_t *p, apr_size_t max_frame, aura_es_fn fn,
                          void *baton);

/* Feeds bytes. Returns APR_SUCCESS, the callback's status, or APR_EGENERAL
 * for a malformed frame (bad CRC, impossible lengths, a frame above the
 * bound, a bad header); aura_es_error() says which. Errors are sticky. */
apr_status_t aura_es_feed(aura_es_t *es, const char *buf, apr_size_t len);

/* Why the stream was refused, or NULL. */
const char *aura_es_error(const aura_es_t *es);

/* Bytes of an incomplete frame held (non-zero at EOF = a cut stream). */
apr_size_t aura_es_pending(const aura_es_t *es);

/* Bytes of the reassembly buffer for frames that straddle feeds (0 until
 * one did). It doubles as needed, up to the frame bound. */
apr_size_t aura_es_capacity(const aura_es_t *es);

/* CRC32 (IEEE 802.3, reflected 0xEDB88320), as zlib's crc32(): start
 * with crc 0, feed pieces in order. */
uint32_t aura_crc32(uint32_t crc, const void *buf, apr_size_t len);

/* Encodes one message with string headers (name, value pairs, NULL
 * terminated). For tests and tools: the gateway only decodes. */
const char *aura_es_encode(apr_pool_t *p, const char *const *headers,
                           const char *payload, apr_size_t plen,
                           apr_size_t *len);

#endif /* AURA_EVENTSTREAM_H */
