/*
 * admin_migrate.c - `aura-admin migrate`: apply schema/NNNN_name.sql in
 * order, each in its own transaction together with its row in
 * schema_migrations, under an advisory lock so that two runs at once
 * serialise and the second finds nothing to do.
 *
 * A file that changed after it was applied is an error, never re-run: the
 * database would no longer be what the file says, and nobody would know.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_tables.h>
#include <openssl/sha.h>

#include "admin_int.h"
#include "aura_vkey.h"

#ifndef AURA_SCHEMA_DIR
#define AURA_SCHEMA_DIR "schema"
#endif

typedef struct mig {
    int version;
    const char *name;           /* "0001_tenancy" */
    const char *path;
    const char *sql;
    const char *checksum;       /* SHA-256 hex of the file */
} mig_t;

/* ^[0-9]{4}_[a-z0-9_]+\.sql$ */
static int mig_name_ok(const char *f)
{
    size_t n = strlen(f), i;

    if (n < 10 || strcmp(f + n - 4, ".sql") || f[4] != '_')
        return 0;
    for (i = 0; i < 4; i++)
        if (f[i] < '0' || f[i] > '9')
            return 0;
    for (i = 5; i < n - 4; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", f[i]))
            return 0;
    return 1;
}

static int mig_cmp(const void *x, const void *y)
{
    return strcmp(((const mig_t *)x)->name, ((const mig_t *)y)->name);
}

static const char *mig_read(apr_pool_t *p, mig_t *m)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t got;
    char *buf;
    unsigned char sum[SHA256_DIGEST_LENGTH];

    if (apr_file_open(&f, m->path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p)
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f))
        return "cannot read it";
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    got = (apr_size_t)fi.size;
    if (got && apr_file_read_full(f, buf, got, &got) != APR_SUCCESS)
        return "cannot read it";
    apr_file_close(f);
    buf[got] = '\0';
    if (strlen(buf) != got)
        return "it contains a NUL byte";
    SHA256((unsigned char *)buf, got, sum);
    m->sql = buf;
    m->checksum = aura_hex(p, sum, sizeof(sum));
    return NULL;
}

/* The migration files of dir, sorted; NULL after printing why. */
static apr_array_header_t *mig_list(apr_pool_t *p, const char *dir)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(mig_t));
    apr_dir_t *d;
    apr_finfo_t fi;
    int i;

    if (apr_dir_open(&d, dir, p)) {
        fprintf(stderr, "aura-admin: cannot open the schema directory %s\n",
                dir);
        return NULL;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == 0) {
        mig_t *m;
        const char *err;

        if (fi.filetype != APR_REG || !mig_name_ok(fi.name))
            continue;
        m = apr_array_push(out);
        m->version = atoi(fi.name);
        m->name = apr_pstrndup(p, fi.name, strlen(fi.name) - 4);
        m->path = apr_pstrcat(p, dir, "/", fi.name, NULL);
        if ((err = mig_read(p, m))) {
            fprintf(stderr, "aura-admin: %s: %s\n", m->path, err);
            apr_dir_close(d);
            return NULL;
        }
    }
    apr_dir_close(d);
    qsort(out->elts, (size_t)out->nelts, sizeof(mig_t), mig_cmp);
    for (i = 1; i < out->nelts; i++) {
        mig_t *m = &APR_ARRAY_IDX(out, i, mig_t);
        if (m->version == APR_ARRAY_IDX(out, i - 1, mig_t).version) {
            fprintf(stderr, "aura-admin: two migrations have version %04d\n",
                    m->version);
            return NULL;
        }
    }
    return out;
}

/* ---------------------------------------------------------- database */

/* Runs sql; 0, or -1 after printing what failed (about `what`). For a
 * migration file, the line of the error too. */
static int run(PGconn *db, const char *what, const char *sql, int n,
               const char *const *params)
{
    PGresult *r = n ? PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0)
                    : PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    const char *msg, *pos;
    int line = 0;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return 0;
    }
    msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    pos = r ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;
    if (pos && !n) {
        long at = atol(pos), i;
        for (i = 0, line = 1; i < at - 1 && sql[i]; i++)
            line += sql[i] == '\n';
    }
    if (line)
        fprintf(stderr, "aura-admin: %s, line %d: %s\n", what, line, msg);
    else
        fprintf(stderr, "aura-admin: %s: %s\n", what,
                msg ? msg : PQerrorMessage(db));
    PQclear(r);
    return -1;
}

/* The applied migrations: version → "name checksum" in a table; NULL on
 * error. */
static apr_table_t *mig_applied(apr_pool_t *p, PGconn *db)
{
    PGresult *r = PQexec(db, "SELECT version, name, checksum "
                             "FROM schema_migrations");
    apr_table_t *t;
    int i;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "aura-admin: reading schema_migrations: %s",
                PQerrorMessage(db));
        PQclear(r);
        return NULL;
    }
    t = apr_table_make(p, PQntuples(r) + 1);
    for (i = 0; i < PQntuples(r); i++)
        apr_table_set(t, PQgetvalue(r, i, 0),
                      apr_pstrcat(p, PQgetvalue(r, i, 1), " ",
                                  PQgetvalue(r, i, 2), NULL));
    PQclear(r);
    return t;
}

static int mig_apply(apr_pool_t *p, PGconn *db, const mig_t *m)
{
    const char *params[3];
    const char *what = apr_pstrcat(p, m->name, ".sql", NULL);

    params[0] = apr_itoa(p, m->version);
    params[1] = m->name;
    params[2] = m->checksum;
    if (run(db, "BEGIN", "BEGIN", 0, NULL))
        return -1;
    if (run(db, what, m->sql, 0, NULL)
        || run(db, "recording the migration",
               "INSERT INTO schema_migrations (version, name, checksum) "
               "VALUES ($1::int, $2, $3)", 3, params)
        || run(db, "COMMIT", "COMMIT", 0, NULL)) {
        PQclear(PQexec(db, "ROLLBACK"));
        return -1;
    }
    printf("applied %s\n", m->name);
    fflush(stdout);
    return 0;
}

/* Under the lock: bring the database up to the files. */
static int mig_locked(apr_pool_t *p, PGconn *db, apr_array_header_t *files)
{
    apr_table_t *done;
    int i, applied = 0;

    if (run(db, "creating schema_migrations",
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL,"
            " checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL)
        || !(done = mig_applied(p, db)))
        return 1;
    for (i = 0; i < files->nelts; i++) {
        const mig_t *m = &APR_ARRAY_IDX(files, i, mig_t);
        const char *was = apr_table_get(done, apr_itoa(p, m->version));

        if (was) {
            if (strcmp(was, apr_pstrcat(p, m->name, " ", m->checksum, NULL))) {
                fprintf(stderr, "aura-admin: %s was changed after it was "
                        "applied (recorded as %s); refusing to go on\n",
                        m->path, was);
                return 1;
            }
            continue;
        }
        if (mig_apply(p, db, m))
            return 1;
        applied++;
    }
    if (!applied)
        printf("schema is up to date\n");
    return 0;
}

int adm_migrate(apr_pool_t *p, PGconn *db)
{
    const char *dir = getenv("AURA_SCHEMA_DIR");
    apr_array_header_t *files;
    int rc;

    if (!dir || !*dir)
        dir = AURA_SCHEMA_DIR;
    if (!(files = mig_list(p, dir)))
        return 1;
    /* "aura_mig": held for the whole run, so a second run waits and then
     * finds everything applied. */
    if (run(db, "taking the migration lock",
            "SELECT pg_advisory_lock(x'617572615f6d6967'::bigint)", 0, NULL))
        return 1;
    rc = mig_locked(p, db, files);
    PQclear(PQexec(db, "SELECT pg_advisory_unlock("
                       "x'617572615f6d6967'::bigint)"));
    return rc;
}
