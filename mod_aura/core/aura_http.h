/*
 * aura_http.h - the upstream HTTP interface (mod_md's md_http.h idea):
 * callers see requests, callbacks and outcomes; aura_curl.c is the only
 * file that knows libcurl.
 */
#ifndef AURA_HTTP_H
#define AURA_HTTP_H

#include "aura.h"

typedef enum {
    AURA_HTTP_OK = 0,           /* transfer completed (any HTTP status) */
    AURA_HTTP_CONNECT_TIMEOUT,
    AURA_HTTP_FIRST_BYTE_TIMEOUT,
    AURA_HTTP_IDLE_TIMEOUT,
    AURA_HTTP_TOTAL_TIMEOUT,
    AURA_HTTP_CONNECT_FAILED,   /* refused, DNS, TLS */
    AURA_HTTP_ABORTED,          /* a callback asked to stop (client gone) */
    AURA_HTTP_FAILED            /* anything else, e.g. connection reset */
} aura_http_outcome_e;

typedef struct aura_http_req {
    const char *url;
    apr_array_header_t *headers;   /* const char* "Name: value" */
    const char *body;
    apr_size_t body_len;
    long connect_ms, first_byte_ms, idle_ms, total_ms;  /* 0: none */

    /* Called once, when the response head is complete and before the first
     * body byte. `retry_after` may be NULL. Non-zero return: stop. */
    int (*on_head)(void *baton, int status, const char *content_type,
                   const char *retry_after);
    /* Body bytes as they arrive. Non-zero return: stop the transfer. */
    int (*on_data)(void *baton, const char *buf, apr_size_t len);
    /* Polled while waiting: non-zero when the client went away. */
    int (*is_aborted)(void *baton);
    void *baton;

    /* Results. */
    int status;
    apr_time_t t_sent;             /* when the transfer started */
    apr_time_t t_first_byte;       /* first response byte, or 0 */
} aura_http_req_t;

/* Once per process, before threads (post_config). */
void aura_http_global_init(void);

/* Blocking transfer on this thread's reusable handle (keep-alive). On
 * failure *detail says what happened without any secret (no headers). */
aura_http_outcome_e aura_http_perform(apr_pool_t *p, aura_http_req_t *req,
                                      const char **detail);

#endif /* AURA_HTTP_H */
