/* Asset pictures for the renderer: decoded lazily, kept in a byte-budgeted
 * cache shared by the render's threads, decoded again after an eviction.
 *
 * Decoding goes through folio_image_decode (lib/layout, folio/image.h): the
 * same bounded decoder as the server's validation, so a PNG whose data goes
 * on after its last row, or a JPEG with too many scans, stops here too. Rows
 * land directly in the cairo surface (RGBA, then converted in place to
 * cairo's native premultiplied ARGB32 / RGB24), and the render's guard is
 * checked every few rows, so a cancel or the CPU limit interrupts a large
 * decode. For PDF output the JPEG bytes are attached as mime data, so cairo
 * embeds the original JPEG (DCTDecode) instead of re-compressing pixels.
 *
 * The cache: one slot per asset holding a surface reference and its last use
 * (a tick). Inserting evicts least-recently-used slots until the new picture
 * fits image_cache_bytes; a picture larger than the whole budget is handed
 * out uncached. Decoding runs outside the lock: two threads may decode the
 * same asset at once, and the second insert then keeps the first. Callers
 * get their own reference, so eviction never frees a picture being painted. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/image.h"
#include "render_int.h"

struct cache_slot {
  cairo_surface_t *s; /* NULL = not held */
  size_t bytes;
  uint64_t last_use;
};

struct folio_image_cache {
  pthread_mutex_t mu;
  const struct folio_layout_doc *doc;
  size_t budget, held, peak, decodes;
  uint64_t tick;
  struct cache_slot *slots; /* doc->n_assets */
};

struct folio_image_cache *folio_image_cache_new(const struct folio_layout_doc *doc, size_t budget) {
  struct folio_image_cache *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->slots = calloc(doc->n_assets ? doc->n_assets : 1, sizeof *c->slots);
  if (!c->slots) {
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->mu, NULL);
  c->doc = doc;
  c->budget = budget;
  return c;
}

void folio_image_cache_free(struct folio_image_cache *c) {
  if (!c) return;
  for (size_t i = 0; i < c->doc->n_assets; i++)
    if (c->slots[i].s) cairo_surface_destroy(c->slots[i].s);
  pthread_mutex_destroy(&c->mu);
  free(c->slots);
  free(c);
}

void folio_image_cache_stats(struct folio_image_cache *c, size_t *held, size_t *peak, size_t *decodes) {
  pthread_mutex_lock(&c->mu);
  *held = c->held;
  *peak = c->peak;
  *decodes = c->decodes;
  pthread_mutex_unlock(&c->mu);
}

/* Evicts LRU slots until need more bytes fit; caller holds mu. */
static void evict_for(struct folio_image_cache *c, size_t need) {
  while (c->held + need > c->budget) {
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < c->doc->n_assets; i++)
      if (c->slots[i].s && (victim == SIZE_MAX || c->slots[i].last_use < c->slots[victim].last_use))
        victim = i;
    if (victim == SIZE_MAX) return;
    cairo_surface_destroy(c->slots[victim].s);
    c->slots[victim].s = NULL;
    c->held -= c->slots[victim].bytes;
  }
}

/* ---- decoding into a cairo surface ----------------------------------------------- */

struct surf_sink {
  cairo_surface_t *s;
  unsigned char *base;
  size_t stride;
  uint32_t w;
  bool alpha;
  struct folio_guard *guard;
  int stop; /* the guard's code when it stopped the decode */
};

static int sink_start(void *ctx, uint32_t w, uint32_t h) {
  struct surf_sink *k = ctx;
  k->s = cairo_image_surface_create(k->alpha ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, (int)w, (int)h);
  if (cairo_surface_status(k->s)) return 1;
  cairo_surface_flush(k->s);
  k->base = cairo_image_surface_get_data(k->s);
  k->stride = (size_t)cairo_image_surface_get_stride(k->s);
  k->w = w;
  return 0;
}

static unsigned char *sink_row(void *ctx, uint32_t y) {
  struct surf_sink *k = ctx;
  return k->base + (size_t)y * k->stride;
}

/* RGBA bytes -> native-endian 0xAARRGGBB, premultiplied, in place. */
static int sink_row_done(void *ctx, uint32_t y) {
  struct surf_sink *k = ctx;
  unsigned char *row = k->base + (size_t)y * k->stride;
  uint32_t *px = (uint32_t *)(void *)row;
  for (uint32_t x = 0; x < k->w; x++) {
    const unsigned char *s = row + 4 * (size_t)x;
    uint32_t r = s[0], g = s[1], b = s[2], a = k->alpha ? s[3] : 255;
    if (a != 255) { /* x*a/255 rounded, as cairo's own PNG reader does it */
      uint32_t t;
      t = r * a + 0x80, r = (t + (t >> 8)) >> 8;
      t = g * a + 0x80, g = (t + (t >> 8)) >> 8;
      t = b * a + 0x80, b = (t + (t >> 8)) >> 8;
    }
    px[x] = a << 24 | r << 16 | g << 8 | b;
  }
  if ((y & 15) == 15 && k->guard) {
    k->stop = folio_guard_check(k->guard);
    return k->stop != 0;
  }
  return 0;
}

/* A new surface, or NULL with diag set. */
static cairo_surface_t *decode(struct folio_painter *p, const struct folio_asset *a,
                               struct folio_render_diag *diag) {
  struct surf_sink k = {.alpha = a->type == FOLIO_ASSET_PNG, .guard = p->guard};
  struct folio_image_sink sink = {sink_start, sink_row, sink_row_done, &k};
  struct folio_image_result r;
  /* The document was validated with its own limits; here the decode is only
   * bounded again, with room for any image the validation let through. */
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  lim.max_image_pixels = (uint64_t)a->width * a->height;
  int rc = folio_image_decode(a->type, a->data, a->size, &lim, 1, &sink, &r);
  if (rc) {
    if (k.s) cairo_surface_destroy(k.s);
    if (k.stop) {
      folio_guard_fail(p->guard, k.stop, diag, 0, NULL);
      return NULL;
    }
    if (r.stopped) /* the surface could not be made */
      folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "asset \"%s\": out of memory for %ux%u pixels",
                        a->name ? a->name : "?", a->width, a->height);
    else
      folio_render_fail(diag, r.too_large ? FOLIO_RENDER_E_LIMIT : FOLIO_RENDER_E_IMAGE, 0, NULL,
                        "asset \"%s\": cannot decode: %s", a->name ? a->name : "?", r.message);
    return NULL;
  }
  cairo_surface_mark_dirty(k.s);
  if (a->type == FOLIO_ASSET_JPEG && p->for_pdf)
    cairo_surface_set_mime_data(k.s, CAIRO_MIME_TYPE_JPEG, a->data, a->size, NULL, NULL);
  return k.s;
}

cairo_surface_t *folio_painter_image(struct folio_painter *p, const struct folio_asset *a,
                                     struct folio_render_diag *diag) {
  struct folio_image_cache *c = p->images;
  size_t idx = (size_t)(a - p->doc->assets);
  if (idx >= p->doc->n_assets) {
    folio_render_fail(diag, FOLIO_RENDER_E_IMAGE, 0, NULL, "asset is not the document's");
    return NULL;
  }
  pthread_mutex_lock(&c->mu);
  struct cache_slot *slot = &c->slots[idx];
  if (slot->s) {
    slot->last_use = ++c->tick;
    cairo_surface_t *s = cairo_surface_reference(slot->s);
    pthread_mutex_unlock(&c->mu);
    return s;
  }
  pthread_mutex_unlock(&c->mu);
  cairo_surface_t *s = decode(p, a, diag);
  if (!s) return NULL;
  size_t bytes = (size_t)cairo_image_surface_get_stride(s) * (size_t)cairo_image_surface_get_height(s);
  pthread_mutex_lock(&c->mu);
  c->decodes++;
  if (slot->s) { /* another thread decoded it meanwhile: keep theirs */
    cairo_surface_destroy(s);
    s = slot->s;
  } else if (bytes <= c->budget) {
    evict_for(c, bytes);
    slot->s = s;
    slot->bytes = bytes;
    c->held += bytes;
    if (c->held > c->peak) c->peak = c->held;
  } else {
    pthread_mutex_unlock(&c->mu);
    return s; /* larger than the whole budget: this use only */
  }
  slot->last_use = ++c->tick;
  s = cairo_surface_reference(s);
  pthread_mutex_unlock(&c->mu);
  return s;
}

void folio_image_place(const struct folio_item *it, struct folio_image_placement *pl) {
  const struct folio_asset *a = it->u.image.asset;
  double iw = a->width ? a->width : 1, ih = a->height ? a->height : 1;
  double sx = 1, sy = 1; /* none: one pixel per point */
  switch (it->u.image.fit) {
  case FOLIO_FIT_FILL: sx = it->w / iw, sy = it->h / ih; break;
  case FOLIO_FIT_CONTAIN: sx = sy = fmin(it->w / iw, it->h / ih); break;
  case FOLIO_FIT_COVER: sx = sy = fmax(it->w / iw, it->h / ih); break;
  case FOLIO_FIT_NONE: break;
  }
  *pl = (struct folio_image_placement){sx, sy, (it->w - iw * sx) / 2, (it->h - ih * sy) / 2};
}
