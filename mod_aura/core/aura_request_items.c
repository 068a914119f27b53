/*
 * aura_request_items.c - validate and normalize the `input` items of a
 * /v1/responses body (messages, function calls and outputs, reasoning,
 * item references, compaction) and the content parts inside them.
 *
 * Items and parts are checked per kind, table driven; unknown keys inside
 * them are kept (see aura_request.c). A message's string content becomes
 * one text part, so encoders read one shape.
 */
#include <string.h>
#include <strings.h>

#include "aura_request.h"
#include "aura_request_int.h"

/* The spec caps call_id at 64 characters, but ids minted by other
 * providers (and by gateways in front of them) can be longer, and
 * refusing a conversation the client got from us would be worse than
 * passing a long id on. 256 still bounds the field. */
#define AURA_CALL_ID_MAX 256

/* ------------------------------------------------------------------ */
/* small helpers                                                      */

static int has_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static json_object *shallow_copy(json_object *o)
{
    json_object *c = json_object_new_object();
    json_object_object_foreach(o, k, v)
        json_object_object_add(c, k, json_object_get(v));
    return c;
}

static aura_error_t *get_call_id(apr_pool_t *p, json_object *o,
                                 const char *at)
{
    const char *id;
    aura_error_t *e = aura_rq_get_str(p, o, at, "call_id", 1, &id);
    apr_size_t n;

    if (e)
        return e;
    n = aura_rq_utf8_len(id);
    if (n < 1 || n > AURA_CALL_ID_MAX)
        return aura_rq_e_value(p, aura_rq_path(p, at, "call_id"),
                               "Invalid '%s': must be 1 to %d characters "
                               "long.", aura_rq_path(p, at, "call_id"),
                               AURA_CALL_ID_MAX);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* content parts                                                      */

#define R_USER   0x01
#define R_SYSTEM 0x02           /* system and developer */
#define R_ASSIST 0x04
#define R_TOOL   0x08           /* function_call_output.output parts */

static const char *const detail_set[] = { "low", "high", "auto", NULL };

static int valid_image_url(const char *u)
{
    if (has_prefix_ci(u, "https://") || has_prefix_ci(u, "http://"))
        return u[strcspn(u, ":") + 3] != '\0';
    return has_prefix_ci(u, "data:image/") && strstr(u, ";base64,") != NULL;
}

static aura_error_t *part_input_image(apr_pool_t *p, json_object *part,
                                      const char *at)
{
    const char *url, *file_id, *detail;
    aura_error_t *e;

    if ((e = aura_rq_get_str(p, part, at, "image_url", 0, &url))
        || (e = aura_rq_get_str(p, part, at, "file_id", 0, &file_id))
        || (e = aura_rq_get_enum(p, part, at, "detail", 0, detail_set,
                                 &detail)))
        return e;
    if (!url && !file_id)
        return aura_rq_e_missing(p, aura_rq_path(p, at, "image_url"));
    if (url && !valid_image_url(url))
        return aura_rq_e_value(p, aura_rq_path(p, at, "image_url"),
                               "Invalid '%s': expected an http(s) URL or a "
                               "data:image/...;base64,... URL.",
                               aura_rq_path(p, at, "image_url"));
    return NULL;
}

static aura_error_t *part_input_file(apr_pool_t *p, json_object *part,
                                     const char *at)
{
    const char *data, *url, *file_id, *name;
    aura_error_t *e;

    if ((e = aura_rq_get_str(p, part, at, "file_data", 0, &data))
        || (e = aura_rq_get_str(p, part, at, "file_url", 0, &url))
        || (e = aura_rq_get_str(p, part, at, "file_id", 0, &file_id))
        || (e = aura_rq_get_str(p, part, at, "filename", 0, &name)))
        return e;
    if (!data && !url && !file_id)
        return aura_rq_e_missing(p, aura_rq_path(p, at, "file_data"));
    if (data && !has_prefix_ci(data, "data:"))
        return aura_rq_e_value(p, aura_rq_path(p, at, "file_data"),
                               "Invalid '%s': expected a data: URL "
                               "(data:<mime>;base64,...).",
                               aura_rq_path(p, at, "file_data"));
    if (url && !has_prefix_ci(url, "https://")
        && !has_prefix_ci(url, "http://"))
        return aura_rq_e_value(p, aura_rq_path(p, at, "file_url"),
                               "Invalid '%s': expected an http(s) URL.",
                               aura_rq_path(p, at, "file_url"));
    return NULL;
}

typedef struct part_kind {
    const char *type;
    unsigned roles;
    const char *text_key;       /* a required string, or NULL */
    aura_error_t *(*check)(apr_pool_t *p, json_object *part, const char *at);
} part_kind_t;

static const part_kind_t part_kinds[] = {
    { "input_text",  R_USER | R_SYSTEM | R_TOOL, "text", NULL },
    { "input_image", R_USER | R_TOOL,            NULL, part_input_image },
    { "input_file",  R_USER | R_TOOL,            NULL, part_input_file },
    { "output_text", R_ASSIST,                   "text", NULL },
    { "refusal",     R_ASSIST,                   "refusal", NULL },
    { NULL, 0, NULL, NULL }
};

static const char *allowed_parts(apr_pool_t *p, unsigned roles)
{
    const char *s = NULL;
    const part_kind_t *k;

    for (k = part_kinds; k->type; k++)
        if (k->roles & roles)
            s = s ? apr_pstrcat(p, s, ", ", k->type, NULL) : k->type;
    return s;
}

static aura_error_t *check_part(apr_pool_t *p, json_object *part,
                                const char *at, unsigned roles,
                                const char *where)
{
    const part_kind_t *k;
    const char *type;
    aura_error_t *e;

    if (!json_object_is_type(part, json_type_object))
        return aura_rq_e_type(p, at, "an object", part);
    if ((e = aura_rq_get_str(p, part, at, "type", 1, &type)))
        return e;
    for (k = part_kinds; k->type; k++)
        if (strcmp(k->type, type) == 0)
            break;
    if (!k->type || !(k->roles & roles))
        return aura_rq_e_value(p, aura_rq_path(p, at, "type"),
                               "Invalid value for '%s': '%s' is not a valid "
                               "content part type in %s; expected one of: "
                               "%s.",
                               aura_rq_path(p, at, "type"), type, where,
                               allowed_parts(p, roles));
    if (k->text_key
        && (e = aura_rq_get_str(p, part, at, k->text_key, 1, &type)))
        return e;
    return k->check ? k->check(p, part, at) : NULL;
}

static aura_error_t *check_parts(apr_pool_t *p, json_object *arr,
                                 const char *at, unsigned roles,
                                 const char *where)
{
    size_t i, n = json_object_array_length(arr);
    aura_error_t *e;

    for (i = 0; i < n; i++)
        if ((e = check_part(p, json_object_array_get_idx(arr, i),
                            aura_rq_path_idx(p, at, i), roles, where)))
            return e;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* input items                                                        */

typedef aura_error_t *(*item_fn)(pctx_t *c, json_object *item,
                                 const char *at, json_object **out);

static json_object *text_parts(const char *text, int assistant)
{
    json_object *arr = json_object_new_array();
    json_object *part = json_object_new_object();

    json_object_object_add(part, "type", json_object_new_string(
                               assistant ? "output_text" : "input_text"));
    json_object_object_add(part, "text", json_object_new_string(text));
    if (assistant)
        json_object_object_add(part, "annotations", json_object_new_array());
    json_object_array_add(arr, part);
    return arr;
}

static json_object *user_message(const char *text)
{
    json_object *m = json_object_new_object();

    json_object_object_add(m, "type", json_object_new_string("message"));
    json_object_object_add(m, "role", json_object_new_string("user"));
    json_object_object_add(m, "content", text_parts(text, 0));
    return m;
}

static const char *const role_set[] = {
    "user", "system", "developer", "assistant", NULL
};

static unsigned role_mask(const char *role)
{
    if (strcmp(role, "user") == 0)
        return R_USER;
    if (strcmp(role, "assistant") == 0)
        return R_ASSIST;
    return R_SYSTEM;
}

static aura_error_t *item_message(pctx_t *c, json_object *item,
                                  const char *at, json_object **out)
{
    const char *role;
    json_object *content = aura_json_get(item, "content");
    aura_error_t *e;

    if ((e = aura_rq_get_enum(c->p, item, at, "role", 1, role_set, &role)))
        return e;
    if (!content)
        return aura_rq_e_missing(c->p, aura_rq_path(c->p, at, "content"));
    if (json_object_is_type(content, json_type_array)) {
        if ((e = check_parts(c->p, content, aura_rq_path(c->p, at, "content"),
                             role_mask(role),
                             apr_psprintf(c->p, "%s %s message",
                                          *role == 'a' ? "an" : "a",
                                          role))))
            return e;
        if (aura_json_string(item, "type")) {
            *out = json_object_get(item);
            return NULL;
        }
        *out = shallow_copy(item);
    }
    else if (json_object_is_type(content, json_type_string)) {
        *out = shallow_copy(item);
        json_object_object_add(*out, "content", text_parts(
            json_object_get_string(content), role_mask(role) == R_ASSIST));
    }
    else {
        return aura_rq_e_type(c->p, aura_rq_path(c->p, at, "content"),
                              "a string or an array", content);
    }
    json_object_object_add(*out, "type", json_object_new_string("message"));
    return NULL;
}

static aura_error_t *item_function_call(pctx_t *c, json_object *item,
                                        const char *at, json_object **out)
{
    const char *s;
    aura_error_t *e;

    if ((e = get_call_id(c->p, item, at))
        || (e = aura_rq_get_name(c->p, item, at, "name", &s))
        || (e = aura_rq_get_str(c->p, item, at, "arguments", 1, &s)))
        return e;
    *out = json_object_get(item);
    return NULL;
}

static aura_error_t *item_function_output(pctx_t *c, json_object *item,
                                          const char *at, json_object **out)
{
    json_object *output = aura_json_get(item, "output");
    aura_error_t *e;

    if ((e = get_call_id(c->p, item, at)))
        return e;
    if (!output)
        return aura_rq_e_missing(c->p, aura_rq_path(c->p, at, "output"));
    if (json_object_is_type(output, json_type_array)) {
        if ((e = check_parts(c->p, output, aura_rq_path(c->p, at, "output"),
                             R_TOOL, "a function_call_output's output")))
            return e;
    }
    else if (!json_object_is_type(output, json_type_string)) {
        return aura_rq_e_type(c->p, aura_rq_path(c->p, at, "output"),
                              "a string or an array", output);
    }
    *out = json_object_get(item);
    return NULL;
}

static aura_error_t *check_summary(apr_pool_t *p, json_object *summary,
                                   const char *at)
{
    size_t i, n = json_object_array_length(summary);
    const char *s;
    aura_error_t *e;

    for (i = 0; i < n; i++) {
        json_object *part = json_object_array_get_idx(summary, i);
        const char *pat = aura_rq_path_idx(p, at, i);

        if (!json_object_is_type(part, json_type_object))
            return aura_rq_e_type(p, pat, "an object", part);
        if ((e = aura_rq_get_str(p, part, pat, "text", 1, &s)))
            return e;
    }
    return NULL;
}

static aura_error_t *item_reasoning(pctx_t *c, json_object *item,
                                    const char *at, json_object **out)
{
    json_object *summary, *content = aura_json_get(item, "content");
    const char *s;
    aura_error_t *e;

    /* summary is required by the spec, but some clients omit it when
     * empty; treat absent as []. */
    if ((e = aura_rq_get_typed(c->p, item, at, "summary", 0, json_type_array,
                               "an array", &summary))
        || (e = aura_rq_get_str(c->p, item, at, "encrypted_content", 0, &s)))
        return e;
    if (summary && (e = check_summary(c->p, summary,
                                      aura_rq_path(c->p, at, "summary"))))
        return e;
    /* The spec says content is null, but OpenAI returns reasoning_text
     * arrays that clients echo back; keep them. */
    if (content && !json_object_is_type(content, json_type_array))
        return aura_rq_e_type(c->p, aura_rq_path(c->p, at, "content"),
                              "an array or null", content);
    if (summary) {
        *out = json_object_get(item);
        return NULL;
    }
    *out = shallow_copy(item);
    json_object_object_add(*out, "summary", json_object_new_array());
    return NULL;
}

/* The type may be absent on a reference: always write it out. */
static aura_error_t *item_reference(pctx_t *c, json_object *item,
                                    const char *at, json_object **out)
{
    const char *id;
    aura_error_t *e = aura_rq_get_str(c->p, item, at, "id", 1, &id);

    if (!e) {
        *out = shallow_copy(item);
        json_object_object_add(*out, "type",
                               json_object_new_string("item_reference"));
    }
    return e;
}

static aura_error_t *item_compaction(pctx_t *c, json_object *item,
                                     const char *at, json_object **out)
{
    const char *s;
    aura_error_t *e = aura_rq_get_str(c->p, item, at, "encrypted_content", 1,
                                      &s);

    *out = e ? NULL : json_object_get(item);
    return e;
}

static const struct {
    const char *type;
    item_fn fn;
} item_kinds[] = {
    { "message",              item_message },
    { "function_call",        item_function_call },
    { "function_call_output", item_function_output },
    { "reasoning",            item_reasoning },
    { "item_reference",       item_reference },
    { "compaction",           item_compaction },
    { NULL, NULL }
};

static aura_error_t *parse_item(pctx_t *c, json_object *item, size_t i,
                                json_object **out)
{
    const char *at = aura_rq_path_idx(c->p, "input", i);
    const char *type;
    aura_error_t *e;
    int k;

    if (!json_object_is_type(item, json_type_object))
        return aura_rq_e_type(c->p, at, "an object", item);
    if ((e = aura_rq_get_str(c->p, item, at, "type", 0, &type)))
        return e;
    if (!type) {
        /* The spec lets a message omit type; an item_reference too. */
        if (aura_json_get(item, "role"))
            type = "message";
        else if (aura_json_get(item, "id"))
            type = "item_reference";
        else
            return aura_rq_e_missing(c->p, aura_rq_path(c->p, at, "type"));
    }
    for (k = 0; item_kinds[k].type; k++)
        if (strcmp(item_kinds[k].type, type) == 0)
            return item_kinds[k].fn(c, item, at, out);
    return aura_rq_e_value(c->p, aura_rq_path(c->p, at, "type"),
                           "Invalid value for '%s': '%s' is not a supported "
                           "item type; expected one of: message, "
                           "function_call, function_call_output, reasoning, "
                           "item_reference, compaction.",
                           aura_rq_path(c->p, at, "type"), type);
}

aura_error_t *aura_rq_parse_input(pctx_t *c, json_object *v)
{
    json_object *input = c->req->input;
    size_t i, n;
    aura_error_t *e;

    if (json_object_is_type(v, json_type_string)) {
        json_object_array_add(input, user_message(json_object_get_string(v)));
        return NULL;
    }
    if (!json_object_is_type(v, json_type_array))
        return aura_rq_e_type(c->p, "input", "a string or an array", v);
    n = json_object_array_length(v);
    for (i = 0; i < n; i++) {
        json_object *norm = NULL;

        if ((e = parse_item(c, json_object_array_get_idx(v, i), i, &norm)))
            return e;
        json_object_array_add(input, norm);
    }
    return NULL;
}
