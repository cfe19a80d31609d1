/* Exact strings: a walk over a message's wire bytes, guided by its
 * descriptor, that checks every string field — in nested messages, repeated
 * fields and map entries — before protobuf-c unpacks it.
 *
 * Why on the wire: protobuf-c copies a string and NUL-terminates it, so a
 * string with an embedded NUL reaches the handler cut short and silently
 * different (two idempotency keys differing after a NUL became one). Only
 * the wire bytes still show it. proto3 also requires a string to be valid
 * UTF-8, which protobuf-c does not check.
 *
 * The walk only reads; anything it cannot parse (truncation, a bad wire
 * type, nesting deeper than CGRPC_WIRE_MAX_DEPTH) it leaves to protobuf-c's
 * unpack, which refuses it as before. The field path is built only when a
 * string is refused, by re-reading the frames that led to it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cgrpc_int.h"

#define CGRPC_WIRE_MAX_DEPTH 64

/* One level of the walk: which field of which message we are inside. */
struct frame {
  const ProtobufCMessageDescriptor *d;
  const uint8_t *msg; /* this message's bytes */
  size_t len;
  const ProtobufCFieldDescriptor *f; /* the field being read */
  const uint8_t *at;                 /* where that field's tag starts */
  const uint8_t *val;                /* its length-delimited value */
  size_t vlen;
};

struct walk {
  struct frame fr[CGRPC_WIRE_MAX_DEPTH];
  int depth;          /* frames in use when the walk failed */
  const char *why;    /* set when a string was refused */
};

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return false;
    uint8_t b = *(*p)++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return true;
    }
  }
  return false;
}

/* NULL when s[0..n) is valid UTF-8 without NUL; else why not. */
static const char *string_fault(const uint8_t *s, size_t n) {
  if (memchr(s, 0, n)) return "contains a NUL byte";
  const uint8_t *end = s + n;
  while (s < end) {
    uint8_t c = *s;
    size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (k == 0 || (size_t)(end - s) < k) return "is not valid UTF-8";
    uint32_t cp = k == 1 ? c : k == 2 ? (c & 0x1fu) : k == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t i = 1; i < k; i++) {
      if ((s[i] & 0xc0) != 0x80) return "is not valid UTF-8";
      cp = (cp << 6) | (s[i] & 0x3fu);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return "is not valid UTF-8";
    s += k;
  }
  return NULL;
}

static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint32_t id) {
  for (unsigned i = 0; i < d->n_fields; i++)
    if (d->fields[i].id == id) return &d->fields[i];
  return NULL;
}

/* A map field: protobuf-c keeps no map_entry option, so recognise the shape
 * protoc gives every map: a repeated XxxEntry with key = 1 and value = 2. */
static bool is_map(const ProtobufCFieldDescriptor *f) {
  if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED) return false;
  const ProtobufCMessageDescriptor *e = f->descriptor;
  size_t sl = strlen(e->short_name);
  return e->n_fields == 2 && e->fields[0].id == 1 && strcmp(e->fields[0].name, "key") == 0 &&
         e->fields[1].id == 2 && strcmp(e->fields[1].name, "value") == 0 && sl > 5 &&
         strcmp(e->short_name + sl - 5, "Entry") == 0;
}

/* 0: every string fine; 1: a string refused (w->why, w->depth); -1: not
 * parseable here (protobuf-c decides). */
static int walk_msg(struct walk *w, int depth, const ProtobufCMessageDescriptor *d,
                    const uint8_t *p, size_t len) {
  if (depth >= CGRPC_WIRE_MAX_DEPTH) return -1;
  const uint8_t *end = p + len;
  struct frame *fr = &w->fr[depth];
  fr->d = d;
  fr->msg = p;
  fr->len = len;
  while (p < end) {
    const uint8_t *at = p;
    uint64_t tag, n;
    if (!read_varint(&p, end, &tag)) return -1;
    switch (tag & 7) {
      case 0:
        if (!read_varint(&p, end, &n)) return -1;
        continue;
      case 1:
        if ((size_t)(end - p) < 8) return -1;
        p += 8;
        continue;
      case 5:
        if ((size_t)(end - p) < 4) return -1;
        p += 4;
        continue;
      case 2: break;
      default: return -1; /* groups are not proto3 */
    }
    if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p)) return -1;
    const uint8_t *val = p;
    p += n;
    const ProtobufCFieldDescriptor *f = tag >> 3 <= UINT32_MAX ? field_of(d, (uint32_t)(tag >> 3)) : NULL;
    if (!f) continue; /* unknown: kept opaque by protobuf-c, never read as text */
    fr->f = f;
    fr->at = at;
    fr->val = val;
    fr->vlen = (size_t)n;
    if (f->type == PROTOBUF_C_TYPE_STRING) {
      const char *why = string_fault(val, (size_t)n);
      if (why) {
        w->why = why;
        w->depth = depth + 1;
        return 1;
      }
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
      int rc = walk_msg(w, depth + 1, f->descriptor, val, (size_t)n);
      if (rc) return rc;
    }
  }
  return 0;
}

/* The entry's key (field 1; the last one wins, as on unpack). */
static void map_key(const uint8_t *p, size_t len, const uint8_t **key, size_t *klen) {
  const uint8_t *end = p + len;
  *key = (const uint8_t *)"";
  *klen = 0;
  while (p < end) {
    uint64_t tag, n;
    if (!read_varint(&p, end, &tag)) return;
    if ((tag & 7) == 0) {
      if (!read_varint(&p, end, &n)) return;
    } else if ((tag & 7) == 1 || (tag & 7) == 5) {
      size_t k = (tag & 7) == 1 ? 8 : 4;
      if ((size_t)(end - p) < k) return;
      p += k;
    } else {
      if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p)) return;
      if (tag >> 3 == 1) *key = p, *klen = (size_t)n;
      p += n;
    }
  }
}

/* How many earlier occurrences of field id precede `at` in the message. */
static size_t occurrence(const struct frame *fr) {
  const uint8_t *p = fr->msg, *end = fr->msg + fr->len;
  size_t count = 0;
  while (p < fr->at) {
    uint64_t tag, n;
    if (!read_varint(&p, end, &tag)) break;
    if ((tag & 7) == 0) read_varint(&p, end, &n);
    else if ((tag & 7) == 1) p += 8;
    else if ((tag & 7) == 5) p += 4;
    else if (read_varint(&p, end, &n)) p += n;
    if (tag >> 3 == fr->f->id) count++;
  }
  return count;
}

struct out {
  char *buf;
  size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...) {
  if (o->len >= o->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  if (n > 0) o->len += (size_t)n;
  if (o->len >= o->cap) o->len = o->cap - 1;
}

/* A key as a JSON string literal (valid UTF-8 without NUL by now). */
static void put_quoted(struct out *o, const uint8_t *s, size_t n) {
  put(o, "\"");
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c == '"' || c == '\\') put(o, "\\%c", c);
    else if (c < 0x20 || c == 0x7f) put(o, "\\u%04x", c);
    else put(o, "%c", c);
  }
  put(o, "\"");
}

/* Longer map keys are named by position rather than quoted. */
#define CGRPC_WIRE_KEY_QUOTE_MAX 128

/* Builds err's path and description from the frames. */
static void describe(const struct walk *w, char *path, size_t pcap, char *desc, size_t dcap) {
  struct out o = {path, pcap, 0};
  path[0] = '\0';
  snprintf(desc, dcap, "%s", w->why);
  for (int i = 0; i < w->depth; i++) {
    const struct frame *fr = &w->fr[i];
    if (i) put(&o, ".");
    put(&o, "%s", fr->f->name);
    if (is_map(fr->f) && i + 1 < w->depth) {
      const struct frame *entry = &w->fr[i + 1];
      const uint8_t *key;
      size_t klen;
      map_key(fr->val, fr->vlen, &key, &klen);
      const ProtobufCMessageDescriptor *ed = fr->f->descriptor;
      if (ed->fields[0].type != PROTOBUF_C_TYPE_STRING) {
        put(&o, "[%zu]", occurrence(fr)); /* a non-string key: the entry's position */
      } else if (entry->f->id == 1 || klen > CGRPC_WIRE_KEY_QUOTE_MAX) {
        /* the key itself is refused (or too long to quote): name the entry */
        snprintf(desc, dcap, "the %s of entry %zu (0-based, in request order) %s",
                 entry->f->id == 1 ? "key" : "value", occurrence(fr), w->why);
        return;
      } else {
        put(&o, "[");
        put_quoted(&o, key, klen);
        put(&o, "]");
      }
      if (i + 2 >= w->depth) return; /* labels["k"] names a string value */
      i++;                           /* a message-typed value: go on inside it */
      continue;
    }
    if (fr->f->label == PROTOBUF_C_LABEL_REPEATED) put(&o, "[%zu]", occurrence(fr));
  }
}

int cgrpc_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                     char *path, size_t pcap, char *desc_out, size_t dcap) {
  struct walk w = {.depth = 0};
  int rc = walk_msg(&w, 0, desc, data, len);
  if (rc <= 0) return 0;
  describe(&w, path, pcap, desc_out, dcap);
  return 1;
}
