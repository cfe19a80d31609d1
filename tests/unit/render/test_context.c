/* struct folio_render_context (folio/render.h): renders that reuse its font
 * maps, surfaces and encoder buffers give the same bytes as renders that make
 * their own, across many renders, changing thread counts, page sizes and
 * threads of the caller; a context used by two calls at once is refused. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/render.h"
#include "model.h"
#include "testbuf.h"

static struct folio_run runs[3];
static struct folio_item items[2][4];
static struct folio_page pages[2];
static struct folio_asset assets[1];
static struct folio_layout_doc doc;

static void build_doc(void) {
  runs[0] = tm_run("Context test — Кириллица, العربية, 中文. ", 14);
  runs[0].style.weight = 700;
  runs[1] = tm_run("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
                   "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation.",
                   11);
  runs[1].style.color = &tm_blue;
  runs[2] = tm_run("Shrunk to fit: sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.", 30);
  assets[0] = tm_png_asset("gradient", 40, 20);
  for (int p = 0; p < 2; p++) {
    items[p][0] = tm_text(0, 30, 30, 400, 200, runs, 2, FOLIO_OVERFLOW_CLIP);
    items[p][1] = tm_text(1, 30, 260, 150, 50, &runs[2], 1, FOLIO_OVERFLOW_SHRINK);
    items[p][2] = (struct folio_item){.kind = FOLIO_ITEM_ELLIPSE, .index = 2, .opacity = 0.6, .x = 200, .y = 250,
                                      .w = 120, .h = 80};
    items[p][2].u.shape.fill = &tm_orange;
    items[p][3] = (struct folio_item){.kind = FOLIO_ITEM_IMAGE, .index = 3, .opacity = 1, .x = 340, .y = 250,
                                      .w = 100, .h = 60};
    items[p][3].u.image.asset = &assets[0];
    items[p][3].u.image.fit = FOLIO_FIT_COVER;
    pages[p] = (struct folio_page){.width = 460 + 40.0 * p, .height = 340, .items = items[p], .n_items = 4};
  }
  doc = (struct folio_layout_doc){.version = 1, .title = "context", .assets = assets, .n_assets = 1,
                                  .pages = pages, .n_pages = 2};
}

/* ---- one render of every format into memory ---- */

struct out {
  struct buf pdf, sla, png[2];
};
static int pg_begin(void *ctx, size_t page, folio_render_write_fn *w, void **wctx) {
  struct out *o = ctx;
  *w = buf_write;
  *wctx = &o->png[page];
  return 0;
}
static void out_free(struct out *o) {
  free(o->pdf.p), free(o->sla.p), free(o->png[0].p), free(o->png[1].p);
  memset(o, 0, sizeof *o);
}
static int same(const struct buf *a, const struct buf *b) {
  return a->len == b->len && a->len > 0 && memcmp(a->p, b->p, a->len) == 0;
}

static void render_all(struct folio_render_context *ctx, unsigned threads, unsigned dpi, struct out *o) {
  struct folio_render_options opt = {.dpi = dpi, .threads = threads, .context = ctx};
  struct folio_render_diag diag = {0};
  CHECK_MSG(folio_render_pdf(&doc, &opt, buf_write, &o->pdf, &diag) == 0, "pdf: %s", diag.message);
  CHECK_MSG(folio_render_png(&doc, &opt, pg_begin, NULL, o, &diag) == 0, "png: %s", diag.message);
  CHECK_MSG(folio_render_sla(&doc, &opt, buf_write, &o->sla, &diag) == 0, "sla: %s", diag.message);
}

static void check_same(const struct out *a, const struct out *b, const char *what, int round) {
  CHECK_MSG(same(&a->pdf, &b->pdf), "%s, round %d: the PDF differs", what, round);
  CHECK_MSG(same(&a->sla, &b->sla), "%s, round %d: the SLA differs", what, round);
  for (int p = 0; p < 2; p++)
    CHECK_MSG(same(&a->png[p], &b->png[p]), "%s, round %d: PNG page %d differs", what, round, p + 1);
}

/* Many renders through one context (thread counts 1..3, two resolutions, so
 * slots are added and surfaces of other sizes replace kept ones) give the
 * bytes of renders that make everything anew. */
static void test_same_bytes(void) {
  struct out fresh72 = {0}, fresh100 = {0};
  render_all(NULL, 1, 72, &fresh72);
  render_all(NULL, 2, 100, &fresh100);
  struct folio_render_context *ctx = folio_render_context_new();
  CHECK(ctx != NULL);
  for (int r = 0; r < 12; r++) {
    struct out o = {0};
    unsigned threads = 1 + (unsigned)r % 3, dpi = r % 4 == 3 ? 100 : 72;
    render_all(ctx, threads, dpi, &o);
    check_same(dpi == 72 ? &fresh72 : &fresh100, &o, "with a context", r);
    out_free(&o);
  }
  folio_render_context_free(ctx);
  folio_render_context_free(NULL); /* accepted */
  out_free(&fresh72), out_free(&fresh100);
}

/* The context moves between the caller's threads (one call at a time). */
struct thread_arg {
  struct folio_render_context *ctx;
  struct out o;
};
static void *render_thread(void *p) {
  struct thread_arg *a = p;
  render_all(a->ctx, 2, 72, &a->o);
  return NULL;
}
static void test_across_threads(void) {
  struct out fresh = {0};
  render_all(NULL, 1, 72, &fresh);
  struct folio_render_context *ctx = folio_render_context_new();
  for (int r = 0; r < 3; r++) {
    struct thread_arg a = {.ctx = ctx};
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, render_thread, &a), 0);
    pthread_join(t, NULL);
    check_same(&fresh, &a.o, "on another thread", r);
    out_free(&a.o);
  }
  folio_render_context_free(ctx);
  out_free(&fresh);
}

/* A second call while the context is in use (here: from inside the first
 * call's progress hook, on the same thread) is refused with E_ARG and
 * renders nothing; the first call is not disturbed, and the context serves
 * the next call. */
struct nested {
  struct folio_render_context *ctx;
  int tried, rc;
  struct folio_render_diag diag;
  struct buf b;
};
static int nested_progress(void *p, size_t done, size_t total) {
  (void)done, (void)total;
  struct nested *n = p;
  if (!n->tried) {
    n->tried = 1;
    struct folio_render_options opt = {.context = n->ctx};
    n->rc = folio_render_pdf(&doc, &opt, buf_write, &n->b, &n->diag);
  }
  return 0;
}
static void test_in_use(void) {
  struct folio_render_context *ctx = folio_render_context_new();
  struct nested n = {.ctx = ctx};
  struct folio_render_options opt = {.dpi = 36, .threads = 1, .context = ctx, .progress = nested_progress,
                                     .progress_ctx = &n};
  struct out o = {0};
  struct folio_render_diag diag = {0};
  CHECK_EQ_INT(folio_render_pdf(&doc, &opt, buf_write, &o.pdf, &diag), 0);
  CHECK(n.tried);
  CHECK_EQ_INT(n.rc, FOLIO_RENDER_E_ARG);
  CHECK_MSG(strstr(n.diag.message, "render context in use") != NULL, "%s", n.diag.message);
  CHECK_EQ_INT(n.b.len, 0); /* nothing was written by the refused call */
  /* the same from inside a PNG render (every thread of it holds a slot) */
  n = (struct nested){.ctx = ctx};
  CHECK_EQ_INT(folio_render_png(&doc, &opt, pg_begin, NULL, &o, &diag), 0);
  CHECK(n.tried);
  CHECK_EQ_INT(n.rc, FOLIO_RENDER_E_ARG);
  /* released: the next call is served */
  struct buf again = {0};
  struct folio_render_options plain = {.context = ctx};
  CHECK_EQ_INT(folio_render_pdf(&doc, &plain, buf_write, &again, &diag), 0);
  CHECK(again.len > 0);
  free(again.p), free(n.b.p);
  out_free(&o);
  folio_render_context_free(ctx);
}

int main(void) {
  build_doc();
  test_same_bytes();
  test_across_threads();
  test_in_use();
  free((void *)(uintptr_t)assets[0].data);
  return check_done();
}
