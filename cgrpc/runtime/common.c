/* Pieces shared by the cgrpc server and client: the per-call arena, packing
 * protobuf-c messages into gRPC byte buffers and back, error strings. */
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <limits.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgrpc_int.h"

const char *cgrpc_strerror(int err) {
  switch (err) {
    case CGRPC_OK: return "ok";
    case CGRPC_EINVAL: return "invalid argument or call state";
    case CGRPC_ENOMEM: return "out of memory";
    case CGRPC_EBUSY: return "an operation of this kind is already in flight";
    case CGRPC_ETOOBIG: return "message larger than the send limit";
    case CGRPC_EDONE: return "the call is finished or cancelled";
    case CGRPC_ESTARTUP: return "the server could not start";
    case CGRPC_ESTATUS: return "the call ended with a non-OK status";
    default: return "unknown cgrpc error";
  }
}

const char *cgrpc_status_name(grpc_status_code code) {
  static const char *const names[] = {
      "OK",       "CANCELLED",         "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",   "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",     "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  if ((int)code >= 0 && (size_t)code < sizeof names / sizeof names[0]) return names[code];
  return "UNKNOWN_CODE";
}

void cgrpc_free_const(const void *p) { free((void *)(uintptr_t)p); }

void cgrpc_set_err(char *errbuf, size_t errcap, const char *fmt, ...) {
  if (!errbuf || errcap == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errbuf, errcap, fmt, ap);
  va_end(ap);
}

/* ---- arena ---- */

struct cgrpc_chunk {
  struct cgrpc_chunk *next;
  size_t cap, used;
  alignas(max_align_t) unsigned char data[];
};

struct cgrpc_arena {
  struct cgrpc_chunk *head; /* current chunk; the first one allocated is last */
  size_t chunk_size;
};

static struct cgrpc_chunk *chunk_new(size_t cap) {
  if (cap > SIZE_MAX - sizeof(struct cgrpc_chunk)) return NULL;
  struct cgrpc_chunk *c = malloc(sizeof *c + cap);
  if (!c) return NULL;
  c->next = NULL;
  c->cap = cap;
  c->used = 0;
  return c;
}

struct cgrpc_arena *cgrpc_arena_create(size_t chunk_size) {
  struct cgrpc_arena *a = malloc(sizeof *a);
  if (!a) return NULL;
  a->chunk_size = chunk_size ? chunk_size : 4096;
  a->head = chunk_new(a->chunk_size);
  if (!a->head) {
    free(a);
    return NULL;
  }
  return a;
}

void cgrpc_arena_reset(struct cgrpc_arena *a) {
  while (a->head->next) {
    struct cgrpc_chunk *c = a->head;
    a->head = c->next;
    free(c);
  }
  a->head->used = 0;
}

void cgrpc_arena_destroy(struct cgrpc_arena *a) {
  if (!a) return;
  cgrpc_arena_reset(a);
  free(a->head);
  free(a);
}

void *cgrpc_arena_alloc(struct cgrpc_arena *a, size_t n) {
  const size_t align = alignof(max_align_t);
  if (n > SIZE_MAX - align) return NULL;
  n = (n + align - 1) & ~(align - 1);
  if (n == 0) n = align;
  struct cgrpc_chunk *c = a->head;
  if (c->cap - c->used < n) {
    c = chunk_new(n > a->chunk_size ? n : a->chunk_size);
    if (!c) return NULL;
    c->next = a->head;
    a->head = c;
  }
  void *p = c->data + c->used;
  c->used += n;
  return p;
}

char *cgrpc_arena_strndup(struct cgrpc_arena *a, const char *s, size_t n) {
  if (n == SIZE_MAX) return NULL;
  char *p = cgrpc_arena_alloc(a, n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static void *arena_pb_alloc(void *ud, size_t n) { return cgrpc_arena_alloc(ud, n); }
static void arena_pb_free(void *ud, void *p) { (void)ud, (void)p; }

void cgrpc_arena_allocator(struct cgrpc_arena *a, ProtobufCAllocator *out) {
  out->alloc = arena_pb_alloc;
  out->free = arena_pb_free;
  out->allocator_data = a;
}

/* ---- protobuf <-> byte buffer ---- */

grpc_byte_buffer *cgrpc_pack(const ProtobufCMessage *msg, size_t *size) {
  size_t n = protobuf_c_message_get_packed_size(msg);
  *size = n;
  grpc_slice s = grpc_slice_malloc(n);
  protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  return bb;
}

/* Zero-copy packing: protobuf-c's pack_to_buffer hands each piece of the
 * message to append() in wire order; a `bytes`/`string` field arrives as its
 * tag and length, then its payload with the field's own data pointer. A
 * payload inside the lent region becomes a slice pointing there (with one
 * lend->ref, dropped by gRPC's destroy); everything between two such pieces
 * is gathered into a copied slice. */
struct gather {
  ProtobufCBuffer base; /* first: append() casts */
  const struct cgrpc_lend *lend;
  grpc_slice *s;
  size_t n, cap;
  uint8_t *copy; /* bytes waiting to become a copied slice */
  size_t ncopy, capcopy;
  bool failed; /* out of memory: the caller drops everything */
  grpc_slice s0[8];
  uint8_t copy0[256];
};

static bool gather_push(struct gather *g, grpc_slice sl) {
  if (g->n == g->cap) {
    size_t cap = g->cap * 2;
    grpc_slice *ns = g->s == g->s0 ? malloc(cap * sizeof *ns) : realloc(g->s, cap * sizeof *ns);
    if (!ns) {
      grpc_slice_unref(sl);
      g->failed = true;
      return false;
    }
    if (g->s == g->s0) memcpy(ns, g->s0, sizeof g->s0);
    g->s = ns;
    g->cap = cap;
  }
  g->s[g->n++] = sl;
  return true;
}

static void gather_flush(struct gather *g) {
  if (!g->ncopy || g->failed) return;
  gather_push(g, grpc_slice_from_copied_buffer((const char *)g->copy, g->ncopy));
  g->ncopy = 0;
}

static void gather_append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
  struct gather *g = (struct gather *)b;
  if (g->failed || len == 0) return;
  const struct cgrpc_lend *l = g->lend;
  uintptr_t lo = (uintptr_t)l->base, p = (uintptr_t)data;
  if (len >= CGRPC_LEND_MIN && p >= lo && p - lo <= l->len && len <= l->len - (p - lo)) {
    gather_flush(g);
    if (g->failed) return;
    l->ref(l->ud);
    /* the destroy runs once, when gRPC drops the slice's last reference */
    gather_push(g, grpc_slice_new_with_user_data((void *)(uintptr_t)data, len, l->unref, l->ud));
    return;
  }
  if (g->ncopy + len > g->capcopy) {
    size_t cap = g->capcopy * 2;
    while (cap < g->ncopy + len) cap *= 2;
    uint8_t *nc = g->copy == g->copy0 ? malloc(cap) : realloc(g->copy, cap);
    if (!nc) {
      g->failed = true;
      return;
    }
    if (g->copy == g->copy0) memcpy(nc, g->copy0, g->ncopy);
    g->copy = nc;
    g->capcopy = cap;
  }
  memcpy(g->copy + g->ncopy, data, len);
  g->ncopy += len;
}

grpc_byte_buffer *cgrpc_pack_lent(const ProtobufCMessage *msg, const struct cgrpc_lend *lend,
                                  size_t *size) {
  if (!lend) return cgrpc_pack(msg, size);
  struct gather g = {.base = {.append = gather_append}, .lend = lend, .cap = 8, .capcopy = 256};
  g.s = g.s0;
  g.copy = g.copy0;
  *size = protobuf_c_message_pack_to_buffer(msg, &g.base);
  gather_flush(&g);
  grpc_byte_buffer *bb = NULL;
  if (!g.failed) bb = grpc_raw_byte_buffer_create(g.s, g.n); /* takes its own refs */
  for (size_t i = 0; i < g.n; i++) grpc_slice_unref(g.s[i]); /* lent ones: unref when last */
  if (g.s != g.s0) free(g.s);
  if (g.copy != g.copy0) free(g.copy);
  return bb;
}

ProtobufCMessage *cgrpc_unpack(const ProtobufCMessageDescriptor *desc, ProtobufCAllocator *alloc,
                               grpc_byte_buffer *bb) {
  grpc_byte_buffer_reader r;
  if (!grpc_byte_buffer_reader_init(&r, bb)) return NULL;
  grpc_slice s = grpc_byte_buffer_reader_readall(&r);
  grpc_byte_buffer_reader_destroy(&r);
  ProtobufCMessage *m =
      protobuf_c_message_unpack(desc, alloc, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
  grpc_slice_unref(s);
  return m;
}

ProtobufCMessage *cgrpc_unpack_exact(const ProtobufCMessageDescriptor *desc,
                                     ProtobufCAllocator *alloc, struct cgrpc_arena *arena,
                                     grpc_byte_buffer *bb, bool *refused,
                                     struct cgrpc_field_error *err) {
  *refused = false;
  grpc_byte_buffer_reader r;
  if (!grpc_byte_buffer_reader_init(&r, bb)) return NULL;
  grpc_slice s = grpc_byte_buffer_reader_readall(&r);
  grpc_byte_buffer_reader_destroy(&r);
  char path[512], why[256];
  ProtobufCMessage *m = NULL;
  if (cgrpc_wire_check(desc, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), path, sizeof path, why,
                       sizeof why)) {
    *refused = true;
    err->field = cgrpc_arena_strndup(arena, path, strlen(path));
    err->description = cgrpc_arena_strndup(arena, why, strlen(why));
    if (!err->field || !err->description) *err = (struct cgrpc_field_error){"?", "?"};
  } else {
    m = protobuf_c_message_unpack(desc, alloc, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
  }
  grpc_slice_unref(s);
  return m;
}

int cgrpc_size_args(int64_t max_recv, int64_t max_send, grpc_arg args[2]) {
  static char recv_key[] = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
  static char send_key[] = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
  int n = 0;
  if (max_recv != 0) {
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = recv_key;
    args[n].value.integer = max_recv < 0 || max_recv > INT_MAX ? -1 : (int)max_recv;
    n++;
  }
  if (max_send > 0) {
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = send_key;
    args[n].value.integer = max_send > INT_MAX ? -1 : (int)max_send;
    n++;
  }
  return n;
}
