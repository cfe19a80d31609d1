/* lib/jobs against a real PostgreSQL: migrations (concurrent and repeated),
 * submit with idempotency under 50 concurrent duplicates, group commit, the
 * state machine with its fences, tenant scoping, the audit trail, API keys,
 * and an EXPLAIN of every statement to prove an index serves it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgtest.h"
#include "folio/render_cache.h"

static const uint8_t LAYOUT[] = "{\"pages\":[]}";
static const uint8_t PEPPER[32] = "0123456789abcdef0123456789abcdef";

/* ---- migrations ---------------------------------------------------------- */

static pthread_barrier_t barrier;
static int migrated_total;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *migrate_thread(void *arg) {
  (void)arg;
  struct folio_pg_conn *c = pgtest_plain();
  pthread_barrier_wait(&barrier);
  int applied = -1;
  struct folio_pg_diag d;
  int rc = folio_jobs_migrate(c, &applied, &d);
  TCHECK(rc == 0, "migrate: %s", d.msg);
  pthread_mutex_lock(&mu);
  migrated_total += applied;
  pthread_mutex_unlock(&mu);
  folio_pg_conn_close(c);
  return NULL;
}

static void test_migrate(void) {
  enum { N = 4 };
  pthread_t t[N];
  pthread_barrier_init(&barrier, NULL, N);
  for (int i = 0; i < N; i++) pthread_create(&t[i], NULL, migrate_thread, NULL);
  for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&barrier);
  /* Each migration applied exactly once across the racing servers. */
  CHECK_EQ_INT(migrated_total, folio_jobs_schema_count());
  struct folio_pg_conn *c = pgtest_plain();
  CHECK_EQ_INT(migrated_total, atoi(pgtest_value(c, "SELECT count(*) FROM folio_schema_migrations")));
  CHECK(migrated_total >= 5);
  int applied = -1;
  CHECK(folio_jobs_migrate(c, &applied, NULL) == 0);
  CHECK_EQ_INT(applied, 0);
  char q[64];
  snprintf(q, sizeof q, "SELECT max(version) FROM folio_schema_migrations");
  CHECK_EQ_INT(atoi(pgtest_value(c, q)), folio_jobs_schema_version());
  folio_pg_conn_close(c);
}

/* ---- submit ---------------------------------------------------------------- */

static struct folio_job_submit basic_submit(const char *tenant, const char *key) {
  static const int formats[] = {FOLIO_FORMAT_PNG, FOLIO_FORMAT_PDF, FOLIO_FORMAT_PNG};
  static const struct folio_job_label labels[] = {{"team", "print"}, {"b\"q", "\xc3\xa9t\xc3\xa9"}};
  static const int more_profiles[] = {3, 1}; /* PDF/UA-1, PDF/A-2b again */
  struct folio_job_submit s = {.tenant = tenant,
                               .idempotency_key = key,
                               .layout = LAYOUT,
                               .layout_len = sizeof LAYOUT - 1,
                               .formats = formats,
                               .nformats = 3,
                               .png_dpi = 72,
                               .page_range = "1-2",
                               .png_include_bleed = true,
                               .labels = labels,
                               .nlabels = 2,
                               .pdf_profile = 1,
                               .additional_pdf_profiles = more_profiles,
                               .n_additional_pdf_profiles = 2};
  return s;
}

static void submit_one(struct folio_pg_conn *c, const char *tenant, const char *key,
                       struct folio_job_submitted *out) {
  struct folio_job_submit s = basic_submit(tenant, key);
  struct folio_pg_diag d;
  int rc = folio_jobs_submit(c, &s, out, &d);
  CHECK_MSG(rc == 0, "submit: %s", d.msg);
}

static void test_submit_status(struct folio_pg_conn *c) {
  struct folio_job_submitted j;
  submit_one(c, "acme", NULL, &j);
  CHECK(folio_uuid_valid(j.job_id));
  CHECK_EQ_INT(j.job_id[14], '7');
  CHECK_EQ_INT(j.state, FOLIO_JOB_QUEUED);
  CHECK(!j.deduplicated);

  struct folio_arena *a = folio_arena_create(0);
  struct folio_job_status st;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.state, FOLIO_JOB_QUEUED);
  CHECK_EQ_INT(st.attempts, 0);
  CHECK_EQ_INT(st.max_attempts, 3);
  CHECK_EQ_INT(st.nformats, 2); /* duplicates dropped, order kept */
  CHECK_EQ_INT(st.formats[0], FOLIO_FORMAT_PNG);
  CHECK_EQ_INT(st.formats[1], FOLIO_FORMAT_PDF);
  CHECK_EQ_INT(st.nlabels, 2);
  CHECK_EQ_STR(st.labels[0].key, "b\"q");
  CHECK_EQ_STR(st.labels[0].value, "\xc3\xa9t\xc3\xa9");
  CHECK_EQ_STR(st.labels[1].key, "team");
  CHECK(st.created_at_us > 0 && st.started_at_us == 0 && st.finished_at_us == 0);
  CHECK(st.error_code == NULL && st.nartifacts == 0);

  /* another tenant's job looks exactly like a missing one */
  CHECK_EQ_INT(folio_jobs_get_status(c, "other", j.job_id, a, &st, &d), FOLIO_JOBS_ENOTFOUND);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", "0190b5a4-0000-7000-8000-000000000000", a, &st, &d),
               FOLIO_JOBS_ENOTFOUND);
  CHECK_EQ_INT(folio_jobs_cancel(c, "other", j.job_id, NULL, &d), FOLIO_JOBS_ENOTFOUND);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", "nope", a, &st, &d), FOLIO_JOBS_EINVAL);
  CHECK(strstr(d.msg, "job_id") != NULL);

  /* validation names the field */
  struct folio_job_submit bad = basic_submit("acme", NULL);
  bad.png_dpi = 5;
  CHECK_EQ_INT(folio_jobs_submit(c, &bad, &j, &d), FOLIO_JOBS_EINVAL);
  CHECK(strstr(d.msg, "png_dpi") != NULL);
  bad = basic_submit("", NULL);
  CHECK_EQ_INT(folio_jobs_submit(c, &bad, &j, &d), FOLIO_JOBS_EINVAL);
  CHECK(strstr(d.msg, "tenant") != NULL);
  folio_arena_destroy(a);
}

/* 50 concurrent duplicates, each on its own connection, released together. */
enum { DUPS = 50 };
static struct folio_job_submitted dup_out[DUPS];

static void *dup_thread(void *arg) {
  int i = (int)(intptr_t)arg;
  struct folio_pg_conn *c = pgtest_jobs();
  struct folio_job_submit s = basic_submit("acme", "order-4711");
  pthread_barrier_wait(&barrier);
  struct folio_pg_diag d;
  int rc = folio_jobs_submit(c, &s, &dup_out[i], &d);
  TCHECK(rc == 0, "concurrent submit %d: %s", i, d.msg);
  folio_pg_conn_close(c);
  return NULL;
}

static void test_idempotency(struct folio_pg_conn *c) {
  pthread_t t[DUPS];
  pthread_barrier_init(&barrier, NULL, DUPS);
  for (int i = 0; i < DUPS; i++) pthread_create(&t[i], NULL, dup_thread, (void *)(intptr_t)i);
  for (int i = 0; i < DUPS; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&barrier);
  int fresh = 0;
  for (int i = 0; i < DUPS; i++) {
    CHECK_EQ_STR(dup_out[i].job_id, dup_out[0].job_id);
    if (!dup_out[i].deduplicated) fresh++;
  }
  CHECK_EQ_INT(fresh, 1);
  CHECK_EQ_INT(atoi(pgtest_value(c, "SELECT count(*) FROM jobs WHERE idempotency_key = 'order-4711'")), 1);
  /* one 'submitted' event for the one job */
  char q[200];
  snprintf(q, sizeof q, "SELECT count(*) FROM job_events WHERE job_id = '%s'", dup_out[0].job_id);
  CHECK_EQ_INT(atoi(pgtest_value(c, q)), 1);
  /* later duplicate, and the same key in another tenant is another job */
  struct folio_job_submitted j;
  submit_one(c, "acme", "order-4711", &j);
  CHECK(j.deduplicated);
  CHECK_EQ_STR(j.job_id, dup_out[0].job_id);
  submit_one(c, "globex", "order-4711", &j);
  CHECK(!j.deduplicated);
  CHECK(strcmp(j.job_id, dup_out[0].job_id) != 0);
  /* repeats inside the second tenant find the second tenant's job, never the
   * first's (a lookup not scoped by tenant sees both rows) */
  struct folio_job_submitted g;
  for (int i = 0; i < 3; i++) {
    submit_one(c, "globex", "order-4711", &g);
    CHECK(g.deduplicated);
    CHECK_EQ_STR(g.job_id, j.job_id);
    submit_one(c, "acme", "order-4711", &g);
    CHECK(g.deduplicated);
    CHECK_EQ_STR(g.job_id, dup_out[0].job_id);
  }
  CHECK_EQ_INT(atoi(pgtest_value(c, "SELECT count(*) FROM jobs WHERE idempotency_key = 'order-4711'")), 2);
}

static void test_group_commit(struct folio_pg_conn *c) {
  enum { N = 20 };
  struct folio_job_submit s[N];
  struct folio_job_submitted out[N];
  int rcs[N];
  char keys[N][16];
  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "batch-%d", i % 18); /* 18 and 19 repeat 0 and 1 */
    s[i] = basic_submit("acme", keys[i]);
  }
  s[7].png_dpi = 1; /* invalid: fails alone */
  struct folio_pg_diag d;
  int rc = folio_jobs_submit_batch(c, N, s, out, rcs, &d);
  CHECK_EQ_INT(rc, FOLIO_JOBS_EINVAL);
  for (int i = 0; i < N; i++) {
    if (i == 7) {
      CHECK_EQ_INT(rcs[i], FOLIO_JOBS_EINVAL);
      continue;
    }
    CHECK_MSG(rcs[i] == 0, "batch[%d] = %d", i, rcs[i]);
    CHECK(folio_uuid_valid(out[i].job_id));
  }
  CHECK_EQ_STR(out[18].job_id, out[0].job_id);
  CHECK(out[18].deduplicated && !out[0].deduplicated);
  CHECK_EQ_STR(out[19].job_id, out[1].job_id);
  CHECK_EQ_INT(atoi(pgtest_value(c, "SELECT count(*) FROM jobs WHERE idempotency_key LIKE 'batch-%'")), 17);
  /* The valid submissions committed as ONE transaction: every row they wrote
   * (17 jobs and their 'submitted' events) carries the same xmin. Exact, unlike
   * pg_stat_database.xact_commit, which lags (its delta read 0 either way). */
  CHECK_EQ_INT(atoi(pgtest_value(c, "SELECT count(DISTINCT x) FROM ("
                                    " SELECT xmin::text AS x FROM jobs WHERE idempotency_key LIKE 'batch-%'"
                                    " UNION ALL SELECT e.xmin::text FROM job_events e JOIN jobs j ON j.id = e.job_id"
                                    " WHERE j.idempotency_key LIKE 'batch-%') t")),
               1);
  CHECK_EQ_INT(atoi(pgtest_value(c, "SELECT count(*) FROM job_events e JOIN jobs j ON j.id = e.job_id"
                                    " WHERE j.idempotency_key LIKE 'batch-%'")),
               17);
}

/* ---- worker transitions --------------------------------------------------------- */

static void test_lifecycle(struct folio_pg_conn *c) {
  struct folio_arena *a = folio_arena_create(0);
  struct folio_pg_diag d;
  struct folio_job_submitted j;
  submit_one(c, "acme", NULL, &j);

  struct folio_job_claim cl;
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
  CHECK_EQ_INT(cl.attempt, 1);
  CHECK_EQ_INT(cl.state, FOLIO_JOB_RUNNING);
  CHECK_EQ_STR(cl.tenant, "acme");
  CHECK_EQ_INT(cl.layout_len, sizeof LAYOUT - 1);
  CHECK(memcmp(cl.layout, LAYOUT, cl.layout_len) == 0);
  CHECK_EQ_INT(cl.png_dpi, 72);
  CHECK_EQ_STR(cl.page_range, "1-2");
  CHECK(cl.png_include_bleed); /* stored (migration 0006) and read back by the claim */
  CHECK_EQ_INT(cl.pdf_profiles, (1u << 1) | (1u << 3)); /* the set, stored by migration 0005 */
  CHECK_EQ_INT(cl.nformats, 2);
  /* a duplicate delivery cannot claim it again */
  struct folio_job_claim cl2;
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w2", a, &cl2, &d), FOLIO_JOBS_EFENCED);
  CHECK_EQ_INT(cl2.state, FOLIO_JOB_RUNNING); /* the refusing state: the worker leaves it pending */
  CHECK_EQ_INT(folio_jobs_claim(c, "0190b5a4-0000-7000-8000-000000000000", "w2", a, &cl2, &d),
               FOLIO_JOBS_ENOTFOUND);
  CHECK_EQ_INT(cl2.state, FOLIO_JOB_UNSPECIFIED);

  bool cancel = true;
  CHECK_EQ_INT(folio_jobs_heartbeat(c, j.job_id, 1, 40, &cancel, &d), 0);
  CHECK(!cancel);
  CHECK_EQ_INT(folio_jobs_heartbeat(c, j.job_id, 1, -1, &cancel, &d), 0);
  CHECK_EQ_INT(folio_jobs_heartbeat(c, j.job_id, 2, 50, &cancel, &d), FOLIO_JOBS_EFENCED);

  struct folio_job_artifact arts[] = {
      {"document.pdf", FOLIO_FORMAT_PDF, 0, 1234,
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "application/pdf",
       "jobs/x/document.pdf"},
      {"page-0001.png", FOLIO_FORMAT_PNG, 1, 99,
       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "image/png",
       "jobs/x/page-0001.png"},
  };
  CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, 2, arts, 2, &d), FOLIO_JOBS_EFENCED);
  char q[200];
  snprintf(q, sizeof q, "SELECT count(*) FROM artifacts WHERE job_id = '%s'", j.job_id);
  CHECK_EQ_INT(atoi(pgtest_value(c, q)), 0); /* the fenced call left nothing behind */
  /* a bad artifact fails the whole transaction */
  struct folio_job_artifact bad[] = {arts[0], arts[1]};
  bad[1].sha256_hex = "not-hex";
  CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, 1, bad, 2, &d), FOLIO_PG_EQUERY);
  struct folio_job_status st;
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.state, FOLIO_JOB_RUNNING);
  CHECK_EQ_INT(st.progress_percent, 40);
  CHECK_EQ_INT(st.nartifacts, 0);

  CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, 1, arts, 2, &d), 0);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.state, FOLIO_JOB_SUCCEEDED);
  CHECK_EQ_INT(st.progress_percent, 100);
  CHECK_EQ_INT(st.attempts, 1);
  CHECK(st.started_at_us >= st.created_at_us && st.finished_at_us >= st.started_at_us);
  CHECK_EQ_INT(st.nartifacts, 2);
  CHECK_EQ_STR(st.artifacts[0].name, "document.pdf");
  CHECK_EQ_INT(st.artifacts[0].size_bytes, 1234);
  CHECK_EQ_STR(st.artifacts[1].name, "page-0001.png");
  CHECK_EQ_INT(st.artifacts[1].page, 1);
  CHECK_EQ_STR(st.artifacts[1].object_key, "jobs/x/page-0001.png");
  CHECK_EQ_INT(st.nlabels, 2);
  /* finished: no more transitions */
  CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, 1, arts, 2, &d), FOLIO_JOBS_EFENCED);
  enum folio_job_state s;
  CHECK_EQ_INT(folio_jobs_cancel(c, "acme", j.job_id, &s, &d), FOLIO_JOBS_EPRECONDITION);
  CHECK_EQ_INT(s, FOLIO_JOB_SUCCEEDED);
  CHECK(strstr(d.msg, "SUCCEEDED") != NULL);

  /* the audit trail, in order, and append-only */
  snprintf(q, sizeof q, "SELECT string_agg(kind, ',' ORDER BY id) FROM job_events WHERE job_id = '%s'",
           j.job_id);
  CHECK_EQ_STR(pgtest_value(c, q), "submitted,started,progress,succeeded");
  snprintf(q, sizeof q, "UPDATE job_events SET kind = 'failed' WHERE job_id = '%s'", j.job_id);
  CHECK_EQ_INT(folio_pg_conn_command(c, q, NULL, &d), FOLIO_PG_EQUERY);
  CHECK(strstr(d.msg, "append-only") != NULL);
  folio_arena_destroy(a);
}

static void test_retries(struct folio_pg_conn *c) {
  struct folio_arena *a = folio_arena_create(0);
  struct folio_pg_diag d;
  struct folio_job_submitted j;
  submit_one(c, "acme", NULL, &j);
  struct folio_job_claim cl;
  enum folio_job_state s;
  for (int attempt = 1; attempt <= 3; attempt++) {
    CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
    CHECK_EQ_INT(cl.attempt, attempt);
    CHECK_EQ_INT(folio_jobs_fail(c, j.job_id, attempt, true, "RENDER_TIMEOUT", "took too long", &s, &d), 0);
    CHECK_EQ_INT(s, attempt < 3 ? FOLIO_JOB_QUEUED : FOLIO_JOB_FAILED);
  }
  struct folio_job_status st;
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.state, FOLIO_JOB_FAILED);
  CHECK_EQ_STR(st.error_code, "ATTEMPTS_EXHAUSTED");
  CHECK(strstr(st.error_message, "RENDER_TIMEOUT") != NULL);
  CHECK(st.finished_at_us > 0);
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), FOLIO_JOBS_EFENCED);
  CHECK_EQ_INT(cl.state, FOLIO_JOB_FAILED); /* finished: the worker acks the entry */

  /* a deterministic failure is final at once */
  submit_one(c, "acme", NULL, &j);
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
  CHECK_EQ_INT(folio_jobs_fail(c, j.job_id, 2, false, "X", "y", &s, &d), FOLIO_JOBS_EFENCED);
  CHECK_EQ_INT(folio_jobs_fail(c, j.job_id, 1, false, "LAYOUT_TEXT_OVERFLOW",
                               "/pages/0/items/3: text does not fit its box", &s, &d), 0);
  CHECK_EQ_INT(s, FOLIO_JOB_FAILED);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_STR(st.error_code, "LAYOUT_TEXT_OVERFLOW");
  CHECK_EQ_STR(st.error_message, "/pages/0/items/3: text does not fit its box");

  /* claim's own exhaustion check, at its edge: a QUEUED job whose counted
   * attempts already equal max_attempts (max lowered meanwhile) is not
   * started again but FAILED, ATTEMPTS_EXHAUSTED */
  submit_one(c, "acme", NULL, &j);
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
  CHECK_EQ_INT(folio_jobs_fail(c, j.job_id, 1, true, "STORE_UNAVAILABLE", "down", &s, &d), 0);
  CHECK_EQ_INT(s, FOLIO_JOB_QUEUED);
  char q[200];
  snprintf(q, sizeof q, "UPDATE jobs SET max_attempts = 1 WHERE id = '%s'", j.job_id);
  CHECK_EQ_INT(folio_pg_conn_command(c, q, NULL, &d), 0);
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w2", a, &cl, &d), FOLIO_JOBS_EFENCED);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.state, FOLIO_JOB_FAILED);
  CHECK_EQ_STR(st.error_code, "ATTEMPTS_EXHAUSTED");
  CHECK_EQ_INT(st.attempts, 1);
  folio_arena_destroy(a);
}

/* A hand-back (worker shutdown) does not count as an attempt, and the
 * fencing token still moves on. */
/* The options that make findings fail a job travel from submit to claim;
 * findings commit with SUCCEEDED or a final FAILED, never with a re-queue. */
static void test_findings(struct folio_pg_conn *c) {
  struct folio_arena *a = folio_arena_create(0);
  struct folio_pg_diag d;
  struct folio_job_submit sub = basic_submit("acme", NULL);
  sub.require_clean_preflight = true;
  struct folio_job_submitted j;
  CHECK_EQ_INT(folio_jobs_submit(c, &sub, &j, &d), 0);
  struct folio_job_claim cl;
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
  CHECK(cl.require_clean_preflight && !cl.fail_on_warnings);
  struct folio_findings f;
  folio_findings_init(&f, 0);
  folio_findings_add(&f, "TEXT_OVERSET", FOLIO_FINDING_WARNING, FOLIO_FINDING_PAINT, 1, "/pages/0/items/2",
                     "text \"clipped\" caf\xC3\xA9");
  folio_findings_add(&f, "PDF_ID_MISSING", FOLIO_FINDING_ERROR, FOLIO_FINDING_PREFLIGHT, 0, NULL, "no /ID");
  enum folio_job_state s;
  /* transient: back to QUEUED, no findings kept */
  CHECK_EQ_INT(folio_jobs_fail_findings(c, j.job_id, 1, true, "STORE_UNAVAILABLE", "down", &f, &s, &d), 0);
  CHECK_EQ_INT(s, FOLIO_JOB_QUEUED);
  struct folio_job_status st;
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.nfindings, 0);
  /* final: FAILED with them */
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
  CHECK_EQ_INT(folio_jobs_fail_findings(c, j.job_id, 2, false, "PREFLIGHT_FAILED", "x", &f, &s, &d), 0);
  CHECK_EQ_INT(s, FOLIO_JOB_FAILED);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.nfindings, 2);
  CHECK_EQ_STR(st.findings[0].code, "TEXT_OVERSET");
  CHECK_EQ_INT(st.findings[0].severity, FOLIO_FINDING_WARNING);
  CHECK_EQ_INT(st.findings[0].stage, FOLIO_FINDING_PAINT);
  CHECK_EQ_INT(st.findings[0].page, 1);
  CHECK_EQ_STR(st.findings[0].pointer, "/pages/0/items/2");
  CHECK_EQ_STR(st.findings[0].message, "text \"clipped\" caf\xC3\xA9");
  CHECK_EQ_STR(st.findings[1].code, "PDF_ID_MISSING");
  CHECK_EQ_INT(st.findings[1].stage, FOLIO_FINDING_PREFLIGHT);
  /* queryable as jsonb */
  char q[200];
  snprintf(q, sizeof q, "SELECT findings @> '[{\"code\":\"PDF_ID_MISSING\"}]' FROM jobs WHERE id = '%s'",
           j.job_id);
  CHECK_EQ_STR(pgtest_value(c, q), "t");
  /* succeeded: with them, in one statement with the artifacts */
  submit_one(c, "acme", NULL, &j);
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
  CHECK(!cl.require_clean_preflight && !cl.fail_on_warnings);
  struct folio_job_artifact art = {"document.pdf", FOLIO_FORMAT_PDF, 0, 10,
                                   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                   "application/pdf", "k/doc"};
  CHECK_MSG(folio_jobs_succeed_findings(c, j.job_id, 1, &art, 1, &f, NULL, &d) == 0, "%s", d.msg);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.nfindings, 2);
  CHECK_EQ_INT(st.nartifacts, 1);
  folio_findings_fini(&f);
  folio_arena_destroy(a);
}

static void test_release(struct folio_pg_conn *c) {
  struct folio_arena *a = folio_arena_create(0);
  struct folio_pg_diag d;
  struct folio_job_submitted j;
  struct folio_job_submit s1 = basic_submit("acme", NULL);
  s1.max_attempts = 1;
  CHECK_EQ_INT(folio_jobs_submit(c, &s1, &j, &d), 0);
  struct folio_job_claim cl;
  enum folio_job_state s;
  struct folio_job_status st;
  /* released twice: max_attempts = 1 is still not used up */
  for (int token = 1; token <= 2; token++) {
    CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
    CHECK_EQ_INT(cl.attempt, token);
    CHECK_EQ_INT(folio_jobs_release(c, j.job_id, token, "worker shutdown", &s, &d), 0);
    CHECK_EQ_INT(s, FOLIO_JOB_QUEUED);
    CHECK_EQ_INT(folio_jobs_release(c, j.job_id, token, "again", &s, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
    CHECK_EQ_INT(st.state, FOLIO_JOB_QUEUED);
    CHECK_EQ_INT(st.attempts, 0);
  }
  /* the next claim is token 3 (never a reused one): the old holder is fenced */
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w2", a, &cl, &d), 0);
  CHECK_EQ_INT(cl.attempt, 3);
  CHECK_EQ_INT(folio_jobs_heartbeat(c, j.job_id, 2, 10, NULL, &d), FOLIO_JOBS_EFENCED);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.attempts, 1);
  CHECK_EQ_INT(st.max_attempts, 1);
  /* its one counted attempt fails transiently: now it is used up */
  CHECK_EQ_INT(folio_jobs_fail(c, j.job_id, 3, true, "STORE_UNAVAILABLE", "down", &s, &d), 0);
  CHECK_EQ_INT(s, FOLIO_JOB_FAILED);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_STR(st.error_code, "ATTEMPTS_EXHAUSTED");
  CHECK_MSG(strstr(st.error_message, "gave up after 1 attempts"), "%s", st.error_message);
  char q[256];
  snprintf(q, sizeof q,
           "SELECT string_agg(kind || ':' || attempt || ':' || COALESCE(detail, ''), ',' ORDER BY id)"
           " FROM job_events WHERE job_id = '%s'", j.job_id);
  CHECK_EQ_STR(pgtest_value(c, q), "submitted:0:,started:1:,released:1:worker shutdown,started:2:,"
                                   "released:2:worker shutdown,started:3:,failed:3:ATTEMPTS_EXHAUSTED");
  /* a release with a cancel pending ends the job CANCELED */
  submit_one(c, "acme", NULL, &j);
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
  CHECK_EQ_INT(folio_jobs_cancel(c, "acme", j.job_id, &s, &d), 0);
  CHECK_EQ_INT(folio_jobs_release(c, j.job_id, cl.attempt, NULL, &s, &d), 0);
  CHECK_EQ_INT(s, FOLIO_JOB_CANCELED);
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.state, FOLIO_JOB_CANCELED);
  CHECK(st.finished_at_us > 0);
  folio_arena_destroy(a);
}

/* Every fenced transition refuses a stale or wrong actor, and the refusal
 * changes nothing. A job is put RUNNING at attempt 2 (attempt 1 released), so
 * both a stale token (1) and a future one (3) exist; then each transition is
 * tried with both, and again with the right token once the job is finished. */
static const char *events_of(struct folio_pg_conn *c, const char *job_id) {
  char q[200];
  snprintf(q, sizeof q, "SELECT string_agg(kind, ',' ORDER BY id) FROM job_events WHERE job_id = '%s'",
           job_id);
  return pgtest_value(c, q);
}

static void running_at_2(struct folio_pg_conn *c, struct folio_arena *a, struct folio_job_submitted *j) {
  struct folio_pg_diag d;
  struct folio_job_claim cl;
  enum folio_job_state s;
  submit_one(c, "acme", NULL, j);
  CHECK_EQ_INT(folio_jobs_claim(c, j->job_id, "w1", a, &cl, &d), 0);
  CHECK_EQ_INT(folio_jobs_release(c, j->job_id, 1, "shutdown", &s, &d), 0);
  CHECK_EQ_INT(folio_jobs_claim(c, j->job_id, "w2", a, &cl, &d), 0);
  CHECK_EQ_INT(cl.attempt, 2);
}

static void expect_unchanged(struct folio_pg_conn *c, struct folio_arena *a, const char *job_id,
                             enum folio_job_state state, const char *events) {
  struct folio_job_status st;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.state, state);
  CHECK_EQ_INT(st.nartifacts, 0);
  CHECK_EQ_STR(events_of(c, job_id), events);
}

static void test_fences(struct folio_pg_conn *c) {
  struct folio_arena *a = folio_arena_create(0);
  struct folio_pg_diag d;
  struct folio_job_submitted j;
  struct folio_job_claim cl;
  enum folio_job_state s;
  bool cancel;
  struct folio_job_artifact art = {"document.pdf", FOLIO_FORMAT_PDF, 0, 1,
                                   "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
                                   "application/pdf", "jobs/f/document.pdf"};
  const char *running = "submitted,started,released,started";
  running_at_2(c, a, &j);
  /* claim: only a QUEUED job; a second claim of a RUNNING one is refused */
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w3", a, &cl, &d), FOLIO_JOBS_EFENCED);
  expect_unchanged(c, a, j.job_id, FOLIO_JOB_RUNNING, running);
  for (int bad = 1; bad <= 3; bad += 2) { /* stale (1) and never issued (3) */
    CHECK_EQ_INT(folio_jobs_heartbeat(c, j.job_id, bad, 30, &cancel, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, bad, &art, 1, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_fail(c, j.job_id, bad, false, "X", "y", &s, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_fail(c, j.job_id, bad, true, "X", "y", &s, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_release(c, j.job_id, bad, "stale", &s, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_cancel_confirm(c, j.job_id, bad, &d), FOLIO_JOBS_EFENCED);
    expect_unchanged(c, a, j.job_id, FOLIO_JOB_RUNNING, running);
  }
  /* cancel confirm without a cancel request, right token: refused */
  CHECK_EQ_INT(folio_jobs_cancel_confirm(c, j.job_id, 2, &d), FOLIO_JOBS_EFENCED);
  expect_unchanged(c, a, j.job_id, FOLIO_JOB_RUNNING, running);
  /* cancel request from another tenant: not found, and nothing requested */
  CHECK_EQ_INT(folio_jobs_cancel(c, "globex", j.job_id, &s, &d), FOLIO_JOBS_ENOTFOUND);
  CHECK_EQ_INT(folio_jobs_heartbeat(c, j.job_id, 2, -1, &cancel, &d), 0);
  CHECK(!cancel);
  /* the cancel request leaves a RUNNING job RUNNING (the worker confirms) */
  CHECK_EQ_INT(folio_jobs_cancel(c, "acme", j.job_id, &s, &d), 0);
  CHECK_EQ_INT(s, FOLIO_JOB_RUNNING);
  /* with a cancel pending, succeed is refused even with the right token */
  CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, 2, &art, 1, &d), FOLIO_JOBS_EFENCED);
  expect_unchanged(c, a, j.job_id, FOLIO_JOB_RUNNING, "submitted,started,released,started,cancel_requested");
  CHECK_EQ_INT(folio_jobs_cancel_confirm(c, j.job_id, 1, &d), FOLIO_JOBS_EFENCED);
  CHECK_EQ_INT(folio_jobs_cancel_confirm(c, j.job_id, 2, &d), 0);
  const char *canceled = "submitted,started,released,started,cancel_requested,canceled";
  expect_unchanged(c, a, j.job_id, FOLIO_JOB_CANCELED, canceled);

  /* finished (three ways): the right token no longer moves it */
  for (int end = 0; end < 3; end++) {
    const char *final;
    enum folio_job_state fs;
    if (end == 0) {
      final = canceled, fs = FOLIO_JOB_CANCELED;
    } else {
      running_at_2(c, a, &j);
      if (end == 1) {
        CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, 2, &art, 1, &d), 0);
        final = "submitted,started,released,started,succeeded", fs = FOLIO_JOB_SUCCEEDED;
      } else {
        CHECK_EQ_INT(folio_jobs_fail(c, j.job_id, 2, false, "X", "y", &s, &d), 0);
        final = "submitted,started,released,started,failed", fs = FOLIO_JOB_FAILED;
      }
    }
    struct folio_job_status st;
    CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
    size_t narts = st.nartifacts;
    CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w3", a, &cl, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_heartbeat(c, j.job_id, 2, 30, &cancel, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, 2, &art, 1, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_fail(c, j.job_id, 2, true, "X", "y", &s, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_release(c, j.job_id, 2, "late", &s, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_cancel_confirm(c, j.job_id, 2, &d), FOLIO_JOBS_EFENCED);
    CHECK_EQ_INT(folio_jobs_cancel(c, "acme", j.job_id, &s, &d), FOLIO_JOBS_EPRECONDITION);
    CHECK_EQ_INT(s, fs);
    CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
    CHECK_EQ_INT(st.state, fs);
    CHECK_EQ_INT(st.nartifacts, narts);
    CHECK_EQ_STR(events_of(c, j.job_id), final);
  }
  folio_arena_destroy(a);
}

static void test_cancel(struct folio_pg_conn *c) {
  struct folio_arena *a = folio_arena_create(0);
  struct folio_pg_diag d;
  struct folio_job_submitted j;
  enum folio_job_state s;
  struct folio_job_claim cl;
  /* queued: canceled at once, never claimable */
  submit_one(c, "acme", NULL, &j);
  CHECK_EQ_INT(folio_jobs_cancel(c, "acme", j.job_id, &s, &d), 0);
  CHECK_EQ_INT(s, FOLIO_JOB_CANCELED);
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), FOLIO_JOBS_EFENCED);
  CHECK_EQ_INT(folio_jobs_cancel(c, "acme", j.job_id, &s, &d), FOLIO_JOBS_EPRECONDITION);
  /* running: requested, the worker sees it and confirms */
  submit_one(c, "acme", NULL, &j);
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w1", a, &cl, &d), 0);
  CHECK_EQ_INT(folio_jobs_cancel(c, "acme", j.job_id, &s, &d), 0);
  CHECK_EQ_INT(s, FOLIO_JOB_RUNNING);
  bool cancel = false;
  CHECK_EQ_INT(folio_jobs_heartbeat(c, j.job_id, cl.attempt, 10, &cancel, &d), 0);
  CHECK(cancel);
  CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, cl.attempt, NULL, 0, &d), FOLIO_JOBS_EFENCED);
  CHECK_EQ_INT(folio_jobs_cancel_confirm(c, j.job_id, cl.attempt, &d), 0);
  struct folio_job_status st;
  CHECK_EQ_INT(folio_jobs_get_status(c, "acme", j.job_id, a, &st, &d), 0);
  CHECK_EQ_INT(st.state, FOLIO_JOB_CANCELED);
  CHECK(st.finished_at_us > 0);
  char q[200];
  snprintf(q, sizeof q, "SELECT string_agg(kind, ',' ORDER BY id) FROM job_events WHERE job_id = '%s'",
           j.job_id);
  CHECK_EQ_STR(pgtest_value(c, q), "submitted,started,cancel_requested,progress,canceled");
  folio_arena_destroy(a);
}

static void test_reconciler(struct folio_pg_conn *c) {
  struct folio_arena *a = folio_arena_create(0);
  struct folio_pg_diag d;
  /* everything queued so far was never dispatched */
  char **ids;
  size_t n;
  long queued = atol(pgtest_value(c, "SELECT count(*) FROM jobs WHERE state = 'QUEUED'"));
  CHECK(queued > 7);
  CHECK_EQ_INT(folio_jobs_take_undispatched(c, 0, 7, a, &ids, &n, &d), 0);
  CHECK_EQ_INT(n, 7);
  CHECK_EQ_INT(folio_jobs_take_undispatched(c, 0, 1000, a, &ids, &n, &d), 0);
  CHECK_EQ_INT((long)n, queued);
  /* just dispatched: not taken again within the lease */
  CHECK_EQ_INT(folio_jobs_take_undispatched(c, 600000, 100, a, &ids, &n, &d), 0);
  CHECK_EQ_INT(n, 0);

  /* a dispatched, then marked job is skipped; a fresh one is taken */
  struct folio_job_submitted j;
  submit_one(c, "acme", NULL, &j);
  CHECK_EQ_INT(folio_jobs_mark_dispatched(c, j.job_id, &d), 0);
  CHECK_EQ_INT(folio_jobs_take_undispatched(c, 600000, 100, a, &ids, &n, &d), 0);
  CHECK_EQ_INT(n, 0);

  /* a worker that stops heartbeating loses the job to the reaper */
  struct folio_job_claim cl;
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "dead-worker", a, &cl, &d), 0);
  CHECK_EQ_INT(folio_jobs_reap_stale(c, 600000, 100, a, &ids, &n, &d), 0);
  CHECK_EQ_INT(n, 0);
  struct timespec ts = {0, 5000000};
  nanosleep(&ts, NULL); /* the reaper's now() must be later than the claim's */
  CHECK_EQ_INT(folio_jobs_reap_stale(c, 0, 100, a, &ids, &n, &d), 0);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_STR(ids[0], j.job_id);
  CHECK_EQ_INT(folio_jobs_heartbeat(c, j.job_id, cl.attempt, 50, NULL, &d), FOLIO_JOBS_EFENCED);
  struct folio_job_claim cl2;
  CHECK_EQ_INT(folio_jobs_claim(c, j.job_id, "w2", a, &cl2, &d), 0);
  CHECK_EQ_INT(cl2.attempt, 2);
  /* the old claim can no longer finish it */
  CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, cl.attempt, NULL, 0, &d), FOLIO_JOBS_EFENCED);
  CHECK_EQ_INT(folio_jobs_succeed(c, j.job_id, cl2.attempt, NULL, 0, &d), 0);
  folio_arena_destroy(a);
}

/* ---- API keys ------------------------------------------------------------------ */

static void test_apikeys(struct folio_pg_conn *c) {
  struct folio_pg_diag d;
  char key[FOLIO_APIKEY_LEN + 1], id[FOLIO_UUID_STR_LEN + 1], tenant[129];
  CHECK_EQ_INT(folio_jobs_apikey_create(c, "acme", PEPPER, sizeof PEPPER, key, id, &d), 0);
  CHECK_EQ_INT(strlen(key), FOLIO_APIKEY_LEN);
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, key, PEPPER, sizeof PEPPER, tenant, sizeof tenant, &d), 0);
  CHECK_EQ_STR(tenant, "acme");
  /* the secret is not stored */
  char q[200];
  snprintf(q, sizeof q, "SELECT count(*) FROM api_keys WHERE position(convert_to('%s', 'UTF8') IN key_hash) > 0",
           key + 39);
  CHECK_EQ_INT(atoi(pgtest_value(c, q)), 0);
  /* another pepper, a changed secret, garbage: all refused the same way */
  uint8_t pepper2[32];
  memcpy(pepper2, PEPPER, 32);
  pepper2[0] ^= 1;
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, key, pepper2, 32, tenant, sizeof tenant, &d), FOLIO_JOBS_EAUTH);
  char tampered[FOLIO_APIKEY_LEN + 1];
  memcpy(tampered, key, sizeof tampered);
  tampered[FOLIO_APIKEY_LEN - 3] = tampered[FOLIO_APIKEY_LEN - 3] == 'A' ? 'B' : 'A';
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, tampered, PEPPER, 32, tenant, sizeof tenant, &d), FOLIO_JOBS_EAUTH);
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, "Bearer x", PEPPER, 32, tenant, sizeof tenant, &d), FOLIO_JOBS_EAUTH);
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, key, PEPPER, 8, tenant, sizeof tenant, &d), FOLIO_JOBS_EINVAL);
  /* revoke: scoped by tenant, then effective */
  CHECK_EQ_INT(folio_jobs_apikey_revoke(c, id, "other", &d), FOLIO_JOBS_ENOTFOUND);
  CHECK_EQ_INT(folio_jobs_apikey_revoke(c, key, "acme", &d), 0);
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, key, PEPPER, 32, tenant, sizeof tenant, &d), FOLIO_JOBS_EAUTH);
  CHECK_EQ_INT(folio_jobs_apikey_revoke(c, id, NULL, &d), FOLIO_JOBS_ENOTFOUND);
}

/* ---- the render cache (folio/render_cache.h) ---------------------------------------- */

/* Submits with a cache key and policy; returns the reply. */
static struct folio_job_submitted cache_submit(struct folio_pg_conn *c, const char *tenant,
                                               const uint8_t *ckey, int policy) {
  struct folio_job_submit s = basic_submit(tenant, NULL);
  s.cache_key = ckey;
  s.cache_policy = policy;
  struct folio_job_submitted out;
  struct folio_pg_diag d;
  CHECK_MSG(folio_jobs_submit(c, &s, &out, &d) == 0, "submit: %s", d.msg);
  return out;
}

/* Claims and succeeds job with one artifact under object key okey,
 * recording under renderer. */
static void cache_render(struct folio_pg_conn *c, const char *job, const char *okey,
                         const char *renderer) {
  struct folio_arena *a = folio_arena_create(0);
  struct folio_job_claim cl;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_jobs_claim(c, job, "w", a, &cl, &d), 0);
  struct folio_job_artifact art = {"document.pdf", FOLIO_FORMAT_PDF, 0, 10,
                                   "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                                   "application/pdf", okey};
  CHECK_MSG(folio_jobs_succeed_findings(c, job, cl.attempt, &art, 1, NULL, renderer, &d) == 0, "%s", d.msg);
  folio_arena_destroy(a);
}

static long cache_count(struct folio_pg_conn *c, const char *where_job) {
  char q[256];
  snprintf(q, sizeof q, "SELECT count(*) FROM render_cache WHERE job_id = '%s'", where_job);
  return atol(pgtest_value(c, q));
}

static void test_render_cache(struct folio_pg_conn *c) {
  static const uint8_t K[32] = {0xca, 0xce};
  char r1[65];
  memset(r1, 'e', 64), r1[64] = '\0';
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_jobs_renderer_register(c, r1, "test renderer", &d), 0);
  CHECK_EQ_INT(folio_jobs_renderer_register(c, "short", "x", &d), FOLIO_JOBS_EINVAL);
  /* a miss, rendered: the entry is recorded with SUCCEEDED */
  struct folio_job_submitted a = cache_submit(c, "cachet", K, FOLIO_CACHE_USE);
  CHECK_EQ_INT(a.state, FOLIO_JOB_QUEUED);
  CHECK(!a.from_cache);
  cache_render(c, a.job_id, "t/a/document.pdf", r1);
  CHECK_EQ_INT(cache_count(c, a.job_id), 1);
  /* the hit: SUCCEEDED at once, the same object */
  struct folio_job_submitted h = cache_submit(c, "cachet", K, FOLIO_CACHE_USE);
  CHECK_EQ_INT(h.state, FOLIO_JOB_SUCCEEDED);
  CHECK(h.from_cache);
  struct folio_arena *ar = folio_arena_create(0);
  struct folio_job_status st;
  CHECK_EQ_INT(folio_jobs_get_status(c, "cachet", h.job_id, ar, &st, &d), 0);
  CHECK(st.from_cache);
  CHECK_EQ_INT(st.nartifacts, 1);
  CHECK_EQ_STR(st.artifacts[0].object_key, "t/a/document.pdf");
  CHECK_EQ_INT(folio_jobs_get_status(c, "cachet", a.job_id, ar, &st, &d), 0);
  CHECK(!st.from_cache);
  folio_arena_destroy(ar);
  /* OFF: no lookup, and its success records nothing (the entry stays a's) */
  struct folio_job_submitted off = cache_submit(c, "cachet", K, FOLIO_CACHE_OFF);
  CHECK_EQ_INT(off.state, FOLIO_JOB_QUEUED);
  cache_render(c, off.job_id, "t/off/document.pdf", r1);
  CHECK_EQ_INT(cache_count(c, off.job_id), 0);
  CHECK_EQ_INT(cache_count(c, a.job_id), 1);
  /* BYPASS: no lookup; its success replaces the entry */
  struct folio_job_submitted by = cache_submit(c, "cachet", K, FOLIO_CACHE_BYPASS);
  CHECK_EQ_INT(by.state, FOLIO_JOB_QUEUED);
  cache_render(c, by.job_id, "t/by/document.pdf", r1);
  CHECK_EQ_INT(cache_count(c, by.job_id), 1);
  CHECK_EQ_INT(cache_count(c, a.job_id), 0);
  /* another tenant, and no renderer recorded: misses */
  CHECK_EQ_INT(cache_submit(c, "cachet-other", K, FOLIO_CACHE_USE).state, FOLIO_JOB_QUEUED);
  struct folio_job_submitted nr = cache_submit(c, "cachet", (const uint8_t[32]){1}, FOLIO_CACHE_USE);
  cache_render(c, nr.job_id, "t/nr/document.pdf", NULL);
  CHECK_EQ_INT(cache_count(c, nr.job_id), 0);
  /* a newer renderer: the old entries stop hitting */
  char r2[65];
  memset(r2, 'f', 64), r2[64] = '\0';
  CHECK_EQ_INT(folio_jobs_renderer_register(c, r2, "newer", &d), 0);
  CHECK_EQ_INT(cache_submit(c, "cachet", K, FOLIO_CACHE_USE).state, FOLIO_JOB_QUEUED);
  CHECK_EQ_INT(folio_jobs_renderer_register(c, r1, "test renderer", &d), 0);
  CHECK_EQ_INT(cache_submit(c, "cachet", K, FOLIO_CACHE_USE).state, FOLIO_JOB_SUCCEEDED);
  /* deletion safety: shared and unshared objects */
  const char *keys[] = {"t/a/document.pdf", "t/nobody/document.pdf", "t/by/document.pdf"};
  bool ref[3];
  CHECK_EQ_INT(folio_jobs_objects_referenced(c, keys, 3, ref, &d), 0);
  CHECK(ref[0] && !ref[1] && ref[2]);
  /* purge: one tenant's entries */
  long n = -1;
  CHECK_EQ_INT(folio_jobs_cache_purge(c, "cachet", &n, &d), 0);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_INT(cache_submit(c, "cachet", K, FOLIO_CACHE_USE).state, FOLIO_JOB_QUEUED);
}

/* ---- plans ----------------------------------------------------------------------- */

/* Every statement, EXPLAINed with sequential scans disabled: a "Seq Scan"
 * left in the plan means no index can serve that query. */
/* ---- layout storage (migration 0008, folio/layout_store.h) ----------------- */

/* A catalogue-like layout of about n bytes (no single quotes: it goes into a
 * SQL literal below). malloc'd. */
static char *catalogue(size_t n) {
  char *s = malloc(n + 512);
  size_t p = (size_t)sprintf(s, "{\"version\":1,\"pages\":[{\"items\":[");
  for (int i = 0; p < n; i++)
    p += (size_t)sprintf(s + p, "%s{\"type\":\"text\",\"x\":%d,\"y\":%d,\"w\":100,\"h\":14,"
                                "\"text\":\"Garden chair %d, oak and linen, %d.%02d EUR\"}",
                         i ? "," : "", 20 + i % 7, 30 + i % 11, i, i % 997, i % 100);
  sprintf(s + p, "]}]}");
  return s;
}

/* "codec stored_bytes compression" of a job's layout column. */
static void stored_form(struct folio_pg_conn *c, const char *id, int *codec, size_t *bytes,
                        char comp[16]) {
  char q[256];
  snprintf(q, sizeof q,
           "SELECT layout_codec || ' ' || octet_length(layout) || ' ' ||"
           " coalesce(pg_column_compression(layout), 'none') FROM jobs WHERE id = '%s'", id);
  CHECK_EQ_INT(sscanf(pgtest_value(c, q), "%d %zu %15s", codec, bytes, comp), 3);
}

/* A claimed job's layout, read back under a budget of exactly its size. */
static void check_claimed_layout(struct folio_pg_conn *c, const char *id, const char *json,
                                 int want_codec, struct folio_arena *a) {
  struct folio_job_claim cl;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_jobs_claim(c, id, "w1", a, &cl, &d), 0);
  CHECK_EQ_INT(cl.layout_codec, want_codec);
  size_t len = strlen(json), n;
  const uint8_t *out;
  CHECK_EQ_INT(folio_jobs_layout_unpack(cl.layout, cl.layout_len, cl.layout_codec, len, a, &out,
                                        &n, &d),
               0);
  CHECK_EQ_INT(n, len);
  CHECK(memcmp(out, json, len) == 0);
}

static void test_layout_storage(struct folio_pg_conn *c) {
  struct folio_arena *a = folio_arena_create(0);
  struct folio_pg_diag d;
  char *json = catalogue(47000);
  size_t len = strlen(json);
  /* a new row: zstd from lib/jobs, not compressed again by PostgreSQL */
  struct folio_job_submit s = {.tenant = "store", .layout = (const uint8_t *)json, .layout_len = len};
  struct folio_job_submitted j;
  CHECK_EQ_INT(folio_jobs_submit(c, &s, &j, &d), 0);
  int codec;
  size_t bytes;
  char comp[16];
  stored_form(c, j.job_id, &codec, &bytes, comp);
  CHECK_EQ_INT(codec, FOLIO_JOBS_LAYOUT_ZSTD);
  CHECK_MSG(bytes * 4 < len, "stored %zu of %zu bytes", bytes, len);
  CHECK_EQ_STR(comp, "none");
  check_claimed_layout(c, j.job_id, json, FOLIO_JOBS_LAYOUT_ZSTD, a);

  /* an old row, as every row before migration 0008 was written: the JSON
   * itself, pglz-compressed by PostgreSQL, no layout_codec given */
  CHECK(folio_pg_conn_command(c, "ALTER TABLE jobs ALTER COLUMN layout SET STORAGE EXTENDED",
                              NULL, NULL) == 0);
  char *ins = malloc(len + 256);
  static const char old_id[] = "0190b5a4-0000-7000-8000-0000000000aa";
  sprintf(ins,
          "INSERT INTO jobs (id, tenant, formats, layout)"
          " VALUES ('%s', 'store', '{1}', convert_to('%s', 'UTF8'))",
          old_id, json);
  CHECK(folio_pg_conn_command(c, ins, NULL, NULL) == 0);
  CHECK(folio_pg_conn_command(c, "ALTER TABLE jobs ALTER COLUMN layout SET STORAGE EXTERNAL",
                              NULL, NULL) == 0);
  stored_form(c, old_id, &codec, &bytes, comp);
  CHECK_EQ_INT(codec, FOLIO_JOBS_LAYOUT_PLAIN);
  CHECK_EQ_INT(bytes, len);
  CHECK_EQ_STR(comp, "pglz");
  check_claimed_layout(c, old_id, json, FOLIO_JOBS_LAYOUT_PLAIN, a);
  /* the submitted job's audit trail: submitted, then started */
  char q[256];
  snprintf(q, sizeof q, "SELECT string_agg(kind, ',' ORDER BY id) FROM job_events WHERE job_id = '%s'",
           j.job_id);
  CHECK_EQ_STR(pgtest_value(c, q), "submitted,started");
  free(ins);
  free(json);
  folio_arena_destroy(a);
}

static void test_explain(struct folio_pg_conn *c) {
  static const char *const calls[] = {
      "folio_submit('0190b5a4-0000-7000-8000-000000000001', 'acme', 'k', '{1}', 150, '', "
      "'\\x00', '{}', 3, 1000, false, true, false, 0, 0, 'abababababababababababababababababababababababababababababababab', true)",
      "folio_submit_lookup('acme', 'k')",
      "folio_status('0190b5a4-0000-7000-8000-000000000001', 'acme')",
      "folio_cancel('0190b5a4-0000-7000-8000-000000000001', 'acme')",
      "folio_claim('0190b5a4-0000-7000-8000-000000000001', 'w', 4)",
      "folio_heartbeat('0190b5a4-0000-7000-8000-000000000001', 1, 5)",
      "folio_succeed('0190b5a4-0000-7000-8000-000000000001', 1, '{a}', '{1}', '{0}', '{1}', "
      "'{x}', '{y}', '{z}', '[]', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd')",
      "folio_fail('0190b5a4-0000-7000-8000-000000000001', 1, true, 'X', 'y', NULL)",
      "folio_cancel_confirm('0190b5a4-0000-7000-8000-000000000001', 1)",
      "folio_release('0190b5a4-0000-7000-8000-000000000001', 1, 'x')",
      "folio_mark_dispatched('0190b5a4-0000-7000-8000-000000000001')",
      "folio_take_undispatched(1000, 10)",
      "folio_reap(1000, 10)",
      "folio_apikey_lookup('0190b5a4-0000-7000-8000-000000000001')",
      "folio_apikey_revoke('0190b5a4-0000-7000-8000-000000000001', NULL)",
      "folio_tenant_get('acme')",
      "folio_tenant_list",
      "folio_tenant_set('acme', true, NULL, true, NULL, false, 5, true, NULL, true, NULL, "
      "true, NULL, true, NULL, true, NULL, true, NULL, true, NULL, true, NULL, true, NULL)",
      "folio_renderer_register('cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', 'r')",
      "folio_objects_referenced('{a/b/c,d/e/f}')",
      "folio_cache_unhit('0190b5a4-0000-7000-8000-000000000001', true, 'x')",
      "folio_cache_purge('acme')", /* with NULL (every tenant) it is meant to scan */
  };
  CHECK_EQ_INT(sizeof calls / sizeof calls[0], folio_jobs_nstmts - 1); /* all but apikey_insert */
  CHECK(folio_pg_conn_command(c, "ANALYZE; SET enable_seqscan = off", NULL, NULL) == 0);
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    char q[512];
    snprintf(q, sizeof q, "EXPLAIN EXECUTE %s", calls[i]);
    PGresult *r;
    struct folio_pg_diag d;
    CHECK_MSG(folio_pg_conn_command(c, q, &r, &d) == 0, "%s: %s", q, d.msg);
    for (int row = 0; row < PQntuples(r); row++) {
      const char *line = PQgetvalue(r, row, 0);
      if (strstr(line, "Seq Scan")) {
        for (int k = 0; k < PQntuples(r); k++) fprintf(stderr, "  %s\n", PQgetvalue(r, k, 0));
        CHECK_MSG(0, "%s: no index serves it", calls[i]);
      }
    }
    PQclear(r);
  }
  CHECK(folio_pg_conn_command(c, "RESET enable_seqscan", NULL, NULL) == 0);
}

int main(void) {
  test_migrate();
  struct folio_pg_conn *c = pgtest_jobs();
  test_submit_status(c);
  test_idempotency(c);
  test_group_commit(c);
  test_lifecycle(c);
  test_retries(c);
  test_findings(c);
  test_release(c);
  test_cancel(c);
  test_fences(c);
  test_reconciler(c);
  test_apikeys(c);
  test_layout_storage(c);
  test_render_cache(c);
  test_explain(c);
  folio_pg_conn_close(c);
  return check_done();
}
