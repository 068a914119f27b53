/*
 * aura_front_messages_in_blocks.c - the Anthropic Messages front door, in:
 * the messages, their content blocks (text, image, document, tool_use,
 * tool_result, thinking) and system, into Open Responses items and
 * instructions. The rest of the request is aura_front_messages_in.c;
 * errors name fields the way Anthropic does, as there.
 */
#include <string.h>

#include "aura_front_messages.h"

#define MARK_SIG      "aura:anthropic:"
#define MARK_REDACTED "aura:anthropic-redacted:"
#define MARK_RS       "aura:rs:"

static int has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static aura_error_t *get_nonempty(apr_pool_t *p, json_object *o,
                                  const char *at, const char *key,
                                  const char **out)
{
    aura_error_t *e = aura_fm_get_str(p, o, at, key, 1, out);

    if (!e && !**out)
        e = aura_fm_e_value(p, aura_fm_at_key(p, at, key),
                            "must not be empty.");
    return e;
}

/* ================================================================== */
/* item builders                                                      */

static json_object *text_part(const char *type, const char *text)
{
    json_object *o = aura_fm_typed(type);
    ADD(o, "text", json_object_new_string(text));
    if (!strcmp(type, "output_text"))
        ADD(o, "annotations", json_object_new_array());
    return o;
}

static int assistant(const mctx_t *c)
{
    return !strcmp(c->role, "assistant");
}

/* Consecutive text, image and document blocks of one message stay one
 * message item; a tool block in between ends it, so the order holds. */
static void add_part(mctx_t *c, json_object *part)
{
    if (!c->cur) {
        c->cur = aura_fm_typed("message");
        ADD(c->cur, "role", json_object_new_string(c->role));
        ADD(c->cur, "content", json_object_new_array());
        json_object_array_add(c->req->input, c->cur);
    }
    json_object_array_add(aura_json_get(c->cur, "content"), part);
}

static void add_item(mctx_t *c, json_object *item)
{
    c->cur = NULL;
    json_object_array_add(c->req->input, item);
}

/* ================================================================== */
/* content blocks                                                     */

static const char *const image_types[] = {
    "image/jpeg", "image/png", "image/gif", "image/webp", NULL
};
static const char *const source_types[] = {
    "base64", "url", "text", "file", "content", NULL
};

static aura_error_t *get_url(apr_pool_t *p, json_object *src, const char *at,
                             const char **url)
{
    aura_error_t *e = get_nonempty(p, src, at, "url", url);

    if (!e && !has_prefix(*url, "https://") && !has_prefix(*url, "http://"))
        e = aura_fm_e_value(p, aura_fm_at_key(p, at, "url"),
                            "expected an http(s) URL.");
    return e;
}

/* A block's `source`, its type checked against what the block takes. */
static aura_error_t *get_source(apr_pool_t *p, json_object *b, const char *at,
                                const char *allowed, json_object **src,
                                const char **type)
{
    const char *sat = aura_fm_at_key(p, at, "source");
    aura_error_t *e;

    if ((e = aura_fm_get(p, b, at, "source", 1, json_type_object, src))
        || (e = aura_fm_get_enum(p, *src, sat, "type", 1, source_types, type)))
        return e;
    if (!strcmp(*type, "file"))
        return aura_fm_e_unsupported(p, aura_fm_at_key(p, sat, "type"),
                                     "'file' sources name uploads in "
                                     "Anthropic's Files API, which other "
                                     "providers cannot read; send the data "
                                     "as base64.");
    if (!strstr(allowed, *type))
        return aura_fm_e_value(p, aura_fm_at_key(p, sat, "type"),
                               "'%s' is not a source for this block; "
                               "expected %s.", *type, allowed);
    return NULL;
}

static aura_error_t *image_part(apr_pool_t *p, json_object *b, const char *at,
                                json_object **out)
{
    const char *type, *mt, *data, *url, *sat = aura_fm_at_key(p, at, "source");
    json_object *src;
    aura_error_t *e;

    if ((e = get_source(p, b, at, "'base64' or 'url'", &src, &type)))
        return e;
    if (!strcmp(type, "url")) {
        if ((e = get_url(p, src, sat, &url)))
            return e;
    }
    else if ((e = aura_fm_get_enum(p, src, sat, "media_type", 1, image_types,
                                   &mt))
             || (e = get_nonempty(p, src, sat, "data", &data))) {
        return e;
    }
    else {
        url = apr_pstrcat(p, "data:", mt, ";base64,", data, NULL);
    }
    *out = aura_fm_typed("input_image");
    ADD(*out, "image_url", json_object_new_string(url));
    return NULL;
}

/* PDFs become input_file parts; a plain-text document is its text. */
static aura_error_t *document_part(apr_pool_t *p, json_object *b,
                                   const char *at, json_object **out)
{
    static const char *const pdf[] = { "application/pdf", NULL };
    static const char *const plain[] = { "text/plain", NULL };
    const char *type, *mt, *data = NULL, *url = NULL, *title;
    const char *sat = aura_fm_at_key(p, at, "source");
    json_object *src;
    aura_error_t *e;

    if ((e = get_source(p, b, at, "'base64', 'url' or 'text'", &src, &type))
        || (e = aura_fm_get_str(p, b, at, "title", 0, &title)))
        return e;
    if (!strcmp(type, "text")) {
        if ((e = aura_fm_get_enum(p, src, sat, "media_type", 0, plain, &mt))
            || (e = aura_fm_get_str(p, src, sat, "data", 1, &data)))
            return e;
        *out = text_part("input_text", data);
        return NULL;
    }
    if (!strcmp(type, "url")) {
        if ((e = get_url(p, src, sat, &url)))
            return e;
    }
    else if ((e = aura_fm_get_enum(p, src, sat, "media_type", 1, pdf, &mt))
             || (e = get_nonempty(p, src, sat, "data", &data))) {
        return e;
    }
    *out = aura_fm_typed("input_file");
    ADD(*out, "filename", json_object_new_string(title ? title
                                                       : "document.pdf"));
    if (!strcmp(type, "url"))
        ADD(*out, "file_url", json_object_new_string(url));
    else
        ADD(*out, "file_data", json_object_new_string(apr_pstrcat(
                p, "data:application/pdf;base64,", data, NULL)));
    return NULL;
}

/* text, image or document: the parts a message (or a tool result) holds.
 * cache_control and citations are accepted and not passed on (see
 * aura_fm_parse_system for why). */
static aura_error_t *media_part(apr_pool_t *p, json_object *b,
                                const char *type, const char *at,
                                int out_text, json_object **out)
{
    const char *text;
    aura_error_t *e;

    if (!strcmp(type, "image"))
        return image_part(p, b, at, out);
    if (!strcmp(type, "document"))
        return document_part(p, b, at, out);
    if ((e = aura_fm_get_str(p, b, at, "text", 1, &text)))
        return e;
    *out = text_part(out_text ? "output_text" : "input_text", text);
    return NULL;
}

static aura_error_t *blk_media(mctx_t *c, json_object *b, const char *type,
                               const char *at)
{
    json_object *part = NULL;
    aura_error_t *e = media_part(c->p, b, type, at, assistant(c), &part);

    if (!e)
        add_part(c, part);
    return e;
}

static aura_error_t *result_parts(apr_pool_t *p, json_object *arr,
                                  const char *at, json_object *parts)
{
    static const char *const kinds[] = { "text", "image", "document", NULL };
    size_t i, n = json_object_array_length(arr);
    aura_error_t *e;

    for (i = 0; i < n; i++) {
        json_object *b = json_object_array_get_idx(arr, i), *part = NULL;
        const char *bat = aura_fm_at_idx(p, at, i), *type;

        if (!json_object_is_type(b, json_type_object))
            return aura_fm_e_type(p, bat, "an object", b);
        if ((e = aura_fm_get_enum(p, b, bat, "type", 1, kinds, &type))
            || (e = media_part(p, b, type, bat, 0, &part)))
            return e;
        json_object_array_add(parts, part);
    }
    return NULL;
}

/* A tool_result's content as a function_call_output's output: a string
 * stays one (so does a lone text block), anything else is parts. The
 * item model has no error flag: is_error is said in words, "Error: "
 * before the result, which every provider's model reads the same way. */
static aura_error_t *result_output(apr_pool_t *p, json_object *b,
                                   const char *at, int is_error,
                                   json_object **out)
{
    json_object *content = aura_json_get(b, "content"), *parts, *first;
    const char *cat = aura_fm_at_key(p, at, "content"), *s = NULL;
    aura_error_t *e;

    if (!content || json_object_is_type(content, json_type_string))
        s = content ? json_object_get_string(content) : "";
    else if (!json_object_is_type(content, json_type_array))
        return aura_fm_e_type(p, cat, "a string or an array", content);
    if (!s) {
        parts = aura_json_pool(p, json_object_new_array());
        if ((e = result_parts(p, content, cat, parts)))
            return e;
        first = json_object_array_get_idx(parts, 0);
        if (!first)
            s = "";
        else if (json_object_array_length(parts) == 1
                 && !strcmp(aura_json_string(first, "type"), "input_text"))
            s = aura_json_string(first, "text");
    }
    if (s) {
        *out = json_object_new_string(is_error ? apr_pstrcat(
                   p, "Error: ", s, NULL) : s);
        return NULL;
    }
    *out = json_object_new_array();
    if (is_error)
        json_object_array_add(*out, text_part("input_text", "Error:"));
    for (size_t i = 0; i < json_object_array_length(parts); i++)
        json_object_array_add(*out, json_object_get(
                                  json_object_array_get_idx(parts, i)));
    return NULL;
}

static aura_error_t *blk_tool_result(mctx_t *c, json_object *b,
                                     const char *type, const char *at)
{
    const char *id;
    json_object *is_error, *output = NULL, *item;
    aura_error_t *e;

    (void)type;
    if ((e = get_nonempty(c->p, b, at, "tool_use_id", &id))
        || (e = aura_fm_get(c->p, b, at, "is_error", 0, json_type_boolean,
                            &is_error))
        || (e = result_output(c->p, b, at, is_error &&
                              json_object_get_boolean(is_error), &output)))
        return e;
    item = aura_fm_typed("function_call_output");
    ADD(item, "call_id", json_object_new_string(id));
    ADD(item, "output", output);
    add_item(c, item);
    return NULL;
}

static aura_error_t *blk_tool_use(mctx_t *c, json_object *b,
                                  const char *type, const char *at)
{
    const char *id, *name;
    json_object *input, *item;
    aura_error_t *e;

    (void)type;
    if ((e = get_nonempty(c->p, b, at, "id", &id))
        || (e = aura_fm_get_name(c->p, b, at, "name", &name))
        || (e = aura_fm_get(c->p, b, at, "input", 1, json_type_object,
                            &input)))
        return e;
    item = aura_fm_typed("function_call");
    ADD(item, "call_id", json_object_new_string(id));
    ADD(item, "name", json_object_new_string(name));
    ADD(item, "arguments", json_object_new_string(
            aura_json_str(c->p, input, NULL)));
    add_item(c, item);
    return NULL;
}

/* A signature back into the state it came from (aura_front_messages_out.c
 * says why): "aura:rs:<id>:<state>" is another provider's, anything else
 * Anthropic's. OpenAI's own state (no "aura:" mark) wants its text as
 * summaries, the others as reasoning text, as their decoders wrote it. */
static json_object *reasoning_item(apr_pool_t *p, const char *text,
                                   const char *sig)
{
    json_object *item = aura_fm_typed("reasoning");
    json_object *parts = json_object_new_array();
    const char *enc = NULL, *colon;
    int summary = 0;

    if (has_prefix(sig, MARK_RS)
        && (colon = strchr(sig + strlen(MARK_RS), ':'))) {
        const char *id = apr_pstrmemdup(p, sig + strlen(MARK_RS),
                                        colon - sig - strlen(MARK_RS));
        if (*id)
            ADD(item, "id", json_object_new_string(id));
        enc = colon + 1;
        summary = !has_prefix(enc, "aura:");
    }
    else if (sig && *sig) {
        enc = apr_pstrcat(p, MARK_SIG, sig, NULL);
    }
    if (*text)
        json_object_array_add(parts, text_part(summary ? "summary_text"
                                               : "reasoning_text", text));
    ADD(item, "summary", summary ? parts : json_object_new_array());
    if (!summary)
        ADD(item, "content", parts);
    if (enc)
        ADD(item, "encrypted_content", json_object_new_string(enc));
    return item;
}

static aura_error_t *blk_thinking(mctx_t *c, json_object *b,
                                  const char *type, const char *at)
{
    const char *text, *sig, *data;
    aura_error_t *e;
    json_object *item;

    if (!strcmp(type, "redacted_thinking")) {
        if ((e = get_nonempty(c->p, b, at, "data", &data)))
            return e;
        item = aura_fm_typed("reasoning");
        ADD(item, "summary", json_object_new_array());
        ADD(item, "encrypted_content", json_object_new_string(
                apr_pstrcat(c->p, MARK_REDACTED, data, NULL)));
        add_item(c, item);
        return NULL;
    }
    if ((e = aura_fm_get_str(c->p, b, at, "thinking", 1, &text))
        || (e = aura_fm_get_str(c->p, b, at, "signature", 0, &sig)))
        return e;
    add_item(c, reasoning_item(c->p, text, sig));
    return NULL;
}

typedef aura_error_t *(*block_fn)(mctx_t *c, json_object *b,
                                  const char *type, const char *at);

#define R_USER   1
#define R_ASSIST 2

static const struct {
    const char *type;
    int roles;
    block_fn fn;
} block_kinds[] = {
    { "text",              R_USER | R_ASSIST, blk_media },
    { "image",             R_USER,            blk_media },
    { "document",          R_USER,            blk_media },
    { "tool_result",       R_USER,            blk_tool_result },
    { "tool_use",          R_ASSIST,          blk_tool_use },
    { "thinking",          R_ASSIST,          blk_thinking },
    { "redacted_thinking", R_ASSIST,          blk_thinking },
    { NULL, 0, NULL }
};

static aura_error_t *bad_block(mctx_t *c, const char *type, const char *at)
{
    const char *list = NULL;
    int i, r = assistant(c) ? R_ASSIST : R_USER;

    if (strstr(type, "server_tool_use") || strstr(type, "tool_result")
        || strstr(type, "mcp_tool") || !strcmp(type, "container_upload"))
        return aura_fm_e_unsupported(c->p, at, "'%s' blocks belong to tools "
                                     "that run at Anthropic, which this "
                                     "gateway does not offer (it routes to "
                                     "any provider).", type);
    for (i = 0; block_kinds[i].type; i++)
        if (block_kinds[i].roles & r)
            list = list ? apr_pstrcat(c->p, list, ", ", block_kinds[i].type,
                                      NULL) : block_kinds[i].type;
    return aura_fm_e_value(c->p, at, "'%s' is not a content block type in %s "
                           "message; expected one of: %s.", type,
                           assistant(c) ? "an assistant" : "a user", list);
}

static aura_error_t *parse_block(mctx_t *c, json_object *b, const char *at)
{
    const char *type;
    aura_error_t *e;
    int i, r = assistant(c) ? R_ASSIST : R_USER;

    if (!json_object_is_type(b, json_type_object))
        return aura_fm_e_type(c->p, at, "an object", b);
    if ((e = aura_fm_get_str(c->p, b, at, "type", 1, &type)))
        return e;
    for (i = 0; block_kinds[i].type; i++)
        if (!strcmp(block_kinds[i].type, type) && (block_kinds[i].roles & r))
            return block_kinds[i].fn(c, b, type, at);
    return bad_block(c, type, aura_fm_at_key(c->p, at, "type"));
}

/* ================================================================== */
/* messages and system                                                */

static aura_error_t *parse_message(mctx_t *c, json_object *m, const char *at)
{
    static const char *const roles[] = { "user", "assistant", NULL };
    json_object *content;
    aura_error_t *e;
    size_t i, n;

    if (!json_object_is_type(m, json_type_object))
        return aura_fm_e_type(c->p, at, "an object", m);
    if ((e = aura_fm_get_enum(c->p, m, at, "role", 1, roles, &c->role)))
        return e;
    c->cur = NULL;
    content = aura_json_get(m, "content");
    if (!content)
        return aura_fm_e_missing(c->p, aura_fm_at_key(c->p, at, "content"));
    if (json_object_is_type(content, json_type_string)) {
        add_part(c, text_part(assistant(c) ? "output_text" : "input_text",
                              json_object_get_string(content)));
        return NULL;
    }
    if (!json_object_is_type(content, json_type_array))
        return aura_fm_e_type(c->p, aura_fm_at_key(c->p, at, "content"),
                              "a string or an array", content);
    n = json_object_array_length(content);
    for (i = 0; i < n; i++)
        if ((e = parse_block(c, json_object_array_get_idx(content, i),
                             aura_fm_at_idx(c->p, aura_fm_at_key(c->p, at,
                                                                 "content"),
                                            i))))
            return e;
    return NULL;
}

/* Consecutive turns of one role are accepted, as Anthropic does (it
 * merges them); the provider adapters merge or keep them as their APIs
 * want. An assistant message last is a prefill. */
aura_error_t *aura_fm_parse_messages(mctx_t *c, json_object *v)
{
    size_t i, n;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_array))
        return aura_fm_e_type(c->p, "messages", "an array", v);
    if ((n = json_object_array_length(v)) == 0)
        return aura_fm_e_value(c->p, "messages", "at least one message is "
                               "required.");
    for (i = 0; i < n; i++)
        if ((e = parse_message(c, json_object_array_get_idx(v, i),
                               aura_fm_at_idx(c->p, "messages", i))))
            return e;
    return NULL;
}

/* system: a string, or text blocks joined by a blank line into the
 * instructions. cache_control on them (and on messages and tools) is
 * accepted and not passed on: the request model has no cache
 * breakpoints, most providers cache prompt prefixes by themselves, and
 * the Anthropic adapter sets none, so an Anthropic upstream serves such
 * a request uncached rather than refusing it. */
aura_error_t *aura_fm_parse_system(mctx_t *c, json_object *v)
{
    const char *s = NULL, *text;
    apr_array_header_t *parts;
    size_t i, n;
    aura_error_t *e;

    if (json_object_is_type(v, json_type_string)) {
        s = json_object_get_string(v);
    }
    else if (!json_object_is_type(v, json_type_array)) {
        return aura_fm_e_type(c->p, "system", "a string or an array", v);
    }
    else {
        n = json_object_array_length(v);
        parts = apr_array_make(c->p, (int)n + 1, sizeof(const char *));
        for (i = 0; i < n; i++) {
            json_object *b = json_object_array_get_idx(v, i);
            const char *at = aura_fm_at_idx(c->p, "system", i), *type;
            static const char *const only_text[] = { "text", NULL };

            if (!json_object_is_type(b, json_type_object))
                return aura_fm_e_type(c->p, at, "an object", b);
            if ((e = aura_fm_get_enum(c->p, b, at, "type", 1, only_text,
                                      &type))
                || (e = aura_fm_get_str(c->p, b, at, "text", 1, &text)))
                return e;
            APR_ARRAY_PUSH(parts, const char *) = text;
        }
        s = aura_strjoin(c->p, parts, "\n\n");
    }
    c->req->instructions = s && *s ? s : NULL;
    return NULL;
}
