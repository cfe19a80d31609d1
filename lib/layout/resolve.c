/* The resolve pass: finishes the model decode.c left with placeholders.
 *
 * It walks the model (never the JSON) once, page by page, item by item, and
 *   - converts every length from the document unit to pt,
 *   - gives each page its size (page override > "page" default > A4) and
 *     orientation,
 *   - binds colour, style and asset names, reporting undefined ones at the
 *     JSON Pointer where they were used,
 *   - flattens text styles: defaults < named style < item fields < run fields,
 *   - checks the structure: ids unique, "#id" and "#page=N" links bound to
 *     their targets, each list's and table's items following each other in
 *     document order (artifacts may come between), cells in row order.
 * The text items' inline fields come from p->texts in document order, which is
 * the order this walk meets them. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "folio/pagebox.h"
#include "layout_int.h"

/* The public model is const for its readers; until decode returns, the decoder
 * owns it and this pass writes through it. */
static void *writable(const void *p) {
  void *q;
  memcpy(&q, &p, sizeof q);
  return q;
}

static const struct folio_color BLACK = {NULL, false, 0, 0, 0, 0, 0, 0, 0};

struct rs {
  struct folio_pending *p;
  struct folio_path_seg segs[6];
  size_t n;
};

__attribute__((format(printf, 3, 4))) static void rerr(struct rs *r, const char *extra,
                                                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  folio_errs_addv(r->p->errs, r->segs, r->n, extra, fmt, ap);
  va_end(ap);
}

static struct folio_path_seg key(const char *k) { return (struct folio_path_seg){k, strlen(k), 0}; }
static struct folio_path_seg idx(size_t i) { return (struct folio_path_seg){NULL, 0, i}; }

/* Binds a colour placeholder; literals (name NULL) pass through. */
static const struct folio_color *color(struct rs *r, const struct folio_color *c,
                                       const char *field) {
  if (!c || !c->name) return c;
  long i = folio_nmap_find(&r->p->color_map, r->p->color_names, c->name, strlen(c->name));
  if (i < 0) {
    rerr(r, field, "colour \"%s\" is not defined in /colors", c->name);
    return &BLACK;
  }
  return &r->p->doc->colors[i];
}

/* decode.c leaves -1 for "not given": the default is 1 pt in any unit. */
static double stroke_width(double v, double f) { return v < 0 ? 1.0 : v * f; }

static void apply(struct folio_text_style *dst, const struct folio_pstyle *ps) {
  unsigned m = ps->mask;
  if (m & FOLIO_PS_FONT) dst->font = ps->s.font;
  if (m & FOLIO_PS_WEIGHT) dst->weight = ps->s.weight;
  if (m & FOLIO_PS_FSTYLE) dst->style = ps->s.style;
  if (m & FOLIO_PS_SIZE) dst->size = ps->s.size;
  if (m & FOLIO_PS_COLOR) dst->color = ps->s.color;
  if (m & FOLIO_PS_ALIGN) dst->align = ps->s.align;
  if (m & FOLIO_PS_LH) dst->line_height = ps->s.line_height;
  if (m & FOLIO_PS_LS) dst->letter_spacing = ps->s.letter_spacing;
}

static void bind_pstyle(struct rs *r, struct folio_pstyle *ps) {
  if (ps->mask & FOLIO_PS_COLOR) ps->s.color = color(r, ps->s.color, "color");
}

static void page_dims(const struct folio_page_spec *spec, const struct folio_page_spec *def,
                      double f, struct folio_page *pg) {
  const struct folio_page_spec *sz = spec->has_size ? spec : def;
  if (sz->has_size) {
    pg->size_name = sz->size_name;
    pg->width = sz->size_name ? sz->w : sz->w * f;
    pg->height = sz->size_name ? sz->h : sz->h * f;
  } else {
    const struct folio_page_size *a4 = &folio_page_sizes[4];
    pg->size_name = a4->name;
    pg->width = a4->w;
    pg->height = a4->h;
  }
  int o = spec->orientation ? spec->orientation : def->orientation;
  double lo = pg->width < pg->height ? pg->width : pg->height;
  double hi = pg->width < pg->height ? pg->height : pg->width;
  if (o == 1) pg->width = lo, pg->height = hi;
  if (o == 2) pg->width = hi, pg->height = lo;
}

/* Bleed, marks and slug: the page's own fields over /page's, lengths to pt.
 * Reports a side or slug beyond its pt bound (or a slug too small for the
 * marks) where it was written: /pages/N/... or, once for every page, /page/...
 * (*reported_default). */
static void page_print(struct rs *r, size_t pi, const struct folio_page_spec *spec,
                       const struct folio_page_spec *def, double f, struct folio_page *pg,
                       unsigned *reported_default) {
  const struct folio_page_spec *bs = spec->has_bleed ? spec : def;
  const struct folio_page_spec *ms = spec->has_marks ? spec : def;
  const struct folio_page_spec *ss = spec->has_slug ? spec : def->has_slug ? def : NULL;
  if (bs->has_bleed)
    pg->bleed = (struct folio_sides){bs->bleed.top * f, bs->bleed.right * f, bs->bleed.bottom * f,
                                     bs->bleed.left * f};
  pg->marks = ms->has_marks ? ms->marks : 0;
  pg->slug = ss ? ss->slug * f : pg->marks ? FOLIO_LAYOUT_SLUG_DEFAULT_PT : 0;

  /* 1e-9: 25.4 mm is 72 pt give or take the last bit */
  const double eps = 1e-9;
  const struct folio_sides *b = &pg->bleed;
  double widest = fmax(fmax(b->top, b->right), fmax(b->bottom, b->left));
  bool bad_bleed = widest > FOLIO_LAYOUT_MAX_BLEED_PT + eps;
  bool bad_slug = pg->slug > FOLIO_LAYOUT_MAX_SLUG_PT + eps;
  bool thin_slug = ss && pg->marks && pg->slug < FOLIO_LAYOUT_SLUG_MIN_MARKS_PT - eps;
  const struct folio_page_spec *at[3] = {bs, ss, ss};
  const char *field[3] = {"bleed", "slug", "slug"};
  bool bad[3] = {bad_bleed, bad_slug, thin_slug};
  for (int k = 0; k < 3; k++) {
    if (!bad[k]) continue;
    bool own = at[k] == spec;
    if (!own && (*reported_default & (1u << k))) continue;
    if (!own) *reported_default |= 1u << k;
    r->segs[0] = key(own ? "pages" : "page");
    r->segs[1] = idx(pi);
    r->n = own ? 2 : 1;
    if (k == 0)
      rerr(r, field[k], "a side is %.4g pt; the bleed may be at most %g pt a side", widest,
           FOLIO_LAYOUT_MAX_BLEED_PT);
    else if (k == 1)
      rerr(r, field[k], "is %.4g pt; the slug may be at most %g pt", pg->slug, FOLIO_LAYOUT_MAX_SLUG_PT);
    else
      rerr(r, field[k], "is %.4g pt; with marks the slug must be at least %g pt", pg->slug,
           FOLIO_LAYOUT_SLUG_MIN_MARKS_PT);
  }
}

static void text_item(struct rs *r, struct folio_item *it, const struct folio_text_ext *ext) {
  struct folio_pending *p = r->p;
  struct folio_text_style st = {"DejaVu Sans", 400, FOLIO_FONT_STYLE_NORMAL, 12, &BLACK,
                                FOLIO_ALIGN_LEFT, 1.2, 0};
  if (it->u.text.style_name) {
    const char *n = it->u.text.style_name;
    long i = folio_nmap_find(&p->style_map, p->style_names, n, strlen(n));
    if (i < 0) rerr(r, "style", "style \"%s\" is not defined in /styles", n);
    else apply(&st, &p->styles[i]);
  }
  struct folio_pstyle inl = ext->inline_style;
  bind_pstyle(r, &inl);
  apply(&st, &inl);
  it->u.text.style = st;
  struct folio_run *runs = writable(it->u.text.runs);
  r->segs[r->n++] = key("runs");
  r->segs[r->n++] = idx(0);
  for (size_t k = 0; k < it->u.text.n_runs; k++) {
    r->segs[r->n - 1].index = k;
    struct folio_pstyle rp = ext->runs[k];
    bind_pstyle(r, &rp);
    runs[k].style = st;
    apply(&runs[k].style, &rp);
  }
  r->n -= 2;
}

/* The pointer of pending item (page, index[, runs/run]) + "field". */
static void at_item(struct rs *r, size_t page, size_t index, size_t run) {
  r->segs[0] = key("pages");
  r->segs[1] = idx(page);
  r->segs[2] = key("items");
  r->segs[3] = idx(index);
  r->n = 4;
  if (run != SIZE_MAX) {
    r->segs[4] = key("runs");
    r->segs[5] = idx(run);
    r->n = 6;
  }
}

/* Ids are unique; links name an id that exists, or a page that exists.
 * -2 on OOM. */
static int bind_links(struct rs *r) {
  struct folio_pending *p = r->p;
  struct folio_layout_doc *doc = p->doc;
  struct folio_nmap map = {0};
  const char **names = p->n_ids ? malloc(p->n_ids * sizeof *names) : NULL;
  if (p->n_ids && !names) return -2;
  int rc = 0;
  for (size_t i = 0; i < p->n_ids; i++) {
    const struct folio_pend_id *id = &p->ids[i];
    names[i] = id->name;
    long j = folio_nmap_find(&map, names, id->name, strlen(id->name));
    if (j >= 0) {
      at_item(r, id->page, id->index, SIZE_MAX);
      rerr(r, "id", "duplicate id \"%s\" (also at /pages/%zu/items/%zu; ids are unique in the document)",
           id->name, p->ids[j].page, p->ids[j].index);
    } else if (folio_nmap_put(&map, names, i) < 0) {
      rc = -2;
      goto out;
    }
  }
  for (size_t i = 0; i < p->n_links; i++) {
    const struct folio_pend_link *pl = &p->links[i];
    struct folio_link *l = pl->link;
    at_item(r, pl->page, pl->index, pl->run);
    if (l->kind == FOLIO_LINK_PAGE) {
      if (l->page >= doc->n_pages)
        rerr(r, "link", "page %zu is not defined (the document has %zu pages)", l->page + 1, doc->n_pages);
      continue;
    }
    long j = folio_nmap_find(&map, names, l->anchor, strlen(l->anchor));
    if (j < 0) {
      rerr(r, "link", "id \"%s\" is not defined (no item has it)", l->anchor);
      continue;
    }
    const struct folio_pend_id *id = &p->ids[j];
    if (id->page < doc->n_pages && id->pos < doc->pages[id->page].n_items) {
      l->page = id->page;
      l->item = &doc->pages[id->page].items[id->pos];
    }
  }
out:
  folio_nmap_free(&map);
  free(names);
  return rc;
}

/* Groups (lists, tables): a group's items follow each other in document
 * order, content items of no group or of another group close it, artifacts
 * do not. closed holds the names of the groups closed so far. */
struct groups {
  const char *open;          /* the group being read, or NULL */
  const char **names;        /* closed groups, malloc'd */
  size_t n, cap;
  struct folio_nmap closed;
  uint32_t row, col;         /* tables: the last cell */
};

/* -2 on OOM, -1 when name was closed before (an error), 0 otherwise.
 * name NULL: a content item outside any group. */
static int group_enter(struct groups *g, const char *name) {
  if (g->open && (!name || strcmp(g->open, name) != 0)) {
    if (g->n == g->cap) {
      size_t cap = g->cap ? g->cap * 2 : 16;
      const char **n = realloc(g->names, cap * sizeof *n);
      if (!n) return -2;
      g->names = n;
      g->cap = cap;
    }
    g->names[g->n++] = g->open;
    if (folio_nmap_put(&g->closed, g->names, g->n - 1) < 0) return -2;
    g->open = NULL;
  }
  if (!name || g->open) return 0;
  if (folio_nmap_find(&g->closed, g->names, name, strlen(name)) >= 0) return -1;
  g->open = name;
  g->row = g->col = 0;
  return 1;
}

static int check_groups(struct rs *r) {
  const struct folio_layout_doc *doc = r->p->doc;
  struct groups lists = {0}, tables = {0};
  int rc = 0;
  for (size_t pi = 0; pi < doc->n_pages && rc == 0; pi++) {
    const struct folio_page *pg = &doc->pages[pi];
    for (size_t ii = 0; ii < pg->n_items; ii++) {
      const struct folio_item *it = &pg->items[ii];
      if (it->role == FOLIO_ROLE_ARTIFACT) continue;
      at_item(r, pi, it->index, SIZE_MAX);
      int a = group_enter(&lists, it->list);
      int b = group_enter(&tables, it->table);
      if (a == -2 || b == -2) {
        rc = -2;
        break;
      }
      if (a == -1)
        rerr(r, "list", "list \"%s\" was interrupted: its items must follow each other in document order "
             "(artifacts may come between)", it->list);
      if (b == -1)
        rerr(r, "table", "table \"%s\" was interrupted: its cells must follow each other in document order "
             "(artifacts may come between)", it->table);
      if (b == 0 && it->table &&
          (it->row < tables.row || (it->row == tables.row && it->col < tables.col)))
        rerr(r, "row", "table \"%s\": cells must come in document order row by row, columns left to right "
             "(row %u, col %u after row %u, col %u)", it->table, it->row, it->col, tables.row, tables.col);
      if (it->table) tables.row = it->row, tables.col = it->col;
    }
  }
  folio_nmap_free(&lists.closed);
  folio_nmap_free(&tables.closed);
  free(lists.names);
  free(tables.names);
  return rc;
}

int folio_layout_resolve(struct folio_pending *p) {
  struct folio_layout_doc *doc = p->doc;
  struct rs r = {p, {{0}}, 0};
  double f = folio_unit_to_pt(doc->unit, 1.0);

  /* Colours inside named styles are checked once, where they are defined. */
  for (size_t s = 0; s < p->n_styles; s++) {
    r.segs[0] = key("styles");
    r.segs[1] = key(p->style_names[s]);
    r.n = 2;
    bind_pstyle(&r, &p->styles[s]);
  }

  size_t ti = 0;
  bool big_default = false;
  unsigned print_reported = 0;
  for (size_t pi = 0; pi < doc->n_pages; pi++) {
    struct folio_page *pg = writable(&doc->pages[pi]);
    page_dims(&p->page_specs[pi], &p->default_page, f, pg);
    page_print(&r, pi, &p->page_specs[pi], &p->default_page, f, pg, &print_reported);
    /* the media box (trim + bleed + slug) is what a PDF reader must hold */
    struct folio_page_boxes bx;
    folio_layout_page_boxes(pg, &bx);
    if (bx.media_w > p->max_page_side || bx.media_h > p->max_page_side) {
      /* at the size that made it: the page's own, or /page once for all */
      bool own = p->page_specs[pi].has_size;
      if (own || !big_default) {
        r.segs[0] = key(own ? "pages" : "page");
        r.segs[1] = idx(pi);
        r.n = own ? 2 : 1;
        rerr(&r, "size", "page is %.0f x %.0f pt%s; a side may be at most max_page_side = %.0f pt",
             bx.media_w, bx.media_h, folio_layout_page_plain(pg) ? "" : " with bleed and slug",
             p->max_page_side);
        p->too_large = true;
        big_default = big_default || !own;
      }
    }
    r.segs[0] = key("pages");
    r.segs[1] = idx(pi);
    r.segs[2] = key("items");
    r.segs[3] = idx(0);
    r.n = 4;
    for (size_t ii = 0; ii < pg->n_items; ii++) {
      struct folio_item *it = writable(&pg->items[ii]);
      r.segs[3].index = it->index;
      it->x *= f, it->y *= f, it->w *= f, it->h *= f;
      switch (it->kind) {
        case FOLIO_ITEM_TEXT:
          if (ti < p->n_texts) text_item(&r, it, p->texts[ti++]);
          break;
        case FOLIO_ITEM_IMAGE: {
          const char *n = it->u.image.asset ? it->u.image.asset->name : NULL;
          if (!n) break;
          long a = folio_nmap_find(&p->asset_map, p->asset_names, n, strlen(n));
          if (a < 0) rerr(&r, "asset", "asset \"%s\" is not defined in /assets", n);
          else it->u.image.asset = &doc->assets[a];
          break;
        }
        case FOLIO_ITEM_RECT:
        case FOLIO_ITEM_ELLIPSE:
          it->u.shape.fill = color(&r, it->u.shape.fill, "fill");
          it->u.shape.stroke = color(&r, it->u.shape.stroke, "stroke");
          it->u.shape.stroke_width = stroke_width(it->u.shape.stroke_width, f);
          it->u.shape.radius *= f;
          break;
        case FOLIO_ITEM_LINE: {
          it->u.line.stroke =
              it->u.line.stroke ? color(&r, it->u.line.stroke, "stroke") : &BLACK;
          it->u.line.stroke_width = stroke_width(it->u.line.stroke_width, f);
          double x1 = it->u.line.x1 *= f, y1 = it->u.line.y1 *= f;
          double x2 = it->u.line.x2 *= f, y2 = it->u.line.y2 *= f;
          it->x = x1 < x2 ? x1 : x2;
          it->y = y1 < y2 ? y1 : y2;
          it->w = x1 < x2 ? x2 - x1 : x1 - x2;
          it->h = y1 < y2 ? y2 - y1 : y1 - y2;
          break;
        }
      }
    }
  }
  if (bind_links(&r) < 0 || check_groups(&r) < 0) return -2;
  return p->errs->oom ? -2 : 0;
}
