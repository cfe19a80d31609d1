/* PNG pages deflated in pieces (lib/render/png.c): zlib raw-deflate pieces of
 * 512 rows, sync-flushed and joined after one zlib header, with the pieces'
 * Adler-32s combined. Checked with real decoders:
 *  - the IDAT stream inflates with zlib's uncompress (which checks the
 *    Adler-32) to exactly the Up-filtered rows computed here independently,
 *    i.e. to what a single-piece encode of the whole page holds, and is one
 *    deflate stream (the first pieces do not end it);
 *  - libpng (through cairo) decodes the file to the pixels given;
 *  - the bytes are the same on 1 to 5 threads (5: more than the most);
 *  - page heights around the piece boundary (511, 512, 513, 1024, 1025 rows),
 *    one-pixel pages, and noise (zlib's stored blocks, the output bound). */
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

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A page-like picture (text-ish strokes in grey and one colour, blank bands,
 * rows repeating) of w x h pixels in cairo's RGB24 layout; noise when noisy. */
static uint32_t *page_pixels(unsigned w, unsigned h, size_t *stride, int noisy) {
  *stride = (size_t)w * 4 + 16;
  uint32_t *px = malloc(*stride * h);
  for (unsigned y = 0; y < h; y++) {
    uint32_t *r = px + (size_t)y * (*stride / 4);
    for (unsigned x = 0; x < w; x++) r[x] = noisy ? (next() & 0xffffffu) | 0xff000000u : 0xffffffu;
    if (noisy || y % 40 > 25) continue;
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

/* The Up-filtered RGB rows of the page, computed the plain way. */
static unsigned char *filtered(const uint32_t *px, unsigned w, unsigned h, size_t stride, size_t *n) {
  size_t row = 1 + (size_t)w * 3;
  *n = row * h;
  unsigned char *f = malloc(*n);
  for (unsigned y = 0; y < h; y++) {
    unsigned char *o = f + (size_t)y * row;
    o[0] = 2;
    for (unsigned x = 0; x < w; x++) {
      uint32_t v = px[(size_t)y * (stride / 4) + x], u = y ? px[(size_t)(y - 1) * (stride / 4) + x] : 0;
      for (int c = 0; c < 3; c++)
        o[1 + 3 * (size_t)x + c] = (unsigned char)((v >> (16 - 8 * c)) - (u >> (16 - 8 * c)));
    }
  }
  return f;
}

/* The IDAT chunks' data joined (the zlib stream); *n its length. */
static unsigned char *idat(const unsigned char *png, size_t len, size_t *n) {
  unsigned char *z = malloc(len);
  *n = 0;
  for (size_t off = 8; off + 12 <= len;) {
    uint32_t clen = get32(png + off);
    if (memcmp(png + off + 4, "IDAT", 4) == 0) memcpy(z + *n, png + off + 8, clen), *n += clen;
    off += 12 + (size_t)clen;
  }
  return z;
}

static void check_page(unsigned w, unsigned h, int noisy) {
  size_t stride;
  uint32_t *px = page_pixels(w, h, &stride, noisy);
  struct folio_png_scratch s = {0};
  struct buf one = {0};
  CHECK_EQ_INT(folio_png_encode_with(&s, (const unsigned char *)px, w, h, stride, 150, 1, buf_write, &one), 0);
  for (unsigned t = 2; t <= 5; t++) { /* the same scratch: streams kept from the page before */
    struct buf more = {0};
    CHECK_EQ_INT(folio_png_encode_with(&s, (const unsigned char *)px, w, h, stride, 150, t, buf_write, &more), 0);
    CHECK_MSG(more.len == one.len && memcmp(more.p, one.p, one.len) == 0, "%ux%u: %u threads: other bytes", w, h,
              t);
    free(more.p);
  }
  folio_png_scratch_free(&s);

  /* the zlib stream: inflates (Adler-32 checked) to the filtered rows */
  size_t want_n, zn;
  unsigned char *want = filtered(px, w, h, stride, &want_n);
  unsigned char *z = idat(one.p, one.len, &zn);
  unsigned char *back = malloc(want_n + 1);
  uLongf blen = want_n + 1;
  int zr = uncompress(back, &blen, z, zn);
  CHECK_MSG(zr == Z_OK, "%ux%u: zlib says %d", w, h, zr);
  CHECK_MSG(blen == want_n && memcmp(back, want, want_n) == 0, "%ux%u: %lu bytes back of %zu, or different", w, h,
            (unsigned long)blen, want_n);
  /* one stream: inflating stops only at its end, after every piece */
  z_stream is = {0};
  CHECK_EQ_INT(inflateInit(&is), Z_OK);
  is.next_in = z, is.avail_in = (uInt)zn, is.next_out = back, is.avail_out = (uInt)(want_n + 1);
  CHECK_EQ_INT(inflate(&is, Z_FINISH), Z_STREAM_END);
  CHECK_MSG(is.total_out == want_n && is.avail_in == 0, "%ux%u: the stream ends after %lu of %zu bytes", w, h,
            (unsigned long)is.total_out, want_n);
  inflateEnd(&is);

  /* libpng decodes it to the pixels given */
  cairo_surface_t *img = png_from_memory(one.p, one.len);
  CHECK_EQ_INT(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
  if (cairo_surface_status(img) == CAIRO_STATUS_SUCCESS) {
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
    CHECK_MSG(bad == 0, "%ux%u: %zu pixels differ after decoding", w, h, bad);
  }
  cairo_surface_destroy(img);
  free(back), free(z), free(want), free(one.p), free(px);
}

int main(void) {
  check_page(777, 1800, 0); /* four pieces, the last one short */
  check_page(1240, 1754, 0); /* A4 at 150 dpi */
  static const unsigned heights[] = {1, 2, 511, 512, 513, 1024, 1025};
  for (size_t i = 0; i < sizeof heights / sizeof *heights; i++) check_page(61, heights[i], 0);
  check_page(1, 1, 0);
  check_page(1, 1300, 0);
  check_page(300, 1100, 1); /* noise: stored blocks, within the bound */
  return check_done();
}
