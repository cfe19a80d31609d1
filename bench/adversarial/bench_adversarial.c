/* bench/adversarial: what one hostile tenant costs another (issue 10).
 *
 *   bench_adversarial PATH/TO/folio-server PATH/TO/folio-worker [--seconds S]
 *                     [--only NAME[,NAME...]]
 *
 * Run under `scripts/stack.sh run pg,redis,s3` (run.sh does). One folio-server
 * and one folio-worker with two render processes, two tenants: "acme" attacks,
 * "beta" is the victim. Each phase lasts S seconds (default 20) and runs the
 * victim's probes against one attack at a time; the first phase has no attack
 * and is the baseline every ratio divides by. The victim's probes, one thread
 * each, back to back:
 *   - submit:   SubmitLayout of a small one-page PDF layout (send → reply),
 *               one every 50 ms;
 *   - done:     another such job, submit → SUCCEEDED seen through GetStatus
 *               polls every 20 ms (the render pool's fairness shows here);
 *   - download: StreamArtifact of a 1 MiB-ish PDF rendered before the phases
 *               (first call → last chunk with its sha256 checked).
 * The attacks (tenant acme, several threads each, in a loop for the phase):
 *   - bomb_pixels: a 7000×7000 black PNG (196 MB of pixels once decoded to
 *                  cairo's 4 bytes a pixel, in 150 KB);
 *   - bomb_idat:   a 64×64 PNG whose IDAT inflates to 1 GiB past its rows;
 *   - memory:      40 pages, each its own 4000×4000 image asset (64 MB decoded
 *                  each);
 * (the images come from tests/harness/bombs.h);
 *   - shrink:      overflow "shrink" on one unbreakable 200,000-letter word;
 *   - stalled:     32 StreamArtifact calls of a ~12 MB PDF with a 64 KiB window,
 *                  never reading (they hold their streams for the phase);
 *   - flood:       4 threads submitting small layouts as fast as answers come
 *                  (a client retry loop).
 * After each attack every job acme still has open is cancelled and the stack
 * settles before the next phase.
 *
 * Tenants: the pipeline harness makes both bulk tenants (submit rate
 * lifted); acme is put back to the default limits (docs/security.md) except
 * max_running_jobs = 1, half of this stack's two render processes, as an
 * operator of a pool this small would set it (the default, 4, assumes a pool
 * of 8 or more).
 *
 * Per phase it prints the victim's p50/p99 of each probe, their ratios to the
 * baseline (issue 10's target: ≤ 2×), how the attack's calls ended (status
 * counts), and the attacker's cost to the service: CPU seconds of folio-server
 * and folio-worker (with its render processes) above the baseline phase's,
 * and the peak RSS of folio-server and of the largest render process.
 *
 * Never a pass/fail on time: the run fails only when a probe itself fails
 * (the victim got an error, a download's sha256 did not match). */
#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>

/* pipeline.h is a header of static helpers; this program uses some of them */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../../tests/integration/pipeline/pipeline.h"
#pragma GCC diagnostic pop
#include "folio/v1/layout_service.cgrpc.h"
#include "bombs.h"
#include "procmem.h"

#define VICTIM 1
#define ATTACKER 0

static int phase_s = 20;
static const char *only;
static atomic_bool stop_phase;

/* ---- samples ---------------------------------------------------------------- */

struct lat {
  pthread_mutex_t mu;
  double *v;
  size_t n, cap;
  long errors;
  char first_error[200];
};

static void lat_add(struct lat *l, double ms) {
  pthread_mutex_lock(&l->mu);
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
    CHECK(l->v);
  }
  l->v[l->n++] = ms;
  pthread_mutex_unlock(&l->mu);
}

static void lat_error(struct lat *l, const char *what) {
  pthread_mutex_lock(&l->mu);
  if (!l->errors++) snprintf(l->first_error, sizeof l->first_error, "%.199s", what);
  pthread_mutex_unlock(&l->mu);
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank quantile; sorts. 0 when empty. */
static double lat_q(struct lat *l, double q) {
  if (!l->n) return 0;
  qsort(l->v, l->n, sizeof *l->v, cmp_d);
  size_t i = (size_t)(q * (double)l->n + 0.999999);
  if (i > 0) i--;
  if (i >= l->n) i = l->n - 1;
  return l->v[i];
}

static void lat_reset(struct lat *l) {
  free(l->v);
  pthread_mutex_destroy(&l->mu);
  *l = (struct lat){0};
  pthread_mutex_init(&l->mu, NULL);
}

/* ---- documents -------------------------------------------------------------- */

/* An RGB noise PNG w×h (incompressible, well formed; bombs.h's helpers).
 * malloc'd. */
static unsigned char *png_noise(uint32_t w, uint32_t h, size_t *len) {
  struct bomb_buf b = {0};
  bomb_png_start(&b, w, h);
  size_t rowlen = 1 + (size_t)w * 3, raw_len = rowlen * h;
  unsigned char *raw = malloc(raw_len);
  CHECK(raw);
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < raw_len; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    raw[i] = (unsigned char)x;
  }
  for (uint32_t r = 0; r < h; r++) raw[r * rowlen] = 0; /* filter type None */
  uLongf zl = compressBound(raw_len);
  unsigned char *z = malloc(zl);
  CHECK(z && compress2(z, &zl, raw, raw_len, 1) == Z_OK);
  bomb_chunk(&b, "IDAT", z, zl);
  bomb_chunk(&b, "IEND", NULL, 0);
  free(raw);
  free(z);
  *len = b.len;
  return b.p;
}

/* A growing string; s.v is malloc'd. */
struct str {
  char *v;
  size_t n, cap;
};

static void sadd(struct str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sadd(struct str *s, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->v ? s->v + s->n : NULL, s->v ? s->cap - s->n : 0, fmt, ap);
    va_end(ap);
    CHECK(k >= 0);
    if (s->v && s->n + (size_t)k < s->cap) {
      s->n += (size_t)k;
      return;
    }
    s->cap = (s->cap + (size_t)k + 1) * 2;
    s->v = realloc(s->v, s->cap);
    CHECK(s->v);
  }
}

/* One page per image: assets img0..img{n-1}, each PNG given by pngs[i]. */
static char *images_layout(unsigned char **pngs, size_t *lens, int n) {
  struct str s = {0};
  sadd(&s, "{\"version\":1,\"assets\":{");
  for (int i = 0; i < n; i++) {
    char *d = b64(pngs[i], lens[i]);
    sadd(&s, "%s\"img%d\":{\"media_type\":\"image/png\",\"data\":\"%s\"}", i ? "," : "", i, d);
    free(d);
  }
  sadd(&s, "},\"pages\":[");
  for (int i = 0; i < n; i++)
    sadd(&s, "%s{\"items\":[{\"type\":\"image\",\"x\":10,\"y\":10,\"w\":500,\"h\":500,"
             "\"asset\":\"img%d\"}]}",
         i ? "," : "", i);
  sadd(&s, "]}");
  return s.v;
}

static char *layout_bomb_pixels(void) {
  size_t len;
  unsigned char *p = bomb_png(7000, 7000, 0, 0, 0, &len);
  char *l = images_layout(&p, &len, 1);
  free(p);
  return l;
}

static char *layout_bomb_idat(void) {
  size_t len;
  unsigned char *p = bomb_png(64, 64, 1024, 0, 0, &len);
  char *l = images_layout(&p, &len, 1);
  free(p);
  return l;
}

static char *layout_memory(void) {
  enum { N = 40 };
  unsigned char *p[N];
  size_t len[N];
  for (int i = 0; i < N; i++) p[i] = bomb_png(4000, 4000, 0, 0, 0, &len[i]);
  char *l = images_layout(p, len, N);
  for (int i = 0; i < N; i++) free(p[i]);
  return l;
}

static char *layout_shrink(void) {
  struct str s = {0};
  sadd(&s, "{\"version\":1,\"pages\":[{\"items\":[");
  for (int k = 0; k < 4; k++) {
    sadd(&s, "%s{\"type\":\"text\",\"x\":20,\"y\":%d,\"w\":200,\"h\":30,\"overflow\":\"shrink\","
             "\"text\":\"",
         k ? "," : "", 20 + 40 * k);
    for (int i = 0; i < 200000; i++) sadd(&s, "W");
    sadd(&s, "\"}");
  }
  sadd(&s, "]}]}");
  return s.v;
}

static char *layout_big_pdf(void) {
  size_t len;
  unsigned char *p = png_noise(2000, 2000, &len);
  char *l = images_layout(&p, &len, 1);
  free(p);
  return l;
}

static char *layout_small(const char *tag) {
  struct str s = {0};
  sadd(&s,
       "{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"rect\",\"x\":20,\"y\":20,\"w\":200,"
       "\"h\":100,\"fill\":\"#3366cc\"},{\"type\":\"text\",\"x\":40,\"y\":160,\"w\":400,\"h\":40,"
       "\"text\":\"adversarial %s\"}]}]}",
       tag);
  return s.v;
}

/* ---- calls ------------------------------------------------------------------- */

/* SubmitLayout of layout as tenant t (PDF). Returns the status code; job id
 * into job (may be NULL); message into msg (may be NULL). */
static grpc_status_code submit(struct folio_client *c, const char *layout, char *job, char *msg,
                               size_t msgcap) {
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  req.layout_json.data = (uint8_t *)(uintptr_t)layout;
  req.layout_json.len = strlen(layout);
  Folio__V1__Format pdf = FOLIO__V1__FORMAT__FORMAT_PDF;
  req.formats = &pdf;
  req.n_formats = 1;
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  struct folio_client_error e = {0};
  if (folio_client_submit(c, &req, &resp, &e) == 0) {
    if (job) snprintf(job, FOLIO_UUID_STR_LEN + 1, "%s", resp->job_id);
    folio_client_free(resp);
    return GRPC_STATUS_OK;
  }
  if (msg) snprintf(msg, msgcap, "%.*s", (int)(msgcap ? msgcap - 1 : 0), e.message);
  return e.code;
}

static Folio__V1__JobState job_state(struct folio_client *c, const char *job) {
  Folio__V1__Job *j = NULL;
  struct folio_client_error e;
  if (folio_client_status(c, job, 0, &j, &e) != 0) return FOLIO__V1__JOB_STATE__JOB_STATE_UNSPECIFIED;
  Folio__V1__JobState s = j->state;
  folio_client_free(j);
  return s;
}

static bool terminal(Folio__V1__JobState s) {
  return s == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED ||
         s == FOLIO__V1__JOB_STATE__JOB_STATE_FAILED || s == FOLIO__V1__JOB_STATE__JOB_STATE_CANCELED;
}

/* Waits (≤ max_s) for a terminal state; returns it. */
static Folio__V1__JobState wait_job(struct folio_client *c, const char *job, int max_s) {
  double t0 = pl_now_s();
  for (;;) {
    Folio__V1__JobState s = job_state(c, job);
    if (terminal(s) || pl_now_s() - t0 > max_s) return s;
    proc_sleep_ms(20);
  }
}

/* ---- the victim --------------------------------------------------------------- */

static char victim_pdf_job[FOLIO_UUID_STR_LEN + 1];
static struct lat lat_submit, lat_done, lat_download;

static void *victim_submit_main(void *arg) {
  (void)arg;
  struct folio_client *c = pl_client(0, VICTIM);
  char *layout = layout_small("victim");
  while (!atomic_load(&stop_phase)) {
    char msg[200];
    double t0 = pl_now_s();
    grpc_status_code code = submit(c, layout, NULL, msg, sizeof msg);
    if (code == GRPC_STATUS_OK) lat_add(&lat_submit, (pl_now_s() - t0) * 1e3);
    else lat_error(&lat_submit, msg);
    proc_sleep_ms(50);
  }
  free(layout);
  folio_client_close(c);
  return NULL;
}

static void *victim_done_main(void *arg) {
  (void)arg;
  struct folio_client *c = pl_client(0, VICTIM);
  char *layout = layout_small("victim-done");
  while (!atomic_load(&stop_phase)) {
    char job[FOLIO_UUID_STR_LEN + 1], msg[200];
    double t0 = pl_now_s();
    grpc_status_code code = submit(c, layout, job, msg, sizeof msg);
    if (code != GRPC_STATUS_OK) {
      lat_error(&lat_done, msg);
      proc_sleep_ms(100);
      continue;
    }
    Folio__V1__JobState s = wait_job(c, job, 120);
    if (s == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED) lat_add(&lat_done, (pl_now_s() - t0) * 1e3);
    else lat_error(&lat_done, "victim job did not succeed");
  }
  free(layout);
  folio_client_close(c);
  return NULL;
}

static void *victim_download_main(void *arg) {
  (void)arg;
  struct folio_client *c = pl_client(0, VICTIM);
  char path[600];
  snprintf(path, sizeof path, "%s/victim-download.pdf", pl.stack_dir);
  while (!atomic_load(&stop_phase)) {
    unlink(path);
    struct folio_client_error e = {0};
    double t0 = pl_now_s();
    int rc = folio_client_fetch(c, victim_pdf_job, "document.pdf", path, NULL, NULL, NULL, &e);
    if (rc == 0) lat_add(&lat_download, (pl_now_s() - t0) * 1e3);
    else lat_error(&lat_download, e.message);
    proc_sleep_ms(20);
  }
  folio_client_close(c);
  return NULL;
}

/* ---- the attacks ------------------------------------------------------------- */

struct attack;
typedef void (*attack_fn)(struct attack *a, int thread);

struct attack {
  const char *name;
  int threads;
  attack_fn run;
  char *layout; /* for the submitting attacks */
  /* outcome */
  pthread_mutex_t mu;
  long calls, by_code[17];
  char first_msg[17][160];
};

static void attack_note(struct attack *a, grpc_status_code code, const char *msg) {
  pthread_mutex_lock(&a->mu);
  a->calls++;
  int k = (int)code >= 0 && (int)code < 17 ? (int)code : 2;
  if (!a->by_code[k]++ && msg && code != GRPC_STATUS_OK) snprintf(a->first_msg[k], sizeof a->first_msg[k], "%s", msg);
  pthread_mutex_unlock(&a->mu);
}

/* Submits the attack's layout in a loop; for render attacks it waits for the
 * job to end before the next (a render process per thread). */
static void attack_submit_loop(struct attack *a, int thread, bool wait) {
  (void)thread;
  struct folio_client *c = pl_client(0, ATTACKER);
  while (!atomic_load(&stop_phase)) {
    char job[FOLIO_UUID_STR_LEN + 1] = "", msg[160] = "";
    grpc_status_code code = submit(c, a->layout, job, msg, sizeof msg);
    attack_note(a, code, msg);
    if (code == GRPC_STATUS_OK && wait) {
      while (!atomic_load(&stop_phase) && !terminal(job_state(c, job))) proc_sleep_ms(100);
    } else if (code != GRPC_STATUS_OK && wait) {
      proc_sleep_ms(50);
    }
  }
  folio_client_close(c);
}

static void attack_render(struct attack *a, int thread) { attack_submit_loop(a, thread, true); }
static void attack_flood(struct attack *a, int thread) { attack_submit_loop(a, thread, false); }

static char big_pdf_job[FOLIO_UUID_STR_LEN + 1];

/* Opens 4 StreamArtifact calls on a 64 KiB-window channel and never reads. */
static void attack_stalled(struct attack *a, int thread) {
  (void)thread;
  struct cgrpc_channel_config slow = {.http2_stream_window = 65536};
  char err[256];
  struct cgrpc_channel *ch = cgrpc_channel_create(pl.addr[0], &slow, err, sizeof err);
  CHECK_MSG(ch, "%s", err);
  char bearer[200];
  snprintf(bearer, sizeof bearer, "Bearer %s", pl.key[ATTACKER]);
  struct cgrpc_metadata md = {.key = "authorization", .value = bearer, .value_len = strlen(bearer)};
  struct cgrpc_call_options o = {.metadata = &md, .metadata_count = 1};
  struct cgrpc_client_call *calls[4] = {0};
  for (int i = 0; i < 4; i++) {
    calls[i] = cgrpc_client_call_start(ch, folio__v1__layout_service__stream_artifact__METHOD, &o);
    Folio__V1__StreamArtifactRequest req = FOLIO__V1__STREAM_ARTIFACT_REQUEST__INIT;
    req.job_id = big_pdf_job;
    req.name = (char *)(uintptr_t) "document.pdf";
    int rc = calls[i] ? cgrpc_client_call_write(calls[i], &req.base) : -1;
    if (rc == 0) cgrpc_client_call_writes_done(calls[i]);
    attack_note(a, rc == 0 ? GRPC_STATUS_OK : GRPC_STATUS_UNAVAILABLE, "stream not started");
  }
  while (!atomic_load(&stop_phase)) proc_sleep_ms(50);
  for (int i = 0; i < 4; i++) cgrpc_client_call_destroy(calls[i]);
  cgrpc_channel_destroy(ch);
}

static void *attack_thread_main(void *arg) {
  struct attack **pa = arg;
  struct attack *a = pa[0];
  int t = (int)(intptr_t)pa[1];
  a->run(a, t);
  free(pa);
  return NULL;
}

/* ---- the service's cost -------------------------------------------------------- */

/* utime + stime of pid (and, with kids, of its live children), in seconds. */
static double cpu_of(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');
  if (!p) return 0;
  unsigned long ut = 0, st = 0;
  /* fields after ")": state(3) ... utime(14) stime(15) cutime(16) cstime(17) */
  long cut = 0, cst = 0;
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld", &ut, &st, &cut,
             &cst) != 4)
    return 0;
  return (double)(ut + st + (unsigned long)cut + (unsigned long)cst) / (double)sysconf(_SC_CLK_TCK);
}

static double service_cpu(void) {
  double s = cpu_of(pl.server[0]) + cpu_of(pl.worker[0]);
  pid_t kids[16];
  size_t n = proc_children(pl.worker[0], kids, 16);
  for (size_t i = 0; i < n; i++) s += cpu_of(kids[i]);
  return s;
}

static long render_hwm_kb(bool reset) {
  pid_t kids[16];
  size_t n = proc_children(pl.worker[0], kids, 16);
  long best = 0;
  for (size_t i = 0; i < n; i++) {
    if (reset) {
      proc_reset_hwm(kids[i]);
      continue;
    }
    long kb = proc_status_kb(kids[i], "VmHWM");
    if (kb > best) best = kb;
  }
  return best;
}

/* ---- phases ------------------------------------------------------------------- */

struct result {
  const char *name;
  double p50[3], p99[3];
  long n[3], errors;
  double cpu_s, server_rss_mib, render_rss_mib;
};

/* Runs the victim's probes for phase_s seconds, with attack a (NULL = none). */
static struct result phase(struct attack *a) {
  lat_reset(&lat_submit);
  lat_reset(&lat_done);
  lat_reset(&lat_download);
  proc_reset_hwm(pl.server[0]);
  render_hwm_kb(true);
  double cpu0 = service_cpu();
  atomic_store(&stop_phase, false);
  pthread_t at[64];
  int nat = 0;
  if (a) {
    pthread_mutex_init(&a->mu, NULL);
    for (int t = 0; t < a->threads; t++) {
      struct attack **pa = malloc(2 * sizeof *pa);
      CHECK(pa);
      pa[0] = a, pa[1] = (struct attack *)(intptr_t)t;
      CHECK(pthread_create(&at[nat++], NULL, attack_thread_main, pa) == 0);
    }
    proc_sleep_ms(1000); /* let the attack take hold before measuring */
  }
  pthread_t vs, vj, vd;
  CHECK(pthread_create(&vs, NULL, victim_submit_main, NULL) == 0);
  CHECK(pthread_create(&vj, NULL, victim_done_main, NULL) == 0);
  CHECK(pthread_create(&vd, NULL, victim_download_main, NULL) == 0);
  proc_sleep_ms(phase_s * 1000);
  atomic_store(&stop_phase, true);
  pthread_join(vs, NULL);
  pthread_join(vj, NULL);
  pthread_join(vd, NULL);
  for (int i = 0; i < nat; i++) pthread_join(at[i], NULL);
  struct result r = {.name = a ? a->name : "idle"};
  struct lat *ls[3] = {&lat_submit, &lat_done, &lat_download};
  for (int i = 0; i < 3; i++) {
    r.p50[i] = lat_q(ls[i], 0.50);
    r.p99[i] = lat_q(ls[i], 0.99);
    r.n[i] = (long)ls[i]->n;
    r.errors += ls[i]->errors;
    if (ls[i]->errors) printf("  victim probe %d: %ld errors, first: %s\n", i, ls[i]->errors,
                              ls[i]->first_error);
  }
  r.cpu_s = service_cpu() - cpu0;
  r.server_rss_mib = (double)proc_status_kb(pl.server[0], "VmHWM") / 1024.0;
  r.render_rss_mib = (double)render_hwm_kb(false) / 1024.0;
  if (a) {
    /* cancel what acme left open, then let the stack settle */
    struct folio_client *c = pl_client(0, ATTACKER);
    PGresult *open;
    struct folio_pg_diag d;
    CHECK_MSG(folio_pg_conn_command(pl.db, "SELECT id FROM jobs WHERE tenant = 'acme' AND state "
                                           "IN ('QUEUED', 'RUNNING')",
                                    &open, &d) == 0,
              "%s", d.msg);
    for (int i = 0; i < PQntuples(open); i++) {
      Folio__V1__Job *j = NULL;
      struct folio_client_error e;
      if (folio_client_cancel(c, PQgetvalue(open, i, 0), &j, &e) == 0) folio_client_free(j);
    }
    PQclear(open);
    folio_client_close(c);
    printf("  attack %s: %ld calls;", a->name, a->calls);
    for (int k = 0; k < 17; k++)
      if (a->by_code[k])
        printf(" %s×%ld%s%s%s", folio_client_status_name((grpc_status_code)k), a->by_code[k],
               a->first_msg[k][0] ? " (\"" : "", a->first_msg[k], a->first_msg[k][0] ? "\")" : "");
    printf("\n");
    pipeline_wait_settled(300);
  }
  return r;
}

static void print_result(const struct result *r, const struct result *base) {
  static const char *probe[3] = {"submit", "done", "download"};
  printf("%-12s", r->name);
  for (int i = 0; i < 3; i++) {
    double b50 = base->p50[i] > 0 ? base->p50[i] : 1, b99 = base->p99[i] > 0 ? base->p99[i] : 1;
    printf(" %s p50 %.1f ms (%.2fx) p99 %.1f ms (%.2fx) n=%ld;", probe[i], r->p50[i],
           r->p50[i] / b50, r->p99[i], r->p99[i] / b99, r->n[i]);
  }
  printf(" attacker cost: %.1f CPU-s above idle, server peak RSS %.1f MiB, render peak RSS "
         "%.1f MiB\n",
         r->cpu_s - base->cpu_s, r->server_rss_mib, r->render_rss_mib);
  fflush(stdout);
}

static bool wanted(const char *name) {
  if (!only) return true;
  size_t n = strlen(name);
  for (const char *p = only; (p = strstr(p, name)); p += n)
    if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return true;
  return false;
}

int main(int argc, char **argv) {
  int nargs = 1;
  char *args[3] = {argv[0], NULL, NULL};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc) phase_s = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (nargs < 3) args[nargs++] = argv[i];
  }
  CHECK_MSG(phase_s >= 1 && phase_s <= 600, "--seconds 1..600");
  pipeline_setup(nargs, args);
  proc_tenant_set(pl.server_bin, PL_TENANT_NAMES[ATTACKER],
                  "--submit-rate default --submit-burst default --max-running-jobs 1");
  pipeline_start_servers(1);
  pipeline_start_workers(1, 2);
  printf("bench/adversarial: %ld CPUs, %d s a phase; load %s", sysconf(_SC_NPROCESSORS_ONLN),
         phase_s, "");
  fflush(stdout);
  if (system("cut -d' ' -f1-3 /proc/loadavg") != 0) printf("\n");

  /* the victim's download and the stalled readers' artifact */
  struct folio_client *v = pl_client(0, VICTIM), *a = pl_client(0, ATTACKER);
  char *small = layout_small("download"), *big = layout_big_pdf(), msg[200];
  CHECK_MSG(submit(v, small, victim_pdf_job, msg, sizeof msg) == GRPC_STATUS_OK, "%s", msg);
  CHECK_MSG(submit(a, big, big_pdf_job, msg, sizeof msg) == GRPC_STATUS_OK, "%s", msg);
  CHECK(wait_job(v, victim_pdf_job, 120) == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  CHECK(wait_job(a, big_pdf_job, 120) == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  free(small);
  free(big);
  folio_client_close(v);
  folio_client_close(a);

  struct attack attacks[] = {
      {.name = "bomb_pixels", .threads = 2, .run = attack_render},
      {.name = "bomb_idat", .threads = 2, .run = attack_render},
      {.name = "memory", .threads = 2, .run = attack_render},
      {.name = "shrink", .threads = 2, .run = attack_render},
      {.name = "stalled", .threads = 8, .run = attack_stalled},
      {.name = "flood", .threads = 4, .run = attack_flood},
  };
  attacks[0].layout = wanted("bomb_pixels") ? layout_bomb_pixels() : NULL;
  attacks[1].layout = wanted("bomb_idat") ? layout_bomb_idat() : NULL;
  attacks[2].layout = wanted("memory") ? layout_memory() : NULL;
  attacks[3].layout = wanted("shrink") ? layout_shrink() : NULL;
  attacks[5].layout = layout_small("flood");

  struct result base = phase(NULL);
  print_result(&base, &base);
  int failed = base.errors != 0;
  for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
    if (!wanted(attacks[i].name)) continue;
    struct result r = phase(&attacks[i]);
    print_result(&r, &base);
    failed |= r.errors != 0;
    free(attacks[i].layout);
  }
  pipeline_stop_all();
  CHECK_MSG(!failed, "a victim probe failed (see above)");
  return pipeline_done();
}
