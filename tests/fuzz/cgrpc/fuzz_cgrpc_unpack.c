/* libFuzzer target for the path every request takes through the cgrpc
 * server: bytes in a gRPC byte buffer, their string fields checked on the
 * wire (NUL, UTF-8) and then unpacked by protobuf-c through the per-call
 * arena allocator (cgrpc_unpack_exact), as each request type folio serves.
 * The first byte picks the type. Any input must unpack or be refused (NULL),
 * never crash, leak or hit undefined behaviour; what unpacks is packed again
 * and the result unpacked (exercising the server's reply path on arbitrary
 * messages). The second unpack may be refused: protobuf-c keeps an unknown
 * field numbered 0 when its tag is written in two bytes but refuses the
 * one-byte form it writes back (found by this target; harmless to cgrpc,
 * which never re-packs a request, so not asserted). */
#include <grpc/byte_buffer.h>
#include <grpc/slice.h>
#include <stdint.h>
#include <stdlib.h>

#include "cgrpc_int.h"
#include "folio/v1/layout_service.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const types[] = {
    &folio__v1__submit_layout_request__descriptor,
    &folio__v1__get_status_request__descriptor,
    &folio__v1__stream_artifact_request__descriptor,
    &folio__v1__watch_job_request__descriptor,
    &folio__v1__cancel_job_request__descriptor,
    &folio__v1__get_artifact_url_request__descriptor,
    &grpc__health__v1__health_check_request__descriptor,
    &folio__v1__job__descriptor, /* the largest message: nested, repeated, maps */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const ProtobufCMessageDescriptor *d = types[data[0] % (sizeof types / sizeof types[0])];
  data++;
  size--;
  struct cgrpc_arena *arena = cgrpc_arena_create(512); /* small chunks: more chunk edges */
  if (!arena) return 0;
  ProtobufCAllocator alloc;
  cgrpc_arena_allocator(arena, &alloc);
  grpc_slice s = grpc_slice_from_copied_buffer((const char *)data, size);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  bool refused = false;
  struct cgrpc_field_error fe = {0};
  ProtobufCMessage *m = cgrpc_unpack_exact(d, &alloc, arena, bb, &refused, &fe);
  grpc_byte_buffer_destroy(bb);
  /* a refusal names a field and a reason, and unpacks nothing */
  if (refused && (m || !fe.field || !*fe.field || !fe.description || !*fe.description)) abort();
  if (m) {
    size_t n = 0;
    grpc_byte_buffer *again = cgrpc_pack(m, &n);
    if (grpc_byte_buffer_length(again) != n) abort();
    ProtobufCMessage *m2 = cgrpc_unpack(d, &alloc, again);
    if (m2 && protobuf_c_message_get_packed_size(m2) > n) abort();
    grpc_byte_buffer_destroy(again);
  }
  cgrpc_arena_destroy(arena); /* frees every message at once */
  return 0;
}
