/*
 * scale_check.h - helpers for the encoders' scale regression tests
 * (review: inputs with many outputs/tools/parts once took minutes and
 * gigabytes): a clock, resident memory, repeated JSON, and an encode that
 * reports its time and memory. Static, for inclusion by one test each.
 */
#ifndef SCALE_CHECK_H
#define SCALE_CHECK_H

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <apr_strings.h>

#include "aura_adapter.h"

#define BIG_N 20000
#define BIG_SECONDS 2.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resident memory now, in MB. */
static long rss_mb(void)
{
    long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024) / 1024;
}

/* `n` copies of `each` joined by commas; each %d in it (two at most) is
 * the index, counting down when `down`. */
static const char *repeat(apr_pool_t *p, const char *each, int n, int down)
{
    apr_array_header_t *a = apr_array_make(p, n, sizeof(char *));
    int i, k;

    for (i = 0; i < n; i++) {
        k = down ? n - 1 - i : i;
        APR_ARRAY_PUSH(a, const char *) =
            apr_psprintf(p, i ? ",%s" : "%s", apr_psprintf(p, each, k, k));
    }
    return apr_array_pstrcat(p, a, 0);
}


/* Encodes `in` with `a` in pool p; *secs and *mb: the encoder's time and
 * the memory it held when done. The parsed body, or NULL. */
static json_object *encode_big(const aura_adapter_t *a, apr_pool_t *p,
                               const char *in, double *secs, long *mb)
{
    aura_target_t t = {.provider = "x", .upstream_model = "up-model"};
    aura_request_t *req = NULL;
    const char *body = NULL;
    apr_size_t len = 0;
    aura_error_t *e = aura_request_parse(p, in, strlen(in), &req);
    double t0;
    long m0;

    if (e) {
        printf("#   parse: %s\n", e->message);
        return NULL;
    }
    m0 = rss_mb();
    t0 = now_s();
    e = a->encode(p, req, &t, &body, &len);
    *secs = now_s() - t0;
    *mb = rss_mb() - m0;
    if (e) {
        printf("#   encode: %s\n", e->message);
        return NULL;
    }
    return aura_json_pool(p, json_tokener_parse(body));
}

#endif /* SCALE_CHECK_H */
