/*
 * aura_sse.h - an incremental server-sent events (SSE) parser.
 *
 * Bytes are fed in arbitrary pieces (a line, a field name, a CRLF pair may
 * be split across feeds). Lines end in LF, CRLF or a lone CR. A complete
 * event (ended by a blank line) is delivered with its "event:" name (or
 * NULL) and its data, multi-line data joined with "\n" as the WHATWG
 * algorithm says. Comments (":...") are skipped; "id:" and "retry:" are
 * ignored (the gateway never reconnects upstream).
 */
#ifndef AURA_SSE_H
#define AURA_SSE_H

#include <apr_pools.h>
#include <apr_errno.h>

/* Upper bound on one event (its pending line plus its data). A provider
 * that streams more than this in a single event is broken or hostile. */
#define AURA_SSE_MAX_EVENT (16 * 1024 * 1024)

/* Returned by feed/finish when one event exceeds the bound; sticky. */
#define AURA_SSE_ETOOBIG APR_ENOSPC

typedef struct aura_sse aura_sse_t;

/* One complete event. `data` is NUL-terminated (data[len] == '\0') and
 * valid only during the call. A non-APR_SUCCESS return stops the parse and
 * is returned by aura_sse_feed (sticky). */
typedef apr_status_t (*aura_sse_event_fn)(void *baton, const char *event,
                                          const char *data, apr_size_t len);

/* max_event 0 means AURA_SSE_MAX_EVENT. Buffers are released with `p`. */
aura_sse_t *aura_sse_create(apr_pool_t *p, apr_size_t max_event,
                            aura_sse_event_fn fn, void *baton);

apr_status_t aura_sse_feed(aura_sse_t *s, const char *buf, apr_size_t len);

/* End of input. The WHATWG algorithm drops an event that lacks its final
 * blank line; some servers end with "data: [DONE]\n" and nothing more, so
 * here a pending event is dispatched (an unterminated last line counts as
 * a line). Callers decide from the content whether the stream was whole. */
apr_status_t aura_sse_finish(aura_sse_t *s);

#endif /* AURA_SSE_H */
