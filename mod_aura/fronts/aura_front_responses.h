/*
 * aura_front_responses.h - the native front door's parts shared by its
 * files (aura_front_responses_in.c: parse; aura_front_responses_out.c:
 * events, body and the aura_front_responses table).
 */
#ifndef AURA_FRONT_RESPONSES_H
#define AURA_FRONT_RESPONSES_H

#include "aura_front.h"

/* The Open Responses body into the request model: .parse. */
aura_error_t *aura_front_responses_parse(apr_pool_t *p, const char *body,
                                         apr_size_t len,
                                         apr_table_t *headers,
                                         aura_request_t **out);

#endif /* AURA_FRONT_RESPONSES_H */
