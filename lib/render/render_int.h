/* Module-private declarations shared by the files of lib/render. */
#ifndef FOLIO_RENDER_INT_H
#define FOLIO_RENDER_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cairo.h>
#include <pango/pangocairo.h>
#include <zlib.h>

#include "folio/render.h"

/* One render's budgets and interruption, shared by all its threads (common.c).
 * folio_guard_check is the one place that asks the caller's cancel hook and
 * reads the CPU clock; once it trips it stays tripped, so every thread stops. */
struct folio_guard {
  struct folio_render_budget budget;
  folio_render_cancel_fn cancel;
  void *cancel_ctx;
  int64_t cpu_start_ns;   /* CLOCK_PROCESS_CPUTIME_ID at the start of the render */
  _Atomic int tripped;    /* 0, FOLIO_RENDER_E_CANCELLED, _LIMIT or _NOMEM (findings) */
  /* the caller's findings list (NULL = none) and its lock: PNG pages are
   * painted on several threads */
  struct folio_findings *findings;
  pthread_mutex_t findings_mu;
  double min_image_dpi;
};
void folio_guard_init(struct folio_guard *g, const struct folio_render_options *opt);
/* 0 to go on, else E_CANCELLED or E_LIMIT (sticky). Any thread. */
int folio_guard_check(struct folio_guard *g);
/* Fills diag for a tripped guard's code (naming the limit) and returns it. */
int folio_guard_fail(struct folio_guard *g, int code, struct folio_render_diag *diag, size_t page,
                     const struct folio_item *item);

/* Reports a paint-stage finding for item (NULL = the page) of page_index
 * (0-based) into the render's list, if it has one. Any thread. A list that
 * cannot take it trips the guard with E_NOMEM. */
void folio_render_finding(struct folio_guard *g, const char *code, enum folio_finding_severity sev,
                          size_t page_index, const struct folio_item *item, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Decoded images of one render, shared by its threads, within
 * budget.image_cache_bytes (image.c). Surfaces are reference-counted: a
 * caller holds its own reference while painting, so an eviction never frees
 * a picture in use. */
struct folio_image_cache;
struct folio_image_cache *folio_image_cache_new(const struct folio_layout_doc *doc, size_t budget);
void folio_image_cache_free(struct folio_image_cache *c);
/* Bytes held by the cache now, and the most it ever held (tests). */
void folio_image_cache_stats(struct folio_image_cache *c, size_t *held, size_t *peak, size_t *decodes);

/* Tagged PDF (tags.c): the structure tree, links, destinations, outline and
 * page labels of one PDF render, through cairo's tag API. One per PDF
 * render, used by its one painting thread. */
struct folio_tags {
  cairo_t *cr;
  cairo_surface_t *surface;
  const struct folio_layout_doc *doc;
  const size_t *pages;      /* the selection (ascending document page indexes) */
  size_t n_pages;
  size_t page;              /* the document page being painted */
  bool labels;              /* some page has a label: every page gets one */
  unsigned char *page_dest; /* per document page: a "#page=N" link goes there (malloc'd) */
  const char *stack[8];     /* open tags, innermost last */
  size_t depth;
  size_t item_depth;        /* depth below the current item's tags */
  bool run_link;            /* a run's Span or Link is open */
  const char *list, *table; /* the open L and Table, by name */
  bool label_only;          /* the open LI has its Lbl and waits for its LBody */
  uint32_t row, col;        /* the open table's current cell */
  int outline[7];           /* the last outline entry at each heading level, 0 = none */
  size_t n_elems;           /* structure elements begun so far (the next one's pre-order index) */
  folio_render_struct_fn attr; /* the caller's, may be NULL */
  void *attr_ctx;
};
/* Opens the Document element. pages/n: the rendered pages, borrowed. */
void folio_tags_init(struct folio_tags *t, cairo_t *cr, cairo_surface_t *surface, const struct folio_layout_doc *doc,
                     const size_t *pages, size_t n);
/* Before painting the page: its page label. */
void folio_tags_page(struct folio_tags *t, size_t page_index);
/* Around each painted item. begin returns true when the item is content
 * (not an artifact): its element (and link, destination) is open. */
bool folio_tags_item_begin(struct folio_tags *t, const struct folio_item *it);
void folio_tags_item_end(struct folio_tags *t, const struct folio_item *it);
/* The named destination of an item with an id, at its box's top-left
 * corner; item_begin writes it, and the painter for an item it does not
 * paint (opacity 0), so links to its id still lead somewhere. */
void folio_tags_anchor(struct folio_tags *t, const struct folio_item *it);
/* Inside a text whose runs have links: what follows is a Link to link, or a
 * Span (link NULL, or a target this PDF does not hold). */
void folio_tags_run(struct folio_tags *t, const struct folio_link *link);
/* Closes every open tag (also after a failed render) and frees. */
void folio_tags_finish(struct folio_tags *t);
/* PNG encoding with buffers kept between pages (one per rasterizing thread):
 * a page's 6.5 MB of filtered rows need not be allocated and faulted in again
 * for every page. Zero-initialise; free with folio_png_scratch_free. */
#define FOLIO_PNG_MAX_THREADS 4
struct folio_png_scratch {
  unsigned char *raw, *z;
  size_t raw_cap, z_cap;
  /* one raw-deflate stream per encoding thread, made on first use; on the
   * heap because zlib's state points back at its z_stream (a slot array may
   * be moved by realloc) */
  z_stream *zs[FOLIO_PNG_MAX_THREADS];
};
/* threads: how many threads (this one and threads - 1 started for the page,
 * at most FOLIO_PNG_MAX_THREADS) filter and deflate the page's pieces of 512
 * rows; the bytes are the same for any number. */
int folio_png_encode_with(struct folio_png_scratch *s, const unsigned char *pixels, unsigned width,
                          unsigned height, size_t stride, unsigned dpi, unsigned threads,
                          folio_render_write_fn write, void *ctx);
void folio_png_scratch_free(struct folio_png_scratch *s);

/* One rasterizing thread's state kept by a render context between renders
 * (context.c): its font map and pango context (slot 0 also serves PDF and
 * SLA renders), its page surface and encoder buffers. Zero = nothing yet;
 * everything is made on first use. */
struct folio_render_slot {
  PangoFontMap *fontmap;
  PangoContext *pango;
  cairo_surface_t *surf;
  struct folio_png_scratch png;
};
/* A slot keeps its surface and encoder buffers after a render only when they
 * total at most this (allocated, of which about 16 MB are resident): an A4
 * page at 150 dpi is ~22 MB of both and is kept; 300 dpi (~87 MB) is not. A
 * long-lived process's memory bound grows by this per slot at most (folio-
 * worker's render process streams a 99 MiB artifact in < 64 MiB peak RSS
 * with a kept 150-dpi page: tests/integration/worker). */
#define FOLIO_RENDER_CONTEXT_KEEP_BYTES ((size_t)32 << 20)
/* Takes opt->context (when there is one) for this call, with at least n_slots
 * slots: *out = the context or NULL. E_ARG with diag when another call holds
 * it, E_NOMEM. Give it back with folio_render_context_release (NULL ok). */
int folio_render_context_acquire(const struct folio_render_options *opt, unsigned n_slots,
                                 struct folio_render_context **out, struct folio_render_diag *diag);
void folio_render_context_release(struct folio_render_context *c);
/* Slot i of an acquired context; NULL when c is NULL. */
struct folio_render_slot *folio_render_context_slot(struct folio_render_context *c, unsigned i);

/* A painter holds what one thread needs to draw pages of one document: its own
 * PangoFontMap and PangoContext (pango's font maps are not safe to share between
 * threads); decoded images come from the render's shared cache. Create with
 * folio_painter_init, release with folio_painter_fini; one painter is used by
 * one thread at a time. */
struct folio_painter {
  const struct folio_layout_doc *doc;
  PangoFontMap *fontmap;
  PangoContext *pango;
  struct folio_image_cache *images; /* borrowed: the render's */
  struct folio_guard *guard;        /* borrowed: the render's */
  bool for_pdf;             /* attach JPEG bytes as mime data so the PDF embeds them as-is */
  struct folio_tags *tags;  /* PDF with structure: tag each item; NULL = none (PNG) */
  bool borrowed;            /* fontmap and pango belong to a render context's slot */
  /* cancellation: checked between items; NULL = never */
  int (*should_stop)(void *ctx);
  void *stop_ctx;
};

int folio_painter_init(struct folio_painter *p, const struct folio_layout_doc *doc, bool for_pdf,
                       struct folio_image_cache *images, struct folio_guard *guard,
                       struct folio_render_diag *diag);
/* The same, borrowing the font map and pango context of a render context's
 * slot (made on first use) when slot is not NULL: fini then leaves them to
 * the slot. The caller holds the context (folio_render_context_acquire). */
int folio_painter_init_slot(struct folio_painter *p, struct folio_render_slot *slot,
                            const struct folio_layout_doc *doc, bool for_pdf, struct folio_image_cache *images,
                            struct folio_guard *guard, struct folio_render_diag *diag);
void folio_painter_fini(struct folio_painter *p);

/* Draws page page_index of p->doc onto cr (user space = points, origin top-left
 * of the page). Returns 0 or a FOLIO_RENDER_E_* code with diag set. */
int folio_paint_page(struct folio_painter *p, cairo_t *cr, size_t page_index,
                     struct folio_render_diag *diag);

/* Draws page page_index's items onto cr whose user space is the media box
 * (points, origin top-left): moves the origin to the trim's top-left corner
 * and clips at the bleed box (folio/pagebox.h), so items reaching into the
 * bleed are kept there and nothing else is. A plain page (no bleed, slug or
 * marks) is painted exactly as folio_paint_page does. */
int folio_paint_page_media(struct folio_painter *p, cairo_t *cr, size_t page_index,
                           struct folio_render_diag *diag);

/* The printer's marks page.marks asks for, in the slug (marks.c); cr's user
 * space is the media box. 0, or E_CAIRO. */
int folio_marks_paint(struct folio_painter *p, cairo_t *cr, size_t page_index);

/* The part of a page a PNG shows: the trim, or the bleed box when
 * include_bleed; its size in pt and the trim's top-left corner inside it. */
struct folio_png_area {
  double w, h, trim_x, trim_y;
};
void folio_png_area(const struct folio_page *pg, bool include_bleed, struct folio_png_area *a);

/* Text layout shared by the painter and the SLA writer. folio_text_layout builds
 * the pango layout of a text item with every size multiplied by scale (caller
 * unrefs it). folio_text_fit applies the overflow policy: sets *scale to the size
 * factor to draw with (1, or less for "shrink"); returns E_OVERFLOW with diag set
 * for "error". */
PangoLayout *folio_text_layout(PangoContext *pc, const struct folio_item *it, double scale);
/* folio_text_fit and the layout at the chosen scale in one go (NULL with diag
 * set on failure; caller unrefs): a text that fits is laid out only once. At
 * most budget.max_text_layouts layouts; the guard is checked between them. */
PangoLayout *folio_text_fitted(struct folio_painter *p, const struct folio_item *it, size_t page_index,
                               double *scale, struct folio_render_diag *diag);
int folio_text_fit(struct folio_painter *p, const struct folio_item *it, size_t page_index, double *scale,
                   struct folio_render_diag *diag);
/* Long unbreakable words get invisible break opportunities (U+200B) in the
 * layout's text (see text.c); this maps a byte offset of the layout's text
 * back to the item's text (runs concatenated, undrawn characters removed). */
size_t folio_text_source_offset(PangoLayout *lay, size_t layout_offset);

/* Text that is not drawn (the same in PDF, PNG and SLA): C0 controls other than
 * \n and \t (no glyph: pango would draw hex boxes; XML cannot carry them) and
 * the Unicode noncharacters U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF (cairo refuses
 * them in PDF text, XML 1.0 cannot carry U+FFFE/U+FFFF). folio_text_char returns
 * the length of the UTF-8 sequence at s (left > 0) and sets *keep.
 * folio_text_clean returns a malloc'd copy of s without them (NULL: no memory). */
size_t folio_text_char(const char *s, size_t left, bool *keep);
char *folio_text_clean(const char *s);

/* Draws lay (built for it) at the item's box: whole lines only, a line that
 * does not fit the box entirely is not drawn, nor any after it (as Scribus does
 * with overflowing text), so the PDF holds no invisible text. Returns how
 * many lines it drew (TEXT_OVERSET when fewer than the layout's). */
size_t folio_text_show(cairo_t *cr, PangoLayout *lay, const struct folio_item *it);
/* The same drawing, run by run, for a text whose runs have links: each run
 * of the layout goes into the Link of its run's link or a Span (tags).
 * Returns how many lines it drew, like folio_text_show. */
size_t folio_text_show_tagged(cairo_t *cr, PangoLayout *lay, const struct folio_item *it, struct folio_tags *tags);

/* The paint stage's text findings for lay (built for it by this painter):
 * FONT_SUBSTITUTED for a family of the item that fontconfig does not have,
 * GLYPH_MISSING for characters that no font has a glyph for. */
void folio_text_findings(struct folio_painter *p, PangoLayout *lay, const struct folio_item *it,
                         size_t page_index);

/* Decoded image of an asset: a new reference (the caller destroys it), from
 * the render's cache or decoded now; NULL with diag set on error. */
cairo_surface_t *folio_painter_image(struct folio_painter *p, const struct folio_asset *a,
                                     struct folio_render_diag *diag);


/* Where an image item's picture goes for its fit mode: sx, sy points per pixel,
 * (ox, oy) the picture's top-left corner from the box's top-left corner (the
 * picture is centred; the box clips). From the asset's header size: nothing
 * is decoded. */
struct folio_image_placement {
  double sx, sy, ox, oy;
};
void folio_image_place(const struct folio_item *it, struct folio_image_placement *pl);

/* Sets diag (code, pointer for page/item when item != NULL, message) and returns code. */
int folio_render_fail(struct folio_render_diag *diag, int code, size_t page, const struct folio_item *item,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Pages to render for opt: fills a malloc'd list (caller frees) of 0-based indexes
 * and, when work is not NULL, the units of work for progress (items + pages). */
int folio_render_selection(const struct folio_layout_doc *doc, const struct folio_render_options *opt,
                           size_t **pages, size_t *n, size_t *work, struct folio_render_diag *diag);

/* Geometry helpers (degrees clockwise about the box centre, as in the model). */
void folio_item_transform(cairo_t *cr, const struct folio_item *it);
/* Adds a rounded rectangle path at (x,y,w,h) with corner radius r (clamped). */
void folio_path_round_rect(cairo_t *cr, double x, double y, double w, double h, double r);

#endif
