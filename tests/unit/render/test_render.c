/* The renderer on models built in C: PDF bytes are deterministic, text in
 * several scripts renders, overflow policies (clip, shrink, error with the
 * item's JSON Pointer), page lists, parallel PNG delivered in order and
 * identical to a single-threaded run, cancellation and write aborts. */
#include <cairo.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/render.h"
#include "model.h"
#include "render_int.h"
#include "testbuf.h"


/* ---- a 5-page document ---- */
static struct folio_run runs_p0[4];
static struct folio_run run_long;
static struct folio_item items_p0[7];
static struct folio_item items_more[4][2];
static struct folio_page pages[5];
static struct folio_asset assets[1];
static struct folio_layout_doc doc;

static const char *long_text =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
    "et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut "
    "aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse.";

static void build_doc(void) {
  runs_p0[0] = tm_run("Folio renderer test\n", 18);
  runs_p0[0].style.weight = 700;
  runs_p0[1] = tm_run("Кириллица: съешь же ещё этих мягких булок. ", 11);
  runs_p0[1].style.color = &tm_blue;
  runs_p0[2] = tm_run("العربية: مرحبا بالعالم. ", 11);
  runs_p0[3] = tm_run("中文：你好，世界。日本語テキスト。\xef\xbf\xbe<&\"", 11);
  run_long = tm_run(long_text, 14);
  items_p0[0] = tm_text(0, 40, 40, 515, 140, runs_p0, 4, FOLIO_OVERFLOW_CLIP);
  items_p0[0].u.text.style.align = FOLIO_ALIGN_JUSTIFY;
  items_p0[1] = (struct folio_item){.kind = FOLIO_ITEM_RECT, .index = 1, .opacity = 1, .x = 40, .y = 200,
                                    .w = 200, .h = 120, .rotation = 10};
  items_p0[1].u.shape.fill = &tm_blue;
  items_p0[1].u.shape.stroke = &tm_black;
  items_p0[1].u.shape.stroke_width = 2;
  items_p0[1].u.shape.radius = 12;
  items_p0[2] = (struct folio_item){.kind = FOLIO_ITEM_ELLIPSE, .index = 2, .opacity = 0.5, .x = 300, .y = 200,
                                    .w = 200, .h = 120};
  items_p0[2].u.shape.fill = &tm_orange;
  items_p0[3] = (struct folio_item){.kind = FOLIO_ITEM_LINE, .index = 3, .opacity = 1, .x = 40, .y = 340,
                                    .w = 515, .h = 0};
  items_p0[3].u.line.x1 = 40, items_p0[3].u.line.y1 = 340, items_p0[3].u.line.x2 = 555, items_p0[3].u.line.y2 = 340;
  items_p0[3].u.line.stroke = &tm_black;
  items_p0[3].u.line.stroke_width = 3;
  items_p0[4] = (struct folio_item){.kind = FOLIO_ITEM_IMAGE, .index = 4, .opacity = 1, .x = 40, .y = 360,
                                    .w = 240, .h = 120};
  items_p0[4].u.image.asset = &assets[0];
  items_p0[4].u.image.fit = FOLIO_FIT_CONTAIN;
  items_p0[5] = tm_text(5, 300, 360, 200, 60, &run_long, 1, FOLIO_OVERFLOW_SHRINK);
  items_p0[6] = tm_text(6, 300, 440, 200, 60, &run_long, 1, FOLIO_OVERFLOW_CLIP);
  pages[0] = (struct folio_page){.width = 595.276, .height = 841.89, .size_name = "A4", .items = items_p0, .n_items = 7};
  for (size_t i = 0; i < 4; i++) {
    items_more[i][0] = tm_text(0, 40, 40, 300, 300, &run_long, 1, FOLIO_OVERFLOW_CLIP);
    items_more[i][1] = items_p0[1];
    items_more[i][1].index = 1;
    pages[i + 1] = (struct folio_page){.width = 300 + 20.0 * (double)i, .height = 400, .items = items_more[i],
                                       .n_items = 2};
  }
  assets[0] = tm_png_asset("gradient", 64, 32);
  doc = (struct folio_layout_doc){.version = 1, .title = "Render test\xef\xb7\x90", .author = "folio tests",
                                  .assets = assets, .n_assets = 1, .pages = pages, .n_pages = 5};
}

static void test_pdf(void) {
  struct buf a = {0}, b = {0};
  struct folio_render_diag diag = {0};
  int rc = folio_render_pdf(&doc, NULL, buf_write, &a, &diag);
  CHECK_MSG(rc == 0, "%s", diag.message);
  CHECK(a.len > 1000 && memcmp(a.p, "%PDF-", 5) == 0);
  CHECK(memmem(a.p, a.len, "%%EOF", 5) != NULL);
  /* cairo 1.16 writes the date without its "D:" prefix; poppler reads it either way */
  CHECK(memmem(a.p, a.len, "20240101000000", 14) != NULL);
  CHECK(memmem(a.p, a.len, "/FontFile", 9) != NULL); /* fonts embedded */
  CHECK_EQ_INT(folio_render_pdf(&doc, NULL, buf_write, &b, &diag), 0);
  CHECK_MSG(a.len == b.len && memcmp(a.p, b.p, a.len) == 0, "two renders differ (%zu vs %zu bytes)", a.len, b.len);
  free(a.p), free(b.p);

  /* a write callback that refuses aborts the render */
  struct buf f = {.fail = 1};
  CHECK_EQ_INT(folio_render_pdf(&doc, NULL, buf_write, &f, &diag), FOLIO_RENDER_E_WRITE);
  CHECK_EQ_INT(diag.code, FOLIO_RENDER_E_WRITE);
}

static int stop_after(void *ctx, size_t done, size_t total) {
  size_t *left = ctx;
  CHECK(done <= total);
  return (*left)-- == 0;
}

static void test_cancel(void) {
  size_t left = 3;
  struct folio_render_options opt = {.progress = stop_after, .progress_ctx = &left, .dpi = 36};
  struct buf a = {0};
  struct folio_render_diag diag = {0};
  CHECK_EQ_INT(folio_render_pdf(&doc, &opt, buf_write, &a, &diag), FOLIO_RENDER_E_CANCELLED);
  free(a.p);
}

static void test_overflow(void) {
  struct folio_run r = tm_run(long_text, 14);
  struct folio_item items[2] = {
      {.kind = FOLIO_ITEM_RECT, .index = 0, .opacity = 1, .x = 0, .y = 0, .w = 10, .h = 10},
      tm_text(1, 10, 10, 100, 30, &r, 1, FOLIO_OVERFLOW_ERROR),
  };
  struct folio_page pg = {.width = 200, .height = 200, .items = items, .n_items = 2};
  struct folio_layout_doc d = {.version = 1, .pages = &pg, .n_pages = 1};
  struct buf a = {0};
  struct folio_render_diag diag = {0};
  CHECK_EQ_INT(folio_render_pdf(&d, NULL, buf_write, &a, &diag), FOLIO_RENDER_E_OVERFLOW);
  CHECK_EQ_STR(diag.pointer, "/pages/0/items/1");
  CHECK_EQ_STR(diag.message, "/pages/0/items/1: text overflows its box");
  free(a.p);

  /* shrink finds a smaller size that fits; a box that fits is left at 1 */
  struct folio_painter p;
  struct folio_guard guard;
  folio_guard_init(&guard, NULL);
  struct folio_image_cache *images = folio_image_cache_new(&d, 1 << 20);
  CHECK_EQ_INT(folio_painter_init(&p, &d, false, images, &guard, &diag), 0);
  items[1].u.text.overflow = FOLIO_OVERFLOW_SHRINK;
  double scale = 0;
  CHECK_EQ_INT(folio_text_fit(&p, &items[1], 0, &scale, &diag), 0);
  CHECK_MSG(scale > 0.1 && scale < 0.8, "scale %g", scale);
  items[1].h = 1000;
  CHECK_EQ_INT(folio_text_fit(&p, &items[1], 0, &scale, &diag), 0);
  CHECK(scale == 1.0);
  folio_painter_fini(&p);
  folio_image_cache_free(images);
}

/* ---- PNG: collects each page's bytes and the order pages arrive in ---- */
struct pngs {
  struct buf page[5];
  size_t order[5], n;
  size_t cur;
  int open;
};
static int pg_begin(void *ctx, size_t page, folio_render_write_fn *w, void **wctx) {
  struct pngs *s = ctx;
  CHECK(!s->open);
  s->open = 1;
  s->order[s->n++] = page;
  *w = buf_write;
  *wctx = &s->page[page];
  return 0;
}
static int pg_end(void *ctx, size_t page) {
  struct pngs *s = ctx;
  CHECK(s->open);
  s->open = 0;
  (void)page;
  return 0;
}


static void test_png(void) {
  struct pngs one = {0}, many = {0};
  struct folio_render_diag diag = {0};
  struct folio_render_options o1 = {.dpi = 36, .threads = 1}, o3 = {.dpi = 36, .threads = 3};
  CHECK_EQ_INT(folio_render_png(&doc, &o1, pg_begin, pg_end, &one, &diag), 0);
  CHECK_EQ_INT(folio_render_png(&doc, &o3, pg_begin, pg_end, &many, &diag), 0);
  CHECK_EQ_INT(many.n, 5);
  for (size_t i = 0; i < 5; i++) {
    CHECK_EQ_INT(many.order[i], i);
    CHECK_MSG(one.page[i].len == many.page[i].len && memcmp(one.page[i].p, many.page[i].p, one.page[i].len) == 0,
              "page %zu differs between 1 and 3 threads", i);
    cairo_surface_t *img = png_from_memory(many.page[i].p, many.page[i].len);
    CHECK_EQ_INT(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
    if (i == 0) { /* A4 at 36 dpi */
      CHECK_EQ_INT(cairo_image_surface_get_width(img), 298);
      CHECK_EQ_INT(cairo_image_surface_get_height(img), 421);
    } else {
      CHECK_EQ_INT(cairo_image_surface_get_width(img), (300 + 20 * (int)(i - 1)) / 2);
    }
    cairo_surface_destroy(img);
    free(one.page[i].p), free(many.page[i].p);
  }

  /* page list */
  size_t sel[2] = {1, 3};
  struct pngs part = {0};
  struct folio_render_options op = {.dpi = 36, .threads = 2, .pages = sel, .n_pages = 2};
  CHECK_EQ_INT(folio_render_png(&doc, &op, pg_begin, pg_end, &part, &diag), 0);
  CHECK_EQ_INT(part.n, 2);
  CHECK(part.order[0] == 1 && part.order[1] == 3);
  for (size_t i = 0; i < 5; i++) free(part.page[i].p);

  /* bad dpi and out-of-range pages are E_ARG */
  struct folio_render_options bad = {.dpi = 20};
  CHECK_EQ_INT(folio_render_png(&doc, &bad, pg_begin, pg_end, &part, &diag), FOLIO_RENDER_E_ARG);
  CHECK(strstr(diag.message, "dpi 20") != NULL);
  /* a page too large in pixels is refused before rendering */
  struct folio_page huge_page = {.width = 2000, .height = 2000};
  struct folio_layout_doc huge = {.version = 1, .pages = &huge_page, .n_pages = 1};
  struct folio_render_options hi = {.dpi = 1200};
  CHECK_EQ_INT(folio_render_png(&huge, &hi, pg_begin, pg_end, &part, &diag), FOLIO_RENDER_E_ARG);
  CHECK_MSG(strstr(diag.message, "page 1 at 1200 dpi would be 33333x33333 pixels") != NULL, "%s", diag.message);
  size_t oob[1] = {7};
  struct folio_render_options bad2 = {.pages = oob, .n_pages = 1};
  CHECK_EQ_INT(folio_render_png(&doc, &bad2, pg_begin, pg_end, &part, &diag), FOLIO_RENDER_E_ARG);

  /* cancel */
  size_t left = 0;
  struct pngs c = {0};
  struct folio_render_options oc = {.dpi = 36, .threads = 2, .progress = stop_after, .progress_ctx = &left};
  CHECK_EQ_INT(folio_render_png(&doc, &oc, pg_begin, pg_end, &c, &diag), FOLIO_RENDER_E_CANCELLED);
  for (size_t i = 0; i < 5; i++) free(c.page[i].p);
}

static void test_bad_image(void) {
  static const unsigned char junk[] = "\x89PNG\r\n\x1a\nnot really";
  struct folio_asset a = {.name = "broken", .type = FOLIO_ASSET_PNG, .data = junk, .size = sizeof junk,
                          .width = 10, .height = 10};
  struct folio_item it = {.kind = FOLIO_ITEM_IMAGE, .index = 0, .opacity = 1, .x = 0, .y = 0, .w = 50, .h = 50};
  it.u.image.asset = &a;
  struct folio_page pg = {.width = 100, .height = 100, .items = &it, .n_items = 1};
  struct folio_layout_doc d = {.version = 1, .assets = &a, .n_assets = 1, .pages = &pg, .n_pages = 1};
  struct buf b = {0};
  struct folio_render_diag diag = {0};
  CHECK_EQ_INT(folio_render_pdf(&d, NULL, buf_write, &b, &diag), FOLIO_RENDER_E_IMAGE);
  CHECK_EQ_STR(diag.pointer, "/pages/0/items/0");
  CHECK_MSG(strstr(diag.message, "asset \"broken\"") != NULL, "%s", diag.message);
  free(b.p);
}

/* Decodes the first ImageData="..." of an SLA: base64 of a 4-byte big-endian
 * length and a zlib stream (Qt's qCompress); returns the bytes (caller frees). */
static unsigned char *inline_image(const char *sla, size_t *len) {
  const char *p = strstr(sla, "ImageData=\"");
  CHECK(p != NULL);
  p += 11;
  const char *end = strchr(p, '"');
  size_t n = (size_t)(end - p), k = 0;
  unsigned char *raw = malloc(n);
  unsigned v = 0;
  int bits = 0;
  for (size_t i = 0; i < n && p[i] != '='; i++) {
    const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *c = strchr(al, p[i]);
    CHECK(c != NULL);
    v = (v << 6) | (unsigned)(c - al);
    bits += 6;
    if (bits >= 8) raw[k++] = (unsigned char)(v >> (bits -= 8));
  }
  CHECK(k > 4);
  size_t want = (size_t)raw[0] << 24 | (size_t)raw[1] << 16 | (size_t)raw[2] << 8 | raw[3];
  unsigned char *out = malloc(want);
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
  size_t got = 0;
  CHECK_EQ_INT(libdeflate_zlib_decompress(d, raw + 4, k - 4, out, want, &got), LIBDEFLATE_SUCCESS);
  libdeflate_free_decompressor(d);
  free(raw);
  CHECK_EQ_INT(got, want);
  *len = got;
  return out;
}

static void test_sla(void) {
  struct buf a = {0};
  struct folio_render_diag diag = {0};
  CHECK_MSG(folio_render_sla(&doc, NULL, buf_write, &a, &diag) == 0, "%s", diag.message);
  buf_write(&a, (const unsigned char *)"", 1);
  const char *sla = (const char *)a.p;
  CHECK(strncmp(sla, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SCRIBUSUTF8NEW Version=\"1.5.8\">", 70) == 0);
  CHECK(strstr(sla, "ANZPAGES=\"5\"") != NULL);
  /* CMYK colours stay CMYK; Black and White are always defined */
  CHECK(strstr(sla, "<COLOR NAME=\"orange\" SPACE=\"CMYK\" C=\"0\" M=\"60\" Y=\"90\" K=\"0\"/>") != NULL);
  CHECK(strstr(sla, "<COLOR NAME=\"Black\"") != NULL && strstr(sla, "<COLOR NAME=\"White\"") != NULL);
  CHECK(strstr(sla, "SICHTBAR=\"1\" DRUCKEN=\"1\"") != NULL);
  /* pages stacked on the canvas: page 2 starts below page 1 plus the gap */
  CHECK(strstr(sla, "<PAGE PAGEXPOS=\"100\" PAGEYPOS=\"901.89\"") != NULL);
  /* the fallback font pango chose for CJK is named in the run */
  CHECK(strstr(sla, "FONT=\"Noto Sans CJK") != NULL);
  CHECK(strstr(sla, "FONT=\"DejaVu Sans Bold\" FONTSIZE=\"18\"") != NULL);
  CHECK(strstr(sla, "<para ALIGN=\"3\"") != NULL); /* justified heading paragraph */
  CHECK(strstr(sla, "&lt;&amp;&quot;\"/>") != NULL); /* markup escaped */
  CHECK(strstr(sla, "\xef\xbf\xbe") == NULL);        /* U+FFFE is no XML character */
  /* shapes: rounded rectangle rotated 10 degrees, ellipse at 50 %, line */
  CHECK(strstr(sla, "FRTYPE=\"2\" RADRECT=\"12\"") != NULL);
  CHECK(strstr(sla, "ROT=\"10\"") != NULL);
  CHECK(strstr(sla, "TransValue=\"0.5\"") != NULL);
  CHECK(strstr(sla, "PTYPE=\"5\"") != NULL);
  /* the picture travels inside the file and unpacks to the asset's bytes */
  CHECK(strstr(sla, "isInlineImage=\"1\" inlineImageExt=\"png\"") != NULL);
  size_t n;
  unsigned char *img = inline_image(sla, &n);
  CHECK(n == assets[0].size && memcmp(img, assets[0].data, n) == 0);
  free(img);
  /* shrink: the SLA carries the shrunk size, not 14 */
  CHECK(strstr(sla, "FONTSIZE=\"14\"") != NULL); /* the clipped copy keeps 14 */
  CHECK(strstr(sla, "</DOCUMENT>\n</SCRIBUSUTF8NEW>\n") != NULL);
  /* identical input, identical bytes */
  struct buf b = {0};
  CHECK_EQ_INT(folio_render_sla(&doc, NULL, buf_write, &b, &diag), 0);
  CHECK(a.len - 1 == b.len && memcmp(a.p, b.p, b.len) == 0);
  free(a.p), free(b.p);

  /* page selection, write abort, cancel */
  size_t sel[1] = {2};
  struct folio_render_options o = {.pages = sel, .n_pages = 1};
  struct buf c = {0};
  CHECK_EQ_INT(folio_render_sla(&doc, &o, buf_write, &c, &diag), 0);
  CHECK(memmem(c.p, c.len, "ANZPAGES=\"1\"", 12) != NULL);
  free(c.p);
  struct buf f = {.fail = 1};
  CHECK_EQ_INT(folio_render_sla(&doc, NULL, buf_write, &f, &diag), FOLIO_RENDER_E_WRITE);
  size_t left = 2;
  struct folio_render_options oc = {.progress = stop_after, .progress_ctx = &left};
  struct buf g = {0};
  CHECK_EQ_INT(folio_render_sla(&doc, &oc, buf_write, &g, &diag), FOLIO_RENDER_E_CANCELLED);
  free(g.p);
}

int main(void) {
  build_doc();
  test_sla();
  test_pdf();
  test_cancel();
  test_overflow();
  test_png();
  test_bad_image();
  free((void *)(uintptr_t)assets[0].data);
  return check_done();
}
