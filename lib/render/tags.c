/* Tagged PDF through cairo 1.16's tag API: the structure tree, links, named
 * destinations, the outline and page labels (docs/internals/render.md,
 * "Tagged PDF").
 *
 * cairo builds the structure tree from the nesting of cairo_tag_begin/end
 * around what is drawn, so the tree's order is the painting order: reading
 * order is document order. The painter calls folio_tags_item_begin/end
 * around each item; this file opens and closes the groups (L/LI, Table/TR/
 * TD) as the items come, and keeps its own stack of open tags so that every
 * begin gets its end, also when a render stops half-way (cairo 1.16 can
 * crash finishing a surface whose tags went wrong).
 *
 * What cairo 1.16 marks: only the leaves of the tree get marked content
 * (BDC with an MCID); content drawn directly in an element that has child
 * elements is left unmarked. So every piece of content here is drawn inside
 * a leaf: a text with links in its runs is P > (Span | Link)*, never P with
 * text of its own and a Link child. Artifacts are drawn outside any tag
 * (cairo 1.16 has no Artifact tag) and come out unmarked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>

#include "render_int.h"

/* Outline titles are cut to this many bytes (at a character boundary). */
#define OUTLINE_TITLE_MAX 256

static void push(struct folio_tags *t, const char *name, const char *attrs) {
  if (t->depth == sizeof t->stack / sizeof t->stack[0]) abort(); /* a bug: nesting is at most 8 deep */
  cairo_tag_begin(t->cr, name, attrs);
  t->stack[t->depth++] = name;
  if (strcmp(name, CAIRO_TAG_DEST) != 0) t->n_elems++; /* every other tag is a structure element */
}

static void pop(struct folio_tags *t) {
  if (t->depth) cairo_tag_end(t->cr, t->stack[--t->depth]);
}

/* Pops down to (and including) the innermost open tag called name; nothing if none is open. */
static void pop_to(struct folio_tags *t, const char *name) {
  size_t i = t->depth;
  while (i > 0 && strcmp(t->stack[i - 1], name) != 0) i--;
  if (i == 0) return;
  while (t->depth >= i) pop(t);
}

/* Pops the tags above the innermost open tag called name (it stays open). */
static void pop_above(struct folio_tags *t, const char *name) {
  size_t i = t->depth;
  while (i > 0 && strcmp(t->stack[i - 1], name) != 0) i--;
  if (i == 0) return;
  while (t->depth > i) pop(t);
}

/* s as a cairo attribute string value: ' and \ escaped. false if it does not fit. */
static bool quote(char *out, size_t cap, const char *s) {
  size_t o = 0;
  for (; *s; s++) {
    if (o + 3 >= cap) return false;
    if (*s == '\'' || *s == '\\') out[o++] = '\\';
    out[o++] = *s;
  }
  out[o] = 0;
  return true;
}

void folio_tags_init(struct folio_tags *t, cairo_t *cr, cairo_surface_t *surface, const struct folio_layout_doc *doc,
                     const size_t *pages, size_t n) {
  memset(t, 0, sizeof *t);
  t->cr = cr;
  t->surface = surface;
  t->doc = doc;
  t->pages = pages;
  t->n_pages = n;
  /* Pages that "#page=N" links go to get a named destination "page=N" (a
   * name no id can have): cairo 1.16 resolves "page=N" links only to pages
   * already written, named destinations at the end. */
  t->page_dest = calloc(doc->n_pages, 1);
  for (size_t i = 0; i < doc->n_pages; i++) {
    const struct folio_page *pg = &doc->pages[i];
    if (pg->label) t->labels = true;
    for (size_t k = 0; t->page_dest && k < pg->n_items; k++) {
      const struct folio_item *it = &pg->items[k];
      if (it->link && it->link->kind == FOLIO_LINK_PAGE) t->page_dest[it->link->page] = 1;
      for (size_t r = 0; it->kind == FOLIO_ITEM_TEXT && r < it->u.text.n_runs; r++) {
        const struct folio_link *l = it->u.text.runs[r].link;
        if (l && l->kind == FOLIO_LINK_PAGE) t->page_dest[l->page] = 1;
      }
    }
  }
  push(t, "Document", NULL);
}

/* 1-based page of the output for page index pg of the document, 0 when not rendered. */
static size_t out_page(const struct folio_tags *t, size_t pg) {
  size_t lo = 0, hi = t->n_pages; /* the selection is ascending */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (t->pages[mid] < pg) lo = mid + 1;
    else hi = mid;
  }
  return lo < t->n_pages && t->pages[lo] == pg ? lo + 1 : 0;
}

void folio_tags_page(struct folio_tags *t, size_t page_index) {
  t->page = page_index;
  if (t->page_dest && t->page_dest[page_index]) {
    char a[64];
    snprintf(a, sizeof a, "name='page=%zu' x=0 y=0", page_index + 1);
    cairo_tag_begin(t->cr, CAIRO_TAG_DEST, a);
    cairo_tag_end(t->cr, CAIRO_TAG_DEST);
  }
  if (!t->labels) return;
  /* Every page gets a label once any has one: the PDF's label tree must
   * start at the first page, and an unlabelled page keeps its number. */
  const char *label = t->doc->pages[page_index].label;
  char num[24];
  char *clean = NULL;
  if (label) {
    clean = folio_text_clean(label);
    label = clean;
  } else {
    snprintf(num, sizeof num, "%zu", page_index + 1);
    label = num;
  }
  if (label) cairo_pdf_surface_set_page_label(t->surface, label);
  free(clean);
}

/* The cairo link attributes for l, or false when its target is not in this
 * PDF (a page left out by the page selection): the content stays, unlinked. */
static bool link_attrs(const struct folio_tags *t, const struct folio_link *l, char *out, size_t cap) {
  char q[FOLIO_LAYOUT_MAX_LINK_CHARS * 2 + 1];
  switch (l->kind) {
    case FOLIO_LINK_URI:
      if (!quote(q, sizeof q, l->target)) return false;
      snprintf(out, cap, "uri='%s'", q);
      return true;
    case FOLIO_LINK_ANCHOR:
      if (!out_page(t, l->page) || !quote(q, sizeof q, l->anchor)) return false;
      snprintf(out, cap, "dest='%s'", q);
      return true;
    case FOLIO_LINK_PAGE:
      if (!t->page_dest || !out_page(t, l->page)) return false;
      snprintf(out, cap, "dest='page=%zu'", l->page + 1);
      return true;
  }
  return false;
}

/* The structure element of a content item's role. */
static const char *element(enum folio_role r) {
  switch (r) {
    case FOLIO_ROLE_H1: return "H1";
    case FOLIO_ROLE_H2: return "H2";
    case FOLIO_ROLE_H3: return "H3";
    case FOLIO_ROLE_H4: return "H4";
    case FOLIO_ROLE_H5: return "H5";
    case FOLIO_ROLE_H6: return "H6";
    case FOLIO_ROLE_CAPTION: return "Caption";
    case FOLIO_ROLE_QUOTE: return "BlockQuote";
    case FOLIO_ROLE_CODE: return "Code";
    case FOLIO_ROLE_FIGURE: return "Figure";
    case FOLIO_ROLE_LIST_LABEL: return "Lbl";
    case FOLIO_ROLE_LIST_ITEM: return "LBody";
    default: return "P";
  }
}

/* A heading's outline entry, nested under the last heading of a higher level. */
static void outline(struct folio_tags *t, const struct folio_item *it) {
  int level = (int)(it->role - FOLIO_ROLE_H1) + 1;
  char title[OUTLINE_TITLE_MAX + 1];
  size_t o = 0;
  for (size_t i = 0; i < it->u.text.n_runs; i++) {
    const struct folio_run *r = &it->u.text.runs[i];
    for (size_t k = 0; k < r->text_len;) {
      bool keep;
      size_t cl = folio_text_char(r->text + k, r->text_len - k, &keep);
      if (o + cl > OUTLINE_TITLE_MAX) goto full;
      if (keep) {
        bool space = cl == 1 && (r->text[k] == '\n' || r->text[k] == '\t' || r->text[k] == ' ');
        if (space) {
          if (o && title[o - 1] != ' ') title[o++] = ' ';
        } else {
          memcpy(title + o, r->text + k, cl), o += cl;
        }
      }
      k += cl;
    }
  }
full:
  while (o && title[o - 1] == ' ') o--;
  title[o] = 0;
  if (!o) return; /* an empty heading has nothing to show in the outline */
  int parent = CAIRO_PDF_OUTLINE_ROOT;
  for (int l = level - 1; l >= 1; l--)
    if (t->outline[l]) {
      parent = t->outline[l];
      break;
    }
  char dest[96];
  snprintf(dest, sizeof dest, "page=%zu pos=[%d %d]", out_page(t, t->page), (int)it->x, (int)it->y);
  int id = cairo_pdf_surface_add_outline(t->surface, parent, title, dest, CAIRO_PDF_OUTLINE_FLAG_OPEN);
  t->outline[level] = id;
  for (int l = level + 1; l <= 6; l++) t->outline[l] = 0;
}

/* Closes the groups the item does not belong to, opens the ones it does. */
/* Reports what cairo leaves out of the element just begun. */
static void report(struct folio_tags *t, const char *type, const char *alt, const char *lang, const char *scope) {
  if (!t->attr || (!alt && !lang && !scope)) return;
  struct folio_pdf_struct_attr a = {t->n_elems - 1, type, alt, lang, scope};
  t->attr(t->attr_ctx, &a);
}

static void groups(struct folio_tags *t, const struct folio_item *it) {
  if (t->list && (!it->list || strcmp(t->list, it->list) != 0)) {
    pop_to(t, "L");
    t->list = NULL;
    t->label_only = false; /* a label that ended its list has no body */
  }
  if (t->table && (!it->table || strcmp(t->table, it->table) != 0)) {
    pop_to(t, "Table");
    t->table = NULL;
  }
  if (it->list) {
    if (!t->list) {
      push(t, "L", NULL);
      t->list = it->list;
    }
    /* a label starts a list item; a body joins the item its label started */
    bool joins = it->role == FOLIO_ROLE_LIST_ITEM && t->label_only;
    if (!joins) {
      pop_to(t, "LI");
      push(t, "LI", NULL);
    }
    t->label_only = it->role == FOLIO_ROLE_LIST_LABEL;
  }
  if (it->table) {
    bool fresh = !t->table;
    if (fresh) {
      push(t, "Table", NULL);
      t->table = it->table;
    }
    bool row = fresh || it->row != t->row;
    if (row) {
      pop_to(t, "TR");
      push(t, "TR", NULL);
    } else if (it->col != t->col) {
      pop_above(t, "TR");
    }
    if (row || it->col != t->col) {
      push(t, it->header ? "TH" : "TD", NULL);
      /* a header cell in the first row heads its column, elsewhere its row */
      if (it->header) report(t, "TH", NULL, NULL, it->row == 0 ? "Column" : "Row");
    }
    t->row = it->row;
    t->col = it->col;
  }
}

/* A named destination at the item's top-left corner (its box before
 * rotation): "#id" links and viewers' "file.pdf#nameddest=id" go there, also
 * when the item draws nothing. Ids are names (64 bytes, no quotes). */
void folio_tags_anchor(struct folio_tags *t, const struct folio_item *it) {
  char q[140], a[200];
  if (!it->id || !quote(q, sizeof q, it->id)) return;
  snprintf(a, sizeof a, "name='%s' x=%d y=%d", q, (int)it->x, (int)it->y);
  cairo_tag_begin(t->cr, CAIRO_TAG_DEST, a);
  cairo_tag_end(t->cr, CAIRO_TAG_DEST);
}

bool folio_tags_item_begin(struct folio_tags *t, const struct folio_item *it) {
  t->item_depth = t->depth;
  t->run_link = false;
  char attrs[FOLIO_LAYOUT_MAX_LINK_CHARS * 2 + 64];
  if (it->role == FOLIO_ROLE_ARTIFACT) {
    /* Artifacts stay outside the structure, but inside the groups open
     * around them: cairo leaves them unmarked either way. An anchor still
     * gets its destination. */
    folio_tags_anchor(t, it);
    return false;
  }
  groups(t, it);
  t->item_depth = t->depth;
  push(t, element(it->role), NULL);
  report(t, element(it->role), it->role == FOLIO_ROLE_FIGURE ? it->alt : NULL, it->lang, NULL);
  if (it->role >= FOLIO_ROLE_H1 && it->role <= FOLIO_ROLE_H6 && it->kind == FOLIO_ITEM_TEXT) outline(t, it);
  folio_tags_anchor(t, it);
  if (it->link && link_attrs(t, it->link, attrs, sizeof attrs)) push(t, CAIRO_TAG_LINK, attrs);
  return true;
}

void folio_tags_run(struct folio_tags *t, const struct folio_link *link) {
  if (t->run_link) pop(t);
  char attrs[FOLIO_LAYOUT_MAX_LINK_CHARS * 2 + 64];
  if (link && link_attrs(t, link, attrs, sizeof attrs)) push(t, CAIRO_TAG_LINK, attrs);
  else push(t, "Span", NULL);
  t->run_link = true;
}

void folio_tags_item_end(struct folio_tags *t, const struct folio_item *it) {
  /* down to the element: the group tags below it stay open for the next item */
  while (t->depth > t->item_depth) pop(t);
  if (it->role == FOLIO_ROLE_ARTIFACT) return;
  if (it->role == FOLIO_ROLE_LIST_ITEM) {
    pop_to(t, "LI"); /* a body ends its list item */
    t->label_only = false;
  }
}

void folio_tags_finish(struct folio_tags *t) {
  while (t->depth) pop(t);
  free(t->page_dest);
  t->page_dest = NULL;
}
