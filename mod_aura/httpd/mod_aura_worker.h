/*
 * mod_aura_worker.h - the child's background worker: one thread that
 * runs the periodic tasks (usage ledger ingestion, credential refresh,
 * and whatever comes next) so that no request thread ever waits for
 * them, and none of them hides inside another's loop.
 *
 * A task is a name, an interval, a run function and a baton that holds
 * its own state (its own PGconn, its own outage flag). Tasks run one at a
 * time, in the order they were added; a task that works through a long
 * backlog calls aura_worker_yield between pieces so that the others still
 * run on time. Created and filled in child_init, started there, stopped
 * (and joined) by a pre-cleanup of pchild.
 */
#ifndef MOD_AURA_WORKER_H
#define MOD_AURA_WORKER_H

#include <httpd.h>
#include <apr_time.h>

typedef struct aura_worker aura_worker_t;
typedef struct aura_task aura_task_t;

/* One run, in `p` (destroyed after it). APR_SUCCESS: next run one
 * interval after this one ended; anything else: after the retry delay. */
typedef apr_status_t aura_task_run_f(void *baton, aura_worker_t *w,
                                     apr_pool_t *p);
/* The last call, from the worker thread as it stops: final work within
 * a short deadline, then release the task's connections. */
typedef void aura_task_leave_f(void *baton, apr_pool_t *p);

typedef struct aura_task_def {
    const char *name;
    apr_interval_time_t interval;
    apr_interval_time_t retry;  /* after a failed run; 0: the interval */
    aura_task_run_f *run;
    aura_task_leave_f *leave;   /* NULL: nothing to do on the way out */
    void *baton;
} aura_task_def_t;

aura_worker_t *aura_worker_create(apr_pool_t *pchild, server_rec *s);

/* A pool only the worker thread uses once it runs (and child_init before
 * that): for a task's long-lived state. */
apr_pool_t *aura_worker_pool(aura_worker_t *w);

/* Adds a task, first due at once; the definition is copied. */
aura_task_t *aura_worker_add(aura_worker_t *w, const aura_task_def_t *def);

/* Runs the task now, in the calling thread: only before the worker
 * starts (child_init), for work that must be done before the child
 * serves anything. Its schedule continues from there. */
void aura_worker_run_first(aura_worker_t *w, aura_task_t *t);

/* Starts the thread, if there is any task, and registers its stop on
 * pchild. Logs and returns the error when it cannot. */
apr_status_t aura_worker_start(aura_worker_t *w);

/* Inside a run: the other tasks that are due run now. */
void aura_worker_yield(aura_worker_t *w, apr_pool_t *p);

/* Non-zero once the child is stopping; also a query's cancel flag
 * (aura_db_query's `stop`). */
const volatile int *aura_worker_stopping(const aura_worker_t *w);

#endif /* MOD_AURA_WORKER_H */
