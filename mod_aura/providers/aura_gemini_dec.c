/*
 * aura_gemini_dec.c - the Gemini response decoder: a generateContent body,
 * or a streamGenerateContent?alt=sse stream (each event one incremental
 * GenerateContentResponse), into the response builder.
 *
 * Only candidate 0 is used (the gateway never asks for more). Its parts
 * become items in order: thought parts → a reasoning item (summary text),
 * text parts → a message item, each functionCall → a function_call item
 * (closed at once: Gemini sends a call whole). A thoughtSignature is kept
 * as "aura:gemini:<signature>" on a reasoning item: the open one or one
 * opened just before the call that carries it, or, for a text part, one
 * right after the text (see aura_gemini_enc.c for the way back).
 *
 * Gemini's stream has no terminator: it ends after the chunk that carries
 * finishReason, so the response is finished at EOF. A stream may also end
 * with a bare JSON error object (no "data:"), which fails the response.
 */
#include <string.h>

#include "aura_buf.h"
#include "aura_decoder.h"
#include "aura_gemini.h"

#define GEM_RAW_MAX (1024 * 1024)

typedef struct gem_dec {
    aura_decoder_t d;
    int cur;                    /* the open message or reasoning item, -1 */
    int msg, rs;                /* which of them is open, -1 */
    int ncalls;                 /* function calls so far: id ordinal */
    const char *response_id;
    const char *finish;         /* candidate 0's finishReason */
    const char *finish_msg;     /* and its finishMessage */
    const char *blocked;        /* promptFeedback.blockReason */
    int line_start;             /* stream: the next byte starts a line */
    int in_raw;                 /* stream: past the events (see gem_feed);
                                 * 2: more than GEM_RAW_MAX of them */
    aura_buf_t raw;             /* the bytes after them: an error object */
} gem_dec;

/* ---- items -------------------------------------------------------------- */

static void gem_leave(gem_dec *g)
{
    if (g->cur >= 0)
        aura_dec_st(&g->d, aura_rb_close(g->d.rb, g->cur));
    g->cur = g->msg = g->rs = -1;
}

static void gem_open_reasoning(gem_dec *g)
{
    if (g->rs >= 0)
        return;
    gem_leave(g);
    aura_dec_st(&g->d, aura_rb_open_reasoning(g->d.rb, NULL, &g->rs));
    g->cur = g->rs;
}

static void gem_signature(gem_dec *g, const char *sig)
{
    gem_open_reasoning(g);
    aura_dec_st(&g->d, aura_rb_reasoning_encrypted(
                           g->d.rb, g->rs,
                           apr_pstrcat(g->d.pool, GEM_SIG_MARK, sig, NULL)));
}

static void gem_text(gem_dec *g, const char *s, int thought)
{
    apr_size_t n = strlen(s);

    if (!n)
        return;
    if (thought) {
        gem_open_reasoning(g);
        aura_dec_st(&g->d, aura_rb_reasoning_summary_delta(g->d.rb, g->rs, 0,
                                                           s, n));
        return;
    }
    if (g->msg < 0) {
        gem_leave(g);
        aura_dec_st(&g->d, aura_rb_open_message(g->d.rb, NULL, &g->msg));
        g->cur = g->msg;
    }
    aura_dec_st(&g->d, aura_rb_text_delta(g->d.rb, g->msg, s, n));
}

/* FNV-1a, 64 bits: a call id that is the same however the stream was
 * split, and differs between calls and responses. */
static apr_uint64_t fnv(apr_uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * APR_UINT64_C(1099511628211);
    return (h ^ 0xff) * APR_UINT64_C(1099511628211);
}

static const char *gem_call_id(gem_dec *g, const char *name,
                               const char *args)
{
    apr_uint64_t h = APR_UINT64_C(14695981039346656037);

    h = fnv(h, g->response_id);
    h = fnv(h, apr_itoa(g->d.pool, g->ncalls));
    h = fnv(h, name);
    h = fnv(h, args);
    return apr_psprintf(g->d.pool, GEM_SYNTH_ID "%016" APR_UINT64_T_HEX_FMT,
                        h);
}

static void gem_call(gem_dec *g, json_object *fc, const char *sig)
{
    const char *name = aura_json_string(fc, "name");
    const char *id = aura_json_string(fc, "id");
    json_object *args = aura_json_get(fc, "args");
    const char *a = args ? aura_json_str(g->d.pool, args, NULL) : "{}";
    int idx = -1;

    if (sig)
        gem_signature(g, sig);
    gem_leave(g);
    if (!id || !*id) {
        id = gem_call_id(g, name, a);
        AURA_DEC_TRACE(&g->d, "gemini: functionCall %s without an id: %s "
                       "derived", aura_dec_str(&g->d, name), id);
    }
    g->ncalls++;
    aura_dec_st(&g->d, aura_rb_open_call(g->d.rb, NULL, id,
                                         name ? name : "", &idx));
    aura_dec_st(&g->d, aura_rb_call_args_delta(g->d.rb, idx, a, strlen(a)));
    aura_dec_st(&g->d, aura_rb_close(g->d.rb, idx));
}

static void gem_part(gem_dec *g, json_object *part)
{
    json_object *fc = aura_json_get(part, "functionCall");
    json_object *thought = aura_json_get(part, "thought");
    const char *sig = aura_json_string(part, "thoughtSignature");
    const char *text = aura_json_string(part, "text");
    int is_thought = thought && json_object_get_boolean(thought);

    if (fc) {
        gem_call(g, fc, sig);
        return;
    }
    if (!text && !sig)      /* inlineData, executableCode, ...: no place */
        AURA_DEC_TRACE(&g->d, "gemini: part %s skipped",
                       aura_dec_str(&g->d, aura_dec_first_key(part)));
    if (text)
        gem_text(g, text, is_thought);
    if (sig && !is_thought)
        gem_leave(g);       /* the signature follows the text it signs */
    if (sig)
        gem_signature(g, sig);
}

/* ---- one GenerateContentResponse --------------------------------------- */

static void gem_usage(gem_dec *g, json_object *um)
{
    aura_usage_t u = { 0, 0, 0, 0, 1 };
    long thoughts;

    if (!json_object_is_type(um, json_type_object))
        return;
    thoughts = aura_dec_long(um, "thoughtsTokenCount", 0);
    u.input = aura_dec_long(um, "promptTokenCount", 0)
              + aura_dec_long(um, "toolUsePromptTokenCount", 0);
    u.cached = aura_dec_long(um, "cachedContentTokenCount", 0);
    u.output = aura_dec_long(um, "candidatesTokenCount", 0) + thoughts;
    u.reasoning = thoughts;
    aura_rb_usage(g->d.rb, &u);
}

static json_object *gem_candidate0(json_object *doc)
{
    json_object *cands = aura_json_get(doc, "candidates");
    size_t i, n;

    if (!json_object_is_type(cands, json_type_array))
        return NULL;
    n = json_object_array_length(cands);
    for (i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(cands, i);
        if (aura_dec_long(c, "index", 0) == 0)
            return c;
    }
    return NULL;
}

static void gem_response(gem_dec *g, json_object *doc)
{
    json_object *cand = gem_candidate0(doc);
    json_object *parts = aura_json_get(aura_json_get(cand, "content"),
                                       "parts");
    const char *s;
    size_t i, n;

    if (!g->response_id && (s = aura_json_string(doc, "responseId")))
        g->response_id = apr_pstrdup(g->d.pool, s);
    if ((s = aura_json_string(aura_json_get(doc, "promptFeedback"),
                              "blockReason")))
        g->blocked = apr_pstrdup(g->d.pool, s);
    n = json_object_is_type(parts, json_type_array)
            ? json_object_array_length(parts) : 0;
    for (i = 0; i < n; i++)
        gem_part(g, json_object_array_get_idx(parts, i));
    if ((s = aura_json_string(cand, "finishReason"))) {
        g->finish = apr_pstrdup(g->d.pool, s);
        s = aura_json_string(cand, "finishMessage");
        g->finish_msg = s ? apr_pstrdup(g->d.pool, s) : NULL;
    }
    gem_usage(g, aura_json_get(doc, "usageMetadata"));
}

static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

/* finishReason → status. The content filters end the answer early
 * (incomplete); a malformed or unexpected tool call means the answer is
 * unusable (failed, with Gemini's reason). Anything else is complete. */
static void gem_finish(gem_dec *g)
{
    static const char *const filtered[] = {
        "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
        "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
        "LANGUAGE", NULL
    };
    static const char *const broken[] = {
        "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL",
        "TOO_MANY_TOOL_CALLS", "MISSING_THOUGHT_SIGNATURE", NULL
    };
    const char *f = g->finish ? g->finish : "STOP";

    if (!g->finish && !g->blocked)
        AURA_DEC_TRACE(&g->d, "gemini: no finishReason, STOP assumed");
    else if (!g->blocked && strcmp(f, "STOP") && strcmp(f, "MAX_TOKENS")
             && !one_of(f, filtered) && !one_of(f, broken))
        AURA_DEC_TRACE(&g->d, "gemini: finishReason %s read as completed",
                       aura_dec_str(&g->d, f));
    if (g->blocked || one_of(f, filtered))
        aura_dec_st(&g->d, aura_rb_finish(g->d.rb, "incomplete",
                                          "content_filter"));
    else if (!strcmp(f, "MAX_TOKENS"))
        aura_dec_st(&g->d, aura_rb_finish(g->d.rb, "incomplete",
                                          "max_output_tokens"));
    else if (one_of(f, broken))
        aura_dec_fail(&g->d, "upstream_error", "upstream error: Gemini "
                      "stopped with finishReason %s%s%s", f,
                      g->finish_msg ? ": " : "",
                      g->finish_msg ? aura_redact(g->d.pool, g->finish_msg,
                                                  NULL) : "");
    else
        aura_dec_st(&g->d, aura_rb_finish(g->d.rb, "completed", NULL));
}

/* ---- stream ------------------------------------------------------------- */

static apr_status_t gem_event(aura_decoder_t *d, const char *event,
                              const char *data, apr_size_t len)
{
    gem_dec *g = (gem_dec *)d;
    json_object *o, *err;

    (void)event;
    if (!(o = aura_dec_parse(d, data, len)))
        return d->rv;
    if ((err = aura_json_get(o, "error")))
        aura_dec_fail_upstream(d, "upstream_error", err);
    else
        gem_response(g, o);
    json_object_put(o);
    return d->rv;
}

/* Bytes after the events that are not SSE (a line starting with "{"):
 * Gemini ends a failing stream with its error object, bare. */
static void gem_raw(gem_dec *g, const char *buf, apr_size_t len)
{
    if (g->in_raw == 2 || g->raw.len + len > GEM_RAW_MAX) {
        g->in_raw = 2;              /* too big for an error object */
        return;
    }
    g->in_raw = 1;
    aura_buf_add(&g->raw, buf, len);
}

static apr_status_t gem_feed(aura_decoder_t *d, const char *buf,
                             apr_size_t len)
{
    gem_dec *g = (gem_dec *)d;
    apr_size_t i = 0;

    if (!g->in_raw) {
        for (; i < len; i++) {
            if (g->line_start && buf[i] == '{')
                break;
            g->line_start = buf[i] == '\n' || buf[i] == '\r';
        }
        if (i && aura_sse_feed(d->sse, buf, i) != APR_SUCCESS)
            aura_dec_fail(d, "upstream_bad_response",
                          "upstream event larger than %d bytes",
                          AURA_SSE_MAX_EVENT);
        if (i == len || aura_rb_ended(d->rb))
            return d->rv;
    }
    gem_raw(g, buf + i, len - i);
    return d->rv;
}

static void gem_raw_error(gem_dec *g)
{
    json_object *o = NULL, *err;

    if (g->in_raw == 1) {
        json_tokener_reset(g->d.tok);
        o = json_tokener_parse_ex(g->d.tok, g->raw.s, (int)g->raw.len);
    }
    if ((err = aura_json_get(o, "error")))
        aura_dec_fail_upstream(&g->d, "upstream_error", err);
    else
        aura_dec_fail(&g->d, "upstream_bad_response",
                      "upstream sent data outside of its event stream");
    json_object_put(o);
}

static apr_status_t gem_eof(aura_decoder_t *d)
{
    gem_dec *g = (gem_dec *)d;

    if (g->in_raw)
        gem_raw_error(g);
    else if (g->finish || g->blocked)
        gem_finish(g);
    else
        aura_dec_fail(d, "upstream_stream_truncated",
                      "upstream stream ended before the response finished");
    return d->rv;
}

/* ---- body --------------------------------------------------------------- */

static apr_status_t gem_body(aura_decoder_t *d, json_object *doc)
{
    gem_dec *g = (gem_dec *)d;
    json_object *err = aura_json_get(doc, "error");

    if (err)
        return aura_dec_fail_upstream(d, "upstream_error", err);
    if (!gem_candidate0(doc) && !aura_json_get(doc, "promptFeedback"))
        return aura_dec_fail(d, "upstream_bad_response",
                             "upstream body has no candidates");
    gem_response(g, doc);
    if (!aura_rb_ended(d->rb))
        gem_finish(g);
    return d->rv;
}

aura_decoder_t *aura_gemini_decoder(apr_pool_t *p, aura_rb_t *rb, int stream)
{
    gem_dec *g = apr_pcalloc(p, sizeof(*g));

    aura_dec_init(&g->d, p, rb, stream);
    aura_buf_init(&g->raw, p, 0);
    if (stream)
        g->d.feed = gem_feed;       /* the SSE parser, plus the bare tail */
    g->d.on_event = gem_event;
    g->d.on_eof = gem_eof;
    g->d.on_body = gem_body;
    g->cur = g->msg = g->rs = -1;
    g->line_start = 1;
    return &g->d;
}
