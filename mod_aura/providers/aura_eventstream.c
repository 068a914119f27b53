/*
 * aura_eventstream.c - incremental application/vnd.amazon.eventstream
 * parser (see aura_eventstream.h for the format and its sources).
 *
 * Whole frames inside one feed are parsed in place; only a frame that
 * straddles feeds is copied, into one heap buffer (freed with the pool)
 * that doubles until it holds the largest such frame: frames growing by a
 * byte each cost O(log n) reallocations, not a new buffer apiece. It
 * never exceeds the bound, which is checked from the 12-byte prelude
 * before anything else is kept.
 */
#include <stddef.h>
#include <stdlib.h>
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

/* The reflected 0xEDB88320 table, precomputed (crc_table[n] is n run
 * through 8 shift/xor rounds): read-only, so request threads share it
 * without any initialisation to race on. */
static const uint32_t crc_table[256] = {
    0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f,
    0xe963a535, 0x9e6495a3, 0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988,
    0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91, 0x1db71064, 0x6ab020f2,
    0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
    0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9,
    0xfa0f3d63, 0x8d080df5, 0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172,
    0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b, 0x35b5a8fa, 0x42b2986c,
    0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
    0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423,
    0xcfba9599, 0xb8bda50f, 0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924,
    0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d, 0x76dc4190, 0x01db7106,
    0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
    0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d,
    0x91646c97, 0xe6635c01, 0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e,
    0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457, 0x65b0d9c6, 0x12b7e950,
    0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
    0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7,
    0xa4d1c46d, 0xd3d6f4fb, 0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0,
    0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9, 0x5005713c, 0x270241aa,
    0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
    0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81,
    0xb7bd5c3b, 0xc0ba6cad, 0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a,
    0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683, 0xe3630b12, 0x94643b84,
    0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
    0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb,
    0x196c3671, 0x6e6b06e7, 0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc,
    0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5, 0xd6d6a3e8, 0xa1d1937e,
    0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
    0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55,
    0x316e8eef, 0x4669be79, 0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236,
    0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f, 0xc5ba3bbe, 0xb2bd0b28,
    0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
    0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f,
    0x72076785, 0x05005713, 0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38,
    0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21, 0x86d3d2d4, 0xf1d4e242,
    0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
    0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69,
    0x616bffd3, 0x166ccf45, 0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2,
    0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db, 0xaed16a4a, 0xd9d65adc,
    0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
    0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693,
    0x54de5729, 0x23d967bf, 0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94,
    0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d
};

uint32_t aura_crc32(uint32_t crc, const void *buf, apr_size_t len)
{
    const unsigned char *s = buf;

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

static apr_status_t buf_free(void *data)
{
    aura_es_t *es = data;

    free(es->buf);
    es->buf = NULL;
    es->cap = 0;
    return APR_SUCCESS;
}

/* Makes room for `need` bytes (a prelude, or a frame within the bound):
 * the capacity doubles, clamped to the bound, so a run of ever larger
 * split frames reallocates O(log n) times. */
static void reserve(aura_es_t *es, apr_size_t need)
{
    apr_size_t cap = es->cap ? es->cap : es->max < 4096 ? es->max : 4096;
    char *nb;

    if (need <= es->cap)
        return;
    while (cap < need && cap < es->max)
        cap = cap > es->max / 2 ? es->max : cap * 2;
    if (cap < need)
        cap = need;
    if (!(nb = realloc(es->buf, cap)))
        abort();                /* as APR does on pool OOM */
    es->buf = nb;
    es->cap = cap;
}

/* Copies up to `need` bytes of the straddling frame into the buffer. */
static apr_size_t gather(aura_es_t *es, const char *buf, apr_size_t len,
                         apr_size_t need)
{
    apr_size_t take = need - es->have < len ? need - es->have : len;

    reserve(es, need);
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

apr_size_t aura_es_capacity(const aura_es_t *es)
{
    return es->cap;
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
    apr_pool_cleanup_register(p, es, buf_free, apr_pool_cleanup_null);
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
