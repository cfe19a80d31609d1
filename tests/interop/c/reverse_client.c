/* The reverse interop test: cgrpc's generated C client stubs calling a server
 * that is not ours (tests/interop/python/canned_server.py, Python grpcio). The
 * server's replies are fixed; every field of them is checked here, and so are
 * request encoding (echoed back by SubmitLayout), request and response metadata,
 * trailers, status codes with their messages, a deadline and server streams.
 *
 *   interop_c_reverse_client HOST:PORT
 *
 * run_reverse.py starts the server and runs this program against it. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "folio/v1/layout_service.cgrpc.h"

#define AUTH_KEY "authorization"
#define AUTH_VALUE "Bearer interop-key"

static struct cgrpc_channel *channel;

/* protobuf-c's string fields are `char *`; requests point them at these. */
static char s_job_1[] = "job-1", s_missing[] = "missing", s_pdf[] = "document.pdf";

/* Call options carrying the authorization and the given x-request-id. The
 * metadata array is static: borrowed by the start of each call only. */
static struct cgrpc_call_options opts_with(const char *request_id, int64_t timeout_ms) {
  static struct cgrpc_metadata md[2];
  md[0] = (struct cgrpc_metadata){AUTH_KEY, AUTH_VALUE, strlen(AUTH_VALUE)};
  md[1] = (struct cgrpc_metadata){"x-request-id", request_id, strlen(request_id)};
  return (struct cgrpc_call_options){.timeout_ms = timeout_ms, .metadata = md, .metadata_count = 2};
}

static const char *trailer(const struct cgrpc_status *st, const char *key) {
  for (size_t i = 0; i < st->n_trailers; i++)
    if (strcmp(st->trailers[i].key, key) == 0) return st->trailers[i].value;
  return NULL;
}

static const char *job_label(const Folio__V1__Job *job, const char *key) {
  for (size_t i = 0; i < job->n_labels; i++)
    if (strcmp(job->labels[i]->key, key) == 0) return job->labels[i]->value;
  return NULL;
}

static void check_ts(const Google__Protobuf__Timestamp *ts, int64_t seconds, int32_t nanos) {
  CHECK_MSG(ts != NULL, "timestamp missing (want %" PRId64 ".%09d)", seconds, (int)nanos);
  CHECK_EQ_INT(ts->seconds, seconds);
  CHECK_EQ_INT(ts->nanos, nanos);
}

/* The Job canned_server.py's job_1() returns. */
static void check_job_1(const Folio__V1__Job *job) {
  CHECK_EQ_STR(job->job_id, "job-1");
  CHECK_EQ_INT(job->state, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  CHECK_EQ_INT(job->progress_percent, 100);
  CHECK_EQ_INT(job->attempts, 2);
  CHECK(job->error == NULL);
  check_ts(job->created_at, 1700000000, 123000000);
  check_ts(job->started_at, 1700000005, 0);
  check_ts(job->finished_at, 1700000009, 999999999);
  CHECK_EQ_INT(job->n_labels, 2);
  CHECK_EQ_STR(job_label(job, "team"), "print");
  CHECK_EQ_STR(job_label(job, "order"), "A-17");
  CHECK_EQ_INT(job->n_formats, 2);
  CHECK_EQ_INT(job->formats[0], FOLIO__V1__FORMAT__FORMAT_PDF);
  CHECK_EQ_INT(job->formats[1], FOLIO__V1__FORMAT__FORMAT_PNG);
  CHECK_EQ_INT(job->n_artifacts, 2);
  const Folio__V1__Artifact *pdf = job->artifacts[0], *png = job->artifacts[1];
  CHECK_EQ_STR(pdf->name, "document.pdf");
  CHECK_EQ_INT(pdf->format, FOLIO__V1__FORMAT__FORMAT_PDF);
  CHECK_EQ_INT(pdf->page, 0);
  CHECK_EQ_INT(pdf->size_bytes, 5000000000LL); /* past 32 bits: a real uint64 */
  CHECK_EQ_STR(pdf->sha256_hex, "abababababababababababababababababababababababababababababababab");
  CHECK_EQ_STR(pdf->content_type, "application/pdf");
  CHECK_EQ_STR(pdf->signed_url, "http://127.0.0.1:9000/folio/job-1/document.pdf?X-Amz-Signature=00ff");
  check_ts(pdf->url_expires_at, 1700000900, 0);
  CHECK_EQ_STR(png->name, "page-0001.png");
  CHECK_EQ_INT(png->format, FOLIO__V1__FORMAT__FORMAT_PNG);
  CHECK_EQ_INT(png->page, 1);
  CHECK_EQ_INT(png->size_bytes, 4096);
  CHECK_EQ_STR(png->sha256_hex, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
  CHECK_EQ_STR(png->content_type, "image/png");
  CHECK_EQ_STR(png->signed_url, "http://127.0.0.1:9000/folio/job-1/page-0001.png?X-Amz-Signature=11ee");
  check_ts(png->url_expires_at, 1700000900, 0);
}

static void test_get_status(void) {
  Folio__V1__GetStatusRequest req = FOLIO__V1__GET_STATUS_REQUEST__INIT;
  req.job_id = s_job_1;
  struct cgrpc_call_options opts = opts_with("c-reverse-1", 10000);
  Folio__V1__Job *job = NULL;
  struct cgrpc_status st = {0};
  int rc = folio__v1__layout_service__get_status__call(channel, &req, &opts, &job, &st);
  CHECK_MSG(rc == 0, "GetStatus: rc %d, status %d: %s", rc, (int)st.code, st.message);
  CHECK_EQ_INT(st.code, GRPC_STATUS_OK);
  CHECK(job != NULL);
  check_job_1(job);
  CHECK_EQ_STR(cgrpc_status_header(&st, "x-request-id"), "c-reverse-1");
  CHECK_EQ_STR(trailer(&st, "x-canned"), "yes");
  protobuf_c_message_free_unpacked(&job->base, NULL);
  cgrpc_status_clear(&st);
}

static void test_error_status(void) {
  Folio__V1__GetStatusRequest req = FOLIO__V1__GET_STATUS_REQUEST__INIT;
  req.job_id = s_missing;
  struct cgrpc_call_options opts = opts_with("c-reverse-2", 10000);
  Folio__V1__Job *job = NULL;
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(folio__v1__layout_service__get_status__call(channel, &req, &opts, &job, &st), CGRPC_ESTATUS);
  CHECK(job == NULL);
  CHECK_EQ_INT(st.code, GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_STR(st.message, "job missing not found");
  CHECK_EQ_STR(cgrpc_status_header(&st, "x-request-id"), "c-reverse-2");
  cgrpc_status_clear(&st);

  Folio__V1__CancelJobRequest creq = FOLIO__V1__CANCEL_JOB_REQUEST__INIT;
  creq.job_id = s_job_1;
  CHECK_EQ_INT(folio__v1__layout_service__cancel_job__call(channel, &creq, &opts, &job, &st), CGRPC_ESTATUS);
  CHECK_EQ_INT(st.code, GRPC_STATUS_FAILED_PRECONDITION);
  CHECK_EQ_STR(st.message, "job job-1 already finished (SUCCEEDED)");
  cgrpc_status_clear(&st);

  /* Without the authorization metadata the server refuses: proves it was sent above. */
  req.job_id = s_job_1;
  struct cgrpc_call_options bare = {.timeout_ms = 10000};
  CHECK_EQ_INT(folio__v1__layout_service__get_status__call(channel, &req, &bare, &job, &st), CGRPC_ESTATUS);
  CHECK_EQ_INT(st.code, GRPC_STATUS_UNAUTHENTICATED);
  CHECK_MSG(strstr(st.message, "authorization") != NULL, "message: %s", st.message);
  cgrpc_status_clear(&st);
}

static void test_submit_encoding(void) {
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  Folio__V1__RenderOptions options = FOLIO__V1__RENDER_OPTIONS__INIT;
  Folio__V1__Format formats[] = {FOLIO__V1__FORMAT__FORMAT_PDF, FOLIO__V1__FORMAT__FORMAT_PNG};
  Folio__V1__SubmitLayoutRequest__LabelsEntry l1 = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__LABELS_ENTRY__INIT;
  Folio__V1__SubmitLayoutRequest__LabelsEntry l2 = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__LABELS_ENTRY__INIT;
  Folio__V1__SubmitLayoutRequest__LabelsEntry *labels[] = {&l1, &l2};
  static uint8_t layout[] = "{\"pages\":[]}";
  static char team[] = "team", print[] = "print", a[] = "a", b[] = "b", range[] = "1-2", key[] = "key-9";
  l1.key = team;
  l1.value = print;
  l2.key = a;
  l2.value = b;
  options.png_dpi = 300;
  options.page_range = range;
  req.layout_json.data = layout;
  req.layout_json.len = sizeof layout - 1;
  req.n_formats = 2;
  req.formats = formats;
  req.options = &options;
  req.idempotency_key = key;
  req.n_labels = 2;
  req.labels = labels;
  struct cgrpc_call_options opts = opts_with("c-reverse-3", 10000);
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct cgrpc_status st = {0};
  int rc = folio__v1__layout_service__submit_layout__call(channel, &req, &opts, &resp, &st);
  CHECK_MSG(rc == 0, "SubmitLayout: rc %d, status %d: %s", rc, (int)st.code, st.message);
  CHECK_EQ_STR(resp->job_id, "key-9|12|FORMAT_PDF,FORMAT_PNG|300:1-2|a=b,team=print");
  CHECK_EQ_INT(resp->state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  CHECK_EQ_INT(resp->deduplicated, 1);
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  cgrpc_status_clear(&st);
}

static void test_watch_stream(void) {
  Folio__V1__WatchJobRequest req = FOLIO__V1__WATCH_JOB_REQUEST__INIT;
  req.job_id = s_job_1;
  struct cgrpc_call_options opts = opts_with("c-reverse-4", 10000);
  struct cgrpc_client_call *call = folio__v1__layout_service__watch_job__start(channel, &req, &opts);
  CHECK(call != NULL);
  static const int states[] = {FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED, FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING,
                               FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED};
  static const int progress[] = {0, 50, 100};
  int n = 0;
  Folio__V1__Job *job = NULL;
  int rc;
  while ((rc = folio__v1__layout_service__watch_job__read(call, &job)) == 1) {
    CHECK_MSG(n < 3, "WatchJob sent more than 3 messages");
    CHECK_EQ_STR(job->job_id, "job-1");
    CHECK_EQ_INT(job->state, states[n]);
    CHECK_EQ_INT(job->progress_percent, progress[n]);
    check_ts(job->created_at, 1700000000, 123000000);
    if (n == 0) CHECK(job->started_at == NULL);
    if (n == 1) check_ts(job->started_at, 1700000005, 0);
    if (n == 2) check_job_1(job);
    protobuf_c_message_free_unpacked(&job->base, NULL);
    n++;
  }
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(n, 3);
  struct cgrpc_status st = {0};
  rc = cgrpc_client_call_finish(call, &st);
  CHECK_MSG(rc == 0, "WatchJob: status %d: %s", (int)st.code, st.message);
  CHECK_EQ_STR(cgrpc_status_header(&st, "x-request-id"), "c-reverse-4");
  CHECK_EQ_STR(trailer(&st, "x-canned"), "yes");
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(call);
}

static void test_artifact_stream(void) {
  Folio__V1__StreamArtifactRequest req = FOLIO__V1__STREAM_ARTIFACT_REQUEST__INIT;
  req.job_id = s_job_1;
  req.name = s_pdf;
  req.chunk_size = 4096;
  struct cgrpc_call_options opts = opts_with("c-reverse-5", 10000);
  struct cgrpc_client_call *call = folio__v1__layout_service__stream_artifact__start(channel, &req, &opts);
  CHECK(call != NULL);
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init(&sha);
  uint64_t next = 0;
  int n = 0;
  char last_hex[65] = "";
  Folio__V1__ArtifactChunk *chunk = NULL;
  int rc;
  while ((rc = folio__v1__layout_service__stream_artifact__read(call, &chunk)) == 1) {
    CHECK_EQ_INT(chunk->offset, next);
    CHECK_EQ_INT(chunk->total_size, 3 * 4096);
    CHECK_EQ_INT(chunk->data.len, 4096);
    for (size_t i = 0; i < chunk->data.len; i++) /* canned_server.chunk_bytes() */
      CHECK_MSG(chunk->data.data[i] == (uint8_t)((next + i) * 7 % 251), "byte %" PRIu64 " differs",
                next + i);
    crypto_hash_sha256_update(&sha, chunk->data.data, chunk->data.len);
    next += chunk->data.len;
    if (n < 2) CHECK_EQ_STR(chunk->sha256_hex, "");
    else snprintf(last_hex, sizeof last_hex, "%s", chunk->sha256_hex);
    protobuf_c_message_free_unpacked(&chunk->base, NULL);
    n++;
  }
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(n, 3);
  unsigned char digest[crypto_hash_sha256_BYTES];
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  crypto_hash_sha256_final(&sha, digest);
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  CHECK_EQ_STR(last_hex, hex);
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_client_call_finish(call, &st), 0);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(call);
}

static void test_deadline(void) {
  /* GetArtifactUrl never answers: the 300 ms deadline must end it. */
  Folio__V1__GetArtifactUrlRequest req = FOLIO__V1__GET_ARTIFACT_URL_REQUEST__INIT;
  req.job_id = s_job_1;
  req.name = s_pdf;
  struct cgrpc_call_options opts = opts_with("c-reverse-6", 300);
  Folio__V1__ArtifactUrl *url = NULL;
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(folio__v1__layout_service__get_artifact_url__call(channel, &req, &opts, &url, &st), CGRPC_ESTATUS);
  CHECK(url == NULL);
  CHECK_EQ_INT(st.code, GRPC_STATUS_DEADLINE_EXCEEDED);
  cgrpc_status_clear(&st);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
    return 2;
  }
  CHECK(sodium_init() >= 0);
  char err[256];
  channel = cgrpc_channel_create(argv[1], NULL, err, sizeof err);
  CHECK_MSG(channel != NULL, "cgrpc_channel_create(%s): %s", argv[1], err);
  test_get_status();
  test_error_status();
  test_submit_encoding();
  test_watch_stream();
  test_artifact_stream();
  test_deadline();
  cgrpc_channel_destroy(channel);
  return check_done();
}
