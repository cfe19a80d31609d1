/* Print geometry through the renderers: the PDF page is the media box
 * (pdfinfo -box), items reaching into the bleed are painted there and
 * clipped at the bleed box (pdftoppm), crop marks are in the slug, and PNGs
 * are the trimmed page unless png_include_bleed asks for the bleed box.
 * Needs poppler-utils (pdfinfo, pdftoppm), like test_render_cli.
 *
 * After lib/pdf writes TrimBox/BleedBox (the pdfprofile work), check_boxes
 * should also compare pdfinfo's "TrimBox:" and "BleedBox:" lines with
 * folio_layout_page_boxes' trim and bleed; today poppler reports both equal
 * to the MediaBox because cairo writes neither, so only the MediaBox is
 * compared. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "folio/layout.h"
#include "folio/pagebox.h"
#include "folio/render.h"
#include "testbuf.h"

static char tmpdir[] = "/tmp/folio-print-XXXXXX";

static struct folio_layout_doc *decode(const char *json) {
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  int rc = folio_layout_decode(json, strlen(json), NULL, &doc, &diag);
  char *why = folio_layout_diag_join(&diag);
  CHECK_MSG(rc == 0, "rejected: %s", why ? why : "?");
  free(why);
  folio_layout_diag_clear(&diag);
  return doc;
}

/* Renders doc's PDF into tmpdir/<name>.pdf; returns the path (static). */
static const char *pdf_file(const struct folio_layout_doc *doc, const char *name) {
  static char path[256];
  struct buf b = {0};
  struct folio_render_diag diag;
  int rc = folio_render_pdf(doc, NULL, buf_write, &b, &diag);
  CHECK_MSG(rc == 0, "pdf: %s", diag.message);
  snprintf(path, sizeof path, "%s/%s.pdf", tmpdir, name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fwrite(b.p, 1, b.len, f);
    fclose(f);
  }
  free(b.p);
  return path;
}

/* pdfinfo -box's "<what>: x0 y0 x1 y1" of page 1. 0 on success. */
static int pdf_box(const char *pdf, const char *what, double r[4]) {
  char cmd[512], line[256];
  snprintf(cmd, sizeof cmd, "pdfinfo -box -f 1 -l 1 '%s'", pdf);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  int found = -1;
  size_t wl = strlen(what);
  while (fgets(line, sizeof line, p)) {
    /* "Page    1 MediaBox:   0.00 ..." */
    const char *at = strstr(line, what);
    if (at && at[wl] == ':' && sscanf(at + wl + 1, "%lf %lf %lf %lf", &r[0], &r[1], &r[2], &r[3]) == 4) found = 0;
  }
  pclose(p);
  return found;
}

/* Page 1 of pdf rasterized by poppler at dpi (caller destroys). */
static cairo_surface_t *pdf_raster(const char *pdf, int dpi) {
  char cmd[512], out[300];
  snprintf(out, sizeof out, "%s/raster", tmpdir);
  snprintf(cmd, sizeof cmd, "pdftoppm -r %d -f 1 -l 1 -singlefile -png '%s' '%s'", dpi, pdf, out);
  CHECK_MSG(system(cmd) == 0, "%s", cmd);
  strcat(out, ".png");
  cairo_surface_t *s = cairo_image_surface_create_from_png(out);
  CHECK(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
  unlink(out);
  return s;
}

/* Pixel at (x, y) pt of a raster made at dpi, as 0xRRGGBB. */
static unsigned px(cairo_surface_t *s, int dpi, double x, double y) {
  int ix = (int)floor(x * dpi / 72.0), iy = (int)floor(y * dpi / 72.0);
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  if (ix < 0 || iy < 0 || ix >= w || iy >= h) return 0xdeadbeef;
  const unsigned char *d = cairo_image_surface_get_data(s);
  uint32_t v;
  memcpy(&v, d + (size_t)iy * (size_t)cairo_image_surface_get_stride(s) + (size_t)ix * 4, 4);
  return v & 0xffffff;
}
static bool is_red(unsigned c) { return (c >> 16) > 200 && ((c >> 8) & 0xff) < 60 && (c & 0xff) < 60; }
static bool is_white(unsigned c) { return (c >> 16) > 245 && ((c >> 8) & 0xff) > 245 && (c & 0xff) > 245; }
static bool is_dark(unsigned c) { return (c >> 16) < 160 && ((c >> 8) & 0xff) < 160 && (c & 0xff) < 160; }

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

/* A 200 x 100 pt page with 9 pt of bleed (12 on the left) and, when marks, crop
 * marks in the default slug. A red rect runs from 30 pt left of the trim to the
 * trim's left edge: 12 pt of it are in the bleed, the rest is clipped. */
static const char *card(bool marks) {
  static char json[1024];
  snprintf(json, sizeof json,
           "{\"version\":1,\"meta\":{\"title\":\"Card\"},"
           "\"page\":{\"size\":{\"width\":200,\"height\":100},\"bleed\":{\"top\":9,\"right\":9,\"bottom\":9,"
           "\"left\":12}%s},\"pages\":[{\"items\":["
           "{\"type\":\"rect\",\"x\":-30,\"y\":20,\"w\":30,\"h\":60,\"fill\":\"#ff0000\"},"
           "{\"type\":\"rect\",\"x\":150,\"y\":20,\"w\":20,\"h\":20,\"fill\":\"#ff0000\"}]}]}",
           marks ? ",\"marks\":[\"crop\"]" : "");
  return json;
}

static void test_media_box(void) {
  for (int marks = 0; marks < 2; marks++) {
    struct folio_layout_doc *doc = decode(card(marks));
    if (!doc) return;
    const char *pdf = pdf_file(doc, marks ? "marks" : "bleed");
    double m[4];
    CHECK_MSG(pdf_box(pdf, "MediaBox", m) == 0, "no MediaBox from pdfinfo -box");
    /* trim + 2 x (bleed + slug), the slug being 26 pt with marks, 0 without */
    double slug = marks ? FOLIO_LAYOUT_SLUG_DEFAULT_PT : 0;
    CHECK_MSG(NEAR(m[2] - m[0], 200 + 12 + 9 + 2 * slug, 0.01), "width %g", m[2] - m[0]);
    CHECK_MSG(NEAR(m[3] - m[1], 100 + 9 + 9 + 2 * slug, 0.01), "height %g", m[3] - m[1]);
    struct folio_page_boxes b;
    folio_layout_page_boxes(&doc->pages[0], &b);
    for (int k = 0; k < 4; k++) CHECK_MSG(NEAR(m[k], b.media[k], 0.01), "MediaBox[%d] %g vs %g", k, m[k], b.media[k]);
    folio_layout_doc_free(doc);
  }
  /* a plain page: the MediaBox is the page, as before */
  struct folio_layout_doc *doc = decode("{\"version\":1,\"page\":{\"size\":\"A5\"},\"pages\":[{\"items\":[]}]}");
  if (!doc) return;
  double m[4];
  CHECK(pdf_box(pdf_file(doc, "plain"), "MediaBox", m) == 0);
  CHECK(NEAR(m[2], 148 * 72 / 25.4, 0.01) && NEAR(m[3], 210 * 72 / 25.4, 0.01));
  folio_layout_doc_free(doc);
}

static void test_bleed_painted(void) {
  struct folio_layout_doc *doc = decode(card(false));
  if (!doc) return;
  const int dpi = 144;
  cairo_surface_t *r = pdf_raster(pdf_file(doc, "bleed"), dpi);
  /* media = bleed box here: trim at (12, 9) */
  CHECK_MSG(is_red(px(r, dpi, 2, 60)), "left bleed not painted: %06x", px(r, dpi, 2, 60));
  CHECK(is_red(px(r, dpi, 11, 60)));
  CHECK(is_white(px(r, dpi, 13, 60))); /* the rect ends at the trim */
  CHECK(is_red(px(r, dpi, 12 + 160, 9 + 30))); /* an item inside the trim sits at trim + (x, y) */
  CHECK(is_white(px(r, dpi, 12 + 145, 9 + 30)));
  cairo_surface_destroy(r);
  folio_layout_doc_free(doc);

  /* with a slug around it: the rect is clipped at the bleed box, not at the media */
  doc = decode(card(true));
  if (!doc) return;
  r = pdf_raster(pdf_file(doc, "marks"), dpi);
  double s = FOLIO_LAYOUT_SLUG_DEFAULT_PT;
  CHECK(is_red(px(r, dpi, s + 1, s + 60)));
  CHECK_MSG(is_white(px(r, dpi, s - 2, s + 60)), "painted past the bleed box: %06x", px(r, dpi, s - 2, s + 60));
  cairo_surface_destroy(r);
  folio_layout_doc_free(doc);
}

static void test_crop_marks(void) {
  const int dpi = 288;
  double s = FOLIO_LAYOUT_SLUG_DEFAULT_PT, zone = s - FOLIO_MARK_OFFSET_PT;
  for (int marks = 0; marks < 2; marks++) {
    struct folio_layout_doc *doc = decode(card(marks));
    if (!doc) return;
    /* without marks, page_boxes puts no slug: shift by hand to look at the same place */
    struct folio_page *pg = (struct folio_page *)(uintptr_t)&doc->pages[0];
    if (!marks) pg->slug = s; /* same media, no marks: the slug must stay blank */
    struct folio_page_boxes b;
    folio_layout_page_boxes(pg, &b);
    cairo_surface_t *r = pdf_raster(pdf_file(doc, marks ? "marks" : "slug"), dpi);
    double top = b.trim_top, left = b.trim_left, right = b.trim_left + 200, bottom = b.trim_top + 100;
    /* each corner: a horizontal mark in the side zone and a vertical one in the top/bottom zone */
    const double probes[][2] = {{zone / 2, top},          {b.media_w - zone / 2, top},
                                {zone / 2, bottom},       {b.media_w - zone / 2, bottom},
                                {left, zone / 2},         {right, zone / 2},
                                {left, b.media_h - zone / 2}, {right, b.media_h - zone / 2}};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
      unsigned c = px(r, dpi, probes[i][0], probes[i][1]);
      if (marks) CHECK_MSG(is_dark(c), "no crop mark at (%g, %g): %06x", probes[i][0], probes[i][1], c);
      else CHECK_MSG(is_white(c), "a mark without marks at (%g, %g): %06x", probes[i][0], probes[i][1], c);
    }
    /* marks stop FOLIO_MARK_OFFSET_PT outside the bleed */
    CHECK(is_white(px(r, dpi, s - 2, top)));
    cairo_surface_destroy(r);
    folio_layout_doc_free(doc);
  }
}

/* Every mark: the colour bars' cyan patch, the registration targets' centres
 * and the page-info line (pdftotext) are where marks.c puts them. */
static void test_all_marks(void) {
  struct folio_layout_doc *doc = decode(
      "{\"version\":1,\"meta\":{\"title\":\"Spring\\ncard\"},\"page\":{\"size\":{\"width\":300,\"height\":200},"
      "\"bleed\":5,\"marks\":[\"page_info\",\"color_bars\",\"registration\",\"crop\"]},"
      "\"pages\":[{\"items\":[]},{\"items\":[]}]}");
  if (!doc) return;
  const char *pdf = pdf_file(doc, "all");
  const int dpi = 144;
  cairo_surface_t *r = pdf_raster(pdf, dpi);
  struct folio_page_boxes b;
  folio_layout_page_boxes(&doc->pages[0], &b);
  double zone = doc->pages[0].slug - FOLIO_MARK_OFFSET_PT, side = zone * 0.6;
  unsigned c = px(r, dpi, b.trim_left + zone / 2 + side / 2, zone / 2);
  CHECK_MSG((c >> 16) < 40 && ((c >> 8) & 0xff) > 215 && (c & 0xff) > 215, "no cyan patch: %06x", c);
  c = px(r, dpi, b.trim_left + zone / 2 + side * 1.5, zone / 2);
  CHECK_MSG((c >> 16) > 215 && ((c >> 8) & 0xff) < 40 && (c & 0xff) > 215, "no magenta patch: %06x", c);
  /* the crosses of the four targets meet at the middle of each side's zone */
  const double centres[][2] = {{b.media_w / 2, zone / 2}, {b.media_w / 2, b.media_h - zone / 2},
                               {zone / 2, b.media_h / 2}, {b.media_w - zone / 2, b.media_h / 2}};
  for (int i = 0; i < 4; i++)
    CHECK_MSG(is_dark(px(r, dpi, centres[i][0], centres[i][1])) || is_dark(px(r, dpi, centres[i][0] - 0.3, centres[i][1] - 0.3)),
              "no target at (%g, %g)", centres[i][0], centres[i][1]);
  cairo_surface_destroy(r);
  /* page info: the title on one line, then page n of N, per page */
  char cmd[512], text[512] = "";
  snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 -f 2 -l 2 '%s' -", pdf);
  FILE *p = popen(cmd, "r");
  size_t n = p ? fread(text, 1, sizeof text - 1, p) : 0;
  text[n] = 0;
  if (p) pclose(p);
  CHECK_MSG(strstr(text, "Spring card \xc2\xb7 page 2 of 2") != NULL, "page info: \"%s\"", text);
  folio_layout_doc_free(doc);
}

struct pngs {
  struct buf b;
};
static int png_begin(void *ctx, size_t page, folio_render_write_fn *w, void **wctx) {
  (void)page;
  *w = buf_write;
  *wctx = &((struct pngs *)ctx)->b;
  return 0;
}

static cairo_surface_t *png(const struct folio_layout_doc *doc, bool bleed, unsigned dpi) {
  struct pngs p = {{0}};
  struct folio_render_options opt = {.dpi = dpi, .threads = 1, .png_include_bleed = bleed};
  struct folio_render_diag diag;
  CHECK_MSG(folio_render_png(doc, &opt, png_begin, NULL, &p, &diag) == 0, "png: %s", diag.message);
  cairo_surface_t *s = png_from_memory(p.b.p, p.b.len);
  free(p.b.p);
  CHECK(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
  return s;
}

static void test_png(void) {
  struct folio_layout_doc *doc = decode(card(true));
  if (!doc) return;
  /* default: the trimmed page at the dpi, marks and bleed left out */
  cairo_surface_t *s = png(doc, false, 144);
  CHECK_EQ_INT(cairo_image_surface_get_width(s), 400);
  CHECK_EQ_INT(cairo_image_surface_get_height(s), 200);
  CHECK(is_white(px(s, 144, 0.5, 60))); /* the bleed's red is cut off */
  CHECK(is_red(px(s, 144, 160, 30)));
  cairo_surface_destroy(s);
  /* with the bleed: the bleed box, the red strip on its left */
  s = png(doc, true, 144);
  CHECK_EQ_INT(cairo_image_surface_get_width(s), (200 + 12 + 9) * 2);
  CHECK_EQ_INT(cairo_image_surface_get_height(s), (100 + 9 + 9) * 2);
  CHECK_MSG(is_red(px(s, 144, 1, 60)), "bleed not in the PNG: %06x", px(s, 144, 1, 60));
  CHECK(is_white(px(s, 144, 13, 60)));
  CHECK(is_red(px(s, 144, 12 + 160, 9 + 30)));
  cairo_surface_destroy(s);

  /* the pixel limit counts the bleed: 32767 px a side at 1200 dpi is 1966 pt */
  char json[512];
  snprintf(json, sizeof json,
           "{\"version\":1,\"page\":{\"size\":{\"width\":1900,\"height\":10},\"bleed\":40},\"pages\":[{\"items\":[]}]}");
  folio_layout_doc_free(doc);
  doc = decode(json);
  if (!doc) return;
  struct pngs p = {{0}};
  struct folio_render_options opt = {.dpi = 1200, .threads = 1};
  struct folio_render_diag diag;
  CHECK_EQ_INT(folio_render_png(doc, &opt, png_begin, NULL, &p, &diag), 0); /* trimmed: 31667 px */
  free(p.b.p);
  p.b = (struct buf){0};
  opt.png_include_bleed = true;
  CHECK_EQ_INT(folio_render_png(doc, &opt, png_begin, NULL, &p, &diag), FOLIO_RENDER_E_ARG); /* 33000 px */
  CHECK_MSG(strstr(diag.message, "33000x") != NULL, "%s", diag.message);
  free(p.b.p);
  folio_layout_doc_free(doc);
}

int main(void) {
  if (!mkdtemp(tmpdir)) return 1;
  test_media_box();
  test_bleed_painted();
  test_crop_marks();
  test_all_marks();
  test_png();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
  return check_done();
}
