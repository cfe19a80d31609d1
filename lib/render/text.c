/* Text items with pango: one PangoLayout per item, one attribute span per run.
 *
 * Sizes are absolute (points, since user space is points); line height is an
 * absolute per-run attribute (line_height x size, CSS-like), so a line is as tall
 * as its tallest run. Wrapping is word-then-character at the box width;
 * "justify" justifies every line but the last of each paragraph. Hinting is off
 * and glyph positions are not rounded, so line breaks do not depend on the output
 * (PDF or PNG at any dpi). The base direction is left-to-right (the model has
 * no paragraph direction), so alignment is absolute. Fallback fonts come from fontconfig through pango
 * (Arabic, CJK, ... when the family lacks the glyphs). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

size_t folio_text_char(const char *s, size_t left, bool *keep) {
  const unsigned char *u = (const unsigned char *)s;
  size_t n = u[0] < 0x80 ? 1 : u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
  if (n > left) n = left; /* cannot happen with the decoder's valid UTF-8 */
  uint32_t c = u[0];
  if (n == 2) c = (c & 0x1F) << 6 | (u[1] & 0x3F);
  if (n == 3) c = (c & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
  if (n == 4) c = (c & 0x07) << 18 | (uint32_t)(u[1] & 0x3F) << 12 | (uint32_t)(u[2] & 0x3F) << 6 | (u[3] & 0x3F);
  *keep = !((c < 0x20 && c != '\n' && c != '\t') || (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE);
  return n;
}

char *folio_text_clean(const char *s) {
  size_t len = strlen(s), n = 0;
  char *out = malloc(len + 1);
  if (!out) return NULL;
  for (size_t i = 0; i < len;) {
    bool keep;
    size_t k = folio_text_char(s + i, len - i, &keep);
    if (keep) memcpy(out + n, s + i, k), n += k;
    i += k;
  }
  out[n] = 0;
  return out;
}

static PangoFontDescription *font_desc(const struct folio_text_style *st, double scale) {
  PangoFontDescription *d = pango_font_description_new();
  pango_font_description_set_family(d, st->font ? st->font : "DejaVu Sans");
  pango_font_description_set_weight(d, (PangoWeight)(st->weight ? st->weight : 400));
  pango_font_description_set_style(d, st->style == FOLIO_FONT_STYLE_ITALIC    ? PANGO_STYLE_ITALIC
                                      : st->style == FOLIO_FONT_STYLE_OBLIQUE ? PANGO_STYLE_OBLIQUE
                                                                              : PANGO_STYLE_NORMAL);
  pango_font_description_set_absolute_size(d, st->size * scale * PANGO_SCALE);
  return d;
}

static guint16 c16(double v) {
  if (v <= 0) return 0;
  if (v >= 1) return 65535;
  return (guint16)lround(v * 65535.0);
}

static void add_attr(PangoAttrList *l, PangoAttribute *a, size_t start, size_t end) {
  a->start_index = (guint)start;
  a->end_index = (guint)end;
  pango_attr_list_insert(l, a);
}

PangoLayout *folio_text_layout(PangoContext *pc, const struct folio_item *it, double scale) {
  size_t total = 0;
  for (size_t i = 0; i < it->u.text.n_runs; i++) total += it->u.text.runs[i].text_len;
  char *buf = malloc(total + 1);
  if (!buf) return NULL;
  PangoLayout *lay = pango_layout_new(pc);
  PangoAttrList *attrs = pango_attr_list_new();
  size_t off = 0;
  for (size_t i = 0; i < it->u.text.n_runs; i++) {
    const struct folio_run *r = &it->u.text.runs[i];
    /* characters that are not text (folio_text_char) are left out */
    size_t end = off;
    for (size_t k = 0; k < r->text_len;) {
      bool keep;
      size_t cl = folio_text_char(r->text + k, r->text_len - k, &keep);
      if (keep) memcpy(buf + end, r->text + k, cl), end += cl;
      k += cl;
    }
    PangoFontDescription *d = font_desc(&r->style, scale);
    add_attr(attrs, pango_attr_font_desc_new(d), off, end);
    pango_font_description_free(d);
    const struct folio_color *c = r->style.color;
    if (c) add_attr(attrs, pango_attr_foreground_new(c16(c->r), c16(c->g), c16(c->b)), off, end);
    if (r->style.letter_spacing != 0)
      add_attr(attrs, pango_attr_letter_spacing_new((int)lround(r->style.letter_spacing * scale * PANGO_SCALE)),
               off, end);
    double lh = r->style.line_height > 0 ? r->style.line_height : 1.2;
    add_attr(attrs, pango_attr_line_height_new_absolute((int)lround(lh * r->style.size * scale * PANGO_SCALE)),
             off, end);
    off = end;
  }
  buf[off] = 0;
  PangoFontDescription *d = font_desc(&it->u.text.style, scale);
  pango_layout_set_font_description(lay, d);
  pango_font_description_free(d);
  pango_layout_set_text(lay, buf, (int)off);
  pango_layout_set_attributes(lay, attrs);
  pango_attr_list_unref(attrs);
  free(buf);
  pango_layout_set_width(lay, (int)lround(it->w * PANGO_SCALE));
  pango_layout_set_wrap(lay, PANGO_WRAP_WORD_CHAR);
  /* Paragraphs have a left-to-right base direction and "left"/"right" mean the
   * box edges, also for Arabic or Hebrew text (right-to-left runs are still
   * ordered by the bidi algorithm). pango's default would pick the direction
   * per paragraph and mirror the alignment; Scribus 1.5 does not. */
  pango_layout_set_auto_dir(lay, FALSE);
  switch (it->u.text.style.align) {
  case FOLIO_ALIGN_CENTER: pango_layout_set_alignment(lay, PANGO_ALIGN_CENTER); break;
  case FOLIO_ALIGN_RIGHT: pango_layout_set_alignment(lay, PANGO_ALIGN_RIGHT); break;
  case FOLIO_ALIGN_JUSTIFY: pango_layout_set_justify(lay, TRUE); break;
  case FOLIO_ALIGN_LEFT: break;
  }
  return lay;
}

/* True when the laid-out text fits the item's box (1/100 pt of slack for
 * rounding). Strict on purpose: Scribus drops a line that does not fit, so
 * "shrink" must leave every line inside the box for the SLA to keep all text. */
static bool fits(PangoLayout *lay, const struct folio_item *it) {
  PangoRectangle ink, logical;
  pango_layout_get_extents(lay, &ink, &logical);
  double hgt = (double)logical.height / PANGO_SCALE;
  double wid = (double)(logical.x + logical.width) / PANGO_SCALE;
  return hgt <= it->h + 0.01 && wid <= it->w + 0.01;
}

void folio_text_show(cairo_t *cr, PangoLayout *lay, const struct folio_item *it) {
  /* What pango_cairo_show_layout does, line by line, stopping at the first line
   * that does not fit the box entirely (lines only go down from there). */
  PangoLayoutIter *li = pango_layout_get_iter(lay);
  double limit = it->h + 0.01;
  do {
    PangoRectangle logical;
    pango_layout_iter_get_line_extents(li, NULL, &logical);
    if ((double)(logical.y + logical.height) / PANGO_SCALE > limit) break;
    double baseline = (double)pango_layout_iter_get_baseline(li) / PANGO_SCALE;
    cairo_move_to(cr, it->x + (double)logical.x / PANGO_SCALE, it->y + baseline);
    pango_cairo_show_layout_line(cr, pango_layout_iter_get_line_readonly(li));
  } while (pango_layout_iter_next_line(li));
  pango_layout_iter_free(li);
}

PangoLayout *folio_text_fitted(PangoContext *pc, const struct folio_item *it, size_t page_index,
                               double *scale, struct folio_render_diag *diag) {
  *scale = 1.0;
  PangoLayout *lay = folio_text_layout(pc, it, 1.0);
  if (!lay) {
    folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, page_index, it, "out of memory");
    return NULL;
  }
  if (it->u.text.overflow == FOLIO_OVERFLOW_CLIP || fits(lay, it)) return lay; /* the common case: one layout */
  g_object_unref(lay);
  if (it->u.text.overflow == FOLIO_OVERFLOW_ERROR) {
    folio_render_fail(diag, FOLIO_RENDER_E_OVERFLOW, page_index, it, "text overflows its box");
    return NULL;
  }
  /* shrink: bisect the largest factor in [1/64, 1) that fits, to 1/256 precision;
   * if even 1/64 overflows, draw at 1/64 clipped. */
  double lo = 1.0 / 64, hi = 1.0;
  lay = folio_text_layout(pc, it, lo);
  if (!lay) goto nomem;
  bool ok = fits(lay, it);
  g_object_unref(lay);
  while (ok && hi - lo > 1.0 / 256) {
    double mid = (lo + hi) / 2;
    lay = folio_text_layout(pc, it, mid);
    if (!lay) goto nomem;
    if (fits(lay, it))
      lo = mid;
    else
      hi = mid;
    g_object_unref(lay);
  }
  *scale = lo;
  lay = folio_text_layout(pc, it, lo);
  if (lay) return lay;
nomem:
  folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, page_index, it, "out of memory");
  return NULL;
}

int folio_text_fit(PangoContext *pc, const struct folio_item *it, size_t page_index, double *scale,
                   struct folio_render_diag *diag) {
  PangoLayout *lay = folio_text_fitted(pc, it, page_index, scale, diag);
  if (!lay) return diag ? diag->code : FOLIO_RENDER_E_NOMEM;
  g_object_unref(lay);
  return 0;
}
