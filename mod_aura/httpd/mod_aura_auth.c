/*
 * mod_aura_auth.c - identity (virtual key → tenant) and the key's model
 * policy.
 *
 * The key comes from Authorization: Bearer, else x-api-key (Anthropic's
 * clients), else api-key (Azure's). Its public key_id finds the record:
 * first in the socache (AuraKeyCacheTTL; unknown ids AuraKeyNegativeTTL),
 * else in PostgreSQL through the child's pool, and the record then goes
 * into the cache. A warm key therefore costs one shared-memory lookup, a
 * SHA-256 and a constant-time compare, all in the request pool.
 *
 * The hash is checked before anything about the key's state is said: a
 * key_id is public (lists, logs), so without the secret nobody learns
 * whether a key exists, was revoked or expired.
 *
 * A key in the URL query string is refused before anything else reads
 * the request (aura_auth_refuse_query_key): URLs are logged and kept by
 * proxies, and Gemini's clients put `?key=` there by habit.
 *
 * After routing, aura_auth_check_model applies the key's model policy.
 */
#include <string.h>
#include <strings.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_log.h>

#include "mod_aura_private.h"

APLOG_USE_MODULE(aura);

static const char *const KEY_SQL =
    "SELECT k.id, encode(k.secret_hash, 'hex'), k.status,"
    " coalesce((extract(epoch FROM k.expires_at) * 1000000)::bigint, 0),"
    " k.org_id, o.name, o.status, k.team_id, t.name, t.status,"
    " k.project_id, p.name, p.status, array_to_json(k.allowed_models)"
    " FROM virtual_keys k JOIN organizations o ON o.id = k.org_id"
    " LEFT JOIN teams t ON t.id = k.team_id"
    " LEFT JOIN projects p ON p.id = k.project_id"
    " WHERE k.key_id = $1";

#define MSG_MISSING "Missing API key: send a virtual key as "\
    "\"Authorization: Bearer sk-aura-...\", \"x-api-key\" or \"api-key\"."
#define MSG_INVALID "Invalid API key."

/* ------------------------------------------------------------ answers */

static int deny(aura_exchange_t *ex, const char *code, const char *msg)
{
    aura_error_t *e = aura_error_make(ex->r->pool, 401,
                                      "authentication_error", code, NULL,
                                      "%s", msg);
    /* RFC 6750 3.1: error="invalid_token" only when a token was sent. */
    apr_table_setn(ex->r->err_headers_out, "WWW-Authenticate",
                   strcmp(code, "missing_api_key")
                       ? "Bearer realm=\"mod_aura\", error=\"invalid_token\""
                       : "Bearer realm=\"mod_aura\"");
    return aura_send_error(ex, e);
}

static int unavailable(aura_exchange_t *ex)
{
    aura_error_t *e = aura_error_make(ex->r->pool, 503, "server_error",
                                      "tenant_store_unavailable", NULL,
                                      "The API key could not be checked: the "
                                      "tenant store is unavailable. Try "
                                      "again shortly.");
    e->retry_after = "1";
    return aura_send_error(ex, e);
}

/* ------------------------------------------------------ the query string */

/* Parameter names that carry a credential however a client spells them
 * (api_key, api-key, apiKey, X-API-Key, Gemini's key=): compared in lower
 * case without '-' and '_'. */
static int credential_name(const char *name)
{
    static const char *const names[] = {
        "key", "apikey", "xapikey", "xgoogapikey", "accesstoken", "token",
        "authorization", "bearer",
    };
    char norm[32];
    apr_size_t n = 0, i;

    for (; *name && n < sizeof(norm) - 1; name++)
        if (*name != '-' && *name != '_')
            norm[n++] = (char)apr_tolower(*name);
    if (*name)
        return 0;               /* longer than any of them */
    norm[n] = '\0';
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(norm, names[i]))
            return 1;
    return 0;
}

/* A credential-looking value: what log redaction would hide (sk-...,
 * Bearer ..., AIza..., key=...; aura_redact). */
static int credential_text(apr_pool_t *p, const char *s)
{
    return aura_redact(p, s, NULL) != s;
}

/* 1 when a parameter of `args` is named like a key or its value (raw or
 * decoded) looks like one. */
static int query_has_credential(apr_pool_t *p, const char *args)
{
    char *copy = apr_pstrdup(p, args), *last = NULL, *pair, *value;

    for (pair = apr_strtok(copy, "&;", &last); pair;
         pair = apr_strtok(NULL, "&;", &last)) {
        if (credential_text(p, pair))
            return 1;
        if ((value = strchr(pair, '=')) != NULL)
            *value++ = '\0';
        ap_unescape_urlencoded(pair);   /* partial on bad escapes: fine */
        if (credential_name(pair) || credential_text(p, pair))
            return 1;
        if (value) {
            ap_unescape_urlencoded(value);
            if (credential_text(p, value))
                return 1;
        }
    }
    return 0;
}

int aura_auth_refuse_query_key(aura_exchange_t *ex)
{
    const char *args = ex->r->args;

    if (!args || !*args || !query_has_credential(ex->r->pool, args))
        return DECLINED;
    /* Neither the key nor the parameter's name is repeated: the name may
     * be the key itself ("?sk-aura-..."). */
    return aura_send_error(ex, aura_error_make(ex->r->pool, 400,
        "invalid_request_error", "credential_in_query", NULL,
        "An API key does not go in the URL query string, where logs and "
        "proxies keep it: send it as \"Authorization: Bearer <key>\" (or "
        "the \"x-api-key\" or \"api-key\" header), and consider this key "
        "exposed."));
}

/* --------------------------------------------------------------- lookup */

static const char *presented_key(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");

    if (h && !strncasecmp(h, "Bearer ", 7)) {
        for (h += 7; *h == ' '; h++)
            ;
        return *h ? h : NULL;
    }
    if ((h = apr_table_get(r->headers_in, "x-api-key")) && *h)
        return h;
    if ((h = apr_table_get(r->headers_in, "api-key")) && *h)
        return h;
    return NULL;
}

/* The row (or its absence) as a record; HTTP_SERVICE_UNAVAILABLE when the
 * row cannot be read (logged). */
static int from_result(aura_exchange_t *ex, const char *key_id,
                       const PGresult *res, aura_tenant_t *t)
{
    const char *cols[AURA_TCOL_COUNT], *err;
    int i;

    if (PQntuples(res) == 0 || PQnfields(res) != AURA_TCOL_COUNT) {
        memset(t, 0, sizeof(*t));
        t->state = AURA_KEY_UNKNOWN;
        t->key_id = key_id;
        return OK;
    }
    for (i = 0; i < AURA_TCOL_COUNT; i++)
        cols[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
    if ((err = aura_tenant_from_row(ex->r->pool, key_id, cols, t)) != NULL) {
        AURA_LOG(ex, APLOG_ERR, "key %s: unusable row: %s", key_id, err);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    return OK;
}

static int db_lookup(aura_exchange_t *ex, const char *key_id,
                     aura_tenant_t *t)
{
    aura_tenancy_t *ty = aura_tenancy_get();
    aura_db_outcome_e out = AURA_DB_BROKEN;
    int attempt, rc;

    /* A second try only when the connection was found broken (a pooled
     * one that died with a server restart): a fresh one may work at once.
     * After a timeout another try would only double the wait. */
    for (attempt = 0; attempt < 2 && out == AURA_DB_BROKEN; attempt++) {
        PGconn *c = aura_db_acquire(ty->db);
        PGresult *res;

        if (!c)
            break;
        out = aura_db_query(c, KEY_SQL, 1, &key_id, AURA_DB_DEADLINE_MS,
                            NULL, &res);
        if (out == AURA_DB_OK) {
            rc = from_result(ex, key_id, res, t);
            PQclear(res);
            aura_db_release(ty->db, c, out);
            return rc;
        }
        AURA_LOG(ex, APLOG_WARNING, "key lookup failed: %s",
                 aura_db_error(ex->r->pool, c, res, out));
        PQclear(res);
        aura_db_release(ty->db, c, out);
    }
    return HTTP_SERVICE_UNAVAILABLE;
}

static int lookup(aura_exchange_t *ex, const char *key_id, aura_tenant_t *t)
{
    int rc;

    if (aura_keycache_get(ex->r, key_id, t) && t->key_id &&
        !strcmp(t->key_id, key_id))
        return OK;
    if ((rc = db_lookup(ex, key_id, t)) == OK)
        aura_keycache_put(ex->r, t);
    return rc;
}

/* Why a key whose secret matched cannot be used, or NULL. */
static const char *refusal(const aura_tenant_t *t, apr_time_t now)
{
    switch (t->state) {
    case AURA_KEY_ACTIVE:
        break;
    case AURA_KEY_REVOKED:
        return "This API key has been revoked.";
    case AURA_KEY_ORG_ARCHIVED:
        return "This API key's organization has been archived.";
    case AURA_KEY_TEAM_ARCHIVED:
        return "This API key's team has been archived.";
    case AURA_KEY_PROJECT_ARCHIVED:
        return "This API key's project has been archived.";
    default:
        return MSG_INVALID;
    }
    if (t->expires && now >= t->expires)
        return "This API key has expired.";
    return NULL;
}

static void note_tenant(aura_exchange_t *ex, const aura_tenant_t *t)
{
    request_rec *r = ex->r;

    ex->tenant = t;
    /* The public key id, for access logs (%{aura-key-id}n) and %u. */
    apr_table_setn(r->notes, "aura-key-id", t->key_id);
    if (!r->user)
        r->user = (char *)t->key_id;
}

int aura_auth_identify(aura_exchange_t *ex)
{
    request_rec *r = ex->r;
    int require = ex->dc->require_key != 0;
    const char *key, *key_id, *why;
    aura_tenant_t *t;

    if (!aura_tenancy_get())
        return DECLINED;
    if (!(key = presented_key(r)))
        return require ? deny(ex, "missing_api_key", MSG_MISSING) : DECLINED;
    /* Where keys are optional, only a virtual key is looked at: other
     * tokens meant for something else pass as anonymous. */
    if (!aura_vkey_parse(r->pool, key, &key_id))
        return require ? deny(ex, "invalid_api_key", MSG_INVALID) : DECLINED;
    t = apr_palloc(r->pool, sizeof(*t));
    if (lookup(ex, key_id, t) != OK)
        return unavailable(ex);
    /* An unknown id has an all-zero hash: the compare fails like any
     * other, in the same time. */
    if (!aura_vkey_verify(key, t->hash))
        return deny(ex, "invalid_api_key", MSG_INVALID);
    if ((why = refusal(t, r->request_time)) != NULL) {
        AURA_LOG(ex, APLOG_INFO, "key %s refused: %s", key_id, why);
        return deny(ex, "invalid_api_key", why);
    }
    note_tenant(ex, t);
    return DECLINED;
}

/* --------------------------------------------------------------- policy */

static int qualified_allowed(apr_pool_t *p, const apr_array_header_t *a,
                             const char *provider, const char *upstream)
{
    return provider && upstream &&
           aura_model_allowed(a, apr_pstrcat(p, provider, "/", upstream,
                                             NULL));
}

/* Allowed when the model as resolved (what is served and billed) or as
 * "provider/upstream-id" matches; the name as asked counts too, unless a
 * per-directory alias (which a .htaccess author controls) turned it into
 * another model. Then the provider's credential must be usable. */
int aura_auth_check_model(aura_exchange_t *ex)
{
    const aura_tenant_t *t = ex->tenant;
    const aura_resolved_t *rs = &ex->route;
    apr_table_t *aliases = ex->dc->rules.aliases;
    apr_pool_t *p = ex->r->pool;

    if (!t || !t->allowed ||
        aura_model_allowed(t->allowed, rs->name) ||
        qualified_allowed(p, t->allowed, rs->provider, rs->upstream_model) ||
        (rs->requested && aura_model_allowed(t->allowed, rs->requested) &&
         !(aliases && apr_table_get(aliases, rs->requested))))
        return DECLINED;
    return aura_send_error(ex, aura_error_make(p, 403, "permission_error",
        "model_not_allowed", "model", "The model '%s' is not allowed for "
        "this API key (allowed: %s).", rs->name,
        aura_allowed_text(p, t->allowed)));
}

int aura_auth_model_listed(const aura_exchange_t *ex, const aura_model_t *m)
{
    const aura_tenant_t *t = ex->tenant;

    return !t || !t->allowed || aura_model_allowed(t->allowed, m->name) ||
           qualified_allowed(ex->r->pool, t->allowed, m->provider,
                             m->upstream);
}
