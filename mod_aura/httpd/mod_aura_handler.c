/*
 * mod_aura_handler.c - the front door and the upstream transport.
 *
 * The handler reads and validates the request, resolves the route, encodes
 * the upstream request, and hands upstream bytes, as they arrive, to the
 * output filter chain (AURA_TRANSLATE decodes, builds, meters, encodes).
 * It never parses a provider's answer itself.
 */
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/socket.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <apr_portable.h>

#include "mod_aura_private.h"
#include "aura_buf.h"
#include "aura_upstream.h"
#include "aura_openai_chat.h"
#include "aura_openai_responses.h"

APLOG_USE_MODULE(aura);

#define AURA_ERRBODY_MAX (64 * 1024)

/* ----------------------------------------------------------- responses */

static int fail(aura_exchange_t *ex, int status, const char *code,
                const char *param, const char *msg)
{
    aura_error_t *e = aura_error_make(ex->r->pool, status,
                                      "invalid_request_error", code, param,
                                      "%s", msg);
    return aura_send_error(ex, e);
}

/* ---------------------------------------------------------- front door */

static int is_json_type(const char *ct)
{
    size_t n;
    if (!ct)
        return 0;
    n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ')
        n--;
    return (n == 16 && !strncasecmp(ct, "application/json", 16)) ||
           (n > 5 && !strncasecmp(ct + n - 5, "+json", 5));
}

static int too_large(aura_exchange_t *ex, apr_off_t max)
{
    ex->r->connection->keepalive = AP_CONN_CLOSE;
    return aura_send_error(ex, aura_error_make(ex->r->pool, 413,
        "invalid_request_error", "request_too_large", NULL,
        "The request body is larger than the %" APR_OFF_T_FMT
        " bytes allowed here.", max));
}

static int read_failed(aura_exchange_t *ex, long n)
{
    /* httpd's own limits (LimitRequestBody) and read timeouts arrive here
     * as negative reads; keep their status (413, 408) instead of 400. */
    int status = n < 0 ? ap_map_http_request_error((apr_status_t)-n,
                                                   HTTP_BAD_REQUEST)
                       : HTTP_BAD_REQUEST;
    if (status == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return too_large(ex, ex->r->remaining);
    return fail(ex, status, "invalid_body", NULL,
                "The request body could not be read completely.");
}

static int read_body(aura_exchange_t *ex, char **out, apr_size_t *outlen)
{
    request_rec *r = ex->r;
    apr_off_t max = ex->dc->max_body > 0 ? ex->dc->max_body
                                         : AURA_DEFAULT_MAX_BODY;
    aura_buf_t b;
    long n;

    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK)
        return fail(ex, 400, "invalid_body", NULL,
                    "The request body could not be read.");
    if (r->remaining > max)
        return too_large(ex, max);
    /* Content-Length known: one exact buffer (+1 for the NUL, +1 so that
     * the final zero-length read needs no growth). Chunked: grow. */
    aura_buf_init(&b, r->pool, r->remaining > 0
                                   ? (apr_size_t)r->remaining + 2 : 8192);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, b.s + b.len,
                                        b.cap - b.len - 1)) > 0) {
            b.len += (apr_size_t)n;
            if ((apr_off_t)b.len > max)
                return too_large(ex, max);
            aura_buf_need(&b, 1);   /* room for the next read */
        }
        if (n < 0)
            return read_failed(ex, n);
    }
    b.s[b.len] = '\0';
    *out = b.s;
    *outlen = b.len;
    return DECLINED; /* "continue" */
}

static aura_exchange_t *exchange_create(request_rec *r)
{
    aura_exchange_t *ex = apr_pcalloc(r->pool, sizeof(*ex));
    ex->r = r;
    ex->request_id = aura_make_id(r->pool, "req_");
    ex->sc = ap_get_module_config(r->server->module_config, &aura_module);
    ex->dc = ap_get_module_config(r->per_dir_config, &aura_module);
    ex->meter.request_id = ex->request_id;
    ex->meter.started = r->request_time;
    ex->meter.attempts = 1;
    ex->meter.cache = "miss";
    ex->front = &aura_front_responses;
    apr_table_setn(r->err_headers_out, "x-aura-request-id", ex->request_id);
    apr_table_setn(r->notes, "aura-request-id", ex->request_id);
    return ex;
}

enum { EP_GENERATE, EP_COUNT_TOKENS, EP_MODELS };

/* The routes, by the end of the URI (any prefix: the <Location> decides
 * where the gateway lives). */
static const struct route {
    const char *suffix;
    int method;
    int endpoint;
    const aura_front_t *front;
} routes[] = {
    {"/responses", M_POST, EP_GENERATE, &aura_front_responses},
    {"/chat/completions", M_POST, EP_GENERATE, &aura_front_chat},
    {"/messages/count_tokens", M_POST, EP_COUNT_TOKENS,
     &aura_front_messages_count},
    {"/messages", M_POST, EP_GENERATE, &aura_front_messages},
    {"/models", M_GET, EP_MODELS, &aura_front_responses},
};

static const struct route *find_route(const char *uri)
{
    size_t i, n = strlen(uri), k;
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        k = strlen(routes[i].suffix);
        if (n >= k && !strcmp(uri + n - k, routes[i].suffix))
            return &routes[i];
    }
    return NULL;
}

static int front_door(aura_exchange_t *ex, const struct route *rt,
                      char **body, apr_size_t *len)
{
    request_rec *r = ex->r;
    int rc;

    if (!rt)
        return fail(ex, 404, "unknown_route", NULL, apr_psprintf(r->pool,
                    "No route %s on this gateway (POST .../responses, "
                    ".../chat/completions, .../messages; GET .../models).",
                    ap_escape_html(r->pool, r->uri)));
    if (r->method_number != rt->method) {
        apr_table_setn(r->err_headers_out, "Allow",
                       rt->method == M_GET ? "GET" : "POST");
        return fail(ex, 405, "method_not_allowed", NULL, apr_psprintf(r->pool,
                    "Only %s is allowed on %s.",
                    rt->method == M_GET ? "GET" : "POST", rt->suffix));
    }
    if (rt->method == M_GET)
        return aura_auth_identify(ex);
    if (!is_json_type(apr_table_get(r->headers_in, "Content-Type")))
        return fail(ex, 415, "unsupported_content_type", NULL,
                    "The request body must be JSON "
                    "(Content-Type: application/json).");
    /* The key before the body: a caller without one must not make the
     * gateway read and hold up to AuraMaxBodySize bytes. */
    if ((rc = aura_auth_identify(ex)) != DECLINED)
        return rc;
    return read_body(ex, body, len);
}

/* ------------------------------------------------------------ upstream */

static int client_gone(void *baton)
{
    aura_exchange_t *ex = baton;
    conn_rec *c = ex->r->connection;
    apr_socket_t *sock;
    apr_os_sock_t fd;
    struct pollfd pfd;
    char byte;
    apr_time_t now = apr_time_now();

    if (c->aborted || ex->client_gone)
        return 1;
    /* A cheap probe, a few times a second, while the upstream is quiet. */
    if (now - ex->last_abort_check < apr_time_from_msec(200))
        return 0;
    ex->last_abort_check = now;
    sock = ap_get_conn_socket(c);
    if (!sock || apr_os_sock_get(&fd, sock) != APR_SUCCESS)
        return 0;
    pfd.fd = fd;
    pfd.events = POLLIN | POLLRDHUP;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) <= 0)
        return 0;
    if ((pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) ||
        ((pfd.revents & POLLIN) &&
         recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0)) {
        c->aborted = 1;
        ex->client_gone = 1;
        return 1;
    }
    return 0;
}

static int is_json_body(const char *ctype)
{
    return ctype && !strncasecmp(ctype, "application/json", 16);
}

/* The provider's decoder for the answer; it traces what it skips or
 * repairs where this request logs (LogLevel aura:trace1), with its id. */
static aura_decoder_t *make_decoder(aura_exchange_t *ex, int stream)
{
    aura_decoder_t *d = ex->adapter->decoder(ex->r->pool, ex->rb, stream);

    aura_dec_set_log(d, aura_log_ctx_make(ex->r->pool, ex->request_id,
                                          ex->r));
    return d;
}

static int on_head(void *baton, int status, const char *ctype,
                   const char *retry_after)
{
    aura_exchange_t *ex = baton;
    ex->retry_after = retry_after;
    if (status < 200 || status > 299)
        return 0;
    /* A stream request answered with one JSON document (an error body
     * with a 200, or a server that ignores "stream"): decode it as a
     * body; the builder still streams the events to the client. */
    if (ex->stream && is_json_body(ctype))
        ex->dec = make_decoder(ex, 0);
    ex->passing = 1;
    aura_filter_attach(ex);
    /* The client sees response.created as soon as the provider accepted
     * the request, before its first token. */
    if (ex->stream && (aura_rb_start(ex->rb) != APR_SUCCESS ||
                       aura_filter_flush(ex) != APR_SUCCESS))
        return 1;
    return 0;
}

static int on_data(void *baton, const char *buf, apr_size_t len)
{
    aura_exchange_t *ex = baton;
    request_rec *r = ex->r;
    apr_status_t rv;

    if (!ex->passing) {
        /* An error body: keep enough of it to explain the failure. */
        apr_size_t room = AURA_ERRBODY_MAX - ex->errlen;
        if (!ex->errbody)
            ex->errbody = apr_palloc(r->pool, AURA_ERRBODY_MAX);
        if (len > room)
            len = room;
        memcpy(ex->errbody + ex->errlen, buf, len);
        ex->errlen += len;
        return 0;
    }
    APR_BRIGADE_INSERT_TAIL(ex->in_bb, apr_bucket_transient_create(
                                buf, len, r->connection->bucket_alloc));
    rv = ap_pass_brigade(r->output_filters, ex->in_bb);
    apr_brigade_cleanup(ex->in_bb);
    return rv != APR_SUCCESS || ex->client_gone || r->connection->aborted;
}

static void make_target(aura_exchange_t *ex, aura_target_t *t)
{
    const aura_provider_t *pv = ex->provider;
    const aura_model_t *e = ex->route.entry;

    memset(t, 0, sizeof(*t));
    t->provider = pv->name;
    t->upstream_model = ex->route.upstream_model;
    t->flags = pv->flags;
    t->max_output_default = e ? e->max_output : 0;
    t->base_url = pv->base_url;
    t->key = ex->upstream_key;
    /* A credential from the database replaces the configured ones, AWS
     * keys included (as a Bedrock API key). */
    t->aws = pv->has_aws && ex->upstream_key == pv->key ? &pv->aws : NULL;
    t->region = pv->region;
    t->api_version = pv->api_version;
    t->beta = apr_table_get(ex->r->headers_in, "anthropic-beta");
    t->now = ex->r->request_time;
}

static aura_error_t *prepare_upstream(aura_exchange_t *ex)
{
    request_rec *r = ex->r;
    aura_http_req_t *h = &ex->http;
    aura_target_t t;
    aura_wire_t w;
    aura_error_t *err;

    make_target(ex, &t);
    memset(&w, 0, sizeof(w));
    if ((err = ex->adapter->encode(r->pool, ex->req, &t, &w.body,
                                   &w.len)) != NULL ||
        (err = ex->adapter->request(r->pool, &t, ex->stream, &w)) != NULL)
        return err;
    if (!w.headers)
        w.headers = apr_array_make(r->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(w.headers, const char *) = "Content-Type: application/json";
    APR_ARRAY_PUSH(w.headers, const char *) =
        ex->stream ? "Accept: text/event-stream, */*"
                   : "Accept: application/json";
    h->url = w.url;
    h->headers = w.headers;
    h->body = w.body;
    h->body_len = w.len;
    h->connect_ms = ex->sc->connect_ms;
    /* Without streaming the first byte is the whole answer: only the
     * total timeout applies. */
    h->first_byte_ms = ex->stream ? ex->sc->first_byte_ms : 0;
    h->idle_ms = ex->sc->idle_ms;
    h->total_ms = ex->sc->total_ms;
    h->on_head = on_head;
    h->on_data = on_data;
    h->is_aborted = client_gone;
    h->baton = ex;
    return NULL;
}

/* A registry entry's "api" picks between OpenAI's two wire APIs; it
 * means nothing for other providers, nor once AuraRoute moved the model. */
static const aura_adapter_t *pick_adapter(aura_exchange_t *ex)
{
    const aura_model_t *e = ex->route.routed ? NULL : ex->route.entry;
    const aura_adapter_t *a = ex->provider->adapter;
    int openai_api = a == &aura_adapter_openai_chat ||
                     a == &aura_adapter_openai_responses;

    if (openai_api && e && e->api && !strcmp(e->api, "chat"))
        return &aura_adapter_openai_chat;
    if (openai_api && e && e->api && !strcmp(e->api, "responses"))
        return &aura_adapter_openai_responses;
    return a;
}

static void log_outcome(aura_exchange_t *ex)
{
    const aura_usage_t *u = ex->rb ? aura_rb_get_usage(ex->rb) : NULL;
    AURA_LOG(ex, APLOG_INFO, "%s provider=%s model=%s upstream_status=%d "
             "in=%ld out=%ld overhead_us=%" APR_TIME_T_FMT "%s%s",
             ex->stream ? "stream" : "json", ex->provider->name,
             ex->route.name, ex->http.status, u ? u->input : 0L,
             u ? u->output : 0L, (apr_time_t)aura_overhead_now(ex),
             ex->tenant ? apr_pstrcat(ex->r->pool, " key=",
                                      ex->tenant->key_id, NULL) : "",
             ex->client_gone ? " client_gone" : "");
}

static int finish_upstream(aura_exchange_t *ex, aura_http_outcome_e outcome,
                           const char *detail)
{
    request_rec *r = ex->r;
    const char *name = ex->provider->name;

    if (ex->passing) {
        if (outcome != AURA_HTTP_OK && outcome != AURA_HTTP_ABORTED)
            ex->upstream_error = aura_upstream_transport_error(
                r->pool, name, outcome, detail);
        if (!ex->client_gone && !r->connection->aborted) {
            APR_BRIGADE_INSERT_TAIL(ex->in_bb, apr_bucket_eos_create(
                                        r->connection->bucket_alloc));
            ap_pass_brigade(r->output_filters, ex->in_bb);
        }
        log_outcome(ex);
        return OK;
    }
    if (outcome == AURA_HTTP_ABORTED) {
        AURA_LOG(ex, APLOG_INFO, "client went away before the upstream "
                 "answered; upstream request stopped");
        return OK;
    }
    if (outcome != AURA_HTTP_OK)
        return aura_send_error(ex, aura_upstream_transport_error(
                                       r->pool, name, outcome, detail));
    return aura_send_error(ex, aura_upstream_status_error(
                                   r->pool, name, ex->upstream_key,
                                   ex->http.status,
                                   ex->errbody, ex->errlen, ex->retry_after));
}

/* Hosted tools (web_search, custom, ...) exist only on OpenAI's Responses
 * API; elsewhere they are left out, and the response says so. */
static void note_dropped_tools(aura_exchange_t *ex)
{
    json_object *h = ex->req->hosted_tools;
    const char *types = "";
    size_t i;

    if (!h || ex->adapter == &aura_adapter_openai_responses)
        return;
    for (i = 0; i < json_object_array_length(h); i++)
        types = apr_pstrcat(ex->r->pool, types, i ? ", " : "",
                            aura_json_string(json_object_array_get_idx(h, i),
                                             "type"), NULL);
    ex->meter.warnings = apr_array_make(ex->r->pool, 1, sizeof(char *));
    APR_ARRAY_PUSH(ex->meter.warnings, const char *) = apr_psprintf(
        ex->r->pool, "tools not offered to the model: provider '%s' does not "
        "run hosted tools (%s)", ex->provider->name, types);
    AURA_LOG(ex, APLOG_INFO, "%s", APR_ARRAY_IDX(ex->meter.warnings, 0,
                                                 const char *));
}

static int proxy(aura_exchange_t *ex)
{
    request_rec *r = ex->r;
    aura_error_t *err;
    aura_http_outcome_e outcome;
    const char *detail = NULL;
    int rc;

    if ((rc = aura_cred_pick(ex)) != DECLINED)
        return rc;
    ex->adapter = pick_adapter(ex);
    note_dropped_tools(ex);
    if ((err = prepare_upstream(ex)) != NULL)
        return aura_send_error(ex, err);
    ex->rb = aura_rb_create(r->pool, ex->req,
                            aura_make_id(r->pool, "resp_"), ex->route.name);
    aura_rb_set_secret(ex->rb, ex->upstream_key ? ex->upstream_key
                               : ex->provider->has_aws
                                     ? ex->provider->aws.secret_access_key
                                     : NULL);
    ex->dec = make_decoder(ex, ex->stream);
    ex->in_bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ex->pre_time = apr_time_now() - r->request_time;
    AURA_LOG(ex, APLOG_DEBUG, "upstream %s via %s model=%s",
             ex->provider->name, ex->adapter->name, ex->route.upstream_model);
    ex->sent_upstream = 1;
    outcome = aura_http_perform(r->pool, &ex->http, &detail);
    return finish_upstream(ex, outcome, detail);
}

static int route(aura_exchange_t *ex)
{
    request_rec *r = ex->r;
    aura_error_t *err;

    err = aura_resolve(r->pool, ex->sc->registry, &ex->dc->rules,
                       ex->sc->providers, ex->req->model, &ex->route);
    if (err)
        return aura_send_error(ex, err);
    ex->provider = apr_hash_get(ex->sc->providers, ex->route.provider,
                                APR_HASH_KEY_STRING);
    ex->meter.provider = ex->provider->name;
    ex->meter.model = ex->route.name;
    ex->meter.upstream_model = ex->route.upstream_model;
    ex->meter.entry = ex->route.entry;
    return DECLINED;
}

int aura_handler(request_rec *r)
{
    aura_exchange_t *ex;
    aura_error_t *err;
    char *body = NULL;
    apr_size_t len = 0;
    const struct route *rt;
    int rc;

    if (!r->handler || strcmp(r->handler, "aura"))
        return DECLINED;
    ex = exchange_create(r);
    rt = find_route(r->uri);
    if (rt)
        ex->front = rt->front;
    if ((rc = aura_auth_refuse_query_key(ex)) != DECLINED ||
        (rc = front_door(ex, rt, &body, &len)) != DECLINED)
        return rc;
    if (rt->endpoint == EP_MODELS)
        return aura_models_list(ex);
    if (rt->endpoint == EP_COUNT_TOKENS)
        return aura_count_tokens(ex, body, len);
    if ((err = ex->front->parse(r->pool, body, len, r->headers_in,
                                &ex->req)) != NULL)
        return aura_send_error(ex, err);
    ex->stream = ex->req->stream;
    ex->end_user = ex->req->safety_identifier;
    if ((rc = route(ex)) != DECLINED ||
        (rc = aura_auth_check_model(ex)) != DECLINED)
        return rc;
    rc = proxy(ex);
    aura_ledger_record(ex);
    return rc;
}
