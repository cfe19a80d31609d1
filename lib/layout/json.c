/* The JSON lexer the layout decoder drives (RFC 8259, strict).
 *
 * There is no tree: decode.c asks for "a string here", "a number here" and
 * consumes the document in one pass. Strings without escapes are returned as
 * spans of the input (no copy); strings with escapes are unescaped into one
 * scratch buffer. Every string is checked to be well-formed UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF), and \u escapes must pair
 * surrogates. Numbers take an exact fast path (Clinger: at most 15 significant
 * digits and a power of ten up to 22) and fall back to strtod_l in the C locale,
 * so the result never depends on the process locale. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "layout_int.h"

void folio_lx_init(struct folio_lx *lx, const char *json, size_t len, size_t max_depth) {
  memset(lx, 0, sizeof *lx);
  lx->start = lx->p = (const unsigned char *)json;
  lx->end = lx->start + len;
  lx->max_depth = max_depth;
}

void folio_lx_fini(struct folio_lx *lx) {
  free(lx->scratch);
  free(lx->skip_stack);
  lx->scratch = NULL;
  lx->skip_stack = NULL;
}

int folio_lx_fail(struct folio_lx *lx, const char *what) {
  if (!lx->syntax) {
    lx->syntax = what;
    lx->syntax_at = (size_t)(lx->p - lx->start);
  }
  return -1;
}

static int scratch_reserve(struct folio_lx *lx, size_t need) {
  if (need <= lx->scratch_cap) return 0;
  size_t cap = lx->scratch_cap ? lx->scratch_cap : 256;
  while (cap < need) cap *= 2;
  char *n = realloc(lx->scratch, cap);
  if (!n) {
    lx->oom = true;
    return folio_lx_fail(lx, "memory for a string");
  }
  lx->scratch = n;
  lx->scratch_cap = cap;
  return 0;
}

/* Validates one multi-byte UTF-8 sequence starting at p (p[0] >= 0x80).
 * Returns its length, or 0 if invalid. */
static inline size_t utf8_seq(const unsigned char *p, const unsigned char *e) {
  unsigned c = p[0];
  size_t avail = (size_t)(e - p);
  if (c >= 0xC2 && c <= 0xDF) {
    return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
    if (c == 0xED && p[1] > 0x9F) return 0; /* surrogates */
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
      return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
    if (c == 0xF4 && p[1] > 0x8F) return 0; /* > U+10FFFF */
    return 4;
  }
  return 0;
}

static int hex4(const unsigned char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return -1;
    v = v << 4 | d;
  }
  *out = v;
  return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12);
    o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18);
  o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* The slow path: the string has escapes. Copies [begin, p) and unescapes the
 * rest into scratch. The unescaped form is never longer than the source. */
static int string_escaped(struct folio_lx *lx, const unsigned char *begin, struct folio_lx_str *out) {
  const unsigned char *p = lx->p, *e = lx->end;
  /* Upper bound for the output: the rest of the input. */
  if (scratch_reserve(lx, (size_t)(e - begin) + 1) < 0) return -1;
  char *o = lx->scratch;
  size_t n = (size_t)(p - begin);
  memcpy(o, begin, n);
  for (;;) {
    if (p >= e) {
      lx->p = p;
      return folio_lx_fail(lx, "a closing '\"'");
    }
    unsigned c = *p;
    if (c == '"') break;
    if (c < 0x20) {
      lx->p = p;
      return folio_lx_fail(lx, "no control character in a string (escape it)");
    }
    if (c == '\\') {
      if (e - p < 2) {
        lx->p = p;
        return folio_lx_fail(lx, "an escape after '\\'");
      }
      unsigned x = p[1];
      p += 2;
      switch (x) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
          unsigned cp;
          if (e - p < 4 || hex4(p, &cp) < 0) {
            lx->p = p - 2;
            return folio_lx_fail(lx, "four hex digits after \\u");
          }
          p += 4;
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            lx->p = p - 6;
            return folio_lx_fail(lx, "a high surrogate before a low surrogate \\u escape");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) < 0 || lo < 0xDC00 ||
                lo > 0xDFFF) {
              lx->p = p - 6;
              return folio_lx_fail(lx, "a low surrogate \\u escape after a high surrogate");
            }
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          n += put_utf8(o + n, cp);
          break;
        }
        default:
          lx->p = p - 2;
          return folio_lx_fail(lx, "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      }
      continue;
    }
    if (c < 0x80) {
      o[n++] = (char)c;
      p++;
      continue;
    }
    size_t k = utf8_seq(p, e);
    if (!k) {
      lx->p = p;
      return folio_lx_fail(lx, "valid UTF-8");
    }
    memcpy(o + n, p, k);
    n += k;
    p += k;
  }
  o[n] = '\0';
  lx->p = p + 1;
  out->s = o;
  out->len = n;
  out->escaped = true;
  return 0;
}

/* Word-at-a-time test (SWAR, plain integer arithmetic): is any of the 8 bytes
 * of x a control character, '"', '\\' or non-ASCII? Exact as a boolean. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline bool word_special(uint64_t x) {
  uint64_t lt20 = (x - ONES * 0x20) & ~x;
  uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
  uint64_t eq = ((q - ONES) & ~q) | ((b - ONES) & ~b);
  return ((lt20 | eq | x) & HIGHS) != 0;
}

int folio_lx_string(struct folio_lx *lx, struct folio_lx_str *out) {
  const unsigned char *p = lx->p + 1, *e = lx->end;
  const unsigned char *begin = p;
  for (;;) {
    /* The hot loop: printable ASCII, 8 bytes at a time, then byte by byte. */
    while (e - p >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      if (word_special(w)) break;
      p += 8;
    }
    while (p < e && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80) p++;
    if (p >= e) {
      lx->p = p;
      return folio_lx_fail(lx, "a closing '\"'");
    }
    unsigned c = *p;
    if (c == '"') break;
    if (c == '\\') {
      lx->p = p;
      return string_escaped(lx, begin, out);
    }
    if (c < 0x20) {
      lx->p = p;
      return folio_lx_fail(lx, "no control character in a string (escape it)");
    }
    /* Non-ASCII text (Cyrillic, Arabic, CJK) stays in this inner loop. */
    do {
      size_t k = utf8_seq(p, e);
      if (!k) {
        lx->p = p;
        return folio_lx_fail(lx, "valid UTF-8");
      }
      p += k;
    } while (p < e && *p >= 0x80);
  }
  out->s = (const char *)begin;
  out->len = (size_t)(p - begin);
  out->escaped = false;
  lx->p = p + 1;
  return 0;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int folio_lx_number(struct folio_lx *lx, double *out) {
  const unsigned char *p = lx->p, *e = lx->end, *begin = p;
  bool neg = false;
  if (*p == '-') {
    neg = true;
    p++;
  }
  uint64_t mant = 0;
  int digits = 0; /* significant digits accumulated in mant */
  int exp10 = 0;
  if (p >= e || *p < '0' || *p > '9') {
    lx->p = p;
    return folio_lx_fail(lx, "a digit");
  }
  if (*p == '0') {
    p++;
    if (p < e && *p >= '0' && *p <= '9') {
      lx->p = p;
      return folio_lx_fail(lx, "no leading zero in a number");
    }
  } else {
    while (p < e && *p >= '0' && *p <= '9') {
      if (digits < 19) {
        mant = mant * 10 + (uint64_t)(*p - '0');
        if (mant) digits++;
      } else {
        exp10++;
      }
      p++;
    }
  }
  if (p < e && *p == '.') {
    p++;
    if (p >= e || *p < '0' || *p > '9') {
      lx->p = p;
      return folio_lx_fail(lx, "a digit after '.'");
    }
    while (p < e && *p >= '0' && *p <= '9') {
      if (digits < 19) {
        mant = mant * 10 + (uint64_t)(*p - '0');
        if (mant) digits++;
        exp10--;
      }
      p++;
    }
  }
  bool slow = digits > 15;
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    bool eneg = false;
    if (p < e && (*p == '+' || *p == '-')) eneg = *p++ == '-';
    if (p >= e || *p < '0' || *p > '9') {
      lx->p = p;
      return folio_lx_fail(lx, "a digit in the exponent");
    }
    int ev = 0;
    while (p < e && *p >= '0' && *p <= '9') {
      if (ev < 100000) ev = ev * 10 + (*p - '0');
      p++;
    }
    exp10 += eneg ? -ev : ev;
  }
  lx->p = p;
  if (!slow && exp10 >= -22 && exp10 <= 22) {
    double v = (double)mant; /* exact: mant < 10^15 < 2^53 */
    v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
    *out = neg ? -v : v;
    return 0;
  }
  if (mant == 0) {
    *out = neg ? -0.0 : 0.0;
    return 0;
  }
  size_t n = (size_t)(p - begin);
  if (scratch_reserve(lx, n + 1) < 0) return -1;
  memcpy(lx->scratch, begin, n);
  lx->scratch[n] = '\0';
  pthread_once(&c_locale_once, c_locale_init);
  double v = c_locale ? strtod_l(lx->scratch, NULL, c_locale) : strtod(lx->scratch, NULL);
  *out = v;
  return 0;
}

int folio_lx_literal(struct folio_lx *lx, int *which) {
  const unsigned char *p = lx->p;
  size_t avail = (size_t)(lx->end - p);
  if (avail >= 4 && memcmp(p, "true", 4) == 0) {
    lx->p += 4;
    *which = 't';
    return 0;
  }
  if (avail >= 5 && memcmp(p, "false", 5) == 0) {
    lx->p += 5;
    *which = 'f';
    return 0;
  }
  if (avail >= 4 && memcmp(p, "null", 4) == 0) {
    lx->p += 4;
    *which = 'n';
    return 0;
  }
  return folio_lx_fail(lx, "a JSON value");
}

/* Iterative, so a hostile nesting depth cannot exhaust the C stack: one byte
 * per open container ('{' or '['), bounded by max_depth. */
int folio_lx_skip(struct folio_lx *lx, size_t depth) {
  size_t top = 0; /* open containers in this skip */
  size_t cap = lx->max_depth + 1;
  for (;;) {
    /* A value. */
    int c = folio_lx_peek(lx);
    if (c == '{' || c == '[') {
      if (depth + top + 1 > lx->max_depth) return -2;
      if (!lx->skip_stack) {
        lx->skip_stack = malloc(cap);
        if (!lx->skip_stack) {
          lx->oom = true;
          return folio_lx_fail(lx, "memory");
        }
      }
      lx->skip_stack[top++] = (unsigned char)c;
      lx->p++;
      int n = folio_lx_peek(lx);
      if ((c == '{' && n == '}') || (c == '[' && n == ']')) {
        lx->p++;
        top--;
        goto after_value;
      }
      if (c == '{') {
        if (n != '"') return folio_lx_fail(lx, "a '\"' starting a key");
        struct folio_lx_str k;
        if (folio_lx_string(lx, &k) < 0) return -1;
        if (folio_lx_peek(lx) != ':') return folio_lx_fail(lx, "':' after a key");
        lx->p++;
      }
      continue;
    } else if (c == '"') {
      struct folio_lx_str s;
      if (folio_lx_string(lx, &s) < 0) return -1;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      double v;
      if (folio_lx_number(lx, &v) < 0) return -1;
    } else {
      int w;
      if (folio_lx_literal(lx, &w) < 0) return -1;
    }
  after_value:
    /* After a value: close containers or move to the next element. */
    for (;;) {
      if (top == 0) return 0;
      unsigned char open = lx->skip_stack[top - 1];
      int n = folio_lx_peek(lx);
      if (n == ',') {
        lx->p++;
        if (open == '{') {
          if (folio_lx_peek(lx) != '"') return folio_lx_fail(lx, "a '\"' starting a key");
          struct folio_lx_str k;
          if (folio_lx_string(lx, &k) < 0) return -1;
          if (folio_lx_peek(lx) != ':') return folio_lx_fail(lx, "':' after a key");
          lx->p++;
        }
        break;
      }
      if ((open == '{' && n == '}') || (open == '[' && n == ']')) {
        lx->p++;
        top--;
        continue;
      }
      return folio_lx_fail(lx, open == '{' ? "',' or '}'" : "',' or ']'");
    }
  }
}
