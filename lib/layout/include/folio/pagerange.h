/* The page-range grammar: which pages of a document a render produces.
 *
 * One grammar for every caller — `folio render --pages`, SubmitLayout's
 * options.page_range (checked by lib/jobs at submit time, against the page
 * count once the server decoded the layout) and the worker — so a string the
 * CLI accepts the server accepts, and the other way round. It lives in
 * lib/layout, below lib/render and lib/jobs, because all three use it. The
 * grammar is also stated in protos/folio/v1/layout_service.proto
 * (RenderOptions.page_range); keep the two in step.
 *
 *   range = item *("," item)        ; "" alone means every page
 *   item  = page / page "-" page / page "-"
 *   page  = 1*DIGIT                 ; decimal, 1..FOLIO_PAGES_NUMBER_MAX
 *
 * Spaces (U+0020 only) may surround any page, "-" or ",". "N-" is an open
 * range: page N to the last page. "N-M" needs N <= M. Items may repeat or
 * overlap; the selection is their union, rendered once each in document
 * order. A page past the end of the document (or an open range starting
 * there) is an error, FOLIO_PAGES_EPAST, never silently dropped.
 *
 * Messages (why) are built from constants and numbers read from spec only,
 * never from other bytes of spec. Pure and reentrant. */
#ifndef FOLIO_PAGERANGE_H
#define FOLIO_PAGERANGE_H

#include <stddef.h>

/* The largest page number the grammar admits (documents are far smaller:
 * see folio_layout_limits.max_pages); a longer number is a syntax error. */
#define FOLIO_PAGES_NUMBER_MAX 1000000u

/* A useful size for why buffers. */
#define FOLIO_PAGES_WHY_MAX 128

enum {
  FOLIO_PAGES_ESYNTAX = -1, /* not the grammar above */
  FOLIO_PAGES_EPAST = -2,   /* names a page past the end of the document */
  FOLIO_PAGES_ENOMEM = -3,
};

/* Checks spec (NUL-terminated; NULL is "") against the grammar alone, for a
 * caller that does not know the page count yet. *need (NULL allowed)
 * receives the fewest pages a document must have for spec to fit: the
 * highest page named, counting an open range "N-" as N; 0 for "". Returns 0
 * or FOLIO_PAGES_ESYNTAX with a reason in why[whycap] (why may be NULL). */
int folio_layout_pages_check(const char *spec, size_t *need, char *why, size_t whycap);

/* Parses spec for a document of n_doc_pages pages into the selected 0-based
 * page indexes, ascending and distinct: *out is malloc'd (caller frees with
 * free(); NULL when n_doc_pages is 0) and *n_out its length. "" selects every
 * page. Returns 0, FOLIO_PAGES_ESYNTAX, FOLIO_PAGES_EPAST or
 * FOLIO_PAGES_ENOMEM with a reason in why[whycap] (why may be NULL); on
 * failure *out is NULL and *n_out 0. */
int folio_layout_pages_parse(const char *spec, size_t n_doc_pages, size_t **out, size_t *n_out,
                             char *why, size_t whycap);

#endif
