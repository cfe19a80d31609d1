/* Stalled readers against the real stack (PostgreSQL, Redis, Ceph RGW from
 * scripts/stack.sh) and the real folio-server; jobs are moved to SUCCEEDED
 * with lib/jobs and their artifacts PUT into RGW by hand (no worker).
 *
 * A. Stalled readers do not starve other tenants (issue 10, class 4).
 *    Three attacking tenants open 8 StreamArtifact calls each (24, more than
 *    the server's 16 S3 connections per host) with a 64 KiB HTTP/2 window,
 *    take one chunk each and stop reading. Then:
 *    - a 9th stream of one attacker gets RESOURCE_EXHAUSTED with a
 *      google.rpc.QuotaFailure and a google.rpc.RetryInfo;
 *    - folio-server soon holds (almost) no TCP connection to RGW: the stalled
 *      streams released their S3 GETs (counted in /proc/net/tcp for the
 *      server's own sockets);
 *    - another tenant downloads three artifacts to completion within its
 *      deadline, each hashing to the recorded sha256;
 *    - one stalled reader reads on: resumed by range, its bytes hash to the
 *      recorded sha256;
 *    - the others, left alone past FOLIO_STREAM_IDLE_MS, end with ABORTED
 *      "stream idle", and their tenant can stream again (slots returned).
 * A2. A tenant whose streams_per_tenant is 1 (folio-server tenant set) gets
 *    QuotaFailure on its 2nd concurrent stream; a tenant without one holds two.
 * B. HTTP/2 connection policy, with raw TCP clients speaking HTTP/2 frames:
 *    - keepalive: a client that completes the preface and then stops reading
 *      (acks no ping) is disconnected; one that acks pings stays connected;
 *    - SETTINGS_MAX_CONCURRENT_STREAMS is announced, and a gRPC client with
 *      that many streams open waits for a slot (its next call's deadline
 *      passes) until one ends;
 *    - ping strikes: a client that pings without pause gets GOAWAY
 *      ENHANCE_YOUR_CALM;
 *    - max connection idle and max connection age: GOAWAY.
 *
 * usage: test_streams_fair FOLIO_SERVER   (under scripts/stack.sh run pg,redis,s3) */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "health.h"
#include "proc.h"
#include "folio/clock.h"
#include "folio/jobs.h"
#include "folio/s3.h"
#include "folio/v1/layout_service.cgrpc.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"

#define ART_SIZE (4u << 20)
#define GOOD_SIZE (2u << 20)
#define ATTACKERS 3
#define PER_TENANT 8 /* the server's cap, set below */
#define IDLE_MS 8000
#define STALL_MS 500

static const char PEPPER[] = "fair-pepper-0123456789abcdef";
static const char *server_bin, *stack_dir;
static pid_t server_pid;
static char addr[64];
static struct cgrpc_channel *ch;

static void stop_server(void) { proc_stop(&server_pid, 5000); }

static double secs(int64_t t0) { return (double)(folio_clock_mono_ns() - t0) / 1e9; }

static void start_server(const char *name, const char *const extra_env[]) {
  char log[512];
  snprintf(log, sizeof log, "%s/%s.log", stack_dir, name);
  const char *env[16] = {0};
  size_t n = 0;
  for (size_t i = 0; extra_env[i] && n < 15; i++) env[n++] = extra_env[i];
  const char *argv[] = {server_bin, NULL};
  /* port 0: the server reports the port it bound (tests/harness/proc.h) */
  server_pid = proc_spawn_listening(argv, env, log, SIGKILL, 20000, addr, sizeof addr);
  char err[256];
  ch = cgrpc_channel_create(addr, NULL, err, sizeof err);
  CHECK_MSG(ch, "%s", err);
  CHECK_MSG(proc_wait_healthy(ch, &server_pid, 20000) == 0,
            "folio-server did not become healthy; see %s", log);
}

static void restart_server(const char *name, const char *const extra_env[]) {
  cgrpc_channel_destroy(ch);
  ch = NULL;
  CHECK_EQ_INT(proc_stop(&server_pid, 10000), 0); /* clean, and leak-free under ASan */
  start_server(name, extra_env);
}

static struct cgrpc_call_options opts(const char *bearer, struct cgrpc_metadata *md,
                                      int64_t timeout_ms) {
  *md = (struct cgrpc_metadata){"authorization", bearer, strlen(bearer)};
  return (struct cgrpc_call_options){
      .timeout_ms = timeout_ms, .metadata = md, .metadata_count = 1};
}

/* ---- tenants, jobs and artifacts -------------------------------------------------- */

struct art {
  const char *name;
  size_t size;
  uint8_t *bytes;
  char sha[65];
};

struct tenant {
  char name[32];
  char bearer[300];
  char job[FOLIO_UUID_STR_LEN + 1];
  struct art arts[3];
  size_t narts;
};

static const char MINIMAL[] = "{\"version\":1,\"pages\":[{\"items\":[]}]}";

static void submit(struct tenant *t, char *job) {
  Folio__V1__SubmitLayoutRequest req;
  folio__v1__submit_layout_request__init(&req);
  req.layout_json.data = (uint8_t *)(uintptr_t)MINIMAL;
  req.layout_json.len = strlen(MINIMAL);
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(t->bearer, &md, 30000);
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__submit_layout__call(ch, &req, &o, &resp, &st);
  CHECK_MSG(resp, "SubmitLayout: %s %s", cgrpc_status_name(st.code), st.message);
  snprintf(job, FOLIO_UUID_STR_LEN + 1, "%s", resp->job_id);
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  cgrpc_status_clear(&st);
}

/* A tenant with an API key and one SUCCEEDED job holding narts artifacts of
 * size random bytes each, PUT into RGW. */
static void make_tenant(struct tenant *t, const char *name, size_t narts, size_t size) {
  snprintf(t->name, sizeof t->name, "%s", name);
  char key[256];
  proc_apikey_create(server_bin, name, key, sizeof key);
  snprintf(t->bearer, sizeof t->bearer, "Bearer %s", key);
  submit(t, t->job);
  struct folio_pg_conn_config pc = {.conninfo = getenv("FOLIO_DATABASE_URL")};
  folio_jobs_conn_config(&pc);
  struct folio_pg_conn *db;
  struct folio_pg_diag d;
  CHECK_MSG(folio_pg_conn_connect(&pc, &db, &d) == 0, "%s", d.msg);
  struct folio_arena *arena = folio_arena_create(0);
  struct folio_job_claim cl;
  CHECK_MSG(folio_jobs_claim(db, t->job, "fair-worker", arena, &cl, &d) == 0, "%s", d.msg);
  struct folio_s3_config s3;
  char err[256];
  CHECK_MSG(folio_s3_config_from_env(&s3, err, sizeof err) == 0, "%s", err);
  static const char *const names[] = {"document.pdf", "page-1.png", "page-2.png"};
  static char keys[3][160];
  struct folio_job_artifact a[3];
  t->narts = narts;
  for (size_t i = 0; i < narts; i++) {
    struct art *x = &t->arts[i];
    x->name = names[i];
    x->size = size;
    x->bytes = malloc(size);
    CHECK(x->bytes);
    randombytes_buf(x->bytes, size);
    uint8_t h[32];
    crypto_hash_sha256(h, x->bytes, size);
    sodium_bin2hex(x->sha, sizeof x->sha, h, sizeof h);
    snprintf(keys[i], sizeof keys[i], "fair/%s/%s", t->job, names[i]);
    struct folio_s3_sync_result r;
    CHECK_MSG(folio_s3_sync_put(&s3, keys[i], x->bytes, size, NULL, &r) == 0, "put: %s %s",
              r.error_code, r.error_message);
    a[i] = (struct folio_job_artifact){
        .name = names[i], .format = i == 0 ? FOLIO_FORMAT_PDF : FOLIO_FORMAT_PNG,
        .size_bytes = size, .sha256_hex = x->sha,
        .content_type = i == 0 ? "application/pdf" : "image/png", .object_key = keys[i]};
  }
  CHECK_MSG(folio_jobs_succeed(db, t->job, cl.attempt, a, narts, &d) == 0, "%s", d.msg);
  folio_arena_destroy(arena);
  folio_pg_conn_close(db);
}

/* ---- reading streams --------------------------------------------------------------- */

static struct cgrpc_client_call *stream_start(struct cgrpc_channel *via, const struct tenant *t,
                                              const struct art *a, int64_t timeout_ms) {
  Folio__V1__StreamArtifactRequest req;
  folio__v1__stream_artifact_request__init(&req);
  req.job_id = (char *)(uintptr_t)t->job;
  req.name = (char *)(uintptr_t)a->name;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(t->bearer, &md, timeout_ms);
  struct cgrpc_client_call *cc = folio__v1__layout_service__stream_artifact__start(via, &req, &o);
  CHECK(cc);
  return cc;
}

struct reader {
  struct cgrpc_client_call *cc;
  const struct art *a;
  uint64_t bytes;
  crypto_hash_sha256_state h;
  char final_sha[65];
};

/* Reads one chunk (max_chunks = 1) or everything (0); returns 1 while the
 * stream goes on, 0 at its end. Checks offsets and accumulates the hash. */
static int reader_read(struct reader *r, int max_chunks) {
  Folio__V1__ArtifactChunk *c;
  for (int n = 0; max_chunks == 0 || n < max_chunks; n++) {
    if (folio__v1__layout_service__stream_artifact__read(r->cc, &c) != 1) return 0;
    CHECK_EQ_INT(c->offset, r->bytes);
    CHECK_EQ_INT(c->total_size, r->a->size);
    CHECK(r->bytes + c->data.len <= r->a->size);
    CHECK(memcmp(c->data.data, r->a->bytes + r->bytes, c->data.len) == 0);
    crypto_hash_sha256_update(&r->h, c->data.data, c->data.len);
    r->bytes += c->data.len;
    if (c->sha256_hex && *c->sha256_hex)
      snprintf(r->final_sha, sizeof r->final_sha, "%s", c->sha256_hex);
    protobuf_c_message_free_unpacked(&c->base, NULL);
  }
  return 1;
}

static grpc_status_code reader_finish(struct reader *r, char *msg, size_t cap, char *hex) {
  struct cgrpc_status st = {0};
  cgrpc_client_call_finish(r->cc, &st);
  grpc_status_code code = st.code;
  if (msg) snprintf(msg, cap, "%s", st.message ? st.message : "");
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(r->cc);
  r->cc = NULL;
  uint8_t d[32];
  crypto_hash_sha256_final(&r->h, d);
  if (hex) sodium_bin2hex(hex, 65, d, sizeof d);
  return code;
}

static void reader_init(struct reader *r, struct cgrpc_client_call *cc, const struct art *a) {
  *r = (struct reader){.cc = cc, .a = a};
  crypto_hash_sha256_init(&r->h);
}

/* Downloads a whole artifact within deadline_ms; checks bytes and sha256. */
static void download(const struct tenant *t, const struct art *a, int64_t deadline_ms) {
  struct reader r;
  reader_init(&r, stream_start(ch, t, a, deadline_ms), a);
  reader_read(&r, 0);
  char msg[256], hex[65];
  grpc_status_code code = reader_finish(&r, msg, sizeof msg, hex);
  CHECK_MSG(code == GRPC_STATUS_OK, "%s's download of %s: %s %s (%llu of %zu bytes)", t->name,
            a->name, cgrpc_status_name(code), msg, (unsigned long long)r.bytes, a->size);
  CHECK_EQ_INT(r.bytes, a->size);
  CHECK_EQ_STR(hex, a->sha);
  CHECK_EQ_STR(r.final_sha, a->sha);
}

/* ---- TCP connections from folio-server to RGW --------------------------------------- */

static int rgw_port(void) {
  const char *ep = getenv("FOLIO_S3_ENDPOINT");
  const char *colon = ep ? strrchr(ep, ':') : NULL;
  CHECK_MSG(colon, "FOLIO_S3_ENDPOINT \"%s\" has no port", ep ? ep : "");
  return atoi(colon + 1);
}

/* ESTABLISHED TCP connections of pid's own sockets whose remote port is port. */
static int conns_to(pid_t pid, int port) {
  unsigned long inodes[4096];
  size_t n = 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
  DIR *d = opendir(path);
  CHECK_MSG(d, "cannot list %s", path);
  struct dirent *e;
  while ((e = readdir(d)) && n < 4096) {
    char lp[320], target[64];
    snprintf(lp, sizeof lp, "%s/%s", path, e->d_name);
    ssize_t len = readlink(lp, target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = '\0';
    unsigned long ino;
    if (sscanf(target, "socket:[%lu]", &ino) == 1) inodes[n++] = ino;
  }
  closedir(d);
  int count = 0;
  const char *tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
  for (size_t t = 0; t < 2; t++) {
    FILE *f = fopen(tables[t], "r");
    if (!f) continue;
    char line[512];
    if (!fgets(line, sizeof line, f)) line[0] = '\0'; /* the header */
    while (fgets(line, sizeof line, f)) {
      unsigned rport, st;
      unsigned long ino;
      if (sscanf(line, " %*s %*s %*[0-9A-Fa-f]:%x %x %*s %*s %*s %*u %*u %lu", &rport, &st,
                 &ino) != 3)
        continue;
      if (rport != (unsigned)port || st != 1) continue;
      for (size_t i = 0; i < n; i++)
        if (inodes[i] == ino) count++;
    }
    fclose(f);
  }
  return count;
}

/* ---- A. stalled readers ------------------------------------------------------------- */

static void check_quota_failure(const struct cgrpc_status *st, const char *tenant,
                                const char *cap_desc) {
  CHECK(st->details && st->details_len);
  Google__Rpc__Status *s = google__rpc__status__unpack(NULL, st->details_len, st->details);
  CHECK(s);
  CHECK_EQ_INT(s->code, GRPC_STATUS_RESOURCE_EXHAUSTED);
  bool qf = false, ri = false;
  for (size_t i = 0; i < s->n_details; i++) {
    const Google__Protobuf__Any *a = s->details[i];
    if (strcmp(a->type_url, "type.googleapis.com/google.rpc.QuotaFailure") == 0) {
      Google__Rpc__QuotaFailure *q =
          google__rpc__quota_failure__unpack(NULL, a->value.len, a->value.data);
      CHECK(q && q->n_violations == 1);
      char subject[64];
      snprintf(subject, sizeof subject, "tenant:%s", tenant);
      CHECK_EQ_STR(q->violations[0]->subject, subject);
      CHECK_MSG(strstr(q->violations[0]->description, cap_desc), "%s",
                q->violations[0]->description);
      google__rpc__quota_failure__free_unpacked(q, NULL);
      qf = true;
    } else if (strcmp(a->type_url, "type.googleapis.com/google.rpc.RetryInfo") == 0) {
      Google__Rpc__RetryInfo *r = google__rpc__retry_info__unpack(NULL, a->value.len, a->value.data);
      CHECK(r && r->retry_delay);
      CHECK(r->retry_delay->seconds > 0 || r->retry_delay->nanos > 0);
      google__rpc__retry_info__free_unpacked(r, NULL);
      ri = true;
    }
  }
  CHECK_MSG(qf && ri, "QuotaFailure %d, RetryInfo %d", qf, ri);
  google__rpc__status__free_unpacked(s, NULL);
  CHECK(cgrpc_status_header(st, "retry-after-ms") != NULL);
}

static void test_stalled_readers(void) {
  static struct tenant bad[ATTACKERS], good;
  char name[32];
  for (int i = 0; i < ATTACKERS; i++) {
    snprintf(name, sizeof name, "stall-%d", i);
    make_tenant(&bad[i], name, 1, ART_SIZE);
  }
  make_tenant(&good, "patient", 3, GOOD_SIZE);
  int port = rgw_port();

  /* 24 readers with a 64 KiB window: one chunk each, then nothing. Each one's
   * first chunk needs its own S3 GET, and only 16 run at once: the last 8
   * get theirs only when stalled ones let go of their connections. */
  struct cgrpc_channel_config slow = {.http2_stream_window = 65536};
  struct cgrpc_channel *slow_ch[ATTACKERS];
  static struct reader stalled[ATTACKERS][PER_TENANT];
  int64_t t0 = folio_clock_mono_ns();
  for (int i = 0; i < ATTACKERS; i++) {
    char err[256];
    slow_ch[i] = cgrpc_channel_create(addr, &slow, err, sizeof err);
    CHECK_MSG(slow_ch[i], "%s", err);
    for (int k = 0; k < PER_TENANT; k++)
      reader_init(&stalled[i][k], stream_start(slow_ch[i], &bad[i], &bad[i].arts[0], 90000),
                  &bad[i].arts[0]);
  }
  for (int i = 0; i < ATTACKERS; i++)
    for (int k = 0; k < PER_TENANT; k++)
      CHECK_MSG(reader_read(&stalled[i][k], 1) == 1,
                "stalled reader %d/%d got no first chunk (S3 connections held by others?)", i, k);
  int64_t stalled_at = folio_clock_mono_ns();
  printf("A. %d readers stalled after one chunk each (%.1f s)\n", ATTACKERS * PER_TENANT,
         secs(t0));

  /* the 9th stream of a tenant: refused with QuotaFailure + RetryInfo; the
   * other tenants are not affected by it */
  struct cgrpc_client_call *extra = stream_start(ch, &bad[1], &bad[1].arts[0], 10000);
  Folio__V1__ArtifactChunk *c = NULL;
  CHECK_EQ_INT(folio__v1__layout_service__stream_artifact__read(extra, &c), 0);
  struct cgrpc_status st = {0};
  cgrpc_client_call_finish(extra, &st);
  CHECK_MSG(st.code == GRPC_STATUS_RESOURCE_EXHAUSTED, "9th stream: %s %s",
            cgrpc_status_name(st.code), st.message);
  check_quota_failure(&st, bad[1].name, "at most 8 concurrent StreamArtifact");
  printf("   9th stream of one tenant: RESOURCE_EXHAUSTED \"%s\" + QuotaFailure + RetryInfo\n",
         st.message);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(extra);

  /* The stalled streams give their S3 connections back: without that the 16
   * would stay ESTABLISHED (paused GETs) as long as the readers wait. */
  int held = conns_to(server_pid, port), most = held;
  for (int i = 0; i < 100 && held > 1; i++) {
    proc_sleep_ms(100);
    held = conns_to(server_pid, port);
    if (held > most) most = held;
  }
  printf("   folio-server's connections to RGW: %d (most seen %d), %.1f s after the stall\n", held,
         most, secs(stalled_at));
  CHECK_MSG(held <= 1, "folio-server still holds %d connections to RGW for stalled readers", held);

  /* another tenant is served, each download within a 20 s deadline */
  int64_t t1 = folio_clock_mono_ns();
  for (size_t i = 0; i < good.narts; i++) download(&good, &good.arts[i], 20000);
  printf("   the other tenant downloaded %zu x %.0f MiB, sha256 as recorded, in %.1f s\n",
         good.narts, GOOD_SIZE / 1048576.0, secs(t1));

  /* a stalled reader reads on: the server resumes S3 by range */
  struct reader *r0 = &stalled[0][0];
  CHECK_EQ_INT(reader_read(r0, 0), 0);
  char msg[256], hex[65];
  grpc_status_code code = reader_finish(r0, msg, sizeof msg, hex);
  CHECK_MSG(code == GRPC_STATUS_OK, "resumed reader: %s %s", cgrpc_status_name(code), msg);
  CHECK_EQ_INT(r0->bytes, ART_SIZE);
  CHECK_EQ_STR(hex, bad[0].arts[0].sha);
  CHECK_EQ_STR(r0->final_sha, bad[0].arts[0].sha);
  printf("   a stalled reader read on after %.1f s: all %u bytes, sha256 as recorded\n",
         secs(stalled_at), ART_SIZE);
  CHECK_MSG(secs(stalled_at) < IDLE_MS / 1000.0, "too slow: the idle limit passed already");

  /* the rest are cut after FOLIO_STREAM_IDLE_MS */
  while (secs(stalled_at) < IDLE_MS / 1000.0 + 3) proc_sleep_ms(200);
  int aborted = 0;
  for (int i = 0; i < ATTACKERS; i++)
    for (int k = 0; k < PER_TENANT; k++) {
      struct reader *r = &stalled[i][k];
      if (!r->cc) continue;
      while (reader_read(r, 1) == 1) {
      }
      code = reader_finish(r, msg, sizeof msg, NULL);
      CHECK_MSG(code == GRPC_STATUS_ABORTED && strstr(msg, "idle for"),
                "stalled reader %d/%d: %s \"%s\" after %llu bytes", i, k,
                cgrpc_status_name(code), msg, (unsigned long long)r->bytes);
      CHECK(r->bytes < ART_SIZE);
      aborted++;
    }
  printf("   %d idle readers ended ABORTED \"%s\"\n", aborted, msg);
  CHECK_EQ_INT(aborted, ATTACKERS * PER_TENANT - 1);
  /* their slots are back: the tenant may stream again */
  download(&bad[1], &bad[1].arts[0], 20000);
  held = conns_to(server_pid, port);
  printf("   slots returned; folio-server's connections to RGW now %d\n", held);
  for (int i = 0; i < ATTACKERS; i++) cgrpc_channel_destroy(slow_ch[i]);
  CHECK(kill(server_pid, 0) == 0);
}

/* ---- A2. a tenant's own stream cap ------------------------------------------------
 * streams_per_tenant set for one tenant (folio-server tenant set) replaces the
 * server's FOLIO_STREAMS_PER_TENANT=8 for it alone: its 2nd concurrent stream
 * is refused with QuotaFailure naming its cap of 1, while another tenant
 * without an override holds two at once. */
static void test_tenant_stream_cap(void) {
  static struct tenant one, other;
  /* set before its key exists, so the server learns it with the first call */
  proc_tenant_set(server_bin, "one-stream", "--streams-per-tenant 1");
  make_tenant(&one, "one-stream", 1, GOOD_SIZE);
  make_tenant(&other, "many-streams", 1, GOOD_SIZE);
  struct cgrpc_channel_config slow = {.http2_stream_window = 65536};
  char err[256];
  struct cgrpc_channel *slow_ch = cgrpc_channel_create(addr, &slow, err, sizeof err);
  CHECK_MSG(slow_ch, "%s", err);
  struct reader held, o1, o2;
  reader_init(&held, stream_start(slow_ch, &one, &one.arts[0], 30000), &one.arts[0]);
  CHECK_EQ_INT(reader_read(&held, 1), 1); /* open, and holding its slot */
  struct cgrpc_client_call *extra = stream_start(ch, &one, &one.arts[0], 10000);
  Folio__V1__ArtifactChunk *c = NULL;
  CHECK_EQ_INT(folio__v1__layout_service__stream_artifact__read(extra, &c), 0);
  struct cgrpc_status st = {0};
  cgrpc_client_call_finish(extra, &st);
  CHECK_MSG(st.code == GRPC_STATUS_RESOURCE_EXHAUSTED, "2nd stream with streams_per_tenant 1: %s %s",
            cgrpc_status_name(st.code), st.message);
  check_quota_failure(&st, one.name, "at most 1 concurrent StreamArtifact calls per tenant (streams_per_tenant");
  printf("A2. streams_per_tenant 1: 2nd stream RESOURCE_EXHAUSTED \"%s\"\n", st.message);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(extra);
  /* the other tenant, under the server's cap, holds two */
  reader_init(&o1, stream_start(slow_ch, &other, &other.arts[0], 30000), &other.arts[0]);
  reader_init(&o2, stream_start(slow_ch, &other, &other.arts[0], 30000), &other.arts[0]);
  CHECK_EQ_INT(reader_read(&o1, 1), 1);
  CHECK_EQ_INT(reader_read(&o2, 1), 1);
  struct reader *all[] = {&held, &o1, &o2};
  for (size_t i = 0; i < 3; i++) {
    cgrpc_client_call_cancel(all[i]->cc);
    reader_finish(all[i], NULL, 0, NULL);
  }
  cgrpc_channel_destroy(slow_ch);
  printf("    another tenant without an override: two streams at once\n");
}

/* ---- B. the connection policy, seen from raw HTTP/2 -------------------------------- */

static int raw_connect(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(strchr(addr, ':') + 1))};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  CHECK_MSG(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect: %s", strerror(errno));
  static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  static const uint8_t settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0}; /* empty SETTINGS */
  CHECK(write(fd, preface, sizeof preface - 1) == (ssize_t)(sizeof preface - 1));
  CHECK(write(fd, settings, sizeof settings) == (ssize_t)sizeof settings);
  return fd;
}

/* Reads exactly n bytes within timeout_ms: 1, 0 at EOF or reset, -1 on timeout. */
static int read_full(int fd, uint8_t *buf, size_t n, int timeout_ms) {
  int64_t end = folio_clock_mono_ns() + (int64_t)timeout_ms * 1000000;
  size_t got = 0;
  while (got < n) {
    int left = (int)((end - folio_clock_mono_ns()) / 1000000);
    if (left <= 0) return -1;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, left) <= 0) continue;
    ssize_t k = read(fd, buf + got, n - got);
    if (k <= 0) return 0;
    got += (size_t)k;
  }
  return 1;
}

struct frame {
  uint32_t len;
  uint8_t type, flags;
  uint8_t payload[16384 + 64];
};

/* Reads one frame (payloads beyond the buffer are skipped): 1, 0 at EOF, -1
 * on timeout. */
static int read_frame(int fd, struct frame *f, int timeout_ms) {
  uint8_t h[9];
  int rc = read_full(fd, h, 9, timeout_ms);
  if (rc != 1) return rc;
  f->len = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
  f->type = h[3];
  f->flags = h[4];
  uint32_t keep = f->len < sizeof f->payload ? f->len : (uint32_t)sizeof f->payload;
  if (keep && (rc = read_full(fd, f->payload, keep, timeout_ms)) != 1) return rc;
  for (uint32_t skipped = keep; skipped < f->len;) {
    uint8_t junk[512];
    uint32_t n = f->len - skipped < sizeof junk ? f->len - skipped : (uint32_t)sizeof junk;
    if ((rc = read_full(fd, junk, n, timeout_ms)) != 1) return rc;
    skipped += n;
  }
  return 1;
}

enum { F_SETTINGS = 4, F_PING = 6, F_GOAWAY = 7 };

/* Reads until the server's SETTINGS, acks it; returns its
 * MAX_CONCURRENT_STREAMS (-1 when not announced). */
static long handshake(int fd) {
  struct frame f;
  for (;;) {
    CHECK_EQ_INT(read_frame(fd, &f, 5000), 1);
    if (f.type == F_SETTINGS && !(f.flags & 1)) break;
  }
  long mcs = -1;
  for (uint32_t i = 0; i + 6 <= f.len; i += 6) {
    unsigned id = (unsigned)f.payload[i] << 8 | f.payload[i + 1];
    uint32_t v = (uint32_t)f.payload[i + 2] << 24 | (uint32_t)f.payload[i + 3] << 16 |
                 (uint32_t)f.payload[i + 4] << 8 | f.payload[i + 5];
    if (id == 3) mcs = v;
  }
  static const uint8_t ack[9] = {0, 0, 0, 4, 1, 0, 0, 0, 0};
  CHECK(write(fd, ack, sizeof ack) == (ssize_t)sizeof ack);
  return mcs;
}

/* Reads frames for up to ms, acking pings when ack is set. Returns 0 when
 * the server closed the connection (EOF/reset), 1 when still open; counts
 * PINGs and GOAWAYs received. */
static uint32_t goaway_code; /* the error code of the last GOAWAY seen */

static int watch_conn(int fd, int ms, bool ack, int *pings, int *goaways) {
  int64_t end = folio_clock_mono_ns() + (int64_t)ms * 1000000;
  struct frame f;
  for (;;) {
    int left = (int)((end - folio_clock_mono_ns()) / 1000000);
    if (left <= 0) return 1;
    int rc = read_frame(fd, &f, left);
    if (rc == 0) return 0;
    if (rc < 0) return 1;
    if (f.type == F_GOAWAY) {
      (*goaways)++;
      if (f.len >= 8)
        goaway_code = (uint32_t)f.payload[4] << 24 | (uint32_t)f.payload[5] << 16 |
                      (uint32_t)f.payload[6] << 8 | f.payload[7];
    }
    if (f.type == F_PING && !(f.flags & 1)) {
      (*pings)++;
      if (ack && f.len == 8) {
        uint8_t pong[17] = {0, 0, 8, 6, 1, 0, 0, 0, 0};
        memcpy(pong + 9, f.payload, 8);
        if (write(fd, pong, sizeof pong) != (ssize_t)sizeof pong) return 0;
      }
    }
  }
}

/* A WatchJob on a QUEUED job stays open: a stream that holds a slot. */
static struct cgrpc_client_call *watch(const struct tenant *t, const char *job) {
  Folio__V1__WatchJobRequest req;
  folio__v1__watch_job_request__init(&req);
  req.job_id = (char *)(uintptr_t)job;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(t->bearer, &md, 60000);
  struct cgrpc_client_call *cc = folio__v1__layout_service__watch_job__start(ch, &req, &o);
  CHECK(cc);
  Folio__V1__Job *j = NULL;
  CHECK_EQ_INT(folio__v1__layout_service__watch_job__read(cc, &j), 1);
  CHECK_EQ_INT(j->state, FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED);
  protobuf_c_message_free_unpacked(&j->base, NULL);
  return cc;
}

static grpc_status_code get_status(const struct tenant *t, const char *job, int64_t timeout_ms) {
  Folio__V1__GetStatusRequest req;
  folio__v1__get_status_request__init(&req);
  req.job_id = (char *)(uintptr_t)job;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(t->bearer, &md, timeout_ms);
  Folio__V1__Job *resp = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__get_status__call(ch, &req, &o, &resp, &st);
  if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
  grpc_status_code code = st.code;
  cgrpc_status_clear(&st);
  return code;
}

static void test_keepalive_and_stream_cap(void) {
  const char *env[] = {"FOLIO_KEEPALIVE_TIME_MS=500", "FOLIO_KEEPALIVE_TIMEOUT_MS=1000",
                       "FOLIO_MAX_CONNECTION_IDLE_MS=0", "FOLIO_MAX_CONCURRENT_STREAMS=2", NULL};
  restart_server("server-keepalive", env);

  /* a peer that completes the preface, then reads nothing and acks no ping */
  int dead = raw_connect();
  CHECK_EQ_INT(handshake(dead), 2); /* the stream cap, announced */
  int pings = 0, goaways = 0;
  int64_t t0 = folio_clock_mono_ns();
  proc_sleep_ms(4000); /* not reading: the server's pings go unanswered */
  int open = watch_conn(dead, 10000, false, &pings, &goaways);
  printf("B. keepalive: a peer that stopped reading was disconnected (%d pings sent to it, "
         "closed within %.1f s)\n",
         pings, secs(t0));
  CHECK_MSG(open == 0, "the server kept a connection whose peer acks no ping");
  CHECK(pings >= 1);
  close(dead);

  /* a peer that acks pings stays */
  int live = raw_connect();
  handshake(live);
  pings = goaways = 0;
  open = watch_conn(live, 4000, true, &pings, &goaways);
  printf("   a peer that acks pings is kept (%d pings in 4 s)\n", pings);
  CHECK_MSG(open == 1 && goaways == 0, "a healthy idle connection was closed");
  CHECK(pings >= 2);
  close(live);

  /* a client that pings without pause: strikes, then GOAWAY ENHANCE_YOUR_CALM */
  int flood = raw_connect();
  handshake(flood);
  for (int i = 0; i < 5; i++) {
    uint8_t ping[17] = {0, 0, 8, 6, 0, 0, 0, 0, 0, 'f', 'l', 'o', 'o', 'd', 0, 0, (uint8_t)i};
    if (write(flood, ping, sizeof ping) != (ssize_t)sizeof ping) break;
    proc_sleep_ms(20);
  }
  pings = goaways = 0;
  goaway_code = 0;
  watch_conn(flood, 5000, true, &pings, &goaways);
  printf("   a ping flood: GOAWAY %d, error code %u (11 = ENHANCE_YOUR_CALM)\n", goaways,
         goaway_code);
  CHECK_MSG(goaways >= 1 && goaway_code == 11, "GOAWAY %d, code %u", goaways, goaway_code);
  close(flood);

  /* the stream cap, as a gRPC client sees it: with two streams open the
   * third call waits for a slot on the connection */
  static struct tenant t;
  snprintf(t.name, sizeof t.name, "capped");
  char key[256];
  proc_apikey_create(server_bin, "capped", key, sizeof key);
  snprintf(t.bearer, sizeof t.bearer, "Bearer %s", key);
  char job[FOLIO_UUID_STR_LEN + 1];
  submit(&t, job);
  CHECK_EQ_INT(get_status(&t, job, 10000), GRPC_STATUS_OK);
  struct cgrpc_client_call *w1 = watch(&t, job), *w2 = watch(&t, job);
  grpc_status_code code = get_status(&t, job, 1500);
  printf("   with %d streams open on the connection, a third call: %s\n", 2,
         cgrpc_status_name(code));
  CHECK_EQ_INT(code, GRPC_STATUS_DEADLINE_EXCEEDED);
  cgrpc_client_call_cancel(w1);
  struct cgrpc_status st = {0};
  cgrpc_client_call_finish(w1, &st);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(w1);
  CHECK_EQ_INT(get_status(&t, job, 10000), GRPC_STATUS_OK);
  cgrpc_client_call_cancel(w2);
  cgrpc_client_call_finish(w2, &st);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(w2);
}

/* A connection without calls gets GOAWAY after max idle (name = "idle"), or
 * any connection after max age (name = "age"). */
static void test_goaway(const char *what, const char *const env[]) {
  char name[32];
  snprintf(name, sizeof name, "server-%s", what);
  restart_server(name, env);
  int fd = raw_connect();
  handshake(fd);
  int pings = 0, goaways = 0;
  int64_t t0 = folio_clock_mono_ns();
  int open = watch_conn(fd, 10000, true, &pings, &goaways);
  printf("   max connection %s: GOAWAY %d, closed %s, within %.1f s\n", what, goaways,
         open ? "no" : "yes", secs(t0));
  CHECK_MSG(goaways >= 1, "no GOAWAY for a connection past its max %s", what);
  close(fd);
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: %s FOLIO_SERVER", argv[0]);
  server_bin = argv[1];
  stack_dir = getenv("FOLIO_STACK_DIR");
  CHECK_MSG(stack_dir && getenv("FOLIO_S3_ENDPOINT") && getenv("FOLIO_DATABASE_URL"),
            "run me under scripts/stack.sh run pg,redis,s3");
  CHECK(sodium_init() >= 0);
  signal(SIGPIPE, SIG_IGN);
  setenv("FOLIO_API_KEY_PEPPER", PEPPER, 1);
  int st;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "'%s' migrate 2>&1", server_bin);
  const char *out = proc_run(cmd, &st);
  CHECK_MSG(st == 0, "migrate: %s", out);
  atexit(stop_server);
  char stall[64], idle[64];
  snprintf(stall, sizeof stall, "FOLIO_STREAM_STALL_MS=%d", STALL_MS);
  snprintf(idle, sizeof idle, "FOLIO_STREAM_IDLE_MS=%d", IDLE_MS);
  const char *env[] = {stall, idle, "FOLIO_STREAMS_PER_TENANT=8", NULL};
  start_server("server-streams", env);
  test_tenant_stream_cap();
  test_stalled_readers();
  test_keepalive_and_stream_cap();
  const char *idle_env[] = {"FOLIO_MAX_CONNECTION_IDLE_MS=1000", NULL};
  test_goaway("idle", idle_env);
  const char *age_env[] = {"FOLIO_MAX_CONNECTION_IDLE_MS=0", "FOLIO_MAX_CONNECTION_AGE_MS=1000",
                           "FOLIO_MAX_CONNECTION_AGE_GRACE_MS=1000", NULL};
  test_goaway("age", age_env);
  cgrpc_channel_destroy(ch);
  ch = NULL;
  /* a clean exit (also leak-free under ASan, which fails the exit status) */
  CHECK_EQ_INT(proc_stop(&server_pid, 10000), 0);
  return check_done();
}
