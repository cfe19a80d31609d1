/* The whole pipeline as deployed, for the tests of issue 4 §7 that need every
 * process at once: N folio-server processes (own loopback ports, one
 * PostgreSQL / Redis / RGW from scripts/stack.sh), M folio-worker supervisors
 * (each with its render processes), and concurrent callers using the C client
 * library (client/include/folio/client.h). The checks read PostgreSQL
 * directly (libpq) and S3.
 *
 * One test program includes this once (its functions are static); the
 * program's state is the file-scope `pl` below. Every process started here
 * dies with the test (PDEATHSIG) and is stopped by pipeline_stop_all(), also
 * at exit (atexit), so a failed CHECK leaves nothing behind.
 *
 * Exactly once, as checked by pipeline_check_exactly_once():
 *   - every accepted job is SUCCEEDED, with its PDF artifact in S3;
 *   - one 'succeeded' event per job, one 'started' event per attempt and as
 *     many attempts as 'started' events (no attempt rendered twice);
 *   - no job QUEUED or RUNNING, no entry left pending in the stream. */
#ifndef FOLIO_TEST_PIPELINE_H
#define FOLIO_TEST_PIPELINE_H

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/client.h"
#include "folio/clock.h"
#include "folio/jobs.h"
#include "folio/s3.h"
#include "outage.h"
#include "pgtest.h"
#include "proc.h"

#define PL_MAX_PROCS 4
#define PL_TENANTS 2

static struct {
  const char *server_bin, *worker_bin, *stack_dir;
  bool passed; /* set by pipeline_done(); otherwise the logs are shown at exit */
  pid_t server[PL_MAX_PROCS], worker[PL_MAX_PROCS];
  int nservers, nworkers;
  char addr[PL_MAX_PROCS][64];
  char key[PL_TENANTS][128]; /* the API key of tenant t ("acme", "beta") */
  struct folio_pg_conn *db;
  struct folio_s3_config s3;
} pl;

static const char *const PL_TENANT_NAMES[PL_TENANTS] = {"acme", "beta"};

static double pl_now_s(void) { return (double)folio_clock_mono_ns() / 1e9; }

/* ---- processes ------------------------------------------------------------- */

/* At exit: kills whatever still runs; after a failure, shows the end of every
 * server and worker log (the stack dir is removed when the test ends). */
static void pl_at_exit(void) {
  for (int i = 0; i < PL_MAX_PROCS; i++) {
    proc_kill(&pl.worker[i]);
    proc_kill(&pl.server[i]);
  }
  if (pl.passed) return;
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "for f in '%s'/server-*.log '%s'/worker-*.log; do [ -f \"$f\" ] || continue; "
           "echo \"--- last lines of $f\"; tail -n 25 \"$f\"; done >&2",
           pl.stack_dir, pl.stack_dir);
  if (system(cmd) != 0) fprintf(stderr, "(could not show the logs)\n");
}

/* The end of main: the test passed. */
static int pipeline_done(void) {
  folio_pg_conn_close(pl.db);
  pl.db = NULL;
  pl.passed = true;
  return check_done();
}

/* argv: TEST folio-server folio-worker. Migrates, creates one key per tenant,
 * connects to PostgreSQL. */
static void pipeline_setup(int argc, char **argv) {
  CHECK_MSG(argc == 3, "usage: %s PATH/TO/folio-server PATH/TO/folio-worker", argv[0]);
  pl.server_bin = argv[1];
  pl.worker_bin = argv[2];
  pl.stack_dir = getenv("FOLIO_STACK_DIR");
  CHECK_MSG(pl.stack_dir && getenv("FOLIO_REDIS_URL") && getenv("FOLIO_S3_ENDPOINT"),
            "run me under scripts/stack.sh run pg,redis,s3");
  CHECK(sodium_init() >= 0);
  atexit(pl_at_exit);
  setenv("FOLIO_API_KEY_PEPPER", "pipeline-pepper-0123456789abcdef", 1);
  char cmd[1024], line[256];
  snprintf(cmd, sizeof cmd, "'%s' migrate 2>&1", pl.server_bin);
  int st = proc_run_line(cmd, line, sizeof line);
  CHECK_MSG(st == 0, "migrate: status %d: %s", st, line);
  for (int t = 0; t < PL_TENANTS; t++) {
    proc_apikey_create(pl.server_bin, PL_TENANT_NAMES[t], pl.key[t], sizeof pl.key[t]);
    /* bulk tenants: these tests drive the pipeline at full speed, so the
     * per-server submit rate (docs/security.md) is raised as an operator
     * would for a batch backend; quotas have their own tests. */
    proc_tenant_set(pl.server_bin, PL_TENANT_NAMES[t], "--submit-rate 100000 --submit-burst 100000");
  }
  char err[256];
  CHECK_MSG(folio_s3_config_from_env(&pl.s3, err, sizeof err) == 0, "%s", err);
  pl.db = pgtest_jobs();
}

/* A client of server i with tenant t's key. */
static struct folio_client *pl_client(int server, int tenant) {
  struct folio_client_config cfg = {.addr = pl.addr[server], .api_key = pl.key[tenant]};
  struct folio_client *c;
  struct folio_client_error e;
  TCHECK(folio_client_connect(&cfg, &c, &e) == 0, "client: %s", e.message);
  return c;
}

/* Ready = answers GetStatus of a job that does not exist with NOT_FOUND
 * (authentication and the database are up, not only the port). */
static void pl_wait_ready(int server) {
  struct folio_client *c = pl_client(server, 0);
  char id[FOLIO_UUID_STR_LEN + 1];
  folio_uuid7(id);
  struct folio_client_error e = {0};
  for (int i = 0; i < 300; i++) {
    Folio__V1__Job *j = NULL;
    if (folio_client_status(c, id, 0, &j, &e) != 0 && e.code == GRPC_STATUS_NOT_FOUND) break;
    folio_client_free(j);
    proc_sleep_ms(100);
  }
  folio_client_close(c);
  CHECK_MSG(e.code == GRPC_STATUS_NOT_FOUND, "folio-server %d not ready: %s %s", server,
            folio_client_status_name(e.code), e.message);
}

static void pipeline_start_servers(int n) {
  CHECK(n >= 1 && n <= PL_MAX_PROCS);
  pl.nservers = n;
  for (int i = 0; i < n; i++) {
    char log[600];
    snprintf(log, sizeof log, "%s/server-%d.log", pl.stack_dir, i);
    const char *args[] = {pl.server_bin, NULL};
    /* Each server binds port 0 and logs the port it got (info level). */
    const char *env[] = {"FOLIO_LOG_LEVEL=info", NULL};
    pl.server[i] = proc_spawn_listening(args, env, log, SIGKILL, 30000, pl.addr[i],
                                        sizeof pl.addr[i]);
  }
  for (int i = 0; i < n; i++) pl_wait_ready(i);
}

/* n supervisors with `procs` render processes each; distinct consumer names. */
static void pipeline_start_workers(int n, int procs) {
  CHECK(n >= 1 && n <= PL_MAX_PROCS);
  pl.nworkers = n;
  for (int i = 0; i < n; i++) {
    char name[64], workers[64], log[600];
    snprintf(name, sizeof name, "FOLIO_WORKER_NAME=pipeline-w%d", i);
    snprintf(workers, sizeof workers, "FOLIO_WORKERS=%d", procs);
    snprintf(log, sizeof log, "%s/worker-%d.log", pl.stack_dir, i);
    const char *args[] = {pl.worker_bin, NULL};
    const char *env[] = {name, workers, "FOLIO_LOG_LEVEL=info", NULL};
    pl.worker[i] = proc_spawn(args, env, log, SIGTERM);
  }
}

/* SIGTERM everything: workers first (they finish their jobs), then servers;
 * each must exit 0. */
static void pipeline_stop_all(void) {
  for (int i = 0; i < pl.nworkers; i++) {
    int st = proc_stop(&pl.worker[i], 60000);
    CHECK_MSG(st == 0, "folio-worker %d exited %d", i, st);
  }
  for (int i = 0; i < pl.nservers; i++) {
    int st = proc_stop(&pl.server[i], 30000);
    CHECK_MSG(st == 0, "folio-server %d exited %d", i, st);
  }
}

/* ---- callers ------------------------------------------------------------------ */

/* One submission as the caller saw it. */
struct pl_sub {
  char key[64]; /* idempotency key */
  char job[FOLIO_UUID_STR_LEN + 1];
  int tenant;
  bool dedup;
  grpc_status_code code;
  char msg[160];
};

/* A caller: one client (own channel) on server `server` submitting the keys
 * it is given, in order: the first `burst` at once, then pausing pace_ms
 * after each. */
struct pl_caller {
  int server, tenant;
  struct pl_sub *subs; /* borrowed; filled in */
  size_t nsubs;
  size_t burst;
  int pace_ms;
  atomic_int *submitted; /* shared progress counter (may be NULL) */
  pthread_t thread;
};

/* One page: a rectangle and a line of text naming the key. */
static size_t pl_layout(char *buf, size_t cap, const char *key) {
  int n = snprintf(buf, cap,
                   "{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"rect\",\"x\":20,\"y\":20,"
                   "\"w\":200,\"h\":100,\"fill\":\"#3366cc\"},{\"type\":\"text\",\"x\":40,"
                   "\"y\":160,\"w\":400,\"h\":40,\"text\":\"pipeline %s\"}]}]}",
                   key);
  TCHECK(n > 0 && (size_t)n < cap, "layout too long");
  return (size_t)n;
}

static void pl_submit(struct folio_client *c, struct pl_sub *s) {
  char layout[512];
  size_t len = pl_layout(layout, sizeof layout, s->key);
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  req.layout_json.data = (uint8_t *)layout;
  req.layout_json.len = len;
  Folio__V1__Format pdf = FOLIO__V1__FORMAT__FORMAT_PDF;
  req.formats = &pdf;
  req.n_formats = 1;
  req.idempotency_key = s->key;
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct folio_client_error e = {0};
  if (folio_client_submit(c, &req, &resp, &e) == 0) {
    s->code = GRPC_STATUS_OK;
    snprintf(s->job, sizeof s->job, "%s", resp->job_id);
    s->dedup = resp->deduplicated;
    folio_client_free(resp);
  } else {
    s->code = e.code;
    snprintf(s->msg, sizeof s->msg, "%.150s", e.message);
  }
}

static void *pl_caller_main(void *arg) {
  struct pl_caller *k = arg;
  struct folio_client *c = pl_client(k->server, k->tenant);
  for (size_t i = 0; i < k->nsubs; i++) {
    k->subs[i].tenant = k->tenant;
    pl_submit(c, &k->subs[i]);
    if (k->submitted) atomic_fetch_add(k->submitted, 1);
    if (k->pace_ms && i + 1 >= k->burst) proc_sleep_ms(k->pace_ms);
  }
  folio_client_close(c);
  return NULL;
}

static void pl_caller_start(struct pl_caller *k) {
  CHECK(pthread_create(&k->thread, NULL, pl_caller_main, k) == 0);
}

/* Every submission was accepted; all with one key got one job id. Returns
 * the number of distinct jobs (submissions with dedup = false), checking that
 * it equals the number of distinct keys. */
static size_t pipeline_check_submissions(const struct pl_sub *subs, size_t n, size_t distinct_keys) {
  size_t fresh = 0;
  for (size_t i = 0; i < n; i++) {
    CHECK_MSG(subs[i].code == GRPC_STATUS_OK, "submission %zu (key %s): %s %s", i, subs[i].key,
              folio_client_status_name(subs[i].code), subs[i].msg);
    fresh += !subs[i].dedup;
    for (size_t k = 0; k < i; k++)
      if (!strcmp(subs[k].key, subs[i].key) && subs[k].tenant == subs[i].tenant)
        CHECK_MSG(!strcmp(subs[k].job, subs[i].job), "key %s: jobs %s and %s", subs[i].key,
                  subs[k].job, subs[i].job);
  }
  CHECK_MSG(fresh == distinct_keys, "%zu jobs created for %zu distinct keys", fresh, distinct_keys);
  return fresh;
}

/* ---- checks (PostgreSQL, S3) ----------------------------------------------------- */

static long pl_count(const char *sql) { return atol(pgtest_value(pl.db, sql)); }

/* Waits until no job is QUEUED or RUNNING (bounded: a hang fails the test,
 * however long the run took is only printed). Prints progress. */
static void pipeline_wait_settled(int max_s) {
  double t0 = pl_now_s(), last = t0;
  for (;;) {
    long open = pl_count("SELECT count(*) FROM jobs WHERE state IN ('QUEUED', 'RUNNING')");
    if (open == 0) return;
    double now = pl_now_s();
    if (now - last >= 10) {
      printf("  ... %ld jobs not finished yet, %ld SUCCEEDED\n", open,
             pl_count("SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'"));
      fflush(stdout);
      last = now;
    }
    CHECK_MSG(now - t0 < max_s, "%ld jobs still QUEUED/RUNNING after %d s", open, max_s);
    proc_sleep_ms(200);
  }
}

/* The exactly-once checks over every job in the database; `jobs` is how many
 * there must be. */
static void pipeline_check_exactly_once(long jobs) {
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM jobs"), jobs);
  const char *bad = pgtest_value(
      pl.db, "SELECT coalesce(string_agg(id::text || ' ' || state || ' ' || "
             "coalesce(error_code, '') || ' ' || coalesce(error_message, ''), '; '), '') "
             "FROM (SELECT * FROM jobs WHERE state <> 'SUCCEEDED' LIMIT 5) j");
  CHECK_MSG(!bad[0], "jobs not SUCCEEDED: %s", bad);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'"), jobs);
  /* one 'succeeded' event per job */
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM job_events WHERE kind = 'succeeded'"), jobs);
  CHECK_EQ_INT(pl_count("SELECT count(DISTINCT job_id) FROM job_events WHERE kind = 'succeeded'"),
               jobs);
  /* no attempt started twice, and every attempt counted started once */
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM (SELECT 1 FROM job_events WHERE kind = 'started' "
                        "GROUP BY job_id, attempt HAVING count(*) > 1) d"),
               0);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM jobs j WHERE j.attempts <> (SELECT count(*) FROM "
                        "job_events e WHERE e.job_id = j.id AND e.kind = 'started')"),
               0);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM job_events WHERE kind = 'submitted'"), jobs);
  /* one artifact each: the PDF */
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM artifacts WHERE name = 'document.pdf'"), jobs);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM artifacts"), jobs);
}

/* Every artifact row is an object in S3 of the recorded size; every
 * `verify_every`-th one is fetched and its SHA-256 compared. */
static void pipeline_check_objects(int verify_every) {
  PGresult *r;
  struct folio_pg_diag d;
  CHECK_MSG(folio_pg_conn_command(pl.db, "SELECT object_key, size_bytes, sha256_hex FROM artifacts "
                                         "ORDER BY job_id",
                                  &r, &d) == 0,
            "%s", d.msg);
  int n = PQntuples(r), fetched = 0;
  for (int i = 0; i < n; i++) {
    const char *key = PQgetvalue(r, i, 0);
    uint64_t size = strtoull(PQgetvalue(r, i, 1), NULL, 10);
    struct folio_s3_sync_result res;
    if (i % verify_every) {
      folio_s3_sync_head(&pl.s3, key, &res);
      CHECK_MSG(res.http_status == 200, "HEAD %s: %ld %s", key, res.http_status, res.error_code);
      CHECK_EQ_INT(res.content_length, size);
      continue;
    }
    void *body = NULL;
    size_t len = 0;
    CHECK_MSG(folio_s3_sync_get(&pl.s3, key, NULL, &body, &len, &res) == 0, "GET %s: %ld %s", key,
              res.http_status, res.error_code);
    CHECK_EQ_INT(len, size);
    CHECK_MSG(len > 4 && !memcmp(body, "%PDF", 4), "%s is not a PDF", key);
    unsigned char h[32];
    char hex[65];
    crypto_hash_sha256(h, body, len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    CHECK_EQ_STR(hex, PQgetvalue(r, i, 2));
    free(body);
    fetched++;
  }
  PQclear(r);
  printf("  S3: %d objects present with their recorded sizes, %d fetched and SHA-256 verified\n", n,
         fetched);
}

/* What the callers see: GetStatus of every distinct job through the servers
 * (alternating) says SUCCEEDED with one artifact. */
static void pipeline_check_status(const struct pl_sub *subs, size_t n) {
  struct folio_client *c[PL_MAX_PROCS][PL_TENANTS];
  for (int s = 0; s < pl.nservers; s++)
    for (int t = 0; t < PL_TENANTS; t++) c[s][t] = pl_client(s, t);
  size_t checked = 0;
  for (size_t i = 0; i < n; i++) {
    if (subs[i].dedup) continue;
    Folio__V1__Job *j = NULL;
    struct folio_client_error e;
    int rc = folio_client_status(c[i % (size_t)pl.nservers][subs[i].tenant], subs[i].job, 60, &j, &e);
    CHECK_MSG(rc == 0, "GetStatus %s: %s %s", subs[i].job, folio_client_status_name(e.code), e.message);
    CHECK_MSG(j->state == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED, "job %s is %d", subs[i].job,
              (int)j->state);
    CHECK_EQ_INT(j->n_artifacts, 1);
    folio_client_free(j);
    checked++;
  }
  for (int s = 0; s < pl.nservers; s++)
    for (int t = 0; t < PL_TENANTS; t++) folio_client_close(c[s][t]);
  printf("  GetStatus: %zu jobs SUCCEEDED with 1 artifact, as the callers see them\n", checked);
}

/* Every stream entry was acknowledged, eventually: a duplicate entry (a
 * re-dispatch) read while its job was RUNNING stays pending until XAUTOCLAIM
 * hands it out again after the visibility timeout (30 s by default), and is
 * then acked as finished. Bounded at 90 s. */
static void pipeline_wait_nothing_pending(void) {
  const char *p = "";
  for (int i = 0; i < 900; i++) {
    p = redis_cli("XPENDING '%s' '%s'", FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP);
    if (!strcmp(p, "0")) return;
    proc_sleep_ms(100);
  }
  CHECK_MSG(0, "entries still pending in the dispatch stream after 90 s: %s", p);
}

#endif
