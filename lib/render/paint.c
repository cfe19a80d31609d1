/* Drawing one page of the model onto a cairo context (PDF or image surface).
 * Items are drawn in document order; each is wrapped in save/restore, rotated
 * about its box centre, and painted through a group when its opacity is < 1 so
 * overlapping fill and stroke do not show through each other. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "folio/pagebox.h"
#include "render_int.h"

/* A PangoContext on fm with the painter's settings. Unhinted outlines and
 * metrics, unrounded positions: the same line breaks and glyph positions for
 * PDF and for PNG at any resolution. NULL: no memory. */
static PangoContext *painter_context(PangoFontMap *fm) {
  PangoContext *pc = pango_font_map_create_context(fm);
  if (!pc) return NULL;
  cairo_font_options_t *fo = cairo_font_options_create();
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  pango_cairo_context_set_font_options(pc, fo);
  cairo_font_options_destroy(fo);
  pango_cairo_context_set_resolution(pc, 72.0);
  pango_context_set_round_glyph_positions(pc, FALSE);
  return pc;
}

int folio_painter_init_slot(struct folio_painter *p, struct folio_render_slot *slot,
                            const struct folio_layout_doc *doc, bool for_pdf, struct folio_image_cache *images,
                            struct folio_guard *guard, struct folio_render_diag *diag) {
  *p = (struct folio_painter){.doc = doc, .for_pdf = for_pdf, .images = images, .guard = guard};
  if (slot && !slot->pango) { /* first use of this slot: made once, kept by the context */
    if (!slot->fontmap) slot->fontmap = pango_cairo_font_map_new();
    slot->pango = slot->fontmap ? painter_context(slot->fontmap) : NULL;
  }
  if (slot) {
    p->fontmap = slot->fontmap, p->pango = slot->pango, p->borrowed = true;
  } else {
    p->fontmap = pango_cairo_font_map_new(); /* this painter's own: font maps are not thread-safe */
    p->pango = p->fontmap ? painter_context(p->fontmap) : NULL;
  }
  if (!p->pango) {
    folio_painter_fini(p);
    return folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "out of memory (pango context)");
  }
  return 0;
}

int folio_painter_init(struct folio_painter *p, const struct folio_layout_doc *doc, bool for_pdf,
                       struct folio_image_cache *images, struct folio_guard *guard,
                       struct folio_render_diag *diag) {
  return folio_painter_init_slot(p, NULL, doc, for_pdf, images, guard, diag);
}

void folio_painter_fini(struct folio_painter *p) {
  if (!p->borrowed && p->pango) g_object_unref(p->pango);
  if (!p->borrowed && p->fontmap) g_object_unref(p->fontmap);
  *p = (struct folio_painter){0};
}

static void set_color(cairo_t *cr, const struct folio_color *c) {
  cairo_set_source_rgb(cr, c->r, c->g, c->b);
}

static void paint_shape(cairo_t *cr, const struct folio_item *it) {
  if (it->kind == FOLIO_ITEM_RECT) {
    folio_path_round_rect(cr, it->x, it->y, it->w, it->h, it->u.shape.radius);
  } else {
    cairo_save(cr);
    cairo_translate(cr, it->x + it->w / 2, it->y + it->h / 2);
    cairo_scale(cr, it->w / 2, it->h / 2);
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_close_path(cr);
    cairo_restore(cr);
  }
  if (it->u.shape.fill) {
    set_color(cr, it->u.shape.fill);
    if (it->u.shape.stroke)
      cairo_fill_preserve(cr);
    else
      cairo_fill(cr);
  }
  if (it->u.shape.stroke) {
    set_color(cr, it->u.shape.stroke);
    cairo_set_line_width(cr, it->u.shape.stroke_width);
    cairo_stroke(cr);
  }
  cairo_new_path(cr);
}

static void paint_line(cairo_t *cr, const struct folio_item *it) {
  cairo_move_to(cr, it->u.line.x1, it->u.line.y1);
  cairo_line_to(cr, it->u.line.x2, it->u.line.y2);
  set_color(cr, it->u.line.stroke);
  cairo_set_line_width(cr, it->u.line.stroke_width);
  cairo_stroke(cr);
}

/* IMAGE_LOW_DPI: the picture's pixels over the size it is printed at (the
 * lower of the two directions; "fill" may stretch one more than the other). */
static void image_dpi_finding(struct folio_painter *p, size_t page, const struct folio_item *it,
                              const struct folio_image_placement *pl) {
  if (!p->guard || !p->guard->findings) return;
  double dpi = fmin(72.0 / pl->sx, 72.0 / pl->sy); /* sx, sy: points per pixel */
  if (!(dpi < p->guard->min_image_dpi)) return;
  const struct folio_asset *a = it->u.image.asset;
  folio_render_finding(p->guard, "IMAGE_LOW_DPI", FOLIO_FINDING_WARNING, page, it,
                       "image \"%.80s\" is printed at %.0f dpi (%u x %u pixels over %.0f x %.0f pt), "
                       "below %.0f dpi",
                       a->name ? a->name : "", floor(dpi), a->width, a->height, a->width * pl->sx,
                       a->height * pl->sy, p->guard->min_image_dpi);
}

static int paint_image(struct folio_painter *p, cairo_t *cr, size_t page, const struct folio_item *it,
                       struct folio_render_diag *diag) {
  struct folio_image_placement pl;
  folio_image_place(it, &pl);
  image_dpi_finding(p, page, it, &pl);
  cairo_surface_t *img = folio_painter_image(p, it->u.image.asset, diag);
  if (!img) {
    char msg[sizeof diag->message];
    snprintf(msg, sizeof msg, "%s", diag->message);
    return folio_render_fail(diag, diag->code, page, it, "%s", msg);
  }
  cairo_rectangle(cr, it->x, it->y, it->w, it->h);
  cairo_clip(cr);
  cairo_translate(cr, it->x + pl.ox, it->y + pl.oy);
  cairo_scale(cr, pl.sx, pl.sy);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
  cairo_paint(cr);
  cairo_surface_destroy(img); /* the source pattern (and a PDF page) keep their own reference */
  return 0;
}

static int paint_text(struct folio_painter *p, cairo_t *cr, size_t page, const struct folio_item *it,
                      struct folio_render_diag *diag) {
  double scale;
  PangoLayout *lay = folio_text_fitted(p, it, page, &scale, diag);
  if (!lay) return diag->code;
  cairo_rectangle(cr, it->x, it->y, it->w, it->h);
  cairo_clip(cr);
  /* Links in runs need a tag around each run's glyphs; inside the group of
   * a translucent item cairo 1.16 crashes on tags (they would land in the
   * group's recording surface), so such a text is one leaf, without its
   * run links (docs/internals/render.md). */
  size_t shown = p->tags && it->role != FOLIO_ROLE_ARTIFACT && it->opacity >= 1
                     ? folio_text_show_tagged(cr, lay, it, p->tags)
                     : folio_text_show(cr, lay, it);
  if (p->guard && p->guard->findings) {
    size_t lines = (size_t)pango_layout_get_line_count(lay);
    if (shown < lines)
      folio_render_finding(p->guard, "TEXT_OVERSET", FOLIO_FINDING_WARNING, page, it,
                           "text overflows its box (overflow \"%s\"): %zu of %zu lines not shown",
                           it->u.text.overflow == FOLIO_OVERFLOW_SHRINK ? "shrink" : "clip", lines - shown,
                           lines);
    folio_text_findings(p, lay, it, page);
  }
  g_object_unref(lay);
  return 0;
}

/* OBJECT_OFF_PAGE: the item's box, turned about its centre, lies wholly
 * outside the page (touching an edge is on the page). */
static void off_page_finding(struct folio_painter *p, const struct folio_page *pg, size_t page,
                             const struct folio_item *it) {
  if (!p->guard || !p->guard->findings) return;
  double a = it->rotation * M_PI / 180.0;
  double hw = fabs(it->w / 2 * cos(a)) + fabs(it->h / 2 * sin(a));
  double hh = fabs(it->w / 2 * sin(a)) + fabs(it->h / 2 * cos(a));
  double cx = it->x + it->w / 2, cy = it->y + it->h / 2;
  if (cx + hw < 0 || cx - hw > pg->width || cy + hh < 0 || cy - hh > pg->height)
    folio_render_finding(p->guard, "OBJECT_OFF_PAGE", FOLIO_FINDING_WARNING, page, it,
                         "the item lies wholly outside the page: its box spans %.1f..%.1f x %.1f..%.1f pt, "
                         "the page 0..%.1f x 0..%.1f pt",
                         cx - hw, cx + hw, cy - hh, cy + hh, pg->width, pg->height);
}

int folio_paint_page(struct folio_painter *p, cairo_t *cr, size_t page_index,
                     struct folio_render_diag *diag) {
  const struct folio_page *pg = &p->doc->pages[page_index];
  for (size_t i = 0; i < pg->n_items; i++) {
    const struct folio_item *it = &pg->items[i];
    if (p->should_stop && p->should_stop(p->stop_ctx))
      return folio_render_fail(diag, FOLIO_RENDER_E_CANCELLED, 0, NULL, "cancelled");
    int g = folio_guard_check(p->guard);
    if (g) return folio_guard_fail(p->guard, g, diag, 0, NULL);
    off_page_finding(p, pg, page_index, it);
    if (it->opacity <= 0) { /* nothing drawn: no structure either, but its anchor */
      if (p->tags) folio_tags_anchor(p->tags, it);
      continue;
    }
    if (p->tags) folio_tags_item_begin(p->tags, it);
    cairo_save(cr);
    folio_item_transform(cr, it);
    bool group = it->opacity < 1;
    if (group) cairo_push_group(cr);
    int rc = 0;
    switch (it->kind) {
    case FOLIO_ITEM_TEXT: rc = paint_text(p, cr, page_index, it, diag); break;
    case FOLIO_ITEM_IMAGE: rc = paint_image(p, cr, page_index, it, diag); break;
    case FOLIO_ITEM_RECT:
    case FOLIO_ITEM_ELLIPSE: paint_shape(cr, it); break;
    case FOLIO_ITEM_LINE: paint_line(cr, it); break;
    }
    if (group) {
      cairo_pop_group_to_source(cr);
      if (!rc) cairo_paint_with_alpha(cr, it->opacity);
    }
    cairo_restore(cr);
    if (p->tags) folio_tags_item_end(p->tags, it);
    if (rc) return rc;
    cairo_status_t st = cairo_status(cr);
    if (st)
      return folio_render_fail(diag, FOLIO_RENDER_E_CAIRO, page_index, it, "cairo: %s",
                               cairo_status_to_string(st));
  }
  int g = p->guard ? folio_guard_check(p->guard) : 0; /* e.g. a findings list out of memory */
  if (g) return folio_guard_fail(p->guard, g, diag, 0, NULL);
  return 0;
}

int folio_paint_page_media(struct folio_painter *p, cairo_t *cr, size_t page_index,
                           struct folio_render_diag *diag) {
  const struct folio_page *pg = &p->doc->pages[page_index];
  if (folio_layout_page_plain(pg)) return folio_paint_page(p, cr, page_index, diag);
  struct folio_page_boxes b;
  folio_layout_page_boxes(pg, &b);
  cairo_save(cr);
  cairo_translate(cr, b.trim_left, b.trim_top);
  /* the bleed box, in the trim's coordinates */
  cairo_rectangle(cr, -pg->bleed.left, -pg->bleed.top, pg->width + pg->bleed.left + pg->bleed.right,
                  pg->height + pg->bleed.top + pg->bleed.bottom);
  cairo_clip(cr);
  int rc = folio_paint_page(p, cr, page_index, diag);
  cairo_restore(cr);
  if (!rc && folio_marks_paint(p, cr, page_index))
    rc = folio_render_fail(diag, FOLIO_RENDER_E_CAIRO, 0, NULL, "page %zu: cairo: %s (drawing marks)",
                           page_index + 1, cairo_status_to_string(cairo_status(cr)));
  return rc;
}

void folio_png_area(const struct folio_page *pg, bool include_bleed, struct folio_png_area *a) {
  if (!include_bleed) {
    *a = (struct folio_png_area){pg->width, pg->height, 0, 0};
    return;
  }
  const struct folio_sides *b = &pg->bleed;
  *a = (struct folio_png_area){pg->width + b->left + b->right, pg->height + b->top + b->bottom, b->left, b->top};
}
