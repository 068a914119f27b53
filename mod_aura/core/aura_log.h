/*
 * aura_log.h - the core's log: a callback the glue installs, as mod_md's
 * md_log.h does. The core never includes httpd headers; the glue
 * (mod_aura.c) installs a logger that writes to the request's error log
 * at the module's per-directory level, so `LogLevel aura:trace1` in a
 * <Location> traces only there. Without a logger (unit tests, the admin
 * CGI) every call is a no-op.
 *
 * Decoders log on the path of every stream event, so a line that is off
 * costs one predictable branch and at most one indirect call: the
 * AURA_LOG_AT macro asks the logger first and evaluates its arguments
 * (and formats) only when the level is on.
 */
#ifndef AURA_LOG_H
#define AURA_LOG_H

#include <apr_pools.h>

/* The levels, numbered as httpd's APLOG_* (the glue checks it). */
typedef enum {
    AURA_LOG_EMERG, AURA_LOG_ALERT, AURA_LOG_CRIT, AURA_LOG_ERR,
    AURA_LOG_WARNING, AURA_LOG_NOTICE, AURA_LOG_INFO, AURA_LOG_DEBUG,
    AURA_LOG_TRACE1, AURA_LOG_TRACE2, AURA_LOG_TRACE3, AURA_LOG_TRACE4,
    AURA_LOG_TRACE5, AURA_LOG_TRACE6, AURA_LOG_TRACE7, AURA_LOG_TRACE8
} aura_log_level_e;

/* Where one request logs: its id (on every line, "[<id>] message") and
 * the glue's baton (the request_rec, whose per-directory LogLevel
 * applies). */
typedef struct aura_log_ctx {
    const char *id;
    void *baton;
} aura_log_ctx_t;

/* The context of code that belongs to no request: id "-", no baton. */
extern const aura_log_ctx_t aura_log_none;

/* A pool-allocated context. */
aura_log_ctx_t *aura_log_ctx_make(apr_pool_t *p, const char *id,
                                  void *baton);

/* Is `level` on for `ctx`? Must be cheap: it runs for every check. */
typedef int aura_log_level_fn(const aura_log_ctx_t *ctx, int level);
/* One formatted line (without the id; the logger adds it). file/line are
 * the caller's (AURA_LOG_MARK). */
typedef void aura_log_print_fn(const char *file, int line, int level,
                               const aura_log_ctx_t *ctx, const char *msg);

/* Installs the logger (NULL, NULL: none). Not thread-safe: call it at
 * startup (post_config, a test's main) before requests run. */
void aura_log_set(aura_log_level_fn *is_level, aura_log_print_fn *print);

/* The installed check; read through aura_log_is_level. */
extern aura_log_level_fn *aura_log_level_cb;

static inline int aura_log_is_level(const aura_log_ctx_t *ctx, int level)
{
    return aura_log_level_cb && aura_log_level_cb(ctx, level);
}

#define AURA_LOG_MARK __FILE__, __LINE__

/* Formats (at most AURA_LOG_MAX_LINE bytes, on the stack) and delivers
 * one line when `level` is on for ctx. */
#define AURA_LOG_MAX_LINE 1024
void aura_log_print(const char *file, int line, int level,
                    const aura_log_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The way to log: the arguments are evaluated only when the level is on,
 * so they may allocate (aura_log_str). */
#define AURA_LOG_AT(ctx, level, ...) do { \
    if (aura_log_is_level((ctx), (level))) \
        aura_log_print(AURA_LOG_MARK, (level), (ctx), __VA_ARGS__); \
} while (0)

#define AURA_TRACE(ctx, ...) AURA_LOG_AT((ctx), AURA_LOG_TRACE1, __VA_ARGS__)

/* An untrusted string (an upstream's type or field name) made fit for a
 * log line: credentials redacted (aura_redact, `secret` may be NULL),
 * control bytes as '?', cut to AURA_LOG_STR_MAX bytes ("..." appended).
 * A string longer than AURA_LOG_STR_SCAN is shown only by its length:
 * a name that long is no name, and redacting it whole would cost its
 * size three times over in the pool, per line. NULL gives "(none)". */
#define AURA_LOG_STR_MAX 64
#define AURA_LOG_STR_SCAN 1024
const char *aura_log_str(apr_pool_t *p, const char *s, const char *secret);

#endif /* AURA_LOG_H */
