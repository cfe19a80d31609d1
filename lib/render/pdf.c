/* folio_render_pdf: cairo's PDF surface writing through a stream callback.
 * cairo emits each page's content when the page is finished and the font
 * subsets at the end, so nothing larger than a page is buffered here. The
 * creation date is fixed (cairo would otherwise stamp the current time), so
 * identical inputs give identical bytes. */
#include <stdlib.h>

#include <cairo-pdf.h>

#include "folio/pagebox.h"
#include "render_int.h"

/* A fixed date: the PDF says when folio's format was defined, not when it ran. */
#define FOLIO_PDF_DATE "2024-01-01T00:00:00Z"

struct pdf_run {
  folio_render_write_fn write;
  void *write_ctx;
  bool write_failed;
  const struct folio_render_options *opt;
  size_t done, total;
  bool cancelled;
};

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int len) {
  struct pdf_run *r = closure;
  if (r->write_failed) return CAIRO_STATUS_WRITE_ERROR;
  if (r->write(r->write_ctx, data, len)) {
    r->write_failed = true;
    return CAIRO_STATUS_WRITE_ERROR;
  }
  return CAIRO_STATUS_SUCCESS;
}

/* Counts one item and asks the caller's progress hook whether to go on. */
static int pdf_should_stop(void *ctx) {
  struct pdf_run *r = ctx;
  r->done++;
  if (r->opt && r->opt->progress && r->opt->progress(r->opt->progress_ctx, r->done, r->total))
    r->cancelled = true;
  return r->cancelled;
}

int folio_render_pdf(const struct folio_layout_doc *doc, const struct folio_render_options *opt,
                     folio_render_write_fn write, void *write_ctx, struct folio_render_diag *diag) {
  struct folio_render_diag local_diag;
  if (!diag) diag = &local_diag; /* the caller may not want the detail */
  size_t *pages, n;
  struct pdf_run run = {.write = write, .write_ctx = write_ctx, .opt = opt};
  int rc = folio_render_selection(doc, opt, &pages, &n, &run.total, diag);
  if (rc) return rc;

  struct folio_render_context *rctx; /* opt->context, held for this call (its slot 0's font map) */
  rc = folio_render_context_acquire(opt, 1, &rctx, diag);
  if (rc) {
    free(pages);
    return rc;
  }
  struct folio_guard guard;
  folio_guard_init(&guard, opt);
  struct folio_image_cache *images = folio_image_cache_new(doc, guard.budget.image_cache_bytes);
  struct folio_painter painter;
  rc = images ? folio_painter_init_slot(&painter, folio_render_context_slot(rctx, 0), doc, true, images, &guard, diag)
              : folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "out of memory");
  if (rc) {
    folio_image_cache_free(images);
    folio_render_context_release(rctx);
    free(pages);
    return rc;
  }
  painter.should_stop = pdf_should_stop;
  painter.stop_ctx = &run;

  struct folio_page_boxes first;
  folio_layout_page_boxes(&doc->pages[pages[0]], &first);
  cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(pdf_write, &run, first.media_w, first.media_h);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "folio");
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, FOLIO_PDF_DATE);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, FOLIO_PDF_DATE);
  /* cairo refuses noncharacters (and so the whole PDF): clean copies */
  char *title = doc->title ? folio_text_clean(doc->title) : NULL;
  char *author = doc->author ? folio_text_clean(doc->author) : NULL;
  if (title) cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
  if (author) cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, author);
  free(title);
  free(author);
  cairo_t *cr = cairo_create(surface);
  /* Tagged when the document says anything about its structure, or when
   * asked (a PDF/UA render): docs/internals/render.md, "Tagged PDF". */
  struct folio_tags tags;
  bool tagged = doc->structured || (opt && opt->pdf_tagged);
  painter.tags = NULL; /* set with the first page when tagged */

  for (size_t i = 0; i < n && !rc; i++) {
    /* the PDF page is the media box: trim + bleed + slug (folio/pagebox.h) */
    struct folio_page_boxes bx;
    folio_layout_page_boxes(&doc->pages[pages[i]], &bx);
    cairo_pdf_surface_set_size(surface, bx.media_w, bx.media_h);
    /* After the first page's set_size: cairo 1.16 drops the tags recorded
     * on a page before its size is set, and without the Document element
     * first it writes no /MarkInfo (the PDF is not "tagged"). */
    if (tagged && i == 0) {
      folio_tags_init(&tags, cr, surface, doc, pages, n);
      tags.attr = opt ? opt->pdf_struct : NULL;
      tags.attr_ctx = opt ? opt->pdf_struct_ctx : NULL;
      painter.tags = &tags;
    }
    if (tagged) folio_tags_page(&tags, pages[i]);
    rc = folio_paint_page_media(&painter, cr, pages[i], diag);
    if (!rc) cairo_show_page(cr);
    if (!rc && pdf_should_stop(&run))
      rc = folio_render_fail(diag, FOLIO_RENDER_E_CANCELLED, 0, NULL, "cancelled");
    if (!rc && run.write_failed) rc = folio_render_fail(diag, FOLIO_RENDER_E_WRITE, 0, NULL, "write aborted");
  }
  if (painter.tags) folio_tags_finish(&tags); /* balanced, also after a failure */
  cairo_destroy(cr);
  if (rc) run.write_failed = true; /* failed: the caller gets no more bytes */
  cairo_surface_finish(surface); /* writes fonts, xref and trailer */
  cairo_status_t st = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  folio_painter_fini(&painter);
  folio_image_cache_free(images);
  folio_render_context_release(rctx);
  free(pages);
  if (rc) return rc;
  if (run.write_failed) return folio_render_fail(diag, FOLIO_RENDER_E_WRITE, 0, NULL, "write aborted");
  if (st) return folio_render_fail(diag, FOLIO_RENDER_E_CAIRO, 0, NULL, "cairo: %s", cairo_status_to_string(st));
  return 0;
}
