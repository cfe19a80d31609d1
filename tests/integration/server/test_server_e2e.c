/* folio-server end to end: real PostgreSQL, Redis and Ceph RGW (started by
 * scripts/stack.sh), folio-server started here on a port it binds itself, the
 * cgrpc client stubs as the caller, and lib/jobs' worker functions called
 * directly to move a job along (no folio-worker needed).
 *
 * Covers: auth errors; SubmitLayout valid / invalid (google.rpc.BadRequest
 * decoded from grpc-status-details-bin) / oversized / bad fields; 50
 * concurrent duplicate submissions -> one job; GetStatus of an own job and of
 * another tenant's (NOT_FOUND like a missing one); CancelJob of a queued and
 * of a running job; WatchJob from
 * QUEUED to SUCCEEDED; StreamArtifact whole / resumed / limited / last
 * byte / offset == size (only the sha256) / OUT_OF_RANGE / cancelled
 * mid-stream; signed URLs with curl (200, tampered
 * 403); PostgreSQL stopped -> UNAVAILABLE (with retry-after-ms and a
 * google.rpc.RetryInfo) and Health NOT_SERVING for folio.v1.LayoutService
 * (pushed to a Watch; "" stays SERVING), then recovery without a restart.
 *
 * usage: test_server_e2e /path/to/folio-server   (under scripts/stack.sh run) */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "health.h"
#include "proc.h"
#include "folio/jobs.h"
#include "folio/redis.h"
#include "folio/s3.h"
#include "folio/v1/layout_service.cgrpc.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "grpc/health/v1/health.cgrpc.h"

static const char PEPPER[] = "e2e-pepper-0123456789abcdef";
static pid_t server_pid;
static char addr[64];
static struct cgrpc_channel *ch;
static char key_a[128], key_b[128];
static const char *stack_dir;

static void stop_server(void) { proc_stop(&server_pid, 5000); }

/* "Bearer <key>" of a new key of tenant into out[128]. */
static void create_key(const char *server, const char *tenant, char *out) {
  proc_bearer_create(server, tenant, FOLIO_APIKEY_LEN, out, 128);
}

static struct cgrpc_call_options opts(const char *bearer, struct cgrpc_metadata *md) {
  md->key = "authorization";
  md->value = bearer;
  md->value_len = bearer ? strlen(bearer) : 0;
  return (struct cgrpc_call_options){
      .timeout_ms = 30000, .metadata = md, .metadata_count = bearer ? 1 : 0};
}

static void wait_healthy(void) {
  CHECK_MSG(proc_wait_healthy(ch, &server_pid, 20000) == 0,
            "folio-server did not become healthy; see %s/server.log", stack_dir);
}

static void start_server(const char *server) {
  char log[512];
  /* FOLIO_E2E_SERVER_LOG keeps the log outside the stack dir (removed at exit). */
  const char *keep = getenv("FOLIO_E2E_SERVER_LOG");
  snprintf(log, sizeof log, "%s", keep ? keep : "");
  if (!keep) snprintf(log, sizeof log, "%s/server.log", stack_dir);
  /* FOLIO_E2E_WRAP (e.g. "gdb -batch -ex run -ex bt --args") runs the server
   * under a debugger or valgrind when investigating a failure. */
  const char *wrap = getenv("FOLIO_E2E_WRAP");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "exec %s '%s' --decode-threads 2", wrap ? wrap : "", server);
  const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
  const char *direct[] = {server, "--decode-threads", "2", NULL};
  /* The server binds port 0 and logs the port it got (info level). */
  const char *env[] = {"FOLIO_LOG_LEVEL=info", NULL};
  atexit(stop_server);
  server_pid = proc_spawn_listening(wrap ? sh : direct, env, log, SIGKILL, wrap ? 120000 : 30000,
                                    addr, sizeof addr);
  char err[256];
  ch = cgrpc_channel_create(addr, NULL, err, sizeof err);
  CHECK_MSG(ch, "%s", err);
  wait_healthy();
}

/* ---- helpers for the calls ------------------------------------------------------ */

static grpc_status_code submit(const char *bearer, const char *json, size_t len, const char *idem,
                               char *job_out, bool *dedup, struct cgrpc_status *st_out) {
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  req.layout_json.data = (uint8_t *)(uintptr_t)json;
  req.layout_json.len = len;
  req.idempotency_key = (char *)(uintptr_t)(idem ? idem : "");
  Folio__V1__SubmitLayoutRequest__LabelsEntry e = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__LABELS_ENTRY__INIT;
  e.key = (char *)(uintptr_t)"team";
  e.value = (char *)(uintptr_t)"e2e";
  Folio__V1__SubmitLayoutRequest__LabelsEntry *ep = &e;
  req.n_labels = 1;
  req.labels = &ep;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(bearer, &md);
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__submit_layout__call(ch, &req, &o, &resp, &st);
  grpc_status_code code = st.code;
  if (resp) {
    if (job_out) snprintf(job_out, FOLIO_UUID_STR_LEN + 1, "%s", resp->job_id);
    if (dedup) *dedup = resp->deduplicated;
    CHECK_EQ_INT(resp->state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
  }
  if (st_out) *st_out = st;
  else cgrpc_status_clear(&st);
  return code;
}

static const char MINIMAL[] = "{\"version\":1,\"pages\":[{\"items\":[]}]}";

static Folio__V1__Job *get_status(const char *bearer, const char *job, uint32_t ttl,
                                  struct cgrpc_status *st) {
  Folio__V1__GetStatusRequest req = FOLIO__V1__GET_STATUS_REQUEST__INIT;
  req.job_id = (char *)(uintptr_t)job;
  req.url_ttl_seconds = ttl;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(bearer, &md);
  Folio__V1__Job *resp = NULL;
  *st = (struct cgrpc_status){0};
  folio__v1__layout_service__get_status__call(ch, &req, &o, &resp, st);
  return resp;
}

static grpc_status_code status_code_of(const char *bearer, const char *job, char *msg, size_t cap) {
  struct cgrpc_status st;
  Folio__V1__Job *j = get_status(bearer, job, 0, &st);
  if (j) protobuf_c_message_free_unpacked(&j->base, NULL);
  grpc_status_code c = st.code;
  if (msg) snprintf(msg, cap, "%s", st.message);
  cgrpc_status_clear(&st);
  return c;
}

static void test_auth(void) {
  char id[FOLIO_UUID_STR_LEN + 1];
  folio_uuid7(id);
  struct cgrpc_status st = {0};
  const char *cases[] = {NULL, "Basic abc", "Bearer not-a-key",
                         "Bearer folio_0123456789abcdef0123456789abcdef_"
                         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
  for (size_t i = 0; i < 4; i++) {
    Folio__V1__Job *j = get_status(cases[i], id, 0, &st);
    CHECK(!j);
    CHECK_MSG(st.code == GRPC_STATUS_UNAUTHENTICATED, "case %zu: %s %s", i,
              cgrpc_status_name(st.code), st.message);
    printf("  auth case %zu: %s\n", i, st.message);
    cgrpc_status_clear(&st);
  }
  CHECK_EQ_INT(submit(NULL, MINIMAL, strlen(MINIMAL), NULL, NULL, NULL, NULL),
               GRPC_STATUS_UNAUTHENTICATED);
}

static void test_submit_errors(void) {
  struct cgrpc_status st;
  /* invalid layout: BadRequest with JSON Pointers */
  const char bad[] = "{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"rect\",\"x\":0,\"y\":0,"
                     "\"w\":-5,\"h\":10}]}]}";
  CHECK_EQ_INT(submit(key_a, bad, strlen(bad), NULL, NULL, NULL, &st),
               GRPC_STATUS_INVALID_ARGUMENT);
  printf("  invalid layout: %s\n", st.message);
  CHECK_MSG(st.details && st.details_len, "no grpc-status-details-bin");
  Google__Rpc__Status *rs = google__rpc__status__unpack(NULL, st.details_len, st.details);
  CHECK(rs && rs->code == GRPC_STATUS_INVALID_ARGUMENT && rs->n_details == 1);
  CHECK_EQ_STR(rs->details[0]->type_url, "type.googleapis.com/google.rpc.BadRequest");
  Google__Rpc__BadRequest *br = google__rpc__bad_request__unpack(
      NULL, rs->details[0]->value.len, rs->details[0]->value.data);
  CHECK(br && br->n_field_violations >= 1);
  printf("  violation: %s: %s\n", br->field_violations[0]->field,
         br->field_violations[0]->description);
  CHECK_MSG(strncmp(br->field_violations[0]->field, "layout_json/pages/0/items/0", 27) == 0,
            "field %s", br->field_violations[0]->field);
  google__rpc__bad_request__free_unpacked(br, NULL);
  google__rpc__status__free_unpacked(rs, NULL);
  cgrpc_status_clear(&st);

  /* not JSON at all */
  CHECK_EQ_INT(submit(key_a, "{", 1, NULL, NULL, NULL, NULL), GRPC_STATUS_INVALID_ARGUMENT);

  /* oversized: more pages than the decoder allows */
  size_t cap = 1100 * 14 + 64, n = 0;
  char *big = malloc(cap);
  n += (size_t)sprintf(big, "{\"version\":1,\"pages\":[");
  for (int i = 0; i < 1001; i++) n += (size_t)sprintf(big + n, "%s{\"items\":[]}", i ? "," : "");
  n += (size_t)sprintf(big + n, "]}");
  CHECK_EQ_INT(submit(key_a, big, n, NULL, NULL, NULL, &st), GRPC_STATUS_RESOURCE_EXHAUSTED);
  printf("  oversized: %s\n", st.message);
  cgrpc_status_clear(&st);
  free(big);

  /* field checks: dpi, page range past the end, formats */
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  req.layout_json.data = (uint8_t *)(uintptr_t)MINIMAL;
  req.layout_json.len = strlen(MINIMAL);
  Folio__V1__RenderOptions ro = FOLIO__V1__RENDER_OPTIONS__INIT;
  req.options = &ro;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(key_a, &md);
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct {
    uint32_t dpi;
    const char *range;
    const char *want;
  } cases[] = {{20, "", "options.png_dpi"}, {0, "1-x", "options.page_range"},
               {0, "2", "options.page_range"}};
  for (size_t i = 0; i < 3; i++) {
    ro.png_dpi = cases[i].dpi;
    ro.page_range = (char *)(uintptr_t)cases[i].range;
    st = (struct cgrpc_status){0};
    folio__v1__layout_service__submit_layout__call(ch, &req, &o, &resp, &st);
    CHECK(!resp);
    CHECK_EQ_INT(st.code, GRPC_STATUS_INVALID_ARGUMENT);
    CHECK_MSG(strstr(st.message, cases[i].want), "%s", st.message);
    printf("  field case %zu: %s\n", i, st.message);
    cgrpc_status_clear(&st);
  }
}

/* The BadRequest of st (INVALID_ARGUMENT with grpc-status-details-bin), or
 * fails. Free with google__rpc__bad_request__free_unpacked(br, NULL). */
static Google__Rpc__BadRequest *bad_request_of(const struct cgrpc_status *st) {
  CHECK_MSG(st->code == GRPC_STATUS_INVALID_ARGUMENT, "%s: %s", cgrpc_status_name(st->code),
            st->message);
  CHECK_MSG(st->details && st->details_len, "no grpc-status-details-bin: %s", st->message);
  Google__Rpc__Status *rs = google__rpc__status__unpack(NULL, st->details_len, st->details);
  CHECK(rs && rs->code == GRPC_STATUS_INVALID_ARGUMENT && rs->n_details == 1);
  CHECK_EQ_STR(rs->details[0]->type_url, "type.googleapis.com/google.rpc.BadRequest");
  Google__Rpc__BadRequest *br = google__rpc__bad_request__unpack(
      NULL, rs->details[0]->value.len, rs->details[0]->value.data);
  google__rpc__status__free_unpacked(rs, NULL);
  CHECK(br);
  return br;
}

/* Regression (issue 10, class 5): several violations in one SubmitLayout.
 * The BadRequest names every one with its exact field path, nothing else, in
 * request field order — before the fix the names came from the wrong buffer
 * (stray bytes, another violation's name, pieces of the caller's API key). */
static void test_submit_violations(void) {
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  req.layout_json.data = (uint8_t *)(uintptr_t)MINIMAL;
  req.layout_json.len = strlen(MINIMAL);
  /* 99 and 77 are no Format: a caller's wire can hold any number (proto3
   * enums are open), so the values go in through an int */
  static const int raw[] = {1, 99, 2, 77};
  Folio__V1__Format formats[4];
  for (size_t i = 0; i < 4; i++) formats[i] = (Folio__V1__Format)raw[i];
  req.formats = formats;
  req.n_formats = 4;
  Folio__V1__RenderOptions ro = FOLIO__V1__RENDER_OPTIONS__INIT;
  ro.png_dpi = 20;
  ro.page_range = (char *)(uintptr_t)"1-x";
  req.options = &ro;
  char longval[300];
  memset(longval, 'v', sizeof longval - 1);
  longval[sizeof longval - 1] = '\0';
  Folio__V1__SubmitLayoutRequest__LabelsEntry e[2] = {
      FOLIO__V1__SUBMIT_LAYOUT_REQUEST__LABELS_ENTRY__INIT,
      FOLIO__V1__SUBMIT_LAYOUT_REQUEST__LABELS_ENTRY__INIT};
  e[0].key = (char *)(uintptr_t)"ok";
  e[0].value = (char *)(uintptr_t)"fine";
  e[1].key = (char *)(uintptr_t)"k\"q";
  e[1].value = longval;
  Folio__V1__SubmitLayoutRequest__LabelsEntry *ep[2] = {&e[0], &e[1]};
  req.labels = ep;
  req.n_labels = 2;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(key_a, &md);
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__submit_layout__call(ch, &req, &o, &resp, &st);
  CHECK(!resp);
  printf("  several violations: %s\n", st.message);
  Google__Rpc__BadRequest *br = bad_request_of(&st);
  static const char *const want[][2] = {
      {"formats[1]", "must be FORMAT_PDF, FORMAT_PNG or FORMAT_SLA"},
      {"formats[3]", "must be FORMAT_PDF, FORMAT_PNG or FORMAT_SLA"},
      {"options.png_dpi", "must be 36..1200 (0 = 150)"},
      {"options.page_range", "byte 2: expected \",\" or the end (e.g. 1-3,5 or 8-)"},
      {"labels[\"k\\\"q\"]", "values must be at most 256 bytes (got 299)"},
  };
  size_t nwant = sizeof want / sizeof want[0];
  CHECK_MSG(br->n_field_violations == nwant, "%zu violations", br->n_field_violations);
  for (size_t i = 0; i < nwant; i++) {
    CHECK_EQ_STR(br->field_violations[i]->field, want[i][0]);
    CHECK_EQ_STR(br->field_violations[i]->description, want[i][1]);
  }
  google__rpc__bad_request__free_unpacked(br, NULL);
  cgrpc_status_clear(&st);
}

/* ---- exact strings at the edge ----
 * protobuf-c clients cannot send a NUL inside a string (they pack strlen
 * bytes), so the bad string rides as an unknown field with the string
 * field's number: on the wire it is that field. */
struct raw_field {
  ProtobufCMessageUnknownField u;
  uint8_t data[300];
};

/* A length-delimited field `field` holding p[0..len). */
static ProtobufCMessageUnknownField *raw_string(struct raw_field *f, uint32_t field, const void *p,
                                                size_t len) {
  CHECK(len < 128 && len + 1 <= sizeof f->data);
  f->data[0] = (uint8_t)len;
  memcpy(f->data + 1, p, len);
  f->u = (ProtobufCMessageUnknownField){
      .tag = field, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, .len = len + 1, .data = f->data};
  return &f->u;
}

/* Calls method with msg (unary, or a server stream read to its end) and
 * checks INVALID_ARGUMENT with a BadRequest naming exactly `field`. */
static void expect_refused(const char *what, const struct cgrpc_method_desc *method,
                           const ProtobufCMessage *msg, const char *field, const char *why) {
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(key_a, &md);
  struct cgrpc_status st = {0};
  if (method->kind == CGRPC_METHOD_UNARY) {
    ProtobufCMessage *resp = NULL;
    cgrpc_client_unary(ch, method, msg, &o, &resp, &st);
    CHECK_MSG(!resp, "%s: answered", what);
  } else {
    struct cgrpc_client_call *cc = cgrpc_client_call_start(ch, method, &o);
    CHECK(cc);
    CHECK_EQ_INT(cgrpc_client_call_write(cc, msg), 0);
    cgrpc_client_call_writes_done(cc);
    ProtobufCMessage *m;
    CHECK_MSG(cgrpc_client_call_read(cc, &m) == 0, "%s: streamed a message", what);
    cgrpc_client_call_finish(cc, &st);
    cgrpc_client_call_destroy(cc);
  }
  printf("  %s: %s\n", what, st.message);
  Google__Rpc__BadRequest *br = bad_request_of(&st);
  CHECK_MSG(br->n_field_violations == 1, "%s: %zu violations", what, br->n_field_violations);
  CHECK_EQ_STR(br->field_violations[0]->field, field);
  CHECK_EQ_STR(br->field_violations[0]->description, why);
  google__rpc__bad_request__free_unpacked(br, NULL);
  cgrpc_status_clear(&st);
}

/* Every string field of every RPC refuses NUL bytes and invalid UTF-8 with
 * INVALID_ARGUMENT naming the field (cgrpc's wire check, folio's BadRequest),
 * on unary and server-streaming calls alike. */
static void test_exact_strings(void) {
  static const char nul_id[] = "0190c3e2-7b7a-7c4e-8f00-0123456789ab\0x";
  struct raw_field f[2];
  ProtobufCMessageUnknownField *u;

  Folio__V1__SubmitLayoutRequest sreq = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  sreq.layout_json.data = (uint8_t *)(uintptr_t)MINIMAL;
  sreq.layout_json.len = strlen(MINIMAL);
  sreq.base.n_unknown_fields = 1;
  sreq.base.unknown_fields = u = raw_string(&f[0], 4, "key\0b", 5);
  expect_refused("SubmitLayout idempotency_key NUL", folio__v1__layout_service__submit_layout__METHOD,
                 &sreq.base, "idempotency_key", "contains a NUL byte");
  uint8_t entry[32], opt[32];
  size_t n = 0;
  entry[n++] = 0x0a, entry[n++] = 1, entry[n++] = 'k';
  entry[n++] = 0x12, entry[n++] = 2, entry[n++] = 'v', entry[n++] = 0xff;
  sreq.base.unknown_fields = raw_string(&f[0], 5, entry, n);
  expect_refused("SubmitLayout label value", folio__v1__layout_service__submit_layout__METHOD,
                 &sreq.base, "labels[\"k\"]", "is not valid UTF-8");
  n = 0;
  opt[n++] = 0x12, opt[n++] = 3, opt[n++] = '1', opt[n++] = 0, opt[n++] = '2';
  sreq.base.unknown_fields = raw_string(&f[0], 3, opt, n);
  expect_refused("SubmitLayout options.page_range NUL",
                 folio__v1__layout_service__submit_layout__METHOD, &sreq.base,
                 "options.page_range", "contains a NUL byte");

  Folio__V1__GetStatusRequest greq = FOLIO__V1__GET_STATUS_REQUEST__INIT;
  greq.base.n_unknown_fields = 1;
  greq.base.unknown_fields = raw_string(&f[0], 1, nul_id, sizeof nul_id - 1);
  expect_refused("GetStatus job_id NUL", folio__v1__layout_service__get_status__METHOD, &greq.base,
                 "job_id", "contains a NUL byte");

  Folio__V1__CancelJobRequest creq = FOLIO__V1__CANCEL_JOB_REQUEST__INIT;
  creq.base.n_unknown_fields = 1;
  creq.base.unknown_fields = raw_string(&f[0], 1, nul_id, sizeof nul_id - 1);
  expect_refused("CancelJob job_id NUL", folio__v1__layout_service__cancel_job__METHOD, &creq.base,
                 "job_id", "contains a NUL byte");

  Folio__V1__WatchJobRequest wreq = FOLIO__V1__WATCH_JOB_REQUEST__INIT;
  wreq.base.n_unknown_fields = 1;
  wreq.base.unknown_fields = raw_string(&f[0], 1, "\xc0\xaf", 2);
  expect_refused("WatchJob job_id overlong UTF-8", folio__v1__layout_service__watch_job__METHOD,
                 &wreq.base, "job_id", "is not valid UTF-8");

  Folio__V1__StreamArtifactRequest areq = FOLIO__V1__STREAM_ARTIFACT_REQUEST__INIT;
  areq.job_id = (char *)(uintptr_t)"0190c3e2-7b7a-7c4e-8f00-0123456789ab";
  areq.base.n_unknown_fields = 1;
  areq.base.unknown_fields = raw_string(&f[0], 2, "document.pdf\0.png", 17);
  expect_refused("StreamArtifact name NUL", folio__v1__layout_service__stream_artifact__METHOD,
                 &areq.base, "name", "contains a NUL byte");

  Folio__V1__GetArtifactUrlRequest ureq = FOLIO__V1__GET_ARTIFACT_URL_REQUEST__INIT;
  ureq.job_id = areq.job_id;
  ureq.base.n_unknown_fields = 1;
  ureq.base.unknown_fields = raw_string(&f[0], 2, "document\xff.pdf", 13);
  expect_refused("GetArtifactUrl name", folio__v1__layout_service__get_artifact_url__METHOD,
                 &ureq.base, "name", "is not valid UTF-8");
}

/* Issue 10, class 6: idempotency keys that differ only after a NUL used to
 * deduplicate to one job (protobuf-c cut both at the NUL). Now the plain key
 * makes a job and each NUL-bearing one is refused, creating nothing and
 * never answering with the plain key's job. */
static void test_nul_keys_do_not_deduplicate(void) {
  char job[FOLIO_UUID_STR_LEN + 1], again[FOLIO_UUID_STR_LEN + 1];
  bool dedup = true;
  CHECK_EQ_INT(submit(key_a, MINIMAL, strlen(MINIMAL), "e2e-nul", job, &dedup, NULL), GRPC_STATUS_OK);
  CHECK(!dedup);
  static const char *const tails[] = {"e2e-nul\0a", "e2e-nul\0b"};
  for (size_t i = 0; i < 2; i++) {
    Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
    req.layout_json.data = (uint8_t *)(uintptr_t)MINIMAL;
    req.layout_json.len = strlen(MINIMAL);
    struct raw_field f;
    req.base.n_unknown_fields = 1;
    req.base.unknown_fields = raw_string(&f, 4, tails[i], 9);
    expect_refused("SubmitLayout key differing after a NUL",
                   folio__v1__layout_service__submit_layout__METHOD, &req.base, "idempotency_key",
                   "contains a NUL byte");
  }
  /* the plain key still finds its own job, and only that one */
  CHECK_EQ_INT(submit(key_a, MINIMAL, strlen(MINIMAL), "e2e-nul", again, &dedup, NULL), GRPC_STATUS_OK);
  CHECK(dedup);
  CHECK_EQ_STR(again, job);
}

struct dup_arg {
  char job[FOLIO_UUID_STR_LEN + 1];
  bool dedup;
  grpc_status_code code;
};
static void *dup_thread(void *arg) {
  struct dup_arg *d = arg;
  d->code = submit(key_a, MINIMAL, strlen(MINIMAL), "e2e-dup-key", d->job, &d->dedup, NULL);
  return NULL;
}

static void test_duplicates(void) {
  enum { N = 50 };
  static struct dup_arg args[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, dup_thread, &args[i]) == 0);
  for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
  int fresh = 0;
  for (int i = 0; i < N; i++) {
    CHECK_EQ_INT(args[i].code, GRPC_STATUS_OK);
    CHECK_EQ_STR(args[i].job, args[0].job);
    fresh += !args[i].dedup;
  }
  CHECK_EQ_INT(fresh, 1);
  printf("  50 concurrent duplicates -> job %s, 49 deduplicated\n", args[0].job);
}

/* Idempotency keys are per tenant, on the wire: the same key in two tenants
 * is two jobs, and repeats inside EACH tenant find that tenant's job. */
static void test_idempotency_two_tenants(void) {
  char ja[FOLIO_UUID_STR_LEN + 1], jb[FOLIO_UUID_STR_LEN + 1], again[FOLIO_UUID_STR_LEN + 1];
  bool dedup = true;
  CHECK_EQ_INT(submit(key_a, MINIMAL, strlen(MINIMAL), "same-key", ja, &dedup, NULL), GRPC_STATUS_OK);
  CHECK(!dedup);
  dedup = true;
  CHECK_EQ_INT(submit(key_b, MINIMAL, strlen(MINIMAL), "same-key", jb, &dedup, NULL), GRPC_STATUS_OK);
  CHECK(!dedup);
  CHECK(strcmp(ja, jb) != 0);
  for (int i = 0; i < 2; i++) {
    dedup = false;
    CHECK_EQ_INT(submit(key_b, MINIMAL, strlen(MINIMAL), "same-key", again, &dedup, NULL), GRPC_STATUS_OK);
    CHECK(dedup);
    CHECK_EQ_STR(again, jb);
    dedup = false;
    CHECK_EQ_INT(submit(key_a, MINIMAL, strlen(MINIMAL), "same-key", again, &dedup, NULL), GRPC_STATUS_OK);
    CHECK(dedup);
    CHECK_EQ_STR(again, ja);
  }
  /* each tenant sees its own job and not the other's */
  CHECK_EQ_INT(status_code_of(key_b, ja, NULL, 0), GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_INT(status_code_of(key_a, jb, NULL, 0), GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_INT(status_code_of(key_b, jb, NULL, 0), GRPC_STATUS_OK);
  /* WatchJob of the other tenant's job: NOT_FOUND, and no message first */
  for (int t = 0; t < 2; t++) {
    Folio__V1__WatchJobRequest wreq = FOLIO__V1__WATCH_JOB_REQUEST__INIT;
    wreq.job_id = t ? jb : ja;
    struct cgrpc_metadata md;
    struct cgrpc_call_options o = opts(t ? key_a : key_b, &md);
    struct cgrpc_client_call *cc = folio__v1__layout_service__watch_job__start(ch, &wreq, &o);
    CHECK(cc);
    Folio__V1__Job *j = NULL;
    CHECK_EQ_INT(folio__v1__layout_service__watch_job__read(cc, &j), 0);
    struct cgrpc_status st = {0};
    cgrpc_client_call_finish(cc, &st);
    CHECK_MSG(st.code == GRPC_STATUS_NOT_FOUND, "WatchJob across tenants: %d %s", st.code, st.message);
    cgrpc_status_clear(&st);
    cgrpc_client_call_destroy(cc);
  }
  printf("  idempotency key in two tenants: two jobs, repeats stay in their tenant; WatchJob NOT_FOUND\n");
}

static void test_status_and_cancel(void) {
  char job[FOLIO_UUID_STR_LEN + 1], other[FOLIO_UUID_STR_LEN + 1], msg1[256], msg2[256];
  CHECK_EQ_INT(submit(key_a, MINIMAL, strlen(MINIMAL), NULL, job, NULL, NULL), GRPC_STATUS_OK);
  struct cgrpc_status st;
  Folio__V1__Job *j = get_status(key_a, job, 0, &st);
  CHECK_MSG(j, "%s", st.message);
  CHECK_EQ_STR(j->job_id, job);
  CHECK_EQ_INT(j->state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  CHECK(j->n_labels == 1 && strcmp(j->labels[0]->key, "team") == 0);
  CHECK(j->created_at && j->created_at->seconds > 0);
  protobuf_c_message_free_unpacked(&j->base, NULL);
  cgrpc_status_clear(&st);
  /* another tenant's job is exactly a missing job */
  folio_uuid7(other);
  CHECK_EQ_INT(status_code_of(key_b, job, msg1, sizeof msg1), GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_INT(status_code_of(key_a, other, msg2, sizeof msg2), GRPC_STATUS_NOT_FOUND);
  char *p1 = strstr(msg1, job), *p2 = strstr(msg2, other);
  CHECK(p1 && p2 && p1 - msg1 == p2 - msg2 && strncmp(msg1, msg2, (size_t)(p1 - msg1)) == 0);
  CHECK_EQ_INT(status_code_of(key_a, "not-a-uuid", NULL, 0), GRPC_STATUS_INVALID_ARGUMENT);
  j = get_status(key_a, job, 604801, &st);
  CHECK(!j && st.code == GRPC_STATUS_INVALID_ARGUMENT);
  cgrpc_status_clear(&st);

  /* cancel: queued -> CANCELED; again -> FAILED_PRECONDITION; other tenant -> NOT_FOUND */
  Folio__V1__CancelJobRequest creq = FOLIO__V1__CANCEL_JOB_REQUEST__INIT;
  creq.job_id = job;
  struct cgrpc_metadata md;
  struct cgrpc_call_options ob = opts(key_b, &md);
  st = (struct cgrpc_status){0};
  folio__v1__layout_service__cancel_job__call(ch, &creq, &ob, &j, &st);
  CHECK_EQ_INT(st.code, GRPC_STATUS_NOT_FOUND);
  cgrpc_status_clear(&st);
  struct cgrpc_call_options oa = opts(key_a, &md);
  folio__v1__layout_service__cancel_job__call(ch, &creq, &oa, &j, &st);
  CHECK_MSG(j, "%s", st.message);
  CHECK_EQ_INT(j->state, FOLIO__V1__JOB_STATE__JOB_STATE_CANCELED);
  protobuf_c_message_free_unpacked(&j->base, NULL);
  cgrpc_status_clear(&st);
  folio__v1__layout_service__cancel_job__call(ch, &creq, &oa, &j, &st);
  CHECK_EQ_INT(st.code, GRPC_STATUS_FAILED_PRECONDITION);
  printf("  cancel twice: %s\n", st.message);
  cgrpc_status_clear(&st);
  /* artifacts of a job that did not succeed */
  Folio__V1__StreamArtifactRequest sreq = FOLIO__V1__STREAM_ARTIFACT_REQUEST__INIT;
  sreq.job_id = job;
  sreq.name = (char *)(uintptr_t)"document.pdf";
  struct cgrpc_client_call *cc = folio__v1__layout_service__stream_artifact__start(ch, &sreq, &oa);
  Folio__V1__ArtifactChunk *chunk;
  CHECK_EQ_INT(folio__v1__layout_service__stream_artifact__read(cc, &chunk), 0);
  cgrpc_client_call_finish(cc, &st);
  CHECK_EQ_INT(st.code, GRPC_STATUS_FAILED_PRECONDITION);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(cc);
}

/* ---- the worker side, by hand ----------------------------------------------------- */

static redisContext *redis_connect(void) {
  struct folio_redis_url u;
  char err[128];
  CHECK(folio_redis_url_parse(getenv("FOLIO_REDIS_URL"), &u, err, sizeof err) == 0);
  redisContext *r = u.path[0] ? redisConnectUnix(u.path) : redisConnect(u.host, u.port);
  CHECK(r && !r->err);
  CHECK(redisSetTimeout(r, (struct timeval){.tv_sec = 20}) == REDIS_OK);
  return r;
}

static void publish(const char *job, enum folio_job_state s, int progress) {
  redisContext *r = redis_connect();
  char chn[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(job, chn);
  CHECK(folio_jobs_event_format(msg, sizeof msg, job, s, progress) > 0);
  redisReply *rep = redisCommand(r, "PUBLISH %s %s", chn, msg);
  CHECK(rep);
  freeReplyObject(rep);
  redisFree(r);
}

static struct folio_pg_conn *worker_db(void) {
  struct folio_pg_conn_config c = {.conninfo = getenv("FOLIO_DATABASE_URL")};
  folio_jobs_conn_config(&c);
  struct folio_pg_conn *conn;
  struct folio_pg_diag d;
  CHECK_MSG(folio_pg_conn_connect(&c, &conn, &d) == 0, "%s", d.msg);
  return conn;
}

static Folio__V1__Job *watch_next(struct cgrpc_client_call *cc) {
  Folio__V1__Job *j = NULL;
  int rc = folio__v1__layout_service__watch_job__read(cc, &j);
  CHECK_MSG(rc == 1, "WatchJob ended early (rc %d)", rc);
  return j;
}

/* CancelJob of a RUNNING job: the reply is RUNNING, the worker learns from
 * its heartbeat and from the event the server publishes, and its
 * confirmation ends the job CANCELED. */
static void test_cancel_running(void) {
  char job[FOLIO_UUID_STR_LEN + 1];
  CHECK_EQ_INT(submit(key_a, MINIMAL, strlen(MINIMAL), NULL, job, NULL, NULL), GRPC_STATUS_OK);
  struct folio_pg_conn *db = worker_db();
  struct folio_arena *arena = folio_arena_create(0);
  struct folio_job_claim cl;
  struct folio_pg_diag d;
  CHECK_MSG(folio_jobs_claim(db, job, "e2e-worker", arena, &cl, &d) == 0, "%s", d.msg);
  redisContext *r = redis_connect();
  char chn[FOLIO_JOBS_CHANNEL_MAX];
  folio_jobs_channel(job, chn);
  redisReply *rep = redisCommand(r, "SUBSCRIBE %s", chn);
  CHECK(rep);
  freeReplyObject(rep);
  Folio__V1__CancelJobRequest creq = FOLIO__V1__CANCEL_JOB_REQUEST__INIT;
  creq.job_id = job;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(key_a, &md);
  Folio__V1__Job *j = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__cancel_job__call(ch, &creq, &o, &j, &st);
  CHECK_MSG(j, "%s", st.message);
  CHECK_EQ_INT(j->state, FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING);
  protobuf_c_message_free_unpacked(&j->base, NULL);
  cgrpc_status_clear(&st);
  void *msg = NULL;
  CHECK_MSG(redisGetReply(r, &msg) == REDIS_OK && msg, "no event published for the cancel");
  rep = msg;
  CHECK(rep->type == REDIS_REPLY_ARRAY && rep->elements == 3);
  char id[FOLIO_UUID_STR_LEN + 1];
  enum folio_job_state es;
  int pr;
  CHECK(folio_jobs_event_parse(rep->element[2]->str, rep->element[2]->len, id, &es, &pr) == 0);
  CHECK_EQ_STR(id, job);
  CHECK_EQ_INT(es, FOLIO_JOB_RUNNING);
  freeReplyObject(rep);
  redisFree(r);
  bool cancel = false;
  CHECK_EQ_INT(folio_jobs_heartbeat(db, job, cl.attempt, -1, &cancel, &d), 0);
  CHECK(cancel);
  CHECK_MSG(folio_jobs_cancel_confirm(db, job, cl.attempt, &d) == 0, "%s", d.msg);
  j = get_status(key_a, job, 0, &st);
  CHECK_MSG(j, "%s", st.message);
  CHECK_EQ_INT(j->state, FOLIO__V1__JOB_STATE__JOB_STATE_CANCELED);
  protobuf_c_message_free_unpacked(&j->base, NULL);
  cgrpc_status_clear(&st);
  folio_arena_destroy(arena);
  folio_pg_conn_close(db);
  printf("  cancel of a RUNNING job: reply RUNNING, event published, worker told, CANCELED\n");
}

static long long numsub(const char *job) {
  redisContext *r = redis_connect();
  char chn[FOLIO_JOBS_CHANNEL_MAX];
  folio_jobs_channel(job, chn);
  redisReply *rep = redisCommand(r, "PUBSUB NUMSUB %s", chn);
  CHECK(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2);
  long long n = rep->element[1]->integer;
  freeReplyObject(rep);
  redisFree(r);
  return n;
}

/* Submits a job (its id into job) and starts watching it; the first message
 * is checked to be QUEUED. */
static struct cgrpc_client_call *submit_and_watch(char job[FOLIO_UUID_STR_LEN + 1]) {
  CHECK_EQ_INT(submit(key_a, MINIMAL, strlen(MINIMAL), NULL, job, NULL, NULL), GRPC_STATUS_OK);
  Folio__V1__WatchJobRequest wreq = FOLIO__V1__WATCH_JOB_REQUEST__INIT;
  wreq.job_id = job;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(key_a, &md);
  struct cgrpc_client_call *cc = folio__v1__layout_service__watch_job__start(ch, &wreq, &o);
  CHECK(cc);
  Folio__V1__Job *j = watch_next(cc);
  CHECK_EQ_INT(j->state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  protobuf_c_message_free_unpacked(&j->base, NULL);
  return cc;
}

/* A watcher that goes away leaves nothing behind: the server unsubscribes. */
static void test_watch_disconnect(void) {
  char job[FOLIO_UUID_STR_LEN + 1];
  struct cgrpc_client_call *cc = submit_and_watch(job);
  long long n = 0;
  for (int i = 0; i < 100 && (n = numsub(job)) != 1; i++) usleep(100000);
  CHECK_EQ_INT(n, 1);
  cgrpc_client_call_cancel(cc);
  cgrpc_client_call_destroy(cc);
  for (int i = 0; i < 100 && (n = numsub(job)) != 0; i++) usleep(100000);
  CHECK_EQ_INT(n, 0);
  printf("  WatchJob: the server unsubscribed after the client went away\n");
}

#define ART_SIZE 300000
static uint8_t art[ART_SIZE];
static char art_sha[65];
static char done_job[FOLIO_UUID_STR_LEN + 1];

static void test_watch_and_succeed(void) {
  char job[FOLIO_UUID_STR_LEN + 1];
  struct cgrpc_client_call *cc = submit_and_watch(job);
  struct folio_pg_conn *db = worker_db();
  struct folio_arena *arena = folio_arena_create(0);
  struct folio_job_claim cl;
  struct folio_pg_diag d;
  CHECK_MSG(folio_jobs_claim(db, job, "e2e-worker", arena, &cl, &d) == 0, "%s", d.msg);
  publish(job, FOLIO_JOB_RUNNING, 0);
  Folio__V1__Job *j = watch_next(cc);
  CHECK_EQ_INT(j->state, FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING);
  CHECK_EQ_INT(j->attempts, 1);
  protobuf_c_message_free_unpacked(&j->base, NULL);
  CHECK_EQ_INT(folio_jobs_heartbeat(db, job, cl.attempt, 50, NULL, &d), 0);
  publish(job, FOLIO_JOB_RUNNING, 50);
  j = watch_next(cc);
  CHECK_EQ_INT(j->state, FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING);
  CHECK_EQ_INT(j->progress_percent, 50);
  protobuf_c_message_free_unpacked(&j->base, NULL);

  /* the artifact, PUT into RGW by hand */
  randombytes_buf(art, sizeof art);
  uint8_t h[32];
  crypto_hash_sha256(h, art, sizeof art);
  sodium_bin2hex(art_sha, sizeof art_sha, h, sizeof h);
  struct folio_s3_config s3;
  char err[256];
  CHECK_MSG(folio_s3_config_from_env(&s3, err, sizeof err) == 0, "%s", err);
  char key[128];
  snprintf(key, sizeof key, "acme/%s/document.pdf", job);
  struct folio_s3_sync_result r;
  CHECK_MSG(folio_s3_sync_put(&s3, key, art, sizeof art, "application/pdf", &r) == 0,
            "put: %s %s", r.error_code, r.error_message);
  struct folio_job_artifact a = {.name = "document.pdf", .format = FOLIO_FORMAT_PDF,
                                 .size_bytes = ART_SIZE, .sha256_hex = art_sha,
                                 .content_type = "application/pdf", .object_key = key};
  CHECK_MSG(folio_jobs_succeed(db, job, cl.attempt, &a, 1, &d) == 0, "%s", d.msg);
  publish(job, FOLIO_JOB_SUCCEEDED, 100);
  j = watch_next(cc);
  CHECK_EQ_INT(j->state, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  CHECK_EQ_INT(j->n_artifacts, 1);
  CHECK_EQ_STR(j->artifacts[0]->sha256_hex, art_sha);
  protobuf_c_message_free_unpacked(&j->base, NULL);
  CHECK_EQ_INT(folio__v1__layout_service__watch_job__read(cc, &j), 0);
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_client_call_finish(cc, &st), 0);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(cc);
  printf("  WatchJob: QUEUED, RUNNING, RUNNING 50%%, SUCCEEDED, end\n");
  folio_arena_destroy(arena);
  folio_pg_conn_close(db);
  snprintf(done_job, sizeof done_job, "%s", job);
}

/* Reads a stream; returns the status code, fills buf (cap bytes) and *sha. */
static grpc_status_code stream(const char *bearer, const char *name, uint64_t offset,
                               uint64_t limit, uint32_t chunk, uint8_t *buf, size_t *got,
                               char *sha, int cancel_after) {
  Folio__V1__StreamArtifactRequest req = FOLIO__V1__STREAM_ARTIFACT_REQUEST__INIT;
  req.job_id = done_job;
  req.name = (char *)(uintptr_t)name;
  req.offset = offset;
  req.limit = limit;
  req.chunk_size = chunk;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(bearer, &md);
  struct cgrpc_client_call *cc = folio__v1__layout_service__stream_artifact__start(ch, &req, &o);
  Folio__V1__ArtifactChunk *c;
  *got = 0;
  if (sha) sha[0] = '\0';
  int n = 0;
  while (folio__v1__layout_service__stream_artifact__read(cc, &c) == 1) {
    CHECK_EQ_INT(c->offset, offset + *got);
    CHECK_EQ_INT(c->total_size, ART_SIZE);
    CHECK(c->data.len <= (chunk ? chunk : 65536));
    CHECK(!sha || !sha[0]); /* only the final chunk carries it */
    if (c->data.len) memcpy(buf + *got, c->data.data, c->data.len); /* an empty final chunk has no data */
    *got += c->data.len;
    if (sha && c->sha256_hex && *c->sha256_hex) snprintf(sha, 65, "%s", c->sha256_hex);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    if (++n == cancel_after) cgrpc_client_call_cancel(cc);
  }
  struct cgrpc_status st = {0};
  cgrpc_client_call_finish(cc, &st);
  grpc_status_code code = st.code;
  if (code != GRPC_STATUS_OK) printf("  stream %s@%llu: %s %s\n", name, (unsigned long long)offset,
                                     cgrpc_status_name(code), st.message);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(cc);
  return code;
}

static void test_stream(void) {
  static uint8_t buf[ART_SIZE + 65536]; /* room for a server that sends too much */
  size_t got;
  char sha[65];
  CHECK_EQ_INT(stream(key_a, "document.pdf", 0, 0, 0, buf, &got, sha, 0), GRPC_STATUS_OK);
  CHECK_EQ_INT(got, ART_SIZE);
  CHECK(memcmp(buf, art, ART_SIZE) == 0);
  CHECK_EQ_STR(sha, art_sha);
  CHECK_EQ_INT(stream(key_a, "document.pdf", 123456, 0, 4096, buf, &got, sha, 0), GRPC_STATUS_OK);
  CHECK_EQ_INT(got, ART_SIZE - 123456);
  CHECK(memcmp(buf, art + 123456, got) == 0);
  CHECK_EQ_STR(sha, art_sha);
  CHECK_EQ_INT(stream(key_a, "document.pdf", 1000, 5000, 4096, buf, &got, sha, 0), GRPC_STATUS_OK);
  CHECK_EQ_INT(got, 5000);
  CHECK(memcmp(buf, art + 1000, 5000) == 0);
  CHECK_EQ_STR(sha, "");
  /* the edges: the last byte; offset == size (a finished download resumed:
   * no data, the final chunk's sha256); one past the end */
  CHECK_EQ_INT(stream(key_a, "document.pdf", ART_SIZE - 1, 0, 0, buf, &got, sha, 0),
               GRPC_STATUS_OK);
  CHECK_EQ_INT(got, 1);
  CHECK_EQ_INT(buf[0], art[ART_SIZE - 1]);
  CHECK_EQ_STR(sha, art_sha);
  CHECK_EQ_INT(stream(key_a, "document.pdf", ART_SIZE, 0, 0, buf, &got, sha, 0), GRPC_STATUS_OK);
  CHECK_EQ_INT(got, 0);
  CHECK_EQ_STR(sha, art_sha);
  CHECK_EQ_INT(stream(key_a, "document.pdf", ART_SIZE, 10, 4096, buf, &got, sha, 0),
               GRPC_STATUS_OK);
  CHECK_EQ_INT(got, 0);
  CHECK_EQ_STR(sha, art_sha);
  CHECK_EQ_INT(stream(key_a, "document.pdf", ART_SIZE + 1, 0, 0, buf, &got, NULL, 0),
               GRPC_STATUS_OUT_OF_RANGE);
  /* offset and limit at their edges */
  CHECK_EQ_INT(stream(key_a, "document.pdf", ART_SIZE + 1, 0, 0, buf, &got, NULL, 0),
               GRPC_STATUS_OUT_OF_RANGE);
  CHECK_EQ_INT(stream(key_a, "document.pdf", ART_SIZE - 1, 0, 0, buf, &got, sha, 0), GRPC_STATUS_OK);
  CHECK_EQ_INT(got, 1); /* the last byte alone; it ends the artifact, so the sha comes */
  CHECK(buf[0] == art[ART_SIZE - 1]);
  CHECK_EQ_STR(sha, art_sha);
  CHECK_EQ_INT(stream(key_a, "document.pdf", 7, 1, 0, buf, &got, sha, 0), GRPC_STATUS_OK);
  CHECK_EQ_INT(got, 1); /* limit 1: one byte, not the end: no sha */
  CHECK(buf[0] == art[7]);
  CHECK_EQ_STR(sha, "");
  CHECK_EQ_INT(stream(key_a, "document.pdf", 1000, ART_SIZE - 1000, 4096, buf, &got, sha, 0),
               GRPC_STATUS_OK); /* a range exactly to the end */
  CHECK_EQ_INT(got, ART_SIZE - 1000);
  CHECK(memcmp(buf, art + 1000, got) == 0);
  CHECK_EQ_STR(sha, art_sha);
  CHECK_EQ_INT(stream(key_a, "document.pdf", 1000, ART_SIZE - 1000 + 1, 4096, buf, &got, sha, 0),
               GRPC_STATUS_OK); /* one past the end: clipped to it */
  CHECK_EQ_INT(got, ART_SIZE - 1000);
  CHECK_EQ_STR(sha, art_sha);
  CHECK_EQ_INT(stream(key_a, "document.pdf", 1000, ART_SIZE - 1000 - 1, 4096, buf, &got, sha, 0),
               GRPC_STATUS_OK); /* one short of the end: not the end, no sha */
  CHECK_EQ_INT(got, ART_SIZE - 1000 - 1);
  CHECK_EQ_STR(sha, "");
  /* The server sends chunks by reference from its buffer blocks (a whole
   * number of chunks each, 128 KiB at least; server/artifacts.c): chunk sizes
   * that put many chunks, a few, or one in a block, at odd offsets, each
   * chunk of 64 KiB and more spanning several HTTP/2 DATA frames. The
   * assembled bytes equal the artifact and hash to its recorded sha256. */
  static const uint32_t chunks[] = {4096, 50000, 65536, 131073, 299999, 1048576};
  static const uint64_t offs[] = {0, 1, 77777, ART_SIZE - 4097};
  for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++)
    for (size_t j = 0; j < sizeof offs / sizeof *offs; j++) {
      CHECK_EQ_INT(stream(key_a, "document.pdf", offs[j], 0, chunks[i], buf, &got, sha, 0),
                   GRPC_STATUS_OK);
      CHECK_EQ_INT(got, ART_SIZE - offs[j]);
      CHECK_MSG(memcmp(buf, art + offs[j], got) == 0, "chunk %u offset %llu", chunks[i],
                (unsigned long long)offs[j]);
      CHECK_EQ_STR(sha, art_sha);
      if (offs[j] == 0) {
        uint8_t h[32];
        char hex[65];
        crypto_hash_sha256(h, buf, got);
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        CHECK_EQ_STR(hex, art_sha);
      }
    }
  CHECK_EQ_INT(stream(key_a, "document.pdf", 0, 0, 100, buf, &got, NULL, 0),
               GRPC_STATUS_INVALID_ARGUMENT);
  CHECK_EQ_INT(stream(key_a, "nope.pdf", 0, 0, 0, buf, &got, NULL, 0), GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_INT(stream(key_b, "document.pdf", 0, 0, 0, buf, &got, NULL, 0), GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_INT(stream(NULL, "document.pdf", 0, 0, 0, buf, &got, NULL, 0),
               GRPC_STATUS_UNAUTHENTICATED);
  /* cancel after the first 4 KiB chunk; the server stays fine */
  CHECK_EQ_INT(stream(key_a, "document.pdf", 0, 0, 4096, buf, &got, NULL, 1),
               GRPC_STATUS_CANCELLED);
  CHECK(got < ART_SIZE);
  wait_healthy();
  CHECK_EQ_INT(stream(key_a, "document.pdf", 0, 0, 1048576, buf, &got, sha, 0), GRPC_STATUS_OK);
  CHECK_EQ_INT(got, ART_SIZE);
  printf("  StreamArtifact: whole, resumed, limited, last byte, offset == size, OUT_OF_RANGE, "
         "chunk sizes x odd offsets, bad chunk, NOT_FOUND x2, cancel: ok\n");
}

static int curl_code(const char *url) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "curl -s -o /dev/null -w '%%{http_code}' --max-time 20 '%s'", url);
  int st;
  return atoi(proc_run(cmd, &st));
}

/* The X-Amz-Expires value a URL is signed with, parsed exactly (the value
 * runs to '&' or the end: "=90" must not match "=900"). -1 if absent. */
static long url_expires(const char *url) {
  const char *p = strstr(url, "X-Amz-Expires=");
  if (!p) return -1;
  p += strlen("X-Amz-Expires=");
  char *end;
  long v = strtol(p, &end, 10);
  return end != p && (*end == '&' || *end == '\0') ? v : -1;
}

/* GetArtifactUrl for done_job's document.pdf with ttl; on success the URL's
 * signed X-Amz-Expires and url expiry must say the same ttl (want_ttl). */
static void artifact_url_ttl(struct cgrpc_channel *chan, uint32_t ttl, long want_ttl) {
  Folio__V1__GetArtifactUrlRequest req = FOLIO__V1__GET_ARTIFACT_URL_REQUEST__INIT;
  req.job_id = done_job;
  req.name = (char *)(uintptr_t)"document.pdf";
  req.ttl_seconds = ttl;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(key_a, &md);
  Folio__V1__ArtifactUrl *u = NULL;
  struct cgrpc_status st = {0};
  time_t t0 = time(NULL);
  folio__v1__layout_service__get_artifact_url__call(chan, &req, &o, &u, &st);
  CHECK_MSG(u, "ttl %u: %s", ttl, st.message);
  CHECK_MSG(url_expires(u->url) == want_ttl, "ttl %u: signed X-Amz-Expires %ld, want %ld: %s", ttl,
            url_expires(u->url), want_ttl, u->url);
  CHECK(u->expires_at && u->expires_at->seconds >= t0 + want_ttl &&
        u->expires_at->seconds <= time(NULL) + want_ttl);
  if (want_ttl >= 60) CHECK_EQ_INT(curl_code(u->url), 200); /* a 1 s URL may lapse first */
  protobuf_c_message_free_unpacked(&u->base, NULL);
  cgrpc_status_clear(&st);
}

static void test_urls(void) {
  struct cgrpc_status st;
  Folio__V1__Job *j = get_status(key_a, done_job, 120, &st);
  CHECK_MSG(j, "%s", st.message);
  cgrpc_status_clear(&st);
  CHECK(j->n_artifacts == 1 && j->artifacts[0]->signed_url && j->artifacts[0]->url_expires_at);
  const char *url = j->artifacts[0]->signed_url;
  CHECK(strstr(url, "response-content-disposition"));
  CHECK_MSG(url_expires(url) == 120, "GetStatus url_ttl_seconds 120 signed as %ld", url_expires(url));
  time_t now = time(NULL);
  CHECK(j->artifacts[0]->url_expires_at->seconds >= now + 100 &&
        j->artifacts[0]->url_expires_at->seconds <= now + 130);
  CHECK_EQ_INT(curl_code(url), 200);
  char tampered[4096];
  snprintf(tampered, sizeof tampered, "%s", url);
  char *sig = strstr(tampered, "X-Amz-Signature=");
  CHECK(sig);
  sig += 16;
  *sig = *sig == 'a' ? 'b' : 'a';
  CHECK_EQ_INT(curl_code(tampered), 403);
  protobuf_c_message_free_unpacked(&j->base, NULL);

  Folio__V1__GetArtifactUrlRequest req = FOLIO__V1__GET_ARTIFACT_URL_REQUEST__INIT;
  req.job_id = done_job;
  req.name = (char *)(uintptr_t)"document.pdf";
  req.ttl_seconds = 60;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(key_a, &md);
  Folio__V1__ArtifactUrl *u = NULL;
  st = (struct cgrpc_status){0};
  folio__v1__layout_service__get_artifact_url__call(ch, &req, &o, &u, &st);
  CHECK_MSG(u, "%s", st.message);
  CHECK_EQ_INT(curl_code(u->url), 200);
  protobuf_c_message_free_unpacked(&u->base, NULL);
  cgrpc_status_clear(&st);
  struct cgrpc_call_options ob = opts(key_b, &md);
  folio__v1__layout_service__get_artifact_url__call(ch, &req, &ob, &u, &st);
  CHECK_EQ_INT(st.code, GRPC_STATUS_NOT_FOUND);
  cgrpc_status_clear(&st);
  req.ttl_seconds = 604801; /* one past the maximum */
  folio__v1__layout_service__get_artifact_url__call(ch, &req, &o, &u, &st);
  CHECK_EQ_INT(st.code, GRPC_STATUS_INVALID_ARGUMENT);
  cgrpc_status_clear(&st);
  /* ttl on the wire, at its edges: 0 = the default, 1, a non-default value, the maximum */
  artifact_url_ttl(ch, 0, 900);
  artifact_url_ttl(ch, 1, 1);
  artifact_url_ttl(ch, 61, 61);
  artifact_url_ttl(ch, 604800, 604800);
  printf("  signed URLs: curl 200, tampered 403, GetArtifactUrl ok\n");
}

static void pg_ctl(const char *what) {
  char port[32] = "", path[600], cmd[2048];
  snprintf(path, sizeof path, "%s/pg/port", stack_dir);
  FILE *f = fopen(path, "r");
  CHECK(f && fgets(port, sizeof port, f));
  fclose(f);
  port[strcspn(port, "\n")] = '\0';
  const char *as = getuid() == 0 ? "runuser -u postgres -- " : "";
  if (strcmp(what, "stop") == 0)
    snprintf(cmd, sizeof cmd, "%s/usr/lib/postgresql/15/bin/pg_ctl -D '%s/pg/data' -m fast -w stop"
             " >/dev/null 2>&1", as, stack_dir);
  else
    snprintf(cmd, sizeof cmd,
             "%s/usr/lib/postgresql/15/bin/pg_ctl -D '%s/pg/data' -l '%s/pg/postgres.log' -w -t 30 "
             "start -o \"-c listen_addresses=127.0.0.1 -p %s -c unix_socket_directories='%s/pg' "
             "-c fsync=off\" >/dev/null 2>&1",
             as, stack_dir, stack_dir, port, stack_dir);
  CHECK_MSG(system(cmd) == 0, "%s", cmd);
}

/* A retryable failure carries its retry hint as `retry-after-ms` metadata
 * and as a google.rpc.RetryInfo in grpc-status-details-bin, equal. */
static void check_retry_hint(const struct cgrpc_status *st) {
  const char *after = cgrpc_status_header(st, "retry-after-ms");
  for (size_t i = 0; !after && i < st->n_trailers; i++)
    if (strcmp(st->trailers[i].key, "retry-after-ms") == 0) after = st->trailers[i].value;
  CHECK_MSG(after, "no retry-after-ms metadata");
  CHECK_MSG(st->details && st->details_len, "no grpc-status-details-bin");
  Google__Rpc__Status *rs = google__rpc__status__unpack(NULL, st->details_len, st->details);
  CHECK(rs && rs->code == (int32_t)st->code && rs->n_details == 1);
  CHECK_EQ_STR(rs->message, st->message);
  CHECK_EQ_STR(rs->details[0]->type_url, "type.googleapis.com/google.rpc.RetryInfo");
  Google__Rpc__RetryInfo *ri = google__rpc__retry_info__unpack(NULL, rs->details[0]->value.len,
                                                                rs->details[0]->value.data);
  CHECK(ri && ri->retry_delay);
  int64_t ms = ri->retry_delay->seconds * 1000 + ri->retry_delay->nanos / 1000000;
  CHECK_MSG(ms > 0 && ms == atoll(after), "RetryInfo %lld ms, retry-after-ms %s", (long long)ms,
            after);
  printf("  retry hint: retry-after-ms %s, google.rpc.RetryInfo %lld ms\n", after, (long long)ms);
  google__rpc__retry_info__free_unpacked(ri, NULL);
  google__rpc__status__free_unpacked(rs, NULL);
}

/* ---- tenant limits ------------------------------------------------------------- */

static char key_unfinished[128], key_rate[128];
static const char *server_bin;

/* A refusal for a tenant limit: RESOURCE_EXHAUSTED with a google.rpc.Status
 * holding a QuotaFailure (subject "tenant:<name>", description naming limit=value)
 * and a RetryInfo that agrees with retry-after-ms. */
static void check_quota_failure(const struct cgrpc_status *st, const char *tenant,
                                const char *limit_eq) {
  CHECK_MSG(st->code == GRPC_STATUS_RESOURCE_EXHAUSTED, "%d %s", st->code, st->message);
  CHECK_MSG(strstr(st->message, limit_eq) != NULL, "%s", st->message);
  CHECK_MSG(st->details && st->details_len, "no grpc-status-details-bin");
  Google__Rpc__Status *rs = google__rpc__status__unpack(NULL, st->details_len, st->details);
  CHECK(rs && rs->code == (int32_t)st->code && rs->n_details == 2);
  CHECK_EQ_STR(rs->details[0]->type_url, "type.googleapis.com/google.rpc.QuotaFailure");
  Google__Rpc__QuotaFailure *qf = google__rpc__quota_failure__unpack(
      NULL, rs->details[0]->value.len, rs->details[0]->value.data);
  CHECK(qf && qf->n_violations == 1);
  char subject[160];
  snprintf(subject, sizeof subject, "tenant:%s", tenant);
  CHECK_EQ_STR(qf->violations[0]->subject, subject);
  CHECK_MSG(strncmp(qf->violations[0]->description, limit_eq, strlen(limit_eq)) == 0, "%s",
            qf->violations[0]->description);
  CHECK_EQ_STR(rs->details[1]->type_url, "type.googleapis.com/google.rpc.RetryInfo");
  Google__Rpc__RetryInfo *ri = google__rpc__retry_info__unpack(NULL, rs->details[1]->value.len,
                                                                rs->details[1]->value.data);
  CHECK(ri && ri->retry_delay);
  int64_t ms = ri->retry_delay->seconds * 1000 + ri->retry_delay->nanos / 1000000;
  const char *after = NULL;
  for (size_t i = 0; !after && i < st->n_trailers; i++)
    if (strcmp(st->trailers[i].key, "retry-after-ms") == 0) after = st->trailers[i].value;
  if (!after) after = cgrpc_status_header(st, "retry-after-ms");
  CHECK_MSG(after && ms > 0 && ms == atoll(after), "RetryInfo %lld ms, retry-after-ms %s",
            (long long)ms, after ? after : "(none)");
  printf("  %s: %s (retry in %lld ms)\n", tenant, qf->violations[0]->description, (long long)ms);
  google__rpc__retry_info__free_unpacked(ri, NULL);
  google__rpc__quota_failure__free_unpacked(qf, NULL);
  google__rpc__status__free_unpacked(rs, NULL);
}

static void test_quotas(void) {
  struct folio_pg_conn *db = worker_db();
  struct cgrpc_status st;
  char job[FOLIO_UUID_STR_LEN + 1];
  /* max_unfinished_jobs = 2 (set before the server started) */
  CHECK_EQ_INT(submit(key_unfinished, MINIMAL, strlen(MINIMAL), "u1", job, NULL, NULL), 0);
  CHECK_EQ_INT(submit(key_unfinished, MINIMAL, strlen(MINIMAL), "u2", job, NULL, NULL), 0);
  PGresult *r;
  CHECK(folio_pg_conn_command(db, "SELECT count(*) FROM job_events", &r, NULL) == 0);
  long events = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  CHECK_EQ_INT(submit(key_unfinished, MINIMAL, strlen(MINIMAL), "u3", NULL, NULL, &st),
               GRPC_STATUS_RESOURCE_EXHAUSTED);
  check_quota_failure(&st, "q-unfinished", "max_unfinished_jobs=2");
  cgrpc_status_clear(&st);
  /* nothing else disturbed: no job row, no event; its duplicate and another
   * tenant are served */
  CHECK(folio_pg_conn_command(db,
                              "SELECT (SELECT count(*) FROM jobs WHERE tenant = 'q-unfinished'),"
                              " (SELECT count(*) FROM job_events)",
                              &r, NULL) == 0);
  CHECK_EQ_INT(atol(PQgetvalue(r, 0, 0)), 2);
  CHECK_EQ_INT(atol(PQgetvalue(r, 0, 1)), events);
  PQclear(r);
  bool dedup = false;
  CHECK_EQ_INT(submit(key_unfinished, MINIMAL, strlen(MINIMAL), "u2", job, &dedup, NULL), 0);
  CHECK(dedup);
  CHECK_EQ_INT(submit(key_b, MINIMAL, strlen(MINIMAL), NULL, job, NULL, NULL), 0);

  /* submit_rate 0.01/s with a burst of 3: the 4th call in a row is refused,
   * before any decode or database work */
  for (int i = 0; i < 3; i++)
    CHECK_EQ_INT(submit(key_rate, MINIMAL, strlen(MINIMAL), NULL, job, NULL, NULL), 0);
  CHECK_EQ_INT(submit(key_rate, MINIMAL, strlen(MINIMAL), NULL, NULL, NULL, &st),
               GRPC_STATUS_RESOURCE_EXHAUSTED);
  check_quota_failure(&st, "q-rate", "submit_rate=0.01");
  cgrpc_status_clear(&st);
  CHECK(folio_pg_conn_command(db, "SELECT count(*) FROM jobs WHERE tenant = 'q-rate'", &r,
                              NULL) == 0);
  CHECK_EQ_INT(atol(PQgetvalue(r, 0, 0)), 3);
  PQclear(r);
  CHECK_EQ_INT(submit(key_b, MINIMAL, strlen(MINIMAL), NULL, job, NULL, NULL), 0);

  /* a changed limit reaches the running server within the key cache's
   * lifetime (FOLIO_TENANT_LIMITS_TTL_MS, 5 s) */
  proc_tenant_set(server_bin, "q-rate", "--submit-rate 1000 --submit-burst 1000");
  proc_tenant_set(server_bin, "q-unfinished", "--max-unfinished-jobs 3");
  CHECK_EQ_INT(submit(key_unfinished, MINIMAL, strlen(MINIMAL), "u3", job, NULL, NULL), 0);
  usleep(5200 * 1000);
  for (int i = 0; i < 5; i++)
    CHECK_EQ_INT(submit(key_rate, MINIMAL, strlen(MINIMAL), NULL, job, NULL, NULL), 0);
  folio_pg_conn_close(db);
}

/* ---- the decode pool under one tenant's flood -------------------------------------
 * Tenant q-flood keeps FLOODERS big, valid, slow-to-decode layouts in
 * flight (the server runs --decode-threads 2, so its share is 1 thread);
 * tenant beta's small submits meanwhile are answered promptly: each within a
 * generous bound, whatever the flood's queue (measured on a loaded 2-core
 * machine: 2.8 s with the fair pool, 17 s with one FIFO for all). tests/unit/server checks the
 * pool's shares and round-robin exactly; this is the same through the stack. */

enum { FLOODERS = 24 };
static char key_flood[128];
static char *flood_layout;
static size_t flood_len;
static atomic_int flood_stop, flood_ok, flood_refused, flood_other;

static void *flood_thread(void *arg) {
  while (!atomic_load(&flood_stop)) {
    struct cgrpc_status st;
    grpc_status_code c = submit(key_flood, flood_layout, flood_len, NULL, NULL, NULL, &st);
    if (c == GRPC_STATUS_OK) atomic_fetch_add(&flood_ok, 1);
    else if (c == GRPC_STATUS_RESOURCE_EXHAUSTED) atomic_fetch_add(&flood_refused, 1);
    else atomic_fetch_add(&flood_other, 1);
    cgrpc_status_clear(&st);
  }
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_decode_flood(void) {
  /* 100 pages of 1,000 rectangles: about 6 MB of valid JSON */
  size_t cap = 8u << 20, n = 0;
  flood_layout = malloc(cap);
  CHECK(flood_layout);
  n += (size_t)snprintf(flood_layout + n, cap - n, "{\"version\":1,\"pages\":[");
  for (int p = 0; p < 100; p++) {
    n += (size_t)snprintf(flood_layout + n, cap - n, "%s{\"items\":[", p ? "," : "");
    for (int i = 0; i < 1000; i++)
      n += (size_t)snprintf(flood_layout + n, cap - n,
                            "%s{\"type\":\"rect\",\"x\":%d,\"y\":%d,\"w\":5,\"h\":5,"
                            "\"fill\":\"#3366cc\"}",
                            i ? "," : "", i % 500 + 1, i / 2 + 1);
    n += (size_t)snprintf(flood_layout + n, cap - n, "]}");
  }
  n += (size_t)snprintf(flood_layout + n, cap - n, "]}");
  CHECK(n < cap);
  flood_len = n;
  double t = now_s();
  CHECK_EQ_INT(submit(key_flood, flood_layout, flood_len, NULL, NULL, NULL, NULL), 0);
  double one = now_s() - t;
  pthread_t th[FLOODERS];
  for (int i = 0; i < FLOODERS; i++) CHECK(pthread_create(&th[i], NULL, flood_thread, NULL) == 0);
  usleep(500000); /* the flood is queued up */
  double worst = 0;
  for (int i = 0; i < 10; i++) {
    double t0 = now_s();
    struct cgrpc_status st;
    grpc_status_code c = submit(key_b, MINIMAL, strlen(MINIMAL), NULL, NULL, NULL, &st);
    CHECK_MSG(c == GRPC_STATUS_OK, "beta's submit during the flood: %d %s", c, st.message);
    cgrpc_status_clear(&st);
    double dt = now_s() - t0;
    if (dt > worst) worst = dt;
    usleep(100000);
  }
  atomic_store(&flood_stop, 1);
  for (int i = 0; i < FLOODERS; i++) pthread_join(th[i], NULL);
  printf("  one %zu-byte layout alone: %.2f s; during a flood of %d callers (%d accepted, %d "
         "refused): beta's slowest submit %.2f s\n",
         flood_len, one, FLOODERS, atomic_load(&flood_ok), atomic_load(&flood_refused), worst);
  CHECK_EQ_INT(atomic_load(&flood_other), 0);
  CHECK_MSG(worst < 10.0, "beta's submit took %.1f s during the flood", worst);
  free(flood_layout);
}

/* Health.Check of service: its ServingStatus. */
static int health_check(const char *service) {
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  req.service = (char *)(uintptr_t)service;
  Grpc__Health__V1__HealthCheckResponse *resp = NULL;
  struct cgrpc_call_options o = {.timeout_ms = 10000};
  struct cgrpc_status st = {0};
  int rc = grpc__health__v1__health__check__call(ch, &req, &o, &resp, &st);
  CHECK_MSG(rc == 0, "Health.Check(\"%s\"): %s %s", service, cgrpc_status_name(st.code),
            st.message);
  cgrpc_status_clear(&st);
  int status = resp->status;
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  return status;
}

/* The next status a Health.Watch pushes. */
static int health_next(struct cgrpc_client_call *cc) {
  Grpc__Health__V1__HealthCheckResponse *r = NULL;
  int rc = grpc__health__v1__health__watch__read(cc, &r);
  CHECK_MSG(rc == 1, "Health.Watch ended early (rc %d)", rc);
  int status = r->status;
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return status;
}

enum {
  SERVING = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING,
  NOT_SERVING = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING,
};

static void test_pg_outage(void) {
  /* readiness follows PostgreSQL, liveness does not: Watch pushes the change */
  CHECK_EQ_INT(health_check("folio.v1.LayoutService"), SERVING);
  Grpc__Health__V1__HealthCheckRequest hreq = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  hreq.service = (char *)(uintptr_t)"folio.v1.LayoutService";
  struct cgrpc_call_options ho = {.timeout_ms = 120000};
  struct cgrpc_client_call *hw = grpc__health__v1__health__watch__start(ch, &hreq, &ho);
  CHECK(hw);
  CHECK_EQ_INT(health_next(hw), SERVING);
  pg_ctl("stop");
  CHECK_MSG(health_next(hw) == NOT_SERVING, "Watch did not push NOT_SERVING");
  CHECK_EQ_INT(health_check("folio.v1.LayoutService"), NOT_SERVING);
  CHECK_EQ_INT(health_check(""), SERVING);
  printf("  PostgreSQL down: Health folio.v1.LayoutService NOT_SERVING (pushed to Watch), "
         "\"\" SERVING\n");
  /* wait out the key cache so verification itself meets the outage too */
  sleep(6);
  char msg[256];
  grpc_status_code c = status_code_of(key_a, done_job, msg, sizeof msg);
  printf("  PostgreSQL down, GetStatus: %s %s\n", cgrpc_status_name(c), msg);
  CHECK_EQ_INT(c, GRPC_STATUS_UNAVAILABLE);
  struct cgrpc_status st;
  CHECK_EQ_INT(submit(key_a, MINIMAL, strlen(MINIMAL), NULL, NULL, NULL, &st),
               GRPC_STATUS_UNAVAILABLE);
  printf("  PostgreSQL down, SubmitLayout: %s\n", st.message);
  check_retry_hint(&st);
  cgrpc_status_clear(&st);
  pg_ctl("start");
  for (int i = 0; i < 100; i++) {
    c = status_code_of(key_a, done_job, msg, sizeof msg);
    if (c == GRPC_STATUS_OK) break;
    usleep(200000);
  }
  CHECK_MSG(c == GRPC_STATUS_OK, "no recovery: %s %s", cgrpc_status_name(c), msg);
  CHECK_MSG(health_next(hw) == SERVING, "Watch did not push SERVING after the recovery");
  CHECK_EQ_INT(health_check("folio.v1.LayoutService"), SERVING);
  cgrpc_client_call_cancel(hw);
  cgrpc_client_call_destroy(hw);
  printf("  PostgreSQL back: folio.v1.LayoutService SERVING again (pushed to Watch)\n");
  char job[FOLIO_UUID_STR_LEN + 1];
  for (int i = 0; i < 50; i++) {
    if (submit(key_a, MINIMAL, strlen(MINIMAL), NULL, job, NULL, NULL) == GRPC_STATUS_OK) break;
    usleep(200000);
  }
  CHECK_EQ_INT(status_code_of(key_a, job, NULL, 0), GRPC_STATUS_OK);
  printf("  recovered without restarting folio-server\n");
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: %s /path/to/folio-server", argv[0]);
  stack_dir = getenv("FOLIO_STACK_DIR");
  CHECK_MSG(stack_dir && getenv("FOLIO_S3_ENDPOINT"), "run me under scripts/stack.sh run pg,redis,s3");
  CHECK(sodium_init() >= 0);
  setenv("FOLIO_API_KEY_PEPPER", PEPPER, 1);
  setenv("FOLIO_LOG_LEVEL", "warn", 1);
  proc_migrate(argv[1]);
  create_key(argv[1], "acme", key_a);
  create_key(argv[1], "beta", key_b);
  /* a revoked key is refused */
  char key_c[128], cmd[512];
  int st;
  create_key(argv[1], "gamma", key_c);
  snprintf(cmd, sizeof cmd, "'%s' apikey revoke '%s'", argv[1], key_c + 7);
  proc_run(cmd, &st);
  CHECK_EQ_INT(st, 0);
  server_bin = argv[1];
  create_key(argv[1], "q-unfinished", key_unfinished);
  proc_tenant_set(argv[1], "q-unfinished", "--max-unfinished-jobs 2");
  create_key(argv[1], "q-flood", key_flood);
  /* its bytes in flight out of the way: the flood is to fill the decode queue */
  proc_tenant_set(argv[1], "q-flood", "--max-bytes-in-flight 1000000000");
  create_key(argv[1], "q-rate", key_rate);
  proc_tenant_set(argv[1], "q-rate", "--submit-rate 0.01 --submit-burst 3");
  start_server(argv[1]);
  CHECK_EQ_INT(status_code_of(key_c, "0190c3e2-7b7a-7c4e-8f00-0123456789ab", NULL, 0),
               GRPC_STATUS_UNAUTHENTICATED);
  printf("auth\n");
  test_auth();
  printf("submit errors\n");
  test_submit_errors();
  printf("submit violations\n");
  test_submit_violations();
  printf("exact strings\n");
  test_exact_strings();
  test_nul_keys_do_not_deduplicate();
  printf("duplicates\n");
  test_duplicates();
  printf("tenant limits\n");
  test_quotas();
  printf("decode flood\n");
  test_decode_flood();
  printf("status and cancel\n");
  test_status_and_cancel();
  test_idempotency_two_tenants();
  printf("watch disconnect\n");
  test_watch_disconnect();
  printf("cancel running\n");
  test_cancel_running();
  printf("watch\n");
  test_watch_and_succeed();
  printf("stream\n");
  test_stream();
  printf("urls\n");
  test_urls();
  printf("postgres outage\n");
  test_pg_outage();
  stop_server();
  cgrpc_channel_destroy(ch);
  return check_done();
}
