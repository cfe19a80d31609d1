/* Unit tests of the layout decoder: the resolved model (units, defaults, style
 * cascade, colours, pages), every configurable limit, error collection (cap,
 * pointers with escaped keys), and the lexer's edge cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/layout.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static struct folio_layout_doc *ok_lim(const char *json, const struct folio_layout_limits *lim) {
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  int rc = folio_layout_decode(json, strlen(json), lim, &doc, &diag);
  char *why = folio_layout_diag_join(&diag);
  CHECK_MSG(rc == 0, "rejected: %s\n  %s", why ? why : "?", json);
  free(why);
  return doc;
}
static struct folio_layout_doc *ok(const char *json) { return ok_lim(json, NULL); }

/* Decodes json (FOLIO_LAYOUT_EINVAL expected) and returns the joined errors (caller frees). */
static char *bad_lim(const char *json, size_t len, const struct folio_layout_limits *lim,
                     struct folio_layout_diag *out) {
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  int rc = folio_layout_decode(json, len, lim, &doc, &diag);
  CHECK_MSG(rc == FOLIO_LAYOUT_EINVAL, "rc = %d for %s", rc, json);
  CHECK(doc == NULL);
  char *j = folio_layout_diag_join(&diag);
  CHECK(j != NULL);
  if (out) *out = diag;
  else folio_layout_diag_clear(&diag);
  return j;
}
static char *bad(const char *json) { return bad_lim(json, strlen(json), NULL, NULL); }

#define CHECK_BAD(json, want)                                                 \
  do {                                                                        \
    char *j_ = bad(json);                                                     \
    CHECK_MSG(strstr(j_, want) != NULL, "want \"%s\"\n  got \"%s\"", want, j_); \
    free(j_);                                                                 \
  } while (0)

static void test_catalogue_model(void) {
  struct folio_layout_doc *d = ok(
      "{\"version\":1,\"unit\":\"mm\",\"meta\":{\"title\":\"T\",\"author\":\"A\"},"
      "\"colors\":{\"brand\":\"#1a73e8\",\"ink\":{\"cmyk\":[0,0,0,100]},\"c\":{\"cmyk\":[100,0,50,0]}},"
      "\"styles\":{\"title\":{\"font\":\"DejaVu Sans\",\"weight\":\"bold\",\"size\":28,\"color\":\"brand\","
      "\"align\":\"center\"}},"
      "\"pages\":[{\"items\":["
      "{\"type\":\"text\",\"x\":25.4,\"y\":0,\"w\":10,\"h\":10,\"style\":\"title\",\"size\":20,"
      "\"runs\":[{\"text\":\"a\"},{\"text\":\"b\",\"color\":\"ink\",\"font_style\":\"italic\",\"weight\":300}]},"
      "{\"type\":\"rect\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"fill\":\"c\",\"radius\":2},"
      "{\"type\":\"ellipse\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"stroke\":\"#FF0000\"},"
      "{\"type\":\"line\",\"x1\":10,\"y1\":20,\"x2\":0,\"y2\":5,\"stroke_width\":0.5}"
      "]}]}");
  CHECK_EQ_INT(d->unit, FOLIO_UNIT_MM);
  CHECK_EQ_STR(d->title, "T");
  CHECK_EQ_STR(d->author, "A");
  CHECK_EQ_INT(d->n_colors, 3);
  CHECK_EQ_STR(d->colors[1].name, "ink");
  CHECK(d->colors[1].is_cmyk && NEAR(d->colors[1].k, 1) && NEAR(d->colors[1].r, 0));
  CHECK(NEAR(d->colors[2].r, 0) && NEAR(d->colors[2].g, 1) && NEAR(d->colors[2].b, 0.5));
  CHECK(NEAR(d->colors[0].r, 0x1a / 255.0) && NEAR(d->colors[0].b, 0xe8 / 255.0));
  const struct folio_page *pg = &d->pages[0];
  CHECK_EQ_STR(pg->size_name, "A4"); /* the default page */
  CHECK(NEAR(pg->width, 210 * 72 / 25.4) && NEAR(pg->height, 297 * 72 / 25.4));
  CHECK_EQ_INT(pg->n_items, 4);
  const struct folio_item *t = &pg->items[0];
  CHECK_EQ_INT(t->kind, FOLIO_ITEM_TEXT);
  CHECK(NEAR(t->x, 72)); /* 25.4 mm */
  CHECK_EQ_STR(t->u.text.style_name, "title");
  CHECK(NEAR(t->u.text.style.size, 20)); /* item over style; pt whatever the unit */
  CHECK_EQ_INT(t->u.text.style.weight, 700);
  CHECK_EQ_INT(t->u.text.style.align, FOLIO_ALIGN_CENTER);
  CHECK(NEAR(t->u.text.style.line_height, 1.2)); /* default */
  CHECK_EQ_INT(t->u.text.n_runs, 2);
  CHECK_EQ_STR(t->u.text.runs[0].text, "a");
  CHECK(t->u.text.runs[0].style.color == &d->colors[0]);
  CHECK_EQ_INT(t->u.text.runs[0].style.weight, 700);
  CHECK(t->u.text.runs[1].style.color == &d->colors[1]);
  CHECK_EQ_INT(t->u.text.runs[1].style.weight, 300);
  CHECK_EQ_INT(t->u.text.runs[1].style.style, FOLIO_FONT_STYLE_ITALIC);
  CHECK_EQ_INT(t->u.text.runs[1].style.align, FOLIO_ALIGN_CENTER);
  CHECK_EQ_INT(t->u.text.overflow, FOLIO_OVERFLOW_CLIP);
  CHECK(NEAR(t->opacity, 1) && NEAR(t->rotation, 0));
  const struct folio_item *r = &pg->items[1];
  CHECK(r->u.shape.fill == &d->colors[2] && r->u.shape.stroke == NULL);
  CHECK(NEAR(r->u.shape.radius, 2 * 72 / 25.4));
  const struct folio_item *e = &pg->items[2];
  CHECK(e->u.shape.fill == NULL && e->u.shape.stroke && e->u.shape.stroke->name == NULL);
  CHECK(NEAR(e->u.shape.stroke->r, 1) && NEAR(e->u.shape.stroke->g, 0));
  CHECK(NEAR(e->u.shape.stroke_width, 1)); /* default 1 pt, not 1 mm */
  const struct folio_item *l = &pg->items[3];
  CHECK(NEAR(l->u.line.x1, 10 * 72 / 25.4) && NEAR(l->u.line.y2, 5 * 72 / 25.4));
  CHECK(NEAR(l->x, 0) && NEAR(l->y, 5 * 72 / 25.4) && NEAR(l->w, 10 * 72 / 25.4) &&
        NEAR(l->h, 15 * 72 / 25.4));
  CHECK(NEAR(l->u.line.stroke_width, 0.5 * 72 / 25.4));
  CHECK(l->u.line.stroke && NEAR(l->u.line.stroke->r, 0)); /* default black */
  CHECK_EQ_INT(l->index, 3);
  folio_layout_doc_free(d);
}

static void test_text_defaults_and_single_run(void) {
  struct folio_layout_doc *d = ok(
      "{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":1,\"y\":2,\"w\":3,\"h\":4,"
      "\"text\":\"h\\u00e9llo \\ud83d\\ude00\"}]}]}");
  const struct folio_item *t = &d->pages[0].items[0];
  CHECK_EQ_INT(t->u.text.n_runs, 1);
  CHECK_EQ_STR(t->u.text.runs[0].text, "h\xc3\xa9llo \xf0\x9f\x98\x80");
  CHECK_EQ_INT(t->u.text.runs[0].text_len, 11);
  const struct folio_text_style *s = &t->u.text.runs[0].style;
  CHECK_EQ_STR(s->font, "DejaVu Sans");
  CHECK_EQ_INT(s->weight, 400);
  CHECK(NEAR(s->size, 12) && NEAR(s->line_height, 1.2) && NEAR(s->letter_spacing, 0));
  CHECK(s->color && NEAR(s->color->r, 0) && s->color->name == NULL);
  CHECK(t->u.text.style_name == NULL);
  CHECK(NEAR(t->x, 1)); /* pt */
  folio_layout_doc_free(d);
}

static void test_pages(void) {
  struct folio_layout_doc *d = ok(
      "{\"version\":1,\"unit\":\"in\",\"page\":{\"size\":\"Letter\",\"orientation\":\"landscape\"},"
      "\"pages\":[{\"items\":[]},{\"size\":\"A5\",\"items\":[]},{\"orientation\":\"portrait\",\"items\":[]},"
      "{\"size\":{\"width\":2,\"height\":1},\"orientation\":\"portrait\",\"items\":[]},"
      "{\"size\":{\"width\":2,\"height\":1},\"items\":[]}]}");
  CHECK_EQ_INT(d->n_pages, 5);
  CHECK(NEAR(d->pages[0].width, 792) && NEAR(d->pages[0].height, 612));
  CHECK_EQ_STR(d->pages[1].size_name, "A5");
  CHECK(NEAR(d->pages[1].width, 210 * 72 / 25.4)); /* landscape from the default */
  CHECK(NEAR(d->pages[2].width, 612) && NEAR(d->pages[2].height, 792));
  CHECK(d->pages[3].size_name == NULL);
  CHECK(NEAR(d->pages[3].width, 72) && NEAR(d->pages[3].height, 144));
  /* explicit sizes with the default's landscape orientation: wider than tall */
  CHECK(NEAR(d->pages[4].width, 144) && NEAR(d->pages[4].height, 72));
  folio_layout_doc_free(d);

  d = ok("{\"version\":1,\"page\":{\"size\":{\"width\":100,\"height\":300}},\"pages\":[{\"items\":[]}]}");
  CHECK(NEAR(d->pages[0].width, 100) && NEAR(d->pages[0].height, 300));
  folio_layout_doc_free(d);
}

static void test_names_defined_after_use(void) {
  struct folio_layout_doc *d = ok(
      "{\"pages\":[{\"items\":[{\"type\":\"text\",\"style\":\"s\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"text\":\"\"},"
      "{\"type\":\"rect\",\"fill\":\"c\",\"x\":0,\"y\":0,\"w\":1,\"h\":1}]}],"
      "\"styles\":{\"s\":{\"color\":\"c\",\"size\":9}},\"colors\":{\"c\":\"#102030\"},\"version\":1}");
  const struct folio_item *t = &d->pages[0].items[0];
  CHECK(t->u.text.runs[0].style.color == &d->colors[0]);
  CHECK(NEAR(t->u.text.runs[0].style.size, 9));
  CHECK(d->pages[0].items[1].u.shape.fill == &d->colors[0]);
  folio_layout_doc_free(d);
}

static void test_errors(void) {
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[{},{\"type\":\"rect\",\"x\":0,\"y\":0,\"w\":0,\"h\":1}]}]}",
            "/pages/0/items/1/w: must be > 0");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[]}],\"colors\":{\"a/b~c\":\"#000000\"}}",
            "/colors/a~1b~0c: invalid name");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[]}],\"x\\u0079z\":1}", "/xyz: unknown field");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[]}]", "/pages: invalid JSON at byte 35: expected ',' or '}'");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[]}]} x", ": invalid JSON at byte 37: expected the end");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"rect\",\"x\":1.}]}]}", "a digit after '.'");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"rect\",\"x\":1e}]}]}", "digit in the exponent");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"rect\",\"x\":-}]}]}", "a digit");
  CHECK_BAD("{\"version\":true,\"pages\":[{\"items\":[]}]}", "/version: must be a number");
  CHECK_BAD("{\"version\":1,\"pages\":null}", "/pages: must be an array");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[]}],\"meta\":{\"title\":\"\\ud83d\"}}", "surrogate");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[]}],\"meta\":{\"title\":\"\\udc00\"}}", "surrogate");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[]}],\"meta\":{\"title\":\"\\u12g4\"}}", "four hex digits");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,"
            "\"text\":\"a\",\"size\":5,\"size\":6}]}]}",
            "/pages/0/items/0/size: duplicate key");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,"
            "\"text\":\"a\",\"size\":-1,\"size\":6}]}]}",
            "/pages/0/items/0/size: duplicate key");
  /* many errors in one pass, each with its pointer */
  char *j = bad("{\"version\":2,\"unit\":\"cm\",\"pages\":[{\"items\":[{\"type\":\"rect\",\"x\":\"0\",\"y\":0,"
                "\"w\":1,\"h\":1,\"fill\":\"nope\"},{\"type\":\"image\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,"
                "\"asset\":\"none\"}]}]}");
  CHECK(strstr(j, "/version: must be 1"));
  CHECK(strstr(j, "/unit: must be one of"));
  CHECK(strstr(j, "/pages/0/items/0/x: must be a number"));
  CHECK(strstr(j, "/pages/0/items/0/fill: colour \"nope\" is not defined"));
  CHECK(strstr(j, "/pages/0/items/1/asset: asset \"none\" is not defined"));
  free(j);
}

static void test_error_cap(void) {
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  lim.max_errors = 3;
  char buf[4096] = "{\"version\":1,\"pages\":[{\"items\":[";
  for (int i = 0; i < 10; i++)
    strcat(buf, i ? ",{\"type\":\"rect\",\"x\":0,\"y\":0,\"w\":0,\"h\":1}"
                  : "{\"type\":\"rect\",\"x\":0,\"y\":0,\"w\":0,\"h\":1}");
  strcat(buf, "]}]}");
  struct folio_layout_diag diag;
  char *j = bad_lim(buf, strlen(buf), &lim, &diag);
  CHECK_EQ_INT(diag.count, 3);
  CHECK(diag.truncated);
  CHECK(!diag.too_large);
  CHECK_EQ_STR(diag.errors[2].pointer, "/pages/0/items/2/w");
  CHECK(strstr(j, "more errors not shown"));
  free(j);
  folio_layout_diag_clear(&diag);
  CHECK_EQ_INT(diag.count, 0);
  folio_layout_diag_clear(&diag); /* twice is fine */
}

static void check_limit(const char *json, const struct folio_layout_limits *lim, const char *want) {
  struct folio_layout_diag diag;
  char *j = bad_lim(json, strlen(json), lim, &diag);
  CHECK_MSG(strstr(j, want) != NULL, "want \"%s\"\n  got \"%s\"", want, j);
  CHECK_MSG(diag.too_large, "too_large not set for %s", j);
  free(j);
  folio_layout_diag_clear(&diag);
}

/* The page geometry cap, in pt after units and orientation: a page's own
 * size is reported at /pages/N/size, the default page once at /page/size. */
static void test_page_side(void) {
  struct folio_layout_limits def;
  folio_layout_limits_default(&def);
  CHECK(def.max_page_side == 14400.0);
  check_limit("{\"version\":1,\"pages\":[{\"items\":[]},{\"size\":{\"width\":100000,\"height\":10},\"items\":[]}]}",
              &def, "/pages/1/size: page is 100000 x 10 pt; a side may be at most max_page_side = 14400 pt");
  /* 5 m in mm is 14173 pt: fine; 5.1 m is not */
  struct folio_layout_doc *d = ok("{\"version\":1,\"unit\":\"mm\",\"page\":{\"size\":{\"width\":5000,\"height\":5000}},"
                                 "\"pages\":[{\"items\":[]}]}");
  folio_layout_doc_free(d);
  const char *big = "{\"version\":1,\"unit\":\"in\",\"page\":{\"size\":{\"width\":201,\"height\":1}},"
                    "\"pages\":[{\"items\":[]},{\"items\":[]}]}";
  struct folio_layout_diag diag;
  char *j = bad_lim(big, strlen(big), &def, &diag);
  CHECK_MSG(diag.too_large && diag.count == 1 && strstr(j, "/page/size: page is 14472 x 72 pt"), "%s", j);
  free(j);
  folio_layout_diag_clear(&diag);
  struct folio_layout_limits lim = def;
  lim.max_page_side = 20000;
  d = ok_lim(big, &lim);
  folio_layout_doc_free(d);
}

/* FOLIO_LAYOUT_* variables override single limits; a bad value is named. */
static void test_limits_env(void) {
  struct folio_layout_limits lim;
  char err[200] = "";
  setenv("FOLIO_LAYOUT_MAX_IMAGE_BYTES_TOTAL", "1048576", 1);
  setenv("FOLIO_LAYOUT_MAX_PAGE_SIDE", "1000", 1);
  CHECK_MSG(folio_layout_limits_from_env(&lim, err, sizeof err) == 0, "%s", err);
  CHECK(lim.max_image_bytes_total == 1048576 && lim.max_page_side == 1000.0 && lim.max_jpeg_scans == 100);
  setenv("FOLIO_LAYOUT_MAX_JPEG_SCANS", "0", 1);
  CHECK_EQ_INT(folio_layout_limits_from_env(&lim, err, sizeof err), -1);
  CHECK_MSG(strstr(err, "FOLIO_LAYOUT_MAX_JPEG_SCANS: \"0\" is not an integer in 1..100000"), "%s", err);
  unsetenv("FOLIO_LAYOUT_MAX_IMAGE_BYTES_TOTAL");
  unsetenv("FOLIO_LAYOUT_MAX_PAGE_SIDE");
  unsetenv("FOLIO_LAYOUT_MAX_JPEG_SCANS");
}

static void test_limits(void) {
  struct folio_layout_limits def, lim;
  folio_layout_limits_default(&def);
  CHECK_EQ_INT(def.max_bytes, 32u << 20);
  CHECK_EQ_INT(def.max_pages, 1000);
  CHECK_EQ_INT(def.max_items_per_page, 10000);
  const char *two_pages = "{\"version\":1,\"pages\":[{\"items\":[]},{\"items\":[]}]}";
  lim = def;
  lim.max_bytes = 10;
  check_limit(two_pages, &lim, ": document is 49 bytes, more than the limit of 10");
  lim.max_bytes = 48; /* one byte short */
  check_limit(two_pages, &lim, ": document is 49 bytes, more than the limit of 48");
  lim.max_bytes = 49; /* exactly the limit */
  folio_layout_doc_free(ok_lim(two_pages, &lim));
  lim = def;
  lim.max_pages = 1;
  check_limit(two_pages, &lim, "/pages: more than 1 pages");
  lim.max_pages = 2;
  folio_layout_doc_free(ok_lim(two_pages, &lim));
  lim = def;
  lim.max_items_per_page = 1;
  check_limit("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"line\",\"x1\":0,\"y1\":0,\"x2\":1,\"y2\":1},"
              "{\"type\":\"line\",\"x1\":0,\"y1\":0,\"x2\":1,\"y2\":1}]}]}",
              &lim, "/pages/0/items: more than 1 items on a page");
  lim = def;
  lim.max_string_bytes = 4;
  check_limit("{\"version\":1,\"meta\":{\"title\":\"hello\"},\"pages\":[{\"items\":[]}]}", &lim,
              "/meta/title: string is 5 bytes, more than the limit of 4");
  lim = def;
  lim.max_depth = 4;
  check_limit("{\"version\":1,\"x\":[[[[[1]]]]],\"pages\":[{\"items\":[]}]}", &lim,
              "nested deeper than 4 levels");
  check_limit("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,"
              "\"runs\":[{\"text\":\"a\"}]}]}]}",
              &lim, "/pages/0/items/0: nested deeper than 4 levels");
  /* default depth: a hostile nesting is rejected without recursion */
  size_t n = 200000;
  char *deep = malloc(2 * n + 64);
  CHECK_MSG(deep != NULL, "out of memory");
  size_t o = (size_t)sprintf(deep, "{\"version\":1,\"x\":");
  memset(deep + o, '[', n);
  memset(deep + o + n, ']', n);
  strcpy(deep + o + 2 * n, "}");
  char *j = bad_lim(deep, strlen(deep), NULL, NULL);
  CHECK(strstr(j, "/x: unknown field") && strstr(j, "nested deeper than 32 levels"));
  free(j);
  free(deep);
}

/* A 1x1 RGB PNG (69 bytes), base64; PNG1_ESC is the same with "/" written "\/". */
static const char PNG1[] =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNg/McOAAIKAQdm0WSOAAAAAElFTkSuQmCC";
static const char PNG1_ESC[] =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNg\\/McOAAIKAQdm0WSOAAAAAElFTkSuQmCC";

static void test_assets(void) {
  char buf[1024];
  snprintf(buf, sizeof buf,
           "{\"version\":1,\"assets\":{\"p\":{\"data\":\"%s\",\"media_type\":\"image/png\"}},"
           "\"pages\":[{\"items\":[{\"type\":\"image\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"asset\":\"p\","
           "\"fit\":\"cover\"}]}]}",
           PNG1);
  struct folio_layout_doc *d = ok(buf);
  CHECK_EQ_INT(d->n_assets, 1);
  CHECK_EQ_INT(d->assets[0].type, FOLIO_ASSET_PNG);
  CHECK_EQ_INT(d->assets[0].width, 1);
  CHECK_EQ_INT(d->assets[0].height, 1);
  CHECK_EQ_INT(d->assets[0].size, 69);
  CHECK(memcmp(d->assets[0].data, "\x89PNG", 4) == 0);
  CHECK(d->pages[0].items[0].u.image.asset == &d->assets[0]);
  CHECK_EQ_INT(d->pages[0].items[0].u.image.fit, FOLIO_FIT_COVER);
  folio_layout_doc_free(d);

  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  lim.max_asset_bytes = 68;
  check_limit(buf, &lim, "/assets/p/data: asset is 69 bytes decoded, more than the limit of 68");
  lim.max_asset_bytes = 10;
  check_limit(buf, &lim, "/assets/p/data: asset is about 69 bytes decoded");
  folio_layout_limits_default(&lim);
  lim.max_image_pixels = 0;
  check_limit(buf, &lim, "/assets/p/data: image is 1x1 = 1 pixels, more than the limit of 0");
  /* base64 with an escaped '/' still decodes (JSON escapes are undone first) */
  snprintf(buf, sizeof buf,
           "{\"version\":1,\"assets\":{\"p\":{\"media_type\":\"image/png\",\"data\":\"%s\"}},"
           "\"pages\":[{\"items\":[]}]}",
           PNG1_ESC);
  d = ok(buf);
  CHECK_EQ_INT(d->assets[0].size, 69);
  folio_layout_doc_free(d);
  CHECK_BAD("{\"version\":1,\"assets\":{\"p\":{\"media_type\":\"image/png\",\"data\":\"iVBO=w==\"}},"
            "\"pages\":[{\"items\":[]}]}",
            "/assets/p/data: must be base64");
}

static void test_numbers(void) {
  struct folio_layout_doc *d = ok(
      "{\"version\":1.0,\"pages\":[{\"items\":[{\"type\":\"line\",\"x1\":0.1,\"y1\":-123.456e-2,"
      "\"x2\":1234567890123456789e-13,\"y2\":0.000000000000000000000000001e27,\"opacity\":1E-0}]}]}");
  const struct folio_item *l = &d->pages[0].items[0];
  CHECK(l->u.line.x1 == 0.1);
  CHECK(l->u.line.y1 == -1.23456);
  CHECK(l->u.line.x2 == 123456.7890123456789);
  CHECK(l->u.line.y2 == 1.0);
  CHECK(l->opacity == 1.0);
  folio_layout_doc_free(d);
  CHECK(NEAR(folio_unit_to_pt(FOLIO_UNIT_IN, 2), 144));
  CHECK(NEAR(folio_unit_to_pt(FOLIO_UNIT_MM, 25.4), 72));
  CHECK(NEAR(folio_unit_to_pt(FOLIO_UNIT_PT, 3), 3));
}

static void test_api_edges(void) {
  /* NULL diag: errors are counted, not kept */
  struct folio_layout_doc *doc = (struct folio_layout_doc *)1;
  CHECK_EQ_INT(folio_layout_decode("{", 1, NULL, &doc, NULL), FOLIO_LAYOUT_EINVAL);
  CHECK(doc == NULL);
  CHECK_EQ_INT(folio_layout_decode(NULL, 0, NULL, &doc, NULL), FOLIO_LAYOUT_EINVAL);
  /* not NUL-terminated: only len bytes are read */
  const char full[] = "{\"version\":1,\"pages\":[{\"items\":[]}]}garbage";
  CHECK_EQ_INT(folio_layout_decode(full, sizeof full - 1 - 7, NULL, &doc, NULL), 0);
  folio_layout_doc_free(doc);
  folio_layout_doc_free(NULL);
  CHECK(folio_layout_diag_join(NULL) == NULL);
  struct folio_layout_diag empty = {0};
  CHECK(folio_layout_diag_join(&empty) == NULL);
  /* a NUL byte in the input is not whitespace */
  const char nul[] = "{\"version\":1,\"pages\":[{\"items\":[]}]}\0";
  char *j = bad_lim(nul, sizeof nul - 1, NULL, NULL);
  CHECK(strstr(j, "end of the document"));
  free(j);
}

/* Tagged-PDF structure: defaults, links bound to their targets, the
 * "structured" flag, and the rules the corpus checks once more here. */
static void test_structure(void) {
  struct folio_layout_doc *d = ok(
      "{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"a\"},"
      "{\"type\":\"rect\",\"x\":0,\"y\":0,\"w\":9,\"h\":9}]}]}");
  CHECK(!d->structured);
  CHECK(d->lang == NULL);
  CHECK_EQ_INT(d->pages[0].items[0].role, FOLIO_ROLE_P);
  CHECK_EQ_INT(d->pages[0].items[1].role, FOLIO_ROLE_ARTIFACT);
  CHECK(d->pages[0].label == NULL && d->pages[0].items[0].link == NULL);
  folio_layout_doc_free(d);
  /* each structure field alone marks the document structured */
  d = ok("{\"version\":1,\"meta\":{\"lang\":\"de-CH\"},\"pages\":[{\"items\":[]}]}");
  CHECK(d->structured);
  CHECK_EQ_STR(d->lang, "de-CH");
  folio_layout_doc_free(d);
  d = ok("{\"version\":1,\"pages\":[{\"label\":\"iv\",\"items\":[]}]}");
  CHECK(d->structured);
  CHECK_EQ_STR(d->pages[0].label, "iv");
  folio_layout_doc_free(d);

  d = ok("{\"version\":1,\"unit\":\"mm\",\"assets\":{\"a\":{\"media_type\":\"image/png\",\"data\":"
         "\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\"}},"
         "\"pages\":[{\"items\":["
         "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"T\",\"role\":\"h2\",\"id\":\"t\",\"lang\":\"fr\"},"
         "{\"type\":\"image\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"asset\":\"a\",\"alt\":\"A dot\",\"link\":\"#page=2\"},"
         "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"runs\":[{\"text\":\"a\"},"
         "{\"text\":\"b\",\"link\":\"https://e.org/x\"},{\"text\":\"c\",\"link\":\"#u\"}]},"
         "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"1.\",\"role\":\"list_label\",\"list\":\"l\"},"
         "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"one\",\"role\":\"list_item\",\"list\":\"l\"}"
         "]},{\"items\":["
         "{\"type\":\"line\",\"x1\":0,\"y1\":0,\"x2\":1,\"y2\":1},"
         "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"H\",\"table\":\"tb\",\"row\":0,\"col\":3,"
         "\"header\":true,\"id\":\"u\",\"link\":\"mailto:a@b.c\"}]}]}");
  CHECK(d->structured);
  const struct folio_item *h = &d->pages[0].items[0], *im = &d->pages[0].items[1], *r = &d->pages[0].items[2];
  const struct folio_item *cell = &d->pages[1].items[1];
  CHECK_EQ_INT(h->role, FOLIO_ROLE_H2);
  CHECK_EQ_STR(h->id, "t");
  CHECK_EQ_STR(h->lang, "fr");
  CHECK_EQ_INT(im->role, FOLIO_ROLE_FIGURE); /* the default for an image */
  CHECK_EQ_STR(im->alt, "A dot");
  CHECK(im->link && im->link->kind == FOLIO_LINK_PAGE && im->link->page == 1);
  CHECK(r->u.text.runs[0].link == NULL);
  const struct folio_link *l1 = r->u.text.runs[1].link, *l2 = r->u.text.runs[2].link;
  CHECK(l1 && l1->kind == FOLIO_LINK_URI);
  CHECK_EQ_STR(l1->target, "https://e.org/x");
  /* an anchor defined later, on another page, bound to that item */
  CHECK(l2 && l2->kind == FOLIO_LINK_ANCHOR && l2->item == cell && l2->page == 1);
  CHECK_EQ_STR(l2->anchor, "u");
  CHECK_EQ_INT(d->pages[0].items[3].role, FOLIO_ROLE_LIST_LABEL);
  CHECK_EQ_STR(d->pages[0].items[4].list, "l");
  CHECK_EQ_INT(d->pages[1].items[0].role, FOLIO_ROLE_ARTIFACT);
  CHECK_EQ_STR(cell->table, "tb");
  CHECK(cell->row == 0 && cell->col == 3 && cell->header);
  CHECK(cell->link && cell->link->kind == FOLIO_LINK_URI);
  folio_layout_doc_free(d);

#define T1(extra) "{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"a\"" extra "}]}]}"
  CHECK_BAD(T1(",\"lang\":\"en_GB\""), "/pages/0/items/0/lang: must be a BCP 47");
  CHECK_BAD(T1(",\"lang\":\"en-\""), "BCP 47");
  CHECK_BAD(T1(",\"link\":\"javascript:x\""), "/pages/0/items/0/link: must be an http:");
  CHECK_BAD(T1(",\"link\":\"https://a\\\"b\""), "/pages/0/items/0/link: must be");
  CHECK_BAD(T1(",\"link\":\"#page=12345678\""), "/pages/0/items/0/link: must be");
  CHECK_BAD(T1(",\"link\":\"#page=2\""), "page 2 is not defined (the document has 1 pages)");
  CHECK_BAD(T1(",\"link\":\"#a\",\"id\":\"b\""), "/pages/0/items/0/link: id \"a\" is not defined");
  CHECK_BAD(T1(",\"role\":\"figure\""), "role \"figure\" is not for an item of type \"text\"");
  CHECK_BAD(T1(",\"role\":\"list_item\""), "/pages/0/items/0/list: required field is missing");
  CHECK_BAD(T1(",\"table\":\"t\",\"row\":0"), "/pages/0/items/0/col: required field is missing");
  CHECK_BAD(T1(",\"col\":1"), "/pages/0/items/0/col: only for a table cell");
  CHECK_BAD(T1(",\"table\":\"t\",\"row\":0,\"col\":0,\"header\":1"), "/pages/0/items/0/header: must be true or false");
  CHECK_BAD(T1(",\"role\":\"artifact\",\"link\":\"https://e.org\""), "an artifact cannot be a link");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"rect\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"alt\":\"x\"}]}]}",
            "/pages/0/items/0/alt: an artifact has no alt text");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"a\",\"id\":\"x\"},"
            "{\"type\":\"rect\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"id\":\"x\"}]}]}",
            "/pages/0/items/1/id: duplicate id \"x\" (also at /pages/0/items/0");
  /* lists and tables: an artifact between keeps them open, content closes them */
  struct folio_layout_doc *d2 = ok(
      "{\"version\":1,\"pages\":[{\"items\":["
      "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"a\",\"role\":\"list_item\",\"list\":\"l\"},"
      "{\"type\":\"rect\",\"x\":0,\"y\":0,\"w\":1,\"h\":1}]},{\"items\":["
      "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"b\",\"role\":\"list_item\",\"list\":\"l\"},"
      "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"c\",\"table\":\"t\",\"row\":0,\"col\":0},"
      "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"d\",\"table\":\"t\",\"row\":0,\"col\":0},"
      "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"e\",\"table\":\"t\",\"row\":1,\"col\":0}]}]}");
  folio_layout_doc_free(d2);
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":["
            "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"a\",\"role\":\"list_item\",\"list\":\"l\"},"
            "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"x\"}]},{\"items\":["
            "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"b\",\"role\":\"list_item\",\"list\":\"l\"}]}]}",
            "/pages/1/items/0/list: list \"l\" was interrupted");
  CHECK_BAD("{\"version\":1,\"pages\":[{\"items\":["
            "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"c\",\"table\":\"t\",\"row\":1,\"col\":0},"
            "{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":9,\"h\":9,\"text\":\"d\",\"table\":\"t\",\"row\":0,\"col\":5}]}]}",
            "/pages/0/items/1/row: table \"t\": cells must come in document order");
#undef T1
}

int main(void) {
  test_catalogue_model();
  test_text_defaults_and_single_run();
  test_pages();
  test_names_defined_after_use();
  test_errors();
  test_error_cap();
  test_limits();
  test_page_side();
  test_limits_env();
  test_assets();
  test_numbers();
  test_api_edges();
  test_structure();
  return check_done();
}
