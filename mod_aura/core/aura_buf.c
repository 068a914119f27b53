/*
 * aura_buf.c - the growable pool buffer (aura_buf.h).
 */
#include <stdlib.h>

#include "aura_buf.h"

void aura_buf_init(aura_buf_t *b, apr_pool_t *p, apr_size_t cap)
{
    b->p = p;
    b->len = 0;
    b->heap = 0;
    b->cap = cap;
    b->s = cap ? apr_palloc(p, cap) : NULL;
    if (b->s)
        b->s[0] = '\0';
}

static apr_status_t heap_free(void *data)
{
    aura_buf_t *b = data;

    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    return APR_SUCCESS;
}

void aura_buf_init_heap(aura_buf_t *b, apr_pool_t *p)
{
    aura_buf_init(b, p, 0);
    b->heap = 1;
    apr_pool_cleanup_register(p, b, heap_free, apr_pool_cleanup_null);
}

void aura_buf_grow(aura_buf_t *b, apr_size_t n)
{
    apr_size_t cap = b->cap ? b->cap : AURA_BUF_MIN;
    char *s;

    while (cap < b->len + n + 1)
        cap *= 2;
    if (b->heap) {
        if (!(s = realloc(b->s, cap)))
            abort();
    }
    else {
        s = apr_palloc(b->p, cap);
        if (b->len)
            memcpy(s, b->s, b->len);
    }
    s[b->len] = '\0';
    b->s = s;
    b->cap = cap;
}
