/* bench/pdf: in one process, the cost lib/pdf adds to a PDF render, as the
 * worker pays it (fonts and caches warm, no process start-up): N rounds of
 *   render  folio_render_pdf into a file
 *   finish  folio_pdf_finish of that file with each profile set
 * on the same decoded document, interleaved, CPU time of the process
 * (CLOCK_PROCESS_CPUTIME_ID) and wall time. Prints medians and the ratio
 * (render + finish) / render.
 *   bench_pdf LAYOUT.json ROUNDS TMPDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "folio/layout.h"
#include "folio/pdf.h"
#include "folio/render.h"

static double now(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int file_write(void *ctx, const unsigned char *d, size_t n) { return fwrite(d, 1, n, ctx) != n; }

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[n / 2];
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench_pdf LAYOUT.json ROUNDS TMPDIR\n");
    return 2;
  }
  int rounds = atoi(argv[2]);
  if (rounds < 1 || rounds > 1000) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 1;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *json = malloc((size_t)len);
  if (!json || fread(json, 1, (size_t)len, f) != (size_t)len) return 1;
  fclose(f);
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag ld = {0};
  if (folio_layout_decode(json, (size_t)len, NULL, &doc, &ld)) return 1;
  free(json);
  char in[512], out[512];
  snprintf(in, sizeof in, "%s/cairo.pdf", argv[3]);
  snprintf(out, sizeof out, "%s/finished.pdf", argv[3]);

  static const struct {
    const char *name;
    unsigned set;
  } cases[] = {
      {"pdfa-2b", FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFA_2B)},
      {"pdfx-4", FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFX_4)},
      {"pdfua-1", FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFUA_1)},
      {"all three", FOLIO_PDF_PROFILES_ALL},
  };
  enum { NC = sizeof cases / sizeof cases[0] };
  double *rc = calloc((size_t)rounds, sizeof *rc), *rw = calloc((size_t)rounds, sizeof *rw);
  double *fc[NC], *fw[NC];
  for (int c = 0; c < NC; c++) {
    fc[c] = calloc((size_t)rounds, sizeof(double));
    fw[c] = calloc((size_t)rounds, sizeof(double));
  }
  for (int r = -1; r < rounds; r++) { /* round -1 warms the caches */
    double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
    f = fopen(in, "wb");
    struct folio_render_diag rd = {0};
    if (!f || folio_render_pdf(doc, NULL, file_write, f, &rd)) {
      fprintf(stderr, "render: %s\n", rd.message);
      return 1;
    }
    fclose(f);
    if (r >= 0) rc[r] = now(CLOCK_PROCESS_CPUTIME_ID) - c0, rw[r] = now(CLOCK_MONOTONIC) - w0;
    for (int c = 0; c < NC; c++) {
      struct folio_pdf_options o;
      folio_pdf_options_from_env(&o);
      o.profiles = cases[c].set;
      o.title = doc->title ? doc->title : "untitled";
      o.author = doc->author;
      o.lang = "en";
      struct folio_pdf_diag d;
      c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
      if (folio_pdf_finish(in, &o, out, &d)) {
        fprintf(stderr, "finish: %s\n", d.message);
        return 1;
      }
      if (r >= 0) fc[c][r] = now(CLOCK_PROCESS_CPUTIME_ID) - c0, fw[c][r] = now(CLOCK_MONOTONIC) - w0;
    }
  }
  double mr = median(rc, rounds), mrw = median(rw, rounds);
  printf("%zu-page PDF in process, median of %d rounds (CPU ms / wall ms)\n", doc->n_pages, rounds);
  printf("  %-10s render only       %7.1f / %7.1f\n", "", mr, mrw);
  for (int c = 0; c < NC; c++) {
    double m = median(fc[c], rounds), mw = median(fw[c], rounds);
    printf("  %-10s finish %7.1f / %7.1f   (render + finish) / render = %.3f%s\n", cases[c].name, m, mw,
           (mr + m) / mr, (mr + m) / mr <= 1.20 ? "  (target <= 1.20)" : "  ABOVE the 1.20 target");
  }
  remove(in);
  remove(out);
  folio_layout_doc_free(doc);
  return 0;
}
