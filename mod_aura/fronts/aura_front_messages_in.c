/*
 * aura_front_messages_in.c - the Anthropic Messages front door, in:
 * a Messages body (or a count_tokens body) into the one request model
 * (Open Responses items): the top-level fields, tools, and the entry
 * point, with the error makers and typed getters. Content blocks,
 * messages and system are in aura_front_messages_in_blocks.c; the encoders
 * and the front door itself in aura_front_messages_out.c. Each field's
 * mapping, and why, is at its parser.
 *
 * Errors name the field the way Anthropic does ("messages.1.content.0.
 * source: Field required."): the path leads the message and is the
 * error's `param` (for the log). Unknown top-level keys are refused, as
 * Anthropic refuses them; keys Anthropic knows but this gateway cannot
 * serve are refused with the reason, or accepted and documented as
 * ignored.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_lib.h>

#include "aura_front_messages.h"

#define MODEL_MAX     256
/* Open Responses' smallest max_output_tokens (and OpenAI's). */
#define MIN_OUTPUT    16

/* ================================================================== */
/* errors and typed getters                                           */

static const char *want_of(json_type t)
{
    return t == json_type_string ? "a string"
         : t == json_type_object ? "an object"
         : t == json_type_array ? "an array"
         : t == json_type_boolean ? "a boolean" : "a number";
}

aura_error_t *aura_fm_e_missing(apr_pool_t *p, const char *at)
{
    return aura_bad_request(p, "missing_required_parameter", at,
                            "%s: Field required.", at);
}

aura_error_t *aura_fm_e_type(apr_pool_t *p, const char *at, const char *want,
                             json_object *got)
{
    return aura_bad_request(p, "invalid_type", at,
                            "%s: expected %s, got %s.", at, want,
                            aura_json_type_name(got));
}

/* "<path>: <text>" with an error code. */
aura_error_t *aura_fm_e_fmt(apr_pool_t *p, const char *code, const char *at,
                            const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return aura_bad_request(p, code, at, "%s: %s", at, msg);
}

/* "at.key" and "at.i", Anthropic's path notation. */
const char *aura_fm_at_key(apr_pool_t *p, const char *at, const char *key)
{
    return at ? apr_pstrcat(p, at, ".", key, NULL) : key;
}

const char *aura_fm_at_idx(apr_pool_t *p, const char *at, size_t i)
{
    return apr_psprintf(p, "%s.%" APR_SIZE_T_FMT, at, i);
}

/* o[key], absent and null alike: an error when required. */
aura_error_t *aura_fm_get(apr_pool_t *p, json_object *o, const char *at,
                          const char *key, int required, json_type type,
                          json_object **out)
{
    json_object *v = aura_json_get(o, key);

    *out = NULL;
    if (!v)
        return required ? aura_fm_e_missing(p, aura_fm_at_key(p, at, key))
                        : NULL;
    if (!json_object_is_type(v, type))
        return aura_fm_e_type(p, aura_fm_at_key(p, at, key), want_of(type),
                              v);
    *out = v;
    return NULL;
}

aura_error_t *aura_fm_get_str(apr_pool_t *p, json_object *o, const char *at,
                              const char *key, int required, const char **out)
{
    json_object *v;
    aura_error_t *e = aura_fm_get(p, o, at, key, required, json_type_string,
                                  &v);

    *out = v ? json_object_get_string(v) : NULL;
    return e;
}


aura_error_t *aura_fm_get_enum(apr_pool_t *p, json_object *o, const char *at,
                               const char *key, int required,
                               const char *const *set, const char **out)
{
    aura_error_t *e = aura_fm_get_str(p, o, at, key, required, out);
    const char *list = NULL;
    int i;

    if (e || !*out)
        return e;
    for (i = 0; set[i]; i++) {
        if (!strcmp(set[i], *out))
            return NULL;
        list = list ? apr_pstrcat(p, list, ", '", set[i], "'", NULL)
                    : apr_pstrcat(p, "'", set[i], "'", NULL);
    }
    return aura_fm_e_value(p, aura_fm_at_key(p, at, key),
                           "'%s' is not one of %s.", *out, list);
}

static aura_error_t *get_num(apr_pool_t *p, json_object *o, const char *key,
                             double lo, double hi, double *out)
{
    json_object *v = aura_json_get(o, key);
    double d;

    if (!v)
        return NULL;
    if (!json_object_is_type(v, json_type_int)
        && !json_object_is_type(v, json_type_double))
        return aura_fm_e_type(p, key, "a number", v);
    d = json_object_get_double(v);
    if (!isfinite(d) || d < lo || d > hi)
        return aura_fm_e_value(p, key, "must be between %g and %g, got %g.",
                               lo, hi, d);
    *out = d;
    return NULL;
}

/* An integer >= lo (16.0 is one, 16.5 is not). *out untouched if absent. */
static aura_error_t *get_int(apr_pool_t *p, json_object *o, const char *at,
                             const char *key, int required, long lo,
                             long *out)
{
    json_object *v = aura_json_get(o, key);
    const char *path = aura_fm_at_key(p, at, key);
    double d;

    if (!v)
        return required ? aura_fm_e_missing(p, path) : NULL;
    if (json_object_is_type(v, json_type_int))
        d = (double)json_object_get_int64(v);
    else if (!json_object_is_type(v, json_type_double)
             || !isfinite(d = json_object_get_double(v)) || d != floor(d))
        return aura_fm_e_type(p, path, "an integer", v);
    if (d < (double)lo || d > 1e15)
        return aura_fm_e_value(p, path,
                               "must be an integer >= %ld, got %.0f.", lo, d);
    *out = (long)d;
    return NULL;
}

/* ^[a-zA-Z0-9_-]{1,64}$, Anthropic's (and OpenAI's) tool name rule. */
aura_error_t *aura_fm_get_name(apr_pool_t *p, json_object *o, const char *at,
                               const char *key, const char **out)
{
    aura_error_t *e = aura_fm_get_str(p, o, at, key, 1, out);
    const char *s;

    if (e)
        return e;
    for (s = *out; *s; s++)
        if (!apr_isalnum(*s) && *s != '_' && *s != '-')
            break;
    if (*s || s == *out || s - *out > 64)
        return aura_fm_e_value(p, aura_fm_at_key(p, at, key),
                               "'%s' must be 1 to 64 characters from a-z, "
                               "A-Z, 0-9, '_' and '-'.", *out);
    return NULL;
}

/* ================================================================== */
/* item builders                                                      */

json_object *aura_fm_typed(const char *type)
{
    json_object *o = json_object_new_object();
    ADD(o, "type", json_object_new_string(type));
    return o;
}

/* ================================================================== */
/* tools                                                              */

static aura_error_t *parse_tool(mctx_t *c, json_object *t, const char *at,
                                json_object **out)
{
    const char *type, *name, *desc;
    json_object *schema, *strict;
    aura_error_t *e;

    if (!json_object_is_type(t, json_type_object))
        return aura_fm_e_type(c->p, at, "an object", t);
    if ((e = aura_fm_get_str(c->p, t, at, "type", 0, &type)))
        return e;
    if (type && strcmp(type, "custom"))
        return aura_fm_e_unsupported(c->p, aura_fm_at_key(c->p, at, "type"),
                                     "'%s' is one of Anthropic's built-in "
                                     "tools, whose schema and behaviour only "
                                     "Claude knows; this gateway routes to "
                                     "any provider and takes custom tools "
                                     "only (name, description, "
                                     "input_schema).", type);
    if ((e = aura_fm_get_name(c->p, t, at, "name", &name))
        || (e = aura_fm_get_str(c->p, t, at, "description", 0, &desc))
        || (e = aura_fm_get(c->p, t, at, "input_schema", 1, json_type_object,
                            &schema))
        || (e = aura_fm_get(c->p, t, at, "strict", 0, json_type_boolean,
                            &strict)))
        return e;
    if (apr_hash_get(c->tools, name, APR_HASH_KEY_STRING))
        return aura_fm_e_value(c->p, aura_fm_at_key(c->p, at, "name"),
                               "tool names must be unique; '%s' is declared "
                               "twice.", name);
    apr_hash_set(c->tools, name, APR_HASH_KEY_STRING, "");
    *out = aura_fm_typed("function");
    ADD(*out, "name", json_object_new_string(name));
    ADD(*out, "description", desc ? json_object_new_string(desc) : NULL);
    ADD(*out, "parameters", json_object_get(schema));
    ADD(*out, "strict", json_object_get(strict));
    return NULL;
}

static aura_error_t *parse_tools(mctx_t *c, json_object *v)
{
    size_t i, n;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_array))
        return aura_fm_e_type(c->p, "tools", "an array", v);
    n = json_object_array_length(v);
    for (i = 0; i < n; i++) {
        json_object *tool = NULL;

        if ((e = parse_tool(c, json_object_array_get_idx(v, i),
                            aura_fm_at_idx(c->p, "tools", i), &tool)))
            return e;
        json_object_array_add(c->req->tools, tool);
    }
    return NULL;
}

/* auto / any / tool / none → "auto" / "required" / function / "none". */
static aura_error_t *parse_tool_choice(mctx_t *c, json_object *v)
{
    static const char *const kinds[] = { "auto", "any", "tool", "none", NULL };
    const char *type, *name;
    json_object *dp, *choice;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_object))
        return aura_fm_e_type(c->p, "tool_choice", "an object", v);
    if ((e = aura_fm_get_enum(c->p, v, "tool_choice", "type", 1, kinds, &type))
        || (e = aura_fm_get(c->p, v, "tool_choice",
                            "disable_parallel_tool_use", 0, json_type_boolean,
                            &dp)))
        return e;
    if ((!strcmp(type, "any") || !strcmp(type, "tool"))
        && json_object_array_length(c->req->tools) == 0)
        return aura_fm_e_value(c->p, "tool_choice.type", "'%s' needs at "
                               "least one tool in 'tools'.", type);
    if (!strcmp(type, "tool")) {
        if ((e = aura_fm_get_str(c->p, v, "tool_choice", "name", 1, &name)))
            return e;
        if (!apr_hash_get(c->tools, name, APR_HASH_KEY_STRING))
            return aura_fm_e_value(c->p, "tool_choice.name", "no tool named "
                                   "'%s' in 'tools'.", name);
        choice = aura_fm_typed("function");
        ADD(choice, "name", json_object_new_string(name));
    }
    else {
        choice = json_object_new_string(!strcmp(type, "any") ? "required"
                                                             : type);
    }
    c->req->tool_choice = aura_json_pool(c->p, choice);
    if (dp && json_object_get_boolean(dp))
        c->req->parallel_tool_calls = 0;
    return NULL;
}

/* ================================================================== */
/* the other fields                                                   */

/* Anthropic counts thinking in tokens, the request model in effort
 * levels: up to 2048 low, up to 8192 medium, above high. The adapters
 * turn the level back into their own budgets. */
static const char *budget_effort(long budget)
{
    return budget <= 2048 ? "low" : budget <= 8192 ? "medium" : "high";
}

static aura_error_t *parse_thinking(mctx_t *c, json_object *v)
{
    static const char *const kinds[] = {
        "enabled", "disabled", "adaptive", NULL
    };
    const char *type;
    long budget = 0;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_object))
        return aura_fm_e_type(c->p, "thinking", "an object", v);
    if ((e = aura_fm_get_enum(c->p, v, "thinking", "type", 1, kinds, &type)))
        return e;
    if (!strcmp(type, "adaptive")) {
        /* The model decides how much to think: the middle level. */
        c->effort = c->effort ? c->effort : "medium";
        return NULL;
    }
    if (strcmp(type, "enabled"))
        return NULL;        /* disabled: the provider's default */
    if ((e = get_int(c->p, v, "thinking", "budget_tokens", 1, 1024,
                     &budget)))
        return e;
    if (c->max_tokens && budget >= c->max_tokens)
        return aura_fm_e_value(c->p, "thinking.budget_tokens", "must be less "
                               "than max_tokens (%ld), got %ld.",
                               c->max_tokens, budget);
    c->effort = c->effort ? c->effort : budget_effort(budget);
    return NULL;
}

static aura_error_t *json_schema_format(mctx_t *c, json_object *f,
                                        const char *at)
{
    static const char *const kinds[] = { "json_schema", NULL };
    const char *type;
    json_object *schema, *text, *format;
    aura_error_t *e;

    if (!json_object_is_type(f, json_type_object))
        return aura_fm_e_type(c->p, at, "an object", f);
    if ((e = aura_fm_get_enum(c->p, f, at, "type", 1, kinds, &type))
        || (e = aura_fm_get(c->p, f, at, "schema", 1, json_type_object,
                            &schema)))
        return e;
    format = aura_fm_typed("json_schema");
    ADD(format, "name", json_object_new_string("output"));
    ADD(format, "schema", json_object_get(schema));
    text = json_object_new_object();
    ADD(text, "format", format);
    c->req->text = aura_json_pool(c->p, text);
    return NULL;
}

/* Structured outputs (output_config.format, or the beta's top-level
 * output_format) and effort. Effort "max" is the top level. */
static aura_error_t *parse_output_config(mctx_t *c, json_object *v)
{
    static const char *const levels[] = {
        "low", "medium", "high", "max", NULL
    };
    const char *effort;
    json_object *f;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_object))
        return aura_fm_e_type(c->p, "output_config", "an object", v);
    if ((e = aura_fm_get_enum(c->p, v, "output_config", "effort", 0, levels,
                              &effort)))
        return e;
    if (effort)
        c->effort = !strcmp(effort, "max") ? "xhigh" : effort;
    f = aura_json_get(v, "format");
    return f ? json_schema_format(c, f, "output_config.format") : NULL;
}

static aura_error_t *parse_output_format(mctx_t *c, json_object *v)
{
    return json_schema_format(c, v, "output_format");
}

/* metadata.user_id → safety_identifier, which holds 64 characters: a
 * longer id (Claude Code's are ~150) is replaced by its SHA-256, stable
 * per user and not reversible. Other keys are not Anthropic's; ignored. */
static aura_error_t *parse_metadata(mctx_t *c, json_object *v)
{
    const char *id;
    aura_error_t *e;

    if (!json_object_is_type(v, json_type_object))
        return aura_fm_e_type(c->p, "metadata", "an object", v);
    if ((e = aura_fm_get_str(c->p, v, "metadata", "user_id", 0, &id))
        || !id || !*id)
        return e;
    c->req->safety_identifier = strlen(id) <= 64 ? id
        : aura_sha256_hex(c->p, id, strlen(id));
    return NULL;
}

/* A stop sequence would have to be cut out of the answer by the gateway
 * for providers that have none, across delta boundaries, and the request
 * model has no field to pass it on: refused rather than ignored. */
static aura_error_t *parse_stop_sequences(mctx_t *c, json_object *v)
{
    if (!json_object_is_type(v, json_type_array))
        return aura_fm_e_type(c->p, "stop_sequences", "an array", v);
    if (json_object_array_length(v) == 0)
        return NULL;
    return aura_fm_e_unsupported(c->p, "stop_sequences", "stop sequences "
                                 "are not supported by this gateway; leave "
                                 "them out.");
}

static aura_error_t *parse_service_tier(mctx_t *c, json_object *v)
{
    static const char *const tiers[] = { "auto", "standard_only", NULL };
    const char *t;
    aura_error_t *e = aura_fm_get_enum(c->p, c->root, NULL, "service_tier", 1,
                                       tiers, &t);

    (void)v;
    if (!e)
        c->req->service_tier = !strcmp(t, "auto") ? "auto" : "default";
    return e;
}

static aura_error_t *parse_model(mctx_t *c, json_object *v)
{
    const char *s;

    if (!json_object_is_type(v, json_type_string))
        return aura_fm_e_type(c->p, "model", "a string", v);
    s = json_object_get_string(v);
    if (!*s || strlen(s) > MODEL_MAX)
        return aura_fm_e_value(c->p, "model",
                               "must be 1 to %d characters long.", MODEL_MAX);
    c->req->model = s;
    return NULL;
}

/* Anthropic-hosted features: nothing to route them to. */
static aura_error_t *no_hosted(mctx_t *c, const char *key)
{
    json_object *v = aura_json_get(c->root, key);

    if (!v || (json_object_is_type(v, json_type_array)
               && json_object_array_length(v) == 0))
        return NULL;
    return aura_fm_e_unsupported(c->p, key, "this runs at Anthropic and is "
                                 "not available through this gateway.");
}

/* The scalars, and the hosted features, read from the body by name.
 * Open Responses takes no max_output_tokens below 16 (OpenAI refuses
 * less): a smaller max_tokens (Claude Code probes with 1) is raised to
 * 16. top_k has no equivalent in the request model (OpenAI has none):
 * checked, then not passed on. */
static aura_error_t *parse_scalars(mctx_t *c, int count)
{
    json_object *b = c->root, *stream;
    long top_k;
    aura_error_t *e;

    if ((e = get_int(c->p, b, NULL, "max_tokens", !count, 1, &c->max_tokens))
        || (e = get_num(c->p, b, "temperature", 0, 1, &c->req->temperature))
        || (e = get_num(c->p, b, "top_p", 0, 1, &c->req->top_p))
        || (e = get_int(c->p, b, NULL, "top_k", 0, 0, &top_k))
        || (e = aura_fm_get(c->p, b, NULL, "stream", 0, json_type_boolean,
                            &stream))
        || (e = no_hosted(c, "container"))
        || (e = no_hosted(c, "mcp_servers")))
        return e;
    c->req->stream = stream && json_object_get_boolean(stream);
    if (c->max_tokens)
        c->req->max_output_tokens = c->max_tokens < MIN_OUTPUT ? MIN_OUTPUT
                                                               : c->max_tokens;
    return NULL;
}

typedef aura_error_t *(*field_fn)(mctx_t *c, json_object *v);

/* Every key Anthropic documents; NULL: read by parse_scalars, or (for
 * context_management, server-side context editing that Claude Code may
 * ask for) accepted and ignored: the conversation is passed on whole, as
 * to a server without the feature. Order matters: tools before
 * tool_choice, thinking before output_config (whose effort wins). */
static const struct {
    const char *key;
    field_fn fn;
} fields[] = {
    { "model",              parse_model },
    { "max_tokens",         NULL },
    { "system",             aura_fm_parse_system },
    { "messages",           aura_fm_parse_messages },
    { "tools",              parse_tools },
    { "tool_choice",        parse_tool_choice },
    { "thinking",           parse_thinking },
    { "output_config",      parse_output_config },
    { "output_format",      parse_output_format },
    { "metadata",           parse_metadata },
    { "stop_sequences",     parse_stop_sequences },
    { "temperature",        NULL },
    { "top_p",              NULL },
    { "top_k",              NULL },
    { "stream",             NULL },
    { "service_tier",       parse_service_tier },
    { "container",          NULL },
    { "mcp_servers",        NULL },
    { "context_management", NULL },
    { NULL, NULL }
};

/* ================================================================== */
/* entry points                                                       */

static aura_error_t *parse_json(apr_pool_t *p, const char *body,
                                apr_size_t len, json_object **out)
{
    struct json_tokener *tok;
    json_object *root;
    enum json_tokener_error jerr;
    size_t end;

    if (len > (apr_size_t)0x7fffffff)       /* json-c takes an int */
        return aura_error_make(p, 413, "invalid_request_error",
                               "request_too_large", NULL,
                               "The request body is too large.");
    if (!(tok = aura_tokener_acquire()))
        return aura_error_make(p, 500, "server_error", NULL, NULL,
                               "Out of memory.");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
                                | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, body ? body : "", (int)len);
    end = json_tokener_get_parse_end(tok);
    if (!root && json_tokener_get_error(tok) == json_tokener_continue)
        root = json_tokener_parse_ex(tok, "", 1);  /* NUL: end of input */
    jerr = json_tokener_get_error(tok);
    aura_tokener_release(tok);
    if (jerr != json_tokener_success)
        return aura_bad_request(p, "invalid_json", NULL, "The request body "
                                "is not valid JSON: %s at offset %"
                                APR_SIZE_T_FMT ".",
                                json_tokener_error_desc(jerr), end);
    aura_json_pool(p, root);
    for (; root && end < len; end++)
        if (!apr_isspace(body[end]))
            return aura_bad_request(p, "invalid_json", NULL, "The request "
                                    "body is not valid JSON: trailing data "
                                    "at offset %" APR_SIZE_T_FMT ".", end);
    if (!json_object_is_type(root, json_type_object))
        return aura_bad_request(p, "invalid_type", NULL, "The request body "
                                "must be a JSON object, got %s.",
                                aura_json_type_name(root));
    *out = root;
    return NULL;
}

static aura_error_t *check_keys(apr_pool_t *p, json_object *root)
{
    int i;

    json_object_object_foreach(root, key, val) {
        (void)val;
        for (i = 0; fields[i].key && strcmp(fields[i].key, key); i++)
            ;
        if (!fields[i].key)
            return aura_bad_request(p, "unknown_parameter", key,
                                    "%s: Extra inputs are not permitted.",
                                    key);
    }
    return NULL;
}

static aura_request_t *request_new(apr_pool_t *p)
{
    aura_request_t *r = apr_pcalloc(p, sizeof(*r));

    r->pool = p;
    r->input = aura_json_pool(p, json_object_new_array());
    r->tools = aura_json_pool(p, json_object_new_array());
    r->store = r->parallel_tool_calls = AURA_UNSET;
    r->max_output_tokens = r->max_tool_calls = r->top_logprobs = AURA_UNSET;
    r->temperature = r->top_p = NAN;
    r->presence_penalty = r->frequency_penalty = NAN;
    return r;
}

/* `body` is read as a Responses body: the OpenAI Responses encoder passes
 * its keys on, the builder and the adapters echo numbers from it in the
 * client's own digits. So it holds only temperature and top_p (same names
 * in both APIs), as the client wrote them. */
static json_object *responses_body(apr_pool_t *p, json_object *root)
{
    static const char *const keys[] = { "temperature", "top_p", NULL };
    json_object *b = aura_json_pool(p, json_object_new_object()), *v;
    int i;

    for (i = 0; keys[i]; i++)
        if ((v = aura_json_get(root, keys[i])))
            ADD(b, keys[i], json_object_get(v));
    return b;
}

/* `count`: a count_tokens body, which has no max_tokens. */
aura_error_t *aura_front_messages_parse(apr_pool_t *p, const char *body,
                                        apr_size_t len, int count,
                                        aura_request_t **out)
{
    mctx_t c;
    json_object *root = NULL, *v;
    aura_error_t *e;
    int i;

    *out = NULL;
    if ((e = parse_json(p, body, len, &root)) || (e = check_keys(p, root)))
        return e;
    memset(&c, 0, sizeof(c));
    c.p = p;
    c.root = root;
    c.req = request_new(p);
    c.tools = apr_hash_make(p);
    if (!aura_json_get(root, "messages"))
        return aura_fm_e_missing(p, "messages");
    if ((e = parse_scalars(&c, count)))
        return e;
    for (i = 0; fields[i].key; i++)
        if (fields[i].fn && (v = aura_json_get(root, fields[i].key))
            && (e = fields[i].fn(&c, v)))
            return e;
    if (c.effort) {
        v = json_object_new_object();
        ADD(v, "effort", json_object_new_string(c.effort));
        c.req->reasoning = aura_json_pool(p, v);
    }
    c.req->body = responses_body(p, root);
    *out = c.req;
    return NULL;
}
