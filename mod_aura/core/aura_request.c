/*
 * aura_request.c - parse, validate and normalize a POST /v1/responses body
 * (Open Responses CreateResponseBody) into aura_request_t.
 *
 * Validation is complete up front: encoders may assume every field they
 * read has the right type and range. Errors carry the field path in
 * `param` ("input[2].content[0].image_url") so clients can point at it.
 *
 * Unknown keys at the top level are refused (a typo such as "max_tokens"
 * must not be silently ignored), but unknown keys inside items and parts
 * are kept: providers add fields ("phase", "annotations", "logprobs") that
 * clients echo back, and the Responses upstream wants them round-tripped.
 *
 * This file has the top-level fields, tools and the entry point; the input
 * items and their content parts are in aura_request_items.c.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_lib.h>

#include "aura_request.h"
#include "aura_request_int.h"

#define AURA_MODEL_MAX 256

/* ------------------------------------------------------------------ */
/* errors and small helpers                                           */

aura_error_t *aura_rq_e_type(apr_pool_t *p, const char *param,
                             const char *want, json_object *got)
{
    return aura_bad_request(p, "invalid_type", param,
                            "Invalid type for '%s': expected %s, got %s.",
                            param, want, aura_json_type_name(got));
}

aura_error_t *aura_rq_e_missing(apr_pool_t *p, const char *param)
{
    return aura_bad_request(p, "missing_required_parameter", param,
                            "Missing required parameter: '%s'.", param);
}

aura_error_t *aura_rq_e_value(apr_pool_t *p, const char *param,
                              const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return aura_bad_request(p, "invalid_value", param, "%s", msg);
}

const char *aura_rq_path(apr_pool_t *p, const char *at, const char *key)
{
    return at ? apr_pstrcat(p, at, ".", key, NULL) : key;
}

const char *aura_rq_path_idx(apr_pool_t *p, const char *at, size_t i)
{
    return apr_psprintf(p, "%s[%" APR_SIZE_T_FMT "]", at, i);
}

/* Length in characters (code points) of valid UTF-8 (json-c validated). */
apr_size_t aura_rq_utf8_len(const char *s)
{
    apr_size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int in_set(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static aura_error_t *e_enum(apr_pool_t *p, const char *param, const char *got,
                            const char *const *set)
{
    const char *list = apr_pstrcat(p, "'", set[0], "'", NULL);
    int i;

    for (i = 1; set[i]; i++)
        list = apr_pstrcat(p, list, set[i + 1] ? ", '" : " and '", set[i],
                           "'", NULL);
    return aura_rq_e_value(p, param, "Invalid value for '%s': '%s'. "
                           "Supported values are: %s.", param, got, list);
}

/* ^[a-zA-Z0-9_-]{1,64}$ */
static int valid_name(const char *s)
{
    apr_size_t n = 0;
    for (; *s; s++, n++)
        if (!apr_isalnum(*s) && *s != '_' && *s != '-')
            return 0;
    return n >= 1 && n <= 64;
}

/* ------------------------------------------------------------------ */
/* typed getters: absent and null are the same; *out NULL when absent  */

aura_error_t *aura_rq_get_str(apr_pool_t *p, json_object *o, const char *at,
                              const char *key, int required, const char **out)
{
    json_object *v = aura_json_get(o, key);

    *out = NULL;
    if (!v)
        return required ? aura_rq_e_missing(p, aura_rq_path(p, at, key))
                        : NULL;
    if (!json_object_is_type(v, json_type_string))
        return aura_rq_e_type(p, aura_rq_path(p, at, key), "a string", v);
    *out = json_object_get_string(v);
    return NULL;
}

aura_error_t *aura_rq_get_typed(apr_pool_t *p, json_object *o, const char *at,
                                const char *key, int required,
                                json_type type, const char *want,
                                json_object **out)
{
    json_object *v = aura_json_get(o, key);

    *out = NULL;
    if (!v)
        return required ? aura_rq_e_missing(p, aura_rq_path(p, at, key))
                        : NULL;
    if (!json_object_is_type(v, type))
        return aura_rq_e_type(p, aura_rq_path(p, at, key), want, v);
    *out = v;
    return NULL;
}

aura_error_t *aura_rq_get_enum(apr_pool_t *p, json_object *o, const char *at,
                               const char *key, int required,
                               const char *const *set, const char **out)
{
    aura_error_t *e = aura_rq_get_str(p, o, at, key, required, out);

    if (!e && *out && !in_set(*out, set))
        e = e_enum(p, aura_rq_path(p, at, key), *out, set);
    return e;
}

aura_error_t *aura_rq_get_name(apr_pool_t *p, json_object *o, const char *at,
                               const char *key, const char **out)
{
    aura_error_t *e = aura_rq_get_str(p, o, at, key, 1, out);

    if (!e && !valid_name(*out))
        e = aura_rq_e_value(p, aura_rq_path(p, at, key),
                            "Invalid '%s': '%s' must be 1 to 64 characters "
                            "from a-z, A-Z, 0-9, '_' and '-'.",
                            aura_rq_path(p, at, key), *out);
    return e;
}

/* ------------------------------------------------------------------ */
/* tools and tool_choice                                              */

static aura_error_t *parse_tool(pctx_t *c, json_object *tool, size_t i,
                                json_object **out)
{
    const char *at = aura_rq_path_idx(c->p, "tools", i);
    const char *type, *name, *desc;
    json_object *src = tool, *params, *strict;
    aura_error_t *e;

    if (!json_object_is_type(tool, json_type_object))
        return aura_rq_e_type(c->p, at, "an object", tool);
    if ((e = aura_rq_get_str(c->p, tool, at, "type", 1, &type)))
        return e;
    if (strcmp(type, "function") != 0)
        return aura_rq_e_value(c->p, aura_rq_path(c->p, at, "type"),
                               "Unsupported tool type '%s' in '%s'.", type,
                               aura_rq_path(c->p, at, "type"));
    if (aura_json_get(tool, "function")) {
        /* Chat Completions shape: {"type":"function","function":{...}} */
        if ((e = aura_rq_get_typed(c->p, tool, at, "function", 1,
                                   json_type_object, "an object", &src)))
            return e;
        at = aura_rq_path(c->p, at, "function");
    }
    if ((e = aura_rq_get_name(c->p, src, at, "name", &name))
        || (e = aura_rq_get_str(c->p, src, at, "description", 0, &desc))
        || (e = aura_rq_get_typed(c->p, src, at, "parameters", 0,
                                  json_type_object, "an object", &params))
        || (e = aura_rq_get_typed(c->p, src, at, "strict", 0,
                                  json_type_boolean, "a boolean", &strict)))
        return e;
    if (apr_hash_get(c->tool_names, name, APR_HASH_KEY_STRING))
        return aura_rq_e_value(c->p, aura_rq_path(c->p, at, "name"),
                               "Duplicate tool name '%s' in '%s'.", name,
                               aura_rq_path(c->p, at, "name"));
    apr_hash_set(c->tool_names, name, APR_HASH_KEY_STRING, "");
    *out = json_object_new_object();
    json_object_object_add(*out, "type", json_object_new_string("function"));
    json_object_object_add(*out, "name", json_object_new_string(name));
    json_object_object_add(*out, "description",
                           desc ? json_object_new_string(desc) : NULL);
    json_object_object_add(*out, "parameters", json_object_get(params));
    json_object_object_add(*out, "strict", json_object_get(strict));
    return NULL;
}

/* A namespace groups function tools under one name (Codex sends its
 * multi-agent tools so); no other provider has the notion, so its
 * functions join the flat list. */
static aura_error_t *parse_namespace(pctx_t *c, json_object *ns, size_t i)
{
    const char *at = aura_rq_path_idx(c->p, "tools", i);
    json_object *inner;
    aura_error_t *e;
    size_t j, n;

    if ((e = aura_rq_get_typed(c->p, ns, at, "tools", 1, json_type_array,
                               "an array", &inner)))
        return e;
    n = json_object_array_length(inner);
    for (j = 0; j < n; j++) {
        json_object *tool = NULL;
        if ((e = parse_tool(c, json_object_array_get_idx(inner, j), j,
                            &tool))) {
            e->param = apr_pstrcat(c->p, at, ".", e->param, NULL);
            return e;
        }
        json_object_array_add(c->req->tools, tool);
    }
    return NULL;
}

/* Tools the provider itself runs (web_search, file_search, code
 * interpreter, custom freeform tools, ...): kept as sent for OpenAI's
 * Responses API, which has them; the other adapters cannot offer them and
 * leave them out (the response says so in aura.warnings). */
static aura_error_t *keep_hosted(pctx_t *c, json_object *tool, size_t i,
                                 const char *type)
{
    size_t k;
    for (k = 0; type[k]; k++)
        if (!apr_islower(type[k]) && !apr_isdigit(type[k]) && type[k] != '_')
            break;
    if (!*type || type[k] || k > 64)
        return aura_rq_e_value(c->p, aura_rq_path(c->p,
                               aura_rq_path_idx(c->p, "tools", i), "type"),
                               "Invalid tool type '%s'.", type);
    if (!c->req->hosted_tools)
        c->req->hosted_tools = aura_json_pool(c->p, json_object_new_array());
    json_object_array_add(c->req->hosted_tools, json_object_get(tool));
    return NULL;
}

static aura_error_t *parse_tools(pctx_t *c, json_object *v)
{
    size_t i, n;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_array))
        return aura_rq_e_type(c->p, "tools", "an array", v);
    n = json_object_array_length(v);
    for (i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(v, i), *tool = NULL;
        const char *type = aura_json_string(item, "type");

        if (type && !strcmp(type, "namespace"))
            e = parse_namespace(c, item, i);
        else if (type && strcmp(type, "function"))
            e = keep_hosted(c, item, i, type);
        else if (!(e = parse_tool(c, item, i, &tool)))
            json_object_array_add(c->req->tools, tool);
        if (e)
            return e;
    }
    return NULL;
}

/* Sent by Codex (window and session ids) to OpenAI; nothing to do with
 * the generation: accepted, checked for shape, not forwarded elsewhere. */
static aura_error_t *parse_client_metadata(pctx_t *c, json_object *v)
{
    if (!json_object_is_type(v, json_type_object))
        return aura_rq_e_type(c->p, "client_metadata", "an object", v);
    return NULL;
}

static aura_error_t *known_tool(pctx_t *c, json_object *o, const char *at,
                                const char **name)
{
    aura_error_t *e = aura_rq_get_str(c->p, o, at, "name", 1, name);

    if (!e && !apr_hash_get(c->tool_names, *name, APR_HASH_KEY_STRING))
        e = aura_rq_e_value(c->p, aura_rq_path(c->p, at, "name"),
                            "Invalid value for '%s': no tool named '%s' in "
                            "'tools'.", aura_rq_path(c->p, at, "name"), *name);
    return e;
}

static json_object *function_choice(const char *name)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "type", json_object_new_string("function"));
    json_object_object_add(o, "name", json_object_new_string(name));
    return o;
}

static const char *const choice_set[] = { "none", "auto", "required", NULL };

static aura_error_t *parse_allowed_tools(pctx_t *c, json_object *v,
                                         json_object **out)
{
    json_object *tools, *list;
    const char *mode, *name, *type;
    size_t i, n;
    aura_error_t *e;

    if ((e = aura_rq_get_typed(c->p, v, "tool_choice", "tools", 1,
                               json_type_array, "an array", &tools))
        || (e = aura_rq_get_enum(c->p, v, "tool_choice", "mode", 0, choice_set,
                                 &mode)))
        return e;
    if ((n = json_object_array_length(tools)) == 0)
        return aura_rq_e_value(c->p, "tool_choice.tools",
                               "Invalid value for 'tool_choice.tools': the "
                               "list of allowed tools is empty.");
    list = json_object_new_array();
    *out = json_object_new_object();
    json_object_object_add(*out, "type",
                           json_object_new_string("allowed_tools"));
    json_object_object_add(*out, "mode",
                           json_object_new_string(mode ? mode : "auto"));
    json_object_object_add(*out, "tools", list);
    for (i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(tools, i);
        const char *at = aura_rq_path_idx(c->p, "tool_choice.tools", i);

        if (!json_object_is_type(t, json_type_object))
            return aura_rq_e_type(c->p, at, "an object", t);
        if ((e = aura_rq_get_str(c->p, t, at, "type", 0, &type)))
            return e;
        if (type && strcmp(type, "function") != 0)
            return aura_rq_e_value(c->p, aura_rq_path(c->p, at, "type"),
                                   "Unsupported tool type '%s' in '%s': only "
                                   "function tools are supported.", type,
                                   aura_rq_path(c->p, at, "type"));
        if ((e = known_tool(c, t, at, &name)))
            return e;
        json_object_array_add(list, function_choice(name));
    }
    return NULL;
}

static aura_error_t *choice_object(pctx_t *c, json_object *v,
                                   json_object **out)
{
    const char *type, *name;
    json_object *fn;
    aura_error_t *e;

    if ((e = aura_rq_get_str(c->p, v, "tool_choice", "type", 1, &type)))
        return e;
    if (strcmp(type, "allowed_tools") == 0)
        return parse_allowed_tools(c, v, out);
    if (strcmp(type, "function") != 0)
        return aura_rq_e_value(c->p, "tool_choice.type",
                               "Unsupported tool_choice type '%s': only "
                               "'function' and 'allowed_tools' are "
                               "supported.", type);
    /* Also accept the Chat shape {"type":"function","function":{name}}. */
    fn = aura_json_get(v, "function");
    if (fn && !aura_json_get(v, "name")) {
        if (!json_object_is_type(fn, json_type_object))
            return aura_rq_e_type(c->p, "tool_choice.function", "an object",
                                  fn);
        e = known_tool(c, fn, "tool_choice.function", &name);
    }
    else {
        e = known_tool(c, v, "tool_choice", &name);
    }
    if (!e)
        *out = function_choice(name);
    return e;
}

static aura_error_t *parse_tool_choice(pctx_t *c, json_object *v)
{
    json_object *norm = NULL;
    aura_error_t *e;
    int is_obj = json_object_is_type(v, json_type_object);

    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);

        if (!in_set(s, choice_set))
            return e_enum(c->p, "tool_choice", s, choice_set);
        c->req->tool_choice = v;
        if (strcmp(s, "required") != 0)
            return NULL;
    }
    else if (!is_obj) {
        return aura_rq_e_type(c->p, "tool_choice", "a string or an object", v);
    }
    if (json_object_array_length(c->req->tools) == 0 && !c->req->hosted_tools)
        return aura_rq_e_value(c->p, "tool_choice",
                               "Invalid value for 'tool_choice': it requires "
                               "at least one tool in 'tools'.");
    if (!is_obj)
        return NULL;
    if ((e = choice_object(c, v, &norm))) {
        json_object_put(norm);
        return e;
    }
    c->req->tool_choice = aura_json_pool(c->p, norm);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* text, reasoning, metadata, include, stream_options                 */

static const char *const format_set[] = {
    "text", "json_object", "json_schema", NULL
};
static const char *const verbosity_set[] = { "low", "medium", "high", NULL };

static aura_error_t *parse_json_schema(apr_pool_t *p, json_object *f)
{
    const char *s;
    json_object *o;
    aura_error_t *e;

    if ((e = aura_rq_get_name(p, f, "text.format", "name", &s))
        || (e = aura_rq_get_typed(p, f, "text.format", "schema", 1,
                                  json_type_object, "an object", &o))
        || (e = aura_rq_get_str(p, f, "text.format", "description", 0, &s))
        || (e = aura_rq_get_typed(p, f, "text.format", "strict", 0,
                                  json_type_boolean, "a boolean", &o)))
        return e;
    return NULL;
}

static aura_error_t *parse_text(pctx_t *c, json_object *v)
{
    json_object *format;
    const char *type, *verbosity;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_object))
        return aura_rq_e_type(c->p, "text", "an object", v);
    if ((e = aura_rq_get_typed(c->p, v, "text", "format", 0, json_type_object,
                               "an object", &format))
        || (e = aura_rq_get_enum(c->p, v, "text", "verbosity", 0,
                                 verbosity_set, &verbosity)))
        return e;
    if (format) {
        if ((e = aura_rq_get_enum(c->p, format, "text.format", "type", 1,
                                  format_set, &type)))
            return e;
        if (strcmp(type, "json_schema") == 0
            && (e = parse_json_schema(c->p, format)))
            return e;
    }
    c->req->text = v;
    return NULL;
}

static const char *const effort_set[] = {
    "none", "minimal", "low", "medium", "high", "xhigh", NULL
};
static const char *const summary_set[] = {
    "concise", "detailed", "auto", NULL
};

static aura_error_t *parse_reasoning(pctx_t *c, json_object *v)
{
    const char *s;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_object))
        return aura_rq_e_type(c->p, "reasoning", "an object", v);
    if ((e = aura_rq_get_enum(c->p, v, "reasoning", "effort", 0, effort_set,
                              &s))
        || (e = aura_rq_get_enum(c->p, v, "reasoning", "summary", 0,
                                 summary_set, &s)))
        return e;
    c->req->reasoning = v;
    return NULL;
}

static aura_error_t *parse_metadata(pctx_t *c, json_object *v)
{
    if (!json_object_is_type(v, json_type_object))
        return aura_rq_e_type(c->p, "metadata", "an object", v);
    if (json_object_object_length(v) > 16)
        return aura_rq_e_value(c->p, "metadata",
                               "Invalid 'metadata': at most 16 keys are "
                               "allowed, got %d.",
                               json_object_object_length(v));
    json_object_object_foreach(v, key, val) {
        const char *at = aura_rq_path(c->p, "metadata", key);

        if (aura_rq_utf8_len(key) > 64)
            return aura_rq_e_value(c->p, "metadata",
                                   "Invalid 'metadata': keys must be at most "
                                   "64 characters long.");
        if (!val || !json_object_is_type(val, json_type_string))
            return aura_rq_e_type(c->p, at, "a string", val);
        if (aura_rq_utf8_len(json_object_get_string(val)) > 512)
            return aura_rq_e_value(c->p, at, "Invalid '%s': values must be "
                                   "at most 512 characters long.", at);
    }
    c->req->metadata = v;
    return NULL;
}

static const char *const include_set[] = {
    "reasoning.encrypted_content", "message.output_text.logprobs", NULL
};

static aura_error_t *parse_include(pctx_t *c, json_object *v)
{
    size_t i, n;

    if (!json_object_is_type(v, json_type_array))
        return aura_rq_e_type(c->p, "include", "an array", v);
    n = json_object_array_length(v);
    for (i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(v, i);
        const char *at = aura_rq_path_idx(c->p, "include", i);

        if (!s || !json_object_is_type(s, json_type_string))
            return aura_rq_e_type(c->p, at, "a string", s);
        if (!in_set(json_object_get_string(s), include_set))
            return e_enum(c->p, at, json_object_get_string(s), include_set);
    }
    c->req->include = v;
    return NULL;
}

static aura_error_t *parse_stream_options(pctx_t *c, json_object *v)
{
    json_object *b;

    if (!json_object_is_type(v, json_type_object))
        return aura_rq_e_type(c->p, "stream_options", "an object", v);
    return aura_rq_get_typed(c->p, v, "stream_options",
                             "include_obfuscation", 0, json_type_boolean,
                             "a boolean", &b);
}

/* ------------------------------------------------------------------ */
/* scalar fields, table driven                                        */

typedef enum { F_FN, F_NUM, F_INT, F_BOOL, F_STR, F_ENUM } fkind_t;

typedef struct field {
    const char *key;
    fkind_t kind;
    size_t off;                 /* into aura_request_t */
    double lo, hi;              /* range; F_STR: length in characters */
    const char *const *set;     /* F_ENUM */
    aura_error_t *(*fn)(pctx_t *c, json_object *v);
} field_t;

#define OFF(m) offsetof(aura_request_t, m)
#define FN(k, f) { k, F_FN, 0, 0, 0, NULL, f }

static const char *const truncation_set[] = { "auto", "disabled", NULL };
static const char *const tier_set[] = {
    "auto", "default", "flex", "priority", NULL
};

/* Order matters: tools before tool_choice (which checks names). */
static const field_t fields[] = {
    { "model", F_STR, OFF(model), 1, AURA_MODEL_MAX, NULL, NULL },
    FN("input", aura_rq_parse_input),
    { "previous_response_id", F_STR, OFF(previous_response_id), 1, INFINITY,
      NULL, NULL },
    FN("include", parse_include),
    FN("tools", parse_tools),
    FN("tool_choice", parse_tool_choice),
    FN("metadata", parse_metadata),
    FN("client_metadata", parse_client_metadata),
    FN("text", parse_text),
    { "temperature", F_NUM, OFF(temperature), 0, 2, NULL, NULL },
    { "top_p", F_NUM, OFF(top_p), 0, 1, NULL, NULL },
    { "presence_penalty", F_NUM, OFF(presence_penalty), -2, 2, NULL, NULL },
    { "frequency_penalty", F_NUM, OFF(frequency_penalty), -2, 2, NULL, NULL },
    { "parallel_tool_calls", F_BOOL, OFF(parallel_tool_calls), 0, 0, NULL,
      NULL },
    { "stream", F_BOOL, OFF(stream), 0, 0, NULL, NULL },
    FN("stream_options", parse_stream_options),
    { "background", F_BOOL, OFF(background), 0, 0, NULL, NULL },
    { "max_output_tokens", F_INT, OFF(max_output_tokens), 16, INFINITY, NULL,
      NULL },
    { "max_tool_calls", F_INT, OFF(max_tool_calls), 1, INFINITY, NULL, NULL },
    FN("reasoning", parse_reasoning),
    { "safety_identifier", F_STR, OFF(safety_identifier), 0, 64, NULL,
      NULL },
    { "prompt_cache_key", F_STR, OFF(prompt_cache_key), 0, 64, NULL, NULL },
    { "truncation", F_ENUM, OFF(truncation), 0, 0, truncation_set, NULL },
    { "instructions", F_STR, OFF(instructions), 0, INFINITY, NULL, NULL },
    { "store", F_BOOL, OFF(store), 0, 0, NULL, NULL },
    { "service_tier", F_ENUM, OFF(service_tier), 0, 0, tier_set, NULL },
    { "top_logprobs", F_INT, OFF(top_logprobs), 0, 20, NULL, NULL },
    { NULL, F_FN, 0, 0, 0, NULL, NULL }
};

static aura_error_t *e_range(apr_pool_t *p, const char *key, double lo,
                             double hi, double got)
{
    if (isinf(hi))
        return aura_rq_e_value(p, key, "Invalid value for '%s': expected a "
                               "value >= %g, got %g.", key, lo, got);
    return aura_rq_e_value(p, key, "Invalid value for '%s': expected a value "
                           "between %g and %g, got %g.", key, lo, hi, got);
}

static aura_error_t *field_num(apr_pool_t *p, const field_t *f,
                               json_object *v, void *dst)
{
    double d;

    if (!json_object_is_type(v, json_type_double)
        && !json_object_is_type(v, json_type_int))
        return aura_rq_e_type(p, f->key, "a number", v);
    d = json_object_get_double(v);
    if (!isfinite(d) || d < f->lo || d > f->hi)
        return e_range(p, f->key, f->lo, f->hi, d);
    *(double *)dst = d;
    return NULL;
}

static aura_error_t *field_int(apr_pool_t *p, const field_t *f,
                               json_object *v, void *dst)
{
    double d;

    /* 16.0 is an integer too; 16.5 is not. */
    if (json_object_is_type(v, json_type_int))
        d = (double)json_object_get_int64(v);
    else if (json_object_is_type(v, json_type_double)
             && isfinite(d = json_object_get_double(v)) && d == floor(d))
        ;
    else
        return aura_rq_e_type(p, f->key, "an integer", v);
    if (d < f->lo || d > f->hi || d > 1e15)   /* 1e15: fits any long */
        return e_range(p, f->key, f->lo, f->hi, d);
    *(long *)dst = (long)d;
    return NULL;
}

static aura_error_t *field_str(apr_pool_t *p, const field_t *f,
                               json_object *v, void *dst)
{
    const char *s;
    apr_size_t n;

    if (!json_object_is_type(v, json_type_string))
        return aura_rq_e_type(p, f->key, "a string", v);
    s = json_object_get_string(v);
    if (f->kind == F_ENUM && !in_set(s, f->set))
        return e_enum(p, f->key, s, f->set);
    n = aura_rq_utf8_len(s);
    if (f->kind == F_STR && ((double)n < f->lo || (double)n > f->hi))
        return n == 0
            ? aura_rq_e_value(p, f->key, "Invalid '%s': empty string.",
                              f->key)
            : aura_rq_e_value(p, f->key, "Invalid '%s': string too long; "
                              "expected at most %g characters, got %"
                              APR_SIZE_T_FMT ".", f->key, f->hi, n);
    *(const char **)dst = s;
    return NULL;
}

static aura_error_t *parse_field(pctx_t *c, const field_t *f, json_object *v)
{
    void *dst = (char *)c->req + f->off;

    switch (f->kind) {
    case F_FN:
        return f->fn(c, v);
    case F_NUM:
        return field_num(c->p, f, v, dst);
    case F_INT:
        return field_int(c->p, f, v, dst);
    case F_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return aura_rq_e_type(c->p, f->key, "a boolean", v);
        *(int *)dst = json_object_get_boolean(v) ? 1 : 0;
        return NULL;
    case F_STR:
    case F_ENUM:
        return field_str(c->p, f, v, dst);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* entry point                                                        */

static aura_error_t *parse_json(apr_pool_t *p, const char *body,
                                apr_size_t len, json_object **out)
{
    struct json_tokener *tok = aura_tokener_acquire();
    enum json_tokener_error jerr;
    json_object *root;
    size_t end;

    *out = NULL;
    for (end = 0; end < len && apr_isspace(body[end]); end++)
        ;
    if (end == len) {
        aura_tokener_release(tok);
        return aura_bad_request(p, "invalid_json", NULL,
                                "We could not parse the JSON body of your "
                                "request: unexpected end of data (the body "
                                "is empty).");
    }
    if (len > (apr_size_t)INT_MAX) {     /* json-c takes an int length */
        aura_tokener_release(tok);
        return aura_error_make(p, 413, "invalid_request_error",
                               "request_too_large", NULL,
                               "The request body is too large.");
    }
    if (!tok)
        return aura_error_make(p, 500, "server_error", NULL, NULL,
                               "Out of memory.");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
                                | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, body ? body : "", (int)len);
    end = json_tokener_get_parse_end(tok);
    if (!root && json_tokener_get_error(tok) == json_tokener_continue) {
        /* A NUL tells json-c the input ended ("42", "null", truncation). */
        root = json_tokener_parse_ex(tok, "", 1);
        end = len;
    }
    jerr = json_tokener_get_error(tok);
    aura_tokener_release(tok);
    if (jerr != json_tokener_success)
        return aura_bad_request(p, "invalid_json", NULL,
                                "We could not parse the JSON body of your "
                                "request: %s at offset %" APR_SIZE_T_FMT ".",
                                json_tokener_error_desc(jerr), end);
    aura_json_pool(p, root);
    for (; end < len; end++)
        if (!apr_isspace(body[end]))
            return aura_bad_request(p, "invalid_json", NULL,
                                    "We could not parse the JSON body of "
                                    "your request: trailing data at offset "
                                    "%" APR_SIZE_T_FMT ".", end);
    *out = root;
    return NULL;
}

static aura_error_t *check_keys(apr_pool_t *p, json_object *root)
{
    json_object_object_foreach(root, key, val) {
        const field_t *f;

        (void)val;
        for (f = fields; f->key; f++)
            if (strcmp(f->key, key) == 0)
                break;
        if (!f->key)
            return aura_bad_request(p, "unknown_parameter", key,
                                    "Unknown parameter: '%s'.", key);
    }
    return NULL;
}

static aura_request_t *request_new(apr_pool_t *p, json_object *root)
{
    aura_request_t *r = apr_pcalloc(p, sizeof(*r));

    r->pool = p;
    r->body = root;
    r->input = aura_json_pool(p, json_object_new_array());
    r->tools = aura_json_pool(p, json_object_new_array());
    r->store = r->parallel_tool_calls = AURA_UNSET;
    r->max_output_tokens = r->max_tool_calls = r->top_logprobs = AURA_UNSET;
    r->temperature = r->top_p = NAN;
    r->presence_penalty = r->frequency_penalty = NAN;
    return r;
}

aura_error_t *aura_request_parse_object(apr_pool_t *p, json_object *root,
                                        aura_request_t **out)
{
    pctx_t c;
    const field_t *f;
    aura_error_t *e;

    *out = NULL;
    if (!json_object_is_type(root, json_type_object))
        return aura_bad_request(p, "invalid_type", NULL,
                                "Invalid type for the request body: "
                                "expected a JSON object, got %s.",
                                aura_json_type_name(root));
    if ((e = check_keys(p, root)))
        return e;
    c.p = p;
    c.req = request_new(p, root);
    c.tool_names = apr_hash_make(p);
    for (f = fields; f->key; f++) {
        json_object *v = aura_json_get(root, f->key);

        /* null means "not given" for every field (clients send it). */
        if (v && (e = parse_field(&c, f, v)))
            return e;
    }
    if (c.req->background)
        return aura_bad_request(p, "unsupported_parameter", "background",
                                "Unsupported parameter: 'background'. This "
                                "gateway does not run background "
                                "responses; use stream:true instead.");
    *out = c.req;
    return NULL;
}

aura_error_t *aura_request_parse(apr_pool_t *p, const char *body,
                                 apr_size_t len, aura_request_t **out)
{
    json_object *root;
    aura_error_t *e;

    *out = NULL;
    if ((e = parse_json(p, body, len, &root)))
        return e;
    return aura_request_parse_object(p, root, out);
}

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
