/*
 * aura_front.c - the native front door: Open Responses in and out.
 */
#include <string.h>

#include "aura_front.h"

static aura_error_t *responses_parse(apr_pool_t *p, const char *body,
                                     apr_size_t len, apr_table_t *headers,
                                     aura_request_t **out)
{
    (void)headers;
    return aura_request_parse(p, body, len, out);
}

static void *responses_open(apr_pool_t *p, const aura_request_t *req,
                            aura_rb_t *rb)
{
    (void)p; (void)req; (void)rb;
    return NULL;
}

/* "event: <type>\ndata: <json>\n\n": single-line JSON, LF only, the event
 * name equal to data.type, as the spec's robust-framing notes ask. */
static apr_status_t responses_event(void *state, const char *type,
                                    json_object *event, aura_frame_fn emit,
                                    void *baton)
{
    size_t n = 0;
    const char *json = json_object_to_json_string_length(
        event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    apr_status_t rv;
    (void)state;

    if ((rv = emit(baton, "event: ", 7)) != APR_SUCCESS ||
        (rv = emit(baton, type, strlen(type))) != APR_SUCCESS ||
        (rv = emit(baton, "\ndata: ", 7)) != APR_SUCCESS ||
        (rv = emit(baton, json, n)) != APR_SUCCESS)
        return rv;
    return emit(baton, "\n\n", 2);
}

static json_object *responses_body(apr_pool_t *p, const aura_request_t *req,
                                   json_object *resource)
{
    (void)p; (void)req;
    return json_object_get(resource);
}

const aura_front_t aura_front_responses = {
    "responses", responses_parse, responses_open, responses_event,
    "data: [DONE]\n\n", responses_body, aura_error_json
};

long aura_estimate_tokens(apr_pool_t *p, const aura_request_t *req)
{
    apr_size_t n = 0, k;

    if (req->instructions)
        n += strlen(req->instructions);
    if (req->input) {
        aura_json_str(p, req->input, &k);
        n += k;
    }
    if (req->tools && json_object_array_length(req->tools) > 0) {
        aura_json_str(p, req->tools, &k);
        n += k;
    }
    return (long)((n + 3) / 4);
}
