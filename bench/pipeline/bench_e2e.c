/* Issue 16's end-to-end figures for a one-page PDF+PNG job, driven by
 * bench/pipeline/e2e.sh (which starts the stack, folio-server and
 * folio-worker, for this tree and for a baseline commit):
 *
 *   bench_e2e render   LAYOUT N [mmap256k]
 *   bench_e2e timeline ADDR KEY LAYOUT JOBS DATABASE_URL [WORKER_LOG]
 *   bench_e2e batch    ADDR KEY LAYOUT JOBS
 *
 * render: the render alone, in this process, as a render process does it
 * (decode with the default limits, folio_render_pdf, then folio_render_png at
 * the job default of 150 dpi with one rasterizing thread, each artifact
 * hashed with SHA-256 as the worker's sinks do), N times after one warm-up:
 * p50 of the whole and of each part. Nothing is stored. With mmap256k, under
 * the malloc policy folio-worker's render processes had before issue 16
 * (M_MMAP_THRESHOLD = 256 KiB), to show what that policy cost.
 *
 * timeline: JOBS sequential jobs, each right after one render alone (as
 * above, so both meet the same machine load), each SubmitLayout then WatchJob until
 * SUCCEEDED (what a caller waiting with WatchJob sees), stamped on this
 * machine's CLOCK_REALTIME, which PostgreSQL's clock_timestamp() and the
 * worker's log also read: the submit's send and reply, the job row's
 * created_at (inside the submit's transaction), started_at (inside the
 * claim's), finished_at (inside the succeed transaction), and the watcher's
 * SUCCEEDED. With WORKER_LOG (folio-worker's JSON lines), the worker's own
 * stage timers of each job ("job succeeded": ms_claim, ms_render,
 * ms_upload_wait, ms_commit, and ts, when the entry was read) split the
 * middle. Prints the p50 of every step and of the whole.
 *
 * batch: submits JOBS jobs back to back, then watches them in order until
 * each is SUCCEEDED: the wall time from the first submit to the last
 * SUCCEEDED seen, and jobs per second.
 *
 * Output: one line per mode, `key=value` pairs, for e2e.sh. Not a test:
 * timings are printed, never asserted; a failed job exits 1. */
#include <libpq-fe.h>
#include <malloc.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "folio/client.h"
#include "folio/layout.h"
#include "folio/render.h"
#include "folio/v1/layout_service.pb-c.h"

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench_e2e: %s %s\n", what, detail ? detail : "");
  exit(1);
}

static int64_t now_ns(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct samples {
  double *v;
  size_t n, cap;
};

static void push(struct samples *s, double x) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (!s->v) die("out of memory", "");
  }
  s->v[s->n++] = x;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median; 0 for no samples. Sorts s. */
static double p50(struct samples *s) {
  if (!s->n) return 0;
  qsort(s->v, s->n, sizeof *s->v, cmp_d);
  return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open", path);
  size_t cap = 1 << 16, n = 0, r;
  char *b = malloc(cap);
  while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 1 == cap) b = realloc(b, cap *= 2);
  }
  fclose(f);
  if (!b) die("out of memory", "");
  b[n] = '\0';
  *len = n;
  return b;
}

/* ---- render: the render alone ---------------------------------------------- */

struct hashed {
  crypto_hash_sha256_state sha;
  size_t bytes;
};

static int hash_write(void *ctx, const unsigned char *data, size_t len) {
  struct hashed *h = ctx;
  crypto_hash_sha256_update(&h->sha, data, len);
  h->bytes += len;
  return 0;
}

static int png_begin(void *ctx, size_t page, folio_render_write_fn *write, void **wctx) {
  struct hashed *h = ctx;
  crypto_hash_sha256_init(&h->sha);
  *write = hash_write;
  *wctx = h;
  return 0;
}

static int png_end(void *ctx, size_t page) {
  struct hashed *h = ctx;
  unsigned char out[32];
  crypto_hash_sha256_final(&h->sha, out);
  return 0;
}

/* One render of json: decode, PDF, PNG, each hashed; the times of each part
 * (ms) and the artifacts' sizes. */
struct one_render {
  double all, dec, pdf, png;
  size_t pdf_bytes, png_bytes;
};

static struct one_render render_once(const char *json, size_t len) {
  struct one_render o;
  {
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    struct folio_layout_doc *doc = NULL;
    struct folio_layout_diag ld = {0};
    if (folio_layout_decode(json, len, NULL, &doc, &ld) != FOLIO_LAYOUT_OK) die("decode", "");
    int64_t t1 = now_ns(CLOCK_MONOTONIC);
    struct folio_render_options opt = {.dpi = 150, .threads = 1};
    struct folio_render_diag rd = {0};
    struct hashed h = {.bytes = 0};
    crypto_hash_sha256_init(&h.sha);
    if (folio_render_pdf(doc, &opt, hash_write, &h, &rd) != 0) die("render pdf:", rd.message);
    unsigned char out[32];
    crypto_hash_sha256_final(&h.sha, out);
    o.pdf_bytes = h.bytes;
    int64_t t2 = now_ns(CLOCK_MONOTONIC);
    h.bytes = 0;
    if (folio_render_png(doc, &opt, png_begin, png_end, &h, &rd) != 0) die("render png:", rd.message);
    o.png_bytes = h.bytes;
    int64_t t3 = now_ns(CLOCK_MONOTONIC);
    folio_layout_doc_free(doc);
    o.all = (double)(t3 - t0) / 1e6;
    o.dec = (double)(t1 - t0) / 1e6;
    o.pdf = (double)(t2 - t1) / 1e6;
    o.png = (double)(t3 - t2) / 1e6;
  }
  return o;
}

static int run_render(const char *layout_path, int n) {
  size_t len;
  char *json = read_file(layout_path, &len);
  struct samples all = {0}, dec = {0}, pdf = {0}, png = {0};
  size_t pdf_bytes = 0, png_bytes = 0;
  for (int i = -1; i < n; i++) { /* i = -1: the warm-up (fonts, caches) */
    struct one_render o = render_once(json, len);
    pdf_bytes = o.pdf_bytes;
    png_bytes = o.png_bytes;
    if (i < 0) continue;
    push(&all, o.all);
    push(&dec, o.dec);
    push(&pdf, o.pdf);
    push(&png, o.png);
  }
  printf("render n=%d render_p50_ms=%.2f decode_p50_ms=%.2f pdf_p50_ms=%.2f png_p50_ms=%.2f "
         "pdf_bytes=%zu png_bytes=%zu\n",
         n, p50(&all), p50(&dec), p50(&pdf), p50(&png), pdf_bytes, png_bytes);
  free(all.v), free(dec.v), free(pdf.v), free(png.v);
  free(json);
  return 0;
}

/* ---- timeline: where the time of one job goes ----------------------------------- */

struct watch {
  int64_t first_us, done_us; /* CLOCK_REALTIME, µs */
  int state;
};

static int on_job(const Folio__V1__Job *job, void *ud) {
  struct watch *w = ud;
  int64_t t = now_ns(CLOCK_REALTIME) / 1000;
  if (!w->first_us) w->first_us = t;
  w->state = (int)job->state;
  if (job->state == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED) w->done_us = t;
  return 0;
}

static int submit(struct folio_client *c, const char *layout, size_t len, char id[64]) {
  Folio__V1__Format fmts[] = {FOLIO__V1__FORMAT__FORMAT_PDF, FOLIO__V1__FORMAT__FORMAT_PNG};
  Folio__V1__SubmitLayoutRequest rq = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  rq.layout_json.data = (uint8_t *)(uintptr_t)layout;
  rq.layout_json.len = len;
  rq.n_formats = 2;
  rq.formats = fmts;
  Folio__V1__SubmitLayoutResponse *resp;
  struct folio_client_error err;
  if (folio_client_submit(c, &rq, &resp, &err) != 0) die("submit:", err.message);
  snprintf(id, 64, "%s", resp->job_id);
  folio_client_free(resp);
  return 0;
}

/* The worker's stage timers of job id from its log ("job succeeded"). */
struct wstages {
  double claim, render, upload_wait, commit;
  bool found;
};

static double num_after(const char *line, const char *key) {
  const char *p = strstr(line, key);
  return p ? strtod(p + strlen(key), NULL) : -1;
}

static struct wstages worker_stages(const char *log, const char *id) {
  struct wstages w = {0};
  if (!log) return w;
  FILE *f = fopen(log, "r");
  if (!f) return w;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    if (!strstr(line, "\"job succeeded\"") || !strstr(line, id)) continue;
    w.claim = num_after(line, "\"ms_claim\":");
    w.render = num_after(line, "\"ms_render\":");
    w.upload_wait = num_after(line, "\"ms_upload_wait\":");
    w.commit = num_after(line, "\"ms_commit\":");
    w.found = w.claim >= 0 && w.render >= 0;
  }
  fclose(f);
  return w;
}

static int run_timeline(const char *addr, const char *key, const char *layout_path, int jobs,
                        const char *dburl, const char *wlog) {
  size_t len;
  char *layout = read_file(layout_path, &len);
  struct folio_client_config cfg = {.addr = addr, .api_key = key, .timeout_ms = 30000};
  struct folio_client *c;
  struct folio_client_error err;
  if (folio_client_connect(&cfg, &c, &err) != 0) die("connect:", err.message);
  PGconn *pg = PQconnectdb(dburl);
  if (PQstatus(pg) != CONNECTION_OK) die("database:", PQerrorMessage(pg));
  /* steps, ms */
  struct samples e2e = {0}, commit = {0}, reply = {0}, to_claim = {0}, run = {0}, to_seen = {0},
                 w_claim = {0}, w_render = {0}, w_upw = {0}, w_commit = {0};
  struct samples alone = {0}, w_only = {0};
  render_once(layout, len); /* warm-up */
  char (*ids)[64] = calloc((size_t)jobs, sizeof *ids);
  int64_t *t_send = calloc((size_t)jobs, sizeof *t_send), *t_reply = calloc((size_t)jobs, sizeof *t_reply),
          *t_done = calloc((size_t)jobs, sizeof *t_done);
  if (!ids || !t_send || !t_reply || !t_done) die("out of memory", "");
  for (int j = 0; j < jobs; j++) {
    /* the render alone, in this process, right before each job: both meet
     * the same machine load */
    push(&alone, render_once(layout, len).all);
    t_send[j] = now_ns(CLOCK_REALTIME) / 1000;
    submit(c, layout, len, ids[j]);
    t_reply[j] = now_ns(CLOCK_REALTIME) / 1000;
    struct watch w = {0};
    Folio__V1__Job *last;
    if (folio_client_watch(c, ids[j], on_job, &w, &last, &err) != 0) die("watch:", err.message);
    if (last->state != FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED) die("job did not succeed:", ids[j]);
    folio_client_free(last);
    t_done[j] = w.done_us;
  }
  for (int j = 0; j < jobs; j++) {
    const char *p[1] = {ids[j]};
    PGresult *r = PQexecParams(pg,
                               "SELECT (extract(epoch FROM created_at) * 1e6)::bigint,"
                               " (extract(epoch FROM started_at) * 1e6)::bigint,"
                               " (extract(epoch FROM finished_at) * 1e6)::bigint"
                               " FROM jobs WHERE id = $1::uuid",
                               1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) die("jobs row:", PQerrorMessage(pg));
    int64_t created = strtoll(PQgetvalue(r, 0, 0), NULL, 10),
            started = strtoll(PQgetvalue(r, 0, 1), NULL, 10),
            finished = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    PQclear(r);
    push(&e2e, (double)(t_done[j] - t_send[j]) / 1e3);
    push(&commit, (double)(created - t_send[j]) / 1e3);
    push(&reply, (double)(t_reply[j] - created) / 1e3);
    push(&to_claim, (double)(started - t_reply[j]) / 1e3);
    push(&run, (double)(finished - started) / 1e3);
    push(&to_seen, (double)(t_done[j] - finished) / 1e3);
    struct wstages ws = worker_stages(wlog, ids[j]);
    if (ws.found) {
      push(&w_claim, ws.claim);
      push(&w_render, ws.render);
      push(&w_upw, ws.upload_wait);
      push(&w_commit, ws.commit);
      push(&w_only, ws.render - ws.upload_wait);
    }
  }
  PQfinish(pg);
  folio_client_close(c);
  printf("timeline jobs=%d render_alone_p50_ms=%.2f w_render_only_p50_ms=%.2f e2e_p50_ms=%.2f submit_to_row_p50_ms=%.2f row_to_reply_p50_ms=%.2f "
         "reply_to_claimed_p50_ms=%.2f claimed_to_finished_p50_ms=%.2f "
         "finished_to_watcher_p50_ms=%.2f worker_jobs=%zu w_claim_p50_ms=%.2f "
         "w_render_p50_ms=%.2f w_upload_wait_p50_ms=%.2f w_commit_p50_ms=%.2f\n",
         jobs, p50(&alone), p50(&w_only), p50(&e2e), p50(&commit), p50(&reply), p50(&to_claim), p50(&run), p50(&to_seen),
         w_claim.n, p50(&w_claim), p50(&w_render), p50(&w_upw), p50(&w_commit));
  free(e2e.v), free(commit.v), free(reply.v), free(to_claim.v), free(run.v), free(to_seen.v);
  free(w_claim.v), free(w_render.v), free(w_upw.v), free(w_commit.v), free(alone.v), free(w_only.v);
  free(ids), free(t_send), free(t_reply), free(t_done);
  free(layout);
  return 0;
}

/* ---- batch: many jobs, wall time ---------------------------------------------------- */

static int run_batch(const char *addr, const char *key, const char *layout_path, int jobs) {
  size_t len;
  char *layout = read_file(layout_path, &len);
  struct folio_client_config cfg = {.addr = addr, .api_key = key, .timeout_ms = 600000};
  struct folio_client *c;
  struct folio_client_error err;
  if (folio_client_connect(&cfg, &c, &err) != 0) die("connect:", err.message);
  char (*ids)[64] = calloc((size_t)jobs, sizeof *ids);
  if (!ids) die("out of memory", "");
  int64_t t0 = now_ns(CLOCK_MONOTONIC);
  for (int j = 0; j < jobs; j++) submit(c, layout, len, ids[j]);
  double submitted_s = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
  int failed = 0;
  for (int j = 0; j < jobs; j++) {
    struct watch w = {0};
    Folio__V1__Job *last;
    if (folio_client_watch(c, ids[j], on_job, &w, &last, &err) != 0) die("watch:", err.message);
    if (last->state != FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED) failed++;
    folio_client_free(last);
  }
  double wall = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
  folio_client_close(c);
  printf("batch jobs=%d failed=%d submitted_s=%.2f wall_s=%.2f jobs_per_s=%.1f\n", jobs, failed,
         submitted_s, wall, jobs / wall);
  free(ids);
  free(layout);
  return failed ? 1 : 0;
}

int main(int argc, char **argv) {
  if (sodium_init() < 0) die("sodium_init", "");
  if (argc == 5 && strcmp(argv[1], "render") == 0 && strcmp(argv[4], "mmap256k") == 0) {
    /* folio-worker's render processes' former malloc policy (before issue
     * 16): every allocation from 256 KiB up on its own mapping, returned at
     * free, so faulted in afresh by the next render */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    return run_render(argv[2], atoi(argv[3]));
  }
  if (argc == 4 && strcmp(argv[1], "render") == 0) return run_render(argv[2], atoi(argv[3]));
  if ((argc == 7 || argc == 8) && strcmp(argv[1], "timeline") == 0)
    return run_timeline(argv[2], argv[3], argv[4], atoi(argv[5]), argv[6], argc == 8 ? argv[7] : NULL);
  if (argc == 6 && strcmp(argv[1], "batch") == 0)
    return run_batch(argv[2], argv[3], argv[4], atoi(argv[5]));
  fputs("usage: bench_e2e render LAYOUT N [mmap256k]\n"
        "       bench_e2e timeline ADDR KEY LAYOUT JOBS DATABASE_URL [WORKER_LOG]\n"
        "       bench_e2e batch ADDR KEY LAYOUT JOBS\n",
        stderr);
  return 2;
}
