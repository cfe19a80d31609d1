/* SubmitLayout's database path, in one run against one PostgreSQL with
 * fsync on (run.sh), with the layout file run.sh gives (bench/pipeline's
 * 47 KB catalogue layout):
 *
 * Steps, each measured alone (what one submission costs where):
 *   the server's decode pool: decode + validate, zstd pack (levels 1, 3);
 *   the worker: zstd unpack;
 *   PostgreSQL, one connection, synchronous_commit off for these rows only
 *   (so the figure is the statement's own work, not the flush): a bare
 *   INSERT of the row with the JSON pglz-compressed as before migration
 *   0008, the same with the zstd frame stored EXTERNAL, the 'submitted'
 *   event row alone, and folio's whole S_SUBMIT (tenant lock, row, trigger,
 *   event) before (plain + pglz) and after (zstd + EXTERNAL); WAL bytes per
 *   row from pg_current_wal_lsn().
 *
 * Then three ways of committing (fsync on, synchronous_commit on):
 *   seq    one blocking connection, one commit per submission (baseline)
 *   conns  8 blocking connections in 8 threads, one commit per submission
 *   group  one folio_pg_async connection, 64 submissions in flight, every
 *          loop turn's submissions sharing one Sync = one commit
 * Prints submissions/s and the ratios to the baseline. Not a test. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folio/clock.h"
#include "folio/jobs.h"
#include "folio/layout.h"
#include "folio/layout_store.h"
#include "folio/loop.h"
#include "folio/pg_async.h"
#include "folio/s3.h"

static const char *url;
static struct folio_job_submit sub = {.tenant = "bench"};

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

/* ---- steps ------------------------------------------------------------------ */

static uint8_t *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n + 1);
  if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) exit(1);
  b[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return b;
}

static double us_since(int64_t t0, int n) { return (double)(folio_clock_mono_ns() - t0) / 1e3 / n; }

/* This thread's CPU time: the machine is shared, wall time would charge
 * other processes' work to the step. */
static int64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static double cpu_us_since(int64_t t0, int n) { return (double)(cpu_ns() - t0) / 1e3 / n; }

static void cpu_steps(const uint8_t *json, size_t len) {
  enum { REPS = 300 };
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  int64_t t0 = cpu_ns();
  for (int i = 0; i < REPS; i++) {
    struct folio_layout_doc *doc;
    struct folio_layout_diag d = {0};
    if (folio_layout_decode((const char *)json, len, &lim, &doc, &d) != 0) {
      fprintf(stderr, "the layout does not decode\n");
      exit(1);
    }
    folio_layout_doc_free(doc);
  }
  printf("  decode + validate (server pool, worker)  %8.1f us\n", cpu_us_since(t0, REPS));
  size_t cap = folio_jobs_layout_pack_bound(len);
  uint8_t *buf = malloc(cap);
  struct folio_jobs_stored_layout st = {0};
  for (int level = 1; level <= 3; level += 2) {
    t0 = cpu_ns();
    for (int i = 0; i < REPS; i++) folio_jobs_layout_pack(json, len, level, buf, cap, &st, NULL);
    printf("  zstd -%d pack (server pool)              %8.1f us   %zu -> %zu bytes (%.2fx)\n",
           level, cpu_us_since(t0, REPS), len, st.len, (double)len / (double)st.len);
  }
  folio_jobs_layout_pack(json, len, 0, buf, cap, &st, NULL);
  struct folio_arena *a = folio_arena_create(0);
  t0 = cpu_ns();
  for (int i = 0; i < REPS; i++) {
    const uint8_t *out;
    size_t n;
    folio_arena_reset(a);
    folio_jobs_layout_unpack(st.data, st.len, st.codec, len, a, &out, &n, NULL);
  }
  printf("  zstd unpack (worker)                     %8.1f us\n", cpu_us_since(t0, REPS));
  folio_arena_destroy(a);
  free(buf);
}

/* The backend's CPU time (user + system), from /proc: PostgreSQL runs on
 * this machine (run.sh). Clock ticks, so only meaningful over many rows. */
static double backend_cpu_us(PGconn *pg) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", PQbackendPID(pg));
  FILE *f = fopen(path, "r");
  unsigned long long ut = 0, st = 0;
  if (f) {
    int rc = fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
    fclose(f);
    if (rc != 2) ut = st = 0;
  }
  return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static int64_t wal_lsn(PGconn *pg) {
  PGresult *r = PQexec(pg, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
  int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return v;
}

static void must(PGconn *pg, const char *sql) {
  PGresult *r = PQexec(pg, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "%s: %s\n", sql, PQerrorMessage(pg));
    exit(1);
  }
  PQclear(r);
}

/* Runs a one-parameter (binary bytea) SQL n times; prints us and WAL per row. */
static void sql_step(PGconn *pg, const char *what, const char *sql, const uint8_t *data,
                     size_t len, int n) {
  static int k;
  char name[16];
  snprintf(name, sizeof name, "step%d", k++);
  PGresult *r = PQprepare(pg, name, sql, 1, NULL);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    fprintf(stderr, "%s: %s\n", what, PQerrorMessage(pg));
    exit(1);
  }
  PQclear(r);
  const char *v[1] = {(const char *)data};
  int l[1] = {(int)len}, f[1] = {1};
  int64_t w0 = wal_lsn(pg), t0 = folio_clock_mono_ns();
  double c0 = backend_cpu_us(pg);
  for (int i = 0; i < n; i++) {
    r = PQexecPrepared(pg, name, 1, v, l, f, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
      fprintf(stderr, "%s: %s\n", what, PQerrorMessage(pg));
      exit(1);
    }
    PQclear(r);
  }
  double us = us_since(t0, n), cpu = (backend_cpu_us(pg) - c0) / n;
  printf("  %-40s %8.1f us   backend CPU %6.1f us   WAL %6lld B\n", what, us, cpu,
         (long long)((wal_lsn(pg) - w0) / n));
}

/* folio_jobs_submit n times on c (its own statement, S_SUBMIT). */
static void submit_step(struct folio_pg_conn *c, const char *what, int n) {
  PGconn *pg = folio_pg_conn_raw(c);
  int64_t w0 = wal_lsn(pg), t0 = folio_clock_mono_ns();
  double c0 = backend_cpu_us(pg);
  submit_n(c, n);
  double us = us_since(t0, n), cpu = (backend_cpu_us(pg) - c0) / n;
  printf("  %-40s %8.1f us   backend CPU %6.1f us   WAL %6lld B\n", what, us, cpu,
         (long long)((wal_lsn(pg) - w0) / n));
}

static void db_steps(const uint8_t *json, size_t len, int n) {
  struct folio_pg_conn *c = connect_jobs();
  PGconn *pg = folio_pg_conn_raw(c);
  must(pg, "SET synchronous_commit = off");
  must(pg, "CREATE TABLE IF NOT EXISTS steps_jobs (LIKE jobs INCLUDING ALL)");
  size_t cap = folio_jobs_layout_pack_bound(len);
  uint8_t *buf = malloc(cap);
  struct folio_jobs_stored_layout st;
  folio_jobs_layout_pack(json, len, 0, buf, cap, &st, NULL);
  static const char ins[] =
      "INSERT INTO steps_jobs (id, tenant, formats, layout) VALUES (gen_random_uuid(), 'bench', "
      "'{1}', $1::bytea)";
  must(pg, "ALTER TABLE steps_jobs ALTER COLUMN layout SET STORAGE EXTENDED");
  sql_step(pg, "bare INSERT, JSON pglz'd by PostgreSQL", ins, json, len, n);
  must(pg, "ALTER TABLE steps_jobs ALTER COLUMN layout SET STORAGE EXTERNAL");
  sql_step(pg, "bare INSERT, zstd frame EXTERNAL", ins, st.data, st.len, n);
  sql_step(pg, "bare INSERT, JSON EXTERNAL (no compression)", ins, json, len, n);
  /* folio's statement, before (plain JSON, pglz) and after (zstd, EXTERNAL) */
  sub.stored = (struct folio_jobs_stored_layout){json, len, FOLIO_JOBS_LAYOUT_PLAIN};
  must(pg, "ALTER TABLE jobs ALTER COLUMN layout SET STORAGE EXTENDED");
  submit_step(c, "S_SUBMIT before: JSON pglz'd", n);
  must(pg, "ALTER TABLE jobs ALTER COLUMN layout SET STORAGE EXTERNAL");
  sub.stored = st;
  submit_step(c, "S_SUBMIT after: zstd frame EXTERNAL", n);
  /* what the unfinished-jobs trigger (migration 0003) costs: measured with
   * it off for these rows only, then on again */
  must(pg, "ALTER TABLE jobs DISABLE TRIGGER jobs_count_unfinished");
  submit_step(c, "  (after, without the tenants trigger)", n);
  must(pg, "ALTER TABLE jobs ENABLE TRIGGER jobs_count_unfinished");
  sub.stored = (struct folio_jobs_stored_layout){0};
  static const char ev[] =
      "INSERT INTO job_events (job_id, kind, attempt) SELECT id, 'submitted', 0 FROM jobs"
      " WHERE id = (SELECT id FROM jobs LIMIT 1) AND $1::bytea IS NOT NULL";
  sql_step(pg, "the 'submitted' event row alone", ev, (const uint8_t *)"x", 1, n);
  must(pg, "DROP TABLE steps_jobs");
  folio_pg_conn_close(c);
  free(buf);
}

/* The alternative of storing the layout in S3 by digest: what a PUT of the
 * zstd frame costs before the commit could start. folio_s3_sync_put sets up
 * a client and connection per call, so this is an upper bound; a pooled
 * connection saves the connect (loopback: well under a millisecond). */
static void s3_step(const uint8_t *json, size_t len) {
  struct folio_s3_config cfg;
  char err[256];
  if (!getenv("FOLIO_S3_ENDPOINT") || folio_s3_config_from_env(&cfg, err, sizeof err) != 0) return;
  struct folio_s3_sync_result r;
  if (folio_s3_sync_ensure_bucket(&cfg, &r) != 0) return;
  size_t cap = folio_jobs_layout_pack_bound(len);
  uint8_t *buf = malloc(cap);
  struct folio_jobs_stored_layout st;
  folio_jobs_layout_pack(json, len, 0, buf, cap, &st, NULL);
  enum { PUTS = 100 };
  int64_t t0 = folio_clock_mono_ns();
  for (int i = 0; i < PUTS; i++) {
    char key[64];
    snprintf(key, sizeof key, "bench/layouts/%d", i);
    if (folio_s3_sync_put(&cfg, key, st.data, st.len, "application/zstd", &r) != 0) {
      fprintf(stderr, "s3 put: %ld %s\n", r.http_status, r.error_code);
      break;
    }
  }
  printf("  S3 PUT of the zstd frame (alternative)   %8.1f us   (wall, one at a time, fresh connection each)\n",
         us_since(t0, PUTS));
  free(buf);
}

int main(int argc, char **argv) {
  url = getenv("FOLIO_DATABASE_URL");
  if (!url || argc < 3) {
    fprintf(stderr, "usage: FOLIO_DATABASE_URL=... bench_submit N LAYOUT.json (use bench/jobs/run.sh)\n");
    return 2;
  }
  int n = atoi(argv[1]);
  size_t len;
  uint8_t *json = read_all(argv[2], &len);
  sub.layout = json;
  sub.layout_len = len;
  struct folio_pg_conn_config plain = {.conninfo = url};
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  if (folio_pg_conn_connect(&plain, &c, &d) != 0 || folio_jobs_migrate(c, NULL, &d) != 0) {
    fprintf(stderr, "migrate: %s\n", d.msg);
    return 1;
  }
  /* a bulk tenant: the benchmark measures the path, not the quota */
  must(folio_pg_conn_raw(c), "INSERT INTO tenants (name, max_unfinished_jobs) VALUES ('bench', 1000000000)");
  folio_pg_conn_close(c);
  printf("layout: %zu bytes\nper submission, step by step (CPU time of this thread; then PostgreSQL "
         "rows one at a time, wall time, synchronous_commit off):\n", len);
  cpu_steps(json, len);
  db_steps(json, len, n / 2 > 200 ? n / 2 : 200);
  s3_step(json, len);
  /* the server packs on its pool; the loops below get the packed form */
  size_t cap = folio_jobs_layout_pack_bound(len);
  uint8_t *packed = malloc(cap);
  folio_jobs_layout_pack(json, len, 0, packed, cap, &sub.stored, NULL);
  struct folio_loop *loop = folio_loop_create();
  double per_sync = 0;
  double a = seq(n), b = conns(n), g = group(loop, n, &per_sync);
  printf("commits: %d submissions each, fsync on, synchronous_commit on\n", n);
  printf("seq   (1 conn, 1 commit each)     %8.0f /s   1.00x\n", a);
  printf("conns (%d conns, 1 commit each)    %8.0f /s   %.2fx\n", THREADS, b, b / a);
  printf("group (1 async conn, group commit) %8.0f /s   %.2fx   (%.1f submissions per commit)\n", g,
         g / a, per_sync);
  folio_loop_destroy(loop);
  free(packed);
  free(json);
  return 0;
}
