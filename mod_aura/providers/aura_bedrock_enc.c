/*
 * aura_bedrock_enc.c - the Bedrock adapter: Converse request encoder and
 * request() (URL, SigV4 or Bedrock API key). The decoder is in
 * aura_bedrock_dec.c.
 *
 * Converse is one API for every model family Bedrock serves (Anthropic,
 * Meta Llama, Mistral, Amazon Nova, ...), but families reject some fields:
 * the family is read from the model id (regional prefix "us."/"eu."/
 * "global." and ARNs stripped) and fields a family is documented to refuse
 * are left out or replaced, so the upstream never 400s on something the
 * gateway could have known (docs/providers/bedrock.md lists each case).
 * Reference: Bedrock API Reference, Converse
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "aura_bedrock.h"
#include "aura_encoder.h"
#include "aura_sigv4.h"

/* ------------------------------------------------------------------ */
/* model families                                                     */

#define F_TOOL_ANY     0x01     /* toolChoice {"any":{}} */
#define F_TOOL_NAMED   0x02     /* toolChoice {"tool":{"name"}} */
#define F_THINKING     0x04     /* Anthropic extended thinking budget */
#define F_REASONING_IN 0x08     /* reasoningContent accepted as input */
#define F_NO_SYSTEM    0x10     /* no system prompts */
#define F_NOVA_EFFORT  0x20     /* Nova 2 reasoningConfig */
#define F_OSS_EFFORT   0x40     /* gpt-oss reasoning_effort */

/* Longest prefix first where prefixes overlap. Sources: ToolChoice
 * ("any" Claude 3+, Mistral Large, Nova; "tool" Claude 3+ and Nova);
 * "Supported models and model features" of the Converse user guide
 * (system prompts: not Mistral 7B/Mixtral Instruct nor Titan Text);
 * Anthropic extended thinking (Claude 3.7 and 4+ only). */
static const struct family {
    const char *prefix;
    unsigned caps;
} families[] = {
    {"anthropic.claude-3-7", F_TOOL_ANY | F_TOOL_NAMED | F_THINKING
                             | F_REASONING_IN},
    {"anthropic.claude-3", F_TOOL_ANY | F_TOOL_NAMED},
    {"anthropic.claude-instant", 0},
    {"anthropic.claude-v", 0},
    {"anthropic.", F_TOOL_ANY | F_TOOL_NAMED | F_THINKING | F_REASONING_IN},
    {"mistral.mistral-large", F_TOOL_ANY},
    {"mistral.mistral-7b", F_NO_SYSTEM},
    {"mistral.mixtral", F_NO_SYSTEM},
    {"mistral.", 0},
    {"amazon.nova-2", F_TOOL_ANY | F_TOOL_NAMED | F_NOVA_EFFORT},
    {"amazon.nova", F_TOOL_ANY | F_TOOL_NAMED},
    {"amazon.titan-text", F_NO_SYSTEM},
    {"openai.gpt-oss", F_OSS_EFFORT},
    {"meta.", 0},
    {"deepseek.", 0},
    {"cohere.", 0},
    {NULL, 0}
};

/* Regional inference profile prefixes ("us.anthropic...."). */
static const char *const geos[] = {
    "us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.", NULL
};

/* Capabilities by model id. An id we cannot place (an application
 * inference profile ARN, a new vendor) gets the client's tool_choice as
 * asked and nothing family specific. */
static unsigned model_caps(const char *id)
{
    const char *slash = id ? strrchr(id, '/') : NULL;
    int i;

    if (!id)
        return 0;
    if (slash)                  /* ...:foundation-model/anthropic.claude... */
        id = slash + 1;
    for (i = 0; geos[i]; i++)
        if (!strncmp(id, geos[i], strlen(geos[i]))) {
            id += strlen(geos[i]);
            break;
        }
    for (i = 0; families[i].prefix; i++)
        if (!strncmp(id, families[i].prefix, strlen(families[i].prefix)))
            return families[i].caps;
    return F_TOOL_ANY | F_TOOL_NAMED;
}

/* ------------------------------------------------------------------ */
/* encoder state                                                      */

typedef struct bctx {
    apr_pool_t *p;
    const aura_request_t *req;
    const aura_target_t *t;
    unsigned caps;
    json_object *messages;      /* Converse messages[] */
    json_object *system;        /* system[] */
    json_object *cur;           /* content[] of the last message */
    const char *cur_role;
    int tool_blocks;            /* toolUse/toolResult in the history */
    json_object *used;          /* {name: true} of tools called before */
} bctx_t;

static json_object *wrap(const char *key, json_object *v)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, key, v);
    return o;
}

/* Appends a content block to the conversation as `role`. Converse wants
 * user and assistant turns to alternate, so consecutive blocks of one
 * role share a message. */
static void push_block(bctx_t *c, const char *role, json_object *block)
{
    if (!c->cur_role || strcmp(c->cur_role, role)) {
        json_object *m = json_object_new_object();
        aura_enc_add_str(m, "role", role);
        c->cur = json_object_new_array();
        json_object_object_add(m, "content", c->cur);
        json_object_array_add(c->messages, m);
        c->cur_role = role;
    }
    json_object_array_add(c->cur, block);
}

static json_object *text_block(const char *s)
{
    return wrap("text", json_object_new_string(s));
}

/* ------------------------------------------------------------------ */
/* images and documents (inline bytes only)                           */

static const struct mime {
    const char *mime, *format;
    int doc;
} mimes[] = {
    {"image/png", "png", 0}, {"image/jpeg", "jpeg", 0},
    {"image/jpg", "jpeg", 0}, {"image/gif", "gif", 0},
    {"image/webp", "webp", 0},
    {"application/pdf", "pdf", 1}, {"text/csv", "csv", 1},
    {"application/msword", "doc", 1},
    {"application/vnd.openxmlformats-officedocument.wordprocessingml."
     "document", "docx", 1},
    {"application/vnd.ms-excel", "xls", 1},
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     "xlsx", 1},
    {"text/html", "html", 1}, {"text/plain", "txt", 1},
    {"text/markdown", "md", 1},
    {NULL, NULL, 0}
};

/* "data:<mime>;base64,<data>" -> format and the base64 text, or NULL. */
static const char *data_url(const char *url, int doc, const char **b64)
{
    const char *semi, *comma;
    int i;

    if (!url || strncasecmp(url, "data:", 5)
        || !(semi = strstr(url, ";base64,")))
        return NULL;
    comma = semi + 7;
    for (i = 0; mimes[i].mime; i++)
        if (mimes[i].doc == doc && (size_t)(semi - url - 5)
                == strlen(mimes[i].mime)
            && !strncasecmp(url + 5, mimes[i].mime, strlen(mimes[i].mime))) {
            *b64 = comma + 1;
            return mimes[i].format;
        }
    return NULL;
}

static json_object *bytes_source(const char *b64)
{
    return wrap("bytes", json_object_new_string(b64));
}

static aura_error_t *image_block(bctx_t *c, json_object *part, const char *at,
                                 json_object **out)
{
    const char *b64, *fmt = data_url(aura_json_string(part, "image_url"), 0,
                                     &b64);
    json_object *img;

    if (!fmt)
        return aura_bad_request(c->p, "invalid_value", at,
                                "Invalid value for '%s': Bedrock takes "
                                "images inline only, as a data: URL "
                                "(png, jpeg, gif or webp); URLs and file ids "
                                "are not fetched.", at);
    img = json_object_new_object();
    aura_enc_add_str(img, "format", fmt);
    json_object_object_add(img, "source", bytes_source(b64));
    *out = wrap("image", img);
    return NULL;
}

/* Bedrock document names allow letters, digits, single spaces, hyphens,
 * parentheses and square brackets. */
static const char *doc_name(apr_pool_t *p, const char *name)
{
    char *out = apr_pstrdup(p, name && *name ? name : "document"), *s, *o;
    char *dot = strrchr(out, '.');

    if (dot && dot != out)
        *dot = '\0';            /* the format says the type already */
    for (s = o = out; *s; s++) {
        int ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
                 || (*s >= '0' && *s <= '9') || strchr("-()[]", *s);
        char ch = ok ? *s : ' ';
        if (ch == ' ' && (o == out || o[-1] == ' '))
            continue;
        *o++ = ch;
    }
    while (o > out && o[-1] == ' ')
        o--;
    *o = '\0';
    return *out ? out : "document";
}

static aura_error_t *doc_block(bctx_t *c, json_object *part, const char *at,
                               json_object **out)
{
    const char *b64, *fmt = data_url(aura_json_string(part, "file_data"), 1,
                                     &b64);
    json_object *doc;

    if (!fmt)
        return aura_bad_request(c->p, "invalid_value", at,
                                "Invalid value for '%s': Bedrock takes files "
                                "inline only, as file_data (a data: URL of a "
                                "pdf, csv, doc, docx, xls, xlsx, html, txt "
                                "or md file).", at);
    doc = json_object_new_object();
    aura_enc_add_str(doc, "format", fmt);
    aura_enc_add_str(doc, "name",
                     doc_name(c->p, aura_json_string(part, "filename")));
    json_object_object_add(doc, "source", bytes_source(b64));
    *out = wrap("document", doc);
    return NULL;
}

/* One input part as a Converse content block; *out NULL = nothing to
 * send (empty text: Converse refuses blank text blocks). */
static aura_error_t *part_block(bctx_t *c, json_object *part, const char *at,
                                json_object **out)
{
    const char *type = aura_json_string(part, "type");
    const char *s;

    *out = NULL;
    if (!strcmp(type, "input_image"))
        return image_block(c, part, at, out);
    if (!strcmp(type, "input_file"))
        return doc_block(c, part, at, out);
    s = aura_json_string(part, !strcmp(type, "refusal") ? "refusal" : "text");
    if (s && *s)
        *out = text_block(s);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* items                                                              */

static const char *join_text(apr_pool_t *p, json_object *parts)
{
    const char *out = NULL;
    size_t i, n = parts ? json_object_array_length(parts) : 0;

    for (i = 0; i < n; i++) {
        const char *s = aura_json_string(json_object_array_get_idx(parts, i),
                                         "text");
        if (s && *s)
            out = out ? apr_pstrcat(p, out, "\n", s, NULL) : s;
    }
    return out;
}

static aura_error_t *enc_message(bctx_t *c, json_object *item, const char *at)
{
    const char *role = aura_json_string(item, "role");
    json_object *parts = aura_json_get(item, "content");
    size_t i, n = json_object_array_length(parts);
    aura_error_t *e;

    if (!strcmp(role, "system") || !strcmp(role, "developer")) {
        const char *s = join_text(c->p, parts);
        if (s)
            json_object_array_add(c->system, text_block(s));
        return NULL;
    }
    for (i = 0; i < n; i++) {
        json_object *b;
        e = part_block(c, json_object_array_get_idx(parts, i),
                       apr_psprintf(c->p, "%s.content[%" APR_SIZE_T_FMT "]",
                                    at, i), &b);
        if (e)
            return e;
        if (b)
            push_block(c, strcmp(role, "assistant") ? "user" : "assistant", b);
    }
    return NULL;
}

/* Converse toolUseIds match [a-zA-Z0-9_-]+, at most 64 long. Ids minted
 * elsewhere may not: they are replaced by a digest, the same for the call
 * and its output, so the pair still matches. */
static const char *tool_id(apr_pool_t *p, const char *id)
{
    size_t n = strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                          "VWXYZ0123456789_-");
    if (n && !id[n] && n <= 64)
        return id;
    return apr_pstrndup(p, apr_pstrcat(p, "aura_", aura_sha256_hex(p, id,
                                       strlen(id)), NULL), 37);
}

/* The call's arguments as the JSON object Converse wants for input. A
 * model that produced no or broken arguments still had its call; it is
 * replayed with {} rather than refused. */
static json_object *call_input(const char *args)
{
    json_object *o = args && *args ? json_tokener_parse(args) : NULL;

    if (o && json_object_is_type(o, json_type_object))
        return o;
    json_object_put(o);
    return json_object_new_object();
}

static void enc_call(bctx_t *c, json_object *item)
{
    json_object *tu = json_object_new_object();
    const char *name = aura_json_string(item, "name");

    aura_enc_add_str(tu, "toolUseId",
                     tool_id(c->p, aura_json_string(item, "call_id")));
    aura_enc_add_str(tu, "name", name);
    json_object_object_add(tu, "input",
                           call_input(aura_json_string(item, "arguments")));
    push_block(c, "assistant", wrap("toolUse", tu));
    json_object_object_add(c->used, name, json_object_new_boolean(1));
    c->tool_blocks = 1;
}

/* toolResult.status is left out: only Anthropic models accept it. */
static aura_error_t *enc_output(bctx_t *c, json_object *item, const char *at)
{
    json_object *out = aura_json_get(item, "output");
    json_object *tr = json_object_new_object(), *content;
    aura_error_t *e = NULL;
    size_t i, n;

    content = json_object_new_array();
    aura_enc_add_str(tr, "toolUseId",
                     tool_id(c->p, aura_json_string(item, "call_id")));
    json_object_object_add(tr, "content", content);
    if (json_object_is_type(out, json_type_string)) {
        const char *s = json_object_get_string(out);
        json_object_array_add(content, text_block(*s ? s : "(no output)"));
    }
    n = json_object_is_type(out, json_type_array)
            ? json_object_array_length(out) : 0;
    for (i = 0; i < n && !e; i++) {
        json_object *b;
        e = part_block(c, json_object_array_get_idx(out, i),
                       apr_psprintf(c->p, "%s.output[%" APR_SIZE_T_FMT "]",
                                    at, i), &b);
        if (b)
            json_object_array_add(content, b);
    }
    if (!e && json_object_array_length(content) == 0)
        json_object_array_add(content, text_block("(no output)"));
    if (e) {
        json_object_put(tr);
        return e;
    }
    push_block(c, "user", wrap("toolResult", tr));
    c->tool_blocks = 1;
    return NULL;
}

/* Only reasoning this adapter produced goes back (aura:bedrock:<sig> or
 * aura:bedrock-redacted:<data>), and only to a family that takes
 * reasoningContent as input; other reasoning is dropped (it is not
 * needed for the conversation to be valid). */
static void enc_reasoning(bctx_t *c, json_object *item)
{
    const char *enc = aura_json_string(item, "encrypted_content");
    json_object *rc, *rt;
    const char *text;

    if (!enc || !(c->caps & F_REASONING_IN))
        return;
    rc = json_object_new_object();
    if (!strncmp(enc, AURA_BEDROCK_REDACTED, strlen(AURA_BEDROCK_REDACTED))) {
        aura_enc_add_str(rc, "redactedContent",
                         enc + strlen(AURA_BEDROCK_REDACTED));
    }
    else if (!strncmp(enc, AURA_BEDROCK_SIG, strlen(AURA_BEDROCK_SIG))) {
        text = join_text(c->p, aura_json_get(item, "content"));
        if (!text)
            text = join_text(c->p, aura_json_get(item, "summary"));
        rt = json_object_new_object();
        aura_enc_add_str(rt, "text", text ? text : "");
        aura_enc_add_str(rt, "signature", enc + strlen(AURA_BEDROCK_SIG));
        json_object_object_add(rc, "reasoningText", rt);
    }
    else {
        json_object_put(rc);
        return;
    }
    push_block(c, "assistant", wrap("reasoningContent", rc));
}

static aura_error_t *enc_item(bctx_t *c, json_object *item, size_t i)
{
    const char *type = aura_json_string(item, "type");
    const char *at = apr_psprintf(c->p, "input[%" APR_SIZE_T_FMT "]", i);

    if (!strcmp(type, "message"))
        return enc_message(c, item, at);
    if (!strcmp(type, "function_call")) {
        enc_call(c, item);
        return NULL;
    }
    if (!strcmp(type, "function_call_output"))
        return enc_output(c, item, at);
    if (!strcmp(type, "reasoning")) {
        enc_reasoning(c, item);
        return NULL;
    }
    return aura_enc_unsupported(c->p, at, "Item references and compaction "
                                "items cannot be sent to Bedrock; send the "
                                "items themselves.");
}

/* Families without system prompts get them as the first user text. */
static void fold_system(bctx_t *c)
{
    json_object *first = json_object_array_get_idx(c->messages, 0);
    json_object *old = aura_json_get(first, "content"), *content;
    const char *s = join_text(c->p, c->system);
    size_t i, n = json_object_array_length(old);

    if (!s)
        return;
    content = json_object_new_array();
    json_object_array_add(content, text_block(s));
    for (i = 0; i < n; i++)
        json_object_array_add(content, json_object_get(
                                  json_object_array_get_idx(old, i)));
    json_object_object_add(first, "content", content);
}

static aura_error_t *enc_messages(bctx_t *c, json_object *out)
{
    size_t i, n = json_object_array_length(c->req->input);
    aura_error_t *e;

    if (c->req->instructions && *c->req->instructions)
        json_object_array_add(c->system, text_block(c->req->instructions));
    for (i = 0; i < n; i++)
        if ((e = enc_item(c, json_object_array_get_idx(c->req->input, i), i)))
            return e;
    if (json_object_array_length(c->messages) == 0)
        return aura_bad_request(c->p, "missing_required_parameter", "input",
                                "Missing required parameter: 'input' (no "
                                "user or assistant content to send).");
    if (strcmp(aura_json_string(json_object_array_get_idx(c->messages, 0),
                                "role"), "user"))
        return aura_bad_request(c->p, "invalid_value", "input",
                                "Invalid value for 'input': Bedrock needs "
                                "the conversation to start with a user "
                                "message.");
    if (c->caps & F_NO_SYSTEM)
        fold_system(c);
    else if (json_object_array_length(c->system))
        json_object_object_add(out, "system", json_object_get(c->system));
    json_object_object_add(out, "messages", json_object_get(c->messages));
    return NULL;
}

/* ------------------------------------------------------------------ */
/* tools                                                              */

static json_object *tool_spec(json_object *flat)
{
    json_object *spec = json_object_new_object();
    json_object *params = aura_json_get(flat, "parameters");
    const char *desc = aura_json_string(flat, "description");

    aura_enc_add_str(spec, "name", aura_json_string(flat, "name"));
    if (desc && *desc)
        aura_enc_add_str(spec, "description", desc);
    if (params)
        params = json_object_get(params);
    else {                              /* Converse requires a schema */
        params = json_object_new_object();
        aura_enc_add_str(params, "type", "object");
        json_object_object_add(params, "properties", json_object_new_object());
    }
    json_object_object_add(spec, "inputSchema", wrap("json", params));
    return wrap("toolSpec", spec);
}

/* What tool_choice asks: *mode "auto", "none" or "any"; *named a tool
 * that must be called; *allowed the allowed_tools list. */
static void read_choice(json_object *choice, const char **mode,
                        const char **named, json_object **allowed)
{
    const char *type;

    *mode = "auto";
    *named = NULL;
    *allowed = NULL;
    if (json_object_is_type(choice, json_type_string)) {
        type = json_object_get_string(choice);
        *mode = !strcmp(type, "required") ? "any"
              : !strcmp(type, "none") ? "none" : "auto";
        return;
    }
    type = aura_json_string(choice, "type");
    if (type && !strcmp(type, "function")) {
        *named = aura_json_string(choice, "name");
    }
    else if (type && !strcmp(type, "allowed_tools")) {
        *allowed = aura_json_get(choice, "tools");
        if (!strcmp(aura_json_string(choice, "mode"), "required"))
            *mode = "any";
    }
}

/* A conversation with toolUse/toolResult blocks needs a toolConfig; when
 * the client sends no tools (it stopped offering them), the tools it
 * called are declared with an open schema. */
static void declare_used(bctx_t *c, json_object *tools)
{
    json_object_object_foreach(c->used, name, v) {
        json_object *flat = json_object_new_object();
        (void)v;
        aura_enc_add_str(flat, "name", name);
        json_object_array_add(tools, tool_spec(flat));
        json_object_put(flat);
    }
}

/* toolChoice where the family takes it; otherwise the tool list alone
 * narrows the choice (a named tool: only that one is offered). */
static json_object *choice_for(bctx_t *c, const char *mode, const char *named)
{
    json_object *tool;

    if (named && (c->caps & F_TOOL_NAMED)) {
        tool = json_object_new_object();
        aura_enc_add_str(tool, "name", named);
        return wrap("tool", tool);
    }
    if ((named || !strcmp(mode, "any")) && (c->caps & F_TOOL_ANY))
        return wrap("any", json_object_new_object());
    return NULL;
}

/* Returns whether a tool call is forced (toolChoice any/tool sent). */
static int enc_tools(bctx_t *c, json_object *out)
{
    const aura_request_t *r = c->req;
    size_t i, n = json_object_array_length(r->tools);
    json_object *allowed, *tools, *cfg, *choice;
    const char *mode, *named;
    apr_hash_t *set;

    read_choice(r->tool_choice, &mode, &named, &allowed);
    set = allowed ? aura_enc_name_set(c->p, allowed) : NULL;
    if (!strcmp(mode, "none") && !c->tool_blocks)
        return 0;               /* Converse has no "none": no tools */
    tools = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *flat = json_object_array_get_idx(r->tools, i);
        const char *name = aura_json_string(flat, "name");
        if ((set && !aura_enc_lookup(set, name))
            || (named && !(c->caps & F_TOOL_NAMED) && strcmp(name, named)))
            continue;
        json_object_array_add(tools, tool_spec(flat));
    }
    if (n == 0 && c->tool_blocks)
        declare_used(c, tools);
    if (json_object_array_length(tools) == 0) {
        json_object_put(tools);
        return 0;
    }
    cfg = wrap("tools", tools);
    choice = strcmp(mode, "none") ? choice_for(c, mode, named) : NULL;
    if (choice)
        json_object_object_add(cfg, "toolChoice", choice);
    json_object_object_add(out, "toolConfig", cfg);
    return choice != NULL;
}

/* ------------------------------------------------------------------ */
/* reasoning and inference parameters                                 */

static long effort_budget(const char *effort, long def)
{
    static const struct { const char *effort; long budget; } b[] = {
        {"minimal", 1024}, {"low", 2048}, {"medium", 8192},
        {"high", 24576}, {"xhigh", 32000}, {NULL, 0}
    };
    int i;

    for (i = 0; effort && b[i].effort; i++)
        if (!strcmp(b[i].effort, effort))
            return b[i].budget;
    return def > 0 ? def : 8192;
}

/* Anthropic refuses thinking when the last assistant turn called a tool
 * without a thinking block first (a call made by another provider, or
 * with thinking off): that turn is continued without thinking. */
static int last_turn_thinks(bctx_t *c)
{
    size_t i = json_object_array_length(c->messages);

    while (i-- > 0) {
        json_object *m = json_object_array_get_idx(c->messages, i);
        json_object *content = aura_json_get(m, "content");
        size_t k, n = json_object_array_length(content);
        if (strcmp(aura_json_string(m, "role"), "assistant"))
            continue;
        for (k = 0; k < n; k++)
            if (aura_json_get(json_object_array_get_idx(content, k),
                              "toolUse"))
                return aura_json_get(json_object_array_get_idx(content, 0),
                                     "reasoningContent") != NULL;
        return 1;
    }
    return 1;
}

static json_object *extra_fields(json_object *out)
{
    json_object *x = aura_json_get(out, "additionalModelRequestFields");

    if (!x) {
        x = json_object_new_object();
        json_object_object_add(out, "additionalModelRequestFields", x);
    }
    return x;
}

/* Anthropic extended thinking. budget_tokens must be >= 1024 and below
 * maxTokens; a forced tool choice is incompatible with it. */
static int enc_thinking(bctx_t *c, json_object *out, const char *effort,
                        int forced, long *max_tokens)
{
    long budget = effort_budget(effort, c->t->reasoning_budget);
    long max = *max_tokens;
    json_object *th;

    if (forced || !last_turn_thinks(c))
        return 0;
    if (max <= 0)
        max = c->t->max_output_default > budget ? c->t->max_output_default
                                                 : budget + 8192;
    if (budget >= max)
        budget = max / 2;
    if (budget < 1024)
        return 0;
    *max_tokens = max;
    th = json_object_new_object();
    aura_enc_add_str(th, "type", "enabled");
    json_object_object_add(th, "budget_tokens", json_object_new_int64(budget));
    json_object_object_add(extra_fields(out), "thinking", th);
    return 1;
}

/* Effort as the low/medium/high scale of Nova 2 and gpt-oss. */
static const char *three_levels(const char *effort)
{
    if (!effort || !strcmp(effort, "medium"))
        return "medium";
    if (!strcmp(effort, "minimal") || !strcmp(effort, "low"))
        return "low";
    return "high";
}

/* Returns whether Anthropic thinking is on (sampling is then limited). */
static int enc_reasoning_cfg(bctx_t *c, json_object *out, int forced,
                             long *max_tokens)
{
    const char *effort = aura_json_string(c->req->reasoning, "effort");
    json_object *rc;

    if (effort ? !strcmp(effort, "none") : c->t->reasoning_budget <= 0)
        return 0;
    if (c->caps & F_THINKING)
        return enc_thinking(c, out, effort, forced, max_tokens);
    if (c->caps & F_NOVA_EFFORT) {
        rc = json_object_new_object();
        aura_enc_add_str(rc, "type", "enabled");
        aura_enc_add_str(rc, "maxReasoningEffort", three_levels(effort));
        json_object_object_add(extra_fields(out), "reasoningConfig", rc);
    }
    else if (c->caps & F_OSS_EFFORT) {
        aura_enc_add_str(extra_fields(out), "reasoning_effort",
                         three_levels(effort));
    }
    return 0;
}

/* With thinking on, Anthropic accepts no temperature change and top_p
 * only from 0.95 up. */
static void enc_inference(bctx_t *c, json_object *out, long max_tokens,
                          int thinking)
{
    json_object *cfg = json_object_new_object();
    double top_p = c->req->top_p;

    if (max_tokens > 0)
        json_object_object_add(cfg, "maxTokens",
                               json_object_new_int64(max_tokens));
    if (!thinking)
        aura_enc_add_num(c->req, cfg, "temperature", NULL,
                         c->req->temperature);
    if (!thinking || (!isnan(top_p) && top_p >= 0.95))
        aura_enc_add_num(c->req, cfg, "top_p", "topP", top_p);
    if (json_object_object_length(cfg))
        json_object_object_add(out, "inferenceConfig", cfg);
    else
        json_object_put(cfg);
}

/* ------------------------------------------------------------------ */
/* the adapter                                                        */

static aura_error_t *check_request(apr_pool_t *p, const aura_request_t *req)
{
    const char *fmt = aura_json_string(aura_json_get(req->text, "format"),
                                       "type");
    aura_error_t *e = aura_enc_refuse_previous(p, req, "this provider");

    if (e)
        return e;
    if (fmt && strcmp(fmt, "text"))
        return aura_bad_request(p, "unsupported_parameter", "text.format",
                                "Unsupported parameter: 'text.format' of type "
                                "'%s'. Bedrock's Converse API has no "
                                "structured output mode; describe the format "
                                "in the instructions or use a tool.", fmt);
    return NULL;
}

static aura_error_t *bedrock_encode(apr_pool_t *p, const aura_request_t *req,
                                    const aura_target_t *t, const char **body,
                                    apr_size_t *len)
{
    bctx_t c;
    json_object *out;
    aura_error_t *e;
    long max_tokens = req->max_output_tokens != AURA_UNSET
                          ? req->max_output_tokens : 0;
    int forced, thinking;

    *body = NULL;
    if (len)
        *len = 0;
    if ((e = check_request(p, req)))
        return e;
    memset(&c, 0, sizeof(c));
    c.p = p;
    c.req = req;
    c.t = t;
    c.caps = model_caps(t->upstream_model);
    c.messages = aura_json_pool(p, json_object_new_array());
    c.system = aura_json_pool(p, json_object_new_array());
    c.used = aura_json_pool(p, json_object_new_object());
    out = aura_json_pool(p, json_object_new_object());
    if ((e = enc_messages(&c, out)))
        return e;
    forced = enc_tools(&c, out);
    thinking = enc_reasoning_cfg(&c, out, forced, &max_tokens);
    enc_inference(&c, out, max_tokens, thinking);
    *body = aura_json_str(p, out, len);
    return NULL;
}

/* host[:port] of a URL (the default port left out, as curl sends Host),
 * and *path the rest ("" when none). */
static const char *url_host(apr_pool_t *p, const char *url,
                            const char **path)
{
    const char *s = strstr(url, "://"), *end, *at;
    const char *dflt = strncasecmp(url, "https:", 6) ? ":80" : ":443";
    apr_size_t n, dn = strlen(dflt);

    s = s ? s + 3 : url;
    end = s + strcspn(s, "/?#");
    at = memchr(s, '@', (size_t)(end - s));
    if (at)                     /* user:password@ is not part of Host */
        s = at + 1;
    *path = end;
    n = (apr_size_t)(end - s);
    if (n > dn && !strncmp(end - dn, dflt, dn))
        n -= dn;
    return apr_pstrmemdup(p, s, n);
}

static aura_error_t *sign(apr_pool_t *p, const aura_target_t *t,
                          aura_wire_t *w)
{
    aura_sigv4_req_t r;
    aura_sigv4_out_t o;
    aura_error_t *e;
    const char *path;

    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.host = url_host(p, w->url, &path);
    r.path = path;
    r.body = w->body;
    r.len = w->len;
    r.service = "bedrock";
    r.region = t->region && *t->region ? t->region : "us-east-1";
    r.cred = t->aws;
    r.now = t->now ? t->now : apr_time_now();
    if ((e = aura_sigv4_sign(p, &r, &o)))
        return e;
    aura_wire_header(p, w, "Host", r.host);
    aura_wire_header(p, w, "X-Amz-Date", o.amz_date);
    if (o.token)
        aura_wire_header(p, w, "X-Amz-Security-Token", o.token);
    aura_wire_header(p, w, "Authorization", o.authorization);
    return NULL;
}

/* POST {base}/model/{modelId}/converse[-stream]; the model id is
 * percent-encoded whole (ids hold ':', ARNs '/' too). */
static aura_error_t *bedrock_request(apr_pool_t *p, const aura_target_t *t,
                                     int stream, aura_wire_t *w)
{
    const char *region = t->region && *t->region ? t->region : "us-east-1";
    const char *base = t->base_url && *t->base_url
        ? t->base_url
        : apr_psprintf(p, "https://bedrock-runtime.%s.amazonaws.com", region);
    const char *model = t->upstream_model ? t->upstream_model : "";

    w->url = apr_pstrcat(p, base, "/model/",
                         aura_sigv4_uri_encode(p, model, strlen(model), 0),
                         stream ? "/converse-stream" : "/converse", NULL);
    if (t->aws)
        return sign(p, t, w);
    if (t->key) {
        aura_wire_header(p, w, "Authorization",
                         apr_pstrcat(p, "Bearer ", t->key, NULL));
        return NULL;
    }
    return aura_error_make(p, 500, "server_error", "provider_misconfigured",
                           NULL, "The provider '%s' has neither AWS "
                           "credentials nor a Bedrock API key.", t->provider);
}

const aura_adapter_t aura_adapter_bedrock = {
    "bedrock", bedrock_encode, bedrock_request, aura_bedrock_decoder
};
