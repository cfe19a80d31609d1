/* The profile-combination rule (folio/pdf_profile.h). libc only: lib/jobs links
 * it through folio_pdf_profile without linking libqpdf. */
#include <stdio.h>
#include <string.h>

#include "folio/pdf_profile.h"

static const char *const names[FOLIO_PDF_PROFILE_MAX + 1] = {NULL, "pdfa-2b", "pdfx-4", "pdfua-1"};

const char *folio_pdf_profile_name(int profile) {
  return profile > 0 && profile <= FOLIO_PDF_PROFILE_MAX ? names[profile] : NULL;
}

int folio_pdf_profile_parse(const char *name) {
  for (int p = 1; name && p <= FOLIO_PDF_PROFILE_MAX; p++)
    if (strcmp(name, names[p]) == 0) return p;
  return FOLIO_PDF_PROFILE_NONE;
}

static int refuse(char *field, size_t fieldcap, char *why, size_t whycap, const char *f, size_t i,
                  const char *w) {
  if (field && fieldcap) {
    if (i == (size_t)-1) snprintf(field, fieldcap, "%s", f);
    else snprintf(field, fieldcap, "%s[%zu]", f, i);
  }
  if (why && whycap) snprintf(why, whycap, "%s", w);
  return -1;
}

#define KNOWN "must be PDF_PROFILE_PDFA_2B, PDF_PROFILE_PDFX_4 or PDF_PROFILE_PDFUA_1"

int folio_pdf_profiles_set(int first, const int *additional, size_t n, unsigned *set, char *field,
                           size_t fieldcap, char *why, size_t whycap) {
  *set = 0;
  if (first < 0 || first > FOLIO_PDF_PROFILE_MAX)
    return refuse(field, fieldcap, why, whycap, "pdf_profile", (size_t)-1,
                  "must be PDF_PROFILE_UNSPECIFIED, PDF_PROFILE_PDFA_2B, PDF_PROFILE_PDFX_4 or PDF_PROFILE_PDFUA_1");
  if (first == FOLIO_PDF_PROFILE_NONE && n > 0)
    return refuse(field, fieldcap, why, whycap, "additional_pdf_profiles", (size_t)-1,
                  "needs pdf_profile set (the additional profiles add to it)");
  unsigned s = first ? FOLIO_PDF_BIT(first) : 0;
  for (size_t i = 0; i < n; i++) {
    int p = additional[i];
    if (p <= 0 || p > FOLIO_PDF_PROFILE_MAX)
      return refuse(field, fieldcap, why, whycap, "additional_pdf_profiles", i, KNOWN);
    s |= FOLIO_PDF_BIT(p);
  }
  *set = s;
  return 0;
}
