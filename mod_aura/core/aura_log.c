/*
 * aura_log.c - the core's log callback (aura_log.h).
 */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>

#include "aura.h"
#include "aura_log.h"

const aura_log_ctx_t aura_log_none = { "-", NULL };

aura_log_level_fn *aura_log_level_cb;
static aura_log_print_fn *print_cb;

void aura_log_set(aura_log_level_fn *is_level, aura_log_print_fn *print)
{
    aura_log_level_cb = is_level;
    print_cb = print;
}

aura_log_ctx_t *aura_log_ctx_make(apr_pool_t *p, const char *id, void *baton)
{
    aura_log_ctx_t *ctx = apr_palloc(p, sizeof(*ctx));

    ctx->id = id ? id : "-";
    ctx->baton = baton;
    return ctx;
}

void aura_log_print(const char *file, int line, int level,
                    const aura_log_ctx_t *ctx, const char *fmt, ...)
{
    char buf[AURA_LOG_MAX_LINE];
    va_list ap;

    /* Checked again for callers that do not go through AURA_LOG_AT. */
    if (!print_cb || !aura_log_is_level(ctx, level))
        return;
    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    print_cb(file, line, level, ctx, buf);
}

const char *aura_log_str(apr_pool_t *p, const char *s, const char *secret)
{
    apr_size_t n, i, cut;
    char *out;

    if (!s)
        return "(none)";
    n = strnlen(s, AURA_LOG_STR_SCAN + 1);
    if (n > AURA_LOG_STR_SCAN)
        return apr_psprintf(p, "(%" APR_SIZE_T_FMT " bytes)", strlen(s));
    /* Redacted whole before the cut: a cut credential no longer matches. */
    s = aura_redact(p, s, secret);
    n = strlen(s);
    cut = n > AURA_LOG_STR_MAX;
    if (cut) {
        n = AURA_LOG_STR_MAX;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;                /* not inside a UTF-8 sequence */
    }
    out = apr_palloc(p, n + 4);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    memcpy(out + n, cut ? "..." : "", cut ? 4 : 1);
    return out;
}
