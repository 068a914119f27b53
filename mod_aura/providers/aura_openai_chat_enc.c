/*
 * aura_openai_chat_enc.c - encode a validated aura_request_t (Open Responses
 * items) as an OpenAI Chat Completions request body.
 *
 * The target flags (AURA_TF_*) say which OpenAI-only fields the upstream
 * understands; without them the output sticks to the core every
 * OpenAI-compatible server (vLLM, TGI, Ollama, Mistral, ...) accepts.
 * Anything that cannot be expressed is a 400, never a silent drop, except
 * reasoning items: Chat Completions has no way to send them back and the
 * conversation is still correct without them.
 */
#include <string.h>

#include "aura_encoder.h"
#include "aura_openai_chat.h"

typedef struct cctx {
    apr_pool_t *p;
    const aura_request_t *req;
    const aura_target_t *t;
    aura_enc_msgs_t ms;
} cctx_t;

/* ------------------------------------------------------------------ */
/* content parts                                                      */

static json_object *image_part(json_object *src)
{
    json_object *part = json_object_new_object();
    json_object *url = json_object_new_object();
    const char *detail = aura_json_string(src, "detail");

    aura_enc_add_str(part, "type", "image_url");
    aura_enc_add_str(url, "url", aura_json_string(src, "image_url"));
    if (detail)
        aura_enc_add_str(url, "detail", detail);
    json_object_object_add(part, "image_url", url);
    return part;
}

static json_object *file_part(json_object *src)
{
    static const char *const keys[] = {
        "filename", "file_data", "file_id", NULL
    };
    json_object *part = json_object_new_object();
    json_object *file = json_object_new_object();
    int i;

    aura_enc_add_str(part, "type", "file");
    for (i = 0; keys[i]; i++) {
        const char *v = aura_json_string(src, keys[i]);
        if (v)
            aura_enc_add_str(file, keys[i], v);
    }
    json_object_object_add(part, "file", file);
    return part;
}

static aura_error_t *convert_part(cctx_t *c, json_object *src,
                                  const char *at, json_object **out)
{
    const char *type = aura_json_string(src, "type");

    *out = NULL;
    if (strcmp(type, "input_text") == 0) {
        *out = json_object_new_object();
        aura_enc_add_str(*out, "type", "text");
        aura_enc_add_str(*out, "text", aura_json_string(src, "text"));
    }
    else if (strcmp(type, "input_image") == 0) {
        if (!aura_json_string(src, "image_url"))
            return aura_bad_request(c->p, "invalid_value", at,
                                    "Invalid value for '%s': images by "
                                    "file_id are not supported by this "
                                    "provider; send image_url.", at);
        *out = image_part(src);
    }
    else if (strcmp(type, "input_file") == 0) {
        if (aura_json_string(src, "file_url"))
            return aura_bad_request(c->p, "invalid_value", at,
                                    "Invalid value for '%s': file_url is "
                                    "not supported by this provider; send "
                                    "the file as file_data (a data: URL).",
                                    at);
        *out = file_part(src);
    }
    return NULL;
}

/* All parts input_text (or output_text)? Then a plain string is the most
 * widely understood encoding; parts are joined with a newline so that
 * separate blocks do not run into each other. */
static int all_text(json_object *parts, const char *type)
{
    size_t i, n = json_object_array_length(parts);

    for (i = 0; i < n; i++)
        if (strcmp(aura_json_string(json_object_array_get_idx(parts, i),
                                    "type"), type) != 0)
            return 0;
    return 1;
}

static const char *join_text(apr_pool_t *p, json_object *parts,
                             const char *type, const char *key, char sep)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    size_t i, n = json_object_array_length(parts);

    for (i = 0; i < n; i++) {
        json_object *part = json_object_array_get_idx(parts, i);
        if (strcmp(aura_json_string(part, "type"), type) == 0)
            APR_ARRAY_PUSH(a, const char *) = aura_json_string(part, key);
    }
    if (a->nelts == 0)
        return NULL;
    return apr_array_pstrcat(p, a, sep);
}

/* Input parts (user/system/tool) → a string or an array of chat parts. */
static aura_error_t *convert_content(cctx_t *c, json_object *parts,
                                     const char *at, json_object **out)
{
    size_t i, n = json_object_array_length(parts);
    aura_error_t *e;

    *out = NULL;
    if (all_text(parts, "input_text")) {
        const char *s = join_text(c->p, parts, "input_text", "text", '\n');
        *out = json_object_new_string(s ? s : "");
        return NULL;
    }
    *out = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *part;

        e = convert_part(c, json_object_array_get_idx(parts, i),
                         apr_psprintf(c->p, "%s[%" APR_SIZE_T_FMT "]", at, i),
                         &part);
        if (e) {
            json_object_put(*out);
            *out = NULL;
            return e;
        }
        json_object_array_add(*out, part);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* items                                                              */

static aura_error_t *enc_input_message(cctx_t *c, json_object *item,
                                       const char *role, const char *at)
{
    json_object *m, *content;
    aura_error_t *e;

    e = convert_content(c, aura_json_get(item, "content"),
                        apr_pstrcat(c->p, at, ".content", NULL), &content);
    if (e)
        return e;
    m = aura_enc_new_msg(role);
    json_object_object_add(m, "content", content);
    aura_enc_emit(&c->ms, m);
    return NULL;
}

/* An assistant message stays pending: function_call items that follow
 * belong to the same turn and become its tool_calls. */
static void enc_assistant(cctx_t *c, json_object *item)
{
    json_object *parts = aura_json_get(item, "content");
    const char *text = join_text(c->p, parts, "output_text", "text", 0);
    const char *refusal = join_text(c->p, parts, "refusal", "refusal", 0);
    json_object *m = aura_enc_new_msg("assistant");

    json_object_object_add(m, "content",
                           text ? json_object_new_string(text) : NULL);
    if (refusal)
        aura_enc_add_str(m, "refusal", refusal);
    aura_enc_hold(&c->ms, m);
}

static aura_error_t *enc_message(cctx_t *c, json_object *item,
                                 const char *at)
{
    const char *role = aura_json_string(item, "role");

    if (strcmp(role, "assistant") == 0) {
        enc_assistant(c, item);
        return NULL;
    }
    if (strcmp(role, "developer") == 0
        && !(c->t->flags & AURA_TF_OPENAI_EXTRAS))
        role = "system";   /* many compatible servers reject "developer" */
    return enc_input_message(c, item, role, at);
}

static void enc_function_call(cctx_t *c, json_object *item)
{
    json_object *call = json_object_new_object();
    json_object *fn = json_object_new_object();

    aura_enc_add_str(call, "id", aura_json_string(item, "call_id"));
    aura_enc_add_str(call, "type", "function");
    aura_enc_add_str(fn, "name", aura_json_string(item, "name"));
    aura_enc_add_str(fn, "arguments", aura_json_string(item, "arguments"));
    json_object_object_add(call, "function", fn);
    aura_enc_add_call(&c->ms, call, NULL);
}

static aura_error_t *enc_function_output(cctx_t *c, json_object *item,
                                         const char *at)
{
    json_object *output = aura_json_get(item, "output");
    json_object *m, *content;
    aura_error_t *e;

    if (json_object_is_type(output, json_type_string)) {
        content = json_object_get(output);
    }
    else if ((e = convert_content(c, output,
                                  apr_pstrcat(c->p, at, ".output", NULL),
                                  &content))) {
        return e;
    }
    m = aura_enc_new_msg("tool");
    aura_enc_add_str(m, "tool_call_id", aura_json_string(item, "call_id"));
    json_object_object_add(m, "content", content);
    aura_enc_emit(&c->ms, m);
    return NULL;
}

static aura_error_t *enc_item(void *ctx, json_object *item, size_t i)
{
    cctx_t *c = ctx;
    const char *type = aura_json_string(item, "type");
    const char *at = apr_psprintf(c->p, "input[%" APR_SIZE_T_FMT "]", i);

    if (strcmp(type, "message") == 0)
        return enc_message(c, item, at);
    if (strcmp(type, "function_call") == 0) {
        enc_function_call(c, item);
        return NULL;
    }
    if (strcmp(type, "function_call_output") == 0)
        return enc_function_output(c, item, at);
    if (strcmp(type, "reasoning") == 0)
        return NULL;    /* no input reasoning in Chat; does not end a turn */
    return aura_enc_refuse_item(c->p, type, at);
}

/* ------------------------------------------------------------------ */
/* tools                                                              */

static json_object *chat_tool(json_object *flat)
{
    static const char *const keys[] = {
        "name", "description", "parameters", "strict", NULL
    };
    json_object *tool = json_object_new_object();
    json_object *fn = json_object_new_object();
    int i;

    aura_enc_add_str(tool, "type", "function");
    for (i = 0; keys[i]; i++) {
        json_object *v = aura_json_get(flat, keys[i]);
        if (v)
            json_object_object_add(fn, keys[i], json_object_get(v));
    }
    json_object_object_add(tool, "function", fn);
    return tool;
}

static json_object *fn_choice(const char *name)
{
    json_object *o = json_object_new_object();
    json_object *fn = json_object_new_object();

    aura_enc_add_str(o, "type", "function");
    aura_enc_add_str(fn, "name", name);
    json_object_object_add(o, "function", fn);
    return o;
}

static json_object *allowed_choice(json_object *allowed, const char *mode)
{
    json_object *o = json_object_new_object();
    json_object *inner = json_object_new_object();
    json_object *list = json_object_new_array();
    size_t i, n = json_object_array_length(allowed);

    for (i = 0; i < n; i++)
        json_object_array_add(list, fn_choice(aura_json_string(
            json_object_array_get_idx(allowed, i), "name")));
    aura_enc_add_str(o, "type", "allowed_tools");
    aura_enc_add_str(inner, "mode", mode);
    json_object_object_add(inner, "tools", list);
    json_object_object_add(o, "allowed_tools", inner);
    return o;
}

/* allowed_tools without native support: send only the allowed tools, so
 * the limit is hard on any server, and the mode as a plain tool_choice. */
static void enc_tools(cctx_t *c, json_object *out)
{
    const aura_request_t *r = c->req;
    json_object *choice = r->tool_choice, *allowed = NULL, *tools;
    size_t i, n = json_object_array_length(r->tools);
    const char *type;
    apr_hash_t *set;

    if (n == 0)
        return;
    type = json_object_is_type(choice, json_type_object)
               ? aura_json_string(choice, "type") : NULL;
    if (type && strcmp(type, "allowed_tools") == 0
        && !(c->t->flags & AURA_TF_ALLOWED_TOOLS))
        allowed = aura_json_get(choice, "tools");
    tools = json_object_new_array();
    set = allowed ? aura_enc_name_set(c->p, allowed) : NULL;
    for (i = 0; i < n; i++) {
        json_object *flat = json_object_array_get_idx(r->tools, i);
        if (!set || aura_enc_lookup(set, aura_json_string(flat, "name")))
            json_object_array_add(tools, chat_tool(flat));
    }
    json_object_object_add(out, "tools", tools);
    if (!choice)
        ;   /* absent: the upstream default ("auto") applies */
    else if (!type)
        json_object_object_add(out, "tool_choice", json_object_get(choice));
    else if (strcmp(type, "function") == 0)
        json_object_object_add(out, "tool_choice",
                               fn_choice(aura_json_string(choice, "name")));
    else if (allowed)
        aura_enc_add_str(out, "tool_choice", aura_json_string(choice, "mode"));
    else
        json_object_object_add(out, "tool_choice", allowed_choice(
            aura_json_get(choice, "tools"), aura_json_string(choice, "mode")));
    if (r->parallel_tool_calls != AURA_UNSET)
        json_object_object_add(out, "parallel_tool_calls",
                               json_object_new_boolean(
                                   r->parallel_tool_calls));
}

/* ------------------------------------------------------------------ */
/* sampling and output controls                                       */

static void enc_format(cctx_t *c, json_object *out)
{
    json_object *format = aura_json_get(c->req->text, "format");
    const char *type = aura_json_string(format, "type");
    const char *verbosity = aura_json_string(c->req->text, "verbosity");
    json_object *rf, *js;

    if (verbosity && (c->t->flags & AURA_TF_OPENAI_EXTRAS))
        aura_enc_add_str(out, "verbosity", verbosity);
    if (!type || strcmp(type, "text") == 0)
        return;
    rf = json_object_new_object();
    aura_enc_add_str(rf, "type", type);
    json_object_object_add(out, "response_format", rf);
    if (strcmp(type, "json_schema") != 0)
        return;
    js = json_object_new_object();
    aura_enc_add_str(js, "name", aura_json_string(format, "name"));
    if (aura_json_string(format, "description"))
        aura_enc_add_str(js, "description",
                         aura_json_string(format, "description"));
    json_object_object_add(js, "schema",
                           json_object_get(aura_json_get(format, "schema")));
    if (aura_json_get(format, "strict"))
        json_object_object_add(js, "strict", json_object_get(
                                   aura_json_get(format, "strict")));
    json_object_object_add(rf, "json_schema", js);
}

static int wants_logprobs(const aura_request_t *r)
{
    size_t i, n = r->include ? json_object_array_length(r->include) : 0;

    for (i = 0; i < n; i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(
                       r->include, i)), "message.output_text.logprobs") == 0)
            return 1;
    return r->top_logprobs != AURA_UNSET;
}

static void enc_sampling(cctx_t *c, json_object *out)
{
    const aura_request_t *r = c->req;
    const char *effort = aura_json_string(r->reasoning, "effort");

    aura_enc_add_num(r, out, "temperature", NULL, r->temperature);
    aura_enc_add_num(r, out, "top_p", NULL, r->top_p);
    aura_enc_add_num(r, out, "presence_penalty", NULL, r->presence_penalty);
    aura_enc_add_num(r, out, "frequency_penalty", NULL,
                     r->frequency_penalty);
    if (r->max_output_tokens != AURA_UNSET)
        json_object_object_add(out,
            (c->t->flags & AURA_TF_MAX_COMPLETION_TOKENS)
                ? "max_completion_tokens" : "max_tokens",
            json_object_new_int64(r->max_output_tokens));
    if (effort && (c->t->flags & AURA_TF_REASONING_EFFORT))
        aura_enc_add_str(out, "reasoning_effort", effort);
    if (wants_logprobs(r))
        json_object_object_add(out, "logprobs", json_object_new_boolean(1));
    if (r->top_logprobs != AURA_UNSET)
        json_object_object_add(out, "top_logprobs",
                               json_object_new_int64(r->top_logprobs));
}

static void enc_extras(cctx_t *c, json_object *out)
{
    const aura_request_t *r = c->req;

    if (!(c->t->flags & AURA_TF_OPENAI_EXTRAS))
        return;
    if (r->safety_identifier)
        aura_enc_add_str(out, "safety_identifier", r->safety_identifier);
    if (r->prompt_cache_key)
        aura_enc_add_str(out, "prompt_cache_key", r->prompt_cache_key);
    if (r->service_tier)
        aura_enc_add_str(out, "service_tier", r->service_tier);
    /* OpenAI refuses metadata unless the completion is stored. */
    if (r->store == 1) {
        json_object_object_add(out, "store", json_object_new_boolean(1));
        if (r->metadata)
            json_object_object_add(out, "metadata",
                                   json_object_get(r->metadata));
    }
}

static void enc_stream(cctx_t *c, json_object *out)
{
    json_object *opts;

    if (!c->req->stream)
        return;
    /* Always ask for usage: a stream is billed like any response. */
    opts = json_object_new_object();
    json_object_object_add(opts, "include_usage", json_object_new_boolean(1));
    json_object_object_add(out, "stream", json_object_new_boolean(1));
    json_object_object_add(out, "stream_options", opts);
}

aura_error_t *aura_chat_encode(apr_pool_t *p, const aura_request_t *req,
                               const aura_target_t *t, const char **body,
                               apr_size_t *len)
{
    cctx_t c = { p, req, t, { NULL, NULL } };
    json_object *out;
    aura_error_t *e;

    *body = NULL;
    if (len)
        *len = 0;
    if ((e = aura_enc_refuse_previous(p, req, "this provider")))
        return e;
    out = aura_json_pool(p, json_object_new_object());
    aura_enc_add_str(out, "model", t->upstream_model);
    if ((e = aura_enc_messages(p, req, &c.ms, out, enc_item, &c)))
        return e;
    enc_tools(&c, out);
    enc_format(&c, out);
    enc_sampling(&c, out);
    enc_extras(&c, out);
    enc_stream(&c, out);
    *body = aura_json_str(p, out, len);
    return NULL;
}

static aura_error_t *chat_request(apr_pool_t *p, const aura_target_t *t,
                                  int stream, aura_wire_t *w)
{
    (void)stream;
    return aura_wire_bearer(p, t, "/chat/completions", w);
}

const aura_adapter_t aura_adapter_openai_chat = {
    "openai-chat", aura_chat_encode, chat_request, aura_chat_decoder
};
