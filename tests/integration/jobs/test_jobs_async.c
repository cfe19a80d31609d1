/* The non-blocking PostgreSQL client on folio_loop with the server's job
 * calls: group commit of one loop turn's submissions (one Sync), a failing
 * neighbour retried around, status and cancel, a killed backend (statements
 * fail once, the client reconnects by itself), and destroy with statements in
 * flight. */
#include <stdio.h>
#include <string.h>

#include "folio/clock.h"
#include "folio/loop.h"
#include "folio/pg_async.h"
#include "pgtest.h"

static struct folio_loop *loop;

static void run_until(const int *count, int want, const char *what) {
  int64_t deadline = folio_clock_mono_ns() + 30LL * 1000000000;
  while (*count < want) {
    CHECK_MSG(folio_clock_mono_ns() < deadline, "timed out waiting for %s (%d/%d)", what, *count,
              want);
    folio_loop_run_once(loop, 50);
  }
}

static int ready_changes, is_ready;
static void on_state(struct folio_pg_async *a, bool ready, void *arg) {
  ready_changes++;
  is_ready = ready;
}

struct sub_result {
  int status;
  struct folio_job_submitted out;
  char msg[512];
};
static int submits_done;
static void on_submitted(int status, const struct folio_job_submitted *out,
                         const struct folio_pg_diag *diag, void *arg) {
  struct sub_result *r = arg;
  r->status = status;
  if (out) r->out = *out;
  snprintf(r->msg, sizeof r->msg, "%s", diag ? diag->msg : "");
  submits_done++;
}

static int status_done;
static struct folio_job_status last_status;
static int last_rc;
static void on_status(int status, const struct folio_job_status *st, const struct folio_pg_diag *d,
                      void *arg) {
  last_rc = status;
  if (st) last_status = *st;
  status_done++;
}

static int cancel_done;
static enum folio_job_state last_state;
static void on_cancel(int status, enum folio_job_state state, const struct folio_pg_diag *d,
                      void *arg) {
  last_rc = status;
  last_state = state;
  cancel_done++;
}

static int raw_done, raw_status;
static void on_raw(struct folio_pg_async *a, int status, const PGresult *res,
                   const struct folio_pg_diag *diag, void *arg) {
  raw_status = status;
  raw_done++;
}

static int ids_done, marks_done;
static size_t ids_n;
static char first_id[64];
static void on_ids(int status, char *const *ids, size_t n, const struct folio_pg_diag *d, void *arg) {
  last_rc = status;
  ids_n = n;
  if (n) snprintf(first_id, sizeof first_id, "%s", ids[0]);
  ids_done++;
}
static void on_marked(int status, const struct folio_pg_diag *d, void *arg) {
  last_rc = status;
  marks_done++;
}

static const uint8_t LAYOUT[] = "{}";

int main(void) {
  struct folio_pg_conn *plain = pgtest_plain();
  CHECK(folio_jobs_migrate(plain, NULL, NULL) == 0);
  loop = folio_loop_create();
  CHECK(loop);

  struct folio_pg_async_config cfg = {
      .conn = {.conninfo = pgtest_url(), .application_name = "folio-async-test"},
      .backoff_initial_ms = 10,
      .backoff_max_ms = 100};
  folio_jobs_conn_config(&cfg.conn);
  struct folio_pg_async *a;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_pg_async_create(&cfg, &a, &d), 0);
  CHECK_EQ_INT(folio_pg_async_attach(a, loop), 0);
  folio_pg_async_set_state_cb(a, on_state, NULL);
  /* not ready yet: calls fail at once and never call back */
  struct folio_job_submit early = {.tenant = "acme", .layout = LAYOUT, .layout_len = 2};
  struct sub_result er = {0};
  CHECK_EQ_INT(folio_jobs_submit_async(a, &early, on_submitted, &er), FOLIO_PG_ECONNECT);
  run_until(&ready_changes, 1, "ready");
  CHECK(is_ready);

  /* ---- group commit: 40 submissions in one loop turn ---- */
  enum { N = 40 };
  struct folio_job_submit s[N];
  struct sub_result res[N];
  memset(res, 0, sizeof res);
  for (int i = 0; i < N; i++) {
    s[i] = (struct folio_job_submit){.tenant = "acme", .layout = LAYOUT, .layout_len = 2};
    if (i < 5) s[i].idempotency_key = "same-turn"; /* duplicates inside one transaction */
  }
  struct folio_pg_async_stats st0, st1;
  folio_pg_async_stats(a, &st0);
  submits_done = 0;
  for (int i = 0; i < N; i++) CHECK_EQ_INT(folio_jobs_submit_async(a, &s[i], on_submitted, &res[i]), 0);
  run_until(&submits_done, N, "group submit");
  folio_pg_async_stats(a, &st1);
  CHECK_EQ_INT(st1.statements - st0.statements, N);
  CHECK_MSG(st1.syncs - st0.syncs == 1, "%llu syncs for one turn",
            (unsigned long long)(st1.syncs - st0.syncs));
  int fresh = 0;
  for (int i = 0; i < N; i++) {
    CHECK_MSG(res[i].status == 0, "submit %d: %s", i, res[i].msg);
    CHECK(folio_uuid_valid(res[i].out.job_id));
    if (i < 5) {
      CHECK_EQ_STR(res[i].out.job_id, res[0].out.job_id);
      fresh += !res[i].out.deduplicated;
    }
  }
  CHECK_EQ_INT(fresh, 1);

  /* ---- a neighbour that fails in the database: the rest still commit ----
   * (fault injection: a trigger refuses one tenant's rows) */
  CHECK(folio_pg_conn_command(plain,
                              "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                              " BEGIN IF NEW.tenant = 'explode' THEN"
                              " RAISE EXCEPTION 'test: tenant % refused', NEW.tenant; END IF;"
                              " RETURN NEW; END $$;"
                              "CREATE TRIGGER test_refuse BEFORE INSERT ON jobs"
                              " FOR EACH ROW EXECUTE FUNCTION test_refuse()",
                              NULL, NULL) == 0);
  struct folio_job_submit g[3] = {
      {.tenant = "acme", .layout = LAYOUT, .layout_len = 2},
      {.tenant = "explode", .layout = LAYOUT, .layout_len = 2},
      {.tenant = "acme", .layout = LAYOUT, .layout_len = 2, .idempotency_key = "after-bad"},
  };
  struct sub_result gr[3];
  memset(gr, 0, sizeof gr);
  submits_done = 0;
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(folio_jobs_submit_async(a, &g[i], on_submitted, &gr[i]), 0);
  run_until(&submits_done, 3, "group with a failure");
  CHECK_MSG(gr[0].status == 0, "%s", gr[0].msg);
  CHECK_EQ_INT(gr[1].status, FOLIO_PG_EQUERY);
  CHECK(strstr(gr[1].msg, "tenant explode refused") != NULL);
  CHECK_MSG(gr[2].status == 0, "%s", gr[2].msg);
  CHECK(!gr[2].out.deduplicated);
  CHECK(folio_pg_conn_command(plain, "DROP TRIGGER test_refuse ON jobs", NULL, NULL) == 0);

  /* ---- status and cancel ---- */
  struct folio_arena *arena = folio_arena_create(0);
  status_done = 0;
  CHECK_EQ_INT(folio_jobs_get_status_async(a, "acme", gr[0].out.job_id, arena, on_status, NULL), 0);
  run_until(&status_done, 1, "status");
  CHECK_EQ_INT(last_rc, 0);
  CHECK_EQ_INT(last_status.state, FOLIO_JOB_QUEUED);
  CHECK_EQ_INT(last_status.nformats, 1);
  CHECK_EQ_INT(folio_jobs_get_status_async(a, "other", gr[0].out.job_id, arena, on_status, NULL), 0);
  run_until(&status_done, 2, "status other tenant");
  CHECK_EQ_INT(last_rc, FOLIO_JOBS_ENOTFOUND);
  CHECK_EQ_INT(folio_jobs_get_status_async(a, "acme", "x", arena, on_status, NULL), FOLIO_JOBS_EINVAL);
  cancel_done = 0;
  CHECK_EQ_INT(folio_jobs_cancel_async(a, "acme", gr[0].out.job_id, on_cancel, NULL), 0);
  run_until(&cancel_done, 1, "cancel");
  CHECK_EQ_INT(last_rc, 0);
  CHECK_EQ_INT(last_state, FOLIO_JOB_CANCELED);
  CHECK_EQ_INT(folio_jobs_cancel_async(a, "acme", gr[0].out.job_id, on_cancel, NULL), 0);
  run_until(&cancel_done, 2, "cancel again");
  CHECK_EQ_INT(last_rc, FOLIO_JOBS_EPRECONDITION);
  CHECK_EQ_INT(last_state, FOLIO_JOB_CANCELED);

  /* ---- the reconciler on the loop ---- */
  ids_done = 0;
  CHECK_EQ_INT(folio_jobs_take_undispatched_async(a, 0, 1000, on_ids, NULL), 0);
  run_until(&ids_done, 1, "take_undispatched");
  CHECK_EQ_INT(last_rc, 0);
  long queued = atol(pgtest_value(plain, "SELECT count(*) FROM jobs WHERE state = 'QUEUED'"));
  CHECK_EQ_INT((long)ids_n, queued);
  CHECK(folio_uuid_valid(first_id));
  CHECK_EQ_INT(folio_jobs_take_undispatched_async(a, 600000, 1000, on_ids, NULL), 0);
  run_until(&ids_done, 2, "take_undispatched again");
  CHECK_EQ_INT(ids_n, 0);
  CHECK_EQ_INT(folio_jobs_reap_stale_async(a, 0, 10, on_ids, NULL), 0);
  run_until(&ids_done, 3, "reap");
  CHECK_EQ_INT(last_rc, 0);
  CHECK_EQ_INT(ids_n, 0); /* nothing is RUNNING */
  marks_done = 0;
  CHECK_EQ_INT(folio_jobs_mark_dispatched_async(a, res[1].out.job_id, on_marked, NULL), 0);
  CHECK_EQ_INT(folio_jobs_mark_dispatched_async(a, res[2].out.job_id, NULL, NULL), 0);
  CHECK_EQ_INT(folio_jobs_mark_dispatched_async(a, res[3].out.job_id, on_marked, NULL), 0);
  run_until(&marks_done, 2, "marks");
  CHECK_EQ_INT(last_rc, 0);

  /* ---- the backend is killed: statements fail once, the client comes back ---- */
  int changes = ready_changes;
  pgtest_value(plain, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                      " WHERE application_name = 'folio-async-test'");
  run_until(&ready_changes, changes + 1, "noticing the dropped connection");
  CHECK(!is_ready);
  run_until(&ready_changes, changes + 2, "reconnect");
  CHECK(is_ready);
  struct sub_result again = {0};
  submits_done = 0;
  CHECK_EQ_INT(folio_jobs_submit_async(a, &s[0], on_submitted, &again), 0);
  run_until(&submits_done, 1, "submit after reconnect");
  CHECK_EQ_INT(again.status, 0);
  CHECK_EQ_STR(again.out.job_id, res[0].out.job_id); /* same idempotency key */
  CHECK(again.out.deduplicated);

  /* ---- destroy with a statement in flight: its callback runs once ---- */
  static const char *const one[1] = {"x"};
  raw_done = 0;
  /* the parameter count is checked before anything is sent */
  CHECK_EQ_INT(folio_pg_async_exec(a, 0, &(struct folio_pg_params){1, one, NULL, NULL}, 0, on_raw, NULL),
               FOLIO_PG_EINVAL);
  CHECK_EQ_INT(raw_done, 0);
  struct sub_result last = {0};
  submits_done = 0;
  CHECK_EQ_INT(folio_jobs_submit_async(a, &s[10], on_submitted, &last), 0);
  folio_pg_async_destroy(a);
  CHECK_EQ_INT(submits_done, 1);
  CHECK_EQ_INT(last.status, FOLIO_PG_ECONNECT);

  folio_arena_destroy(arena);
  folio_loop_destroy(loop);
  folio_pg_conn_close(plain);
  return check_done();
}
