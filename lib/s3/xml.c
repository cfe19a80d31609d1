/* Minimal well-formedness-checking XML reader (contract in xml.h). A single
 * forward scan with an explicit stack of open element names (pointers into the
 * input), so malformed input of any size costs O(n) and no memory. */
#include "xml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

struct name {
  const char *p;
  size_t len;
};

struct parser {
  const char *s;
  size_t len, pos;
  struct folio_s3_xml_field *f;
  size_t nf;
  struct name stack[MAX_DEPTH];
  int depth;
  /* per field: depth at which its first occurrence is being captured (0 =
   * not capturing) and the bytes captured so far */
  int cap_depth[FOLIO_S3_XML_MAX_FIELDS];
  size_t cap_len[FOLIO_S3_XML_MAX_FIELDS];
  char *err;
  size_t errcap;
};

/* Writes "S3 XML reply, byte <pos>: <message>" into err. fail() is the form
 * callers return: a macro, so the -1 is visible where it is returned (the
 * static analyser does not follow variadic calls, and otherwise assumed the
 * parse could go on with an unset name). */
static void failf(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define fail(p, ...) (failf((p), __VA_ARGS__), -1)
static void failf(struct parser *p, const char *fmt, ...) {
  if (p->errcap) {
    int n = snprintf(p->err, p->errcap, "S3 XML reply, byte %zu: ", p->pos);
    if (n >= 0 && (size_t)n < p->errcap) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(p->err + n, p->errcap - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
}

static bool name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' ||
         (unsigned char)c >= 0x80;
}
static bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
static bool ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static bool starts(struct parser *p, const char *lit) {
  size_t n = strlen(lit);
  return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

static void skip_ws(struct parser *p) {
  while (p->pos < p->len && ws(p->s[p->pos])) p->pos++;
}

static int read_name(struct parser *p, struct name *n) {
  if (p->pos >= p->len || !name_start(p->s[p->pos])) return fail(p, "expected an element name");
  n->p = p->s + p->pos;
  while (p->pos < p->len && name_char(p->s[p->pos])) p->pos++;
  n->len = (size_t)(p->s + p->pos - n->p);
  return 0;
}

static struct name local(struct name n) {
  const char *c = memchr(n.p, ':', n.len);
  if (c) {
    n.len -= (size_t)(c + 1 - n.p);
    n.p = c + 1;
  }
  return n;
}

static void capture(struct parser *p, const char *t, size_t len) {
  for (size_t i = 0; i < p->nf; i++) {
    struct folio_s3_xml_field *f = &p->f[i];
    if (p->cap_depth[i] != p->depth || !f->out) continue;
    size_t n = len, room = f->cap - 1 - p->cap_len[i];
    if (n > room) n = room;
    memcpy(f->out + p->cap_len[i], t, n);
    p->cap_len[i] += n;
    f->out[p->cap_len[i]] = '\0';
  }
}

static void end_captures(struct parser *p) {
  for (size_t i = 0; i < p->nf; i++)
    if (p->cap_depth[i] == p->depth) p->cap_depth[i] = -1; /* done: first occurrence only */
}

/* Decodes one entity at p->pos ('&'), appending its UTF-8 to the capture. */
static int entity(struct parser *p) {
  size_t start = p->pos;
  const char *semi = memchr(p->s + p->pos, ';', p->len - p->pos < 12 ? p->len - p->pos : 12);
  if (!semi) return fail(p, "unterminated entity");
  const char *e = p->s + p->pos + 1;
  size_t n = (size_t)(semi - e);
  char buf[4];
  size_t blen = 1;
  if (n == 3 && memcmp(e, "amp", 3) == 0)
    buf[0] = '&';
  else if (n == 2 && memcmp(e, "lt", 2) == 0)
    buf[0] = '<';
  else if (n == 2 && memcmp(e, "gt", 2) == 0)
    buf[0] = '>';
  else if (n == 4 && memcmp(e, "quot", 4) == 0)
    buf[0] = '"';
  else if (n == 4 && memcmp(e, "apos", 4) == 0)
    buf[0] = '\'';
  else if (n >= 2 && e[0] == '#') {
    unsigned long cp = 0;
    bool hex = e[1] == 'x';
    size_t i = hex ? 2 : 1;
    if (i >= n) return fail(p, "empty character reference");
    for (; i < n; i++) {
      char c = e[i];
      int d = (c >= '0' && c <= '9')            ? c - '0'
              : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (hex && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                               : -1;
      if (d < 0) return fail(p, "bad character reference");
      cp = cp * (hex ? 16 : 10) + (unsigned long)d;
      if (cp > 0x10FFFF) return fail(p, "character reference out of range");
    }
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return fail(p, "invalid character reference");
    if (cp < 0x80) {
      buf[0] = (char)cp;
    } else if (cp < 0x800) {
      buf[0] = (char)(0xC0 | (cp >> 6));
      buf[1] = (char)(0x80 | (cp & 0x3F));
      blen = 2;
    } else if (cp < 0x10000) {
      buf[0] = (char)(0xE0 | (cp >> 12));
      buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
      buf[2] = (char)(0x80 | (cp & 0x3F));
      blen = 3;
    } else {
      buf[0] = (char)(0xF0 | (cp >> 18));
      buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
      buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
      buf[3] = (char)(0x80 | (cp & 0x3F));
      blen = 4;
    }
  } else {
    p->pos = start;
    return fail(p, "unknown entity");
  }
  capture(p, buf, blen);
  p->pos = (size_t)(semi - p->s) + 1;
  return 0;
}

static int skip_until(struct parser *p, const char *end, const char *what) {
  const char *hit = NULL;
  size_t n = strlen(end);
  for (size_t i = p->pos; i + n <= p->len; i++)
    if (memcmp(p->s + i, end, n) == 0) {
      hit = p->s + i;
      break;
    }
  if (!hit) return fail(p, "unterminated %s", what);
  p->pos = (size_t)(hit - p->s) + n;
  return 0;
}

static int start_tag(struct parser *p) {
  p->pos++; /* '<' */
  struct name n;
  if (read_name(p, &n)) return -1;
  for (;;) {
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "unterminated start tag");
    char c = p->s[p->pos];
    if (c == '>' || (c == '/' && p->pos + 1 < p->len && p->s[p->pos + 1] == '>')) break;
    struct name attr;
    if (read_name(p, &attr)) return -1;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '=') return fail(p, "attribute without '='");
    p->pos++;
    skip_ws(p);
    if (p->pos >= p->len || (p->s[p->pos] != '"' && p->s[p->pos] != '\''))
      return fail(p, "attribute value not quoted");
    char q = p->s[p->pos++];
    const char *close = memchr(p->s + p->pos, q, p->len - p->pos);
    if (!close) return fail(p, "unterminated attribute value");
    if (memchr(p->s + p->pos, '<', (size_t)(close - (p->s + p->pos))))
      return fail(p, "'<' in attribute value");
    p->pos = (size_t)(close - p->s) + 1;
  }
  bool empty = p->s[p->pos] == '/';
  p->pos += empty ? 2 : 1;
  if (p->depth == MAX_DEPTH) return fail(p, "elements nested deeper than %d", MAX_DEPTH);
  struct name ln = local(n);
  p->stack[p->depth++] = n;
  for (size_t i = 0; i < p->nf; i++)
    if (strlen(p->f[i].name) == ln.len && memcmp(p->f[i].name, ln.p, ln.len) == 0 &&
        p->f[i].count++ == 0)
      p->cap_depth[i] = p->depth;
  if (empty) {
    end_captures(p);
    p->depth--;
  }
  return 0;
}

static int end_tag(struct parser *p) {
  p->pos += 2; /* "</" */
  struct name n;
  if (read_name(p, &n)) return -1;
  skip_ws(p);
  if (p->pos >= p->len || p->s[p->pos] != '>') return fail(p, "unterminated end tag");
  if (p->depth == 0) return fail(p, "end tag </%.*s> without a start tag", (int)n.len, n.p);
  struct name open = p->stack[p->depth - 1];
  if (open.len != n.len || memcmp(open.p, n.p, n.len) != 0)
    return fail(p, "end tag </%.*s> does not match <%.*s>", (int)n.len, n.p, (int)open.len,
                open.p);
  p->pos++;
  end_captures(p);
  p->depth--;
  return 0;
}

int folio_s3_xml_parse(const char *xml, size_t len, struct folio_s3_xml_field *fields,
                       size_t nfields, char *err, size_t errcap) {
  struct parser p = {.s = xml, .len = len, .f = fields, .nf = nfields, .err = err, .errcap = errcap};
  if (errcap) err[0] = '\0';
  if (nfields > FOLIO_S3_XML_MAX_FIELDS) return fail(&p, "more than %d fields requested", FOLIO_S3_XML_MAX_FIELDS);
  for (size_t i = 0; i < nfields; i++) {
    fields[i].count = 0;
    if (fields[i].out && fields[i].cap) fields[i].out[0] = '\0';
    if (fields[i].out && !fields[i].cap) fields[i].out = NULL;
  }
  if (!xml) return fail(&p, "no document");
  bool seen_root = false;
  while (p.pos < p.len) {
    char c = p.s[p.pos];
    if (c == '<') {
      if (starts(&p, "<?")) {
        if (seen_root && p.depth == 0) return fail(&p, "content after the root element");
        if (skip_until(&p, "?>", "processing instruction")) return -1;
      } else if (starts(&p, "<!--")) {
        if (skip_until(&p, "-->", "comment")) return -1;
      } else if (starts(&p, "<![CDATA[")) {
        if (p.depth == 0) return fail(&p, "CDATA outside the root element");
        size_t from = p.pos + 9;
        if (skip_until(&p, "]]>", "CDATA section")) return -1;
        capture(&p, p.s + from, p.pos - 3 - from);
      } else if (starts(&p, "<!")) {
        return fail(&p, "DOCTYPE and declarations are not accepted");
      } else if (starts(&p, "</")) {
        if (end_tag(&p)) return -1;
      } else {
        if (seen_root && p.depth == 0) return fail(&p, "content after the root element");
        seen_root = true;
        if (start_tag(&p)) return -1;
      }
    } else if (c == '&') {
      if (p.depth == 0) return fail(&p, "text outside the root element");
      if (entity(&p)) return -1;
    } else {
      if (p.depth == 0) {
        if (!ws(c)) return fail(&p, "text outside the root element");
        p.pos++;
        continue;
      }
      size_t from = p.pos;
      while (p.pos < p.len && p.s[p.pos] != '<' && p.s[p.pos] != '&') {
        if (p.s[p.pos] == '\0') return fail(&p, "NUL byte in text");
        p.pos++;
      }
      capture(&p, p.s + from, p.pos - from);
    }
  }
  if (!seen_root) return fail(&p, "no root element");
  if (p.depth) return fail(&p, "document ends inside <%.*s>", (int)p.stack[p.depth - 1].len,
                          p.stack[p.depth - 1].p);
  return 0;
}
