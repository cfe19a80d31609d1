/* Reading a whole test input file. Include after check.h. */
#ifndef FOLIO_TEST_SLURP_H
#define FOLIO_TEST_SLURP_H

#include <stdio.h>
#include <stdlib.h>

/* The whole file at path, NUL-terminated (the NUL is not counted in *len).
 * The caller frees it. The test fails (CHECK) when it cannot be read. */
static inline char *test_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  CHECK_MSG(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  CHECK_MSG(n >= 0, "cannot size %s", path);
  char *b = malloc((size_t)n + 1);
  CHECK(b != NULL);
  CHECK_MSG(fread(b, 1, (size_t)n, f) == (size_t)n, "short read of %s", path);
  fclose(f);
  b[n] = '\0';
  *len = (size_t)n;
  return b;
}

#endif
