/* folio_render_png: pages rasterized in parallel, delivered in order.
 *
 * N worker threads (each with its own painter: PangoFontMap, PangoContext
 * of its own or of the render context's slot for that thread; decoded
 * images from the render's cache) take the next page index from a shared counter, rasterize it
 * onto their own image surface and encode it with folio's PNG encoder into a
 * memory buffer. The calling thread hands finished pages to the caller's
 * callbacks strictly in page order, so callbacks never run concurrently. At most
 * 2N pages are in flight, which bounds memory. While it waits, the calling
 * thread calls the progress hook every 100 ms; a "stop" sets a flag that the
 * workers check between items. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folio/cpus.h"
#include "render_int.h"

enum slot_state { SLOT_WAITING = 0, SLOT_BUSY, SLOT_DONE };

struct slot {
  enum slot_state state;
  int rc;
  struct folio_render_diag diag;
  unsigned char *png;
  size_t len, cap;
};

struct raster_job {
  const struct folio_layout_doc *doc;
  const size_t *pages;
  size_t n;
  unsigned dpi;
  bool include_bleed; /* opt->png_include_bleed */
  unsigned encode_threads; /* per page: threads the budget leaves over when pages are fewer */
  struct slot *slots;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t next;    /* next page (position in pages[]) a worker takes */
  size_t emitted; /* pages handed to the caller so far */
  size_t window;  /* max pages in flight beyond emitted */
  size_t items_done, items_total;
  int stop;       /* set under mu: cancel, failure or callback abort */
};

static int buf_write(void *ctx, const unsigned char *data, size_t len) {
  struct slot *s = ctx;
  if (s->len + len > s->cap) {
    size_t cap = s->cap ? s->cap : 1 << 16;
    while (cap < s->len + len) cap *= 2;
    unsigned char *p = realloc(s->png, cap);
    if (!p) return 1;
    s->png = p;
    s->cap = cap;
  }
  memcpy(s->png + s->len, data, len);
  s->len += len;
  return 0;
}

struct worker_ctx {
  struct raster_job *job;
  struct folio_painter painter;
  /* this thread's surface (kept for the next page of the same size) and
   * encoder buffers: the render context's slot, or own for this call */
  struct folio_render_slot *slot;
  struct folio_render_slot own;
};

static int worker_should_stop(void *ctx) {
  struct raster_job *job = ctx;
  pthread_mutex_lock(&job->mu);
  job->items_done++;
  int stop = job->stop;
  pthread_mutex_unlock(&job->mu);
  return stop;
}

static int rasterize(struct worker_ctx *w, size_t page, struct slot *s) {
  const struct folio_page *pg = &w->job->doc->pages[page];
  struct folio_png_area area;
  folio_png_area(pg, w->job->include_bleed, &area);
  double k = w->job->dpi / 72.0;
  int pw = (int)lround(area.w * k), ph = (int)lround(area.h * k);
  if (pw < 1) pw = 1;
  if (ph < 1) ph = 1;
  cairo_surface_t *surf = w->slot->surf;
  if (surf && (cairo_image_surface_get_width(surf) != pw || cairo_image_surface_get_height(surf) != ph)) {
    cairo_surface_destroy(surf);
    surf = w->slot->surf = NULL;
  }
  if (!surf) surf = w->slot->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, pw, ph);
  if (cairo_surface_status(surf)) {
    cairo_surface_destroy(surf);
    w->slot->surf = NULL;
    return folio_render_fail(&s->diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "page %zu: cannot allocate %dx%d pixels",
                             page + 1, pw, ph);
  }
  cairo_t *cr = cairo_create(surf);
  cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE); /* the whole page becomes white paper */
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
  cairo_scale(cr, (double)pw / area.w, (double)ph / area.h);
  /* the image's edges clip: the trim, or the bleed box with the items in it */
  if (area.trim_x != 0 || area.trim_y != 0) cairo_translate(cr, area.trim_x, area.trim_y);
  int rc = folio_paint_page(&w->painter, cr, page, &s->diag);
  cairo_destroy(cr);
  cairo_surface_flush(surf);
  if (!rc) {
    rc = folio_png_encode_with(&w->slot->png, cairo_image_surface_get_data(surf), (unsigned)pw, (unsigned)ph,
                               (size_t)cairo_image_surface_get_stride(surf), w->job->dpi, w->job->encode_threads,
                               buf_write, s);
    if (rc) rc = folio_render_fail(&s->diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "page %zu: PNG encoding failed",
                                   page + 1);
  }
  return rc;
}

static void *worker_main(void *arg) {
  struct worker_ctx *w = arg;
  struct raster_job *job = w->job;
  pthread_mutex_lock(&job->mu);
  for (;;) {
    while (!job->stop && job->next < job->n && job->next >= job->emitted + job->window)
      pthread_cond_wait(&job->cv, &job->mu);
    if (job->stop || job->next >= job->n) break;
    size_t i = job->next++;
    struct slot *s = &job->slots[i];
    s->state = SLOT_BUSY;
    pthread_mutex_unlock(&job->mu);
    int rc = rasterize(w, job->pages[i], s);
    pthread_mutex_lock(&job->mu);
    s->rc = rc;
    s->state = SLOT_DONE;
    if (rc) job->stop = 1;
    pthread_cond_broadcast(&job->cv);
  }
  pthread_mutex_unlock(&job->mu);
  return NULL;
}

static unsigned default_threads(void) {
  int n = folio_cpus_available();
  if (n > 16) n = 16;
  return (unsigned)n;
}

int folio_render_png(const struct folio_layout_doc *doc, const struct folio_render_options *opt,
                     folio_render_page_begin_fn page_begin, folio_render_page_end_fn page_end, void *ctx,
                     struct folio_render_diag *diag) {
  struct folio_render_diag local_diag;
  if (!diag) diag = &local_diag; /* the caller may not want the detail */
  unsigned dpi = opt && opt->dpi ? opt->dpi : FOLIO_RENDER_DPI_DEFAULT;
  if (dpi < FOLIO_RENDER_DPI_MIN || dpi > FOLIO_RENDER_DPI_MAX)
    return folio_render_fail(diag, FOLIO_RENDER_E_ARG, 0, NULL, "dpi %u is outside %d..%d", dpi,
                             FOLIO_RENDER_DPI_MIN, FOLIO_RENDER_DPI_MAX);
  size_t *pages, n, work;
  int rc = folio_render_selection(doc, opt, &pages, &n, &work, diag);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++) {
    struct folio_png_area area; /* the same area rasterize() draws */
    folio_png_area(&doc->pages[pages[i]], opt && opt->png_include_bleed, &area);
    double pw = round(area.w * dpi / 72.0), ph = round(area.h * dpi / 72.0);
    if (pw > 32767 || ph > 32767 || pw * ph > FOLIO_RENDER_MAX_PAGE_PIXELS) {
      size_t page_no = pages[i] + 1;
      free(pages);
      return folio_render_fail(diag, FOLIO_RENDER_E_ARG, 0, NULL,
                               "page %zu at %u dpi would be %.0fx%.0f pixels; the limit is 32767 a side and "
                               "%.0f million in all (use a lower dpi)",
                               page_no, dpi, pw, ph, FOLIO_RENDER_MAX_PAGE_PIXELS / 1e6);
    }
  }
  unsigned cpus = opt && opt->threads ? opt->threads : default_threads();
  unsigned nt = cpus > n ? (unsigned)n : cpus;
  if (nt < 1) nt = 1; /* n >= 1 (the selection is never empty) and cpus >= 1: for the analyzer */
  /* fewer pages than threads (a one-page job): the spare threads encode
   * pieces of each page (png.c); the bytes do not depend on it */
  unsigned enc = cpus / nt;
  if (enc > FOLIO_PNG_MAX_THREADS) enc = FOLIO_PNG_MAX_THREADS;

  struct folio_render_context *rctx; /* opt->context, held for this call: a slot per thread */
  rc = folio_render_context_acquire(opt, nt, &rctx, diag);
  if (rc) {
    free(pages);
    return rc;
  }
  struct raster_job job = {.doc = doc, .pages = pages, .n = n, .dpi = dpi, .encode_threads = enc,
                           .window = 2 * (size_t)nt, .include_bleed = opt && opt->png_include_bleed};
  job.items_total = work - n; /* items; the pages are counted as they are delivered */
  struct folio_guard guard;
  folio_guard_init(&guard, opt);
  struct folio_image_cache *images = folio_image_cache_new(doc, guard.budget.image_cache_bytes);
  job.slots = calloc(n, sizeof *job.slots);
  struct worker_ctx *workers = calloc(nt, sizeof *workers);
  pthread_t *tids = calloc(nt, sizeof *tids);
  if (!job.slots || !workers || !tids || !images) {
    free(job.slots), free(workers), free(tids), free(pages);
    folio_image_cache_free(images);
    folio_render_context_release(rctx);
    return folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "out of memory");
  }
  pthread_mutex_init(&job.mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&job.cv, &ca);
  pthread_condattr_destroy(&ca);

  unsigned started = 0;
  for (unsigned t = 0; t < nt && !rc; t++) {
    workers[t].job = &job;
    struct folio_render_slot *slot = folio_render_context_slot(rctx, t);
    workers[t].slot = slot ? slot : &workers[t].own;
    rc = folio_painter_init_slot(&workers[t].painter, slot, doc, false, images, &guard, diag);
    if (rc) break;
    workers[t].painter.should_stop = worker_should_stop;
    workers[t].painter.stop_ctx = &job;
    if (pthread_create(&tids[t], NULL, worker_main, &workers[t])) {
      folio_painter_fini(&workers[t].painter);
      rc = folio_render_fail(diag, FOLIO_RENDER_E_NOMEM, 0, NULL, "cannot start a rasterizing thread");
      break;
    }
    started++;
  }

  /* Deliver pages in order on this thread. */
  pthread_mutex_lock(&job.mu);
  if (rc) job.stop = 1;
  for (size_t i = 0; i < n && !rc; i++) {
    struct slot *s = &job.slots[i];
    while (s->state != SLOT_DONE && !job.stop) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      ts.tv_nsec += 100 * 1000 * 1000;
      if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
      int w = pthread_cond_timedwait(&job.cv, &job.mu, &ts);
      int g = w == ETIMEDOUT ? folio_guard_check(&guard) : 0;
      if (g) {
        job.stop = 1;
        rc = folio_guard_fail(&guard, g, diag, 0, NULL);
      } else if (w == ETIMEDOUT && opt && opt->progress) {
        size_t done = job.items_done, total = job.items_total + n;
        pthread_mutex_unlock(&job.mu);
        int stop = opt->progress(opt->progress_ctx, done + i, total);
        pthread_mutex_lock(&job.mu);
        if (stop) {
          job.stop = 1;
          rc = folio_render_fail(diag, FOLIO_RENDER_E_CANCELLED, 0, NULL, "cancelled");
        }
      }
    }
    if (rc) break;
    if (s->state != SLOT_DONE) { /* a later page failed, or a cancel: find the cause */
      for (size_t j = 0; j < n; j++)
        if (job.slots[j].state == SLOT_DONE && job.slots[j].rc) {
          *diag = job.slots[j].diag;
          rc = job.slots[j].rc;
          break;
        }
      if (!rc) rc = folio_render_fail(diag, FOLIO_RENDER_E_CANCELLED, 0, NULL, "cancelled");
      break;
    }
    if (s->rc) {
      *diag = s->diag;
      rc = s->rc;
      break;
    }
    size_t done_now = job.items_done;
    pthread_mutex_unlock(&job.mu);
    folio_render_write_fn write = NULL;
    void *wctx = NULL;
    if (page_begin(ctx, pages[i], &write, &wctx) || !write || write(wctx, s->png, s->len) ||
        (page_end && page_end(ctx, pages[i])))
      rc = folio_render_fail(diag, FOLIO_RENDER_E_WRITE, 0, NULL, "write aborted (page %zu)", pages[i] + 1);
    else if (opt && opt->progress &&
             opt->progress(opt->progress_ctx, done_now + i + 1, job.items_total + n))
      rc = folio_render_fail(diag, FOLIO_RENDER_E_CANCELLED, 0, NULL, "cancelled");
    pthread_mutex_lock(&job.mu);
    free(s->png);
    s->png = NULL;
    job.emitted = i + 1;
    if (rc) job.stop = 1;
    pthread_cond_broadcast(&job.cv);
  }
  job.stop = 1;
  pthread_cond_broadcast(&job.cv);
  pthread_mutex_unlock(&job.mu);

  for (unsigned t = 0; t < started; t++) {
    pthread_join(tids[t], NULL);
    folio_painter_fini(&workers[t].painter);
    folio_png_scratch_free(&workers[t].own.png);
    if (workers[t].own.surf) cairo_surface_destroy(workers[t].own.surf);
  }
  folio_render_context_release(rctx);
  for (size_t i = 0; i < n; i++) free(job.slots[i].png);
  folio_image_cache_free(images);
  pthread_cond_destroy(&job.cv);
  pthread_mutex_destroy(&job.mu);
  free(job.slots), free(workers), free(tids), free(pages);
  return rc;
}
