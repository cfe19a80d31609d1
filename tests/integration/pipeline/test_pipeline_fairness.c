/* Fair shares through the whole stack (docs/security.md, "Quotas and
 * fairness"): one folio-server, one folio-worker with 2 render processes,
 * two tenants.
 *
 * Render pool: tenant acme (max_running_jobs 1) queues 20 jobs, then tenant
 * beta submits one. beta's job must not wait behind acme's queue: when it has
 * SUCCEEDED, most of acme's jobs are still unfinished (without the cap both
 * render processes would take acme's entries in stream order and beta's job
 * would come last). Then everything finishes exactly once (deferred claims
 * leave no event, no attempt and no pending entry behind).
 *
 * Object keys: no artifact's object key and no signed URL names a tenant.
 *
 * usage: test_pipeline_fairness folio-server folio-worker (under stack.sh run) */
#include "pipeline.h"

enum { A_JOBS = 20 };

int main(int argc, char **argv) {
  pipeline_setup(argc, argv);
  proc_tenant_set(pl.server_bin, "acme", "--max-running-jobs 1");
  pipeline_start_servers(1);

  static struct pl_sub a[A_JOBS], b;
  for (int i = 0; i < A_JOBS; i++) snprintf(a[i].key, sizeof a[i].key, "fair-a-%d", i);
  struct pl_caller ka = {.server = 0, .tenant = 0, .subs = a, .nsubs = A_JOBS};
  pl_caller_start(&ka);
  pthread_join(ka.thread, NULL);
  pipeline_check_submissions(a, A_JOBS, A_JOBS);
  struct folio_client *cb = pl_client(0, 1);
  snprintf(b.key, sizeof b.key, "fair-b");
  pl_submit(cb, &b);
  CHECK_MSG(b.code == GRPC_STATUS_OK, "%s", b.msg);
  /* the workers start with the whole queue in the stream: acme's first */
  pipeline_start_workers(1, 2);

  char sql[200];
  snprintf(sql, sizeof sql, "SELECT state FROM jobs WHERE id = '%s'", b.job);
  double t0 = pl_now_s();
  for (;;) {
    const char *st = pgtest_value(pl.db, sql);
    if (!strcmp(st, "SUCCEEDED")) break;
    CHECK_MSG(pl_now_s() - t0 < 120, "beta's job is %s after 120 s", st);
    proc_sleep_ms(50);
  }
  long a_open = pl_count(
      "SELECT count(*) FROM jobs WHERE tenant = 'acme' AND state IN ('QUEUED', 'RUNNING')");
  printf("  beta's job SUCCEEDED after %.1f s with %ld of acme's %d jobs still unfinished\n",
         pl_now_s() - t0, a_open, A_JOBS);
  CHECK_MSG(a_open >= A_JOBS / 2, "beta waited behind acme: only %ld of %d left", a_open, A_JOBS);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM jobs WHERE tenant = 'acme' AND state = 'RUNNING'") <= 1,
               1);

  /* object keys and signed URLs carry the opaque tenant id, not the name */
  Folio__V1__Job *j = NULL;
  struct folio_client_error e;
  CHECK_MSG(folio_client_status(cb, b.job, 60, &j, &e) == 0, "%s", e.message);
  CHECK(j->n_artifacts == 1 && j->artifacts[0]->signed_url);
  const char *url = j->artifacts[0]->signed_url;
  CHECK_MSG(!strstr(url, "beta") && !strstr(url, "acme"), "signed URL names a tenant: %s", url);
  snprintf(sql, sizeof sql, "SELECT id::text FROM tenants WHERE name = 'beta'");
  CHECK_MSG(strstr(url, pgtest_value(pl.db, sql)) != NULL, "%s", url);
  folio_client_free(j);

  pipeline_wait_settled(300);
  pipeline_check_exactly_once(A_JOBS + 1);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM artifacts WHERE object_key LIKE '%acme%'"
                        " OR object_key LIKE '%beta%'"),
               0);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM artifacts a JOIN jobs j ON j.id = a.job_id"
                        " JOIN tenants t ON t.name = j.tenant"
                        " WHERE a.object_key NOT LIKE t.id::text || '/%'"),
               0);
  pipeline_check_objects(5);
  pipeline_check_status(a, A_JOBS);
  pipeline_wait_nothing_pending();
  folio_client_close(cb);
  pipeline_stop_all();
  return pipeline_done();
}
