/*
 * aura_front_messages.c - placeholder: the messages front door lands with issue 5
 * (answers 501 until then).
 */
#include "aura_front.h"

static aura_error_t *messages_parse(apr_pool_t *p, const char *body,
                               apr_size_t len, apr_table_t *headers,
                               aura_request_t **out)
{
    (void)body; (void)len; (void)headers; (void)out;
    return aura_error_make(p, 501, "server_error", "not_implemented", NULL,
                           "This front door is not implemented yet.");
}

static void *messages_open(apr_pool_t *p, const aura_request_t *req, aura_rb_t *rb)
{
    (void)p; (void)req; (void)rb;
    return NULL;
}

static apr_status_t messages_event(void *st, const char *type, json_object *ev,
                              aura_frame_fn emit, void *baton)
{
    (void)st; (void)type; (void)ev; (void)emit; (void)baton;
    return APR_SUCCESS;
}

static json_object *messages_body(apr_pool_t *p, const aura_request_t *req,
                             json_object *resource)
{
    (void)p; (void)req;
    return json_object_get(resource);
}

const aura_front_t aura_front_messages = {
    "messages", messages_parse, messages_open, messages_event, NULL, messages_body, aura_error_json
};
