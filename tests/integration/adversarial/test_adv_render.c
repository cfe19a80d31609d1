/* Hostile documents through the real stack: folio-server and folio-worker
 * (two render processes) on real PostgreSQL, Redis and Ceph RGW (started by
 * scripts/stack.sh), two tenants, the cgrpc client stubs as the callers.
 * Issue 10, classes 1-3 and the page-geometry limit:
 *
 *  1. decompression and decode bombs are refused at SubmitLayout with
 *     RESOURCE_EXHAUSTED naming the limit and its value (a PNG whose data
 *     goes on for 256 MiB after its row, a progressive JPEG of 190 scans,
 *     four headers claiming 576 MB of pixels, a 100,000 pt page), each in
 *     well under a second, while the other tenant's submits are served;
 *  2. a sub-megabyte document of 12 distinct 2000x2000 pictures (192 MB
 *     decoded) renders with the render process's peak RSS under 128 MiB
 *     (image cache 40 MiB); a page too big for the memory ceiling fails
 *     RESOURCE_EXHAUSTED naming FOLIO_RENDER_MEMORY_MAX_BYTES;
 *  3. a document of long unbreakable words with overflow "shrink" is CANCELED
 *     within 10 s of CancelJob, and fails RESOURCE_EXHAUSTED naming cpu_ms
 *     when not canceled; the other tenant's job still SUCCEEDS meanwhile;
 *  4. a tenant's own overrides (folio-server tenant set): its lowered
 *     layout_max_bytes refuses at SubmitLayout and its lowered render_cpu_ms
 *     FAILS the render, each naming the tenant's value, while the other
 *     tenant's same documents are accepted and SUCCEED.
 *
 * usage: test_adv_render folio-server folio-worker   (under scripts/stack.sh run pg,redis,s3) */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "bombs.h"
#include "health.h"
#include "proc.h"
#include "procmem.h"
#include "folio/clock.h"
#include "folio/jobs.h"
#include "folio/v1/layout_service.cgrpc.h"

static const char PEPPER[] = "adv-pepper-0123456789abcdef";
static pid_t server_pid, worker_pid;
static char addr[64];
static struct cgrpc_channel *ch;
static char key_a[128], key_b[128], key_g[128], key_d[128];
static const char *stack_dir;

static void stop_all(void) {
  proc_stop(&worker_pid, 10000);
  proc_stop(&server_pid, 5000);
}

static double now_s(void) { return (double)folio_clock_mono_ns() / 1e9; }

/* "Bearer <key>" of a new key of tenant into out[128]. */
static void create_key(const char *server, const char *tenant, char *out) {
  proc_bearer_create(server, tenant, FOLIO_APIKEY_LEN, out, 128);
}

static struct cgrpc_call_options opts(const char *bearer, struct cgrpc_metadata *md) {
  md->key = "authorization";
  md->value = bearer;
  md->value_len = strlen(bearer);
  return (struct cgrpc_call_options){.timeout_ms = 30000, .metadata = md, .metadata_count = 1};
}

/* SubmitLayout; the status (message copied into msg) and the job id. */
static grpc_status_code submit(const char *bearer, const char *json, Folio__V1__Format fmt, unsigned dpi,
                               char job[FOLIO_UUID_STR_LEN + 1], char *msg, size_t cap) {
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  req.layout_json.data = (uint8_t *)(uintptr_t)json;
  req.layout_json.len = strlen(json);
  Folio__V1__Format f = fmt;
  req.formats = &f;
  req.n_formats = 1;
  Folio__V1__RenderOptions ro = FOLIO__V1__RENDER_OPTIONS__INIT;
  ro.png_dpi = dpi;
  req.options = &ro;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(bearer, &md);
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__submit_layout__call(ch, &req, &o, &resp, &st);
  if (resp) {
    if (job) snprintf(job, FOLIO_UUID_STR_LEN + 1, "%s", resp->job_id);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
  }
  if (msg) snprintf(msg, cap, "%s", st.message ? st.message : "");
  grpc_status_code c = st.code;
  cgrpc_status_clear(&st);
  return c;
}

struct job_view {
  Folio__V1__JobState state;
  char code[64], message[1024];
};

static void get_job(const char *bearer, const char *job, struct job_view *v) {
  Folio__V1__GetStatusRequest req = FOLIO__V1__GET_STATUS_REQUEST__INIT;
  req.job_id = (char *)(uintptr_t)job;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(bearer, &md);
  Folio__V1__Job *j = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__get_status__call(ch, &req, &o, &j, &st);
  CHECK_MSG(j, "GetStatus: %s", st.message);
  v->state = j->state;
  snprintf(v->code, sizeof v->code, "%s", j->error ? j->error->code : "");
  snprintf(v->message, sizeof v->message, "%s", j->error ? j->error->message : "");
  protobuf_c_message_free_unpacked(&j->base, NULL);
  cgrpc_status_clear(&st);
}

static bool terminal(Folio__V1__JobState s) {
  return s == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED || s == FOLIO__V1__JOB_STATE__JOB_STATE_FAILED ||
         s == FOLIO__V1__JOB_STATE__JOB_STATE_CANCELED;
}

/* Polls until the job is in want or terminal, at most timeout_s; returns the view. */
static struct job_view wait_job(const char *bearer, const char *job, Folio__V1__JobState want, double timeout_s) {
  struct job_view v;
  double deadline = now_s() + timeout_s;
  for (;;) {
    get_job(bearer, job, &v);
    if (v.state == want || terminal(v.state)) break;
    CHECK_MSG(now_s() < deadline, "job %s still in state %d after %.0f s", job, v.state, timeout_s);
    proc_sleep_ms(50);
  }
  CHECK_MSG(v.state == want, "job %s ended in state %d, wanted %d (%s: %s)", job, v.state, want, v.code,
            v.message);
  return v;
}

static char *layout_with_assets(const char *const *b64s, const char *const *types, size_t n,
                                const char *pages_json) {
  size_t cap = 4096 + strlen(pages_json);
  for (size_t i = 0; i < n; i++) cap += strlen(b64s[i]) + 128;
  char *s = malloc(cap);
  CHECK(s);
  size_t p = (size_t)snprintf(s, cap, "{\"version\":1,\"assets\":{");
  for (size_t i = 0; i < n; i++)
    p += (size_t)snprintf(s + p, cap - p, "%s\"i%zu\":{\"media_type\":\"%s\",\"data\":\"%s\"}", i ? "," : "", i,
                          types[i], b64s[i]);
  snprintf(s + p, cap - p, "},\"pages\":%s}", pages_json);
  return s;
}

static const char MINIMAL[] =
    "{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":20,\"y\":20,\"w\":200,\"h\":40,"
    "\"text\":\"ordinary\"}]}]}";

/* Tenant beta's ordinary submit: answered OK quickly; returns its job id. */
static void other_tenant_submit(char job[FOLIO_UUID_STR_LEN + 1]) {
  char msg[512];
  double t0 = now_s();
  CHECK_EQ_INT(submit(key_b, MINIMAL, FOLIO__V1__FORMAT__FORMAT_PDF, 0, job, msg, sizeof msg), GRPC_STATUS_OK);
  CHECK_MSG(now_s() - t0 < 5.0, "the other tenant's submit took %.1f s", now_s() - t0);
}

/* Expects RESOURCE_EXHAUSTED naming want; well under a second of the
 * server's time even on a loaded machine (the bombs cost seconds to inflate). */
static void expect_refused(const char *what, const char *json, const char *want) {
  char msg[2048];
  double t0 = now_s();
  grpc_status_code c = submit(key_a, json, FOLIO__V1__FORMAT__FORMAT_PDF, 0, NULL, msg, sizeof msg);
  double dt = now_s() - t0;
  CHECK_MSG(c == GRPC_STATUS_RESOURCE_EXHAUSTED && strstr(msg, want), "%s: %s %s", what, cgrpc_status_name(c), msg);
  CHECK_MSG(dt < 3.0, "%s: refused only after %.1f s", what, dt);
  printf("  %s: refused in %.0f ms: %.200s\n", what, dt * 1000, msg);
}

static void test_bombs(void) {
  size_t n;
  /* a 1x1 PNG whose image data goes on with 256 MiB of zeros */
  unsigned char *p = bomb_png(1, 1, 256, 0, 0, &n);
  char *b = b64(p, n);
  free(p);
  const char *types1[] = {"image/png"};
  const char *pages_img = "[{\"items\":[{\"type\":\"image\",\"x\":0,\"y\":0,\"w\":10,\"h\":10,\"asset\":\"i0\"}]}]";
  char *doc = layout_with_assets((const char *const *)&b, types1, 1, pages_img);
  printf("  PNG bomb: %zu bytes of request\n", strlen(doc));
  expect_refused("PNG data after the last row", doc, "after the last row");
  /* two at once, with the other tenant submitting meanwhile */
  char jb[FOLIO_UUID_STR_LEN + 1];
  other_tenant_submit(jb);
  free(doc);
  free(b);
  /* a progressive JPEG of 1 + 3*63 scans */
  p = bomb_jpeg_scans(64, 64, 63, &n);
  b = b64(p, n);
  free(p);
  const char *types2[] = {"image/jpeg"};
  doc = layout_with_assets((const char *const *)&b, types2, 1, pages_img);
  expect_refused("JPEG of 190 scans", doc, "max_jpeg_scans = 100");
  free(doc);
  free(b);
  /* four headers claiming 6000x6000 each: decided before any decoder runs */
  unsigned char hdr[45]; /* the header is all that is read */
  bomb_png_header(6000, 6000, hdr);
  b = b64(hdr, sizeof hdr);
  const char *four[] = {b, b, b, b};
  const char *types4[] = {"image/png", "image/png", "image/png", "image/png"};
  doc = layout_with_assets(four, types4, 4, "[{\"items\":[]}]");
  expect_refused("576 MB of pixels in headers", doc, "max_image_bytes_total = 536870912");
  free(doc);
  free(b);
  /* a page of 100,000 pt a side */
  expect_refused("a 100000 pt page",
                 "{\"version\":1,\"pages\":[{\"size\":{\"width\":100000,\"height\":100000},\"items\":[]}]}",
                 "max_page_side = 14400 pt");
}

/* The peak RSS (KiB) of the render processes, after resetting it. */
static void reset_hwm(void) {
  pid_t kids[16];
  size_t n = proc_children(worker_pid, kids, 16);
  CHECK_MSG(n >= 1, "no render process");
  for (size_t i = 0; i < n; i++) proc_reset_hwm(kids[i]);
}
static long max_hwm_kb(void) {
  pid_t kids[16];
  size_t n = proc_children(worker_pid, kids, 16);
  long m = 0;
  for (size_t i = 0; i < n; i++) {
    long kb = proc_status_kb(kids[i], "VmHWM");
    if (kb > m) m = kb;
  }
  return m;
}

#define CACHE_BYTES (40u << 20)

static void test_memory(void) {
  /* 12 distinct black 2000x2000 pictures, one per page: 192 MB decoded, 16 MB
   * each, from a request of well under 1 MB */
  enum { N = 12 };
  char *b[N];
  const char *types[N];
  size_t n;
  unsigned char *p = bomb_png(2000, 2000, 0, 0, 0, &n);
  for (int i = 0; i < N; i++) {
    b[i] = b64(p, n);
    types[i] = "image/png";
  }
  free(p);
  char pages[N * 160 + 16];
  size_t pp = (size_t)snprintf(pages, sizeof pages, "[");
  for (int i = 0; i < N; i++)
    pp += (size_t)snprintf(pages + pp, sizeof pages - pp,
                           "%s{\"items\":[{\"type\":\"image\",\"x\":10,\"y\":10,\"w\":400,\"h\":400,\"asset\":\"i%d\"}]}",
                           i ? "," : "", i);
  snprintf(pages + pp, sizeof pages - pp, "]");
  char *doc = layout_with_assets((const char *const *)b, types, N, pages);
  printf("  %d pictures of 2000x2000: %zu bytes of request\n", N, strlen(doc));
  CHECK(strlen(doc) < (1u << 20));
  reset_hwm();
  char job[FOLIO_UUID_STR_LEN + 1], msg[512];
  CHECK_MSG(submit(key_a, doc, FOLIO__V1__FORMAT__FORMAT_PNG, 36, job, msg, sizeof msg) == GRPC_STATUS_OK, "%s",
            msg);
  wait_job(key_a, job, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED, 60);
  long kb = max_hwm_kb();
  /* the cache (40 MiB: two pictures), the picture being decoded (16 MB), a
   * page, and the process's own baseline (libraries, fonts, S3 buffers): under
   * 128 MiB, where keeping every picture needed over 200 MB */
  printf("  render process peak RSS: %ld MiB (image cache %u MiB)\n", kb / 1024, CACHE_BYTES >> 20);
  CHECK_MSG(kb > 0 && kb < 128 * 1024, "render process peak RSS %ld KiB", kb);
  free(doc);
  for (int i = 0; i < N; i++) free(b[i]);

  /* an A2 page at 600 dpi needs 557 MB of raster: past the 512 MiB ceiling */
  const char *a2 = "{\"version\":1,\"page\":{\"size\":\"A2\"},\"pages\":[{\"items\":[]}]}";
  CHECK_MSG(submit(key_a, a2, FOLIO__V1__FORMAT__FORMAT_PNG, 600, job, msg, sizeof msg) == GRPC_STATUS_OK, "%s", msg);
  struct job_view v = wait_job(key_a, job, FOLIO__V1__JOB_STATE__JOB_STATE_FAILED, 60);
  printf("  A2 at 600 dpi: %s: %s\n", v.code, v.message);
  CHECK_MSG(!strcmp(v.code, "RESOURCE_EXHAUSTED") && strstr(v.message, "FOLIO_RENDER_MEMORY_MAX_BYTES=536870912"),
            "%s: %s", v.code, v.message);
}

/* n items, each one word of len characters that must shrink into a small box. */
static char *shrink_doc(int items, size_t len) {
  size_t cap = (size_t)items * (len + 200) + 256;
  char *s = malloc(cap);
  CHECK(s);
  size_t p = (size_t)snprintf(s, cap, "{\"version\":1,\"pages\":[{\"items\":[");
  for (int i = 0; i < items; i++) {
    p += (size_t)snprintf(s + p, cap - p,
                          "%s{\"type\":\"text\",\"x\":20,\"y\":20,\"w\":100,\"h\":30,\"overflow\":\"shrink\",\"text\":\"",
                          i ? "," : "");
    for (size_t k = 0; k < len; k++) s[p++] = (char)('a' + (k + (size_t)i) % 26);
    p += (size_t)snprintf(s + p, cap - p, "\"}");
  }
  snprintf(s + p, cap - p, "]}]}");
  return s;
}

static void cancel(const char *bearer, const char *job) {
  Folio__V1__CancelJobRequest req = FOLIO__V1__CANCEL_JOB_REQUEST__INIT;
  req.job_id = (char *)(uintptr_t)job;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(bearer, &md);
  Folio__V1__Job *j = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__cancel_job__call(ch, &req, &o, &j, &st);
  CHECK_MSG(j, "CancelJob: %s", st.message);
  protobuf_c_message_free_unpacked(&j->base, NULL);
  cgrpc_status_clear(&st);
}

static void test_shrink(void) {
  /* 8 words of 60,000 characters (about 10 s of CPU to fit now; pango's own
   * character breaking needed minutes for each) */
  char *doc = shrink_doc(8, 60000);
  char job[FOLIO_UUID_STR_LEN + 1], msg[512];
  CHECK_MSG(submit(key_a, doc, FOLIO__V1__FORMAT__FORMAT_PDF, 0, job, msg, sizeof msg) == GRPC_STATUS_OK, "%s", msg);
  wait_job(key_a, job, FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING, 30);
  proc_sleep_ms(500);
  /* meanwhile the other tenant is served, submit and render */
  char other[FOLIO_UUID_STR_LEN + 1];
  other_tenant_submit(other);
  double t0 = now_s();
  cancel(key_a, job);
  wait_job(key_a, job, FOLIO__V1__JOB_STATE__JOB_STATE_CANCELED, 10);
  printf("  shrink document CANCELED %.2f s after CancelJob\n", now_s() - t0);
  wait_job(key_b, other, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED, 30);

  /* not canceled: the CPU limit (FOLIO_RENDER_CPU_MS=5000) ends it */
  t0 = now_s();
  CHECK_MSG(submit(key_a, doc, FOLIO__V1__FORMAT__FORMAT_PDF, 0, job, msg, sizeof msg) == GRPC_STATUS_OK, "%s", msg);
  struct job_view v = wait_job(key_a, job, FOLIO__V1__JOB_STATE__JOB_STATE_FAILED, 60);
  printf("  shrink document FAILED after %.1f s: %s: %s\n", now_s() - t0, v.code, v.message);
  CHECK_MSG(!strcmp(v.code, "RESOURCE_EXHAUSTED") && strstr(v.message, "FOLIO_RENDER_CPU_MS=5000"), "%s: %s", v.code,
            v.message);
  free(doc);
}

/* 4. Per-tenant overrides (folio-server tenant set, migration 0004), set
 * before the processes start: tenant gamma's layout_max_bytes 64, tenant
 * delta's render_cpu_ms 100; beta has none (the server's FOLIO_LAYOUT_MAX_BYTES, the
 * worker's FOLIO_RENDER_CPU_MS=5000). The same documents: gamma's refused
 * or FAILED naming its own value, beta's accepted and rendered. */
static void test_tenant_overrides(void) {
  char job[FOLIO_UUID_STR_LEN + 1], msg[2048];
  /* SubmitLayout decodes with gamma's layout limits */
  grpc_status_code c = submit(key_g, MINIMAL, FOLIO__V1__FORMAT__FORMAT_PDF, 0, NULL, msg, sizeof msg);
  CHECK_MSG(c == GRPC_STATUS_RESOURCE_EXHAUSTED && strstr(msg, "layout_max_bytes=64") &&
                strstr(msg, "more than the limit of 64"),
            "gamma's %zu-byte layout: %s %s", strlen(MINIMAL), cgrpc_status_name(c), msg);
  printf("  gamma (layout_max_bytes 64): %s\n", msg);
  char ok[FOLIO_UUID_STR_LEN + 1];
  CHECK_EQ_INT(submit(key_b, MINIMAL, FOLIO__V1__FORMAT__FORMAT_PDF, 0, ok, msg, sizeof msg), GRPC_STATUS_OK);
  /* the render runs with delta's CPU budget: one long word to shrink (about a
   * second of CPU; far under beta's 5000 ms, far over delta's 100 ms) */
  char *doc = shrink_doc(1, 60000);
  char other[FOLIO_UUID_STR_LEN + 1];
  CHECK_MSG(submit(key_d, doc, FOLIO__V1__FORMAT__FORMAT_PDF, 0, job, msg, sizeof msg) == GRPC_STATUS_OK, "%s", msg);
  CHECK_MSG(submit(key_b, doc, FOLIO__V1__FORMAT__FORMAT_PDF, 0, other, msg, sizeof msg) == GRPC_STATUS_OK, "%s",
            msg);
  struct job_view v = wait_job(key_d, job, FOLIO__V1__JOB_STATE__JOB_STATE_FAILED, 60);
  printf("  delta (render_cpu_ms 100): %s: %s\n", v.code, v.message);
  CHECK_MSG(!strcmp(v.code, "RESOURCE_EXHAUSTED") && strstr(v.message, "render_cpu_ms=100 ms"), "%s: %s", v.code,
            v.message);
  double t0 = now_s();
  wait_job(key_b, other, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED, 60);
  wait_job(key_b, ok, FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED, 30);
  printf("  beta, no override: the same documents SUCCEEDED (+%.1f s)\n", now_s() - t0);
  free(doc);
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 3, "usage: %s folio-server folio-worker", argv[0]);
  stack_dir = getenv("FOLIO_STACK_DIR");
  CHECK_MSG(stack_dir && getenv("FOLIO_S3_ENDPOINT"), "run me under scripts/stack.sh run pg,redis,s3");
  CHECK(sodium_init() >= 0);
  setenv("FOLIO_API_KEY_PEPPER", PEPPER, 1);
  setenv("FOLIO_LOG_LEVEL", "warn", 1);
  proc_migrate(argv[1]);
  create_key(argv[1], "acme", key_a);
  create_key(argv[1], "beta", key_b);
  proc_tenant_set(argv[1], "gamma", "--layout-max-bytes 64");
  create_key(argv[1], "gamma", key_g);
  proc_tenant_set(argv[1], "delta", "--render-cpu-ms 100");
  create_key(argv[1], "delta", key_d);
  atexit(stop_all);

  char slog[512], wlog[512];
  snprintf(slog, sizeof slog, "%s/server.log", stack_dir);
  snprintf(wlog, sizeof wlog, "%s/worker.log", stack_dir);
  /* port 0, reported on the "listening" line, which is logged at info */
  const char *senv[] = {"FOLIO_LOG_LEVEL=info", NULL};
  const char *sargv[] = {argv[1], "--decode-threads", "2", NULL};
  server_pid = proc_spawn_listening(sargv, senv, slog, SIGKILL, 20000, addr, sizeof addr);
  char cache[64];
  snprintf(cache, sizeof cache, "FOLIO_RENDER_IMAGE_CACHE_BYTES=%u", CACHE_BYTES);
  const char *wenv[] = {"FOLIO_WORKERS=2", "FOLIO_HEARTBEAT_MS=200", "FOLIO_VISIBILITY_TIMEOUT_MS=3000",
                        "FOLIO_RENDER_CPU_MS=5000", cache, "FOLIO_RENDER_MEMORY_MAX_BYTES=536870912", NULL};
  const char *wargv[] = {argv[2], NULL};
  worker_pid = proc_spawn(wargv, wenv, wlog, SIGTERM);
  char err[256];
  ch = cgrpc_channel_create(addr, NULL, err, sizeof err);
  CHECK_MSG(ch, "%s", err);
  CHECK_MSG(proc_wait_healthy(ch, &server_pid, 20000) == 0, "folio-server did not become healthy; see %s", slog);

  printf("1. bombs\n");
  test_bombs();
  printf("2. memory\n");
  test_memory();
  printf("3. shrink, cancel and CPU limit\n");
  test_shrink();
  printf("4. per-tenant overrides\n");
  test_tenant_overrides();
  stop_all();
  cgrpc_channel_destroy(ch);
  return check_done();
}
