/* Golden PNGs: each layout tests/render/NAME.json, rendered to PNG at 72 dpi,
 * must match tests/render/NAME-pN.png. The tolerance is per pixel, not a mean
 * (a mean over the page hid a whole missing item): a pixel differs when any
 * channel differs by more than GOLDEN_LEVELS (anti-aliasing and font
 * rasterization may move a few levels between library builds), and at most
 * GOLDEN_PIXELS pixels may differ. The comparator proves itself at the end: the
 * shapes page rendered without its 4-pt line item must NOT match.
 * FOLIO_GOLDEN_UPDATE=1 rewrites the goldens instead (then look at them before
 * committing).
 *
 * usage: test_render_golden DIR */
#include <cairo.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/layout.h"
#include "folio/render.h"
#include "testbuf.h"

struct pages {
  struct buf png[16];
  size_t cur;
};

static int begin(void *ctx, size_t page, folio_render_write_fn *w, void **wctx) {
  struct pages *s = ctx;
  CHECK(page < 16);
  *w = buf_write;
  *wctx = &s->png[page];
  return 0;
}



enum { GOLDEN_LEVELS = 24, GOLDEN_PIXELS = 16 };

/* True when the rendered png matches the golden file within the tolerance;
 * why says how far off it is either way. */
static bool matches(const char *golden, const struct buf *png, char *why, size_t whycap) {
  cairo_surface_t *ours = png_from_memory(png->p, png->len);
  CHECK_EQ_INT(cairo_surface_status(ours), CAIRO_STATUS_SUCCESS);
  cairo_surface_t *want = cairo_image_surface_create_from_png(golden);
  CHECK_MSG(cairo_surface_status(want) == CAIRO_STATUS_SUCCESS, "%s: %s (FOLIO_GOLDEN_UPDATE=1 makes it)", golden,
            cairo_status_to_string(cairo_surface_status(want)));
  int w = cairo_image_surface_get_width(ours), h = cairo_image_surface_get_height(ours);
  CHECK_MSG(w == cairo_image_surface_get_width(want) && h == cairo_image_surface_get_height(want),
            "%s: size %dx%d, golden %dx%d", golden, w, h, cairo_image_surface_get_width(want),
            cairo_image_surface_get_height(want));
  const unsigned char *a = cairo_image_surface_get_data(ours), *b = cairo_image_surface_get_data(want);
  int sa = cairo_image_surface_get_stride(ours), sb = cairo_image_surface_get_stride(want);
  size_t bad = 0;
  int worst_all = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint32_t pa = ((const uint32_t *)(const void *)(a + (size_t)y * (size_t)sa))[x];
      uint32_t pb = ((const uint32_t *)(const void *)(b + (size_t)y * (size_t)sb))[x];
      int worst = 0;
      for (int k = 0; k < 32; k += 8) { /* alpha too: a missing item on a transparent page */
        int d = abs((int)((pa >> k) & 255) - (int)((pb >> k) & 255));
        if (d > worst) worst = d;
      }
      bad += worst > GOLDEN_LEVELS;
      if (worst > worst_all) worst_all = worst;
    }
  snprintf(why, whycap, "%s: %zu of %d pixels differ by > %d levels (at most %d may), largest difference %d",
           golden, bad, w * h, GOLDEN_LEVELS, GOLDEN_PIXELS, worst_all);
  cairo_surface_destroy(ours);
  cairo_surface_destroy(want);
  return bad <= GOLDEN_PIXELS;
}

static void render(const char *path, struct folio_layout_doc **doc, struct pages *pages) {
  size_t len;
  char *json = test_slurp(path, &len);
  struct folio_layout_diag ld = {0};
  int rc = folio_layout_decode(json, len, NULL, doc, &ld);
  char *why = rc ? folio_layout_diag_join(&ld) : NULL;
  CHECK_MSG(rc == 0, "%s: %s", path, why ? why : "?");
  free(json);
  CHECK((*doc)->n_pages <= 16);
  memset(pages, 0, sizeof *pages);
  struct folio_render_options opt = {.dpi = 72, .threads = 2};
  struct folio_render_diag diag = {0};
  CHECK_MSG(folio_render_png(*doc, &opt, begin, NULL, pages, &diag) == 0, "%s: %s", path, diag.message);
}

/* The tolerance can trip: shapes.json's last item is a 4-pt line; the page
 * rendered without it must not match shapes-p1.png. */
static void tolerance_self_test(const char *dir) {
  char path[4096], why[512];
  snprintf(path, sizeof path, "%s/shapes.json", dir);
  struct folio_layout_doc *doc = NULL;
  size_t len;
  char *json = test_slurp(path, &len);
  struct folio_layout_diag ld = {0};
  CHECK_EQ_INT(folio_layout_decode(json, len, NULL, &doc, &ld), 0);
  free(json);
  struct folio_page *pg = (struct folio_page *)(uintptr_t)&doc->pages[0];
  CHECK(pg->n_items > 1);
  const struct folio_item *last = &pg->items[pg->n_items - 1];
  CHECK_MSG(last->kind == FOLIO_ITEM_LINE && last->u.line.stroke_width == 4,
            "shapes.json must end with its 4-pt line item (the self-test removes it)");
  pg->n_items--;
  struct pages pages = {0};
  struct folio_render_options opt = {.dpi = 72, .threads = 2};
  struct folio_render_diag diag = {0};
  CHECK_EQ_INT(folio_render_png(doc, &opt, begin, NULL, &pages, &diag), 0);
  snprintf(path, sizeof path, "%s/shapes-p1.png", dir);
  CHECK_MSG(!matches(path, &pages.png[0], why, sizeof why),
            "the tolerance lets a page without its 4-pt line pass: %s", why);
  printf("self-test (4-pt line removed) refused: %s\n", why);
  for (size_t p = 0; p < doc->n_pages; p++) free(pages.png[p].p);
  folio_layout_doc_free(doc);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: %s DIR", argv[0]);
  const char *dir = argv[1];
  bool update = getenv("FOLIO_GOLDEN_UPDATE") && !strcmp(getenv("FOLIO_GOLDEN_UPDATE"), "1");
  DIR *d = opendir(dir);
  CHECK_MSG(d != NULL, "cannot open %s", dir);
  char *names[64];
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t l = strlen(e->d_name);
    if (l > 5 && !strcmp(e->d_name + l - 5, ".json") && n < 64) names[n++] = strndup(e->d_name, l - 5);
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  CHECK_MSG(n >= 3, "only %zu layouts in %s", n, dir);
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", dir, names[i]);
    struct folio_layout_doc *doc = NULL;
    struct pages pages;
    render(path, &doc, &pages);
    for (size_t p = 0; p < doc->n_pages; p++) {
      snprintf(path, sizeof path, "%s/%s-p%zu.png", dir, names[i], p + 1);
      if (update) {
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(pages.png[p].p, 1, pages.png[p].len, f) == pages.png[p].len && fclose(f) == 0);
        printf("wrote %s\n", path);
      } else {
        char why[512];
        CHECK_MSG(matches(path, &pages.png[p], why, sizeof why), "%s", why);
        printf("%s\n", why);
      }
      free(pages.png[p].p);
    }
    folio_layout_doc_free(doc);
    free(names[i]);
  }
  if (!update) tolerance_self_test(dir);
  return check_done();
}
