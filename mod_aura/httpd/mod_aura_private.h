/*
 * mod_aura_private.h - one request's state shared by the handler
 * (transport) and the translate filter (decode → build → meter → encode).
 */
#ifndef MOD_AURA_PRIVATE_H
#define MOD_AURA_PRIVATE_H

#include <httpd.h>
#include <http_log.h>
#include <util_filter.h>
#include "mod_aura_config.h"
#include "aura_request.h"
#include "aura_stream.h"
#include "aura_meter.h"
#include "aura_http.h"
#include "aura_front.h"
#include "aura_decoder.h"
#include "aura_tenant.h"
#include "aura_crypt.h"
#include "mod_aura_db.h"
#include "mod_aura_answer.h"
#include "mod_aura_worker.h"
#include <ap_socache.h>
#include <apr_global_mutex.h>

/* One log format: the request id on every line. */
#define AURA_LOG(ex, level, fmt, ...) \
    ap_log_rerror(APLOG_MARK, (level), 0, (ex)->r, "[%s] " fmt, \
                  (ex)->request_id, ##__VA_ARGS__)

typedef struct aura_exchange {
    request_rec *r;
    const char *request_id;
    aura_srv_conf_t *sc;
    aura_dir_conf_t *dc;
    const aura_front_t *front;  /* the wire API the client speaks */
    void *front_state;          /* its streaming state */
    aura_request_t *req;
    aura_resolved_t route;
    const aura_provider_t *provider;
    const aura_adapter_t *adapter;
    int stream;

    aura_rb_t *rb;
    aura_decoder_t *dec;
    aura_meter_info_t meter;
    const aura_tenant_t *tenant;  /* the virtual key's, or NULL */
    const char *end_user;       /* the caller's end-user id, or NULL */
    const char *upstream_key;   /* the credential sent upstream */
    int sent_upstream;          /* the request went to a provider */

    /* upstream */
    aura_http_req_t http;
    const char *retry_after;
    int passing;                /* 2xx: body bytes go through the filter */
    char *errbody;              /* non-2xx body (capped) */
    apr_size_t errlen;
    aura_error_t *upstream_error; /* transport failure seen by the handler */
    apr_bucket_brigade *in_bb;  /* handler → filter */
    apr_time_t last_abort_check;

    /* translate filter */
    ap_filter_t *filter;
    apr_bucket_brigade *out_bb; /* filter → network */
    apr_time_t filter_entered;
    apr_interval_time_t passing_time; /* inside ap_pass_brigade, this call */
    apr_interval_time_t filter_time;  /* own time, earlier calls */
    apr_interval_time_t pre_time;     /* handler until upstream send */
    int client_gone;
} aura_exchange_t;

/* mod_aura_filter.c */
#define AURA_TRANSLATE_FILTER "AURA_TRANSLATE"
apr_status_t aura_translate_filter(ap_filter_t *f, apr_bucket_brigade *bb);
void aura_filter_attach(aura_exchange_t *ex);
apr_status_t aura_filter_flush(aura_exchange_t *ex);

/* mod_aura_front.c: endpoints beyond generation */
int aura_models_list(aura_exchange_t *ex);
int aura_count_tokens(aura_exchange_t *ex, const char *body, apr_size_t len);

/* mod_aura_auth.c: identity and key policy. Each returns DECLINED to go
 * on, or the status of the error answer it sent. */
int aura_auth_identify(aura_exchange_t *ex);
/* First of all: 400 credential_in_query when the query string carries a
 * key (by parameter name or by its shape), never repeating it. */
int aura_auth_refuse_query_key(aura_exchange_t *ex);
int aura_auth_check_model(aura_exchange_t *ex);
/* GET .../models: 1 when the key may use this registry model. */
int aura_auth_model_listed(const aura_exchange_t *ex, const aura_model_t *m);

/* Tenancy lifecycle (mod_aura_tenancy.c), called from mod_aura.c hooks. */
void aura_tenancy_pre_config(apr_pool_t *pconf);
const char *aura_tenancy_check(apr_pool_t *pconf, server_rec *s);
const char *aura_tenancy_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                                     server_rec *s);
/* child_init: also adds the tenancy's tasks to the child's worker. */
void aura_tenancy_child_init(apr_pool_t *pchild, server_rec *s,
                             aura_worker_t *w);

/* The tenancy in force (mod_aura_tenancy.c): what post_config made of
 * the module-wide settings (mc), inherited by the children, NULL without
 * AuraDatabase. */
typedef struct aura_tenancy {
    server_rec *s;              /* the main server: background logging */
    const aura_mod_conf_t *mc;  /* its settings (AuraDatabase ...) */
    unsigned char master[AURA_MASTER_KEY_LEN];
    int has_master;             /* AuraMasterKeyFile loaded */
    const ap_socache_provider_t *cache;
    ap_socache_instance_t *cache_inst;
    apr_global_mutex_t *cache_mutex;    /* NULL: provider is MT-safe */
    aura_db_t *db;              /* per child: the request-path pool */
} aura_tenancy_t;

aura_tenancy_t *aura_tenancy_get(void);

/* The socache of key records; a record of state AURA_KEY_UNKNOWN is a
 * negative entry (AuraKeyNegativeTTL). */
int aura_keycache_get(request_rec *r, const char *key_id, aura_tenant_t *t);
void aura_keycache_put(request_rec *r, const aura_tenant_t *t);

/* mod_aura_cred.c: provider credentials from the database. */
/* post_config (parent): the first table, inherited by every child. */
void aura_cred_post_config(apr_pool_t *pconf, apr_pool_t *ptemp);
/* child_init: the "credentials" task (with a master key), run once
 * right away, before the worker starts. */
void aura_cred_child_init(apr_pool_t *pchild, aura_worker_t *w);
/* The key for the exchange's provider into ex->upstream_key: the key's
 * org's database credential, else the every-org one, else the configured
 * one (in r->pool). DECLINED, or the status of the 503
 * credentials_unavailable sent when the credential cannot be known (the
 * table never loaded, or the row that applies does not open): never
 * another credential in its place. */
int aura_cred_pick(aura_exchange_t *ex);

/* mod_aura_ledger.c: the usage spool and its ingester. */
/* post_config: create the spool directory, owned by the worker user. */
const char *aura_ledger_post_config(apr_pool_t *pconf, const char *dir);
/* child_init: the spool's live file and the "usage ledger" task. */
void aura_ledger_child_init(apr_pool_t *pchild, server_rec *s,
                            aura_worker_t *w);
/* After a keyed request went upstream: one line into the spool. */
void aura_ledger_record(aura_exchange_t *ex);

/* mod_aura_handler.c: called by mod_aura.c only. */
int aura_handler(request_rec *r);

#endif /* MOD_AURA_PRIVATE_H */
