/* Errors, page selection and geometry helpers shared by every renderer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
  case FOLIO_RENDER_E_LIMIT: return "render budget exhausted";
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

/* ---- budgets and interruption ------------------------------------------------ */

void folio_render_budget_default(struct folio_render_budget *b) {
  b->image_cache_bytes = (size_t)128 << 20;
  b->cpu_ms = 0;
  b->max_text_layouts = 11;
}

static int64_t cpu_now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)) return 0;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void folio_guard_init(struct folio_guard *g, const struct folio_render_options *opt) {
  if (opt && opt->budget) g->budget = *opt->budget;
  else folio_render_budget_default(&g->budget);
  if (g->budget.max_text_layouts < 3) g->budget.max_text_layouts = 3;
  g->cancel = opt ? opt->cancel : NULL;
  g->cancel_ctx = opt ? opt->cancel_ctx : NULL;
  g->cpu_start_ns = g->budget.cpu_ms ? cpu_now_ns() : 0;
  atomic_init(&g->tripped, 0);
  g->findings = opt ? opt->findings : NULL;
  /* a default-attribute mutex needs no destroy (it holds no resources) */
  g->findings_mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  g->min_image_dpi = opt && opt->min_image_dpi ? opt->min_image_dpi : FOLIO_RENDER_MIN_IMAGE_DPI;
}

void folio_render_finding(struct folio_guard *g, const char *code, enum folio_finding_severity sev,
                          size_t page_index, const struct folio_item *item, const char *fmt, ...) {
  if (!g || !g->findings) return;
  char ptr[64];
  if (item) snprintf(ptr, sizeof ptr, "/pages/%zu/items/%zu", page_index, item->index);
  else snprintf(ptr, sizeof ptr, "/pages/%zu", page_index);
  va_list ap;
  va_start(ap, fmt);
  pthread_mutex_lock(&g->findings_mu);
  int rc = folio_findings_addv(g->findings, code, sev, FOLIO_FINDING_PAINT, (uint32_t)(page_index + 1), ptr,
                               fmt, ap);
  pthread_mutex_unlock(&g->findings_mu);
  va_end(ap);
  if (rc == FOLIO_FINDINGS_ENOMEM) {
    int none = 0;
    atomic_compare_exchange_strong(&g->tripped, &none, FOLIO_RENDER_E_NOMEM);
  }
}

int folio_guard_check(struct folio_guard *g) {
  int t = atomic_load_explicit(&g->tripped, memory_order_relaxed);
  if (t) return t;
  if (g->cancel && g->cancel(g->cancel_ctx)) t = FOLIO_RENDER_E_CANCELLED;
  else if (g->budget.cpu_ms && cpu_now_ns() - g->cpu_start_ns > (int64_t)g->budget.cpu_ms * 1000000)
    t = FOLIO_RENDER_E_LIMIT;
  if (!t) return 0;
  int none = 0;
  atomic_compare_exchange_strong(&g->tripped, &none, t);
  return atomic_load(&g->tripped);
}

int folio_guard_fail(struct folio_guard *g, int code, struct folio_render_diag *diag, size_t page,
                     const struct folio_item *item) {
  if (code == FOLIO_RENDER_E_LIMIT)
    return folio_render_fail(diag, code, page, item,
                             "render CPU time limit exceeded: cpu_ms = %llu",
                             (unsigned long long)g->budget.cpu_ms);
  if (code == FOLIO_RENDER_E_NOMEM)
    return folio_render_fail(diag, code, page, item, "out of memory (findings)");
  return folio_render_fail(diag, code, page, item, "cancelled");
}
