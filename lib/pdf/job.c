/* folio_pdf_job: a render's options and its finish's, filled from one
 * document by one function for every caller (folio/pdf_job.h). */
#include <stdlib.h>
#include <string.h>

#include "folio/pagebox.h"
#include "folio/pdf_job.h"

/* folio_render_struct_fn: one reported element into the list. The list is
 * the job's; on a failed append it is marked incomplete (the finish then
 * refuses it rather than write a document with attributes missing). */
static void collect(void *ctx, const struct folio_pdf_struct_attr *a) {
  struct folio_pdf_attrs *l = ctx;
  if (l->nomem) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 32;
    struct folio_pdf_elem_attr *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      l->nomem = 1;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (struct folio_pdf_elem_attr){a->elem, a->type, a->alt, a->lang, a->scope};
}

int folio_pdf_job_init(struct folio_pdf_job *j, const struct folio_layout_doc *doc,
                       const char *lang_override, struct folio_pdf_options *po,
                       struct folio_render_options *ropt) {
  memset(j, 0, sizeof *j);
  size_t n = ropt->pages ? ropt->n_pages : doc->n_pages;
  if (n) {
    j->boxes = calloc(n, sizeof *j->boxes);
    if (!j->boxes) return FOLIO_PDF_E_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    struct folio_page_boxes b;
    folio_layout_page_boxes(&doc->pages[ropt->pages ? ropt->pages[i] : i], &b);
    memcpy(j->boxes[i].media, b.media, sizeof b.media);
    memcpy(j->boxes[i].bleed, b.bleed, sizeof b.bleed);
    memcpy(j->boxes[i].trim, b.trim, sizeof b.trim);
  }
  j->n_boxes = n;
  po->title = doc->title;
  po->author = doc->author;
  po->lang = lang_override && *lang_override ? lang_override : doc->lang;
  po->boxes = j->boxes;
  po->n_boxes = n;
  po->attrs = &j->attrs;
  /* PDF/UA-1 is about the structure: the render must write it (7.1) */
  if (po->profiles & FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFUA_1)) ropt->pdf_tagged = true;
  ropt->pdf_struct = collect;
  ropt->pdf_struct_ctx = &j->attrs;
  return 0;
}

void folio_pdf_job_fini(struct folio_pdf_job *j) {
  if (!j) return;
  free(j->boxes);
  free(j->attrs.v);
  memset(j, 0, sizeof *j);
}
