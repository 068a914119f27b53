/*
 * aura_front_chat.c - placeholder: the chat front door lands with issue 5
 * (answers 501 until then).
 */
#include "aura_front.h"

static aura_error_t *chat_parse(apr_pool_t *p, const char *body,
                               apr_size_t len, apr_table_t *headers,
                               aura_request_t **out)
{
    (void)body; (void)len; (void)headers; (void)out;
    return aura_error_make(p, 501, "server_error", "not_implemented", NULL,
                           "This front door is not implemented yet.");
}

static void *chat_open(apr_pool_t *p, const aura_request_t *req, aura_rb_t *rb)
{
    (void)p; (void)req; (void)rb;
    return NULL;
}

static apr_status_t chat_event(void *st, const char *type, json_object *ev,
                              aura_frame_fn emit, void *baton)
{
    (void)st; (void)type; (void)ev; (void)emit; (void)baton;
    return APR_SUCCESS;
}

static json_object *chat_body(apr_pool_t *p, const aura_request_t *req,
                             json_object *resource)
{
    (void)p; (void)req;
    return json_object_get(resource);
}

const aura_front_t aura_front_chat = {
    "chat", chat_parse, chat_open, chat_event, NULL, chat_body, aura_error_json
};
