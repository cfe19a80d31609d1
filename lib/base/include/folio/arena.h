/* folio_arena: a bump allocator for request-scoped memory.
 *
 * Allocations live until folio_arena_destroy() (or folio_arena_reset()); there is
 * no per-allocation free. Not thread-safe: one arena belongs to one request at a
 * time. Memory comes from malloc in chunks; a request larger than the chunk size
 * gets a chunk of its own.
 *
 * Ownership: folio_arena_create() returns an arena the caller owns and frees with
 * folio_arena_destroy() (NULL allowed). Pointers returned by the alloc functions
 * are owned by the arena and stay valid until it is reset or destroyed. */
#ifndef FOLIO_ARENA_H
#define FOLIO_ARENA_H

#include <stddef.h>

struct folio_arena;

/* chunk_size 0 means the default (16 KiB). Returns NULL when out of memory. */
struct folio_arena *folio_arena_create(size_t chunk_size);
void folio_arena_destroy(struct folio_arena *a);
/* Frees every chunk but the first; all earlier allocations become invalid. */
void folio_arena_reset(struct folio_arena *a);

/* Aligned to max_align_t. Returns NULL when out of memory or n overflows. n == 0
 * returns a valid unique pointer. */
void *folio_arena_alloc(struct folio_arena *a, size_t n);
/* Zeroed array of count*size bytes; NULL on overflow or out of memory. */
void *folio_arena_calloc(struct folio_arena *a, size_t count, size_t size);
/* Copies len bytes and appends a NUL. */
char *folio_arena_strndup(struct folio_arena *a, const char *s, size_t len);
char *folio_arena_strdup(struct folio_arena *a, const char *s);
/* printf into the arena. */
char *folio_arena_sprintf(struct folio_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Total bytes obtained from malloc, for limits and tests. */
size_t folio_arena_footprint(const struct folio_arena *a);

#endif
