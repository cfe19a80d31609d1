/* libFuzzer target for the layout decoder: any bytes must give 0 (and a model
 * that is walked end to end) or -1 with at least one error, never a crash, a
 * leak or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every pointer of the model so ASan sees a dangling or short one. */
static size_t walk(const struct folio_layout_doc *doc) {
  size_t sum = 0;
  for (size_t a = 0; a < doc->n_assets; a++)
    sum += doc->assets[a].size ? doc->assets[a].data[doc->assets[a].size - 1] : 0;
  for (size_t p = 0; p < doc->n_pages; p++) {
    const struct folio_page *pg = &doc->pages[p];
    for (size_t i = 0; i < pg->n_items; i++) {
      const struct folio_item *it = &pg->items[i];
      if (it->name) sum += strlen(it->name);
      switch (it->kind) {
        case FOLIO_ITEM_TEXT:
          for (size_t r = 0; r < it->u.text.n_runs; r++) {
            const struct folio_run *run = &it->u.text.runs[r];
            sum += strlen(run->text) + strlen(run->style.font) + (size_t)(run->style.color->r * 255);
          }
          break;
        case FOLIO_ITEM_IMAGE: sum += it->u.image.asset->width; break;
        case FOLIO_ITEM_RECT:
        case FOLIO_ITEM_ELLIPSE:
          if (it->u.shape.fill) sum += (size_t)(it->u.shape.fill->g * 255);
          if (it->u.shape.stroke) sum += (size_t)(it->u.shape.stroke->b * 255);
          break;
        case FOLIO_ITEM_LINE: sum += (size_t)(it->u.line.stroke->r * 255); break;
      }
    }
  }
  return sum;
}

static void decode_once(const uint8_t *data, size_t size, const struct folio_layout_limits *lim) {
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  int rc = folio_layout_decode((const char *)data, size, lim, &doc, &diag);
  if (rc == 0) {
    if (!doc || diag.count) abort();
    volatile size_t s = walk(doc);
    (void)s;
    folio_layout_doc_free(doc);
  } else if (rc == FOLIO_LAYOUT_EINVAL) {
    if (doc || diag.count == 0) abort();
    char *j = folio_layout_diag_join(&diag);
    if (!j) abort();
    free(j);
  }
  folio_layout_diag_clear(&diag);
}

/* Each input is decoded twice: with roomy limits, and with tiny ones so that
 * every limit's exit path is reached from every kind of document. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  lim.max_bytes = 1 << 20;
  lim.max_image_pixels = 1 << 20;
  lim.max_errors = 8;
  decode_once(data, size, &lim);
  lim.max_depth = 5;
  lim.max_pages = 2;
  lim.max_items_per_page = 3;
  lim.max_string_bytes = 16;
  lim.max_asset_bytes = 64;
  lim.max_image_pixels = 64;
  lim.max_errors = 2;
  decode_once(data, size, &lim);
  return 0;
}
