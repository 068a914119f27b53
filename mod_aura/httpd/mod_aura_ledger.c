/*
 * mod_aura_ledger.c - the usage ledger: a local spool on the request
 * path, and a background ingester that moves it into PostgreSQL.
 *
 * Request path: one JSON line per keyed request that went upstream,
 * appended (after a newline, see aura_ledger_record) with a single
 * writev() to this process's live spool file (O_APPEND; a read lock only
 * keeps the file from being swapped during the write). Nothing there
 * waits for PostgreSQL.
 *
 * Background (the "usage ledger" task of the child's worker,
 * mod_aura_worker.c, every AuraUsageFlushInterval): swap in a new live
 * file, then move every finished spool file into PostgreSQL, one file
 * per statement (end-users upserted, ledger rows inserted ON CONFLICT
 * (request_id) DO NOTHING, keys' last_used_at set), and delete it.
 * PostgreSQL down: the files stay and are retried. Between files the
 * task yields to the worker, so that a backlog never holds back a
 * credentials reload that is due.
 *
 * Who may take a file is decided by flock(2): a writer holds a shared lock
 * on its live file for as long as it writes to it, an ingester needs an
 * exclusive one. So a live file is never taken, a dead child's file is
 * (its locks died with it), and two ingesters never work on one file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <httpd.h>
#include <http_log.h>
#include <unixd.h>
#include <apr_atomic.h>
#include <apr_file_info.h>
#include <apr_thread_rwlock.h>

#include "mod_aura_private.h"

APLOG_USE_MODULE(aura);

#define SPOOL_PREFIX "aura-"
#define SPOOL_SUFFIX ".jsonl"
#define NEW_SUFFIX ".new"           /* being created: never ingested */
#define BAD_SUFFIX ".bad"           /* refused by PostgreSQL: kept */
/* One file is one flush interval of one child: more than a lookup's 2 s
 * is allowed, and the client gives up half a second after the server. */
#define INGEST_TIMEOUT_MS 10000
#define INGEST_DEADLINE_MS (INGEST_TIMEOUT_MS + 500)
#define MAX_BACKOFF apr_time_from_sec(3)

static const char *const INGEST_SQL =
    "WITH r AS ("
    " SELECT DISTINCT ON (request_id) * FROM json_to_recordset($1::json)"
    " AS x(request_id text, created_at timestamptz, org_id bigint,"
    " team_id bigint, project_id bigint, key_id text, end_user text,"
    " front text, stream boolean, model text, provider text,"
    " upstream_model text, input_tokens bigint, cached_input_tokens bigint,"
    " cache_write_tokens bigint, output_tokens bigint,"
    " reasoning_tokens bigint, cost_input numeric,"
    " cost_cached_input numeric, cost_cache_write numeric,"
    " cost_output numeric, cost_reasoning numeric, cost_total numeric,"
    " cost_status text, latency_ms integer, overhead_us integer,"
    " http_status integer, status text, cache_hit boolean)"
    " WHERE request_id IS NOT NULL),"
    " eu AS ("
    " INSERT INTO end_users (org_id, external_id, last_seen_at)"
    " SELECT r.org_id, r.end_user, max(r.created_at) FROM r"
    " JOIN organizations o ON o.id = r.org_id"
    " WHERE length(r.end_user) BETWEEN 1 AND 256"
    " GROUP BY r.org_id, r.end_user"
    " ON CONFLICT (org_id, external_id) DO UPDATE SET last_seen_at ="
    " greatest(end_users.last_seen_at, excluded.last_seen_at)"
    " RETURNING id, org_id, external_id),"
    " k AS ("
    " UPDATE virtual_keys v SET last_used_at = greatest(v.last_used_at, u.t)"
    " FROM (SELECT key_id, max(created_at) AS t FROM r"
    " WHERE key_id IS NOT NULL GROUP BY key_id) u"
    " WHERE v.key_id = u.key_id RETURNING v.id),"
    " ins AS ("
    " INSERT INTO usage_ledger (request_id, created_at, org_id, team_id,"
    " project_id, end_user_id, key_id, front, stream, model, provider,"
    " upstream_model, input_tokens, cached_input_tokens,"
    " cache_write_tokens, output_tokens, reasoning_tokens, cost_input,"
    " cost_cached_input, cost_cache_write, cost_output, cost_reasoning,"
    " cost_total, cost_status, latency_ms, overhead_us, http_status,"
    " status, cache_hit)"
    " SELECT r.request_id, r.created_at, r.org_id, r.team_id, r.project_id,"
    " eu.id, r.key_id, r.front, coalesce(r.stream, false), r.model,"
    " r.provider, r.upstream_model, coalesce(r.input_tokens, 0),"
    " coalesce(r.cached_input_tokens, 0), coalesce(r.cache_write_tokens, 0),"
    " coalesce(r.output_tokens, 0), coalesce(r.reasoning_tokens, 0),"
    " r.cost_input, r.cost_cached_input, r.cost_cache_write, r.cost_output,"
    " r.cost_reasoning, r.cost_total, r.cost_status, r.latency_ms,"
    " r.overhead_us, r.http_status, r.status, coalesce(r.cache_hit, false)"
    " FROM r LEFT JOIN eu ON eu.org_id = r.org_id"
    " AND eu.external_id = r.end_user"
    " ON CONFLICT (request_id) DO NOTHING RETURNING 1)"
    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM k)";

/* ---------------------------------------------------------------- spool */

static struct {
    const char *dir;
    apr_thread_rwlock_t *lock;  /* writers: read; the file swap: write */
    int fd;                     /* this process's live file, -1: none */
    apr_uint32_t dirty;         /* written since the last swap */
    unsigned long seq;
} spool = { NULL, NULL, -1, 0, 0 };

const char *aura_ledger_post_config(apr_pool_t *pconf, const char *dir)
{
    apr_status_t rv;

    if ((rv = apr_dir_make_recursive(dir, APR_FPROT_UREAD | APR_FPROT_UWRITE
                                     | APR_FPROT_UEXECUTE | APR_FPROT_GREAD |
                                     APR_FPROT_GEXECUTE, pconf))
        != APR_SUCCESS)
        return apr_psprintf(pconf, "AuraUsageSpool %s: cannot create it "
                            "(%pm)", dir, &rv);
    /* Created as root; the children write it as the worker user. */
    if (geteuid() == 0 &&
        chown(dir, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0)
        return apr_psprintf(pconf, "AuraUsageSpool %s: cannot give it to the "
                            "worker user: %s", dir, strerror(errno));
    return NULL;
}

/* A new live file, created under a name no ingester looks at, locked,
 * then linked into view: an ingester can never see it unlocked. */
static int open_live(apr_pool_t *p)
{
    const char *path, *tmp;
    int fd, tries, err;

    for (tries = 0; tries < 100; tries++) {
        path = apr_psprintf(p, "%s/" SPOOL_PREFIX "%" APR_PID_T_FMT "-%lx"
                            SPOOL_SUFFIX, spool.dir, getpid(), spool.seq++);
        tmp = apr_pstrcat(p, path, NEW_SUFFIX, NULL);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                  0640);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0)
            return -1;
        /* link(), not rename(): it never replaces a file of the same name
         * (another pid namespace sharing the directory). */
        if (flock(fd, LOCK_SH) == 0 && link(tmp, path) == 0) {
            unlink(tmp);
            return fd;
        }
        err = errno;
        unlink(tmp);
        close(fd);
        if (err != EEXIST)
            return -1;
    }
    return -1;
}

/* The live file becomes a finished one (its lock goes with the close). */
static void swap_live(apr_pool_t *p, int reopen)
{
    int fresh = reopen ? open_live(p) : -1, old;

    if (reopen && fresh < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, aura_tenancy_get()->s,
                     "mod_aura: usage spool %s: cannot open a new file; "
                     "still writing the old one", spool.dir);
        return;
    }
    apr_thread_rwlock_wrlock(spool.lock);
    old = spool.fd;
    spool.fd = fresh;
    apr_atomic_set32(&spool.dirty, 0);
    apr_thread_rwlock_unlock(spool.lock);
    if (old >= 0) {
        fdatasync(old);
        close(old);
    }
}

static const char *final_status(aura_exchange_t *ex)
{
    const char *st;

    if (ex->passing && ex->rb && aura_rb_ended(ex->rb)) {
        st = aura_json_string(aura_rb_resource(ex->rb), "status");
        return st && (!strcmp(st, "completed") || !strcmp(st, "incomplete"))
                   ? st : "failed";
    }
    /* The client went away before the answer ended: cut short, which is
     * not the provider failing. */
    if (ex->client_gone || ex->r->connection->aborted)
        return "incomplete";
    return "failed";
}

static const char *record_line(aura_exchange_t *ex, apr_size_t *len)
{
    request_rec *r = ex->r;
    aura_ledger_rec_t rec;

    memset(&rec, 0, sizeof(rec));
    rec.request_id = ex->request_id;
    rec.created = r->request_time;
    rec.tenant = ex->tenant;
    rec.end_user = ex->end_user;
    rec.front = ex->front->name;
    rec.stream = ex->stream;
    rec.model = ex->route.name;
    rec.provider = ex->provider->name;
    rec.upstream_model = ex->route.upstream_model;
    rec.entry = ex->route.entry;
    rec.usage = ex->rb ? aura_rb_get_usage(ex->rb) : NULL;
    rec.cache_write = ex->rb ? aura_rb_get_cache_write(ex->rb) : 0;
    rec.latency_ms = apr_time_as_msec(apr_time_now() - r->request_time);
    rec.overhead_us = ex->meter.overhead_us ? ex->meter.overhead_us
                                            : aura_overhead_now(ex);
    rec.http_status = r->status;
    rec.status = final_status(ex);
    rec.cache_hit = ex->meter.cache && !strcmp(ex->meter.cache, "hit");
    return aura_ledger_line(r->pool, &rec, len);
}

/* Each record goes out as "\n" + line in one writev (one append, as
 * atomic as a write). The leading newline is what keeps a failed write
 * harmless: a short write (disk full) leaves a fragment without its
 * newline, and whatever any thread appends next starts on a line of its
 * own, so the fragment is one bad line the ingester skips, never glued
 * to the next record. Repairing the fragment afterwards (ftruncate, or a
 * "\n" after it) cannot work under the shared lock: another writer may
 * already have appended behind it. */
void aura_ledger_record(aura_exchange_t *ex)
{
    struct iovec iov[2];
    apr_size_t len;
    ssize_t n = -1;

    if (!ex->tenant || !ex->sent_upstream || !spool.lock)
        return;
    iov[0].iov_base = (void *)"\n";
    iov[0].iov_len = 1;
    iov[1].iov_base = (void *)record_line(ex, &len);
    iov[1].iov_len = len;
    apr_thread_rwlock_rdlock(spool.lock);
    if (spool.fd >= 0) {
        n = writev(spool.fd, iov, 2);
        apr_atomic_set32(&spool.dirty, 1);
    }
    apr_thread_rwlock_unlock(spool.lock);
    /* Only the line's own final newline missing: the record is whole. */
    if (n < (ssize_t)len) {
        int err = errno;
        AURA_LOG(ex, APLOG_ERR, "usage record not spooled (%s): the request "
                 "is missing from the ledger", n >= 0 ? "short write"
                 : spool.fd < 0 ? "no spool file" : strerror(err));
    }
}

/* ------------------------------------------------------------- ingester */

typedef struct ingester {
    aura_tenancy_t *ty;
    aura_worker_t *w;           /* its stop flag ends a running query */
    int leaving;                /* the last round: short deadline */
    PGconn *conn;               /* ingestion */
    int down;                   /* an outage was logged */
    apr_interval_time_t backoff;
    apr_time_t retry_at;
} ingester_t;

static int stopping(const ingester_t *in)
{
    return *aura_worker_stopping(in->w);
}

static void outage(ingester_t *in, const char *why)
{
    if (!in->down)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, in->ty->s, "mod_aura: "
                     "usage ledger: PostgreSQL unavailable (%s); records "
                     "stay in %s and are retried", why, spool.dir);
    in->down = 1;
    in->backoff = in->backoff ? in->backoff * 2
                              : apr_time_from_msec(in->ty->mc->flush_ms);
    if (in->backoff > MAX_BACKOFF)
        in->backoff = MAX_BACKOFF;
    in->retry_at = apr_time_now() + in->backoff;
    PQfinish(in->conn);
    in->conn = NULL;
}

static int connected(ingester_t *in, apr_pool_t *p)
{
    const char *err = NULL;

    if (in->conn && PQstatus(in->conn) == CONNECTION_OK)
        return 1;
    PQfinish(in->conn);
    in->conn = NULL;
    if (apr_time_now() < in->retry_at)
        return 0;
    if (!(in->conn = aura_db_connect(p, in->ty->mc->db_conninfo,
                                     INGEST_TIMEOUT_MS, &err))) {
        outage(in, err);
        return 0;
    }
    if (in->down)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, in->ty->s, "mod_aura: "
                     "usage ledger: PostgreSQL is back; moving the spool");
    in->down = 0;
    in->backoff = 0;
    return 1;
}

/* ------------------------------------------------------------ ingestion */

/* The file's bytes; *len is how many were read (the text may hold NULs). */
static const char *read_all(int fd, apr_size_t size, apr_pool_t *p,
                            apr_size_t *len)
{
    char *buf = apr_palloc(p, size + 1);
    apr_size_t have = 0;
    ssize_t n;

    while (have < size && (n = read(fd, buf + have, size - have)) > 0)
        have += (apr_size_t)n;
    buf[have] = '\0';
    *len = have;
    return buf;
}

/* 1 when line[0..n) is one whole JSON object with a request_id. */
static int valid_record(const char *line, apr_size_t n)
{
    struct json_tokener *tok = aura_tokener_acquire();
    json_object *o = json_tokener_parse_ex(tok, line, (int)n);
    int ok = o && json_tokener_get_error(tok) == json_tokener_success &&
             (apr_size_t)json_tokener_get_parse_end(tok) == n &&
             json_object_is_type(o, json_type_object) &&
             aura_json_string(o, "request_id");

    json_object_put(o);
    aura_tokener_release(tok);
    return ok;
}

typedef struct batch_counts {
    int records;
    int torn;                   /* not one whole record: skipped */
    int nul;                    /* holding NUL bytes (a file zero-filled
                                   after a crash): skipped */
} batch_counts_t;

/* The file's lines as one JSON array; a line that is not a whole record
 * (the tail a crashed writer left, a short write's fragment) or holds a
 * NUL is skipped and counted, and the lines after it still count. */
static const char *to_batch(apr_pool_t *p, const char *text,
                            apr_size_t total, batch_counts_t *c)
{
    char *out = apr_palloc(p, total + 3), *o = out;
    const char *line = text, *end = text + total, *nl;

    memset(c, 0, sizeof(*c));
    *o++ = '[';
    for (; line < end; line = nl ? nl + 1 : end) {
        apr_size_t n;

        nl = memchr(line, '\n', (apr_size_t)(end - line));
        n = (apr_size_t)((nl ? nl : end) - line);
        if (n == 0)
            continue;
        if (memchr(line, '\0', n)) {
            c->nul++;
            continue;
        }
        if (!valid_record(line, n)) {
            c->torn++;
            continue;
        }
        if (c->records++)
            *o++ = ',';
        memcpy(o, line, n);
        o += n;
    }
    *o++ = ']';
    *o = '\0';
    return out;
}

static aura_db_outcome_e send_batch(ingester_t *in, const char *path,
                                    const char *batch, apr_pool_t *p)
{
    PGresult *res;
    aura_db_outcome_e out;

    /* Leaving: the child's exit must not wait long; the file stays for
     * the next ingester otherwise. Running: stop ends the wait. */
    out = aura_db_query(in->conn, INGEST_SQL, 1, &batch, in->leaving
                        ? AURA_DB_DEADLINE_MS : INGEST_DEADLINE_MS,
                        in->leaving ? NULL : aura_worker_stopping(in->w),
                        &res);
    if (out == AURA_DB_DATA_ERROR) {
        const char *bad = apr_pstrcat(p, path, BAD_SUFFIX, NULL);
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, in->ty->s, "mod_aura: usage "
                     "ledger: PostgreSQL refused %s (%s); kept as %s",
                     path, aura_db_error(p, in->conn, res, out), bad);
        rename(path, bad);
    }
    else if (out != AURA_DB_OK && stopping(in) && !in->leaving) {
        /* Cut short by the child's exit, not by PostgreSQL: no outage to
         * report, and no second try on the way out. */
        PQfinish(in->conn);
        in->conn = NULL;
        in->down = 1;
        out = AURA_DB_DOWN;
    }
    else if (out != AURA_DB_OK) {
        outage(in, aura_db_error(p, in->conn, res, out));
        out = AURA_DB_DOWN;
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, in->ty->s, "mod_aura: usage "
                     "ledger: %s: %s rows new", path, PQgetvalue(res, 0, 0));
        unlink(path);
    }
    PQclear(res);
    return out;
}

static void log_skipped(ingester_t *in, const char *path,
                        const batch_counts_t *c)
{
    if (c->torn)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, in->ty->s, "mod_aura: "
                     "usage ledger: %s: %d incomplete line(s) skipped",
                     path, c->torn);
    if (c->nul)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, in->ty->s, "mod_aura: "
                     "usage ledger: %s: %d line(s) with NUL bytes skipped",
                     path, c->nul);
}

static aura_db_outcome_e ingest_file(ingester_t *in, const char *path,
                                     apr_pool_t *p)
{
    aura_db_outcome_e out = AURA_DB_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    const char *batch, *text;
    batch_counts_t counts;
    apr_size_t len;
    struct stat st;

    if (fd < 0)
        return AURA_DB_OK;
    /* Locked by a writer or another ingester, or already ingested and
     * unlinked by one between our open and our lock: not ours. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &st) != 0 ||
        st.st_nlink == 0) {
        close(fd);
        return AURA_DB_OK;
    }
    text = read_all(fd, (apr_size_t)st.st_size, p, &len);
    batch = to_batch(p, text, len, &counts);
    log_skipped(in, path, &counts);
    if (!counts.records)
        unlink(path);
    else if (!connected(in, p))
        out = AURA_DB_DOWN;
    else
        out = send_batch(in, path, batch, p);
    close(fd);
    return out;
}

static int is_spool_file(const char *name)
{
    apr_size_t n = strlen(name), k = sizeof(SPOOL_SUFFIX) - 1;
    return !strncmp(name, SPOOL_PREFIX, sizeof(SPOOL_PREFIX) - 1) &&
           n > k && !strcmp(name + n - k, SPOOL_SUFFIX);
}

/* Other tasks come due between files too: a backlog of files must not
 * hold back a credentials reload. */
static void ingest_all(ingester_t *in, apr_pool_t *p)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_pool_t *fp;

    if (apr_dir_open(&d, spool.dir, p) != APR_SUCCESS)
        return;
    apr_pool_create(&fp, p);
    while ((in->leaving || !stopping(in)) &&
           apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (!fi.name || !is_spool_file(fi.name))
            continue;
        if (ingest_file(in, apr_pstrcat(fp, spool.dir, "/", fi.name, NULL),
                        fp) == AURA_DB_DOWN)
            break;
        apr_pool_clear(fp);
        if (!in->leaving)
            aura_worker_yield(in->w, fp);
    }
    apr_dir_close(d);
}

static apr_status_t ingest_run(void *baton, aura_worker_t *w, apr_pool_t *p)
{
    ingester_t *in = baton;
    (void)w;

    if (apr_atomic_read32(&spool.dirty))
        swap_live(p, 1);
    ingest_all(in, p);
    return APR_SUCCESS;
}

/* Leaving: this child's last records are finished files now; move them,
 * each within the short deadline, unless PostgreSQL is known to be down
 * (then any other child, or the next start, will). */
static void ingest_leave(void *baton, apr_pool_t *p)
{
    ingester_t *in = baton;

    swap_live(p, 0);
    in->leaving = 1;
    if (!in->down)
        ingest_all(in, p);
    PQfinish(in->conn);
    in->conn = NULL;
}

void aura_ledger_child_init(apr_pool_t *pchild, server_rec *s,
                            aura_worker_t *w)
{
    ingester_t *in = apr_pcalloc(pchild, sizeof(*in));
    aura_task_def_t def = {"usage ledger", 0, 0, ingest_run, ingest_leave,
                           in};

    in->ty = aura_tenancy_get();
    in->w = w;
    spool.dir = in->ty->mc->spool_dir;
    spool.seq = (unsigned long)apr_time_now();
    if (apr_thread_rwlock_create(&spool.lock, pchild) != APR_SUCCESS ||
        (spool.fd = open_live(pchild)) < 0)
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, s, "mod_aura: usage "
                     "spool %s: cannot open a file; usage is not recorded",
                     spool.dir);
    def.interval = apr_time_from_msec(in->ty->mc->flush_ms);
    aura_worker_add(w, &def);
}
