/* A small persistent thread pool for the kernels (fork-join, caller participates).
 *
 * Why not OpenMP: its idle threads busy-wait for a long time next to Node's event loop, which here
 * (2 cores shared with everything else) costs more than it saves. This pool spins only briefly
 * after a job (so that back-to-back kernel calls and the phases inside one GEMM do not pay a wake-up)
 * and then sleeps on a condition variable.
 *
 * Protocol (one job at a time, published through a generation counter):
 *   caller:  write job fields -> open the job (job_state = gen | 0 active) -> gen++ -> wake
 *            sleepers -> run tasks itself (atomic task counter) -> close the job -> wait until
 *            no worker is still inside it.
 *   worker:  wait for gen to change (spin, then cond_wait) -> join the job if it is still open
 *            (one CAS on job_state: same generation, not closed, active + 1) -> run tasks while
 *            any are left -> leave (active - 1; the last one out of a closed job signals).
 * The caller waits only for workers that actually joined, never for one that is asleep or
 * descheduled (on a loaded machine a woken worker may not run for milliseconds: the caller then
 * simply does all the tasks itself). Job fields are not rewritten while any worker is inside, and
 * a late worker can never join a newer job by mistake: the generation is part of job_state.
 * Workers are created lazily, on the first job that wants them; tslm_set_num_threads only
 * changes how many may take tasks.
 *
 * tslm_worker_id() numbers the threads that run tasks (0 = the caller, 1.. = workers), so that
 * kernels can keep per-thread scratch buffers while tasks are handed out dynamically: tasks are
 * taken from an atomic counter, so more tasks than threads balance the load when a core is
 * busy with something else.
 *
 * Safety: callers from several JS threads of one process (worker_threads) are serialised by a
 * mutex; a task that calls tslm_parallel_for again runs that inner loop inline (no deadlock).
 * Each Node process that loads the addon has its own pool. Workers are detached and are simply
 * left asleep at process exit.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "tslm.h"

#define MAX_THREADS 256
/* How long an idle worker (and a waiting caller) spins before blocking. Kernel calls during a
 * training step arrive every few microseconds to a few hundred; 200 us covers those gaps. */
#define SPIN_NS 200000L
/* After this long, the spinning thread also yields its core on each check: on a machine with more
 * runnable threads than cores (other processes, or TSLM_THREADS above the core count) the thread
 * we wait for may be waiting for exactly this core. */
#define YIELD_AFTER_NS 20000L

static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER; /* one job at a time per process */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;        /* guards sleeping and check-out */
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;     /* workers wait here for a job */
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;     /* the caller waits here for check-out */

static atomic_int want_threads = 0; /* 0 = not initialised yet */
static int nworkers = 0;            /* spawned workers (grows only); written under call_lock */
static atomic_uint gen = 0;         /* job generation */
static atomic_int sleepers = 0;     /* workers blocked in cond_wait */
static atomic_int next_task = 0;
/* (generation << 32) | CLOSED | number of workers inside the job */
static _Atomic uint64_t job_state = 0;
#define JOB_CLOSED (1ull << 31)
#define JOB_ACTIVE 0x7FFFFFFFull

/* The current job; written by the caller only while no worker can be reading it. */
static tslm_task_fn job_fn;
static void *job_ctx;
static int job_ntasks;
static int job_limit; /* workers with id < job_limit take tasks */

static unsigned start_gen[MAX_THREADS]; /* gen at each worker's creation (see ensure_workers) */

static _Thread_local int in_pool = 0; /* nonzero on workers and on a caller during a job */
static _Thread_local int worker_index = 0; /* 0 on callers, 1 + worker id on workers */

int tslm_worker_id(void) { return worker_index; }

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static int default_threads(void) {
  const char *env = getenv("TSLM_THREADS");
  if (env && *env) {
    char *end;
    long n = strtol(env, &end, 10);
    if (*end == 0 && n >= 1) return n > MAX_THREADS ? MAX_THREADS : (int)n;
    fprintf(stderr, "tslm: ignoring TSLM_THREADS=%s (expected a positive integer)\n", env);
  }
  /* Prefer the affinity mask (containers, taskset) over the machine's CPU count. */
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n >= 1) return n > MAX_THREADS ? MAX_THREADS : n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  return n > MAX_THREADS ? MAX_THREADS : (int)n;
}

int tslm_num_threads(void) {
  int n = atomic_load(&want_threads);
  if (n == 0) {
    n = default_threads();
    int zero = 0;
    if (!atomic_compare_exchange_strong(&want_threads, &zero, n)) n = atomic_load(&want_threads);
  }
  return n;
}

void tslm_set_num_threads(int n) {
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  atomic_store(&want_threads, n);
}

static void run_tasks(int limit_ok) {
  if (!limit_ok) return;
  const int ntasks = job_ntasks;
  tslm_task_fn fn = job_fn;
  void *ctx = job_ctx;
  for (;;) {
    int t = atomic_fetch_add(&next_task, 1);
    if (t >= ntasks) break;
    fn(ctx, t, ntasks);
  }
}

static void *worker_main(void *arg) {
  const int id = (int)(intptr_t)arg;
  in_pool = 1;
  worker_index = id + 1;
  /* Not atomic_load(&gen): the thread may first run after the job that spawned it was published,
   * and may still join it while it is open. */
  unsigned seen = start_gen[id];
  for (;;) {
    /* Wait for a new generation: spin for SPIN_NS, then block. */
    if (atomic_load(&gen) == seen) {
      long t0 = now_ns();
      int i = 0;
      while (atomic_load(&gen) == seen) {
        cpu_relax();
        if ((++i & 255) == 0) {
          const long dt = now_ns() - t0;
          if (dt > SPIN_NS) break;
          if (dt > YIELD_AFTER_NS) sched_yield();
        }
      }
      if (atomic_load(&gen) == seen) {
        pthread_mutex_lock(&mu);
        atomic_fetch_add(&sleepers, 1);
        while (atomic_load(&gen) == seen) pthread_cond_wait(&work_cv, &mu);
        atomic_fetch_sub(&sleepers, 1);
        pthread_mutex_unlock(&mu);
      }
    }
    const unsigned g = atomic_load(&gen);
    seen = g;
    /* Join the job if it is still the open job of generation g. */
    uint64_t st = atomic_load(&job_state);
    int joined = 0;
    while ((unsigned)(st >> 32) == g && !(st & JOB_CLOSED)) {
      if (atomic_compare_exchange_weak(&job_state, &st, st + 1)) {
        joined = 1;
        break;
      }
    }
    if (!joined) continue;
    run_tasks(id < job_limit);
    const uint64_t after = atomic_fetch_sub(&job_state, 1) - 1;
    if ((after & JOB_CLOSED) && (after & JOB_ACTIVE) == 0) {
      pthread_mutex_lock(&mu);
      pthread_cond_signal(&done_cv);
      pthread_mutex_unlock(&mu);
    }
  }
  return NULL;
}

/* Spawns workers until there are `want`; returns how many exist. Called under call_lock. */
static int ensure_workers(int want) {
  if (want > MAX_THREADS - 1) want = MAX_THREADS - 1;
  while (nworkers < want) {
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The generation before the job about to be published, so that the new thread can still join
     * that job if it starts in time (it reads no other shared state before joining). */
    start_gen[nworkers] = atomic_load(&gen);
    int rc = pthread_create(&th, &attr, worker_main, (void *)(intptr_t)nworkers);
    pthread_attr_destroy(&attr);
    if (rc != 0) break; /* run with the workers we have */
    nworkers++;
  }
  return nworkers;
}

void tslm_parallel_for(int ntasks, tslm_task_fn fn, void *ctx) {
  if (ntasks <= 0) return;
  const int threads = tslm_num_threads();
  if (ntasks == 1 || threads == 1 || in_pool) {
    for (int t = 0; t < ntasks; t++) fn(ctx, t, ntasks);
    return;
  }
  pthread_mutex_lock(&call_lock);
  int have = ensure_workers(threads - 1);
  if (have == 0) {
    pthread_mutex_unlock(&call_lock);
    for (int t = 0; t < ntasks; t++) fn(ctx, t, ntasks);
    return;
  }
  /* Publish the job. No worker is inside the previous one (see the wait below). */
  job_fn = fn;
  job_ctx = ctx;
  job_ntasks = ntasks;
  job_limit = threads - 1;
  atomic_store(&next_task, 0);
  const unsigned g = atomic_load(&gen) + 1;
  atomic_store(&job_state, (uint64_t)g << 32); /* open, nobody inside yet */
  atomic_store(&gen, g); /* seq_cst: pairs with the sleepers check in worker_main */
  if (atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&mu);
    pthread_cond_broadcast(&work_cv);
    pthread_mutex_unlock(&mu);
  }
  in_pool = 1;
  run_tasks(1);
  in_pool = 0;
  /* Close the job (no one may join any more) and wait for the workers inside to finish their
   * tasks: spin briefly, yielding after a while, then block. */
  uint64_t st = atomic_fetch_or(&job_state, JOB_CLOSED) | JOB_CLOSED;
  const long t0 = now_ns();
  int i = 0;
  while ((st & JOB_ACTIVE) != 0) {
    cpu_relax();
    if ((++i & 255) == 0) {
      const long dt = now_ns() - t0;
      if (dt > SPIN_NS) {
        pthread_mutex_lock(&mu);
        while ((atomic_load(&job_state) & JOB_ACTIVE) != 0) pthread_cond_wait(&done_cv, &mu);
        pthread_mutex_unlock(&mu);
        break;
      }
      if (dt > YIELD_AFTER_NS) sched_yield();
    }
    st = atomic_load(&job_state);
  }
  pthread_mutex_unlock(&call_lock);
}
