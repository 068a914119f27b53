/*
 * admin_keys.c - virtual keys in the console: list, create, show, edit,
 * revoke, rotate (provider credentials are admin_creds.c).
 *
 * The key itself exists only in the answer to create and rotate: a 201
 * (JSON, or an HTML page, never a redirect, so it never sits in a URL or
 * the browser's history). The database keeps key_id and SHA-256 of the
 * key; the audit log keeps key_id and name.
 */
#include <string.h>
#include <time.h>
#include <apr_strings.h>

#include "admin.h"
#include "aura_crypt.h"
#include "aura_vkey.h"

#define NAME_MAX_CHARS 200
#define MODEL_MAX_LEN 200
#define MODELS_MAX 256
#define MODEL_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
                    "0123456789._:/@*-"

/* ---------------------------------------------------------- key input */

typedef struct {
    const char *name;
    long long org, team, project;
    json_object *models;        /* NULL or JSON null: every model */
    const char *models_sql;     /* a text[] literal, or NULL */
    const char *expires_in;     /* as given */
    const char *expires;        /* normalised UTC, or NULL */
    const char *form_id;        /* the page's one-time form, or NULL */
} key_in_t;

static int name_check(adm_t *a, adm_bad_t *b, const char *name)
{
    if (!name)
        return adm_form_bad(a, b, 400, "name", "name is required");
    if (!adm_form_text_ok(name, NAME_MAX_CHARS))
        return adm_form_bad(a, b, 400, "name", "name must be 1 to %d "
                            "characters without control characters",
                            NAME_MAX_CHARS);
    return 0;
}

/* allowed_models → a text[] literal. Model names are restricted to
 * characters that need no escaping inside the literal's quotes. */
static int models_check(adm_t *a, adm_bad_t *b, key_in_t *in)
{
    apr_array_header_t *parts;
    size_t i, n;

    in->models_sql = NULL;
    if (!in->models || json_object_is_type(in->models, json_type_null))
        return 0;
    if (!json_object_is_type(in->models, json_type_array))
        return adm_form_bad(a, b, 400, "allowed_models", "allowed_models "
                            "must be an array of model names, or null for "
                            "every model");
    n = json_object_array_length(in->models);
    if (!n || n > MODELS_MAX)
        return adm_form_bad(a, b, 400, "allowed_models", "allowed_models must "
                            "list 1 to %d models (or be null for every model)",
                            MODELS_MAX);
    parts = apr_array_make(a->p, (int)n, sizeof(const char *));
    for (i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(in->models, i);
        const char *s = json_object_get_string(m);
        size_t len = s ? strlen(s) : 0;

        if (!json_object_is_type(m, json_type_string) || !len
            || len > MODEL_MAX_LEN || strspn(s, MODEL_CHARS) != len
            || (size_t)json_object_get_string_len(m) != len)
            return adm_form_bad(a, b, 400, "allowed_models", "allowed_models: "
                                "model %zu is not a model name (1 to %d of "
                                "A-Z a-z 0-9 . _ : / @ * -)", i + 1,
                                MODEL_MAX_LEN);
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(a->p, "\"", s, "\"", NULL);
    }
    in->models_sql = apr_pstrcat(a->p, "{", apr_array_pstrcat(a->p, parts,
                                                              ','), "}", NULL);
    return 0;
}

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

json_object *adm_models_from_text(apr_pool_t *p, const char *list)
{
    json_object *arr = json_object_new_array();
    char *copy = apr_pstrdup(p, list), *last, *tok, *end;

    for (tok = apr_strtok(copy, ",", &last); tok;
         tok = apr_strtok(NULL, ",", &last)) {
        while (blank(*tok))
            tok++;
        for (end = tok + strlen(tok); end > tok && blank(end[-1]); end--)
            ;
        if (end > tok)
            json_object_array_add(arr, json_object_new_string_len(
                                      tok, (int)(end - tok)));
    }
    return arr;
}

/* A form's models; NULL when the text names none, which means every
 * model. */
static json_object *models_from_text(adm_t *a, const char *text)
{
    json_object *arr = adm_json_bind(a, adm_models_from_text(a->p, text));
    return json_object_array_length(arr) ? arr : NULL;
}

static json_object *models_input(adm_t *a)
{
    json_object *m = NULL;
    const char *text;

    if (a->api) {
        json_object_object_get_ex(a->body, "allowed_models", &m);
        return m;
    }
    text = adm_field(a, "allowed_models");
    return text ? models_from_text(a, text) : NULL;
}

static int expiry_check(adm_t *a, adm_bad_t *b, key_in_t *in)
{
    long long t;
    time_t tt;
    struct tm tm;
    char buf[32];

    in->expires = NULL;
    if (!in->expires_in)
        return 0;
    if (adm_form_instant(in->expires_in, !a->api, &t))
        return adm_form_bad(a, b, 400, "expires_at", "expires_at: %s",
                            a->api ? "not an RFC 3339 date-time "
                            "(e.g. 2030-01-31T00:00:00Z)"
                            : "use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)");
    if (t <= (long long)time(NULL))
        return adm_form_bad(a, b, 400, "expires_at",
                            "expires_at must be in the future");
    tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    in->expires = apr_pstrdup(a->p, buf);
    return 0;
}

/* team must be a live team of the org; project a live project of the
 * team, whose team is taken when none was given. */
static int key_scope_check(adm_t *a, adm_bad_t *b, key_in_t *in)
{
    const char *pv[1];
    PGresult *r;
    int rc;

    if ((rc = adm_form_org_check(a, b, in->org)) != 0)
        return rc;
    if (in->project) {
        pv[0] = adm_id(a, in->project);
        if (!(r = adm_qx(a, "SELECT org_id, team_id, status FROM projects "
                            "WHERE id = $1", 1, pv)))
            return -1;
        if (!PQntuples(r) || adm_parse_id(adm_v(r, 0, "org_id")) != in->org
            || strcmp(adm_v(r, 0, "status"), "active"))
            return adm_form_bad(a, b, 400, "project_id", "project_id: no "
                                "live project %lld in organization %lld",
                                in->project, in->org);
        if (in->team && in->team != adm_parse_id(adm_v(r, 0, "team_id")))
            return adm_form_bad(a, b, 400, "project_id", "project_id: "
                                "project %lld is not in team %lld",
                                in->project, in->team);
        in->team = adm_parse_id(adm_v(r, 0, "team_id"));
    }
    if (in->team) {
        pv[0] = adm_id(a, in->team);
        if (!(r = adm_qx(a, "SELECT org_id, status FROM teams WHERE id = $1",
                         1, pv)))
            return -1;
        if (!PQntuples(r) || adm_parse_id(adm_v(r, 0, "org_id")) != in->org
            || strcmp(adm_v(r, 0, "status"), "active"))
            return adm_form_bad(a, b, 400, "team_id", "team_id: no live team "
                                "%lld in organization %lld", in->team,
                                in->org);
    }
    return 0;
}

/* 0 ok, 1 with *b, -1 answered (database). */
static int key_check(adm_t *a, adm_bad_t *b, key_in_t *in)
{
    if (name_check(a, b, in->name) || models_check(a, b, in)
        || expiry_check(a, b, in))
        return 1;
    return key_scope_check(a, b, in);
}

static int key_read(adm_t *a, adm_bad_t *b, key_in_t *in)
{
    memset(in, 0, sizeof(*in));
    in->name = adm_field(a, "name");
    if (adm_form_id_field(a, b, "org_id", 1, &in->org)
        || adm_form_id_field(a, b, "team_id", 0, &in->team)
        || adm_form_id_field(a, b, "project_id", 0, &in->project))
        return 1;
    in->models = models_input(a);
    in->expires_in = adm_field(a, "expires_at");
    return key_check(a, b, in);
}

/* ---------------------------------------------------------- key rows */

#define KEY_COLS \
    "k.id, k.key_id, 'sk-aura-' || k.key_id AS prefix, k.name, k.org_id, " \
    "k.team_id, k.project_id, k.allowed_models, k.expires_at, k.status, " \
    "k.created_at, k.created_by, k.last_used_at, k.revoked_at, " \
    "k.rotated_from"
/* What the pages add: names for ids, times for people. */
#define KEY_HTML_COLS \
    ", o.name AS org_name, t.name AS team_name, pj.name AS project_name, " \
    "array_to_string(k.allowed_models, ', ') AS models_txt, " \
    ADM_SQL_MINUTE("k.expires_at") " AS expires_txt, " \
    "to_char(k.expires_at, 'YYYY-MM-DD\"T\"HH24:MI') AS expires_form, " \
    ADM_SQL_MINUTE("k.last_used_at") " AS used_txt, " \
    ADM_SQL_MINUTE("k.created_at") " AS created_txt, " \
    "(k.expires_at IS NOT NULL AND k.expires_at <= now()) AS expired " \
    "FROM virtual_keys k JOIN organizations o ON o.id = k.org_id " \
    "LEFT JOIN teams t ON t.id = k.team_id " \
    "LEFT JOIN projects pj ON pj.id = k.project_id"
#define KEY_ONE " WHERE k.id = $1 AND ($2::bigint IS NULL OR k.org_id = $2)"
#define KEY_LIST_WHERE \
    " WHERE ($1::bigint IS NULL OR k.org_id = $1)" \
    " AND ($2::bigint IS NULL OR k.org_id = $2)" \
    " AND ($3::bigint IS NULL OR k.team_id = $3)" \
    " AND ($4::bigint IS NULL OR k.project_id = $4)" \
    " AND ($5::text IS NULL OR k.status = $5) ORDER BY k.id DESC"

/* One key as the caller may see it (html: with names and display
 * times). NULL answered; no rows: not visible. */
static PGresult *key_fetch(adm_t *a, long long id, int html)
{
    const char *pv[2] = {adm_id(a, id), adm_scope_param(a)};

    return adm_qx(a, html ? "SELECT " KEY_COLS KEY_HTML_COLS KEY_ONE
                          : "SELECT " KEY_COLS " FROM virtual_keys k" KEY_ONE,
                  2, pv);
}

/* The key row locked for a change, with what rotation needs. */
static PGresult *key_lock(adm_t *a, long long id)
{
    const char *pv[2] = {adm_id(a, id), adm_scope_param(a)};

    return adm_qx(a, "SELECT k.id, k.key_id, k.name, k.org_id, k.team_id, "
                     "k.project_id, k.allowed_models, k.expires_at, k.status, "
                     "(k.expires_at IS NOT NULL AND k.expires_at <= now()) "
                     "AS expired FROM virtual_keys k" KEY_ONE " FOR UPDATE",
                  2, pv);
}

static json_object *key_detail(const char *key_id, const char *name)
{
    json_object *d = json_object_new_object();

    json_object_object_add(d, "key_id", json_object_new_string(key_id));
    json_object_object_add(d, "name", json_object_new_string(name));
    return d;
}

/* Generates, stores and audits a key whose input was checked. A key_id
 * collision (36^12 ids) is retried rather than failing the request. */
static long long key_store(adm_t *a, const key_in_t *in, long long from,
                           const char **secret)
{
    unsigned char hash[AURA_VKEY_HASH_LEN];
    const char *key, *kid, *pv[10];
    json_object *detail;
    PGresult *r;
    int tries;

    for (tries = 0; tries < 3; tries++) {
        if (!(key = aura_vkey_generate(a->p, &kid))) {
            adm_error(a, 500, "server_error", NULL, "no randomness for a key");
            return 0;
        }
        aura_vkey_hash(key, hash);
        pv[0] = kid;
        pv[1] = aura_hex(a->p, hash, sizeof(hash));
        pv[2] = in->name;
        pv[3] = adm_id(a, in->org);
        pv[4] = adm_id_opt(a, in->team);
        pv[5] = adm_id_opt(a, in->project);
        pv[6] = in->models_sql;
        pv[7] = in->expires;
        pv[8] = a->user;
        pv[9] = adm_id_opt(a, from);
        r = adm_qx(a, "INSERT INTO virtual_keys (key_id, secret_hash, name, "
                      "org_id, team_id, project_id, allowed_models, "
                      "expires_at, created_by, rotated_from) VALUES ($1, "
                      "decode($2, 'hex'), $3, $4, $5, $6, $7::text[], "
                      "$8::timestamptz, $9, $10) "
                      "ON CONFLICT (key_id) DO NOTHING RETURNING id", 10, pv);
        if (!r)
            return 0;
        if (PQntuples(r) == 1)
            break;
    }
    if (tries == 3) {
        adm_error(a, 500, "server_error", NULL, "no free key id");
        return 0;
    }
    *secret = key;
    detail = key_detail(kid, in->name);
    if (in->form_id)
        json_object_object_add(detail, "form_id",
                               json_object_new_string(in->form_id));
    if (from)
        json_object_object_add(detail, "rotated_from",
                               json_object_new_int64(from));
    if (adm_audit_x(a, from ? "key.rotate" : "key.create", "key",
              adm_parse_id(adm_v(r, 0, "id")), in->org, detail))
        return 0;
    return adm_parse_id(adm_v(r, 0, "id"));
}

long long adm_key_insert(adm_t *a, const char *name, long long org,
                         long long team, long long project,
                         json_object *models, const char *expires,
                         long long rotated_from, const char **secret)
{
    key_in_t in = {name, org, team, project, models, NULL, expires, NULL,
                   NULL};
    adm_bad_t b = {0, NULL, NULL};
    int rc = key_check(a, &b, &in);

    if (rc > 0)
        adm_form_refuse(a, &b);
    return rc ? 0 : key_store(a, &in, rotated_from, secret);
}

/* ---------------------------------------------------------- key pages */

/* The key's two buttons, to keys/ID/rotate and keys/ID/revoke. */
static void key_buttons(adm_t *a, const char *id)
{
    adm_form_button_with(a, apr_pstrcat(a->p, "/keys/", id, "/rotate", NULL),
                         "Rotate", "form_id", adm_form_once_new(a));
    adm_form_button(a, apr_pstrcat(a->p, "/keys/", id, "/revoke", NULL),
                    "Revoke");
}

/* The way back to the list, at the end of a key's pages. */
static void keys_link(adm_t *a, const char *text)
{
    adm_printf(a, "<p><a href=\"%s/keys\">%s</a></p>\n",
               adm_escs(a->p, a->base), text);
}

static const char *or_dash(const char *s)
{
    return s ? s : "—";
}

static void key_scope_cell(adm_t *a, PGresult *r, int i)
{
    adm_esc(a, adm_v(r, i, "org_name"));
    if (adm_v(r, i, "team_name")) {
        adm_puts(a, " / ");
        adm_esc(a, adm_v(r, i, "team_name"));
    }
    if (adm_v(r, i, "project_name")) {
        adm_puts(a, " / ");
        adm_esc(a, adm_v(r, i, "project_name"));
    }
}

static const char *key_status_txt(PGresult *r, int i)
{
    const char *st = adm_v(r, i, "status");
    return !strcmp(st, "active") && !strcmp(adm_v(r, i, "expired"), "t")
           ? "expired" : st;
}

static void key_row(adm_t *a, PGresult *r, int i)
{
    const char *id = adm_v(r, i, "id");

    adm_puts(a, "<tr><td><code>");
    adm_esc(a, adm_v(r, i, "prefix"));
    adm_printf(a, "</code></td><td><a href=\"%s/keys/%s\">",
               adm_escs(a->p, a->base), id);
    adm_esc(a, adm_v(r, i, "name"));
    adm_puts(a, "</a></td><td>");
    key_scope_cell(a, r, i);
    adm_puts(a, "</td><td>");
    adm_esc(a, adm_v(r, i, "models_txt") ? adm_v(r, i, "models_txt")
                                         : "all");
    adm_printf(a, "</td><td>%s</td><td>%s</td><td>%s</td><td>",
               adm_escs(a->p, adm_v(r, i, "expires_txt") ?
                        adm_v(r, i, "expires_txt") : "never"),
               key_status_txt(r, i),
               adm_escs(a->p, adm_v(r, i, "used_txt") ?
                        adm_v(r, i, "used_txt") : "never"));
    adm_esc(a, adm_v(r, i, "created_txt"));
    adm_puts(a, " <span class=\"muted\">");
    adm_esc(a, adm_v(r, i, "created_by"));
    adm_puts(a, "</span></td><td>");
    if (adm_can_write(a) && !strcmp(adm_v(r, i, "status"), "active")) {
        key_buttons(a, id);
    }
    adm_puts(a, "</td></tr>\n");
}

/* The options the create form offers: the caller's live orgs, teams and
 * projects. */
static int scope_options(adm_t *a, PGresult **orgs, PGresult **teams,
                         PGresult **projects)
{
    const char *pv[1] = {adm_scope_param(a)};

    *orgs = adm_qx(a, "SELECT id, name AS label FROM organizations WHERE "
                      "status = 'active' AND ($1::bigint IS NULL OR id = $1) "
                      "ORDER BY name", 1, pv);
    *teams = *orgs ? adm_qx(a, "SELECT t.id, o.name || ' / ' || t.name AS "
                               "label FROM teams t JOIN organizations o ON "
                               "o.id = t.org_id WHERE t.status = 'active' AND "
                               "($1::bigint IS NULL OR t.org_id = $1) "
                               "ORDER BY label", 1, pv) : NULL;
    *projects = *teams ? adm_qx(a, "SELECT p.id, o.name || ' / ' || t.name "
                                   "|| ' / ' || p.name AS label FROM projects "
                                   "p JOIN teams t ON t.id = p.team_id JOIN "
                                   "organizations o ON o.id = p.org_id WHERE "
                                   "p.status = 'active' AND ($1::bigint IS "
                                   "NULL OR p.org_id = $1) ORDER BY label",
                                   1, pv) : NULL;
    return *projects ? 0 : -1;
}

#define MODELS_LABEL "Allowed models (comma separated; empty: every model)"
#define EXPIRES_LABEL "Expires (UTC; empty: never)"
#define EXPIRES_HINT " placeholder=\"YYYY-MM-DD or YYYY-MM-DDTHH:MM\""

static const char *const key_create_fields[] = {
    "name", "org_id", "team_id", "project_id", "allowed_models", "expires_at",
    "budget.amount_usd", "budget.period", "budget.rolling_seconds",
    "limit.requests_per_min", NULL
};

static int key_create_form(adm_t *a, const adm_bad_t *b)
{
    PGresult *orgs, *teams, *projects;

    if (scope_options(a, &orgs, &teams, &projects))
        return -1;
    adm_printf(a, "<h2>New key</h2><form class=\"box\" method=\"post\" "
               "action=\"%s/keys\">", adm_escs(a->p, a->base));
    adm_csrf_input(a);
    adm_form_hidden(a, "form_id", adm_form_once_new(a));
    adm_form_top_error(a, b, key_create_fields);
    adm_form_input(a, b, "Name", "name", "text", adm_field(a, "name"),
                   " required maxlength=\"200\"");
    adm_form_id_select(a, b, "Organization", "org_id", orgs,
                       adm_field(a, "org_id"), NULL);
    adm_form_id_select(a, b, "Team (optional)", "team_id", teams,
                       adm_field(a, "team_id"), "— none —");
    adm_form_id_select(a, b, "Project (optional)", "project_id", projects,
                       adm_field(a, "project_id"), "— none —");
    adm_form_input(a, b, MODELS_LABEL, "allowed_models", "text",
                   adm_field(a, "allowed_models"),
                   " placeholder=\"gpt-4o-mini, anthropic/*\"");
    adm_form_input(a, b, EXPIRES_LABEL, "expires_at", "text",
                   adm_field(a, "expires_at"), EXPIRES_HINT);
    adm_key_policy_inputs(a, b);
    adm_puts(a, "<p><button type=\"submit\">Create key</button></p></form>\n");
    return 0;
}

/* Keys list filters from the query string: caller scope, org, team,
 * project, status. 0, or the status answered. */
static const char *const key_statuses[] = {"active", "revoked", "all", NULL};

static int key_filters(adm_t *a, const char **pv)
{
    static const char *const names[] = {"org_id", "team_id", "project_id"};
    const char *st;
    int i, rc;

    pv[0] = adm_scope_param(a);
    for (i = 0; i < 3; i++)
        if ((rc = adm_form_id_arg(a, names[i], &pv[i + 1])) != 0)
            return rc;
    if ((rc = adm_form_status_arg(a, key_statuses, "all", &st)) != 0)
        return rc;
    pv[4] = strcmp(st, "all") ? st : NULL;
    return 0;
}

/* The keys page; b: a create form that failed (status b->status). */
static int key_list_page(adm_t *a, const adm_bad_t *b)
{
    const char *pv[5];
    PGresult *r;
    int i, rc;

    if ((rc = key_filters(a, pv)) != 0)
        return rc;
    if (!(r = adm_qx(a, "SELECT " KEY_COLS KEY_HTML_COLS KEY_LIST_WHERE,
                     5, pv)))
        return a->status;
    adm_page_begin(a, "Virtual keys", "keys");
    adm_form_status_links(a, "/keys", key_statuses);
    adm_puts(a, "<table><thead><tr><th>Prefix</th><th>Name</th><th>Scope</th>"
                "<th>Models</th><th>Expires (UTC)</th><th>Status</th>"
                "<th>Last used</th><th>Created</th><th></th></tr></thead>"
                "<tbody>\n");
    for (i = 0; i < PQntuples(r); i++)
        key_row(a, r, i);
    adm_puts(a, "</tbody></table>\n");
    if (!PQntuples(r))
        adm_puts(a, "<p class=\"muted\">No keys.</p>\n");
    if (adm_can_write(a) && key_create_form(a, b))
        return a->status;
    a->status = b ? b->status : 200;
    return adm_page_end(a);
}

static int key_list(adm_t *a)
{
    const char *pv[5];
    PGresult *r;
    int rc;

    if (!a->api)
        return key_list_page(a, NULL);
    if ((rc = key_filters(a, pv)) != 0)
        return rc;
    if (!(r = adm_qx(a, "SELECT " KEY_COLS " FROM virtual_keys k"
                        KEY_LIST_WHERE, 5, pv)))
        return a->status;
    {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "data", adm_rows_json(r));
        return adm_json(a, 200, o);
    }
}

static void dl_item(adm_t *a, const char *term, const char *value)
{
    adm_printf(a, "<dt>%s</dt><dd>", term);
    adm_esc(a, or_dash(value));
    adm_puts(a, "</dd>");
}

static void key_facts(adm_t *a, PGresult *r)
{
    adm_puts(a, "<dl>");
    dl_item(a, "Prefix", adm_v(r, 0, "prefix"));
    dl_item(a, "Name", adm_v(r, 0, "name"));
    adm_puts(a, "<dt>Scope</dt><dd>");
    key_scope_cell(a, r, 0);
    adm_puts(a, "</dd>");
    dl_item(a, "Allowed models", adm_v(r, 0, "models_txt") ?
            adm_v(r, 0, "models_txt") : "all");
    dl_item(a, "Expires (UTC)", adm_v(r, 0, "expires_txt") ?
            adm_v(r, 0, "expires_txt") : "never");
    dl_item(a, "Status", key_status_txt(r, 0));
    dl_item(a, "Created (UTC)", apr_pstrcat(a->p, adm_v(r, 0, "created_txt"),
            " by ", or_dash(adm_v(r, 0, "created_by")), NULL));
    dl_item(a, "Last used (UTC)", adm_v(r, 0, "used_txt"));
    adm_puts(a, "</dl>\n");
}

static const char *const key_edit_fields[] = {
    "name", "allowed_models", "expires_at", NULL
};

/* The edit form: the row's values, or what was posted when it failed. */
static void key_edit_form(adm_t *a, PGresult *r, const adm_bad_t *b)
{
    const char *id = adm_v(r, 0, "id");

    adm_printf(a, "<h2>Edit</h2><form class=\"box\" method=\"post\" "
               "action=\"%s/keys/%s\">", adm_escs(a->p, a->base), id);
    adm_csrf_input(a);
    adm_form_top_error(a, b, key_edit_fields);
    adm_form_input(a, b, "Name", "name", "text",
                   b ? adm_field(a, "name") : adm_v(r, 0, "name"),
                   " required maxlength=\"200\"");
    adm_form_input(a, b, MODELS_LABEL, "allowed_models", "text",
                   b ? adm_field(a, "allowed_models")
                     : adm_v(r, 0, "models_txt"), NULL);
    adm_form_input(a, b, EXPIRES_LABEL, "expires_at", "text",
                   b ? adm_field(a, "expires_at")
                     : adm_v(r, 0, "expires_form"), EXPIRES_HINT);
    adm_puts(a, "<p><button type=\"submit\">Save</button></p></form>\n");
    adm_puts(a, "<p>");
    key_buttons(a, id);
    adm_puts(a, "</p>\n");
}

/* The key page. kb: its edit form was refused; pb: its budget or limit
 * form was (admin_policy.c). */
static int key_page_of(adm_t *a, long long id, const adm_bad_t *kb,
                       const adm_bad_t *pb)
{
    PGresult *r = key_fetch(a, id, 1);
    int writable = adm_can_write(a), live;

    if (!r)
        return a->status;
    if (!PQntuples(r))
        return adm_error(a, 404, "not_found", NULL, "no key %lld", id);
    live = !strcmp(adm_v(r, 0, "status"), "active");
    adm_page_begin(a, apr_pstrcat(a->p, "Key ", adm_v(r, 0, "name"), NULL),
                   "keys");
    key_facts(a, r);
    if (writable && live)
        key_edit_form(a, r, kb);
    if (adm_key_policy_section(a, adm_v(r, 0, "id"), writable, live, pb))
        return a->status;
    keys_link(a, "All keys");
    a->status = kb ? kb->status : pb ? pb->status : 200;
    return adm_page_end(a);
}

static int key_page(adm_t *a, const adm_bad_t *b)
{
    return key_page_of(a, a->id, b, NULL);
}

int adm_key_page_refused(adm_t *a, long long key, const adm_bad_t *b)
{
    return key_page_of(a, key, NULL, b);
}

static int key_show(adm_t *a)
{
    json_object *o;
    PGresult *r;

    if (!a->api)
        return key_page(a, NULL);
    if (!(r = key_fetch(a, a->id, 0)))
        return a->status;
    if (!PQntuples(r))
        return adm_error(a, 404, "not_found", NULL, "no key %lld", a->id);
    o = adm_json_bind(a, adm_row_json(r, 0));
    /* GET only: the other answers are "the key" (docs/admin.md) */
    if (!strcmp(a->method, "GET") && adm_key_policy_json(a, a->id, o))
        return a->status;
    return adm_json(a, 200, json_object_get(o));
}

/* The one answer that holds the key: 201, the secret on the page once,
 * never in a redirect. r: the key (html columns for pages). */
static int key_created(adm_t *a, PGresult *r, const char *secret)
{
    if (a->api) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "key", adm_row_json(r, 0));
        json_object_object_add(o, "secret", json_object_new_string(secret));
        return adm_json(a, 201, o);
    }
    adm_page_begin(a, "Key created", "keys");
    adm_puts(a, "<p><strong>Copy this key now. It will not be shown again"
                "</strong>: only a hash of it is stored, so it cannot be "
                "recovered; a lost key can only be rotated.</p>\n"
                "<p class=\"secret\" id=\"new-key-secret\">");
    adm_esc(a, secret);
    adm_puts(a, "</p>\n");
    key_facts(a, r);
    keys_link(a, "Back to the keys");
    a->status = 201;
    return adm_page_end(a);
}

static int key_bad(adm_t *a, const adm_bad_t *b, int edit)
{
    if (a->api)
        return adm_form_refuse(a, b);
    return edit ? key_page(a, b) : key_list_page(a, b);
}

/* A 409 about the key id: before, its prefix (a link to its page in
 * HTML), after. */
static int key_conflict(adm_t *a, long long id, const char *before,
                        const char *after)
{
    PGresult *r = key_fetch(a, id, 0);
    const char *prefix = r && PQntuples(r) ? adm_v(r, 0, "prefix") : NULL;

    if (!r)
        return a->status;
    if (a->api || !prefix)
        return adm_error(a, 409, "conflict", NULL, "%s%s%s", before,
                         prefix ? prefix : "(not visible)", after);
    aura_buf_reset(&a->out);
    adm_page_begin(a, "Already done", "keys");
    adm_puts(a, "<p class=\"error\">");
    adm_esc(a, before);
    adm_printf(a, "<a href=\"%s/keys/%lld\"><code>",
               adm_escs(a->p, a->base), id);
    adm_esc(a, prefix);
    adm_puts(a, "</code></a>");
    adm_esc(a, after);
    adm_puts(a, "</p>\n");
    keys_link(a, "All keys");
    a->status = 409;
    return adm_page_end(a);
}

/* In the change's transaction: was this one-time form (fid, NULL: none)
 * posted before, e.g. a refreshed "Key created" page? 0: no, go on; else
 * the 409 answered, naming the key it made (rolled back). */
static int key_once(adm_t *a, const char *fid, const char *action,
                    long long org)
{
    long long prior = fid && org ? adm_form_once_seen(a, fid, action, org)
                                 : 0;

    if (prior < 0)
        return adm_abort(a);
    if (!prior)
        return 0;
    adm_rollback(a);
    return key_conflict(a, prior, "This form was already submitted: key ",
                        " exists; its secret was shown once and cannot be "
                        "shown again.");
}

static int key_create(adm_t *a)
{
    key_in_t in;
    adm_key_policy_t *kp = NULL;
    adm_bad_t b = {0, NULL, NULL};
    const char *secret = NULL, *fid;
    long long id;
    PGresult *r;
    int rc;

    if (adm_form_once_read(a, &b, &fid))
        return key_bad(a, &b, 0);
    /* The repeat is told before the input is checked again: a refresh
     * hours later must not be refused for, say, an expiry now past. */
    if (adm_begin(a) || (rc = key_once(a, fid, "key.create",
                             adm_parse_id(adm_field(a, "org_id")))) != 0)
        return a->status;
    if (!(rc = key_read(a, &b, &in)))
        rc = adm_key_policy_read(a, &b, &kp);
    if (rc < 0)
        return adm_abort(a);
    if (rc) {
        adm_rollback(a);
        return key_bad(a, &b, 0);
    }
    in.form_id = fid;
    /* the key's budget and limit in its transaction: all or nothing */
    if (!(id = key_store(a, &in, 0, &secret))
        || adm_key_policy_insert(a, kp, id, in.org))
        return adm_abort(a);
    /* Read back before COMMIT: a key whose answer cannot be given is a
     * key nobody can use, so it is not kept either. */
    if (!(r = key_fetch(a, id, !a->api)) || adm_commit(a))
        return adm_abort(a);
    return key_created(a, r, secret);
}

/* PATCH semantics: fields absent stay; null or empty clears (name cannot
 * be cleared). The HTML edit form sends every field. */
static int key_patch_read(adm_t *a, adm_bad_t *b, key_in_t *in, int *set)
{
    memset(in, 0, sizeof(*in));
    set[0] = adm_has_field(a, "name");
    set[1] = adm_has_field(a, "allowed_models");
    set[2] = adm_has_field(a, "expires_at");
    in->name = adm_field(a, "name");
    in->models = set[1] ? models_input(a) : NULL;
    in->expires_in = set[2] ? adm_field(a, "expires_at") : NULL;
    if (set[0] && name_check(a, b, in->name))
        return 1;
    return models_check(a, b, in) || expiry_check(a, b, in);
}

static int key_update(adm_t *a)
{
    key_in_t in;
    adm_bad_t b = {0, NULL, NULL};
    int set[3];
    const char *pv[7];
    PGresult *r;

    if (key_patch_read(a, &b, &in, set))
        return key_bad(a, &b, 1);
    if (adm_begin(a) || !(r = key_lock(a, a->id)))
        return adm_abort(a);
    if (!PQntuples(r)) {
        adm_rollback(a);
        return adm_error(a, 404, "not_found", NULL, "no key %lld", a->id);
    }
    if (strcmp(adm_v(r, 0, "status"), "active")) {
        adm_rollback(a);
        return adm_error(a, 409, "conflict", NULL, "the key is revoked");
    }
    if (!set[0] && !set[1] && !set[2]) {    /* nothing to change */
        adm_rollback(a);
        return key_show(a);
    }
    pv[0] = adm_id(a, a->id);
    pv[1] = set[0] ? "t" : "f";
    pv[2] = in.name;
    pv[3] = set[1] ? "t" : "f";
    pv[4] = in.models_sql;
    pv[5] = set[2] ? "t" : "f";
    pv[6] = in.expires;
    if (!adm_qx(a, "UPDATE virtual_keys SET "
                   "name = CASE WHEN $2::boolean THEN $3 ELSE name END, "
                   "allowed_models = CASE WHEN $4::boolean THEN $5::text[] "
                   "ELSE allowed_models END, "
                   "expires_at = CASE WHEN $6::boolean THEN $7::timestamptz "
                   "ELSE expires_at END, updated_at = now() WHERE id = $1",
                7, pv)
        || adm_audit_x(a, "key.update", "key", a->id,
                 adm_parse_id(adm_v(r, 0, "org_id")),
                 key_detail(adm_v(r, 0, "key_id"),
                            set[0] ? in.name : adm_v(r, 0, "name")))
        || !(r = key_fetch(a, a->id, 0)) || adm_commit(a))
        return adm_abort(a);
    return a->api ? adm_json(a, 200, adm_row_json(r, 0))
                  : adm_redirect(a, "/keys");
}

/* Revokes the locked key row r; 0 or -1 (answered). */
static int key_revoke_row(adm_t *a, PGresult *r, const char *why)
{
    const char *pv[1] = {adm_v(r, 0, "id")};
    json_object *d = key_detail(adm_v(r, 0, "key_id"),
                                adm_v(r, 0, "name"));

    if (why)
        json_object_object_add(d, "reason", json_object_new_string(why));
    if (!adm_qx(a, "UPDATE virtual_keys SET status = 'revoked', "
                   "revoked_at = now(), updated_at = now() WHERE id = $1",
                1, pv)) {
        json_object_put(d);
        return -1;
    }
    return adm_audit_x(a, "key.revoke", "key", adm_parse_id(pv[0]),
                 adm_parse_id(adm_v(r, 0, "org_id")), d);
}

/* A rotated key's budgets and limits follow it to its successor: a
 * rotation (say, after a leak) must not lift a spending cap. One audit
 * row per moved row. 0, or -1 (answered). */
static int key_move_policy(adm_t *a, long long from, long long to,
                           long long org)
{
    static const char *const sql[2][2] = {
        {"UPDATE budgets SET scope_id = $2, updated_at = now() "
         "WHERE scope_type = 'key' AND scope_id = $1 AND status = 'active' "
         "RETURNING id", "budget.update"},
        {"UPDATE rate_limits SET scope_id = $2, updated_at = now() "
         "WHERE scope_type = 'key' AND scope_id = $1 AND status = 'active' "
         "RETURNING id", "limit.update"}};
    const char *pv[2] = {adm_id(a, from), adm_id(a, to)};
    PGresult *r;
    int t, i;

    for (t = 0; t < 2; t++) {
        if (!(r = adm_qx(a, sql[t][0], 2, pv)))
            return -1;
        for (i = 0; i < PQntuples(r); i++) {
            json_object *d = json_object_new_object();
            json_object_object_add(d, "scope_id", json_object_new_int64(to));
            json_object_object_add(d, "moved_from_key",
                                   json_object_new_int64(from));
            if (adm_audit_x(a, sql[t][1], t ? "limit" : "budget",
                            adm_parse_id(PQgetvalue(r, i, 0)), org, d))
                return -1;
        }
    }
    return 0;
}

/* Begins, locks the key of the route: 0 and *r, or the status answered
 * (rolled back). */
static int key_begin(adm_t *a, PGresult **r)
{
    if (adm_begin(a) || !(*r = key_lock(a, a->id)))
        return adm_abort(a);
    if (!PQntuples(*r)) {
        adm_rollback(a);
        return adm_error(a, 404, "not_found", NULL, "no key %lld", a->id);
    }
    return 0;
}

static int key_revoke(adm_t *a)
{
    PGresult *r;
    int rc = key_begin(a, &r);

    if (rc)
        return rc;
    /* Revoking twice is not an error: the key is revoked either way. */
    if (!strcmp(adm_v(r, 0, "status"), "active")
        && key_revoke_row(a, r, NULL))
        return adm_abort(a);
    if (!(r = key_fetch(a, a->id, 0)) || adm_commit(a))
        return adm_abort(a);
    return a->api ? adm_json(a, 200, adm_row_json(r, 0))
                  : adm_redirect(a, "/keys");
}

/* A new key with the old one's scope and settings, the old one revoked,
 * in one transaction: there is never a moment with both or neither. */
/* Why the locked key r cannot be rotated (rolled back): revoked (by a
 * rotation: its successor named, the key to rotate now) or expired. */
static int key_not_live(adm_t *a, PGresult *r)
{
    const char *pv[1] = {adm_v(r, 0, "id")};
    PGresult *n;
    int revoked = strcmp(adm_v(r, 0, "status"), "active") != 0;

    adm_rollback(a);
    if (revoked && !(n = adm_qx(a, "SELECT id FROM virtual_keys WHERE "
                                   "rotated_from = $1 ORDER BY id LIMIT 1",
                                1, pv)))
        return a->status;
    if (revoked && PQntuples(n))
        return key_conflict(a, adm_parse_id(adm_v(n, 0, "id")),
                            "This key was already rotated: its successor is "
                            "key ", "; only a live key can be rotated.");
    return adm_error(a, 409, "conflict", NULL, "the key is %s: only a live "
                     "key can be rotated", revoked ? "revoked" : "expired");
}

static int key_rotate(adm_t *a)
{
    PGresult *r, *n;
    key_in_t in;
    adm_bad_t b;
    const char *secret = NULL, *fid;
    long long id;
    int rc;

    if (adm_form_once_read(a, &b, &fid))
        return adm_form_refuse(a, &b);
    if ((rc = key_begin(a, &r)) != 0
        || (rc = key_once(a, fid, "key.rotate",
                          adm_parse_id(adm_v(r, 0, "org_id")))) != 0)
        return rc;
    if (strcmp(adm_v(r, 0, "status"), "active")
        || !strcmp(adm_v(r, 0, "expired"), "t"))
        return key_not_live(a, r);
    memset(&in, 0, sizeof(in));
    in.form_id = fid;
    in.name = adm_v(r, 0, "name");
    in.org = adm_parse_id(adm_v(r, 0, "org_id"));
    in.team = adm_parse_id(adm_v(r, 0, "team_id"));
    in.project = adm_parse_id(adm_v(r, 0, "project_id"));
    in.models_sql = adm_v(r, 0, "allowed_models");  /* array text form */
    in.expires = adm_v(r, 0, "expires_at");
    /* The scope must still be live: a key of an archived org, team or
     * project is refused by the gateway, and so is its successor. */
    if ((rc = key_scope_check(a, &b, &in)) != 0) {
        if (rc < 0)
            return adm_abort(a);
        adm_rollback(a);
        b.status = 409;
        return adm_form_refuse(a, &b);
    }
    if (!(id = key_store(a, &in, a->id, &secret))
        || key_move_policy(a, a->id, id, in.org)
        || key_revoke_row(a, r, "rotated")
        || !(n = key_fetch(a, id, !a->api)) || adm_commit(a))
        return adm_abort(a);
    return key_created(a, n, secret);
}

/* ---------------------------------------------------------- routes */

const adm_route_t adm_key_routes[] = {
    {"GET", "/keys", key_list, 0},
    {"POST", "/keys", key_create, 1},
    {"GET", "/keys/{id}", key_show, 0},
    {"POST", "/keys/{id}", key_update, 1},
    {"PATCH", "/keys/{id}", key_update, 1},
    {"POST", "/keys/{id}/revoke", key_revoke, 1},
    {"POST", "/keys/{id}/rotate", key_rotate, 1},
    {NULL, NULL, NULL, 0}
};
