/*
 * aura_front.h - front doors: the wire APIs clients speak.
 *
 * A front door parses its request body into the one request model
 * (aura_request_t, Open Responses items) and encodes what the response
 * builder produces - each streaming event, the final ResponseResource, an
 * error - into its own wire shape. Front doors never talk to a provider:
 * M front doors and N provider adapters meet only in the builder.
 *
 *   responses  POST .../responses          Open Responses (native)
 *   chat       POST .../chat/completions   OpenAI Chat Completions
 *   messages   POST .../messages           Anthropic Messages
 */
#ifndef AURA_FRONT_H
#define AURA_FRONT_H

#include "aura.h"
#include "aura_request.h"
#include "aura_stream.h"

/* Receives wire bytes for the client (valid only during the call). */
typedef apr_status_t (*aura_frame_fn)(void *baton, const char *data,
                                      apr_size_t len);

typedef struct aura_front {
    const char *name;
    /* Parse and validate the client's body. Errors name the field in the
     * client's own terms (e.g. "messages[2].content"). `headers` are the
     * request headers (anthropic-version, anthropic-beta ...), may be NULL. */
    aura_error_t *(*parse)(apr_pool_t *p, const char *body, apr_size_t len,
                           apr_table_t *headers, aura_request_t **out);
    /* Streaming: per-response state, then each builder event (in order,
     * sequence numbers included) becomes zero or more frames. `rb` lets a
     * front door read usage as known so far (aura_rb_get_usage), e.g. for
     * Anthropic's message_start. */
    void *(*stream_open)(apr_pool_t *p, const aura_request_t *req,
                         aura_rb_t *rb);
    apr_status_t (*stream_event)(void *state, const char *type,
                                 json_object *event, aura_frame_fn emit,
                                 void *baton);
    const char *stream_trailer;     /* after the terminal event, or NULL */
    /* Non-streaming: the body from the final ResponseResource (which
     * carries usage.cost_usd and `aura`). Caller owns the result. */
    json_object *(*body)(apr_pool_t *p, const aura_request_t *req,
                         json_object *resource);
    /* An error in the client's shape. Caller owns the result. */
    json_object *(*error)(const aura_error_t *e);
} aura_front_t;

extern const aura_front_t aura_front_responses; /* aura_front_responses_out.c */
extern const aura_front_t aura_front_chat;      /* aura_front_chat_out.c */
extern const aura_front_t aura_front_messages;  /* aura_front_messages_out.c */
/* count_tokens: the Messages body without max_tokens */
extern const aura_front_t aura_front_messages_count;

#endif /* AURA_FRONT_H */
