/* The page-range grammar (folio/pagerange.h): one scanner, used both for the
 * grammar-only check and for the parse against a page count. */
#include "folio/pagerange.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t cap, const char *fmt,
                                                      ...) {
  if (why && cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
  }
  return FOLIO_PAGES_ESYNTAX;
}

static void skip_spaces(const char **p) {
  while (**p == ' ') (*p)++;
}

/* Reads a page number at *p: 1..FOLIO_PAGES_NUMBER_MAX, else 0. */
static size_t page_number(const char **p) {
  size_t v = 0;
  if (**p < '0' || **p > '9') return 0;
  while (**p >= '0' && **p <= '9') {
    v = v * 10 + (size_t)(**p - '0');
    if (v > FOLIO_PAGES_NUMBER_MAX) return 0;
    (*p)++;
  }
  return v;
}

/* One item: first..last (last 0 = open range). Advances *p past the item
 * and its trailing "," (if any); *more tells whether another item follows. */
static int next_item(const char *spec, const char **p, size_t *first, size_t *last, bool *more,
                     char *why, size_t cap) {
  *first = *last = 0; /* defined on every path, failures included */
  *more = false;
  skip_spaces(p);
  size_t at = (size_t)(*p - spec);
  const char *q = *p;
  size_t a = page_number(p);
  if (a == 0) {
    if (*q >= '0' && *q <= '9')
      return fail(why, cap, "byte %zu: pages are numbered 1..%u", at, FOLIO_PAGES_NUMBER_MAX);
    return fail(why, cap, "byte %zu: expected a page number (e.g. 1-3,5 or 8-)", at);
  }
  size_t b = a;
  skip_spaces(p);
  if (**p == '-') {
    (*p)++;
    skip_spaces(p);
    if (**p >= '0' && **p <= '9') {
      size_t bat = (size_t)(*p - spec);
      b = page_number(p);
      if (b == 0)
        return fail(why, cap, "byte %zu: pages are numbered 1..%u", bat, FOLIO_PAGES_NUMBER_MAX);
      if (b < a) return fail(why, cap, "byte %zu: the range %zu-%zu runs backwards", at, a, b);
      skip_spaces(p);
    } else {
      b = 0; /* open: to the last page */
    }
  }
  if (**p == ',') {
    (*p)++;
    *more = true;
  } else if (**p == '\0') {
    *more = false;
  } else {
    return fail(why, cap, "byte %zu: expected \",\" or the end (e.g. 1-3,5 or 8-)", (size_t)(*p - spec));
  }
  *first = a;
  *last = b;
  return 0;
}

int folio_layout_pages_check(const char *spec, size_t *need, char *why, size_t whycap) {
  if (need) *need = 0;
  if (!spec || !*spec) return 0;
  size_t most = 0;
  const char *p = spec;
  for (bool more = true; more;) {
    size_t a, b;
    int rc = next_item(spec, &p, &a, &b, &more, why, whycap);
    if (rc) return rc;
    size_t n = b ? b : a;
    if (n > most) most = n;
  }
  if (need) *need = most;
  return 0;
}

int folio_layout_pages_parse(const char *spec, size_t n_doc_pages, size_t **out, size_t *n_out,
                             char *why, size_t whycap) {
  *out = NULL;
  *n_out = 0;
  size_t need;
  int rc = folio_layout_pages_check(spec, &need, why, whycap);
  if (rc) return rc;
  if (need > n_doc_pages) {
    if (why && whycap)
      snprintf(why, whycap, "page %zu is past the end (the document has %zu page%s)", need,
               n_doc_pages, n_doc_pages == 1 ? "" : "s");
    return FOLIO_PAGES_EPAST;
  }
  if (n_doc_pages == 0) return 0;
  /* +1 where an item starts, -1 past where it ends: linear in items + pages
   * however much the items overlap */
  long *want = calloc(n_doc_pages + 1, sizeof *want);
  if (!want) {
    if (why && whycap) snprintf(why, whycap, "out of memory");
    return FOLIO_PAGES_ENOMEM;
  }
  if (!spec || !*spec) {
    want[0]++;
    want[n_doc_pages]--;
  } else {
    const char *p = spec;
    for (bool more = true; more;) {
      size_t a, b;
      if (next_item(spec, &p, &a, &b, &more, NULL, 0) != 0) { /* checked above: never */
        free(want);
        return FOLIO_PAGES_ESYNTAX;
      }
      if (b == 0) b = n_doc_pages;
      want[a - 1]++;
      want[b]--;
    }
  }
  size_t n = 0;
  long depth = 0;
  for (size_t i = 0; i < n_doc_pages; i++) {
    depth += want[i];
    want[i] = depth; /* now: how many items cover page i */
    n += depth > 0;
  }
  size_t *list = malloc(n * sizeof *list);
  if (!list) {
    free(want);
    if (why && whycap) snprintf(why, whycap, "out of memory");
    return FOLIO_PAGES_ENOMEM;
  }
  n = 0;
  for (size_t i = 0; i < n_doc_pages; i++)
    if (want[i] > 0) list[n++] = i;
  free(want);
  *out = list;
  *n_out = n;
  return 0;
}
