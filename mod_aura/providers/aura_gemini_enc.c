/*
 * aura_gemini_enc.c - the Google Gemini adapter (generativelanguage API,
 * v1beta): request encoder and request(). The decoder is in
 * aura_gemini_dec.c; docs/providers/gemini.md says what maps to what.
 *
 * Items become `contents` (user / model turns; consecutive items of the
 * same role share one turn, so parallel calls and their responses stay
 * together as Gemini wants them), system and developer messages become
 * `systemInstruction`. Reasoning state travels in reasoning items as
 * "aura:gemini:<thoughtSignature>" and is put back on the model part that
 * follows the item (or, at the end of a turn, the part before it), which
 * is where the decoder found it.
 */
#include <string.h>

#include <apr_lib.h>

#include "aura_encoder.h"
#include "aura_gemini.h"

typedef struct gctx {
    apr_pool_t *p;
    const aura_request_t *req;
    const aura_target_t *t;
    json_object *contents;      /* the turns */
    json_object *system;        /* systemInstruction parts */
    json_object *turn;          /* current turn's parts, or NULL */
    int model_turn;             /* the current turn is the model's */
    const char *sig;            /* pending thoughtSignature */
    apr_hash_t *calls;          /* call_id -> name of the latest call yet */
} gctx_t;

static json_object *text_part(const char *s)
{
    json_object *part = json_object_new_object();
    aura_enc_add_str(part, "text", s ? s : "");
    return part;
}

/* JSON text the client sent (arguments, outputs), at the gateway's depth:
 * NULL when it is not JSON. */
static json_object *parse_deep(const char *s)
{
    json_tokener *tok = aura_tokener_acquire();
    json_object *o = NULL;

    if (tok) {
        o = json_tokener_parse_ex(tok, s, -1);
        if (o && json_tokener_get_parse_end(tok) != strlen(s)) {
            json_object_put(o);     /* trailing bytes: not one document */
            o = NULL;
        }
        aura_tokener_release(tok);
    }
    return o;
}

static aura_error_t *bad_value(apr_pool_t *p, const char *at, const char *why)
{
    return aura_bad_request(p, "invalid_value", at,
                            "Invalid value for '%s': %s", at, why);
}

/* ------------------------------------------------------------------ */
/* media                                                              */

/* From the file name extension: Gemini wants a MIME type with fileData. */
static const char *guess_mime(const char *url)
{
    static const char *const map[][2] = {
        {".png", "image/png"}, {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"}, {".webp", "image/webp"},
        {".gif", "image/gif"}, {".heic", "image/heic"},
        {".pdf", "application/pdf"}, {".txt", "text/plain"},
        {".mp3", "audio/mp3"}, {".wav", "audio/wav"},
        {".mp4", "video/mp4"}, {NULL, NULL}
    };
    apr_size_t n = strcspn(url, "?#"), k;
    int i;

    for (i = 0; map[i][0]; i++) {
        k = strlen(map[i][0]);
        if (n >= k && !strncasecmp(url + n - k, map[i][0], k))
            return map[i][1];
    }
    return NULL;
}

/* data:<mime>;base64,<data> → inlineData; http(s) → fileData. */
static aura_error_t *media_part(gctx_t *c, const char *url, const char *at,
                                json_object **out)
{
    json_object *part = json_object_new_object(), *blob;
    const char *comma, *semi, *mime;

    blob = json_object_new_object();
    if (!strncmp(url, "data:", 5)) {
        comma = strchr(url, ',');
        semi = comma ? strstr(url, ";base64,") : NULL;
        if (!comma || semi != comma - 7 || semi == url + 5) {
            json_object_put(part);
            json_object_put(blob);
            return bad_value(c->p, at, "a data: URL must be "
                             "data:<mime type>;base64,<data>.");
        }
        aura_enc_add_str(blob, "mimeType",
                         apr_pstrmemdup(c->p, url + 5,
                                        (apr_size_t)(semi - url - 5)));
        aura_enc_add_str(blob, "data", comma + 1);
        json_object_object_add(part, "inlineData", blob);
    }
    else if (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7)) {
        if ((mime = guess_mime(url)))
            aura_enc_add_str(blob, "mimeType", mime);
        aura_enc_add_str(blob, "fileUri", url);
        json_object_object_add(part, "fileData", blob);
    }
    else {
        json_object_put(part);
        json_object_put(blob);
        return bad_value(c->p, at, "send a data: URL or an http(s) URL.");
    }
    *out = part;
    return NULL;
}

static aura_error_t *convert_part(gctx_t *c, json_object *src, const char *at,
                                  json_object **out)
{
    const char *type = aura_json_string(src, "type");
    const char *url;

    *out = NULL;
    if (!strcmp(type, "input_text") || !strcmp(type, "output_text")) {
        *out = text_part(aura_json_string(src, "text"));
        return NULL;
    }
    if (!strcmp(type, "refusal")) {
        *out = text_part(aura_json_string(src, "refusal"));
        return NULL;
    }
    if (!strcmp(type, "input_image"))
        url = aura_json_string(src, "image_url");
    else if (!strcmp(type, "input_file"))
        url = aura_json_string(src, "file_data")
                  ? aura_json_string(src, "file_data")
                  : aura_json_string(src, "file_url");
    else
        return bad_value(c->p, at, "this content type cannot be sent to "
                         "Gemini.");
    if (!url)
        return bad_value(c->p, at, "files and images by file_id are not "
                         "supported by Gemini; send a data: or http(s) URL.");
    return media_part(c, url, at, out);
}

/* ------------------------------------------------------------------ */
/* turns                                                              */

static void sign(json_object *part, const char *sig)
{
    if (!json_object_object_get_ex(part, "thoughtSignature", NULL))
        aura_enc_add_str(part, "thoughtSignature", sig);
}

/* Leaving a model turn: a signature still pending belongs to the turn's
 * last part (the decoder emits a text part's signature after the text). */
static void leave_turn(gctx_t *c)
{
    size_t n = c->turn ? json_object_array_length(c->turn) : 0;

    if (c->model_turn && c->sig) {
        if (n)
            sign(json_object_array_get_idx(c->turn, n - 1), c->sig);
        c->sig = NULL;
    }
    c->turn = NULL;
}

static void push(gctx_t *c, int model, json_object *part)
{
    if (!c->turn || c->model_turn != model) {
        json_object *content = json_object_new_object();
        leave_turn(c);
        aura_enc_add_str(content, "role", model ? "model" : "user");
        c->turn = json_object_new_array();
        json_object_object_add(content, "parts", c->turn);
        json_object_array_add(c->contents, content);
        c->model_turn = model;
    }
    if (model && c->sig) {
        sign(part, c->sig);
        c->sig = NULL;
    }
    json_object_array_add(c->turn, part);
}

/* ------------------------------------------------------------------ */
/* items                                                              */

static aura_error_t *enc_system(gctx_t *c, json_object *parts, const char *at)
{
    size_t i, n = json_object_array_length(parts);

    for (i = 0; i < n; i++) {
        json_object *src = json_object_array_get_idx(parts, i);
        if (strcmp(aura_json_string(src, "type"), "input_text"))
            return bad_value(c->p, apr_psprintf(c->p, "%s.content[%d]", at,
                                                (int)i),
                             "Gemini system instructions take text only.");
        json_object_array_add(c->system,
                              text_part(aura_json_string(src, "text")));
    }
    return NULL;
}

static aura_error_t *enc_message(gctx_t *c, json_object *item, const char *at)
{
    const char *role = aura_json_string(item, "role");
    json_object *parts = aura_json_get(item, "content");
    size_t i, n = json_object_array_length(parts);
    aura_error_t *e;

    if (!strcmp(role, "system") || !strcmp(role, "developer"))
        return enc_system(c, parts, at);
    for (i = 0; i < n; i++) {
        json_object *part;
        e = convert_part(c, json_object_array_get_idx(parts, i),
                         apr_psprintf(c->p, "%s.content[%d]", at, (int)i),
                         &part);
        if (e)
            return e;
        push(c, !strcmp(role, "assistant"), part);
    }
    return NULL;
}

static aura_error_t *enc_call(gctx_t *c, json_object *item, const char *at)
{
    const char *args = aura_json_string(item, "arguments");
    const char *id = aura_json_string(item, "call_id");
    json_object *part, *fc, *obj;

    obj = parse_deep(args && *args ? args : "{}");
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return bad_value(c->p, apr_pstrcat(c->p, at, ".arguments", NULL),
                         "Gemini needs function arguments that are a JSON "
                         "object.");
    }
    fc = json_object_new_object();
    aura_enc_add_str(fc, "name", aura_json_string(item, "name"));
    json_object_object_add(fc, "args", obj);
    if (id && *id && strncmp(id, GEM_SYNTH_ID, strlen(GEM_SYNTH_ID)))
        aura_enc_add_str(fc, "id", id);
    part = json_object_new_object();
    json_object_object_add(part, "functionCall", fc);
    push(c, 1, part);
    /* Gemini matches a response to its call by name: the name of the
     * nearest earlier function_call with the same call_id (ids may repeat
     * across turns when the decoder had to make them up). Kept as the
     * calls go by, so that no output rescans the input. */
    apr_hash_set(c->calls, id ? id : "", APR_HASH_KEY_STRING,
                 aura_json_string(item, "name"));
    return NULL;
}

/* The function's output for `response`: a JSON object is sent as it is;
 * anything else as {"output": text}, the key Gemini documents for it. */
static json_object *response_obj(gctx_t *c, json_object *output)
{
    json_object *o = NULL, *r;
    const char *s = NULL;

    if (json_object_is_type(output, json_type_string)) {
        s = json_object_get_string(output);
        o = parse_deep(s);
        if (json_object_is_type(o, json_type_object))
            return o;
        json_object_put(o);
    }
    else {
        size_t i, n = json_object_array_length(output);
        apr_array_header_t *texts = apr_array_make(c->p, 4,
                                                   sizeof(const char *));
        for (i = 0; i < n; i++) {
            json_object *pt = json_object_array_get_idx(output, i);
            const char *t = aura_json_string(pt, "text");
            if (t && !strcmp(aura_json_string(pt, "type"), "input_text"))
                APR_ARRAY_PUSH(texts, const char *) = t;
        }
        /* joined once: appending part by part is quadratic */
        if (texts->nelts)
            s = apr_array_pstrcat(c->p, texts, 0);
    }
    r = json_object_new_object();
    aura_enc_add_str(r, "output", s ? s : "");
    return r;
}

/* Images or files in a function's output follow its functionResponse as
 * ordinary parts of the same user turn. */
static aura_error_t *output_media(gctx_t *c, json_object *output,
                                  const char *at)
{
    size_t i, n;
    aura_error_t *e;

    if (!json_object_is_type(output, json_type_array))
        return NULL;
    n = json_object_array_length(output);
    for (i = 0; i < n; i++) {
        json_object *src = json_object_array_get_idx(output, i), *part;
        if (!strcmp(aura_json_string(src, "type"), "input_text"))
            continue;
        if ((e = convert_part(c, src, apr_psprintf(c->p, "%s.output[%d]", at,
                                                   (int)i), &part)))
            return e;
        push(c, 0, part);
    }
    return NULL;
}

static aura_error_t *enc_output(gctx_t *c, json_object *item,
                                const char *at)
{
    const char *id = aura_json_string(item, "call_id");
    const char *name = aura_enc_lookup(c->calls, id ? id : "");
    json_object *output = aura_json_get(item, "output");
    json_object *part, *fr;

    if (!name)
        return aura_bad_request(c->p, "invalid_value",
                                apr_pstrcat(c->p, at, ".call_id", NULL),
                                "No function_call with call_id '%s' comes "
                                "before this output in input; Gemini needs "
                                "the call to name the function.", id);
    fr = json_object_new_object();
    if (*id && strncmp(id, GEM_SYNTH_ID, strlen(GEM_SYNTH_ID)))
        aura_enc_add_str(fr, "id", id);
    aura_enc_add_str(fr, "name", name);
    json_object_object_add(fr, "response", response_obj(c, output));
    part = json_object_new_object();
    json_object_object_add(part, "functionResponse", fr);
    push(c, 0, part);
    return output_media(c, output, at);
}

/* Only our own marker is usable: other providers' reasoning state means
 * nothing to Gemini, and its summaries are not sent back as thoughts. */
static void enc_reasoning(gctx_t *c, json_object *item)
{
    const char *enc = aura_json_string(item, "encrypted_content");

    if (enc && !strncmp(enc, GEM_SIG_MARK, strlen(GEM_SIG_MARK))
        && enc[strlen(GEM_SIG_MARK)])
        c->sig = enc + strlen(GEM_SIG_MARK);
}

static aura_error_t *enc_item(gctx_t *c, json_object *item, size_t i)
{
    const char *type = aura_json_string(item, "type");
    const char *at = apr_psprintf(c->p, "input[%d]", (int)i);

    if (!strcmp(type, "message"))
        return enc_message(c, item, at);
    if (!strcmp(type, "function_call"))
        return enc_call(c, item, at);
    if (!strcmp(type, "function_call_output"))
        return enc_output(c, item, at);
    if (!strcmp(type, "reasoning")) {
        enc_reasoning(c, item);
        return NULL;
    }
    return aura_enc_unsupported(c->p, at, "Item references and compaction "
                                "items cannot be sent to Gemini; send the "
                                "items themselves.");
}

static aura_error_t *enc_contents(gctx_t *c, json_object *out)
{
    size_t i, n = json_object_array_length(c->req->input);
    json_object *si;
    aura_error_t *e;

    c->calls = apr_hash_make(c->p);
    c->contents = json_object_new_array();
    c->system = json_object_new_array();
    json_object_object_add(out, "contents", c->contents);
    if (c->req->instructions)
        json_object_array_add(c->system, text_part(c->req->instructions));
    for (i = 0; i < n; i++)
        if ((e = enc_item(c, json_object_array_get_idx(c->req->input, i), i)))
            return e;
    leave_turn(c);
    if (json_object_array_length(c->contents) == 0)
        return aura_bad_request(c->p, "missing_required_parameter", "input",
                                "Missing required parameter: 'input' (Gemini "
                                "needs at least one user or model turn).");
    if (json_object_array_length(c->system)) {
        si = json_object_new_object();
        json_object_object_add(si, "parts", json_object_get(c->system));
        json_object_object_add(out, "systemInstruction", si);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* tools                                                              */

/* A JSON Schema as Gemini's *JsonSchema fields take it: as given, minus a
 * top-level "$schema" (generators add it; Gemini has refused it). */
static json_object *json_schema(json_object *schema)
{
    json_object *o = json_object_new_object();

    json_object_object_foreach(schema, k, v)
        if (strcmp(k, "$schema"))
            json_object_object_add(o, k, json_object_get(v));
    return o;
}

static json_object *declaration(json_object *flat)
{
    json_object *d = json_object_new_object();
    json_object *params = aura_json_get(flat, "parameters");
    const char *desc = aura_json_string(flat, "description");

    aura_enc_add_str(d, "name", aura_json_string(flat, "name"));
    if (desc)
        aura_enc_add_str(d, "description", desc);
    if (json_object_is_type(params, json_type_object))
        json_object_object_add(d, "parametersJsonSchema", json_schema(params));
    return d;
}

/* tool_choice → functionCallingConfig. allowedFunctionNames only goes with
 * mode ANY (Gemini's rule); allowed_tools in auto mode sends only the
 * allowed declarations instead, so the limit holds either way. */
static void enc_tool_config(gctx_t *c, json_object *out, json_object *names)
{
    json_object *choice = c->req->tool_choice, *cfg, *fcc;
    const char *type = json_object_is_type(choice, json_type_object)
                           ? aura_json_string(choice, "type") : NULL;
    const char *mode;

    if (!choice)
        return;
    if (!type) {
        const char *s = json_object_get_string(choice);
        mode = !strcmp(s, "none") ? "NONE"
               : !strcmp(s, "required") ? "ANY" : "AUTO";
    }
    else if (!strcmp(type, "function")) {
        mode = "ANY";
        json_object_array_add(names, json_object_new_string(
                                  aura_json_string(choice, "name")));
    }
    else {
        mode = strcmp(aura_json_string(choice, "mode"), "required")
                   ? "AUTO" : "ANY";
    }
    cfg = json_object_new_object();
    fcc = json_object_new_object();
    aura_enc_add_str(fcc, "mode", mode);
    if (!strcmp(mode, "ANY") && json_object_array_length(names))
        json_object_object_add(fcc, "allowedFunctionNames",
                               json_object_get(names));
    json_object_object_add(cfg, "functionCallingConfig", fcc);
    json_object_object_add(out, "toolConfig", cfg);
}

static void enc_tools(gctx_t *c, json_object *out)
{
    json_object *choice = c->req->tool_choice, *allowed = NULL;
    json_object *decls, *tool, *tools, *names;
    apr_hash_t *set = NULL;
    size_t i, n = json_object_array_length(c->req->tools);

    if (n == 0)
        return;
    if (json_object_is_type(choice, json_type_object)
        && !strcmp(aura_json_string(choice, "type"), "allowed_tools"))
        allowed = aura_json_get(choice, "tools");
    if (allowed)        /* one lookup per tool, not a scan */
        set = aura_enc_name_set(c->p, allowed);
    decls = json_object_new_array();
    names = aura_json_pool(c->p, json_object_new_array());
    for (i = 0; i < n; i++) {
        json_object *flat = json_object_array_get_idx(c->req->tools, i);
        const char *name = aura_json_string(flat, "name");
        if (allowed && !aura_enc_lookup(set, name))
            continue;
        json_object_array_add(decls, declaration(flat));
        if (allowed)
            json_object_array_add(names, json_object_new_string(name));
    }
    tool = json_object_new_object();
    json_object_object_add(tool, "functionDeclarations", decls);
    tools = json_object_new_array();
    json_object_array_add(tools, tool);
    json_object_object_add(out, "tools", tools);
    enc_tool_config(c, out, names);
}

/* ------------------------------------------------------------------ */
/* generationConfig                                                   */

static void enc_format(gctx_t *c, json_object *gc)
{
    json_object *format = aura_json_get(c->req->text, "format");
    const char *type = aura_json_string(format, "type");
    json_object *schema = aura_json_get(format, "schema");

    if (!type || !strcmp(type, "text"))
        return;
    aura_enc_add_str(gc, "responseMimeType", "application/json");
    if (!strcmp(type, "json_schema")
        && json_object_is_type(schema, json_type_object))
        json_object_object_add(gc, "responseJsonSchema", json_schema(schema));
}

/* reasoning.effort → a thinking budget (tokens). Gemini 2.5 Pro cannot
 * switch thinking off (its minimum is 128); Flash's ceiling is 24576. */
static long thinking_budget(gctx_t *c, const char *effort)
{
    const char *m = c->t->upstream_model ? c->t->upstream_model : "";
    int pro = strstr(m, "pro") != NULL;

    if (!effort)
        return c->t->reasoning_budget > 0 ? c->t->reasoning_budget : -1;
    if (!strcmp(effort, "none"))
        return pro ? 128 : 0;
    if (!strcmp(effort, "minimal"))
        return 512;
    if (!strcmp(effort, "low"))
        return 1024;
    if (!strcmp(effort, "medium"))
        return 8192;
    if (!strcmp(effort, "xhigh") && pro)
        return 32768;
    return 24576;               /* high, xhigh */
}

/* Gemini 3 models take a thinking level instead of a budget. */
static void enc_thinking(gctx_t *c, json_object *gc)
{
    const char *effort = aura_json_string(c->req->reasoning, "effort");
    json_object *tc;
    long budget;

    if (!c->req->reasoning)
        return;
    tc = json_object_new_object();
    budget = thinking_budget(c, effort);
    if (c->t->upstream_model
        && !strncmp(c->t->upstream_model, "gemini-3", 8)) {
        int high = effort && (!strcmp(effort, "medium")
                              || !strcmp(effort, "high")
                              || !strcmp(effort, "xhigh"));
        if (effort)
            aura_enc_add_str(tc, "thinkingLevel", high ? "high" : "low");
    }
    else {
        json_object_object_add(tc, "thinkingBudget",
                               json_object_new_int64(budget));
    }
    json_object_object_add(tc, "includeThoughts",
                           json_object_new_boolean(budget != 0));
    json_object_object_add(gc, "thinkingConfig", tc);
}

static void enc_generation(gctx_t *c, json_object *out)
{
    const aura_request_t *r = c->req;
    json_object *gc = json_object_new_object();

    if (r->max_output_tokens != AURA_UNSET)
        json_object_object_add(gc, "maxOutputTokens",
                               json_object_new_int64(r->max_output_tokens));
    aura_enc_add_num(r, gc, "temperature", NULL, r->temperature);
    aura_enc_add_num(r, gc, "top_p", "topP", r->top_p);
    aura_enc_add_num(r, gc, "presence_penalty", "presencePenalty",
                     r->presence_penalty);
    aura_enc_add_num(r, gc, "frequency_penalty", "frequencyPenalty",
                     r->frequency_penalty);
    enc_format(c, gc);
    enc_thinking(c, gc);
    if (json_object_object_length(gc))
        json_object_object_add(out, "generationConfig", gc);
    else
        json_object_put(gc);
}

static aura_error_t *gemini_encode(apr_pool_t *p, const aura_request_t *req,
                                   const aura_target_t *t, const char **body,
                                   apr_size_t *len)
{
    gctx_t c = { p, req, t, NULL, NULL, NULL, 0, NULL, NULL };
    json_object *out;
    aura_error_t *e;

    *body = NULL;
    if (len)
        *len = 0;
    if ((e = aura_enc_refuse_previous(p, req, "Gemini")))
        return e;
    out = aura_json_pool(p, json_object_new_object());
    if ((e = enc_contents(&c, out))) {
        json_object_put(c.system);
        return e;
    }
    json_object_put(c.system);          /* the body holds its own ref */
    enc_tools(&c, out);
    enc_generation(&c, out);
    *body = aura_json_str(p, out, len);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* request()                                                          */

/* The model id goes into the URL path: only the characters model ids use,
 * so that a client-chosen "gemini/<anything>" can never reach another
 * path or query (the request carries the provider's key). A leading
 * "models/" or "tunedModels/" is kept as the resource prefix. */
static const char *model_path(apr_pool_t *p, const char *model)
{
    const char *id = model, *prefix = "models/";
    const char *c;

    if (!strncmp(model, "models/", 7))
        id = model + 7;
    else if (!strncmp(model, "tunedModels/", 12)) {
        id = model + 12;
        prefix = "tunedModels/";
    }
    if (!*id || *id == '.' || *id == '-')
        return NULL;
    for (c = id; *c; c++)
        if (!apr_isalnum(*c) && !strchr("-._", *c))
            return NULL;
    return apr_pstrcat(p, prefix, id, NULL);
}

static aura_error_t *gemini_request(apr_pool_t *p, const aura_target_t *t,
                                    int stream, aura_wire_t *w)
{
    const char *path = model_path(p, t->upstream_model ? t->upstream_model
                                                       : "");

    if (!path)
        return aura_bad_request(p, "invalid_value", "model",
                                "Invalid value for 'model': '%s' is not a "
                                "Gemini model id (letters, digits, '-', "
                                "'.', '_').", t->upstream_model);
    w->url = apr_pstrcat(p, t->base_url, "/", path,
                         stream ? ":streamGenerateContent?alt=sse"
                                : ":generateContent", NULL);
    /* The key goes in a header only: Google also accepts ?key=, which
     * would put it in every proxy and server log on the way. */
    if (t->key)
        aura_wire_header(p, w, "x-goog-api-key", t->key);
    return NULL;
}

const aura_adapter_t aura_adapter_gemini = {
    "gemini", gemini_encode, gemini_request, aura_gemini_decoder
};
