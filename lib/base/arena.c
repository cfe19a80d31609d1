#include "folio/arena.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bump chunks form a singly linked list, newest first; the head chunk is the
 * one being bumped and the first chunk ever made is the tail (kept by reset).
 * Oversized requests get a dedicated chunk on a separate list so the head keeps
 * its free space. */
struct chunk {
  struct chunk *next;
  size_t size; /* usable bytes in data[] */
  size_t used;
  alignas(max_align_t) unsigned char data[];
};

struct folio_arena {
  struct chunk *head;
  struct chunk *big;
  size_t chunk_size;
  size_t footprint;
};

#define ALIGN_UP(n) (((n) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

static struct chunk *chunk_new(size_t size) {
  if (size > SIZE_MAX - sizeof(struct chunk)) return NULL;
  struct chunk *c = malloc(sizeof(struct chunk) + size);
  if (!c) return NULL;
  c->next = NULL;
  c->size = size;
  c->used = 0;
  return c;
}

struct folio_arena *folio_arena_create(size_t chunk_size) {
  struct folio_arena *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->chunk_size = chunk_size ? ALIGN_UP(chunk_size) : 16384;
  a->head = chunk_new(a->chunk_size);
  if (!a->head) {
    free(a);
    return NULL;
  }
  a->footprint = a->chunk_size;
  return a;
}

static void chunks_free(struct chunk *c, struct chunk *keep) {
  while (c) {
    struct chunk *n = c->next;
    if (c != keep) free(c);
    c = n;
  }
}

void folio_arena_destroy(struct folio_arena *a) {
  if (!a) return;
  chunks_free(a->head, NULL);
  chunks_free(a->big, NULL);
  free(a);
}

void folio_arena_reset(struct folio_arena *a) {
  struct chunk *first = a->head;
  while (first->next) first = first->next;
  chunks_free(a->head, first);
  chunks_free(a->big, NULL);
  a->big = NULL;
  first->used = 0;
  first->next = NULL;
  a->head = first;
  a->footprint = a->chunk_size;
}

void *folio_arena_alloc(struct folio_arena *a, size_t n) {
  if (n > SIZE_MAX - alignof(max_align_t)) return NULL;
  size_t need = ALIGN_UP(n ? n : 1);
  struct chunk *h = a->head;
  if (h && h->size - h->used >= need) {
    void *p = h->data + h->used;
    h->used += need;
    return p;
  }
  if (need > a->chunk_size / 4) {
    struct chunk *c = chunk_new(need);
    if (!c) return NULL;
    c->used = need;
    a->footprint += need;
    c->next = a->big;
    a->big = c;
    return c->data;
  }
  struct chunk *c = chunk_new(a->chunk_size);
  if (!c) return NULL;
  a->footprint += a->chunk_size;
  c->next = h;
  a->head = c;
  c->used = need;
  return c->data;
}

void *folio_arena_calloc(struct folio_arena *a, size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void *p = folio_arena_alloc(a, count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

char *folio_arena_strndup(struct folio_arena *a, const char *s, size_t len) {
  if (len == SIZE_MAX) return NULL;
  char *p = folio_arena_alloc(a, len + 1);
  if (!p) return NULL;
  if (len) memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *folio_arena_strdup(struct folio_arena *a, const char *s) {
  return folio_arena_strndup(a, s, strlen(s));
}

char *folio_arena_sprintf(struct folio_arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *p = folio_arena_alloc(a, (size_t)n + 1);
  if (!p) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

size_t folio_arena_footprint(const struct folio_arena *a) { return a->footprint; }
