/* The layout document model (v1) and its decoder.
 *
 * folio_layout_decode() parses and validates a JSON layout document in one pass
 * into an immutable model. Every length in the model is in PostScript points
 * (1/72 in), converted from the document's "unit"; the origin is the top-left of
 * the page, y grows down. Inheritance is resolved by the decoder: every text run
 * carries its complete style (document defaults < named style < item inline
 * fields < run fields), every colour reference points at a resolved colour, every
 * image points at its asset. Consumers (renderer, SLA writer) never look names up.
 *
 * Ownership: the decoder allocates the whole model in one arena owned by the
 * returned struct folio_layout_doc; free it with folio_layout_doc_free(). Every
 * pointer inside stays valid until then. A decoded document is immutable and may
 * be read from several threads at once.
 *
 * Thread-safety: folio_layout_decode() is reentrant; it may run on any thread
 * (folio runs it on a worker pool, never on a gRPC completion-queue thread). */
#ifndef FOLIO_LAYOUT_H
#define FOLIO_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits ------------------------------------------------------------ */

struct folio_layout_limits {
  size_t max_bytes;          /* whole document; default 32 MiB */
  size_t max_depth;          /* JSON nesting; default 32 */
  size_t max_pages;          /* default 1000 */
  size_t max_items_per_page; /* default 10000 */
  size_t max_string_bytes;   /* any one decoded string but asset data; default 1 MiB */
  size_t max_asset_bytes;    /* one decoded asset; default 16 MiB */
  uint64_t max_image_pixels; /* width*height read from the image header before decoding; default 50e6 */
  /* Sum over the document's assets of width*height*4 (the bytes the renderer
   * decodes them into), from the headers, before any decoder runs; default
   * 512 MiB. Bounds the decode CPU one document can ask for. */
  uint64_t max_image_bytes_total;
  size_t max_image_chunks;   /* PNG chunks in one asset (walked before libpng runs); default 4096 */
  size_t max_jpeg_scans;     /* scans in one JPEG (progressive: a pass over the image each); default 100 */
  /* A page's width and height in pt, after units and orientation; default
   * 14400 (200 in, the largest page a PDF reader must support). Rasterizing
   * has its own pixel cap (FOLIO_RENDER_MAX_PAGE_PIXELS) per dpi. */
  double max_page_side;
  size_t max_errors;         /* errors collected before giving up; default 20 */
};
/* A per-tenant override (lib/jobs) is a second struct filled from the
 * defaults and then changed field by field: every field is independent. */

#define FOLIO_LAYOUT_MAX_PAGE_SIDE_DEFAULT 14400.0

/* Fixed bounds of the structure fields (the schema says the same): a link
 * target, a BCP 47 language tag, a page label, in characters. Alt text is
 * bounded by max_string_bytes like any other text. */
#define FOLIO_LAYOUT_MAX_LINK_CHARS 2048
#define FOLIO_LAYOUT_MAX_LANG_CHARS 64
#define FOLIO_LAYOUT_MAX_LABEL_CHARS 64
/* Table rows and columns are 0 .. this. */
#define FOLIO_LAYOUT_MAX_TABLE_INDEX 65535

/* Fills *lim with the defaults above. */
void folio_layout_limits_default(struct folio_layout_limits *lim);
/* The defaults, then every FOLIO_LAYOUT_<FIELD> variable set in the
 * environment (FOLIO_LAYOUT_MAX_IMAGE_BYTES_TOTAL=..., integers;
 * FOLIO_LAYOUT_MAX_PAGE_SIDE in pt). 0, or -1 with a line naming the
 * variable, its value and the allowed range in err. */
int folio_layout_limits_from_env(struct folio_layout_limits *lim, char *err, size_t cap);

/* The PNG resolution a render may be asked for, in dots per inch: stated here,
 * below lib/render and lib/jobs, so the renderer, the CLI and the submit
 * check share one statement. 0 in a request means the default. */
#define FOLIO_PNG_DPI_MIN 36
#define FOLIO_PNG_DPI_MAX 1200
#define FOLIO_PNG_DPI_DEFAULT 150

/* ---- diagnostics --------------------------------------------------------- */

struct folio_layout_error {
  char *pointer; /* RFC 6901 JSON Pointer, "" for the whole document, e.g. "/pages/2/items/5/w" */
  char *message; /* e.g. "must be > 0" */
};

/* Filled by folio_layout_decode() on failure. The caller owns the struct (usually
 * on its stack); the decoder owns the strings; free them with
 * folio_layout_diag_clear(). Zero-initialise before the first use. */
struct folio_layout_diag {
  size_t count;
  bool truncated;   /* more errors than max_errors were found */
  bool too_large;   /* a size/count limit was exceeded (maps to RESOURCE_EXHAUSTED) */
  struct folio_layout_error *errors;
};
void folio_layout_diag_clear(struct folio_layout_diag *d);
/* "pointer: message" joined with "; ", malloc'd, caller frees; NULL if no errors. */
char *folio_layout_diag_join(const struct folio_layout_diag *d);

/* ---- the model ------------------------------------------------------------ */

enum folio_unit { FOLIO_UNIT_PT = 0, FOLIO_UNIT_MM, FOLIO_UNIT_IN };

struct folio_color {
  const char *name; /* the key in "colors", or NULL for a literal "#rrggbb" */
  bool is_cmyk;
  double r, g, b;        /* 0..1; for CMYK, the documented naive conversion */
  double c, m, y, k;     /* 0..1, only meaningful when is_cmyk */
};

enum folio_weight { FOLIO_WEIGHT_NORMAL = 400, FOLIO_WEIGHT_BOLD = 700 };
/* weight is a CSS-style number 100..900; "normal" = 400, "bold" = 700. */

enum folio_font_style { FOLIO_FONT_STYLE_NORMAL = 0, FOLIO_FONT_STYLE_ITALIC, FOLIO_FONT_STYLE_OBLIQUE };
enum folio_align { FOLIO_ALIGN_LEFT = 0, FOLIO_ALIGN_CENTER, FOLIO_ALIGN_RIGHT, FOLIO_ALIGN_JUSTIFY };

struct folio_text_style {
  const char *font;                 /* family name as given, default "DejaVu Sans" */
  int weight;                       /* 100..900, default 400 */
  enum folio_font_style style;      /* default normal */
  double size;                      /* pt, default 12 */
  const struct folio_color *color;  /* never NULL; default black */
  enum folio_align align;           /* default left (paragraph-level: taken from the item) */
  double line_height;               /* multiple of size, default 1.2 */
  double letter_spacing;            /* pt, default 0 */
};

/* ---- structure (tagged PDF) ------------------------------------------------
 *
 * What the document says about its logical structure, for a tagged PDF
 * (docs/internals/layout.md, "Structure"). Reading order is document order:
 * pages in order, items in their page's "items" order (which is also the
 * painting order). */

/* An item's role. DEFAULT is what the item kind implies: text is a paragraph
 * (P), an image a figure, a rect/ellipse/line an artifact (decoration). */
enum folio_role {
  FOLIO_ROLE_DEFAULT = 0,
  FOLIO_ROLE_P,
  FOLIO_ROLE_H1, FOLIO_ROLE_H2, FOLIO_ROLE_H3, FOLIO_ROLE_H4, FOLIO_ROLE_H5, FOLIO_ROLE_H6,
  FOLIO_ROLE_CAPTION,
  FOLIO_ROLE_QUOTE,      /* a block quotation */
  FOLIO_ROLE_CODE,
  FOLIO_ROLE_LIST_ITEM,  /* the body of a list item; needs "list" */
  FOLIO_ROLE_LIST_LABEL, /* its bullet or number, before its body; needs "list" */
  FOLIO_ROLE_FIGURE,
  FOLIO_ROLE_ARTIFACT,   /* decoration: not part of the content */
};

enum folio_link_kind {
  FOLIO_LINK_URI = 1, /* http:, https: or mailto: */
  FOLIO_LINK_ANCHOR,  /* "#id": the item with that id */
  FOLIO_LINK_PAGE,    /* "#page=N" */
};

struct folio_link {
  enum folio_link_kind kind;
  const char *target;              /* the string as written, NUL-terminated */
  const char *anchor;              /* ANCHOR: the id (target + 1) */
  size_t page;                     /* PAGE and ANCHOR: 0-based page of the target */
  const struct folio_item *item;   /* ANCHOR: the item with that id */
};

struct folio_run {
  const char *text;                 /* UTF-8, NUL-terminated */
  size_t text_len;
  struct folio_text_style style;    /* fully resolved */
  const struct folio_link *link;    /* NULL = none */
};

enum folio_overflow { FOLIO_OVERFLOW_CLIP = 0, FOLIO_OVERFLOW_SHRINK, FOLIO_OVERFLOW_ERROR };
enum folio_fit { FOLIO_FIT_CONTAIN = 0, FOLIO_FIT_COVER, FOLIO_FIT_FILL, FOLIO_FIT_NONE };

enum folio_asset_type { FOLIO_ASSET_PNG = 1, FOLIO_ASSET_JPEG };

struct folio_asset {
  const char *name;                 /* key in "assets" */
  enum folio_asset_type type;
  const unsigned char *data;        /* decoded bytes (base64 removed) */
  size_t size;
  uint32_t width, height;           /* pixels, read from the header and checked */
};

enum folio_item_kind { FOLIO_ITEM_TEXT = 1, FOLIO_ITEM_IMAGE, FOLIO_ITEM_RECT, FOLIO_ITEM_ELLIPSE, FOLIO_ITEM_LINE };

struct folio_item {
  enum folio_item_kind kind;
  const char *name;                 /* optional, NULL if absent */
  size_t index;                     /* position in the page's "items" array */
  double rotation;                  /* degrees clockwise about the box centre; 0 */
  double opacity;                   /* 0..1, default 1 */
  double x, y, w, h;                /* box in pt (for LINE: the bounding box of the segment) */
  /* Structure, all optional (NULL / 0 when absent). */
  enum folio_role role;             /* DEFAULT: see enum folio_role */
  const char *id;                   /* anchor name, unique in the document */
  const char *lang;                 /* BCP 47 tag, when it differs from the document's */
  const char *alt;                  /* figures: the text alternative */
  const struct folio_link *link;    /* the whole item is a link */
  const char *list;                 /* LIST_ITEM / LIST_LABEL: the list's name */
  const char *table;                /* a table cell of that table, at row, col (0-based) */
  uint32_t row, col;
  bool header;                      /* a header cell (TH) */
  union {
    struct {
      const char *style_name;       /* the named style used, or NULL */
      struct folio_text_style style;/* item-level resolved style (paragraph align, line height) */
      const struct folio_run *runs;
      size_t n_runs;                /* >= 1; "text" becomes one run */
      enum folio_overflow overflow; /* default clip */
    } text;
    struct {
      const struct folio_asset *asset;
      enum folio_fit fit;           /* default contain */
    } image;
    struct {                        /* RECT and ELLIPSE */
      const struct folio_color *fill;   /* NULL = no fill */
      const struct folio_color *stroke; /* NULL = no stroke */
      double stroke_width;          /* pt, default 1 when stroke is set */
      double radius;                /* RECT only, pt, default 0 */
    } shape;
    struct {
      double x1, y1, x2, y2;        /* pt */
      const struct folio_color *stroke; /* never NULL; default black */
      double stroke_width;          /* pt, default 1 */
    } line;
  } u;
};

/* Print geometry (page.bleed, page.marks, page.slug). A page's width and
 * height are its trim size: the finished piece after cutting, and what item
 * coordinates are relative to. Around it lie the bleed (paint that runs past
 * the cut) and, when marks are asked for, the slug (the strip where crop
 * marks and the rest are drawn). folio/pagebox.h turns these into the PDF's
 * MediaBox/BleedBox/TrimBox; that is the one place the rule lives. */
struct folio_sides {
  double top, right, bottom, left;  /* pt, each 0..FOLIO_LAYOUT_MAX_BLEED_PT */
};
/* Each side of the bleed and the slug, in pt after units: bounded so that
 * a page's media grows by at most 4 x 72 pt (the decoder also keeps the
 * media box within max_page_side). Constants, not limits fields: the schema
 * states them too (in the document's unit, so the decoder alone checks
 * lengths given in mm or in). */
#define FOLIO_LAYOUT_MAX_BLEED_PT 72.0
#define FOLIO_LAYOUT_MAX_SLUG_PT 72.0
/* The slug when marks are asked for and page.slug is not given: the marks
 * start FOLIO_MARK_OFFSET_PT (folio/pagebox.h) outside the bleed and are
 * 20 pt long, as Scribus' default markLength. A slug given with marks must
 * leave them at least 10 pt. */
#define FOLIO_LAYOUT_SLUG_DEFAULT_PT 26.0
#define FOLIO_LAYOUT_SLUG_MIN_MARKS_PT 16.0

/* page.marks, as bits of folio_page.marks */
enum {
  FOLIO_MARK_CROP = 1u << 0,         /* "crop": cut lines at the trim corners */
  FOLIO_MARK_REGISTRATION = 1u << 1, /* "registration": targets at the middle of each side */
  FOLIO_MARK_COLOR_BARS = 1u << 2,   /* "color_bars": CMYK and RGB patches along the top */
  FOLIO_MARK_PAGE_INFO = 1u << 3,    /* "page_info": title and "page n of N" along the bottom */
};

struct folio_page {
  double width, height;             /* pt: the trim size */
  const char *size_name;            /* "A4", "Letter", … or NULL for explicit sizes */
  const struct folio_item *items;
  size_t n_items;
  struct folio_sides bleed;         /* pt; all 0 = no bleed */
  unsigned marks;                   /* FOLIO_MARK_* bits; 0 = none */
  /* pt: the strip outside the bleed that holds the marks. page.slug when
   * given; else FOLIO_LAYOUT_SLUG_DEFAULT_PT when marks are asked, 0 when
   * not. With marks it is at least FOLIO_LAYOUT_SLUG_MIN_MARKS_PT. */
  double slug;
  const char *label;                /* page label ("iv", "A-1"), NULL = none */
};

struct folio_layout_doc {
  int version;                      /* 1 */
  enum folio_unit unit;             /* as written; the model itself is in pt */
  const char *title;                /* meta.title or NULL */
  const char *author;               /* meta.author or NULL */
  const char *lang;                 /* meta.lang (BCP 47) or NULL */
  /* The document uses structure: meta.lang or any role, id, lang, alt, link,
   * list, table or page label. The PDF renderer tags such documents. */
  bool structured;
  const struct folio_color *colors; /* the named colours, document order */
  size_t n_colors;
  const struct folio_asset *assets; /* document order */
  size_t n_assets;
  const struct folio_page *pages;
  size_t n_pages;                   /* >= 1 */
  struct folio_arena *arena;        /* owns everything above */
};

/* What folio_layout_decode() returns. */
enum {
  FOLIO_LAYOUT_OK = 0,
  /* The document is not a valid layout, or breaks a limit (then diag->too_large
   * is set): diag holds every error found, up to max_errors. */
  FOLIO_LAYOUT_EINVAL = -1,
  /* Out of memory: nothing is known about the document; diag may hold the
   * errors found before, and is to be cleared all the same. */
  FOLIO_LAYOUT_ENOMEM = -2,
};

/* Decodes json[0..len) (need not be NUL-terminated). lim NULL = defaults.
 * Returns FOLIO_LAYOUT_OK and sets *out (caller frees with
 * folio_layout_doc_free) on success; FOLIO_LAYOUT_EINVAL on invalid input, with
 * *diag filled (caller clears it); FOLIO_LAYOUT_ENOMEM when out of memory.
 * *out is NULL on any failure. */
int folio_layout_decode(const char *json, size_t len, const struct folio_layout_limits *lim,
                        struct folio_layout_doc **out, struct folio_layout_diag *diag);
void folio_layout_doc_free(struct folio_layout_doc *doc);

/* The canonical form of the JSON document json[0..len) (lib/layout/canonical.c
 * states the rules; docs/internals/layout.md, "Canonical form"): no
 * whitespace, object members sorted by key, strings and numbers in one
 * spelling each, parsed by the decoder's own lexer. Two documents the decoder
 * reads as the same (whitespace, member order, escapes, 1.0 vs 1 vs 1e0)
 * have the same canonical bytes; the render cache hashes them. Syntax only:
 * a valid layout is the caller's business (run folio_layout_decode first).
 * max_depth bounds nesting (0 = 32, the decoder's default).
 * Returns 0 with *out (malloc'd, free with free(), not NUL-terminated) and
 * *out_len; FOLIO_LAYOUT_EINVAL when json is not one JSON value (or holds a
 * number out of a double's range); FOLIO_LAYOUT_ENOMEM. Reentrant. */
int folio_layout_canonical(const char *json, size_t len, size_t max_depth, char **out,
                           size_t *out_len);

/* Unit conversion used by the decoder (exposed for tests and the CLI). */
double folio_unit_to_pt(enum folio_unit u, double v);

#endif
