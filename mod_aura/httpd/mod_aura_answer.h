/*
 * mod_aura_answer.h - what every part of a request may answer with: an
 * error or a JSON document in the client's wire format, and the
 * gateway-overhead clock. The handler, auth, front, filter, credentials
 * and ledger all use these; none of them calls into the handler.
 */
#ifndef MOD_AURA_ANSWER_H
#define MOD_AURA_ANSWER_H

#include <apr_time.h>
#include "aura.h"             /* aura_error_t, json_object */

struct aura_exchange;

/* The error in the front door's format (status, Retry-After, logged with
 * the request id); returns OK, for the handler to return. */
int aura_send_error(struct aura_exchange *ex, const aura_error_t *e);

/* A whole JSON answer (the status already set); returns OK. */
int aura_send_json(struct aura_exchange *ex, json_object *doc);

/* The gateway's own time so far: the handler until the upstream send,
 * plus the filter's time, less what it spent passing bytes on. */
apr_interval_time_t aura_overhead_now(const struct aura_exchange *ex);

#endif /* MOD_AURA_ANSWER_H */
