/*
 * aura_curl.c - aura_http.h on libcurl.
 *
 * One easy handle per thread, reused across requests: curl_easy_reset()
 * keeps its connection cache, so provider connections stay alive and no
 * TLS handshake is paid per request. A share handle (DNS cache, TLS
 * sessions) spans the threads of a process. libcurl has no first-byte or
 * idle timeout of its own, so those are enforced from the progress
 * callback, which libcurl calls at least about once a second.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <apr_time.h>
#include <curl/curl.h>

#include "aura_http.h"

static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_key_t easy_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void lock_cb(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
    (void)h; (void)a; (void)u;
    pthread_mutex_lock(&share_locks[d]);
}

static void unlock_cb(CURL *h, curl_lock_data d, void *u)
{
    (void)h; (void)u;
    pthread_mutex_unlock(&share_locks[d]);
}

static void easy_destroy(void *easy)
{
    curl_easy_cleanup(easy);
}

static void make_key(void)
{
    pthread_key_create(&easy_key, easy_destroy);
}

void aura_http_global_init(void)
{
    int i;
    if (share)
        return;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share_locks[i], NULL);
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, lock_cb);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, unlock_cb);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

static CURL *thread_easy(void)
{
    CURL *easy;
    pthread_once(&key_once, make_key);
    easy = pthread_getspecific(easy_key);
    if (!easy) {
        easy = curl_easy_init();
        pthread_setspecific(easy_key, easy);
    }
    else {
        curl_easy_reset(easy);
    }
    return easy;
}

typedef struct xfer {
    aura_http_req_t *req;
    CURL *easy;
    apr_pool_t *pool;
    const char *content_type;
    const char *retry_after;
    int head_done;
    int stopped;                /* a callback asked to stop */
    aura_http_outcome_e timeout; /* set by the progress callback */
    apr_time_t last_data;
} xfer_t;

static const char *header_value(apr_pool_t *p, const char *line, size_t n,
                                const char *name)
{
    size_t k = strlen(name);
    if (n <= k + 1 || strncasecmp(line, name, k) || line[k] != ':')
        return NULL;
    line += k + 1;
    n -= k + 1;
    while (n && (*line == ' ' || *line == '\t'))
        line++, n--;
    while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' ||
                 line[n - 1] == ' '))
        n--;
    return apr_pstrmemdup(p, line, n);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *u)
{
    xfer_t *x = u;
    size_t n = size * nitems;
    const char *v;

    if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
        /* A new response head (e.g. after 100 Continue): start over. */
        x->content_type = x->retry_after = NULL;
        return n;
    }
    if ((v = header_value(x->pool, buf, n, "content-type")) != NULL)
        x->content_type = v;
    else if ((v = header_value(x->pool, buf, n, "retry-after")) != NULL)
        x->retry_after = v;
    return n;
}

static int deliver_head(xfer_t *x, CURL *easy)
{
    long status = 0;
    if (x->head_done)
        return 0;
    x->head_done = 1;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    x->req->status = (int)status;
    if (x->req->on_head &&
        x->req->on_head(x->req->baton, (int)status, x->content_type,
                        x->retry_after))
        return 1;
    return 0;
}

static size_t on_write(char *buf, size_t size, size_t nitems, void *u)
{
    xfer_t *x = u;
    size_t n = size * nitems;
    x->last_data = apr_time_now();
    if (!x->req->t_first_byte)
        x->req->t_first_byte = x->last_data;
    if (deliver_head(x, x->easy) ||
        (x->req->on_data && x->req->on_data(x->req->baton, buf, n))) {
        x->stopped = 1;
        return 0; /* libcurl aborts with CURLE_WRITE_ERROR */
    }
    return n;
}

static int on_progress(void *u, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    xfer_t *x = u;
    aura_http_req_t *r = x->req;
    apr_time_t now = apr_time_now();
    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;

    if (r->is_aborted && r->is_aborted(r->baton)) {
        x->stopped = 1;
        return 1;
    }
    if (!r->t_first_byte) {
        if (r->first_byte_ms > 0 &&
            now - r->t_sent > apr_time_from_msec(r->first_byte_ms)) {
            x->timeout = AURA_HTTP_FIRST_BYTE_TIMEOUT;
            return 1;
        }
    }
    else if (r->idle_ms > 0 &&
             now - x->last_data > apr_time_from_msec(r->idle_ms)) {
        x->timeout = AURA_HTTP_IDLE_TIMEOUT;
        return 1;
    }
    return 0;
}

static struct curl_slist *make_headers(aura_http_req_t *req)
{
    struct curl_slist *list = NULL;
    int i;
    for (i = 0; req->headers && i < req->headers->nelts; i++)
        list = curl_slist_append(list,
                                 APR_ARRAY_IDX(req->headers, i, const char *));
    /* No "Expect: 100-continue" round trip for large bodies. */
    return curl_slist_append(list, "Expect:");
}

static void set_options(CURL *easy, aura_http_req_t *req, xfer_t *x,
                        struct curl_slist *headers)
{
    curl_easy_setopt(easy, CURLOPT_SHARE, share);
    curl_easy_setopt(easy, CURLOPT_URL, req->url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)req->body_len);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, x);
    if (req->connect_ms > 0)
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, req->connect_ms);
    if (req->total_ms > 0)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, req->total_ms);
}

static aura_http_outcome_e classify(CURLcode rc, xfer_t *x, CURL *easy)
{
    long connected = 0;
    switch (rc) {
    case CURLE_OK:
        return AURA_HTTP_OK;
    case CURLE_WRITE_ERROR:
        return x->stopped ? AURA_HTTP_ABORTED : AURA_HTTP_FAILED;
    case CURLE_ABORTED_BY_CALLBACK:
        return x->timeout ? x->timeout : AURA_HTTP_ABORTED;
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected);
        if (!connected && !x->req->t_first_byte)
            return AURA_HTTP_CONNECT_TIMEOUT;
        return AURA_HTTP_TOTAL_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return AURA_HTTP_CONNECT_FAILED;
    default:
        return AURA_HTTP_FAILED;
    }
}

aura_http_outcome_e aura_http_perform(apr_pool_t *p, aura_http_req_t *req,
                                      const char **detail)
{
    CURL *easy = thread_easy();
    struct curl_slist *headers;
    xfer_t x;
    CURLcode rc;
    aura_http_outcome_e out;

    memset(&x, 0, sizeof(x));
    x.req = req;
    x.easy = easy;
    x.pool = p;
    req->status = 0;
    req->t_first_byte = 0;
    req->t_sent = apr_time_now();
    headers = make_headers(req);
    set_options(easy, req, &x, headers);
    rc = curl_easy_perform(easy);
    if (rc == CURLE_OK)
        deliver_head(&x, easy); /* an empty body still has a head */
    curl_slist_free_all(headers);
    /* The handle keeps pointers to our headers and body: drop them now. */
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    out = classify(rc, &x, easy);
    if (detail)
        *detail = rc == CURLE_OK ? NULL : curl_easy_strerror(rc);
    return out;
}
