/* SubmitLayout's database path, three ways, in one run against one
 * PostgreSQL with fsync on (run.sh):
 *   seq    one blocking connection, one commit per submission (baseline)
 *   conns  8 blocking connections in 8 threads, one commit per submission
 *   group  one folio_pg_async connection, 64 submissions in flight, every
 *          loop turn's submissions sharing one Sync = one commit
 * Prints submissions/s and the ratios to the baseline. Not a test. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "folio/clock.h"
#include "folio/jobs.h"
#include "folio/loop.h"
#include "folio/pg_async.h"

static const uint8_t LAYOUT[] = "{\"pages\":[{\"items\":[]}]}";
static const char *url;
static struct folio_job_submit sub = {.tenant = "bench", .layout = LAYOUT, .layout_len = sizeof LAYOUT - 1};

static struct folio_pg_conn *connect_jobs(void) {
  struct folio_pg_conn_config cfg = {.conninfo = url};
  folio_jobs_conn_config(&cfg);
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  if (folio_pg_conn_connect(&cfg, &c, &d) != 0) {
    fprintf(stderr, "connect: %s\n", d.msg);
    exit(1);
  }
  return c;
}

static void submit_n(struct folio_pg_conn *c, int n) {
  for (int i = 0; i < n; i++) {
    struct folio_job_submitted out;
    struct folio_pg_diag d;
    if (folio_jobs_submit(c, &sub, &out, &d) != 0) {
      fprintf(stderr, "submit: %s\n", d.msg);
      exit(1);
    }
  }
}

static double seq(int n) {
  struct folio_pg_conn *c = connect_jobs();
  int64_t t0 = folio_clock_mono_ns();
  submit_n(c, n);
  double s = (double)(folio_clock_mono_ns() - t0) / 1e9;
  folio_pg_conn_close(c);
  return n / s;
}

enum { THREADS = 8 };
static int per_thread;
static void *thread_main(void *arg) {
  submit_n(arg, per_thread);
  return NULL;
}

static double conns(int n) {
  struct folio_pg_conn *c[THREADS];
  pthread_t t[THREADS];
  per_thread = n / THREADS;
  for (int i = 0; i < THREADS; i++) c[i] = connect_jobs();
  int64_t t0 = folio_clock_mono_ns();
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, thread_main, c[i]);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  double s = (double)(folio_clock_mono_ns() - t0) / 1e9;
  for (int i = 0; i < THREADS; i++) folio_pg_conn_close(c[i]);
  return per_thread * THREADS / s;
}

static struct folio_pg_async *db;
static int sent, done, total;
static bool up;
static void on_state(struct folio_pg_async *a, bool ready, void *arg) { up = ready; }
static void on_done(int status, const struct folio_job_submitted *out,
                    const struct folio_pg_diag *d, void *arg);
static void send_one(void) {
  if (folio_jobs_submit_async(db, &sub, on_done, NULL) != 0) {
    fprintf(stderr, "submit_async refused\n");
    exit(1);
  }
  sent++;
}
static void on_done(int status, const struct folio_job_submitted *out,
                    const struct folio_pg_diag *d, void *arg) {
  if (status != 0) {
    fprintf(stderr, "async submit: %s\n", d->msg);
    exit(1);
  }
  done++;
  if (sent < total) send_one(); /* refill: lands in the next group */
}

static double group(struct folio_loop *loop, int n, double *per_sync) {
  struct folio_pg_async_config cfg = {.conn = {.conninfo = url}};
  folio_jobs_conn_config(&cfg.conn);
  struct folio_pg_diag d;
  if (folio_pg_async_create(&cfg, &db, &d) != 0 || folio_pg_async_attach(db, loop) != 0) exit(1);
  folio_pg_async_set_state_cb(db, on_state, NULL);
  while (!up) folio_loop_run_once(loop, 100);
  struct folio_pg_async_stats s0, s1;
  folio_pg_async_stats(db, &s0);
  total = n;
  sent = done = 0;
  int64_t t0 = folio_clock_mono_ns();
  for (int i = 0; i < 64 && sent < total; i++) send_one();
  while (done < total) folio_loop_run_once(loop, 100);
  double s = (double)(folio_clock_mono_ns() - t0) / 1e9;
  folio_pg_async_stats(db, &s1);
  *per_sync = (double)(s1.statements - s0.statements) / (double)(s1.syncs - s0.syncs);
  folio_pg_async_destroy(db);
  return n / s;
}

int main(int argc, char **argv) {
  url = getenv("FOLIO_DATABASE_URL");
  if (!url) {
    fprintf(stderr, "FOLIO_DATABASE_URL not set (use bench/jobs/run.sh)\n");
    return 2;
  }
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  struct folio_pg_conn_config plain = {.conninfo = url};
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  if (folio_pg_conn_connect(&plain, &c, &d) != 0 || folio_jobs_migrate(c, NULL, &d) != 0) {
    fprintf(stderr, "migrate: %s\n", d.msg);
    return 1;
  }
  folio_pg_conn_close(c);
  struct folio_loop *loop = folio_loop_create();
  double per_sync = 0;
  double a = seq(n), b = conns(n), g = group(loop, n, &per_sync);
  printf("submissions: %d each, fsync on\n", n);
  printf("seq   (1 conn, 1 commit each)     %8.0f /s   1.00x\n", a);
  printf("conns (%d conns, 1 commit each)    %8.0f /s   %.2fx\n", THREADS, b, b / a);
  printf("group (1 async conn, group commit) %8.0f /s   %.2fx   (%.1f submissions per commit)\n", g,
         g / a, per_sync);
  folio_loop_destroy(loop);
  return 0;
}
