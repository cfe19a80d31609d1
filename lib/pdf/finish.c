/* folio_pdf_finish: cairo's PDF through libqpdf's C API into the profiles.
 *
 * One pass over the document's objects that the profiles touch: the catalog
 * (Metadata, OutputIntents, MarkInfo, Lang, ViewerPreferences), the Info
 * dictionary, and every page (boxes, and for PDF/X the colour spaces of every
 * resource dictionary reachable from it; for PDF/A the images' /Interpolate
 * and the annotations' flags). Content streams are never decoded: qpdf copies
 * them from the input file to the output as they are. Which veraPDF rule each
 * step answers is in docs/internals/pdf.md. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qpdf/qpdf-c.h>

#include "folio/pdf_preflight.h"
#include "pdf_int.h"

#define A_BIT FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFA_2B)
#define X_BIT FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFX_4)
#define UA_BIT FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFUA_1)

/* How deep forms may nest inside forms before the walk stops descending
 * (cairo nests a few levels; a deeper walk would only repeat seen objects). */
#define WALK_DEPTH_MAX 32

const char *folio_pdf_strerror(int code) {
  switch (code) {
  case FOLIO_PDF_OK: return "ok";
  case FOLIO_PDF_E_ARG: return "bad argument";
  case FOLIO_PDF_E_NOMEM: return "out of memory";
  case FOLIO_PDF_E_WRITE: return "write failed";
  case FOLIO_PDF_E_ICC: return "ICC profile";
  case FOLIO_PDF_E_PDF: return "PDF library";
  }
  return "unknown error";
}

void folio_pdf_options_from_env(struct folio_pdf_options *o) {
  memset(o, 0, sizeof *o);
  o->rgb_icc_path = getenv(FOLIO_PDF_ENV_SRGB_ICC);
  o->output_icc_path = getenv(FOLIO_PDF_ENV_OUTPUT_ICC);
  o->output_condition_identifier = getenv(FOLIO_PDF_ENV_OUTPUT_CONDITION_ID);
  o->output_condition = getenv(FOLIO_PDF_ENV_OUTPUT_CONDITION);
  o->registry_name = getenv(FOLIO_PDF_ENV_REGISTRY);
  if (o->rgb_icc_path && !*o->rgb_icc_path) o->rgb_icc_path = NULL;
  if (o->output_icc_path && !*o->output_icc_path) o->output_icc_path = NULL;
}

static bool box_eq(const double a[4], const double b[4]) {
  for (int i = 0; i < 4; i++)
    if (fabs(a[i] - b[i]) > 1e-6) return false;
  return true;
}

int folio_pdf_needed(const struct folio_pdf_options *o) {
  if (!o) return 0;
  if (o->profiles) return 1;
  for (size_t i = 0; o->boxes && i < o->n_boxes; i++)
    if (!box_eq(o->boxes[i].bleed, o->boxes[i].media) || !box_eq(o->boxes[i].trim, o->boxes[i].media))
      return 1;
  return 0;
}

/* ---- options ------------------------------------------------------------------ */

static bool box_ok(const double b[4]) {
  for (int i = 0; i < 4; i++)
    if (!isfinite(b[i]) || fabs(b[i]) > 1e6) return false;
  return b[0] < b[2] && b[1] < b[3];
}

/* inner inside outer, with a rounding allowance */
static bool box_in(const double in[4], const double out[4]) {
  const double e = 1e-6;
  return in[0] >= out[0] - e && in[1] >= out[1] - e && in[2] <= out[2] + e && in[3] <= out[3] + e;
}

static int check_options(const struct folio_pdf_options *o, struct folio_pdf_diag *diag) {
  if (o->profiles & ~FOLIO_PDF_PROFILES_ALL)
    return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "profiles", "unknown profile bits 0x%x",
                          o->profiles & ~FOLIO_PDF_PROFILES_ALL);
  if ((o->profiles & X_BIT) && (!o->title || !*o->title))
    return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "title",
                          "PDF/X-4 needs a document title (the layout's meta.title)");
  if (o->profiles & UA_BIT) {
    if (!o->title || !*o->title)
      return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "title",
                            "PDF/UA-1 needs a document title (the layout's meta.title)");
    if (!o->lang || !*o->lang)
      return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "lang",
                            "PDF/UA-1 needs the document language (the layout's meta.lang)");
  }
  if (o->attrs && o->attrs->nomem)
    return folio_pdf_fail(diag, FOLIO_PDF_E_NOMEM, "attrs",
                          "the structure attributes are incomplete (out of memory collecting them)");
  if (o->n_boxes && !o->boxes)
    return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "boxes", "n_boxes is %zu but boxes is NULL", o->n_boxes);
  for (size_t i = 0; o->boxes && i < o->n_boxes; i++) {
    const struct folio_pdf_page_boxes *b = &o->boxes[i];
    if (!box_ok(b->media) || !box_ok(b->bleed) || !box_ok(b->trim))
      return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "boxes",
                            "page %zu: a box is empty, inverted or not finite", i + 1);
    if (!box_in(b->bleed, b->media) || !box_in(b->trim, b->bleed))
      return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "boxes",
                            "page %zu: boxes must nest: TrimBox inside BleedBox inside MediaBox", i + 1);
  }
  return 0;
}

/* ---- ICC profiles ----------------------------------------------------------------- */

struct icc {
  unsigned char *data;
  size_t len;
  int n; /* components: 3 or 4 */
};

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads and checks an ICC profile file: the header's size equals the file's,
 * the 'acsp' signature, version 2 or 4 (PDF/A-2 6.2.3: < 5), colour space
 * space (4 chars), and a device class among classes (4-char codes joined).
 * field names the option for the message. */
static int icc_load(const char *path, const char *field, const char *space, const char *classes,
                    struct icc *out, struct folio_pdf_diag *diag) {
  memset(out, 0, sizeof *out);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return folio_pdf_fail(diag, FOLIO_PDF_E_ICC, field, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
    close(fd);
    return folio_pdf_fail(diag, FOLIO_PDF_E_ICC, field, "%s: not a regular file", path);
  }
  if ((uint64_t)st.st_size > FOLIO_PDF_ICC_MAX_BYTES || st.st_size < 132) {
    close(fd);
    return folio_pdf_fail(diag, FOLIO_PDF_E_ICC, field, "%s: %lld bytes; an ICC profile is 132..%u",
                          path, (long long)st.st_size, FOLIO_PDF_ICC_MAX_BYTES);
  }
  size_t len = (size_t)st.st_size, got = 0;
  unsigned char *d = malloc(len);
  if (!d) {
    close(fd);
    return folio_pdf_fail(diag, FOLIO_PDF_E_NOMEM, field, "out of memory reading %s", path);
  }
  while (got < len) {
    ssize_t r = read(fd, d + got, len - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  const char *why = NULL;
  char cls[5] = {0}, sp[5] = {0};
  if (got != len) why = "short read";
  else if (memcmp(d + 36, "acsp", 4) != 0) why = "no 'acsp' signature: not an ICC profile";
  else if (be32(d) != len) why = "the header's size is not the file's";
  else if (d[8] != 2 && d[8] != 4) why = "version must be 2 or 4";
  if (!why) {
    memcpy(cls, d + 12, 4);
    memcpy(sp, d + 16, 4);
    if (memcmp(sp, space, 4) != 0 || !strstr(classes, cls)) {
      free(d);
      return folio_pdf_fail(diag, FOLIO_PDF_E_ICC, field,
                            "%s: a '%s' profile of class '%s'; needed: colour space '%s', class %s",
                            path, sp, cls, space, classes);
    }
  }
  if (why) {
    free(d);
    return folio_pdf_fail(diag, FOLIO_PDF_E_ICC, field, "%s: %s", path, why);
  }
  out->data = d;
  out->len = len;
  out->n = memcmp(space, "CMYK", 4) == 0 ? 4 : 3;
  return 0;
}

/* ---- the qpdf session -------------------------------------------------------------- */

struct fin {
  qpdf_data q;
  const struct folio_pdf_options *o;
  struct folio_pdf_diag *diag;
  unsigned prof;
  qpdf_oh rgb_cs; /* [/ICCBased <sRGB>]: /DefaultRGB and groups' /CS (PDF/X) */
  unsigned char *seen; /* bitmap by object id: dictionaries already walked */
  size_t seen_cap;     /* bits */
  bool nomem;
};

/* qpdf's pending error (if any) as E_PDF. */
static int qpdf_failed(struct fin *f, const char *what) {
  qpdf_error e = qpdf_get_error(f->q);
  return folio_pdf_fail(f->diag, FOLIO_PDF_E_PDF, NULL, "%s: %s", what,
                        e ? qpdf_get_error_full_text(f->q, e) : "unknown qpdf error");
}

/* True the first time an indirect object is met (direct objects: always). */
static bool first_visit(struct fin *f, qpdf_oh oh) {
  if (!qpdf_oh_is_indirect(f->q, oh)) return true;
  int id = qpdf_oh_get_object_id(f->q, oh);
  if (id <= 0) return true;
  size_t bit = (size_t)id;
  if (bit >= f->seen_cap) {
    size_t cap = f->seen_cap ? f->seen_cap : 4096;
    while (cap <= bit) cap *= 2;
    unsigned char *n = realloc(f->seen, cap / 8);
    if (!n) {
      f->nomem = true;
      return false;
    }
    memset(n + f->seen_cap / 8, 0, (cap - f->seen_cap) / 8);
    f->seen = n;
    f->seen_cap = cap;
  }
  if (f->seen[bit / 8] & (1u << (bit % 8))) return false;
  f->seen[bit / 8] |= (unsigned char)(1u << (bit % 8));
  return true;
}

/* A stream with data and its /N (ICC), indirect. */
static qpdf_oh icc_stream(struct fin *f, const struct icc *icc) {
  qpdf_oh s = qpdf_oh_new_stream(f->q);
  qpdf_oh_replace_stream_data(f->q, s, icc->data, icc->len, qpdf_oh_new_null(f->q),
                              qpdf_oh_new_null(f->q));
  qpdf_oh d = qpdf_oh_get_dict(f->q, s);
  qpdf_oh_replace_key(f->q, d, "/N", qpdf_oh_new_integer(f->q, icc->n));
  return s;
}

/* A PDF text string from UTF-8 (PDFDocEncoding when it fits, else UTF-16BE). */
static qpdf_oh text(struct fin *f, const char *utf8) { return qpdf_oh_new_unicode_string(f->q, utf8); }

/* The keys of a dictionary, copied (qpdf's C iterator allows one at a time,
 * and the walk recurses). *n keys, each malloc'd in one block; free(keys). */
static char **dict_keys(struct fin *f, qpdf_oh d, size_t *n) {
  *n = 0;
  size_t cap = 8, bytes = 0;
  char **k = malloc(cap * sizeof *k);
  if (!k) {
    f->nomem = true;
    return NULL;
  }
  qpdf_oh_begin_dict_key_iter(f->q, d);
  while (qpdf_oh_dict_more_keys(f->q)) {
    const char *key = qpdf_oh_dict_next_key(f->q);
    if (*n == cap) {
      cap *= 2;
      char **nk = realloc(k, cap * sizeof *nk);
      if (!nk) break;
      k = nk;
    }
    k[*n] = strdup(key);
    if (!k[*n]) break;
    bytes += strlen(key);
    (*n)++;
  }
  if (qpdf_oh_dict_more_keys(f->q)) f->nomem = true;
  (void)bytes;
  return k;
}

static void keys_free(char **k, size_t n) {
  for (size_t i = 0; i < n; i++) free(k[i]);
  free(k);
}

/* PDF/X: a transparency group's /CS /DeviceRGB becomes the ICC-based sRGB,
 * so blending is colour-managed too. */
static void fix_group(struct fin *f, qpdf_oh dict) {
  if (!(f->prof & X_BIT)) return;
  qpdf_oh g = qpdf_oh_get_key(f->q, dict, "/Group");
  if (qpdf_oh_is_dictionary(f->q, g)) {
    qpdf_oh cs = qpdf_oh_get_key(f->q, g, "/CS");
    if (qpdf_oh_is_name_and_equals(f->q, cs, "/DeviceRGB")) qpdf_oh_replace_key(f->q, g, "/CS", f->rgb_cs);
  }
}

/* PDF/A: images do not ask for interpolation (6.2.8: /Interpolate true is
 * not allowed); removing the key keeps the default, false. */
static void fix_image(struct fin *f, qpdf_oh dict) {
  if (!(f->prof & A_BIT)) return;
  if (qpdf_oh_has_key(f->q, dict, "/Interpolate")) qpdf_oh_remove_key(f->q, dict, "/Interpolate");
  qpdf_oh sm = qpdf_oh_get_key(f->q, dict, "/SMask");
  if (qpdf_oh_is_stream(f->q, sm)) {
    qpdf_oh smd = qpdf_oh_get_dict(f->q, sm);
    if (qpdf_oh_has_key(f->q, smd, "/Interpolate")) qpdf_oh_remove_key(f->q, smd, "/Interpolate");
  }
}

static void walk_resources(struct fin *f, qpdf_oh res, int depth);

/* A form XObject or a soft mask's group: its group, then its resources. */
static void walk_form(struct fin *f, qpdf_oh form_dict, int depth) {
  fix_group(f, form_dict);
  walk_resources(f, qpdf_oh_get_key(f->q, form_dict, "/Resources"), depth + 1);
}

/* Each entry of a resource category (XObject, Pattern, ExtGState). */
static void walk_category(struct fin *f, qpdf_oh res, const char *cat, int depth) {
  qpdf_oh c = qpdf_oh_get_key(f->q, res, cat);
  if (!qpdf_oh_is_dictionary(f->q, c)) return;
  size_t n;
  char **keys = dict_keys(f, c, &n);
  for (size_t i = 0; keys && i < n && !f->nomem; i++) {
    qpdf_oh v = qpdf_oh_get_key(f->q, c, keys[i]);
    if (!first_visit(f, v)) continue;
    if (strcmp(cat, "/XObject") == 0 && qpdf_oh_is_stream(f->q, v)) {
      qpdf_oh d = qpdf_oh_get_dict(f->q, v);
      qpdf_oh st = qpdf_oh_get_key(f->q, d, "/Subtype");
      if (qpdf_oh_is_name_and_equals(f->q, st, "/Image")) fix_image(f, d);
      else if (qpdf_oh_is_name_and_equals(f->q, st, "/Form")) walk_form(f, d, depth);
    } else if (strcmp(cat, "/Pattern") == 0 && qpdf_oh_is_stream(f->q, v)) {
      walk_form(f, qpdf_oh_get_dict(f->q, v), depth); /* a tiling pattern has resources */
    } else if (strcmp(cat, "/ExtGState") == 0 && qpdf_oh_is_dictionary(f->q, v)) {
      qpdf_oh sm = qpdf_oh_get_key(f->q, v, "/SMask");
      if (qpdf_oh_is_dictionary(f->q, sm)) {
        qpdf_oh g = qpdf_oh_get_key(f->q, sm, "/G");
        if (qpdf_oh_is_stream(f->q, g) && first_visit(f, g)) walk_form(f, qpdf_oh_get_dict(f->q, g), depth);
      }
    }
  }
  keys_free(keys, keys ? n : 0);
}

/* A resource dictionary and everything painted from it. For PDF/X every one
 * gets /DefaultRGB: a default colour space applies in the resource
 * dictionary where it is defined, and a form has its own. */
static void walk_resources(struct fin *f, qpdf_oh res, int depth) {
  if (depth > WALK_DEPTH_MAX || !qpdf_oh_is_dictionary(f->q, res) || !first_visit(f, res)) return;
  if (f->prof & X_BIT) {
    qpdf_oh cs = qpdf_oh_get_key(f->q, res, "/ColorSpace");
    if (!qpdf_oh_is_dictionary(f->q, cs)) {
      cs = qpdf_oh_new_dictionary(f->q);
      qpdf_oh_replace_key(f->q, res, "/ColorSpace", cs);
    }
    qpdf_oh_replace_key(f->q, cs, "/DefaultRGB", f->rgb_cs);
  }
  walk_category(f, res, "/XObject", depth);
  walk_category(f, res, "/Pattern", depth);
  walk_category(f, res, "/ExtGState", depth);
}

static qpdf_oh box_array(struct fin *f, const double b[4]) {
  char s[160];
  /* one rounding for all three boxes: it is monotonic, so nested boxes stay nested */
  snprintf(s, sizeof s, "[%.6f %.6f %.6f %.6f]", b[0], b[1], b[2], b[3]);
  return qpdf_oh_parse(f->q, s);
}

/* The page's MediaBox, following /Parent for an inherited one, into *copy: a
 * new direct array with the very same numbers (so TrimBox = MediaBox holds
 * exactly, with no rounding in between). */
static int page_mediabox(struct fin *f, qpdf_oh page, qpdf_oh *copy) {
  qpdf_oh p = page;
  for (int hops = 0; hops < 64; hops++) {
    qpdf_oh mb = qpdf_oh_get_key(f->q, p, "/MediaBox");
    if (qpdf_oh_is_array(f->q, mb) && qpdf_oh_get_array_n_items(f->q, mb) == 4) {
      double v;
      for (int i = 0; i < 4; i++)
        if (!qpdf_oh_get_value_as_number(f->q, qpdf_oh_get_array_item(f->q, mb, i), &v)) return -1;
      *copy = qpdf_oh_parse(f->q, qpdf_oh_unparse_resolved(f->q, mb));
      return 0;
    }
    p = qpdf_oh_get_key(f->q, p, "/Parent");
    if (!qpdf_oh_is_dictionary(f->q, p)) break;
  }
  return -1;
}

static int do_pages(struct fin *f) {
  int np = qpdf_get_num_pages(f->q);
  if (np < 0 || qpdf_has_error(f->q)) return qpdf_failed(f, "reading the page tree");
  if (f->o->boxes && f->o->n_boxes != (size_t)np)
    return folio_pdf_fail(f->diag, FOLIO_PDF_E_ARG, "boxes", "%zu entries for a PDF of %d pages",
                          f->o->n_boxes, np);
  for (int i = 0; i < np && !f->nomem; i++) {
    qpdf_oh page = qpdf_get_page_n(f->q, (size_t)i);
    /* PDF/X 6.2.2 (ISO 15930-7): TrimBox on every page, BleedBox between it and
     * the MediaBox; written for every profile, and whenever asked */
    if (f->o->boxes) {
      const struct folio_pdf_page_boxes *b = &f->o->boxes[i];
      qpdf_oh_replace_key(f->q, page, "/MediaBox", box_array(f, b->media));
      qpdf_oh_replace_key(f->q, page, "/BleedBox", box_array(f, b->bleed));
      qpdf_oh_replace_key(f->q, page, "/TrimBox", box_array(f, b->trim));
    } else {
      qpdf_oh mb;
      if (page_mediabox(f, page, &mb))
        return folio_pdf_fail(f->diag, FOLIO_PDF_E_PDF, NULL, "page %d has no MediaBox", i + 1);
      qpdf_oh_replace_key(f->q, page, "/BleedBox", mb);
      qpdf_oh_replace_key(f->q, page, "/TrimBox", qpdf_oh_parse(f->q, qpdf_oh_unparse(f->q, mb)));
    }
    if (qpdf_oh_has_key(f->q, page, "/CropBox")) qpdf_oh_remove_key(f->q, page, "/CropBox");
    fix_group(f, page);
    if (f->prof & (X_BIT | A_BIT)) walk_resources(f, qpdf_oh_get_key(f->q, page, "/Resources"), 0);
    qpdf_oh annots = qpdf_oh_get_key(f->q, page, "/Annots");
    if (qpdf_oh_is_array(f->q, annots)) {
      if (f->prof & UA_BIT) /* UA-1 7.18.3: pages with annotations have /Tabs /S */
        qpdf_oh_replace_key(f->q, page, "/Tabs", qpdf_oh_new_name(f->q, "/S"));
      int na = qpdf_oh_get_array_n_items(f->q, annots);
      for (int k = 0; (f->prof & A_BIT) && k < na; k++) {
        /* PDF/A-2 6.3.2: the Print flag set; Invisible, Hidden, NoView, ToggleNoView clear */
        qpdf_oh a = qpdf_oh_get_array_item(f->q, annots, k);
        if (!qpdf_oh_is_dictionary(f->q, a)) continue;
        long long fl = 0;
        qpdf_oh fo = qpdf_oh_get_key(f->q, a, "/F");
        if (qpdf_oh_is_integer(f->q, fo)) fl = qpdf_oh_get_int_value(f->q, fo);
        fl = (fl | 4) & ~(1LL | 2LL | 32LL | 256LL);
        qpdf_oh_replace_key(f->q, a, "/F", qpdf_oh_new_integer(f->q, fl));
      }
    }
    if (f->prof & UA_BIT) { /* artifacts, link /Contents (ua.c) */
      int rc = folio_pdf_ua_page(f->q, page, i + 1, f->diag);
      if (rc) return rc;
    }
    if (qpdf_has_error(f->q)) return qpdf_failed(f, "updating a page");
  }
  if (f->nomem) return folio_pdf_fail(f->diag, FOLIO_PDF_E_NOMEM, NULL, "out of memory");
  return 0;
}

/* Info's string value of key as UTF-8 (NULL when absent); borrowed until the
 * next qpdf call. */
static const char *info_utf8(struct fin *f, qpdf_oh info, const char *key) {
  qpdf_oh v = qpdf_oh_get_key(f->q, info, key);
  return qpdf_oh_is_string(f->q, v) ? qpdf_oh_get_utf8_value(f->q, v) : NULL;
}

/* "uuid:" and 128 bits of two FNV-1a 64 hashes (different offsets) of the
 * file's bytes: the same input gives the same id. Not cryptographic; an
 * identifier. -1 when the file cannot be read. */
static int file_uuid(const char *path, char out[64]) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
  unsigned char buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      close(fd);
      return -1;
    }
    if (r == 0) break;
    for (ssize_t i = 0; i < r; i++) {
      h1 = (h1 ^ buf[i]) * 0x100000001b3ull;
      h2 = (h2 ^ buf[i]) * 0x100000001b3ull;
    }
  }
  close(fd);
  snprintf(out, 64, "uuid:%08x-%04x-%04x-%04x-%012llx", (unsigned)(h1 >> 32), (unsigned)(h1 >> 16) & 0xffffu,
           (unsigned)h1 & 0xffffu, (unsigned)(h2 >> 48), (unsigned long long)(h2 & 0xffffffffffffull));
  return 0;
}

static int do_metadata(struct fin *f, const char *in_path) {
  qpdf_oh trailer = qpdf_get_trailer(f->q), root = qpdf_get_root(f->q);
  qpdf_oh info = qpdf_oh_get_key(f->q, trailer, "/Info");
  if (!qpdf_oh_is_dictionary(f->q, info)) {
    info = qpdf_make_indirect_object(f->q, qpdf_oh_new_dictionary(f->q));
    qpdf_oh_replace_key(f->q, trailer, "/Info", info);
  }
  char *title = f->o->title ? folio_pdf_text_clean(f->o->title) : NULL;
  char *author = f->o->author ? folio_pdf_text_clean(f->o->author) : NULL;
  char *subject = f->o->subject ? folio_pdf_text_clean(f->o->subject) : NULL;
  const char *ct = info_utf8(f, info, "/Creator");
  char *creator = ct ? folio_pdf_text_clean(ct) : NULL;
  const char *pr = info_utf8(f, info, "/Producer");
  char *producer = pr ? folio_pdf_text_clean(pr) : NULL;
  char cx[FOLIO_PDF_DATE_MAX], ci[FOLIO_PDF_DATE_MAX], mx[FOLIO_PDF_DATE_MAX], mi[FOLIO_PDF_DATE_MAX];
  bool has_c = folio_pdf_date_convert(info_utf8(f, info, "/CreationDate"), cx, ci) == 0;
  bool has_m = folio_pdf_date_convert(info_utf8(f, info, "/ModDate"), mx, mi) == 0;
  int rc = 0;
  if ((f->o->title && !title) || (f->o->author && !author) || (f->o->subject && !subject) ||
      (ct && !creator) || (pr && !producer)) {
    rc = folio_pdf_fail(f->diag, FOLIO_PDF_E_NOMEM, NULL, "out of memory");
    goto out;
  }
  /* Info and XMP say the same (PDF/A-2 6.6.3 / veraPDF 6.6.2.3.1): every
   * entry is written here from the one cleaned value the XMP also gets */
  struct {
    const char *key, *val;
  } set[] = {{"/Title", title}, {"/Author", author}, {"/Subject", subject},
             {"/Creator", creator}, {"/Producer", producer}};
  for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
    if (set[i].val) qpdf_oh_replace_key(f->q, info, set[i].key, text(f, set[i].val));
    else if (qpdf_oh_has_key(f->q, info, set[i].key)) qpdf_oh_remove_key(f->q, info, set[i].key);
  }
  if (has_c) qpdf_oh_replace_key(f->q, info, "/CreationDate", qpdf_oh_new_string(f->q, ci));
  else if (qpdf_oh_has_key(f->q, info, "/CreationDate")) qpdf_oh_remove_key(f->q, info, "/CreationDate");
  if (has_m) qpdf_oh_replace_key(f->q, info, "/ModDate", qpdf_oh_new_string(f->q, mi));
  else if (qpdf_oh_has_key(f->q, info, "/ModDate")) qpdf_oh_remove_key(f->q, info, "/ModDate");
  qpdf_oh_replace_key(f->q, info, "/Trapped", qpdf_oh_new_name(f->q, "/False"));
  if (f->prof & X_BIT)
    qpdf_oh_replace_key(f->q, info, "/GTS_PDFXVersion", qpdf_oh_new_string(f->q, "PDF/X-4"));
  if (qpdf_oh_has_key(f->q, info, "/Keywords")) qpdf_oh_remove_key(f->q, info, "/Keywords");

  struct folio_pdf_xmp x = {.profiles = f->prof,
                            .title = title,
                            .author = author,
                            .subject = subject,
                            .lang = f->o->lang && *f->o->lang ? f->o->lang : NULL,
                            .creator_tool = creator,
                            .producer = producer,
                            .create_date = has_c ? cx : NULL,
                            .modify_date = has_m ? mx : NULL};
  char docid[64];
  if ((f->prof & X_BIT) && file_uuid(in_path, docid) == 0) x.document_id = docid;
  struct folio_str b = {0};
  folio_pdf_xmp_build(&b, &x);
  if (b.oom) {
    folio_str_free(&b);
    rc = folio_pdf_fail(f->diag, FOLIO_PDF_E_NOMEM, NULL, "out of memory");
    goto out;
  }
  /* unfiltered (PDF/A-2 6.6.2.1 lets it be filtered, but a plain one is
   * readable by every tool); qpdf leaves /Metadata streams uncompressed */
  qpdf_oh meta = qpdf_oh_new_stream(f->q);
  qpdf_oh_replace_stream_data(f->q, meta, (const unsigned char *)b.p, b.len, qpdf_oh_new_null(f->q),
                              qpdf_oh_new_null(f->q));
  folio_str_free(&b);
  qpdf_oh md = qpdf_oh_get_dict(f->q, meta);
  qpdf_oh_replace_key(f->q, md, "/Type", qpdf_oh_new_name(f->q, "/Metadata"));
  qpdf_oh_replace_key(f->q, md, "/Subtype", qpdf_oh_new_name(f->q, "/XML"));
  qpdf_oh_replace_key(f->q, root, "/Metadata", meta);

  if (f->prof & UA_BIT) {
    /* UA-1 7.1: tagged content is marked; the title is shown, not the file name */
    qpdf_oh_replace_key(f->q, root, "/MarkInfo", qpdf_oh_parse(f->q, "<< /Marked true >>"));
    qpdf_oh vp = qpdf_oh_get_key(f->q, root, "/ViewerPreferences");
    if (!qpdf_oh_is_dictionary(f->q, vp)) {
      vp = qpdf_oh_new_dictionary(f->q);
      qpdf_oh_replace_key(f->q, root, "/ViewerPreferences", vp);
    }
    qpdf_oh_replace_key(f->q, vp, "/DisplayDocTitle", qpdf_oh_new_bool(f->q, QPDF_TRUE));
  }
  if (x.lang) qpdf_oh_replace_key(f->q, root, "/Lang", text(f, x.lang));
  if (qpdf_has_error(f->q)) rc = qpdf_failed(f, "writing the metadata");
out:
  free(title);
  free(author);
  free(subject);
  free(creator);
  free(producer);
  return rc;
}

/* OutputIntents and the sRGB colour space PDF/X's pages use. */
static int do_colour(struct fin *f) {
  bool a = f->prof & A_BIT, x = f->prof & X_BIT;
  if (!a && !x) return 0;
  const char *rgb_path = f->o->rgb_icc_path ? f->o->rgb_icc_path : FOLIO_PDF_SRGB_ICC_DEFAULT;
  const char *out_path = f->o->output_icc_path ? f->o->output_icc_path : FOLIO_PDF_CMYK_ICC_DEFAULT;
  struct icc rgb = {0}, out = {0};
  int rc = icc_load(rgb_path, "rgb_icc_path", "RGB ", "'mntr' or 'prtr'", &rgb, f->diag);
  if (!rc && x) rc = icc_load(out_path, "output_icc_path", "CMYK", "'prtr'", &out, f->diag);
  if (rc) goto done;
  qpdf_oh rgb_s = icc_stream(f, &rgb);
  f->rgb_cs = qpdf_oh_new_array(f->q);
  qpdf_oh_append_item(f->q, f->rgb_cs, qpdf_oh_new_name(f->q, "/ICCBased"));
  qpdf_oh_append_item(f->q, f->rgb_cs, rgb_s);
  f->rgb_cs = qpdf_make_indirect_object(f->q, f->rgb_cs);

  qpdf_oh intents = qpdf_oh_new_array(f->q);
  /* PDF/A-2 6.2.3: when several intents carry a DestOutputProfile, they are
   * the same indirect object: with PDF/X, the output profile serves both */
  qpdf_oh dest = x ? icc_stream(f, &out) : rgb_s;
  const char *subtypes[2] = {x ? "/GTS_PDFX" : NULL, a ? "/GTS_PDFA1" : NULL};
  for (int i = 0; i < 2; i++) {
    if (!subtypes[i]) continue;
    qpdf_oh oi = qpdf_oh_new_dictionary(f->q);
    qpdf_oh_replace_key(f->q, oi, "/Type", qpdf_oh_new_name(f->q, "/OutputIntent"));
    qpdf_oh_replace_key(f->q, oi, "/S", qpdf_oh_new_name(f->q, subtypes[i]));
    qpdf_oh_replace_key(f->q, oi, "/DestOutputProfile", dest);
    if (x) {
      const char *base = strrchr(out_path, '/');
      base = base ? base + 1 : out_path;
      qpdf_oh_replace_key(f->q, oi, "/OutputConditionIdentifier",
                          text(f, f->o->output_condition_identifier ? f->o->output_condition_identifier : "Custom"));
      qpdf_oh_replace_key(f->q, oi, "/OutputCondition", text(f, f->o->output_condition ? f->o->output_condition : base));
      qpdf_oh_replace_key(f->q, oi, "/Info", text(f, f->o->output_condition ? f->o->output_condition : base));
      qpdf_oh_replace_key(f->q, oi, "/RegistryName",
                          text(f, f->o->registry_name ? f->o->registry_name : "http://www.color.org"));
    } else {
      qpdf_oh_replace_key(f->q, oi, "/OutputConditionIdentifier", text(f, "sRGB IEC61966-2.1"));
      qpdf_oh_replace_key(f->q, oi, "/Info", text(f, "sRGB IEC61966-2.1"));
      qpdf_oh_replace_key(f->q, oi, "/RegistryName", text(f, "http://www.color.org"));
    }
    qpdf_oh_append_item(f->q, intents, qpdf_make_indirect_object(f->q, oi));
  }
  qpdf_oh_replace_key(f->q, qpdf_get_root(f->q), "/OutputIntents", intents);
  if (qpdf_has_error(f->q)) rc = qpdf_failed(f, "writing the output intents");
done:
  free(rgb.data);
  free(out.data);
  return rc;
}

int folio_pdf_finish(const char *in_path, const struct folio_pdf_options *o, const char *out_path,
                     struct folio_pdf_diag *diag) {
  struct folio_pdf_diag local;
  if (!diag) diag = &local;
  memset(diag, 0, sizeof *diag);
  if (!in_path || !out_path || !o || strcmp(in_path, out_path) == 0)
    return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, NULL, "in_path and out_path must be set and differ");
  int rc = check_options(o, diag);
  if (rc) return rc;
  /* The input is mapped, not read: qpdf parses it in place (no copy, and no
   * seek system call per token, which reading through a FILE cost: a fifth of
   * the finish). Its pages are the file's page cache, dropped under pressure,
   * so a long document is still not held in memory. */
  int ifd = open(in_path, O_RDONLY | O_CLOEXEC);
  struct stat ist;
  if (ifd < 0 || fstat(ifd, &ist) || !S_ISREG(ist.st_mode) || ist.st_size <= 0) {
    rc = folio_pdf_fail(diag, FOLIO_PDF_E_PDF, NULL, "reading cairo's PDF %s: %s", in_path,
                        ifd < 0 ? strerror(errno) : "not a non-empty regular file");
    if (ifd >= 0) close(ifd);
    return rc;
  }
  size_t in_len = (size_t)ist.st_size;
  void *map = mmap(NULL, in_len, PROT_READ, MAP_PRIVATE, ifd, 0);
  close(ifd);
  if (map == MAP_FAILED)
    return folio_pdf_fail(diag, FOLIO_PDF_E_PDF, NULL, "mapping cairo's PDF %s: %s", in_path, strerror(errno));
  struct fin f = {.o = o, .diag = diag, .prof = o->profiles};
  f.q = qpdf_init();
  if (!f.q) {
    munmap(map, in_len);
    return folio_pdf_fail(diag, FOLIO_PDF_E_NOMEM, NULL, "out of memory");
  }
  qpdf_silence_errors(f.q);
  qpdf_set_suppress_warnings(f.q, QPDF_TRUE);
  if (qpdf_read_memory(f.q, in_path, map, (unsigned long long)in_len, NULL) & QPDF_ERRORS) {
    rc = qpdf_failed(&f, "reading cairo's PDF");
    goto out;
  }
  if (f.prof) {
    rc = do_colour(&f);
    if (!rc) rc = do_metadata(&f, in_path);
  }
  /* the attributes cairo cannot write, on the elements the render named */
  if (!rc && o->attrs) rc = folio_pdf_struct_attrs(f.q, o->attrs, diag);
  if (!rc) rc = do_pages(&f);
  if (rc) goto out;
  if (qpdf_init_write(f.q, out_path) & QPDF_ERRORS) {
    qpdf_failed(&f, "opening the output");
    rc = diag->code = FOLIO_PDF_E_WRITE;
    goto out;
  }
  /* the /ID is a digest of the written bytes: same input, same output */
  qpdf_set_deterministic_ID(f.q, QPDF_TRUE);
  qpdf_set_stream_data_mode(f.q, qpdf_s_preserve);
  /* PDF/UA rewrote the pages' content (artifacts): those new streams are
   * compressed; cairo's, still filtered, are copied as they are (decode level
   * none), and qpdf never compresses the XMP */
  if (f.prof & UA_BIT) qpdf_set_compress_streams(f.q, QPDF_TRUE);
  /* PDF/X-4 is PDF 1.6; the others accept cairo's 1.5 */
  if (f.prof & X_BIT) qpdf_set_minimum_pdf_version(f.q, "1.6");
  if (qpdf_write(f.q) & QPDF_ERRORS) rc = qpdf_failed(&f, "writing the PDF");
out:
  qpdf_cleanup(&f.q);
  munmap(map, in_len);
  free(f.seen);
  if (rc) unlink(out_path);
  return rc;
}

int folio_pdf_finish_stream(const char *in_path, const struct folio_pdf_options *o,
                            const char *tmp_dir, folio_pdf_write_fn write, void *write_ctx,
                            struct folio_pdf_diag *diag) {
  return folio_pdf_finish_stream_checked(in_path, o, tmp_dir, 0, NULL, write, write_ctx, diag);
}

/* Streams the file open on fd from its start through write. */
static int stream_fd(int fd, folio_pdf_write_fn write, void *write_ctx, struct folio_pdf_diag *diag) {
  enum { CHUNK = 64 * 1024 };
  unsigned char *buf = malloc(CHUNK);
  if (!buf) return folio_pdf_fail(diag, FOLIO_PDF_E_NOMEM, NULL, "out of memory");
  int rc = 0;
  if (lseek(fd, 0, SEEK_SET) != 0)
    rc = folio_pdf_fail(diag, FOLIO_PDF_E_WRITE, NULL, "rewinding the output: %s", strerror(errno));
  while (!rc) {
    ssize_t r = read(fd, buf, CHUNK);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) rc = folio_pdf_fail(diag, FOLIO_PDF_E_WRITE, NULL, "reading the output: %s", strerror(errno));
    if (r <= 0) break;
    if (write(write_ctx, buf, (size_t)r))
      rc = folio_pdf_fail(diag, FOLIO_PDF_E_WRITE, NULL, "write aborted");
  }
  free(buf);
  return rc;
}

static int preflight(const char *path, unsigned profiles, struct folio_findings *findings,
                     struct folio_pdf_diag *diag) {
  if (!findings) return 0;
  int rc = folio_pdf_preflight(path, profiles, findings);
  if (rc == FOLIO_PDF_PREFLIGHT_EINVAL)
    return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "profiles", "preflight profiles 0x%x", profiles);
  if (rc) return folio_pdf_fail(diag, FOLIO_PDF_E_NOMEM, NULL, "out of memory recording the preflight");
  return 0;
}

int folio_pdf_finish_stream_checked(const char *in_path, const struct folio_pdf_options *o,
                                    const char *tmp_dir, unsigned preflight_profiles,
                                    struct folio_findings *findings, folio_pdf_write_fn write,
                                    void *write_ctx, struct folio_pdf_diag *diag) {
  struct folio_pdf_diag local;
  if (!diag) diag = &local;
  if (!in_path || !o) return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, NULL, "in_path and o must be set");
  if (!folio_pdf_needed(o)) { /* nothing to add: the input itself, checked */
    int ifd = open(in_path, O_RDONLY | O_CLOEXEC);
    if (ifd < 0) return folio_pdf_fail(diag, FOLIO_PDF_E_PDF, NULL, "%s: %s", in_path, strerror(errno));
    int rc = preflight(in_path, preflight_profiles, findings, diag);
    if (!rc) rc = stream_fd(ifd, write, write_ctx, diag);
    close(ifd);
    return rc;
  }
  if (!tmp_dir || !*tmp_dir) tmp_dir = getenv("TMPDIR");
  if (!tmp_dir || !*tmp_dir) tmp_dir = "/tmp";
  char tmpl[512], out[64];
  if ((size_t)snprintf(tmpl, sizeof tmpl, "%s/folio-pdf-XXXXXX", tmp_dir) >= sizeof tmpl)
    return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, NULL, "tmp_dir is too long");
  int fd = mkostemp(tmpl, O_CLOEXEC);
  if (fd < 0) return folio_pdf_fail(diag, FOLIO_PDF_E_WRITE, NULL, "%s: %s", tmpl, strerror(errno));
  unlink(tmpl); /* from here on only the descriptor names it */
  snprintf(out, sizeof out, "/proc/self/fd/%d", fd);
  int rc = folio_pdf_finish(in_path, o, out, diag);
  /* checked before the first byte leaves: the findings reach the caller
   * whatever they say; whether they fail the job is the caller's verdict */
  if (!rc) rc = preflight(out, preflight_profiles, findings, diag);
  if (!rc) rc = stream_fd(fd, write, write_ctx, diag);
  close(fd);
  return rc;
}
