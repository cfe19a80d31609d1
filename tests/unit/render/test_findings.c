/* The paint stage's findings (folio_render_options.findings): a clipped text
 * (TEXT_OVERSET), a family fontconfig lacks (FONT_SUBSTITUTED, naming the
 * font used), a character no font has (GLYPH_MISSING), a picture printed at
 * 19 dpi (IMAGE_LOW_DPI), an item wholly off the page (OBJECT_OFF_PAGE) —
 * each with its page and pointer — and the items beside them that must not
 * be reported. The PDF and the multi-threaded PNG report the same set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/findings.h"
#include "folio/layout.h"
#include "folio/render.h"

/* a 16 x 16 PNG */
#define LOGO                                                                                              \
  "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAWElEQVQ4jWOUKn7BQAlgwSH+H4c4I7oAEwmascqhG4BPM1Y1TLgkiDW" \
  "ECV2AVEOwhQFJYNQAhAEYKYwIwIjuAlIMgatF9wIxhqCowRYG+AzBkMOVG4n2DgAvjwqaZM6JyAAAAABJRU5ErkJggg=="

static const char *layout =
    "{\"version\":1,\"assets\":{\"logo\":{\"media_type\":\"image/png\",\"data\":\"" LOGO "\"}},"
    "\"page\":{\"size\":\"A4\"},\"pages\":[{\"items\":["
    /* 0: fits, a font that exists */
    "{\"type\":\"text\",\"x\":40,\"y\":40,\"w\":300,\"h\":40,\"text\":\"Hello\",\"font\":\"DejaVu Sans\"},"
    /* 1: clipped */
    "{\"type\":\"text\",\"x\":40,\"y\":100,\"w\":80,\"h\":20,\"overflow\":\"clip\","
    "\"text\":\"one two three four five six seven eight nine ten eleven twelve\"},"
    /* 2: a family nobody has */
    "{\"type\":\"text\",\"x\":40,\"y\":140,\"w\":300,\"h\":40,\"text\":\"Hi\",\"font\":\"No Such Family\"},"
    /* 3: U+E000 (private use: no installed font has it) */
    "{\"type\":\"text\",\"x\":40,\"y\":200,\"w\":300,\"h\":40,\"text\":\"a\\ue000b\\ue000\"},"
    /* 4: 16 px over 60 pt = 19.2 dpi */
    "{\"type\":\"image\",\"x\":40,\"y\":260,\"w\":120,\"h\":60,\"asset\":\"logo\",\"fit\":\"contain\"},"
    /* 5: 16 px over 4 pt = 288 dpi */
    "{\"type\":\"image\",\"x\":200,\"y\":260,\"w\":4,\"h\":4,\"asset\":\"logo\"},"
    /* 6: wholly left of the page */
    "{\"type\":\"rect\",\"x\":-500,\"y\":100,\"w\":100,\"h\":50,\"fill\":\"#ff0000\"},"
    /* 7: partly off the page */
    "{\"type\":\"rect\",\"x\":-10,\"y\":100,\"w\":50,\"h\":50,\"fill\":\"#ff0000\"},"
    /* 8: off the page unturned, turned 90 degrees it reaches in */
    "{\"type\":\"rect\",\"x\":-30,\"y\":300,\"w\":20,\"h\":100,\"rotation\":90,\"fill\":\"#00ff00\"},"
    /* 9: shrink makes it fit */
    "{\"type\":\"text\",\"x\":40,\"y\":400,\"w\":80,\"h\":20,\"overflow\":\"shrink\","
    "\"text\":\"one two three four five six seven\"},"
    /* 10: below the page */
    "{\"type\":\"line\",\"x1\":10,\"y1\":900,\"x2\":100,\"y2\":950}"
    "]},{\"items\":["
    "{\"type\":\"text\",\"x\":40,\"y\":40,\"w\":60,\"h\":14,\"text\":\"clipped on the second page too\"}"
    "]}]}";

static int discard(void *ctx, const unsigned char *d, size_t n) {
  (void)ctx, (void)d, (void)n;
  return 0;
}

static int png_begin(void *ctx, size_t page, folio_render_write_fn *w, void **wctx) {
  (void)page;
  *w = discard;
  *wctx = ctx;
  return 0;
}

static struct folio_layout_doc *decode(const char *json) {
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag ld = {0};
  int rc = folio_layout_decode(json, strlen(json), &lim, &doc, &ld);
  CHECK_MSG(rc == 0, "decode: %d", rc);
  folio_layout_diag_clear(&ld);
  return doc;
}

static const struct folio_finding *find(const struct folio_findings *f, const char *code, const char *ptr) {
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->items[i].code, code) == 0 && strcmp(f->items[i].pointer, ptr) == 0) return &f->items[i];
  return NULL;
}

static void expect_set(const struct folio_findings *f) {
  if (f->n != 7)
    for (size_t i = 0; i < f->n; i++)
      fprintf(stderr, "  %s p%u %s: %s\n", f->items[i].code, f->items[i].page, f->items[i].pointer,
              f->items[i].message);
  CHECK_EQ_INT(f->n, 7);
  const struct folio_finding *e = find(f, "TEXT_OVERSET", "/pages/0/items/1");
  CHECK(e && e->page == 1 && e->severity == FOLIO_FINDING_WARNING && e->stage == FOLIO_FINDING_PAINT);
  CHECK_MSG(strstr(e->message, "overflow \"clip\"") && strstr(e->message, "lines not shown"), "%s", e->message);
  e = find(f, "FONT_SUBSTITUTED", "/pages/0/items/2");
  CHECK(e && e->page == 1 && e->severity == FOLIO_FINDING_WARNING);
  const char *pre = "font family \"No Such Family\" is not available; \"";
  CHECK_MSG(strncmp(e->message, pre, strlen(pre)) == 0, "%s", e->message);
  /* it names the family used: a real one, not the one asked for */
  CHECK_MSG(strlen(e->message) > strlen(pre) + strlen("\" was used") &&
                strcmp(e->message + strlen(e->message) - 10, "\" was used") == 0,
            "%s", e->message);
  e = find(f, "GLYPH_MISSING", "/pages/0/items/3");
  CHECK(e && e->page == 1 && e->severity == FOLIO_FINDING_ERROR);
  CHECK_MSG(strstr(e->message, "U+E000 \"\xEE\x80\x80\" in \"") && strstr(e->message, "(2 characters"), "%s",
            e->message);
  e = find(f, "IMAGE_LOW_DPI", "/pages/0/items/4");
  CHECK(e && e->page == 1);
  CHECK_MSG(strcmp(e->message, "image \"logo\" is printed at 19 dpi (16 x 16 pixels over 60 x 60 pt), "
                               "below 150 dpi") == 0,
            "%s", e->message);
  e = find(f, "OBJECT_OFF_PAGE", "/pages/0/items/6");
  CHECK(e && e->page == 1);
  CHECK_MSG(strstr(e->message, "-500.0..-400.0"), "%s", e->message);
  e = find(f, "OBJECT_OFF_PAGE", "/pages/0/items/10");
  CHECK(e && e->page == 1);
  e = find(f, "TEXT_OVERSET", "/pages/1/items/0");
  CHECK(e && e->page == 2);
}

int main(void) {
  struct folio_layout_doc *doc = decode(layout);
  struct folio_findings f;

  /* the PDF */
  folio_findings_init(&f, 0);
  struct folio_render_options opt = {.findings = &f};
  struct folio_render_diag d = {0};
  CHECK_MSG(folio_render_pdf(doc, &opt, discard, NULL, &d) == 0, "%s", d.message);
  expect_set(&f);
  /* in document order */
  CHECK_EQ_STR(f.items[0].pointer, "/pages/0/items/1");
  CHECK_EQ_STR(f.items[6].pointer, "/pages/1/items/0");
  folio_findings_fini(&f);

  /* the PNG on several threads: the same set */
  folio_findings_init(&f, 0);
  opt = (struct folio_render_options){.findings = &f, .threads = 2, .dpi = 36};
  CHECK_MSG(folio_render_png(doc, &opt, png_begin, NULL, NULL, &d) == 0, "%s", d.message);
  expect_set(&f);
  folio_findings_fini(&f);

  /* a page list: only its pages are reported */
  folio_findings_init(&f, 0);
  size_t second[] = {1};
  opt = (struct folio_render_options){.findings = &f, .pages = second, .n_pages = 1};
  CHECK(folio_render_pdf(doc, &opt, discard, NULL, &d) == 0);
  CHECK_EQ_INT(f.n, 1);
  CHECK_EQ_STR(f.items[0].pointer, "/pages/1/items/0");
  folio_findings_fini(&f);

  /* the caller's dpi threshold */
  folio_findings_init(&f, 0);
  opt = (struct folio_render_options){.findings = &f, .min_image_dpi = 19};
  CHECK(folio_render_pdf(doc, &opt, discard, NULL, &d) == 0);
  CHECK(find(&f, "IMAGE_LOW_DPI", "/pages/0/items/4") == NULL);
  folio_findings_fini(&f);
  folio_findings_init(&f, 0);
  opt = (struct folio_render_options){.findings = &f, .min_image_dpi = 300};
  CHECK(folio_render_pdf(doc, &opt, discard, NULL, &d) == 0);
  CHECK(find(&f, "IMAGE_LOW_DPI", "/pages/0/items/5") != NULL); /* 288 dpi < 300 */
  folio_findings_fini(&f);

  /* the SLA reports nothing; no list, no reports */
  folio_findings_init(&f, 0);
  opt = (struct folio_render_options){.findings = &f};
  CHECK(folio_render_sla(doc, &opt, discard, NULL, &d) == 0);
  CHECK_EQ_INT(f.n, 0);
  folio_findings_fini(&f);
  opt = (struct folio_render_options){0};
  CHECK(folio_render_pdf(doc, &opt, discard, NULL, &d) == 0);

  /* a clean document has none */
  struct folio_layout_doc *clean = decode(
      "{\"version\":1,\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":10,\"y\":10,\"w\":300,\"h\":100,"
      "\"runs\":[{\"text\":\"plain \"},{\"text\":\"bold\",\"weight\":\"bold\",\"font\":\"dejavu sans\"},"
      "{\"text\":\" generic\",\"font\":\"sans-serif\"},"
      "{\"text\":\" condensed\",\"font\":\"DejaVu Sans Condensed\"},"
      "{\"text\":\" listed\",\"font\":\"No Such Family, DejaVu Serif\"}]}]}]}");
  folio_findings_init(&f, 0);
  opt = (struct folio_render_options){.findings = &f};
  CHECK(folio_render_pdf(clean, &opt, discard, NULL, &d) == 0);
  CHECK_MSG(f.n == 0, "%s: %s", f.n ? f.items[0].code : "", f.n ? f.items[0].message : "");
  folio_findings_fini(&f);
  folio_layout_doc_free(clean);

  folio_layout_doc_free(doc);
  return check_done();
}
