/*
 * aura_encoder.c - helpers shared by the provider request encoders.
 * See aura_encoder.h.
 */
#include <math.h>
#include <string.h>

#include "aura_encoder.h"

void aura_enc_add_str(json_object *o, const char *key, const char *s)
{
    json_object_object_add(o, key, json_object_new_string(s));
}

json_object *aura_enc_new_msg(const char *role)
{
    json_object *m = json_object_new_object();

    aura_enc_add_str(m, "role", role);
    return m;
}

aura_error_t *aura_enc_unsupported(apr_pool_t *p, const char *param,
                                   const char *what)
{
    return aura_bad_request(p, "unsupported_parameter", param,
                            "Unsupported parameter: '%s'. %s", param, what);
}

aura_error_t *aura_enc_refuse_previous(apr_pool_t *p,
                                       const aura_request_t *req,
                                       const char *whose)
{
    if (!req->previous_response_id)
        return NULL;
    return aura_bad_request(p, "previous_response_not_found",
                            "previous_response_id",
                            "Previous response with id '%s' not found: "
                            "this gateway does not store responses for %s; "
                            "send the whole conversation as input.",
                            req->previous_response_id, whose);
}

aura_error_t *aura_enc_refuse_item(apr_pool_t *p, const char *type,
                                   const char *at)
{
    if (!strcmp(type, "item_reference"))
        return aura_enc_unsupported(p, at, "Item references need stored "
                                    "responses, which this gateway does not "
                                    "keep; send the item itself.");
    return aura_enc_unsupported(p, at, "Compaction items cannot be sent to "
                                "this provider.");
}

/* Numbers are passed on as the client wrote them (json-c keeps the
 * token), so 0.7 does not become 0.69999999999999996. */
void aura_enc_add_num(const aura_request_t *req, json_object *o,
                      const char *key, const char *as, double v)
{
    json_object *orig = aura_json_get(req->body, key);

    if (isnan(v))
        return;
    if (!as)
        as = key;
    if (orig && (json_object_is_type(orig, json_type_double)
                 || json_object_is_type(orig, json_type_int))
        && json_object_get_double(orig) == v)
        json_object_object_add(o, as, json_object_get(orig));
    else
        json_object_object_add(o, as, json_object_new_double(v));
}



apr_hash_t *aura_enc_call_names(apr_pool_t *p, const aura_request_t *req)
{
    apr_hash_t *h = apr_hash_make(p);
    size_t i, n = json_object_array_length(req->input);

    for (i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(req->input, i);
        const char *id = aura_json_string(it, "call_id");
        const char *name = aura_json_string(it, "name");
        if (id && !strcmp(aura_json_string(it, "type"), "function_call")
            && !apr_hash_get(h, id, APR_HASH_KEY_STRING))
            apr_hash_set(h, id, APR_HASH_KEY_STRING, name ? name : "");
    }
    return h;
}

apr_hash_t *aura_enc_name_set(apr_pool_t *p, json_object *list)
{
    apr_hash_t *h = apr_hash_make(p);
    size_t i, n = list ? json_object_array_length(list) : 0;

    for (i = 0; i < n; i++) {
        const char *name = aura_json_string(json_object_array_get_idx(list, i),
                                            "name");
        if (name)
            apr_hash_set(h, name, APR_HASH_KEY_STRING, name);
    }
    return h;
}

const char *aura_enc_lookup(apr_hash_t *h, const char *key)
{
    return key ? apr_hash_get(h, key, APR_HASH_KEY_STRING) : NULL;
}

/* ------------------------------------------------------------------ */
/* Chat-style message lists                                           */

void aura_enc_flush(aura_enc_msgs_t *ms)
{
    if (ms->pending)
        json_object_array_add(ms->messages, ms->pending);
    ms->pending = NULL;
}

void aura_enc_emit(aura_enc_msgs_t *ms, json_object *m)
{
    aura_enc_flush(ms);
    json_object_array_add(ms->messages, m);
}

/* Function calls that follow an assistant message belong to the same
 * turn: it stays pending to collect them as its tool_calls. */
void aura_enc_hold(aura_enc_msgs_t *ms, json_object *m)
{
    aura_enc_flush(ms);
    ms->pending = m;
}

void aura_enc_add_call(aura_enc_msgs_t *ms, json_object *call,
                       const char *text)
{
    json_object *calls;

    if (!ms->pending) {
        ms->pending = aura_enc_new_msg("assistant");
        json_object_object_add(ms->pending, "content",
                               text ? json_object_new_string(text) : NULL);
    }
    if (!json_object_object_get_ex(ms->pending, "tool_calls", &calls)) {
        calls = json_object_new_array();
        json_object_object_add(ms->pending, "tool_calls", calls);
    }
    json_object_array_add(calls, call);
}

aura_error_t *aura_enc_messages(apr_pool_t *p, const aura_request_t *req,
                                aura_enc_msgs_t *ms, json_object *out,
                                aura_enc_item_fn item, void *ctx)
{
    size_t i, n = json_object_array_length(req->input);
    aura_error_t *e;

    ms->messages = json_object_new_array();
    json_object_object_add(out, "messages", ms->messages);
    if (req->instructions) {
        json_object *m = aura_enc_new_msg("system");
        aura_enc_add_str(m, "content", req->instructions);
        json_object_array_add(ms->messages, m);
    }
    for (i = 0; i < n; i++) {
        if ((e = item(ctx, json_object_array_get_idx(req->input, i), i))) {
            json_object_put(ms->pending);   /* not in the list yet */
            ms->pending = NULL;
            return e;
        }
    }
    aura_enc_flush(ms);
    if (json_object_array_length(ms->messages) == 0)
        return aura_bad_request(p, "missing_required_parameter", "input",
                                "Missing required parameter: 'input'.");
    return NULL;
}
