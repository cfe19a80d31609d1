/* folio-worker end to end on real PostgreSQL, Redis and Ceph RGW (started by
 * scripts/stack.sh around this test). Jobs are submitted with lib/jobs and
 * dispatched with redis-cli XADD, as the server will do; the worker is the real
 * binary (argv[1]) run as a child process, always stopped at exit.
 *
 *  1. lifecycle: PDF + PNG pages + SLA → SUCCEEDED; every artifact is in S3
 *     with the size and SHA-256 recorded in PostgreSQL; events published.
 *  2. deterministic failures (text overflow, invalid layout) → FAILED at
 *     once, naming the item.
 *  3. SIGKILL of the render process running a slow job → the job still
 *     succeeds, once (one 'succeeded' event), and the pool survives.
 *  4. cancel of a running job (request + event, as CancelJob does) →
 *     CANCELED, its objects gone.
 *  5. a big artifact (an SLA of ~100 MiB): the render process's peak RSS.
 *  6. render timeout → the process is killed, retried, ATTEMPTS_EXHAUSTED.
 *  7. SIGTERM with a job running: it finishes, the worker exits 0.
 *  8. S3 (radosgw) stopped → transient failures, retried with backoff; the
 *     job succeeds once radosgw is back.
 *  9. SIGTERM with no grace period: the running job is handed back without
 *     counting an attempt (max_attempts = 1), and the next worker renders it.
 * 10. cancel by event: with a 20 s heartbeat, the published cancel event (not
 *     the fallback poll) stops the render; the job ends CANCELED, objects gone. */
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h" /* check.h first: testbuf.h uses CHECK */
#include "outage.h"
#include "proc.h"
#include "../../unit/render/testbuf.h"
#include "big_layout.h"
#include "procmem.h"
#include "folio/arena.h"
#include "folio/clock.h"
#include "folio/render.h"
#include "folio/s3.h"

static const char *worker_bin;
static pid_t worker_pid;
static char worker_log[512];
static struct folio_pg_conn *db;
static struct folio_s3_config s3;

static void sleep_ms(int ms) { proc_sleep_ms(ms); }

/* ---- the worker process ---------------------------------------------------- */

static void kill_worker(void) { proc_kill(&worker_pid); }

/* Starts folio-worker with extra NAME=VALUE settings (NULL-terminated). */
static void start_worker(const char *name, ...) {
  static int n;
  snprintf(worker_log, sizeof worker_log, "%s/worker-%d.log", getenv("FOLIO_STACK_DIR"), ++n);
  const char *env[16];
  size_t ne = 0;
  va_list ap;
  va_start(ap, name);
  for (const char *kv = name; kv && ne + 1 < sizeof env / sizeof *env; kv = va_arg(ap, const char *))
    env[ne++] = kv;
  va_end(ap);
  env[ne] = NULL;
  const char *argv[] = {worker_bin, NULL};
  worker_pid = proc_spawn(argv, env, worker_log, SIGTERM); /* never outlive the test */
}

/* SIGTERM and wait; returns the exit status. */
static int stop_worker(void) {
  int st = proc_stop(&worker_pid, 30000);
  CHECK_MSG(st >= 0, "the worker did not stop within 30 s of SIGTERM");
  return st;
}

/* The pid logged with "job claimed" for job (0 when not yet). */
static pid_t claimer_pid(const char *job) {
  FILE *f = fopen(worker_log, "r");
  if (!f) return 0;
  char line[4096];
  pid_t pid = 0;
  while (fgets(line, sizeof line, f)) {
    if (!strstr(line, "\"job claimed\"") || !strstr(line, job)) continue;
    const char *p = strstr(line, "\"pid\":");
    if (p) pid = (pid_t)atoi(p + 6);
  }
  fclose(f);
  return pid;
}

static int count_lines(const char *needle) {
  FILE *f = fopen(worker_log, "r");
  if (!f) return 0;
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
  fclose(f);
  return n;
}

/* ---- jobs ------------------------------------------------------------------- */

static void dispatch(const char *job) { redis_cli("XADD '%s' '*' job '%s'", FOLIO_JOBS_STREAM, job); }

/* Cancels a job as CancelJob does: the request in PostgreSQL, then the event
 * on the job's channel (server/jobs.c publishes the state after the cancel,
 * RUNNING for a running job, with progress 0). */
static void cancel_like_server(const char *job) {
  enum folio_job_state cst;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_jobs_cancel(db, "acme", job, &cst, &d), 0);
  CHECK_EQ_INT(cst, FOLIO_JOB_RUNNING);
  char ch[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(job, ch);
  CHECK(folio_jobs_event_format(msg, sizeof msg, job, cst, 0) > 0);
  redis_cli("PUBLISH '%s' '%s'", ch, msg);
}

static bool png_bleed_next; /* the next submit() asks for RenderOptions.png_include_bleed */

static void submit(const char *layout, const int *formats, size_t nformats, int dpi,
                   int max_attempts, char out[FOLIO_UUID_STR_LEN + 1], bool send) {
  struct folio_job_submit s = {.tenant = "acme",
                               .png_include_bleed = png_bleed_next,
                               .layout = (const uint8_t *)layout,
                               .layout_len = strlen(layout),
                               .formats = formats,
                               .nformats = nformats,
                               .png_dpi = dpi,
                               .max_attempts = max_attempts};
  struct folio_job_submitted r;
  struct folio_pg_diag d;
  int rc = folio_jobs_submit(db, &s, &r, &d);
  CHECK_MSG(rc == 0, "submit: %s", d.msg);
  memcpy(out, r.job_id, FOLIO_UUID_STR_LEN + 1);
  if (send) dispatch(out);
}

static struct folio_arena *arena;

static void status(const char *job, struct folio_job_status *st) {
  folio_arena_reset(arena);
  struct folio_pg_diag d;
  int rc = folio_jobs_get_status(db, "acme", job, arena, st, &d);
  CHECK_MSG(rc == 0, "status: %s", d.msg);
}

/* Polls until the job is in state want (or terminal), at most 60 s. */
static void wait_state(const char *job, enum folio_job_state want, struct folio_job_status *st) {
  int64_t deadline = folio_clock_mono_ns() + 60LL * 1000000000;
  for (;;) {
    status(job, st);
    if (st->state == want || folio_job_state_terminal(st->state)) break;
    CHECK_MSG(folio_clock_mono_ns() < deadline, "job %s stuck in %s (waiting for %s)", job,
              folio_job_state_name(st->state), folio_job_state_name(want));
    sleep_ms(20);
  }
  CHECK_MSG(st->state == want, "job %s is %s, wanted %s (%s: %s)", job,
            folio_job_state_name(st->state), folio_job_state_name(want),
            st->error_code ? st->error_code : "-", st->error_message ? st->error_message : "-");
}

/* Polls until the running job's progress is at least pct. */
static void wait_progress(const char *job, int pct) {
  struct folio_job_status st;
  int64_t deadline = folio_clock_mono_ns() + 60LL * 1000000000;
  for (;;) {
    status(job, &st);
    CHECK_MSG(!folio_job_state_terminal(st.state), "job ended (%s) before reaching %d%%",
              folio_job_state_name(st.state), pct);
    if (st.state == FOLIO_JOB_RUNNING && st.progress_percent >= pct) return;
    CHECK_MSG(folio_clock_mono_ns() < deadline, "no progress");
    sleep_ms(10);
  }
}

static int events_of(const char *job, const char *kind) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM job_events WHERE job_id = '%s' AND kind = '%s'",
           job, kind);
  return atoi(pgtest_value(db, sql));
}

/* Objects are keyed by the tenant's opaque id, never its name
 * (docs/security.md, Keys): acme's, once it has its tenants row. */
static const char *acme_id(void) {
  static char id[40];
  if (!id[0])
    snprintf(id, sizeof id, "%s", pgtest_value(db, "SELECT id::text FROM tenants WHERE name = 'acme'"));
  CHECK(id[0]);
  return id;
}

static int object_status(const char *key) {
  struct folio_s3_sync_result r;
  folio_s3_sync_head(&s3, key, &r);
  return (int)r.http_status;
}

/* The PNG pages 1..n of job are gone from S3 (removed after why). */
static void check_no_pages(const char *job, int n, const char *why) {
  char key[256];
  for (int p = 1; p <= n; p++) {
    snprintf(key, sizeof key, "%s/%s/page-%04d.png", acme_id(), job, p);
    CHECK_MSG(object_status(key) == 404, "%s still exists after the %s", key, why);
  }
}

/* Every artifact exists in S3 with the recorded size and SHA-256. */
static void check_artifacts(const struct folio_job_status *st) {
  for (size_t i = 0; i < st->nartifacts; i++) {
    const struct folio_job_artifact *a = &st->artifacts[i];
    void *body = NULL;
    size_t len = 0;
    struct folio_s3_sync_result r;
    int rc = folio_s3_sync_get(&s3, a->object_key, NULL, &body, &len, &r);
    CHECK_MSG(rc == 0, "GET %s: %ld %s", a->object_key, r.http_status, r.error_code);
    CHECK_EQ_INT(len, a->size_bytes);
    unsigned char h[32];
    char hex[65];
    crypto_hash_sha256(h, body, len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    CHECK_EQ_STR(hex, a->sha256_hex);
    free(body);
  }
}

/* ---- layouts -------------------------------------------------------------- */

/* n pages, each with a line of text (and a coloured rectangle). malloc'd. */
static char *pages_layout(int n, const char *overflow_text) {
  size_t cap = (size_t)n * 400 + 1024;
  char *s = malloc(cap);
  size_t p = (size_t)snprintf(s, cap, "{\"version\":1,\"meta\":{\"title\":\"t\"},\"pages\":[");
  for (int i = 0; i < n; i++)
    p += (size_t)snprintf(s + p, cap - p,
                          "%s{\"items\":[{\"type\":\"rect\",\"x\":20,\"y\":20,\"w\":500,\"h\":700,"
                          "\"fill\":\"#3366cc\"},{\"type\":\"text\",\"x\":40,\"y\":40,\"w\":400,"
                          "\"h\":60,\"text\":\"%s page %d\",\"overflow\":\"error\"}]}",
                          i ? "," : "", overflow_text ? overflow_text : "Hello", i + 1);
  snprintf(s + p, cap - p, "]}");
  return s;
}

/* Resets the peak RSS (VmHWM) of every render process (children of the
 * supervisor), so the next job's peak is its own. */
static void reset_children_hwm(void) {
  pid_t kids[64];
  size_t n = proc_children(worker_pid, kids, 64);
  for (size_t i = 0; i < n; i++) proc_reset_hwm(kids[i]);
}

/* The radosgw pid recorded by rgw-up.sh in DIR/pids (the last one). */
static pid_t rgw_pid(const char *dir) {
  char path[600], line[256];
  snprintf(path, sizeof path, "%s/pids", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  pid_t pid = 0;
  while (fgets(line, sizeof line, f)) {
    int p;
    char name[64];
    if (sscanf(line, "%d %63s", &p, name) == 2 && !strcmp(name, "rgw")) pid = p;
  }
  fclose(f);
  return pid;
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: test_worker PATH/TO/folio-worker");
  worker_bin = argv[1];
  CHECK(sodium_init() >= 0);
  atexit(kill_worker);
  char err[256];
  CHECK_MSG(folio_s3_config_from_env(&s3, err, sizeof err) == 0, "%s", err);
  struct folio_pg_conn *plain = pgtest_plain();
  CHECK(folio_jobs_migrate(plain, NULL, NULL) == 0);
  folio_pg_conn_close(plain);
  db = pgtest_jobs();
  arena = folio_arena_create(0);
  struct folio_job_status st;
  char job[FOLIO_UUID_STR_LEN + 1], job2[FOLIO_UUID_STR_LEN + 1];
  const int all[] = {FOLIO_FORMAT_PDF, FOLIO_FORMAT_PNG, FOLIO_FORMAT_SLA};
  const int png[] = {FOLIO_FORMAT_PNG};
  const int pdf[] = {FOLIO_FORMAT_PDF};
  const int sla[] = {FOLIO_FORMAT_SLA};

  start_worker("FOLIO_WORKERS=2", "FOLIO_VISIBILITY_TIMEOUT_MS=1500", "FOLIO_HEARTBEAT_MS=100",
               "FOLIO_RENDER_TIMEOUT_MS=60000", "FOLIO_LOG_LEVEL=info", NULL);

  /* ---- 1. lifecycle, with the events a watcher sees ---- */
  char *three = pages_layout(3, NULL);
  submit(three, all, 3, 72, 0, job, false);
  char ch[FOLIO_JOBS_CHANNEL_MAX], evfile[512];
  folio_jobs_channel(job, ch);
  snprintf(evfile, sizeof evfile, "%s/events.txt", getenv("FOLIO_STACK_DIR"));
  const char *sub_argv[] = {"redis-cli", "-u", getenv("FOLIO_REDIS_URL"), "SUBSCRIBE", ch, NULL};
  pid_t sub = proc_spawn(sub_argv, NULL, evfile, SIGKILL);
  sleep_ms(300); /* let the subscription start (events are hints; see below) */
  dispatch(job);
  wait_state(job, FOLIO_JOB_SUCCEEDED, &st);
  CHECK_EQ_INT(st.attempts, 1);
  CHECK_EQ_INT(st.progress_percent, 100);
  CHECK_EQ_INT(st.nartifacts, 5);
  CHECK_EQ_STR(st.artifacts[0].name, "document.pdf");
  CHECK_EQ_STR(st.artifacts[1].name, "page-0001.png");
  CHECK_EQ_INT(st.artifacts[3].page, 3);
  CHECK_EQ_STR(st.artifacts[4].name, "document.sla");
  CHECK_EQ_STR(st.artifacts[4].content_type, "application/vnd.scribus");
  char key[256];
  snprintf(key, sizeof key, "%s/%s/document.pdf", acme_id(), job);
  CHECK_EQ_STR(st.artifacts[0].object_key, key);
  CHECK(strstr(st.artifacts[0].object_key, "acme") == NULL);
  check_artifacts(&st);
  CHECK_EQ_INT(events_of(job, "started"), 1);
  CHECK_EQ_INT(events_of(job, "succeeded"), 1);
  char lifecycle_job[FOLIO_UUID_STR_LEN + 1];
  memcpy(lifecycle_job, job, sizeof lifecycle_job);
  sleep_ms(200);
  proc_kill(&sub);
  FILE *ef = fopen(evfile, "r");
  CHECK(ef);
  char evs[8192];
  size_t evn = fread(evs, 1, sizeof evs - 1, ef);
  evs[evn] = '\0';
  fclose(ef);
  CHECK_MSG(strstr(evs, "\"state\":\"SUCCEEDED\""), "no SUCCEEDED event published: %s", evs);
  CHECK_MSG(strstr(evs, "\"state\":\"RUNNING\""), "no RUNNING event published: %s", evs);
  printf("lifecycle: SUCCEEDED with %zu artifacts, sizes and SHA-256 match S3\n", st.nartifacts);

  /* ---- print geometry: png_include_bleed travels from the submission to the
   * render: a 100 x 50 pt card with 10 pt of bleed is a 120 x 70 px PNG at 72 dpi
   * (the trimmed page would be 100 x 50) ---- */
  png_bleed_next = true;
  submit("{\"version\":1,\"page\":{\"size\":{\"width\":100,\"height\":50},\"bleed\":10,"
         "\"marks\":[\"crop\"]},\"pages\":[{\"items\":[]}]}",
         png, 1, 72, 0, job, true);
  png_bleed_next = false;
  wait_state(job, FOLIO_JOB_SUCCEEDED, &st);
  CHECK_EQ_INT(st.nartifacts, 1);
  {
    void *body = NULL;
    size_t len = 0;
    struct folio_s3_sync_result r;
    CHECK(folio_s3_sync_get(&s3, st.artifacts[0].object_key, NULL, &body, &len, &r) == 0);
    const unsigned char *b = body;
    CHECK(len > 24);
    if (len > 24) {
      unsigned w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
      unsigned h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
      CHECK_MSG(w == 120 && h == 70, "PNG with bleed is %ux%u, want 120x70", w, h);
    }
    free(body);
  }
  printf("png_include_bleed: the PNG shows the bleed box\n");

  /* a duplicate delivery of the finished job is acknowledged and skipped, and
   * so are entries that carry no valid job id */
  dispatch(job);
  dispatch("not-a-job-id");
  redis_cli("XADD '%s' '*' something else", FOLIO_JOBS_STREAM);

  /* ---- 2. deterministic failures ---- */
  char *over = pages_layout(2, "This sentence is far too long for its small box and overflows it, "
                               "which the overflow policy error turns into a failure of the job "
                               "with a pointer to the item. More words to be sure it overflows "
                               "even a generous box of four hundred by sixty points, at twelve "
                               "points per line and then some more text.");
  submit(over, pdf, 1, 0, 0, job, true);
  wait_state(job, FOLIO_JOB_FAILED, &st);
  CHECK_EQ_STR(st.error_code, "TEXT_OVERFLOW");
  CHECK_MSG(strstr(st.error_message, "/pages/0/items/1"), "message: %s", st.error_message);
  CHECK_EQ_INT(st.attempts, 1);
  CHECK_EQ_INT(st.nartifacts, 0);
  snprintf(key, sizeof key, "%s/%s/document.pdf", acme_id(), job);
  CHECK_EQ_INT(object_status(key), 404);
  free(over);
  submit("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"circle\"}]}]}", pdf, 1, 0, 0, job, true);
  wait_state(job, FOLIO_JOB_FAILED, &st);
  CHECK_EQ_STR(st.error_code, "INVALID_LAYOUT");
  CHECK_MSG(strstr(st.error_message, "/pages/0/items/0"), "message: %s", st.error_message);
  printf("deterministic: %s\n", st.error_message);

  /* ---- 2b. stored layouts (folio/layout_store.h) ---- */
  /* the lifecycle job's layout was stored as zstd and rendered, and its
   * audit trail is complete */
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT layout_codec FROM jobs WHERE id = '%s'", lifecycle_job);
  CHECK_EQ_STR(pgtest_value(db, sql), "1");
  snprintf(sql, sizeof sql,
           "SELECT string_agg(kind, ',' ORDER BY id) FROM job_events"
           " WHERE job_id = '%s' AND kind <> 'progress'", lifecycle_job);
  CHECK_EQ_STR(pgtest_value(db, sql), "submitted,started,succeeded");
  /* a hostile stored blob, put in place with SQL before dispatch: a zstd
   * frame that declares 1 GiB (and holds one RLE byte). The worker refuses it
   * by its declared size against FOLIO_LAYOUT_MAX_BYTES: FAILED at once,
   * not retried, the render process alive */
  char *one = pages_layout(1, NULL);
  submit(one, pdf, 1, 0, 0, job, false);
  free(one);
  snprintf(sql, sizeof sql,
           "UPDATE jobs SET layout = '\\x28b52ffde000000040000000000b000078'::bytea,"
           " layout_codec = 1 WHERE id = '%s' RETURNING id", job);
  CHECK_EQ_STR(pgtest_value(db, sql), job);
  int started_now = count_lines("\"render process started\"");
  dispatch(job);
  wait_state(job, FOLIO_JOB_FAILED, &st);
  CHECK_EQ_STR(st.error_code, "LAYOUT_UNREADABLE");
  CHECK_MSG(strstr(st.error_message, "declares 1073741824 bytes") &&
                strstr(st.error_message, "FOLIO_LAYOUT_MAX_BYTES"),
            "message: %s", st.error_message);
  CHECK_EQ_INT(st.attempts, 1);
  snprintf(sql, sizeof sql,
           "SELECT string_agg(kind, ',' ORDER BY id) FROM job_events"
           " WHERE job_id = '%s' AND kind <> 'progress'", job);
  CHECK_EQ_STR(pgtest_value(db, sql), "submitted,started,failed");
  CHECK_EQ_INT(count_lines("\"render process started\""), started_now);
  printf("stored layouts: zstd round trip rendered; a 1 GiB bomb refused: %s\n", st.error_message);

  /* ---- 3. SIGKILL of a render process mid-job ---- */
  char *slow = pages_layout(40, NULL);
  submit(slow, png, 1, 300, 0, job, true);
  wait_progress(job, 10);
  pid_t victim = claimer_pid(job);
  CHECK_MSG(victim > 0, "no 'job claimed' line for %s in %s", job, worker_log);
  int started_before = count_lines("\"render process started\"");
  CHECK_EQ_INT(kill(victim, SIGKILL), 0);
  wait_state(job, FOLIO_JOB_SUCCEEDED, &st);
  CHECK_EQ_INT(st.attempts, 2);
  CHECK_EQ_INT(st.nartifacts, 40);
  CHECK_EQ_INT(events_of(job, "succeeded"), 1);
  CHECK_EQ_INT(events_of(job, "retried"), 1);
  check_artifacts(&st);
  CHECK_MSG(count_lines("\"render process started\"") == started_before + 1,
            "the killed render process was not restarted exactly once");
  CHECK(kill(worker_pid, 0) == 0);
  printf("SIGKILL mid-job: SUCCEEDED on attempt %d, 1 'succeeded' event, 40 pages verified\n",
         st.attempts);

  /* ---- 4. cancel a running job ---- */
  submit(slow, png, 1, 300, 0, job, true);
  wait_progress(job, 20);
  int64_t t0 = folio_clock_mono_ns();
  cancel_like_server(job);
  wait_state(job, FOLIO_JOB_CANCELED, &st);
  double cancel_ms = (double)(folio_clock_mono_ns() - t0) / 1e6;
  check_no_pages(job, 40, "cancel");
  CHECK_EQ_INT(st.nartifacts, 0);
  printf("cancel: CANCELED %.0f ms after the request, no objects left\n", cancel_ms);

  /* ---- 5. a big artifact: peak RSS of the render process ---- */
  char *big = big_sla_layout(72);
  reset_children_hwm();
  submit(big, sla, 1, 0, 0, job, true);
  wait_state(job, FOLIO_JOB_SUCCEEDED, &st);
  CHECK_EQ_INT(st.nartifacts, 1);
  pid_t renderer = claimer_pid(job);
  long hwm = proc_status_kb(renderer, "VmHWM");
  printf("big artifact: %s of %.1f MiB; render process peak RSS %.1f MiB\n", st.artifacts[0].name,
         (double)st.artifacts[0].size_bytes / 1048576.0, (double)hwm / 1024.0);
  CHECK(st.artifacts[0].size_bytes > 64ull << 20);
  CHECK_MSG(hwm > 0 && hwm < 64 * 1024, "peak RSS %ld KiB while uploading (bound: 64 MiB)", hwm);
  check_artifacts(&st);
  free(big);

  /* ---- 8. the store goes down: transient failures, retried; done once it is back ---- */
  char s3dir[512], cmd[2048];
  snprintf(s3dir, sizeof s3dir, "%s/s3", getenv("FOLIO_STACK_DIR"));
  pid_t rgw = rgw_pid(s3dir);
  CHECK_MSG(rgw > 0, "no rgw in %s/pids", s3dir);
  CHECK_EQ_INT(kill(rgw, SIGTERM), 0);
  for (int i = 0; i < 200 && kill(rgw, 0) == 0; i++) sleep_ms(50);
  submit(three, pdf, 1, 0, 10, job, true);
  int64_t deadline = folio_clock_mono_ns() + 60LL * 1000000000;
  while (events_of(job, "retried") < 1) {
    CHECK_MSG(folio_clock_mono_ns() < deadline, "no transient failure while S3 is down");
    sleep_ms(20);
  }
  status(job, &st);
  CHECK_EQ_STR(st.error_code, "STORE_UNAVAILABLE"); /* the last attempt's, kept while QUEUED */
  /* radosgw alone again (the cluster and the bucket live on), recorded in
   * pids so that the stack's teardown stops it */
  snprintf(cmd, sizeof cmd,
           "cd '%s' && sed -i '/ rgw$/d' pids && { radosgw -c '%s/ceph.conf' -n client.rgw -f "
           "</dev/null >>log/rgw.stdout 2>&1 & echo \"$! rgw\" >> pids; }",
           s3dir, s3dir);
  CHECK_MSG(system(cmd) == 0, "%s", cmd);
  wait_state(job, FOLIO_JOB_SUCCEEDED, &st);
  CHECK_MSG(st.attempts >= 2, "attempts = %d", st.attempts);
  CHECK_EQ_INT(events_of(job, "succeeded"), 1);
  check_artifacts(&st);
  printf("store down: %d transient failures, then SUCCEEDED once RGW was back\n",
         events_of(job, "retried"));

  /* every job is finished: every entry was acknowledged (none re-delivered forever) */
  deadline = folio_clock_mono_ns() + 30LL * 1000000000;
  while (atoi(redis_cli("XPENDING '%s' '%s'", FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP)) != 0) {
    CHECK_MSG(folio_clock_mono_ns() < deadline, "entries still pending: %s",
              redis_cli("XPENDING '%s' '%s'", FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP));
    sleep_ms(50);
  }

  /* ---- 7. SIGTERM with a job running: it finishes within the grace period ---- */
  submit(three, png, 1, 300, 0, job2, true);
  wait_state(job2, FOLIO_JOB_RUNNING, &st);
  CHECK_EQ_INT(stop_worker(), 0);
  status(job2, &st);
  CHECK_MSG(st.state == FOLIO_JOB_SUCCEEDED, "after SIGTERM the job is %s",
            folio_job_state_name(st.state));
  printf("SIGTERM: the running job finished, the worker exited 0\n");

  /* ---- 6. render timeout → retried → ATTEMPTS_EXHAUSTED ---- */
  start_worker("FOLIO_WORKERS=1", "FOLIO_VISIBILITY_TIMEOUT_MS=1000", "FOLIO_HEARTBEAT_MS=100",
               "FOLIO_RENDER_TIMEOUT_MS=300", NULL);
  submit(slow, png, 1, 300, 2, job, true);
  wait_state(job, FOLIO_JOB_FAILED, &st);
  CHECK_EQ_STR(st.error_code, "ATTEMPTS_EXHAUSTED");
  CHECK_MSG(strstr(st.error_message, "RENDER_TIMEOUT"), "message: %s", st.error_message);
  CHECK_EQ_INT(st.attempts, 2);
  CHECK_EQ_INT(events_of(job, "retried"), 1);
  printf("render timeout: %s\n", st.error_message);
  CHECK_EQ_INT(stop_worker(), 0);

  /* ---- 9. SIGTERM past the grace period: the job is handed back, and the
   * hand-back does not count: a job with max_attempts = 1 still gets its one
   * attempt from the next worker ---- */
  start_worker("FOLIO_WORKERS=1", "FOLIO_VISIBILITY_TIMEOUT_MS=1500", "FOLIO_HEARTBEAT_MS=100",
               "FOLIO_SHUTDOWN_GRACE_MS=0", NULL);
  submit(slow, png, 1, 300, 1, job, true);
  wait_progress(job, 5);
  CHECK_EQ_INT(stop_worker(), 0);
  status(job, &st);
  CHECK_MSG(st.state == FOLIO_JOB_QUEUED, "after SIGTERM the job is %s (%s)",
            folio_job_state_name(st.state), st.error_message ? st.error_message : "-");
  CHECK_EQ_INT(st.attempts, 0);
  CHECK_EQ_INT(events_of(job, "released"), 1);
  CHECK_EQ_INT(events_of(job, "retried"), 0);
  CHECK_EQ_INT(events_of(job, "failed"), 0);
  check_no_pages(job, 40, "hand-back");
  start_worker("FOLIO_WORKERS=1", "FOLIO_VISIBILITY_TIMEOUT_MS=1500", "FOLIO_HEARTBEAT_MS=100",
               NULL);
  wait_state(job, FOLIO_JOB_SUCCEEDED, &st);
  CHECK_EQ_INT(st.attempts, 1);
  CHECK_EQ_INT(st.max_attempts, 1);
  CHECK_EQ_INT(events_of(job, "started"), 2);
  CHECK_EQ_INT(events_of(job, "succeeded"), 1);
  check_artifacts(&st);
  printf("SIGTERM hand-back: QUEUED with 0 attempts counted, then SUCCEEDED on its 1 allowed "
         "attempt\n");
  CHECK_EQ_INT(stop_worker(), 0);

  /* ---- 10. cancel by event: with a heartbeat (the fallback poll) of 20 s, the
   * render stops because of the published cancel event, not the poll ---- */
  start_worker("FOLIO_WORKERS=1", "FOLIO_VISIBILITY_TIMEOUT_MS=60000", "FOLIO_HEARTBEAT_MS=20000",
               "FOLIO_LOG_LEVEL=info", NULL);
  submit(slow, png, 1, 300, 0, job, true);
  wait_state(job, FOLIO_JOB_RUNNING, &st);
  snprintf(key, sizeof key, "%s/%s/page-0001.png", acme_id(), job);
  deadline = folio_clock_mono_ns() + 60LL * 1000000000;
  while (object_status(key) != 200) { /* a partial artifact exists */
    CHECK_MSG(folio_clock_mono_ns() < deadline, "page 1 of %s never uploaded", job);
    sleep_ms(20);
  }
  t0 = folio_clock_mono_ns();
  cancel_like_server(job);
  wait_state(job, FOLIO_JOB_CANCELED, &st);
  cancel_ms = (double)(folio_clock_mono_ns() - t0) / 1e6;
  CHECK_MSG(count_lines("\"noticed_by\":\"event\"") == 1 &&
                count_lines("\"noticed_by\":\"heartbeat\"") == 0,
            "the cancel was not noticed through its event (see %s)", worker_log);
  check_no_pages(job, 40, "cancel");
  CHECK_EQ_INT(st.nartifacts, 0);
  CHECK_EQ_INT(events_of(job, "canceled"), 1);
  printf("cancel by event (heartbeat 20 s): CANCELED %.0f ms after the request, no objects left\n",
         cancel_ms);
  CHECK_EQ_INT(stop_worker(), 0);

  free(slow);
  free(three);
  folio_arena_destroy(arena);
  folio_pg_conn_close(db);
  return check_done();
}
