/* The output preflight (folio/pdf_preflight.h) on PDFs written here object by
 * object: one that meets PDF/A-2b, PDF/X-4 and PDF/UA-1 at once (no
 * finding), then the same file broken one rule at a time (missing /ID, an
 * unembedded font, TrimBox outside BleedBox, a JavaScript OpenAction, an
 * output intent with the wrong ICC class, XMP that disagrees with Info, a
 * Figure without /Alt, ...), each giving exactly its finding; an encrypted
 * copy made with libqpdf; a file that is no PDF; and folio's own renderer
 * output, clean as plain PDF and missing what PDF/A needs.
 *
 * usage: test_pdf_preflight (writes into $TMPDIR) */
#include <qpdf/qpdf-c.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "folio/findings.h"
#include "folio/layout.h"
#include "folio/pdf_preflight.h"
#include "folio/render.h"

#define ALL (FOLIO_PDF_PREFLIGHT_PDFA_2B | FOLIO_PDF_PREFLIGHT_PDFX_4 | FOLIO_PDF_PREFLIGHT_PDFUA_1)

/* What to break in the generated file. */
struct knobs {
  bool icc_v5, no_id, unembedded, trim_outside, js_open, monitor_icc, not_icc, info_title_other, figure_no_alt,
      not_marked, no_lang, no_ddt, no_struct, pdfa_conformance_a, no_metadata, no_intents, no_trapped,
      no_trimbox, tz_date, launch_annot, two_profiles;
};

struct w {
  char *buf;
  size_t len, cap;
  size_t off[32];
};

static void put(struct w *w, const char *s, size_t n) {
  if (w->len + n + 1 > w->cap) {
    w->cap = (w->len + n + 1) * 2;
    w->buf = realloc(w->buf, w->cap);
    CHECK(w->buf);
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}
static void puts_(struct w *w, const char *s) { put(w, s, strlen(s)); }

static void obj(struct w *w, int n, const char *body) {
  w->off[n] = w->len;
  char h[32];
  snprintf(h, sizeof h, "%d 0 obj\n", n);
  puts_(w, h);
  puts_(w, body);
  puts_(w, "\nendobj\n");
}

static void stream(struct w *w, int n, const char *dict, const char *data, size_t len) {
  w->off[n] = w->len;
  char h[256];
  snprintf(h, sizeof h, "%d 0 obj\n<< %s /Length %zu >>\nstream\n", n, dict, len);
  puts_(w, h);
  put(w, data, len);
  puts_(w, "\nendstream\nendobj\n");
}

static void icc(char out[128], const char *cls, const char *space, bool valid) {
  memset(out, 0, 128);
  out[3] = (char)128; /* size, big-endian */
  out[8] = 4;         /* version 4.x */
  memcpy(out + 12, cls, 4);
  memcpy(out + 16, space, 4);
  memcpy(out + 20, "XYZ ", 4);
  if (valid) memcpy(out + 36, "acsp", 4);
}

static void make(const char *path, const struct knobs *k) {
  struct w w = {0};
  puts_(&w, "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
  char cat[1024];
  snprintf(cat, sizeof cat,
           "<< /Type /Catalog /Pages 2 0 R %s %s %s %s %s %s %s >>",
           k->no_metadata ? "" : "/Metadata 5 0 R",
           k->no_intents ? ""
           : k->two_profiles
               ? "/OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (c) "
                 "/DestOutputProfile 6 0 R >> << /Type /OutputIntent /S /GTS_PDFX /OutputConditionIdentifier "
                 "(c) /DestOutputProfile 13 0 R >>]"
               : "/OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (c) "
                 "/DestOutputProfile 6 0 R >> << /Type /OutputIntent /S /GTS_PDFX /OutputConditionIdentifier "
                 "(c) /DestOutputProfile 6 0 R >>]",
           k->not_marked ? "/MarkInfo << /Marked false >>" : "/MarkInfo << /Marked true >>",
           k->no_lang ? "" : "/Lang (en)",
           k->no_ddt ? "" : "/ViewerPreferences << /DisplayDocTitle true >>",
           k->no_struct ? "" : "/StructTreeRoot 7 0 R",
           k->js_open ? "/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>" : "");
  obj(&w, 1, cat);
  /* the MediaBox is inherited from the page tree */
  obj(&w, 2, "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 200 200] >>");
  char page[512];
  snprintf(page, sizeof page,
           "<< /Type /Page /Parent 2 0 R /BleedBox [0 0 200 200] %s /Resources << /Font << /F1 4 0 R >> >> "
           "/Contents 8 0 R %s >>",
           k->no_trimbox ? "" : k->trim_outside ? "/TrimBox [10 10 210 190]" : "/TrimBox [10 10 190 190]",
           k->launch_annot ? "/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /Launch /F "
                             "(calc.exe) >> >>]"
                           : "");
  obj(&w, 3, page);
  obj(&w, 4, "<< /Type /Font /Subtype /TrueType /BaseFont /ABCDEF+DejaVuSans /FirstChar 32 /LastChar 126 "
             "/FontDescriptor 9 0 R >>");
  char xmp[2048];
  int xl = snprintf(xmp, sizeof xmp,
                    "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
                    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
                    "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
                    "<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" "
                    "pdfaid:part=\"2\" pdfaid:conformance=\"%s\"/>\n"
                    "<rdf:Description rdf:about=\"\" xmlns:pdfxid=\"http://www.npes.org/pdfx/ns/id/\">"
                    "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion></rdf:Description>\n"
                    "<rdf:Description rdf:about=\"\" xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\" "
                    "pdfuaid:part=\"1\"/>\n"
                    "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                    "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">Tom &amp; Jerry</rdf:li></rdf:Alt>"
                    "</dc:title></rdf:Description>\n"
                    "<rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">"
                    "<xmp:CreatorTool>folio</xmp:CreatorTool>"
                    "<xmp:CreateDate>2024-01-01T00:00:00Z</xmp:CreateDate></rdf:Description>\n"
                    "</rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>",
                    k->pdfa_conformance_a ? "A" : "B");
  stream(&w, 5, "/Type /Metadata /Subtype /XML", xmp, (size_t)xl);
  char prof[128];
  icc(prof, k->monitor_icc ? "mntr" : "prtr", k->monitor_icc ? "RGB " : "CMYK", !k->not_icc);
  if (k->icc_v5) prof[8] = 5;
  stream(&w, 6, "/N 4", prof, sizeof prof);
  obj(&w, 7, "<< /Type /StructTreeRoot /K 11 0 R /RoleMap << /Picture /Figure >> >>");
  const char *content = "BT /F1 12 Tf 20 100 Td (hi) Tj ET";
  stream(&w, 8, "", content, strlen(content));
  obj(&w, 9, k->unembedded ? "<< /Type /FontDescriptor /FontName /ABCDEF+DejaVuSans /Flags 32 /ItalicAngle 0 "
                             "/Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 /FontBBox [0 0 1000 1000] >>"
                           : "<< /Type /FontDescriptor /FontName /ABCDEF+DejaVuSans /Flags 32 /ItalicAngle 0 "
                             "/Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 /FontBBox [0 0 1000 1000] "
                             "/FontFile2 10 0 R >>");
  stream(&w, 10, "", "not really a font", 17);
  /* a Figure through the RoleMap (Picture -> Figure) */
  obj(&w, 11, k->figure_no_alt ? "<< /Type /StructElem /S /Picture /P 7 0 R /Pg 3 0 R /K 0 >>"
                               : "<< /Type /StructElem /S /Picture /P 7 0 R /Pg 3 0 R /K 0 /Alt (a cat) >>");
  char info[512];
  snprintf(info, sizeof info, "<< /Title (%s) /Creator (folio) /CreationDate (%s) %s >>",
           k->info_title_other ? "Other" : "Tom & Jerry",
           k->tz_date ? "D:20240101010000+01'00'" : "D:20240101000000Z", k->no_trapped ? "" : "/Trapped /False");
  obj(&w, 12, info);
  char prof2[128];
  icc(prof2, "prtr", "CMYK", true);
  stream(&w, 13, "/N 4", prof2, sizeof prof2);
  size_t xref = w.len;
  puts_(&w, "xref\n0 14\n0000000000 65535 f \n");
  for (int i = 1; i <= 13; i++) {
    char line[32];
    snprintf(line, sizeof line, "%010zu 00000 n \n", w.off[i]);
    puts_(&w, line);
  }
  char tr[512];
  snprintf(tr, sizeof tr, "trailer\n<< /Size 14 /Root 1 0 R /Info 12 0 R %s >>\nstartxref\n%zu\n%%%%EOF\n",
           k->no_id ? "" : "/ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>]", xref);
  puts_(&w, tr);
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(w.buf, 1, w.len, f) == w.len && fclose(f) == 0);
  free(w.buf);
}

static char dir[256];

static const char *tmp(const char *name) {
  static char p[4][512];
  static int i;
  char *r = p[i++ % 4];
  snprintf(r, 512, "%s/%s", dir, name);
  return r;
}

/* Preflights path and returns the list (caller finis it). */
static struct folio_findings run(const char *path, unsigned profiles) {
  struct folio_findings f;
  folio_findings_init(&f, 0);
  CHECK_EQ_INT(folio_pdf_preflight(path, profiles, &f), 0);
  return f;
}

static void show(const struct folio_findings *f) {
  for (size_t i = 0; i < f->n; i++)
    fprintf(stderr, "  %s (%s) p%u: %s\n", f->items[i].code, folio_finding_severity_name(f->items[i].severity),
            f->items[i].page, f->items[i].message);
}

/* Exactly one finding, with this code; returns its message. */
static void expect_one(const struct knobs *k, unsigned profiles, const char *code, uint32_t page,
                       const char *text) {
  const char *path = tmp("case.pdf");
  make(path, k);
  struct folio_findings f = run(path, profiles);
  if (f.n != 1 || strcmp(f.items[0].code, code) != 0) show(&f);
  CHECK_MSG(f.n == 1, "%s: %zu findings", code, f.n);
  CHECK_EQ_STR(f.items[0].code, code);
  CHECK_EQ_INT(f.items[0].stage, FOLIO_FINDING_PREFLIGHT);
  CHECK_EQ_INT(f.items[0].page, page);
  CHECK_EQ_STR(f.items[0].pointer, "");
  CHECK_MSG(strstr(f.items[0].message, text) != NULL, "%s: \"%s\" lacks \"%s\"", code, f.items[0].message, text);
  folio_findings_fini(&f);
}

static void good_file(void) {
  struct knobs k = {0};
  const char *path = tmp("good.pdf");
  make(path, &k);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "qpdf --check '%s' > /dev/null", path);
  CHECK_MSG(system(cmd) == 0, "qpdf --check fails on the test's own good file");
  struct folio_findings f = run(path, ALL);
  if (f.n) show(&f);
  CHECK_EQ_INT(f.n, 0);
  folio_findings_fini(&f);
  f = run(path, 0);
  CHECK_EQ_INT(f.n, 0);
  folio_findings_fini(&f);
  /* an Info date with a time zone equal to the XMP's UTC one */
  k.tz_date = true;
  make(path, &k);
  f = run(path, ALL);
  if (f.n) show(&f);
  CHECK_EQ_INT(f.n, 0);
  folio_findings_fini(&f);
}

static void broken_files(void) {
  expect_one(&(struct knobs){.no_id = true}, FOLIO_PDF_PREFLIGHT_PDFA_2B, "PDF_ID_MISSING", 0, "/ID");
  expect_one(&(struct knobs){.no_id = true}, FOLIO_PDF_PREFLIGHT_PDFX_4, "PDF_ID_MISSING", 0, "/ID");
  { /* plain PDF does not need /ID */
    const char *path = tmp("noid.pdf");
    make(path, &(struct knobs){.no_id = true});
    struct folio_findings f = run(path, FOLIO_PDF_PREFLIGHT_PDFUA_1);
    CHECK_EQ_INT(f.n, 0);
    folio_findings_fini(&f);
  }
  expect_one(&(struct knobs){.unembedded = true}, ALL, "PDF_FONT_NOT_EMBEDDED", 1,
             "font /ABCDEF+DejaVuSans (object 4) is not embedded");
  expect_one(&(struct knobs){.trim_outside = true}, ALL, "PDF_BOXES_NOT_NESTED", 1,
             "TrimBox [10 10 210 190] extends outside BleedBox [0 0 200 200]");
  expect_one(&(struct knobs){.js_open = true}, 0, "PDF_JAVASCRIPT", 0, "/OpenAction runs JavaScript");
  expect_one(&(struct knobs){.launch_annot = true}, FOLIO_PDF_PREFLIGHT_PDFA_2B, "PDF_FORBIDDEN_ACTION", 1,
             "Launch action");
  expect_one(&(struct knobs){.monitor_icc = true}, FOLIO_PDF_PREFLIGHT_PDFX_4, "PDF_OUTPUT_INTENT_PROFILE", 0,
             "class 'mntr' in colour space 'RGB '");
  { /* a monitor RGB profile is right for PDF/A */
    const char *path = tmp("mntr.pdf");
    make(path, &(struct knobs){.monitor_icc = true});
    struct folio_findings f = run(path, FOLIO_PDF_PREFLIGHT_PDFA_2B);
    if (f.n) show(&f);
    CHECK_EQ_INT(f.n, 0);
    folio_findings_fini(&f);
  }
  expect_one(&(struct knobs){.not_icc = true}, FOLIO_PDF_PREFLIGHT_PDFA_2B, "PDF_OUTPUT_INTENT_PROFILE", 0,
             "is not an ICC profile");
  expect_one(&(struct knobs){.icc_v5 = true}, FOLIO_PDF_PREFLIGHT_PDFA_2B, "PDF_OUTPUT_INTENT_PROFILE", 0,
             "is version 5");
  expect_one(&(struct knobs){.two_profiles = true}, FOLIO_PDF_PREFLIGHT_PDFA_2B, "PDF_OUTPUT_INTENTS_DIFFER", 0,
             "different ICC profiles");
  expect_one(&(struct knobs){.no_intents = true}, FOLIO_PDF_PREFLIGHT_PDFX_4, "PDF_OUTPUT_INTENT_MISSING", 0,
             "/GTS_PDFX");
  expect_one(&(struct knobs){.info_title_other = true}, FOLIO_PDF_PREFLIGHT_PDFA_2B, "PDF_XMP_INFO_MISMATCH", 0,
             "Info /Title \"Other\" differs from XMP dc:title \"Tom & Jerry\"");
  expect_one(&(struct knobs){.pdfa_conformance_a = true}, FOLIO_PDF_PREFLIGHT_PDFA_2B, "PDF_XMP_PDFA_ID", 0,
             "has part 2, conformance A");
  expect_one(&(struct knobs){.no_metadata = true}, FOLIO_PDF_PREFLIGHT_PDFUA_1, "PDF_XMP_MISSING", 0, "/Metadata");
  expect_one(&(struct knobs){.no_trapped = true}, FOLIO_PDF_PREFLIGHT_PDFX_4, "PDF_TRAPPED_MISSING", 0, "/Trapped");
  expect_one(&(struct knobs){.no_trimbox = true}, FOLIO_PDF_PREFLIGHT_PDFX_4, "PDF_TRIMBOX_MISSING", 1, "TrimBox");
  expect_one(&(struct knobs){.figure_no_alt = true}, FOLIO_PDF_PREFLIGHT_PDFUA_1, "PDF_UA_FIGURE_NO_ALT", 1,
             "Figure structure element (object 11)");
  expect_one(&(struct knobs){.not_marked = true}, FOLIO_PDF_PREFLIGHT_PDFUA_1, "PDF_UA_NOT_MARKED", 0, "/Marked");
  expect_one(&(struct knobs){.no_lang = true}, FOLIO_PDF_PREFLIGHT_PDFUA_1, "PDF_UA_NO_LANG", 0, "/Lang");
  expect_one(&(struct knobs){.no_ddt = true}, FOLIO_PDF_PREFLIGHT_PDFUA_1, "PDF_UA_DISPLAY_DOC_TITLE", 0,
             "DisplayDocTitle");
  expect_one(&(struct knobs){.no_struct = true}, FOLIO_PDF_PREFLIGHT_PDFUA_1, "PDF_UA_NO_STRUCTURE", 0,
             "StructTreeRoot");
  /* severities: an asked profile's rule is an error, the same rule on plain PDF a warning */
  const char *path = tmp("unemb.pdf");
  make(path, &(struct knobs){.unembedded = true});
  struct folio_findings f = run(path, 0);
  CHECK_EQ_INT(f.n, 1);
  CHECK_EQ_INT(f.items[0].severity, FOLIO_FINDING_WARNING);
  folio_findings_fini(&f);
  f = run(path, FOLIO_PDF_PREFLIGHT_PDFA_2B);
  CHECK_EQ_INT(f.n, 1);
  CHECK_EQ_INT(f.items[0].severity, FOLIO_FINDING_ERROR);
  folio_findings_fini(&f);
}

static void encrypted(void) {
  const char *good = tmp("good.pdf"), *enc = tmp("enc.pdf");
  make(good, &(struct knobs){0});
  qpdf_data q = qpdf_init();
  qpdf_silence_errors(q);
  CHECK((qpdf_read(q, good, "") & QPDF_ERRORS) == 0);
  CHECK((qpdf_init_write(q, enc) & QPDF_ERRORS) == 0);
  qpdf_set_r6_encryption_parameters2(q, "", "owner", 1, 1, 1, 1, 1, 1, qpdf_r3p_full, 1);
  CHECK((qpdf_write(q) & QPDF_ERRORS) == 0);
  qpdf_cleanup(&q);
  struct folio_findings f = run(enc, 0);
  if (f.n != 1) show(&f);
  CHECK_EQ_INT(f.n, 1);
  CHECK_EQ_STR(f.items[0].code, "PDF_ENCRYPTED");
  CHECK_EQ_INT(f.items[0].severity, FOLIO_FINDING_ERROR);
  folio_findings_fini(&f);
}

static void unreadable(void) {
  const char *path = tmp("junk.pdf");
  FILE *fp = fopen(path, "wb");
  CHECK(fp && fputs("this is not a PDF at all\n", fp) >= 0 && fclose(fp) == 0);
  struct folio_findings f = run(path, ALL);
  CHECK_EQ_INT(f.n, 1);
  CHECK_EQ_STR(f.items[0].code, "PDF_UNREADABLE");
  folio_findings_fini(&f);
  f = run(tmp("does-not-exist.pdf"), 0);
  CHECK_EQ_INT(f.n, 1);
  CHECK_EQ_STR(f.items[0].code, "PDF_UNREADABLE");
  folio_findings_fini(&f);
  folio_findings_init(&f, 0);
  CHECK_EQ_INT(folio_pdf_preflight(NULL, 0, &f), FOLIO_PDF_PREFLIGHT_EINVAL);
  CHECK_EQ_INT(folio_pdf_preflight(path, 1u << 4, &f), FOLIO_PDF_PREFLIGHT_EINVAL);
  folio_findings_fini(&f);
}

static int to_file(void *ctx, const unsigned char *d, size_t n) { return fwrite(d, 1, n, ctx) != n; }

/* folio's own renderer output: clean as plain PDF; PDF/A asks for what
 * cairo does not write (/ID, XMP, an output intent). */
static void folio_output(void) {
  const char *json = "{\"version\":1,\"meta\":{\"title\":\"Preflight\"},\"pages\":[{\"items\":["
                     "{\"type\":\"text\",\"x\":40,\"y\":40,\"w\":300,\"h\":40,\"text\":\"Hello, caf\\u00e9\"},"
                     "{\"type\":\"rect\",\"x\":40,\"y\":100,\"w\":100,\"h\":50,\"fill\":\"#336699\"}]}]}";
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag ld = {0};
  CHECK(folio_layout_decode(json, strlen(json), &lim, &doc, &ld) == 0);
  const char *path = tmp("folio.pdf");
  FILE *fp = fopen(path, "wb");
  CHECK(fp);
  struct folio_render_diag d = {0};
  CHECK_MSG(folio_render_pdf(doc, NULL, to_file, fp, &d) == 0, "%s", d.message);
  CHECK(fclose(fp) == 0);
  folio_layout_doc_free(doc);
  struct folio_findings f = run(path, 0);
  if (f.n) show(&f);
  CHECK_EQ_INT(f.n, 0);
  folio_findings_fini(&f);
  f = run(path, FOLIO_PDF_PREFLIGHT_PDFA_2B);
  const char *want[] = {"PDF_ID_MISSING", "PDF_XMP_MISSING", "PDF_OUTPUT_INTENT_MISSING"};
  if (f.n != 3) show(&f);
  CHECK_EQ_INT(f.n, 3);
  for (size_t i = 0; i < 3; i++) CHECK_EQ_STR(f.items[i].code, want[i]);
  folio_findings_fini(&f);
}

int main(void) {
  const char *t = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/folio-preflight-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(dir) != NULL);
  good_file();
  broken_files();
  encrypted();
  unreadable();
  folio_output();
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
  return check_done();
}
