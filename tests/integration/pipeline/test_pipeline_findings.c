/* Findings through the deployed pipeline (one folio-server, one folio-worker):
 * a layout whose text is clipped and whose rectangle lies off the page
 *   - without options: SUCCEEDED, and GetStatus and WatchJob's final message
 *     carry both findings (code, severity, stage, page, pointer, message);
 *   - with RenderOptions.fail_on_warnings: FAILED with JobError.code
 *     "FINDINGS" naming the first finding, the findings still returned, and
 *     no artifact left (no rows, no S3 object);
 *   - a clean layout with fail_on_warnings: SUCCEEDED with no findings.
 *
 * usage: test_pipeline_findings folio-server folio-worker (under stack.sh run) */
/* pipeline.h's helpers for the bulk tests are not all needed here */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "pipeline.h"
#include "folio/tenant.h"

static const char *const DIRTY =
    "{\"version\":1,\"pages\":[{\"items\":["
    "{\"type\":\"text\",\"x\":40,\"y\":40,\"w\":60,\"h\":14,\"overflow\":\"clip\","
    "\"text\":\"far too much text for so small a box\"},"
    "{\"type\":\"rect\",\"x\":-400,\"y\":10,\"w\":100,\"h\":100,\"fill\":\"#ff0000\"}]}]}";
static const char *const CLEAN =
    "{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":40,\"y\":40,\"w\":300,\"h\":40,"
    "\"text\":\"fits\"}]}]}";

static void submit(struct folio_client *c, const char *layout, bool fail_on_warnings, char *job) {
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  Folio__V1__RenderOptions opt = FOLIO__V1__RENDER_OPTIONS__INIT;
  opt.fail_on_warnings = fail_on_warnings;
  req.options = &opt;
  req.layout_json.data = (uint8_t *)(uintptr_t)layout;
  req.layout_json.len = strlen(layout);
  Folio__V1__Format pdf = FOLIO__V1__FORMAT__FORMAT_PDF;
  req.formats = &pdf;
  req.n_formats = 1;
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct folio_client_error e = {0};
  CHECK_MSG(folio_client_submit(c, &req, &resp, &e) == 0, "submit: %s", e.message);
  snprintf(job, FOLIO_UUID_STR_LEN + 1, "%s", resp->job_id);
  folio_client_free(resp);
}

static int on_watch(const Folio__V1__Job *j, void *ud) {
  (void)j, (void)ud;
  return 0;
}

/* WatchJob to the end; returns the final message (folio_client_free it). */
static Folio__V1__Job *watch(struct folio_client *c, const char *job) {
  Folio__V1__Job *fin = NULL;
  struct folio_client_error e = {0};
  CHECK_MSG(folio_client_watch(c, job, on_watch, NULL, &fin, &e) == 0, "watch: %s", e.message);
  CHECK(fin != NULL);
  return fin;
}

static const Folio__V1__Finding *find(const Folio__V1__Job *j, const char *code) {
  for (size_t i = 0; i < j->n_findings; i++)
    if (!strcmp(j->findings[i]->code, code)) return j->findings[i];
  return NULL;
}

static void check_dirty_findings(const Folio__V1__Job *j) {
  CHECK_EQ_INT(j->n_findings, 2);
  const Folio__V1__Finding *f = find(j, "TEXT_OVERSET");
  CHECK(f);
  CHECK_EQ_INT(f->severity, FOLIO__V1__FINDING_SEVERITY__FINDING_SEVERITY_WARNING);
  CHECK_EQ_INT(f->stage, FOLIO__V1__FINDING_STAGE__FINDING_STAGE_PAINT);
  CHECK_EQ_INT(f->page, 1);
  CHECK_EQ_STR(f->pointer, "/pages/0/items/0");
  CHECK_MSG(strstr(f->message, "lines not shown") != NULL, "%s", f->message);
  f = find(j, "OBJECT_OFF_PAGE");
  CHECK(f);
  CHECK_EQ_INT(f->page, 1);
  CHECK_EQ_STR(f->pointer, "/pages/0/items/1");
  CHECK_EQ_STR(j->findings[0]->code, "TEXT_OVERSET"); /* in the order reported */
}

int main(int argc, char **argv) {
  pipeline_setup(argc, argv);
  pipeline_start_servers(1);
  pipeline_start_workers(1, 1);
  struct folio_client *c = pl_client(0, 0);
  struct folio_client_error e = {0};

  /* 1. reported, not failed */
  char job[FOLIO_UUID_STR_LEN + 1];
  submit(c, DIRTY, false, job);
  Folio__V1__Job *w = watch(c, job);
  CHECK_EQ_INT(w->state, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  check_dirty_findings(w);
  folio_client_free(w);
  Folio__V1__Job *st = NULL;
  CHECK_MSG(folio_client_status(c, job, 0, &st, &e) == 0, "%s", e.message);
  CHECK_EQ_INT(st->state, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  CHECK_EQ_INT(st->n_artifacts, 1);
  check_dirty_findings(st);
  folio_client_free(st);
  printf("SUCCEEDED with TEXT_OVERSET and OBJECT_OFF_PAGE in GetStatus and WatchJob\n");

  /* 2. fail_on_warnings: FAILED, code FINDINGS, findings kept, no artifacts */
  submit(c, DIRTY, true, job);
  w = watch(c, job);
  CHECK_EQ_INT(w->state, FOLIO__V1__JOB_STATE__JOB_STATE_FAILED);
  check_dirty_findings(w);
  folio_client_free(w);
  CHECK_MSG(folio_client_status(c, job, 0, &st, &e) == 0, "%s", e.message);
  CHECK_EQ_INT(st->state, FOLIO__V1__JOB_STATE__JOB_STATE_FAILED);
  CHECK(st->error);
  CHECK_EQ_STR(st->error->code, "FINDINGS");
  CHECK_MSG(strstr(st->error->message, "TEXT_OVERSET on page 1 at /pages/0/items/0") != NULL, "%s",
            st->error->message);
  CHECK_EQ_INT(st->attempts, 1); /* permanent: not retried */
  CHECK_EQ_INT(st->n_artifacts, 0);
  check_dirty_findings(st);
  folio_client_free(st);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM artifacts WHERE job_id = '%s'", job);
  CHECK_EQ_INT(pl_count(sql), 0);
  snprintf(sql, sizeof sql, "SELECT t.id::text FROM tenants t WHERE t.name = '%s'", PL_TENANT_NAMES[0]);
  char tenant_id[64], key[512];
  snprintf(tenant_id, sizeof tenant_id, "%s", pgtest_value(pl.db, sql));
  CHECK(folio_jobs_object_key(key, sizeof key, tenant_id, job, "document.pdf") > 0);
  struct folio_s3_sync_result res;
  folio_s3_sync_head(&pl.s3, key, &res);
  CHECK_MSG(res.http_status == 404, "HEAD %s: %ld (the failed job's PDF must be gone)", key, res.http_status);
  printf("fail_on_warnings: FAILED %s, findings returned, no artifact left\n", "FINDINGS");

  /* 3. a clean document passes fail_on_warnings */
  submit(c, CLEAN, true, job);
  w = watch(c, job);
  CHECK_EQ_INT(w->state, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  CHECK_EQ_INT(w->n_findings, 0);
  folio_client_free(w);
  printf("a clean document with fail_on_warnings: SUCCEEDED, no findings\n");

  folio_client_close(c);
  pipeline_wait_nothing_pending(); /* the FAILED job's entry was acked too */
  pipeline_stop_all();
  return pipeline_done();
}
