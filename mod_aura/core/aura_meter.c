/*
 * aura_meter.c - cost arithmetic and response enrichment.
 */
#include <string.h>
#include <apr_time.h>

#include "aura_meter.h"

static double per_token(double per_million, long tokens)
{
    return tokens > 0 ? (double)tokens * per_million / 1e6 : 0.0;
}

void aura_cost_compute(const aura_price_t *price, int priced,
                       const aura_usage_t *u, long cache_write,
                       aura_cost_t *out)
{
    long cached = u->cached > u->input ? u->input : u->cached;
    long written = cache_write > u->input - cached ? u->input - cached
                                                   : cache_write;
    long reasoning = u->reasoning > u->output ? u->output : u->reasoning;

    memset(out, 0, sizeof(*out));
    if (!priced || !price)
        return;
    out->known = 1;
    out->input = per_token(price->input, u->input - cached - written);
    out->cached_input = per_token(price->cached_input, cached);
    out->cache_write = per_token(price->cache_write, written);
    out->output = per_token(price->output, u->output - reasoning);
    out->reasoning = per_token(price->reasoning, reasoning);
    out->total = out->input + out->cached_input + out->cache_write +
                 out->output + out->reasoning;
}

const char *aura_cost_status(const aura_usage_t *u, const aura_cost_t *c)
{
    return !u || !u->present ? "no_usage"
           : c->known ? "priced" : "unknown_price";
}

static json_object *cost_json(const aura_cost_t *c)
{
    json_object *o;
    if (!c->known)
        return NULL; /* JSON null: unknown, never a fake $0 */
    o = json_object_new_object();
    AURA_SET(o, "total", aura_json_money(c->total));
    AURA_SET(o, "input", aura_json_money(c->input));
    AURA_SET(o, "cached_input",
                           aura_json_money(c->cached_input));
    AURA_SET(o, "cache_write", aura_json_money(c->cache_write));
    AURA_SET(o, "output", aura_json_money(c->output));
    AURA_SET(o, "reasoning", aura_json_money(c->reasoning));
    return o;
}

/* Walks the output items once: tool calls, their names, reasoning. */
static json_object *agentic_json(json_object *resource, const aura_usage_t *u)
{
    json_object *out = aura_json_get(resource, "output");
    json_object *ag = json_object_new_object();
    json_object *used = json_object_new_array();
    size_t i, j, n = out ? json_object_array_length(out) : 0;
    int calls = 0, reasoning = 0;

    for (i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(out, i);
        const char *type = aura_json_string(item, "type");
        const char *name = aura_json_string(item, "name");
        int seen = 0;
        if (type && !strcmp(type, "reasoning"))
            reasoning = 1;
        if (!type || strcmp(type, "function_call") || !name)
            continue;
        calls++;
        for (j = 0; j < json_object_array_length(used); j++)
            if (!strcmp(json_object_get_string(
                            json_object_array_get_idx(used, j)), name))
                seen = 1;
        if (!seen)
            json_object_array_add(used, json_object_new_string(name));
    }
    if (u && u->reasoning > 0)
        reasoning = 1;
    AURA_SET(ag, "has_tool_calls", json_object_new_boolean(calls > 0));
    AURA_SET(ag, "tool_calls_count", json_object_new_int(calls));
    AURA_SET(ag, "tools_used", used);
    /* Every function tool here is client-side: a call hands control back
     * to the application, which must run it and continue the loop. */
    AURA_SET(ag, "requires_action", json_object_new_boolean(calls > 0));
    AURA_SET(ag, "has_reasoning", json_object_new_boolean(reasoning));
    AURA_SET(ag, "reasoning_tokens",
                           json_object_new_int64(u ? u->reasoning : 0));
    return ag;
}

void aura_meter_apply(json_object *resource, const aura_usage_t *u,
                      long cache_write, const aura_meter_info_t *mi)
{
    json_object *usage = aura_json_get(resource, "usage");
    json_object *aura = json_object_new_object();
    const aura_model_t *e = mi->entry;
    aura_cost_t cost;
    apr_time_t now = apr_time_now();

    aura_cost_compute(e ? &e->price : NULL, e ? e->priced : 0, u,
                      cache_write, &cost);
    if (usage)
        AURA_SET(usage, "cost_usd", cost_json(&cost));
    aura_json_add_str(aura, "request_id", mi->request_id);
    aura_json_add_str(aura, "provider", mi->provider);
    aura_json_add_str(aura, "model", mi->model);
    aura_json_add_str(aura, "upstream_model", mi->upstream_model);
    AURA_SET(aura, "latency_ms",
        json_object_new_int64((now - mi->started) / 1000));
    AURA_SET(aura, "gateway_overhead_us",
                           json_object_new_int64(mi->overhead_us));
    AURA_SET(aura, "attempts", json_object_new_int(mi->attempts));
    aura_json_add_str(aura, "cache", mi->cache ? mi->cache : "miss");
    /* Priced but no usage reported (a server that ignores include_usage):
     * say so, rather than "priced" with no figures. */
    aura_json_add_str(aura, "cost_status", aura_cost_status(u, &cost));
    AURA_SET(aura, "cache_write_tokens",
                           json_object_new_int64(cache_write));
    AURA_SET(aura, "agentic", agentic_json(resource, u));
    if (mi->warnings && mi->warnings->nelts) {
        json_object *w = json_object_new_array();
        int i;
        for (i = 0; i < mi->warnings->nelts; i++)
            json_object_array_add(w, json_object_new_string(
                APR_ARRAY_IDX(mi->warnings, i, const char *)));
        AURA_SET(aura, "warnings", w);
    }
    AURA_SET(resource, "aura", aura);
}
