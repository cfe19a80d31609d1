/* Private symbols shared by the files of lib/layout (never installed).
 *
 * The decoder is split by concern:
 *   json.c     the byte-level JSON lexer: whitespace, strings (with UTF-8
 *              validation and unescaping), numbers, skipping unwanted values.
 *   decode.c   schema-directed descent: walks the document once, checks every
 *              field as it goes and writes the model into the arena.
 *   resolve.c  the pass over the finished model (not over the JSON) that binds
 *              names (styles, colours, assets), applies the unit and page
 *              defaults, and flattens style inheritance. It exists because JSON
 *              objects are unordered: "pages" may come before "colors".
 *   image.c    base64 decoding, PNG/JPEG header sniffing and trial decoding.
 *   diag.c     error collection (JSON Pointer + message) and the name map.
 * See docs/internals/layout.md for the invariants. */
#ifndef FOLIO_LAYOUT_INT_H
#define FOLIO_LAYOUT_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/arena.h"
#include "folio/layout.h"

/* ---- lexer (json.c) ------------------------------------------------------ */

/* A string value: points into the input when it had no escapes, else into the
 * lexer's scratch buffer (valid until the next string is lexed). */
struct folio_lx_str {
  const char *s;
  size_t len;
  bool escaped;
};

struct folio_lx {
  const unsigned char *start, *p, *end;
  char *scratch; /* malloc'd; grows; freed by folio_lx_fini */
  size_t scratch_cap;
  size_t max_depth;
  unsigned char *skip_stack; /* malloc'd on first deep skip */
  bool oom;
  /* On a syntax error: what was expected, and the byte offset. */
  const char *syntax;
  size_t syntax_at;
};

void folio_lx_init(struct folio_lx *lx, const char *json, size_t len, size_t max_depth);
void folio_lx_fini(struct folio_lx *lx);

static inline void folio_lx_ws(struct folio_lx *lx) {
  const unsigned char *p = lx->p, *e = lx->end;
  while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  lx->p = p;
}
/* Peeks the next non-whitespace byte, or 0 at the end. */
static inline int folio_lx_peek(struct folio_lx *lx) {
  folio_lx_ws(lx);
  return lx->p < lx->end ? *lx->p : 0;
}
/* Records a syntax error (first one wins); returns -1. */
int folio_lx_fail(struct folio_lx *lx, const char *what);
/* At '"': lexes one string. 0 on success, -1 on a syntax error. */
int folio_lx_string(struct folio_lx *lx, struct folio_lx_str *out);
/* At '-' or a digit: lexes one number. 0 on success, -1 on a syntax error.
 * Overflow gives ±inf (range checks reject it later). */
int folio_lx_number(struct folio_lx *lx, double *out);
/* Skips one value of any type; depth is the nesting depth of the value's
 * container. 0 on success, -1 on a syntax error, -2 past max_depth. */
int folio_lx_skip(struct folio_lx *lx, size_t depth);
/* Lexes true/false/null at p; returns 0 and sets *which to 't','f','n'. */
int folio_lx_literal(struct folio_lx *lx, int *which);

/* ---- diagnostics and the name map (diag.c) -------------------------------- */

/* One step of a JSON Pointer: an object key or an array index. */
struct folio_path_seg {
  const char *key; /* NULL for an index */
  size_t len;
  size_t index;
};

#define FOLIO_PATH_MAX 24
#define FOLIO_PATH_NONE SIZE_MAX /* index of a slot that has no key or index yet */

struct folio_errs {
  struct folio_layout_diag *diag; /* may be NULL: errors are counted only */
  size_t max;
  size_t count;
  bool full;    /* max recorded */
  bool dropped; /* an error past max was found: the decoder stops */
  bool oom;
};

/* Appends "pointer: message". The pointer is segs[0..n) plus extra (a key,
 * or NULL). Sets full once max errors are recorded; one more sets dropped
 * and diag->truncated. */
void folio_errs_addv(struct folio_errs *e, const struct folio_path_seg *segs, size_t n,
                     const char *extra, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

/* Name → index map (open addressing); names are borrowed and must outlive it. */
struct folio_nmap {
  uint32_t *slots; /* index+1, 0 = empty; malloc'd */
  size_t cap;      /* power of two */
  size_t count;
};
/* Returns the index stored under name, or -1. names[i] is the key of index i. */
long folio_nmap_find(const struct folio_nmap *m, const char *const *names, const char *s,
                     size_t len);
/* Inserts index idx (whose key is names[idx]); -1 on OOM. */
int folio_nmap_put(struct folio_nmap *m, const char *const *names, size_t idx);
void folio_nmap_free(struct folio_nmap *m);

/* ---- images (image.c) ----------------------------------------------------- */

/* Decodes standard base64 (with '=' padding, no whitespace) into out, which must
 * hold len/4*3 bytes. Returns the decoded size, or -1 if the text is not base64. */
long folio_b64_decode(const char *in, size_t len, unsigned char *out);

/* Header and trial decode in one call under the default limits but
 * max_pixels (tests). Checks that data is a decodable image of the given type whose width*height is
 * at most max_pixels. Reads the header first and rejects oversized images before
 * decoding anything. On success returns 0 and sets *w, *h. On failure returns -1
 * with a static-or-buf message in *why (buf is caller storage of 160 bytes) and
 * sets *too_large when the pixel cap was the reason. */
int folio_image_check(enum folio_asset_type type, const unsigned char *data, size_t size,
                      uint64_t max_pixels, uint32_t *w, uint32_t *h, const char **why,
                      char *buf, bool *too_large);

/* The trial decode of a document's asset (folio_image_decode into one row
 * buffer, JPEG at 1/8 scale). 0, or -1 with r filled. */
struct folio_image_result;
int folio_image_trial(enum folio_asset_type type, const unsigned char *data, size_t size,
                      const struct folio_layout_limits *lim, struct folio_image_result *r);

/* ---- the deferred pass (resolve.c) ------------------------------------------ */

/* Inline style fields of a style definition, a text item or a run, with a bit
 * per field present. Colours may be name placeholders (name != NULL). */
enum {
  FOLIO_PS_FONT = 1u << 0,
  FOLIO_PS_WEIGHT = 1u << 1,
  FOLIO_PS_FSTYLE = 1u << 2,
  FOLIO_PS_SIZE = 1u << 3,
  FOLIO_PS_COLOR = 1u << 4,
  FOLIO_PS_ALIGN = 1u << 5,
  FOLIO_PS_LH = 1u << 6,
  FOLIO_PS_LS = 1u << 7,
};
struct folio_pstyle {
  unsigned mask; /* fields present with a valid value */
  unsigned seen; /* fields present (for duplicate detection) */
  struct folio_text_style s;
};

/* What a text item left for the resolve pass: its inline fields and the
 * inline fields of each run (n_runs of them, same order as the model's runs). */
struct folio_text_ext {
  struct folio_pstyle inline_style;
  struct folio_pstyle *runs;
};

/* A page as written, before defaults and units. */
struct folio_page_spec {
  bool has_size;
  const char *size_name; /* named size, or NULL with w/h given in document units */
  double w, h;           /* pt for named sizes, document units otherwise */
  int orientation;       /* 0 as given, 1 portrait, 2 landscape */
  /* print geometry, each field overriding /page independently (document units) */
  bool has_bleed, has_marks, has_slug;
  struct folio_sides bleed;
  unsigned marks;
  double slug;
};

/* An item's id, and a link, as the decode pass met them: the resolve pass
 * checks ids are unique and binds "#id" links to their items. page is the
 * page's index, pos the item's position in the model's page (items that
 * failed are not in it), index its position in the JSON array, run the
 * run's index (SIZE_MAX: the item's own link). */
struct folio_pend_id {
  const char *name;
  size_t page, pos, index;
};
struct folio_pend_link {
  struct folio_link *link;
  size_t page, index, run;
};

/* Everything the decode pass hands to the resolve pass. */
struct folio_pending {
  struct folio_layout_doc *doc;
  struct folio_arena *arena;
  struct folio_errs *errs;
  bool unit_given;
  struct folio_page_spec default_page;
  struct folio_page_spec *page_specs; /* n_pages, arena */
  /* named colours / styles / assets with their maps */
  const char **color_names;
  struct folio_nmap color_map;
  const char **style_names;
  struct folio_pstyle *styles;
  size_t n_styles;
  struct folio_nmap style_map;
  const char **asset_names;
  struct folio_nmap asset_map;
  /* text items in document order (page by page, item by item) */
  struct folio_text_ext **texts;
  size_t n_texts;
  struct folio_pend_id *ids;     /* document order */
  size_t n_ids;
  struct folio_pend_link *links; /* document order */
  size_t n_links;
  double max_page_side; /* pt */
  bool too_large;       /* set by the resolve pass for a page over max_page_side */
};

/* Binds names, applies units and defaults, flattens styles. Errors go to
 * p->errs. Returns -2 on OOM, else 0 (check p->errs->count). */
int folio_layout_resolve(struct folio_pending *p);

/* Named page sizes in pt (portrait); NULL name ends the table. */
struct folio_page_size {
  const char *name;
  double w, h;
};
extern const struct folio_page_size folio_page_sizes[];

#endif
