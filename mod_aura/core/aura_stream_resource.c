/*
 * aura_stream_resource.c - the response builder's ResponseResource before
 * any output: every field the spec requires, from the request (shared,
 * not copied: the values are the parsed body's own) and the defaults the
 * spec gives. The builder (aura_stream.c) fills output, status and usage
 * as the answer arrives.
 */
#include <math.h>
#include <string.h>
#include <apr_time.h>

#include "aura_stream.h"
#include "aura_stream_int.h"

/* The client's own number object when it sent one (json-c keeps its text,
 * so it prints as sent, without a float format); else the default, with
 * its text given. Formatting a double costs more than the rest of the
 * field. */
static json_object *num_or(const aura_request_t *req, const char *key,
                           double v, const char *def)
{
    json_object *o = req->body ? aura_json_get(req->body, key) : NULL;
    if (o && (json_object_is_type(o, json_type_double) ||
              json_object_is_type(o, json_type_int)))
        return json_object_get(o);
    if (!isnan(v))
        return json_object_new_double(v);
    return json_object_new_double_s(atof(def), def);
}

static json_object *int_or_null(long v)
{
    return v == AURA_UNSET ? NULL : json_object_new_int64(v);
}

/* Shares a request value (refcount) or returns NULL. */
static json_object *share(json_object *v)
{
    return v ? json_object_get(v) : NULL;
}

static json_object *tools_json(json_object *tools)
{
    json_object *a = json_object_new_array();
    size_t i, n = tools ? json_object_array_length(tools) : 0;

    for (i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(tools, i);
        json_object *o = json_object_new_object();
        json_object *strict = aura_json_get(t, "strict");

        AURA_SET(o, "type", json_object_new_string("function"));
        AURA_SET(o, "name",
                               aura_json_nstr(aura_json_string(t, "name")));
        AURA_SET(o, "description",
                               aura_json_nstr(aura_json_string(t, "description")));
        AURA_SET(o, "parameters",
                               share(aura_json_get(t, "parameters")));
        AURA_SET(o, "strict", share(strict));
        json_object_array_add(a, o);
    }
    return a;
}

/* The spec's ResponseResource.text accepts only `schema: null` for
 * json_schema, so the schema itself is never echoed. */
static json_object *text_json(json_object *text)
{
    json_object *o = json_object_new_object();
    json_object *fmt = json_object_new_object();
    json_object *in = aura_json_get(text, "format");
    const char *type = aura_json_string(in, "type");
    json_object *verb = aura_json_get(text, "verbosity");

    if (!type)
        type = "text";
    AURA_SET(fmt, "type", json_object_new_string(type));
    if (!strcmp(type, "json_schema")) {
        json_object *strict = aura_json_get(in, "strict");
        AURA_SET(fmt, "name",
                               aura_json_nstr(aura_json_string(in, "name")));
        AURA_SET(fmt, "description",
                               aura_json_nstr(aura_json_string(in, "description")));
        AURA_SET(fmt, "schema", NULL);
        AURA_SET(fmt, "strict", json_object_new_boolean(
            strict && json_object_get_boolean(strict)));
    }
    AURA_SET(o, "format", fmt);
    if (verb)
        AURA_SET(o, "verbosity", share(verb));
    return o;
}

static json_object *reasoning_json(json_object *r)
{
    json_object *o;
    if (!r)
        return NULL;
    o = json_object_new_object();
    AURA_SET(o, "effort", share(aura_json_get(r, "effort")));
    AURA_SET(o, "summary", share(aura_json_get(r, "summary")));
    return o;
}

json_object *aura_rb_resource_new(const aura_request_t *req, const char *id,
                                  const char *model)
{
    json_object *r = json_object_new_object();
    int ptc = req->parallel_tool_calls;

#define ADD(k, v) AURA_ADD_NEW(r, (k), (v))
    ADD("id", json_object_new_string(id));
    ADD("object", json_object_new_string("response"));
    ADD("created_at", json_object_new_int64(apr_time_sec(apr_time_now())));
    ADD("completed_at", NULL);
    ADD("status", json_object_new_string("in_progress"));
    ADD("incomplete_details", NULL);
    ADD("model", json_object_new_string(model ? model :
                                        req->model ? req->model : ""));
    ADD("previous_response_id", aura_json_nstr(req->previous_response_id));
    ADD("instructions", aura_json_nstr(req->instructions));
    ADD("output", json_object_new_array());
    ADD("error", NULL);
    ADD("tools", tools_json(req->tools));
    ADD("tool_choice", req->tool_choice ? share(req->tool_choice)
                                        : json_object_new_string("auto"));
    ADD("truncation", json_object_new_string(req->truncation ? req->truncation
                                                            : "disabled"));
    ADD("parallel_tool_calls", json_object_new_boolean(ptc != 0));
    ADD("text", text_json(req->text));
    ADD("top_p", num_or(req, "top_p", req->top_p, "1.0"));
    ADD("temperature", num_or(req, "temperature", req->temperature, "1.0"));
    ADD("presence_penalty", num_or(req, "presence_penalty",
                                   req->presence_penalty, "0.0"));
    ADD("frequency_penalty", num_or(req, "frequency_penalty",
                                    req->frequency_penalty, "0.0"));
    ADD("top_logprobs", json_object_new_int64(
        req->top_logprobs == AURA_UNSET ? 0 : req->top_logprobs));
    ADD("reasoning", reasoning_json(req->reasoning));
    ADD("usage", NULL);
    ADD("max_output_tokens", int_or_null(req->max_output_tokens));
    ADD("max_tool_calls", int_or_null(req->max_tool_calls));
    ADD("store", json_object_new_boolean(req->store == 1));
    ADD("background", json_object_new_boolean(0));
    ADD("service_tier", json_object_new_string(req->service_tier ?
                                               req->service_tier : "default"));
    ADD("metadata", req->metadata ? share(req->metadata)
                                  : json_object_new_object());
    ADD("safety_identifier", aura_json_nstr(req->safety_identifier));
    ADD("prompt_cache_key", aura_json_nstr(req->prompt_cache_key));
#undef ADD
    return r;
}
