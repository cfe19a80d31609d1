/* Print geometry: the decoder's page.bleed / page.marks / page.slug (values,
 * units, /page defaults and per-page overrides, errors with their JSON
 * Pointers) and folio_layout_page_boxes (nesting, per-side bleed, the slug
 * marks bring). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/layout.h"
#include "folio/pagebox.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)
#define MM (72.0 / 25.4)

static struct folio_layout_doc *ok(const char *json) {
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  int rc = folio_layout_decode(json, strlen(json), NULL, &doc, &diag);
  char *why = folio_layout_diag_join(&diag);
  CHECK_MSG(rc == 0, "rejected: %s\n  %s", why ? why : "?", json);
  free(why);
  folio_layout_diag_clear(&diag);
  return doc;
}

/* json must be rejected with exactly want (all errors joined) */
static void bad(const char *json, const char *want) {
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  int rc = folio_layout_decode(json, strlen(json), NULL, &doc, &diag);
  CHECK_MSG(rc == FOLIO_LAYOUT_EINVAL, "rc = %d for %s", rc, json);
  char *j = folio_layout_diag_join(&diag);
  CHECK_MSG(j && strcmp(j, want) == 0, "want \"%s\"\n   got \"%s\"", want, j ? j : "(none)");
  CHECK(!diag.too_large);
  free(j);
  folio_layout_diag_clear(&diag);
  folio_layout_doc_free(doc);
}

static void test_decode_values(void) {
  /* /page default in mm, one page overriding the bleed per side, one the marks, one the slug */
  struct folio_layout_doc *d = ok(
      "{\"version\":1,\"unit\":\"mm\",\"page\":{\"size\":{\"width\":85,\"height\":55},\"bleed\":3,"
      "\"marks\":[\"page_info\",\"crop\"]},\"pages\":["
      "{\"items\":[]},"
      "{\"bleed\":{\"top\":1,\"left\":2},\"items\":[]},"
      "{\"marks\":[],\"items\":[]},"
      "{\"slug\":20,\"marks\":[\"registration\",\"color_bars\"],\"items\":[]}]}");
  CHECK(d && d->n_pages == 4);
  if (!d) return;
  const struct folio_page *p = d->pages;
  CHECK(NEAR(p[0].width, 85 * MM) && NEAR(p[0].height, 55 * MM));
  CHECK(NEAR(p[0].bleed.top, 3 * MM) && NEAR(p[0].bleed.right, 3 * MM) && NEAR(p[0].bleed.bottom, 3 * MM) &&
        NEAR(p[0].bleed.left, 3 * MM));
  CHECK_EQ_INT(p[0].marks, FOLIO_MARK_CROP | FOLIO_MARK_PAGE_INFO);
  CHECK(NEAR(p[0].slug, FOLIO_LAYOUT_SLUG_DEFAULT_PT)); /* derived: marks asked, no slug given */
  /* per side: the sides left out are 0, not the default's 3 mm */
  CHECK(NEAR(p[1].bleed.top, 1 * MM) && NEAR(p[1].bleed.left, 2 * MM) && p[1].bleed.right == 0 &&
        p[1].bleed.bottom == 0);
  CHECK_EQ_INT(p[1].marks, FOLIO_MARK_CROP | FOLIO_MARK_PAGE_INFO);
  /* an empty list overrides the default: no marks, so no slug */
  CHECK_EQ_INT(p[2].marks, 0);
  CHECK(p[2].slug == 0);
  CHECK(NEAR(p[2].bleed.top, 3 * MM));
  CHECK_EQ_INT(p[3].marks, FOLIO_MARK_REGISTRATION | FOLIO_MARK_COLOR_BARS);
  CHECK(NEAR(p[3].slug, 20 * MM));
  CHECK(!folio_layout_doc_plain(d));
  folio_layout_doc_free(d);

  /* nothing asked: plain pages, all zero */
  d = ok("{\"version\":1,\"pages\":[{\"items\":[]},{\"size\":\"A5\",\"items\":[]}]}");
  CHECK(d && folio_layout_doc_plain(d));
  if (d) {
    CHECK(d->pages[0].slug == 0 && d->pages[0].marks == 0 && d->pages[0].bleed.left == 0);
    CHECK(folio_layout_page_plain(&d->pages[1]));
  }
  folio_layout_doc_free(d);

  /* a slug without marks is kept (white paper around the bleed); the bounds are inclusive */
  d = ok("{\"version\":1,\"page\":{\"slug\":72,\"bleed\":{\"top\":72,\"right\":0}},\"pages\":[{\"items\":[]}]}");
  CHECK(d && NEAR(d->pages[0].slug, 72) && NEAR(d->pages[0].bleed.top, 72) && d->pages[0].marks == 0);
  CHECK(d && !folio_layout_page_plain(&d->pages[0]));
  folio_layout_doc_free(d);
  /* 25.4 mm and 1 in are 72 pt, within the bound despite rounding */
  d = ok("{\"version\":1,\"unit\":\"mm\",\"page\":{\"bleed\":25.4,\"slug\":25.4},\"pages\":[{\"items\":[]}]}");
  CHECK(d != NULL);
  folio_layout_doc_free(d);
  d = ok("{\"version\":1,\"unit\":\"in\",\"page\":{\"bleed\":1,\"marks\":[\"crop\"],\"slug\":1},\"pages\":[{\"items\":[]}]}");
  CHECK(d && NEAR(d->pages[0].slug, 72));
  folio_layout_doc_free(d);
  /* the least slug marks may have */
  d = ok("{\"version\":1,\"page\":{\"marks\":[\"crop\"],\"slug\":16},\"pages\":[{\"items\":[]}]}");
  CHECK(d && NEAR(d->pages[0].slug, FOLIO_LAYOUT_SLUG_MIN_MARKS_PT));
  folio_layout_doc_free(d);
}

static void test_decode_errors(void) {
  bad("{\"version\":1,\"page\":{\"bleed\":-0.5},\"pages\":[{\"items\":[]}]}", "/page/bleed: must be >= 0");
  bad("{\"version\":1,\"pages\":[{\"bleed\":72.5,\"items\":[]}]}", "/pages/0/bleed: must be <= 72");
  bad("{\"version\":1,\"page\":{\"bleed\":true},\"pages\":[{\"items\":[]}]}",
      "/page/bleed: must be a length or {\"top\", \"right\", \"bottom\", \"left\"}");
  bad("{\"version\":1,\"page\":{\"bleed\":{\"top\":1,\"outer\":2,\"left\":\"x\"}},\"pages\":[{\"items\":[]}]}",
      "/page/bleed/outer: unknown field; /page/bleed/left: must be a number");
  bad("{\"version\":1,\"page\":{\"bleed\":{\"top\":1,\"top\":2}},\"pages\":[{\"items\":[]}]}",
      "/page/bleed/top: duplicate key");
  bad("{\"version\":1,\"page\":{\"bleed\":1,\"bleed\":2},\"pages\":[{\"items\":[]}]}", "/page/bleed: duplicate key");
  bad("{\"version\":1,\"pages\":[{\"marks\":[\"crop\",\"bleed\",7,\"crop\"],\"items\":[]}]}",
      "/pages/0/marks/1: must be one of \"crop\", \"registration\", \"color_bars\", \"page_info\"; "
      "/pages/0/marks/2: must be a string; /pages/0/marks/3: \"crop\" is listed twice");
  bad("{\"version\":1,\"page\":{\"marks\":{}},\"pages\":[{\"items\":[]}]}", "/page/marks: must be an array");
  bad("{\"version\":1,\"page\":{\"slug\":\"1\"},\"pages\":[{\"items\":[]}]}", "/page/slug: must be a number");
  bad("{\"version\":1,\"pages\":[{\"slug\":73,\"items\":[]}]}", "/pages/0/slug: must be <= 72");
  /* pt bounds after the unit: reported once at /page for every page that uses the default */
  bad("{\"version\":1,\"unit\":\"mm\",\"page\":{\"bleed\":{\"left\":26}},\"pages\":[{\"items\":[]},{\"items\":[]}]}",
      "/page/bleed: a side is 73.7 pt; the bleed may be at most 72 pt a side");
  bad("{\"version\":1,\"unit\":\"in\",\"pages\":[{\"items\":[]},{\"slug\":1.01,\"items\":[]}]}",
      "/pages/1/slug: is 72.72 pt; the slug may be at most 72 pt");
  /* marks from /page, the thin slug on the page: reported where the slug was written */
  bad("{\"version\":1,\"page\":{\"marks\":[\"crop\"]},\"pages\":[{\"items\":[]},{\"slug\":15.9,\"items\":[]}]}",
      "/pages/1/slug: is 15.9 pt; with marks the slug must be at least 16 pt");
  /* a thin slug without marks is fine */
  struct folio_layout_doc *d = ok("{\"version\":1,\"page\":{\"slug\":2},\"pages\":[{\"items\":[]}]}");
  folio_layout_doc_free(d);
  /* the media box counts against max_page_side (too large) */
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  const char *big = "{\"version\":1,\"page\":{\"size\":{\"width\":14390,\"height\":100},\"bleed\":{\"right\":11}},"
                    "\"pages\":[{\"items\":[]}]}";
  CHECK_EQ_INT(folio_layout_decode(big, strlen(big), NULL, &doc, &diag), FOLIO_LAYOUT_EINVAL);
  char *j = folio_layout_diag_join(&diag);
  CHECK_MSG(j && strstr(j, "/page/size: page is 14401 x 100 pt with bleed and slug; a side may be at most "
                           "max_page_side = 14400 pt"), "%s", j ? j : "(none)");
  CHECK(diag.too_large);
  free(j);
  folio_layout_diag_clear(&diag);
}

static void check_nested(const struct folio_page_boxes *b) {
  for (int k = 0; k < 2; k++) { /* lower-left corners */
    CHECK(b->media[k] <= b->bleed[k] + 1e-12 && b->bleed[k] <= b->trim[k] + 1e-12);
    CHECK(b->trim[k + 2] <= b->bleed[k + 2] + 1e-12 && b->bleed[k + 2] <= b->media[k + 2] + 1e-12);
  }
  CHECK(b->media[0] == 0 && b->media[1] == 0 && b->media[2] == b->media_w && b->media[3] == b->media_h);
}

static void test_boxes(void) {
  struct folio_page_boxes b;
  /* plain: one box */
  struct folio_page pg = {.width = 200, .height = 100};
  folio_layout_page_boxes(&pg, &b);
  check_nested(&b);
  CHECK(b.media_w == 200 && b.media_h == 100);
  for (int k = 0; k < 4; k++) CHECK(b.trim[k] == b.media[k] && b.bleed[k] == b.media[k]);
  CHECK(b.trim_left == 0 && b.trim_top == 0);
  CHECK(folio_layout_page_plain(&pg));

  /* per side, y up: the top bleed lies above the trim's top edge, the bottom below */
  pg.bleed = (struct folio_sides){.top = 1, .right = 2, .bottom = 3, .left = 4};
  folio_layout_page_boxes(&pg, &b);
  check_nested(&b);
  CHECK(!folio_layout_page_plain(&pg));
  CHECK(b.media_w == 206 && b.media_h == 104);
  CHECK(b.trim[0] == 4 && b.trim[1] == 3 && b.trim[2] == 204 && b.trim[3] == 103);
  CHECK(b.bleed[0] == 0 && b.bleed[1] == 0 && b.bleed[2] == 206 && b.bleed[3] == 104);
  CHECK(b.trim_left == 4 && b.trim_top == 1);

  /* marks: the slug goes around the bleed on every side */
  pg.marks = FOLIO_MARK_CROP;
  pg.slug = 26;
  folio_layout_page_boxes(&pg, &b);
  check_nested(&b);
  CHECK(b.media_w == 200 + 4 + 2 + 52 && b.media_h == 100 + 1 + 3 + 52);
  CHECK(b.bleed[0] == 26 && b.bleed[1] == 26 && b.bleed[2] == 26 + 206 && b.bleed[3] == 26 + 104);
  CHECK(b.trim[0] == 30 && b.trim[1] == 29 && b.trim[2] == 230 && b.trim[3] == 129);
  CHECK(b.trim_left == 30 && b.trim_top == 27);
  /* the trim is always the page's size */
  CHECK(b.trim[2] - b.trim[0] == pg.width && b.trim[3] - b.trim[1] == pg.height);

  /* a slug alone (no marks, no bleed) still makes the page not plain */
  struct folio_page s = {.width = 10, .height = 10, .slug = 5};
  CHECK(!folio_layout_page_plain(&s));
  s.slug = 0, s.marks = FOLIO_MARK_PAGE_INFO;
  CHECK(!folio_layout_page_plain(&s));

  /* a decoded business card: 85 x 55 mm, 3 mm bleed, crop marks */
  struct folio_layout_doc *d = ok(
      "{\"version\":1,\"unit\":\"mm\",\"page\":{\"size\":{\"width\":85,\"height\":55},\"bleed\":3,"
      "\"marks\":[\"crop\"]},\"pages\":[{\"items\":[]}]}");
  if (!d) return;
  folio_layout_page_boxes(&d->pages[0], &b);
  check_nested(&b);
  CHECK(NEAR(b.media_w, 91 * MM + 2 * FOLIO_LAYOUT_SLUG_DEFAULT_PT));
  CHECK(NEAR(b.media_h, 61 * MM + 2 * FOLIO_LAYOUT_SLUG_DEFAULT_PT));
  CHECK(NEAR(b.trim[0], 26 + 3 * MM) && NEAR(b.trim[2] - b.trim[0], 85 * MM));
  folio_layout_doc_free(d);
}

int main(void) {
  test_decode_values();
  test_decode_errors();
  test_boxes();
  return check_done();
}
