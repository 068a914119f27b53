/*
 * admin_creds.c - provider credentials in the console: list, create
 * (which replaces the live one of the same org and provider), show,
 * archive.
 *
 * Write-only: the secret is sealed with AES-256-GCM under the master key,
 * bound to (org, provider) by the associated data; lists show a hint (its
 * last four characters), never the secret or its sealed form, and a form
 * that failed comes back with the secret field empty.
 */
#include <string.h>
#include <apr_strings.h>

#include "admin.h"
#include "aura_crypt.h"

#define NAME_MAX_CHARS 200
#define PROVIDER_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
                       "0123456789_.-"
#define SECRET_MAX 8192
/* Shorter secrets get no hint: four characters would give too much of
 * them away. */
#define HINT_MIN_CHARS 12

#define CRED_COLS \
    "c.id, c.org_id, c.provider, c.name, c.hint, c.status, c.created_at, " \
    "c.updated_at"
#define CRED_HTML_COLS \
    ", o.name AS org_name, " ADM_SQL_MINUTE("c.created_at") \
    " AS created_txt " \
    "FROM provider_credentials c LEFT JOIN organizations o ON o.id = c.org_id"
/* A caller sees its org's credentials and the global ones. */
#define CRED_LIST_WHERE \
    " WHERE ($1::bigint IS NULL OR c.org_id = $1 OR c.org_id IS NULL)" \
    " AND ($2::bigint IS NULL OR c.org_id = $2)" \
    " AND ($3::text IS NULL OR c.provider = $3)" \
    " AND ($4::text IS NULL OR c.status = $4)" \
    " ORDER BY c.provider, c.org_id NULLS FIRST, c.id DESC"
#define CRED_ONE \
    " FROM provider_credentials c WHERE c.id = $1 AND ($2::bigint IS NULL " \
    "OR c.org_id = $2 OR c.org_id IS NULL)"

typedef struct {
    const char *provider, *secret, *name;
    long long org;              /* 0: every org */
} cred_in_t;

/* ---------------------------------------------------------- input */

/* The last four characters, so people can tell credentials apart. */
static const char *cred_hint(apr_pool_t *p, const char *s)
{
    const char *e = s + strlen(s);
    size_t chars = 0, k = 0;
    const char *c;

    for (c = s; *c; c++)
        chars += ((unsigned char)*c & 0xc0) != 0x80;
    if (chars < HINT_MIN_CHARS)
        return "";
    while (e > s && k < 4)
        k += ((unsigned char)*--e & 0xc0) != 0x80;
    return apr_pstrdup(p, e);
}

static int cred_secret_check(adm_t *a, adm_bad_t *b, const char *s)
{
    json_object *m;

    if (a->api && json_object_object_get_ex(a->body, "secret", &m)
        && !json_object_is_type(m, json_type_string))
        return adm_form_bad(a, b, 400, "secret", "secret must be a string");
    if (!s)
        return adm_form_bad(a, b, 400, "secret", "secret is required");
    if (strlen(s) > SECRET_MAX)
        return adm_form_bad(a, b, 400, "secret",
                            "secret is longer than %d bytes", SECRET_MAX);
    if (!adm_form_text_ok(s, SECRET_MAX))
        return adm_form_bad(a, b, 400, "secret", "secret contains a control "
                            "character (a pasted line break?)");
    return 0;
}

/* 0, 1 with *b, -1 answered. */
/* The org (0: every org). The API's absent org_id means every org; the
 * form's must be chosen, every organization being "*", so that nobody
 * makes a credential global by leaving a default. */
static int cred_org_read(adm_t *a, adm_bad_t *b, long long *org)
{
    const char *s = adm_field(a, "org_id");

    *org = 0;
    if (a->api || (s && strcmp(s, "*")))
        return adm_form_id_field(a, b, "org_id", 0, org);
    if (!s)
        return adm_form_bad(a, b, 400, "org_id", "org_id: choose an "
                            "organization, or every organization");
    return 0;
}

static int cred_read(adm_t *a, adm_bad_t *b, cred_in_t *in)
{
    size_t n;

    in->provider = adm_field(a, "provider");
    in->secret = adm_field(a, "secret");
    in->name = adm_field(a, "name");
    n = in->provider ? strlen(in->provider) : 0;
    if (!n)
        return adm_form_bad(a, b, 400, "provider", "provider is required");
    if (n > 64 || strspn(in->provider, PROVIDER_CHARS) != n)
        return adm_form_bad(a, b, 400, "provider", "provider must be 1 to 64 "
                            "of A-Z a-z 0-9 _ . -");
    if (cred_secret_check(a, b, in->secret))
        return 1;
    if (in->name && !adm_form_text_ok(in->name, NAME_MAX_CHARS))
        return adm_form_bad(a, b, 400, "name", "name must be at most %d "
                            "characters without control characters",
                            NAME_MAX_CHARS);
    if (cred_org_read(a, b, &in->org))
        return 1;
    if (!in->org && !adm_org_writable(a, 0))
        return adm_form_bad(a, b, 403, "org_id", "org_id is required: only a "
                            "superadmin can set a credential for every org");
    return in->org ? adm_form_org_check(a, b, in->org) : 0;
}

/* ---------------------------------------------------------- storage */

static json_object *cred_detail(PGresult *r, int i)
{
    json_object *d = json_object_new_object();
    const char *org = adm_v(r, i, "org_id");

    json_object_object_add(d, "provider",
                           json_object_new_string(adm_v(r, i, "provider")));
    json_object_object_add(d, "org_id", org ? json_object_new_int64(
                               adm_parse_id(org)) : NULL);
    json_object_object_add(d, "hint",
                           json_object_new_string(adm_v(r, i, "hint")));
    return d;
}

/* Archives the live credential of (org, provider), if any: creating one
 * replaces it. The transaction lock on the pair makes concurrent creates
 * take turns (the last one wins) instead of tripping the unique index.
 * 0, or -1 answered. */
static int cred_replace(adm_t *a, const cred_in_t *in)
{
    const char *pv[2] = {adm_id(a, in->org), in->provider};
    PGresult *r;
    int i;

    if (!adm_qx(a, "SELECT pg_advisory_xact_lock(hashtextextended("
                   "'aura-cred/' || $1 || '/' || $2, 0))", 2, pv))
        return -1;
    r = adm_qx(a, "UPDATE provider_credentials SET status = 'archived', "
                  "updated_at = now() WHERE coalesce(org_id, 0) = $1 AND "
                  "provider = $2 AND status = 'active' "
                  "RETURNING id, org_id, provider, hint", 2, pv);
    if (!r)
        return -1;
    for (i = 0; i < PQntuples(r); i++) {
        json_object *d = cred_detail(r, i);
        json_object_object_add(d, "reason",
                               json_object_new_string("replaced"));
        if (adm_audit_x(a, "credential.archive", "credential",
                        adm_parse_id(adm_v(r, i, "id")), in->org, d))
            return -1;
    }
    return 0;
}

/* Seals and stores; the new row, or NULL answered. */
static PGresult *cred_store(adm_t *a, const cred_in_t *in)
{
    const unsigned char *mk = adm_master_key(a);
    const char *sealed, *err, *pv[5];

    if (!mk) {
        adm_error(a, 503, "unavailable", NULL, "credentials cannot be stored:"
                  " the console has no master key (AURA_MASTER_KEY_FILE)");
        return NULL;
    }
    if ((err = aura_seal(a->p, mk, aura_cred_aad(a->p, in->org, in->provider),
                         in->secret, &sealed))) {
        adm_error(a, 500, "server_error", NULL, "sealing failed: %s", err);
        return NULL;
    }
    pv[0] = adm_id_opt(a, in->org);
    pv[1] = in->provider;
    pv[2] = in->name;
    pv[3] = sealed;
    pv[4] = cred_hint(a->p, in->secret);
    return adm_qx(a, "INSERT INTO provider_credentials AS c (org_id, "
                     "provider, name, sealed, hint) VALUES ($1, $2, $3, $4, "
                     "$5) RETURNING " CRED_COLS, 5, pv);
}

/* ---------------------------------------------------------- pages */

/* Credential filters: caller scope, org, provider, status (default
 * active: a replaced credential is history). 0 or the status answered. */
static int cred_filters(adm_t *a, const char **pv)
{
    static const char *const sts[] = {"active", "archived", "all", NULL};
    const char *st;
    int rc;

    pv[0] = adm_scope_param(a);
    if ((rc = adm_form_id_arg(a, "org_id", &pv[1])) != 0)
        return rc;
    pv[2] = adm_arg(a, "provider");
    if ((rc = adm_form_status_arg(a, sts, "active", &st)) != 0)
        return rc;
    pv[3] = strcmp(st, "all") ? st : NULL;
    return 0;
}

static void cred_row(adm_t *a, PGresult *r, int i)
{
    const char *org = adm_v(r, i, "org_id"), *name = adm_v(r, i, "name");

    adm_puts(a, "<tr><td>");
    adm_esc(a, adm_v(r, i, "provider"));
    adm_puts(a, "</td><td>");
    adm_esc(a, org ? adm_v(r, i, "org_name") : "every organization");
    adm_puts(a, "</td><td>");
    adm_esc(a, name ? name : "—");
    adm_puts(a, "</td><td>");
    if (*adm_v(r, i, "hint")) {
        adm_puts(a, "<code>…");
        adm_esc(a, adm_v(r, i, "hint"));
        adm_puts(a, "</code>");
    } else {
        adm_puts(a, "—");       /* too short a secret to hint at */
    }
    adm_printf(a, "</td><td>%s</td><td>",
               adm_escs(a->p, adm_v(r, i, "status")));
    adm_esc(a, adm_v(r, i, "created_txt"));
    adm_puts(a, "</td><td>");
    if (!strcmp(adm_v(r, i, "status"), "active")
        && adm_org_writable(a, adm_parse_id(org)))
        adm_form_button(a, apr_pstrcat(a->p, "/credentials/",
                                       adm_v(r, i, "id"), "/archive", NULL),
                        "Archive");
    adm_puts(a, "</td></tr>\n");
}

static const char *const cred_fields[] = {
    "provider", "org_id", "name", "secret", NULL
};

/* The secret field is never filled in, not even after an error: the
 * page must not carry the secret back. */
static int cred_form(adm_t *a, const adm_bad_t *b)
{
    const char *pv[1] = {adm_scope_param(a)};
    PGresult *orgs = adm_qx(a, "SELECT id, name AS label FROM organizations "
                               "WHERE status = 'active' AND ($1::bigint IS "
                               "NULL OR id = $1) ORDER BY name", 1, pv);

    if (!orgs)
        return -1;
    adm_printf(a, "<h2>New credential</h2><p class=\"muted\">Replaces the "
               "live credential of the same provider and organization."
               "</p><form class=\"box\" method=\"post\" "
               "action=\"%s/credentials\" autocomplete=\"off\">",
               adm_escs(a->p, a->base));
    adm_csrf_input(a);
    adm_form_top_error(a, b, cred_fields);
    adm_form_input(a, b, "Provider", "provider", "text",
                   adm_field(a, "provider"), " required maxlength=\"64\" "
                   "pattern=\"[A-Za-z0-9_.\\-]+\"");
    if (adm_org_writable(a, 0))
        adm_form_id_choose(a, b, "Organization", "org_id", orgs,
                           adm_field(a, "org_id"), "every organization");
    else                        /* confined: its own org, preselected */
        adm_form_id_select(a, b, "Organization", "org_id", orgs,
                           adm_field(a, "org_id"), NULL);
    adm_form_input(a, b, "Name (optional)", "name", "text",
                   adm_field(a, "name"), " maxlength=\"200\"");
    adm_form_input(a, b, "Secret", "secret", "password", "",
                   " required autocomplete=\"new-password\"");
    adm_puts(a, "<p><button type=\"submit\">Save credential</button></p>"
                "</form>\n");
    return 0;
}

static int cred_list_page(adm_t *a, const adm_bad_t *b)
{
    static const char *const sts[] = {"active", "archived", "all", NULL};
    const char *pv[4];
    PGresult *r;
    int i, rc;

    if ((rc = cred_filters(a, pv)) != 0)
        return rc;
    if (!(r = adm_qx(a, "SELECT " CRED_COLS CRED_HTML_COLS CRED_LIST_WHERE,
                     4, pv)))
        return a->status;
    adm_page_begin(a, "Provider credentials", "credentials");
    adm_form_status_links(a, "/credentials", sts);
    adm_puts(a, "<table><thead><tr><th>Provider</th><th>Organization</th>"
                "<th>Name</th><th>Secret</th><th>Status</th>"
                "<th>Created (UTC)</th><th></th></tr></thead><tbody>\n");
    for (i = 0; i < PQntuples(r); i++)
        cred_row(a, r, i);
    adm_puts(a, "</tbody></table>\n");
    if (!PQntuples(r))
        adm_puts(a, "<p class=\"muted\">No credentials.</p>\n");
    if (adm_can_write(a) && cred_form(a, b))
        return a->status;
    a->status = b ? b->status : 200;
    return adm_page_end(a);
}

/* ---------------------------------------------------------- handlers */

static int cred_list(adm_t *a)
{
    const char *pv[4];
    json_object *o;
    PGresult *r;
    int rc;

    if (!a->api)
        return cred_list_page(a, NULL);
    if ((rc = cred_filters(a, pv)) != 0)
        return rc;
    if (!(r = adm_qx(a, "SELECT " CRED_COLS " FROM provider_credentials c"
                        CRED_LIST_WHERE, 4, pv)))
        return a->status;
    o = json_object_new_object();
    json_object_object_add(o, "data", adm_rows_json(r));
    return adm_json(a, 200, o);
}

static int cred_create(adm_t *a)
{
    cred_in_t in;
    adm_bad_t b = {0, NULL, NULL};
    PGresult *r;
    int rc = cred_read(a, &b, &in);

    if (rc < 0)
        return a->status;
    if (rc)
        return a->api ? adm_form_refuse(a, &b) : cred_list_page(a, &b);
    if (adm_begin(a) || cred_replace(a, &in) || !(r = cred_store(a, &in))
        || adm_audit_x(a, "credential.create", "credential",
                       adm_parse_id(adm_v(r, 0, "id")), in.org,
                       cred_detail(r, 0))
        || adm_commit(a))
        return adm_abort(a);
    return a->api ? adm_json(a, 201, adm_row_json(r, 0))
                  : adm_redirect(a, "/credentials");
}

static int cred_show(adm_t *a)
{
    const char *pv[2] = {adm_id(a, a->id), adm_scope_param(a)};
    PGresult *r;

    if (!a->api)                /* no page of its own: the list says it all */
        return adm_redirect(a, "/credentials");
    if (!(r = adm_qx(a, "SELECT " CRED_COLS CRED_ONE, 2, pv)))
        return a->status;
    if (!PQntuples(r))
        return adm_error(a, 404, "not_found", NULL, "no credential %lld",
                         a->id);
    return adm_json(a, 200, adm_row_json(r, 0));
}

/* Locks the credential of the route for archiving: the row, or NULL
 * answered (rolled back). */
static PGresult *cred_lock(adm_t *a, const char *const *pv)
{
    PGresult *r;

    if (adm_begin(a) || !(r = adm_qx(a, "SELECT " CRED_COLS CRED_ONE
                                        " FOR UPDATE", 2, pv))) {
        adm_rollback(a);
        return NULL;
    }
    if (!PQntuples(r)) {
        adm_rollback(a);
        adm_error(a, 404, "not_found", NULL, "no credential %lld", a->id);
        return NULL;
    }
    if (!adm_org_writable(a, adm_parse_id(adm_v(r, 0, "org_id")))) {
        adm_rollback(a);
        adm_error(a, 403, "forbidden", NULL, "only a superadmin can "
                  "archive a credential for every org");
        return NULL;
    }
    return r;
}

static int cred_archive(adm_t *a)
{
    const char *pv[2] = {adm_id(a, a->id), adm_scope_param(a)};
    PGresult *r = cred_lock(a, pv);

    if (!r)
        return a->status;
    /* Archiving twice is not an error: it is archived either way. */
    if (!strcmp(adm_v(r, 0, "status"), "active")
        && (!adm_qx(a, "UPDATE provider_credentials SET status = 'archived',"
                       " updated_at = now() WHERE id = $1", 1, pv)
            || adm_audit_x(a, "credential.archive", "credential", a->id,
                           adm_parse_id(adm_v(r, 0, "org_id")),
                           cred_detail(r, 0))))
        return adm_abort(a);
    if (!(r = adm_qx(a, "SELECT " CRED_COLS CRED_ONE, 2, pv))
        || adm_commit(a))
        return adm_abort(a);
    return a->api ? adm_json(a, 200, adm_row_json(r, 0))
                  : adm_redirect(a, "/credentials");
}

const adm_route_t adm_cred_routes[] = {
    {"GET", "/credentials", cred_list, 0},
    {"POST", "/credentials", cred_create, 1},
    {"GET", "/credentials/{id}", cred_show, 0},
    {"POST", "/credentials/{id}/archive", cred_archive, 1},
    {NULL, NULL, NULL, 0}
};
