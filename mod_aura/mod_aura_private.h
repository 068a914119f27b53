/*
 * mod_aura_private.h - one request's state shared by the handler
 * (transport) and the translate filter (decode → build → meter → encode).
 */
#ifndef MOD_AURA_PRIVATE_H
#define MOD_AURA_PRIVATE_H

#include <httpd.h>
#include <http_log.h>
#include "mod_aura_config.h"
#include "aura_request.h"
#include "aura_stream.h"
#include "aura_meter.h"
#include "aura_http.h"
#include "aura_front.h"

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

/* mod_aura_handler.c */
int aura_handler(request_rec *r);
int aura_send_error(aura_exchange_t *ex, const aura_error_t *e);
apr_interval_time_t aura_overhead_now(const aura_exchange_t *ex);

#endif /* MOD_AURA_PRIVATE_H */
