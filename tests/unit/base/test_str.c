/* The growable string (folio/str.h): byte-exact appends that keep the bytes
 * NUL-terminated, growth far past the first capacity, printf of any length,
 * the empty string made non-NULL by ok/take, take and free resetting the
 * struct, and the sticky out-of-memory flag (an append whose size would wrap
 * sets it deterministically, without the allocator's help). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/str.h"

/* A string whose allocation failed (the allocation-failure run fails them one
 * by one) ends the test cleanly: exit 1 with a message, never a read of what
 * was not stored. */
#define MUST_OK(s)                                                   \
  do {                                                               \
    if (!folio_str_ok(s)) {                                          \
      fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__); \
      folio_str_free(s);                                             \
      exit(1);                                                       \
    }                                                                \
  } while (0)

static void empty(void) {
  struct folio_str s = {0};
  MUST_OK(&s); /* an empty string is "" after ok, not NULL */
  CHECK(s.p != NULL);
  CHECK_EQ_STR(s.p, "");
  CHECK_EQ_INT(s.len, 0);
  folio_str_free(&s);
  CHECK(s.p == NULL && s.len == 0 && s.cap == 0 && !s.oom);
  char *t = folio_str_take(&s);
  if (!t) {
    fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
    exit(1);
  }
  CHECK_EQ_STR(t, "");
  free(t);
  CHECK(s.p == NULL && s.len == 0 && s.cap == 0 && !s.oom);
}

static void appends(void) {
  struct folio_str s = {0};
  folio_str_append(&s, "ab\0cd", 5); /* byte-exact: the NUL is kept */
  folio_str_puts(&s, "ef");
  folio_str_putc(&s, 'g');
  folio_str_append(&s, NULL, 0);
  folio_str_printf(&s, "[%d|%s|%5.2f]", 42, "x", 1.5);
  MUST_OK(&s);
  static const char want[] = "ab\0cdefg[42|x| 1.50]";
  CHECK_EQ_INT(s.len, sizeof want - 1);
  CHECK(memcmp(s.p, want, sizeof want) == 0); /* including the final NUL */
  CHECK(s.cap > s.len);
  char *t = folio_str_take(&s);
  CHECK(t != NULL && memcmp(t, want, sizeof want) == 0);
  free(t);
  CHECK(s.p == NULL && s.len == 0 && s.cap == 0 && !s.oom);
  /* the struct is reusable after take */
  folio_str_puts(&s, "again");
  MUST_OK(&s);
  CHECK_EQ_STR(s.p, "again");
  folio_str_free(&s);
}

static void growth(void) {
  struct folio_str s = {0};
  enum { N = 100000 };
  for (int i = 0; i < N; i++) folio_str_putc(&s, (char)('a' + i % 26));
  MUST_OK(&s);
  CHECK_EQ_INT(s.len, N);
  CHECK(s.cap > N);
  CHECK_EQ_INT(s.p[N], '\0');
  int bad = 0;
  for (int i = 0; i < N; i++) bad += s.p[i] != (char)('a' + i % 26);
  CHECK_EQ_INT(bad, 0);
  folio_str_free(&s);

  /* one printf far larger than any first capacity, after some text */
  char *big = malloc(70000);
  if (!big) {
    fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
    exit(1);
  }
  memset(big, 'z', 69999);
  big[69999] = '\0';
  folio_str_puts(&s, "<");
  folio_str_printf(&s, "%s>%d", big, 7);
  MUST_OK(&s);
  CHECK_EQ_INT(s.len, 1 + 69999 + 2);
  CHECK_EQ_INT(s.p[0], '<');
  CHECK_EQ_INT(s.p[69999], 'z');
  CHECK_EQ_STR(s.p + 70000, ">7");
  free(big);
  folio_str_free(&s);
}

static void sticky_oom(void) {
  struct folio_str s = {0};
  folio_str_puts(&s, "abc");
  MUST_OK(&s);
  folio_str_append(&s, "x", SIZE_MAX); /* len + n + 1 wraps: refused, never read */
  CHECK(s.oom);
  /* what was there is untouched, and every later append does nothing */
  CHECK_EQ_INT(s.len, 3);
  CHECK_EQ_STR(s.p, "abc");
  folio_str_puts(&s, "def");
  folio_str_putc(&s, 'g');
  folio_str_printf(&s, "%d", 1);
  folio_str_append(&s, "h", 1);
  CHECK_EQ_INT(s.len, 3);
  CHECK_EQ_STR(s.p, "abc");
  CHECK(!folio_str_ok(&s));
  CHECK(s.oom);
  CHECK(folio_str_take(&s) == NULL); /* frees the bytes (ASan: no leak) */
  CHECK(s.p == NULL && s.len == 0 && s.cap == 0 && !s.oom);

  /* the same on an empty buffer: ok must not make "" of a failed string */
  folio_str_append(&s, "x", SIZE_MAX);
  CHECK(s.oom && s.p == NULL);
  CHECK(!folio_str_ok(&s));
  CHECK(s.p == NULL);
  folio_str_free(&s);
  CHECK(!s.oom);

  /* a builder records a failure of its own the same way */
  folio_str_puts(&s, "abc");
  s.oom = true;
  folio_str_puts(&s, "def");
  CHECK(!folio_str_ok(&s));
  CHECK(folio_str_take(&s) == NULL);
}

int main(void) {
  empty();
  appends();
  growth();
  sticky_oom();
  return check_done();
}
