/* The PDF profiles a render may ask for, and which may be combined: one rule,
 * stated here once, for every caller — `folio render --pdf-profile`,
 * SubmitLayout's options.pdf_profile / additional_pdf_profiles (checked by
 * lib/jobs' submit validator) and lib/pdf itself, which refuses a set this
 * check refuses. It is its own tiny library (folio_pdf_profile, libc only), so
 * lib/jobs links the rule without linking libqpdf.
 *
 * The numbers equal folio.v1.PdfProfile. A set of profiles is a bit mask,
 * FOLIO_PDF_BIT(profile).
 *
 * Combinations: every subset of {PDF/A-2b, PDF/X-4, PDF/UA-1} is allowed,
 * because the three standards constrain different things and their common
 * requirements agree once one output profile serves both PDF/A and PDF/X
 * (docs/internals/pdf.md, "Combinations"). What is refused is a request that
 * does not say a set: an unknown value, PDF_PROFILE_UNSPECIFIED among the
 * additional profiles, or additional profiles without a first one. A profile
 * named twice counts once (as formats do).
 *
 * Pure and reentrant. */
#ifndef FOLIO_PDF_PROFILE_H
#define FOLIO_PDF_PROFILE_H

#include <stddef.h>

enum folio_pdf_profile {
  FOLIO_PDF_PROFILE_NONE = 0, /* PDF_PROFILE_UNSPECIFIED: cairo's PDF as it is */
  FOLIO_PDF_PROFILE_PDFA_2B = 1,
  FOLIO_PDF_PROFILE_PDFX_4 = 2,
  FOLIO_PDF_PROFILE_PDFUA_1 = 3,
};
#define FOLIO_PDF_PROFILE_MAX 3
#define FOLIO_PDF_BIT(p) (1u << (unsigned)(p))
/* Every profile bit. */
#define FOLIO_PDF_PROFILES_ALL \
  (FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFA_2B) | FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFX_4) | \
   FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFUA_1))

/* A useful size for why buffers. */
#define FOLIO_PDF_WHY_MAX 160

/* The set named by first (0 = none) and additional[0..n) into *set. Returns 0,
 * or -1 with the request field at fault in field[fieldcap] ("pdf_profile",
 * "additional_pdf_profiles[2]", field names of folio.v1.RenderOptions) and why
 * in why[whycap] (both may be NULL). Messages are built from constants and the
 * numbers given only. */
int folio_pdf_profiles_set(int first, const int *additional, size_t n, unsigned *set, char *field,
                           size_t fieldcap, char *why, size_t whycap);

/* "pdfa-2b", "pdfx-4", "pdfua-1" (the CLI's spelling), NULL for others. */
const char *folio_pdf_profile_name(int profile);
/* The CLI's spelling back to a profile; FOLIO_PDF_PROFILE_NONE when unknown. */
int folio_pdf_profile_parse(const char *name);

#endif
