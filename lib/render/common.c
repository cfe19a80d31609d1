/* Errors, page selection and geometry helpers shared by every renderer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

const char *folio_render_strerror(int code) {
  switch (code) {
  case FOLIO_RENDER_OK: return "ok";
  case FOLIO_RENDER_E_ARG: return "invalid options";
  case FOLIO_RENDER_E_NOMEM: return "out of memory";
  case FOLIO_RENDER_E_WRITE: return "write aborted";
  case FOLIO_RENDER_E_CANCELLED: return "cancelled";
  case FOLIO_RENDER_E_OVERFLOW: return "text overflow";
  case FOLIO_RENDER_E_IMAGE: return "bad image";
  case FOLIO_RENDER_E_CAIRO: return "cairo error";
  default: return "unknown error";
  }
}

int folio_render_fail(struct folio_render_diag *diag, int code, size_t page, const struct folio_item *item,
                      const char *fmt, ...) {
  if (!diag) return code;
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  diag->code = code;
  diag->pointer[0] = 0;
  if (item) snprintf(diag->pointer, sizeof diag->pointer, "/pages/%zu/items/%zu", page, item->index);
  if (diag->pointer[0])
    snprintf(diag->message, sizeof diag->message, "%.90s: %.220s", diag->pointer, what);
  else
    snprintf(diag->message, sizeof diag->message, "%s", what);
  return code;
}

int folio_render_selection(const struct folio_layout_doc *doc, const struct folio_render_options *opt,
                           size_t **pages, size_t *n, size_t *work, struct folio_render_diag *diag) {
  size_t count = opt && opt->pages ? opt->n_pages : doc->n_pages;
  if (count == 0) return folio_render_fail(diag, FOLIO_RENDER_E_ARG, 0, NULL, "no page selected");
  size_t *list = malloc(count * sizeof *list);
  if (!list) return folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "out of memory");
  for (size_t i = 0; i < count; i++) {
    list[i] = opt && opt->pages ? opt->pages[i] : i;
    if (list[i] >= doc->n_pages || (i > 0 && list[i] <= list[i - 1])) {
      size_t bad = list[i];
      free(list);
      return folio_render_fail(diag, FOLIO_RENDER_E_ARG, 0, NULL,
                               "page list: index %zu is out of range or out of order (document has %zu pages)",
                               bad, doc->n_pages);
    }
  }
  if (work) {
    *work = count;
    for (size_t i = 0; i < count; i++) *work += doc->pages[list[i]].n_items;
  }
  *pages = list;
  *n = count;
  return 0;
}

void folio_item_transform(cairo_t *cr, const struct folio_item *it) {
  if (it->rotation == 0) return;
  double cx = it->x + it->w / 2, cy = it->y + it->h / 2;
  cairo_translate(cr, cx, cy);
  cairo_rotate(cr, it->rotation * M_PI / 180.0); /* y down: positive = clockwise */
  cairo_translate(cr, -cx, -cy);
}

void folio_path_round_rect(cairo_t *cr, double x, double y, double w, double h, double r) {
  double max = fmin(w, h) / 2;
  if (r > max) r = max;
  if (r <= 0) {
    cairo_rectangle(cr, x, y, w, h);
    return;
  }
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
  cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
  cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
  cairo_close_path(cr);
}
