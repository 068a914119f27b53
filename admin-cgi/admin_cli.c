/*
 * admin_cli.c - aura-admin on the command line (docs/admin.md): migrate,
 * bootstrap, create-key, gen-master-key, add-admin.
 *
 * Exit codes: 0 done, 1 failed (the reason on stderr), 2 usage error.
 * Only create-key prints a secret, and only the key, alone on stdout, so
 * that `KEY=$(aura-admin create-key ...)` captures exactly it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "admin_int.h"
#include "aura_crypt.h"
#include "aura_vkey.h"

static const char usage_text[] =
    "usage: aura-admin COMMAND [OPTIONS]\n"
    "\n"
    "  migrate                              apply pending schema migrations\n"
    "  bootstrap --admin NAME [--org NAME]  create the first org (default\n"
    "                                       \"default\") and a superadmin\n"
    "  create-key --org ID|NAME --name NAME [--models a,b] [--expires RFC3339]\n"
    "                                       create a virtual key; prints it\n"
    "  gen-master-key FILE                  write a new master key (0600)\n"
    "  add-admin --user NAME --role superadmin|org_admin|viewer [--org ID]\n"
    "                                       add an admin user\n"
    "\n"
    "Environment: AURA_DB (libpq conninfo; passwords in PGPASSFILE),\n"
    "AURA_MASTER_KEY_FILE, AURA_SCHEMA_DIR (overrides the schema directory).\n"
    "Run as a CGI program (GATEWAY_INTERFACE set) it is the admin console.\n";

static int usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "aura-admin: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(aura-admin --help for usage)\n");
    return 2;
}

/* --name VALUE / --name=VALUE for the names in `allowed` (space
 * separated, each followed by a space); NULL or the usage problem. */
static const char *parse_opts(apr_pool_t *p, int argc, char **argv,
                              const char *allowed, apr_table_t *opts)
{
    int i;

    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq, *name, *val;

        if (strncmp(arg, "--", 2) || !arg[2])
            return apr_psprintf(p, "unexpected argument \"%s\"", arg);
        eq = strchr(arg, '=');
        name = eq ? apr_pstrndup(p, arg + 2, (apr_size_t)(eq - arg - 2))
                  : arg + 2;
        if (!strstr(allowed, apr_pstrcat(p, " ", name, " ", NULL)))
            return apr_psprintf(p, "unknown option --%s", name);
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return apr_psprintf(p, "--%s needs a value", name);
        if (apr_table_get(opts, name))
            return apr_psprintf(p, "--%s given twice", name);
        apr_table_set(opts, name, val);
    }
    return NULL;
}

/* An option's value as a name (adm_name_check: trimmed, 1-200
 * characters); NULL after printing why. dflt when the option is absent. */
static const char *opt_name(adm_t *a, apr_table_t *o, const char *opt,
                            const char *dflt)
{
    const char *v = apr_table_get(o, opt), *err, *out;

    err = adm_name_check(a, apr_pstrcat(a->p, "--", opt, NULL),
                         v ? v : dflt, &out);
    if (err) {
        fprintf(stderr, "aura-admin: %s\n", err);
        return NULL;
    }
    return out;
}

/* ---------------------------------------------------------- commands */

static int cmd_migrate(apr_pool_t *p, int argc, char **argv)
{
    PGconn *db;

    (void)argv;
    if (argc)
        return usage("migrate takes no arguments%s", "");
    if (!(db = adm_db_connect(p))) {
        fprintf(stderr, "aura-admin: cannot connect to the database "
                        "(AURA_DB)\n");
        return 1;
    }
    return adm_migrate(p, db);
}

/* The id of the live org named `name`, creating it when missing. */
static long long bootstrap_org(adm_t *a, const char *name)
{
    const char *params[1] = {name};
    PGresult *r;

    r = adm_qx(a, "INSERT INTO organizations (name) VALUES ($1) "
                  "ON CONFLICT (name) WHERE status = 'active' DO NOTHING "
                  "RETURNING id", 1, params);
    if (r && PQntuples(r) == 1) {
        long long id = adm_parse_id(adm_v(r, 0, "id"));
        json_object *d = json_object_new_object();

        json_object_object_add(d, "name", json_object_new_string(name));
        if (adm_audit(a, "org.create", "org", adm_id(a, id), id, d))
            id = 0;
        json_object_put(d);
        if (id)
            printf("created organization \"%s\" (id %lld)\n", name, id);
        return id;
    }
    r = r ? adm_qx(a, "SELECT id FROM organizations "
                      "WHERE name = $1 AND status = 'active'", 1, params)
          : NULL;
    return r && PQntuples(r) == 1 ? adm_parse_id(adm_v(r, 0, "id")) : 0;
}

/* Makes `user` an active superadmin, whatever it was before. */
static int bootstrap_admin(adm_t *a, const char *user)
{
    const char *params[1] = {user};
    PGresult *r;
    json_object *d;
    int rc;

    r = adm_qx(a, "INSERT INTO admin_users (username, role) "
                  "VALUES ($1, 'superadmin') "
                  "ON CONFLICT (username) DO UPDATE SET role = 'superadmin', "
                  "org_id = NULL, status = 'active', updated_at = now() "
                  "WHERE admin_users.role <> 'superadmin' "
                  "OR admin_users.status <> 'active' "
                  "RETURNING id, (xmax = 0) AS inserted", 1, params);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        printf("superadmin \"%s\" already exists\n", user);
        return 0;
    }
    d = json_object_new_object();
    json_object_object_add(d, "username", json_object_new_string(user));
    json_object_object_add(d, "role", json_object_new_string("superadmin"));
    rc = adm_audit(a, *adm_v(r, 0, "inserted") == 't' ? "admin.create"
                                                       : "admin.update",
                   "admin", adm_v(r, 0, "id"), 0, d);
    json_object_put(d);
    if (!rc)
        printf("superadmin \"%s\" is ready\n", user);
    return rc;
}

static int cmd_bootstrap(apr_pool_t *p, int argc, char **argv)
{
    apr_table_t *o = apr_table_make(p, 4);
    const char *err = parse_opts(p, argc, argv, " admin org ", o);
    const char *user, *org;
    adm_t *a;

    if (err)
        return usage("%s", err);
    if (!apr_table_get(o, "admin"))
        return usage("bootstrap needs --admin NAME%s", "");
    if (!(a = adm_cli_context(p)))
        return 1;
    if (!(user = opt_name(a, o, "admin", NULL))
        || !(org = opt_name(a, o, "org", "default")))
        return 1;
    if (adm_begin(a) || !bootstrap_org(a, org) || bootstrap_admin(a, user)
        || adm_commit(a))
        return 1;
    return 0;
}

/* --org as an id or the name of a live org; 0 after printing why. */
static long long resolve_org(adm_t *a, const char *org)
{
    long long id = adm_parse_id(org);
    const char *params[1];
    PGresult *r;

    params[0] = id ? adm_id(a, id) : org;
    r = adm_qx(a, id ? "SELECT id FROM organizations WHERE id = $1::bigint "
                       "AND status = 'active'"
                     : "SELECT id FROM organizations WHERE name = $1 "
                       "AND status = 'active'", 1, params);
    if (!r)
        return 0;
    if (PQntuples(r) != 1) {
        fprintf(stderr, "aura-admin: no active organization \"%s\"\n", org);
        return 0;
    }
    return adm_parse_id(adm_v(r, 0, "id"));
}

static int cmd_create_key(apr_pool_t *p, int argc, char **argv)
{
    apr_table_t *o = apr_table_make(p, 4);
    const char *err = parse_opts(p, argc, argv, " org name models expires ", o);
    const char *secret = NULL, *models = apr_table_get(o, "models"), *name;
    json_object *mj = NULL;
    long long org;
    adm_t *a;

    if (err)
        return usage("%s", err);
    if (!apr_table_get(o, "org") || !apr_table_get(o, "name"))
        return usage("create-key needs --org ID|NAME and --name NAME%s", "");
    if (!(a = adm_cli_context(p)))
        return 1;
    if (!(name = opt_name(a, o, "name", NULL))
        || !(org = resolve_org(a, apr_table_get(o, "org"))))
        return 1;
    if (models)
        mj = adm_json_bind(a, adm_models_from_text(p, models));
    if (adm_begin(a))
        return 1;
    if (!adm_key_insert(a, name, org, 0, 0, mj,
                        apr_table_get(o, "expires"), 0, &secret)
        || !secret) {
        adm_rollback(a);
        return 1;
    }
    if (adm_commit(a))
        return 1;
    printf("%s\n", secret);
    fflush(stdout);
    return 0;
}

static int cmd_gen_master_key(apr_pool_t *p, int argc, char **argv)
{
    unsigned char key[AURA_MASTER_KEY_LEN];
    const char *hex;
    int fd, ok;

    if (argc != 1 || !strncmp(argv[0], "--", 2))
        return usage("gen-master-key needs one FILE%s", "");
    if (RAND_bytes(key, sizeof(key)) != 1) {
        fprintf(stderr, "aura-admin: the random number generator failed\n");
        return 1;
    }
    fd = open(argv[0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "aura-admin: %s: %s%s\n", argv[0], strerror(errno),
                errno == EEXIST ? " (refusing to overwrite a master key)" : "");
        OPENSSL_cleanse(key, sizeof(key));
        return 1;
    }
    hex = apr_pstrcat(p, aura_hex(p, key, sizeof(key)), "\n", NULL);
    OPENSSL_cleanse(key, sizeof(key));
    ok = write(fd, hex, strlen(hex)) == (ssize_t)strlen(hex);
    OPENSSL_cleanse((void *)hex, strlen(hex));
    if (fsync(fd) || close(fd) || !ok) {
        fprintf(stderr, "aura-admin: %s: could not write the key\n", argv[0]);
        unlink(argv[0]);
        return 1;
    }
    fprintf(stderr, "aura-admin: wrote a new master key to %s\n", argv[0]);
    return 0;
}

static int add_admin_row(adm_t *a, const char *user, const char *role,
                         long long org)
{
    const char *params[3] = {user, role, org ? adm_id(a, org) : NULL};
    json_object *d;
    PGresult *r;
    int rc;

    r = adm_q(a, "INSERT INTO admin_users (username, role, org_id) "
                 "VALUES ($1, $2, $3::bigint) RETURNING id", 3, params);
    if (!r) {
        const char *st = adm_sqlstate(a);
        fprintf(stderr, "aura-admin: %s\n", st && !strcmp(st, "23505")
                ? "an admin user of that name already exists"
                : "could not add the admin user");
        return -1;
    }
    d = json_object_new_object();
    json_object_object_add(d, "username", json_object_new_string(user));
    json_object_object_add(d, "role", json_object_new_string(role));
    if (org)
        json_object_object_add(d, "org_id", json_object_new_int64(org));
    rc = adm_audit(a, "admin.create", "admin", adm_v(r, 0, "id"), org, d);
    json_object_put(d);
    return rc;
}

static int cmd_add_admin(apr_pool_t *p, int argc, char **argv)
{
    apr_table_t *o = apr_table_make(p, 4);
    const char *err = parse_opts(p, argc, argv, " user role org ", o);
    const char *user, *role = apr_table_get(o, "role");
    const char *orgs = apr_table_get(o, "org");
    long long org = 0;
    adm_t *a;

    if (err)
        return usage("%s", err);
    if (!apr_table_get(o, "user") || !role)
        return usage("add-admin needs --user NAME and --role ROLE%s", "");
    if (strcmp(role, "superadmin") && strcmp(role, "org_admin")
        && strcmp(role, "viewer"))
        return usage("--role must be superadmin, org_admin or viewer, not "
                     "\"%s\"", role);
    if (orgs && !(org = adm_parse_id(orgs)))
        return usage("--org must be an organization id, not \"%s\"", orgs);
    if (!strcmp(role, "org_admin") && !org)
        return usage("an org_admin needs --org ID%s", "");
    if (!strcmp(role, "superadmin") && org)
        return usage("a superadmin belongs to no org; drop --org%s", "");
    if (!(a = adm_cli_context(p)))
        return 1;
    if (!(user = opt_name(a, o, "user", NULL)))
        return 1;
    if (adm_begin(a) || (org && !resolve_org(a, orgs)))
        return 1;
    if (add_admin_row(a, user, role, org) || adm_commit(a))
        return 1;
    printf("added %s \"%s\"\n", role, user);
    return 0;
}

int adm_cli_main(apr_pool_t *p, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(apr_pool_t *, int, char **);
    } cmds[] = {
        {"migrate", cmd_migrate},
        {"bootstrap", cmd_bootstrap},
        {"create-key", cmd_create_key},
        {"gen-master-key", cmd_gen_master_key},
        {"add-admin", cmd_add_admin},
    };
    size_t i;

    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")
        || !strcmp(argv[1], "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(p, argc - 2, argv + 2);
    return usage("unknown command \"%s\"", argv[1]);
}
