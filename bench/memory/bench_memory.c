/* Does a render process's memory stay flat over many jobs? A direct driver
 * of what folio-worker's render process does for each one-page PDF+PNG job
 * (worker/job.c render_with): decode the layout JSON into a fresh document,
 * render the PDF and then the PNG pages with the process's one
 * struct folio_render_context (font maps, surfaces and encoder buffers kept
 * between jobs), stream every byte into a sink that hashes it (as the S3
 * sink does), free the document. The allocator is set up as the render
 * process sets it up (M_MMAP_THRESHOLD 256 KiB). What it leaves out: the
 * Redis, PostgreSQL and S3 clients and the heartbeat thread, whose memory is
 * per job and tested by the worker's own tests; the full pipeline would take
 * hours for 10,000 jobs on a shared 2-core machine.
 *
 * Every job's text differs (the job number is written into the heading), so
 * nothing is served from a cache a repeat would hit. RSS (/proc/self/statm)
 * is sampled every SAMPLE jobs; after the warm-up (the first 10 %), a least
 * squares line through the samples gives the slope in KiB per 1,000 jobs.
 *
 * usage: bench_render_memory LAYOUT.json [JOBS=10000] [DPI=150] [SAMPLE=250] */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folio/layout.h"
#include "folio/render.h"

static uint64_t hash_state = 1469598103934665603ull;
static int sink(void *ctx, const unsigned char *d, size_t n) {
  (void)ctx;
  uint64_t h = hash_state; /* FNV-1a over a sample: touches every piece like the S3 sink's SHA-256 */
  for (size_t i = 0; i < n; i += 64) h = (h ^ d[i]) * 1099511628211ull;
  hash_state = h;
  return 0;
}
static int page_begin(void *ctx, size_t page, folio_render_write_fn *w, void **wctx) {
  (void)ctx, (void)page;
  *w = sink;
  *wctx = NULL;
  return 0;
}

static double rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
    fclose(f);
  }
  return (double)res * (double)sysconf(_SC_PAGESIZE) / 1024.0;
}

/* Least-squares slope of ys over xs for the samples with xs > from_x. */
static double slope_after(const double *xs, const double *ys, long ns, double from_x) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
  for (long i = 0; i < ns; i++)
    if (xs[i] > from_x) sx += xs[i], sy += ys[i], sxx += xs[i] * xs[i], sxy += xs[i] * ys[i], m++;
  return m > 1 ? (m * sxy - sx * sy) / (m * sxx - sx * sx) : 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s LAYOUT.json [JOBS] [DPI] [SAMPLE]\n", argv[0]);
    return 2;
  }
  long jobs = argc > 2 ? atol(argv[2]) : 10000;
  unsigned dpi = argc > 3 ? (unsigned)atoi(argv[3]) : 150;
  long sample = argc > 4 ? atol(argv[4]) : 250;
  if (jobs < 20 || sample < 1) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *json = malloc((size_t)n + 1);
  if (!json || fread(json, 1, (size_t)n, f) != (size_t)n) return 1;
  fclose(f);
  json[n] = 0;
  /* the job number goes where the heading says "rendering benchmark" (8 digits) */
  char *mark = strstr(json, "rendering benchmark");
  if (!mark) return fprintf(stderr, "%s: no \"rendering benchmark\" heading to vary\n", argv[1]), 1;

  mallopt(M_MMAP_THRESHOLD, 256 * 1024); /* as worker/render_proc.c */
  struct folio_render_context *ctx = folio_render_context_new();
  if (!ctx) return 1;
  long nsamples = jobs / sample + 1;
  double *xs = calloc((size_t)nsamples, sizeof *xs), *ys = calloc((size_t)nsamples, sizeof *ys);
  long ns = 0;
  double t0 = now_s(), peak = 0;
  printf("  jobs  RSS KiB   (one-page PDF+PNG at %u dpi, one render context, %s)\n", dpi, argv[1]);
  for (long j = 1; j <= jobs; j++) {
    char num[32];
    snprintf(num, sizeof num, "job %08ld  benchmark", j % 100000000);
    memcpy(mark, num, strlen("rendering benchmark"));
    struct folio_layout_doc *doc;
    struct folio_layout_diag ld = {0};
    if (folio_layout_decode(json, (size_t)n, NULL, &doc, &ld)) return fprintf(stderr, "invalid layout\n"), 1;
    size_t first = 0;
    struct folio_render_options opt = {.pages = &first, .n_pages = 1, .dpi = dpi, .context = ctx};
    struct folio_render_diag diag = {0};
    if (folio_render_pdf(doc, &opt, sink, NULL, &diag) || folio_render_png(doc, &opt, page_begin, NULL, NULL, &diag))
      return fprintf(stderr, "job %ld: %s\n", j, diag.message), 1;
    folio_layout_doc_free(doc);
    if (j % sample == 0) {
      double r = rss_kib();
      if (r > peak) peak = r;
      xs[ns] = (double)j, ys[ns] = r, ns++;
      if (j % (sample * 8) == 0 || j == jobs)
        printf("%6ld %8.0f   slope so far %+.1f KiB per 1,000 jobs\n", j, r,
               1000 * slope_after(xs, ys, ns, (double)jobs / 10)),
            fflush(stdout);
    }
  }
  double secs = now_s() - t0;
  /* least squares after the warm-up */
  double slope = slope_after(xs, ys, ns, (double)jobs / 10);
  long from = 0;
  while (from < ns && xs[from] <= (double)jobs / 10) from++;
  double lo = 1e18, hi = 0;
  for (long i = from; i < ns; i++) lo = ys[i] < lo ? ys[i] : lo, hi = ys[i] > hi ? ys[i] : hi;
  if (from >= ns) lo = hi = 0; /* too few samples */
  printf("\n%ld jobs in %.0f s (%.1f ms a job); RSS after warm-up (%ld jobs): %.0f..%.0f KiB, peak %.0f KiB\n", jobs,
         secs, secs * 1000 / (double)jobs, jobs / 10, lo, hi, peak);
  printf("RSS slope after warm-up: %+.1f KiB per 1,000 jobs (flat: |slope| < 64 KiB per 1,000 jobs)\n", slope * 1000);
  printf("(output hash %016llx)\n", (unsigned long long)hash_state);
  free(xs), free(ys), free(json);
  folio_render_context_free(ctx);
  return 0;
}
