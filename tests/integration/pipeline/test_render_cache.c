/* The render cache through the whole pipeline (folio-server, folio-worker,
 * PostgreSQL, Redis, Ceph RGW; pipeline.h), as a caller sees it:
 *
 *  1. determinism: the same document rendered twice fresh (cache off) gives
 *     byte-identical PDF, PNG and SLA - checked on the stored bytes - and
 *     records no entry;
 *  2. a miss renders and records; the resubmit is SUCCEEDED in the
 *     SubmitLayout reply, from_cache, with the same names, sizes and sha256s
 *     as the fresh renders, the same S3 objects (no copy), the events
 *     'submitted' + 'succeeded' naming the source job, labels kept, and an
 *     idempotency key answered with the hit again; a whitespace/member-order/
 *     number-spelling variant hits too, and the hit streams whole;
 *  3. misses: another tenant's identical document, every option change
 *     (formats, png_dpi, page_range), CACHE_POLICY_OFF; CACHE_POLICY_BYPASS
 *     renders and replaces the entry;
 *  4. a failed job records nothing (its resubmit renders and fails again);
 *  5. deletion safety: a failing attempt's cleanup keeps an object another
 *     job's artifact row refers to, and still deletes the ones nobody uses;
 *  6. a hit whose objects vanished from the bucket is not answered
 *     SUCCEEDED: the job renders (QUEUED in the reply, a 'retried' event
 *     saying why), the dead entry is gone, the next resubmit hits the new
 *     job;
 *  7. `folio-server cache purge --tenant` forgets the tenant's entries.
 *
 * usage: test_render_cache folio-server folio-worker (under scripts/stack.sh run) */
/* pipeline.h's helpers for the scale tests go unused here */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "pipeline.h"

#define ACME 0
#define BETA 1

static struct folio_client *cl[PL_TENANTS];

/* Two pages, a rectangle and a line of text each. */
static const char DOC[] =
    "{\"version\":1,\"meta\":{\"title\":\"cache\"},\"pages\":["
    "{\"items\":[{\"type\":\"rect\",\"x\":20,\"y\":20,\"w\":200,\"h\":100,\"fill\":\"#3366cc\"},"
    "{\"type\":\"text\",\"x\":40,\"y\":160,\"w\":400,\"h\":40,\"text\":\"render cache one\"}]},"
    "{\"items\":[{\"type\":\"rect\",\"x\":30,\"y\":30,\"w\":100,\"h\":100,\"fill\":\"#cc3366\"},"
    "{\"type\":\"text\",\"x\":40,\"y\":160,\"w\":400,\"h\":40,\"text\":\"render cache two\"}]}]}";

/* DOC again: other whitespace, member order, escapes and number spellings. */
static const char DOC_VARIANT[] =
    "{\n  \"pages\" : [\n"
    "  { \"items\" : [ { \"fill\":\"#3366cc\", \"h\":1e2, \"w\":200.0, \"y\":20, \"x\":20, \"type\":\"rect\" },\n"
    "    { \"text\":\"render cache \\u006fne\", \"h\":40, \"w\":400, \"y\":160, \"x\":40, \"type\":\"text\" } ] },\n"
    "  { \"items\" : [ { \"type\":\"rect\", \"x\":30, \"y\":30, \"w\":100, \"h\":100, \"fill\":\"#cc3366\" },\n"
    "    { \"type\":\"text\", \"x\":40, \"y\":160, \"w\":400, \"h\":40, \"text\":\"render cache two\" } ] } ],\n"
    "  \"meta\" : { \"title\" : \"cache\" },\n  \"version\" : 1\n}\n";

/* Renders fine as a PDF; its PNG at 1200 dpi is over the renderer's pixel
 * cap, so the job FAILS after its PDF was uploaded (the cleanup path). */
static const char DOC_HUGE_PNG[] =
    "{\"version\":1,\"page\":{\"size\":\"A0\"},\"pages\":["
    "{\"items\":[{\"type\":\"rect\",\"x\":20,\"y\":20,\"w\":200,\"h\":100,\"fill\":\"#3366cc\"}]}]}";

struct sub {
  const char *layout;
  int tenant;
  Folio__V1__Format formats[3];
  size_t nformats;
  uint32_t dpi;
  const char *pages;
  Folio__V1__CachePolicy cache;
  const char *idem;
  const char *label; /* one label "who" = label */
};

struct reply {
  char job[FOLIO_UUID_STR_LEN + 1];
  Folio__V1__JobState state;
  bool dedup;
};

static const Folio__V1__Format ALL3[3] = {FOLIO__V1__FORMAT__FORMAT_PDF,
                                          FOLIO__V1__FORMAT__FORMAT_PNG,
                                          FOLIO__V1__FORMAT__FORMAT_SLA};

static struct reply submit(const struct sub *s) {
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  req.layout_json.data = (uint8_t *)(uintptr_t)s->layout;
  req.layout_json.len = strlen(s->layout);
  req.formats = (Folio__V1__Format *)(uintptr_t)s->formats;
  req.n_formats = s->nformats;
  Folio__V1__RenderOptions o = FOLIO__V1__RENDER_OPTIONS__INIT;
  o.png_dpi = s->dpi;
  o.page_range = (char *)(uintptr_t)(s->pages ? s->pages : "");
  o.cache = s->cache;
  req.options = &o;
  req.idempotency_key = (char *)(uintptr_t)(s->idem ? s->idem : "");
  Folio__V1__SubmitLayoutRequest__LabelsEntry le = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__LABELS_ENTRY__INIT;
  Folio__V1__SubmitLayoutRequest__LabelsEntry *lp = &le;
  if (s->label) {
    le.key = (char *)(uintptr_t) "who";
    le.value = (char *)(uintptr_t)s->label;
    req.labels = &lp;
    req.n_labels = 1;
  }
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct folio_client_error e = {0};
  CHECK_MSG(folio_client_submit(cl[s->tenant], &req, &resp, &e) == 0, "submit: %s %s",
            folio_client_status_name(e.code), e.message);
  struct reply r = {.state = resp->state, .dedup = resp->deduplicated};
  snprintf(r.job, sizeof r.job, "%s", resp->job_id);
  folio_client_free(resp);
  return r;
}

static Folio__V1__Job *status(int tenant, const char *job) {
  Folio__V1__Job *j = NULL;
  struct folio_client_error e = {0};
  CHECK_MSG(folio_client_status(cl[tenant], job, 0, &j, &e) == 0, "status %s: %s %s", job,
            folio_client_status_name(e.code), e.message);
  return j;
}

/* Waits for a terminal state (bounded); returns the job (caller frees). */
static Folio__V1__Job *wait_done(int tenant, const char *job) {
  double t0 = pl_now_s();
  for (;;) {
    Folio__V1__Job *j = status(tenant, job);
    if (j->state >= FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED) return j;
    folio_client_free(j);
    CHECK_MSG(pl_now_s() - t0 < 120, "job %s not finished after 120 s", job);
    proc_sleep_ms(100);
  }
}

static Folio__V1__Job *render(const struct sub *s) {
  struct reply r = submit(s);
  CHECK_MSG(r.state == FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED, "expected a miss, got state %d",
            (int)r.state);
  Folio__V1__Job *j = wait_done(s->tenant, r.job);
  CHECK_MSG(j->state == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED, "job %s ended %d", r.job,
            (int)j->state);
  CHECK(!j->from_cache);
  return j;
}

/* The artifacts are the same files: names, sizes and sha256s. */
static void same_artifacts(const Folio__V1__Job *a, const Folio__V1__Job *b) {
  CHECK_EQ_INT(a->n_artifacts, b->n_artifacts);
  for (size_t i = 0; i < a->n_artifacts; i++) {
    CHECK_EQ_STR(a->artifacts[i]->name, b->artifacts[i]->name);
    CHECK_EQ_INT(a->artifacts[i]->size_bytes, b->artifacts[i]->size_bytes);
    CHECK_EQ_STR(a->artifacts[i]->sha256_hex, b->artifacts[i]->sha256_hex);
  }
}

/* count("SELECT ... '%s'", arg): fmt is a literal, so it is checked */
static char count_q[512];
#define count(fmt, arg) (snprintf(count_q, sizeof count_q, fmt, arg), pl_count(count_q))

/* The stored bytes of every artifact row of job hash to the recorded sha256. */
static void stored_bytes_match(const char *job) {
  char q[256];
  snprintf(q, sizeof q,
           "SELECT object_key, sha256_hex FROM artifacts WHERE job_id = '%s' ORDER BY ord", job);
  PGresult *r;
  struct folio_pg_diag d;
  CHECK_MSG(folio_pg_conn_command(pl.db, q, &r, &d) == 0, "%s", d.msg);
  CHECK(PQntuples(r) > 0);
  for (int i = 0; i < PQntuples(r); i++) {
    void *body = NULL;
    size_t len = 0;
    struct folio_s3_sync_result res;
    CHECK_MSG(folio_s3_sync_get(&pl.s3, PQgetvalue(r, i, 0), NULL, &body, &len, &res) == 0,
              "GET %s: %ld", PQgetvalue(r, i, 0), res.http_status);
    unsigned char h[32];
    char hex[65];
    crypto_hash_sha256(h, body, len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    CHECK_EQ_STR(hex, PQgetvalue(r, i, 1));
    free(body);
  }
  PQclear(r);
}

static long head_status(const char *key) {
  struct folio_s3_sync_result res;
  folio_s3_sync_head(&pl.s3, key, &res);
  return res.http_status;
}

int main(int argc, char **argv) {
  pipeline_setup(argc, argv);
  pipeline_start_servers(1);
  pipeline_start_workers(1, 1);
  for (int t = 0; t < PL_TENANTS; t++) cl[t] = pl_client(0, t);

  /* 1. determinism: two fresh renders, cache off */
  struct sub s = {.layout = DOC, .tenant = ACME, .nformats = 3,
                  .cache = FOLIO__V1__CACHE_POLICY__CACHE_POLICY_OFF};
  memcpy(s.formats, ALL3, sizeof ALL3);
  Folio__V1__Job *f1 = render(&s), *f2 = render(&s);
  CHECK_EQ_INT(f1->n_artifacts, 4); /* the PDF, two PNG pages, the SLA */
  same_artifacts(f1, f2);
  stored_bytes_match(f1->job_id);
  stored_bytes_match(f2->job_id);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM render_cache"), 0);
  CHECK_EQ_INT(count("SELECT count(*) FROM jobs WHERE id = '%s' AND cache_key IS NULL", f1->job_id), 1);
  printf("  1. two fresh renders are byte-identical (%zu artifacts); cache off records nothing\n",
         f1->n_artifacts);

  /* 2. a miss records; the resubmit hits */
  s.cache = FOLIO__V1__CACHE_POLICY__CACHE_POLICY_UNSPECIFIED;
  Folio__V1__Job *a = render(&s);
  same_artifacts(a, f1); /* the cached artifacts are what a fresh render gives */
  CHECK_EQ_INT(count("SELECT count(*) FROM render_cache WHERE job_id = '%s'", a->job_id), 1);
  s.idem = "hit-1";
  s.label = "second";
  struct reply h = submit(&s);
  CHECK_MSG(h.state == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED, "the resubmit is %d", (int)h.state);
  CHECK(!h.dedup);
  Folio__V1__Job *hj = status(ACME, h.job);
  CHECK(hj->from_cache);
  CHECK_EQ_INT(hj->progress_percent, 100);
  CHECK(hj->finished_at != NULL);
  same_artifacts(hj, a);
  CHECK_EQ_INT(hj->n_labels, 1);
  CHECK_EQ_STR(hj->labels[0]->value, "second");
  /* the same objects, no copy */
  char q[512];
  snprintf(q, sizeof q,
           "SELECT count(*) FROM artifacts x JOIN artifacts y ON x.name = y.name"
           " AND x.object_key = y.object_key WHERE x.job_id = '%s' AND y.job_id = '%s'",
           h.job, a->job_id);
  CHECK_EQ_INT(pl_count(q), (long)a->n_artifacts);
  snprintf(q, sizeof q,
           "SELECT string_agg(kind || ':' || COALESCE(detail, ''), '|' ORDER BY id)"
           " FROM job_events WHERE job_id = '%s'", h.job);
  char want[256];
  snprintf(want, sizeof want, "submitted:|succeeded:from the render cache: the artifacts of job %s",
           a->job_id);
  CHECK_EQ_STR(pgtest_value(pl.db, q), want);
  /* the idempotency key answers the hit again */
  struct reply h2 = submit(&s);
  CHECK(h2.dedup);
  CHECK_EQ_STR(h2.job, h.job);
  s.idem = NULL;
  s.label = NULL;
  /* the variant spelling hits the same entry */
  struct sub v = s;
  v.layout = DOC_VARIANT;
  struct reply hv = submit(&v);
  CHECK_MSG(hv.state == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED, "the variant is %d", (int)hv.state);
  Folio__V1__Job *hvj = status(ACME, hv.job);
  CHECK(hvj->from_cache);
  same_artifacts(hvj, a);
  /* the hit streams whole (StreamArtifact checks the sha256) */
  char path[600];
  snprintf(path, sizeof path, "%s/hit.pdf", pl.stack_dir);
  struct folio_client_error e = {0};
  CHECK_MSG(folio_client_fetch(cl[ACME], hv.job, "document.pdf", path, NULL, NULL, NULL, &e) == 0,
            "fetch: %s", e.message);
  printf("  2. a miss rendered and recorded; resubmits (same, variant) SUCCEEDED on submit, "
         "sharing the objects\n");

  /* 3. misses */
  struct sub m = s;
  m.tenant = BETA; /* another tenant, the same document */
  struct reply r = submit(&m);
  CHECK_EQ_INT(r.state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  m = s;
  m.nformats = 1; /* PDF only */
  CHECK_EQ_INT(submit(&m).state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  m = s;
  m.dpi = 96;
  CHECK_EQ_INT(submit(&m).state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  m = s;
  m.pages = "2";
  CHECK_EQ_INT(submit(&m).state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  m = s;
  m.cache = FOLIO__V1__CACHE_POLICY__CACHE_POLICY_OFF;
  CHECK_EQ_INT(submit(&m).state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  /* "" and "1-2" select the same pages: that one hits */
  m = s;
  m.pages = "1-2";
  CHECK_EQ_INT(submit(&m).state, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  m = s;
  m.cache = FOLIO__V1__CACHE_POLICY__CACHE_POLICY_BYPASS;
  Folio__V1__Job *by = render(&m);
  same_artifacts(by, a);
  pipeline_wait_settled(180);
  CHECK_EQ_INT(count("SELECT count(*) FROM render_cache WHERE job_id = '%s'", by->job_id), 1);
  CHECK_EQ_INT(count("SELECT count(*) FROM render_cache WHERE job_id = '%s'", a->job_id), 0);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM render_cache WHERE tenant = 'beta'"), 1);
  printf("  3. other tenant, formats, png_dpi, page_range, cache off: misses; bypass rendered "
         "and replaced the entry\n");

  /* 4. a failed job records nothing */
  struct sub fl = {.layout = DOC_HUGE_PNG, .tenant = ACME, .nformats = 2, .dpi = 1200};
  memcpy(fl.formats, ALL3, sizeof ALL3);
  for (int i = 0; i < 2; i++) {
    struct reply fr = submit(&fl);
    CHECK_EQ_INT(fr.state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
    Folio__V1__Job *fj = wait_done(ACME, fr.job);
    CHECK_MSG(fj->state == FOLIO__V1__JOB_STATE__JOB_STATE_FAILED, "job %s ended %d", fr.job,
              (int)fj->state);
    CHECK_EQ_INT(count("SELECT count(*) FROM render_cache WHERE job_id = '%s'", fr.job), 0);
    /* nobody refers to its PDF: the cleanup deleted it */
    snprintf(q, sizeof q, "SELECT id::text FROM tenants WHERE name = 'acme'");
    char key[256];
    snprintf(key, sizeof key, "%s/%s/document.pdf", pgtest_value(pl.db, q), fr.job);
    CHECK_EQ_INT(head_status(key), 404);
    folio_client_free(fj);
  }
  printf("  4. a failed job left no entry; its resubmit rendered (and failed) again\n");

  /* 5. deletion safety: the worker is stopped, a failing job is queued, and
   * an artifact row of the SUCCEEDED hit job names the object the failing
   * attempt will write and then clean up */
  for (int i = 0; i < pl.nworkers; i++) CHECK_EQ_INT(proc_stop(&pl.worker[i], 60000), 0);
  struct reply x = submit(&fl);
  char tid[64], xkey[256];
  snprintf(tid, sizeof tid, "%s", pgtest_value(pl.db, "SELECT id::text FROM tenants WHERE name = 'acme'"));
  snprintf(xkey, sizeof xkey, "%s/%s/document.pdf", tid, x.job);
  snprintf(q, sizeof q,
           "INSERT INTO artifacts (job_id, name, ord, format, page, size_bytes, sha256_hex,"
           " content_type, object_key) VALUES ('%s', 'shared.pdf', 99, 1, 0, 1, repeat('0', 64),"
           " 'application/pdf', '%s')",
           h.job, xkey);
  CHECK(folio_pg_conn_command(pl.db, q, NULL, NULL) == 0);
  pipeline_start_workers(1, 1);
  Folio__V1__Job *xj = wait_done(ACME, x.job);
  CHECK_EQ_INT(xj->state, FOLIO__V1__JOB_STATE__JOB_STATE_FAILED);
  CHECK_MSG(head_status(xkey) == 200, "%s, referred to by job %s, was deleted", xkey, h.job);
  printf("  5. a failed attempt's cleanup kept the object another job refers to\n");
  snprintf(q, sizeof q, "DELETE FROM artifacts WHERE job_id = '%s' AND name = 'shared.pdf'", h.job);
  CHECK(folio_pg_conn_command(pl.db, q, NULL, NULL) == 0);

  /* 6. a hit whose objects vanished */
  snprintf(q, sizeof q, "SELECT object_key FROM artifacts WHERE job_id = '%s' AND ord = 1",
           by->job_id);
  char gone[256];
  snprintf(gone, sizeof gone, "%s", pgtest_value(pl.db, q));
  struct folio_s3_sync_result res;
  CHECK(folio_s3_sync_delete(&pl.s3, gone, &res) == 0);
  struct reply vr = submit(&s);
  CHECK_MSG(vr.state == FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED,
            "a hit with a vanished object was answered %d", (int)vr.state);
  Folio__V1__Job *vj = wait_done(ACME, vr.job);
  CHECK_EQ_INT(vj->state, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  CHECK(!vj->from_cache);
  same_artifacts(vj, a);
  stored_bytes_match(vr.job);
  CHECK_EQ_INT(count("SELECT count(*) FROM render_cache WHERE job_id = '%s'", by->job_id), 0);
  CHECK_EQ_INT(count("SELECT count(*) FROM job_events WHERE job_id = '%s' AND kind = 'retried'"
                     " AND detail LIKE 'CACHE_OBJECTS_MISSING%%'", vr.job), 1);
  pipeline_wait_settled(60);
  CHECK_EQ_INT(count("SELECT count(*) FROM render_cache WHERE job_id = '%s'", vr.job), 1);
  struct reply again = submit(&s);
  CHECK_EQ_INT(again.state, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  printf("  6. a vanished object turned the hit into a render; the next resubmit hit it\n");

  /* 7. purge one tenant */
  char cmd[1024], line[256];
  snprintf(cmd, sizeof cmd, "'%s' cache purge --tenant acme 2>&1", pl.server_bin);
  CHECK_EQ_INT(proc_run_line(cmd, line, sizeof line), 0);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM render_cache WHERE tenant = 'acme'"), 0);
  CHECK_EQ_INT(pl_count("SELECT count(*) FROM render_cache WHERE tenant = 'beta'"), 1);
  CHECK_EQ_INT(submit(&s).state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  printf("  7. cache purge --tenant acme: %s\n", line);

  pipeline_wait_settled(120);
  Folio__V1__Job *js[] = {f1, f2, a, hj, hvj, by, xj, vj};
  for (size_t i = 0; i < sizeof js / sizeof js[0]; i++) folio_client_free(js[i]);
  for (int t = 0; t < PL_TENANTS; t++) folio_client_close(cl[t]);
  pipeline_stop_all();
  return pipeline_done();
}
