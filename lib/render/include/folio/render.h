/* folio_render: a decoded layout (folio/layout.h) to PDF, PNG pages and a Scribus
 * 1.5 document.
 *
 * Every artifact leaves through a caller-supplied write callback, in order, in
 * pieces of any size; the renderer never holds a whole PDF or SLA in memory (a PNG
 * page is encoded in memory, one page per rasterizing thread). The worker streams
 * those pieces into an S3 multipart upload; the CLI writes them to files.
 *
 * Threads: every callback (write, page_begin/page_end, progress) runs on the
 * thread that called the folio_render_* function, one at a time, PNG pages in
 * page order, even when pages are rasterized in parallel. The functions are
 * reentrant: several documents may render at once on different threads (each
 * call makes its own PangoFontMap and cairo contexts, or borrows them from the
 * struct folio_render_context it is given; see docs/internals/render.md).
 *
 * Errors: functions return 0, or a negative FOLIO_RENDER_E_* code with the detail
 * on a struct folio_render_diag: the JSON Pointer of the item at fault (when there
 * is one) and a readable message, e.g. "/pages/0/items/3: text overflows its box".
 * An artifact whose render failed is incomplete: the caller discards what it got. */
#ifndef FOLIO_RENDER_H
#define FOLIO_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "folio/findings.h"
#include "folio/layout.h"
#include "folio/pagerange.h" /* folio_render_options.pages comes from its parser */

/* ---- callbacks ------------------------------------------------------------ */

/* Receives the next len bytes of an artifact (data is borrowed: valid only during
 * the call). Return 0 to go on, nonzero to abort the render (it then returns
 * FOLIO_RENDER_E_WRITE). */
typedef int (*folio_render_write_fn)(void *ctx, const unsigned char *data, size_t len);

/* Called between pages and between items (several times a second on any
 * document): done of total units of work are finished. Return nonzero to stop;
 * the render then returns FOLIO_RENDER_E_CANCELLED within about a second. */
typedef int (*folio_render_progress_fn)(void *ctx, size_t done, size_t total);

/* Asked often, from any thread taking part in the render (between items,
 * between steps of text fitting, every few rows of an image being decoded):
 * return nonzero to stop; the render then returns FOLIO_RENDER_E_CANCELLED
 * well within a second. Must be cheap and thread-safe (read a flag). */
typedef int (*folio_render_cancel_fn)(void *ctx);

/* One PNG page starts: page is the 0-based page index in the document. Set *write
 * and *write_ctx to where its bytes go. Return nonzero to abort (E_WRITE). */
typedef int (*folio_render_page_begin_fn)(void *ctx, size_t page, folio_render_write_fn *write,
                                          void **write_ctx);
/* The PNG of page is complete (every byte was written). Nonzero aborts (E_WRITE).
 * On failure of the render, a begun page gets no page_end. page_end may be NULL;
 * page_begin may not, and must set *write. */
typedef int (*folio_render_page_end_fn)(void *ctx, size_t page);

/* ---- errors --------------------------------------------------------------- */

enum {
  FOLIO_RENDER_OK = 0,
  FOLIO_RENDER_E_ARG = -1,       /* bad options (dpi out of range, bad page list) */
  FOLIO_RENDER_E_NOMEM = -2,
  FOLIO_RENDER_E_WRITE = -3,     /* a callback asked to abort */
  FOLIO_RENDER_E_CANCELLED = -4, /* the progress callback asked to stop */
  FOLIO_RENDER_E_OVERFLOW = -5,  /* text overflows its box with overflow "error" */
  FOLIO_RENDER_E_IMAGE = -6,     /* an asset could not be decoded */
  FOLIO_RENDER_E_CAIRO = -7,     /* cairo/pango failed (message has its status) */
  FOLIO_RENDER_E_LIMIT = -8,     /* a render budget was exhausted (message names it and its value) */
};

/* Filled on failure. The caller owns it (usually on its stack); fixed buffers, so
 * there is nothing to free. Zero-initialise it or not: each failing call sets it.
 * Every function taking a diag accepts NULL (then the detail is lost). */
struct folio_render_diag {
  int code;           /* the FOLIO_RENDER_E_* returned */
  char pointer[96];   /* JSON Pointer of the item at fault ("" = none) */
  char message[320];  /* "pointer: what" when pointer is set, else "what" */
};

/* "overflow", "write aborted", ... for a FOLIO_RENDER_E_* code; static string. */
const char *folio_render_strerror(int code);

/* ---- tagged PDF: what cairo 1.16 cannot write --------------------------------
 *
 * cairo 1.16 writes structure elements without attributes. For each element
 * that needs one, a tagged PDF render reports it through
 * folio_render_options.pdf_struct, so a post-processor (lib/pdf) can add it:
 * elem is the element's index in a pre-order walk of the PDF's
 * /StructTreeRoot /K, counting structure element dictionaries only (those
 * with /S; MCIDs, /MCR and /OBJR kids are not counted), Document = 0. Strings
 * are borrowed from the document (or static) and live as long as it does. */
struct folio_pdf_struct_attr {
  size_t elem;
  const char *type;  /* its /S without the slash: "Figure", "P", "TH" ... */
  const char *alt;   /* /Alt to add (figures), or NULL */
  const char *lang;  /* /Lang to add (an item's lang), or NULL */
  const char *scope; /* header cells: /A << /O /Table /Scope /Column or /Row >>, or NULL */
};
/* Called on the rendering thread, in element order. */
typedef void (*folio_render_struct_fn)(void *ctx, const struct folio_pdf_struct_attr *a);

/* ---- options -------------------------------------------------------------- */

/* The PNG resolution bounds are lib/layout's (folio/layout.h), shared with
 * the submit check. */
#define FOLIO_RENDER_DPI_MIN FOLIO_PNG_DPI_MIN
#define FOLIO_RENDER_DPI_MAX FOLIO_PNG_DPI_MAX
#define FOLIO_RENDER_DPI_DEFAULT FOLIO_PNG_DPI_DEFAULT
/* A PNG page may have at most this many pixels, and at most 32767 a side
 * (cairo's limit): an A4 page at 1200 dpi is 139 million. Rasterizing needs
 * about 8 bytes a pixel per thread. */
#define FOLIO_RENDER_MAX_PAGE_PIXELS 200000000.0
/* A placed raster image whose effective resolution (its pixels over the size
 * it is printed at) is below this is reported as IMAGE_LOW_DPI, unless the
 * caller sets its own threshold (folio_render_options.min_image_dpi). */
#define FOLIO_RENDER_MIN_IMAGE_DPI 150

/* ---- budgets ---------------------------------------------------------------
 *
 * What one render may use, beyond what the layout decoder already bounds
 * (struct folio_layout_limits: pixels, image bytes, scans, pages, items). Each
 * field is independent, so a caller (or a per-tenant override) starts from
 * folio_render_budget_default() and changes fields. */
struct folio_render_budget {
  /* Decoded images kept between uses, across all threads of the render, in
   * bytes (4 a pixel). Images are decoded when first painted and the least
   * recently used are dropped beyond this; one larger than the whole budget
   * is decoded for each use and never kept. Peak image memory is this plus
   * the images being painted at that moment (one per thread). Default 128 MiB. */
  size_t image_cache_bytes;
  /* CPU time of the calling process while the render runs (every thread,
   * CLOCK_PROCESS_CPUTIME_ID), in ms: past it the render stops with
   * E_LIMIT naming "cpu_ms". For processes that render one document at a
   * time (folio-worker's render processes). 0 = no limit (the default here;
   * folio-worker sets its own, FOLIO_RENDER_CPU_MS). */
  uint64_t cpu_ms;
  /* pango layouts one text item may cost to find its "shrink" size (a
   * bisection over the size factor; fewer layouts, coarser factor). Min 3;
   * default 11 (1/256 precision). */
  unsigned max_text_layouts;
};
void folio_render_budget_default(struct folio_render_budget *b);

/* ---- render context: state kept between renders ---------------------------
 *
 * A process that renders one document after another (folio-worker's render
 * processes, a benchmark) creates one struct folio_render_context and passes it
 * in folio_render_options.context to every call: the calls then reuse its pango
 * font maps (fontconfig's font lists and cairo's glyph caches behind them, which
 * cost ~40 % of a one-page render when made anew), and the PNG rasterizing
 * threads reuse their page surfaces and encoder buffers. The output is the same,
 * byte for byte, with or without a context.
 *
 * Ownership: the caller creates it with folio_render_context_new (NULL: no
 * memory) and destroys it with folio_render_context_free (NULL accepted), never
 * while a call is using it. It holds no document data between calls, only font
 * state (the default fontconfig configuration's fonts) and scratch memory: about
 * 16 MB resident per rasterizing thread after A4 pages at 150 dpi (pages
 * much larger are not kept: see docs/internals/render.md).
 *
 * Threads: a context serves one render call at a time, from any thread. A call
 * given a context that another call is using fails with FOLIO_RENDER_E_ARG
 * ("render context in use") before rendering anything. Several threads
 * rendering at once need one context each. */
struct folio_render_context;
struct folio_render_context *folio_render_context_new(void);
void folio_render_context_free(struct folio_render_context *c);

struct folio_render_options {
  /* 0-based page indexes to render, ascending, no duplicates; borrowed for the
   * call. NULL = every page. folio_layout_pages_parse() (folio/pagerange.h) makes
   * such a list. */
  const size_t *pages;
  size_t n_pages;
  unsigned dpi;                  /* PNG only; 0 = 150; else 36..1200 */
  unsigned threads;              /* PNG rasterizing threads; 0 = CPUs available (max 16) */
  folio_render_progress_fn progress; /* may be NULL */
  void *progress_ctx;
  folio_render_cancel_fn cancel;     /* may be NULL */
  void *cancel_ctx;
  const struct folio_render_budget *budget; /* borrowed for the call; NULL = defaults */
  /* Where the paint stage reports what it notices without failing
   * (folio/findings.h; every code in docs/findings.md): TEXT_OVERSET,
   * FONT_SUBSTITUTED, GLYPH_MISSING, IMAGE_LOW_DPI, OBJECT_OFF_PAGE, each
   * with its 1-based page and the item's JSON Pointer, in document order
   * (folio_render_png with several threads: pages may interleave, items of
   * one page stay in order). Borrowed for the call; NULL = not
   * reported. folio_render_pdf and folio_render_png report (the same
   * findings for the same pages: a caller rendering both passes the list
   * to one of them); folio_render_sla reports nothing. If the list cannot
   * allocate its first entry the render fails with E_NOMEM. */
  struct folio_findings *findings;
  /* IMAGE_LOW_DPI threshold in dots per inch; 0 = FOLIO_RENDER_MIN_IMAGE_DPI. */
  unsigned min_image_dpi;
  /* PNG only: show the bleed box (trim + page.bleed, items reaching into the
   * bleed included) instead of the trimmed page. Marks are never in a PNG. */
  bool png_include_bleed;
  /* PDF: write a tagged PDF (structure tree, artifacts left out of it) even
   * when the document says nothing about its structure (for PDF/UA). A
   * document with meta.lang or any role, id, lang, alt, link, list, table
   * or page label is tagged in any case. */
  bool pdf_tagged;
  folio_render_struct_fn pdf_struct; /* may be NULL; see struct folio_pdf_struct_attr */
  void *pdf_struct_ctx;
  struct folio_render_context *context;     /* borrowed for the call; NULL = none (see above) */
};

/* ---- renderers ------------------------------------------------------------ */

/* One PDF with the selected pages: fonts embedded as subsets, title/author from
 * the document's meta, a fixed creation date, so the same document and options
 * give the same bytes. CMYK colours are drawn with their RGB conversion.
 * Each PDF page is the page's media box (folio/pagebox.h): the trim size, plus
 * page.bleed, plus the slug holding page.marks; items are placed from the
 * trim's top-left corner and clipped at the bleed box. cairo writes only the
 * MediaBox; BleedBox/TrimBox come from folio_layout_page_boxes for whoever
 * post-processes the file.
 * Tagged (see pdf_tagged): a structure tree in reading order (= document
 * order), link annotations, named destinations for item ids, an outline from
 * the headings, page labels. What cairo 1.16 cannot write (/Lang, /Alt,
 * artifact marks) is listed in docs/internals/render.md for the PDF/UA
 * post-processing. */
int folio_render_pdf(const struct folio_layout_doc *doc, const struct folio_render_options *opt,
                     folio_render_write_fn write, void *write_ctx, struct folio_render_diag *diag);

/* One PNG per selected page (8-bit RGB, white page, pHYs = dpi): the trimmed
 * page (its width x height at dpi), or the bleed box with
 * opt->png_include_bleed. Filtered and deflated (zlib) in pieces of 512 rows,
 * on the threads a job with fewer pages than threads leaves idle; the bytes do
 * not depend on the thread count. Pages are rasterized in parallel on
 * opt->threads threads, and handed to page_begin / write / page_end in page
 * order on this thread.
 * A page too large in pixels at this dpi (see FOLIO_RENDER_MAX_PAGE_PIXELS) is
 * E_ARG before anything is rendered. */
int folio_render_png(const struct folio_layout_doc *doc, const struct folio_render_options *opt,
                     folio_render_page_begin_fn page_begin, folio_render_page_end_fn page_end,
                     void *ctx, struct folio_render_diag *diag);

/* A Scribus 1.5 document (.sla) with the selected pages: text frames with their
 * runs and paragraph styles, image frames with the picture inline (base64 in the
 * file, so the .sla is self-contained), shapes, lines and colours (CMYK kept as
 * CMYK). Text that the overflow policy shrinks is written at the shrunk size; an
 * "error" overflow fails exactly as folio_render_pdf does. */
int folio_render_sla(const struct folio_layout_doc *doc, const struct folio_render_options *opt,
                     folio_render_write_fn write, void *write_ctx, struct folio_render_diag *diag);

/* ---- the PNG encoder, exposed for tests and benchmarks --------------------- */

/* Encodes a width x height image of 32-bit native-endian pixels (cairo's
 * CAIRO_FORMAT_RGB24/ARGB32 layout, alpha ignored; stride bytes per row) as an
 * 8-bit RGB PNG with a pHYs chunk for dpi (0 = none). The encoded file is written
 * through write in a few large pieces. Returns 0, E_NOMEM or E_WRITE. */
int folio_render_png_encode(const unsigned char *pixels, unsigned width, unsigned height,
                            size_t stride, unsigned dpi, folio_render_write_fn write, void *ctx);

/* ---- the renderer, for the render cache ------------------------------------- */

/* What decides this process's renders besides the request, as text: folio's
 * version and a digest of its render and layout sources, the loaded cairo,
 * pango, harfbuzz, freetype and fontconfig versions (one per line), then
 * "fonts N" and one line per font fontconfig offers (file, face index, size,
 * mtime; sorted). The worker hashes it into the renderer fingerprint of the
 * render cache (folio/render_cache.h in lib/jobs). Returns a malloc'd
 * NUL-terminated string (free with free()), or NULL when out of memory.
 * Reads the font directories' state; call it once per process. */
char *folio_render_describe(void);

#endif
