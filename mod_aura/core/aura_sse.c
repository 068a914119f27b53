/*
 * aura_sse.c - incremental SSE parser (see aura_sse.h).
 *
 * Complete lines inside one feed are parsed in place; only a line that
 * straddles a feed boundary is copied into `line`. Event data accumulates
 * in `data`. Both are heap buffers (aura_buf_init_heap: freed by a pool
 * cleanup) because they grow and shrink many times over a long stream:
 * pool memory would only ever grow.
 */
#include <stdlib.h>
#include <string.h>

#include "aura_buf.h"
#include "aura_sse.h"

struct aura_sse {
    aura_sse_event_fn fn;
    void *baton;
    apr_size_t max;
    aura_buf_t line;        /* partial line carried between feeds */
    aura_buf_t data;        /* data of the event being assembled */
    char event[64];         /* event name (longer names are cut) */
    int has_event;
    int has_data;           /* a data field was seen (even empty) */
    int skip_lf;            /* last byte was CR: a leading LF is its pair */
    int bom_checked;
    apr_status_t err;       /* sticky */
};

/* Appends n bytes plus room for a NUL; fails past the event bound. */
static apr_status_t buf_add(aura_sse_t *s, aura_buf_t *b, const char *p,
                            apr_size_t n)
{
    if (s->line.len + s->data.len + n > s->max)
        return AURA_SSE_ETOOBIG;
    aura_buf_add(b, p, n);
    return APR_SUCCESS;
}

aura_sse_t *aura_sse_create(apr_pool_t *p, apr_size_t max_event,
                            aura_sse_event_fn fn, void *baton)
{
    aura_sse_t *s = apr_pcalloc(p, sizeof(*s));
    s->fn = fn;
    s->baton = baton;
    s->max = max_event ? max_event : AURA_SSE_MAX_EVENT;
    aura_buf_init_heap(&s->line, p);
    aura_buf_init_heap(&s->data, p);
    return s;
}

static apr_status_t dispatch(aura_sse_t *s)
{
    apr_status_t rv = APR_SUCCESS;
    apr_size_t n = s->data.len;

    if (s->has_data) {
        if (n && s->data.s[n - 1] == '\n')
            n--;                        /* the last "\n" is a separator */
        if (!s->data.s)
            rv = buf_add(s, &s->data, "", 0);
        if (rv == APR_SUCCESS) {
            s->data.s[n] = '\0';
            rv = s->fn(s->baton, s->has_event ? s->event : NULL,
                       s->data.s, n);
        }
    }
    s->data.len = 0;
    s->has_data = s->has_event = 0;
    return rv;
}

static apr_status_t field(aura_sse_t *s, const char *l, apr_size_t n)
{
    const char *colon = memchr(l, ':', n);
    apr_size_t fn = colon ? (apr_size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    apr_size_t vn = (apr_size_t)(l + n - v);
    apr_status_t rv;

    if (vn && *v == ' ') {
        v++;
        vn--;
    }
    if (fn == 4 && !memcmp(l, "data", 4)) {
        s->has_data = 1;
        if ((rv = buf_add(s, &s->data, v, vn)) != APR_SUCCESS)
            return rv;
        return buf_add(s, &s->data, "\n", 1);
    }
    if (fn == 5 && !memcmp(l, "event", 5)) {
        if (vn >= sizeof(s->event))
            vn = sizeof(s->event) - 1;
        memcpy(s->event, v, vn);
        s->event[vn] = '\0';
        s->has_event = 1;
    }
    return APR_SUCCESS;             /* id, retry, unknown: ignored */
}

static apr_status_t line(aura_sse_t *s, const char *l, apr_size_t n)
{
    if (n == 0)
        return dispatch(s);
    if (l[0] == ':')
        return APR_SUCCESS;         /* comment (keep-alive) */
    return field(s, l, n);
}

static apr_status_t feed(aura_sse_t *s, const char *buf, apr_size_t len)
{
    const char *p = buf, *end = buf + len;
    apr_status_t rv;

    if (!s->bom_checked && len) {
        /* A UTF-8 BOM may open the stream; it is split across feeds too
         * rarely to matter, so only a whole one is dropped. */
        s->bom_checked = 1;
        if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
            p += 3;
    }
    while (p < end) {
        const char *e = p;
        if (s->skip_lf) {
            s->skip_lf = 0;
            if (*p == '\n') {
                p++;
                continue;
            }
        }
        while (e < end && *e != '\n' && *e != '\r')
            e++;
        if (e == end)               /* partial line: keep it */
            return buf_add(s, &s->line, p, (apr_size_t)(e - p));
        if (*e == '\r')
            s->skip_lf = 1;
        if (s->line.len) {
            if ((rv = buf_add(s, &s->line, p, (apr_size_t)(e - p)))
                != APR_SUCCESS)
                return rv;
            apr_size_t n = s->line.len;
            s->line.len = 0;          /* the bytes stay valid for line() */
            rv = line(s, s->line.s, n);
        }
        else {
            rv = line(s, p, (apr_size_t)(e - p));
        }
        if (rv != APR_SUCCESS)
            return rv;
        p = e + 1;
    }
    return APR_SUCCESS;
}

apr_status_t aura_sse_feed(aura_sse_t *s, const char *buf, apr_size_t len)
{
    if (s->err == APR_SUCCESS)
        s->err = feed(s, buf, len);
    return s->err;
}

apr_status_t aura_sse_finish(aura_sse_t *s)
{
    apr_status_t rv;

    if (s->err != APR_SUCCESS)
        return s->err;
    if (s->line.len) {
        apr_size_t n = s->line.len;
        s->line.len = 0;
        if ((rv = line(s, s->line.s, n)) != APR_SUCCESS)
            return s->err = rv;
    }
    return s->err = dispatch(s);
}
