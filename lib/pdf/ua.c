/* PDF/UA-1 post-processing: what cairo 1.16 cannot write into a tagged PDF
 * (docs/internals/render.md, "Tagged PDF"; docs/internals/pdf.md,
 * "PDF/UA-1"), through qpdf's C API:
 *   - the attributes the render reported (/Alt, /Lang, a TH's /A /Scope) on
 *     their structure elements, found by a pre-order walk of /StructTreeRoot
 *   - content outside every marked-content sequence wrapped as
 *     /Artifact BMC ... EMC (veraPDF PDF/UA-1 7.1-3: content is either
 *     tagged or an artifact)
 *   - /Contents on /Link annotations (7.18.5-2)
 * qpdf's C API has no content-stream tokenizer (its ParserCallbacks are
 * C++), so the wrapper lexes the page's content itself: PDF's token grammar
 * (ISO 32000-1 7.2, 8.9.7 for inline images) is small, and only operator
 * positions matter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdf_int.h"

/* ---- structure attributes ------------------------------------------------------ */

struct elems {
  qpdf_oh *v;
  size_t n, cap;
  size_t want; /* stop once this many are found */
  bool nomem;
};

static void elems_walk(qpdf_data q, qpdf_oh k, struct elems *e, int depth) {
  if (depth > FOLIO_PDF_STRUCT_DEPTH_MAX || e->nomem || e->n >= e->want) return;
  if (qpdf_oh_is_array(q, k)) {
    int n = qpdf_oh_get_array_n_items(q, k);
    for (int i = 0; i < n && e->n < e->want && !e->nomem; i++)
      elems_walk(q, qpdf_oh_get_array_item(q, k, i), e, depth + 1);
    return;
  }
  if (!qpdf_oh_is_dictionary(q, k) || !qpdf_oh_has_key(q, k, "/S")) return; /* MCID, MCR, OBJR */
  if (e->n == e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 256;
    qpdf_oh *v = realloc(e->v, cap * sizeof *v);
    if (!v) {
      e->nomem = true;
      return;
    }
    e->v = v;
    e->cap = cap;
  }
  e->v[e->n++] = k;
  elems_walk(q, qpdf_oh_get_key(q, k, "/K"), e, depth + 1);
}

int folio_pdf_struct_attrs(qpdf_data q, const struct folio_pdf_attrs *a, struct folio_pdf_diag *diag) {
  if (!a || !a->n) return 0;
  size_t want = 0;
  for (size_t i = 0; i < a->n; i++)
    if (a->v[i].elem + 1 > want) want = a->v[i].elem + 1;
  if (want > FOLIO_PDF_STRUCT_ELEMS_MAX)
    return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "attrs", "element %zu is past the %u elements walked",
                          want - 1, FOLIO_PDF_STRUCT_ELEMS_MAX);
  qpdf_oh tree = qpdf_oh_get_key(q, qpdf_get_root(q), "/StructTreeRoot");
  if (!qpdf_oh_is_dictionary(q, tree))
    return folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "attrs",
                          "structure attributes given but the PDF is not tagged (no /StructTreeRoot)");
  struct elems e = {.want = want};
  elems_walk(q, qpdf_oh_get_key(q, tree, "/K"), &e, 0);
  int rc = 0;
  if (e.nomem) rc = folio_pdf_fail(diag, FOLIO_PDF_E_NOMEM, NULL, "out of memory");
  for (size_t i = 0; !rc && i < a->n; i++) {
    const struct folio_pdf_elem_attr *x = &a->v[i];
    if (x->elem >= e.n) {
      rc = folio_pdf_fail(diag, FOLIO_PDF_E_PDF, "attrs", "element %zu (%s) reported; the tree has %zu",
                          x->elem, x->type ? x->type : "?", e.n);
      break;
    }
    qpdf_oh el = e.v[x->elem];
    /* the index must land on the element the render meant: a mismatch is a
     * bug between lib/render and here, and writing anyway would put the alt
     * text of one figure on another element */
    char s[40];
    snprintf(s, sizeof s, "/%s", x->type ? x->type : "");
    if (!qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, el, "/S"), s)) {
      rc = folio_pdf_fail(diag, FOLIO_PDF_E_PDF, "attrs", "element %zu is %s, reported as %s", x->elem,
                          qpdf_oh_get_name(q, qpdf_oh_get_key(q, el, "/S")), s);
      break;
    }
    if (x->alt) qpdf_oh_replace_key(q, el, "/Alt", qpdf_oh_new_unicode_string(q, x->alt));
    if (x->lang) qpdf_oh_replace_key(q, el, "/Lang", qpdf_oh_new_unicode_string(q, x->lang));
    if (x->scope) {
      bool col = strcmp(x->scope, "Column") == 0;
      if (!col && strcmp(x->scope, "Row") != 0) {
        rc = folio_pdf_fail(diag, FOLIO_PDF_E_ARG, "attrs", "element %zu: scope must be Column or Row",
                            x->elem);
        break;
      }
      qpdf_oh_replace_key(q, el, "/A",
                          qpdf_oh_parse(q, col ? "<< /O /Table /Scope /Column >>" : "<< /O /Table /Scope /Row >>"));
    }
  }
  free(e.v);
  if (!rc && qpdf_has_error(q)) {
    qpdf_error err = qpdf_get_error(q);
    rc = folio_pdf_fail(diag, FOLIO_PDF_E_PDF, NULL, "structure attributes: %s",
                        err ? qpdf_get_error_full_text(q, err) : "unknown qpdf error");
  }
  return rc;
}

/* ---- artifacts ------------------------------------------------------------------ */

static bool is_ws(unsigned char c) { return c == 0 || c == 9 || c == 10 || c == 12 || c == 13 || c == 32; }
static bool is_delim(unsigned char c) { return strchr("()<>[]{}/%", c) && c; }

/* Skips one operand or operator token at p; returns the end, *op set when
 * it was an operator (then [p, end) is its name). -1 on malformed input. */
static long token(const unsigned char *s, size_t len, size_t p, bool *op) {
  *op = false;
  unsigned char c = s[p];
  if (c == '(') { /* a literal string: balanced parentheses, backslash escapes */
    int nest = 0;
    for (size_t i = p; i < len; i++) {
      if (s[i] == '\\') i++;
      else if (s[i] == '(') nest++;
      else if (s[i] == ')' && --nest == 0) return (long)(i + 1);
    }
    return -1;
  }
  if (c == '<' && p + 1 < len && s[p + 1] == '<') return (long)(p + 2);
  if (c == '>' && p + 1 < len && s[p + 1] == '>') return (long)(p + 2);
  if (c == '<') { /* a hex string */
    const unsigned char *e = memchr(s + p, '>', len - p);
    return e ? (long)(e - s + 1) : -1;
  }
  if (c == '[' || c == ']' || c == '{' || c == '}') return (long)(p + 1);
  if (c == ')' || c == '>') return -1;
  size_t i = p + 1;
  if (c == '/') { /* a name */
    while (i < len && !is_ws(s[i]) && !is_delim(s[i])) i++;
    return (long)i;
  }
  while (i < len && !is_ws(s[i]) && !is_delim(s[i])) i++;
  /* a number, true/false/null, else an operator */
  bool num = c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9');
  size_t n = i - p;
  bool kw = (n == 4 && (!memcmp(s + p, "true", 4) || !memcmp(s + p, "null", 4))) ||
            (n == 5 && !memcmp(s + p, "false", 5));
  *op = !num && !kw;
  return (long)i;
}

static bool op_is(const unsigned char *s, size_t a, size_t b, const char *name) {
  return b - a == strlen(name) && memcmp(s + a, name, b - a) == 0;
}

/* The end of an inline image's data: after "ID" and one white-space byte,
 * up to white space, "EI" and white space (or the end). -1 if none. */
static long inline_image_end(const unsigned char *s, size_t len, size_t p) {
  for (size_t i = p + 1; i + 2 <= len; i++)
    if (is_ws(s[i - 1]) && s[i] == 'E' && s[i + 1] == 'I' && (i + 2 == len || is_ws(s[i + 2]) || is_delim(s[i + 2])))
      return (long)(i + 2);
  return -1;
}

int folio_pdf_wrap_artifacts(const unsigned char *s, size_t len, struct folio_str *out, bool *changed) {
  static const char open_a[] = "/Artifact BMC\n", close_a[] = "EMC\n";
  *changed = false;
  size_t p = 0, copied = 0, op_start = 0;
  bool have_start = false, artifact = false;
  long depth = 0; /* marked-content nesting of the stream's own BDC/BMC */
  while (p < len) {
    if (is_ws(s[p])) {
      p++;
      continue;
    }
    if (s[p] == '%') {
      while (p < len && s[p] != '\n' && s[p] != '\r') p++;
      continue;
    }
    bool op;
    long e = token(s, len, p, &op);
    if (e < 0) return -1;
    if (!have_start) {
      op_start = p;
      have_start = true;
    }
    size_t end = (size_t)e;
    if (!op) {
      p = end;
      continue;
    }
    if (op_is(s, p, end, "BI")) { /* an inline image: its dictionary, ID, the data, EI */
      size_t q = end;
      for (;;) {
        while (q < len && is_ws(s[q])) q++;
        if (q >= len) return -1;
        bool iop;
        long qe = token(s, len, q, &iop);
        if (qe < 0) return -1;
        if (iop && op_is(s, q, (size_t)qe, "ID")) {
          long ie = inline_image_end(s, len, (size_t)qe);
          if (ie < 0) return -1;
          end = (size_t)ie;
          break;
        }
        q = (size_t)qe;
      }
    }
    bool begin = op_is(s, p, end, "BDC") || op_is(s, p, end, "BMC");
    bool finish = op_is(s, p, end, "EMC");
    if (depth == 0 && (begin || finish) && artifact) {
      /* close ours before the stream's own sequence starts */
      folio_str_append(out, (const char *)s + copied, op_start - copied);
      folio_str_append(out, close_a, sizeof close_a - 1);
      copied = op_start;
      artifact = false;
    }
    if (begin) depth++;
    else if (finish) {
      if (depth == 0) return -1; /* an EMC without its BMC/BDC: not ours to guess */
      depth--;
    } else if (depth == 0 && !artifact) {
      folio_str_append(out, (const char *)s + copied, op_start - copied);
      folio_str_append(out, open_a, sizeof open_a - 1);
      copied = op_start;
      artifact = true;
      *changed = true;
    }
    have_start = false;
    p = end;
  }
  folio_str_append(out, (const char *)s + copied, len - copied);
  if (artifact) folio_str_append(out, "\n" "EMC\n", 5);
  if (depth != 0) return -1;
  return out->oom ? -2 : 0;
}

/* ---- pages ------------------------------------------------------------------------ */

static void link_contents(qpdf_data q, qpdf_oh annots) {
  int n = qpdf_oh_get_array_n_items(q, annots);
  for (int i = 0; i < n; i++) {
    qpdf_oh a = qpdf_oh_get_array_item(q, annots, i);
    if (!qpdf_oh_is_dictionary(q, a) || !qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, a, "/Subtype"), "/Link") ||
        qpdf_oh_has_key(q, a, "/Contents"))
      continue;
    /* the alternate description: where it goes (the render's link target) */
    qpdf_oh act = qpdf_oh_get_key(q, a, "/A"), dest = qpdf_oh_get_key(q, a, "/Dest");
    qpdf_oh uri = qpdf_oh_is_dictionary(q, act) ? qpdf_oh_get_key(q, act, "/URI") : qpdf_oh_new_null(q);
    struct folio_str b = {0};
    if (qpdf_oh_is_string(q, uri)) {
      folio_str_puts(&b, "Link to ");
      folio_str_puts(&b, qpdf_oh_get_utf8_value(q, uri));
    } else if (qpdf_oh_is_string(q, dest)) {
      folio_str_puts(&b, "Go to ");
      folio_str_puts(&b, qpdf_oh_get_utf8_value(q, dest));
    } else {
      folio_str_puts(&b, "Link");
    }
    if (!b.oom) qpdf_oh_replace_key(q, a, "/Contents", qpdf_oh_new_unicode_string(q, b.p));
    folio_str_free(&b);
  }
}

int folio_pdf_ua_page(qpdf_data q, qpdf_oh page, int pageno, struct folio_pdf_diag *diag) {
  qpdf_oh annots = qpdf_oh_get_key(q, page, "/Annots");
  if (qpdf_oh_is_array(q, annots)) link_contents(q, annots);
  unsigned char *data = NULL;
  size_t len = 0;
  if (qpdf_oh_get_page_content_data(q, page, &data, &len) & QPDF_ERRORS) {
    free(data);
    qpdf_error e = qpdf_get_error(q);
    return folio_pdf_fail(diag, FOLIO_PDF_E_PDF, NULL, "page %d's content: %s", pageno,
                          e ? qpdf_get_error_full_text(q, e) : "unreadable");
  }
  struct folio_str out = {0};
  bool changed = false;
  int rc = folio_pdf_wrap_artifacts(data, len, &out, &changed);
  free(data);
  if (rc == -2) {
    folio_str_free(&out);
    return folio_pdf_fail(diag, FOLIO_PDF_E_NOMEM, NULL, "out of memory");
  }
  if (rc) {
    folio_str_free(&out);
    return folio_pdf_fail(diag, FOLIO_PDF_E_PDF, NULL,
                          "page %d's content stream cannot be parsed (or its marked content is unbalanced)",
                          pageno);
  }
  if (changed) {
    /* one new stream in place of the page's (cairo writes one a page);
     * the writer compresses it (folio_pdf_finish, PDF/UA) */
    qpdf_oh st = qpdf_oh_new_stream(q);
    qpdf_oh_replace_stream_data(q, st, (const unsigned char *)out.p, out.len, qpdf_oh_new_null(q),
                                qpdf_oh_new_null(q));
    qpdf_oh_replace_key(q, page, "/Contents", st);
  }
  folio_str_free(&out);
  return 0;
}
