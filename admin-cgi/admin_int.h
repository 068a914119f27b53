/*
 * admin_int.h - the admin console's private plumbing, shared between
 * admin_main.c, admin_http.c, admin_db.c, admin_migrate.c and admin_cli.c.
 * Handlers never need it: their interface is admin.h.
 */
#ifndef AURA_ADMIN_INT_H
#define AURA_ADMIN_INT_H

#include "admin.h"

/* Largest request body the console reads (413 above). */
#define ADM_BODY_MAX (1024 * 1024)
/* Most of a larger body read and thrown away, so that the 413 reaches the
 * client (drain_body in admin_main.c); LimitRequestBody at or under it
 * has Apache refuse anything bigger itself. */
#define ADM_BODY_DRAIN (64 * 1024 * 1024)

/* admin_cli.c: the command line; returns the process exit code
 * (0 ok, 1 failure, 2 usage). */
int adm_cli_main(apr_pool_t *p, int argc, char **argv);

/* admin_migrate.c: apply pending migrations; 0 or 1 (message on stderr). */
int adm_migrate(apr_pool_t *p, PGconn *db);

/* admin_tenants.c: a name as stored: trimmed, 1-200 characters, no
 * control characters. NULL and the clean name in *out, or the reason
 * (naming `field`) for a 400. */
const char *adm_name_check(adm_t *a, const char *field, const char *in,
                           const char **out);

/* admin_main.c: 1 inside the command line (errors go to stderr). */
int adm_in_cli(void);

/* admin_db.c: connect to AURA_DB with the session in UTC; the connection
 * is closed with p. NULL (reason logged, never the conninfo) on failure. */
PGconn *adm_db_connect(apr_pool_t *p);
/* 1 when the last failure was the database going away (answer 503). */
int adm_db_down(adm_t *a);

/* admin_http.c: request input. Each returns NULL or a message for a 400. */
const char *adm_parse_urlencoded(apr_pool_t *p, const char *s,
                                 apr_size_t n, apr_table_t *into);
const char *adm_parse_json_body(adm_t *a, const char *s, apr_size_t n);
/* The CSRF token of a->user, or NULL without a master key. */
const char *adm_csrf_token(adm_t *a);
/* Constant-time comparison of a presented token with a->csrf. */
int adm_csrf_ok(adm_t *a, const char *presented);
/* Write status, headers and the buffered body to stdout. */
void adm_send(adm_t *a);

#endif /* AURA_ADMIN_INT_H */
