/* The canonical JSON form the render cache hashes (folio_layout_canonical,
 * lib/layout/canonical.c): exact expected bytes for each rule, variants of
 * one document that must give the same bytes, and documents that must not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/layout.h"

static char *canon(const char *json) {
  char *out = NULL;
  size_t n = 0;
  int rc = folio_layout_canonical(json, strlen(json), 0, &out, &n);
  CHECK_MSG(rc == 0, "canonical(%s) = %d", json, rc);
  char *s = malloc(n + 1);
  CHECK(s != NULL);
  memcpy(s, out, n);
  s[n] = '\0';
  free(out);
  return s;
}

static void expect(const char *json, const char *want) {
  char *got = canon(json);
  CHECK_MSG(strcmp(got, want) == 0, "canonical(%s)\n  got  %s\n  want %s", json, got, want);
  free(got);
}

static void same(const char *a, const char *b) {
  char *x = canon(a), *y = canon(b);
  CHECK_MSG(strcmp(x, y) == 0, "%s and %s differ: %s vs %s", a, b, x, y);
  free(x);
  free(y);
}

static void differ(const char *a, const char *b) {
  char *x = canon(a), *y = canon(b);
  CHECK_MSG(strcmp(x, y) != 0, "%s and %s should differ, both %s", a, b, x);
  free(x);
  free(y);
}

static void refused(const char *json, int want) {
  char *out = (char *)1;
  size_t n = 1;
  int rc = folio_layout_canonical(json, strlen(json), 4, &out, &n);
  CHECK_MSG(rc == want, "canonical(%s) = %d, want %d", json, rc, want);
  CHECK(out == NULL && n == 0);
}

int main(void) {
  /* whitespace goes, members sort by key, arrays keep their order */
  expect(" { \"b\" : 1 ,\n\t\"a\" : [ 3 , 1 , 2 ] } ", "{\"a\":[3,1,2],\"b\":1}");
  expect("{}", "{}");
  expect("[]", "[]");
  expect("{\"x\":{}}", "{\"x\":{}}");
  /* nested objects are sorted too; a shorter key first on a common prefix */
  expect("{\"z\":{\"bb\":1,\"b\":2,\"a\":3},\"y\":null}",
         "{\"y\":null,\"z\":{\"a\":3,\"b\":2,\"bb\":1}}");
  /* bytewise order: upper case before lower case, ASCII before UTF-8 */
  expect("{\"\xc3\xa9\":1,\"e\":2,\"E\":3}", "{\"E\":3,\"e\":2,\"\xc3\xa9\":1}");
  /* strings: one spelling each */
  expect("\"\\u0041\\/\\u00e9\"", "\"A/\xc3\xa9\"");
  expect("\"q\\\"b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001F\"",
         "\"q\\\"b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f\"");
  expect("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
  /* keys follow the string rule before they are sorted */
  expect("{\"\\u0062\":1,\"a\":2}", "{\"a\":2,\"b\":1}");
  /* numbers: the shortest spelling that reads back to the same double */
  expect("[1.0, 1e0, 10E-1, 0.5, -0, -0.0, 100, 1e2, 0.1, 1e21, 123456789012345678]",
         "[1,1,1,0.5,0,0,100,100,0.1,1e+21,1.2345678901234568e+17]");
  expect("[2.5e-7, 3.14159265358979]", "[2.5e-07,3.14159265358979]");
  /* decimals written as they stand when already canonical, else respelled */
  expect("[0.0001, 0.00001, 1.50, -0.5, 10.25, 0.001234, 12.0, 1234567890123.45]",
         "[0.0001,1e-05,1.5,-0.5,10.25,0.001234,12,1234567890123.45]");
  expect("[1234567890123456.5, 0.30000000000000004, 123456789012345678.5]",
         "[1234567890123456.5,0.30000000000000004,1.2345678901234568e+17]");
  same("[0.1, 100.5]", "[1e-1, 1.005e2]");
  expect("[true,false,null]", "[true,false,null]");

  /* a whole layout, two spellings */
  same("{\"version\":1,\"unit\":\"mm\",\"pages\":[{\"width\":210,\"height\":297,\"items\":[]}]}",
       "{\n  \"pages\": [ { \"items\": [ ], \"height\": 297.0, \"width\": 2.1e2 } ],\n"
       "  \"unit\": \"\\u006dm\",\n  \"version\": 1\n}\n");
  /* ... and what must stay apart */
  differ("{\"a\":1}", "{\"a\":2}");
  differ("{\"a\":\"1\"}", "{\"a\":1}");
  differ("[1,2]", "[2,1]");
  differ("{\"a\":[]}", "{\"a\":{}}");
  differ("{\"a\":0.1}", "{\"a\":0.10000000000000002}");

  /* not one JSON value */
  refused("", FOLIO_LAYOUT_EINVAL);
  refused("{\"a\":1", FOLIO_LAYOUT_EINVAL);
  refused("{\"a\" 1}", FOLIO_LAYOUT_EINVAL);
  refused("[1 2]", FOLIO_LAYOUT_EINVAL);
  refused("{\"a\":1} x", FOLIO_LAYOUT_EINVAL);
  refused("1e999", FOLIO_LAYOUT_EINVAL);
  refused("[[[[[1]]]]]", FOLIO_LAYOUT_EINVAL); /* deeper than max_depth 4 */
  refused("\"\xff\"", FOLIO_LAYOUT_EINVAL);

  /* a big object sorts in O(n log n): 200k members, reversed */
  {
    size_t n = 200000;
    char *j = malloc(n * 24 + 2), *p = j;
    CHECK(j != NULL);
    *p++ = '{';
    for (size_t i = 0; i < n; i++) p += sprintf(p, "%s\"k%07zu\":%zu", i ? "," : "", n - 1 - i, i);
    *p++ = '}';
    char *out;
    size_t len;
    CHECK_EQ_INT(folio_layout_canonical(j, (size_t)(p - j), 0, &out, &len), 0);
    CHECK(len == (size_t)(p - j));
    CHECK(memcmp(out, "{\"k0000000\":199999,\"k0000001\":199998", 36) == 0);
    free(out);
    free(j);
  }
  printf("ok\n");
  return 0;
}
