/*
 * aura_upstream.c - mapping upstream failures to client errors.
 */
#include <stdlib.h>
#include <string.h>

#include "aura_upstream.h"

/* The upstream's own error object. Shapes seen: OpenAI, Anthropic and
 * Gemini {"error":{"message",...}}; Bedrock's bare {"message"}; Ollama's
 * {"error":"text"} (normalized to {"message":"text"}). */
static json_object *upstream_error_obj(apr_pool_t *p, const char *body,
                                       apr_size_t len)
{
    json_object *root, *err, *o;
    json_tokener *tok;

    if (!body || !len)
        return NULL;
    tok = aura_tokener_acquire();
    root = aura_json_pool(p, json_tokener_parse_ex(tok, body, (int)len));
    aura_tokener_release(tok);
    err = aura_json_get(root, "error");
    if (err && json_object_is_type(err, json_type_object))
        return err;
    if (err && json_object_is_type(err, json_type_string)) {
        o = aura_json_pool(p, json_object_new_object());
        json_object_object_add(o, "message", json_object_get(err));
        return o;
    }
    return (root && aura_json_string(root, "message")) ? root : NULL;
}

/* Gemini says when to retry in the body (google.rpc.RetryInfo,
 * "retryDelay": "7s" or "0.5s") rather than in a Retry-After header.
 * Whole seconds, rounded up, as Retry-After wants. */
static const char *retry_info(apr_pool_t *p, json_object *err)
{
    json_object *details = aura_json_get(err, "details");
    size_t i, n;

    if (!details || !json_object_is_type(details, json_type_array))
        return NULL;
    n = json_object_array_length(details);
    for (i = 0; i < n; i++) {
        const char *d = aura_json_string(json_object_array_get_idx(details, i),
                                         "retryDelay");
        char *end;
        double secs = d ? strtod(d, &end) : -1;
        if (d && end != d && secs >= 0 && secs < 86400)
            return apr_psprintf(p, "%ld", (long)secs + (secs > (long)secs));
    }
    return NULL;
}

static const char *code_of(apr_pool_t *p, json_object *err)
{
    json_object *c = aura_json_get(err, "code");
    if (!c)
        return NULL;
    return apr_pstrdup(p, json_object_get_string(c));
}

/* Gemini answers a refused key with 400 INVALID_ARGUMENT and reason
 * API_KEY_INVALID in its details, not with 401/403. */
static int key_refused(json_object *err)
{
    json_object *details = aura_json_get(err, "details");
    size_t i, n;

    if (!details || !json_object_is_type(details, json_type_array))
        return 0;
    n = json_object_array_length(details);
    for (i = 0; i < n; i++) {
        const char *r = aura_json_string(json_object_array_get_idx(details, i),
                                         "reason");
        if (r && !strcmp(r, "API_KEY_INVALID"))
            return 1;
    }
    return 0;
}

aura_error_t *aura_upstream_status_error(apr_pool_t *p, const char *provider,
                                         const char *secret, int status,
                                         const char *body, apr_size_t len,
                                         const char *retry_after)
{
    json_object *err = upstream_error_obj(p, body, len);
    /* Upstream text goes to the client and the log: never a credential. */
    const char *msg = aura_redact(p, aura_json_string(err, "message"),
                                  secret);
    aura_error_t *e;

    if (status == 401 || status == 403 || (status == 400 && key_refused(err)))
        return aura_error_make(p, 502, "server_error", "upstream_auth_failed",
                               NULL, "The provider '%s' refused the "
                               "gateway's credential for it (HTTP %d). This "
                               "is a gateway configuration problem, not a "
                               "problem with your request or key.",
                               provider, status);
    if (status == 429) {
        e = aura_error_make(p, 429, "rate_limit_error",
                            code_of(p, err) ? code_of(p, err)
                                            : "rate_limit_exceeded",
                            NULL, "The provider '%s' is rate limiting "
                            "requests: %s", provider,
                            msg ? msg : "retry later");
        e->retry_after = retry_after ? retry_after : retry_info(p, err);
        return e;
    }
    if (status >= 400 && status < 500)
        return aura_error_make(p, status,
                               aura_json_string(err, "type")
                                   ? apr_pstrdup(p, aura_json_string(err, "type"))
                                   : "invalid_request_error",
                               code_of(p, err),
                               aura_json_string(err, "param")
                                   ? apr_pstrdup(p, aura_json_string(err, "param"))
                                   : NULL,
                               "The provider '%s' rejected the request: %s",
                               provider, msg ? msg : "(no message)");
    if (status == 503 || status == 529) {
        e = aura_error_make(p, 503, "server_error", "upstream_overloaded", NULL,
                            "The provider '%s' is overloaded (HTTP %d): %s",
                            provider, status, msg ? msg : "(no message)");
        e->retry_after = retry_after;
        return e;
    }
    return aura_error_make(p, 502, "server_error", "upstream_error", NULL,
                           "The provider '%s' failed (HTTP %d): %s", provider,
                           status, msg ? msg : "(no message)");
}

aura_error_t *aura_upstream_transport_error(apr_pool_t *p,
                                            const char *provider,
                                            aura_http_outcome_e outcome,
                                            const char *detail)
{
    const char *what;
    switch (outcome) {
    case AURA_HTTP_CONNECT_TIMEOUT:
        what = "did not accept a connection in time"; break;
    case AURA_HTTP_FIRST_BYTE_TIMEOUT:
        what = "did not start answering in time"; break;
    case AURA_HTTP_IDLE_TIMEOUT:
        what = "went silent in the middle of its answer"; break;
    case AURA_HTTP_TOTAL_TIMEOUT:
        what = "did not finish its answer in time"; break;
    case AURA_HTTP_CONNECT_FAILED:
        return aura_error_make(p, 502, "server_error", "upstream_unreachable",
                               NULL, "The provider '%s' could not be "
                               "reached (%s).", provider,
                               detail ? detail : "connection failed");
    default:
        return aura_error_make(p, 502, "server_error", "upstream_error", NULL,
                               "The connection to provider '%s' failed "
                               "(%s).", provider,
                               detail ? detail : "transfer error");
    }
    return aura_error_make(p, 504, "server_error", "upstream_timeout", NULL,
                           "The provider '%s' %s.", provider, what);
}
