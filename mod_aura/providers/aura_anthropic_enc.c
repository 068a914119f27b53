/*
 * aura_anthropic_enc.c - the Anthropic Messages adapter: request encoder and
 * request() (URL, x-api-key, anthropic-version, anthropic-beta). The
 * decoder is in aura_anthropic_dec.c.
 *
 * Open Responses items become Messages turns: system and developer
 * messages (and `instructions`) are hoisted to `system`; consecutive items
 * of one side are merged into one turn, because Anthropic wants user and
 * assistant turns to alternate; function_call items become tool_use blocks
 * of the assistant turn and function_call_output items tool_result blocks
 * at the head of the next user turn, in order. Reasoning items carrying
 * this adapter's marker ("aura:anthropic:<signature>",
 * "aura:anthropic-redacted:<data>") go back as thinking / redacted_thinking
 * blocks at the head of their assistant turn, so a tool loop with extended
 * thinking continues; other providers' reasoning is dropped (it is not
 * needed for a correct conversation, and Anthropic would refuse it).
 * docs/providers/anthropic.md lists every mapping.
 */
#include <math.h>
#include <string.h>

#include <apr_lib.h>

#include "aura_anthropic.h"
#include "aura_encoder.h"

#define MARK_SIG AURA_ANTHROPIC_SIG
#define MARK_REDACTED AURA_ANTHROPIC_REDACTED

/* Anthropic refuses a request without max_tokens. When neither the client
 * nor the registry gives one, 4096 is the largest output every Claude model
 * accepts (the Claude 3 Haiku / Opus ceiling), so the default never causes
 * a 400 on an older model and is still a long answer on any newer one. */
#define DEFAULT_MAX_TOKENS 4096
/* Anthropic's smallest accepted thinking budget. */
#define MIN_BUDGET 1024

typedef struct actx {
    apr_pool_t *p;
    const aura_request_t *req;
    const aura_target_t *t;
    json_object *scratch;       /* pool-bound: owns the turn being built */
    json_object *system;        /* text blocks */
    json_object *messages;
    const char *role;           /* role of the turn being built, or NULL */
    json_object *lead;          /* tool_result (user) / thinking (assistant) */
    json_object *rest;          /* every other block of the turn */
    apr_array_header_t *called; /* function names used in the history */
    apr_hash_t *called_set;     /* the same names, to look them up */
    int thinking;               /* extended thinking requested */
    json_object *thinking_cfg;  /* the "thinking" object to send, or NULL */
} actx_t;

static json_object *block(const char *type)
{
    json_object *b = json_object_new_object();
    aura_enc_add_str(b, "type", type);
    return b;
}

static json_object *text_block(const char *text)
{
    json_object *b = block("text");
    aura_enc_add_str(b, "text", text);
    return b;
}

static int has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ------------------------------------------------------------------ */
/* turns                                                              */

static json_object *new_list(actx_t *c, const char *key)
{
    json_object *a = json_object_new_array();
    json_object_object_add(c->scratch, key, a);     /* replaces the old */
    return a;
}

static void append_all(json_object *to, json_object *from)
{
    size_t i, n = json_object_array_length(from);
    for (i = 0; i < n; i++)
        json_object_array_add(to, json_object_get(
                                  json_object_array_get_idx(from, i)));
}

/* Ends the turn being built; a turn with no blocks is not sent (Anthropic
 * refuses empty content). */
static void flush(actx_t *c)
{
    json_object *m, *content;

    if (c->role && json_object_array_length(c->lead)
                   + json_object_array_length(c->rest) > 0) {
        m = json_object_new_object();
        content = json_object_new_array();
        aura_enc_add_str(m, "role", c->role);
        append_all(content, c->lead);
        append_all(content, c->rest);
        json_object_object_add(m, "content", content);
        json_object_array_add(c->messages, m);
    }
    c->role = NULL;
}

/* Continues the turn of `role`, or starts one. */
static void turn(actx_t *c, const char *role)
{
    if (c->role && strcmp(c->role, role) == 0)
        return;
    flush(c);
    c->role = role;
    c->lead = new_list(c, "lead");
    c->rest = new_list(c, "rest");
}

/* ------------------------------------------------------------------ */
/* content parts                                                      */

/* "data:<media type>;base64,<data>" → a base64 source. */
static json_object *data_source(apr_pool_t *p, const char *url)
{
    const char *semi = strchr(url, ';');
    const char *comma = strchr(url, ',');
    json_object *src;

    if (!semi || !comma || semi > comma || strncmp(semi, ";base64,", 8))
        return NULL;
    src = block("base64");
    aura_enc_add_str(src, "media_type",
                     apr_pstrmemdup(p, url + 5, semi - url - 5));
    aura_enc_add_str(src, "data", comma + 1);
    return src;
}

static json_object *url_source(const char *url)
{
    json_object *src = block("url");
    aura_enc_add_str(src, "url", url);
    return src;
}

static aura_error_t *image_block(actx_t *c, json_object *part, const char *at,
                                 json_object **out)
{
    const char *url = aura_json_string(part, "image_url");
    json_object *src;

    if (!url)
        return aura_bad_request(c->p, "invalid_value", at,
                                "Invalid value for '%s': images by file_id "
                                "are not supported by this provider; send "
                                "image_url.", at);
    src = has_prefix(url, "data:") ? data_source(c->p, url) : url_source(url);
    if (!src)
        return aura_bad_request(c->p, "invalid_value", at,
                                "Invalid value for '%s': expected a "
                                "data:<type>;base64,... URL.", at);
    *out = block("image");
    json_object_object_add(*out, "source", src);
    return NULL;
}

/* Documents: PDFs as base64 or by URL (what Anthropic's document block
 * takes without a beta). */
static aura_error_t *file_block(actx_t *c, json_object *part, const char *at,
                                json_object **out)
{
    const char *data = aura_json_string(part, "file_data");
    const char *url = aura_json_string(part, "file_url");
    json_object *src = NULL;

    if (data && has_prefix(data, "data:application/pdf;"))
        src = data_source(c->p, data);
    else if (url && !data)
        src = url_source(url);
    if (!src)
        return aura_bad_request(c->p, "invalid_value", at,
                                "Invalid value for '%s': this provider takes "
                                "files as PDF file_data "
                                "(data:application/pdf;base64,...) or as "
                                "file_url.", at);
    *out = block("document");
    json_object_object_add(*out, "source", src);
    return NULL;
}

/* Appends the blocks for input parts to `to`. Empty text is skipped:
 * Anthropic refuses empty text blocks. */
static aura_error_t *add_parts(actx_t *c, json_object *parts, const char *at,
                               json_object *to)
{
    size_t i, n = json_object_array_length(parts);
    aura_error_t *e = NULL;

    for (i = 0; i < n && !e; i++) {
        json_object *part = json_object_array_get_idx(parts, i), *b = NULL;
        const char *type = aura_json_string(part, "type");
        const char *pat = apr_psprintf(c->p, "%s[%" APR_SIZE_T_FMT "]", at, i);
        const char *text = aura_json_string(part, "text");

        if (!strcmp(type, "input_text") || !strcmp(type, "output_text")) {
            if (text && *text)
                b = text_block(text);
        }
        else if (!strcmp(type, "refusal")) {
            text = aura_json_string(part, "refusal");
            if (text && *text)
                b = text_block(text);
        }
        else if (!strcmp(type, "input_image")) {
            e = image_block(c, part, pat, &b);
        }
        else if (!strcmp(type, "input_file")) {
            e = file_block(c, part, pat, &b);
        }
        if (b)
            json_object_array_add(to, b);
    }
    return e;
}

/* ------------------------------------------------------------------ */
/* items                                                              */

static aura_error_t *enc_message(actx_t *c, json_object *item, const char *at)
{
    const char *role = aura_json_string(item, "role");
    json_object *parts = aura_json_get(item, "content");

    at = apr_pstrcat(c->p, at, ".content", NULL);
    if (!strcmp(role, "system") || !strcmp(role, "developer"))
        return add_parts(c, parts, at, c->system);
    turn(c, strcmp(role, "assistant") ? "user" : "assistant");
    return add_parts(c, parts, at, c->rest);
}

/* Anthropic's tool_use ids match ^[a-zA-Z0-9_-]+$; other providers' call
 * ids may not. The same mapping is applied to a call and to its output, so
 * they still pair. */
static const char *tool_id(apr_pool_t *p, const char *id)
{
    char *s;
    size_t i;

    if (!id || !*id)
        return "toolu_aura";
    s = apr_pstrdup(p, id);
    for (i = 0; s[i]; i++)
        if (!apr_isalnum(s[i]) && s[i] != '_' && s[i] != '-')
            s[i] = '_';
    return s;
}

/* Each function name once, in order of first use (a set beside the list:
 * a scan of the list per call would be quadratic). */
static void note_called(actx_t *c, const char *name)
{
    if (!name || apr_hash_get(c->called_set, name, APR_HASH_KEY_STRING))
        return;
    apr_hash_set(c->called_set, name, APR_HASH_KEY_STRING, name);
    APR_ARRAY_PUSH(c->called, const char *) = name;
}

static aura_error_t *enc_function_call(actx_t *c, json_object *item,
                                       const char *at)
{
    const char *args = aura_json_string(item, "arguments");
    const char *name = aura_json_string(item, "name");
    json_object *input = NULL, *b;
    json_tokener *tok;

    if (args && *args) {
        tok = aura_tokener_acquire();
        input = json_tokener_parse_ex(tok, args, -1);
        aura_tokener_release(tok);
    }
    else {
        input = json_object_new_object();
    }
    if (!json_object_is_type(input, json_type_object)) {
        json_object_put(input);
        return aura_bad_request(c->p, "invalid_value",
                                apr_pstrcat(c->p, at, ".arguments", NULL),
                                "Invalid value for '%s.arguments': this "
                                "provider needs a function call's arguments "
                                "to be a JSON object.", at);
    }
    b = block("tool_use");
    aura_enc_add_str(b, "id",
                     tool_id(c->p, aura_json_string(item, "call_id")));
    aura_enc_add_str(b, "name", name);
    json_object_object_add(b, "input", input);
    turn(c, "assistant");
    json_object_array_add(c->rest, b);
    note_called(c, name);
    return NULL;
}

static aura_error_t *enc_function_output(actx_t *c, json_object *item,
                                         const char *at)
{
    json_object *output = aura_json_get(item, "output");
    json_object *b = block("tool_result"), *content;
    aura_error_t *e;

    aura_enc_add_str(b, "tool_use_id",
                     tool_id(c->p, aura_json_string(item, "call_id")));
    turn(c, "user");
    json_object_array_add(c->lead, b);
    if (json_object_is_type(output, json_type_string)) {
        if (*json_object_get_string(output))
            json_object_object_add(b, "content", json_object_get(output));
        return NULL;
    }
    content = json_object_new_array();
    json_object_object_add(b, "content", content);
    e = add_parts(c, output, apr_pstrcat(c->p, at, ".output", NULL), content);
    if (!e && json_object_array_length(content) == 0)
        json_object_object_del(b, "content");
    return e;
}

/* The reasoning text of an item: content[] reasoning_text as this
 * adapter's decoder writes it (else the summaries), joined exactly: the
 * signature covers it. */
static const char *reasoning_text(apr_pool_t *p, json_object *item)
{
    json_object *parts = aura_json_get(item, "content");
    apr_array_header_t *texts;
    size_t i, n;

    if (!parts || json_object_array_length(parts) == 0)
        parts = aura_json_get(item, "summary");
    n = parts ? json_object_array_length(parts) : 0;
    texts = apr_array_make(p, (int)(n ? n : 1), sizeof(const char *));
    for (i = 0; i < n; i++) {
        const char *t = aura_json_string(json_object_array_get_idx(parts, i),
                                         "text");
        if (t)
            APR_ARRAY_PUSH(texts, const char *) = t;
    }
    /* joined once: appending part by part is quadratic */
    return apr_array_pstrcat(p, texts, 0);
}

static void enc_reasoning(actx_t *c, json_object *item)
{
    const char *enc = aura_json_string(item, "encrypted_content");
    json_object *b;

    if (!c->thinking)
        return;     /* thinking is off: the model would not use it */
    if (has_prefix(enc, MARK_SIG)) {
        b = block("thinking");
        aura_enc_add_str(b, "thinking", reasoning_text(c->p, item));
        aura_enc_add_str(b, "signature", enc + strlen(MARK_SIG));
    }
    else if (has_prefix(enc, MARK_REDACTED)) {
        b = block("redacted_thinking");
        aura_enc_add_str(b, "data", enc + strlen(MARK_REDACTED));
    }
    else {
        return;     /* another provider's reasoning: not needed, refused */
    }
    turn(c, "assistant");
    json_object_array_add(c->lead, b);
}

static aura_error_t *enc_item(actx_t *c, json_object *item, size_t i)
{
    const char *type = aura_json_string(item, "type");
    const char *at = apr_psprintf(c->p, "input[%" APR_SIZE_T_FMT "]", i);

    if (!strcmp(type, "message"))
        return enc_message(c, item, at);
    if (!strcmp(type, "function_call"))
        return enc_function_call(c, item, at);
    if (!strcmp(type, "function_call_output"))
        return enc_function_output(c, item, at);
    if (!strcmp(type, "reasoning")) {
        enc_reasoning(c, item);
        return NULL;
    }
    return aura_enc_refuse_item(c->p, type, at);
}

/* With thinking on, Anthropic wants an assistant turn that ends in
 * tool_use to start with its thinking block when the request continues
 * it. History from another provider has none: then this request goes
 * without thinking rather than being refused. */
static void check_tool_loop(actx_t *c)
{
    size_t n = json_object_array_length(c->messages);
    json_object *last, *prev;
    const char *first;

    if (!c->thinking || n < 2)
        return;
    last = json_object_array_get_idx(c->messages, n - 1);
    prev = json_object_array_get_idx(c->messages, n - 2);
    if (strcmp(aura_json_string(last, "role"), "user")
        || strcmp(aura_json_string(json_object_array_get_idx(
               aura_json_get(last, "content"), 0), "type"), "tool_result"))
        return;
    first = aura_json_string(json_object_array_get_idx(
        aura_json_get(prev, "content"), 0), "type");
    if (strcmp(first, "thinking") && strcmp(first, "redacted_thinking"))
        c->thinking = 0;
}

static aura_error_t *enc_messages(actx_t *c)
{
    size_t i, n = json_object_array_length(c->req->input);
    aura_error_t *e;

    c->messages = new_list(c, "messages");
    if (c->req->instructions && *c->req->instructions)
        json_object_array_add(c->system, text_block(c->req->instructions));
    for (i = 0; i < n; i++)
        if ((e = enc_item(c, json_object_array_get_idx(c->req->input, i), i)))
            return e;
    flush(c);
    if (json_object_array_length(c->messages) == 0)
        return aura_bad_request(c->p, "missing_required_parameter", "input",
                                "Missing required parameter: 'input' (no "
                                "user or assistant content to send).");
    check_tool_loop(c);
    return NULL;
}

/* One text block is sent as a plain string (the common form); several
 * keep their boundaries as blocks. */
static void enc_system(actx_t *c, json_object *out)
{
    size_t n = json_object_array_length(c->system);

    if (n == 1)
        aura_enc_add_str(out, "system", aura_json_string(
                             json_object_array_get_idx(c->system, 0),
                             "text"));
    else if (n > 1)
        json_object_object_add(out, "system", json_object_get(c->system));
}

/* ------------------------------------------------------------------ */
/* tools                                                              */

static json_object *anthropic_tool(json_object *flat)
{
    json_object *tool = json_object_new_object();
    json_object *schema = aura_json_get(flat, "parameters");
    const char *desc = aura_json_string(flat, "description");

    aura_enc_add_str(tool, "name", aura_json_string(flat, "name"));
    if (desc)
        aura_enc_add_str(tool, "description", desc);
    if (schema)
        json_object_object_add(tool, "input_schema", json_object_get(schema));
    else
        json_object_object_add(tool, "input_schema", json_tokener_parse(
                                   "{\"type\":\"object\",\"properties\":{}}"));
    return tool;
}

/* The Anthropic tool_choice for the request's, or NULL (the default,
 * auto). allowed_tools: the tools are filtered, and its mode applies. */
static json_object *choice_of(const aura_request_t *r)
{
    json_object *tc = r->tool_choice, *o;
    const char *mode = NULL, *type;

    if (!tc)
        return NULL;
    if (json_object_is_type(tc, json_type_string))
        mode = json_object_get_string(tc);
    else if (!strcmp(aura_json_string(tc, "type"), "allowed_tools"))
        mode = aura_json_string(tc, "mode");
    if (!mode) {                        /* a named function */
        o = block("tool");
        aura_enc_add_str(o, "name", aura_json_string(tc, "name"));
        return o;
    }
    type = !strcmp(mode, "required") ? "any" : mode;
    return block(type);
}

/* Forced tool use and extended thinking cannot go together on Anthropic. */
static int choice_forces(const aura_request_t *r)
{
    json_object *o = choice_of(r);
    const char *type = aura_json_string(o, "type");
    int forced = type && (!strcmp(type, "any") || !strcmp(type, "tool"));

    json_object_put(o);
    return forced;
}

/* History with tool calls but no tools in this request: Anthropic refuses
 * tool_use blocks without their definitions, so the called functions are
 * declared, with tool_choice none (the client offered no tools). */
static void enc_history_tools(actx_t *c, json_object *out)
{
    json_object *tools = json_object_new_array();
    int i;

    for (i = 0; i < c->called->nelts; i++) {
        json_object *t = json_object_new_object();
        aura_enc_add_str(t, "name", APR_ARRAY_IDX(c->called, i, const char *));
        json_object_object_add(t, "input_schema",
                               json_tokener_parse("{\"type\":\"object\"}"));
        json_object_array_add(tools, t);
    }
    json_object_object_add(out, "tools", tools);
    json_object_object_add(out, "tool_choice", block("none"));
}

static void enc_tools(actx_t *c, json_object *out)
{
    const aura_request_t *r = c->req;
    json_object *choice, *allowed = NULL, *tools;
    apr_hash_t *names = NULL;
    size_t i, n = json_object_array_length(r->tools);

    if (n == 0) {
        if (c->called->nelts)
            enc_history_tools(c, out);
        return;
    }
    if (json_object_is_type(r->tool_choice, json_type_object)
        && !strcmp(aura_json_string(r->tool_choice, "type"), "allowed_tools"))
        allowed = aura_json_get(r->tool_choice, "tools");
    if (allowed)        /* one lookup per tool, not a scan */
        names = aura_enc_name_set(c->p, allowed);
    tools = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *flat = json_object_array_get_idx(r->tools, i);
        if (!allowed
            || aura_enc_lookup(names, aura_json_string(flat, "name")))
            json_object_array_add(tools, anthropic_tool(flat));
    }
    json_object_object_add(out, "tools", tools);
    choice = choice_of(r);
    if (r->parallel_tool_calls == 0
        && strcmp(aura_json_string(choice, "type") ?: "auto", "none")) {
        if (!choice)
            choice = block("auto");
        json_object_object_add(choice, "disable_parallel_tool_use",
                               json_object_new_boolean(1));
    }
    if (choice)
        json_object_object_add(out, "tool_choice", choice);
}

/* ------------------------------------------------------------------ */
/* sampling, thinking, output format                                  */

/* Budgets for reasoning.effort, as LiteLLM documents its mapping of
 * reasoning_effort to Anthropic budget_tokens (low 1024, medium 2048,
 * high 4096; docs.litellm.ai/docs/reasoning_content); minimal is the API
 * minimum, xhigh doubles high. A registry reasoning_budget replaces the
 * medium default. */
static long effort_budget(const char *effort, const aura_target_t *t)
{
    if (!effort || !strcmp(effort, "none"))
        return 0;
    if (!strcmp(effort, "minimal") || !strcmp(effort, "low"))
        return MIN_BUDGET;
    if (!strcmp(effort, "medium"))
        return t->reasoning_budget >= MIN_BUDGET ? t->reasoning_budget : 2048;
    if (!strcmp(effort, "high"))
        return 4096;
    return 8192;                                    /* xhigh */
}

/* max_tokens is required. The budget must stay below it, and it counts
 * against it: when the limit is too small for the thinking, the answer
 * keeps its limit and the budget is added on top. */
static void enc_limits(actx_t *c, json_object *out)
{
    const aura_request_t *r = c->req;
    long max = r->max_output_tokens != AURA_UNSET ? r->max_output_tokens
               : c->t->max_output_default > 0 ? c->t->max_output_default
               : DEFAULT_MAX_TOKENS;
    long budget = c->thinking
        ? effort_budget(aura_json_string(r->reasoning, "effort"), c->t) : 0;

    if (budget && max <= budget)
        max += budget;
    json_object_object_add(out, "max_tokens", json_object_new_int64(max));
    if (!budget)
        return;
    c->thinking_cfg = block("enabled");
    json_object_object_add(c->thinking_cfg, "budget_tokens",
                           json_object_new_int64(budget));
    json_object_object_add(c->scratch, "thinking", c->thinking_cfg);
}

/* With thinking, Anthropic accepts no temperature but 1 and top_p only
 * from 0.95: other values are left out rather than failing the request
 * (docs/providers/anthropic.md). */
static aura_error_t *enc_sampling(actx_t *c, json_object *out)
{
    const aura_request_t *r = c->req;
    int thinking = c->thinking_cfg != NULL;
    int presence = !isnan(r->presence_penalty) && r->presence_penalty != 0;

    if (presence
        || (!isnan(r->frequency_penalty) && r->frequency_penalty != 0))
        return aura_enc_unsupported(c->p, presence ? "presence_penalty"
                                              : "frequency_penalty",
                                    "Anthropic models have no penalties.");
    if (r->top_logprobs != AURA_UNSET)
        return aura_enc_unsupported(c->p, "top_logprobs", "Anthropic models "
                                    "return no log probabilities.");
    if (!thinking || r->temperature == 1)
        aura_enc_add_num(r, out, "temperature", NULL, r->temperature);
    if (!thinking || r->top_p >= 0.95)
        aura_enc_add_num(r, out, "top_p", NULL, r->top_p);
    return NULL;
}

/* json_schema → output_config.format, Anthropic's structured outputs
 * (generally available, no beta header: platform.claude.com/docs/en/
 * build-with-claude/structured-outputs). Anthropic has no schema-less JSON
 * mode, so json_object is refused rather than silently not honoured. */
static aura_error_t *enc_format(actx_t *c, json_object *out)
{
    json_object *format = aura_json_get(c->req->text, "format");
    const char *type = aura_json_string(format, "type");
    json_object *cfg, *f;

    if (!type || !strcmp(type, "text"))
        return NULL;
    if (strcmp(type, "json_schema"))
        return aura_bad_request(c->p, "invalid_value", "text.format.type",
                                "Invalid value for 'text.format.type': "
                                "Anthropic models support 'json_schema' and "
                                "'text', not '%s'.", type);
    cfg = json_object_new_object();
    f = block("json_schema");
    json_object_object_add(f, "schema",
                           json_object_get(aura_json_get(format, "schema")));
    json_object_object_add(cfg, "format", f);
    json_object_object_add(out, "output_config", cfg);
    return NULL;
}

static void enc_extras(actx_t *c, json_object *out)
{
    json_object *md;

    if (c->req->safety_identifier) {
        /* Anthropic's per-end-user identifier for abuse detection */
        md = json_object_new_object();
        aura_enc_add_str(md, "user_id", c->req->safety_identifier);
        json_object_object_add(out, "metadata", md);
    }
    if (c->req->stream)
        json_object_object_add(out, "stream", json_object_new_boolean(1));
}

static aura_error_t *anthropic_encode(apr_pool_t *p, const aura_request_t *req,
                                      const aura_target_t *t,
                                      const char **body, apr_size_t *len)
{
    actx_t c;
    json_object *out;
    aura_error_t *e;

    *body = NULL;
    if (len)
        *len = 0;
    if ((e = aura_enc_refuse_previous(p, req, "this provider")))
        return e;
    memset(&c, 0, sizeof(c));
    c.p = p;
    c.req = req;
    c.t = t;
    c.called = apr_array_make(p, 4, sizeof(const char *));
    c.called_set = apr_hash_make(p);
    c.scratch = aura_json_pool(p, json_object_new_object());
    c.system = new_list(&c, "system");
    c.thinking = effort_budget(aura_json_string(req->reasoning, "effort"), t)
                 && !choice_forces(req);
    if ((e = enc_messages(&c)))
        return e;
    out = aura_json_pool(p, json_object_new_object());
    aura_enc_add_str(out, "model", t->upstream_model);
    enc_limits(&c, out);
    enc_system(&c, out);
    json_object_object_add(out, "messages", json_object_get(c.messages));
    enc_tools(&c, out);
    if (c.thinking_cfg)
        json_object_object_add(out, "thinking",
                               json_object_get(c.thinking_cfg));
    if ((e = enc_sampling(&c, out)) || (e = enc_format(&c, out)))
        return e;
    enc_extras(&c, out);
    *body = aura_json_str(p, out, len);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* the wire request                                                   */

static aura_error_t *anthropic_request(apr_pool_t *p, const aura_target_t *t,
                                       int stream, aura_wire_t *w)
{
    (void)stream;
    w->url = apr_pstrcat(p, t->base_url, "/v1/messages", NULL);
    if (t->key)
        aura_wire_header(p, w, "x-api-key", t->key);
    aura_wire_header(p, w, "anthropic-version",
                     t->api_version ? t->api_version : "2023-06-01");
    if (t->beta && *t->beta)
        aura_wire_header(p, w, "anthropic-beta", t->beta);
    return NULL;
}

const aura_adapter_t aura_adapter_anthropic = {
    "anthropic", anthropic_encode, anthropic_request, aura_anthropic_decoder
};
