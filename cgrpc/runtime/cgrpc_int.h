/* Private to the cgrpc runtime: the arena, protobuf <-> byte buffer helpers. */
#ifndef CGRPC_INT_H
#define CGRPC_INT_H

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgrpc/cgrpc.h"

/* A bump arena of malloc'd chunks: cgrpc's own, so it ships without folio's
 * lib/base. Not thread-safe; the owner serialises access. */
struct cgrpc_arena;
struct cgrpc_arena *cgrpc_arena_create(size_t chunk_size);
void cgrpc_arena_destroy(struct cgrpc_arena *a); /* NULL allowed */
void cgrpc_arena_reset(struct cgrpc_arena *a);   /* keeps the first chunk */
void *cgrpc_arena_alloc(struct cgrpc_arena *a, size_t n);
char *cgrpc_arena_strndup(struct cgrpc_arena *a, const char *s, size_t n);
/* A ProtobufCAllocator whose alloc draws from a and whose free does nothing:
 * the message goes away with the arena. */
void cgrpc_arena_allocator(struct cgrpc_arena *a, ProtobufCAllocator *out);

/* Packs msg into a new byte buffer (caller destroys it). NULL when out of
 * memory. *size receives the packed size. */
grpc_byte_buffer *cgrpc_pack(const ProtobufCMessage *msg, size_t *size);
/* Packs msg into a new byte buffer whose pieces from inside lend's region
 * (CGRPC_LEND_MIN bytes or more) are slices referencing that memory, each
 * holding one lend->ref (dropped with lend->unref when gRPC frees the
 * slice); the rest is copied. lend NULL: cgrpc_pack. *size receives the
 * packed size. */
grpc_byte_buffer *cgrpc_pack_lent(const ProtobufCMessage *msg, const struct cgrpc_lend *lend,
                                  size_t *size);
/* Unpacks bb as desc with alloc (NULL = default). NULL when malformed. */
ProtobufCMessage *cgrpc_unpack(const ProtobufCMessageDescriptor *desc, ProtobufCAllocator *alloc,
                               grpc_byte_buffer *bb);

/* Checks every string field of a desc message in data[0..len) on the wire
 * (wirecheck.c): valid UTF-8 and no NUL byte, through nested messages,
 * repeated fields and map entries. Returns 0 (fine, or not parseable: then
 * protobuf-c's unpack decides) or 1 with the field path in path[pcap] (e.g.
 * "options.page_range", "labels[\"k\"]", "artifacts[2].name") and why in
 * desc[dcap]. Reads only; pure. */
int cgrpc_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                     char *path, size_t pcap, char *desc_out, size_t dcap);

/* cgrpc_unpack after cgrpc_wire_check on the same bytes. NULL when malformed
 * (*refused false) or when a string field is not exact (*refused true, the
 * path and reason in err, their strings in arena). */
ProtobufCMessage *cgrpc_unpack_exact(const ProtobufCMessageDescriptor *desc,
                                     ProtobufCAllocator *alloc, struct cgrpc_arena *arena,
                                     grpc_byte_buffer *bb, bool *refused,
                                     struct cgrpc_field_error *err);

/* Channel/server args for the size limits; writes up to 2 args into args[]
 * and returns how many. */
int cgrpc_size_args(int64_t max_recv, int64_t max_send, grpc_arg args[2]);

/* snprintf into errbuf when errbuf != NULL. */
void cgrpc_set_err(char *errbuf, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* free() for pointers we own but store as const. */
void cgrpc_free_const(const void *p);

#define CGRPC_DETAILS_KEY "grpc-status-details-bin"

#endif
