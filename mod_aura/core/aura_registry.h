/*
 * aura_registry.h - the model registry (data in conf/models.json) and the
 * deterministic model → provider resolution.
 *
 * Resolution order for a requested name (after per-directory aliases):
 *   1. "provider/model" where provider is a configured upstream: always
 *      that provider; the registry entry "provider/model" or an entry whose
 *      provider and upstream id match supplies prices when there is one.
 *   2. exact registry name or registry alias.
 *   3. the longest declared prefix ("gpt-" → openai); ties cannot happen
 *      (prefixes are unique keys), so the result never depends on order.
 *   4. otherwise: not found (404), never a silent guess.
 * Per-directory AuraRoute rules then override the provider (first match),
 * except for "provider/model" names, which are always explicit.
 */
#ifndef AURA_REGISTRY_H
#define AURA_REGISTRY_H

#include <apr_hash.h>
#include "aura.h"

/* USD per 1M tokens. A negative value means "unknown". */
typedef struct aura_price {
    double input;
    double cached_input;    /* defaults to input when not listed */
    double output;
    double reasoning;       /* defaults to output when not listed */
    double cache_write;     /* defaults to input when not listed */
} aura_price_t;

#define AURA_CAP_TOOLS       0x01
#define AURA_CAP_VISION      0x02
#define AURA_CAP_JSON_SCHEMA 0x04
#define AURA_CAP_REASONING   0x08

typedef struct aura_model {
    const char *name;           /* canonical registry name */
    const char *provider;       /* provider name it is served by */
    const char *upstream;       /* id sent upstream */
    const char *api;            /* "responses" | "chat" | NULL (provider's) */
    aura_price_t price;
    int priced;                 /* 0: cost is reported as unknown */
    long context_window;
    long max_output;
    unsigned caps;
} aura_model_t;

typedef struct aura_prefix {
    const char *prefix;
    apr_size_t len;
    const char *provider;
} aura_prefix_t;

typedef struct aura_registry {
    apr_pool_t *pool;
    apr_hash_t *models;         /* name and aliases → aura_model_t* */
    apr_hash_t *prefixes;       /* prefix → provider name (while loading) */
    apr_array_header_t *prefix_list; /* aura_prefix_t, longest first: read
                                        by request threads, never iterated
                                        through the hash (its built-in
                                        iterator is not thread-safe) */
    apr_hash_t *by_upstream;    /* "provider/upstream-id" → aura_model_t* */
} aura_registry_t;

aura_registry_t *aura_registry_create(apr_pool_t *p);

/* Load (merge) one registry file, or every *.json of a directory in name
 * order; later files override earlier entries.
 * Returns NULL or a description of what is wrong and where. */
const char *aura_registry_load(aura_registry_t *reg, const char *path);
/* Same, from a JSON text (unit tests). */
const char *aura_registry_load_json(aura_registry_t *reg, const char *text,
                                    const char *origin);

const aura_model_t *aura_registry_find(const aura_registry_t *reg,
                                       const char *name);

/* Per-directory routing rules (built by the httpd glue from directives). */
typedef struct aura_route_rule {
    const char *pattern;        /* fnmatch glob on the model name */
    const char *provider;
    const char *upstream;       /* NULL: keep the resolved upstream id */
} aura_route_rule_t;

typedef struct aura_rules {
    const char *default_model;  /* NULL: a model is required */
    apr_table_t *aliases;       /* alias → model (may be NULL) */
    apr_array_header_t *allow;  /* const char* globs; NULL/empty: any */
    apr_array_header_t *routes; /* aura_route_rule_t; NULL: none */
} aura_rules_t;

typedef struct aura_resolved {
    const char *requested;      /* what the client asked for */
    const char *name;           /* resolved model name (reported) */
    const char *provider;       /* configured upstream name */
    const char *upstream_model; /* id sent upstream */
    const aura_model_t *entry;  /* registry entry, or NULL */
    int routed;                 /* an AuraRoute chose the provider: the
                                   entry still prices the model, but its
                                   "api" no longer applies */
} aura_resolved_t;

/* `providers`: configured upstream names (keys) → anything. Errors:
 * 400 missing model, 403 model_not_allowed, 404 model_not_found,
 * 503 provider_not_configured. */
aura_error_t *aura_resolve(apr_pool_t *p, const aura_registry_t *reg,
                           const aura_rules_t *rules, apr_hash_t *providers,
                           const char *requested, aura_resolved_t *out);

#endif /* AURA_REGISTRY_H */
