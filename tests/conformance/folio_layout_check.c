/* folio_layout_check: runs the C decoder over files, one line per file:
 *
 *   <path>\tOK
 *   <path>\tREJECT\t<pointer>: <message>[; <pointer>: <message>...]
 *
 * Used by the schema-agreement test (agree.sh) and by hand. With --dump, an
 * accepted document is also summarised (pages, items, resolved styles).
 * Exit status: 0 when every file was decoded or rejected, 2 on usage or I/O
 * errors, 3 when out of memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/layout.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap);
  size_t r;
  while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      char *nb = realloc(b, cap *= 2);
      if (!nb) free(b);
      b = nb;
    }
  }
  fclose(f);
  *len = n;
  return b;
}

static const char *const KINDS[] = {"?", "text", "image", "rect", "ellipse", "line"};

static void dump(const struct folio_layout_doc *doc) {
  printf("  version %d, %zu page(s), %zu colour(s), %zu asset(s), title %s\n", doc->version,
         doc->n_pages, doc->n_colors, doc->n_assets, doc->title ? doc->title : "(none)");
  for (size_t a = 0; a < doc->n_assets; a++)
    printf("  asset %s: %s %ux%u, %zu bytes\n", doc->assets[a].name,
           doc->assets[a].type == FOLIO_ASSET_PNG ? "PNG" : "JPEG", doc->assets[a].width,
           doc->assets[a].height, doc->assets[a].size);
  for (size_t p = 0; p < doc->n_pages; p++) {
    const struct folio_page *pg = &doc->pages[p];
    printf("  page %zu: %.2f x %.2f pt (%s), %zu item(s)\n", p, pg->width, pg->height,
           pg->size_name ? pg->size_name : "custom", pg->n_items);
    for (size_t i = 0; i < pg->n_items; i++) {
      const struct folio_item *it = &pg->items[i];
      printf("    %s [%.2f %.2f %.2f %.2f]", KINDS[it->kind], it->x, it->y, it->w, it->h);
      if (it->kind == FOLIO_ITEM_TEXT)
        for (size_t r = 0; r < it->u.text.n_runs; r++) {
          const struct folio_run *run = &it->u.text.runs[r];
          printf(" \"%s\"(%s %d %.1fpt rgb %.2f,%.2f,%.2f)", run->text, run->style.font,
                 run->style.weight, run->style.size, run->style.color->r, run->style.color->g,
                 run->style.color->b);
        }
      printf("\n");
    }
  }
}

int main(int argc, char **argv) {
  bool want_dump = false;
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dump") == 0) {
      want_dump = true;
      continue;
    }
    size_t len;
    char *buf = slurp(argv[i], &len);
    if (!buf) {
      fprintf(stderr, "folio_layout_check: cannot read %s\n", argv[i]);
      rc = 2;
      continue;
    }
    struct folio_layout_doc *doc;
    struct folio_layout_diag diag = {0};
    int r = folio_layout_decode(buf, len, NULL, &doc, &diag);
    if (r == 0) {
      printf("%s\tOK\n", argv[i]);
      if (want_dump) dump(doc);
      folio_layout_doc_free(doc);
    } else if (r == FOLIO_LAYOUT_EINVAL) {
      char *j = folio_layout_diag_join(&diag);
      printf("%s\tREJECT\t%s\n", argv[i], j ? j : "");
      free(j);
    } else {
      fprintf(stderr, "folio_layout_check: out of memory on %s\n", argv[i]);
      rc = 3;
    }
    folio_layout_diag_clear(&diag);
    free(buf);
  }
  return rc;
}
