/*
 * aura_eventstream.c - incremental application/vnd.amazon.eventstream
 * parser (see aura_eventstream.h for the format and its sources).
 *
 * Whole frames inside one feed are parsed in place; only a frame that
 * straddles feeds is copied, into a buffer that grows to the largest
 * such frame (never beyond the bound, which is checked from the 12-byte
 * prelude before anything else is kept).
 */
#include <stddef.h>
#include <string.h>

#include "aura_eventstream.h"

#define PRELUDE 12      /* total, headers length, prelude CRC */
#define OVERHEAD 16     /* prelude + message CRC */

struct aura_es {
    apr_pool_t *pool;
    apr_pool_t *scratch;        /* header copies, cleared per message */
    apr_size_t max;
    aura_es_fn fn;
    void *baton;
    char *buf;                  /* a frame being assembled */
    apr_size_t cap, have;
    apr_size_t total;           /* its length once the prelude is known */
    apr_status_t rv;            /* sticky */
    const char *error;
};

/* ---- CRC32 ------------------------------------------------------------ */

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
    uint32_t c, n, k;

    for (n = 0; n < 256; n++) {
        for (c = n, k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
    crc_ready = 1;   /* idempotent: racing threads write the same values */
}

uint32_t aura_crc32(uint32_t crc, const void *buf, apr_size_t len)
{
    const unsigned char *s = buf;

    if (!crc_ready)
        crc_init();
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *s++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t be32(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8
           | u[3];
}

static void put32(char *d, uint32_t v)
{
    d[0] = (char)(v >> 24);
    d[1] = (char)(v >> 16);
    d[2] = (char)(v >> 8);
    d[3] = (char)v;
}

/* ---- parsing ---------------------------------------------------------- */

static apr_status_t refuse(aura_es_t *es, const char *why)
{
    es->error = why;
    es->rv = APR_EGENERAL;
    return es->rv;
}

/* Checks a 12-byte prelude; returns the frame length, or 0 (refused). */
static apr_size_t prelude(aura_es_t *es, const char *s)
{
    apr_size_t total = be32(s), hlen = be32(s + 4);

    if (aura_crc32(0, s, 8) != be32(s + 8))
        return refuse(es, "event stream prelude CRC mismatch"), 0;
    if (total < OVERHEAD || hlen > total - OVERHEAD)
        return refuse(es, "event stream frame lengths are inconsistent"), 0;
    if (total > es->max)
        return refuse(es, apr_psprintf(es->pool, "event stream frame of %"
                                       APR_SIZE_T_FMT " bytes exceeds the "
                                       "limit of %" APR_SIZE_T_FMT, total,
                                       es->max)), 0;
    return total;
}

/* Size of a header value of `type` starting at v (n bytes left), or -1. */
static long value_size(unsigned char type, const char *v, apr_size_t n)
{
    static const long fixed[] = { 0, 0, 1, 2, 4, 8, -2, -2, 8, 16 };
    long sz;

    if (type > 9)
        return -1;
    sz = fixed[type];
    if (sz == -2)               /* u16 length + bytes */
        sz = n < 2 ? -1 : 2 + (long)((unsigned char)v[0] << 8
                                     | (unsigned char)v[1]);
    return sz >= 0 && (apr_size_t)sz <= n ? sz : -1;
}

static void note_header(aura_es_t *es, aura_es_msg_t *m, const char *name,
                        apr_size_t nlen, const char *v, apr_size_t vlen)
{
    static const struct { const char *name; size_t off; } known[] = {
        {":message-type", offsetof(aura_es_msg_t, message_type)},
        {":event-type", offsetof(aura_es_msg_t, event_type)},
        {":exception-type", offsetof(aura_es_msg_t, exception_type)},
        {":error-code", offsetof(aura_es_msg_t, error_code)},
        {":error-message", offsetof(aura_es_msg_t, error_message)},
        {":content-type", offsetof(aura_es_msg_t, content_type)},
    };
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == nlen && !memcmp(known[i].name, name, nlen))
            *(const char **)((char *)m + known[i].off) =
                apr_pstrmemdup(es->scratch, v, vlen);
}

/* Walks the headers; only string headers (type 7) are kept, the others
 * are stepped over by their size. */
static apr_status_t headers(aura_es_t *es, aura_es_msg_t *m, const char *h,
                            apr_size_t n)
{
    apr_size_t pos = 0;

    while (pos < n) {
        apr_size_t nlen = (unsigned char)h[pos];
        unsigned char type;
        long sz;

        if (!nlen || pos + 1 + nlen + 1 > n)
            return refuse(es, "event stream header is cut or unnamed");
        type = (unsigned char)h[pos + 1 + nlen];
        sz = value_size(type, h + pos + 2 + nlen, n - (pos + 2 + nlen));
        if (sz < 0)
            return refuse(es, "event stream header value is invalid");
        if (type == 7)
            note_header(es, m, h + pos + 1, nlen, h + pos + 4 + nlen,
                        (apr_size_t)sz - 2);
        pos += 2 + nlen + (apr_size_t)sz;
    }
    return APR_SUCCESS;
}

/* One whole frame of `total` bytes (prelude already checked). */
static apr_status_t frame(aura_es_t *es, const char *f, apr_size_t total)
{
    apr_size_t hlen = be32(f + 4);
    aura_es_msg_t m;

    if (aura_crc32(0, f, total - 4) != be32(f + total - 4))
        return refuse(es, "event stream message CRC mismatch");
    memset(&m, 0, sizeof(m));
    if (headers(es, &m, f + PRELUDE, hlen) != APR_SUCCESS)
        return es->rv;
    m.payload = f + PRELUDE + hlen;
    m.len = total - OVERHEAD - hlen;
    es->rv = es->fn(es->baton, &m);
    apr_pool_clear(es->scratch);
    return es->rv;
}

/* Copies up to `need` bytes of the straddling frame into the buffer. */
static apr_size_t gather(aura_es_t *es, const char *buf, apr_size_t len,
                         apr_size_t need)
{
    apr_size_t take = need - es->have < len ? need - es->have : len;

    if (need > es->cap) {       /* grows to the largest frame seen */
        apr_size_t cap = need < 4096 ? 4096 : need;
        char *nb = apr_palloc(es->pool, cap);
        if (es->have)
            memcpy(nb, es->buf, es->have);
        es->buf = nb;
        es->cap = cap;
    }
    memcpy(es->buf + es->have, buf, take);
    es->have += take;
    return take;
}

/* Continues a frame that straddles feeds; returns the bytes consumed. */
static apr_size_t resume(aura_es_t *es, const char *buf, apr_size_t len)
{
    apr_size_t used = 0;

    if (!es->total) {
        used = gather(es, buf, len, PRELUDE);
        if (es->have < PRELUDE || !(es->total = prelude(es, es->buf)))
            return used;
    }
    used += gather(es, buf + used, len - used, es->total);
    if (es->have == es->total) {
        apr_size_t total = es->total;
        es->have = es->total = 0;
        frame(es, es->buf, total);
    }
    return used;
}

apr_status_t aura_es_feed(aura_es_t *es, const char *buf, apr_size_t len)
{
    while (len && es->rv == APR_SUCCESS) {
        apr_size_t total, used;

        if (es->have == 0 && len >= PRELUDE) {
            if (!(total = prelude(es, buf)))
                break;
            if (len >= total) {         /* whole frame here: no copy */
                frame(es, buf, total);
                buf += total;
                len -= total;
                continue;
            }
        }
        used = resume(es, buf, len);
        buf += used;
        len -= used;
    }
    return es->rv;
}

const char *aura_es_error(const aura_es_t *es)
{
    return es->error;
}

apr_size_t aura_es_pending(const aura_es_t *es)
{
    return es->have;
}

aura_es_t *aura_es_create(apr_pool_t *p, apr_size_t max_frame, aura_es_fn fn,
                          void *baton)
{
    aura_es_t *es = apr_pcalloc(p, sizeof(*es));

    es->pool = p;
    apr_pool_create(&es->scratch, p);
    es->max = max_frame ? max_frame : AURA_ES_MAX_FRAME;
    es->fn = fn;
    es->baton = baton;
    return es;
}

/* ---- encoding (tests, tools) ------------------------------------------ */

const char *aura_es_encode(apr_pool_t *p, const char *const *headers,
                           const char *payload, apr_size_t plen,
                           apr_size_t *len)
{
    apr_size_t hlen = 0, total, pos;
    char *out;
    int i;

    for (i = 0; headers && headers[i]; i += 2)
        hlen += 1 + strlen(headers[i]) + 3 + strlen(headers[i + 1]);
    total = OVERHEAD + hlen + plen;
    out = apr_palloc(p, total);
    put32(out, (uint32_t)total);
    put32(out + 4, (uint32_t)hlen);
    put32(out + 8, aura_crc32(0, out, 8));
    pos = PRELUDE;
    for (i = 0; headers && headers[i]; i += 2) {
        apr_size_t nl = strlen(headers[i]), vl = strlen(headers[i + 1]);
        out[pos++] = (char)nl;
        memcpy(out + pos, headers[i], nl);
        pos += nl;
        out[pos++] = 7;
        out[pos++] = (char)(vl >> 8);
        out[pos++] = (char)vl;
        memcpy(out + pos, headers[i + 1], vl);
        pos += vl;
    }
    if (plen)
        memcpy(out + pos, payload, plen);
    put32(out + total - 4, aura_crc32(0, out, total - 4));
    *len = total;
    return out;
}
