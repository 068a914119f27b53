/*
 * aura_front_chat_in_errors.c - the Chat Completions front door, in:
 * errors the Responses validator found, named in the client's terms. A
 * chat body is translated into a Responses body first
 * (aura_front_chat_in.c), so an error names a Responses path
 * ("input[3].call_id"); every generated item remembers the chat message
 * it came from, and this maps the path back ("messages[1].tool_calls[0].
 * id"), in `param` and in the message.
 */
#include <stdlib.h>
#include <string.h>

#include "aura_front_chat.h"


typedef struct { const char *from, *to; } rename_t;

/* `s` with a leading `from` (ending at a path boundary) replaced. */
static const char *rename1(apr_pool_t *p, const char *s, const rename_t *r)
{
    for (; r->from; r++) {
        size_t n = strlen(r->from);

        if (!strncmp(s, r->from, n) && strchr(".[", s[n]) && s[n] != 0)
            return apr_pstrcat(p, r->to, s + n, NULL);
        if (!strcmp(s, r->from))
            return r->to;
    }
    return s;
}

static const rename_t call_names[] = {
    { ".call_id", ".id" }, { ".name", ".function.name" },
    { ".arguments", ".function.arguments" }, { NULL, NULL }
};
static const rename_t output_names[] = {
    { ".call_id", ".tool_call_id" }, { ".output", ".content" },
    { NULL, NULL }
};
static const rename_t fn_output_names[] = {
    { ".call_id", ".name" }, { ".output", ".content" }, { NULL, NULL }
};
static const rename_t part_names[] = {
    { ".image_url", ".image_url.url" }, { ".detail", ".image_url.detail" },
    { ".file_data", ".file.file_data" }, { ".file_id", ".file.file_id" },
    { ".filename", ".file.filename" }, { ".file_url", ".file.file_url" },
    { NULL, NULL }
};

/* ".content[3].image_url" → ".content[3].image_url.url" */
static const char *map_part(apr_pool_t *p, const char *rest)
{
    const char *end;

    if (strncmp(rest, ".content[", 9) || !(end = strchr(rest, ']')))
        return rest;
    end++;
    return apr_pstrcat(p, apr_pstrmemdup(p, rest, (apr_size_t)(end - rest)),
                       rename1(p, end, part_names), NULL);
}

static const char *map_item(cctx_t *c, const char *param)
{
    static const rename_t *const by_kind[] = {
        NULL, call_names, NULL, output_names, fn_output_names
    };
    char *end;
    long i = strtol(param + 6, &end, 10);
    const origin_t *o;
    const char *rest;

    if (*end != ']' || i < 0 || i >= c->origin->nelts)
        return "messages";
    o = &APR_ARRAY_IDX(c->origin, i, origin_t);
    rest = end + 1;
    if (by_kind[o->kind])
        rest = rename1(c->p, rest, by_kind[o->kind]);
    return apr_pstrcat(c->p, o->path, map_part(c->p, rest), NULL);
}

static const rename_t top_names[] = {
    { "text.format.type", "response_format.type" },
    { "text.format.name", "response_format.json_schema.name" },
    { "text.format.schema", "response_format.json_schema.schema" },
    { "text.format.description", "response_format.json_schema.description" },
    { "text.format.strict", "response_format.json_schema.strict" },
    { "text.format", "response_format" },
    { "text.verbosity", "verbosity" }, { "text", "response_format" },
    { "reasoning.effort", "reasoning_effort" },
    { "reasoning", "reasoning_effort" },
    { "tool_choice.mode", "tool_choice.allowed_tools.mode" },
    { "tool_choice.tools", "tool_choice.allowed_tools.tools" },
    { NULL, NULL }
};

static const char *map_param(cctx_t *c, const char *param)
{
    const char *s;
    const char *at = "tool_choice.allowed_tools.tools[";

    if (!strncmp(param, "input[", 6))
        return map_item(c, param);
    if (!strcmp(param, "safety_identifier")
        && !aura_json_get(c->chat, "safety_identifier"))
        return "user";
    s = rename1(c->p, param, top_names);
    /* allowed tools are {"type","function":{"name"}} in Chat */
    if (!strncmp(s, at, strlen(at)) && strchr(s, ']')
        && !strcmp(strchr(s, ']'), "].name"))
        s = apr_pstrcat(c->p, apr_pstrndup(c->p, s, (apr_size_t)(
                            strchr(s, ']') - s)), "].function.name", NULL);
    return s;
}

/* Every occurrence of `from` in `s` replaced by `to`. */
static const char *replace_all(apr_pool_t *p, const char *s,
                               const char *from, const char *to)
{
    const char *out = "", *hit;
    size_t n = strlen(from);

    if (!n)
        return s;
    while ((hit = strstr(s, from))) {
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)(hit - s)),
                          to, NULL);
        s = hit + n;
    }
    return apr_pstrcat(p, out, s, NULL);
}

aura_error_t *aura_fc_map_error(cctx_t *c, aura_error_t *e)
{
    const char *param;

    if (!e->param)
        return e;
    param = map_param(c, e->param);
    if (strcmp(param, e->param)) {
        e->message = replace_all(c->p, e->message,
                                 apr_pstrcat(c->p, "'", e->param, "'", NULL),
                                 apr_pstrcat(c->p, "'", param, "'", NULL));
        e->param = param;
    }
    return e;
}
