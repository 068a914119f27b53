/*
 * aura_front_responses_out.c - the native front door, out: builder events
 * as Open Responses SSE, the ResponseResource as the JSON body, and the
 * aura_front_responses table. The request side is
 * aura_front_responses_in.c.
 */
#include "aura_front_responses.h"

/* The state is a scratch pool, cleared per event: a long stream does not
 * grow the request pool. */
static void *responses_open(apr_pool_t *p, const aura_request_t *req,
                            aura_rb_t *rb)
{
    apr_pool_t *scratch;
    (void)req; (void)rb;
    apr_pool_create(&scratch, p);
    return scratch;
}

/* "event: <type>\ndata: <json>\n\n": single-line JSON, LF only, the event
 * name equal to data.type, as the spec's robust-framing notes ask; built
 * in one pass and handed on as one piece. */
static apr_status_t responses_event(void *state, const char *type,
                                    json_object *event, aura_frame_fn emit,
                                    void *baton)
{
    apr_pool_t *scratch = state;
    apr_size_t n;
    const char *frame;

    apr_pool_clear(scratch);
    frame = aura_json_frame(scratch, apr_pstrcat(scratch, "event: ", type,
                                                 "\ndata: ", NULL),
                            event, "\n\n", &n);
    return emit(baton, frame, n);
}

static json_object *responses_body(apr_pool_t *p, const aura_request_t *req,
                                   json_object *resource)
{
    (void)p; (void)req;
    return json_object_get(resource);
}

const aura_front_t aura_front_responses = {
    "responses", aura_front_responses_parse, responses_open, responses_event,
    "data: [DONE]\n\n", responses_body, aura_error_json
};
