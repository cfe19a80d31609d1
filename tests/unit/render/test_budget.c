/* The renderer's budgets: the image cache stays within image_cache_bytes and
 * decodes again after an eviction; a PNG bomb stops the render with E_LIMIT
 * instead of being inflated; long unbreakable words lay out in linear time;
 * the cancel hook is asked between the steps of text fitting; the CPU limit
 * ends a render with E_LIMIT naming cpu_ms. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "bombs.h"
#include "model.h"
#include "render_int.h"
#include "testbuf.h"

static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct folio_item tm_image(size_t index, const struct folio_asset *a) {
  struct folio_item it = {.kind = FOLIO_ITEM_IMAGE, .index = index, .opacity = 1, .x = 10, .y = 10, .w = 50, .h = 50};
  it.u.image.asset = a;
  return it;
}

static int png_page_begin(void *ctx, size_t page, folio_render_write_fn *write, void **wctx) {
  (void)page;
  *write = buf_write;
  *wctx = ctx;
  return 0;
}

/* Four 200x200 pictures (160 KB decoded each) under a budget of 2.5 of them:
 * the cache never holds more than the budget, and a picture evicted is
 * decoded again when it is painted again. */
static void test_cache(void) {
  struct folio_asset as[4];
  static const char *names[4] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; i++) as[i] = tm_png_asset(names[i], 200, 200);
  struct folio_layout_doc d = {.version = 1, .assets = as, .n_assets = 4};
  const size_t one = 200 * 200 * 4, budget = one * 5 / 2;
  struct folio_guard guard;
  folio_guard_init(&guard, NULL);
  struct folio_image_cache *c = folio_image_cache_new(&d, budget);
  struct folio_painter p;
  struct folio_render_diag diag = {0};
  CHECK_EQ_INT(folio_painter_init(&p, &d, false, c, &guard, &diag), 0);
  static const int order[] = {0, 1, 0, 1, 2, 3, 0, 0, 1};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    cairo_surface_t *s = folio_painter_image(&p, &as[order[i]], &diag);
    CHECK_MSG(s, "%s", diag.message);
    CHECK_EQ_INT(cairo_image_surface_get_width(s), 200);
    cairo_surface_destroy(s);
  }
  size_t held, peak, decodes;
  folio_image_cache_stats(c, &held, &peak, &decodes);
  CHECK_MSG(peak <= budget && held <= budget, "held %zu peak %zu budget %zu", held, peak, budget);
  /* a b, a b (hits), c evicts a, d evicts b, a evicts c, a (hit), b evicts d */
  CHECK_MSG(decodes == 6, "decodes %zu", decodes);
  /* a budget smaller than one picture: nothing is kept, each use decodes */
  folio_painter_fini(&p);
  folio_image_cache_free(c);
  c = folio_image_cache_new(&d, one / 2);
  CHECK_EQ_INT(folio_painter_init(&p, &d, false, c, &guard, &diag), 0);
  for (int i = 0; i < 3; i++) {
    cairo_surface_t *s = folio_painter_image(&p, &as[0], &diag);
    CHECK(s);
    cairo_surface_destroy(s);
  }
  folio_image_cache_stats(c, &held, &peak, &decodes);
  CHECK_MSG(peak == 0 && decodes == 3, "peak %zu decodes %zu", peak, decodes);
  folio_painter_fini(&p);
  folio_image_cache_free(c);

  /* a whole PNG render (2 threads, pages alternating pictures) under the budget */
  struct folio_item items[4] = {tm_image(0, &as[0]), tm_image(1, &as[1]), tm_image(0, &as[2]), tm_image(1, &as[3])};
  struct folio_page pg[2] = {{.width = 100, .height = 100, .items = items, .n_items = 2},
                             {.width = 100, .height = 100, .items = items + 2, .n_items = 2}};
  d.pages = pg;
  d.n_pages = 2;
  struct folio_render_budget b;
  folio_render_budget_default(&b);
  b.image_cache_bytes = budget;
  struct folio_render_options opt = {.dpi = 36, .threads = 2, .budget = &b};
  struct buf out = {0};
  CHECK_MSG(folio_render_png(&d, &opt, png_page_begin, NULL, &out, &diag) == 0, "%s", diag.message);
  CHECK(out.len > 0);
  free(out.p);
  out = (struct buf){0};
  CHECK_MSG(folio_render_pdf(&d, &opt, buf_write, &out, &diag) == 0, "%s", diag.message);
  free(out.p);
  for (int i = 0; i < 4; i++) free((void *)(uintptr_t)as[i].data);
}

/* A model whose asset bypassed the layout decoder: a 1x1 PNG with 2 GiB of
 * zeros after its row. The renderer's decoder refuses it (E_LIMIT) at once. */
static void test_render_bomb(void) {
  size_t n;
  unsigned char *p = bomb_png(1, 1, 2048, 0, 0, &n);
  struct folio_asset a = {.name = "bomb", .type = FOLIO_ASSET_PNG, .data = p, .size = n, .width = 1, .height = 1};
  struct folio_item it = tm_image(0, &a);
  struct folio_page pg = {.width = 100, .height = 100, .items = &it, .n_items = 1};
  struct folio_layout_doc d = {.version = 1, .assets = &a, .n_assets = 1, .pages = &pg, .n_pages = 1};
  struct folio_render_diag diag = {0};
  struct buf out = {0};
  double t0 = cpu_s();
  int rc = folio_render_pdf(&d, NULL, buf_write, &out, &diag);
  double t1 = cpu_s();
  CHECK_MSG(rc == FOLIO_RENDER_E_LIMIT && strstr(diag.message, "after the last row") &&
                strstr(diag.message, "/pages/0/items/0"),
            "rc %d: %s", rc, diag.message);
  CHECK_MSG(t1 - t0 < 1.0, "the bomb was inflated: %.2f s of CPU", t1 - t0);
  free(out.p);
  free(p);
}

static char *long_word(size_t n) {
  char *s = malloc(n + 1);
  CHECK(s);
  for (size_t i = 0; i < n; i++) s[i] = (char)('a' + i % 26);
  s[n] = 0;
  return s;
}

/* 16,000 characters without a break opportunity in a 100 pt column: pango's
 * own character breaking takes ~15 s of CPU for it (quadratic); with the
 * inserted break opportunities, a fraction of a second. The text layout maps
 * its offsets back to the item's text. */
static void test_long_word(void) {
  char *w = long_word(16000);
  struct folio_run r = tm_run(w, 12);
  struct folio_item it = tm_text(0, 10, 10, 100, 20000, &r, 1, FOLIO_OVERFLOW_CLIP);
  struct folio_page pg = {.width = 200, .height = 200, .items = &it, .n_items = 1};
  struct folio_layout_doc d = {.version = 1, .pages = &pg, .n_pages = 1};
  PangoFontMap *fm = pango_cairo_font_map_new();
  PangoContext *pc = pango_font_map_create_context(fm);
  double t0 = cpu_s();
  PangoLayout *lay = folio_text_layout(pc, &it, 1.0);
  PangoRectangle lr;
  pango_layout_get_extents(lay, NULL, &lr);
  double t1 = cpu_s();
  CHECK_MSG(t1 - t0 < 3.0, "a long word took %.2f s of CPU to lay out", t1 - t0);
  CHECK_MSG(pango_layout_get_line_count(lay) > 100, "%d lines", pango_layout_get_line_count(lay));
  int len = (int)strlen(pango_layout_get_text(lay));
  CHECK_MSG(len > 16000, "no break opportunities inserted (%d bytes)", len);
  CHECK_EQ_INT((int)folio_text_source_offset(lay, (size_t)len), 16000);
  CHECK_EQ_INT((int)folio_text_source_offset(lay, 1), 1);
  CHECK_EQ_INT((int)folio_text_source_offset(lay, 4), 1); /* 'a' U+200B 'b' U+200B 'c' */
  CHECK_EQ_INT((int)folio_text_source_offset(lay, 8), 2);
  g_object_unref(lay);
  /* a word of 64 characters is left to pango */
  w[64] = 0;
  r = tm_run(w, 12);
  lay = folio_text_layout(pc, &it, 1.0);
  CHECK_EQ_INT((int)strlen(pango_layout_get_text(lay)), 64);
  g_object_unref(lay);
  g_object_unref(pc);
  g_object_unref(fm);
  /* and the SLA writer's font spans stay within the item's text */
  w[64] = 'm';
  r = tm_run(w, 12);
  struct buf out = {0};
  struct folio_render_diag diag = {0};
  CHECK_MSG(folio_render_sla(&d, NULL, buf_write, &out, &diag) == 0, "%s", diag.message);
  CHECK(out.len > 16000);
  free(out.p);
  free(w);
}

static atomic_int asked;
static int cancel_third(void *ctx) {
  (void)ctx;
  return atomic_fetch_add(&asked, 1) + 1 >= 3;
}

/* The cancel hook is asked between the layouts of one shrinking item: the
 * render stops inside the item's fitting, on the third question. */
static void test_cancel_inside_fitting(void) {
  char *w = long_word(3000);
  struct folio_run r = tm_run(w, 12);
  struct folio_item it = tm_text(0, 10, 10, 100, 30, &r, 1, FOLIO_OVERFLOW_SHRINK);
  struct folio_page pg = {.width = 200, .height = 200, .items = &it, .n_items = 1};
  struct folio_layout_doc d = {.version = 1, .pages = &pg, .n_pages = 1};
  struct folio_render_options opt = {.cancel = cancel_third};
  struct folio_render_diag diag = {0};
  struct buf out = {0};
  atomic_store(&asked, 0);
  int rc = folio_render_pdf(&d, &opt, buf_write, &out, &diag);
  CHECK_MSG(rc == FOLIO_RENDER_E_CANCELLED, "rc %d: %s", rc, diag.message);
  /* once before the item, twice inside the fitting */
  CHECK_EQ_INT(atomic_load(&asked), 3);
  CHECK_EQ_STR(diag.pointer, "/pages/0/items/0");
  free(out.p);
  /* the budget of layouts: the minimum (3) still renders, coarser */
  struct folio_render_budget b;
  folio_render_budget_default(&b);
  b.max_text_layouts = 3;
  struct folio_render_options o2 = {.budget = &b};
  out = (struct buf){0};
  CHECK_MSG(folio_render_pdf(&d, &o2, buf_write, &out, &diag) == 0, "%s", diag.message);
  free(out.p);
  free(w);
}

/* The CPU limit: a page of shrinking texts with cpu_ms = 50 ends E_LIMIT. */
static void test_cpu_limit(void) {
  char *w = long_word(4000);
  struct folio_run r = tm_run(w, 12);
  struct folio_item items[40];
  for (size_t i = 0; i < 40; i++) items[i] = tm_text(i, 10, 10, 100, 30, &r, 1, FOLIO_OVERFLOW_SHRINK);
  struct folio_page pg = {.width = 200, .height = 200, .items = items, .n_items = 40};
  struct folio_layout_doc d = {.version = 1, .pages = &pg, .n_pages = 1};
  struct folio_render_budget b;
  folio_render_budget_default(&b);
  b.cpu_ms = 50;
  struct folio_render_options opt = {.budget = &b, .dpi = 36, .threads = 2};
  struct folio_render_diag diag = {0};
  struct buf out = {0};
  double t0 = cpu_s();
  int rc = folio_render_png(&d, &opt, png_page_begin, NULL, &out, &diag);
  double t1 = cpu_s();
  CHECK_MSG(rc == FOLIO_RENDER_E_LIMIT && strstr(diag.message, "cpu_ms = 50"), "rc %d: %s", rc, diag.message);
  CHECK_MSG(t1 - t0 < 5.0, "stopped only after %.2f s of CPU", t1 - t0);
  free(out.p);
  out = (struct buf){0};
  rc = folio_render_sla(&d, &opt, buf_write, &out, &diag);
  CHECK_MSG(rc == FOLIO_RENDER_E_LIMIT && strstr(diag.message, "cpu_ms = 50"), "rc %d: %s", rc, diag.message);
  free(out.p);
  free(w);
}

int main(void) {
  test_cache();
  test_render_bomb();
  test_long_word();
  test_cancel_inside_fitting();
  test_cpu_limit();
  return check_done();
}
