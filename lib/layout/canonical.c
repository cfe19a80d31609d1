/* The canonical form of a JSON document (folio/layout.h,
 * folio_layout_canonical): the bytes the render cache hashes, so that the
 * same document written with other whitespace, member order, string escapes
 * or number spellings gives the same key.
 *
 * The rules (docs/internals/layout.md, "Canonical form"):
 *  - no whitespace outside strings;
 *  - object members sorted by their canonical key text (the key as written
 *    by the string rule below, quotes included), bytewise, shorter first on
 *    a common prefix; equal keys (the decoder refuses them) keep their order;
 *  - array elements in their order;
 *  - strings unescaped, then written with `"` and `\` escaped as \" and \\,
 *    U+0008/0009/000A/000C/000D as \b \t \n \f \r, other code points below
 *    U+0020 as \u00xx (lower-case hex), everything else as raw UTF-8;
 *  - numbers parsed as the decoder parses them (an IEEE double, the same
 *    lexer); an integer of magnitude below 2^53 written in decimal digits
 *    ("%.0f": 100, -3), any other value as the shortest "%.{1..17}g" (C
 *    locale) that reads back to the same double (0.5, 1e+21); -0 is
 *    written 0; an overflow (inf) is refused;
 *  - true, false, null as themselves.
 * Uses the layout decoder's own lexer, so "the same document" means the
 * same thing to the cache and to the decoder. Recursion is bounded by
 * max_depth (the decoder's limit, default 32). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/str.h"
#include "layout_int.h"

static void put_string(struct folio_str *b, const char *s, size_t n);

/* A lexed string: one written without escapes holds no '"', '\\' or control
 * character (the lexer refuses them raw), so it is canonical as it stands. */
static void put_lexed(struct folio_str *b, const struct folio_lx_str *k) {
  if (k->escaped) {
    put_string(b, k->s, k->len);
    return;
  }
  folio_str_append(b, "\"", 1);
  folio_str_append(b, k->s, k->len);
  folio_str_append(b, "\"", 1);
}

static void put_string(struct folio_str *b, const char *s, size_t n) {
  folio_str_append(b, "\"", 1);
  size_t run = 0; /* bytes copied as they are, flushed before each escape */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char u[7];
    if (c == '"') esc = "\\\"";
    else if (c == '\\') esc = "\\\\";
    else if (c == '\b') esc = "\\b";
    else if (c == '\t') esc = "\\t";
    else if (c == '\n') esc = "\\n";
    else if (c == '\f') esc = "\\f";
    else if (c == '\r') esc = "\\r";
    else if (c < 0x20) {
      snprintf(u, sizeof u, "\\u%04x", c);
      esc = u;
    }
    if (!esc) {
      run++;
      continue;
    }
    folio_str_append(b, s + i - run, run);
    run = 0;
    folio_str_append(b, esc, strlen(esc));
  }
  folio_str_append(b, s + n - run, run);
  folio_str_append(b, "\"", 1);
}

/* The shortest %.Ng that reads back as v, through the decoder's own lexer
 * (so neither side depends on the process locale). */
static int put_number(struct folio_str *b, double v) {
  if (!isfinite(v)) return -1;
  if (v == 0) v = 0; /* -0 -> 0 */
  char s[40];
  if (v == floor(v) && fabs(v) < 9007199254740992.0) { /* an integer below 2^53: exact */
    int n = snprintf(s, sizeof s, "%.0f", v);
    folio_str_append(b, s, (size_t)n);
    return 0;
  }
  for (int prec = 1; prec <= 17; prec++) {
    int n = snprintf(s, sizeof s, "%.*g", prec, v);
    for (int i = 0; i < n; i++)
      if (s[i] == ',') s[i] = '.'; /* a locale with a decimal comma */
    struct folio_lx lx;
    folio_lx_init(&lx, s, (size_t)n, 1);
    double back;
    int rc = folio_lx_number(&lx, &back);
    folio_lx_fini(&lx);
    if (rc == 0 && lx.p == lx.end && back == v) {
      folio_str_append(b, s, (size_t)n);
      return 0;
    }
  }
  return -1; /* cannot happen for a finite double: %.17g round-trips */
}

/* True when a number token is already what put_number would write, so it
 * is copied (most of a layout's numbers; put_number's snprintf loop is the
 * slow path):
 *  - an integer without exponent of at most 15 digits, not -0;
 *  - a decimal fraction without exponent, d+.d*[1-9] (no trailing zero),
 *    of at most 15 significant digits and magnitude >= 1e-4: a double holds
 *    15 significant digits exactly, so no shorter decimal reads back to the
 *    same double, and "%.{P}g" (P its significant digits) writes it without
 *    an exponent and in the same digits, since its decimal exponent is
 *    between -4 and P-1. */
static bool plain_number(const char *t, size_t len) {
  size_t i = t[0] == '-', dot = 0, sig = 0, lead = 0;
  bool seen_nonzero = false;
  for (size_t k = i; k < len; k++) {
    char c = t[k];
    if (c == '.') {
      if (dot) return false;
      dot = k;
      continue;
    }
    if (c < '0' || c > '9') return false; /* an exponent */
    if (c != '0' || seen_nonzero) {
      seen_nonzero = true;
      sig++;
    } else if (dot) {
      lead++; /* zeros after "0." before the first significant digit */
    }
  }
  if (sig > 15) return false;
  if (!dot) return !(len == 2 && t[0] == '-' && t[1] == '0') && len - i <= 15;
  if (dot == len - 1 || t[len - 1] == '0') return false; /* "1." cannot occur; "1.50" */
  if (t[i] == '0' && lead >= 4) return false; /* below 1e-4: %g writes an exponent */
  return true;
}

struct member {
  size_t start, keylen, end; /* in the output: [start, start+keylen) is the key text */
};

static int member_cmp(const struct member *a, const struct member *b, const char *base) {
  size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
  int c = memcmp(base + a->start, base + b->start, n);
  if (c) return c;
  if (a->keylen != b->keylen) return a->keylen < b->keylen ? -1 : 1;
  return a->start < b->start ? -1 : 1; /* stable */
}

/* A stable merge sort (qsort_r differs between libcs, and qsort is not
 * stable): O(n log n) compares whatever the document, so a hostile object
 * with a million members costs what sorting them must. tmp holds n. */
static void sort_members(struct member *m, struct member *tmp, size_t n, const char *base) {
  if (n < 2) return;
  size_t h = n / 2;
  sort_members(m, tmp, h, base);
  sort_members(m + h, tmp, n - h, base);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = member_cmp(&m[j], &m[i], base) < 0 ? m[j++] : m[i++];
  while (i < h) tmp[k++] = m[i++];
  while (j < n) tmp[k++] = m[j++];
  memcpy(m, tmp, n * sizeof *m);
}

static int canon_value(struct folio_lx *lx, struct folio_str *b, size_t depth);

/* Objects of up to this many members, and this many bytes, are sorted in
 * stack buffers (most of a layout's objects; a malloc each cost as much as
 * the rest of the work). */
#define SMALL_MEMBERS 16
#define SMALL_SPAN 2048

static int canon_object(struct folio_lx *lx, struct folio_str *b, size_t depth) {
  lx->p++; /* '{' */
  folio_str_append(b, "{", 1);
  size_t first = b->len; /* members are written here in input order, then sorted */
  struct member small[SMALL_MEMBERS], small_tmp[SMALL_MEMBERS];
  char small_span[SMALL_SPAN];
  struct member *m = small;
  size_t n = 0, cap = SMALL_MEMBERS;
  int rc = 0;
  if (folio_lx_peek(lx) == '}') {
    lx->p++;
  } else {
    for (;;) {
      if (folio_lx_peek(lx) != '"') {
        rc = folio_lx_fail(lx, "a '\"' starting a key");
        break;
      }
      if (n == cap) {
        cap *= 2;
        struct member *q = m == small ? malloc(cap * sizeof *m) : realloc(m, cap * sizeof *m);
        if (!q) {
          b->oom = true;
          rc = -1;
          break;
        }
        if (m == small) memcpy(q, small, sizeof small);
        m = q;
      }
      struct folio_lx_str k;
      if (folio_lx_string(lx, &k) < 0) {
        rc = -1;
        break;
      }
      size_t start = b->len;
      put_lexed(b, &k);
      size_t keylen = b->len - start;
      if (folio_lx_peek(lx) != ':') {
        rc = folio_lx_fail(lx, "':' after a key");
        break;
      }
      lx->p++;
      folio_str_append(b, ":", 1);
      if ((rc = canon_value(lx, b, depth + 1)) != 0) break;
      m[n++] = (struct member){start, keylen, b->len};
      int c = folio_lx_peek(lx);
      if (c == '}') {
        lx->p++;
        break;
      }
      if (c != ',') {
        rc = folio_lx_fail(lx, "',' or '}'");
        break;
      }
      lx->p++;
    }
  }
  if (rc == 0 && !b->oom && n > 1) { /* the members again, sorted */
    size_t span = b->len - first;
    char *tmp = span <= SMALL_SPAN ? small_span : malloc(span);
    struct member *mt = n <= SMALL_MEMBERS ? small_tmp : malloc(n * sizeof *mt);
    if (!tmp || !mt) {
      b->oom = true;
    } else {
      memcpy(tmp, b->p + first, span);
      for (size_t i = 0; i < n; i++) m[i].start -= first, m[i].end -= first;
      sort_members(m, mt, n, tmp);
      b->len = first; /* rewritten below from tmp */
      b->p[first] = '\0';
      for (size_t i = 0; i < n; i++) {
        if (i) folio_str_append(b, ",", 1);
        folio_str_append(b, tmp + m[i].start, m[i].end - m[i].start);
      }
      folio_str_append(b, "}", 1);
    }
    if (tmp != small_span) free(tmp);
    if (mt != small_tmp) free(mt);
  } else if (rc == 0) {
    folio_str_append(b, "}", 1); /* zero or one member: already in order */
  }
  if (m != small) free(m);
  if (b->oom) return -1;
  return rc;
}

static int canon_array(struct folio_lx *lx, struct folio_str *b, size_t depth) {
  lx->p++; /* '[' */
  folio_str_append(b, "[", 1);
  if (folio_lx_peek(lx) == ']') {
    lx->p++;
    folio_str_append(b, "]", 1);
    return b->oom ? -1 : 0;
  }
  for (size_t i = 0;; i++) {
    if (i) folio_str_append(b, ",", 1);
    int rc = canon_value(lx, b, depth + 1);
    if (rc) return rc;
    int c = folio_lx_peek(lx);
    if (c == ']') {
      lx->p++;
      break;
    }
    if (c != ',') return folio_lx_fail(lx, "',' or ']'");
    lx->p++;
  }
  folio_str_append(b, "]", 1);
  return b->oom ? -1 : 0;
}

static int canon_value(struct folio_lx *lx, struct folio_str *b, size_t depth) {
  int c = folio_lx_peek(lx);
  if (c == '{' || c == '[') {
    if (depth + 1 > lx->max_depth) return folio_lx_fail(lx, "less nesting");
    return c == '{' ? canon_object(lx, b, depth) : canon_array(lx, b, depth);
  }
  if (c == '"') {
    struct folio_lx_str s;
    if (folio_lx_string(lx, &s) < 0) return -1;
    put_lexed(b, &s);
    return b->oom ? -1 : 0;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    const unsigned char *tok = lx->p;
    double v;
    if (folio_lx_number(lx, &v) < 0) return -1;
    size_t len = (size_t)(lx->p - tok);
    if (plain_number((const char *)tok, len)) folio_str_append(b, tok, len);
    else if (put_number(b, v) < 0) return folio_lx_fail(lx, "a finite number");
    return b->oom ? -1 : 0;
  }
  int w;
  if (folio_lx_literal(lx, &w) < 0) return -1;
  const char *lit = w == 't' ? "true" : w == 'f' ? "false" : "null";
  folio_str_append(b, lit, strlen(lit));
  return b->oom ? -1 : 0;
}

int folio_layout_canonical(const char *json, size_t len, size_t max_depth, char **out,
                           size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  struct folio_lx lx;
  folio_lx_init(&lx, json, len, max_depth ? max_depth : 32);
  struct folio_str b = {0};
  int rc = canon_value(&lx, &b, 0);
  if (rc == 0 && folio_lx_peek(&lx) != 0) rc = folio_lx_fail(&lx, "the end of the document");
  bool oom = b.oom || lx.oom;
  folio_lx_fini(&lx);
  if (rc != 0 || oom) {
    folio_str_free(&b);
    return oom ? FOLIO_LAYOUT_ENOMEM : FOLIO_LAYOUT_EINVAL;
  }
  if (!b.p) { /* cannot happen: a value wrote at least one byte */
    return FOLIO_LAYOUT_EINVAL;
  }
  *out = b.p;
  *out_len = b.len;
  return 0;
}
