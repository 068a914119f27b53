/*
 * test_sse.c - the incremental SSE parser: every feed split, every line
 * ending, comments, multi-line data, the size bound, EOF handling.
 */
#include <apr_general.h>
#include <apr_strings.h>

#include "aura_test.h"
#include "aura_sse.h"

typedef struct rec {
    apr_pool_t *p;
    const char *log;            /* "name|data;" per event */
    int n;
    int stop_after;             /* return an error after this many, or 0 */
} rec;

static apr_status_t on_event(void *baton, const char *event,
                             const char *data, apr_size_t len)
{
    rec *r = baton;
    r->n++;
    if (data[len] != '\0')
        r->log = apr_pstrcat(r->p, r->log, "<NOT NUL TERMINATED>", NULL);
    r->log = apr_pstrcat(r->p, r->log, event ? event : "(null)", "|",
                         apr_pstrmemdup(r->p, data, len), ";", NULL);
    if (r->stop_after && r->n >= r->stop_after)
        return APR_EGENERAL;
    return APR_SUCCESS;
}

static const char *run(apr_pool_t *p, const char *in, apr_size_t len,
                       apr_size_t piece, int finish, apr_status_t *rv_out)
{
    apr_pool_t *sub;
    rec r = { 0 };
    aura_sse_t *s;
    apr_size_t off;
    apr_status_t rv = APR_SUCCESS;

    apr_pool_create(&sub, p);
    r.p = p;
    r.log = "";
    s = aura_sse_create(sub, 0, on_event, &r);
    for (off = 0; off < len && rv == APR_SUCCESS; off += piece)
        rv = aura_sse_feed(s, in + off, len - off < piece ? len - off : piece);
    if (finish && rv == APR_SUCCESS)
        rv = aura_sse_finish(s);
    if (rv_out)
        *rv_out = rv;
    apr_pool_destroy(sub);
    return r.log;
}

/* Feeds `in` split at every single position (two pieces), then at every
 * pair of positions (three pieces), and in 1-byte pieces. */
static int all_splits_equal(apr_pool_t *p, const char *in, const char *want)
{
    apr_size_t len = strlen(in), i, j;
    int ok = 1;

    for (i = 0; i <= len && ok; i++) {
        for (j = i; j <= len && ok; j++) {
            rec r = { 0 };
            apr_pool_t *sub;
            aura_sse_t *s;

            apr_pool_create(&sub, p);
            r.p = sub;
            r.log = "";
            s = aura_sse_create(sub, 0, on_event, &r);
            aura_sse_feed(s, in, i);
            aura_sse_feed(s, in + i, j - i);
            aura_sse_feed(s, in + j, len - j);
            aura_sse_finish(s);
            if (strcmp(r.log, want)) {
                printf("#   split %zu/%zu: got %s\n", i, j, r.log);
                ok = 0;
            }
            apr_pool_destroy(sub);
        }
    }
    return ok && !strcmp(run(p, in, len, 1, 1, NULL), want);
}

int main(void)
{
    apr_pool_t *p;
    apr_status_t rv;
    const char *sample =
        ": keep-alive comment\r\n"
        "event: response.output_text.delta\r\n"
        "data: {\"a\":1}\r\n"
        "\r\n"
        "data: line one\r\n"
        "data:line two\r\n"
        "data\r\n"
        "id: 7\r\n"
        "retry: 1000\r\n"
        "\r\n"
        "event: e3\n"
        "data:  two spaces\n"
        "\n"
        ":only a comment\n\n"
        "event: no-data\n\n"
        "data: cr\rdata: ends\r\r"
        "data: [DONE]\n\n";
    const char *want =
        "response.output_text.delta|{\"a\":1};"
        "(null)|line one\nline two\n;"
        "e3| two spaces;"
        "(null)|cr\nends;"
        "(null)|[DONE];";

    apr_initialize();
    apr_pool_create(&p, NULL);

    AT_STREQ(run(p, sample, strlen(sample), 100000, 0, NULL), want,
             "whole sample: events, names, comments, CRLF/CR/LF");
    AT_OK(all_splits_equal(p, sample, want),
          "every 2- and 3-piece split and 1-byte feeds give the same events");

    /* CR at the end of one feed, LF at the start of the next: one line end */
    AT_STREQ(run(p, "data: a\r\n\r\ndata: b\r\n\r\n", 22, 8, 0, NULL),
             "(null)|a;(null)|b;", "CRLF split across feeds");

    /* EOF: a pending event is delivered by finish, not by feed */
    AT_STREQ(run(p, "data: [DONE]\n", 13, 100, 0, NULL), "",
             "no blank line: nothing yet");
    AT_STREQ(run(p, "data: [DONE]\n", 13, 100, 1, NULL), "(null)|[DONE];",
             "finish dispatches the pending event");
    AT_STREQ(run(p, "data: [DONE]", 12, 5, 1, NULL), "(null)|[DONE];",
             "finish takes an unterminated last line");
    AT_STREQ(run(p, "event: x\n", 9, 100, 1, NULL), "",
             "event without data is not dispatched");
    AT_STREQ(run(p, "data:\n\n", 7, 1, 0, NULL), "(null)|;",
             "an empty data field is an empty event");

    /* a UTF-8 BOM at the start */
    AT_STREQ(run(p, "\xEF\xBB\xBF" "data: x\n\n", 12, 100, 0, NULL),
             "(null)|x;", "leading BOM dropped");

    /* NUL bytes inside data are carried by length */
    {
        static const char nul[] = "data: a\0b\n\n";
        rec r = { 0 };
        aura_sse_t *s;
        r.p = p;
        r.log = "";
        s = aura_sse_create(p, 0, on_event, &r);
        aura_sse_feed(s, nul, sizeof(nul) - 1);
        AT_INTEQ(r.n, 1, "event with a NUL byte delivered");
    }

    /* the bound: one event larger than max_event is an error, sticky */
    {
        rec r = { 0 };
        aura_sse_t *s;
        char big[300];
        memset(big, 'x', sizeof(big));
        memcpy(big, "data: ", 6);
        r.p = p;
        r.log = "";
        s = aura_sse_create(p, 256, on_event, &r);
        AT_INTEQ(aura_sse_feed(s, "data: ok\n\n", 10), APR_SUCCESS,
                 "small event under the bound");
        rv = aura_sse_feed(s, big, sizeof(big));
        AT_INTEQ(rv, AURA_SSE_ETOOBIG, "partial line over the bound fails");
        AT_INTEQ(aura_sse_feed(s, "\n\ndata: y\n\n", 11), AURA_SSE_ETOOBIG,
                 "failure is sticky");
        AT_STREQ(r.log, "(null)|ok;", "nothing after the failure");

        /* many data lines adding up past the bound */
        r.log = "";
        s = aura_sse_create(p, 256, on_event, &r);
        rv = APR_SUCCESS;
        {
            int i;
            for (i = 0; i < 40 && rv == APR_SUCCESS; i++)
                rv = aura_sse_feed(s, "data: 0123456789\n", 17);
        }
        AT_INTEQ(rv, AURA_SSE_ETOOBIG, "multi-line data over the bound fails");
    }

    /* a callback error stops the parse and is returned */
    {
        rec r = { 0 };
        aura_sse_t *s;
        r.p = p;
        r.log = "";
        r.stop_after = 1;
        s = aura_sse_create(p, 0, on_event, &r);
        rv = aura_sse_feed(s, "data: 1\n\ndata: 2\n\n", 18);
        AT_INTEQ(rv, APR_EGENERAL, "callback status returned");
        AT_INTEQ(r.n, 1, "no event after the callback failed");
    }

    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
