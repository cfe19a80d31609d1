/* `folio render`: decode a layout and render it locally, no server involved.
 *
 *   folio render LAYOUT.json [--format pdf,png,sla] [--out DIR] [--dpi N]
 *                [--pages 1-3,5] [--threads N] [--png-include-bleed]
 *                [--pdf-profile P]... [--lang TAG] [--fail-on-warnings]
 *
 * Outputs: DIR/document.pdf, DIR/page-0001.png ... (1-based page numbers of the
 * document), DIR/document.sla. Each file is written to a temporary name in DIR
 * and renamed when complete, so a failed render leaves no partial file. On
 * success the written paths are printed on stdout, one per line. Errors go to
 * stderr as "folio render: ..." lines; invalid layouts print one line per
 * decoder error: "folio render: invalid layout: <JSON Pointer>: <message>".
 * The render's findings (folio/findings.h: clipped text, substituted fonts,
 * missing glyphs, low-resolution images, items off the page) go to stderr,
 * one line each: "folio render: <severity> <CODE> page <n> <pointer>: <message>".
 * With --fail-on-warnings a warning or error finding fails the render as
 * a job with RenderOptions.fail_on_warnings does: exit 4, and the
 * files written are removed.
 *
 * --pdf-profile (pdfa-2b, pdfx-4, pdfua-1; repeatable, combined as
 * folio/pdf_profile.h allows) renders cairo's PDF to a temporary file in DIR
 * and finishes it with lib/pdf (folio/pdf.h) into document.pdf; the ICC
 * profiles come from the same environment variables as the worker's
 * (docs/operations.md, "PDF profiles"). The finished file is then checked
 * by the output preflight (folio/pdf_preflight.h), whose findings are printed
 * on stderr as the paint stage's are, one "folio render: <severity> <CODE>
 * page <n>: <message>" line each (page 0 = the document);
 * --require-clean-preflight (also without a profile) makes any warning or error fail the render (exit 4, no document.pdf), as
 * RenderOptions.require_clean_preflight fails a job. Without either the PDF
 * is cairo's, with MediaBox/BleedBox/TrimBox added when the document has
 * bleed or marks. --lang overrides the layout's meta.lang. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "folio/layout.h"
#include "folio/pagerange.h"
#include "folio/findings.h"
#include "folio/pdf.h"
#include "folio/pdf_job.h"
#include "folio/pdf_preflight.h"
#include "folio/render.h"

static void render_usage(FILE *f) {
  fprintf(f,
          "usage: folio render LAYOUT.json [--format pdf,png,sla] [--out DIR] [--dpi N] [--pages LIST]\n"
          "                    [--threads N] [--png-include-bleed] [--pdf-profile P]... [--lang TAG]\n"
          "                    [--fail-on-warnings] [--require-clean-preflight]\n"
          "  LAYOUT.json   the layout document ('-' = stdin)\n"
          "  --format      comma-separated: pdf, png, sla (default pdf)\n"
          "  --out DIR     output folder, created if missing (default .)\n"
          "  --dpi N       PNG resolution, %d..%d (default %d)\n"
          "  --pages LIST  1-based pages, e.g. 1-3,5 or 4- (default all; \"\" = all)\n"
          "  --threads N   PNG rasterizing threads (default: CPUs available)\n"
          "  --png-include-bleed  PNG pages show the bleed box, not just the trimmed page\n"
          "  --pdf-profile pdfa-2b, pdfx-4 or pdfua-1; repeat to combine (default: none)\n"
          "  --lang TAG    the document language (BCP 47) written to the PDF (default: meta.lang);\n"
          "                pdfua-1 needs one\n"
          "  --require-clean-preflight  fail when the output preflight finds anything\n"
          "  --fail-on-warnings  fail (exit 4, no files kept) when the render reports a\n"
          "                warning or error finding (findings are printed on stderr)\n"
          "outputs: document.pdf, page-0001.png ..., document.sla\n"
          "exit: 0 ok, 2 usage, 3 invalid layout, 4 render failure, 5 I/O error, 1 other\n",
          FOLIO_RENDER_DPI_MIN, FOLIO_RENDER_DPI_MAX, FOLIO_RENDER_DPI_DEFAULT);
}

/* ---- output files --------------------------------------------------------- */

struct out_file {
  FILE *f;
  char *tmp, *final;
  int err; /* errno of the first failed write */
};

static int file_write(void *ctx, const unsigned char *data, size_t len) {
  struct out_file *o = ctx;
  if (fwrite(data, 1, len, o->f) != len) {
    o->err = errno ? errno : EIO;
    return 1;
  }
  return 0;
}

/* Opens DIR/.NAME.tmp-PID for writing. Returns 0 or FOLIO_EXIT_IO with a message. */
static int out_open(struct out_file *o, const char *dir, const char *name) {
  memset(o, 0, sizeof *o);
  if (asprintf(&o->final, "%s/%s", dir, name) < 0) o->final = NULL;
  if (asprintf(&o->tmp, "%s/.%s.tmp-%ld", dir, name, (long)getpid()) < 0) o->tmp = NULL;
  if (!o->final || !o->tmp) {
    free(o->tmp);
    free(o->final);
    fprintf(stderr, "folio render: out of memory\n");
    return FOLIO_EXIT_INTERNAL;
  }
  o->f = fopen(o->tmp, "wb");
  if (!o->f) {
    fprintf(stderr, "folio render: %s: %s\n", o->tmp, strerror(errno));
    free(o->tmp);
    free(o->final);
    o->tmp = o->final = NULL;
    return FOLIO_EXIT_IO;
  }
  return 0;
}

/* The files put in place so far: their paths are printed when the command
 * ends (and they are removed when the findings fail it). */
static struct {
  char **paths;
  size_t n, cap;
} done_files;

static void done_add(char *path) {
  if (done_files.n == done_files.cap) {
    size_t cap = done_files.cap ? done_files.cap * 2 : 16;
    char **p = realloc(done_files.paths, cap * sizeof *p);
    if (!p) { /* cannot remember it: print it now, as before */
      printf("%s\n", path);
      free(path);
      return;
    }
    done_files.paths = p;
    done_files.cap = cap;
  }
  done_files.paths[done_files.n++] = path;
}

/* Prints (keep) or removes (!keep) every file put in place, and forgets them. */
static void done_finish(bool keep) {
  for (size_t i = 0; i < done_files.n; i++) {
    if (keep) printf("%s\n", done_files.paths[i]);
    else unlink(done_files.paths[i]);
    free(done_files.paths[i]);
  }
  free(done_files.paths);
  done_files.paths = NULL;
  done_files.n = done_files.cap = 0;
}

/* Closes the file; on ok renames it into place (done_add), else removes it. */
static int out_close(struct out_file *o, bool ok) {
  int rc = 0;
  if (o->f && fclose(o->f) && !o->err) o->err = errno ? errno : EIO;
  o->f = NULL;
  if (ok && o->err) {
    fprintf(stderr, "folio render: %s: %s\n", o->final, strerror(o->err));
    rc = FOLIO_EXIT_IO;
  } else if (ok && rename(o->tmp, o->final)) {
    fprintf(stderr, "folio render: %s: %s\n", o->final, strerror(errno));
    rc = FOLIO_EXIT_IO;
  } else if (ok) {
    done_add(o->final);
    o->final = NULL;
  }
  if (!ok || rc) unlink(o->tmp);
  free(o->tmp);
  free(o->final);
  o->tmp = o->final = NULL;
  return rc;
}

/* Maps a failed render to the exit code, printing its message. */
static int render_failed(const struct out_file *o, const struct folio_render_diag *diag) {
  if (diag->code == FOLIO_RENDER_E_WRITE && o && o->err) {
    fprintf(stderr, "folio render: %s: %s\n", o->final, strerror(o->err));
    return FOLIO_EXIT_IO;
  }
  fprintf(stderr, "folio render: %s\n", diag->message);
  return diag->code == FOLIO_RENDER_E_NOMEM ? FOLIO_EXIT_INTERNAL : FOLIO_EXIT_RENDER;
}

/* One whole-document artifact (PDF or SLA) into DIR/name; returns the exit code. */
static int render_file(const struct folio_layout_doc *doc, const struct folio_render_options *opt,
                       const char *dir, const char *name,
                       int (*render)(const struct folio_layout_doc *, const struct folio_render_options *,
                                     folio_render_write_fn, void *, struct folio_render_diag *)) {
  struct out_file o;
  int rc = out_open(&o, dir, name);
  if (rc) return rc;
  struct folio_render_diag diag = {0};
  int r = render(doc, opt, file_write, &o, &diag);
  if (r) rc = render_failed(&o, &diag);
  int crc = out_close(&o, r == 0);
  return rc ? rc : crc;
}

/* Prints the preflight's findings on stderr; returns whether any is a
 * warning or an error (what --require-clean-preflight refuses). */
static bool print_preflight(const struct folio_findings *fs) {
  for (size_t i = 0; i < fs->n; i++) {
    const struct folio_finding *e = &fs->items[i];
    /* the paint findings' line (folio render --fail-on-warnings prints them so) */
    fprintf(stderr, "folio render: %s %s page %u%s%s: %s\n", folio_finding_severity_name(e->severity), e->code,
            e->page, e->pointer[0] ? " " : "", e->pointer, e->message);
  }
  return folio_findings_first(fs, FOLIO_FINDING_WARNING, 1u << FOLIO_FINDING_PREFLIGHT) != NULL;
}

/* The PDF rendered by cairo into a temporary file in dir, then finished by
 * lib/pdf (when it has something to add) into dir/document.pdf (through
 * out_file's temporary name, so a failure leaves no partial file), then
 * preflighted. Returns the exit code. */
static int render_pdf_finished(const struct folio_layout_doc *doc,
                               const struct folio_render_options *opt, const char *dir,
                               const struct folio_pdf_options *po, bool require_clean) {
  struct out_file cairo_pdf, o;
  int rc = out_open(&cairo_pdf, dir, "document.cairo.pdf");
  if (rc) return rc;
  struct folio_render_diag diag = {0};
  int r = folio_render_pdf(doc, opt, file_write, &cairo_pdf, &diag);
  if (r) rc = render_failed(&cairo_pdf, &diag);
  if (cairo_pdf.f && fclose(cairo_pdf.f) && !rc) {
    fprintf(stderr, "folio render: %s: %s\n", cairo_pdf.tmp, strerror(errno));
    rc = FOLIO_EXIT_IO;
  }
  cairo_pdf.f = NULL;
  if (!rc) rc = out_open(&o, dir, "document.pdf");
  if (!rc) {
    fclose(o.f); /* lib/pdf writes the file by its name */
    o.f = NULL;
    struct folio_pdf_diag pd = {0};
    int fr = 0;
    if (!folio_pdf_needed(po)) { /* nothing to add: cairo's file, checked */
      if (rename(cairo_pdf.tmp, o.tmp)) {
        fprintf(stderr, "folio render: %s: %s\n", o.tmp, strerror(errno));
        rc = FOLIO_EXIT_IO;
      }
    } else if ((fr = folio_pdf_finish(cairo_pdf.tmp, po, o.tmp, &pd))) {
      fprintf(stderr, "folio render: PDF profile: %s\n", pd.message);
      /* a document the profile refuses (no title) or qpdf cannot finish is a
       * render failure; a missing ICC file or a failed write is I/O */
      rc = fr == FOLIO_PDF_E_NOMEM                        ? FOLIO_EXIT_INTERNAL
           : fr == FOLIO_PDF_E_ICC || fr == FOLIO_PDF_E_WRITE ? FOLIO_EXIT_IO
                                                            : FOLIO_EXIT_RENDER;
    }
    if (!rc) { /* the output preflight, as the worker runs it */
      struct folio_findings fs;
      folio_findings_init(&fs, 0);
      if (folio_pdf_preflight(o.tmp, po->profiles, &fs)) {
        fprintf(stderr, "folio render: the output preflight: out of memory\n");
        rc = FOLIO_EXIT_INTERNAL;
      } else if (print_preflight(&fs) && require_clean) {
        fprintf(stderr, "folio render: --require-clean-preflight: the output preflight reported findings\n");
        rc = FOLIO_EXIT_RENDER;
      }
      folio_findings_fini(&fs);
    }
    int crc = out_close(&o, rc == 0);
    if (!rc) rc = crc;
  }
  unlink(cairo_pdf.tmp);
  free(cairo_pdf.tmp);
  free(cairo_pdf.final);
  return rc;
}

/* PNG pages: one out_file per page, opened by page_begin, closed by page_end. */
struct png_sink {
  const char *dir;
  struct out_file cur;
  bool open;
  int rc;
};

static int png_begin(void *ctx, size_t page, folio_render_write_fn *write, void **wctx) {
  struct png_sink *s = ctx;
  char name[32];
  snprintf(name, sizeof name, "page-%04zu.png", page + 1);
  s->rc = out_open(&s->cur, s->dir, name);
  if (s->rc) return 1;
  s->open = true;
  *write = file_write;
  *wctx = &s->cur;
  return 0;
}

static int png_end(void *ctx, size_t page) {
  struct png_sink *s = ctx;
  (void)page;
  s->open = false;
  s->rc = out_close(&s->cur, true);
  return s->rc != 0;
}

/* ---- the command ------------------------------------------------------------ */

enum { FMT_PDF = 1, FMT_PNG = 2, FMT_SLA = 4 };

static int parse_formats(const char *s, unsigned *out) {
  unsigned f = 0;
  char *copy = strdup(s), *save = NULL;
  if (!copy) return -1;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (!strcmp(t, "pdf")) f |= FMT_PDF;
    else if (!strcmp(t, "png")) f |= FMT_PNG;
    else if (!strcmp(t, "sla")) f |= FMT_SLA;
    else {
      fprintf(stderr, "folio render: unknown format \"%s\" (pdf, png, sla)\n", t);
      free(copy);
      return -1;
    }
  }
  free(copy);
  if (!f) {
    fprintf(stderr, "folio render: --format is empty\n");
    return -1;
  }
  *out = f;
  return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || end == s || *end || v > max || s[0] == '-') return -1;
  *out = (unsigned)v;
  return 0;
}

int cli_render(int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'f'}, {"out", required_argument, NULL, 'o'},
      {"dpi", required_argument, NULL, 'd'},    {"pages", required_argument, NULL, 'p'},
      {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
      {"png-include-bleed", no_argument, NULL, 'b'},
      {"pdf-profile", required_argument, NULL, 'P'}, {"lang", required_argument, NULL, 'L'},
      {"require-clean-preflight", no_argument, NULL, 'R'},
      {"fail-on-warnings", no_argument, NULL, 'w'}, {NULL, 0, NULL, 0},
  };
  bool fail_on_warnings = false;
  unsigned formats = FMT_PDF, dpi = FOLIO_RENDER_DPI_DEFAULT, threads = 0;
  bool png_bleed = false, require_clean = false;
  const char *out_dir = ".", *pages_spec = NULL, *lang = NULL;
  int profiles[8];
  size_t nprofiles = 0;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "f:o:d:p:t:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (parse_formats(optarg, &formats)) return FOLIO_EXIT_USAGE;
      break;
    case 'o': out_dir = optarg; break;
    case 'd':
      if (parse_uint(optarg, 100000, &dpi) || dpi < FOLIO_RENDER_DPI_MIN || dpi > FOLIO_RENDER_DPI_MAX) {
        fprintf(stderr, "folio render: --dpi must be %d..%d, not \"%s\"\n", FOLIO_RENDER_DPI_MIN,
                FOLIO_RENDER_DPI_MAX, optarg);
        return FOLIO_EXIT_USAGE;
      }
      break;
    case 'p': pages_spec = optarg; break;
    case 'b': png_bleed = true; break;
    case 't':
      if (parse_uint(optarg, 256, &threads)) {
        fprintf(stderr, "folio render: --threads must be 0..256, not \"%s\"\n", optarg);
        return FOLIO_EXIT_USAGE;
      }
      break;
    case 'P': {
      int p = folio_pdf_profile_parse(optarg);
      if (!p) {
        fprintf(stderr, "folio render: --pdf-profile must be pdfa-2b, pdfx-4 or pdfua-1, not \"%s\"\n",
                optarg);
        return FOLIO_EXIT_USAGE;
      }
      if (nprofiles < sizeof profiles / sizeof profiles[0]) profiles[nprofiles++] = p;
      break;
    }
    case 'L': lang = optarg; break;
    case 'R': require_clean = true; break;
    case 'w': fail_on_warnings = true; break;
    case 'h': render_usage(stdout); return FOLIO_EXIT_OK;
    default:
      fprintf(stderr, "folio render: unknown or incomplete option \"%s\"\n", argv[optind - 1]);
      render_usage(stderr);
      return FOLIO_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "folio render: expected exactly one layout file\n");
    render_usage(stderr);
    return FOLIO_EXIT_USAGE;
  }
  const char *input = argv[optind];
  struct folio_pdf_options po;
  folio_pdf_options_from_env(&po);
  {
    char field[48], pwhy[FOLIO_PDF_WHY_MAX];
    /* the first is the request's pdf_profile, the rest additional_pdf_profiles */
    if (nprofiles && folio_pdf_profiles_set(profiles[0], profiles + 1, nprofiles - 1, &po.profiles,
                                            field, sizeof field, pwhy, sizeof pwhy)) {
      fprintf(stderr, "folio render: --pdf-profile: %s\n", pwhy);
      return FOLIO_EXIT_USAGE;
    }
  }

  char *json;
  size_t len;
  int rc = cli_read_input("render", input, &json, &len);
  if (rc) return rc;
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag ldiag = {0};
  int drc = folio_layout_decode(json, len, NULL, &doc, &ldiag);
  free(json);
  if (drc) {
    if (drc == FOLIO_LAYOUT_ENOMEM) {
      fprintf(stderr, "folio render: %s: out of memory while decoding\n", input);
      folio_layout_diag_clear(&ldiag);
      return FOLIO_EXIT_INTERNAL;
    }
    for (size_t i = 0; i < ldiag.count; i++)
      fprintf(stderr, "folio render: invalid layout: %s: %s\n", ldiag.errors[i].pointer, ldiag.errors[i].message);
    if (ldiag.truncated) fprintf(stderr, "folio render: invalid layout: (more errors not shown)\n");
    folio_layout_diag_clear(&ldiag);
    return FOLIO_EXIT_INVALID;
  }

  struct folio_render_diag diag = {0};
  size_t *pages = NULL, n_pages = 0;
  char why[FOLIO_PAGES_WHY_MAX];
  /* the grammar of folio/pagerange.h, the same SubmitLayout's page_range has */
  int prc = pages_spec ? folio_layout_pages_parse(pages_spec, doc->n_pages, &pages, &n_pages, why,
                                                  sizeof why)
                       : 0;
  if (prc) {
    fprintf(stderr, "folio render: --pages: %s\n", why);
    folio_layout_doc_free(doc);
    return prc == FOLIO_PAGES_ENOMEM ? FOLIO_EXIT_INTERNAL : FOLIO_EXIT_USAGE;
  }
  if (mkdir(out_dir, 0777) && errno != EEXIST) {
    fprintf(stderr, "folio render: %s: %s\n", out_dir, strerror(errno));
    free(pages);
    folio_layout_doc_free(doc);
    return FOLIO_EXIT_IO;
  }
  struct folio_render_options opt = {
      .pages = pages, .n_pages = n_pages, .dpi = dpi, .threads = threads, .png_include_bleed = png_bleed};
  /* the paint stage's findings, from the first painted format (as folio-worker does) */
  struct folio_findings findings;
  folio_findings_init(&findings, 0);
  opt.findings = &findings;

  /* title, author, the language, the print boxes, PDF/UA's tagging and
   * attributes: as the worker (folio/pdf_job.h) */
  struct folio_pdf_job pj;
  if (folio_pdf_job_init(&pj, doc, lang, &po, &opt)) {
    fprintf(stderr, "folio render: out of memory\n");
    free(pages);
    folio_layout_doc_free(doc);
    return FOLIO_EXIT_INTERNAL;
  }
  if ((formats & FMT_PDF) && (folio_pdf_needed(&po) || require_clean))
    rc = render_pdf_finished(doc, &opt, out_dir, &po, require_clean);
  else if (formats & FMT_PDF) rc = render_file(doc, &opt, out_dir, "document.pdf", folio_render_pdf);
  folio_pdf_job_fini(&pj);
  opt.pdf_tagged = false;
  opt.pdf_struct = NULL;
  if (formats & FMT_PDF) opt.findings = NULL;
  if (!rc && (formats & FMT_PNG)) {
    struct png_sink s = {.dir = out_dir};
    int r = folio_render_png(doc, &opt, png_begin, png_end, &s, &diag);
    opt.findings = NULL;
    if (r) {
      if (s.rc) rc = s.rc; /* the sink failed and said why */
      else rc = render_failed(s.open ? &s.cur : NULL, &diag);
      if (s.open) out_close(&s.cur, false);
    }
  }
  if (!rc && (formats & FMT_SLA)) rc = render_file(doc, &opt, out_dir, "document.sla", folio_render_sla);
  for (size_t i = 0; i < findings.n; i++) {
    const struct folio_finding *e = &findings.items[i];
    fprintf(stderr, "folio render: %s %s page %u%s%s: %s\n", folio_finding_severity_name(e->severity), e->code,
            e->page, e->pointer[0] ? " " : "", e->pointer, e->message);
  }
  const struct folio_finding *bad = folio_findings_first(&findings, FOLIO_FINDING_WARNING, 0);
  if (!rc && fail_on_warnings && bad) {
    fprintf(stderr, "folio render: --fail-on-warnings: %s %s on page %u; no files kept\n",
            folio_finding_severity_name(bad->severity), bad->code, bad->page);
    rc = FOLIO_EXIT_RENDER;
    done_finish(false);
  } else {
    done_finish(true); /* what was written stays, also when a later format failed */
  }
  folio_findings_fini(&findings);
  free(pages);
  folio_layout_doc_free(doc);
  return rc;
}
