/* Every valid corpus document (tests/layouts/valid) renders to PDF, PNG (at
 * 36 dpi, two threads) and SLA in process, under ASan in the sanitizer pass:
 * each render succeeds in all three formats; the PDF is a complete file, there
 * is one PNG per page, and the SLA is a whole document. No corpus document
 * overflows (the ones with overflow "error" fit), so an E_OVERFLOW here is a
 * regression, not an allowed outcome: accepting it let a layout bug that made
 * a fitting box overflow pass as "stopped by overflow".
 *
 * usage: test_render_corpus DIR */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/layout.h"
#include "folio/render.h"
#include "testbuf.h"

struct pngs {
  size_t n;
  struct buf cur;
};
static int begin(void *ctx, size_t page, folio_render_write_fn *w, void **wctx) {
  struct pngs *s = ctx;
  (void)page;
  s->cur.len = 0;
  *w = buf_write;
  *wctx = &s->cur;
  return 0;
}
static int end(void *ctx, size_t page) {
  struct pngs *s = ctx;
  (void)page;
  cairo_surface_t *img = png_from_memory(s->cur.p, s->cur.len);
  CHECK_EQ_INT(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy(img);
  s->n++;
  return 0;
}


int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: %s DIR", argv[0]);
  DIR *d = opendir(argv[1]);
  CHECK_MSG(d != NULL, "cannot open %s", argv[1]);
  size_t docs = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t l = strlen(e->d_name);
    if (l < 6 || strcmp(e->d_name + l - 5, ".json")) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
    size_t len;
    char *json = test_slurp(path, &len);
    struct folio_layout_doc *doc = NULL;
    struct folio_layout_diag ld = {0};
    CHECK_MSG(folio_layout_decode(json, len, NULL, &doc, &ld) == 0, "%s does not decode", path);
    free(json);

    struct folio_render_diag diag = {0};
    struct buf pdf = {0}, sla = {0};
    struct pngs png = {0};
    struct folio_render_options opt = {.dpi = 36, .threads = 2};
    int r1 = folio_render_pdf(doc, &opt, buf_write, &pdf, &diag);
    CHECK_MSG(r1 == 0, "%s: pdf: %d %s", path, r1, diag.message);
    int r2 = folio_render_png(doc, &opt, begin, end, &png, &diag);
    CHECK_MSG(r2 == 0, "%s: png: %d %s", path, r2, diag.message);
    int r3 = folio_render_sla(doc, &opt, buf_write, &sla, &diag);
    CHECK_MSG(r3 == 0, "%s: sla: %d %s", path, r3, diag.message);
    CHECK_MSG(pdf.len > 100 && memcmp(pdf.p, "%PDF-", 5) == 0 && memmem(pdf.p, pdf.len, "%%EOF", 5), "%s", path);
    CHECK_EQ_INT(png.n, doc->n_pages);
    CHECK_MSG(sla.len > 30 && memmem(sla.p, sla.len, "</SCRIBUSUTF8NEW>\n", 18), "%s", path);
    free(pdf.p), free(sla.p), free(png.cur.p);
    folio_layout_doc_free(doc);
    docs++;
  }
  closedir(d);
  CHECK_MSG(docs >= 10, "only %zu documents in %s", docs, argv[1]);
  printf("%zu documents rendered to pdf, png and sla\n", docs);
  return check_done();
}
