/* lib/pdf's private parts shared between its files. */
#ifndef FOLIO_PDF_INT_H
#define FOLIO_PDF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <qpdf/qpdf-c.h>

#include "folio/pdf.h"
#include "folio/str.h"

/* Sets diag (may be NULL) and returns code. field may be NULL or "". */
int folio_pdf_fail(struct folio_pdf_diag *diag, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends s to b escaped for XML character data and attribute values
 * (b's oom is sticky as for every folio_str append). */
void folio_pdf_buf_xml(struct folio_str *b, const char *s);

/* A copy of the UTF-8 string s without C0/C1 controls (tab, CR and LF become
 * spaces), U+FFFE and U+FFFF: what both Info and XMP can hold, so they stay
 * equal. malloc'd; NULL when out of memory. s must be valid UTF-8. */
char *folio_pdf_text_clean(const char *s);

/* A PDF date ("D:YYYYMMDDHHmmSSOHH'mm'", any tail optional) as XMP wants it
 * ("YYYY-MM-DDTHH:mm:SS+HH:mm" or "...Z"), and as the normalised PDF date
 * written back to Info so the two say the same instant at the same precision.
 * 0, or -1 when pdf is not a date. */
#define FOLIO_PDF_DATE_MAX 96 /* room for any int the format could print */
int folio_pdf_date_convert(const char *pdf, char xmp[FOLIO_PDF_DATE_MAX], char info[FOLIO_PDF_DATE_MAX]);

/* What goes into the XMP packet. Strings already cleaned; NULL = absent. */
struct folio_pdf_xmp {
  unsigned profiles;
  const char *title, *author, *subject, *lang;
  const char *creator_tool, *producer;
  const char *create_date, *modify_date; /* XMP form */
  /* PDF/X-4 wants xmpMM:DocumentID/InstanceID: "uuid:..." made from the
   * input's bytes, so the same input keeps the same id (determinism) */
  const char *document_id;
};
/* The packet, into b (check b->oom). */
void folio_pdf_xmp_build(struct folio_str *b, const struct folio_pdf_xmp *x);

/* ---- PDF/UA-1 (ua.c) ---- */

/* The structure walk's bounds: elements visited at most, and nesting depth. */
#define FOLIO_PDF_STRUCT_ELEMS_MAX 1000000u
#define FOLIO_PDF_STRUCT_DEPTH_MAX 512 /* arrays count as a level: 256 elements deep */

/* Writes a's attributes on the elements of the PDF's structure tree (the
 * pre-order index folio_pdf_elem_attr.elem, checked against its /S).
 * Returns 0 or FOLIO_PDF_E_*. */
int folio_pdf_struct_attrs(qpdf_data q, const struct folio_pdf_attrs *a, struct folio_pdf_diag *diag);

/* The content stream s[0..len) into out with every operation outside a
 * marked-content sequence (depth 0 of BDC/BMC ... EMC) inside an
 * /Artifact BMC ... EMC of its own; consecutive ones share one. *changed
 * says whether anything was wrapped. 0; -1 when s does not lex or its
 * marked content does not balance; -2 out of memory. */
int folio_pdf_wrap_artifacts(const unsigned char *s, size_t len, struct folio_str *out, bool *changed);

/* PDF/UA-1 for one page (1-based pageno for messages): /Contents on its
 * /Link annotations, artifacts wrapped. Returns 0 or FOLIO_PDF_E_*. */
int folio_pdf_ua_page(qpdf_data q, qpdf_oh page, int pageno, struct folio_pdf_diag *diag);

#endif
