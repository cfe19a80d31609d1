/* The output preflight (folio/pdf_preflight.h): one pass over a finished PDF
 * with libqpdf's C API, object by object, reporting each broken rule as a
 * finding. Nothing is rendered or rewritten; streams are read only for the
 * XMP packet and the ICC profile headers.
 *
 * qpdf's object handles (qpdf_oh) live until qpdf_cleanup; a preflight makes
 * a bounded number of them per page (resources, fonts, boxes), so they are
 * all released at the end. qpdf reports errors of accessors on the handle
 * (a wrong type gives a default value), which is what a checker wants: a
 * malformed object reads as missing and is reported as such. */
#include "folio/pdf_preflight.h"

#include <qpdf/qpdf-c.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL_PROFILES (FOLIO_PDF_PREFLIGHT_PDFA_2B | FOLIO_PDF_PREFLIGHT_PDFX_4 | FOLIO_PDF_PREFLIGHT_PDFUA_1)

struct pf {
  qpdf_data q;
  unsigned profiles;
  struct folio_findings *out;
  int rc; /* the first failure to add a finding */
  /* objects already looked at (fonts, form XObjects), by object number */
  int *seen;
  size_t nseen, capseen;
};

static void report(struct pf *p, const char *code, enum folio_finding_severity sev, uint32_t page,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(struct pf *p, const char *code, enum folio_finding_severity sev, uint32_t page,
                   const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = folio_findings_addv(p->out, code, sev, FOLIO_FINDING_PREFLIGHT, page, NULL, fmt, ap);
  va_end(ap);
  if (rc && !p->rc) p->rc = rc == FOLIO_FINDINGS_ENOMEM ? FOLIO_PDF_PREFLIGHT_ENOMEM : FOLIO_PDF_PREFLIGHT_EINVAL;
}

/* An "always" rule: an error when any profile was asked, else a warning. */
static enum folio_finding_severity base_sev(const struct pf *p) {
  return p->profiles ? FOLIO_FINDING_ERROR : FOLIO_FINDING_WARNING;
}

static bool want(const struct pf *p, unsigned profile) { return (p->profiles & profile) != 0; }

/* Remembers object number id; false when it was seen already (or id is 0:
 * a direct object, never shared). */
static bool first_visit(struct pf *p, int id) {
  if (id <= 0) return true;
  for (size_t i = 0; i < p->nseen; i++)
    if (p->seen[i] == id) return false;
  if (p->nseen == p->capseen) {
    size_t cap = p->capseen ? p->capseen * 2 : 64;
    int *n = realloc(p->seen, cap * sizeof *n);
    if (!n) return true; /* look at it again rather than skip it */
    p->seen = n;
    p->capseen = cap;
  }
  p->seen[p->nseen++] = id;
  return true;
}

static qpdf_oh key(struct pf *p, qpdf_oh dict, const char *k) { return qpdf_oh_get_key_if_dict(p->q, dict, k); }

static bool is_dict(struct pf *p, qpdf_oh o) { return qpdf_oh_is_dictionary(p->q, o); }

static bool name_is(struct pf *p, qpdf_oh o, const char *name) {
  return qpdf_oh_is_name_and_equals(p->q, o, name);
}

/* ---- actions ------------------------------------------------------------------- */

/* Action types PDF/A-2 forbids (ISO 19005-2 6.5.1); JavaScript is reported
 * on its own. */
static const char *const forbidden_actions[] = {"/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData",
                                                "/Hide", "/SetOCGState", "/Rendition", "/Trans",
                                                "/GoTo3DView"};

/* An action dictionary (and its /Next chain, bounded). */
static void check_action(struct pf *p, qpdf_oh a, uint32_t page, const char *where) {
  for (int hop = 0; hop < 16 && is_dict(p, a); hop++) {
    qpdf_oh s = key(p, a, "/S");
    if (name_is(p, s, "/JavaScript")) {
      report(p, "PDF_JAVASCRIPT", FOLIO_FINDING_ERROR, page, "%s runs JavaScript", where);
    } else if (want(p, FOLIO_PDF_PREFLIGHT_PDFA_2B)) {
      for (size_t i = 0; i < sizeof forbidden_actions / sizeof forbidden_actions[0]; i++)
        if (name_is(p, s, forbidden_actions[i]))
          report(p, "PDF_FORBIDDEN_ACTION", FOLIO_FINDING_ERROR, page, "%s is a %s action, which PDF/A forbids",
                 where, forbidden_actions[i] + 1);
    }
    qpdf_oh next = key(p, a, "/Next");
    a = qpdf_oh_is_array(p->q, next) ? qpdf_oh_get_array_item(p->q, next, 0) : next;
  }
}

/* An additional-actions (/AA) dictionary: every trigger's action. */
static void check_aa(struct pf *p, qpdf_oh aa, uint32_t page, const char *where) {
  if (!is_dict(p, aa)) return;
  qpdf_oh_begin_dict_key_iter(p->q, aa);
  char keys[16][16];
  int n = 0;
  while (qpdf_oh_dict_more_keys(p->q) && n < 16) snprintf(keys[n++], sizeof keys[0], "%s", qpdf_oh_dict_next_key(p->q));
  for (int i = 0; i < n; i++) {
    char w[128];
    snprintf(w, sizeof w, "%.60s /AA %.15s", where, keys[i]);
    check_action(p, key(p, aa, keys[i]), page, w);
  }
}

static void check_document_actions(struct pf *p, qpdf_oh root) {
  qpdf_oh names = key(p, root, "/Names");
  if (is_dict(p, names) && qpdf_oh_has_key(p->q, names, "/JavaScript"))
    report(p, "PDF_JAVASCRIPT", FOLIO_FINDING_ERROR, 0, "the document's name tree holds JavaScript (/Names /JavaScript)");
  qpdf_oh open = key(p, root, "/OpenAction");
  if (is_dict(p, open)) check_action(p, open, 0, "the document's /OpenAction");
  check_aa(p, key(p, root, "/AA"), 0, "the catalog's");
}

/* ---- fonts --------------------------------------------------------------------- */

static bool descriptor_embeds(struct pf *p, qpdf_oh fd) {
  return is_dict(p, fd) && (qpdf_oh_has_key(p->q, fd, "/FontFile") || qpdf_oh_has_key(p->q, fd, "/FontFile2") ||
                            qpdf_oh_has_key(p->q, fd, "/FontFile3"));
}

static void check_font(struct pf *p, qpdf_oh font, uint32_t page) {
  if (!is_dict(p, font) || !first_visit(p, qpdf_oh_get_object_id(p->q, font))) return;
  qpdf_oh sub = key(p, font, "/Subtype");
  if (name_is(p, sub, "/Type3")) return; /* glyphs are content streams: always embedded */
  qpdf_oh fd;
  if (name_is(p, sub, "/Type0")) {
    qpdf_oh desc = key(p, font, "/DescendantFonts");
    qpdf_oh cid = qpdf_oh_is_array(p->q, desc) ? qpdf_oh_get_array_item(p->q, desc, 0) : desc;
    fd = key(p, cid, "/FontDescriptor");
  } else {
    fd = key(p, font, "/FontDescriptor");
  }
  if (descriptor_embeds(p, fd)) return;
  qpdf_oh base = key(p, font, "/BaseFont");
  const char *name = qpdf_oh_is_name(p->q, base) ? qpdf_oh_get_name(p->q, base) : "(no /BaseFont)";
  report(p, "PDF_FONT_NOT_EMBEDDED", base_sev(p), page, "font %s (object %d) is not embedded", name,
         qpdf_oh_get_object_id(p->q, font));
}

/* The keys of dictionary d, copied (*n of them; free each and the array with
 * free_keys). Collected first because a nested iteration would reset qpdf's
 * one dictionary iterator. Out of memory: NULL and p->rc set, so the
 * preflight fails instead of passing over what it could not look at. */
static char **dict_keys(struct pf *p, qpdf_oh d, size_t *n) {
  *n = 0;
  size_t cap = 0;
  char **names = NULL;
  qpdf_oh_begin_dict_key_iter(p->q, d);
  while (qpdf_oh_dict_more_keys(p->q)) {
    const char *k = qpdf_oh_dict_next_key(p->q);
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) goto oom;
      names = nn;
    }
    if (!(names[*n] = strdup(k))) goto oom;
    (*n)++;
  }
  return names;
oom:
  for (size_t i = 0; i < *n; i++) free(names[i]);
  free(names);
  *n = 0;
  if (!p->rc) p->rc = FOLIO_PDF_PREFLIGHT_ENOMEM;
  return NULL;
}

static void free_keys(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* The fonts of a resource dictionary and of its form XObjects, depth-bounded. */
static void check_resources(struct pf *p, qpdf_oh res, uint32_t page, int depth) {
  if (!is_dict(p, res) || depth > FOLIO_PDF_PREFLIGHT_MAX_XOBJECT_DEPTH) return;
  qpdf_oh fonts = key(p, res, "/Font");
  if (is_dict(p, fonts)) {
    size_t n;
    char **names = dict_keys(p, fonts, &n);
    for (size_t i = 0; i < n; i++) check_font(p, key(p, fonts, names[i]), page);
    free_keys(names, n);
  }
  qpdf_oh xo = key(p, res, "/XObject");
  if (!is_dict(p, xo)) return;
  size_t n;
  char **names = dict_keys(p, xo, &n);
  for (size_t i = 0; i < n; i++) {
    qpdf_oh x = key(p, xo, names[i]);
    if (!qpdf_oh_is_stream(p->q, x) || !first_visit(p, qpdf_oh_get_object_id(p->q, x))) continue;
    qpdf_oh d = qpdf_oh_get_dict(p->q, x);
    if (name_is(p, key(p, d, "/Subtype"), "/Form")) check_resources(p, key(p, d, "/Resources"), page, depth + 1);
  }
  free_keys(names, n);
}

/* ---- page boxes ------------------------------------------------------------------ */

struct box {
  bool set;
  double x0, y0, x1, y1;
};

static struct box read_box(struct pf *p, qpdf_oh page, const char *k) {
  struct box b = {0};
  qpdf_oh a = key(p, page, k);
  if (!qpdf_oh_is_array(p->q, a) || qpdf_oh_get_array_n_items(p->q, a) != 4) return b;
  double v[4];
  for (int i = 0; i < 4; i++) {
    qpdf_oh e = qpdf_oh_get_array_item(p->q, a, i);
    if (!qpdf_oh_is_number(p->q, e)) return b;
    v[i] = qpdf_oh_get_numeric_value(p->q, e);
  }
  b.set = true;
  b.x0 = v[0] < v[2] ? v[0] : v[2], b.x1 = v[0] < v[2] ? v[2] : v[0];
  b.y0 = v[1] < v[3] ? v[1] : v[3], b.y1 = v[1] < v[3] ? v[3] : v[1];
  return b;
}

static bool inside(const struct box *in, const struct box *out) {
  const double e = 0.01; /* rounding in the writer */
  return in->x0 >= out->x0 - e && in->y0 >= out->y0 - e && in->x1 <= out->x1 + e && in->y1 <= out->y1 + e;
}

static void box_text(char *buf, size_t cap, const struct box *b) {
  snprintf(buf, cap, "[%g %g %g %g]", b->x0, b->y0, b->x1, b->y1);
}

static void check_boxes(struct pf *p, qpdf_oh page, uint32_t n) {
  struct box media = read_box(p, page, "/MediaBox"), bleed = read_box(p, page, "/BleedBox"),
             trim = read_box(p, page, "/TrimBox"), art = read_box(p, page, "/ArtBox");
  char a[96], b[96];
  if (!media.set) {
    report(p, "PDF_BOXES_NOT_NESTED", base_sev(p), n, "the page has no valid MediaBox");
    return;
  }
  if (bleed.set && !inside(&bleed, &media)) {
    box_text(a, sizeof a, &bleed), box_text(b, sizeof b, &media);
    report(p, "PDF_BOXES_NOT_NESTED", base_sev(p), n, "BleedBox %s extends outside MediaBox %s", a, b);
  }
  const struct box *outer = bleed.set ? &bleed : &media;
  const char *outer_name = bleed.set ? "BleedBox" : "MediaBox";
  if (trim.set && !inside(&trim, outer)) {
    box_text(a, sizeof a, &trim), box_text(b, sizeof b, outer);
    report(p, "PDF_BOXES_NOT_NESTED", base_sev(p), n, "TrimBox %s extends outside %s %s", a, outer_name, b);
  }
  if (art.set && !inside(&art, outer)) {
    box_text(a, sizeof a, &art), box_text(b, sizeof b, outer);
    report(p, "PDF_BOXES_NOT_NESTED", base_sev(p), n, "ArtBox %s extends outside %s %s", a, outer_name, b);
  }
  if (want(p, FOLIO_PDF_PREFLIGHT_PDFX_4) && !trim.set && !art.set)
    report(p, "PDF_TRIMBOX_MISSING", FOLIO_FINDING_ERROR, n, "PDF/X needs a TrimBox (or ArtBox) on every page");
}

/* ---- XMP ----------------------------------------------------------------------- */

/* The metadata stream's bytes (malloc'd, NUL-terminated), or NULL. */
static char *read_stream(struct pf *p, qpdf_oh s, size_t max, size_t *len) {
  if (!qpdf_oh_is_stream(p->q, s)) return NULL;
  QPDF_BOOL filtered = 0;
  unsigned char *buf = NULL;
  size_t n = 0;
  if (qpdf_oh_get_stream_data(p->q, s, qpdf_dl_generalized, &filtered, &buf, &n) != QPDF_SUCCESS || !filtered) {
    free(buf);
    return NULL;
  }
  if (n > max) n = max;
  char *out = malloc(n + 1);
  if (out) {
    memcpy(out, buf, n);
    out[n] = 0;
    *len = n;
  }
  free(buf);
  return out;
}

/* Decodes the XML entities of s[0..n) into out (cap bytes, NUL-terminated). */
static void xml_text(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 4 < cap;) {
    if (s[i] != '&') {
      out[o++] = s[i++];
      continue;
    }
    static const struct {
      const char *ent;
      char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool done = false;
    for (size_t k = 0; k < 5 && !done; k++) {
      size_t el = strlen(ents[k].ent);
      if (n - i >= el && memcmp(s + i, ents[k].ent, el) == 0) out[o++] = ents[k].c, i += el, done = true;
    }
    if (!done && n - i > 3 && s[i + 1] == '#') {
      char *end;
      unsigned long cp = s[i + 2] == 'x' ? strtoul(s + i + 3, &end, 16) : strtoul(s + i + 2, &end, 10);
      if (*end == ';' && cp > 0 && cp < 0x110000) {
        if (cp < 0x80) out[o++] = (char)cp;
        else if (cp < 0x800) out[o++] = (char)(0xC0 | cp >> 6), out[o++] = (char)(0x80 | (cp & 0x3F));
        else if (cp < 0x10000)
          out[o++] = (char)(0xE0 | cp >> 12), out[o++] = (char)(0x80 | (cp >> 6 & 0x3F)),
          out[o++] = (char)(0x80 | (cp & 0x3F));
        else
          out[o++] = (char)(0xF0 | cp >> 18), out[o++] = (char)(0x80 | (cp >> 12 & 0x3F)),
          out[o++] = (char)(0x80 | (cp >> 6 & 0x3F)), out[o++] = (char)(0x80 | (cp & 0x3F));
        i = (size_t)(end - s) + 1;
        done = true;
      }
    }
    if (!done) out[o++] = s[i++];
  }
  out[o] = 0;
}

/* The value of XMP property name ("pdfaid:part") in xmp, in either form
 * (attribute name="v" on a description, or element <name>v</name>; for an
 * rdf:Alt or rdf:Seq, its first rdf:li). false when absent. */
static bool xmp_prop(const char *xmp, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  for (const char *s = strstr(xmp, name); s; s = strstr(s + 1, name)) {
    const char *after = s + nl;
    char before = s > xmp ? s[-1] : ' ';
    if (before == '<' && (*after == '>' || *after == ' ')) { /* element form */
      const char *v = strchr(after, '>');
      if (!v) return false;
      v++;
      char close[64];
      snprintf(close, sizeof close, "</%s>", name);
      const char *end = strstr(v, close);
      if (!end) return false;
      const char *li = strstr(v, "<rdf:li");
      if (li && li < end) { /* a container: its first item */
        v = strchr(li, '>');
        if (!v) return false;
        v++;
        end = strstr(v, "</rdf:li>");
        if (!end) return false;
      }
      while (v < end && (*v == ' ' || *v == '\n' || *v == '\r' || *v == '\t')) v++;
      const char *e = end;
      while (e > v && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r' || e[-1] == '\t')) e--;
      xml_text(v, (size_t)(e - v), out, cap);
      return true;
    }
    if ((before == ' ' || before == '\n' || before == '\t' || before == '\r') && *after == '=' &&
        (after[1] == '"' || after[1] == '\'')) { /* attribute form */
      char q = after[1];
      const char *v = after + 2, *end = strchr(v, q);
      if (!end) return false;
      xml_text(v, (size_t)(end - v), out, cap);
      return true;
    }
  }
  return false;
}

/* Days from 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static long days_from_civil(long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long)doe - 719468;
}

static int digits(const char **s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (**s < '0' || **s > '9') return -1;
    v = v * 10 + (*(*s)++ - '0');
  }
  return v;
}

/* A PDF date (D:YYYYMMDDHHmmSSOHH'mm') or an XMP date (YYYY-MM-DDThh:mm:ss
 * with Z or +hh:mm) as UTC seconds; false when it is neither. Missing parts
 * default as both standards say (month/day 1, time 0, UTC). */
static bool parse_date(const char *s, long long *out) {
  if (s[0] == 'D' && s[1] == ':') s += 2;
  int y = digits(&s, 4);
  if (y < 0) return false;
  int f[5] = {1, 1, 0, 0, 0};
  for (int i = 0; i < 5; i++) {
    if (*s == '-' || *s == 'T' || *s == ':') s++;
    const char *t = s;
    int v = digits(&t, 2);
    if (v < 0) break;
    f[i] = v;
    s = t;
  }
  while (*s == '.' || (*s >= '0' && *s <= '9')) s++; /* fractions of a second */
  long tz = 0;
  if (*s == '+' || *s == '-') {
    int sign = *s == '-' ? -1 : 1;
    s++;
    int hh = digits(&s, 2);
    if (*s == '\'' || *s == ':') s++;
    const char *t = s;
    int mm = digits(&t, 2);
    if (hh < 0) return false;
    tz = sign * (hh * 60L + (mm > 0 ? mm : 0)) * 60;
  }
  *out = (long long)days_from_civil(y, (unsigned)f[0], (unsigned)f[1]) * 86400 + f[2] * 3600 + f[3] * 60 + f[4] - tz;
  return true;
}

/* An Info string as UTF-8 (NULL when absent). */
static const char *info_str(struct pf *p, qpdf_oh info, const char *k) {
  qpdf_oh v = key(p, info, k);
  return qpdf_oh_is_string(p->q, v) ? qpdf_oh_get_utf8_value(p->q, v) : NULL;
}

static void check_info_vs_xmp(struct pf *p, qpdf_oh info, const char *xmp) {
  static const struct {
    const char *info, *xmp;
    bool date;
  } pairs[] = {{"/Title", "dc:title", false},         {"/Author", "dc:creator", false},
               {"/Subject", "dc:description", false}, {"/Creator", "xmp:CreatorTool", false},
               {"/Producer", "pdf:Producer", false},  {"/Keywords", "pdf:Keywords", false},
               {"/CreationDate", "xmp:CreateDate", true}, {"/ModDate", "xmp:ModifyDate", true}};
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    const char *iv = info_str(p, info, pairs[i].info);
    if (!iv) continue;
    char xv[FOLIO_FINDING_MESSAGE_MAX];
    if (!xmp_prop(xmp, pairs[i].xmp, xv, sizeof xv)) {
      report(p, "PDF_XMP_INFO_MISMATCH", FOLIO_FINDING_ERROR, 0, "Info %s is set but XMP has no %s",
             pairs[i].info, pairs[i].xmp);
      continue;
    }
    bool same;
    if (pairs[i].date) {
      long long a, b;
      same = parse_date(iv, &a) && parse_date(xv, &b) && a == b;
    } else {
      same = strcmp(iv, xv) == 0;
    }
    if (!same)
      report(p, "PDF_XMP_INFO_MISMATCH", FOLIO_FINDING_ERROR, 0, "Info %s \"%.60s\" differs from XMP %s \"%.60s\"",
             pairs[i].info, iv, pairs[i].xmp, xv);
  }
}

static void check_metadata(struct pf *p, qpdf_oh root, qpdf_oh info) {
  if (!want(p, ALL_PROFILES)) return;
  size_t len = 0;
  char *xmp = read_stream(p, key(p, root, "/Metadata"), FOLIO_PDF_PREFLIGHT_MAX_XMP_BYTES, &len);
  if (!xmp) {
    report(p, "PDF_XMP_MISSING", FOLIO_FINDING_ERROR, 0, "the catalog has no /Metadata XMP stream");
    return;
  }
  char v[128], w[128];
  if (want(p, FOLIO_PDF_PREFLIGHT_PDFA_2B)) {
    bool part = xmp_prop(xmp, "pdfaid:part", v, sizeof v);
    bool conf = xmp_prop(xmp, "pdfaid:conformance", w, sizeof w);
    if (!part || strcmp(v, "2") != 0 || !conf || strcmp(w, "B") != 0)
      report(p, "PDF_XMP_PDFA_ID", FOLIO_FINDING_ERROR, 0,
             "XMP must say pdfaid:part 2 and pdfaid:conformance B for PDF/A-2b (has part %s, conformance %s)",
             part ? v : "none", conf ? w : "none");
  }
  if (want(p, FOLIO_PDF_PREFLIGHT_PDFX_4)) {
    bool id = xmp_prop(xmp, "pdfxid:GTS_PDFXVersion", v, sizeof v);
    if (!id || strcmp(v, "PDF/X-4") != 0)
      report(p, "PDF_XMP_PDFX_ID", FOLIO_FINDING_ERROR, 0,
             "XMP must say pdfxid:GTS_PDFXVersion \"PDF/X-4\" (has %s)", id ? v : "none");
    qpdf_oh trapped = key(p, info, "/Trapped");
    if (!name_is(p, trapped, "/True") && !name_is(p, trapped, "/False"))
      report(p, "PDF_TRAPPED_MISSING", FOLIO_FINDING_ERROR, 0, "PDF/X needs Info /Trapped set to /True or /False");
  }
  if (want(p, FOLIO_PDF_PREFLIGHT_PDFUA_1)) {
    bool part = xmp_prop(xmp, "pdfuaid:part", v, sizeof v);
    if (!part || strcmp(v, "1") != 0)
      report(p, "PDF_XMP_PDFUA_ID", FOLIO_FINDING_ERROR, 0, "XMP must say pdfuaid:part 1 for PDF/UA-1 (has %s)",
             part ? v : "none");
    if (!xmp_prop(xmp, "dc:title", v, sizeof v) || !v[0])
      report(p, "PDF_UA_NO_TITLE", FOLIO_FINDING_ERROR, 0, "XMP has no dc:title naming the document");
  }
  check_info_vs_xmp(p, info, xmp);
  free(xmp);
}

/* ---- output intents -------------------------------------------------------------- */

/* Class and colour space of an ICC profile stream's header (4 characters
 * each, e.g. "prtr", "CMYK") and its major version; false when it is no ICC
 * profile. */
static bool icc_header(struct pf *p, qpdf_oh s, char cls[5], char space[5], int *major) {
  size_t len = 0;
  char *icc = read_stream(p, s, 1u << 20, &len);
  bool ok = icc && len >= 128 && memcmp(icc + 36, "acsp", 4) == 0;
  if (ok) {
    memcpy(cls, icc + 12, 4), cls[4] = 0;
    memcpy(space, icc + 16, 4), space[4] = 0;
    *major = (unsigned char)icc[8];
  }
  free(icc);
  return ok;
}

static void check_intent(struct pf *p, qpdf_oh oi, const char *profile, bool printer_only) {
  qpdf_oh dest = key(p, oi, "/DestOutputProfile");
  char cls[5], space[5];
  int major = 0;
  if (!qpdf_oh_is_stream(p->q, dest)) {
    if (!qpdf_oh_has_key(p->q, oi, "/DestOutputProfileRef") || !printer_only)
      report(p, "PDF_OUTPUT_INTENT_PROFILE", FOLIO_FINDING_ERROR, 0,
             "the %s output intent has no embedded ICC profile (/DestOutputProfile)", profile);
    return;
  }
  if (!icc_header(p, dest, cls, space, &major)) {
    report(p, "PDF_OUTPUT_INTENT_PROFILE", FOLIO_FINDING_ERROR, 0,
           "the %s output intent's /DestOutputProfile (object %d) is not an ICC profile", profile,
           qpdf_oh_get_object_id(p->q, dest));
    return;
  }
  bool class_ok = strcmp(cls, "prtr") == 0 || (!printer_only && strcmp(cls, "mntr") == 0);
  bool space_ok = strcmp(space, "RGB ") == 0 || strcmp(space, "CMYK") == 0 || strcmp(space, "GRAY") == 0;
  if (!class_ok || !space_ok)
    report(p, "PDF_OUTPUT_INTENT_PROFILE", FOLIO_FINDING_ERROR, 0,
           "the %s output intent's ICC profile is class '%s' in colour space '%s'; %s needs %s in RGB, CMYK "
           "or Gray",
           profile, cls, space, profile,
           printer_only ? "an output (printer, 'prtr') profile" : "an output ('prtr') or monitor ('mntr') profile");
  else if (major >= 5)
    report(p, "PDF_OUTPUT_INTENT_PROFILE", FOLIO_FINDING_ERROR, 0,
           "the %s output intent's ICC profile is version %d; %s needs ICC version 4 or earlier", profile, major,
           profile);
}

static void check_output_intents(struct pf *p, qpdf_oh root) {
  bool a = want(p, FOLIO_PDF_PREFLIGHT_PDFA_2B), x = want(p, FOLIO_PDF_PREFLIGHT_PDFX_4);
  if (!a && !x) return;
  qpdf_oh ois = key(p, root, "/OutputIntents");
  int n = qpdf_oh_is_array(p->q, ois) ? qpdf_oh_get_array_n_items(p->q, ois) : 0;
  bool have_a = false, have_x = false;
  int dest_id = -1;
  bool differ = false;
  for (int i = 0; i < n && i < 64; i++) {
    qpdf_oh oi = qpdf_oh_get_array_item(p->q, ois, i);
    qpdf_oh s = key(p, oi, "/S");
    qpdf_oh dest = key(p, oi, "/DestOutputProfile");
    if (qpdf_oh_is_stream(p->q, dest)) {
      int id = qpdf_oh_get_object_id(p->q, dest);
      if (dest_id >= 0 && id != dest_id) differ = true;
      dest_id = id;
    }
    if (a && name_is(p, s, "/GTS_PDFA1")) {
      have_a = true;
      check_intent(p, oi, "PDF/A", false);
    }
    if (x && name_is(p, s, "/GTS_PDFX")) {
      have_x = true;
      check_intent(p, oi, "PDF/X", true);
    }
  }
  if (a && !have_a)
    report(p, "PDF_OUTPUT_INTENT_MISSING", FOLIO_FINDING_ERROR, 0, "PDF/A needs a /GTS_PDFA1 output intent");
  if (x && !have_x)
    report(p, "PDF_OUTPUT_INTENT_MISSING", FOLIO_FINDING_ERROR, 0, "PDF/X needs a /GTS_PDFX output intent");
  if (differ)
    report(p, "PDF_OUTPUT_INTENTS_DIFFER", FOLIO_FINDING_ERROR, 0,
           "the output intents embed different ICC profiles; they must share one");
}

/* ---- PDF/UA structure ------------------------------------------------------------ */

struct walk {
  size_t visited;
  bool capped;
};

/* The structure type of element e through the RoleMap (one hop at most per
 * standard: a chain is followed up to 8 hops). */
static bool is_figure(struct pf *p, qpdf_oh e, qpdf_oh rolemap) {
  qpdf_oh s = key(p, e, "/S");
  for (int hop = 0; hop < 8 && qpdf_oh_is_name(p->q, s); hop++) {
    if (name_is(p, s, "/Figure")) return true;
    qpdf_oh m = is_dict(p, rolemap) ? key(p, rolemap, qpdf_oh_get_name(p->q, s)) : qpdf_oh_new_null(p->q);
    if (!qpdf_oh_is_name(p->q, m)) return false;
    s = m;
  }
  return false;
}

static void walk_struct(struct pf *p, qpdf_oh node, qpdf_oh rolemap, struct walk *w, int depth) {
  if (depth > 64) return;
  if (qpdf_oh_is_array(p->q, node)) {
    int n = qpdf_oh_get_array_n_items(p->q, node);
    for (int i = 0; i < n && !w->capped; i++) walk_struct(p, qpdf_oh_get_array_item(p->q, node, i), rolemap, w, depth + 1);
    return;
  }
  if (!is_dict(p, node)) return; /* a marked-content id */
  if (qpdf_oh_has_key(p->q, node, "/Type") && !name_is(p, key(p, node, "/Type"), "/StructElem")) return; /* MCR, OBJR */
  if (!first_visit(p, qpdf_oh_get_object_id(p->q, node))) return;
  if (++w->visited > FOLIO_PDF_PREFLIGHT_MAX_STRUCT_NODES) {
    w->capped = true;
    return;
  }
  if (is_figure(p, node, rolemap) && !qpdf_oh_has_key(p->q, node, "/Alt") && !qpdf_oh_has_key(p->q, node, "/ActualText")) {
    qpdf_oh pg = key(p, node, "/Pg");
    int pn = is_dict(p, pg) ? qpdf_find_page_by_oh(p->q, pg) : -1;
    report(p, "PDF_UA_FIGURE_NO_ALT", FOLIO_FINDING_ERROR, pn >= 0 ? (uint32_t)pn + 1 : 0,
           "a Figure structure element (object %d) has no /Alt text", qpdf_oh_get_object_id(p->q, node));
  }
  walk_struct(p, key(p, node, "/K"), rolemap, w, depth + 1);
}

static void check_ua(struct pf *p, qpdf_oh root) {
  if (!want(p, FOLIO_PDF_PREFLIGHT_PDFUA_1)) return;
  qpdf_oh mi = key(p, root, "/MarkInfo");
  QPDF_BOOL marked = 0;
  if (!is_dict(p, mi) || !qpdf_oh_get_value_as_bool(p->q, key(p, mi, "/Marked"), &marked) || !marked)
    report(p, "PDF_UA_NOT_MARKED", FOLIO_FINDING_ERROR, 0, "the catalog's /MarkInfo /Marked is not true");
  qpdf_oh lang = key(p, root, "/Lang");
  if (!qpdf_oh_is_string(p->q, lang) || !qpdf_oh_get_utf8_value(p->q, lang)[0])
    report(p, "PDF_UA_NO_LANG", FOLIO_FINDING_ERROR, 0, "the catalog has no /Lang naming the document's language");
  qpdf_oh vp = key(p, root, "/ViewerPreferences");
  QPDF_BOOL ddt = 0;
  if (!is_dict(p, vp) || !qpdf_oh_get_value_as_bool(p->q, key(p, vp, "/DisplayDocTitle"), &ddt) || !ddt)
    report(p, "PDF_UA_DISPLAY_DOC_TITLE", FOLIO_FINDING_ERROR, 0,
           "/ViewerPreferences /DisplayDocTitle is not true (viewers would show the file name)");
  qpdf_oh st = key(p, root, "/StructTreeRoot");
  if (!is_dict(p, st)) {
    report(p, "PDF_UA_NO_STRUCTURE", FOLIO_FINDING_ERROR, 0, "the catalog has no /StructTreeRoot (the file is untagged)");
    return;
  }
  struct walk w = {0};
  walk_struct(p, key(p, st, "/K"), key(p, st, "/RoleMap"), &w, 0);
  if (w.capped)
    report(p, "PDF_UA_STRUCTURE_TOO_LARGE", FOLIO_FINDING_WARNING, 0,
           "the structure tree has more than %d elements; the rest were not checked",
           FOLIO_PDF_PREFLIGHT_MAX_STRUCT_NODES);
}

/* ---- the whole file ------------------------------------------------------------------ */

int folio_pdf_preflight(const char *path, unsigned profiles, struct folio_findings *findings) {
  if (!path || !findings || (profiles & ~ALL_PROFILES)) return FOLIO_PDF_PREFLIGHT_EINVAL;
  struct pf p = {.profiles = profiles, .out = findings};
  p.q = qpdf_init();
  if (!p.q) return FOLIO_PDF_PREFLIGHT_ENOMEM;
  qpdf_silence_errors(p.q);
  qpdf_set_suppress_warnings(p.q, 1);
  if (qpdf_read(p.q, path, "") & QPDF_ERRORS) {
    qpdf_error e = qpdf_get_error(p.q);
    const char *why = e ? qpdf_get_error_message_detail(p.q, e) : "unknown error";
    report(&p, "PDF_UNREADABLE", FOLIO_FINDING_ERROR, 0, "qpdf cannot read the file: %s", why ? why : "");
    qpdf_cleanup(&p.q);
    return p.rc;
  }
  qpdf_oh trailer = qpdf_get_trailer(p.q), root = qpdf_get_root(p.q), info = key(&p, trailer, "/Info");
  /* file and trailer */
  if (qpdf_is_encrypted(p.q))
    report(&p, "PDF_ENCRYPTED", FOLIO_FINDING_ERROR, 0, "the file is encrypted (trailer /Encrypt)");
  if (want(&p, FOLIO_PDF_PREFLIGHT_PDFA_2B | FOLIO_PDF_PREFLIGHT_PDFX_4)) {
    qpdf_oh id = key(&p, trailer, "/ID");
    if (!qpdf_oh_is_array(p.q, id) || qpdf_oh_get_array_n_items(p.q, id) != 2 ||
        !qpdf_oh_is_string(p.q, qpdf_oh_get_array_item(p.q, id, 0)))
      report(&p, "PDF_ID_MISSING", FOLIO_FINDING_ERROR, 0, "the trailer has no /ID (two file identifiers)");
  }
  /* catalog, metadata, output intents, structure */
  check_document_actions(&p, root);
  check_metadata(&p, root, info);
  check_output_intents(&p, root);
  check_ua(&p, root);
  /* pages: boxes (inherited values pushed down first), fonts, actions */
  qpdf_push_inherited_attributes_to_page(p.q);
  int np = qpdf_get_num_pages(p.q);
  for (int i = 0; i < np && !p.rc; i++) {
    qpdf_oh page = qpdf_get_page_n(p.q, (size_t)i);
    uint32_t n = (uint32_t)i + 1;
    check_boxes(&p, page, n);
    check_resources(&p, key(&p, page, "/Resources"), n, 0);
    check_aa(&p, key(&p, page, "/AA"), n, "the page's");
    qpdf_oh annots = key(&p, page, "/Annots");
    int na = qpdf_oh_is_array(p.q, annots) ? qpdf_oh_get_array_n_items(p.q, annots) : 0;
    for (int k = 0; k < na; k++) {
      qpdf_oh an = qpdf_oh_get_array_item(p.q, annots, k);
      check_action(&p, key(&p, an, "/A"), n, "an annotation's action");
      check_aa(&p, key(&p, an, "/AA"), n, "an annotation's");
    }
    qpdf_oh_release_all(p.q); /* a page's handles (and the catalog's, done with) are not needed past it */
  }
  free(p.seen);
  qpdf_cleanup(&p.q);
  return p.rc;
}
