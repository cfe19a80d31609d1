/* folio's PNG encoder: the files it writes decode (with cairo/libpng) to exactly
 * the pixels given, CRCs included (libpng rejects a bad CRC), for odd sizes and
 * for pieces delivered through the write callback. */
#include <cairo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/render.h"
#include "testbuf.h"


static void roundtrip(unsigned w, unsigned h, unsigned seed) {
  size_t stride = (size_t)w * 4 + 8; /* a stride wider than the row */
  uint32_t *px = malloc(stride * h);
  uint32_t s = seed;
  for (unsigned y = 0; y < h; y++)
    for (unsigned x = 0; x < w; x++) {
      s = s * 1103515245u + 12345u;
      /* half noise, half smooth areas so both filters paths and runs occur */
      uint32_t v = (y % 3 == 0) ? (s >> 8) : (x * 7u + y * 13u) * 0x010101u;
      px[(size_t)y * (stride / 4) + x] = 0xff000000u | (v & 0xffffffu);
    }
  struct buf b = {0};
  CHECK_EQ_INT(folio_render_png_encode((const unsigned char *)px, w, h, stride, 150, buf_write, &b), 0);
  CHECK(b.len > 8 && memcmp(b.p, "\x89PNG\r\n\x1a\n", 8) == 0);
  CHECK(memmem(b.p, b.len, "pHYs", 4) != NULL);
  cairo_surface_t *img = png_from_memory(b.p, b.len);
  CHECK_MSG(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS, "decode %ux%u: %s", w, h,
            cairo_status_to_string(cairo_surface_status(img)));
  CHECK_EQ_INT(cairo_image_surface_get_width(img), w);
  CHECK_EQ_INT(cairo_image_surface_get_height(img), h);
  const unsigned char *d = cairo_image_surface_get_data(img);
  int ds = cairo_image_surface_get_stride(img);
  size_t bad = 0;
  for (unsigned y = 0; y < h; y++)
    for (unsigned x = 0; x < w; x++) {
      uint32_t a = px[(size_t)y * (stride / 4) + x] & 0xffffffu;
      uint32_t c = ((const uint32_t *)(const void *)(d + (size_t)y * (size_t)ds))[x] & 0xffffffu;
      bad += a != c;
    }
  CHECK_MSG(bad == 0, "%zu pixels differ in %ux%u", bad, w, h);
  cairo_surface_destroy(img);

  /* a corrupted CRC is caught by the decoder: proves the CRCs are checked */
  b.p[8 + 8 + 13] ^= 0x55; /* first byte of IHDR's CRC */
  img = png_from_memory(b.p, b.len);
  CHECK(cairo_surface_status(img) != CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy(img);
  free(b.p);
  free(px);
}

int main(void) {
  roundtrip(1, 1, 1);
  roundtrip(3, 2, 2);
  roundtrip(257, 129, 3);
  roundtrip(1240, 40, 4);

  /* the write callback aborting stops the encoder with E_WRITE */
  uint32_t px[4] = {0xffffffffu, 0xff000000u, 0xff102030u, 0xff405060u};
  struct buf b = {.fail_after = 2};
  CHECK_EQ_INT(folio_render_png_encode((const unsigned char *)px, 2, 2, 8, 0, buf_write, &b),
               FOLIO_RENDER_E_WRITE);
  free(b.p);
  CHECK_EQ_INT(folio_render_png_encode((const unsigned char *)px, 0, 2, 8, 0, buf_write, &b), FOLIO_RENDER_E_ARG);
  return check_done();
}
