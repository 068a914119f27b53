/*
 * admin_main.c - aura-admin's entry: a CGI request when Apache runs it
 * (GATEWAY_INTERFACE set), the command line otherwise.
 *
 * A CGI request goes: environment → body (capped) → database → who is
 * calling (admin_users) → route → write checks (role, CSRF or JSON) →
 * handler → one buffered answer with the security headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "admin_int.h"

static int cli_mode;

int adm_in_cli(void)
{
    return cli_mode;
}

static adm_t *adm_new(apr_pool_t *p)
{
    adm_t *a = apr_pcalloc(p, sizeof(*a));

    a->p = p;
    aura_buf_init(&a->out, p, 8192);
    a->status = 200;
    a->content_type = "text/html; charset=utf-8";
    a->headers = apr_table_make(p, 4);
    a->query = apr_table_make(p, 8);
    a->form = apr_table_make(p, 8);
    return a;
}

adm_t *adm_cli_context(apr_pool_t *p)
{
    adm_t *a = adm_new(p);

    cli_mode = 1;
    a->api = 1;
    a->method = "POST";
    a->path = "/";
    a->base = "";
    a->user = "cli";
    a->role = "superadmin";
    a->org_id = 0;
    a->db = adm_db_connect(p);
    if (!a->db) {
        fprintf(stderr, "aura-admin: cannot connect to the database "
                        "(AURA_DB)\n");
        return NULL;
    }
    return a;
}

/* ---------------------------------------------------------- routing */

static const adm_route_t *const route_tables[] = {
    adm_tenant_routes, adm_key_routes, adm_cred_routes, adm_policy_routes,
    adm_report_routes, adm_log_routes,
};

/* Does path match pattern? Fills *id and *action on success. */
static int route_match(const char *pattern, const char *path,
                       long long *id, const char **action, apr_pool_t *p)
{
    while (*pattern && *path) {
        const char *pe = strchr(pattern + 1, '/'), *se = strchr(path + 1, '/');
        size_t pl = pe ? (size_t)(pe - pattern) : strlen(pattern);
        size_t sl = se ? (size_t)(se - path) : strlen(path);
        char *seg;

        if (*pattern != '/' || *path != '/')
            return 0;
        seg = apr_pstrmemdup(p, path + 1, sl - 1);
        if (pl == 5 && !strncmp(pattern, "/{id}", 5)) {
            if (!(*id = adm_parse_id(seg)))
                return 0;
        } else if (pl == 9 && !strncmp(pattern, "/{action}", 9)) {
            if (!*seg || strspn(seg, "abcdefghijklmnopqrstuvwxyz_")
                         != strlen(seg))
                return 0;
            *action = seg;
        } else if (pl != sl || strncmp(pattern, path, pl)) {
            return 0;
        }
        pattern += pl;
        path += sl;
    }
    return !*pattern && !*path;
}

/* The route for a->method and path; NULL with *allow (the methods the
 * path does answer, for 405) or *allow NULL (404). */
static const adm_route_t *route_find(adm_t *a, const char *path,
                                     const char **allow)
{
    const char *method = strcmp(a->method, "HEAD") ? a->method : "GET";
    size_t t;

    *allow = NULL;
    for (t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
        const adm_route_t *r;
        for (r = route_tables[t]; r->method; r++) {
            long long id = 0;
            const char *action = NULL;

            if (!route_match(r->pattern, path, &id, &action, a->p))
                continue;
            if (!strcmp(r->method, "*") || !strcmp(r->method, method)) {
                a->id = id;
                a->action = action;
                return r;
            }
            if (!*allow || !strstr(*allow, r->method))
                *allow = *allow ? apr_pstrcat(a->p, *allow, ", ", r->method,
                                              NULL)
                                : r->method;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------- request */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v ? v : "";
}

/* The media type without parameters, compared case-insensitively. */
static int media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);

    return ct && !strncasecmp(ct, type, n)
           && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Reads and drops up to n more bytes of the body (ADM_BODY_DRAIN at
 * most). mod_cgid writes the whole body into the script's socket before it
 * reads the answer; a script that exits with some of it unread resets that
 * socket, the answer is lost, and the client sees its connection reset
 * instead of the 413. */
static void drain_body(unsigned long long n)
{
    char buf[16384];
    size_t r;

    if (n > ADM_BODY_DRAIN)
        n = ADM_BODY_DRAIN;
    while (n && (r = fread(buf, 1, n < sizeof(buf) ? n : sizeof(buf),
                           stdin)) > 0)
        n -= r;
}

static int too_large(adm_t *a, unsigned long long rest)
{
    drain_body(rest);
    return adm_error(a, 413, "invalid_request", NULL,
                     "the request body is larger than 1 MiB");
}

/* Up to n bytes of stdin into buf; how many came. */
static size_t read_full(char *buf, size_t n)
{
    size_t got = 0, r;

    while (got < n && (r = fread(buf + got, 1, n - got, stdin)) > 0)
        got += r;
    return got;
}

/* How much body to read: CONTENT_LENGTH, or for a chunked body (Apache
 * passes it de-chunked, with no CONTENT_LENGTH, and ends stdin after it)
 * one byte over the limit, to learn whether it fits. */
static int body_length(adm_t *a, unsigned long long *n, int *chunked)
{
    const char *cl = env("CONTENT_LENGTH");
    char *end;

    *n = 0;
    *chunked = !*cl && *env("HTTP_TRANSFER_ENCODING");
    if (*chunked)
        *n = ADM_BODY_MAX + 1;
    if (!*cl)
        return 0;
    *n = strtoull(cl, &end, 10);
    if (*end || *cl == '-')
        return adm_error(a, 400, "invalid_request", NULL,
                         "malformed Content-Length");
    return 0;
}

/* Reads the body into *body; the status to answer when it cannot, else
 * 0. A body over the limit is read (up to ADM_BODY_DRAIN) before the 413,
 * so that the client gets it. */
static int read_body(adm_t *a, char **body, apr_size_t *len)
{
    unsigned long long n;
    size_t got;
    int chunked, rc;

    *body = NULL;
    *len = 0;
    if ((rc = body_length(a, &n, &chunked)) != 0 || !n)
        return rc;
    if (n > ADM_BODY_MAX && !chunked)
        return too_large(a, n);
    *body = apr_palloc(a->p, (apr_size_t)n + 1);
    got = read_full(*body, (size_t)n);
    if (got > ADM_BODY_MAX)             /* chunked, and too long */
        return too_large(a, ADM_BODY_DRAIN - got);
    if (got != n && !chunked)
        return adm_error(a, 400, "invalid_request", NULL,
                         "the request body ended early");
    (*body)[got] = '\0';
    *len = got;
    return 0;
}

/* Parses the body by its media type: forms for pages, JSON for the API.
 * Parse failures are remembered in *err and only matter for writes. */
static void parse_body(adm_t *a, const char *body, apr_size_t len,
                       const char **err)
{
    const char *ct = getenv("CONTENT_TYPE");

    *err = NULL;
    if (!len)
        return;
    if (!a->api && media_is(ct, "application/x-www-form-urlencoded"))
        *err = adm_parse_urlencoded(a->p, body, len, a->form);
    else if (a->api && media_is(ct, "application/json"))
        *err = adm_parse_json_body(a, body, len);
}

/* Who is calling: role and org from admin_users; the status answered
 * when the caller may not use the console, else 0. */
static int identify(adm_t *a)
{
    const char *params[1] = {a->user};
    PGresult *r;

    r = adm_qx(a, "SELECT role, org_id FROM admin_users "
                  "WHERE username = $1 AND status = 'active'", 1, params);
    if (!r)
        return a->status;
    if (PQntuples(r) != 1) {
        fprintf(stderr, "aura-admin: %s is not an admin user\n", a->user);
        return adm_error(a, 403, "forbidden", NULL, "not an admin");
    }
    a->role = apr_pstrdup(a->p, adm_v(r, 0, "role"));
    a->org_id = adm_parse_id(adm_v(r, 0, "org_id"));
    a->csrf = adm_csrf_token(a);
    return 0;
}

/* The checks a state-changing route needs before its handler runs. */
static int write_checks(adm_t *a, const char *body_err)
{
    if (!strcmp(a->role, "viewer"))
        return adm_error(a, 403, "forbidden", NULL,
                         "viewers cannot change anything");
    if (!a->csrf)
        return adm_error(a, 503, "unavailable", NULL,
                         "changes are disabled: the console has no master "
                         "key (AURA_MASTER_KEY_FILE)");
    if (!a->api) {
        if (body_err || !adm_csrf_ok(a, apr_table_get(a->form, "csrf")))
            return adm_error(a, 403, "forbidden", "csrf",
                             "invalid CSRF token");
        return 0;
    }
    if (!media_is(getenv("CONTENT_TYPE"), "application/json"))
        return adm_error(a, 415, "invalid_request", NULL,
                         "changes need Content-Type: application/json");
    if (body_err)
        return adm_error(a, 400, "invalid_request", NULL, "%s", body_err);
    return 0;
}

static int dispatch(adm_t *a, const char *body_err)
{
    const char *path = a->api ? a->path + 4 : a->path, *allow;
    const adm_route_t *route;
    int rc;

    if (!*path)
        path = "/";
    else if (path[1] && path[strlen(path) - 1] == '/')   /* "/orgs/" */
        path = apr_pstrndup(a->p, path, strlen(path) - 1);
    route = route_find(a, path, &allow);
    if (!route && allow) {
        apr_table_setn(a->headers, "Allow", allow);
        return adm_error(a, 405, "invalid_request", NULL,
                         "%s is not allowed here", a->method);
    }
    if (!route)
        return adm_error(a, 404, "not_found", NULL, "no such page");
    if (route->write && (rc = write_checks(a, body_err)) != 0)
        return rc;
    rc = route->fn(a);
    if (rc >= 400 && a->out.len == 0)      /* a handler that said nothing */
        return adm_error(a, rc, rc >= 500 ? "server_error" : "invalid_request",
                         NULL, "the request failed");
    return rc;
}

static int cgi_request(adm_t *a)
{
    const char *qs = env("QUERY_STRING"), *err, *body_err = NULL;
    char *body;
    apr_size_t len;
    int rc;

    a->method = *env("REQUEST_METHOD") ? env("REQUEST_METHOD") : "GET";
    a->path = *env("PATH_INFO") ? env("PATH_INFO") : "/";
    a->api = !strncmp(a->path, "/api/", 5) || !strcmp(a->path, "/api");
    a->base = env("SCRIPT_NAME");
    a->remote_addr = getenv("REMOTE_ADDR");
    a->user = *env("REMOTE_USER") ? env("REMOTE_USER") : NULL;

    if ((err = adm_parse_urlencoded(a->p, qs, strlen(qs), a->query)))
        return adm_error(a, 400, "invalid_request", NULL, "%s", err);
    if ((rc = read_body(a, &body, &len)) != 0)
        return rc;
    parse_body(a, body, len, &body_err);
    if (!a->user)
        return adm_error(a, 401, "unauthorized", NULL,
                         "sign in first (the server did not authenticate "
                         "this request)");
    if (!(a->db = adm_db_connect(a->p)))
        return adm_error(a, 503, "unavailable", NULL,
                         "the tenant database is unavailable");
    if ((rc = identify(a)) != 0)
        return rc;
    return dispatch(a, body_err);
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    int rc;

    if (apr_app_initialize(&argc, (const char *const **)&argv, NULL)
        != APR_SUCCESS || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        fprintf(stderr, "aura-admin: cannot initialise APR\n");
        return 1;
    }
    if (getenv("GATEWAY_INTERFACE")) {
        adm_t *a = adm_new(p);
        cgi_request(a);
        adm_send(a);
        rc = 0;
    } else {
        rc = adm_cli_main(p, argc, argv);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
