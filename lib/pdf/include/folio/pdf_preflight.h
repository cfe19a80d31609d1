/* folio_pdf_preflight: a finished PDF checked against the PDF profiles it was
 * made for, with libqpdf (qpdf-c.h), reporting each rule it breaks as a
 * finding (folio/findings.h, stage FOLIO_FINDING_PREFLIGHT).
 *
 * What is checked, and for which profile (docs/findings.md lists every code
 * with the veraPDF rule, or the ISO clause where veraPDF has none, that it
 * corresponds to):
 *   always      the file opens (PDF_UNREADABLE); no /Encrypt (PDF_ENCRYPTED);
 *               no JavaScript or forbidden actions (PDF_JAVASCRIPT,
 *               PDF_FORBIDDEN_ACTION); every font embedded
 *               (PDF_FONT_NOT_EMBEDDED); page boxes nested, TrimBox within
 *               BleedBox within MediaBox (PDF_BOXES_NOT_NESTED)
 *   PDF/A-2b    trailer /ID (PDF_ID_MISSING); XMP metadata (PDF_XMP_MISSING)
 *               with pdfaid:part 2, conformance B (PDF_XMP_PDFA_ID) and
 *               consistent with Info (PDF_XMP_INFO_MISMATCH); a GTS_PDFA1
 *               OutputIntent (PDF_OUTPUT_INTENT_MISSING) whose ICC profile
 *               is a printer or monitor profile in RGB, CMYK or Gray
 *               (PDF_OUTPUT_INTENT_PROFILE); one profile for all output
 *               intents (PDF_OUTPUT_INTENTS_DIFFER)
 *   PDF/X-4     /ID, XMP with pdfxid:GTS_PDFXVersion "PDF/X-4", XMP and Info
 *               consistent; a GTS_PDFX OutputIntent with a printer (prtr)
 *               ICC profile; TrimBox or ArtBox on every page
 *               (PDF_TRIMBOX_MISSING); Info /Trapped True or False
 *               (PDF_TRAPPED_MISSING)
 *   PDF/UA-1    XMP with pdfuaid:part 1 (PDF_XMP_PDFUA_ID) and dc:title
 *               (PDF_UA_NO_TITLE); MarkInfo /Marked true (PDF_UA_NOT_MARKED);
 *               StructTreeRoot (PDF_UA_NO_STRUCTURE); catalog /Lang
 *               (PDF_UA_NO_LANG); ViewerPreferences /DisplayDocTitle true
 *               (PDF_UA_DISPLAY_DOC_TITLE); every Figure element with /Alt
 *               or /ActualText (PDF_UA_FIGURE_NO_ALT)
 * A rule of an asked profile broken is an ERROR finding; the "always" rules
 * are WARNINGs when no profile was asked (today's plain output), except
 * encryption and JavaScript, which folio never writes: ERROR always.
 * Findings name the page (1-based) where there is one, else page 0; their
 * pointer is empty (a PDF object is named in the message instead).
 *
 * Work is bounded: FOLIO_PDF_PREFLIGHT_MAX_STRUCT_NODES structure elements
 * and FOLIO_PDF_PREFLIGHT_MAX_XOBJECT_DEPTH levels of nested form XObjects
 * are visited at most; the XMP packet read is at most
 * FOLIO_PDF_PREFLIGHT_MAX_XMP_BYTES.
 *
 * Thread-safety: reentrant (each call opens its own qpdf handle); the list
 * belongs to the caller for the call. */
#ifndef FOLIO_PDF_PREFLIGHT_H
#define FOLIO_PDF_PREFLIGHT_H

#include "folio/findings.h"
#include "folio/pdf_profile.h"

/* The profiles to check against: the set folio/pdf_profile.h defines, a bit
 * FOLIO_PDF_BIT(p) per folio.v1.PdfProfile value (1 = PDF/A-2b, 2 = PDF/X-4,
 * 3 = PDF/UA-1), so folio_pdf_options.profiles is passed as it is; 0 = the
 * checks that apply to any PDF. One definition: these are aliases. */
#define FOLIO_PDF_PREFLIGHT_PROFILE(n) FOLIO_PDF_BIT(n)
#define FOLIO_PDF_PREFLIGHT_PDFA_2B FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFA_2B)
#define FOLIO_PDF_PREFLIGHT_PDFX_4 FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFX_4)
#define FOLIO_PDF_PREFLIGHT_PDFUA_1 FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFUA_1)

/* The bounds of one preflight (docs/security.md). */
#define FOLIO_PDF_PREFLIGHT_MAX_STRUCT_NODES 100000
#define FOLIO_PDF_PREFLIGHT_MAX_XOBJECT_DEPTH 8
#define FOLIO_PDF_PREFLIGHT_MAX_XMP_BYTES (4u << 20)

enum {
  FOLIO_PDF_PREFLIGHT_ENOMEM = -1, /* the findings list could not take a finding */
  FOLIO_PDF_PREFLIGHT_EINVAL = -2, /* path NULL, or a profile bit outside the three */
};

/* Checks the PDF at path against profiles and appends what it finds to
 * findings (in this order: file, trailer, catalog and metadata, output
 * intents, then pages in order). A file qpdf cannot open is one
 * PDF_UNREADABLE finding, not an error. Returns 0 (whatever was found),
 * or a negative FOLIO_PDF_PREFLIGHT_E* code. path and findings are borrowed
 * for the call. */
int folio_pdf_preflight(const char *path, unsigned profiles, struct folio_findings *findings);

#endif
