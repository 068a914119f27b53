/*
 * admin_tenants.c - organizations, teams, projects, end-users and admin
 * users: lists (with their create form), one object (with its edit
 * form), create, rename, archive — as HTML pages and as the JSON API.
 *
 * The five kinds share one set of handlers driven by a descriptor (table,
 * columns, form fields); what differs between them is who may write and
 * what a create needs, which lives in one function per kind. SQL is built
 * only from the descriptors' constant strings, never from input.
 */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "admin_int.h"

/* Why a request is refused (adm_bad_t, called f here): answered as an
 * error (API, or 403/404), or by re-rendering the form it came from (HTML
 * 400/409). status -1: already answered (the database failed). */

enum { C_TEXT, C_LINK, C_ORG, C_TEAM, C_TIME };       /* list columns */
enum { F_TEXT, F_ORG, F_TEAM, F_ROLE };               /* form fields */

typedef struct col { const char *head, *name; int how; } col_t;
typedef struct field { const char *name, *label; int how; } field_t;

struct kind;
typedef PGresult *(*create_fn)(adm_t *a, const struct kind *k, adm_bad_t *f);

typedef struct kind {
    const char *path;           /* "teams": URL segment and nav entry */
    const char *title;          /* "Teams" */
    const char *noun;           /* "team", in messages */
    const char *obj;            /* "team": audit object type, action prefix */
    const char *table;
    const char *cols;           /* the object as the API shows it */
    const char *org_col;        /* the row's org ("id" for orgs), or NULL */
    const char *list_where;     /* $1 scope, $2 status, $3 org, $4 team */
    const col_t *list;
    const field_t *form;
    create_fn create;
    int editable;               /* has a name to change */
} kind_t;

static PGresult *create_org(adm_t *a, const kind_t *k, adm_bad_t *f);
static PGresult *create_team(adm_t *a, const kind_t *k, adm_bad_t *f);
static PGresult *create_project(adm_t *a, const kind_t *k, adm_bad_t *f);
static PGresult *create_end_user(adm_t *a, const kind_t *k, adm_bad_t *f);
static PGresult *create_admin(adm_t *a, const kind_t *k, adm_bad_t *f);

static const col_t org_cols[] = {
    {"ID", "id", C_LINK}, {"Name", "name", C_TEXT},
    {"Status", "status", C_TEXT}, {"Created", "created_at", C_TIME},
    {"Updated", "updated_at", C_TIME}, {NULL, NULL, 0}};
static const col_t team_cols[] = {
    {"ID", "id", C_LINK}, {"Name", "name", C_TEXT},
    {"Organization", "org_id", C_ORG}, {"Status", "status", C_TEXT},
    {"Created", "created_at", C_TIME}, {NULL, NULL, 0}};
static const col_t project_cols[] = {
    {"ID", "id", C_LINK}, {"Name", "name", C_TEXT},
    {"Team", "team_id", C_TEAM}, {"Organization", "org_id", C_ORG},
    {"Status", "status", C_TEXT}, {"Created", "created_at", C_TIME},
    {NULL, NULL, 0}};
static const col_t end_user_cols[] = {
    {"ID", "id", C_LINK}, {"External id", "external_id", C_TEXT},
    {"Name", "name", C_TEXT}, {"Organization", "org_id", C_ORG},
    {"Status", "status", C_TEXT}, {"Created", "created_at", C_TIME},
    {"Last seen", "last_seen_at", C_TIME}, {NULL, NULL, 0}};
static const col_t admin_cols[] = {
    {"ID", "id", C_LINK}, {"User", "username", C_TEXT},
    {"Role", "role", C_TEXT}, {"Organization", "org_id", C_ORG},
    {"Status", "status", C_TEXT}, {"Created", "created_at", C_TIME},
    {NULL, NULL, 0}};

static const field_t org_form[] = {
    {"name", "Name", F_TEXT}, {NULL, NULL, 0}};
static const field_t team_form[] = {
    {"org_id", "Organization", F_ORG}, {"name", "Name", F_TEXT},
    {NULL, NULL, 0}};
static const field_t project_form[] = {
    {"team_id", "Team", F_TEAM}, {"name", "Name", F_TEXT}, {NULL, NULL, 0}};
static const field_t end_user_form[] = {
    {"org_id", "Organization", F_ORG},
    {"external_id", "External id", F_TEXT},
    {"name", "Name (optional)", F_TEXT}, {NULL, NULL, 0}};
static const field_t admin_form[] = {
    {"username", "User name (as the web server authenticates it)", F_TEXT},
    {"role", "Role", F_ROLE}, {"org_id", "Organization", F_ORG},
    {NULL, NULL, 0}};

#define SCOPE_STATUS "($1::bigint IS NULL OR org_id = $1::bigint) " \
    "AND ($2::text = 'all' OR status = $2) "

static const kind_t kinds[] = {
    {"orgs", "Organizations", "organization", "org", "organizations",
     "id, name, status, created_at, updated_at", "id",
     "($1::bigint IS NULL OR id = $1::bigint) "
     "AND ($2::text = 'all' OR status = $2) "
     "AND ($3::bigint IS NULL OR id = $3::bigint)",
     org_cols, org_form, create_org, 1},
    {"teams", "Teams", "team", "team", "teams",
     "id, org_id, name, status, created_at, updated_at", "org_id",
     SCOPE_STATUS "AND ($3::bigint IS NULL OR org_id = $3::bigint)",
     team_cols, team_form, create_team, 1},
    {"projects", "Projects", "project", "project", "projects",
     "id, org_id, team_id, name, status, created_at, updated_at", "org_id",
     SCOPE_STATUS "AND ($3::bigint IS NULL OR org_id = $3::bigint) "
     "AND ($4::bigint IS NULL OR team_id = $4::bigint)",
     project_cols, project_form, create_project, 1},
    {"end-users", "End-users", "end-user", "end_user", "end_users",
     "id, org_id, external_id, name, status, created_at, updated_at, "
     "last_seen_at", "org_id",
     SCOPE_STATUS "AND ($3::bigint IS NULL OR org_id = $3::bigint)",
     end_user_cols, end_user_form, create_end_user, 1},
    {"admins", "Admins", "admin user", "admin", "admin_users",
     "id, username, role, org_id, status, created_at, updated_at", NULL,
     SCOPE_STATUS "AND ($3::bigint IS NULL OR org_id = $3::bigint)",
     admin_cols, admin_form, create_admin, 0},
};

/* ---------------------------------------------------------- small parts */

/* adm_form_bad for the functions that answer a row or NULL. */
static PGresult *fail(adm_t *a, adm_bad_t *f, int status, const char *field,
                      const char *msg)
{
    adm_form_bad(a, f, status, field, "%s", msg);
    return NULL;
}

/* The request was answered already (the database failed). */
static PGresult *answered(adm_t *a, adm_bad_t *f)
{
    adm_rollback(a);
    f->status = -1;
    return NULL;
}

/* The kind named by the first path segment ("/api/teams/3" → teams). */
static const kind_t *kind_of(adm_t *a)
{
    const char *p = a->api ? a->path + 4 : a->path;
    size_t i, n;

    p += *p == '/';
    n = strcspn(p, "/");
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strlen(kinds[i].path) == n && !strncmp(p, kinds[i].path, n))
            return &kinds[i];
    return NULL;
}

static int is_super(adm_t *a)
{
    return !strcmp(a->role, "superadmin");
}

static const char *sql_for(adm_t *a, const kind_t *k, const char *rest)
{
    return apr_pstrcat(a->p, "SELECT ", k->cols, " FROM ", k->table, " ",
                       rest, NULL);
}

/* Text as stored: optionally trimmed, 1..max characters, no control
 * characters. NULL and *out, or the reason. */
static const char *check_text(adm_t *a, const char *field, const char *in,
                              size_t max, int trim, const char **out)
{
    const char *s = in, *e;
    const unsigned char *c;
    size_t chars = 0;

    if (!s)
        return apr_pstrcat(a->p, field, " is required", NULL);
    e = s + strlen(s);
    if (trim) {
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
    }
    if (e == s)
        return apr_pstrcat(a->p, field, " is required", NULL);
    for (c = (const unsigned char *)s; c < (const unsigned char *)e; c++) {
        if (*c < 0x20 || *c == 0x7f)
            return apr_pstrcat(a->p, field, " must not contain control "
                               "characters", NULL);
        chars += (*c & 0xc0) != 0x80;   /* code points, not bytes */
    }
    if (chars > max)
        return apr_psprintf(a->p, "%s must be at most %d characters", field,
                            (int)max);
    *out = apr_pstrndup(a->p, s, (apr_size_t)(e - s));
    return NULL;
}

const char *adm_name_check(adm_t *a, const char *field, const char *in,
                           const char **out)
{
    return check_text(a, field, in, 200, 1, out);
}

/* A JSON member that must be a string (or absent / null). */
static int json_not_string(adm_t *a, const char *name)
{
    json_object *m;

    return a->api && a->body && json_object_object_get_ex(a->body, name, &m)
           && m && !json_object_is_type(m, json_type_string);
}

/* A text field: *out NULL when absent; the reason for a 400 otherwise. */
static const char *text_field(adm_t *a, const char *name, size_t max,
                              int trim, const char **out)
{
    const char *v = adm_field(a, name);

    *out = NULL;
    if (json_not_string(a, name))
        return apr_pstrcat(a->p, name, " must be a string", NULL);
    return v ? check_text(a, name, v, max, trim, out) : NULL;
}

/* An id field: 0 absent, -1 malformed. */
static long long id_field(adm_t *a, const char *name)
{
    const char *v = adm_field(a, name);
    long long id;

    if (!v)
        return 0;
    id = adm_parse_id(v);
    return id ? id : -1;
}

/* Answers a failed adm_q the way adm_qx would. */
static PGresult *db_failed(adm_t *a, adm_bad_t *f)
{
    adm_q_failed(a);
    return answered(a, f);
}

/* A write that may hit a live name: 409 naming `field`. */
static PGresult *write_q(adm_t *a, const kind_t *k, adm_bad_t *f,
                         const char *field, const char *sql, int n,
                         const char *const *params)
{
    PGresult *r = adm_q(a, sql, n, params);
    const char *st = adm_sqlstate(a);

    if (r)
        return r;
    if (st && !strcmp(st, "23505"))
        return fail(a, f, 409, field,
                    apr_psprintf(a->p, "%s %s with that %s already exists",
                                 strchr("aeiou", *k->noun) ? "an" : "a",
                                 k->noun, field));
    return db_failed(a, f);
}

/* ---------------------------------------------------------- loading */

/* The row `id` of kind k if the caller may see it; NULL with f filled. */
static PGresult *load(adm_t *a, const kind_t *k, long long id, adm_bad_t *f)
{
    const char *params[1] = {adm_id(a, id)};
    PGresult *r;

    r = adm_q(a, sql_for(a, k, "WHERE id = $1::bigint"), 1, params);
    if (!r)
        return db_failed(a, f);
    if (PQntuples(r) != 1
        || (k->org_col && !adm_org_visible(a, adm_parse_id(
                adm_v(r, 0, k->org_col)))))
        return fail(a, f, 404, NULL,
                    apr_pstrcat(a->p, "no such ", k->noun, NULL));
    return r;
}

static int may_write(adm_t *a, const kind_t *k, PGresult *row)
{
    if (!strcmp(k->obj, "org") || !strcmp(k->obj, "admin"))
        return is_super(a);
    return adm_org_writable(a, adm_parse_id(adm_v(row, 0, k->org_col)));
}

/* A referenced org or team from a form / body field: it must exist, be
 * visible (else 404, as if it did not exist), active and writable. */
static PGresult *load_ref(adm_t *a, const kind_t *k, const char *field,
                          long long id, adm_bad_t *f)
{
    PGresult *r;

    if (id < 0)
        return fail(a, f, 400, field,
                    apr_pstrcat(a->p, field, " must be a positive integer",
                                NULL));
    if (!id)
        return fail(a, f, 400, field,
                    apr_pstrcat(a->p, field, " is required", NULL));
    if (!(r = load(a, k, id, f))) {
        f->field = f->status == 404 ? field : f->field;
        return NULL;
    }
    if (strcmp(adm_v(r, 0, "status"), "active"))
        return fail(a, f, 400, field,
                    apr_pstrcat(a->p, "that ", k->noun, " is archived", NULL));
    if (!adm_org_writable(a, adm_parse_id(adm_v(r, 0, k->org_col))))
        return fail(a, f, 403, field,
                    apr_pstrcat(a->p, "you cannot change that ", k->noun,
                                NULL));
    return r;
}

static json_object *name_detail(const char *field, const char *v)
{
    json_object *d = json_object_new_object();

    json_object_object_add(d, field, v ? json_object_new_string(v) : NULL);
    return d;
}

/* The audit row of a change to `row` (a result of kind k); takes detail.
 * On failure the request is answered. */
static int audit(adm_t *a, const kind_t *k, const char *what, PGresult *row,
                 json_object *detail)
{
    const char *org = k->org_col ? adm_v(row, 0, k->org_col) : NULL;

    return adm_audit_x(a, apr_pstrcat(a->p, k->obj, ".", what, NULL), k->obj,
                       adm_parse_id(adm_v(row, 0, "id")), adm_parse_id(org),
                       detail);
}

/* ---------------------------------------------------------- creates */

static PGresult *create_org(adm_t *a, const kind_t *k, adm_bad_t *f)
{
    const char *name, *err, *params[1];
    PGresult *r;

    if (!is_super(a))
        return fail(a, f, 403, NULL, "only superadmins create organizations");
    if ((err = text_field(a, "name", 200, 1, &name)) || !name)
        return fail(a, f, 400, "name", err ? err : "name is required");
    params[0] = name;
    r = write_q(a, k, f, "name", apr_pstrcat(a->p, "INSERT INTO organizations "
                "(name) VALUES ($1) RETURNING ", k->cols, NULL), 1, params);
    if (r && audit(a, k, "create", r, name_detail("name", name)))
        return answered(a, f);
    return r;
}

/* The org a create names in org_id; an org admin's own org by default. */
static long long org_arg(adm_t *a)
{
    long long org = id_field(a, "org_id");

    return org == 0 && !adm_has_field(a, "org_id") ? a->org_id : org;
}

static PGresult *create_team(adm_t *a, const kind_t *k, adm_bad_t *f)
{
    const char *name, *err, *params[2];
    long long org = org_arg(a);
    PGresult *r;

    if (!load_ref(a, &kinds[0], "org_id", org, f))
        return NULL;
    if ((err = text_field(a, "name", 200, 1, &name)) || !name)
        return fail(a, f, 400, "name", err ? err : "name is required");
    params[0] = adm_id(a, org);
    params[1] = name;
    r = write_q(a, k, f, "name", apr_pstrcat(a->p, "INSERT INTO teams (org_id, "
                "name) VALUES ($1::bigint, $2) RETURNING ", k->cols, NULL),
                2, params);
    if (r && audit(a, k, "create", r, name_detail("name", name)))
        return answered(a, f);
    return r;
}

static PGresult *create_project(adm_t *a, const kind_t *k, adm_bad_t *f)
{
    const char *name, *err, *params[3];
    PGresult *team, *r;

    if (!(team = load_ref(a, &kinds[1], "team_id", id_field(a, "team_id"), f)))
        return NULL;
    if ((err = text_field(a, "name", 200, 1, &name)) || !name)
        return fail(a, f, 400, "name", err ? err : "name is required");
    params[0] = adm_v(team, 0, "org_id");       /* the team's, not trusted */
    params[1] = adm_v(team, 0, "id");
    params[2] = name;
    r = write_q(a, k, f, "name", apr_pstrcat(a->p, "INSERT INTO projects "
                "(org_id, team_id, name) VALUES ($1::bigint, $2::bigint, $3) "
                "RETURNING ", k->cols, NULL), 3, params);
    if (r && audit(a, k, "create", r, name_detail("name", name)))
        return answered(a, f);
    return r;
}

static PGresult *create_end_user(adm_t *a, const kind_t *k, adm_bad_t *f)
{
    const char *ext, *name, *err, *params[3];
    long long org = org_arg(a);
    json_object *d;
    PGresult *r;

    if (!load_ref(a, &kinds[0], "org_id", org, f))
        return NULL;
    if ((err = text_field(a, "external_id", 256, 0, &ext)) || !ext)
        return fail(a, f, 400, "external_id",
                    err ? err : "external_id is required");
    if ((err = text_field(a, "name", 200, 1, &name)))
        return fail(a, f, 400, "name", err);
    params[0] = adm_id(a, org);
    params[1] = ext;
    params[2] = name;
    r = write_q(a, k, f, "external_id", apr_pstrcat(a->p, "INSERT INTO end_users "
                "(org_id, external_id, name) VALUES ($1::bigint, $2, $3) "
                "RETURNING ", k->cols, NULL), 3, params);
    if (!r)
        return NULL;
    d = name_detail("external_id", ext);
    if (name)
        json_object_object_add(d, "name", json_object_new_string(name));
    return audit(a, k, "create", r, d) ? answered(a, f) : r;
}

static PGresult *create_admin(adm_t *a, const kind_t *k, adm_bad_t *f)
{
    const char *user, *err, *role = adm_field(a, "role"), *params[3];
    long long org = id_field(a, "org_id");
    json_object *d;
    PGresult *r;

    if ((err = text_field(a, "username", 200, 1, &user)) || !user)
        return fail(a, f, 400, "username", err ? err : "username is required");
    if (!role || (strcmp(role, "superadmin") && strcmp(role, "org_admin")
                  && strcmp(role, "viewer")))
        return fail(a, f, 400, "role",
                    "role must be superadmin, org_admin or viewer");
    if (org < 0 || (org && !strcmp(role, "superadmin"))
        || (!org && !strcmp(role, "org_admin")))
        return fail(a, f, 400, "org_id",
                    org < 0 ? "org_id must be a positive integer"
                    : org ? "a superadmin belongs to no organization"
                          : "an org_admin needs org_id");
    if (org && !load_ref(a, &kinds[0], "org_id", org, f))
        return NULL;
    params[0] = user;
    params[1] = role;
    params[2] = org ? adm_id(a, org) : NULL;
    r = write_q(a, k, f, "username", apr_pstrcat(a->p, "INSERT INTO admin_users "
                "(username, role, org_id) VALUES ($1, $2, $3::bigint) "
                "RETURNING ", k->cols, NULL), 3, params);
    if (!r)
        return NULL;
    d = name_detail("username", user);
    json_object_object_add(d, "role", json_object_new_string(role));
    if (org)
        json_object_object_add(d, "org_id", json_object_new_int64(org));
    return audit(a, k, "create", r, d) ? answered(a, f) : r;
}

/* ---------------------------------------------------------- HTML */

/* id → name of the visible orgs (or teams), for tables and selects. */
static apr_hash_t *names(adm_t *a, const char *sql, PGresult **rows)
{
    const char *params[1] = {adm_scope_param(a)};
    apr_hash_t *h = apr_hash_make(a->p);
    int i;

    *rows = adm_qx(a, sql, 1, params);
    for (i = 0; *rows && i < PQntuples(*rows); i++)
        apr_hash_set(h, adm_v(*rows, i, "id"), APR_HASH_KEY_STRING,
                     adm_v(*rows, i, "label"));
    return *rows ? h : NULL;
}

typedef struct refs {
    PGresult *orgs, *teams;
    apr_hash_t *org_names, *team_names;
} refs_t;

static int load_refs(adm_t *a, refs_t *x)
{
    x->org_names = names(a, "SELECT id, name AS label, status "
                            "FROM organizations WHERE ($1::bigint IS NULL "
                            "OR id = $1::bigint) ORDER BY name, id", &x->orgs);
    if (!x->org_names)
        return -1;
    x->team_names = names(a, "SELECT t.id, o.name || ' / ' || t.name AS label, "
                             "t.status FROM teams t JOIN organizations o "
                             "ON o.id = t.org_id WHERE ($1::bigint IS NULL "
                             "OR t.org_id = $1::bigint) "
                             "ORDER BY o.name, t.name, t.id", &x->teams);
    return x->team_names ? 0 : -1;
}

static void cell(adm_t *a, const kind_t *k, const refs_t *x, PGresult *r,
                 int row, const col_t *c)
{
    const char *v = adm_v(r, row, c->name), *label;

    adm_puts(a, "<td>");
    if (!v) {
        adm_puts(a, "<span class=\"muted\">—</span>");
    } else if (c->how == C_LINK) {
        adm_printf(a, "<a href=\"%s/%s/%s\">%s</a>", adm_escs(a->p, a->base),
                   k->path, adm_escs(a->p, v), adm_escs(a->p, v));
    } else if (c->how == C_ORG || c->how == C_TEAM) {
        label = apr_hash_get(c->how == C_ORG ? x->org_names : x->team_names,
                             v, APR_HASH_KEY_STRING);
        adm_esc(a, label ? label : v);
    } else if (c->how == C_TIME) {
        adm_esc(a, apr_pstrndup(a->p, v, 16));  /* UTC, to the minute */
    } else {
        adm_esc(a, v);
    }
    adm_puts(a, "</td>");
}

static void table(adm_t *a, const kind_t *k, const refs_t *x, PGresult *r)
{
    const col_t *c;
    int i;

    if (!PQntuples(r)) {
        adm_printf(a, "<p class=\"muted\">No %ss.</p>\n", k->noun);
        return;
    }
    adm_puts(a, "<table><thead><tr>");
    for (c = k->list; c->head; c++)
        adm_printf(a, "<th>%s</th>", c->head);
    adm_puts(a, "</tr></thead><tbody>\n");
    for (i = 0; i < PQntuples(r); i++) {
        adm_puts(a, "<tr>");
        for (c = k->list; c->head; c++)
            cell(a, k, x, r, i, c);
        adm_puts(a, "</tr>\n");
    }
    adm_puts(a, "</tbody></table>\n");
}

static void form_field(adm_t *a, const refs_t *x, const field_t *fd,
                       const char *val, const adm_bad_t *f)
{
    static const char *const roles[] = {"viewer", "org_admin", "superadmin",
                                        NULL};
    int none = fd->how == F_ORG && a->org_id == 0;

    if (fd->how == F_TEXT)
        adm_form_input(a, f, fd->label, fd->name, "text", val,
                       " size=\"40\"");
    else if (fd->how == F_ROLE)
        adm_form_select(a, f, fd->label, fd->name, roles, val);
    else
        adm_form_id_select(a, f, fd->label, fd->name,
                           fd->how == F_ORG ? x->orgs : x->teams,
                           val ? val : adm_id_opt(a, a->org_id),
                           none ? "—" : NULL);
}

/* The create form; on a failed create, the values sent and the error. */
static void create_form(adm_t *a, const kind_t *k, const refs_t *x,
                        const adm_bad_t *f)
{
    const field_t *fd;

    adm_printf(a, "<h2>New %s</h2>\n<form class=\"box\" method=\"post\" "
               "action=\"%s/%s\">", k->noun, adm_escs(a->p, a->base), k->path);
    adm_csrf_input(a);
    for (fd = k->form; fd->name; fd++)
        form_field(a, x, fd, adm_field(a, fd->name), f);
    adm_puts(a, "<p><button type=\"submit\">Create</button></p></form>\n");
}

static const char *const statuses[] = {"active", "archived", "all", NULL};

/* The filter bar: status, and org / team where the kind has them. */
static void filter_form(adm_t *a, const kind_t *k, const refs_t *x,
                        const char *status)
{
    adm_form_filter_begin(a, apr_pstrcat(a->p, "/", k->path, NULL));
    adm_form_filter_select(a, "Status", "status", statuses, status);
    if (strcmp(k->obj, "org"))
        adm_form_filter_org(a, adm_arg(a, "org_id"));
    if (!strcmp(k->obj, "project"))
        adm_form_filter_rows(a, "Team", "team_id", x->teams,
                             adm_arg(a, "team_id"));
    adm_form_filter_end(a);
}

/* Is the error's field one the create form shows it next to? */
static int in_form(const field_t *form, const char *field)
{
    for (; field && form->name; form++)
        if (!strcmp(form->name, field))
            return 1;
    return 0;
}

static int may_create(adm_t *a, const kind_t *k)
{
    if (!strcmp(k->obj, "org") || !strcmp(k->obj, "admin"))
        return is_super(a);
    return adm_can_write(a);
}

/* ---------------------------------------------------------- lists */

/* The list's rows by the query's filters; NULL after answering. */
static PGresult *list_rows(adm_t *a, const kind_t *k, const char **status)
{
    const char *params[4];

    if (adm_form_status_arg(a, statuses, "active", status)
        || adm_form_id_arg(a, "org_id", &params[2])
        || adm_form_id_arg(a, "team_id", &params[3]))
        return NULL;
    params[0] = adm_scope_param(a);
    params[1] = *status;
    return adm_qx(a, apr_pstrcat(a->p, "SELECT ", k->cols, " FROM ", k->table,
                                 " WHERE ", k->list_where,
                                 " ORDER BY id LIMIT 5000", NULL),
                  strcmp(k->obj, "project") ? 3 : 4, params);
}

static int list_page(adm_t *a, const kind_t *k, const adm_bad_t *f)
{
    const char *status;
    PGresult *r = list_rows(a, k, &status);
    refs_t x;

    if (!r)
        return a->status;
    if (a->api) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "data", adm_rows_json(r));
        return adm_json(a, 200, o);
    }
    if (load_refs(a, &x))
        return a->status;
    adm_page_begin(a, k->title, k->path);
    if (f && f->msg && !in_form(k->form, f->field))
        adm_form_error(a, f->field, f->msg);
    filter_form(a, k, &x, status);
    table(a, k, &x, r);
    if (may_create(a, k))
        create_form(a, k, &x, f);
    return adm_page_end(a);
}

/* ---------------------------------------------------------- one object */

static void edit_forms(adm_t *a, const kind_t *k, PGresult *r,
                       const adm_bad_t *f)
{
    const char *path = apr_pstrcat(a->p, "/", k->path, "/",
                                   adm_v(r, 0, "id"), NULL);
    const char *name = adm_has_field(a, "name") ? adm_field(a, "name")
                                                : adm_v(r, 0, "name");

    if (k->editable) {
        adm_puts(a, "<form class=\"box\" method=\"post\" action=\"");
        adm_esc(a, apr_pstrcat(a->p, a->base, path, NULL));
        adm_puts(a, "\">");
        adm_csrf_input(a);
        adm_form_input(a, f, "Name", "name", "text", name, " size=\"40\"");
        adm_puts(a, "<p><button type=\"submit\">Save</button></p></form>\n");
    }
    if (!strcmp(adm_v(r, 0, "status"), "active")) {
        adm_form_button(a, apr_pstrcat(a->p, path, "/archive", NULL),
                        apr_pstrcat(a->p, "Archive this ", k->noun, NULL));
        adm_puts(a, "\n");
    }
}

/* "Team core" — by its name where it has one. */
static const char *object_title(adm_t *a, const kind_t *k, PGresult *r)
{
    const char *label = adm_v(r, 0, "name");
    char *t;

    if (!label)
        label = adm_v(r, 0, "username");
    if (!label)
        label = adm_v(r, 0, "external_id");
    t = apr_pstrcat(a->p, k->noun, " ", label ? label : adm_v(r, 0, "id"),
                    NULL);
    t[0] = (char)(t[0] - 'a' + 'A');
    return t;
}

static int object_page(adm_t *a, const kind_t *k, PGresult *r,
                       const adm_bad_t *f)
{
    const col_t *c;
    refs_t x;

    if (load_refs(a, &x))
        return a->status;
    adm_page_begin(a, object_title(a, k, r), k->path);
    if (f && f->msg && (!k->editable || !f->field || strcmp(f->field, "name")))
        adm_form_error(a, f->field, f->msg);
    adm_puts(a, "<table>");
    for (c = k->list; c->head; c++) {
        adm_printf(a, "<tr><th>%s</th>", c->head);
        cell(a, k, &x, r, 0, c->how == C_LINK ? &(col_t){0, c->name, C_TEXT}
                                              : c);
        adm_puts(a, "</tr>");
    }
    adm_puts(a, "</table>\n");
    if (may_write(a, k, r))
        edit_forms(a, k, r, f);
    adm_printf(a, "<p><a href=\"%s/%s\">All %ss</a></p>\n",
               adm_escs(a->p, a->base), k->path, k->noun);
    return adm_page_end(a);
}

/* A refusal: an error answer, or (HTML 400/409) the form it came from
 * again, with the error next to the field and the values kept. */
static int refuse(adm_t *a, const kind_t *k, const adm_bad_t *f)
{
    adm_bad_t nf;
    PGresult *r;

    if (f->status < 0)
        return a->status;
    if (a->api || (f->status != 400 && f->status != 409))
        return adm_form_refuse(a, f);
    a->status = f->status;
    if (!a->id)
        return list_page(a, k, f);
    if (!(r = load(a, k, a->id, &nf)))
        return refuse(a, k, &nf);
    a->status = f->status;
    return object_page(a, k, r, f);
}

/* ---------------------------------------------------------- handlers */

static int admins_only(adm_t *a, const kind_t *k)
{
    return !strcmp(k->obj, "admin") && !is_super(a);
}

static int h_list(adm_t *a)
{
    const kind_t *k = kind_of(a);

    if (admins_only(a, k))
        return adm_error(a, 403, "forbidden", NULL,
                         "only superadmins manage admin users");
    return list_page(a, k, NULL);
}

/* COMMIT, then the row (status) or, for pages, back to the list. */
static int done(adm_t *a, const kind_t *k, PGresult *r, int status)
{
    if (adm_commit(a))
        return a->status;
    return a->api ? adm_json(a, status, adm_row_json(r, 0))
                  : adm_redirect(a, apr_pstrcat(a->p, "/", k->path, NULL));
}

static int h_create(adm_t *a)
{
    const kind_t *k = kind_of(a);
    adm_bad_t f = {0, NULL, NULL};
    PGresult *r;

    if (!may_create(a, k))
        return adm_error(a, 403, "forbidden", NULL,
                         "you cannot create %ss", k->noun);
    if (adm_begin(a))
        return a->status;
    if (!(r = k->create(a, k, &f))) {
        adm_rollback(a);
        return refuse(a, k, &f);
    }
    return done(a, k, r, 201);
}

static int h_get(adm_t *a)
{
    const kind_t *k = kind_of(a);
    adm_bad_t f = {0, NULL, NULL};
    PGresult *r;

    if (admins_only(a, k))
        return adm_error(a, 403, "forbidden", NULL,
                         "only superadmins manage admin users");
    if (!(r = load(a, k, a->id, &f)))
        return refuse(a, k, &f);
    return a->api ? adm_json(a, 200, adm_row_json(r, 0))
                  : object_page(a, k, r, NULL);
}

/* The checked new name of an edit; NULL with f filled, or *keep when
 * nothing is to change (a PATCH without name). */
static const char *new_name(adm_t *a, const kind_t *k, adm_bad_t *f, int *keep)
{
    const char *name = NULL, *err;
    int optional = !strcmp(k->obj, "end_user");   /* its name may be cleared */

    *keep = a->api && !adm_has_field(a, "name");
    if (*keep)
        return NULL;
    if ((err = text_field(a, "name", 200, 1, &name)) || (!name && !optional)) {
        fail(a, f, 400, "name", err ? err : "name is required");
        return NULL;
    }
    return name ? name : "";
}

static int h_edit(adm_t *a)
{
    const kind_t *k = kind_of(a);
    adm_bad_t f = {0, NULL, NULL};
    const char *name, *params[2];
    PGresult *r;
    int keep;

    if (!(r = load(a, k, a->id, &f)))
        return refuse(a, k, &f);
    if (!may_write(a, k, r))
        return adm_error(a, 403, "forbidden", NULL,
                         "you cannot change this %s", k->noun);
    name = new_name(a, k, &f, &keep);
    if (keep)
        return adm_json(a, 200, adm_row_json(r, 0));
    if (!name)
        return refuse(a, k, &f);
    params[0] = adm_id(a, a->id);
    params[1] = *name ? name : NULL;
    if (adm_begin(a))
        return a->status;
    r = write_q(a, k, &f, "name", apr_pstrcat(a->p, "UPDATE ", k->table,
                " SET name = $2, updated_at = now() WHERE id = $1::bigint "
                "RETURNING ", k->cols, NULL), 2, params);
    if (!r) {
        adm_rollback(a);
        return refuse(a, k, &f);
    }
    if (audit(a, k, "update", r, name_detail("name", params[1])))
        return adm_abort(a);
    return done(a, k, r, 200);
}

/* Archives row r in the open transaction (archiving twice changes
 * nothing); the row as it is now, or NULL answered. */
static PGresult *archive(adm_t *a, const kind_t *k, PGresult *r)
{
    const char *params[1] = {adm_v(r, 0, "id")};
    PGresult *now;

    now = adm_qx(a, apr_pstrcat(a->p, "UPDATE ", k->table, " SET status = "
                 "'archived', updated_at = now() WHERE id = $1::bigint AND "
                 "status = 'active' RETURNING ", k->cols, NULL), 1, params);
    if (!now || !PQntuples(now))
        return now ? r : NULL;
    if (audit(a, k, "archive", now, NULL)) {
        adm_rollback(a);
        return NULL;
    }
    return now;
}

static int h_action(adm_t *a)
{
    const kind_t *k = kind_of(a);
    adm_bad_t f = {0, NULL, NULL};
    PGresult *r;

    if (strcmp(a->action, "archive"))
        return adm_error(a, 404, "not_found", NULL, "no such action");
    if (admins_only(a, k))
        return adm_error(a, 403, "forbidden", NULL,
                         "only superadmins manage admin users");
    if (!(r = load(a, k, a->id, &f)))
        return refuse(a, k, &f);
    if (!may_write(a, k, r))
        return adm_error(a, 403, "forbidden", NULL,
                         "you cannot change this %s", k->noun);
    if (!strcmp(k->obj, "admin") && !strcmp(adm_v(r, 0, "username"), a->user))
        return refuse(a, k, &(adm_bad_t){400, NULL,
                                         "you cannot archive yourself"});
    if (adm_begin(a) || !(r = archive(a, k, r)))
        return a->status;
    return done(a, k, r, 200);
}

static int h_me(adm_t *a)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "username", json_object_new_string(a->user));
    json_object_object_add(o, "role", json_object_new_string(a->role));
    json_object_object_add(o, "org_id", a->org_id
                           ? json_object_new_int64(a->org_id) : NULL);
    return adm_json(a, 200, o);
}

#define KIND_ROUTES(P) \
    {"GET", P, h_list, 0}, \
    {"POST", P, h_create, 1}, \
    {"GET", P "/{id}", h_get, 0}, \
    {"POST", P "/{id}", h_edit, 1}, \
    {"PATCH", P "/{id}", h_edit, 1}, \
    {"POST", P "/{id}/{action}", h_action, 1}

const adm_route_t adm_tenant_routes[] = {
    {"GET", "/me", h_me, 0},
    KIND_ROUTES("/orgs"),
    KIND_ROUTES("/teams"),
    KIND_ROUTES("/projects"),
    KIND_ROUTES("/end-users"),
    {"GET", "/admins", h_list, 0},
    {"POST", "/admins", h_create, 1},
    {"GET", "/admins/{id}", h_get, 0},
    {"POST", "/admins/{id}/{action}", h_action, 1},
    {NULL, NULL, NULL, 0}
};
