/* cgrpc's wire check of string fields (runtime/wirecheck.c), on hand-made
 * wire bytes of folio's messages (nested, repeated, map): every string must
 * be valid UTF-8 without NUL, and a refusal names the exact field path.
 * protobuf-c itself would unpack most of these cases and cut the string at
 * the NUL, which is what the check exists to prevent. */
#include <stdint.h>
#include <string.h>

#include "cgrpc_int.h"
#include "check.h"
#include "folio/v1/layout_service.pb-c.h"

/* A tiny wire writer. */
struct w {
  uint8_t b[2048];
  size_t n;
};
static void varint(struct w *w, uint64_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    w->b[w->n++] = (uint8_t)(c | (v ? 0x80 : 0));
  } while (v);
}
static void ld(struct w *w, uint32_t field, const void *p, size_t len) {
  varint(w, (uint64_t)field << 3 | 2);
  varint(w, len);
  memcpy(w->b + w->n, p, len);
  w->n += len;
}
static void vi(struct w *w, uint32_t field, uint64_t v) {
  varint(w, (uint64_t)field << 3);
  varint(w, v);
}
/* A map<string,string> entry as field `field`. */
static void entry(struct w *w, uint32_t field, const void *k, size_t kl, const void *v, size_t vl) {
  struct w e = {.n = 0};
  ld(&e, 1, k, kl);
  ld(&e, 2, v, vl);
  ld(w, field, e.b, e.n);
}

static void expect(const char *name, const ProtobufCMessageDescriptor *d, const struct w *w,
                   const char *field, const char *why) {
  char path[512] = "", desc[256] = "";
  int rc = cgrpc_wire_check(d, w->b, w->n, path, sizeof path, desc, sizeof desc);
  if (!field) {
    CHECK_MSG(rc == 0, "%s: refused as %s: %s", name, path, desc);
    return;
  }
  CHECK_MSG(rc == 1, "%s: accepted", name);
  CHECK_MSG(strcmp(path, field) == 0, "%s: path \"%s\", want \"%s\"", name, path, field);
  CHECK_MSG(strcmp(desc, why) == 0, "%s: why \"%s\", want \"%s\"", name, desc, why);
}

static const ProtobufCMessageDescriptor *const submit = &folio__v1__submit_layout_request__descriptor;

static void test_submit_layout(void) {
  struct w w = {.n = 0};
  ld(&w, 1, "{\"a\":\"\0\xff\"}", 10); /* bytes: anything goes */
  vi(&w, 2, 1);
  struct w o = {.n = 0};
  vi(&o, 1, 150);
  ld(&o, 2, "1-3", 3);
  ld(&w, 3, o.b, o.n);
  ld(&w, 4, "\xe6\x97\xa5\xe6\x9c\xac", 6); /* 日本 */
  entry(&w, 5, "team", 4, "print", 5);
  expect("valid", submit, &w, NULL, NULL);
  /* an unknown field is never read as text */
  ld(&w, 99, "\0\xff", 2);
  expect("unknown field", submit, &w, NULL, NULL);

  struct w k = {.n = 0};
  ld(&k, 4, "key\0a", 5);
  expect("idempotency_key NUL", submit, &k, "idempotency_key", "contains a NUL byte");
  /* a later occurrence (which would win) is checked too */
  k.n = 0;
  ld(&k, 4, "fine", 4);
  ld(&k, 4, "\xc0\xaf", 2);
  expect("idempotency_key overlong", submit, &k, "idempotency_key", "is not valid UTF-8");

  struct w r = {.n = 0};
  o.n = 0;
  ld(&o, 2, "1-\xed\xa0\x80", 5); /* a surrogate */
  ld(&r, 3, o.b, o.n);
  expect("nested", submit, &r, "options.page_range", "is not valid UTF-8");

  struct w l = {.n = 0};
  entry(&l, 5, "ok", 2, "fine", 4);
  entry(&l, 5, "k\"q\\", 4, "v\0", 2);
  expect("map value", submit, &l, "labels[\"k\\\"q\\\\\"]", "contains a NUL byte");
  l.n = 0;
  entry(&l, 5, "ok", 2, "fine", 4);
  entry(&l, 5, "x\tz", 3, "\xf4\x90\x80\x80", 4); /* > U+10FFFF */
  expect("map value, escaped key", submit, &l, "labels[\"x\\u0009z\"]", "is not valid UTF-8");
  l.n = 0;
  entry(&l, 5, "ok", 2, "fine", 4);
  entry(&l, 5, "a\0b", 3, "v", 1);
  expect("map key", submit, &l, "labels",
         "the key of entry 1 (0-based, in request order) contains a NUL byte");
  l.n = 0;
  char longkey[200];
  memset(longkey, 'k', sizeof longkey);
  entry(&l, 5, longkey, sizeof longkey, "\xff", 1);
  expect("map value, long key", submit, &l, "labels",
         "the value of entry 0 (0-based, in request order) is not valid UTF-8");
  /* the key may follow the value on the wire */
  l.n = 0;
  struct w e = {.n = 0};
  ld(&e, 2, "\0", 1);
  ld(&e, 1, "late", 4);
  ld(&l, 5, e.b, e.n);
  expect("map key after value", submit, &l, "labels[\"late\"]", "contains a NUL byte");
}

static void test_repeated_messages(void) {
  /* folio.v1.Job: artifacts (repeated Artifact), labels (map), nested timestamps */
  const ProtobufCMessageDescriptor *job = &folio__v1__job__descriptor;
  struct w w = {.n = 0};
  ld(&w, 1, "id", 2);
  for (int i = 0; i < 3; i++) {
    struct w a = {.n = 0};
    ld(&a, 1, i == 2 ? "page\0.png" : "ok.png", i == 2 ? 9 : 6);
    vi(&a, 3, (uint64_t)i);
    ld(&w, 10, a.b, a.n);
    vi(&w, 11, 1); /* formats between them: not counted as artifacts */
  }
  expect("artifacts[2].name", job, &w, "artifacts[2].name", "contains a NUL byte");
  struct w err = {.n = 0}, je = {.n = 0};
  ld(&je, 2, "\xe2\x82", 2); /* a cut 3-byte sequence */
  ld(&err, 5, je.b, je.n);
  expect("error.message", job, &err, "error.message", "is not valid UTF-8");
}

static void test_unparseable_left_to_unpack(void) {
  struct w w = {.n = 0};
  ld(&w, 4, "a\0", 2);
  w.n--; /* truncated: not this check's call */
  expect("truncated", submit, &w, NULL, NULL);
  static const uint8_t group[] = {0x0b, 0x0c};
  struct w g = {.n = sizeof group};
  memcpy(g.b, group, sizeof group);
  expect("group", submit, &g, NULL, NULL);
}

/* Map shapes folio's protos lack, on hand-made descriptors (the walk reads
 * only ids, names, types, labels, nested descriptors and short names):
 *   message Inner { string name = 1; }
 *   message Outer { map<string, Inner> m = 1; map<int32, string> n = 2; } */
static const ProtobufCFieldDescriptor inner_fields[] = {
    {.name = "name", .id = 1, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_STRING}};
static const ProtobufCMessageDescriptor inner_desc = {
    .name = "t.Inner", .short_name = "Inner", .n_fields = 1, .fields = inner_fields};
static const ProtobufCFieldDescriptor mentry_fields[] = {
    {.name = "key", .id = 1, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_STRING},
    {.name = "value", .id = 2, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_MESSAGE,
     .descriptor = &inner_desc}};
static const ProtobufCMessageDescriptor mentry_desc = {
    .name = "t.Outer.MEntry", .short_name = "MEntry", .n_fields = 2, .fields = mentry_fields};
static const ProtobufCFieldDescriptor nentry_fields[] = {
    {.name = "key", .id = 1, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_INT32},
    {.name = "value", .id = 2, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_STRING}};
static const ProtobufCMessageDescriptor nentry_desc = {
    .name = "t.Outer.NEntry", .short_name = "NEntry", .n_fields = 2, .fields = nentry_fields};
static const ProtobufCFieldDescriptor outer_fields[] = {
    {.name = "m", .id = 1, .label = PROTOBUF_C_LABEL_REPEATED, .type = PROTOBUF_C_TYPE_MESSAGE,
     .descriptor = &mentry_desc},
    {.name = "n", .id = 2, .label = PROTOBUF_C_LABEL_REPEATED, .type = PROTOBUF_C_TYPE_MESSAGE,
     .descriptor = &nentry_desc}};
static const ProtobufCMessageDescriptor outer_desc = {
    .name = "t.Outer", .short_name = "Outer", .n_fields = 2, .fields = outer_fields};

static void test_other_map_shapes(void) {
  struct w w = {.n = 0}, inner = {.n = 0}, e = {.n = 0};
  ld(&inner, 1, "a\0", 2);
  ld(&e, 1, "k", 1);
  ld(&e, 2, inner.b, inner.n);
  ld(&w, 1, e.b, e.n);
  expect("message value", &outer_desc, &w, "m[\"k\"].name", "contains a NUL byte");
  w.n = 0;
  for (int i = 0; i < 2; i++) {
    e.n = 0;
    vi(&e, 1, 7);
    ld(&e, 2, i ? "\xff" : "ok", i ? 1 : 2);
    ld(&w, 2, e.b, e.n);
  }
  expect("int key", &outer_desc, &w, "n[1]", "is not valid UTF-8");
}

/* cgrpc_unpack_exact: refuses with the path in the arena, or unpacks. */
static void test_unpack_exact(void) {
  struct cgrpc_arena *a = cgrpc_arena_create(0);
  CHECK(a);
  ProtobufCAllocator alloc;
  cgrpc_arena_allocator(a, &alloc);
  struct w w = {.n = 0};
  ld(&w, 4, "k\0b", 3);
  grpc_slice s = grpc_slice_from_copied_buffer((const char *)w.b, w.n);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  bool refused = false;
  struct cgrpc_field_error fe = {0};
  CHECK(cgrpc_unpack_exact(submit, &alloc, a, bb, &refused, &fe) == NULL);
  CHECK(refused);
  CHECK_EQ_STR(fe.field, "idempotency_key");
  CHECK_EQ_STR(fe.description, "contains a NUL byte");
  grpc_byte_buffer_destroy(bb);
  /* without the NUL it unpacks whole */
  w.n = 0;
  ld(&w, 4, "k-b", 3);
  s = grpc_slice_from_copied_buffer((const char *)w.b, w.n);
  bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  Folio__V1__SubmitLayoutRequest *r =
      (Folio__V1__SubmitLayoutRequest *)cgrpc_unpack_exact(submit, &alloc, a, bb, &refused, &fe);
  CHECK(r && !refused);
  CHECK_EQ_STR(r->idempotency_key, "k-b");
  grpc_byte_buffer_destroy(bb);
  /* malformed: NULL, not refused */
  static const uint8_t bad[] = {0x22, 100, 'x'};
  s = grpc_slice_from_copied_buffer((const char *)bad, sizeof bad);
  bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  CHECK(cgrpc_unpack_exact(submit, &alloc, a, bb, &refused, &fe) == NULL);
  CHECK(!refused);
  grpc_byte_buffer_destroy(bb);
  cgrpc_arena_destroy(a);
}

int main(void) {
  test_submit_layout();
  test_repeated_messages();
  test_unparseable_left_to_unpack();
  test_other_map_shapes();
  test_unpack_exact();
  return check_done();
}
