/*
 * aura_mistral_enc.c - Mistral's Chat Completions (POST {base}/chat/completions,
 * bearer key): OpenAI's wire with documented differences, applied to the
 * Chat Completions encoder's output rather than a second encoder:
 *   - tool call ids must be exactly 9 characters [a-zA-Z0-9]: foreign ids
 *     (call_..., toolu_..., Gemini's) are mapped by a hash, the same way
 *     for the assistant's tool_calls and the tool message's tool_call_id;
 *   - tool_choice "required" is "any";
 *   - the tool message carries the function's `name`;
 *   - max_tokens (never max_completion_tokens), no stream_options (the
 *     last stream chunk always carries usage), no logprobs;
 *   - reasoning_effort takes "none" or "high" (mistral-small-latest,
 *     mistral-medium-3-5);
 *   - function.parameters is required; file parts are {type:file,file_id}.
 * Mistral refuses fields it does not know (422), hence the care.
 * Answers: reasoning models send content as chunks, [{type:"thinking",
 * thinking:[{type:"text",text}]}, {type:"text",text}]; the decoder wraps
 * the Chat Completions decoder and hands the thinking text to it as
 * reasoning_content.
 */
#include <string.h>

#include <apr_lib.h>
#include <openssl/sha.h>

#include "aura_encoder.h"
#include "aura_mistral.h"
#include "aura_openai_chat.h"

/* ==================================================================== */
/* encoder                                                              */

static int mistral_id_ok(const char *id)
{
    int i;
    for (i = 0; id[i]; i++)
        if (!apr_isalnum(id[i]))
            return 0;
    return i == 9;
}

/* A valid id stays as is (Mistral's own, answered back); any other maps
 * to 9 base-62 characters of its SHA-256: deterministic, so a call and
 * its output still match, and 62^9 values make a collision within one
 * conversation practically impossible. */
static const char *mistral_call_id(apr_pool_t *p, const char *id)
{
    static const char b62[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char md[SHA256_DIGEST_LENGTH];
    apr_uint64_t v = 0;
    char *out;
    int i;

    if (!id || mistral_id_ok(id))
        return id;
    SHA256((const unsigned char *)id, strlen(id), md);
    for (i = 0; i < 8; i++)
        v = (v << 8) | md[i];
    out = apr_palloc(p, 10);
    for (i = 0; i < 9; i++, v /= 62)
        out[i] = b62[v % 62];
    out[9] = '\0';
    return out;
}

static void set_str(json_object *o, const char *key, const char *s)
{
    json_object_object_add(o, key, json_object_new_string(s));
}

/* The chat encoder's {type:file, file:{file_id}} is Mistral's
 * {type:file, file_id}; inline file data has no Mistral form. */
static aura_error_t *fix_parts(apr_pool_t *p, json_object *content,
                               size_t mi)
{
    size_t i, n;

    if (!json_object_is_type(content, json_type_array))
        return NULL;
    n = json_object_array_length(content);
    for (i = 0; i < n; i++) {
        json_object *part = json_object_array_get_idx(content, i);
        json_object *file = aura_json_get(part, "file");
        const char *fid = aura_json_string(file, "file_id");

        if (!file)
            continue;
        if (!fid)
            return aura_bad_request(p, "unsupported_parameter", "input",
                                    "Unsupported parameter: 'input'. "
                                    "Mistral takes files by file_id only "
                                    "(message %" APR_SIZE_T_FMT ", part %"
                                    APR_SIZE_T_FMT ").", mi, i);
        set_str(part, "file_id", fid);
        json_object_object_del(part, "file");
    }
    return NULL;
}

static void fix_assistant(apr_pool_t *p, json_object *m)
{
    json_object *calls = aura_json_get(m, "tool_calls");
    const char *refusal = aura_json_string(m, "refusal");
    size_t i, n = calls ? json_object_array_length(calls) : 0;

    for (i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(calls, i);
        set_str(c, "id", mistral_call_id(p, aura_json_string(c, "id")));
    }
    if (refusal) {              /* no refusal field: keep it as text */
        if (!aura_json_string(m, "content"))
            set_str(m, "content", refusal);
        json_object_object_del(m, "refusal");
    }
}

static void fix_tool(apr_pool_t *p, apr_hash_t *names, json_object *m)
{
    const char *id = aura_json_string(m, "tool_call_id");
    const char *name = aura_enc_lookup(names, id);

    set_str(m, "tool_call_id", mistral_call_id(p, id));
    if (name)
        set_str(m, "name", name);
}

static aura_error_t *fix_messages(apr_pool_t *p, const aura_request_t *req,
                                  json_object *msgs)
{
    size_t i, n = json_object_array_length(msgs);
    apr_hash_t *names = NULL;     /* call_id → name, built once if needed */
    aura_error_t *e;

    for (i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(msgs, i);
        const char *role = aura_json_string(m, "role");

        if ((e = fix_parts(p, aura_json_get(m, "content"), i)))
            return e;
        if (!strcmp(role, "assistant"))
            fix_assistant(p, m);
        else if (!strcmp(role, "tool")) {
            if (!names)
                names = aura_enc_call_names(p, req);
            fix_tool(p, names, m);
        }
    }
    return NULL;
}

static void fix_tools(json_object *out)
{
    json_object *tools = aura_json_get(out, "tools");
    const char *choice = aura_json_string(out, "tool_choice");
    size_t i, n = tools ? json_object_array_length(tools) : 0;

    for (i = 0; i < n; i++) {
        json_object *fn = aura_json_get(json_object_array_get_idx(tools, i),
                                        "function");
        if (!aura_json_get(fn, "parameters"))   /* required by Mistral */
            json_object_object_add(fn, "parameters", json_tokener_parse(
                "{\"type\":\"object\",\"properties\":{}}"));
    }
    if (choice && !strcmp(choice, "required"))
        set_str(out, "tool_choice", "any");
}

static void fix_reasoning(const aura_request_t *req, json_object *out)
{
    const char *effort = aura_json_string(req->reasoning, "effort");

    if (!effort)
        return;
    set_str(out, "reasoning_effort",
            (!strcmp(effort, "none") || !strcmp(effort, "minimal"))
                ? "none" : "high");
}

static aura_error_t *mistral_encode(apr_pool_t *p, const aura_request_t *req,
                                    const aura_target_t *t, const char **body,
                                    apr_size_t *len)
{
    aura_target_t mt = *t;
    json_tokener *tok;
    json_object *out;
    aura_error_t *e;
    const char *chat;
    apr_size_t n = 0;

    /* OpenAI-only fields never reach Mistral, whatever the provider's
     * configured flags say. */
    mt.flags = 0;
    if ((e = aura_chat_encode(p, req, &mt, &chat, &n)))
        return e;
    tok = aura_tokener_acquire();
    out = aura_json_pool(p, json_tokener_parse_ex(tok, chat, (int)n));
    aura_tokener_release(tok);
    if (!out)
        return aura_error_make(p, 500, "server_error", NULL, NULL,
                               "internal error: chat body did not parse");
    if (aura_json_get(out, "logprobs"))
        return aura_bad_request(p, "unsupported_parameter",
                                req->top_logprobs != AURA_UNSET
                                    ? "top_logprobs" : "include",
                                "Unsupported parameter: Mistral does not "
                                "return log probabilities.");
    if ((e = fix_messages(p, req, aura_json_get(out, "messages"))))
        return e;
    fix_tools(out);
    fix_reasoning(req, out);
    json_object_object_del(out, "stream_options");
    *body = aura_json_str(p, out, len);
    return NULL;
}

static aura_error_t *mistral_request(apr_pool_t *p, const aura_target_t *t,
                                     int stream, aura_wire_t *w)
{
    (void)stream;
    return aura_wire_bearer(p, t, "/chat/completions", w);
}

const aura_adapter_t aura_adapter_mistral = {
    "mistral", mistral_encode, mistral_request, aura_mistral_decoder
};
