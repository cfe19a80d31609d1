/* folio_pdf_job: the glue between a PDF render (lib/render) and its finish
 * (folio/pdf.h), written once for both callers, folio-worker and
 * `folio render`, so the two give the same bytes for the same request.
 *
 * For one document and page selection it fills struct folio_pdf_options
 * with what the document says (title, author, the language, the print
 * boxes of each rendered page from folio_layout_page_boxes) and the render
 * options with what the profiles need (a tagged render for PDF/UA-1), and it
 * collects the structure attributes the render reports through
 * folio_render_options.pdf_struct, which the finish then writes (PDF/UA).
 *
 * Ownership: struct folio_pdf_job is the caller's (usually on its stack). It
 * owns the boxes array and the attribute list (folio_pdf_job_fini frees
 * them); po->boxes and po->attrs point into it, so po is valid between
 * folio_pdf_job_init and folio_pdf_job_fini. The attributes' strings are
 * borrowed from the document: doc must outlive the finish.
 *
 * Threads: one job per render; the collector runs on the rendering thread
 * (the renderer calls pdf_struct there). */
#ifndef FOLIO_PDF_JOB_H
#define FOLIO_PDF_JOB_H

#include <stddef.h>

#include "folio/layout.h"
#include "folio/pdf.h"
#include "folio/render.h"

struct folio_pdf_job {
  struct folio_pdf_page_boxes *boxes; /* one per rendered page; owned */
  size_t n_boxes;
  struct folio_pdf_attrs attrs; /* what the render reported; owned */
};

/* Fills po (already holding the environment's ICC settings and po->profiles)
 * and ropt for rendering doc's selected pages (ropt->pages/n_pages, NULL =
 * all) into a PDF that folio_pdf_finish() completes:
 *   po->title, po->author   the document's meta
 *   po->lang                lang_override when not NULL/"", else meta.lang
 *   po->boxes, n_boxes      MediaBox/BleedBox/TrimBox of every rendered page
 *                           (so a document with bleed or marks gets them
 *                           even without a profile: folio_pdf_needed says so)
 *   po->attrs               the structure attributes, filled during the render
 *   ropt->pdf_tagged        true when PDF/UA-1 is asked
 *   ropt->pdf_struct, _ctx  the collector
 * Returns 0 or FOLIO_PDF_E_NOMEM (j holds nothing then). */
int folio_pdf_job_init(struct folio_pdf_job *j, const struct folio_layout_doc *doc,
                       const char *lang_override, struct folio_pdf_options *po,
                       struct folio_render_options *ropt);
void folio_pdf_job_fini(struct folio_pdf_job *j);

#endif
