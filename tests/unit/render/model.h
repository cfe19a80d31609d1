/* Builds layout models in C for the renderer's tests (no decoder needed). Every
 * object lives in static storage or in the arena of the test; a model built here
 * is valid until the test ends. */
#ifndef FOLIO_TEST_RENDER_MODEL_H
#define FOLIO_TEST_RENDER_MODEL_H

#include <cairo.h>
#include <stdlib.h>
#include <string.h>

#include "folio/layout.h"

static const struct folio_color tm_black = {.name = NULL, .r = 0, .g = 0, .b = 0};
static const struct folio_color tm_blue = {.name = "blue", .r = 0.12, .g = 0.4, .b = 0.8};
/* CMYK 0/60/90/0 with the naive conversion r=(1-c)(1-k)... */
static const struct folio_color tm_orange = {
    .name = "orange", .is_cmyk = true, .r = 1, .g = 0.4, .b = 0.1, .c = 0, .m = 0.6, .y = 0.9, .k = 0};

static inline struct folio_text_style tm_style(double size) {
  return (struct folio_text_style){.font = "DejaVu Sans", .weight = 400, .size = size, .color = &tm_black,
                                   .line_height = 1.2};
}

static inline struct folio_item tm_text(size_t index, double x, double y, double w, double h,
                                        const struct folio_run *runs, size_t n, enum folio_overflow ov) {
  struct folio_item it = {.kind = FOLIO_ITEM_TEXT, .index = index, .opacity = 1, .x = x, .y = y, .w = w, .h = h};
  it.u.text.style = tm_style(12);
  it.u.text.runs = runs;
  it.u.text.n_runs = n;
  it.u.text.overflow = ov;
  return it;
}

static inline struct folio_run tm_run(const char *text, double size) {
  return (struct folio_run){.text = text, .text_len = strlen(text), .style = tm_style(size)};
}

/* A PNG made with cairo: a w x h gradient, malloc'd into *data (caller frees). */
struct tm_png {
  unsigned char *p;
  size_t len;
};
static cairo_status_t tm_png_write(void *c, const unsigned char *d, unsigned n) {
  struct tm_png *b = c;
  b->p = realloc(b->p, b->len + n);
  memcpy(b->p + b->len, d, n);
  b->len += n;
  return CAIRO_STATUS_SUCCESS;
}
static inline struct folio_asset tm_png_asset(const char *name, int w, int h) {
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create(s);
  cairo_pattern_t *g = cairo_pattern_create_linear(0, 0, w, h);
  cairo_pattern_add_color_stop_rgb(g, 0, 0.9, 0.2, 0.1);
  cairo_pattern_add_color_stop_rgb(g, 1, 0.1, 0.3, 0.9);
  cairo_set_source(cr, g);
  cairo_paint(cr);
  cairo_pattern_destroy(g);
  cairo_destroy(cr);
  struct tm_png b = {0};
  cairo_surface_write_to_png_stream(s, tm_png_write, &b);
  cairo_surface_destroy(s);
  return (struct folio_asset){.name = name, .type = FOLIO_ASSET_PNG, .data = b.p, .size = b.len,
                              .width = (uint32_t)w, .height = (uint32_t)h};
}

#endif
