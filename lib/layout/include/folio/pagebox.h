/* Page geometry for print: the one place that turns a page's trim size,
 * bleed and slug (folio/layout.h) into the rectangles a PDF page carries.
 *
 *   +---------------------------------------------+  MediaBox: the PDF page
 *   |  slug (marks)                               |
 *   |    +-------------------------------------+  |  BleedBox: where paint may go
 *   |    |  bleed                              |  |
 *   |    |    +---------------------------+    |  |  TrimBox: the finished page;
 *   |    |    | (0,0) item coordinates    |    |  |  items are placed from its
 *   |    |    |                           |    |  |  top-left corner
 *   |    |    +---------------------------+    |  |
 *   |    +-------------------------------------+  |
 *   +---------------------------------------------+
 *
 * media = trim + bleed (per side) + slug (all four sides), so
 * trim ⊆ bleed ⊆ media always holds. Rectangles are in PDF user space: points,
 * origin at the bottom-left corner of the MediaBox, y up, in the order of a
 * PDF rectangle array [x0 y0 x1 y1] = [left bottom right top], so
 * struct folio_pdf_page_boxes (lib/pdf) is a memcpy of media/bleed/trim.
 *
 * Pure functions of the page, no allocation, any thread. */
#ifndef FOLIO_PAGEBOX_H
#define FOLIO_PAGEBOX_H

#include <stdbool.h>

#include "folio/layout.h"

/* Marks start this far outside the bleed box (so a cut that drifts into the
 * bleed never shows a mark) and run to the edge of the media. */
#define FOLIO_MARK_OFFSET_PT 6.0

struct folio_page_boxes {
  double media_w, media_h; /* the MediaBox's size, pt */
  double media[4];         /* [0 0 media_w media_h] */
  double bleed[4];         /* trim grown by the bleed */
  double trim[4];          /* the page's width x height */
  /* The trim's top-left corner from the media's top-left corner, y down:
   * where a painter working in the model's coordinates (origin top-left,
   * y down) translates to. = slug + bleed.left, slug + bleed.top. */
  double trim_left, trim_top;
};

/* Fills *out for pg. */
void folio_layout_page_boxes(const struct folio_page *pg, struct folio_page_boxes *out);

/* True when the page has no bleed, no slug and no marks: its MediaBox is its
 * TrimBox and nothing is drawn outside it (today's output, unchanged). */
bool folio_layout_page_plain(const struct folio_page *pg);
/* True when every page of doc is plain: a caller may skip writing boxes. */
bool folio_layout_doc_plain(const struct folio_layout_doc *doc);

#endif
