/* A folio render process: takes one job at a time from the dispatch stream and
 * renders it into S3. This file holds the process: its state (struct rp),
 * SIGTERM and the grace period, set-up and tear-down, and the read loop.
 *
 * Threads. The main thread runs the read loop and each job (job.c). It is
 * the producer of every S3 upload (folio_s3_upload_write may block for
 * backpressure, which is why it must not be the loop thread). A loop thread
 * runs folio_loop_run() for the Redis clients and the S3 client; the main
 * and heartbeat threads reach it through rcall (rcall.c). During a job a
 * heartbeat thread runs (heartbeat.c). Ownership: struct rp lives on
 * worker_render_main's stack; the loop thread owns the clients (they
 * are destroyed on it, by stop_loop); each PostgreSQL connection belongs to
 * one thread (db: main, hb_db: heartbeat). */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folio/clock.h"
#include "folio/dispatch.h"

#include "budget.h"
#include "render_int.h"

static volatile sig_atomic_t g_term;       /* SIGTERM seen */
static volatile int64_t g_term_deadline_ns; /* when running work is handed back */
static int g_grace_ms;

static void on_term(int sig) {
  (void)sig;
  if (g_term) return;
  struct timespec ts; /* clock_gettime is async-signal-safe */
  clock_gettime(CLOCK_MONOTONIC, &ts);
  g_term_deadline_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (int64_t)g_grace_ms * 1000000;
  g_term = 1;
}

bool worker_grace_over(void) {
  if (!g_term) return false;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec > g_term_deadline_ns;
}

/* pthread_create with SIGTERM/SIGINT blocked in the new thread, so only the
 * main thread takes them. */
int worker_spawn_quiet(pthread_t *t, void *(*fn)(void *), void *arg) {
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigaddset(&term, SIGINT);
  pthread_sigmask(SIG_BLOCK, &term, &old_mask);
  int rc = pthread_create(t, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  return rc;
}

void worker_log_job(enum folio_log_level lv, const char *msg, const char *job, int attempt,
                    const char *key, const char *val) {
  struct folio_logline l;
  folio_log_begin(&l, lv, msg);
  folio_log_int(&l, "pid", getpid());
  if (job) folio_log_str(&l, "job_id", job);
  if (attempt > 0) folio_log_int(&l, "attempt", attempt);
  if (key) folio_log_str(&l, key, val);
  folio_log_end(&l);
}
/* ---- PostgreSQL ------------------------------------------------------------- */

int worker_db_connect(struct rp *rp, struct folio_pg_conn **c, const char *app) {
  if (*c && folio_pg_conn_ok(*c)) return 0;
  struct folio_pg_diag d;
  if (*c) {
    if (folio_pg_conn_reset(*c, &d) == 0) return 0;
  } else {
    struct folio_pg_conn_config pc = {.conninfo = rp->cfg->database_url, .application_name = app};
    folio_jobs_conn_config(&pc);
    if (folio_pg_conn_connect(&pc, c, &d) == 0) return 0;
  }
  worker_log_job(FOLIO_LOG_WARN, "database unavailable", NULL, 0, "error", d.msg);
  return FOLIO_PG_ECONNECT;
}

/* ---- set-up and the main loop --------------------------------------------------- */

static void *loop_main(void *arg) {
  folio_loop_run(arg);
  return NULL;
}

struct bucket_wait {
  struct sync s;
  int status;
  char err[320];
};
static void bucket_done(void *arg, const struct folio_s3_result *r) {
  struct bucket_wait *b = arg;
  b->status = r->status;
  snprintf(b->err, sizeof b->err, "%s %s %s", folio_s3_strerror(r->status), r->error_code,
           r->error_message);
  worker_sync_signal(&b->s);
}

static void stop_loop(struct folio_loop *loop, void *arg) {
  struct rp *rp = arg;
  folio_s3_client_destroy(rp->s3);
  folio_redis_destroy(rp->rd_block);
  folio_redis_destroy(rp->rd);
  folio_redis_destroy(rp->rd_sub);
  folio_loop_stop(loop);
}

int worker_render_main(const struct worker_config *cfg) {
  g_grace_ms = cfg->shutdown_grace_ms;
  /* Part buffers (8 MiB) and PNG pages are big, short-lived allocations: keep
   * them on mmap so a free returns the memory at once. glibc's default raises
   * the threshold after the first such free, and the heap then keeps the peak
   * (measured: 80 MiB instead of 42 MiB peak RSS for a 99 MiB artifact). */
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  /* SIGTERM is taken by the main thread only (SA_RESTART): the loop and
   * heartbeat threads start with it blocked, so epoll_wait and libpq are never
   * interrupted. */
  struct sigaction sa = {.sa_handler = on_term, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (sodium_init() < 0) return FOLIO_WORKER_EXIT_FATAL;
  { /* limits from FOLIO_RENDER_* / FOLIO_LAYOUT_*, the memory ceiling (budget.h) */
    char berr[256];
    if (worker_budget_init(berr, sizeof berr)) {
      worker_log_job(FOLIO_LOG_ERROR, "bad render budget configuration", NULL, 0, "error", berr);
      return FOLIO_WORKER_EXIT_FATAL;
    }
  }

  struct rp rp = {.cfg = cfg};
  char host[64] = "worker";
  if (!cfg->worker_name) gethostname(host, sizeof host - 1);
  snprintf(rp.consumer, sizeof rp.consumer, "%s-%d", cfg->worker_name ? cfg->worker_name : host,
           cfg->child_slot);
  rp.loop = folio_loop_create();
  if (!rp.loop) return 1;
  worker_renderer_init(&rp); /* the render cache's renderer fingerprint */
  char err[320];
  struct folio_redis_config rc = {.url = cfg->redis_url, .backoff_max_ms = 1000};
  if (folio_redis_create(rp.loop, &rc, &rp.rd_block, err, sizeof err) ||
      folio_redis_create(rp.loop, &rc, &rp.rd, err, sizeof err) ||
      folio_redis_create(rp.loop, &rc, &rp.rd_sub, err, sizeof err)) {
    worker_log_job(FOLIO_LOG_ERROR, "bad Redis configuration", NULL, 0, "error", err);
    return FOLIO_WORKER_EXIT_FATAL;
  }
  rp.s3 = folio_s3_client_create(&cfg->s3, rp.loop, err, sizeof err);
  if (!rp.s3) {
    worker_log_job(FOLIO_LOG_ERROR, "bad S3 configuration", NULL, 0, "error", err);
    return FOLIO_WORKER_EXIT_FATAL;
  }
  if (worker_spawn_quiet(&rp.loop_thread, loop_main, rp.loop)) return 1;

  struct bucket_wait bw;
  worker_sync_init(&bw.s);
  if (folio_s3_ensure_bucket(rp.s3, bucket_done, &bw) == 0) {
    worker_sync_wait(&bw.s);
    if (bw.status)
      worker_log_job(FOLIO_LOG_WARN, "S3 bucket check failed (uploads will retry)", NULL, 0, "error",
              bw.err);
  }
  worker_sync_fini(&bw.s);
  struct rcall g = {.kind = R_GROUP};
  if (worker_rcall(&rp, &g) != 0) /* an existing group is success */
    worker_log_job(FOLIO_LOG_WARN, "creating the consumer group failed (retried when reading)", NULL, 0,
            "error", g.err[0] ? g.err : folio_redis_strerror(g.status));

  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_INFO, "render process ready");
  folio_log_str(&l, "consumer", rp.consumer);
  folio_log_int(&l, "pid", getpid());
  folio_log_end(&l);

  int redis_failures = 0;
  while (!g_term) {
    struct rcall c = {.kind = R_READ};
    int64_t now = folio_clock_mono_ns();
    /* re-deliveries first: entries left by dead or slow consumers, and ours
     * after a transient failure */
    if (now - rp.last_reclaim_ns > (int64_t)cfg->heartbeat_ms * 1000000) {
      c.kind = R_RECLAIM;
      rp.last_reclaim_ns = now;
    }
    int st = worker_rcall(&rp, &c);
    if (st == 0 && c.n == 0 && c.kind == R_RECLAIM) {
      c.kind = R_READ;
      st = worker_rcall(&rp, &c);
    }
    if (st != 0) {
      if (folio_dispatch_no_group(st, c.err)) { /* the stream was lost (FLUSHALL) */
        struct rcall gc = {.kind = R_GROUP};
        worker_rcall(&rp, &gc);
      }
      redis_failures++;
      if (redis_failures == 1 || redis_failures % 20 == 0)
        worker_log_job(FOLIO_LOG_WARN, "reading the dispatch stream failed", NULL, 0, "error",
                c.err[0] ? c.err : folio_redis_strerror(st));
      usleep((useconds_t)worker_retry_ms(redis_failures, 50, 2000) * 1000);
      continue;
    }
    redis_failures = 0;
    if (c.n == 0) continue;
    worker_run_job(&rp, c.entry_id, c.job_id);
  }
  worker_log_job(FOLIO_LOG_INFO, "render process stopping", NULL, 0, "consumer", rp.consumer);
  folio_loop_post(rp.loop, stop_loop, &rp);
  pthread_join(rp.loop_thread, NULL);
  folio_loop_destroy(rp.loop);
  folio_pg_conn_close(rp.db);
  folio_pg_conn_close(rp.hb_db);
  worker_renderer_fini(&rp);
  return 0;
}
