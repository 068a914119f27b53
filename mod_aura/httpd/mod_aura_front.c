/*
 * mod_aura_front.c - endpoints that answer without a generation:
 * GET .../models and POST .../messages/count_tokens.
 */
#include <stdlib.h>
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>

#include "mod_aura_private.h"

APLOG_USE_MODULE(aura);

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const aura_model_t *const *)a)->name,
                  (*(const aura_model_t *const *)b)->name);
}

/* Registry models this caller may use here: served by a configured
 * provider, allowed by AuraAllowModels and by the caller's key, routed as
 * a request would be. */
static apr_array_header_t *usable_models(aura_exchange_t *ex)
{
    apr_pool_t *p = ex->r->pool;
    apr_array_header_t *out = apr_array_make(p, 32, sizeof(aura_model_t *));
    apr_hash_index_t *hi;

    if (!ex->sc->registry)
        return out;
    for (hi = apr_hash_first(p, ex->sc->registry->models); hi;
         hi = apr_hash_next(hi)) {
        const aura_model_t *m = apr_hash_this_val(hi);
        aura_resolved_t res;
        if (strcmp(apr_hash_this_key(hi), m->name))
            continue;               /* an alias: listed under its name */
        if (!aura_auth_model_listed(ex, m))
            continue;
        if (aura_resolve(p, ex->sc->registry, &ex->dc->rules,
                         ex->sc->providers, m->name, &res) == NULL)
            APR_ARRAY_PUSH(out, const aura_model_t *) = m;
    }
    qsort(out->elts, out->nelts, sizeof(aura_model_t *), by_name);
    return out;
}

static json_object *openai_model(const aura_model_t *m)
{
    json_object *o = json_object_new_object();
    AURA_ADD_NEW(o, "id", json_object_new_string(m->name));
    AURA_ADD_NEW(o, "object", json_object_new_string("model"));
    AURA_ADD_NEW(o, "created", json_object_new_int(0));
    AURA_ADD_NEW(o, "owned_by", json_object_new_string(m->provider));
    return o;
}

static json_object *anthropic_model(const aura_model_t *m)
{
    json_object *o = json_object_new_object();
    AURA_ADD_NEW(o, "type", json_object_new_string("model"));
    AURA_ADD_NEW(o, "id", json_object_new_string(m->name));
    AURA_ADD_NEW(o, "display_name", json_object_new_string(m->name));
    AURA_ADD_NEW(o, "created_at",
                 json_object_new_string("1970-01-01T00:00:00Z"));
    return o;
}

/* OpenAI's list shape; Anthropic's when the client says anthropic-version
 * (the Anthropic SDK and Claude Code always do). */
int aura_models_list(aura_exchange_t *ex)
{
    apr_array_header_t *ms = usable_models(ex);
    int anthropic = apr_table_get(ex->r->headers_in, "anthropic-version") != NULL;
    json_object *doc = json_object_new_object(), *data = json_object_new_array();
    int i;

    for (i = 0; i < ms->nelts; i++) {
        const aura_model_t *m = APR_ARRAY_IDX(ms, i, const aura_model_t *);
        json_object_array_add(data, anthropic ? anthropic_model(m)
                                              : openai_model(m));
    }
    if (anthropic) {
        AURA_ADD_NEW(doc, "data", data);
        AURA_ADD_NEW(doc, "has_more", json_object_new_boolean(0));
        AURA_ADD_NEW(doc, "first_id", ms->nelts ? json_object_new_string(
            APR_ARRAY_IDX(ms, 0, const aura_model_t *)->name) : NULL);
        AURA_ADD_NEW(doc, "last_id", ms->nelts ? json_object_new_string(
            APR_ARRAY_IDX(ms, ms->nelts - 1, const aura_model_t *)->name)
                                               : NULL);
    }
    else {
        AURA_ADD_NEW(doc, "object", json_object_new_string("list"));
        AURA_ADD_NEW(doc, "data", data);
    }
    return aura_send_json(ex, doc);
}

/* Counted by estimate, and said so: {"input_tokens": N, "aura":
 * {"estimate": true, "method": ...}} (docs/api.md). */
int aura_count_tokens(aura_exchange_t *ex, const char *body, apr_size_t len)
{
    request_rec *r = ex->r;
    aura_error_t *err;
    json_object *doc, *aura;

    if ((err = ex->front->parse(r->pool, body, len, r->headers_in,
                                &ex->req)) != NULL)
        return aura_send_error(ex, err);
    doc = json_object_new_object();
    aura = json_object_new_object();
    AURA_ADD_NEW(doc, "input_tokens",
                 json_object_new_int64(aura_estimate_tokens(r->pool, ex->req)));
    AURA_ADD_NEW(aura, "request_id", json_object_new_string(ex->request_id));
    AURA_ADD_NEW(aura, "estimate", json_object_new_boolean(1));
    AURA_ADD_NEW(aura, "method", json_object_new_string("bytes/4"));
    if (ex->tenant)
        AURA_ADD_NEW(aura, "tenant", aura_tenant_json(
                         ex->tenant, ex->req->safety_identifier));
    AURA_ADD_NEW(doc, "aura", aura);
    return aura_send_json(ex, doc);
}
