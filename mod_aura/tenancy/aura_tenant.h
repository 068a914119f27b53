/*
 * aura_tenant.h - who a request belongs to: a virtual key's tenant record,
 * its compact cache form, the key's model policy, and the usage ledger
 * line the gateway spools for every keyed request.
 *
 * Pure core (APR only): the glue (mod_aura_auth.c) fills a record from
 * PostgreSQL, keeps it in socache in the encoded form below, and decodes
 * it on every warm request; the unit tests exercise all of it without a
 * server or a database.
 */
#ifndef AURA_TENANT_H
#define AURA_TENANT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "aura_vkey.h"
#include "aura_registry.h"
#include "aura_stream.h"

/* What a key lookup found. UNKNOWN is what a negative cache entry says. */
typedef enum {
    AURA_KEY_UNKNOWN = 0,
    AURA_KEY_ACTIVE,
    AURA_KEY_REVOKED,
    AURA_KEY_ORG_ARCHIVED,
    AURA_KEY_TEAM_ARCHIVED,
    AURA_KEY_PROJECT_ARCHIVED
} aura_key_state_e;

typedef struct aura_tenant {
    int state;                  /* aura_key_state_e */
    apr_int64_t key_pk;         /* virtual_keys.id */
    const char *key_id;         /* the public 12-character id */
    unsigned char hash[AURA_VKEY_HASH_LEN];
    apr_time_t expires;         /* 0: never */
    apr_int64_t org_id, team_id, project_id;    /* 0: none */
    const char *org, *team, *project;           /* names, NULL: none */
    apr_array_header_t *allowed; /* const char*; NULL: every model */
} aura_tenant_t;

/* The most a cache record may take; a key whose record is larger (a very
 * long allowed_models list) is simply not cached. */
#define AURA_TENANT_REC_MAX 8192

/* Encode into buf: the length, or 0 when it does not fit in cap. */
apr_size_t aura_tenant_encode(const aura_tenant_t *t, unsigned char *buf,
                              apr_size_t cap);

/* Decode a record (copied once into p; the strings point into the copy).
 * Returns 0, or -1 when the bytes are not a record of this version. */
int aura_tenant_decode(apr_pool_t *p, const unsigned char *buf,
                       apr_size_t len, aura_tenant_t *t);

/* The columns of the key lookup (text form, NULL for SQL NULL), in this
 * order: */
enum {
    AURA_TCOL_ID, AURA_TCOL_HASH, AURA_TCOL_STATUS, AURA_TCOL_EXPIRES_US,
    AURA_TCOL_ORG_ID, AURA_TCOL_ORG, AURA_TCOL_ORG_STATUS,
    AURA_TCOL_TEAM_ID, AURA_TCOL_TEAM, AURA_TCOL_TEAM_STATUS,
    AURA_TCOL_PROJECT_ID, AURA_TCOL_PROJECT, AURA_TCOL_PROJECT_STATUS,
    AURA_TCOL_ALLOWED_JSON, AURA_TCOL_COUNT
};

/* A record from one result row. Returns NULL or what is wrong. */
const char *aura_tenant_from_row(apr_pool_t *p, const char *key_id,
                                 const char *const *cols, aura_tenant_t *t);

/* A key's model policy: 1 when `name` matches an entry ("x" exactly, "x*"
 * as a prefix); always 1 when `allowed` is NULL. */
int aura_model_allowed(const apr_array_header_t *allowed, const char *name);

/* "a, b*" for the 403 message. */
const char *aura_allowed_text(apr_pool_t *p, const apr_array_header_t *allowed);

/* End-user ids longer than this are not recorded (schema: 1..256). */
#define AURA_END_USER_MAX 256

/* One usage ledger record: the columns of usage_ledger plus "end_user",
 * the caller's external id, resolved to end_users.id by the ingester. */
typedef struct aura_ledger_rec {
    const char *request_id;
    apr_time_t created;
    const aura_tenant_t *tenant;    /* NULL: anonymous */
    const char *end_user;           /* or NULL */
    const char *front;              /* responses | chat | messages */
    int stream;
    const char *model, *provider, *upstream_model;
    const aura_model_t *entry;      /* prices; NULL = unknown */
    const aura_usage_t *usage;      /* NULL: none reported */
    long cache_write;
    apr_int64_t latency_ms, overhead_us;
    int http_status;
    const char *status;             /* completed | incomplete | failed */
    int cache_hit;
} aura_ledger_rec_t;

/* The record as one line of JSON ending in "\n", in p. */
const char *aura_ledger_line(apr_pool_t *p, const aura_ledger_rec_t *r,
                             apr_size_t *len);

/* `aura.tenant`: {org_id, org, team_id, team, project_id, project, key_id,
 * end_user}, null members where a level is absent. Caller owns it. */
json_object *aura_tenant_json(const aura_tenant_t *t, const char *end_user);

/* Adds `aura.tenant` to a resource that aura_meter_apply enriched, when the
 * request came with a key (t not NULL). */
void aura_tenant_apply(json_object *resource, const aura_tenant_t *t,
                       const char *end_user);

#endif /* AURA_TENANT_H */
