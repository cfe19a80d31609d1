/* folio's deflate encoder (lib/render/deflate.c) against zlib's inflate, the
 * decoder libpng uses: every input comes back byte for byte, for the shapes a
 * filtered page has (zero runs of every length around the 258-byte match
 * limit and the 3-byte minimum, repeated rows, ink), for noise (stored
 * blocks), for empty and tiny inputs, across block boundaries, and when the
 * input is cut into pieces encoded separately and joined (sync flush), with
 * the pieces' Adler-32s combined into the whole's. A page encoded in pieces
 * on 1 to 4 threads gives the same PNG bytes, and libpng (through cairo)
 * decodes it to the pixels given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "render_int.h"
#include "testbuf.h"

static uint32_t rng = 12345;
static uint32_t next(void) {
  rng = rng * 1103515245u + 12345u;
  return rng >> 8;
}

/* Encodes in[0..n) as pieces cut at cuts[0..ncut) (ascending, inside 0..n),
 * wraps it as zlib, inflates it with zlib and compares. Returns the zlib
 * stream's size. */
static size_t check_pieces(const unsigned char *in, size_t n, const size_t *cuts, size_t ncut, const char *what) {
  struct folio_deflate_scratch s = {0};
  CHECK_EQ_INT(folio_deflate_scratch_init(&s), 0);
  size_t cap = 2 + 4;
  size_t from = 0;
  for (size_t c = 0; c <= ncut; c++) {
    size_t to = c < ncut ? cuts[c] : n;
    cap += folio_deflate_bound(to - from);
    from = to;
  }
  unsigned char *z = malloc(cap), *back = malloc(n + 1);
  size_t zlen = 0;
  z[zlen++] = 0x78, z[zlen++] = 0x01;
  uint32_t adler = (uint32_t)adler32(0, NULL, 0);
  from = 0;
  for (size_t c = 0; c <= ncut; c++) {
    size_t to = c < ncut ? cuts[c] : n;
    size_t k = folio_deflate_raw(&s, in + from, to - from, c == ncut, z + zlen);
    CHECK_MSG(k <= folio_deflate_bound(to - from), "%s: %zu bytes over the bound %zu", what, k,
              folio_deflate_bound(to - from));
    zlen += k;
    uint32_t a = (uint32_t)adler32(1, in + from, (uInt)(to - from));
    adler = c == 0 ? a : folio_deflate_adler32_combine(adler, a, to - from);
    from = to;
  }
  CHECK_EQ_INT(adler, (uint32_t)adler32(1, in, (uInt)n));
  z[zlen++] = (unsigned char)(adler >> 24), z[zlen++] = (unsigned char)(adler >> 16);
  z[zlen++] = (unsigned char)(adler >> 8), z[zlen++] = (unsigned char)adler;
  uLongf blen = n + 1;
  int zr = uncompress(back, &blen, z, zlen); /* checks the Adler-32 too */
  CHECK_MSG(zr == Z_OK, "%s: zlib says %d", what, zr);
  CHECK_MSG(blen == n && memcmp(back, in, n) == 0, "%s: %lu bytes back of %zu, or different", what,
            (unsigned long)blen, n);
  free(z), free(back);
  folio_deflate_scratch_free(&s);
  return zlen;
}

static size_t check_one(const unsigned char *in, size_t n, const char *what) {
  return check_pieces(in, n, NULL, 0, what);
}

/* A page-like input: rows of a filter byte then mostly zeros, some ink,
 * some rows repeating an earlier row (glyphs recur). */
static unsigned char *page_like(size_t row, size_t rows, size_t *n) {
  *n = row * rows;
  unsigned char *p = calloc(*n, 1);
  for (size_t y = 0; y < rows; y++) {
    unsigned char *r = p + y * row;
    r[0] = 2;
    if (y % 7 == 0) continue; /* blank */
    if (y > 40 && y % 5 == 0) {
      memcpy(r, r - 37 * row, row);
      continue;
    }
    for (size_t x = 1; x < row; x++)
      if (next() % 23 == 0) {
        size_t len = 1 + next() % 9;
        for (size_t k = 0; k < len && x < row; k++, x++) r[x] = (unsigned char)(next() % 5 == 0 ? 0 : next());
      }
  }
  return p;
}

static void test_shapes(void) {
  unsigned char buf[4096] = {0};
  /* empty and tiny inputs */
  check_one(buf, 0, "empty");
  for (size_t n = 1; n <= 12; n++) {
    memset(buf, 0, n);
    check_one(buf, n, "tiny zeros");
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)next();
    check_one(buf, n, "tiny noise");
  }
  /* a zero run of every length from 0 to 800 between two ink bytes, also
   * at the very start and end (runs cut at 258 must never leave 1 or 2) */
  for (size_t r = 0; r <= 800; r++) {
    buf[0] = 7;
    memset(buf + 1, 0, r);
    buf[r + 1] = 9;
    check_one(buf, r + 2, "zero run inside");
    memset(buf, 0, r);
    buf[r] = 3;
    check_one(buf, r + 1, "zero run first");
    buf[0] = 5;
    memset(buf + 1, 0, r);
    check_one(buf, r + 1, "zero run last");
  }
  /* all zeros, a lot of them: many blocks of 258-byte matches */
  size_t big = (size_t)40 << 20;
  unsigned char *zeros = calloc(big, 1);
  size_t zl = check_one(zeros, big, "40 MiB of zeros");
  CHECK_MSG(zl < big / 100, "40 MiB of zeros took %zu bytes", zl);
  free(zeros);
}

static void test_noise_and_pages(void) {
  /* noise: stored blocks; the output stays within the bound */
  size_t n = 300000;
  unsigned char *noise = malloc(n);
  for (size_t i = 0; i < n; i++) noise[i] = (unsigned char)next();
  check_one(noise, n, "noise");
  /* noise with zero runs and repeats: dynamic blocks, over several blocks */
  for (size_t i = 0; i < n; i++)
    if (next() % 3 == 0) noise[i] = 0;
  for (size_t i = 5000; i + 300 < n; i += 7000) memcpy(noise + i, noise + i - 4000, 300);
  check_one(noise, n, "mixed");
  free(noise);

  size_t pn;
  unsigned char *page = page_like(1 + 1240 * 3, 600, &pn);
  size_t one = check_one(page, pn, "page-like");
  CHECK_MSG(one < pn / 4, "page-like: %zu of %zu bytes", one, pn);
  /* the same cut into pieces, at row boundaries and at odd places (inside a
   * zero run, right after a nonzero byte) */
  size_t cuts[5] = {pn / 5, pn / 5 + 1, 2 * pn / 5 + 3, 3 * pn / 5 + 1, pn - 2};
  check_pieces(page, pn, cuts, 5, "page-like in pieces");
  size_t rows[3] = {(1 + 1240 * 3) * 150, (1 + 1240 * 3) * 300, (1 + 1240 * 3) * 450};
  check_pieces(page, pn, rows, 3, "page-like in bands");
  size_t empty_piece[2] = {1000, 1000};
  check_pieces(page, pn, empty_piece, 2, "an empty piece");
  free(page);
}

/* A page-like picture (text-ish strokes in grey and one colour, blank
 * bands, rows repeating) of w x h pixels in cairo's RGB24 layout. */
static uint32_t *page_pixels(unsigned w, unsigned h, size_t *stride) {
  *stride = (size_t)w * 4 + 16;
  uint32_t *px = malloc(*stride * h);
  for (unsigned y = 0; y < h; y++) {
    uint32_t *r = px + (size_t)y * (*stride / 4);
    for (unsigned x = 0; x < w; x++) r[x] = 0xffffffu;
    if (y % 40 > 25) continue;
    for (unsigned x = 20; x + 30 < w; x++)
      if (next() % 11 == 0) {
        unsigned len = 1 + next() % 6, g = next() & 0xff;
        uint32_t v = y % 200 < 30 ? 0x1773e6u : g * 0x010101u;
        for (unsigned k = 0; k < len; k++) r[x + k] = v;
        x += len;
      }
  }
  return px;
}

static void test_png_pieces(void) {
  unsigned w = 777, h = 1800; /* four pieces of 512 rows, the last one short */
  size_t stride;
  uint32_t *px = page_pixels(w, h, &stride);
  struct buf one = {0};
  struct folio_png_scratch s = {0};
  CHECK_EQ_INT(folio_png_encode_with(&s, (const unsigned char *)px, w, h, stride, 150, 1, buf_write, &one), 0);
  for (unsigned t = 2; t <= 5; t++) { /* 5: more than FOLIO_PNG_MAX_THREADS */
    struct buf more = {0};
    CHECK_EQ_INT(folio_png_encode_with(&s, (const unsigned char *)px, w, h, stride, 150, t, buf_write, &more), 0);
    CHECK_MSG(more.len == one.len && memcmp(more.p, one.p, one.len) == 0, "%u threads: other bytes", t);
    free(more.p);
  }
  folio_png_scratch_free(&s);
  cairo_surface_t *img = png_from_memory(one.p, one.len);
  CHECK_EQ_INT(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
  CHECK_EQ_INT(cairo_image_surface_get_width(img), (int)w);
  CHECK_EQ_INT(cairo_image_surface_get_height(img), (int)h);
  cairo_surface_flush(img);
  const unsigned char *d = cairo_image_surface_get_data(img);
  size_t ds = (size_t)cairo_image_surface_get_stride(img), bad = 0;
  for (unsigned y = 0; y < h; y++)
    for (unsigned x = 0; x < w; x++) {
      uint32_t got = ((const uint32_t *)(const void *)(d + y * ds))[x] & 0xffffffu;
      bad += got != (px[(size_t)y * (stride / 4) + x] & 0xffffffu);
    }
  CHECK_MSG(bad == 0, "%zu pixels differ after decoding", bad);
  cairo_surface_destroy(img);
  free(one.p);
  free(px);
}

int main(void) {
  test_shapes();
  test_png_pieces();
  test_noise_and_pages();
  return check_done();
}
