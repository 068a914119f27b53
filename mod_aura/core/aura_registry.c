/*
 * aura_registry.c - model registry loading and model resolution.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <apr_file_io.h>
#include <apr_file_info.h>

#include "aura_registry.h"

aura_registry_t *aura_registry_create(apr_pool_t *p)
{
    aura_registry_t *reg = apr_pcalloc(p, sizeof(*reg));
    reg->pool = p;
    reg->models = apr_hash_make(p);
    reg->prefixes = apr_hash_make(p);
    reg->by_upstream = apr_hash_make(p);
    return reg;
}

static double price_field(json_object *price, const char *key, double dflt)
{
    json_object *v = aura_json_get(price, key);
    if (v && (json_object_is_type(v, json_type_double) ||
              json_object_is_type(v, json_type_int)))
        return json_object_get_double(v);
    return dflt;
}

static const char *load_price(aura_model_t *m, json_object *price)
{
    if (!price) {
        m->priced = 0;
        m->price.input = m->price.cached_input = m->price.output =
            m->price.reasoning = m->price.cache_write = -1;
        return NULL;
    }
    if (!json_object_is_type(price, json_type_object))
        return "\"price\" must be an object";
    m->price.input = price_field(price, "input", -1);
    m->price.output = price_field(price, "output", -1);
    if (m->price.input < 0 || m->price.output < 0)
        return "\"price\" needs non-negative \"input\" and \"output\"";
    m->price.cached_input = price_field(price, "cached_input", m->price.input);
    m->price.reasoning = price_field(price, "reasoning", m->price.output);
    m->price.cache_write = price_field(price, "cache_write", m->price.input);
    m->priced = 1;
    return NULL;
}

static unsigned load_caps(json_object *caps)
{
    static const struct { const char *name; unsigned bit; } names[] = {
        {"tools", AURA_CAP_TOOLS}, {"vision", AURA_CAP_VISION},
        {"json_schema", AURA_CAP_JSON_SCHEMA},
        {"reasoning", AURA_CAP_REASONING},
    };
    unsigned bits = 0;
    size_t i, j, n;

    if (!caps || !json_object_is_type(caps, json_type_array))
        return 0;
    n = json_object_array_length(caps);
    for (i = 0; i < n; i++) {
        const char *c = json_object_get_string(
            json_object_array_get_idx(caps, i));
        for (j = 0; c && j < sizeof(names) / sizeof(names[0]); j++)
            if (!strcmp(c, names[j].name))
                bits |= names[j].bit;
    }
    return bits;
}

static long long_field(json_object *o, const char *key)
{
    json_object *v = aura_json_get(o, key);
    return (v && json_object_is_type(v, json_type_int))
               ? (long)json_object_get_int64(v) : 0;
}

static const char *load_model(aura_registry_t *reg, const char *name,
                              json_object *def)
{
    apr_pool_t *p = reg->pool;
    aura_model_t *m = apr_pcalloc(p, sizeof(*m));
    const char *provider = aura_json_string(def, "provider");
    const char *upstream = aura_json_string(def, "upstream");
    const char *api = aura_json_string(def, "api");
    json_object *aliases = aura_json_get(def, "aliases");
    const char *err;
    size_t i, n;

    if (!json_object_is_type(def, json_type_object) || !provider)
        return "needs an object with a \"provider\" string";
    if (api && strcmp(api, "responses") && strcmp(api, "chat"))
        return "\"api\" must be \"responses\" or \"chat\"";
    m->name = apr_pstrdup(p, name);
    m->provider = apr_pstrdup(p, provider);
    m->upstream = apr_pstrdup(p, upstream ? upstream : name);
    m->api = api ? apr_pstrdup(p, api) : NULL;
    if ((err = load_price(m, aura_json_get(def, "price"))) != NULL)
        return err;
    m->context_window = long_field(def, "context_window");
    m->max_output = long_field(def, "max_output");
    m->caps = load_caps(aura_json_get(def, "capabilities"));
    apr_hash_set(reg->models, m->name, APR_HASH_KEY_STRING, m);
    apr_hash_set(reg->by_upstream,
                 apr_pstrcat(p, m->provider, "/", m->upstream, NULL),
                 APR_HASH_KEY_STRING, m);
    n = (aliases && json_object_is_type(aliases, json_type_array))
            ? json_object_array_length(aliases) : 0;
    for (i = 0; i < n; i++) {
        const char *a = json_object_get_string(
            json_object_array_get_idx(aliases, i));
        if (a)
            apr_hash_set(reg->models, apr_pstrdup(p, a), APR_HASH_KEY_STRING,
                         m);
    }
    return NULL;
}

static int prefix_order(const void *a, const void *b)
{
    const aura_prefix_t *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return strcmp(x->prefix, y->prefix);
}

static void rebuild_prefix_list(aura_registry_t *reg)
{
    apr_hash_index_t *hi;
    apr_array_header_t *list = apr_array_make(reg->pool, 8,
                                              sizeof(aura_prefix_t));
    /* Load time, one thread: a pool-allocated iterator. */
    for (hi = apr_hash_first(reg->pool, reg->prefixes); hi;
         hi = apr_hash_next(hi)) {
        aura_prefix_t *px = apr_array_push(list);
        px->prefix = apr_hash_this_key(hi);
        px->len = strlen(px->prefix);
        px->provider = apr_hash_this_val(hi);
    }
    qsort(list->elts, list->nelts, sizeof(aura_prefix_t), prefix_order);
    reg->prefix_list = list;
}

const char *aura_registry_load_json(aura_registry_t *reg, const char *text,
                                    const char *origin)
{
    apr_pool_t *p = reg->pool;
    json_object *root = aura_json_pool(p, json_tokener_parse(text));
    json_object *models, *prefixes;

    if (!root || !json_object_is_type(root, json_type_object))
        return apr_psprintf(p, "%s: not a JSON object", origin);
    models = aura_json_get(root, "models");
    prefixes = aura_json_get(root, "prefixes");
    if (models) {
        if (!json_object_is_type(models, json_type_object))
            return apr_psprintf(p, "%s: \"models\" must be an object", origin);
        json_object_object_foreach(models, name, def) {
            const char *err = load_model(reg, name, def);
            if (err)
                return apr_psprintf(p, "%s: model \"%s\": %s", origin, name,
                                    err);
        }
    }
    if (prefixes) {
        if (!json_object_is_type(prefixes, json_type_object))
            return apr_psprintf(p, "%s: \"prefixes\" must be an object",
                                origin);
        json_object_object_foreach(prefixes, pfx, prov) {
            if (!json_object_is_type(prov, json_type_string))
                return apr_psprintf(p, "%s: prefix \"%s\" needs a provider",
                                    origin, pfx);
            apr_hash_set(reg->prefixes, apr_pstrdup(p, pfx),
                         APR_HASH_KEY_STRING,
                         apr_pstrdup(p, json_object_get_string(prov)));
        }
        rebuild_prefix_list(reg);
    }
    return NULL;
}

static const char *load_file(aura_registry_t *reg, const char *path);

static int json_name_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A directory: every *.json in it, in name order (so that which file wins
 * a conflict never depends on the file system). */
static const char *load_dir(aura_registry_t *reg, const char *path)
{
    apr_pool_t *p = reg->pool;
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(const char *));
    apr_finfo_t fi;
    apr_dir_t *dir;
    const char *err;
    int i;

    if (apr_dir_open(&dir, path, p) != APR_SUCCESS)
        return apr_psprintf(p, "cannot open directory %s", path);
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dir) ==
           APR_SUCCESS) {
        apr_size_t n = strlen(fi.name);
        if (fi.filetype == APR_REG && n > 5 && fi.name[0] != '.' &&
            !strcmp(fi.name + n - 5, ".json"))
            APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p, fi.name);
    }
    apr_dir_close(dir);
    qsort(names->elts, names->nelts, sizeof(const char *), json_name_order);
    for (i = 0; i < names->nelts; i++) {
        const char *f = apr_pstrcat(p, path, "/",
                                    APR_ARRAY_IDX(names, i, const char *),
                                    NULL);
        if ((err = load_file(reg, f)) != NULL)
            return err;
    }
    return NULL;
}

const char *aura_registry_load(aura_registry_t *reg, const char *path)
{
    apr_finfo_t fi;

    if (apr_stat(&fi, path, APR_FINFO_TYPE, reg->pool) == APR_SUCCESS &&
        fi.filetype == APR_DIR)
        return load_dir(reg, path);
    return load_file(reg, path);
}

static const char *load_file(aura_registry_t *reg, const char *path)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, reg->pool);
    if (rv != APR_SUCCESS)
        return apr_psprintf(reg->pool, "cannot open %s", path);
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    n = (apr_size_t)fi.size;
    buf = apr_palloc(reg->pool, n + 1);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF)
        return apr_psprintf(reg->pool, "cannot read %s", path);
    buf[n] = '\0';
    return aura_registry_load_json(reg, buf, path);
}

const aura_model_t *aura_registry_find(const aura_registry_t *reg,
                                       const char *name)
{
    return reg ? apr_hash_get(reg->models, name, APR_HASH_KEY_STRING) : NULL;
}

/* Longest matching prefix. The list is sorted longest first (then by
 * name), so the answer never depends on hash order, and lookups allocate
 * nothing and touch no shared iterator. */
static const char *prefix_provider(const aura_registry_t *reg,
                                   const char *name)
{
    int i;
    for (i = 0; reg->prefix_list && i < reg->prefix_list->nelts; i++) {
        const aura_prefix_t *px =
            &APR_ARRAY_IDX(reg->prefix_list, i, aura_prefix_t);
        if (!strncmp(name, px->prefix, px->len))
            return px->provider;
    }
    return NULL;
}

/* An entry served by `provider` under upstream id `upstream`, for pricing
 * "provider/model" requests that name the upstream id directly. */
static const aura_model_t *find_by_upstream(apr_pool_t *p,
                                            const aura_registry_t *reg,
                                            const char *provider,
                                            const char *upstream)
{
    /* Request pool, never reg->pool: this runs per request. */
    const char *key = apr_pstrcat(p, provider, "/", upstream, NULL);
    const aura_model_t *m = aura_registry_find(reg, upstream);
    if (m && !strcmp(m->provider, provider))
        return m;
    if ((m = aura_registry_find(reg, key)) != NULL)
        return m;
    return apr_hash_get(reg->by_upstream, key, APR_HASH_KEY_STRING);
}

static int glob_match(const char *pattern, const char *name)
{
    return name && fnmatch(pattern, name, 0) == 0;
}

/* Allowed when any name the model went by matches: as asked, after the
 * aliases, or as resolved. */
static int allowed(const aura_rules_t *rules, const char *a, const char *b,
                   const char *c)
{
    int i;
    if (!rules->allow || rules->allow->nelts == 0)
        return 1;
    for (i = 0; i < rules->allow->nelts; i++) {
        const char *g = APR_ARRAY_IDX(rules->allow, i, const char *);
        if (glob_match(g, a) || glob_match(g, b) || glob_match(g, c))
            return 1;
    }
    return 0;
}

static const char *apply_aliases(const aura_rules_t *rules, const char *m)
{
    int hops;
    /* Aliases may chain; a bounded walk keeps a loop from hanging. */
    for (hops = 0; rules->aliases && hops < 8; hops++) {
        const char *t = apr_table_get(rules->aliases, m);
        if (!t)
            break;
        m = t;
    }
    return m;
}

static void apply_routes(const aura_rules_t *rules, aura_resolved_t *out)
{
    int i;
    for (i = 0; rules->routes && i < rules->routes->nelts; i++) {
        const aura_route_rule_t *rr =
            &APR_ARRAY_IDX(rules->routes, i, aura_route_rule_t);
        if (glob_match(rr->pattern, out->name)) {
            out->provider = rr->provider;
            out->routed = 1;
            if (rr->upstream)
                out->upstream_model = rr->upstream;
            return;
        }
    }
}

/* Returns 0: unknown, 1: resolved, 2: resolved from an explicit
 * "provider/model" (which no AuraRoute may override). */
static int lookup(apr_pool_t *p, const aura_registry_t *reg,
                  apr_hash_t *providers, const char *m, aura_resolved_t *out)
{
    const char *slash = strchr(m, '/');
    const aura_model_t *e;

    if (slash && slash > m && slash[1]) {
        const char *prov = apr_pstrmemdup(p, m, slash - m);
        if (apr_hash_get(providers, prov, APR_HASH_KEY_STRING)) {
            e = find_by_upstream(p, reg, prov, slash + 1);
            out->provider = prov;
            out->entry = e;
            out->upstream_model = e ? e->upstream : slash + 1;
            out->name = m;
            return 2;
        }
    }
    if ((e = aura_registry_find(reg, m)) != NULL) {
        out->entry = e;
        out->provider = e->provider;
        out->upstream_model = e->upstream;
        out->name = e->name;
        return 1;
    }
    if ((out->provider = prefix_provider(reg, m)) != NULL) {
        out->upstream_model = m;
        out->name = m;
        return 1;
    }
    return 0;
}

aura_error_t *aura_resolve(apr_pool_t *p, const aura_registry_t *reg,
                           const aura_rules_t *rules, apr_hash_t *providers,
                           const char *requested, aura_resolved_t *out)
{
    const char *asked = requested ? requested : rules->default_model;
    const char *m = asked;
    int found;

    memset(out, 0, sizeof(*out));
    out->requested = requested;
    if (!m || !*m)
        return aura_bad_request(p, "missing_required_parameter", "model",
                                "Missing required parameter: 'model' (and "
                                "no default model is configured here).");
    m = apply_aliases(rules, m);
    found = lookup(p, reg, providers, m, out);
    if (!found) {
        /* Even an unknown name may be routed explicitly by AuraRoute. */
        out->name = out->upstream_model = m;
        apply_routes(rules, out);
        if (!out->provider)
            return aura_error_make(p, 404, "invalid_request_error",
                                   "model_not_found", "model",
                                   "The model '%s' does not exist or is not "
                                   "served by this gateway.", m);
    }
    else if (found == 1) {
        apply_routes(rules, out);
    }
    if (!allowed(rules, asked, m, out->name))
        return aura_error_make(p, 403, "permission_error",
                               "model_not_allowed", "model",
                               "The model '%s' is not allowed here.",
                               out->name);
    if (!apr_hash_get(providers, out->provider, APR_HASH_KEY_STRING))
        return aura_error_make(p, 503, "server_error",
                               "provider_not_configured", "model",
                               "The model '%s' is served by provider '%s', "
                               "which is not configured on this gateway.",
                               out->name, out->provider);
    return NULL;
}
