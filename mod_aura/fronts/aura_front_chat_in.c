/*
 * aura_front_chat_in.c - the OpenAI Chat Completions front door
 * (POST .../chat/completions), in, for every provider; out (chunks, the
 * chat.completion body) is in aura_front_chat_out.c.
 *
 * In: the chat body is translated into the equivalent Open Responses body,
 * which aura_request_parse then validates and normalizes. A chat request
 * thus becomes exactly the request model the native front door would
 * build (one validator, one normalization, nothing to drift apart), and
 * req->body is a real Responses body that the Responses encoder can pass
 * on. Errors the Responses parser finds name Responses paths
 * ("input[3].call_id"); every generated item remembers the chat message
 * or tool call it came from, so the path is mapped back
 * ("messages[2].tool_calls[0].id", aura_front_chat_in_errors.c).
 * Chat-only fields are checked here.
 *
 * Chat fields with no Responses equivalent:
 *   max_tokens, max_completion_tokens  integers >= 1 (Chat's own floor,
 *       not the Responses 16), set on req->max_output_tokens directly;
 *       max_completion_tokens wins when both are given.
 *   user               → safety_identifier when that is absent and the
 *       value fits its 64 characters; else dropped (abuse monitoring
 *       only, never changes an answer).
 *   stream_options.include_usage → req->include_usage.
 *   n                  only 1 (one choice is all the builder makes).
 *   seed               ignored: best effort even at OpenAI, and most
 *       providers have none; an answer is no less valid without it.
 *   prediction         ignored: a latency optimization that never
 *       changes the answer.
 *   modalities         ["text"] only; audio output is refused.
 *   stop, logit_bias, audio, web_search_options, functions,
 *   function_call, logprobs:true, top_logprobs > 0
 *                      refused (400 unsupported_parameter) unless empty:
 *       ignoring them would silently change what the client gets.
 *   message "name"     dropped (no Responses equivalent; a label only).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_lib.h>

#include "aura_front_chat.h"

/* ================================================================== */
/* parse: context and errors                                          */

static aura_error_t *e_type(apr_pool_t *p, const char *param,
                            const char *want, json_object *got)
{
    return aura_bad_request(p, "invalid_type", param,
                            "Invalid type for '%s': expected %s, got %s.",
                            param, want, aura_json_type_name(got));
}

static aura_error_t *e_missing(apr_pool_t *p, const char *param)
{
    return aura_bad_request(p, "missing_required_parameter", param,
                            "Missing required parameter: '%s'.", param);
}

static aura_error_t *e_unsupported(apr_pool_t *p, const char *param,
                                   const char *why)
{
    return aura_bad_request(p, "unsupported_parameter", param,
                            "Unsupported parameter: '%s'. %s", param, why);
}

static const char *at_key(apr_pool_t *p, const char *at, const char *key)
{
    return apr_pstrcat(p, at, ".", key, NULL);
}

static const char *at_idx(apr_pool_t *p, const char *at, size_t i)
{
    return apr_psprintf(p, "%s[%" APR_SIZE_T_FMT "]", at, i);
}

/* A string o[key] (absent/null allowed unless required). */
static aura_error_t *get_str(apr_pool_t *p, json_object *o, const char *at,
                             const char *key, int required, const char **out)
{
    json_object *v = aura_json_get(o, key);

    *out = NULL;
    if (!v)
        return required ? e_missing(p, at_key(p, at, key)) : NULL;
    if (!json_object_is_type(v, json_type_string))
        return e_type(p, at_key(p, at, key), "a string", v);
    *out = json_object_get_string(v);
    return NULL;
}

static int is_obj(json_object *v)
{
    return json_object_is_type(v, json_type_object);
}

static int is_empty(json_object *v)
{
    return !v || (json_object_is_type(v, json_type_array)
                  && json_object_array_length(v) == 0)
              || (is_obj(v) && json_object_object_length(v) == 0)
              || (json_object_is_type(v, json_type_string)
                  && json_object_get_string_len(v) == 0);
}

/* Shares v under key (v may be NULL: the key is added as null, which the
 * Responses parser reports as missing, under the mapped name). */
void aura_fc_put(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, json_object_get(v));
}

static json_object *typed(const char *type)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(type));
    return o;
}

static void add_item(cctx_t *c, json_object *item, const char *path,
                     okind_t kind)
{
    origin_t *o = apr_array_push(c->origin);

    o->path = path;
    o->kind = kind;
    json_object_array_add(c->input, item);
}

/* ================================================================== */
/* parse: content parts                                               */

#define P_USER   0x01
#define P_TEXT   0x02           /* system, developer, tool: text only */
#define P_ASSIST 0x04

typedef aura_error_t *(*part_fn)(cctx_t *c, json_object *part,
                                 const char *at, unsigned role,
                                 json_object **out);

static aura_error_t *part_text(cctx_t *c, json_object *part, const char *at,
                               unsigned role, json_object **out)
{
    (void)c; (void)at;
    *out = typed(role == P_ASSIST ? "output_text" : "input_text");
    aura_fc_put(*out, "text", aura_json_get(part, "text"));
    if (role == P_ASSIST)
        json_object_object_add(*out, "annotations", json_object_new_array());
    return NULL;
}

static aura_error_t *part_refusal(cctx_t *c, json_object *part,
                                  const char *at, unsigned role,
                                  json_object **out)
{
    (void)c; (void)at; (void)role;
    *out = typed("refusal");
    aura_fc_put(*out, "refusal", aura_json_get(part, "refusal"));
    return NULL;
}

/* {"image_url":{"url","detail"}} (a bare URL string is taken too). */
static aura_error_t *part_image(cctx_t *c, json_object *part, const char *at,
                                unsigned role, json_object **out)
{
    json_object *img = aura_json_get(part, "image_url");
    (void)role;

    if (!img)
        return e_missing(c->p, at_key(c->p, at, "image_url"));
    if (!is_obj(img) && !json_object_is_type(img, json_type_string))
        return e_type(c->p, at_key(c->p, at, "image_url"), "an object", img);
    *out = typed("input_image");
    if (is_obj(img)) {
        aura_fc_put(*out, "image_url", aura_json_get(img, "url"));
        if (aura_json_get(img, "detail"))
            aura_fc_put(*out, "detail", aura_json_get(img, "detail"));
    }
    else {
        aura_fc_put(*out, "image_url", img);
    }
    return NULL;
}

/* {"file":{"file_data","file_id","filename"}} */
static aura_error_t *part_file(cctx_t *c, json_object *part, const char *at,
                               unsigned role, json_object **out)
{
    static const char *const keys[] = {
        "file_data", "file_id", "filename", "file_url", NULL
    };
    json_object *f = aura_json_get(part, "file");
    int i;
    (void)role;

    if (!f)
        return e_missing(c->p, at_key(c->p, at, "file"));
    if (!is_obj(f))
        return e_type(c->p, at_key(c->p, at, "file"), "an object", f);
    *out = typed("input_file");
    for (i = 0; keys[i]; i++)
        if (aura_json_get(f, keys[i]))
            aura_fc_put(*out, keys[i], aura_json_get(f, keys[i]));
    return NULL;
}

static aura_error_t *part_audio(cctx_t *c, json_object *part, const char *at,
                                unsigned role, json_object **out)
{
    (void)part; (void)role; (void)out;
    return aura_bad_request(c->p, "unsupported_value",
                            at_key(c->p, at, "type"),
                            "Unsupported value for '%s': audio input "
                            "('input_audio') is not supported by this "
                            "gateway.", at_key(c->p, at, "type"));
}

static const struct part_kind {
    const char *type;
    unsigned roles;
    part_fn fn;
} part_kinds[] = {
    { "text",        P_USER | P_TEXT | P_ASSIST, part_text },
    { "image_url",   P_USER,                     part_image },
    { "file",        P_USER,                     part_file },
    { "input_audio", P_USER,                     part_audio },
    { "refusal",     P_ASSIST,                   part_refusal },
    { NULL, 0, NULL }
};

static aura_error_t *e_part_type(apr_pool_t *p, const char *at,
                                 const char *type, unsigned role)
{
    const struct part_kind *k;
    const char *list = NULL;

    for (k = part_kinds; k->type; k++)
        if (k->roles & role)
            list = list ? apr_pstrcat(p, list, ", '", k->type, "'", NULL)
                        : apr_pstrcat(p, "'", k->type, "'", NULL);
    return aura_bad_request(p, "invalid_value", at_key(p, at, "type"),
                            "Invalid value for '%s': '%s' is not a content "
                            "part type here; expected one of %s.",
                            at_key(p, at, "type"), type, list);
}

static aura_error_t *conv_part(cctx_t *c, json_object *part, const char *at,
                               unsigned role, json_object **out)
{
    const struct part_kind *k;
    const char *type;
    aura_error_t *e;

    if (!is_obj(part))
        return e_type(c->p, at, "an object", part);
    if ((e = get_str(c->p, part, at, "type", 1, &type)))
        return e;
    for (k = part_kinds; k->type; k++)
        if (!strcmp(k->type, type) && (k->roles & role))
            return k->fn(c, part, at, role, out);
    return e_part_type(c->p, at, type, role);
}

/* A message's content: a string (kept: the Responses parser normalizes
 * it), or an array of parts (converted). */
static aura_error_t *conv_content(cctx_t *c, json_object *v, const char *at,
                                  unsigned role, json_object **out)
{
    size_t i, n;
    aura_error_t *e;

    if (json_object_is_type(v, json_type_string)) {
        *out = json_object_get(v);
        return NULL;
    }
    if (!json_object_is_type(v, json_type_array))
        return e_type(c->p, at, "a string or an array", v);
    *out = aura_json_pool(c->p, json_object_new_array());
    for (i = 0, n = json_object_array_length(v); i < n; i++) {
        json_object *part = NULL;

        if ((e = conv_part(c, json_object_array_get_idx(v, i),
                           at_idx(c->p, at, i), role, &part)))
            return e;
        json_object_array_add(*out, part);
    }
    json_object_get(*out);
    return NULL;
}

/* ================================================================== */
/* parse: messages                                                    */

typedef aura_error_t *(*msg_fn)(cctx_t *c, json_object *m, const char *at,
                                const char *role);

static aura_error_t *required_content(cctx_t *c, json_object *m,
                                      const char *at, unsigned role,
                                      json_object **out)
{
    json_object *v = aura_json_get(m, "content");

    if (!v)
        return e_missing(c->p, at_key(c->p, at, "content"));
    return conv_content(c, v, at_key(c->p, at, "content"), role, out);
}

static aura_error_t *msg_plain(cctx_t *c, json_object *m, const char *at,
                               const char *role)
{
    json_object *content = NULL, *item;
    aura_error_t *e;

    if ((e = required_content(c, m, at, *role == 'u' ? P_USER : P_TEXT,
                              &content)))
        return e;
    item = typed("message");
    json_object_object_add(item, "role", json_object_new_string(role));
    json_object_object_add(item, "content", content);
    add_item(c, item, at, O_MSG);
    return NULL;
}

static aura_error_t *conv_tool_call(cctx_t *c, json_object *tc,
                                    const char *at)
{
    json_object *fn, *item;
    const char *type;
    aura_error_t *e;

    if (!is_obj(tc))
        return e_type(c->p, at, "an object", tc);
    if ((e = get_str(c->p, tc, at, "type", 0, &type)))
        return e;
    if (type && strcmp(type, "function"))
        return aura_bad_request(c->p, "unsupported_value",
                                at_key(c->p, at, "type"),
                                "Unsupported value for '%s': '%s'; only "
                                "function tool calls are supported.",
                                at_key(c->p, at, "type"), type);
    if (!(fn = aura_json_get(tc, "function")))
        return e_missing(c->p, at_key(c->p, at, "function"));
    if (!is_obj(fn))
        return e_type(c->p, at_key(c->p, at, "function"), "an object", fn);
    item = typed("function_call");
    aura_fc_put(item, "call_id", aura_json_get(tc, "id"));
    aura_fc_put(item, "name", aura_json_get(fn, "name"));
    aura_fc_put(item, "arguments", aura_json_get(fn, "arguments"));
    add_item(c, item, at, O_CALL);
    return NULL;
}

/* The deprecated assistant function_call {name, arguments}: it has no id,
 * so one is made from the message index, and the role "function" answer
 * that follows is paired with it by name. */
static aura_error_t *conv_legacy_call(cctx_t *c, json_object *fc,
                                      const char *at)
{
    const char *id = apr_psprintf(c->p, "call_legacy_%d", c->origin->nelts);
    json_object *item;
    const char *name;
    aura_error_t *e;

    at = at_key(c->p, at, "function_call");
    if (!is_obj(fc))
        return e_type(c->p, at, "an object", fc);
    if ((e = get_str(c->p, fc, at, "name", 1, &name)))
        return e;
    apr_hash_set(c->legacy, name, APR_HASH_KEY_STRING, id);
    item = typed("function_call");
    json_object_object_add(item, "call_id", json_object_new_string(id));
    aura_fc_put(item, "name", aura_json_get(fc, "name"));
    aura_fc_put(item, "arguments", aura_json_get(fc, "arguments"));
    add_item(c, item, at, O_FN_CALL);
    return NULL;
}

/* Content and refusal as one output part array. An empty text next to
 * calls is only a placeholder and is left out: providers such as
 * Anthropic refuse empty text blocks. */
static aura_error_t *assistant_parts(cctx_t *c, json_object *m,
                                     const char *at, int calls,
                                     json_object **out)
{
    json_object *v = aura_json_get(m, "content"), *part;
    const char *refusal;
    aura_error_t *e;

    if ((e = get_str(c->p, m, at, "refusal", 0, &refusal)))
        return e;
    if (v && json_object_is_type(v, json_type_string)) {
        *out = json_object_new_array();
        if (json_object_get_string_len(v) > 0 || !calls) {
            part = typed("output_text");
            aura_fc_put(part, "text", v);
            json_object_object_add(part, "annotations",
                                   json_object_new_array());
            json_object_array_add(*out, part);
        }
    }
    else if (v) {
        if ((e = conv_content(c, v, at_key(c->p, at, "content"), P_ASSIST,
                              out)))
            return e;
    }
    else {
        *out = json_object_new_array();
    }
    if (refusal) {
        part = typed("refusal");
        json_object_object_add(part, "refusal",
                               json_object_new_string(refusal));
        json_object_array_add(*out, part);
    }
    return NULL;
}

static aura_error_t *msg_assistant(cctx_t *c, json_object *m, const char *at,
                                   const char *role)
{
    json_object *calls = aura_json_get(m, "tool_calls");
    json_object *legacy = aura_json_get(m, "function_call");
    json_object *parts = NULL, *item;
    size_t i, n = 0;
    aura_error_t *e;

    if (calls && !json_object_is_type(calls, json_type_array))
        return e_type(c->p, at_key(c->p, at, "tool_calls"), "an array",
                      calls);
    n = calls ? json_object_array_length(calls) : 0;
    if (!aura_json_get(m, "content") && !n && !legacy
        && !aura_json_get(m, "refusal"))
        return e_missing(c->p, at_key(c->p, at, "content"));
    if ((e = assistant_parts(c, m, at, n || legacy, &parts)))
        return e;
    aura_json_pool(c->p, parts);
    if (json_object_array_length(parts) > 0 || (!n && !legacy)) {
        item = typed("message");
        json_object_object_add(item, "role", json_object_new_string(role));
        aura_fc_put(item, "content", parts);
        add_item(c, item, at, O_MSG);
    }
    for (i = 0; i < n; i++)
        if ((e = conv_tool_call(c, json_object_array_get_idx(calls, i),
                                at_idx(c->p, at_key(c->p, at, "tool_calls"),
                                       i))))
            return e;
    return legacy ? conv_legacy_call(c, legacy, at) : NULL;
}

static aura_error_t *msg_tool(cctx_t *c, json_object *m, const char *at,
                              const char *role)
{
    json_object *content = NULL, *item;
    const char *id;
    aura_error_t *e;
    (void)role;

    if ((e = get_str(c->p, m, at, "tool_call_id", 1, &id))
        || (e = required_content(c, m, at, P_TEXT, &content)))
        return e;
    item = typed("function_call_output");
    json_object_object_add(item, "call_id", json_object_new_string(id));
    json_object_object_add(item, "output", content);
    add_item(c, item, at, O_OUTPUT);
    return NULL;
}

static aura_error_t *msg_function(cctx_t *c, json_object *m, const char *at,
                                  const char *role)
{
    json_object *item, *content = aura_json_get(m, "content");
    const char *name, *id;
    aura_error_t *e;
    (void)role;

    if ((e = get_str(c->p, m, at, "name", 1, &name)))
        return e;
    if (content && !json_object_is_type(content, json_type_string))
        return e_type(c->p, at_key(c->p, at, "content"), "a string",
                      content);
    if (!(id = apr_hash_get(c->legacy, name, APR_HASH_KEY_STRING)))
        return aura_bad_request(c->p, "invalid_value",
                                at_key(c->p, at, "name"),
                                "Invalid value for '%s': no earlier "
                                "assistant function_call named '%s'.",
                                at_key(c->p, at, "name"), name);
    item = typed("function_call_output");
    json_object_object_add(item, "call_id", json_object_new_string(id));
    json_object_object_add(item, "output",
                           content ? json_object_get(content)
                                   : json_object_new_string(""));
    add_item(c, item, at, O_FN_OUTPUT);
    return NULL;
}

static const struct {
    const char *role;
    msg_fn fn;
} roles[] = {
    { "system", msg_plain }, { "developer", msg_plain },
    { "user", msg_plain }, { "assistant", msg_assistant },
    { "tool", msg_tool }, { "function", msg_function },
    { NULL, NULL }
};

static aura_error_t *conv_message(cctx_t *c, json_object *m, const char *at)
{
    const char *role;
    aura_error_t *e;
    int i;

    if (!is_obj(m))
        return e_type(c->p, at, "an object", m);
    if ((e = get_str(c->p, m, at, "role", 1, &role)))
        return e;
    for (i = 0; roles[i].role; i++)
        if (!strcmp(roles[i].role, role))
            return roles[i].fn(c, m, at, role);
    return aura_bad_request(c->p, "invalid_value", at_key(c->p, at, "role"),
                            "Invalid value for '%s': '%s'. Supported values "
                            "are: 'system', 'developer', 'user', "
                            "'assistant', 'tool' and 'function'.",
                            at_key(c->p, at, "role"), role);
}

/* ================================================================== */
/* parse: top-level fields                                            */

typedef aura_error_t *(*key_fn)(cctx_t *c, const char *key, json_object *v);

static aura_error_t *k_copy(cctx_t *c, const char *key, json_object *v)
{
    aura_fc_put(c->out, key, v);
    return NULL;
}

static aura_error_t *k_messages(cctx_t *c, const char *key, json_object *v)
{
    size_t i, n;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_array))
        return e_type(c->p, key, "an array", v);
    if ((n = json_object_array_length(v)) == 0)
        return aura_bad_request(c->p, "invalid_value", key,
                                "Invalid 'messages': empty array. Expected "
                                "an array with minimum length 1.");
    for (i = 0; i < n; i++)
        if ((e = conv_message(c, json_object_array_get_idx(v, i),
                              at_idx(c->p, key, i))))
            return e;
    return NULL;
}

/* {"type":"allowed_tools","allowed_tools":{"mode","tools":[{"type":
 * "function","function":{"name"}}]}} → the flat Responses shape. */
static aura_error_t *allowed_tools(cctx_t *c, json_object *v)
{
    const char *at = "tool_choice.allowed_tools";
    json_object *a = aura_json_get(v, "allowed_tools"), *tools, *list, *o;
    size_t i, n;

    if (!a)
        return e_missing(c->p, at);
    if (!is_obj(a))
        return e_type(c->p, at, "an object", a);
    if (!(tools = aura_json_get(a, "tools")))
        return e_missing(c->p, at_key(c->p, at, "tools"));
    if (!json_object_is_type(tools, json_type_array))
        return e_type(c->p, at_key(c->p, at, "tools"), "an array", tools);
    o = aura_json_pool(c->p, typed("allowed_tools"));
    aura_fc_put(o, "mode", aura_json_get(a, "mode"));
    json_object_object_add(o, "tools", list = json_object_new_array());
    for (i = 0, n = json_object_array_length(tools); i < n; i++) {
        json_object *t = json_object_array_get_idx(tools, i), *fn, *f;
        const char *tat = at_idx(c->p, at_key(c->p, at, "tools"), i);

        if (!is_obj(t))
            return e_type(c->p, tat, "an object", t);
        if (!(fn = aura_json_get(t, "function")))
            return e_missing(c->p, at_key(c->p, tat, "function"));
        if (!is_obj(fn))
            return e_type(c->p, at_key(c->p, tat, "function"), "an object",
                          fn);
        f = typed("function");
        aura_fc_put(f, "name", aura_json_get(fn, "name"));
        json_object_array_add(list, f);
    }
    aura_fc_put(c->out, "tool_choice", o);
    return NULL;
}

static aura_error_t *k_tool_choice(cctx_t *c, const char *key, json_object *v)
{
    const char *type = is_obj(v) ? aura_json_string(v, "type") : NULL;

    if (type && !strcmp(type, "allowed_tools"))
        return allowed_tools(c, v);
    return k_copy(c, key, v);       /* the parser takes Chat's shape */
}

static json_object *out_text(cctx_t *c)
{
    json_object *t = aura_json_get(c->out, "text");

    if (!t) {
        t = json_object_new_object();
        json_object_object_add(c->out, "text", t);
    }
    return t;
}

static aura_error_t *k_response_format(cctx_t *c, const char *key,
                                       json_object *v)
{
    static const char *const keys[] = {
        "name", "schema", "description", "strict", NULL
    };
    json_object *f, *js;
    const char *type;
    aura_error_t *e;
    int i;

    if (!is_obj(v))
        return e_type(c->p, key, "an object", v);
    if ((e = get_str(c->p, v, key, "type", 1, &type)))
        return e;
    f = typed(type);
    json_object_object_add(out_text(c), "format", f);
    if (strcmp(type, "json_schema"))
        return NULL;
    if (!(js = aura_json_get(v, "json_schema")))
        return e_missing(c->p, "response_format.json_schema");
    if (!is_obj(js))
        return e_type(c->p, "response_format.json_schema", "an object", js);
    json_object_object_foreach(js, k, val)      /* in the client's order */
        for (i = 0; keys[i]; i++)
            if (!strcmp(keys[i], k))
                aura_fc_put(f, keys[i], val);
    return NULL;
}

static aura_error_t *k_verbosity(cctx_t *c, const char *key, json_object *v)
{
    aura_fc_put(out_text(c), key, v);
    return NULL;
}

static aura_error_t *k_reasoning_effort(cctx_t *c, const char *key,
                                        json_object *v)
{
    json_object *r = json_object_new_object();
    (void)key;

    aura_fc_put(r, "effort", v);
    json_object_object_add(c->out, "reasoning", r);
    return NULL;
}

static aura_error_t *integer(apr_pool_t *p, const char *key, json_object *v,
                             long lo, long hi, long *out)
{
    long long n;

    if (!json_object_is_type(v, json_type_int))
        return e_type(p, key, "an integer", v);
    n = (long long)json_object_get_int64(v);
    if (n < lo || n > hi)
        return aura_bad_request(p, "invalid_value", key,
                                "Invalid value for '%s': expected a value "
                                "between %ld and %ld, got %lld.", key, lo, hi,
                                n);
    *out = (long)n;
    return NULL;
}

static aura_error_t *k_max_tokens(cctx_t *c, const char *key, json_object *v)
{
    long n;
    aura_error_t *e = integer(c->p, key, v, 1, 1000000000L, &n);

    /* max_completion_tokens replaces the deprecated max_tokens. */
    if (!e && (!c->max_key || !strcmp(key, "max_completion_tokens"))) {
        c->max_key = key;
        c->max_tokens = n;
    }
    return e;
}

static aura_error_t *k_stream_options(cctx_t *c, const char *key,
                                      json_object *v)
{
    json_object *b;

    if (!is_obj(v))
        return e_type(c->p, key, "an object", v);
    if ((b = aura_json_get(v, "include_usage"))) {
        if (!json_object_is_type(b, json_type_boolean))
            return e_type(c->p, "stream_options.include_usage", "a boolean",
                          b);
        c->include_usage = json_object_get_boolean(b);
    }
    b = aura_json_get(v, "include_obfuscation");
    if (b && !json_object_is_type(b, json_type_boolean))
        return e_type(c->p, "stream_options.include_obfuscation",
                      "a boolean", b);
    return NULL;
}

/* The deprecated `user` stands in for safety_identifier (see the top). */
static aura_error_t *k_user(cctx_t *c, const char *key, json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return e_type(c->p, key, "a string", v);
    if (!aura_json_get(c->chat, "safety_identifier")
        && json_object_get_string_len(v) <= 64)
        aura_fc_put(c->out, "safety_identifier", v);
    return NULL;
}

static aura_error_t *k_n(cctx_t *c, const char *key, json_object *v)
{
    long n;
    aura_error_t *e = integer(c->p, key, v, 1, 128, &n);

    if (!e && n != 1)
        e = aura_bad_request(c->p, "unsupported_value", key,
                             "Unsupported value: 'n' must be 1 here; this "
                             "gateway returns one choice per request "
                             "(got %ld).", n);
    return e;
}

static aura_error_t *k_logprobs(cctx_t *c, const char *key, json_object *v)
{
    if (!json_object_is_type(v, json_type_boolean))
        return e_type(c->p, key, "a boolean", v);
    if (json_object_get_boolean(v))
        return e_unsupported(c->p, key, "This gateway does not return "
                             "log probabilities.");
    return NULL;
}

static aura_error_t *k_top_logprobs(cctx_t *c, const char *key,
                                    json_object *v)
{
    long n;
    aura_error_t *e = integer(c->p, key, v, 0, 20, &n);

    if (!e && n > 0)
        e = e_unsupported(c->p, key, "This gateway does not return log "
                          "probabilities.");
    return e;
}

static aura_error_t *k_seed(cctx_t *c, const char *key, json_object *v)
{
    return json_object_is_type(v, json_type_int)
        ? NULL : e_type(c->p, key, "an integer", v);
}

static aura_error_t *k_prediction(cctx_t *c, const char *key, json_object *v)
{
    return is_obj(v) ? NULL : e_type(c->p, key, "an object", v);
}

static aura_error_t *k_modalities(cctx_t *c, const char *key, json_object *v)
{
    size_t i, n;

    if (!json_object_is_type(v, json_type_array))
        return e_type(c->p, key, "an array", v);
    for (i = 0, n = json_object_array_length(v); i < n; i++) {
        json_object *m = json_object_array_get_idx(v, i);

        if (!json_object_is_type(m, json_type_string))
            return e_type(c->p, at_idx(c->p, key, i), "a string", m);
        if (strcmp(json_object_get_string(m), "text"))
            return aura_bad_request(c->p, "unsupported_value", key,
                                    "Unsupported value for 'modalities': "
                                    "'%s'; this gateway produces text only.",
                                    json_object_get_string(m));
    }
    return NULL;
}

/* Fields that would change the answer if ignored: refused, except in
 * their empty forms where those mean "none" (stop [], logit_bias {}, an
 * empty functions list). web_search_options {} asks for search. */
static aura_error_t *k_refuse(cctx_t *c, const char *key, json_object *v)
{
    static const struct { const char *key; int empty_ok; const char *why; }
    why[] = {
        { "stop", 1, "Stop sequences are not supported by this gateway." },
        { "logit_bias", 1, "Logit bias is not supported by this gateway." },
        { "audio", 0, "Audio output is not supported by this gateway." },
        { "web_search_options", 0, "Web search is not supported by this "
          "gateway." },
        { "functions", 1, "Use 'tools' instead (the deprecated 'functions' "
          "is not supported)." },
        { "function_call", 0, "Use 'tool_choice' instead (the deprecated "
          "'function_call' is not supported)." },
        { NULL, 0, "" }
    };
    int i;

    for (i = 0; why[i].key && strcmp(why[i].key, key); i++)
        ;
    if (why[i].empty_ok && is_empty(v))
        return NULL;
    return e_unsupported(c->p, key, why[i].why);
}

static const struct {
    const char *key;
    key_fn fn;
} keys[] = {
    { "model", k_copy }, { "messages", k_messages },
    { "tools", k_copy }, { "tool_choice", k_tool_choice },
    { "response_format", k_response_format }, { "verbosity", k_verbosity },
    { "reasoning_effort", k_reasoning_effort },
    { "max_completion_tokens", k_max_tokens }, { "max_tokens", k_max_tokens },
    { "temperature", k_copy }, { "top_p", k_copy },
    { "presence_penalty", k_copy }, { "frequency_penalty", k_copy },
    { "parallel_tool_calls", k_copy }, { "stream", k_copy },
    { "stream_options", k_stream_options }, { "metadata", k_copy },
    { "store", k_copy }, { "service_tier", k_copy },
    { "prompt_cache_key", k_copy }, { "safety_identifier", k_copy },
    { "user", k_user }, { "n", k_n }, { "logprobs", k_logprobs },
    { "top_logprobs", k_top_logprobs }, { "seed", k_seed },
    { "prediction", k_prediction }, { "modalities", k_modalities },
    { "stop", k_refuse }, { "logit_bias", k_refuse }, { "audio", k_refuse },
    { "web_search_options", k_refuse }, { "functions", k_refuse },
    { "function_call", k_refuse },
    { NULL, NULL }
};

static aura_error_t *convert(cctx_t *c)
{
    aura_error_t *e;
    int i;

    json_object_object_foreach(c->chat, key, val) {
        for (i = 0; keys[i].key && strcmp(keys[i].key, key); i++)
            ;
        if (!keys[i].key)
            return aura_bad_request(c->p, "unknown_parameter", key,
                                    "Unrecognized request argument "
                                    "supplied: '%s'.", key);
        /* null means "not given" for every field, as in the parser. */
        if (val && (e = keys[i].fn(c, key, val)))
            return e;
    }
    if (!aura_json_get(c->chat, "messages"))
        return e_missing(c->p, "messages");
    return NULL;
}

/* ================================================================== */
/* parse: entry point                                                 */

static aura_error_t *parse_body(apr_pool_t *p, const char *body,
                                apr_size_t len, json_object **out)
{
    struct json_tokener *tok = aura_tokener_acquire();
    aura_request_t *ignored;
    size_t end = 0;

    *out = NULL;
    if (tok && len > 0 && len <= (apr_size_t)INT_MAX) {
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT
                                    | JSON_TOKENER_VALIDATE_UTF8);
        *out = json_tokener_parse_ex(tok, body, (int)len);
        end = json_tokener_get_parse_end(tok);
        if (!*out && json_tokener_get_error(tok) == json_tokener_continue)
            *out = json_tokener_parse_ex(tok, "", 1), end = len;
    }
    if (tok)
        aura_tokener_release(tok);
    for (; *out && end < len && apr_isspace(body[end]); end++)
        ;
    if (*out && end == len && is_obj(*out)) {
        aura_json_pool(p, *out);
        return NULL;
    }
    json_object_put(*out);
    *out = NULL;
    /* Not a JSON object: the Responses parser words that error. */
    return aura_request_parse(p, body, len, &ignored);
}

aura_error_t *aura_fc_parse(apr_pool_t *p, const char *body, apr_size_t len,
                            apr_table_t *headers, aura_request_t **out)
{
    cctx_t c;
    aura_error_t *e;
    (void)headers;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    c.p = p;
    if ((e = parse_body(p, body, len, &c.chat)) || !c.chat)
        return e ? e : aura_bad_request(p, "invalid_json", NULL,
                                        "We could not parse the JSON body "
                                        "of your request.");
    c.out = aura_json_pool(p, json_object_new_object());
    c.input = json_object_new_array();
    json_object_object_add(c.out, "input", c.input);
    c.origin = apr_array_make(p, 8, sizeof(origin_t));
    c.legacy = apr_hash_make(p);
    if ((e = convert(&c)))
        return e;
    if ((e = aura_request_parse_object(p, c.out, out)))
        return aura_fc_map_error(&c, e);
    if (c.max_key)
        (*out)->max_output_tokens = c.max_tokens;
    (*out)->include_usage = c.include_usage;
    return NULL;
}
