/* PNG encoding cost of one rasterized page: folio's encoder (Up filter,
 * libdeflate level 1) against cairo's own PNG writer (libpng, zlib default) on
 * the same pixels, plus the rasterization itself for scale. Prints ms per page
 * and the ratio. usage: bench_render_png LAYOUT.json [DPI] [REPEAT] */
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "folio/layout.h"
#include "folio/render.h"
#include "render_int.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
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

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s LAYOUT.json [DPI] [REPEAT]\n", argv[0]);
    return 2;
  }
  unsigned dpi = argc > 2 ? (unsigned)atoi(argv[2]) : 150;
  int rep = argc > 3 ? atoi(argv[3]) : 5;
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

  struct folio_painter p;
  struct folio_render_diag diag;
  struct folio_guard guard;
  folio_guard_init(&guard, NULL);
  struct folio_image_cache *images = folio_image_cache_new(doc, guard.budget.image_cache_bytes);
  if (!images || folio_painter_init(&p, doc, false, images, &guard, &diag)) return 1;
  const struct folio_page *pg = &doc->pages[0];
  int w = (int)(pg->width * dpi / 72 + 0.5), h = (int)(pg->height * dpi / 72 + 0.5);
  double t_raster = 1e9, t_ours = 1e9, t_cairo = 1e9;
  size_t sz_ours = 0, sz_cairo = 0;
  cairo_surface_t *s = NULL;
  struct folio_png_scratch scratch = {0}; /* kept between pages, as the rasterizing threads do */
  for (int r = 0; r < rep; r++) {
    if (s) cairo_surface_destroy(s);
    s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    double t0 = now_ms();
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, (double)w / pg->width, (double)h / pg->height);
    folio_paint_page(&p, cr, 0, &diag);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    double t1 = now_ms();
    total = 0;
    folio_png_encode_with(&scratch, cairo_image_surface_get_data(s), (unsigned)w, (unsigned)h,
                          (size_t)cairo_image_surface_get_stride(s), dpi, count_write, NULL);
    double t2 = now_ms();
    sz_ours = total;
    total = 0;
    cairo_surface_write_to_png_stream(s, cairo_count, NULL);
    double t3 = now_ms();
    sz_cairo = total;
    if (t1 - t0 < t_raster) t_raster = t1 - t0;
    if (t2 - t1 < t_ours) t_ours = t2 - t1;
    if (t3 - t2 < t_cairo) t_cairo = t3 - t2;
  }
  cairo_surface_destroy(s);
  folio_png_scratch_free(&scratch);
  folio_painter_fini(&p);
  folio_image_cache_free(images);
  folio_layout_doc_free(doc);
  printf("page 1 at %u dpi (%dx%d), best of %d:\n", dpi, w, h, rep);
  printf("  rasterize (cairo/pango)        %8.1f ms\n", t_raster);
  printf("  encode, folio (Up+libdeflate2) %8.1f ms  %8zu bytes\n", t_ours, sz_ours);
  printf("  encode, cairo (libpng/zlib)    %8.1f ms  %8zu bytes\n", t_cairo, sz_cairo);
  printf("  encoder speed-up: %.1fx (target: folio <= 40 ms per A4 page at 150 dpi)\n", t_cairo / t_ours);
  return 0;
}
