/* One A4 page at 150 dpi, three ways, in one run (bench/render/run.sh):
 *
 *  1. the PNG encoder alone on one rasterized page: folio's (Up filter +
 *     zlib level 1 in pieces) against cairo's own PNG writer (libpng, zlib 6), plus
 *     the rasterization itself for scale (the figures bench/render always had);
 *  2. the whole PNG path against cairo's: baseline = rasterize the page with
 *     folio's painter and cairo_surface_write_to_png_stream it (cairo's own
 *     path for the same page), folio = folio_render_png with a render context
 *     (font maps and buffers kept, as folio-worker does) on 1 thread and on
 *     the default threads; ratio against the 0.15 target;
 *  3. PDF + PNG of the page with a render context (folio-worker's render
 *     calls for a one-page PDF+PNG job): run.sh runs this under taskset -c 0
 *     for the one-core figure (target 20 ms).
 *
 * Wall time (CLOCK_MONOTONIC) and CPU time of the process (every thread,
 * CLOCK_PROCESS_CPUTIME_ID), medians of REPEAT runs after one warm-up run.
 * On a shared machine the CPU time is the steadier figure.
 *
 * usage: bench_render_png LAYOUT.json [DPI] [REPEAT] [encoder|png|pdfpng|all] */
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "folio/layout.h"
#include "folio/render.h"
#include "render_int.h"

static double ms(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t total;
static int count_write(void *ctx, const unsigned char *d, size_t n) {
  (void)ctx, (void)d;
  total += n;
  return 0;
}
static cairo_status_t cairo_count(void *ctx, const unsigned char *d, unsigned n) {
  (void)ctx, (void)d;
  total += n;
  return CAIRO_STATUS_SUCCESS;
}
static int page_begin(void *ctx, size_t page, folio_render_write_fn *w, void **wctx) {
  (void)ctx, (void)page;
  *w = count_write;
  *wctx = NULL;
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct timing {
  double wall, cpu;
  size_t bytes;
};

static const struct folio_layout_doc *g_doc;
static unsigned g_dpi;

/* cairo's own path: rasterize with a painter on a fresh surface, then cairo's PNG writer. */
static struct folio_painter g_painter;
static void run_cairo_path(void) {
  const struct folio_page *pg = &g_doc->pages[0];
  int w = (int)(pg->width * g_dpi / 72 + 0.5), h = (int)(pg->height * g_dpi / 72 + 0.5);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_scale(cr, (double)w / pg->width, (double)h / pg->height);
  struct folio_render_diag diag;
  folio_paint_page(&g_painter, cr, 0, &diag);
  cairo_destroy(cr);
  cairo_surface_write_to_png_stream(s, cairo_count, NULL);
  cairo_surface_destroy(s);
}

static struct folio_render_context *g_ctx;
static unsigned g_threads;
static void run_folio_png(void) {
  size_t one = 0;
  struct folio_render_options o = {.pages = &one, .n_pages = 1, .dpi = g_dpi, .threads = g_threads, .context = g_ctx};
  if (folio_render_png(g_doc, &o, page_begin, NULL, NULL, NULL)) abort();
}
static void run_folio_pdfpng(void) {
  size_t one = 0;
  struct folio_render_options o = {.pages = &one, .n_pages = 1, .dpi = g_dpi, .threads = 1, .context = g_ctx};
  if (folio_render_pdf(g_doc, &o, count_write, NULL, NULL)) abort();
  if (folio_render_png(g_doc, &o, page_begin, NULL, NULL, NULL)) abort();
}

static struct timing timed(void (*fn)(void), int rep) {
  double wall[64], cpu[64];
  if (rep > 64) rep = 64;
  fn(); /* warm-up: font maps, glyph caches, kept buffers */
  struct timing t = {0};
  for (int r = 0; r < rep; r++) {
    total = 0;
    double w0 = ms(CLOCK_MONOTONIC), c0 = ms(CLOCK_PROCESS_CPUTIME_ID);
    fn();
    wall[r] = ms(CLOCK_MONOTONIC) - w0;
    cpu[r] = ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    t.bytes = total;
  }
  t.wall = median(wall, rep);
  t.cpu = median(cpu, rep);
  return t;
}

static void encoder_only(const struct folio_layout_doc *doc, unsigned dpi, int rep) {
  const struct folio_page *pg = &doc->pages[0];
  int w = (int)(pg->width * dpi / 72 + 0.5), h = (int)(pg->height * dpi / 72 + 0.5);
  double t_raster = 1e9, t_ours = 1e9, t_cairo = 1e9;
  size_t sz_ours = 0, sz_cairo = 0;
  cairo_surface_t *s = NULL;
  struct folio_png_scratch scratch = {0}; /* kept between pages, as the rasterizing threads do */
  struct folio_render_diag diag;
  for (int r = 0; r < rep; r++) {
    if (s) cairo_surface_destroy(s);
    s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    double t0 = ms(CLOCK_MONOTONIC);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, (double)w / pg->width, (double)h / pg->height);
    folio_paint_page(&g_painter, cr, 0, &diag);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    double t1 = ms(CLOCK_MONOTONIC);
    total = 0;
    folio_png_encode_with(&scratch, cairo_image_surface_get_data(s), (unsigned)w, (unsigned)h,
                          (size_t)cairo_image_surface_get_stride(s), dpi, 1, count_write, NULL);
    double t2 = ms(CLOCK_MONOTONIC);
    sz_ours = total;
    total = 0;
    cairo_surface_write_to_png_stream(s, cairo_count, NULL);
    double t3 = ms(CLOCK_MONOTONIC);
    sz_cairo = total;
    if (t1 - t0 < t_raster) t_raster = t1 - t0;
    if (t2 - t1 < t_ours) t_ours = t2 - t1;
    if (t3 - t2 < t_cairo) t_cairo = t3 - t2;
  }
  cairo_surface_destroy(s);
  folio_png_scratch_free(&scratch);
  printf("encoder alone, page 1 at %u dpi (%dx%d), best of %d:\n", dpi, w, h, rep);
  printf("  rasterize (cairo/pango)          %8.1f ms\n", t_raster);
  printf("  encode, folio (Up + zlib 1, pieces) %5.1f ms  %8zu bytes\n", t_ours, sz_ours);
  printf("  encode, cairo (libpng/zlib)      %8.1f ms  %8zu bytes\n", t_cairo, sz_cairo);
  printf("  encoder speed-up: %.1fx (target: folio <= 40 ms per A4 page at 150 dpi)\n", t_cairo / t_ours);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s LAYOUT.json [DPI] [REPEAT] [encoder|png|pdfpng|all]\n", argv[0]);
    return 2;
  }
  unsigned dpi = argc > 2 ? (unsigned)atoi(argv[2]) : 150;
  int rep = argc > 3 ? atoi(argv[3]) : 5;
  const char *mode = argc > 4 ? argv[4] : "all";
  bool all = strcmp(mode, "all") == 0;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *json = malloc((size_t)n);
  if (fread(json, 1, (size_t)n, f) != (size_t)n) return 1;
  fclose(f);
  struct folio_layout_doc *doc;
  struct folio_layout_diag ld = {0};
  if (folio_layout_decode(json, (size_t)n, NULL, &doc, &ld)) return fprintf(stderr, "invalid layout\n"), 1;
  free(json);
  g_doc = doc;
  g_dpi = dpi;
  g_ctx = folio_render_context_new();

  struct folio_render_diag diag;
  struct folio_guard guard;
  folio_guard_init(&guard, NULL);
  struct folio_image_cache *images = folio_image_cache_new(doc, guard.budget.image_cache_bytes);
  if (!g_ctx || !images || folio_painter_init(&g_painter, doc, false, images, &guard, &diag)) return 1;

  if (all || strcmp(mode, "encoder") == 0) encoder_only(doc, dpi, rep);
  if (all || strcmp(mode, "png") == 0) {
    struct timing base = timed(run_cairo_path, rep);
    size_t base_bytes = base.bytes;
    g_threads = 1;
    struct timing one = timed(run_folio_png, rep);
    g_threads = 0;
    struct timing dflt = timed(run_folio_png, rep);
    printf("\none page to PNG at %u dpi, median of %d (wall ms / CPU ms / bytes):\n", dpi, rep);
    printf("  baseline: folio's painter + cairo_surface_write_to_png_stream %7.1f %7.1f %8zu\n", base.wall,
           base.cpu, base_bytes);
    printf("  folio_render_png, context, 1 thread                        %7.1f %7.1f %8zu\n", one.wall, one.cpu,
           one.bytes);
    printf("  folio_render_png, context, default threads                 %7.1f %7.1f %8zu\n", dflt.wall,
           dflt.cpu, dflt.bytes);
    printf("  ratio folio / baseline (target <= 0.15): 1 thread wall %.3f CPU %.3f; default threads wall %.3f\n",
           one.wall / base.wall, one.cpu / base.cpu, dflt.wall / base.wall);
  }
  if (all || strcmp(mode, "pdfpng") == 0) {
    struct timing t = timed(run_folio_pdfpng, rep);
    printf("\nPDF + PNG of one page (%u dpi), context, 1 rasterizing thread, median of %d:\n", dpi, rep);
    printf("  wall %.1f ms, CPU %.1f ms, %zu bytes (target: <= 20 ms on one core)\n", t.wall, t.cpu, t.bytes);
  }
  folio_painter_fini(&g_painter);
  folio_image_cache_free(images);
  folio_render_context_free(g_ctx);
  folio_layout_doc_free(doc);
  return 0;
}
