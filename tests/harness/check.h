/* Minimal assertions for folio's C tests: each test is its own process (ctest
 * runs it with a timeout), so a failed check prints where and exits 1.
 *
 *   CHECK(cond);                 CHECK_EQ_INT(a, b);
 *   CHECK_EQ_STR(a, b);          CHECK_MSG(cond, "fmt", ...);
 *   return check_done();         // in main: prints "N checks passed" */
#ifndef FOLIO_TEST_CHECK_H
#define FOLIO_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_count_;

#define CHECK_MSG(cond, ...)                                                    \
  do {                                                                          \
    check_count_++;                                                             \
    if (!(cond)) {                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n  ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                             \
      fputc('\n', stderr);                                                      \
      exit(1);                                                                  \
    }                                                                           \
  } while (0)

#define CHECK(cond) CHECK_MSG(cond, "%s", "")
#define CHECK_EQ_INT(a, b)                                                           \
  do {                                                                               \
    long long a_ = (long long)(a), b_ = (long long)(b);                              \
    CHECK_MSG(a_ == b_, "%s = %lld, %s = %lld", #a, a_, #b, b_);                     \
  } while (0)
#define CHECK_EQ_STR(a, b)                                                           \
  do {                                                                               \
    const char *a_ = (a), *b_ = (b);                                                 \
    CHECK_MSG(a_ && b_ && strcmp(a_, b_) == 0, "%s = \"%s\"\n  %s = \"%s\"", #a,     \
              a_ ? a_ : "(null)", #b, b_ ? b_ : "(null)");                           \
  } while (0)

static inline int check_done(void) {
  printf("%d checks passed\n", check_count_);
  return 0;
}

#endif
