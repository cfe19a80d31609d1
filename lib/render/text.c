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

#include <pango/pangofc-font.h>

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

/* Words longer than this many characters with no break opportunity inside
 * (URLs, hashes, a hostile "aaaa...") get a U+200B ZERO WIDTH SPACE between
 * their grapheme clusters. pango breaks such a word character by character,
 * and doing so re-shapes the rest of the paragraph at every line: one
 * layout of a 32,000-character word in a 100 pt box took 50 s (quadratic);
 * with the break opportunities it takes well under a second (linear), and
 * the lines break at the same places, only without the hyphen pango would
 * add. Shorter words keep pango's own character breaking (and hyphens). */
#define LONG_WORD 64

struct zwsp_map {
  size_t n;
  size_t pos[]; /* byte offsets in the source text, ascending: a U+200B goes before each */
};

/* g_utf8_next_char without its cast that drops const */
static const char *next_char(const char *p) { return p + g_utf8_skip[*(const unsigned char *)p]; }

/* Positions in text[0..len) that get a U+200B; NULL when there are none
 * (or no memory: then the text is laid out as it is). g_free it. */
static struct zwsp_map *long_word_breaks(const char *text, size_t len) {
  if (len <= LONG_WORD) return NULL;
  glong nc = g_utf8_strlen(text, (gssize)len);
  PangoLogAttr *la = g_try_new(PangoLogAttr, (gsize)nc + 1);
  if (!la) return NULL;
  pango_get_log_attrs(text, (int)len, -1, pango_language_from_string("en"), la, (int)nc + 1);
  /* first pass: how many */
  size_t n = 0;
  for (glong i = 0; i < nc;) {
    glong j = i + 1;
    while (j < nc && !la[j].is_line_break) j++;
    if (j - i > LONG_WORD)
      for (glong k = i + 1; k < j; k++) n += la[k].is_cursor_position;
    i = j;
  }
  struct zwsp_map *m = n ? g_try_malloc(sizeof *m + n * sizeof m->pos[0]) : NULL;
  if (m) {
    m->n = 0;
    const char *p = text;
    glong i = 0;
    while (i < nc) {
      glong j = i + 1;
      const char *q = next_char(p);
      while (j < nc && !la[j].is_line_break) j++, q = next_char(q);
      if (j - i > LONG_WORD) {
        const char *c = next_char(p);
        for (glong k = i + 1; k < j; k++, c = next_char(c))
          if (la[k].is_cursor_position) m->pos[m->n++] = (size_t)(c - text);
      }
      i = j;
      p = q;
    }
  }
  g_free(la);
  return m;
}

/* o (a source offset) in the text with the U+200B inserted. */
static size_t with_zwsp(const struct zwsp_map *m, size_t o) {
  if (!m) return o;
  size_t lo = 0, hi = m->n; /* count of pos[] < o */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (m->pos[mid] < o) lo = mid + 1;
    else hi = mid;
  }
  return o + 3 * lo;
}

size_t folio_text_source_offset(PangoLayout *lay, size_t o) {
  const struct zwsp_map *m = g_object_get_data(G_OBJECT(lay), "folio-zwsp");
  if (!m) return o;
  size_t lo = 0, hi = m->n; /* count of inserted U+200B starting before o */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (m->pos[mid] + 3 * mid < o) lo = mid + 1;
    else hi = mid;
  }
  return o - 3 * lo;
}

PangoLayout *folio_text_layout(PangoContext *pc, const struct folio_item *it, double scale) {
  size_t total = 0;
  for (size_t i = 0; i < it->u.text.n_runs; i++) total += it->u.text.runs[i].text_len;
  char *buf = malloc(total + 1);
  size_t *bounds = malloc((it->u.text.n_runs + 1) * sizeof *bounds);
  if (!buf || !bounds) {
    free(buf);
    free(bounds);
    return NULL;
  }
  /* the text: runs concatenated, characters that are not text (folio_text_char) left out */
  size_t off = 0;
  for (size_t i = 0; i < it->u.text.n_runs; i++) {
    const struct folio_run *r = &it->u.text.runs[i];
    bounds[i] = off;
    for (size_t k = 0; k < r->text_len;) {
      bool keep;
      size_t cl = folio_text_char(r->text + k, r->text_len - k, &keep);
      if (keep) memcpy(buf + off, r->text + k, cl), off += cl;
      k += cl;
    }
  }
  bounds[it->u.text.n_runs] = off;
  buf[off] = 0;
  struct zwsp_map *zm = long_word_breaks(buf, off);
  if (zm) {
    char *b2 = malloc(off + 3 * zm->n + 1);
    if (b2) {
      size_t o = 0, from = 0;
      for (size_t k = 0; k < zm->n; k++) {
        memcpy(b2 + o, buf + from, zm->pos[k] - from), o += zm->pos[k] - from;
        memcpy(b2 + o, "\xE2\x80\x8B", 3), o += 3;
        from = zm->pos[k];
      }
      memcpy(b2 + o, buf + from, off - from), o += off - from;
      b2[o] = 0;
      free(buf);
      buf = b2;
      off = o;
    } else {
      g_free(zm);
      zm = NULL;
    }
  }
  PangoLayout *lay = pango_layout_new(pc);
  PangoAttrList *attrs = pango_attr_list_new();
  for (size_t i = 0; i < it->u.text.n_runs; i++) {
    const struct folio_run *r = &it->u.text.runs[i];
    size_t start = with_zwsp(zm, bounds[i]), end = with_zwsp(zm, bounds[i + 1]);
    PangoFontDescription *d = font_desc(&r->style, scale);
    add_attr(attrs, pango_attr_font_desc_new(d), start, end);
    pango_font_description_free(d);
    const struct folio_color *c = r->style.color;
    if (c) add_attr(attrs, pango_attr_foreground_new(c16(c->r), c16(c->g), c16(c->b)), start, end);
    if (r->style.letter_spacing != 0)
      add_attr(attrs, pango_attr_letter_spacing_new((int)lround(r->style.letter_spacing * scale * PANGO_SCALE)),
               start, end);
    double lh = r->style.line_height > 0 ? r->style.line_height : 1.2;
    add_attr(attrs, pango_attr_line_height_new_absolute((int)lround(lh * r->style.size * scale * PANGO_SCALE)),
             start, end);
  }
  /* Runs with links: their bounds in the layout's text, for the tagged
   * drawing (folio_text_show_tagged), as "folio-runs". */
  bool links = false;
  for (size_t i = 0; i < it->u.text.n_runs; i++) links = links || it->u.text.runs[i].link;
  size_t *rb = links ? g_malloc((it->u.text.n_runs + 1) * sizeof *rb) : NULL;
  for (size_t i = 0; rb && i <= it->u.text.n_runs; i++) rb[i] = with_zwsp(zm, bounds[i]);
  free(bounds);
  PangoFontDescription *d = font_desc(&it->u.text.style, scale);
  pango_layout_set_font_description(lay, d);
  pango_font_description_free(d);
  pango_layout_set_text(lay, buf, (int)off);
  pango_layout_set_attributes(lay, attrs);
  pango_attr_list_unref(attrs);
  free(buf);
  if (zm) g_object_set_data_full(G_OBJECT(lay), "folio-zwsp", zm, g_free);
  if (rb) g_object_set_data_full(G_OBJECT(lay), "folio-runs", rb, g_free);
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

size_t folio_text_show(cairo_t *cr, PangoLayout *lay, const struct folio_item *it) {
  /* What pango_cairo_show_layout does, line by line, stopping at the first line
   * that does not fit the box entirely (lines only go down from there). */
  PangoLayoutIter *li = pango_layout_get_iter(lay);
  double limit = it->h + 0.01;
  size_t shown = 0;
  do {
    PangoRectangle logical;
    pango_layout_iter_get_line_extents(li, NULL, &logical);
    if ((double)(logical.y + logical.height) / PANGO_SCALE > limit) break;
    double baseline = (double)pango_layout_iter_get_baseline(li) / PANGO_SCALE;
    cairo_move_to(cr, it->x + (double)logical.x / PANGO_SCALE, it->y + baseline);
    pango_cairo_show_layout_line(cr, pango_layout_iter_get_line_readonly(li));
    shown++;
  } while (pango_layout_iter_next_line(li));
  pango_layout_iter_free(li);
  return shown;
}

/* ---- paint-stage findings ------------------------------------------------------ */

/* fontconfig's generic names: they name no family, so nothing substitutes them */
static bool generic_family(const char *f) {
  static const char *const g[] = {"sans", "sans-serif", "serif", "monospace", "mono", "cursive",
                                  "fantasy", "system-ui", "emoji", "math"};
  for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
    if (g_ascii_strcasecmp(f, g[i]) == 0) return true;
  return false;
}

/* True when used is one of the comma-separated families of asked (pango
 * accepts a list), or asked names only generic families. */
static bool family_honoured(const char *asked, const char *used) {
  bool all_generic = true;
  const char *p = asked;
  while (*p) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char one[128];
    size_t a = 0, b = n;
    while (a < b && p[a] == ' ') a++;
    while (b > a && p[b - 1] == ' ') b--;
    if (b - a < sizeof one) {
      memcpy(one, p + a, b - a);
      one[b - a] = 0;
      if (g_ascii_strcasecmp(one, used) == 0) return true;
      if (!generic_family(one)) all_generic = false;
    } else {
      all_generic = false;
    }
    p += n + (e ? 1 : 0);
  }
  return all_generic;
}

/* The family fontconfig gives pango for a run's style, as pango names it
 * (a new string: g_free it), or NULL; *honoured says whether any of the
 * font's family names (fontconfig gives a face several: "DejaVu Sans" and
 * "DejaVu Sans Condensed") is one asked for. */
static char *family_used(struct folio_painter *p, const struct folio_text_style *st, const char *asked,
                         bool *honoured) {
  struct folio_text_style at12 = *st;
  at12.size = 12; /* one size: pango caches the match per description */
  PangoFontDescription *d = font_desc(&at12, 1.0);
  PangoFont *f = pango_font_map_load_font(p->fontmap, p->pango, d);
  pango_font_description_free(d);
  if (!f) return NULL;
  PangoFontDescription *u = pango_font_describe(f);
  const char *fam = pango_font_description_get_family(u);
  char *r = fam ? g_strdup(fam) : NULL;
  pango_font_description_free(u);
  *honoured = r && family_honoured(asked, r);
  if (!*honoured && PANGO_IS_FC_FONT(f)) {
    FcPattern *pat = pango_fc_font_get_pattern(PANGO_FC_FONT(f));
    FcChar8 *name;
    for (int i = 0; pat && !*honoured && i < 16 && FcPatternGetString(pat, FC_FAMILY, i, &name) == FcResultMatch; i++)
      *honoured = family_honoured(asked, (const char *)name);
  }
  g_object_unref(f);
  return r;
}

/* At most this many FONT_SUBSTITUTED findings per text item (one per family
 * asked for; an item seldom names more). */
#define SUBSTITUTIONS_PER_ITEM 4

void folio_text_findings(struct folio_painter *p, PangoLayout *lay, const struct folio_item *it,
                         size_t page_index) {
  /* FONT_SUBSTITUTED: each family asked for once (consecutive runs usually share one) */
  const char *reported[SUBSTITUTIONS_PER_ITEM];
  size_t nrep = 0;
  const char *prev = NULL;
  for (size_t i = 0; i < it->u.text.n_runs && nrep < SUBSTITUTIONS_PER_ITEM; i++) {
    const struct folio_text_style *st = &it->u.text.runs[i].style;
    const char *asked = st->font ? st->font : "DejaVu Sans";
    if (prev && strcmp(prev, asked) == 0) continue;
    prev = asked;
    bool seen = false;
    for (size_t k = 0; k < nrep; k++) seen = seen || strcmp(reported[k], asked) == 0;
    if (seen) continue;
    bool honoured = true;
    char *used = family_used(p, st, asked, &honoured);
    if (used && !honoured) {
      folio_render_finding(p->guard, "FONT_SUBSTITUTED", FOLIO_FINDING_WARNING, page_index, it,
                           "font family \"%.60s\" is not available; \"%.60s\" was used", asked, used);
      reported[nrep++] = asked;
    }
    g_free(used);
  }
  /* GLYPH_MISSING: characters drawn as pango's hex box, no font having them */
  PangoLayoutIter *li = pango_layout_get_iter(lay);
  size_t missing = 0;
  gunichar first = 0;
  char font[128] = "";
  do {
    PangoLayoutRun *run = pango_layout_iter_get_run_readonly(li);
    if (!run) continue;
    PangoGlyphString *gs = run->glyphs;
    for (int g = 0; g < gs->num_glyphs; g++) {
      if (!(gs->glyphs[g].glyph & PANGO_GLYPH_UNKNOWN_FLAG)) continue;
      if (missing++ == 0) {
        first = gs->glyphs[g].glyph & ~PANGO_GLYPH_UNKNOWN_FLAG;
        PangoFontDescription *u = run->item->analysis.font ? pango_font_describe(run->item->analysis.font) : NULL;
        const char *fam = u ? pango_font_description_get_family(u) : NULL;
        snprintf(font, sizeof font, "%s", fam ? fam : "no font");
        if (u) pango_font_description_free(u);
      }
    }
  } while (pango_layout_iter_next_run(li));
  pango_layout_iter_free(li);
  if (missing) {
    char ch[8] = "";
    if (first >= 0x20 && first != 0x7F && !(first >= 0x80 && first < 0xA0) && g_unichar_validate(first))
      ch[g_unichar_to_utf8(first, ch)] = 0;
    folio_render_finding(p->guard, "GLYPH_MISSING", FOLIO_FINDING_ERROR, page_index, it,
                         "no glyph for U+%04X \"%s\" in \"%.60s\" nor any fallback font (%zu character%s "
                         "without a glyph in this item)",
                         (unsigned)first, ch, font, missing, missing == 1 ? "" : "s");
  }
}

/* The model run whose text holds layout byte offset o (rb: n + 1 bounds). */
static size_t run_at(const size_t *rb, size_t n, size_t o) {
  size_t lo = 0, hi = n; /* the last run starting at or before o */
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (rb[mid] <= o) lo = mid;
    else hi = mid;
  }
  return lo;
}

size_t folio_text_show_tagged(cairo_t *cr, PangoLayout *lay, const struct folio_item *it, struct folio_tags *tags) {
  const size_t *rb = g_object_get_data(G_OBJECT(lay), "folio-runs");
  if (!rb) return folio_text_show(cr, lay, it); /* no run has a link */
  /* What pango_cairo_show_layout_line does (pango's renderer), a glyph run
   * at a time: each run at the sum of the widths before it, in its
   * foreground colour (pango_cairo_show_glyph_item draws in the current
   * source). Each attribute span of the layout is a run of its own, so a
   * glyph run never straddles two model runs. */
  const char *text = pango_layout_get_text(lay);
  PangoLayoutIter *li = pango_layout_get_iter(lay);
  double limit = it->h + 0.01;
  const struct folio_link *cur = NULL;
  bool started = false;
  size_t shown = 0;
  do {
    PangoRectangle logical;
    pango_layout_iter_get_line_extents(li, NULL, &logical);
    if ((double)(logical.y + logical.height) / PANGO_SCALE > limit) break;
    shown++;
    double baseline = (double)pango_layout_iter_get_baseline(li) / PANGO_SCALE;
    PangoLayoutLine *line = pango_layout_iter_get_line_readonly(li);
    /* Glyph runs come in visual order; the structure wants reading order.
     * Positions are taken in visual order, drawing goes in text order (for
     * right-to-left runs the two differ; the page looks the same). */
    size_t nr = g_slist_length(line->runs);
    struct placed { PangoGlyphItem *run; int x; } stack_runs[16], *pr = stack_runs;
    if (nr > 16 && !(pr = malloc(nr * sizeof *pr))) {
      pr = stack_runs; /* out of memory: visual order, still drawn right */
      nr = 0;
    }
    int x = logical.x;
    size_t k = 0;
    for (GSList *l = line->runs; l && k < nr; l = l->next, k++) {
      PangoGlyphItem *run = l->data;
      pr[k] = (struct placed){run, x};
      x += pango_glyph_string_get_width(run->glyphs);
    }
    nr = k; /* the runs placed (all of them; 0 when out of memory) */
    for (size_t a = 1; a < nr; a++) /* insertion sort by text offset: lines have few runs */
      for (size_t b = a; b > 0 && pr[b - 1].run->item->offset > pr[b].run->item->offset; b--) {
        struct placed tmp = pr[b];
        pr[b] = pr[b - 1], pr[b - 1] = tmp;
      }
    x = logical.x;
    GSList *vis = line->runs;
    for (k = 0; nr ? k < nr : vis != NULL; k++) {
      PangoGlyphItem *run = nr ? pr[k].run : vis->data;
      if (nr) x = pr[k].x;
      const struct folio_link *link =
          it->u.text.runs[run_at(rb, it->u.text.n_runs, (size_t)run->item->offset)].link;
      if (!started || link != cur) folio_tags_run(tags, link);
      started = true;
      cur = link;
      double r = 0, g = 0, b = 0;
      for (GSList *a = run->item->analysis.extra_attrs; a; a = a->next) {
        PangoAttribute *attr = a->data;
        if (attr->klass->type != PANGO_ATTR_FOREGROUND) continue;
        PangoColor c = ((PangoAttrColor *)attr)->color;
        r = c.red / 65535., g = c.green / 65535., b = c.blue / 65535.;
      }
      cairo_set_source_rgb(cr, r, g, b);
      cairo_move_to(cr, it->x + (double)x / PANGO_SCALE, it->y + baseline);
      pango_cairo_show_glyph_item(cr, text, run);
      if (!nr) {
        x += pango_glyph_string_get_width(run->glyphs);
        vis = vis->next;
      }
    }
    if (pr != stack_runs) free(pr);
  } while (pango_layout_iter_next_line(li));
  pango_layout_iter_free(li);
  return shown;
}

/* NULL with diag set when the render's guard has tripped. */
static bool stopped(struct folio_painter *p, size_t page_index, const struct folio_item *it,
                    struct folio_render_diag *diag) {
  int g = p->guard ? folio_guard_check(p->guard) : 0;
  if (g) folio_guard_fail(p->guard, g, diag, page_index, it);
  return g != 0;
}

PangoLayout *folio_text_fitted(struct folio_painter *p, const struct folio_item *it, size_t page_index,
                               double *scale, struct folio_render_diag *diag) {
  PangoContext *pc = p->pango;
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
  /* shrink: bisect the largest factor in [1/64, 1) that fits; if even 1/64
   * overflows, draw at 1/64 clipped. Bounded: max_text_layouts layouts in all
   * (the one above, 1/64, the steps, the final one); 11 gives 8 steps, 1/256
   * precision. The guard is asked between layouts. */
  unsigned steps = p->guard ? p->guard->budget.max_text_layouts - 3 : 8;
  double lo = 1.0 / 64, hi = 1.0;
  if (stopped(p, page_index, it, diag)) return NULL;
  lay = folio_text_layout(pc, it, lo);
  if (!lay) goto nomem;
  bool ok = fits(lay, it);
  g_object_unref(lay);
  for (unsigned i = 0; ok && i < steps && hi - lo > 1.0 / 256; i++) {
    if (stopped(p, page_index, it, diag)) return NULL;
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
  if (stopped(p, page_index, it, diag)) return NULL;
  lay = folio_text_layout(pc, it, lo);
  if (lay) return lay;
nomem:
  folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, page_index, it, "out of memory");
  return NULL;
}

int folio_text_fit(struct folio_painter *p, const struct folio_item *it, size_t page_index, double *scale,
                   struct folio_render_diag *diag) {
  PangoLayout *lay = folio_text_fitted(p, it, page_index, scale, diag);
  if (!lay) return diag ? diag->code : FOLIO_RENDER_E_NOMEM;
  g_object_unref(lay);
  return 0;
}
