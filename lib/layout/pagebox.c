/* Page geometry for print (folio/pagebox.h): the only place where trim,
 * bleed and slug become rectangles. The renderer (PDF page size, item
 * origin, bleed clip, marks), the PNG writer (trimmed or with bleed), the
 * .sla writer and the PDF post-processor's boxes all read them from here. */
#include "folio/pagebox.h"

void folio_layout_page_boxes(const struct folio_page *pg, struct folio_page_boxes *out) {
  const struct folio_sides *b = &pg->bleed;
  double s = pg->slug;
  out->media_w = pg->width + b->left + b->right + 2 * s;
  out->media_h = pg->height + b->top + b->bottom + 2 * s;
  out->media[0] = 0;
  out->media[1] = 0;
  out->media[2] = out->media_w;
  out->media[3] = out->media_h;
  /* y up: the bottom edges are measured from the media's bottom */
  out->bleed[0] = s;
  out->bleed[1] = s;
  out->bleed[2] = out->media_w - s;
  out->bleed[3] = out->media_h - s;
  out->trim[0] = s + b->left;
  out->trim[1] = s + b->bottom;
  out->trim[2] = s + b->left + pg->width;
  out->trim[3] = s + b->bottom + pg->height;
  out->trim_left = s + b->left;
  out->trim_top = s + b->top;
}

bool folio_layout_page_plain(const struct folio_page *pg) {
  const struct folio_sides *b = &pg->bleed;
  return b->top == 0 && b->right == 0 && b->bottom == 0 && b->left == 0 && pg->slug == 0 && pg->marks == 0;
}

bool folio_layout_doc_plain(const struct folio_layout_doc *doc) {
  for (size_t i = 0; i < doc->n_pages; i++)
    if (!folio_layout_page_plain(&doc->pages[i])) return false;
  return true;
}
