/* Printer's marks, drawn in the slug of a PDF page (page.marks).
 *
 * Everything is drawn in the media box's coordinates (points, origin top-left,
 * y down) from the rectangles of folio/pagebox.h, in the zone that starts
 * FOLIO_MARK_OFFSET_PT outside the bleed box and ends at the media's edge
 * ("zone" below, slug - offset wide): so a mark never touches the bleed, and
 * a cut that drifts into the bleed never shows one. Marks are black or
 * process colours in RGB (the renderer has no CMYK output; see render.md).
 *   crop          0.5 pt lines continuing each trim edge through the zone, at
 *                 the four corners (as Scribus draws cropMarks).
 *   registration  a target (two circles and a cross) at the middle of each
 *                 side, in the zone.
 *   color_bars    square patches along the top: C, M, Y, K, the overprints
 *                 R (M+Y), G (C+Y), B (C+M), and K at 50 %, left of the top
 *                 target.
 *   page_info     "<title> · page n of N" (the document's title when it has
 *                 one) in 6 pt DejaVu Sans along the bottom, left of the
 *                 bottom target, ellipsized to fit; no date or time, so
 *                 renders stay byte-identical. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/pagebox.h"
#include "render_int.h"

struct mark_frame {
  double mw, mh;             /* media */
  double tx0, ty0, tx1, ty1; /* trim, y down */
  double zone;               /* depth of the mark zone */
};

static void crop_marks(cairo_t *cr, const struct mark_frame *f) {
  double z = f->zone;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 0.5);
  const double ys[2] = {f->ty0, f->ty1}, xs[2] = {f->tx0, f->tx1};
  for (int i = 0; i < 2; i++) {
    /* horizontal: the trim's top and bottom edges, in the left and right zones */
    cairo_move_to(cr, 0, ys[i]);
    cairo_line_to(cr, z, ys[i]);
    cairo_move_to(cr, f->mw - z, ys[i]);
    cairo_line_to(cr, f->mw, ys[i]);
    /* vertical: the trim's left and right edges, in the top and bottom zones */
    cairo_move_to(cr, xs[i], 0);
    cairo_line_to(cr, xs[i], z);
    cairo_move_to(cr, xs[i], f->mh - z);
    cairo_line_to(cr, xs[i], f->mh);
  }
  cairo_stroke(cr);
}

/* Radius of the registration targets' outer circle and half their cross. */
static double target_r(const struct mark_frame *f) { return f->zone * 0.3; }
static double target_arm(const struct mark_frame *f) { return f->zone * 0.45; }

static void target(cairo_t *cr, double cx, double cy, double r, double arm) {
  cairo_new_sub_path(cr);
  cairo_arc(cr, cx, cy, r, 0, 2 * M_PI);
  cairo_new_sub_path(cr);
  cairo_arc(cr, cx, cy, r / 2, 0, 2 * M_PI);
  cairo_move_to(cr, cx - arm, cy);
  cairo_line_to(cr, cx + arm, cy);
  cairo_move_to(cr, cx, cy - arm);
  cairo_line_to(cr, cx, cy + arm);
}

static void registration_marks(cairo_t *cr, const struct mark_frame *f) {
  double z = f->zone, r = target_r(f), arm = target_arm(f);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 0.3);
  target(cr, f->mw / 2, z / 2, r, arm);
  target(cr, f->mw / 2, f->mh - z / 2, r, arm);
  target(cr, z / 2, f->mh / 2, r, arm);
  target(cr, f->mw - z / 2, f->mh / 2, r, arm);
  cairo_stroke(cr);
}

/* How far right the top and bottom strips may go: up to the registration
 * target when there is one, else to the right crop mark's zone. */
static double strip_end(const struct mark_frame *f, unsigned marks) {
  if (marks & FOLIO_MARK_REGISTRATION) return f->mw / 2 - target_arm(f) - 2;
  return f->mw - f->zone - 2;
}

static void color_bars(cairo_t *cr, const struct mark_frame *f, unsigned marks) {
  /* c, m, y, k in 0..1; drawn with the model's naive CMYK -> RGB */
  static const double patches[][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1},
                                      {0, 1, 1, 0}, {1, 0, 1, 0}, {1, 1, 0, 0}, {0, 0, 0, 0.5}};
  double side = f->zone * 0.6, x = f->tx0 + f->zone / 2, y = (f->zone - side) / 2;
  double end = strip_end(f, marks);
  for (size_t i = 0; i < sizeof patches / sizeof patches[0] && x + side <= end; i++, x += side) {
    const double *p = patches[i];
    cairo_set_source_rgb(cr, (1 - p[0]) * (1 - p[3]), (1 - p[1]) * (1 - p[3]), (1 - p[2]) * (1 - p[3]));
    cairo_rectangle(cr, x, y, side, side);
    cairo_fill(cr);
  }
}

static void page_info(cairo_t *cr, PangoContext *pc, const struct mark_frame *f, unsigned marks,
                      const char *title, size_t page_no, size_t n_pages) {
  char tail[64];
  snprintf(tail, sizeof tail, "page %zu of %zu", page_no, n_pages);
  char *clean = title ? folio_text_clean(title) : NULL;
  size_t len = (clean ? strlen(clean) + 5 : 0) + strlen(tail) + 1;
  char *text = malloc(len);
  if (!text) {
    free(clean);
    return; /* out of memory: the page goes out without its info line */
  }
  if (clean && *clean) {
    for (char *c = clean; *c; c++)
      if (*c == '\n' || *c == '\t' || *c == '\r') *c = ' ';
    snprintf(text, len, "%s \xc2\xb7 %s", clean, tail);
  } else {
    snprintf(text, len, "%s", tail);
  }
  free(clean);
  PangoLayout *lay = pango_layout_new(pc);
  PangoFontDescription *fd = pango_font_description_from_string("DejaVu Sans");
  pango_font_description_set_absolute_size(fd, 6 * PANGO_SCALE);
  pango_layout_set_font_description(lay, fd);
  pango_font_description_free(fd);
  pango_layout_set_single_paragraph_mode(lay, TRUE);
  pango_layout_set_ellipsize(lay, PANGO_ELLIPSIZE_END);
  double x = f->tx0 + f->zone / 2; /* clear of the crop mark at the trim's left edge */
  double width = strip_end(f, marks) - x;
  if (width > 1) {
    pango_layout_set_width(lay, (int)(width * PANGO_SCALE));
    pango_layout_set_text(lay, text, -1);
    int lw, lh;
    pango_layout_get_size(lay, &lw, &lh);
    double h = (double)lh / PANGO_SCALE;
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, x, f->mh - f->zone / 2 - h / 2);
    pango_cairo_show_layout(cr, lay);
  }
  g_object_unref(lay);
  free(text);
}

int folio_marks_paint(struct folio_painter *p, cairo_t *cr, size_t page_index) {
  const struct folio_page *pg = &p->doc->pages[page_index];
  if (!pg->marks) return 0;
  struct folio_page_boxes b;
  folio_layout_page_boxes(pg, &b);
  struct mark_frame f = {.mw = b.media_w, .mh = b.media_h, .tx0 = b.trim_left, .ty0 = b.trim_top,
                         .tx1 = b.trim_left + pg->width, .ty1 = b.trim_top + pg->height,
                         .zone = pg->slug - FOLIO_MARK_OFFSET_PT};
  if (f.zone <= 0) return 0; /* the decoder keeps it >= 10 pt with marks */
  cairo_save(cr);
  if (pg->marks & FOLIO_MARK_CROP) crop_marks(cr, &f);
  if (pg->marks & FOLIO_MARK_REGISTRATION) registration_marks(cr, &f);
  if (pg->marks & FOLIO_MARK_COLOR_BARS) color_bars(cr, &f, pg->marks);
  if (pg->marks & FOLIO_MARK_PAGE_INFO)
    page_info(cr, p->pango, &f, pg->marks, p->doc->title, page_index + 1, p->doc->n_pages);
  cairo_restore(cr);
  return cairo_status(cr) ? FOLIO_RENDER_E_CAIRO : 0;
}
