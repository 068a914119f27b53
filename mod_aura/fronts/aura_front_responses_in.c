/*
 * aura_front_responses_in.c - the native front door, in: an Open Responses
 * body is already the request model's own shape, so parsing is the core's
 * validator (aura_request_parse in core/aura_request.c) as it is; the
 * other front doors translate into this shape first.
 */
#include "aura_front_responses.h"

aura_error_t *aura_front_responses_parse(apr_pool_t *p, const char *body,
                                         apr_size_t len,
                                         apr_table_t *headers,
                                         aura_request_t **out)
{
    (void)headers;
    return aura_request_parse(p, body, len, out);
}
