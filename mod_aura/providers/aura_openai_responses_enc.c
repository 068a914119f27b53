/*
 * aura_openai_responses_enc.c - encode a validated aura_request_t as an OpenAI
 * Responses API request body.
 *
 * The front door already speaks Responses, so the body is passed on
 * nearly as received: only the fields the gateway owns are rewritten
 * (model, the normalized input and tools, stream, store, include).
 *
 * The copy is shallow: a new top-level object whose values are shared
 * (reference counted) with the parsed body. No value is modified in
 * place, and multi-megabyte inputs (data: URLs) are not duplicated, which
 * a json_object_deep_copy would do only to throw `input` away.
 */
#include <math.h>
#include <string.h>

#include "aura_openai_responses.h"

/* Keys the encoder sets itself, or must not send upstream. */
static const char *const owned_keys[] = {
    "model", "input", "tools", "tool_choice", "stream", "stream_options",
    "store", "include", NULL
};

static int is_owned(const char *key)
{
    int i;

    for (i = 0; owned_keys[i]; i++)
        if (strcmp(owned_keys[i], key) == 0)
            return 1;
    return 0;
}

/* Nulls are dropped: they mean "not given", and not every upstream
 * accepts null where the spec allows it. */
static json_object *copy_body(json_object *body)
{
    json_object *out = json_object_new_object();

    if (!json_object_is_type(body, json_type_object))
        return out;
    json_object_object_foreach(body, key, val)
        if (val && !is_owned(key))
            json_object_object_add(out, key, json_object_get(val));
    return out;
}

static void set_if_absent(json_object *o, const char *key, json_object *v)
{
    if (!v)
        return;
    if (json_object_object_get_ex(o, key, NULL))
        json_object_put(v);
    else
        json_object_object_add(o, key, v);
}

static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *num_or_null(double v)
{
    return isnan(v) ? NULL : json_object_new_double(v);
}

static json_object *int_or_null(long v)
{
    return v == AURA_UNSET ? NULL : json_object_new_int64(v);
}

/* A request built by another front door may come without a Responses
 * body; its typed fields still reach the upstream. */
static void fill_typed(json_object *o, const aura_request_t *r)
{
    set_if_absent(o, "instructions", str_or_null(r->instructions));
    set_if_absent(o, "previous_response_id",
                  str_or_null(r->previous_response_id));
    set_if_absent(o, "temperature", num_or_null(r->temperature));
    set_if_absent(o, "top_p", num_or_null(r->top_p));
    set_if_absent(o, "presence_penalty", num_or_null(r->presence_penalty));
    set_if_absent(o, "frequency_penalty", num_or_null(r->frequency_penalty));
    set_if_absent(o, "max_output_tokens", int_or_null(r->max_output_tokens));
    set_if_absent(o, "max_tool_calls", int_or_null(r->max_tool_calls));
    set_if_absent(o, "top_logprobs", int_or_null(r->top_logprobs));
    if (r->parallel_tool_calls != AURA_UNSET)
        set_if_absent(o, "parallel_tool_calls",
                      json_object_new_boolean(r->parallel_tool_calls));
    set_if_absent(o, "text", json_object_get(r->text));
    set_if_absent(o, "reasoning", json_object_get(r->reasoning));
    set_if_absent(o, "metadata", json_object_get(r->metadata));
    set_if_absent(o, "safety_identifier", str_or_null(r->safety_identifier));
    set_if_absent(o, "prompt_cache_key", str_or_null(r->prompt_cache_key));
    set_if_absent(o, "truncation", str_or_null(r->truncation));
    set_if_absent(o, "service_tier", str_or_null(r->service_tier));
}

/* Reasoning items OpenAI cannot take back, dropped: state from another
 * provider ("aura:<kind>:...", see aura_adapter.h), and - with store:false,
 * which this gateway sends unless asked - any item without
 * encrypted_content (plain-text reasoning from Mistral, Ollama, vLLM ...):
 * OpenAI would look its id up and answer 404 "Items are not persisted
 * when store is set to false". OpenAI's own state has no "aura:" prefix. */
static int unusable_reasoning(json_object *item, int store)
{
    const char *t = aura_json_string(item, "type");
    const char *enc = aura_json_string(item, "encrypted_content");
    if (!t || strcmp(t, "reasoning"))
        return 0;
    return enc ? !strncmp(enc, "aura:", 5) : !store;
}

static json_object *openai_input(const aura_request_t *r, int store)
{
    size_t i, n = json_object_array_length(r->input);
    json_object *out;

    for (i = 0; i < n; i++)
        if (unusable_reasoning(json_object_array_get_idx(r->input, i), store))
            break;
    if (i == n)
        return json_object_get(r->input); /* the common case: no copy */
    out = json_object_new_array_ext((int)n);
    for (i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(r->input, i);
        if (!unusable_reasoning(item, store))
            json_object_array_add(out, json_object_get(item));
    }
    return out;
}

/* Function tools, then the hosted tools OpenAI runs itself, as sent. */
static json_object *openai_tools(const aura_request_t *r)
{
    size_t i, n = r->hosted_tools ? json_object_array_length(r->hosted_tools)
                                  : 0;
    json_object *all;

    if (n == 0)
        return json_object_get(r->tools);
    all = json_object_new_array();
    for (i = 0; i < json_object_array_length(r->tools); i++)
        json_object_array_add(all, json_object_get(
                                       json_object_array_get_idx(r->tools, i)));
    for (i = 0; i < n; i++)
        json_object_array_add(all, json_object_get(
                                  json_object_array_get_idx(r->hosted_tools, i)));
    return all;
}

static int has_reasoning_items(const aura_request_t *r)
{
    size_t i, n = json_object_array_length(r->input);
    for (i = 0; i < n; i++) {
        const char *t = aura_json_string(json_object_array_get_idx(r->input, i),
                                         "type");
        if (t && !strcmp(t, "reasoning") &&
            !unusable_reasoning(json_object_array_get_idx(r->input, i), 0))
            return 1;
    }
    return 0;
}

/* Without storage upstream, reasoning can only be carried to the next
 * turn as encrypted content in the output; ask for it when reasoning is
 * in play (asked for, or carried in the input). Not for every request:
 * models without reasoning may refuse the include. */
static json_object *make_include(const aura_request_t *r, int store)
{
    static const char enc[] = "reasoning.encrypted_content";
    size_t i, n = r->include ? json_object_array_length(r->include) : 0;
    int want = !store && (r->reasoning || has_reasoning_items(r)), have = 0;
    json_object *inc;

    if (n == 0 && !want)
        return NULL;
    inc = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(r->include, i);
        have |= strcmp(json_object_get_string(s), enc) == 0;
        json_object_array_add(inc, json_object_get(s));
    }
    if (want && !have)
        json_object_array_add(inc, json_object_new_string(enc));
    return inc;
}

aura_error_t *aura_oresp_encode(apr_pool_t *p, const aura_request_t *req,
                                const aura_target_t *t, const char **body,
                                apr_size_t *len)
{
    json_object *out;
    /* The gateway hands out its own ids, not the upstream's: unless the
     * client asked for storage, keep nothing upstream. */
    int store = req->store == 1;
    json_object *include;

    /* Clients only ever see the gateway's response ids, never the
     * upstream's, so an upstream chain cannot be named yet. */
    if (req->previous_response_id)
        return aura_bad_request(p, "previous_response_not_found",
                                "previous_response_id",
                                "Previous response with id '%s' not found: "
                                "this gateway does not store responses yet; "
                                "send the whole conversation as input.",
                                req->previous_response_id);
    out = aura_json_pool(p, copy_body(req->body));
    include = make_include(req, store);

    json_object_object_add(out, "model",
                           json_object_new_string(t->upstream_model));
    json_object_object_add(out, "input", openai_input(req, store));
    if (json_object_array_length(req->tools) > 0 || req->hosted_tools) {
        json_object_object_add(out, "tools", openai_tools(req));
        if (req->tool_choice)
            json_object_object_add(out, "tool_choice",
                                   json_object_get(req->tool_choice));
    }
    else if (req->tool_choice
             && json_object_is_type(req->tool_choice, json_type_string)) {
        json_object_object_add(out, "tool_choice",
                               json_object_get(req->tool_choice));
    }
    json_object_object_add(out, "stream",
                           json_object_new_boolean(req->stream));
    json_object_object_add(out, "store", json_object_new_boolean(store));
    if (include)
        json_object_object_add(out, "include", include);
    fill_typed(out, req);
    *body = aura_json_str(p, out, len);
    return NULL;
}

static aura_error_t *oresp_request(apr_pool_t *p, const aura_target_t *t,
                                   int stream, aura_wire_t *w)
{
    (void)stream;
    return aura_wire_bearer(p, t, "/responses", w);
}

const aura_adapter_t aura_adapter_openai_responses = {
    "openai-responses", aura_oresp_encode, oresp_request, aura_oresp_decoder
};
