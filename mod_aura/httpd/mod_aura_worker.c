/*
 * mod_aura_worker.c - one background thread per child and its tasks.
 *
 * The thread runs every task that is due, in the order they were added,
 * then sleeps on a condition variable until the next one is due or the
 * child stops. A task's interval counts from the end of its last run, so
 * a slow run (a backlog, a database that answers late) never makes its
 * task run back to back. Stopping is a pre-cleanup of pchild, so that it
 * runs before pchild's subpools (the worker's own, the tasks' state) go:
 * it wakes the thread, whose tasks then get their last call (leave), and
 * joins it.
 */
#include <httpd.h>
#include <http_log.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <apr_strings.h>

#include "mod_aura_worker.h"

APLOG_USE_MODULE(aura);

struct aura_task {
    aura_task_def_t def;
    apr_time_t next;            /* due from then; 0: at once */
    int running;                /* not run again from its own yield */
};

struct aura_worker {
    server_rec *s;
    apr_pool_t *pchild;
    apr_pool_t *pool;           /* the thread's own */
    apr_array_header_t *tasks;  /* aura_task_t * */
    apr_thread_t *thread;
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cv;
    volatile int stop;
};

aura_worker_t *aura_worker_create(apr_pool_t *pchild, server_rec *s)
{
    aura_worker_t *w = apr_pcalloc(pchild, sizeof(*w));

    w->s = s;
    w->pchild = pchild;
    apr_pool_create(&w->pool, pchild);
    w->tasks = apr_array_make(pchild, 4, sizeof(aura_task_t *));
    return w;
}

apr_pool_t *aura_worker_pool(aura_worker_t *w)
{
    return w->pool;
}

aura_task_t *aura_worker_add(aura_worker_t *w, const aura_task_def_t *def)
{
    aura_task_t *t = apr_pcalloc(w->pchild, sizeof(*t));

    t->def = *def;
    APR_ARRAY_PUSH(w->tasks, aura_task_t *) = t;
    return t;
}

const volatile int *aura_worker_stopping(const aura_worker_t *w)
{
    return &w->stop;
}

static void run_task(aura_worker_t *w, aura_task_t *t, apr_pool_t *parent)
{
    apr_pool_t *p;
    apr_status_t rv;

    apr_pool_create(&p, parent);
    t->running = 1;
    rv = t->def.run(t->def.baton, w, p);
    t->running = 0;
    apr_pool_destroy(p);
    t->next = apr_time_now() + (rv != APR_SUCCESS && t->def.retry
                                    ? t->def.retry : t->def.interval);
}

void aura_worker_run_first(aura_worker_t *w, aura_task_t *t)
{
    run_task(w, t, w->pool);
}

static void run_due(aura_worker_t *w, apr_pool_t *p)
{
    int i;

    for (i = 0; i < w->tasks->nelts && !w->stop; i++) {
        aura_task_t *t = APR_ARRAY_IDX(w->tasks, i, aura_task_t *);
        if (!t->running && apr_time_now() >= t->next)
            run_task(w, t, p);
    }
}

void aura_worker_yield(aura_worker_t *w, apr_pool_t *p)
{
    run_due(w, p);
}

static apr_time_t next_due(const aura_worker_t *w)
{
    apr_time_t next = 0;
    int i;

    for (i = 0; i < w->tasks->nelts; i++) {
        const aura_task_t *t = APR_ARRAY_IDX(w->tasks, i, aura_task_t *);
        if (!i || t->next < next)
            next = t->next;
    }
    return next;
}

static void wait_next(aura_worker_t *w)
{
    apr_interval_time_t d;

    apr_thread_mutex_lock(w->mu);
    d = next_due(w) - apr_time_now();
    if (!w->stop && d > 0)
        apr_thread_cond_timedwait(w->cv, w->mu, d);
    apr_thread_mutex_unlock(w->mu);
}

static void leave_all(aura_worker_t *w, apr_pool_t *parent)
{
    apr_pool_t *p;
    int i;

    for (i = 0; i < w->tasks->nelts; i++) {
        aura_task_t *t = APR_ARRAY_IDX(w->tasks, i, aura_task_t *);
        if (!t->def.leave)
            continue;
        apr_pool_create(&p, parent);
        t->def.leave(t->def.baton, p);
        apr_pool_destroy(p);
    }
}

static void *APR_THREAD_FUNC worker_main(apr_thread_t *th, void *data)
{
    aura_worker_t *w = data;
    apr_pool_t *p;

    apr_pool_create(&p, w->pool);
    while (!w->stop) {
        run_due(w, p);
        wait_next(w);
    }
    leave_all(w, p);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

/* A pre-cleanup: it runs before pchild's subpools (the thread's) go. */
static apr_status_t worker_stop(void *data)
{
    aura_worker_t *w = data;
    apr_status_t rv;

    apr_thread_mutex_lock(w->mu);
    w->stop = 1;
    apr_thread_cond_signal(w->cv);
    apr_thread_mutex_unlock(w->mu);
    apr_thread_join(&rv, w->thread);
    return APR_SUCCESS;
}

static const char *task_names(aura_worker_t *w)
{
    const char *out = "";
    int i;

    for (i = 0; i < w->tasks->nelts; i++)
        out = apr_pstrcat(w->pchild, out, i ? ", " : "",
                          APR_ARRAY_IDX(w->tasks, i, aura_task_t *)->def.name,
                          NULL);
    return out;
}

apr_status_t aura_worker_start(aura_worker_t *w)
{
    apr_status_t rv;

    if (!w->tasks->nelts)
        return APR_SUCCESS;     /* nothing periodic: no thread */
    if ((rv = apr_thread_mutex_create(&w->mu, APR_THREAD_MUTEX_DEFAULT,
                                      w->pchild)) != APR_SUCCESS ||
        (rv = apr_thread_cond_create(&w->cv, w->pchild)) != APR_SUCCESS ||
        (rv = apr_thread_create(&w->thread, NULL, worker_main, w,
                                w->pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, w->s, "mod_aura: cannot "
                     "start the background worker (%s)", task_names(w));
        return rv;
    }
    apr_pool_pre_cleanup_register(w->pchild, w, worker_stop);
    return APR_SUCCESS;
}
