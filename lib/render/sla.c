/* folio_render_sla: the model as a Scribus 1.5 document (.sla), streamed.
 *
 * What Scribus 1.5.8 needs and how it reads coordinates is recorded in
 * docs/internals/render.md (after notes/sla-format.md). In short:
 *  - items are placed in canvas coordinates: pages are stacked vertically from
 *    (ScratchLeft, ScratchTop) with GapVertical between them;
 *  - Scribus rotates about an item's top-left corner, the model about the box
 *    centre, so the rotated top-left corner is written as the position;
 *  - text is laid out with pango first (the same code as the PDF), which gives
 *    the overflow policy's size factor and the font pango actually used for each
 *    piece of text: fallback fonts (Arabic, CJK) are named explicitly in the
 *    runs, because Scribus does no font fallback of its own;
 *  - pictures travel inside the file (isInlineImage/ImageData: base64 of Qt's
 *    qCompress format, a 4-byte big-endian length then a zlib stream);
 *  - colours keep their colour space: CMYK colours are written as CMYK.
 * Output goes through a 64 KiB buffer to the caller's write callback. */
#include <fontconfig/fontconfig.h>
#include <libdeflate.h>
#include <math.h>
#include <pango/pangofc-font.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/pagebox.h"
#include "render_int.h"

#define SCRATCH_LEFT 100.0
#define SCRATCH_TOP 20.0
#define GAP_VERTICAL 40.0
/* The ICC profiles Scribus 1.5.8 installs (/usr/share/scribus/profiles), by
 * the names Scribus knows them under (their 'desc' tags). PDF/X export needs
 * colour management on and an output profile; these make the .sla export as
 * PDF/X-4 out of the box, and a print shop picks its own output condition in
 * Scribus' PDF dialog. */
#define SLA_CMYK_PROFILE "ISO Coated v2 300% (basICColor)"
#define SLA_RGB_PROFILE "sRGB display profile (ICC v2.2)"

struct sla_out {
  folio_render_write_fn write;
  void *ctx;
  int failed;
  size_t len;
  unsigned char buf[1 << 16];
};

static void out_flush(struct sla_out *o) {
  if (o->len && !o->failed && o->write(o->ctx, o->buf, o->len)) o->failed = 1;
  o->len = 0;
}

static void out_raw(struct sla_out *o, const char *s, size_t n) {
  while (n) {
    if (o->len == sizeof o->buf) out_flush(o);
    size_t k = sizeof o->buf - o->len;
    if (k > n) k = n;
    memcpy(o->buf + o->len, s, k);
    o->len += k, s += k, n -= k;
  }
}

static void out_s(struct sla_out *o, const char *s) { out_raw(o, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void out_f(struct sla_out *o, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) out_raw(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Text as an XML attribute value: escapes markup, drops the characters XML 1.0
 * cannot carry: C0 controls (text tabs and newlines never reach here: they
 * become elements) and the noncharacters (folio_text_char). */
static void out_esc(struct sla_out *o, const char *s, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    const char *rep = NULL;
    bool keep = true;
    size_t k = c < 0x80 ? 1 : folio_text_char(s + i, n - i, &keep);
    if (c == '&') rep = "&amp;";
    else if (c == '<') rep = "&lt;";
    else if (c == '>') rep = "&gt;";
    else if (c == '"') rep = "&quot;";
    else if (c < 0x20 || !keep) rep = "";
    if (rep) {
      out_raw(o, s + start, i - start);
      out_s(o, rep);
      start = i + k;
    }
    i += k;
  }
  out_raw(o, s + start, n - start);
}

/* A number the way Scribus writes them: plain decimal, no exponent. */
static const char *num(char *b, double v) {
  if (fabs(v) < 1e-9) v = 0;
  snprintf(b, 32, "%.4f", v);
  char *e = b + strlen(b) - 1;
  while (*e == '0') *e-- = 0;
  if (*e == '.') *e = 0;
  return b;
}

/* ---- colours --------------------------------------------------------------- */

struct sla_color {
  const struct folio_color *c; /* identity of named colours */
  char name[72];
};

struct sla_doc {
  const struct folio_layout_doc *doc;
  struct sla_out *o;
  struct folio_painter painter;
  struct sla_color *colors;
  size_t n_colors, cap_colors;
  char **fonts; /* interned Scribus font names */
  size_t n_fonts, cap_fonts;
  unsigned item_id;
};

static void literal_name(const struct folio_color *c, char *out, size_t n) {
  if (c->is_cmyk)
    snprintf(out, n, "folio cmyk %.0f %.0f %.0f %.0f", c->c * 100, c->m * 100, c->y * 100, c->k * 100);
  else
    snprintf(out, n, "folio #%02x%02x%02x", (unsigned)lround(c->r * 255), (unsigned)lround(c->g * 255),
             (unsigned)lround(c->b * 255));
}

/* The SLA name of c, registering it on first use; NULL when out of memory. */
static const char *color_name(struct sla_doc *d, const struct folio_color *c) {
  if (!c) return "None";
  char lit[72] = "";
  if (c->name) {
    /* "None" is Scribus' built-in "no colour" and cannot be redefined */
    snprintf(lit, sizeof lit, "%s%s", c->name, strcmp(c->name, "None") == 0 ? " (folio)" : "");
  } else {
    literal_name(c, lit, sizeof lit);
  }
  for (size_t i = 0; i < d->n_colors; i++)
    if (d->colors[i].c == c || strcmp(d->colors[i].name, lit) == 0) return d->colors[i].name;
  if (d->n_colors == d->cap_colors) {
    size_t cap = d->cap_colors ? d->cap_colors * 2 : 16;
    struct sla_color *p = realloc(d->colors, cap * sizeof *p);
    if (!p) return NULL;
    d->colors = p, d->cap_colors = cap;
  }
  struct sla_color *e = &d->colors[d->n_colors++];
  e->c = c;
  snprintf(e->name, sizeof e->name, "%s", lit);
  return e->name;
}

static void write_color(struct sla_out *o, const char *name, const struct folio_color *c) {
  char a[32], b[32], cc[32], k[32];
  out_s(o, "  <COLOR NAME=\"");
  out_esc(o, name, strlen(name));
  if (c && c->is_cmyk)
    out_f(o, "\" SPACE=\"CMYK\" C=\"%s\" M=\"%s\" Y=\"%s\" K=\"%s\"/>\n", num(a, c->c * 100), num(b, c->m * 100),
          num(cc, c->y * 100), num(k, c->k * 100));
  else
    out_f(o, "\" SPACE=\"RGB\" R=\"%ld\" G=\"%ld\" B=\"%ld\"/>\n", c ? lround(c->r * 255) : 0,
          c ? lround(c->g * 255) : 0, c ? lround(c->b * 255) : 0);
}

/* ---- fonts ----------------------------------------------------------------- */

/* Scribus names a font "<family> <style>" from the face's first family and style
 * names, which are fontconfig's first FC_FAMILY and FC_STYLE. */
static const char *font_name(struct sla_doc *d, PangoFont *font) {
  char name[256] = "DejaVu Sans Book";
  if (PANGO_IS_FC_FONT(font)) {
    FcPattern *pat = pango_fc_font_get_pattern(PANGO_FC_FONT(font));
    FcChar8 *fam = NULL, *sty = NULL;
    if (pat && FcPatternGetString(pat, FC_FAMILY, 0, &fam) == FcResultMatch &&
        FcPatternGetString(pat, FC_STYLE, 0, &sty) == FcResultMatch)
      snprintf(name, sizeof name, "%s %s", (const char *)fam, (const char *)sty);
  }
  for (size_t i = 0; i < d->n_fonts; i++)
    if (strcmp(d->fonts[i], name) == 0) return d->fonts[i];
  if (d->n_fonts == d->cap_fonts) {
    size_t cap = d->cap_fonts ? d->cap_fonts * 2 : 8;
    char **p = realloc(d->fonts, cap * sizeof *p);
    if (!p) return NULL;
    d->fonts = p, d->cap_fonts = cap;
  }
  char *s = strdup(name);
  if (!s) return NULL;
  d->fonts[d->n_fonts++] = s;
  return s;
}

struct font_span {
  size_t start, end; /* byte range of the item's text */
  const char *font;
};

static int span_cmp(const void *a, const void *b) {
  const struct font_span *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* Which font pango chose for each byte range of the laid-out text. */
static int font_spans(struct sla_doc *d, PangoLayout *lay, struct font_span **out, size_t *n_out) {
  size_t n = 0, cap = 16;
  struct font_span *v = malloc(cap * sizeof *v);
  if (!v) return -1;
  PangoLayoutIter *it = pango_layout_get_iter(lay);
  do {
    PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
    if (!run) continue;
    if (n == cap) {
      struct font_span *p = realloc(v, (cap *= 2) * sizeof *v);
      if (!p) {
        free(v);
        pango_layout_iter_free(it);
        return -1;
      }
      v = p;
    }
    const char *fname = font_name(d, run->item->analysis.font);
    if (!fname) {
      free(v);
      pango_layout_iter_free(it);
      return -1;
    }
    v[n++] = (struct font_span){folio_text_source_offset(lay, (size_t)run->item->offset),
                                folio_text_source_offset(lay, (size_t)(run->item->offset + run->item->length)),
                                fname};
  } while (pango_layout_iter_next_run(it));
  pango_layout_iter_free(it);
  qsort(v, n, sizeof *v, span_cmp);
  /* pango splits runs at line ends: merge neighbours that share a font */
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (m && v[m - 1].font == v[i].font && v[m - 1].end == v[i].start)
      v[m - 1].end = v[i].end;
    else
      v[m++] = v[i];
  }
  n = m;
  *out = v;
  *n_out = n;
  return 0;
}

/* ---- items ----------------------------------------------------------------- */

struct place {
  double px, py; /* page origin on the canvas */
};

/* Writes the attributes shared by every PAGEOBJECT: type, id, name, page, the
 * rotated top-left corner on the canvas, size, rotation, transparency. */
static void common_attrs(struct sla_doc *d, const struct folio_item *it, int ptype, size_t page_no,
                         const struct place *pl, double x, double y, double w, double h, double rot) {
  struct sla_out *o = d->o;
  char a[32], b[32], c[32], e[32], f[32];
  out_f(o, "  <PAGEOBJECT PTYPE=\"%d\" ItemID=\"%u\" ANNAME=\"", ptype, ++d->item_id);
  if (it->name)
    out_esc(o, it->name, strlen(it->name));
  else
    out_f(o, "item %zu.%zu", page_no + 1, it->index);
  out_f(o, "\" OwnPage=\"%zu\" LAYER=\"0\" XPOS=\"%s\" YPOS=\"%s\" WIDTH=\"%s\" HEIGHT=\"%s\" ROT=\"%s\"", page_no,
        num(a, pl->px + x), num(b, pl->py + y), num(c, w), num(e, h), num(f, rot));
  if (it->opacity < 1)
    out_f(o, " TransValue=\"%s\" TransValueS=\"%s\"", num(a, 1 - it->opacity), num(b, 1 - it->opacity));
}

/* Top-left corner of the box after rotating it about its centre. */
static void rotated_origin(const struct folio_item *it, double *x, double *y) {
  double t = it->rotation * M_PI / 180.0, cx = it->x + it->w / 2, cy = it->y + it->h / 2;
  double dx = -it->w / 2, dy = -it->h / 2;
  *x = cx + dx * cos(t) - dy * sin(t);
  *y = cy + dx * sin(t) + dy * cos(t);
}

static void rect_path(struct sla_out *o, const char *attr, double w, double h) {
  char a[32], b[32];
  out_f(o, " %s=\"M0 0 L%s 0 L%s %s L0 %s Z\"", attr, num(a, w), a, num(b, h), b);
}

static void shape_path(struct sla_out *o, const struct folio_item *it) {
  char p[8][32];
  double w = it->w, h = it->h;
  const double k = 0.5522847498;
  for (int pass = 0; pass < 2; pass++) {
    const char *attr = pass ? "copath" : "path";
    if (it->kind == FOLIO_ITEM_ELLIPSE) {
      double rx = w / 2, ry = h / 2;
      out_f(o, " %s=\"M%s %s", attr, num(p[0], w), num(p[1], ry));
      out_f(o, " C%s %s %s %s %s %s", p[0], num(p[2], ry + k * ry), num(p[3], rx + k * rx), num(p[4], h),
            num(p[5], rx), p[4]);
      out_f(o, " C%s %s 0 %s 0 %s", num(p[6], rx - k * rx), p[4], p[2], p[1]);
      out_f(o, " C0 %s %s 0 %s 0", num(p[7], ry - k * ry), p[6], p[5]);
      out_f(o, " C%s 0 %s %s %s %s Z\"", p[3], p[0], p[7], p[0], p[1]);
    } else if (it->kind == FOLIO_ITEM_RECT && it->u.shape.radius > 0) {
      double r = fmin(it->u.shape.radius, fmin(w, h) / 2), c = r * (1 - k);
      char W[32], H[32], R[32], WR[32], HR[32], C[32], WC[32], HC[32];
      num(W, w), num(H, h), num(R, r), num(WR, w - r), num(HR, h - r), num(C, c), num(WC, w - c), num(HC, h - c);
      out_f(o, " %s=\"M%s 0 L%s 0 C%s 0 %s %s %s %s", attr, R, WR, WC, W, C, W, R);
      out_f(o, " L%s %s C%s %s %s %s %s %s", W, HR, W, HC, WC, H, WR, H);
      out_f(o, " L%s %s C%s %s 0 %s 0 %s", R, H, C, H, HC, HR);
      out_f(o, " L0 %s C0 %s %s 0 %s 0 Z\"", R, C, C, R);
    } else {
      rect_path(o, attr, w, h);
    }
  }
}

static void write_shape(struct sla_doc *d, const struct folio_item *it, size_t page_no, const struct place *pl) {
  struct sla_out *o = d->o;
  double x, y;
  rotated_origin(it, &x, &y);
  common_attrs(d, it, 6, page_no, pl, x, y, it->w, it->h, it->rotation);
  int frtype = it->kind == FOLIO_ITEM_ELLIPSE ? 1 : it->u.shape.radius > 0 ? 2 : 0;
  char a[32];
  out_f(o, " FRTYPE=\"%d\"", frtype);
  if (frtype == 2) out_f(o, " RADRECT=\"%s\"", num(a, it->u.shape.radius));
  out_s(o, " PCOLOR=\"");
  out_esc(o, color_name(d, it->u.shape.fill), strlen(color_name(d, it->u.shape.fill)));
  out_s(o, "\" SHADE=\"100\" PCOLOR2=\"");
  out_esc(o, color_name(d, it->u.shape.stroke), strlen(color_name(d, it->u.shape.stroke)));
  out_f(o, "\" SHADE2=\"100\" PWIDTH=\"%s\"", num(a, it->u.shape.stroke ? it->u.shape.stroke_width : 0));
  shape_path(o, it);
  out_s(o, "/>\n");
}

static void write_line(struct sla_doc *d, const struct folio_item *it, size_t page_no, const struct place *pl) {
  struct sla_out *o = d->o;
  double x1 = it->u.line.x1, y1 = it->u.line.y1, x2 = it->u.line.x2, y2 = it->u.line.y2;
  if (it->rotation != 0) { /* the model rotates the segment about its box centre */
    double t = it->rotation * M_PI / 180.0, cx = it->x + it->w / 2, cy = it->y + it->h / 2;
    double ax = x1 - cx, ay = y1 - cy, bx = x2 - cx, by = y2 - cy;
    x1 = cx + ax * cos(t) - ay * sin(t), y1 = cy + ax * sin(t) + ay * cos(t);
    x2 = cx + bx * cos(t) - by * sin(t), y2 = cy + bx * sin(t) + by * cos(t);
  }
  double len = hypot(x2 - x1, y2 - y1), rot = atan2(y2 - y1, x2 - x1) * 180.0 / M_PI;
  common_attrs(d, it, 5, page_no, pl, x1, y1, len, 1, rot);
  const char *sc = color_name(d, it->u.line.stroke);
  char a[32];
  out_s(o, " PCOLOR=\"None\" PCOLOR2=\"");
  out_esc(o, sc, strlen(sc));
  out_f(o, "\" SHADE2=\"100\" PWIDTH=\"%s\" path=\"\"/>\n", num(a, it->u.line.stroke_width));
}

static int write_image(struct sla_doc *d, const struct folio_item *it, size_t page_no, const struct place *pl,
                       struct folio_render_diag *diag) {
  struct sla_out *o = d->o;
  const struct folio_asset *as = it->u.image.asset;
  /* from the header's pixel size (the layout decoder checked that the asset
   * decodes): the .sla carries the file, no pixels are needed */
  (void)diag;
  struct folio_image_placement ip;
  folio_image_place(it, &ip);
  double sx = ip.sx, sy = ip.sy, ox = ip.ox, oy = ip.oy;
  double x, y;
  rotated_origin(it, &x, &y);
  common_attrs(d, it, 2, page_no, pl, x, y, it->w, it->h, it->rotation);
  char a[32], b[32], c[32], e[32];
  /* free scaling: LOCALSC = points per pixel; LOCALX/Y = offset in pixels of the picture */
  out_f(o, " FRTYPE=\"0\" PCOLOR=\"None\" PCOLOR2=\"None\" PWIDTH=\"0\" PICART=\"1\" SCALETYPE=\"1\" RATIO=\"0\""
           " LOCALSCX=\"%s\" LOCALSCY=\"%s\" LOCALX=\"%s\" LOCALY=\"%s\"",
        num(a, sx), num(b, sy), num(c, ox / sx), num(e, oy / sy));
  rect_path(o, "path", it->w, it->h);
  rect_path(o, "copath", it->w, it->h);
  out_f(o, " PFILE=\"\" isInlineImage=\"1\" inlineImageExt=\"%s\" ImageData=\"",
        as->type == FOLIO_ASSET_JPEG ? "jpg" : "png");
  /* qCompress: 4-byte big-endian length, then zlib; then base64 */
  struct libdeflate_compressor *z = libdeflate_alloc_compressor(6);
  size_t bound = z ? libdeflate_zlib_compress_bound(z, as->size) : 0;
  unsigned char *zb = z ? malloc(4 + bound) : NULL;
  if (!zb) {
    if (z) libdeflate_free_compressor(z);
    return folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, page_no, it, "out of memory");
  }
  size_t zn = libdeflate_zlib_compress(z, as->data, as->size, zb + 4, bound);
  libdeflate_free_compressor(z);
  zb[0] = (unsigned char)(as->size >> 24), zb[1] = (unsigned char)(as->size >> 16);
  zb[2] = (unsigned char)(as->size >> 8), zb[3] = (unsigned char)as->size;
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t total = zn + 4;
  char chunk[4096];
  size_t cl = 0;
  for (size_t i = 0; i < total; i += 3) {
    unsigned v = (unsigned)zb[i] << 16;
    if (i + 1 < total) v |= (unsigned)zb[i + 1] << 8;
    if (i + 2 < total) v |= zb[i + 2];
    chunk[cl++] = b64[(v >> 18) & 63];
    chunk[cl++] = b64[(v >> 12) & 63];
    chunk[cl++] = i + 1 < total ? b64[(v >> 6) & 63] : '=';
    chunk[cl++] = i + 2 < total ? b64[v & 63] : '=';
    if (cl + 4 > sizeof chunk) out_raw(o, chunk, cl), cl = 0;
  }
  out_raw(o, chunk, cl);
  free(zb);
  out_s(o, "\"/>\n");
  return 0;
}

/* One ITEXT per piece of a run that shares a font, <tab/> for tabs, and a
 * <para/> carrying the paragraph style at each newline; <trail/> ends the story. */
struct para_style {
  int align;
  double linesp; /* largest line height of the paragraph's runs, pt */
};

static void write_para(struct sla_out *o, const char *el, const struct para_style *ps) {
  char a[32];
  out_f(o, "      <%s ALIGN=\"%d\" LINESPMode=\"0\" LINESP=\"%s\"/>\n", el, ps->align, num(a, ps->linesp));
}

static int write_text(struct sla_doc *d, const struct folio_item *it, size_t page_no, const struct place *pl,
                      struct folio_render_diag *diag) {
  struct sla_out *o = d->o;
  double scale;
  PangoLayout *lay = folio_text_fitted(&d->painter, it, page_no, &scale, diag);
  if (!lay) return diag->code;
  struct font_span *spans = NULL;
  size_t n_spans = 0;
  if (font_spans(d, lay, &spans, &n_spans)) {
    g_object_unref(lay);
    return folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, page_no, it, "out of memory");
  }
  /* Scribus puts the first baseline one font ascent below the top (FLOP=1);
   * pango adds half the leading above it: move the text down by the difference. */
  double top = 0;
  {
    double base = (double)pango_layout_get_baseline(lay) / PANGO_SCALE;
    PangoLayoutIter *li = pango_layout_get_iter(lay);
    PangoLayoutRun *run = pango_layout_iter_get_run_readonly(li);
    if (run) {
      PangoFontMetrics *m = pango_font_get_metrics(run->item->analysis.font, NULL);
      top = base - (double)pango_font_metrics_get_ascent(m) / PANGO_SCALE;
      pango_font_metrics_unref(m);
    }
    pango_layout_iter_free(li);
    if (top < 0) top = 0;
  }
  g_object_unref(lay);

  double x, y;
  rotated_origin(it, &x, &y);
  common_attrs(d, it, 4, page_no, pl, x, y, it->w, it->h, it->rotation);
  char a[32], b[32];
  out_f(o, " FRTYPE=\"0\" PCOLOR=\"None\" PCOLOR2=\"None\" PWIDTH=\"0\" COLUMNS=\"1\" COLGAP=\"0\" EXTRA=\"0\""
           " TEXTRA=\"%s\" BEXTRA=\"0\" REXTRA=\"0\" FLOP=\"1\" VAlign=\"0\"",
        num(a, top));
  rect_path(o, "path", it->w, it->h);
  rect_path(o, "copath", it->w, it->h);
  out_s(o, ">\n    <StoryText>\n      <DefaultStyle/>\n");

  static const int aligns[] = {0, 1, 2, 3};
  struct para_style ps = {aligns[it->u.text.style.align & 3], 0};
  size_t off = 0, si = 0;
  for (size_t r = 0; r < it->u.text.n_runs; r++) {
    const struct folio_run *run = &it->u.text.runs[r];
    const struct folio_text_style *st = &run->style;
    double lh = (st->line_height > 0 ? st->line_height : 1.2) * st->size * scale;
    const char *fc = color_name(d, st->color);
    if (!fc) {
      free(spans);
      return folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, page_no, it, "out of memory");
    }
    /* the same characters as the pango layout (folio_text_char) */
    char *t = malloc(run->text_len + 1);
    if (!t) {
      free(spans);
      return folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, page_no, it, "out of memory");
    }
    size_t tl = 0;
    for (size_t k = 0; k < run->text_len;) {
      bool keep;
      size_t cl = folio_text_char(run->text + k, run->text_len - k, &keep);
      if (keep) memcpy(t + tl, run->text + k, cl), tl += cl;
      k += cl;
    }
    size_t i = 0;
    while (i < tl) {
      if (t[i] == '\n' || t[i] == '\t') {
        if (ps.linesp < lh) ps.linesp = lh;
        if (t[i] == '\n') {
          write_para(o, "para", &ps);
          ps.linesp = 0;
        } else {
          out_s(o, "      <tab/>\n");
        }
        i++;
        continue;
      }
      /* the longest piece without a newline/tab and within one font span */
      size_t abs = off + i;
      while (si + 1 < n_spans && spans[si].end <= abs) si++;
      const char *font = n_spans ? spans[si].font : "DejaVu Sans Book";
      size_t limit = tl;
      if (n_spans && spans[si].start <= abs && spans[si].end > abs && spans[si].end - off < limit)
        limit = spans[si].end - off;
      size_t j = i;
      while (j < limit && t[j] != '\n' && t[j] != '\t') j++;
      out_s(o, "      <ITEXT FONT=\"");
      out_esc(o, font, strlen(font));
      out_f(o, "\" FONTSIZE=\"%s\" FCOLOR=\"", num(a, st->size * scale));
      out_esc(o, fc, strlen(fc));
      out_s(o, "\" FSHADE=\"100\"");
      if (st->letter_spacing != 0) /* Scribus' tracking: percent of the font size */
        out_f(o, " KERN=\"%s\"", num(b, st->letter_spacing / st->size * 100));
      out_s(o, " CH=\"");
      out_esc(o, t + i, j - i);
      out_s(o, "\"/>\n");
      if (ps.linesp < lh) ps.linesp = lh;
      i = j;
    }
    free(t);
    off += tl;
  }
  if (ps.linesp == 0) ps.linesp = it->u.text.style.size * scale * 1.2;
  write_para(o, "trail", &ps);
  out_s(o, "    </StoryText>\n  </PAGEOBJECT>\n");
  free(spans);
  return 0;
}

/* ---- the document ---------------------------------------------------------- */

struct sla_progress {
  const struct folio_render_options *opt;
  size_t done, total;
};

/* Registers every colour the selected pages use, so COLORs precede the pages. */
static int collect_colors(struct sla_doc *d, const size_t *pages, size_t n) {
  for (size_t i = 0; i < d->doc->n_colors; i++)
    if (!color_name(d, &d->doc->colors[i])) return -1;
  for (size_t p = 0; p < n; p++) {
    const struct folio_page *pg = &d->doc->pages[pages[p]];
    for (size_t i = 0; i < pg->n_items; i++) {
      const struct folio_item *it = &pg->items[i];
      const struct folio_color *cs[2] = {NULL, NULL};
      if (it->kind == FOLIO_ITEM_RECT || it->kind == FOLIO_ITEM_ELLIPSE)
        cs[0] = it->u.shape.fill, cs[1] = it->u.shape.stroke;
      else if (it->kind == FOLIO_ITEM_LINE)
        cs[0] = it->u.line.stroke;
      else if (it->kind == FOLIO_ITEM_TEXT)
        for (size_t r = 0; r < it->u.text.n_runs; r++)
          if (!color_name(d, it->u.text.runs[r].style.color)) return -1;
      for (int k = 0; k < 2; k++)
        if (cs[k] && !color_name(d, cs[k])) return -1;
    }
  }
  return 0;
}

int folio_render_sla(const struct folio_layout_doc *doc, const struct folio_render_options *opt,
                     folio_render_write_fn write, void *write_ctx, struct folio_render_diag *diag) {
  struct folio_render_diag local_diag;
  if (!diag) diag = &local_diag; /* the caller may not want the detail */
  size_t *pages, n, total, done = 0;
  int rc = folio_render_selection(doc, opt, &pages, &n, &total, diag);
  if (rc) return rc;
  struct sla_out *o = malloc(sizeof *o);
  struct sla_doc d = {.doc = doc, .o = o, .item_id = 1000};
  if (!o) {
    free(pages);
    return folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "out of memory");
  }
  o->write = write, o->ctx = write_ctx, o->failed = 0, o->len = 0;
  struct folio_render_context *rctx; /* opt->context, held for this call (its slot 0's font map) */
  rc = folio_render_context_acquire(opt, 1, &rctx, diag);
  if (rc) {
    free(o), free(pages);
    return rc;
  }
  struct folio_guard guard;
  folio_guard_init(&guard, opt);
  struct folio_image_cache *images = folio_image_cache_new(doc, guard.budget.image_cache_bytes);
  rc = images ? folio_painter_init_slot(&d.painter, folio_render_context_slot(rctx, 0), doc, false, images, &guard,
                                        diag)
              : folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "out of memory");
  if (rc) {
    folio_image_cache_free(images);
    folio_render_context_release(rctx);
    free(o), free(pages);
    return rc;
  }

  if (collect_colors(&d, pages, n)) {
    rc = folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "out of memory");
    goto done;
  }
  const struct folio_page *first = &doc->pages[pages[0]];
  char a[32], b[32], c[32];
  /* Print geometry. Scribus 1.5 has one bleed and one set of marks for the
   * document: the first selected page's are written (docs/internals/render.md
   * lists what differs when pages differ). Pages are stacked further apart
   * than usual so an item in one page's bleed never lands on its neighbour. */
  bool print = false;
  for (size_t i = 0; i < n; i++) print |= !folio_layout_page_plain(&doc->pages[pages[i]]);
  double gap = GAP_VERTICAL + (print ? first->bleed.top + first->bleed.bottom : 0);
  /* Version must be the first attribute: Scribus picks its loader by sniffing it */
  out_s(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SCRIBUSUTF8NEW Version=\"1.5.8\">\n");
  out_f(o, "<DOCUMENT ANZPAGES=\"%zu\" PAGEWIDTH=\"%s\" PAGEHEIGHT=\"%s\" BORDERLEFT=\"0\" BORDERRIGHT=\"0\""
           " BORDERTOP=\"0\" BORDERBOTTOM=\"0\" ORIENTATION=\"0\" PAGESIZE=\"%s\" FIRSTNUM=\"1\" BOOK=\"0\" UNITS=\"0\""
           " DFONT=\"DejaVu Sans Book\" DSIZE=\"12\" ScratchLeft=\"%g\" ScratchTop=\"%g\" ScratchRight=\"100\""
           " ScratchBottom=\"20\" GapHorizontal=\"0\" GapVertical=\"%s\"",
        n, num(a, first->width), num(b, first->height), first->size_name ? first->size_name : "Custom",
        SCRATCH_LEFT, SCRATCH_TOP, num(c, gap));
  if (print) {
    char t[32], l[32], r[32], bb[32];
    out_s(o, " DPuse=\"1\" DPPr=\"" SLA_CMYK_PROFILE "\" DPIn=\"" SLA_RGB_PROFILE "\" DPInCMYK=\"" SLA_CMYK_PROFILE
             "\" DPIn2=\"" SLA_RGB_PROFILE "\" DPIn3=\"" SLA_CMYK_PROFILE "\" DPMo=\"" SLA_RGB_PROFILE "\"");
    out_f(o, " BleedTop=\"%s\" BleedLeft=\"%s\" BleedRight=\"%s\" BleedBottom=\"%s\"", num(t, first->bleed.top),
          num(l, first->bleed.left), num(r, first->bleed.right), num(bb, first->bleed.bottom));
  }
  if (doc->title) out_s(o, " TITLE=\""), out_esc(o, doc->title, strlen(doc->title)), out_s(o, "\"");
  if (doc->author) out_s(o, " AUTHOR=\""), out_esc(o, doc->author, strlen(doc->author)), out_s(o, "\"");
  out_s(o, ">\n");
  bool have_black = false, have_white = false;
  for (size_t i = 0; i < d.n_colors; i++) {
    write_color(o, d.colors[i].name, d.colors[i].c);
    have_black |= strcmp(d.colors[i].name, "Black") == 0;
    have_white |= strcmp(d.colors[i].name, "White") == 0;
  }
  /* Scribus' defaults refer to Black and White: they must exist */
  static const struct folio_color black = {.r = 0, .g = 0, .b = 0}, white = {.r = 1, .g = 1, .b = 1};
  if (!have_black) write_color(o, "Black", &black);
  if (!have_white) write_color(o, "White", &white);
  out_s(o, "  <CHARSTYLE CNAME=\"Default Character Style\" DefaultStyle=\"1\" FONT=\"DejaVu Sans Book\""
           " FONTSIZE=\"12\" FCOLOR=\"Black\" FSHADE=\"100\"/>\n"
           "  <STYLE NAME=\"Default Paragraph Style\" DefaultStyle=\"1\" ALIGN=\"0\" LINESPMode=\"0\""
           " LINESP=\"14.4\" INDENT=\"0\" RMARGIN=\"0\" FIRST=\"0\" VOR=\"0\" NACH=\"0\"/>\n"
           "  <LAYERS NUMMER=\"0\" LEVEL=\"0\" NAME=\"Background\" SICHTBAR=\"1\" DRUCKEN=\"1\" EDIT=\"1\""
           " SELECT=\"0\" FLOW=\"1\" TRANS=\"1\" BLEND=\"0\" OUTL=\"0\" LAYERC=\"#000000\"/>\n");
  if (print) {
    /* PDF export settings giving Scribus' PDF our geometry: PDF/X-4
     * (Version 10, output intent SLA_CMYK_PROFILE), the document's bleed,
     * and the marks in a slug of markOffset + markLength: Scribus' MediaBox
     * is trim + bleed + 2 x that when any mark is on, its BleedBox and
     * TrimBox those of folio_layout_page_boxes (checked with real Scribus by
     * test_render_scribus). */
    double mlen = first->marks ? first->slug - FOLIO_MARK_OFFSET_PT : 20;
    unsigned m = first->marks;
    char t[32], l[32], r[32], bb[32], ml[32], mo[32];
    out_s(o, "  <PDF Version=\"10\" PrintP=\"" SLA_CMYK_PROFILE "\" UseProfiles=\"1\" UseProfiles2=\"1\" SolidP=\""
             SLA_RGB_PROFILE "\" ImageP=\"" SLA_RGB_PROFILE "\" RGBMode=\"0\" InfoString=\"folio\"");
    out_f(o, " useDocBleeds=\"1\" BTop=\"%s\" BLeft=\"%s\" BRight=\"%s\" BBottom=\"%s\"",
          num(t, first->bleed.top), num(l, first->bleed.left), num(r, first->bleed.right), num(bb, first->bleed.bottom));
    out_f(o, " cropMarks=\"%d\" bleedMarks=\"0\" registrationMarks=\"%d\" colorMarks=\"%d\" docInfoMarks=\"%d\""
             " markLength=\"%s\" markOffset=\"%s\"/>\n",
          !!(m & FOLIO_MARK_CROP), !!(m & FOLIO_MARK_REGISTRATION), !!(m & FOLIO_MARK_COLOR_BARS),
          !!(m & FOLIO_MARK_PAGE_INFO), num(ml, mlen), num(mo, FOLIO_MARK_OFFSET_PT));
  }
  out_f(o, "  <MASTERPAGE PAGEXPOS=\"%g\" PAGEYPOS=\"%g\" PAGEWIDTH=\"%s\" PAGEHEIGHT=\"%s\" BORDERLEFT=\"0\""
           " BORDERRIGHT=\"0\" BORDERTOP=\"0\" BORDERBOTTOM=\"0\" NUM=\"0\" NAM=\"Normal\" MNAM=\"\" LEFT=\"0\"/>\n",
        SCRATCH_LEFT, SCRATCH_TOP, a, b);
  struct place *pl = calloc(n, sizeof *pl);
  if (!pl) {
    rc = folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "out of memory");
    goto done;
  }
  double ypos = SCRATCH_TOP;
  for (size_t i = 0; i < n; i++) {
    const struct folio_page *pg = &doc->pages[pages[i]];
    pl[i] = (struct place){SCRATCH_LEFT, ypos};
    out_f(o, "  <PAGE PAGEXPOS=\"%g\" PAGEYPOS=\"%s\" PAGEWIDTH=\"%s\" PAGEHEIGHT=\"%s\" BORDERLEFT=\"0\""
             " BORDERRIGHT=\"0\" BORDERTOP=\"0\" BORDERBOTTOM=\"0\" NUM=\"%zu\" NAM=\"\" MNAM=\"Normal\" LEFT=\"0\"/>\n",
          SCRATCH_LEFT, num(a, ypos), num(b, pg->width), num(c, pg->height), i);
    ypos += pg->height + gap;
  }
  for (size_t i = 0; i < n && !rc; i++) {
    const struct folio_page *pg = &doc->pages[pages[i]];
    for (size_t k = 0; k < pg->n_items && !rc; k++) {
      const struct folio_item *it = &pg->items[k];
      if (opt && opt->progress && opt->progress(opt->progress_ctx, ++done, total)) {
        rc = folio_render_fail(diag, FOLIO_RENDER_E_CANCELLED, 0, NULL, "cancelled");
        break;
      }
      int g = folio_guard_check(&guard);
      if (g) {
        rc = folio_guard_fail(&guard, g, diag, 0, NULL);
        break;
      }
      switch (it->kind) {
      case FOLIO_ITEM_TEXT: rc = write_text(&d, it, i, &pl[i], diag); break;
      case FOLIO_ITEM_IMAGE: rc = write_image(&d, it, i, &pl[i], diag); break;
      case FOLIO_ITEM_RECT:
      case FOLIO_ITEM_ELLIPSE: write_shape(&d, it, i, &pl[i]); break;
      case FOLIO_ITEM_LINE: write_line(&d, it, i, &pl[i]); break;
      }
      if (!rc && o->failed) rc = folio_render_fail(diag, FOLIO_RENDER_E_WRITE, 0, NULL, "write aborted");
    }
  }
  free(pl);
  if (!rc) {
    out_s(o, "</DOCUMENT>\n</SCRIBUSUTF8NEW>\n");
    out_flush(o);
    if (o->failed) rc = folio_render_fail(diag, FOLIO_RENDER_E_WRITE, 0, NULL, "write aborted");
  }
done:
  folio_painter_fini(&d.painter);
  folio_image_cache_free(images);
  folio_render_context_release(rctx);
  for (size_t i = 0; i < d.n_fonts; i++) free(d.fonts[i]);
  free(d.fonts);
  free(d.colors);
  free(o);
  free(pages);
  return rc;
}
