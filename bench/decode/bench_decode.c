/* Decode+validate throughput of folio_layout_decode() on one file.
 *   bench_decode FILE [SECONDS]
 * Decodes the file repeatedly (each time into a fresh model, freed after) for
 * about SECONDS (default 3) and prints "folio MB/s <median of runs>" plus
 * detail. The first run's result is checked: a rejected file is an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "folio/layout.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_decode FILE [SECONDS]\n");
    return 2;
  }
  double budget = argc > 2 ? atof(argv[2]) : 3.0;
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) return 2;
  fclose(f);

  static double rates[10000];
  size_t runs = 0;
  double start = now();
  while ((now() - start < budget || runs < 3) && runs < 10000) {
    struct folio_layout_doc *doc;
    struct folio_layout_diag diag = {0};
    double t0 = now();
    int rc = folio_layout_decode(buf, (size_t)n, NULL, &doc, &diag);
    double t1 = now();
    if (rc != 0) {
      char *j = folio_layout_diag_join(&diag);
      fprintf(stderr, "bench_decode: %s rejected: %s\n", argv[1], j ? j : "out of memory");
      return 1;
    }
    folio_layout_doc_free(doc);
    rates[runs++] = (double)n / 1e6 / (t1 - t0);
  }
  qsort(rates, runs, sizeof rates[0], cmp);
  printf("folio MB/s %.1f (median of %zu runs, min %.1f, max %.1f, %.2f MB)\n", rates[runs / 2], runs,
         rates[0], rates[runs - 1], (double)n / 1e6);
  free(buf);
  return 0;
}
