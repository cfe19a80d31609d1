/* The bounded findings list and its serialised form (folio/findings.h).
 *
 * One insertion rule (put) serves add, append and parse: an entry goes in
 * while there is room; past max, or when memory runs out with an entry
 * already held, the last entry becomes the FINDINGS_OMITTED one and counts
 * what follows. Once the list ends with that entry every later finding is
 * counted into it, so it stays the final entry. */
#include "folio/findings.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/log.h" /* folio_json_quote */

static const char *const sev_names[] = {NULL, "info", "warning", "error"};
static const char *const stage_names[] = {NULL, "decode", "typeset", "paint", "preflight"};

const char *folio_finding_severity_name(enum folio_finding_severity s) {
  return s >= FOLIO_FINDING_INFO && s <= FOLIO_FINDING_ERROR ? sev_names[s] : NULL;
}

const char *folio_finding_stage_name(enum folio_finding_stage s) {
  return s >= FOLIO_FINDING_DECODE && s <= FOLIO_FINDING_PREFLIGHT ? stage_names[s] : NULL;
}

void folio_findings_init(struct folio_findings *f, size_t max) {
  *f = (struct folio_findings){.max = max == 0 || max > FOLIO_FINDINGS_MAX ? FOLIO_FINDINGS_MAX : max};
}

void folio_findings_fini(struct folio_findings *f) {
  if (!f) return;
  free(f->items);
  f->items = NULL;
  f->n = f->cap = 0;
}

/* ---- exact strings ------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (left > 0 bytes), 0 if invalid
 * (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t left) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t n;
  unsigned min;
  unsigned v;
  if (c >= 0xC2 && c <= 0xDF) n = 2, min = 0x80, v = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, min = 0x800, v = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, min = 0x10000, v = c & 0x07;
  else return 0;
  if (n > left) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = v << 6 | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  return n;
}

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
#define ELLIPSIS "\xE2\x80\xA6"    /* U+2026 */

/* Copies src[0..len) into dst (cap bytes + NUL) as exact text: valid UTF-8,
 * no C0 controls or DEL (each such byte or invalid byte becomes U+FFFD), cut
 * at a character boundary with "…" when it does not fit. */
static void exact_copy(char *dst, size_t cap, const char *src, size_t len) {
  size_t o = 0;
  bool cut = false;
  for (size_t i = 0; i < len;) {
    const unsigned char *u = (const unsigned char *)src + i;
    size_t k = utf8_len(u, len - i);
    const char *piece = src + i;
    size_t plen = k;
    if (k == 0 || u[0] < 0x20 || u[0] == 0x7F) {
      piece = REPLACEMENT;
      plen = 3;
      k = k ? k : 1;
    }
    if (o + plen > cap) {
      cut = true;
      break;
    }
    memcpy(dst + o, piece, plen);
    o += plen;
    i += k;
  }
  if (cut) {
    while (o + 3 > cap && o > 0) { /* drop whole characters until "…" fits */
      do o--;
      while (o > 0 && ((unsigned char)dst[o] & 0xC0) == 0x80);
    }
    if (o + 3 <= cap) memcpy(dst + o, ELLIPSIS, 3), o += 3;
  }
  dst[o] = 0;
}

static bool code_ok(const char *code) {
  size_t n = 0;
  for (; code[n]; n++) {
    char c = code[n];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    if (n >= FOLIO_FINDING_CODE_MAX) return false;
  }
  return n > 0;
}

/* ---- the insertion rule ----------------------------------------------------- */

static bool is_omitted(const struct folio_finding *e) {
  return e->omitted > 0 && strcmp(e->code, FOLIO_FINDINGS_OMITTED_CODE) == 0;
}

static void omitted_text(struct folio_finding *e, size_t max) {
  snprintf(e->message, sizeof e->message,
           "%llu more finding%s left out: a list keeps at most %zu entries",
           (unsigned long long)e->omitted, e->omitted == 1 ? " was" : "s were", max);
}

/* Counts e (weight: its own omitted count, or 1) into the last entry, turning
 * that into the FINDINGS_OMITTED entry first if it is not one. n > 0. */
static void fold(struct folio_findings *f, const struct folio_finding *e) {
  struct folio_finding *last = &f->items[f->n - 1];
  uint64_t w = e->omitted ? e->omitted : 1;
  if (!is_omitted(last)) {
    last->omitted = 1; /* itself */
    snprintf(last->code, sizeof last->code, "%s", FOLIO_FINDINGS_OMITTED_CODE);
    last->page = 0;
    last->pointer[0] = 0;
  }
  last->omitted += w;
  if (e->severity > last->severity) last->severity = e->severity;
  omitted_text(last, f->max);
}

static int put(struct folio_findings *f, const struct folio_finding *e) {
  if (f->max == 0) f->max = FOLIO_FINDINGS_MAX; /* a zeroed list never set up with init */
  if (f->n > 0 && is_omitted(&f->items[f->n - 1])) {
    fold(f, e);
    return 0;
  }
  if (f->n < f->max) {
    if (f->n == f->cap) {
      size_t cap = f->cap ? f->cap * 2 : 8;
      if (cap > f->max) cap = f->max;
      struct folio_finding *items = realloc(f->items, cap * sizeof *items);
      if (!items) {
        if (f->n == 0) return FOLIO_FINDINGS_ENOMEM;
        fold(f, e);
        return 0;
      }
      f->items = items;
      f->cap = cap;
    }
    f->items[f->n++] = *e; /* an omitted entry keeps its message until it counts more */
    return 0;
  }
  fold(f, e);
  return 0;
}

int folio_findings_addv(struct folio_findings *f, const char *code, enum folio_finding_severity sev,
                        enum folio_finding_stage stage, uint32_t page, const char *pointer,
                        const char *fmt, va_list ap) {
  if (!code || !code_ok(code) || strcmp(code, FOLIO_FINDINGS_OMITTED_CODE) == 0 ||
      !folio_finding_severity_name(sev) || !folio_finding_stage_name(stage))
    return FOLIO_FINDINGS_EINVAL;
  struct folio_finding e = {.severity = sev, .stage = stage, .page = page};
  memcpy(e.code, code, strlen(code) + 1);
  if (pointer) exact_copy(e.pointer, FOLIO_FINDING_POINTER_MAX, pointer, strlen(pointer));
  char buf[FOLIO_FINDING_MESSAGE_MAX * 2];
  int len = vsnprintf(buf, sizeof buf, fmt, ap);
  if (len < 0) len = 0;
  if ((size_t)len >= sizeof buf) len = (int)sizeof buf - 1; /* still longer than the bound: cut below */
  exact_copy(e.message, FOLIO_FINDING_MESSAGE_MAX, buf, (size_t)len);
  return put(f, &e);
}

int folio_findings_add(struct folio_findings *f, const char *code, enum folio_finding_severity sev,
                       enum folio_finding_stage stage, uint32_t page, const char *pointer,
                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = folio_findings_addv(f, code, sev, stage, page, pointer, fmt, ap);
  va_end(ap);
  return rc;
}

int folio_findings_append(struct folio_findings *dst, const struct folio_findings *src) {
  for (size_t i = 0; i < src->n; i++) {
    int rc = put(dst, &src->items[i]);
    if (rc) return rc;
  }
  return 0;
}

const struct folio_finding *folio_findings_first(const struct folio_findings *f,
                                                 enum folio_finding_severity min, unsigned stages) {
  for (size_t i = 0; i < f->n; i++) {
    const struct folio_finding *e = &f->items[i];
    if (e->severity < min) continue;
    /* the omitted entry may stand for any stage: it matches every mask */
    if (stages == 0 || is_omitted(e) || (stages & (1u << e->stage))) return e;
  }
  return NULL;
}

/* ---- serialising -------------------------------------------------------------- */

static bool quote(char *buf, size_t cap, size_t *pos, const char *s) {
  return folio_json_quote(buf, cap, pos, s, strlen(s));
}

static bool lit(char *buf, size_t cap, size_t *pos, const char *s) {
  size_t n = strlen(s);
  if (*pos + n >= cap) return false;
  memcpy(buf + *pos, s, n);
  *pos += n;
  return true;
}

int folio_findings_to_json(const struct folio_findings *f, char **out, size_t *len) {
  size_t cap = 3;
  for (size_t i = 0; i < f->n; i++) {
    const struct folio_finding *e = &f->items[i];
    /* escaping grows a byte to at most 6 ("\u001f") */
    cap += 160 + 6 * (strlen(e->code) + strlen(e->pointer) + strlen(e->message));
  }
  char *buf = malloc(cap);
  if (!buf) return FOLIO_FINDINGS_ENOMEM;
  size_t p = 0;
  bool ok = lit(buf, cap, &p, "[");
  for (size_t i = 0; ok && i < f->n; i++) {
    const struct folio_finding *e = &f->items[i];
    char num[64];
    ok = lit(buf, cap, &p, i ? ",{\"code\":" : "{\"code\":") && quote(buf, cap, &p, e->code) &&
         lit(buf, cap, &p, ",\"severity\":") &&
         quote(buf, cap, &p, folio_finding_severity_name(e->severity) ? folio_finding_severity_name(e->severity) : "error") &&
         lit(buf, cap, &p, ",\"stage\":") &&
         quote(buf, cap, &p, folio_finding_stage_name(e->stage) ? folio_finding_stage_name(e->stage) : "paint");
    snprintf(num, sizeof num, ",\"page\":%u", (unsigned)e->page);
    ok = ok && lit(buf, cap, &p, num) && lit(buf, cap, &p, ",\"pointer\":") &&
         quote(buf, cap, &p, e->pointer) && lit(buf, cap, &p, ",\"message\":") &&
         quote(buf, cap, &p, e->message);
    if (ok && e->omitted) {
      snprintf(num, sizeof num, ",\"omitted\":%llu", (unsigned long long)e->omitted);
      ok = lit(buf, cap, &p, num);
    }
    ok = ok && lit(buf, cap, &p, "}");
  }
  ok = ok && lit(buf, cap, &p, "]");
  if (!ok) { /* the bound above is wrong: a bug, but never write past buf */
    free(buf);
    return FOLIO_FINDINGS_ENOMEM;
  }
  buf[p] = 0;
  *out = buf;
  if (len) *len = p;
  return 0;
}

/* ---- parsing ------------------------------------------------------------------ */

struct rd {
  const char *s;
  size_t len, i;
  char *scratch; /* len + 1 bytes: a decoded string is never longer than its source */
};

static void ws(struct rd *r) {
  while (r->i < r->len && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' ||
                           r->s[r->i] == '\r'))
    r->i++;
}

static bool eat(struct rd *r, char c) {
  ws(r);
  if (r->i < r->len && r->s[r->i] == c) {
    r->i++;
    return true;
  }
  return false;
}

static int hex4(const char *s) {
  int v = 0;
  for (int k = 0; k < 4; k++) {
    char c = s[k];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

static size_t put_utf8(char *o, unsigned v) {
  if (v < 0x80) return o[0] = (char)v, 1;
  if (v < 0x800) return o[0] = (char)(0xC0 | v >> 6), o[1] = (char)(0x80 | (v & 0x3F)), 2;
  if (v < 0x10000)
    return o[0] = (char)(0xE0 | v >> 12), o[1] = (char)(0x80 | (v >> 6 & 0x3F)), o[2] = (char)(0x80 | (v & 0x3F)), 3;
  o[0] = (char)(0xF0 | v >> 18), o[1] = (char)(0x80 | (v >> 12 & 0x3F));
  o[2] = (char)(0x80 | (v >> 6 & 0x3F)), o[3] = (char)(0x80 | (v & 0x3F));
  return 4;
}

/* A JSON string into r->scratch; *n its length. A lone surrogate escape
 * decodes to U+FFFD; raw bytes are checked later by exact_copy. */
static bool str(struct rd *r, size_t *n) {
  if (!eat(r, '"')) return false;
  size_t o = 0;
  while (r->i < r->len) {
    char c = r->s[r->i++];
    if (c == '"') {
      r->scratch[o] = 0;
      *n = o;
      return true;
    }
    if ((unsigned char)c < 0x20) return false;
    if (c != '\\') {
      r->scratch[o++] = c;
      continue;
    }
    if (r->i >= r->len) return false;
    c = r->s[r->i++];
    switch (c) {
    case '"': case '\\': case '/': r->scratch[o++] = c; break;
    case 'b': r->scratch[o++] = '\b'; break;
    case 'f': r->scratch[o++] = '\f'; break;
    case 'n': r->scratch[o++] = '\n'; break;
    case 'r': r->scratch[o++] = '\r'; break;
    case 't': r->scratch[o++] = '\t'; break;
    case 'u': {
      if (r->len - r->i < 4) return false;
      int v = hex4(r->s + r->i);
      if (v < 0) return false;
      r->i += 4;
      unsigned cp = (unsigned)v;
      if (cp >= 0xD800 && cp <= 0xDBFF && r->len - r->i >= 6 && r->s[r->i] == '\\' && r->s[r->i + 1] == 'u') {
        int lo = hex4(r->s + r->i + 2);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
          r->i += 6;
        }
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
      o += put_utf8(r->scratch + o, cp);
      break;
    }
    default: return false;
    }
  }
  return false;
}

static bool num(struct rd *r, uint64_t max, uint64_t *out) {
  ws(r);
  size_t start = r->i;
  uint64_t v = 0;
  while (r->i < r->len && r->s[r->i] >= '0' && r->s[r->i] <= '9') {
    unsigned d = (unsigned)(r->s[r->i++] - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  if (r->i == start) return false;
  *out = v;
  return true;
}

static int name_index(const char *const *names, size_t count, const char *s) {
  for (size_t i = 1; i < count; i++)
    if (strcmp(names[i], s) == 0) return (int)i;
  return 0;
}

static bool entry(struct rd *r, struct folio_finding *e) {
  *e = (struct folio_finding){0};
  if (!eat(r, '{')) return false;
  bool have_code = false;
  if (eat(r, '}')) return false;
  do {
    size_t n;
    if (!str(r, &n) || !eat(r, ':')) return false;
    char key[16];
    if (n >= sizeof key) return false;
    memcpy(key, r->scratch, n + 1);
    uint64_t v;
    if (strcmp(key, "page") == 0) {
      if (!num(r, UINT32_MAX, &v)) return false;
      e->page = (uint32_t)v;
    } else if (strcmp(key, "omitted") == 0) {
      if (!num(r, UINT64_MAX, &v) || v == 0) return false;
      e->omitted = v;
    } else {
      if (!str(r, &n)) return false;
      if (strcmp(key, "code") == 0) {
        if (n > FOLIO_FINDING_CODE_MAX || strlen(r->scratch) != n || !code_ok(r->scratch)) return false;
        memcpy(e->code, r->scratch, n + 1);
        have_code = true;
      } else if (strcmp(key, "severity") == 0) {
        if (!(e->severity = (enum folio_finding_severity)name_index(sev_names, 4, r->scratch))) return false;
      } else if (strcmp(key, "stage") == 0) {
        if (!(e->stage = (enum folio_finding_stage)name_index(stage_names, 5, r->scratch))) return false;
      } else if (strcmp(key, "pointer") == 0) {
        exact_copy(e->pointer, FOLIO_FINDING_POINTER_MAX, r->scratch, n);
      } else if (strcmp(key, "message") == 0) {
        exact_copy(e->message, FOLIO_FINDING_MESSAGE_MAX, r->scratch, n);
      } else {
        return false;
      }
    }
  } while (eat(r, ','));
  if (!eat(r, '}')) return false;
  /* "omitted" belongs to the FINDINGS_OMITTED entry and only to it */
  if (!have_code || !e->severity || !e->stage ||
      (e->omitted > 0) != (strcmp(e->code, FOLIO_FINDINGS_OMITTED_CODE) == 0))
    return false;
  return true;
}

int folio_findings_from_json(struct folio_findings *f, const char *s, size_t len) {
  struct rd r = {.s = s, .len = len, .scratch = malloc(len + 1)};
  if (!r.scratch) return FOLIO_FINDINGS_ENOMEM;
  int rc = FOLIO_FINDINGS_EINVAL;
  if (!eat(&r, '[')) goto out;
  if (eat(&r, ']')) {
    ws(&r);
    rc = r.i == r.len ? 0 : FOLIO_FINDINGS_EINVAL;
    goto out;
  }
  do {
    struct folio_finding e;
    if (!entry(&r, &e)) {
      rc = FOLIO_FINDINGS_EINVAL;
      goto out;
    }
    rc = put(f, &e);
    if (rc) goto out;
    rc = FOLIO_FINDINGS_EINVAL;
  } while (eat(&r, ','));
  if (eat(&r, ']')) {
    ws(&r);
    if (r.i == r.len) rc = 0;
  }
out:
  free(r.scratch);
  return rc;
}
