/* StreamArtifact throughput against the object store it reads from, in one
 * run (bench/artifacts/run.sh starts PostgreSQL, Redis and a file-backed RGW
 * and runs this under them):
 *
 *   setup   two SUCCEEDED jobs without rendering: each job row is submitted,
 *           claimed and succeeded with lib/jobs, its artifact (pseudo-random
 *           bytes, sha256 computed while producing) uploaded with lib/s3's
 *           multipart upload. One of --big-mib (1 GiB), one of --small-mib.
 *   server  folio-server started here on a loopback port it binds itself.
 *   single  rounds of: curl GETting the big object from RGW through a
 *           presigned URL into /dev/null, then StreamArtifact of all of it
 *           to one C client (cgrpc stubs, draining as fast as it can) with
 *           each chunk size. MB/s of each, ratio to curl's median.
 *   many    --clients threads, each one StreamArtifact of the small artifact
 *           on one shared channel, started together: aggregate MB/s.
 *   baseline with --baseline-server PATH (a folio-server of an earlier
 *           commit, e.g. built by bench/baseline.sh), started next to the
 *           first: in every single-stream round each chunk size is streamed
 *           from both, one after the other, so both meet the same machine
 *           load; the server CPU per GiB of both, against issue 16's target
 *           (<= 1.0 CPU-s per GiB).
 *
 * A sampler thread reads the server's /proc/PID/status every 10 ms (VmRSS,
 * Threads); VmHWM is reset through /proc/PID/clear_refs before each phase,
 * so "peak RSS" is the kernel's own high-water mark during that phase.
 * Every stream is checked: bytes, offsets, total size and the final sha256
 * field; curl's byte count too. Not a test: timings are printed, never
 * asserted; a wrong answer exits 1. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health.h"  /* tests/harness: wait for SERVING */
#include "proc.h"    /* tests/harness: spawn (port 0, reported)/stop */
#include "procmem.h" /* tests/harness: VmRSS/VmHWM/Threads, peak reset */
#include "folio/clock.h"
#include "folio/jobs.h"
#include "folio/loop.h"
#include "folio/s3.h"
#include "folio/v1/layout_service.cgrpc.h"
#include "grpc/health/v1/health.cgrpc.h"

#define MiB (1024u * 1024u)
#define TENANT "bench"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("bench_artifacts: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* ---- options ------------------------------------------------------------------ */

static struct {
  const char *server, *baseline;
  uint64_t big_mib, small_mib;
  int rounds, clients;
  uint32_t chunks[8];
  int nchunks;
} opt = {.big_mib = 1024, .small_mib = 20, .rounds = 3, .clients = 200};

static void parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) die("%s: missing value", a);
    i++;
    if (strcmp(a, "--server") == 0) opt.server = v;
    else if (strcmp(a, "--baseline-server") == 0) opt.baseline = v;
    else if (strcmp(a, "--big-mib") == 0) opt.big_mib = strtoull(v, NULL, 10);
    else if (strcmp(a, "--small-mib") == 0) opt.small_mib = strtoull(v, NULL, 10);
    else if (strcmp(a, "--rounds") == 0) opt.rounds = atoi(v);
    else if (strcmp(a, "--clients") == 0) opt.clients = atoi(v);
    else if (strcmp(a, "--chunks") == 0) {
      char *s = strdup(v), *save = NULL;
      for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (opt.nchunks == 8) die("--chunks: at most 8 sizes");
        opt.chunks[opt.nchunks++] = (uint32_t)strtoul(t, NULL, 10);
      }
      free(s);
    } else die("unknown option %s (--server --baseline-server --big-mib --small-mib --rounds --clients --chunks)", a);
  }
  if (!opt.server) die("--server PATH/folio-server is required");
  if (!opt.big_mib || !opt.small_mib || opt.rounds < 1 || opt.rounds > 32 || opt.clients < 1)
    die("sizes and --clients must be positive, --rounds 1..32");
  if (!opt.nchunks) {
    opt.chunks[0] = 65536;
    opt.chunks[1] = 1048576;
    opt.nchunks = 2;
  }
}

/* ---- setup: a SUCCEEDED job with one artifact ---------------------------------- */

struct artifact {
  const char *name;
  uint64_t size;
  char job[FOLIO_UUID_STR_LEN + 1];
  char key[160];
  char sha[65];
};

struct upload {
  struct folio_s3_upload *u;
  uint64_t size;
  uint8_t sha[32];
  atomic_bool done;
  struct folio_s3_result r;
  char err[300];
};

/* Pseudo-random bytes (xorshift64*), so nothing along the way can compress
 * or deduplicate them. */
static void *produce(void *arg) {
  struct upload *p = arg;
  uint8_t *buf = malloc(MiB);
  if (!buf) die("out of memory");
  crypto_hash_sha256_state h;
  crypto_hash_sha256_init(&h);
  uint64_t x = 0x9E3779B97F4A7C15u ^ p->size;
  for (uint64_t off = 0; off < p->size;) {
    size_t n = p->size - off < MiB ? (size_t)(p->size - off) : MiB;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
      uint64_t v = x * 0x2545F4914F6CDD1Du;
      memcpy(buf + i, &v, 8);
    }
    crypto_hash_sha256_update(&h, buf, n);
    if (folio_s3_upload_write(p->u, buf, n) != 0) {
      folio_s3_upload_abort(p->u);
      free(buf);
      return NULL;
    }
    off += n;
  }
  crypto_hash_sha256_final(&h, p->sha);
  folio_s3_upload_finish(p->u);
  free(buf);
  return NULL;
}

static void upload_done(void *arg, const struct folio_s3_result *r) {
  struct upload *p = arg;
  p->r = *r;
  snprintf(p->err, sizeof p->err, "%s %s", r->error_code, r->error_message);
  atomic_store(&p->done, true);
}

static void put_artifact(struct folio_pg_conn *db, struct folio_s3_client *s3,
                         struct folio_loop *loop, struct artifact *a) {
  static const uint8_t layout[] = "{\"version\":1,\"pages\":[{\"items\":[]}]}";
  struct folio_job_submit sub = {.tenant = TENANT, .layout = layout, .layout_len = sizeof layout - 1};
  struct folio_job_submitted out;
  struct folio_pg_diag d;
  if (folio_jobs_submit(db, &sub, &out, &d) != 0) die("submit: %s", d.msg);
  snprintf(a->job, sizeof a->job, "%s", out.job_id);
  struct folio_arena *arena = folio_arena_create(0);
  struct folio_job_claim cl;
  if (folio_jobs_claim(db, a->job, "bench", arena, &cl, &d) != 0) die("claim: %s", d.msg);
  snprintf(a->key, sizeof a->key, "%s/%s/%s", TENANT, a->job, a->name);

  struct upload p = {.size = a->size};
  if (folio_s3_upload_begin(s3, a->key, "application/octet-stream", upload_done, &p, &p.u) != 0)
    die("upload_begin %s refused", a->key);
  pthread_t th;
  if (pthread_create(&th, NULL, produce, &p) != 0) die("pthread_create");
  while (!atomic_load(&p.done)) folio_loop_run_once(loop, 100);
  pthread_join(th, NULL);
  if (p.r.status != 0)
    die("upload %s: %s (HTTP %ld) %s", a->key, folio_s3_strerror(p.r.status), p.r.http_status, p.err);
  sodium_bin2hex(a->sha, sizeof a->sha, p.sha, sizeof p.sha);

  struct folio_job_artifact art = {.name = a->name, .format = FOLIO_FORMAT_PDF,
                                   .size_bytes = a->size, .sha256_hex = a->sha,
                                   .content_type = "application/octet-stream", .object_key = a->key};
  if (folio_jobs_succeed(db, a->job, cl.attempt, &art, 1, &d) != 0) die("succeed: %s", d.msg);
  folio_arena_destroy(arena);
}

/* ---- the server ---------------------------------------------------------------- */

static pid_t server_pid, base_pid;
static char addr[64], base_addr[64];

static void stop_server(void) {
  proc_stop(&server_pid, 10000);
  proc_stop(&base_pid, 10000);
}

static void on_signal(int sig) {
  stop_server();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void start_server_bin(const char *bin, pid_t *pid, char *at, const char *pepper,
                             const char *log, struct cgrpc_channel *ch_out[1]) {
  char e_pepper[160];
  snprintf(e_pepper, sizeof e_pepper, "FOLIO_API_KEY_PEPPER=%s", pepper);
  const char *const argv[] = {bin, NULL};
  /* It binds port 0 and logs the port it got: that line is at level info
   * (a handful of calls here, so the per-call lines cost nothing). */
  /* one tenant plays all the concurrent clients here (it measures the
   * server's streaming, not fairness): lift the per-tenant stream cap
   * (docs/security.md) above --clients */
  const char *const env[] = {e_pepper, "FOLIO_LOG_LEVEL=info", "FOLIO_STREAMS_PER_TENANT=100000",
                             NULL};
  fflush(NULL); /* or the child's exit flushes our buffered output a second time */
  *pid = proc_spawn_listening(argv, env, log, SIGKILL, 30000, at, 64);
  atexit(stop_server);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  char err[256];
  struct cgrpc_channel *ch = cgrpc_channel_create(at, NULL, err, sizeof err);
  if (!ch) die("channel: %s", err);
  int rc = proc_wait_healthy(ch, pid, 30000);
  if (rc == -1) die("folio-server exited at start-up; see %s", log);
  if (rc != 0) die("folio-server did not become healthy in 30 s; see %s", log);
  ch_out[0] = ch;
}

static void start_server(const char *pepper, const char *log, struct cgrpc_channel *ch_out[1]) {
  start_server_bin(opt.server, &server_pid, addr, pepper, log, ch_out);
}

/* ---- /proc sampling -------------------------------------------------------------- */

static struct {
  pthread_mutex_t mu;
  long rss_kib, threads; /* maxima since the last reset */
  atomic_bool stop;
} smp = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *sampler(void *arg) {
  (void)arg;
  while (!atomic_load(&smp.stop)) {
    long rss = proc_status_kb(server_pid, "VmRSS"), th = proc_status_kb(server_pid, "Threads");
    if (rss >= 0) {
      pthread_mutex_lock(&smp.mu);
      if (rss > smp.rss_kib) smp.rss_kib = rss;
      if (th > smp.threads) smp.threads = th;
      pthread_mutex_unlock(&smp.mu);
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

/* Starts a phase: the kernel's high-water mark and the sampled maxima reset. */
static void phase_reset(void) {
  proc_reset_hwm(server_pid);
  pthread_mutex_lock(&smp.mu);
  smp.rss_kib = smp.threads = 0;
  pthread_mutex_unlock(&smp.mu);
}

struct phase_mem {
  long peak_kib, threads;
};

static struct phase_mem phase_end(void) {
  long hwm = proc_status_kb(server_pid, "VmHWM"), th = proc_status_kb(server_pid, "Threads");
  pthread_mutex_lock(&smp.mu);
  struct phase_mem m = {smp.rss_kib > hwm ? smp.rss_kib : hwm, smp.threads > th ? smp.threads : th};
  pthread_mutex_unlock(&smp.mu);
  return m;
}

/* CPU seconds (user + system) the server pid has used so far. */
static double cpu_of(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* the command name may contain spaces */
  unsigned long long ut = 0, st = 0;
  if (!p || sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &ut, &st) != 2)
    return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double server_cpu_s(void) { return cpu_of(server_pid); }

static double rusage_s(const struct rusage *r) {
  return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) +
         (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e6;
}

/* CPU seconds this process has used so far (the client's gRPC threads too). */
static double self_cpu_s(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return rusage_s(&r);
}

/* ---- the measurements ------------------------------------------------------------- */

static const char *bearer;

/* One StreamArtifact of a whole artifact; returns the bytes it got, exits on
 * a wrong answer (status, offsets, size, sha256). */
static uint64_t stream_all(struct cgrpc_channel *ch, const struct artifact *a, uint32_t chunk) {
  Folio__V1__StreamArtifactRequest req = FOLIO__V1__STREAM_ARTIFACT_REQUEST__INIT;
  req.job_id = (char *)(uintptr_t)a->job;
  req.name = (char *)(uintptr_t)a->name;
  req.chunk_size = chunk;
  struct cgrpc_metadata md = {.key = "authorization", .value = bearer, .value_len = strlen(bearer)};
  struct cgrpc_call_options o = {.timeout_ms = 600000, .metadata = &md, .metadata_count = 1};
  struct cgrpc_client_call *cc = folio__v1__layout_service__stream_artifact__start(ch, &req, &o);
  if (!cc) die("StreamArtifact: cannot start the call");
  Folio__V1__ArtifactChunk *c;
  uint64_t got = 0;
  bool sha_ok = false;
  while (folio__v1__layout_service__stream_artifact__read(cc, &c) == 1) {
    if (c->offset != got || c->total_size != a->size || c->data.len > (chunk ? chunk : 65536))
      die("StreamArtifact %s: chunk at offset %" PRIu64 " (expected %" PRIu64 "), %zu bytes, total %" PRIu64,
          a->name, c->offset, got, c->data.len, c->total_size);
    got += c->data.len;
    if (c->sha256_hex && *c->sha256_hex) sha_ok = strcmp(c->sha256_hex, a->sha) == 0;
    protobuf_c_message_free_unpacked(&c->base, NULL);
  }
  struct cgrpc_status st = {0};
  cgrpc_client_call_finish(cc, &st);
  if (st.code != GRPC_STATUS_OK)
    die("StreamArtifact %s: %s %s", a->name, cgrpc_status_name(st.code), st.message ? st.message : "");
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(cc);
  if (got != a->size || !sha_ok)
    die("StreamArtifact %s: %" PRIu64 " of %" PRIu64 " bytes, sha256 %s", a->name, got, a->size,
        sha_ok ? "ok" : "missing or wrong");
  return got;
}

/* curl, presigned URL, body to /dev/null; returns seconds (exits on failure)
 * and curl's CPU seconds in *cpu. */
static double curl_get(const char *url, uint64_t size, double *cpu) {
  int fds[2];
  if (pipe(fds) != 0) die("pipe: %s", strerror(errno));
  fflush(NULL);
  int64_t t0 = folio_clock_mono_ns();
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execlp("curl", "curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}", url,
           (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char out[64] = "";
  ssize_t n = read(fds[0], out, sizeof out - 1);
  close(fds[0]);
  int st;
  struct rusage ru;
  wait4(pid, &st, 0, &ru);
  double s = (double)(folio_clock_mono_ns() - t0) / 1e9;
  *cpu = rusage_s(&ru);
  if (n > 0) out[n] = '\0';
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strtoull(out, NULL, 10) != size)
    die("curl: exit %d, %s of %" PRIu64 " bytes", WIFEXITED(st) ? WEXITSTATUS(st) : -1, out, size);
  return s;
}

static double mbps(uint64_t bytes, double s) { return (double)bytes / s / 1e6; }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *verdict(bool ok) { return ok ? "meets" : "MISSES"; }

/* 200 clients */
static struct {
  struct cgrpc_channel *ch;
  const struct artifact *a;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool go;
} many = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *many_client(void *arg) {
  (void)arg;
  pthread_mutex_lock(&many.mu);
  while (!many.go) pthread_cond_wait(&many.cv, &many.mu);
  pthread_mutex_unlock(&many.mu);
  stream_all(many.ch, many.a, 0);
  return NULL;
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  if (sodium_init() < 0) die("sodium_init");
  const char *url = getenv("FOLIO_DATABASE_URL"), *dir = getenv("FOLIO_STACK_DIR");
  if (!url || !dir) die("FOLIO_DATABASE_URL / FOLIO_STACK_DIR not set (use bench/artifacts/run.sh)");
  struct folio_s3_config s3cfg;
  char err[256];
  if (folio_s3_config_from_env(&s3cfg, err, sizeof err) != 0) die("%s", err);

  /* setup */
  struct folio_pg_conn_config pc = {.conninfo = url};
  struct folio_pg_conn *db;
  struct folio_pg_diag d;
  if (folio_pg_conn_connect(&pc, &db, &d) != 0 || folio_jobs_migrate(db, NULL, &d) != 0)
    die("database: %s", d.msg);
  folio_pg_conn_close(db);
  folio_jobs_conn_config(&pc);
  if (folio_pg_conn_connect(&pc, &db, &d) != 0) die("database: %s", d.msg);
  uint8_t pep[16];
  char pepper[33], key[FOLIO_APIKEY_LEN + 1];
  randombytes_buf(pep, sizeof pep);
  sodium_bin2hex(pepper, sizeof pepper, pep, sizeof pep);
  if (folio_jobs_apikey_create(db, TENANT, (const uint8_t *)pepper, strlen(pepper), key, NULL, &d) != 0)
    die("apikey: %s", d.msg);
  char auth[FOLIO_APIKEY_LEN + 16];
  snprintf(auth, sizeof auth, "Bearer %s", key);
  bearer = auth;

  struct folio_loop *loop = folio_loop_create();
  struct folio_s3_sync_result br;
  if (folio_s3_sync_ensure_bucket(&s3cfg, &br) != 0) die("bucket: %s %s", br.error_code, br.error_message);
  struct folio_s3_client *s3 = folio_s3_client_create(&s3cfg, loop, err, sizeof err);
  if (!s3) die("s3 client: %s", err);
  struct artifact big = {.name = "big.bin", .size = opt.big_mib * MiB};
  struct artifact small = {.name = "small.bin", .size = opt.small_mib * MiB};
  int64_t t0 = folio_clock_mono_ns();
  put_artifact(db, s3, loop, &big);
  double up_s = (double)(folio_clock_mono_ns() - t0) / 1e9;
  put_artifact(db, s3, loop, &small);
  folio_s3_client_destroy(s3);
  folio_loop_destroy(loop);
  folio_pg_conn_close(db);
  printf("setup: jobs inserted with lib/jobs (submit, claim, succeed), objects uploaded with lib/s3 "
         "multipart\n  %s: %" PRIu64 " MiB in %.1f s (%.0f MB/s upload); %s: %" PRIu64 " MiB\n",
         big.name, opt.big_mib, up_s, mbps(big.size, up_s), small.name, opt.small_mib);

  char log[600];
  snprintf(log, sizeof log, "%s/folio-server.log", dir);
  struct cgrpc_channel *ch;
  start_server(pepper, log, &ch);
  pthread_t smp_th;
  pthread_create(&smp_th, NULL, sampler, NULL);
  long idle_rss = proc_status_kb(server_pid, "VmRSS"),
       idle_threads = proc_status_kb(server_pid, "Threads");
  printf("folio-server %s: idle RSS %.1f MiB, %ld threads\n\n", addr, idle_rss / 1024.0, idle_threads);

  /* single stream vs curl */
  char *presigned = folio_s3_presign_get(&s3cfg, big.key, 3600, NULL, time(NULL), err, sizeof err);
  if (!presigned) die("presign: %s", err);
  double curl_s[32], stream_s[8][32], curl_cpu[32], server_cpu[8][32], client_cpu[8][32];
  double base_cpu[8][32], base_s[8][32];
  struct cgrpc_channel *base_ch = NULL;
  if (opt.baseline) {
    char blog[600];
    snprintf(blog, sizeof blog, "%s/folio-server-baseline.log", dir);
    start_server_bin(opt.baseline, &base_pid, base_addr, pepper, blog, &base_ch);
    printf("baseline folio-server %s: %s\n\n", base_addr, opt.baseline);
  }
  struct phase_mem stream_mem[8] = {{0}};
  int rounds = opt.rounds;
  printf("1. one client, %" PRIu64 " MiB artifact, %d rounds (curl and each chunk size, order rotating)\n",
         opt.big_mib, rounds);
  /* Each round runs curl and every chunk size once; the order rotates from
   * round to round so that no method always meets a cold (or warm) store. */
  int methods = opt.nchunks + 1; /* 0: curl, 1..: chunk sizes */
  for (int r = 0; r < rounds; r++) {
    struct phase_mem m[8] = {{0}};
    for (int i = 0; i < methods; i++) {
      int k = (i + r) % methods - 1;
      if (k < 0) {
        curl_s[r] = curl_get(presigned, big.size, &curl_cpu[r]);
        continue;
      }
      phase_reset();
      double scpu = server_cpu_s(), ccpu = self_cpu_s();
      t0 = folio_clock_mono_ns();
      stream_all(ch, &big, opt.chunks[k]);
      stream_s[k][r] = (double)(folio_clock_mono_ns() - t0) / 1e9;
      server_cpu[k][r] = server_cpu_s() - scpu;
      client_cpu[k][r] = self_cpu_s() - ccpu;
      m[k] = phase_end();
      if (m[k].peak_kib > stream_mem[k].peak_kib) stream_mem[k].peak_kib = m[k].peak_kib;
      if (base_ch) { /* the same stream from the baseline server, right after */
        double bcpu = cpu_of(base_pid);
        t0 = folio_clock_mono_ns();
        stream_all(base_ch, &big, opt.chunks[k]);
        base_s[k][r] = (double)(folio_clock_mono_ns() - t0) / 1e9;
        base_cpu[k][r] = cpu_of(base_pid) - bcpu;
      }
    }
    printf("  round %d: curl %6.1f MB/s", r + 1, mbps(big.size, curl_s[r]));
    for (int k = 0; k < opt.nchunks; k++)
      printf(" | chunk %7u B %6.1f MB/s, peak RSS %.1f MiB", opt.chunks[k],
             mbps(big.size, stream_s[k][r]), m[k].peak_kib / 1024.0);
    printf("\n");
    fflush(stdout);
  }
  free(presigned);
  double curl_med = mbps(big.size, median(curl_s, rounds));
  double gib = (double)big.size / (1024.0 * MiB);
  printf("  medians: curl straight from RGW %.1f MB/s (curl's CPU %.2f s per GiB)\n", curl_med,
         median(curl_cpu, rounds) / gib);
  bool all_ok = true;
  for (int k = 0; k < opt.nchunks; k++) {
    double s = mbps(big.size, median(stream_s[k], rounds)), ratio = s / curl_med;
    bool flat = stream_mem[k].peak_kib < 64 * 1024;
    printf("  StreamArtifact chunk %7u B: %7.1f MB/s = %.2fx curl (target >= 0.8x: %s); "
           "peak server RSS %.1f MiB (target < 64 MiB: %s)\n",
           opt.chunks[k], s, ratio, verdict(ratio >= 0.8), stream_mem[k].peak_kib / 1024.0,
           verdict(flat));
    printf("    CPU per GiB streamed: folio-server %.2f s, client %.2f s\n",
           median(server_cpu[k], rounds) / gib, median(client_cpu[k], rounds) / gib);
    if (base_ch) {
      double now = median(server_cpu[k], rounds) / gib, then = median(base_cpu[k], rounds) / gib;
      printf("    baseline folio-server: %.1f MB/s, CPU per GiB %.2f s; this tree %.2f s = %.2fx "
             "the baseline (target <= 1.00 CPU-s per GiB: %s)\n",
             mbps(big.size, median(base_s[k], rounds)), then, now, then > 0 ? now / then : 0,
             verdict(now <= 1.0));
    }
    all_ok = all_ok && ratio >= 0.8 && flat;
  }

  if (base_ch) {
    cgrpc_channel_destroy(base_ch);
    proc_stop(&base_pid, 10000);
  }

  /* many clients */
  printf("\n2. %d concurrent StreamArtifact clients (threads, one channel), %" PRIu64
         " MiB artifact each, default chunk size\n",
         opt.clients, opt.small_mib);
  many.ch = ch;
  many.a = &small;
  pthread_t *th = calloc((size_t)opt.clients, sizeof *th);
  for (int i = 0; i < opt.clients; i++)
    if (pthread_create(&th[i], NULL, many_client, NULL) != 0) die("pthread_create %d", i);
  usleep(200000); /* let every thread reach the barrier */
  phase_reset();
  double many_cpu = server_cpu_s();
  pthread_mutex_lock(&many.mu);
  many.go = true;
  t0 = folio_clock_mono_ns();
  pthread_cond_broadcast(&many.cv);
  pthread_mutex_unlock(&many.mu);
  for (int i = 0; i < opt.clients; i++) pthread_join(th[i], NULL);
  double many_s = (double)(folio_clock_mono_ns() - t0) / 1e9;
  struct phase_mem mm = phase_end();
  many_cpu = server_cpu_s() - many_cpu;
  free(th);
  uint64_t many_bytes = (uint64_t)opt.clients * small.size;
  double agg = mbps(many_bytes, many_s);
  printf("  %.0f MiB in %.2f s: aggregate %.1f MB/s = %.2fx curl's single-stream median; "
         "peak server RSS %.1f MiB, peak threads %ld (idle: %.1f MiB, %ld)\n",
         many_bytes / (double)MiB, many_s, agg, agg / curl_med, mm.peak_kib / 1024.0, mm.threads,
         idle_rss / 1024.0, idle_threads);
  printf("  folio-server CPU %.2f s per GiB\n", many_cpu / ((double)many_bytes / (1024.0 * MiB)));

  atomic_store(&smp.stop, true);
  pthread_join(smp_th, NULL);
  cgrpc_channel_destroy(ch);
  stop_server();

  printf("\nsingle-stream targets: %s\n", all_ok ? "all met" : "NOT all met");
  return 0;
}
