/* Memory sinks and sources shared by the render tests: a growable buffer that
 * is a folio_render_write_fn (optionally failing), and a cairo PNG reader over
 * memory, and reading a whole file. Include after check.h. */
#ifndef FOLIO_TEST_RENDER_TESTBUF_H
#define FOLIO_TEST_RENDER_TESTBUF_H

#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurp.h" /* tests/harness: test_slurp */

struct buf {
  unsigned char *p; /* malloc'd; the test frees it */
  size_t len, cap;
  size_t calls;
  size_t fail_after; /* nonzero: the fail_after-th write and later ones fail */
  int fail;          /* nonzero: every write fails */
};

static inline int buf_write(void *ctx, const unsigned char *d, size_t n) {
  struct buf *b = ctx;
  b->calls++;
  if (b->fail || (b->fail_after && b->calls >= b->fail_after)) return 1;
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
  return 0;
}

struct rd {
  const unsigned char *p;
  size_t left;
};

static inline cairo_status_t rd_read(void *c, unsigned char *d, unsigned n) {
  struct rd *r = c;
  if (n > r->left) return CAIRO_STATUS_READ_ERROR;
  memcpy(d, r->p, n);
  r->p += n, r->left -= n;
  return CAIRO_STATUS_SUCCESS;
}

/* Decodes a PNG held in memory (caller destroys the surface; check its status). */
static inline cairo_surface_t *png_from_memory(const unsigned char *p, size_t len) {
  struct rd r = {p, len};
  return cairo_image_surface_create_from_png_stream(rd_read, &r);
}

#endif
