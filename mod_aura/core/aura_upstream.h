/*
 * aura_upstream.h - what an upstream failure means for the client.
 *
 *   429            → 429, the upstream's Retry-After passed on
 *   401, 403       → 502 upstream_auth_failed: the gateway's provider
 *                    credential was refused (the client's own key is fine;
 *                    the upstream's text is not passed on, it may quote
 *                    part of the key)
 *   other 4xx      → same status, the upstream's message/type/param/code
 *   5xx            → 502 upstream_error (503/529 overload: 503)
 *   timeouts       → 504 upstream_timeout
 *   connect errors → 502 upstream_unreachable
 */
#ifndef AURA_UPSTREAM_H
#define AURA_UPSTREAM_H

#include "aura.h"
#include "aura_http.h"

/* `secret`: the credential sent upstream (may be NULL); the upstream's
 * text is passed through aura_redact() with it before it is shown. */
aura_error_t *aura_upstream_status_error(apr_pool_t *p, const char *provider,
                                         const char *secret, int status, const char *body,
                                         apr_size_t len,
                                         const char *retry_after);

aura_error_t *aura_upstream_transport_error(apr_pool_t *p,
                                            const char *provider,
                                            aura_http_outcome_e outcome,
                                            const char *detail);

#endif /* AURA_UPSTREAM_H */
