/* struct folio_render_context: what a process rendering one document after
 * another keeps between renders (folio/render.h has the contract).
 *
 * One slot per rasterizing thread (slot 0 also serves PDF and SLA renders):
 * a PangoFontMap and its PangoContext, created on first use and then kept,
 * so fontconfig's sorted font lists, pango's font sets and the fonts' glyph
 * caches stay warm (made anew they cost ~40 % of a one-page PNG render,
 * measured with callgrind: FcFontSetSort alone is ~45 M instructions); and
 * the page surface and PNG encoder buffers of that thread, kept when they
 * are at most FOLIO_RENDER_CONTEXT_KEEP_BYTES so a one-off huge page does
 * not stay resident.
 *
 * Exclusion: a context serves one render call at a time. The call takes it
 * with an atomic flag (folio_render_context_acquire) and gives it back when
 * it returns; a concurrent call is refused with E_ARG, never served with a
 * font map that another thread is using (pango's are not thread-safe). The
 * hand-over between calls and threads is ordered by that flag (acquire /
 * release) and, inside a PNG call, by pthread_create / pthread_join. */
#include <stdatomic.h>
#include <stdlib.h>

#include "render_int.h"

struct folio_render_context {
  atomic_flag busy;
  unsigned n_slots;
  struct folio_render_slot *slots;
};

struct folio_render_context *folio_render_context_new(void) {
  struct folio_render_context *c = calloc(1, sizeof *c);
  if (c) atomic_flag_clear(&c->busy);
  return c;
}

static void slot_fini(struct folio_render_slot *s) {
  if (s->pango) g_object_unref(s->pango);
  if (s->fontmap) g_object_unref(s->fontmap);
  if (s->surf) cairo_surface_destroy(s->surf);
  folio_png_scratch_free(&s->png);
  *s = (struct folio_render_slot){0};
}

void folio_render_context_free(struct folio_render_context *c) {
  if (!c) return;
  for (unsigned i = 0; i < c->n_slots; i++) slot_fini(&c->slots[i]);
  free(c->slots);
  free(c);
}

int folio_render_context_acquire(const struct folio_render_options *opt, unsigned n_slots,
                                 struct folio_render_context **out, struct folio_render_diag *diag) {
  *out = NULL;
  struct folio_render_context *c = opt ? opt->context : NULL;
  if (!c) return 0;
  if (atomic_flag_test_and_set_explicit(&c->busy, memory_order_acquire))
    return folio_render_fail(diag, FOLIO_RENDER_E_ARG, 0, NULL,
                             "render context in use: it serves one render call at a time");
  if (n_slots > c->n_slots) {
    struct folio_render_slot *s = realloc(c->slots, n_slots * sizeof *s);
    if (!s) {
      atomic_flag_clear_explicit(&c->busy, memory_order_release);
      return folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "out of memory");
    }
    for (unsigned i = c->n_slots; i < n_slots; i++) s[i] = (struct folio_render_slot){0};
    c->slots = s;
    c->n_slots = n_slots;
  }
  *out = c;
  return 0;
}

struct folio_render_slot *folio_render_context_slot(struct folio_render_context *c, unsigned i) {
  return c && i < c->n_slots ? &c->slots[i] : NULL;
}

void folio_render_context_release(struct folio_render_context *c) {
  if (!c) return;
  for (unsigned i = 0; i < c->n_slots; i++) {
    struct folio_render_slot *s = &c->slots[i];
    size_t bytes = s->png.raw_cap + s->png.z_cap;
    if (s->surf)
      bytes += (size_t)cairo_image_surface_get_stride(s->surf) * (size_t)cairo_image_surface_get_height(s->surf);
    if (bytes > FOLIO_RENDER_CONTEXT_KEEP_BYTES) {
      if (s->surf) cairo_surface_destroy(s->surf);
      s->surf = NULL;
      folio_png_scratch_free(&s->png);
    }
  }
  atomic_flag_clear_explicit(&c->busy, memory_order_release);
}
