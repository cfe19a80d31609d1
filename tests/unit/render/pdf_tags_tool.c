/* Renders a layout to a tagged PDF and prints, one line each, the structure
 * attributes the render reported for the post-processor (struct
 * folio_pdf_struct_attr): elem, type, alt, lang, scope, tab-separated, "-"
 * for NULL. For tags_test.py, which checks them against the PDF's own
 * structure tree.
 *
 * usage: pdf_tags_tool LAYOUT.json OUT.pdf [--pages LIST] [--force] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h" /* slurp.h uses its CHECK */
#include "folio/layout.h"
#include "folio/pagerange.h"

#include "folio/render.h"
#include "slurp.h"

static int file_write(void *ctx, const unsigned char *d, size_t n) { return fwrite(d, 1, n, ctx) != n; }

static void attr(void *ctx, const struct folio_pdf_struct_attr *a) {
  (void)ctx;
  printf("%zu\t%s\t%s\t%s\t%s\n", a->elem, a->type, a->alt ? a->alt : "-", a->lang ? a->lang : "-",
         a->scope ? a->scope : "-");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: pdf_tags_tool LAYOUT.json OUT.pdf [--pages LIST] [--force]\n");
    return 2;
  }
  size_t len;
  char *json = test_slurp(argv[1], &len);
  if (!json) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  if (folio_layout_decode(json, len, NULL, &doc, &diag) != 0) {
    char *why = folio_layout_diag_join(&diag);
    fprintf(stderr, "invalid layout: %s\n", why ? why : "?");
    return 2;
  }
  free(json);
  struct folio_render_options opt = {.pdf_struct = attr};
  size_t *pages = NULL;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--force") == 0) {
      opt.pdf_tagged = true;
    } else if (strcmp(argv[i], "--pages") == 0 && i + 1 < argc) {
      char err[200];
      if (folio_layout_pages_parse(argv[++i], doc->n_pages, &pages, &opt.n_pages, err, sizeof err) != 0) {
        fprintf(stderr, "--pages: %s\n", err);
        return 2;
      }
      opt.pages = pages;
    }
  }
  FILE *f = fopen(argv[2], "wb");
  if (!f) return 2;
  struct folio_render_diag rd;
  int rc = folio_render_pdf(doc, &opt, file_write, f, &rd);
  if (fclose(f) != 0) rc = -1;
  if (rc) fprintf(stderr, "render failed: %s\n", rd.message);
  free(pages);
  folio_layout_doc_free(doc);
  folio_layout_diag_clear(&diag);
  return rc ? 1 : 0;
}
