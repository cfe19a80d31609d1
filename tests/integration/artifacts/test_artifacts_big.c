/* A 300 MiB artifact through the whole service, and a slow client, against
 * real PostgreSQL, Redis and Ceph RGW (scripts/stack.sh run pg,redis,s3) with
 * the real folio-server and folio-worker started here on loopback and always
 * stopped (PR_SET_PDEATHSIG, atexit).
 *
 *  1. big: a layout whose Scribus document is ~300 MiB is submitted through
 *     SubmitLayout; the worker renders it and streams it into a multipart
 *     upload; StreamArtifact downloads it whole. The downloaded bytes' SHA-256
 *     equals the one recorded in PostgreSQL (and the final chunk's). Peak RSS
 *     (VmHWM, reset before the phase) of the worker's supervisor, of its
 *     render process and of folio-server each stay under 64 MiB.
 *  2. slow client: StreamArtifact read with a pause after every chunk while
 *     folio-server's RSS is sampled: it stays flat (does not grow with the
 *     bytes sent). The client then cancels mid-stream; the server's S3 GET
 *     ends (RGW logs the request as finished) having sent only a bounded
 *     amount past what the client received: the S3 read was paced by the
 *     client, and stopped with it.
 *
 * usage: test_artifacts_big FOLIO_SERVER FOLIO_WORKER   (under stack.sh run) */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h" /* check.h first: testbuf.h uses CHECK */
#include "../../unit/render/testbuf.h"
#include "../worker/big_layout.h"
#include "folio/clock.h"
#include "folio/v1/layout_service.cgrpc.h"
#include "procmem.h"
#include "proc.h"

#define MIB (1024.0 * 1024.0)
#define RSS_BOUND_KB (64 * 1024) /* issue 5 §7: each process under 64 MiB */

static const char PEPPER[] = "artifacts-pepper-0123456789abcdef";
static const char *stack_dir;
static pid_t server_pid, worker_pid;
static char addr[64], bearer[128];
static struct cgrpc_channel *ch;
/* For the slow reader: a fixed 64 KiB HTTP/2 receive window. With gRPC's
 * default (bandwidth probing) the client's transport keeps accepting data
 * the application has not read, tens of MiB of it, and the server would be
 * paced by that buffer instead of by the reader. */
static struct cgrpc_channel *slow_ch;

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* ---- the two processes -------------------------------------------------------- */

/* Starts bin (with args, NULL-terminated) logging to stack_dir/log_name. */
static pid_t spawn(const char *log_name, const char *bin, ...) {
  char log[512];
  snprintf(log, sizeof log, "%s/%s", stack_dir, log_name);
  char *argv[8] = {(char *)(uintptr_t)bin};
  va_list ap;
  va_start(ap, bin);
  for (int i = 1; i < 7 && (argv[i] = (char *)(uintptr_t)va_arg(ap, const char *)); i++) {
  }
  va_end(ap);
  pid_t me = getpid();
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
    if (getppid() != me) _exit(1);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(bin, argv);
    _exit(127);
  }
  return pid;
}

static void stop(pid_t *pid) {
  if (*pid <= 0) return;
  kill(*pid, SIGTERM);
  int st;
  for (int i = 0; i < 200; i++) {
    if (waitpid(*pid, &st, WNOHANG) == *pid) {
      *pid = 0;
      return;
    }
    sleep_ms(50);
  }
  kill(*pid, SIGKILL);
  waitpid(*pid, &st, 0);
  *pid = 0;
}

static void stop_all(void) {
  stop(&worker_pid);
  stop(&server_pid);
}

static struct cgrpc_call_options opts(struct cgrpc_metadata *md, int64_t timeout_ms) {
  *md = (struct cgrpc_metadata){"authorization", bearer, strlen(bearer)};
  return (struct cgrpc_call_options){.timeout_ms = timeout_ms, .metadata = md, .metadata_count = 1};
}

/* GetStatus; NULL with *code set when the call failed. Caller frees. */
static Folio__V1__Job *get_status(const char *job, grpc_status_code *code) {
  Folio__V1__GetStatusRequest req = FOLIO__V1__GET_STATUS_REQUEST__INIT;
  req.job_id = (char *)(uintptr_t)job;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(&md, 10000);
  Folio__V1__Job *resp = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__get_status__call(ch, &req, &o, &resp, &st);
  *code = st.code;
  cgrpc_status_clear(&st);
  return resp;
}

static void start_server(const char *bin) {
  /* It binds port 0 and logs the port it got (FOLIO_LOG_LEVEL is info). */
  char log[512];
  snprintf(log, sizeof log, "%s/server.log", stack_dir);
  const char *argv[] = {bin, NULL};
  server_pid = proc_spawn_listening(argv, NULL, log, SIGKILL, 30000, addr, sizeof addr);
  char err[256];
  ch = cgrpc_channel_create(addr, NULL, err, sizeof err);
  CHECK_MSG(ch, "%s", err);
  struct cgrpc_channel_config slow = {.http2_stream_window = 65536};
  slow_ch = cgrpc_channel_create(addr, &slow, err, sizeof err);
  CHECK_MSG(slow_ch, "%s", err);
  /* ready once it answers: NOT_FOUND for a job nobody submitted */
  for (int i = 0;; i++) {
    grpc_status_code code;
    Folio__V1__Job *j = get_status("01900000-0000-7000-8000-000000000000", &code);
    CHECK(!j);
    if (code == GRPC_STATUS_NOT_FOUND) break;
    CHECK_MSG(i < 200 && kill(server_pid, 0) == 0,
              "folio-server did not answer (last: %s); see %s/server.log", cgrpc_status_name(code),
              stack_dir);
    sleep_ms(100);
  }
}

/* ---- 1. a 300 MiB artifact ------------------------------------------------------ */

static char job[64];
static uint64_t art_size;
static char art_sha[65];

static void submit_big(int frames) {
  char *layout = big_sla_layout(frames);
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  req.layout_json.data = (uint8_t *)layout;
  req.layout_json.len = strlen(layout);
  Folio__V1__Format sla = FOLIO__V1__FORMAT__FORMAT_SLA;
  req.formats = &sla;
  req.n_formats = 1;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(&md, 60000);
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct cgrpc_status st = {0};
  folio__v1__layout_service__submit_layout__call(ch, &req, &o, &resp, &st);
  CHECK_MSG(resp, "SubmitLayout: %s %s", cgrpc_status_name(st.code), st.message);
  snprintf(job, sizeof job, "%s", resp->job_id);
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  cgrpc_status_clear(&st);
  free(layout);
}

/* Polls GetStatus until the job is terminal (at most 150 s); returns it. */
static Folio__V1__Job *wait_done(void) {
  int64_t deadline = folio_clock_mono_ns() + 150LL * 1000000000;
  for (;;) {
    grpc_status_code code;
    Folio__V1__Job *j = get_status(job, &code);
    CHECK_MSG(j, "GetStatus: %s", cgrpc_status_name(code));
    if (j->state == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED ||
        j->state == FOLIO__V1__JOB_STATE__JOB_STATE_FAILED ||
        j->state == FOLIO__V1__JOB_STATE__JOB_STATE_CANCELED)
      return j;
    protobuf_c_message_free_unpacked(&j->base, NULL);
    CHECK_MSG(folio_clock_mono_ns() < deadline, "job %s not finished after 150 s", job);
    sleep_ms(200);
  }
}

/* What a StreamArtifact reader saw. */
struct read_result {
  uint64_t bytes;
  char final_sha[65]; /* from the last chunk, "" if none */
  char hex[65];       /* SHA-256 of the bytes received */
  grpc_status_code code;
  char message[256];
  long rss_first_kb, rss_max_kb; /* server VmRSS samples (slow reader only) */
  int samples;
};

/* Reads the artifact from offset 0 through channel via. pause_ms > 0: sleeps that long after
 * every chunk and samples the server's VmRSS every 16 chunks (the first
 * sample once warm_bytes are in); cancel_at > 0: cancels once that many bytes
 * arrived and drains what is left. */
static void read_artifact(struct cgrpc_channel *via, uint32_t chunk, int pause_ms,
                          uint64_t warm_bytes, uint64_t cancel_at, struct read_result *r) {
  *r = (struct read_result){.rss_first_kb = -1};
  Folio__V1__StreamArtifactRequest req = FOLIO__V1__STREAM_ARTIFACT_REQUEST__INIT;
  req.job_id = job;
  req.name = (char *)(uintptr_t) "document.sla";
  req.chunk_size = chunk;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = opts(&md, 0);
  struct cgrpc_client_call *cc = folio__v1__layout_service__stream_artifact__start(via, &req, &o);
  CHECK(cc);
  crypto_hash_sha256_state h;
  crypto_hash_sha256_init(&h);
  Folio__V1__ArtifactChunk *c;
  int n = 0;
  bool cancelled = false;
  while (folio__v1__layout_service__stream_artifact__read(cc, &c) == 1) {
    if (!cancelled) {
      CHECK_EQ_INT(c->offset, r->bytes);
      CHECK_EQ_INT(c->total_size, art_size);
      crypto_hash_sha256_update(&h, c->data.data, c->data.len);
      r->bytes += c->data.len;
      if (c->sha256_hex && *c->sha256_hex)
        snprintf(r->final_sha, sizeof r->final_sha, "%s", c->sha256_hex);
    }
    protobuf_c_message_free_unpacked(&c->base, NULL);
    n++;
    if (pause_ms > 0 && !cancelled) {
      if (r->bytes >= warm_bytes && n % 16 == 0) {
        long kb = proc_status_kb(server_pid, "VmRSS");
        if (r->rss_first_kb < 0) r->rss_first_kb = kb;
        if (kb > r->rss_max_kb) r->rss_max_kb = kb;
        r->samples++;
      }
      sleep_ms(pause_ms);
    }
    if (cancel_at && !cancelled && r->bytes >= cancel_at) {
      cgrpc_client_call_cancel(cc);
      cancelled = true;
    }
  }
  struct cgrpc_status st = {0};
  cgrpc_client_call_finish(cc, &st);
  r->code = st.code;
  snprintf(r->message, sizeof r->message, "%s", st.message ? st.message : "");
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(cc);
  uint8_t d[32];
  crypto_hash_sha256_final(&h, d);
  sodium_bin2hex(r->hex, sizeof r->hex, d, sizeof d);
}

static void test_big(int frames) {
  /* The worker's supervisor and its one render process: peaks from now on. */
  pid_t kids[4];
  size_t nkids = 0;
  for (int i = 0; i < 100 && (nkids = proc_children(worker_pid, kids, 4)) < 1; i++) sleep_ms(100);
  CHECK_MSG(nkids == 1, "folio-worker has %zu render processes, want 1", nkids);
  pid_t renderer = kids[0];
  proc_reset_hwm(worker_pid);
  proc_reset_hwm(renderer);
  proc_reset_hwm(server_pid);

  int64_t t0 = folio_clock_mono_ns();
  submit_big(frames);
  Folio__V1__Job *j = wait_done();
  double render_s = (double)(folio_clock_mono_ns() - t0) / 1e9;
  CHECK_MSG(j->state == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED, "job %s ended %d: %s %s", job,
            j->state, j->error ? j->error->code : "-", j->error ? j->error->message : "-");
  CHECK_EQ_INT(j->n_artifacts, 1);
  CHECK_EQ_STR(j->artifacts[0]->name, "document.sla");
  art_size = j->artifacts[0]->size_bytes;
  protobuf_c_message_free_unpacked(&j->base, NULL);
  CHECK_MSG(proc_status_kb(renderer, "VmRSS") > 0, "the render process %d is gone", (int)renderer);
  long sup_kb = proc_status_kb(worker_pid, "VmHWM"), rend_kb = proc_status_kb(renderer, "VmHWM");
  printf("render+upload: %.1f MiB in %.1f s; peak RSS: worker supervisor %.1f MiB, render "
         "process %.1f MiB\n",
         (double)art_size / MIB, render_s, (double)sup_kb / 1024, (double)rend_kb / 1024);
  CHECK_MSG(art_size >= 300ull << 20, "the artifact is only %.1f MiB", (double)art_size / MIB);
  CHECK_MSG(sup_kb > 0 && sup_kb < RSS_BOUND_KB, "worker supervisor peak RSS %ld KiB", sup_kb);
  CHECK_MSG(rend_kb > 0 && rend_kb < RSS_BOUND_KB, "render process peak RSS %ld KiB", rend_kb);

  /* the SHA-256 PostgreSQL recorded (the worker hashed while uploading) */
  struct folio_pg_conn *db = pgtest_plain();
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT sha256_hex || ' ' || size_bytes FROM artifacts WHERE job_id = '%s' AND name = "
           "'document.sla'",
           job);
  char size_txt[32] = "";
  CHECK_EQ_INT(sscanf(pgtest_value(db, sql), "%64s %31s", art_sha, size_txt), 2);
  folio_pg_conn_close(db);
  CHECK_EQ_INT(strtoull(size_txt, NULL, 10), art_size);

  proc_reset_hwm(server_pid);
  t0 = folio_clock_mono_ns();
  struct read_result r;
  read_artifact(ch, 0, 0, 0, 0, &r);
  double dl_s = (double)(folio_clock_mono_ns() - t0) / 1e9;
  CHECK_MSG(r.code == GRPC_STATUS_OK, "StreamArtifact: %s %s", cgrpc_status_name(r.code),
            r.message);
  CHECK_EQ_INT(r.bytes, art_size);
  CHECK_EQ_STR(r.hex, art_sha);
  CHECK_EQ_STR(r.final_sha, art_sha);
  long srv_kb = proc_status_kb(server_pid, "VmHWM");
  printf("StreamArtifact: %.1f MiB in %.1f s (%.0f MiB/s), sha256 = PostgreSQL's; folio-server "
         "peak RSS %.1f MiB\n",
         (double)r.bytes / MIB, dl_s, (double)r.bytes / MIB / dl_s, (double)srv_kb / 1024);
  CHECK_MSG(srv_kb > 0 && srv_kb < RSS_BOUND_KB, "folio-server peak RSS %ld KiB", srv_kb);
}

/* ---- 2. a slow client, then a cancel -------------------------------------------- */

/* How many GETs of key RGW logged as finished (its beast access log line is
 * written when a request ends); *bytes and *http are the last one's. */
static int rgw_gets(const char *key, long long *bytes, int *http) {
  char path[512], line[4096], needle[300];
  snprintf(path, sizeof path, "%s/s3/log/client.rgw.log", stack_dir);
  snprintf(needle, sizeof needle, "\"GET /%s/%s HTTP/1.1\" ", getenv("FOLIO_S3_BUCKET"), key);
  FILE *f = fopen(path, "r");
  CHECK_MSG(f, "no RGW log at %s", path);
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    const char *p = strstr(line, needle);
    if (!p || !strstr(line, "beast:")) continue;
    CHECK_MSG(sscanf(p + strlen(needle), "%d %lld", http, bytes) == 2, "unexpected: %s", line);
    n++;
  }
  fclose(f);
  return n;
}

/* The last number of a sysctl such as tcp_rmem ("min default max"). */
static long long sysctl_max(const char *path) {
  FILE *f = fopen(path, "r");
  CHECK_MSG(f, "cannot read %s", path);
  long long v = 0, last = 0;
  while (fscanf(f, "%lld", &v) == 1) last = v;
  fclose(f);
  return last;
}

static void test_slow_client(void) {
  char key[128]; /* the tenant by its opaque id (docs/security.md, Keys) */
  struct folio_pg_conn *db = pgtest_plain();
  snprintf(key, sizeof key, "%s/%s/document.sla",
           pgtest_value(db, "SELECT id::text FROM tenants WHERE name = 'slow'"), job);
  folio_pg_conn_close(db);
  int http = 0;
  long long sent = -1;
  int gets_before = rgw_gets(key, &sent, &http);
  CHECK_EQ_INT(gets_before, 1); /* the whole read of test_big */
  CHECK_EQ_INT(sent, art_size);
  proc_reset_hwm(server_pid);
  long before_kb = proc_status_kb(server_pid, "VmRSS");
  /* 64 KiB chunks with a 4 ms pause: ~16 MiB/s, far below what RGW and the
   * server deliver, for 64 MiB; RSS sampled from 8 MiB on. */
  const uint64_t warm = 8u << 20, cancel_at = 64u << 20;
  struct read_result r;
  int64_t t0 = folio_clock_mono_ns();
  read_artifact(slow_ch, 65536, 4, warm, cancel_at, &r);
  double s = (double)(folio_clock_mono_ns() - t0) / 1e9;
  CHECK_MSG(r.code == GRPC_STATUS_CANCELLED, "slow read ended %s %s", cgrpc_status_name(r.code),
            r.message);
  CHECK(r.bytes >= cancel_at && r.bytes < art_size);
  long hwm_kb = proc_status_kb(server_pid, "VmHWM");
  long growth_kb = r.rss_max_kb - r.rss_first_kb;
  printf("slow client: %.1f MiB in %.1f s; folio-server RSS %.1f MiB before, %.1f MiB at 8 MiB "
         "sent, at most %.1f MiB after (%d samples), peak %.1f MiB\n",
         (double)r.bytes / MIB, s, (double)before_kb / 1024, (double)r.rss_first_kb / 1024,
         (double)r.rss_max_kb / 1024, r.samples, (double)hwm_kb / 1024);
  CHECK(r.samples >= 20);
  /* flat: from 8 MiB to 64 MiB sent the RSS grows by less than 4 MiB (a
   * server that buffered what the client had not read would grow by ~56) */
  CHECK_MSG(growth_kb < 4096, "folio-server RSS grew by %ld KiB while streaming to a slow client",
            growth_kb);
  CHECK_MSG(hwm_kb < RSS_BOUND_KB, "folio-server peak RSS %ld KiB", hwm_kb);

  /* The cancel ends the server's S3 GET: RGW logs the request as done. What
   * RGW counts as sent is what the reader got plus what sits in between:
   * the kernel's socket buffers of the S3 connection (the receive side grows
   * up to tcp_rmem's maximum, 32 MiB on Debian, while curl is paused: kernel
   * memory, not the server's RSS), RGW's 4 MiB send granularity, the
   * server's two chunks and the reader's 64 KiB window. Bounded by those,
   * whatever the artifact's size; an unpaced read would have sent it all. */
  for (int i = 0; i < 300 && rgw_gets(key, &sent, &http) == gets_before; i++) sleep_ms(100);
  CHECK_MSG(rgw_gets(key, &sent, &http) == gets_before + 1,
            "RGW never logged the end of the GET of %s (30 s after the cancel)", key);
  long long slack = sysctl_max("/proc/sys/net/ipv4/tcp_rmem") +
                    sysctl_max("/proc/sys/net/ipv4/tcp_wmem") + (8ll << 20);
  printf("cancel: the S3 GET ended; RGW sent %.1f MiB of %.1f MiB (HTTP %d) to a reader that got "
         "%.1f MiB (bound: + %.1f MiB of buffers)\n",
         (double)sent / MIB, (double)art_size / MIB, http, (double)r.bytes / MIB,
         (double)slack / MIB);
  CHECK_EQ_INT(http, 206);
  CHECK_MSG(sent <= (long long)r.bytes + slack && sent < (long long)art_size,
            "RGW sent %lld bytes for a reader that got %llu: the S3 read was not paced", sent,
            (unsigned long long)r.bytes);
  CHECK(kill(server_pid, 0) == 0);
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 3, "usage: %s FOLIO_SERVER FOLIO_WORKER", argv[0]);
  stack_dir = getenv("FOLIO_STACK_DIR");
  CHECK_MSG(stack_dir && getenv("FOLIO_S3_ENDPOINT"),
            "run me under scripts/stack.sh run pg,redis,s3");
  CHECK(sodium_init() >= 0);
  atexit(stop_all);
  setenv("FOLIO_API_KEY_PEPPER", PEPPER, 1);
  setenv("FOLIO_LOG_LEVEL", "info", 1);
  setenv("FOLIO_WORKERS", "1", 1);
  int st;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "'%s' migrate 2>&1", argv[1]);
  const char *out = proc_run(cmd, &st);
  CHECK_MSG(st == 0, "migrate: %s", out);
  char key[100];
  proc_apikey_create(argv[1], "slow", key, sizeof key);
  snprintf(bearer, sizeof bearer, "Bearer %s", key);
  start_server(argv[1]);
  worker_pid = spawn("worker.log", argv[2], (char *)NULL);

  /* frames × ~1.44 MB: 216 frames make a Scribus document of ~300 MiB */
  test_big((int)((300.0 * MIB) / BIG_SLA_BYTES_PER_FRAME) + 2);
  test_slow_client();

  stop_all();
  cgrpc_channel_destroy(slow_ch);
  cgrpc_channel_destroy(ch);
  return check_done();
}
