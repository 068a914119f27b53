/*
 * aura_meter.h - usage → cost, and the enrichment contract: usage.cost_usd
 * and the top-level `aura` object on every response (DESIGN.md).
 */
#ifndef AURA_METER_H
#define AURA_METER_H

#include "aura.h"
#include "aura_registry.h"
#include "aura_stream.h"

typedef struct aura_cost {
    double input, cached_input, cache_write, output, reasoning, total;
    int known;                  /* 0: price unknown, figures meaningless */
} aura_cost_t;

/* Prices are USD per 1M tokens; cached tokens are part of input and
 * reasoning tokens part of output (OpenAI's convention), so each token is
 * billed once at its own rate. */
void aura_cost_compute(const aura_price_t *price, int priced,
                       const aura_usage_t *u, long cache_write,
                       aura_cost_t *out);

/* "priced", "unknown_price", or "no_usage" (priced, but the provider
 * reported no usage: no figures rather than a fake $0). */
const char *aura_cost_status(const aura_usage_t *u, const aura_cost_t *c);

typedef struct aura_meter_info {
    const char *request_id;
    const char *provider;
    const char *model;          /* resolved name */
    const char *upstream_model;
    const aura_model_t *entry;  /* for prices; NULL = unknown */
    apr_time_t started;         /* request arrival */
    apr_int64_t overhead_us;    /* time spent in the gateway's own code */
    int attempts;
    const char *cache;          /* "hit" | "miss" */
    apr_array_header_t *warnings; /* const char*: what the gateway could
                                     not do as asked, or NULL */
} aura_meter_info_t;

/* Adds usage.cost_usd (when usage is present) and `aura` to a final
 * ResponseResource (`aura.tenant` is added after it by aura_tenant_apply,
 * tenancy/aura_tenant.h). `u` is the usage the builder collected, `cache_write`
 * the prompt tokens written to the provider's cache (part of u->input). */
void aura_meter_apply(json_object *resource, const aura_usage_t *u,
                      long cache_write, const aura_meter_info_t *mi);

#endif /* AURA_METER_H */
