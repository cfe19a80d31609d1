/* lib/pdf in process: the profile rule, the option checks, ICC refusals,
 * determinism, the streaming entry point, and the text helpers. Renders a
 * layout with lib/render into a temporary folder, finishes it there, and
 * leaves boxed.pdf (PDF/X-4 with print boxes) in OUTDIR for profiles.sh to
 * check with the real tools (check_pdf.py).
 *   test_pdf_finish LAYOUT.json OUTDIR */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "folio/layout.h"
#include "folio/pdf.h"
#include "folio/pdf_job.h"
#include "folio/pdf_preflight.h"
#include "folio/render.h"
#include "pdf_int.h"

static unsigned char *slurp_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b) *len = (size_t)n;
  return b;
}

static int file_write(void *ctx, const unsigned char *d, size_t n) { return fwrite(d, 1, n, ctx) != n; }

struct mem {
  unsigned char *b;
  size_t len, cap;
  size_t fail_after; /* 0 = never fail */
  size_t calls;
};
static int mem_write(void *ctx, const unsigned char *d, size_t n) {
  struct mem *m = ctx;
  if (m->fail_after && ++m->calls >= m->fail_after) return 1;
  if (m->len + n > m->cap) {
    m->cap = (m->len + n) * 2;
    m->b = realloc(m->b, m->cap);
  }
  memcpy(m->b + m->len, d, n);
  m->len += n;
  return 0;
}

static bool exists(const char *p) { return access(p, F_OK) == 0; }

/* Entries of a folder but . and .. */
static int dir_count(const char *path) {
  DIR *dp = opendir(path);
  int n = 0;
  for (struct dirent *e; dp && (e = readdir(dp));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  if (dp) closedir(dp);
  return n;
}

static void test_rule(void) {
  unsigned set;
  char field[64], why[FOLIO_PDF_WHY_MAX];
  CHECK_EQ_INT(folio_pdf_profiles_set(0, NULL, 0, &set, field, sizeof field, why, sizeof why), 0);
  CHECK_EQ_INT(set, 0);
  int ua[] = {3, 3};
  CHECK_EQ_INT(folio_pdf_profiles_set(1, ua, 2, &set, field, sizeof field, why, sizeof why), 0);
  CHECK_EQ_INT(set, FOLIO_PDF_BIT(1) | FOLIO_PDF_BIT(3));
  int all[] = {2, 3};
  CHECK_EQ_INT(folio_pdf_profiles_set(1, all, 2, &set, NULL, 0, NULL, 0), 0);
  CHECK_EQ_INT(set, FOLIO_PDF_PROFILES_ALL);
  CHECK_EQ_INT(folio_pdf_profiles_set(4, NULL, 0, &set, field, sizeof field, why, sizeof why), -1);
  CHECK_EQ_STR(field, "pdf_profile");
  CHECK(strstr(why, "PDF_PROFILE_UNSPECIFIED") != NULL);
  int bad[] = {2, 0};
  CHECK_EQ_INT(folio_pdf_profiles_set(1, bad, 2, &set, field, sizeof field, why, sizeof why), -1);
  CHECK_EQ_STR(field, "additional_pdf_profiles[1]");
  CHECK_EQ_INT(set, 0);
  CHECK_EQ_INT(folio_pdf_profiles_set(0, all, 1, &set, field, sizeof field, why, sizeof why), -1);
  CHECK_EQ_STR(field, "additional_pdf_profiles");
  CHECK_EQ_INT(folio_pdf_profile_parse("pdfx-4"), FOLIO_PDF_PROFILE_PDFX_4);
  CHECK_EQ_INT(folio_pdf_profile_parse("pdfx"), 0);
  CHECK_EQ_STR(folio_pdf_profile_name(3), "pdfua-1");
}

static void test_helpers(void) {
  char x[FOLIO_PDF_DATE_MAX], i[FOLIO_PDF_DATE_MAX];
  CHECK_EQ_INT(folio_pdf_date_convert("20240101000000Z", x, i), 0); /* cairo 1.16 drops "D:" */
  CHECK_EQ_STR(x, "2024-01-01T00:00:00Z");
  CHECK_EQ_STR(i, "D:20240101000000Z");
  CHECK_EQ_INT(folio_pdf_date_convert("D:20231231235958+05'30'", x, i), 0);
  CHECK_EQ_STR(x, "2023-12-31T23:59:58+05:30");
  CHECK_EQ_STR(i, "D:20231231235958+05'30'");
  CHECK_EQ_INT(folio_pdf_date_convert("D:2024", x, i), 0);
  CHECK_EQ_STR(x, "2024-01-01T00:00:00");
  CHECK_EQ_INT(folio_pdf_date_convert("D:20241301", x, i), -1);
  CHECK_EQ_INT(folio_pdf_date_convert("yesterday", x, i), -1);
  char *c = folio_pdf_text_clean("a\tb\x01" "c\xef\xbf\xbe" "d\xc2\x85" "e\xc3\xa9");
  CHECK_EQ_STR(c, "a bcde\xc3\xa9");
  free(c);
  struct folio_str b = {0};
  folio_pdf_buf_xml(&b, "Q&A <\"x\"> 'y'");
  CHECK_EQ_STR(b.p, "Q&amp;A &lt;&quot;x&quot;&gt; &apos;y&apos;");
  folio_str_free(&b);
}

/* wrap(in) == want, or wrap fails with want_rc */
static void wrap_case(const char *in, int want_rc, const char *want) {
  struct folio_str b = {0};
  bool changed = true;
  int rc = folio_pdf_wrap_artifacts((const unsigned char *)in, strlen(in), &b, &changed);
  CHECK_MSG(rc == want_rc, "wrap(%s): rc %d, want %d", in, rc, want_rc);
  if (!rc) {
    CHECK_MSG(strcmp(b.p ? b.p : "", want) == 0, "wrap(%s) = [%s], want [%s]", in, b.p ? b.p : "", want);
    CHECK_EQ_INT(changed, strcmp(in, want) != 0);
  }
  folio_str_free(&b);
}

/* PDF/UA's artifact wrapper: marked-content depth, not q/Q, decides; the
 * lexer does not take operators inside strings, names or inline images for
 * real ones */
static void test_artifacts(void) {
  wrap_case("", 0, "");
  wrap_case("/P <</MCID 0>> BDC BT (x) Tj ET EMC\n", 0, "/P <</MCID 0>> BDC BT (x) Tj ET EMC\n");
  wrap_case("q 0 0 m 1 1 l S Q\n", 0, "/Artifact BMC\nq 0 0 m 1 1 l S Q\n\nEMC\n");
  /* a q straddling the tagged sequence: the wrapper closes before BDC, reopens after EMC */
  wrap_case("q 1 0 0 1 0 0 cm /P <</MCID 0>> BDC (a) Tj EMC 0 0 1 1 re f Q",
            0, "/Artifact BMC\nq 1 0 0 1 0 0 cm EMC\n/P <</MCID 0>> BDC (a) Tj EMC /Artifact BMC\n0 0 1 1 re f Q\nEMC\n");
  /* nested sequences count: content inside the inner or outer one stays */
  wrap_case("/Span BMC /P <</MCID 1>> BDC (a) Tj EMC (b) Tj EMC", 0,
            "/Span BMC /P <</MCID 1>> BDC (a) Tj EMC (b) Tj EMC");
  /* "BDC" and "EMC" inside strings, names, comments and inline images are data */
  wrap_case("(EMC \\) BDC) Tj /BDC Do % EMC\n", 0, "/Artifact BMC\n(EMC \\) BDC) Tj /BDC Do % EMC\n\nEMC\n");
  wrap_case("BI /W 1 /H 1 ID \x01EMC EI Q", 0, "/Artifact BMC\nBI /W 1 /H 1 ID \x01EMC EI Q\nEMC\n");
  wrap_case("<</A [1 (x)]>> BDC (a) Tj EMC", 0, "<</A [1 (x)]>> BDC (a) Tj EMC");
  /* unbalanced or unlexable: refused, never guessed */
  wrap_case("(a) Tj EMC", -1, NULL);
  wrap_case("/P BMC (a) Tj", -1, NULL);
  wrap_case("(unterminated Tj", -1, NULL);
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 3, "usage: test_pdf_finish LAYOUT.json OUTDIR");
  test_rule();
  test_helpers();
  test_artifacts();

  size_t jl;
  unsigned char *json = slurp_file(argv[1], &jl);
  CHECK_MSG(json, "%s: %s", argv[1], strerror(errno));
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag ld = {0};
  CHECK_EQ_INT(folio_layout_decode((const char *)json, jl, NULL, &doc, &ld), 0);
  free(json);

  char dir[] = "/tmp/folio-test-pdf-XXXXXX";
  CHECK(mkdtemp(dir));
  char in[256], out[256], out2[256], bad_icc[256];
  snprintf(in, sizeof in, "%s/cairo.pdf", dir);
  snprintf(out, sizeof out, "%s/out.pdf", dir);
  snprintf(out2, sizeof out2, "%s/out2.pdf", dir);
  snprintf(bad_icc, sizeof bad_icc, "%s/bad.icc", dir);
  FILE *f = fopen(in, "wb");
  CHECK(f);
  struct folio_render_diag rd = {0};
  CHECK_EQ_INT(folio_render_pdf(doc, NULL, file_write, f, &rd), 0);
  fclose(f);

  struct folio_pdf_options o = {.profiles = FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFA_2B), .title = doc->title};
  struct folio_pdf_diag d;

  /* nothing to do without a profile and with boxes equal to the MediaBox */
  struct folio_pdf_page_boxes boxes[8];
  size_t np = doc->n_pages;
  CHECK(np <= 8);
  for (size_t p = 0; p < np; p++) {
    double w = doc->pages[p].width, h = doc->pages[p].height;
    boxes[p] = (struct folio_pdf_page_boxes){{0, 0, w, h}, {0, 0, w, h}, {0, 0, w, h}};
  }
  struct folio_pdf_options none = {.boxes = boxes, .n_boxes = np};
  CHECK(!folio_pdf_needed(&none));
  CHECK(folio_pdf_needed(&o));

  /* determinism: same input, same bytes; the stream gives the file's bytes */
  CHECK_EQ_INT(folio_pdf_finish(in, &o, out, &d), 0);
  CHECK_EQ_INT(folio_pdf_finish(in, &o, out2, &d), 0);
  size_t l1, l2;
  unsigned char *b1 = slurp_file(out, &l1), *b2 = slurp_file(out2, &l2);
  CHECK(b1 && b2 && l1 == l2 && memcmp(b1, b2, l1) == 0);
  struct mem m = {0};
  CHECK_EQ_INT(folio_pdf_finish_stream(in, &o, dir, mem_write, &m, &d), 0);
  CHECK(m.len == l1 && memcmp(m.b, b1, l1) == 0);
  CHECK_MSG(dir_count(dir) == 3, "finish_stream left a file in %s", dir); /* cairo.pdf, out.pdf, out2.pdf */
  free(b2);
  free(m.b);
  /* a write callback that aborts: E_WRITE, and no temporary file left */
  m = (struct mem){.fail_after = 1};
  CHECK_EQ_INT(folio_pdf_finish_stream(in, &o, dir, mem_write, &m, &d), FOLIO_PDF_E_WRITE);
  CHECK(dir_count(dir) == 3);
  /* the input may be a descriptor's path, as the worker passes an unlinked file */
  int ifd = open(in, O_RDONLY);
  CHECK(ifd >= 0);
  char fdpath[64];
  snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", ifd);
  free(m.b);
  m = (struct mem){0};
  CHECK_EQ_INT(folio_pdf_finish_stream(fdpath, &o, dir, mem_write, &m, &d), 0);
  CHECK(m.len == l1 && memcmp(m.b, b1, l1) == 0);
  close(ifd);
  free(m.b);
  /* another title gives other bytes (the metadata follows the options) */
  struct folio_pdf_options o2 = o;
  o2.title = "another title";
  CHECK_EQ_INT(folio_pdf_finish(in, &o2, out2, &d), 0);
  b2 = slurp_file(out2, &l2);
  CHECK(b2 && (l1 != l2 || memcmp(b1, b2, l1) != 0));
  free(b1);
  free(b2);

  /* the refusals name the field, and leave no output behind */
  unlink(out);
  struct folio_pdf_options ua = {.profiles = FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFUA_1), .title = "t"};
  CHECK_EQ_INT(folio_pdf_finish(in, &ua, out, &d), FOLIO_PDF_E_ARG);
  CHECK_EQ_STR(d.field, "lang");
  ua.lang = "en";
  ua.title = NULL;
  CHECK_EQ_INT(folio_pdf_finish(in, &ua, out, &d), FOLIO_PDF_E_ARG);
  CHECK_EQ_STR(d.field, "title");
  CHECK(!exists(out));
  struct folio_pdf_options bx = {.boxes = boxes, .n_boxes = np > 1 ? np - 1 : 2};
  CHECK_EQ_INT(folio_pdf_finish(in, &bx, out, &d), FOLIO_PDF_E_ARG);
  CHECK_EQ_STR(d.field, "boxes");
  CHECK(strstr(d.message, "pages") != NULL);
  struct folio_pdf_page_boxes inv = boxes[0];
  inv.trim[0] = -1; /* trim outside bleed */
  struct folio_pdf_options bx2 = {.boxes = &inv, .n_boxes = 1};
  CHECK_EQ_INT(folio_pdf_finish(in, &bx2, out, &d), FOLIO_PDF_E_ARG);
  CHECK(strstr(d.message, "nest") != NULL);
  CHECK(!exists(out));

  struct folio_pdf_options x = {.profiles = FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFX_4)};
  CHECK_EQ_INT(folio_pdf_finish(in, &x, out, &d), FOLIO_PDF_E_ARG); /* PDF/X wants a title */
  CHECK_EQ_STR(d.field, "title");
  CHECK(strstr(d.message, "PDF/X-4") != NULL);
  x.title = "t";
  x.output_icc_path = "/nonexistent/press.icc";
  CHECK_EQ_INT(folio_pdf_finish(in, &x, out, &d), FOLIO_PDF_E_ICC);
  CHECK_EQ_STR(d.field, "output_icc_path");
  CHECK(strstr(d.message, "/nonexistent/press.icc") != NULL);
  x.output_icc_path = FOLIO_PDF_SRGB_ICC_DEFAULT; /* an RGB monitor profile is no press profile */
  CHECK_EQ_INT(folio_pdf_finish(in, &x, out, &d), FOLIO_PDF_E_ICC);
  CHECK(strstr(d.message, "CMYK") != NULL);
  /* a CMYK printer profile is of an allowed class for the RGB profile, but
   * the wrong colour space */
  struct folio_pdf_options a_cmyk = {.profiles = FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFA_2B),
                                     .rgb_icc_path = FOLIO_PDF_CMYK_ICC_DEFAULT};
  CHECK_EQ_INT(folio_pdf_finish(in, &a_cmyk, out, &d), FOLIO_PDF_E_ICC);
  CHECK_EQ_STR(d.field, "rgb_icc_path");
  f = fopen(bad_icc, "wb");
  for (int k = 0; k < 300; k++) fputc('x', f);
  fclose(f);
  struct folio_pdf_options a = {.profiles = FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFA_2B), .rgb_icc_path = bad_icc};
  CHECK_EQ_INT(folio_pdf_finish(in, &a, out, &d), FOLIO_PDF_E_ICC);
  CHECK(strstr(d.message, "acsp") != NULL);
  CHECK(!exists(out));
  CHECK_EQ_INT(folio_pdf_finish("/nonexistent.pdf", &o, out, &d), FOLIO_PDF_E_PDF);

  /* print boxes: 3 mm bleed and 3 mm slug around the trim, for check_pdf.py */
  for (size_t p = 0; p < np; p++) {
    double w = doc->pages[p].width, h = doc->pages[p].height;
    boxes[p] = (struct folio_pdf_page_boxes){{0, 0, w, h}, {8.5, 8.5, w - 8.5, h - 8.5}, {17, 17, w - 17, h - 17}};
  }
  struct folio_pdf_options pb = {.boxes = boxes, .n_boxes = np};
  CHECK(folio_pdf_needed(&pb));
  pb.profiles = FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFX_4);
  pb.title = doc->title;
  pb.author = doc->author;
  char boxed[512];
  snprintf(boxed, sizeof boxed, "%s/boxed.pdf", argv[2]);
  CHECK_MSG(folio_pdf_finish(in, &pb, boxed, &d) == 0, "%s", d.message);

  /* PDF/UA-1 through the glue, in process: a tagged render, its attributes
   * handed over, the finish, the preflight (the example's images have no alt:
   * two Figures without /Alt, nothing else) */
  {
    char tagged[256];
    snprintf(tagged, sizeof tagged, "%s/tagged.pdf", dir);
    struct folio_pdf_options uo = {.profiles = FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFUA_1)};
    struct folio_render_options ro = {0};
    struct folio_pdf_job pj;
    CHECK_EQ_INT(folio_pdf_job_init(&pj, doc, "en-GB", &uo, &ro), 0);
    CHECK(ro.pdf_tagged && ro.pdf_struct && uo.attrs == &pj.attrs);
    CHECK_EQ_STR(uo.lang, "en-GB");
    CHECK_EQ_INT(uo.n_boxes, np);
    FILE *tf = fopen(tagged, "wb");
    CHECK(tf);
    CHECK_EQ_INT(folio_render_pdf(doc, &ro, file_write, tf, &rd), 0);
    fclose(tf);
    CHECK_MSG(folio_pdf_finish(tagged, &uo, out, &d) == 0, "%s", d.message);
    struct folio_findings fs;
    folio_findings_init(&fs, 0);
    CHECK_EQ_INT(folio_pdf_preflight(out, uo.profiles, &fs), 0);
    size_t no_alt = 0;
    for (size_t i = 0; i < fs.n; i++) {
      CHECK_MSG(strcmp(fs.items[i].code, "PDF_UA_FIGURE_NO_ALT") == 0, "finding %s: %s", fs.items[i].code,
                fs.items[i].message);
      no_alt++;
    }
    CHECK_EQ_INT(no_alt, 2);
    folio_findings_fini(&fs);
    /* attributes that do not fit the tree are refused, never written elsewhere */
    struct folio_pdf_elem_attr wrong = {.elem = 0, .type = "Figure", .alt = "a chart"};
    struct folio_pdf_attrs wl = {.v = &wrong, .n = 1, .cap = 1};
    uo.attrs = &wl;
    CHECK_EQ_INT(folio_pdf_finish(tagged, &uo, out, &d), FOLIO_PDF_E_PDF);
    CHECK(strstr(d.message, "element 0 is /Document, reported as /Figure") != NULL);
    CHECK(!exists(out));
    wrong = (struct folio_pdf_elem_attr){.elem = 100000, .type = "Figure", .alt = "a chart"};
    CHECK_EQ_INT(folio_pdf_finish(tagged, &uo, out, &d), FOLIO_PDF_E_PDF);
    CHECK(strstr(d.message, "the tree has") != NULL);
    wrong = (struct folio_pdf_elem_attr){.elem = 0, .type = "Document", .lang = "fr"};
    CHECK_MSG(folio_pdf_finish(tagged, &uo, out, &d) == 0, "%s", d.message);
    wl.nomem = 1; /* an incomplete list */
    CHECK_EQ_INT(folio_pdf_finish(tagged, &uo, out, &d), FOLIO_PDF_E_NOMEM);
    /* attributes on an untagged PDF: refused */
    wl.nomem = 0;
    struct folio_pdf_options plain_attrs = {.attrs = &wl, .profiles = FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFA_2B)};
    CHECK_EQ_INT(folio_pdf_finish(in, &plain_attrs, out, &d), FOLIO_PDF_E_ARG);
    CHECK(strstr(d.message, "not tagged") != NULL);
    folio_pdf_job_fini(&pj);
    unlink(tagged);
  }

  unlink(in);
  unlink(out);
  unlink(out2);
  unlink(bad_icc);
  rmdir(dir);
  folio_layout_doc_free(doc);
  return check_done();
}
