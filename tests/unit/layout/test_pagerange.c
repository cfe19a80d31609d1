/* The page-range grammar (folio/pagerange.h), table-driven: every string is
 * checked both alone (the grammar, as the server checks at submit) and
 * against a page count (as the CLI and the worker parse it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/pagerange.h"

struct pcase {
  const char *spec;
  size_t pages;       /* the document's page count */
  int rc;             /* folio_layout_pages_parse's result */
  const char *want;   /* the selection as 1-based "a b c", when rc == 0 */
  size_t need;        /* folio_layout_pages_check's *need, when the grammar holds */
};

static const struct pcase cases[] = {
    /* every page */
    {"", 3, 0, "1 2 3", 0},
    {NULL, 2, 0, "1 2", 0},
    {"", 0, 0, "", 0},
    /* single pages and closed ranges */
    {"1", 5, 0, "1", 1},
    {"5", 5, 0, "5", 5},
    {"1-3,5", 6, 0, "1 2 3 5", 5},
    {"2-2", 3, 0, "2", 2},
    {"007", 9, 0, "7", 7},
    /* open ranges */
    {"8-", 10, 0, "8 9 10", 8},
    {"3-", 3, 0, "3", 3},
    {"1-", 2, 0, "1 2", 1},
    {"8-", 7, FOLIO_PAGES_EPAST, NULL, 8},
    {"2,4-", 6, 0, "2 4 5 6", 4},
    /* duplicates and overlaps: the union, once each, ascending */
    {"5,1,5,1", 5, 0, "1 5", 5},
    {"3-5,1-4,4", 6, 0, "1 2 3 4 5", 5},
    {"1-,2-3", 4, 0, "1 2 3 4", 3},
    /* spaces around tokens */
    {" 1 - 3 , 5 ", 5, 0, "1 2 3 5", 5},
    {"4- ,2", 5, 0, "2 4 5", 4},
    /* past the end */
    {"6", 5, FOLIO_PAGES_EPAST, NULL, 6},
    {"2-9", 5, FOLIO_PAGES_EPAST, NULL, 9},
    {"1", 0, FOLIO_PAGES_EPAST, NULL, 1},
    {"1000000", 5, FOLIO_PAGES_EPAST, NULL, 1000000},
    /* not the grammar */
    {" ", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"0", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"0-2", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1-0", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"3-1", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"-3", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"-", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1,", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {",1", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1,,2", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1--2", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1-2-3", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1 2", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1;2", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"x", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1-x", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"+1", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1.5", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"\t1", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1\n", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"\xef\xbc\x91", 5, FOLIO_PAGES_ESYNTAX, NULL, 0}, /* U+FF11 FULLWIDTH DIGIT ONE */
    {"1000001", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"1-1000001", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
    {"99999999999999999999999", 5, FOLIO_PAGES_ESYNTAX, NULL, 0},
};

static void join(const size_t *l, size_t n, char *buf, size_t cap) {
  size_t pos = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && pos < cap; i++)
    pos += (size_t)snprintf(buf + pos, cap - pos, "%s%zu", i ? " " : "", l[i] + 1);
}

static void test_table(void) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct pcase *c = &cases[i];
    char why[FOLIO_PAGES_WHY_MAX] = "";
    size_t need = 12345;
    int crc = folio_layout_pages_check(c->spec, &need, why, sizeof why);
    CHECK_MSG(crc == (c->rc == FOLIO_PAGES_ESYNTAX ? FOLIO_PAGES_ESYNTAX : 0),
              "check \"%s\": %d (%s)", c->spec ? c->spec : "(null)", crc, why);
    if (crc == 0) CHECK_MSG(need == c->need, "check \"%s\": need %zu", c->spec, need);
    else CHECK_MSG(why[0] != '\0', "check \"%s\": no reason", c->spec);
    size_t *l = (size_t *)(uintptr_t)1, n = 99;
    why[0] = '\0';
    int rc = folio_layout_pages_parse(c->spec, c->pages, &l, &n, why, sizeof why);
    CHECK_MSG(rc == c->rc, "parse \"%s\" of %zu: %d, want %d (%s)", c->spec ? c->spec : "(null)",
              c->pages, rc, c->rc, why);
    if (rc == 0) {
      char got[256];
      join(l, n, got, sizeof got);
      CHECK_MSG(strcmp(got, c->want) == 0, "parse \"%s\": got \"%s\", want \"%s\"", c->spec, got,
                c->want);
    } else {
      CHECK_MSG(l == NULL && n == 0, "parse \"%s\": output left set", c->spec);
      CHECK_MSG(why[0] != '\0', "parse \"%s\": no reason", c->spec);
    }
    free(l);
  }
}

/* The reasons name a byte offset and numbers, never other bytes of spec. */
static void test_reasons(void) {
  char why[FOLIO_PAGES_WHY_MAX];
  CHECK_EQ_INT(folio_layout_pages_check("1,2,secret", NULL, why, sizeof why), FOLIO_PAGES_ESYNTAX);
  CHECK_EQ_STR(why, "byte 4: expected a page number (e.g. 1-3,5 or 8-)");
  CHECK_EQ_INT(folio_layout_pages_check("5-3", NULL, why, sizeof why), FOLIO_PAGES_ESYNTAX);
  CHECK_EQ_STR(why, "byte 0: the range 5-3 runs backwards");
  CHECK_EQ_INT(folio_layout_pages_check("0", NULL, why, sizeof why), FOLIO_PAGES_ESYNTAX);
  CHECK_EQ_STR(why, "byte 0: pages are numbered 1..1000000");
  size_t *l, n;
  CHECK_EQ_INT(folio_layout_pages_parse("2-9", 5, &l, &n, why, sizeof why), FOLIO_PAGES_EPAST);
  CHECK_EQ_STR(why, "page 9 is past the end (the document has 5 pages)");
  /* why may be NULL */
  CHECK_EQ_INT(folio_layout_pages_check("x", NULL, NULL, 0), FOLIO_PAGES_ESYNTAX);
  CHECK_EQ_INT(folio_layout_pages_parse("9", 1, &l, &n, NULL, 0), FOLIO_PAGES_EPAST);
}

/* Heavy overlap stays linear: 500 items of 1-1000 over 1000 pages. */
static void test_overlap(void) {
  size_t cap = 500 * 8 + 1, pos = 0;
  char *spec = malloc(cap);
  CHECK(spec);
  for (int i = 0; i < 500; i++) pos += (size_t)snprintf(spec + pos, cap - pos, "%s1-1000", i ? "," : "");
  size_t *l, n;
  CHECK_EQ_INT(folio_layout_pages_parse(spec, 1000, &l, &n, NULL, 0), 0);
  CHECK_EQ_INT(n, 1000);
  CHECK_EQ_INT(l[999], 999);
  free(l);
  free(spec);
}

int main(void) {
  test_table();
  test_reasons();
  test_overlap();
  return check_done();
}
