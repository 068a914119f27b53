/*
 * mock_upstream.c - a fast OpenAI-shaped upstream for the benchmark.
 *
 *   POST /v1/chat/completions   Chat Completions, JSON or SSE
 *   POST /v1/responses          Open Responses / OpenAI Responses, JSON or SSE
 *   GET  /health                200 "ok"
 *
 * The request body's "stream": true picks SSE; for chat streams,
 * "include_usage": true (stream_options) adds the usage chunk before
 * [DONE]. The model named in the request is echoed back. The bytes follow
 * tests/fixtures/openai (openai__chat_nonstream_text.json,
 * openai__chat_stream_text_usage_done.sse, openai__responses_*), usage
 * included, so a gateway can meter them.
 *
 * One epoll loop per thread (--threads, default 1), non-blocking sockets,
 * HTTP/1.1 keep-alive (pipelining tolerated), Content-Length and chunked
 * request bodies. Timing: --latency-us before the response head;
 * --pace-us between stream events after the first content delta (the
 * events up to and including the first delta go out at once, so "time to
 * first event" measures the path, not the mock). --words N sets the answer
 * length. Listens on 127.0.0.1 only; --port 0 picks a free port, written
 * to --port-file.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -pthread -o mock_upstream mock_upstream.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEAD   (64 * 1024)
#define MAX_BODY   (16 * 1024 * 1024)
#define MAX_EVENTS 256

/* ------------------------------------------------------------ options */

static long opt_latency_us;
static long opt_pace_us;
static int opt_words = 30;
static int opt_threads = 1;
static int opt_port;
static const char *opt_port_file;
static int listen_fd;

static const char *WORDS[] = {
    "The", "gateway", "costs", "almost", "nothing", "on", "the", "request",
    "path", "so", "measure", "it", "the", "way", "the", "field", "does",
    "in", "one", "run", "on", "one", "machine", "and", "keep", "measuring",
};
#define NWORDS (sizeof(WORDS) / sizeof(WORDS[0]))

/* ------------------------------------------------------------ buffers */

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        perror("realloc");
        exit(2);
    }
    b->p = p;
    b->cap = cap;
}

static void buf_add(buf_t *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

#define buf_lit(b, s) buf_add((b), (s), sizeof(s) - 1)

static void buf_printf(buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap > b->len ? b->cap - b->len : 0;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            exit(2);
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        buf_reserve(b, (size_t)n + 1);
    }
}

static void buf_consume(buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

/* ------------------------------------------------------------ time */

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------ connections */

enum api { API_CHAT, API_RESP };
enum state { ST_READ, ST_WAIT, ST_STREAM, ST_CLOSING };

typedef struct conn conn_t;
struct conn {
    int fd;
    enum state st;
    buf_t in, out;
    int keepalive;
    /* the request being answered */
    enum api api;
    int stream, include_usage;
    char model[128];
    unsigned long seq;      /* per-connection counter for ids */
    int ev_next;            /* next stream event index */
    int ev_total;
    int64_t due;            /* when the next timed step is due (ST_WAIT/ST_STREAM) */
    conn_t *tprev, *tnext;  /* timed list */
    int timed;
    int want_out;           /* EPOLLOUT registered */
};

typedef struct {
    int ep, tfd;
    conn_t *timed;          /* connections waiting on a deadline */
    unsigned long ids;
} loop_t;

static void timed_add(loop_t *L, conn_t *c, int64_t due)
{
    c->due = due;
    if (c->timed)
        return;
    c->timed = 1;
    c->tprev = NULL;
    c->tnext = L->timed;
    if (L->timed)
        L->timed->tprev = c;
    L->timed = c;
}

static void timed_del(loop_t *L, conn_t *c)
{
    if (!c->timed)
        return;
    if (c->tprev)
        c->tprev->tnext = c->tnext;
    else
        L->timed = c->tnext;
    if (c->tnext)
        c->tnext->tprev = c->tprev;
    c->timed = 0;
    c->tprev = c->tnext = NULL;
}

static void conn_close(loop_t *L, conn_t *c)
{
    timed_del(L, c);
    epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in.p);
    free(c->out.p);
    free(c);
}

/* ------------------------------------------------------------ request parsing */

/* Case-insensitive header lookup in [head, end); value trimmed into out. */
static int header_value(const char *head, const char *end, const char *name,
                        char *out, size_t outsz)
{
    size_t nl = strlen(name);
    const char *p = memchr(head, '\n', (size_t)(end - head));
    while (p && p < end) {
        p++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t n = (size_t)(ve - v);
            if (n >= outsz)
                n = outsz - 1;
            memcpy(out, v, n);
            out[n] = 0;
            return 1;
        }
        p = eol;
    }
    return 0;
}

/* Dechunk a chunked body starting at s (len n). Returns bytes consumed
 * (through the final CRLF) or 0 when incomplete, -1 when malformed. */
static long dechunk(const char *s, size_t n, buf_t *body)
{
    size_t i = 0;
    body->len = 0;
    for (;;) {
        const char *eol = memmem(s + i, n - i, "\r\n", 2);
        if (!eol)
            return 0;
        char *endp;
        unsigned long sz = strtoul(s + i, &endp, 16);
        if (endp == s + i)
            return -1;
        i = (size_t)(eol - s) + 2;
        if (sz == 0) {
            /* trailers until an empty line */
            for (;;) {
                const char *e2 = memmem(s + i, n - i, "\r\n", 2);
                if (!e2)
                    return 0;
                if (e2 == s + i)
                    return (long)(i + 2);
                i = (size_t)(e2 - s) + 2;
            }
        }
        if (sz > MAX_BODY || body->len + sz > MAX_BODY)
            return -1;
        if (n - i < sz + 2)
            return 0;
        buf_add(body, s + i, sz);
        i += sz + 2;
    }
}

/* Does the JSON body have "key" <ws> : <ws> true ? (flat text scan: the
 * benchmark's bodies have no such string inside user text). */
static int json_true(const char *body, size_t n, const char *key)
{
    size_t kl = strlen(key);
    const char *p = body, *end = body + n;
    while ((p = memmem(p, (size_t)(end - p), key, kl)) != NULL) {
        const char *q = p + kl;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
            q++;
        if (q < end && *q == ':') {
            q++;
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
                q++;
            return (size_t)(end - q) >= 4 && !memcmp(q, "true", 4);
        }
        p += kl;
    }
    return 0;
}

static void json_model(const char *body, size_t n, char *out, size_t outsz)
{
    const char *key = "\"model\"", *end = body + n;
    const char *p = memmem(body, n, key, strlen(key));
    snprintf(out, outsz, "gpt-bench");
    if (!p)
        return;
    p += strlen(key);
    while (p < end && (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p >= end || *p != '"')
        return;
    p++;
    size_t i = 0;
    while (p < end && *p != '"' && *p != '\\' && i + 1 < outsz) {
        if ((unsigned char)*p >= 0x20)
            out[i++] = *p;
        p++;
    }
    if (i)
        out[i] = 0;
}

/* ------------------------------------------------------------ responses */

static void head_json(conn_t *c, int status, const char *reason, size_t len)
{
    buf_printf(&c->out,
        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
        "Content-Length: %zu\r\nx-request-id: req_mock%08lx\r\n%s\r\n",
        status, reason, len, c->seq,
        c->keepalive ? "" : "Connection: close\r\n");
}

static void send_error(conn_t *c, int status, const char *reason, const char *msg)
{
    char body[512];
    int n = snprintf(body, sizeof body,
        "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\","
        "\"param\":null,\"code\":null}}", msg);
    head_json(c, status, reason, (size_t)n);
    buf_add(&c->out, body, (size_t)n);
}

static void add_text(buf_t *b, int words)
{
    for (int i = 0; i < words; i++) {
        if (i)
            buf_lit(b, " ");
        const char *w = WORDS[i % NWORDS];
        buf_add(b, w, strlen(w));
    }
    buf_lit(b, ".");
}

static int prompt_tokens(void) { return 14; }
static int completion_tokens(void) { return opt_words + 1; }

static void chat_json(conn_t *c)
{
    buf_t b = {0};
    buf_printf(&b,
        "{\"id\":\"chatcmpl-mock%08lx\",\"object\":\"chat.completion\","
        "\"created\":1727346142,\"model\":\"%s\",\"choices\":[{\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"content\":\"",
        c->seq, c->model);
    add_text(&b, opt_words);
    buf_printf(&b,
        "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,"
        "\"total_tokens\":%d,\"completion_tokens_details\":{\"reasoning_tokens\":0}},"
        "\"system_fingerprint\":\"fp_mock\"}",
        prompt_tokens(), completion_tokens(), prompt_tokens() + completion_tokens());
    head_json(c, 200, "OK", b.len);
    buf_add(&c->out, b.p, b.len);
    free(b.p);
}

static void resp_usage(buf_t *b)
{
    buf_printf(b,
        "\"usage\":{\"input_tokens\":%d,\"input_tokens_details\":{\"cached_tokens\":0},"
        "\"output_tokens\":%d,\"output_tokens_details\":{\"reasoning_tokens\":0},"
        "\"total_tokens\":%d}",
        prompt_tokens(), completion_tokens(), prompt_tokens() + completion_tokens());
}

static void resp_message(buf_t *b, conn_t *c, const char *status, int with_text)
{
    buf_printf(b,
        "{\"id\":\"msg_mock%08lx\",\"type\":\"message\",\"status\":\"%s\","
        "\"content\":[", c->seq, status);
    if (with_text) {
        buf_lit(b, "{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"");
        add_text(b, opt_words);
        buf_lit(b, "\"}");
    }
    buf_lit(b, "],\"role\":\"assistant\"}");
}

static void resp_resource(buf_t *b, conn_t *c, const char *status, int done)
{
    buf_printf(b,
        "{\"id\":\"resp_mock%08lx\",\"object\":\"response\",\"created_at\":1754925861,"
        "\"status\":\"%s\",\"background\":false,\"error\":null,"
        "\"incomplete_details\":null,\"instructions\":null,\"max_output_tokens\":null,"
        "\"model\":\"%s\",\"output\":[", c->seq, status, c->model);
    if (done)
        resp_message(b, c, "completed", 1);
    buf_lit(b, "],\"parallel_tool_calls\":true,\"previous_response_id\":null,"
               "\"reasoning\":{\"effort\":null,\"summary\":null},\"store\":false,"
               "\"temperature\":1.0,\"text\":{\"format\":{\"type\":\"text\"}},"
               "\"tool_choice\":\"auto\",\"tools\":[],\"top_p\":1.0,"
               "\"truncation\":\"disabled\",");
    if (done)
        resp_usage(b);
    else
        buf_lit(b, "\"usage\":null");
    buf_lit(b, ",\"user\":null,\"metadata\":{}}");
}

static void resp_json(conn_t *c)
{
    buf_t b = {0};
    resp_resource(&b, c, "completed", 1);
    head_json(c, 200, "OK", b.len);
    buf_add(&c->out, b.p, b.len);
    free(b.p);
}

/* Streams: event i of ev_total, framed as one HTTP chunk each. */
static void chunk_out(conn_t *c, const buf_t *ev)
{
    buf_printf(&c->out, "%zx\r\n", ev->len);
    buf_add(&c->out, ev->p, ev->len);
    buf_lit(&c->out, "\r\n");
}

static const char *word_at(int i) { return WORDS[i % NWORDS]; }

/* chat: 0 role, 1..W words (word i-1, with leading space after the first),
 * W+1 "." , W+2 finish, [W+3 usage], then [DONE] */
static int chat_events(conn_t *c) { return opt_words + 4 + (c->include_usage ? 1 : 0); }

static void chat_event(conn_t *c, int i, buf_t *ev)
{
    int W = opt_words;
    const char *pre = "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\","
                      "\"created\":1727346168,\"model\":\"";
    if (i == c->ev_total - 1) {
        buf_lit(ev, "data: [DONE]\n\n");
        return;
    }
    buf_add(ev, pre, strlen(pre));
    buf_add(ev, c->model, strlen(c->model));
    buf_lit(ev, "\",\"system_fingerprint\":\"fp_mock\",\"choices\":");
    if (i == 0) {
        buf_lit(ev, "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\","
                    "\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
    } else if (i <= W + 1) {
        buf_printf(ev, "[{\"index\":0,\"delta\":{\"content\":\"%s%s\"},\"logprobs\":null,"
                       "\"finish_reason\":null}]}\n\n",
                   i == 1 || i == W + 1 ? "" : " ", i == W + 1 ? "." : word_at(i - 1));
    } else if (i == W + 2) {
        buf_lit(ev, "[{\"index\":0,\"delta\":{},\"logprobs\":null,"
                    "\"finish_reason\":\"stop\"}]}\n\n");
    } else {
        buf_printf(ev, "[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,"
                       "\"total_tokens\":%d,\"completion_tokens_details\":"
                       "{\"reasoning_tokens\":0}}}\n\n",
                   prompt_tokens(), completion_tokens(),
                   prompt_tokens() + completion_tokens());
    }
}

/* responses: 0 created, 1 in_progress, 2 output_item.added,
 * 3 content_part.added, 4..4+W deltas (W words then "."), then
 * output_text.done, content_part.done, output_item.done, completed */
static int resp_events(void) { return opt_words + 1 + 8; }

static void resp_event(conn_t *c, int i, buf_t *ev)
{
    int W = opt_words, seq = i;
    int first_delta = 4, last_delta = 4 + W;
    if (i == 0 || i == 1) {
        const char *t = i == 0 ? "response.created" : "response.in_progress";
        buf_printf(ev, "event: %s\ndata: {\"type\":\"%s\",\"response\":", t, t);
        resp_resource(ev, c, "in_progress", 0);
        buf_printf(ev, ",\"sequence_number\":%d}\n\n", seq);
    } else if (i == 2) {
        buf_lit(ev, "event: response.output_item.added\ndata: "
                    "{\"type\":\"response.output_item.added\",\"item\":");
        resp_message(ev, c, "in_progress", 0);
        buf_printf(ev, ",\"output_index\":0,\"sequence_number\":%d}\n\n", seq);
    } else if (i == 3) {
        buf_printf(ev, "event: response.content_part.added\ndata: "
                       "{\"type\":\"response.content_part.added\",\"content_index\":0,"
                       "\"item_id\":\"msg_mock%08lx\",\"output_index\":0,\"part\":"
                       "{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],"
                       "\"text\":\"\"},\"sequence_number\":%d}\n\n", c->seq, seq);
    } else if (i >= first_delta && i <= last_delta) {
        int k = i - first_delta;
        buf_printf(ev, "event: response.output_text.delta\ndata: "
                       "{\"type\":\"response.output_text.delta\",\"content_index\":0,"
                       "\"delta\":\"%s%s\",\"item_id\":\"msg_mock%08lx\","
                       "\"logprobs\":[],\"output_index\":0,\"sequence_number\":%d}\n\n",
                   k == 0 || k == W ? "" : " ", k == W ? "." : word_at(k),
                   c->seq, seq);
    } else if (i == last_delta + 1) {
        buf_printf(ev, "event: response.output_text.done\ndata: "
                       "{\"type\":\"response.output_text.done\",\"content_index\":0,"
                       "\"item_id\":\"msg_mock%08lx\",\"logprobs\":[],\"output_index\":0,"
                       "\"sequence_number\":%d,\"text\":\"", c->seq, seq);
        add_text(ev, W);
        buf_lit(ev, "\"}\n\n");
    } else if (i == last_delta + 2) {
        buf_printf(ev, "event: response.content_part.done\ndata: "
                       "{\"type\":\"response.content_part.done\",\"content_index\":0,"
                       "\"item_id\":\"msg_mock%08lx\",\"output_index\":0,\"part\":"
                       "{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],"
                       "\"text\":\"", c->seq);
        add_text(ev, W);
        buf_printf(ev, "\"},\"sequence_number\":%d}\n\n", seq);
    } else if (i == last_delta + 3) {
        buf_lit(ev, "event: response.output_item.done\ndata: "
                    "{\"type\":\"response.output_item.done\",\"item\":");
        resp_message(ev, c, "completed", 1);
        buf_printf(ev, ",\"output_index\":0,\"sequence_number\":%d}\n\n", seq);
    } else {
        buf_lit(ev, "event: response.completed\ndata: "
                    "{\"type\":\"response.completed\",\"response\":");
        resp_resource(ev, c, "completed", 1);
        buf_printf(ev, ",\"sequence_number\":%d}\n\n", seq);
    }
}

/* Index of the first content delta: everything through it goes at once. */
static int first_delta_index(conn_t *c) { return c->api == API_CHAT ? 1 : 4; }

static void conn_flush(loop_t *L, conn_t *c);

/* Emit stream events that are due; arm the timer for the next one. */
static void stream_step(loop_t *L, conn_t *c)
{
    buf_t ev = {0};
    int burst_end = opt_pace_us > 0 ? first_delta_index(c) : c->ev_total - 1;
    if (c->ev_next > burst_end)
        burst_end = c->ev_next;
    while (c->ev_next < c->ev_total && c->ev_next <= burst_end) {
        ev.len = 0;
        if (c->api == API_CHAT)
            chat_event(c, c->ev_next, &ev);
        else
            resp_event(c, c->ev_next, &ev);
        chunk_out(c, &ev);
        c->ev_next++;
    }
    free(ev.p);
    if (c->ev_next >= c->ev_total) {
        buf_lit(&c->out, "0\r\n\r\n");
        timed_del(L, c);
        c->st = c->keepalive ? ST_READ : ST_CLOSING;
    } else {
        timed_add(L, c, now_us() + opt_pace_us);
    }
}

static void start_response(loop_t *L, conn_t *c)
{
    timed_del(L, c);
    if (!c->stream) {
        if (c->api == API_CHAT)
            chat_json(c);
        else
            resp_json(c);
        c->st = c->keepalive ? ST_READ : ST_CLOSING;
        return;
    }
    buf_printf(&c->out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
        "x-request-id: req_mock%08lx\r\n%s\r\n",
        c->seq, c->keepalive ? "" : "Connection: close\r\n");
    c->ev_next = 0;
    c->ev_total = c->api == API_CHAT ? chat_events(c) : resp_events();
    c->st = ST_STREAM;
    stream_step(L, c);
}

/* Parse one complete request from c->in; 1 = handled, 0 = need more,
 * -1 = close. */
static int handle_request(loop_t *L, conn_t *c)
{
    char *hend = memmem(c->in.p, c->in.len, "\r\n\r\n", 4);
    if (!hend)
        return c->in.len > MAX_HEAD ? -1 : 0;
    size_t hlen = (size_t)(hend - c->in.p) + 4;
    char val[256], method[16] = "", path[256] = "", ver[16] = "";
    if (sscanf(c->in.p, "%15s %255s %15s", method, path, ver) != 3)
        return -1;
    c->keepalive = strcmp(ver, "HTTP/1.0") != 0;
    if (header_value(c->in.p, hend + 2, "Connection", val, sizeof val)) {
        if (!strcasecmp(val, "close"))
            c->keepalive = 0;
        else if (!strcasecmp(val, "keep-alive"))
            c->keepalive = 1;
    }
    buf_t body = {0};
    size_t consumed = hlen;
    if (header_value(c->in.p, hend + 2, "Transfer-Encoding", val, sizeof val)
        && strcasestr(val, "chunked")) {
        long n = dechunk(c->in.p + hlen, c->in.len - hlen, &body);
        if (n <= 0) {
            free(body.p);
            return n;
        }
        consumed += (size_t)n;
    } else if (header_value(c->in.p, hend + 2, "Content-Length", val, sizeof val)) {
        unsigned long cl = strtoul(val, NULL, 10);
        if (cl > MAX_BODY)
            return -1;
        if (c->in.len - hlen < cl)
            return 0;
        buf_add(&body, c->in.p + hlen, cl);
        consumed += cl;
    }
    c->seq = ++L->ids;
    if (!strcmp(method, "GET") && !strcmp(path, "/health")) {
        buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                            "Content-Length: 3\r\n\r\nok\n");
        buf_consume(&c->in, consumed);
        free(body.p);
        return 1;
    }
    int is_chat = !strcmp(path, "/v1/chat/completions");
    int is_resp = !strcmp(path, "/v1/responses");
    if ((!is_chat && !is_resp) || strcmp(method, "POST")) {
        send_error(c, 404, "Not Found", "mock: no such route");
        buf_consume(&c->in, consumed);
        free(body.p);
        return 1;
    }
    c->api = is_chat ? API_CHAT : API_RESP;
    c->stream = body.p && json_true(body.p, body.len, "\"stream\"");
    c->include_usage = body.p && json_true(body.p, body.len, "\"include_usage\"");
    if (body.p)
        json_model(body.p, body.len, c->model, sizeof c->model);
    else
        snprintf(c->model, sizeof c->model, "gpt-bench");
    free(body.p);
    buf_consume(&c->in, consumed);
    if (opt_latency_us > 0) {
        c->st = ST_WAIT;
        timed_add(L, c, now_us() + opt_latency_us);
    } else {
        start_response(L, c);
    }
    return 1;
}

static void set_out_interest(loop_t *L, conn_t *c, int want)
{
    if (c->want_out == want)
        return;
    struct epoll_event e = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->want_out = want;
}

static void conn_flush(loop_t *L, conn_t *c)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        c->st = ST_CLOSING;
        c->out.len = 0;
        off = 0;
        break;
    }
    buf_consume(&c->out, off);
    set_out_interest(L, c, c->out.len > 0);
}

/* Serve as many buffered requests as the state allows; 0 = close now. */
static int conn_progress(loop_t *L, conn_t *c)
{
    while (c->st == ST_READ && c->in.len > 0) {
        int rc = handle_request(L, c);
        if (rc < 0)
            return 0;
        if (rc == 0)
            break;
    }
    conn_flush(L, c);
    if (c->st == ST_CLOSING && c->out.len == 0)
        return 0;
    return 1;
}

static void on_readable(loop_t *L, conn_t *c)
{
    for (;;) {
        buf_reserve(&c->in, 16384);
        ssize_t n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (n > 0) {
            c->in.len += (size_t)n;
            if ((size_t)n < c->in.cap - c->in.len)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_close(L, c);   /* EOF or error */
        return;
    }
    if (c->in.len > MAX_HEAD + MAX_BODY) {
        conn_close(L, c);
        return;
    }
    if (!conn_progress(L, c))
        conn_close(L, c);
}

static void on_accept(loop_t *L)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_t *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            return;
        }
        c->fd = fd;
        c->st = ST_READ;
        struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
            close(fd);
            free(c);
        }
    }
}

static void run_timers(loop_t *L)
{
    int64_t now = now_us(), next = INT64_MAX;
    conn_t *c = L->timed, *nx;
    for (; c; c = nx) {
        nx = c->tnext;
        if (c->due <= now) {
            if (c->st == ST_WAIT)
                start_response(L, c);
            else if (c->st == ST_STREAM)
                stream_step(L, c);
            if (!conn_progress(L, c)) {
                conn_close(L, c);
                continue;
            }
        }
    }
    for (c = L->timed; c; c = c->tnext)
        if (c->due < next)
            next = c->due;
    struct itimerspec its = {0};
    if (next != INT64_MAX) {
        its.it_value.tv_sec = next / 1000000;
        its.it_value.tv_nsec = (next % 1000000) * 1000;
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1;
    }
    timerfd_settime(L->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void *loop_main(void *arg)
{
    (void)arg;
    loop_t L = {0};
    L.ep = epoll_create1(EPOLL_CLOEXEC);
    L.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    static char lmark, tmark;
    struct epoll_event e = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &lmark };
    epoll_ctl(L.ep, EPOLL_CTL_ADD, listen_fd, &e);
    struct epoll_event t = { .events = EPOLLIN, .data.ptr = &tmark };
    epoll_ctl(L.ep, EPOLL_CTL_ADD, L.tfd, &t);
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(L.ep, evs, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &lmark) {
                on_accept(&L);
            } else if (p == &tmark) {
                uint64_t x;
                if (read(L.tfd, &x, sizeof x) < 0 && errno != EAGAIN)
                    perror("timerfd");
            } else {
                conn_t *c = p;
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    on_readable(&L, c);
                else if (!conn_progress(&L, c))
                    conn_close(&L, c);
            }
        }
        if (L.timed)
            run_timers(&L);
    }
    return NULL;
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
    fprintf(stderr,
        "usage: mock_upstream [--port N] [--port-file F] [--latency-us N]\n"
        "                     [--words N] [--pace-us N] [--threads N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--port")) opt_port = atoi(v);
        else if (!strcmp(a, "--port-file")) opt_port_file = v;
        else if (!strcmp(a, "--latency-us")) opt_latency_us = atol(v);
        else if (!strcmp(a, "--pace-us")) opt_pace_us = atol(v);
        else if (!strcmp(a, "--words")) opt_words = atoi(v);
        else if (!strcmp(a, "--threads")) opt_threads = atoi(v);
        else usage();
        i++;
    }
    if (opt_words < 1 || opt_words > 100000 || opt_threads < 1 || opt_threads > 64)
        usage();
    signal(SIGPIPE, SIG_IGN);

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listen_fd, 1024) < 0) {
        perror("bind/listen");
        return 1;
    }
    socklen_t sl = sizeof sa;
    getsockname(listen_fd, (struct sockaddr *)&sa, &sl);
    if (opt_port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", opt_port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0
            || rename(tmp, opt_port_file) != 0) {
            perror("port-file");
            return 1;
        }
    }
    fprintf(stderr, "mock_upstream: 127.0.0.1:%d latency=%ldus words=%d pace=%ldus threads=%d\n",
            ntohs(sa.sin_port), opt_latency_us, opt_words, opt_pace_us, opt_threads);
    pthread_t th[64];
    for (int i = 1; i < opt_threads; i++)
        pthread_create(&th[i], NULL, loop_main, NULL);
    loop_main(NULL);
    return 0;
}
