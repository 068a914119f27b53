/*
 * aura_ollama_enc.c - Ollama's native API: POST {base}/api/chat, answered with
 * NDJSON lines when streaming (application/x-ndjson) and one JSON object
 * otherwise. (Ollama's /v1 is OpenAI-compatible: use the openai-compatible
 * kind for that.)
 *
 * Request: messages (system/user/assistant/tool), images as base64 strings
 * beside the text, tool_calls whose arguments are a JSON OBJECT (not a
 * string), tool results as {role:tool, content, tool_name}; options
 * {num_predict, temperature, top_p, ...}; format ("json" or a schema);
 * think (bool or a level).
 * Response: each line is a chunk {message:{content, thinking, tool_calls},
 * done, done_reason, prompt_eval_count, eval_count}; a mid-stream failure
 * is a line {"error":"text"} (the HTTP status stays 200). Ollama gives
 * tool calls no ids: the decoder derives one per call from the chunk.
 */
#include <string.h>

#include <openssl/sha.h>

#include "aura_encoder.h"
#include "aura_ollama.h"

/* ==================================================================== */
/* encoder                                                              */

typedef struct octx {
    apr_pool_t *p;
    const aura_request_t *req;
    aura_enc_msgs_t ms;
    apr_hash_t *calls;          /* call_id -> name, made on first use */
} octx_t;

/* A data: URL's base64 payload, which is what Ollama's `images` takes.
 * Ollama cannot fetch URLs: anything else is the client's error. */
static aura_error_t *image_b64(octx_t *c, json_object *part, const char *at,
                               const char **out)
{
    const char *url = aura_json_string(part, "image_url");
    const char *comma = url ? strchr(url, ',') : NULL;

    if (!url)
        return aura_bad_request(c->p, "invalid_value", at,
                                "Invalid value for '%s': images by file_id "
                                "are not supported by Ollama; send a data: "
                                "URL.", at);
    if (strncmp(url, "data:", 5) != 0 || !comma
        || !strstr(apr_pstrmemdup(c->p, url, (apr_size_t)(comma - url)),
                   ";base64"))
        return aura_bad_request(c->p, "invalid_value",
                                apr_pstrcat(c->p, at, ".image_url", NULL),
                                "Invalid value for '%s.image_url': Ollama "
                                "cannot fetch image URLs; send the image as "
                                "a base64 data: URL.", at);
    *out = comma + 1;
    return NULL;
}

/* Message parts → m.content (text parts joined by a newline) and
 * m.images. `text_type` is input_text, or output_text for assistants. */
static aura_error_t *put_content(octx_t *c, json_object *m,
                                 json_object *parts, const char *text_type,
                                 const char *at)
{
    apr_array_header_t *text = apr_array_make(c->p, 4, sizeof(char *));
    json_object *images = NULL;
    size_t i, n = json_object_array_length(parts);
    aura_error_t *e;

    for (i = 0; i < n; i++) {
        json_object *part = json_object_array_get_idx(parts, i);
        const char *type = aura_json_string(part, "type");
        const char *pat = apr_psprintf(c->p, "%s[%" APR_SIZE_T_FMT "]", at, i);
        const char *b64 = NULL;

        if (!strcmp(type, text_type))
            APR_ARRAY_PUSH(text, const char *) = aura_json_string(part, "text");
        else if (!strcmp(type, "refusal"))  /* no refusal field: text */
            APR_ARRAY_PUSH(text, const char *) =
                aura_json_string(part, "refusal");
        else if (!strcmp(type, "input_image")) {
            if ((e = image_b64(c, part, pat, &b64))) {
                json_object_put(images);    /* not in m yet */
                return e;
            }
            if (!images)
                images = json_object_new_array();
            json_object_array_add(images, json_object_new_string(b64));
        }
        else {
            json_object_put(images);
            return aura_enc_unsupported(c->p, pat, "Ollama takes text and "
                                        "images only, not files.");
        }
    }
    aura_enc_add_str(m, "content", apr_array_pstrcat(c->p, text, '\n'));
    if (images)
        json_object_object_add(m, "images", images);
    return NULL;
}

static aura_error_t *enc_message(octx_t *c, json_object *item,
                                 const char *at)
{
    const char *role = aura_json_string(item, "role");
    int assistant = !strcmp(role, "assistant");
    json_object *m;
    aura_error_t *e;

    if (!strcmp(role, "developer"))
        role = "system";
    m = aura_enc_new_msg(role);
    e = put_content(c, m, aura_json_get(item, "content"),
                    assistant ? "output_text" : "input_text",
                    apr_pstrcat(c->p, at, ".content", NULL));
    if (e) {
        json_object_put(m);
        return e;
    }
    if (assistant)      /* function calls that follow belong to it */
        aura_enc_hold(&c->ms, m);
    else
        aura_enc_emit(&c->ms, m);
    return NULL;
}

/* Ollama wants the arguments as an object, the item has them as text. */
static aura_error_t *enc_function_call(octx_t *c, json_object *item,
                                       const char *at)
{
    const char *args = aura_json_string(item, "arguments");
    json_object *obj = NULL, *call, *fn;
    json_tokener *tok;

    if (args && *args) {
        apr_size_t n = strlen(args);
        while (n && strchr(" \t\r\n", args[n - 1]))
            n--;
        tok = aura_tokener_acquire();
        obj = json_tokener_parse_ex(tok, args, (int)n);
        if (obj && json_tokener_get_parse_end(tok) < n) {
            json_object_put(obj);       /* trailing bytes */
            obj = NULL;
        }
        aura_tokener_release(tok);
        if (!json_object_is_type(obj, json_type_object)) {
            json_object_put(obj);
            return aura_bad_request(c->p, "invalid_value",
                                    apr_pstrcat(c->p, at, ".arguments", NULL),
                                    "Invalid value for '%s.arguments': "
                                    "Ollama needs the arguments as a JSON "
                                    "object.", at);
        }
    }
    call = json_object_new_object();
    fn = json_object_new_object();
    aura_enc_add_str(fn, "name", aura_json_string(item, "name"));
    json_object_object_add(fn, "arguments",
                           obj ? obj : json_object_new_object());
    json_object_object_add(call, "function", fn);
    aura_enc_add_call(&c->ms, call, "");
    return NULL;
}

/* Ollama matches a tool result to its call by tool_name, having no call
 * ids. */
static aura_error_t *enc_function_output(octx_t *c, json_object *item,
                                         const char *at)
{
    json_object *output = aura_json_get(item, "output");
    json_object *m;
    const char *name;
    aura_error_t *e;

    /* One map for all outputs: a scan of the input per output would be
     * quadratic in a client-sized list. */
    if (!c->calls)
        c->calls = aura_enc_call_names(c->p, c->req);
    name = aura_enc_lookup(c->calls, aura_json_string(item, "call_id"));
    m = aura_enc_new_msg("tool");

    if (json_object_is_type(output, json_type_string))
        aura_enc_add_str(m, "content", json_object_get_string(output));
    else if ((e = put_content(c, m, output, "input_text",
                              apr_pstrcat(c->p, at, ".output", NULL)))) {
        json_object_put(m);
        return e;
    }
    if (name)
        aura_enc_add_str(m, "tool_name", name);
    aura_enc_emit(&c->ms, m);
    return NULL;
}

static aura_error_t *enc_item(void *ctx, json_object *item, size_t i)
{
    octx_t *c = ctx;
    const char *type = aura_json_string(item, "type");
    const char *at = apr_psprintf(c->p, "input[%" APR_SIZE_T_FMT "]", i);

    if (!strcmp(type, "message"))
        return enc_message(c, item, at);
    if (!strcmp(type, "function_call"))
        return enc_function_call(c, item, at);
    if (!strcmp(type, "function_call_output"))
        return enc_function_output(c, item, at);
    if (!strcmp(type, "reasoning"))
        return NULL;    /* no opaque state to resend; the answer stands */
    return aura_enc_unsupported(c->p, at, "Item references and compaction "
                                "items cannot be sent to Ollama; send the "
                                "items themselves.");
}

static json_object *ollama_tool(json_object *flat)
{
    json_object *tool = json_object_new_object();
    json_object *fn = json_object_new_object();
    json_object *v;

    aura_enc_add_str(tool, "type", "function");
    aura_enc_add_str(fn, "name", aura_json_string(flat, "name"));
    if ((v = aura_json_get(flat, "description")))
        json_object_object_add(fn, "description", json_object_get(v));
    v = aura_json_get(flat, "parameters");
    json_object_object_add(fn, "parameters", v ? json_object_get(v)
                           : json_tokener_parse("{\"type\":\"object\","
                                                "\"properties\":{}}"));
    json_object_object_add(tool, "function", fn);
    return tool;
}

/* Ollama has no tool_choice: "none" sends no tools, allowed_tools sends
 * only those; forcing a call cannot be expressed, so it is refused rather
 * than silently not enforced. */
static aura_error_t *enc_tools(octx_t *c, json_object *out)
{
    json_object *choice = c->req->tool_choice, *allowed = NULL, *tools;
    apr_hash_t *names = NULL;
    size_t i, n = json_object_array_length(c->req->tools);
    const char *mode = json_object_is_type(choice, json_type_string)
                           ? json_object_get_string(choice) : NULL;
    const char *type = aura_json_string(choice, "type");

    if (n == 0 || (mode && !strcmp(mode, "none")))
        return NULL;
    if (type && !strcmp(type, "allowed_tools")) {
        allowed = aura_json_get(choice, "tools");
        mode = aura_json_string(choice, "mode");
    }
    if ((mode && !strcmp(mode, "required"))
        || (type && !strcmp(type, "function")))
        return aura_enc_unsupported(c->p, "tool_choice", "Ollama cannot be "
                                    "made to call a tool; use \"auto\".");
    if (allowed)        /* one lookup per tool, not a scan */
        names = aura_enc_name_set(c->p, allowed);
    tools = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *flat = json_object_array_get_idx(c->req->tools, i);
        if (!allowed
            || aura_enc_lookup(names, aura_json_string(flat, "name")))
            json_object_array_add(tools, ollama_tool(flat));
    }
    json_object_object_add(out, "tools", tools);
    return NULL;
}

static void enc_options(octx_t *c, json_object *out)
{
    const aura_request_t *r = c->req;
    json_object *opts = json_object_new_object();

    if (r->max_output_tokens != AURA_UNSET)
        json_object_object_add(opts, "num_predict",
                               json_object_new_int64(r->max_output_tokens));
    aura_enc_add_num(r, opts, "temperature", NULL, r->temperature);
    aura_enc_add_num(r, opts, "top_p", NULL, r->top_p);
    aura_enc_add_num(r, opts, "presence_penalty", NULL, r->presence_penalty);
    aura_enc_add_num(r, opts, "frequency_penalty", NULL,
                     r->frequency_penalty);
    if (json_object_object_length(opts))
        json_object_object_add(out, "options", opts);
    else
        json_object_put(opts);
}

static void enc_format(octx_t *c, json_object *out)
{
    json_object *format = aura_json_get(c->req->text, "format");
    const char *type = aura_json_string(format, "type");

    if (type && !strcmp(type, "json_schema"))
        json_object_object_add(out, "format", json_object_get(
                                   aura_json_get(format, "schema")));
    else if (type && !strcmp(type, "json_object"))
        aura_enc_add_str(out, "format", "json");
}

/* think takes a bool, or a level ("low", "medium", "high": gpt-oss; any
 * level means "on" for the other thinking models, per Ollama's
 * api.ThinkValue). "medium" is Ollama's meaning of true, so it is sent as
 * true, which every version understands. */
static void enc_think(octx_t *c, json_object *out)
{
    const char *effort = aura_json_string(c->req->reasoning, "effort");

    if (!effort)
        return;
    if (!strcmp(effort, "none"))
        json_object_object_add(out, "think", json_object_new_boolean(0));
    else if (!strcmp(effort, "minimal") || !strcmp(effort, "low"))
        aura_enc_add_str(out, "think", "low");
    else if (!strcmp(effort, "high") || !strcmp(effort, "xhigh"))
        aura_enc_add_str(out, "think", "high");
    else
        json_object_object_add(out, "think", json_object_new_boolean(1));
}

static aura_error_t *ollama_encode(apr_pool_t *p, const aura_request_t *req,
                                   const aura_target_t *t, const char **body,
                                   apr_size_t *len)
{
    octx_t c = { p, req, { NULL, NULL }, NULL };
    json_object *out;
    aura_error_t *e;

    *body = NULL;
    if (len)
        *len = 0;
    if ((e = aura_enc_refuse_previous(p, req, "this provider")))
        return e;
    if (req->top_logprobs != AURA_UNSET)
        return aura_enc_unsupported(p, "top_logprobs", "Ollama's native API "
                                    "does not return log probabilities "
                                    "through this gateway.");
    out = aura_json_pool(p, json_object_new_object());
    aura_enc_add_str(out, "model", t->upstream_model);
    if ((e = aura_enc_messages(p, req, &c.ms, out, enc_item, &c))
        || (e = enc_tools(&c, out)))
        return e;
    enc_format(&c, out);
    enc_options(&c, out);
    enc_think(&c, out);
    /* Ollama streams unless told not to. */
    json_object_object_add(out, "stream", json_object_new_boolean(req->stream));
    *body = aura_json_str(p, out, len);
    return NULL;
}

static aura_error_t *ollama_request(apr_pool_t *p, const aura_target_t *t,
                                    int stream, aura_wire_t *w)
{
    (void)stream;
    /* A local Ollama needs no key; ollama.com takes a bearer token. */
    return aura_wire_bearer(p, t, "/api/chat", w);
}

const aura_adapter_t aura_adapter_ollama = {
    "ollama", ollama_encode, ollama_request, aura_ollama_decoder
};
