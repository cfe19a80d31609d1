/* Per-tenant limits in PostgreSQL (lib/jobs, migrations 0003, 0004): the
 * unfinished-jobs quota (exact, race-free across connections, nothing
 * written when refused, duplicates still answered), the running-jobs cap at
 * claim (deferral and re-dispatch) and the render overrides it returns, the
 * overrides of the processes' own budgets (tenant set/show/list, layout
 * limits only lowered), the opaque tenant id in object keys,
 * the `tenant` admin command, and API-key verification doing the same work
 * for an unknown key id and a wrong secret. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "folio/tenant.h"
#include "admin_run.h"
#include "pgtest.h"

static const char LAYOUT[] = "{\"pages\":[{\"w\":100,\"h\":100}]}";

static struct folio_job_submit sub(const char *tenant, const char *key) {
  return (struct folio_job_submit){.tenant = tenant,
                                   .idempotency_key = key,
                                   .layout = (const uint8_t *)LAYOUT,
                                   .layout_len = sizeof LAYOUT - 1};
}

static long count(struct folio_pg_conn *c, const char *sql) { return atol(pgtest_value(c, sql)); }

static void set_limit(struct folio_pg_conn *c, const char *tenant, const char *name, double v) {
  bool set[FOLIO_TENANT_MAX_LIMITS] = {false}, reset[FOLIO_TENANT_MAX_LIMITS] = {false};
  double value[FOLIO_TENANT_MAX_LIMITS] = {0};
  int k = folio_tenant_limit_find(name);
  CHECK(k >= 0);
  set[k] = true;
  value[k] = v;
  struct folio_pg_diag d;
  CHECK_MSG(folio_jobs_tenant_set(c, tenant, set, reset, value, &d) == 0, "%s", d.msg);
}

/* ---- racing submitters: the quota holds across connections ---------------- */

enum { RACERS = 6, PER_RACER = 10, RACE_LIMIT = 17 };
static int race_ok[RACERS], race_quota[RACERS];

static void *racer(void *arg) {
  int i = (int)(intptr_t)arg;
  struct folio_pg_conn *c = pgtest_jobs();
  for (int k = 0; k < PER_RACER; k++) {
    struct folio_job_submit s = sub("racer", NULL);
    struct folio_job_submitted out;
    struct folio_pg_diag d;
    int rc = folio_jobs_submit(c, &s, &out, &d);
    if (rc == 0) race_ok[i]++;
    else if (rc == FOLIO_JOBS_EQUOTA) race_quota[i]++;
    else TCHECK(0, "submit: %d %s", rc, d.msg);
  }
  folio_pg_conn_close(c);
  return NULL;
}

/* The same racers through group commit: batches of 5 on each connection. */
static void *batch_racer(void *arg) {
  int i = (int)(intptr_t)arg;
  struct folio_pg_conn *c = pgtest_jobs();
  for (int k = 0; k < PER_RACER / 5; k++) {
    struct folio_job_submit s[5];
    struct folio_job_submitted out[5];
    int rcs[5];
    for (int j = 0; j < 5; j++) s[j] = sub("batcher", NULL);
    folio_jobs_submit_batch(c, 5, s, out, rcs, NULL);
    for (int j = 0; j < 5; j++) {
      if (rcs[j] == 0) race_ok[i]++;
      else if (rcs[j] == FOLIO_JOBS_EQUOTA) race_quota[i]++;
      else TCHECK(0, "batch submit: %d", rcs[j]);
    }
  }
  folio_pg_conn_close(c);
  return NULL;
}

static void race(struct folio_pg_conn *c, const char *tenant, void *(*fn)(void *)) {
  set_limit(c, tenant, "max_unfinished_jobs", RACE_LIMIT);
  memset(race_ok, 0, sizeof race_ok);
  memset(race_quota, 0, sizeof race_quota);
  pthread_t t[RACERS];
  for (int i = 0; i < RACERS; i++) pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i);
  int ok = 0, refused = 0;
  for (int i = 0; i < RACERS; i++) {
    pthread_join(t[i], NULL);
    ok += race_ok[i];
    refused += race_quota[i];
  }
  CHECK_EQ_INT(ok, RACE_LIMIT);
  CHECK_EQ_INT(refused, RACERS * PER_RACER - RACE_LIMIT);
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs WHERE tenant = '%s'", tenant);
  CHECK_EQ_INT(count(c, sql), RACE_LIMIT);
  snprintf(sql, sizeof sql, "SELECT unfinished_jobs FROM tenants WHERE name = '%s'", tenant);
  CHECK_EQ_INT(count(c, sql), RACE_LIMIT);
}

/* ---- admin command ------------------------------------------------------------ */


int main(void) {
  struct folio_pg_conn *plain = pgtest_plain();
  CHECK_EQ_INT(folio_jobs_migrate(plain, NULL, NULL), 0);
  folio_pg_conn_close(plain);
  struct folio_pg_conn *c = pgtest_jobs();
  struct folio_pg_diag d;
  struct folio_job_submitted out;

  /* ---- max_unfinished_jobs ---- */
  set_limit(c, "acme", "max_unfinished_jobs", 3);
  char ids[3][FOLIO_UUID_STR_LEN + 1];
  for (int i = 0; i < 3; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    struct folio_job_submit s = sub("acme", key);
    CHECK_EQ_INT(folio_jobs_submit(c, &s, &out, &d), 0);
    memcpy(ids[i], out.job_id, sizeof ids[i]);
  }
  long events = count(c, "SELECT count(*) FROM job_events");
  struct folio_job_submit over = sub("acme", "k3");
  CHECK_EQ_INT(folio_jobs_submit(c, &over, &out, &d), FOLIO_JOBS_EQUOTA);
  CHECK_MSG(strstr(d.msg, "max_unfinished_jobs") && strstr(d.msg, "3"), "%s", d.msg);
  CHECK_EQ_INT(count(c, "SELECT count(*) FROM jobs WHERE tenant = 'acme'"), 3);
  CHECK_EQ_INT(count(c, "SELECT count(*) FROM job_events"), events); /* nothing written */
  /* a duplicate of an accepted job is answered, quota or not */
  struct folio_job_submit dup = sub("acme", "k1");
  CHECK_EQ_INT(folio_jobs_submit(c, &dup, &out, &d), 0);
  CHECK(out.deduplicated && strcmp(out.job_id, ids[1]) == 0);
  /* another tenant is untouched */
  struct folio_job_submit other = sub("globex", NULL);
  CHECK_EQ_INT(folio_jobs_submit(c, &other, &out, &d), 0);
  /* a finished job frees a slot: cancel (QUEUED -> CANCELED) */
  CHECK_EQ_INT(folio_jobs_cancel(c, "acme", ids[0], NULL, &d), 0);
  CHECK_EQ_INT(count(c, "SELECT unfinished_jobs FROM tenants WHERE name = 'acme'"), 2);
  CHECK_EQ_INT(folio_jobs_submit(c, &over, &out, &d), 0);
  CHECK_EQ_INT(folio_jobs_submit(c, &(struct folio_job_submit){.tenant = "acme",
                                                                .layout = (const uint8_t *)LAYOUT,
                                                                .layout_len = sizeof LAYOUT - 1},
                                 &out, &d),
               FOLIO_JOBS_EQUOTA);
  /* the async path and group commit refuse the same way */
  struct folio_job_submit batch[2] = {sub("acme", NULL), sub("globex", NULL)};
  struct folio_job_submitted bout[2];
  int rcs[2];
  CHECK_EQ_INT(folio_jobs_submit_batch(c, 2, batch, bout, rcs, &d), FOLIO_JOBS_EQUOTA);
  CHECK_EQ_INT(rcs[0], FOLIO_JOBS_EQUOTA);
  CHECK_EQ_INT(rcs[1], 0);

  race(c, "racer", racer);
  race(c, "batcher", batch_racer);

  /* ---- max_running_jobs at claim, and the opaque tenant id ---- */
  set_limit(c, "render-a", "max_running_jobs", 1);
  char a1[37], a2[37], b1[37];
  struct folio_job_submit sa = sub("render-a", NULL), sb = sub("render-b", NULL);
  CHECK_EQ_INT(folio_jobs_submit(c, &sa, &out, &d), 0);
  memcpy(a1, out.job_id, sizeof a1);
  CHECK_EQ_INT(folio_jobs_submit(c, &sa, &out, &d), 0);
  memcpy(a2, out.job_id, sizeof a2);
  CHECK_EQ_INT(folio_jobs_submit(c, &sb, &out, &d), 0);
  memcpy(b1, out.job_id, sizeof b1);
  struct folio_arena *arena = folio_arena_create(4096);
  struct folio_job_claim cl;
  CHECK_EQ_INT(folio_jobs_claim(c, a1, "w1", arena, &cl, &d), 0);
  CHECK(cl.tenant_id && folio_uuid_valid(cl.tenant_id));
  CHECK(strstr(cl.tenant_id, "render") == NULL);
  char okey[256];
  CHECK(folio_jobs_object_key(okey, sizeof okey, cl.tenant_id, a1, "document.pdf") > 0);
  CHECK_MSG(strstr(okey, "render-a") == NULL && strstr(okey, cl.tenant_id) == okey, "%s", okey);
  struct folio_tenant_info ti;
  CHECK_EQ_INT(folio_jobs_tenant_get(c, "render-a", &ti, &d), 0);
  CHECK_EQ_STR(ti.id, cl.tenant_id);
  int fa = cl.attempt;
  /* a2: tenant render-a already has 1 RUNNING -> deferred, still QUEUED */
  CHECK_EQ_INT(folio_jobs_claim(c, a2, "w2", arena, &cl, &d), FOLIO_JOBS_EFENCED);
  CHECK_MSG(strstr(d.msg, "deferred") != NULL, "%s", d.msg);
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT state FROM jobs WHERE id = '%s'", a2);
  CHECK_EQ_STR(pgtest_value(c, sql), "QUEUED");
  /* ... and the reconciler leaves it alone while render-a is at its cap (a
   * re-dispatch would only be deferred again, ahead of other tenants' jobs) */
  char **taken;
  size_t ntaken;
  CHECK_EQ_INT(folio_jobs_take_undispatched(c, 60000, 10, arena, &taken, &ntaken, &d), 0);
  bool again = false;
  for (size_t i = 0; i < ntaken; i++) again |= strcmp(taken[i], a2) == 0;
  CHECK_MSG(!again, "a deferred job was re-dispatched while its tenant is at max_running_jobs");
  /* the other tenant is claimed meanwhile; it has no render overrides */
  CHECK_EQ_INT(folio_jobs_claim(c, b1, "w2", arena, &cl, &d), 0);
  CHECK_EQ_INT(cl.render_cpu_ms, 0);
  CHECK_EQ_INT(cl.render_image_cache_bytes, 0);
  /* a1 finishes: a2 may run, and its claim brings render-a's render
   * overrides (migration 0004), set meanwhile */
  CHECK_EQ_INT(folio_jobs_fail(c, a1, fa, false, "X", "done", NULL, &d), 0);
  /* a1 ended: the reconciler's next query hands a2 out again at once */
  CHECK_EQ_INT(folio_jobs_take_undispatched(c, 60000, 10, arena, &taken, &ntaken, &d), 0);
  again = false;
  for (size_t i = 0; i < ntaken; i++) again |= strcmp(taken[i], a2) == 0;
  CHECK_MSG(again, "the deferred job was not re-dispatched once its tenant had room");
  set_limit(c, "render-a", "render_cpu_ms", 250);
  set_limit(c, "render-a", "render_image_cache_bytes", 4096);
  CHECK_EQ_INT(folio_jobs_claim(c, a2, "w2", arena, &cl, &d), 0);
  CHECK_EQ_INT(cl.render_cpu_ms, 250);
  CHECK_EQ_INT(cl.render_image_cache_bytes, 4096);
  folio_arena_destroy(arena);

  /* ---- `tenant` admin command ---- */
  CHECK_EQ_INT(admin_run("tenant", "set", "cli", "--submit-rate", "2.5", "--max-running-jobs", "7",
                   NULL),
               0);
  CHECK_MSG(strstr(admin_out, "submit_rate 2.5 per second(set)") != NULL, "%s", admin_out);
  CHECK_MSG(strstr(admin_out, "max_running_jobs 7 jobs(set)") != NULL, "%s", admin_out);
  CHECK_MSG(strstr(admin_out, "max_unfinished_jobs 1000 jobs(default)") != NULL, "%s", admin_out);
  CHECK_EQ_INT(admin_run("tenant", "set", "cli", "--submit-rate", "default", NULL), 0);
  CHECK_MSG(strstr(admin_out, "submit_rate 100 per second(default)") != NULL, "%s", admin_out);
  CHECK_MSG(strstr(admin_out, "max_running_jobs 7 jobs(set)") != NULL, "%s", admin_out);
  CHECK_EQ_INT(admin_run("tenant", "show", "cli", NULL), 0);
  CHECK(strstr(admin_out, "tenant cli") != NULL);
  CHECK_EQ_INT(admin_run("tenant", "set", "cli", "--submit-burst", "0", NULL), 2);
  CHECK(strstr(admin_err, "submit_burst") != NULL);
  CHECK_EQ_INT(admin_run("tenant", "set", "cli", "--no-such-limit", "1", NULL), 2);
  CHECK_EQ_INT(admin_run("tenant", "set", "cli", "--submit-rate", "fast", NULL), 2);
  CHECK_EQ_INT(admin_run("tenant", "show", "nobody", NULL), 1);
  CHECK_EQ_INT(admin_run("tenant", "list", NULL), 0);
  CHECK_MSG(strstr(admin_out, "cli unfinished_jobs=0 max_running_jobs=7") != NULL, "%s", admin_out);
  CHECK(strstr(admin_out, "acme unfinished_jobs=3 max_unfinished_jobs=3") != NULL);
  /* the process-budget overrides: no value until set (the process's own),
   * set, listed, and `default` clears them */
  CHECK_EQ_INT(admin_run("tenant", "show", "cli", NULL), 0);
  CHECK_MSG(strstr(admin_out, "render_cpu_ms - (default: FOLIO_RENDER_CPU_MS of the worker)"), "%s",
            admin_out);
  CHECK_EQ_INT(admin_run("tenant", "set", "cli", "--render-cpu-ms", "1500", "--streams-per-tenant", "2",
                   "--layout-max-bytes", "65536", "--layout-max-image-bytes-total", "1000000",
                   "--layout-max-pages", "5", "--render-image-cache-bytes", "8388608", NULL),
               0);
  CHECK_MSG(strstr(admin_out, "render_cpu_ms 1500 ms(set)") &&
                strstr(admin_out, "render_image_cache_bytes 8388608 bytes(set)") &&
                strstr(admin_out, "streams_per_tenant 2 streams(set)") &&
                strstr(admin_out, "layout_max_bytes 65536 bytes(set)") &&
                strstr(admin_out, "layout_max_image_bytes_total 1000000 bytes(set)") &&
                strstr(admin_out, "layout_max_pages 5 pages(set)") &&
                strstr(admin_out, "max_running_jobs 7 jobs(set)"),
            "%s", admin_out);
  CHECK_EQ_INT(admin_run("tenant", "set", "cli", "--render-cpu-ms", "default", "--layout-max-pages", "0",
                   NULL),
               2); /* below the minimum: nothing changed */
  CHECK_EQ_INT(admin_run("tenant", "set", "cli", "--render-cpu-ms", "default", NULL), 0);
  CHECK_MSG(strstr(admin_out, "render_cpu_ms - (default: FOLIO_RENDER_CPU_MS of the worker)") &&
                strstr(admin_out, "layout_max_pages 5 pages(set)"),
            "%s", admin_out);
  CHECK_EQ_INT(admin_run("tenant", "list", NULL), 0);
  CHECK_MSG(strstr(admin_out, "cli unfinished_jobs=0 max_running_jobs=7 render_image_cache_bytes=8388608"
                            " streams_per_tenant=2 layout_max_bytes=65536"),
            "%s", admin_out);
  /* the server's layout limits for cli: each override only lowers */
  CHECK_EQ_INT(folio_jobs_tenant_get(c, "cli", &ti, &d), 0);
  struct folio_layout_limits proc_lim, eff;
  folio_layout_limits_default(&proc_lim);
  proc_lim.max_pages = 3; /* below cli's 5: the process's stays */
  uint32_t lowered = folio_tenant_layout_limits(&ti.limits, &proc_lim, &eff);
  CHECK_EQ_INT(eff.max_bytes, 65536);
  CHECK_EQ_INT(eff.max_image_bytes_total, 1000000);
  CHECK_EQ_INT(eff.max_pages, 3);
  CHECK_EQ_INT(eff.max_depth, proc_lim.max_depth);
  CHECK_EQ_INT(lowered, (1u << folio_tenant_limit_find("layout_max_bytes")) |
                            (1u << folio_tenant_limit_find("layout_max_image_bytes_total")));

  /* ---- API keys: an unknown id costs what a wrong secret costs ---- */
  const uint8_t pepper[] = "a-pepper-of-thirty-two-bytes-123";
  size_t plen = sizeof pepper - 1;
  char key[FOLIO_APIKEY_LEN + 1], tenant[129];
  CHECK_EQ_INT(folio_jobs_apikey_create(c, "keyed", pepper, plen, key, NULL, &d), 0);
  set_limit(c, "keyed", "submit_burst", 9);
  struct folio_tenant_limits lim;
  CHECK_EQ_INT(folio_jobs_apikey_verify_limits(c, key, pepper, plen, tenant, sizeof tenant, &lim,
                                               &d),
               0);
  CHECK_EQ_STR(tenant, "keyed");
  CHECK_EQ_INT(lim.submit_burst, 9);
  CHECK_EQ_INT(lim.streams_per_tenant, 0); /* not set: the server's own */
  set_limit(c, "keyed", "streams_per_tenant", 3);
  set_limit(c, "keyed", "layout_max_pages", 4);
  CHECK_EQ_INT(folio_jobs_apikey_verify_limits(c, key, pepper, plen, tenant, sizeof tenant, &lim,
                                               &d),
               0);
  CHECK_EQ_INT(lim.streams_per_tenant, 3); /* the server learns them with the key */
  CHECK_EQ_INT(lim.layout_max_pages, 4);
  CHECK_EQ_INT(lim.max_unfinished_jobs, FOLIO_TENANT_DEFAULT_MAX_UNFINISHED_JOBS);
  char wrong[FOLIO_APIKEY_LEN + 1], unknown[FOLIO_APIKEY_LEN + 1];
  memcpy(wrong, key, sizeof wrong);
  wrong[FOLIO_APIKEY_LEN - 2] = wrong[FOLIO_APIKEY_LEN - 2] == 'A' ? 'B' : 'A';
  memcpy(unknown, key, sizeof unknown);
  unknown[10] = unknown[10] == 'a' ? 'b' : 'a';
  unsigned long h0, c0, h1, c1, h2, c2;
  folio_jobs_apikey_work_counts(&h0, &c0);
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, wrong, pepper, plen, tenant, sizeof tenant, &d),
               FOLIO_JOBS_EAUTH);
  folio_jobs_apikey_work_counts(&h1, &c1);
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, unknown, pepper, plen, tenant, sizeof tenant, &d),
               FOLIO_JOBS_EAUTH);
  folio_jobs_apikey_work_counts(&h2, &c2);
  CHECK_EQ_INT(h1 - h0, 1);
  CHECK_EQ_INT(c1 - c0, 1);
  CHECK_EQ_INT(h2 - h1, h1 - h0); /* the unknown id: the same hashing and compare */
  CHECK_EQ_INT(c2 - c1, c1 - c0);
  /* a key's tenant has its tenants row from the start (limits, opaque id) */
  CHECK_EQ_INT(folio_jobs_apikey_create(c, "fresh", pepper, plen, key, NULL, &d), 0);
  CHECK_EQ_INT(folio_jobs_tenant_get(c, "fresh", &ti, &d), 0);
  CHECK(folio_uuid_valid(ti.id));

  folio_pg_conn_close(c);
  return check_done();
}
