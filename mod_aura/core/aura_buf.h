/*
 * aura_buf.h - a byte buffer in a pool that doubles as it grows.
 *
 * The one growable buffer of the code base: the JSON writer, decoders
 * collecting signatures, the request body reader, the admin console's
 * page writer, the response builder's text and the SSE parser's lines.
 *
 * Two kinds of storage, chosen at init:
 *   pool  growth allocates a new block from the pool and leaves the old
 *         one there until the pool is cleared: doubling keeps the total
 *         under twice the final size, and nothing is freed by hand;
 *   heap  malloc/realloc, freed by a cleanup of the pool: for buffers that
 *         grow (and are emptied) many times over a long stream, where
 *         pool memory would only ever grow.
 *
 * The fast path is inline: the JSON writer appends per token.
 */
#ifndef AURA_BUF_H
#define AURA_BUF_H

#include <string.h>
#include <apr_pools.h>

typedef struct aura_buf {
    apr_pool_t *p;
    char *s;            /* NUL-terminated after aura_buf_add */
    apr_size_t len;     /* bytes in use, without the NUL */
    apr_size_t cap;     /* bytes allocated */
    int heap;           /* storage from realloc, freed with the pool */
} aura_buf_t;

/* Smallest block allocated when a buffer first grows. */
#define AURA_BUF_MIN 256

/* An empty buffer in p with `cap` bytes now (0: nothing until first use). */
void aura_buf_init(aura_buf_t *b, apr_pool_t *p, apr_size_t cap);

/* An empty heap buffer whose storage is freed when p is cleared (the
 * struct itself must live at least as long as p's cleanup runs). */
void aura_buf_init_heap(aura_buf_t *b, apr_pool_t *p);

/* The slow path of aura_buf_need: doubles cap until n more bytes and a
 * NUL fit, keeping what is there. Out of memory aborts, as APR's pools
 * do. */
void aura_buf_grow(aura_buf_t *b, apr_size_t n);

/* Room for n more bytes plus a NUL at s + len. */
static inline void aura_buf_need(aura_buf_t *b, apr_size_t n)
{
    if (b->len + n + 1 > b->cap)
        aura_buf_grow(b, n);
}

/* Appends n bytes and keeps the buffer NUL-terminated. */
static inline void aura_buf_add(aura_buf_t *b, const void *d, apr_size_t n)
{
    aura_buf_need(b, n);
    memcpy(b->s + b->len, d, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Empties the buffer and keeps its block for reuse. */
static inline void aura_buf_reset(aura_buf_t *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

#endif /* AURA_BUF_H */
