/* folio's PNG encoder: speed over size.
 *
 * cairo's own PNG writer (libpng, zlib level 6, adaptive filters) spends ~110 ms
 * on an A4 page at 150 dpi; this one spends a fraction of that. Choices:
 *  - 8-bit RGB, no alpha: pages are opaque (white paper), a quarter less data.
 *  - filter "Up" on every row: a rendered page is mostly rows identical to the
 *    row above (margins, white space between lines), which Up turns into zeros,
 *    and it costs one subtraction per byte with no per-row heuristic.
 *  - folio's own deflate (deflate.c), made for such data: zero runs cost
 *    almost nothing, the ink goes through a greedy LZ77. Measured with
 *    callgrind on bench/render's text page at 150 dpi (6.5 MB filtered):
 *    35 M instructions / 445 KB against libdeflate level 2's 193 M / 395 KB
 *    (libdeflate spends 2-3 ns on every byte, zeros included: 13 of its 19 ms
 *    went on the zeros). The filtered page and its compressed form are held
 *    in memory: one page per rasterizing thread.
 *  - CRC-32 and Adler-32 from libdeflate (vectorised). */
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* Writes one chunk (length, type, data, crc). */
static int chunk(folio_render_write_fn write, void *ctx, const char type[4], const unsigned char *data,
                 size_t len) {
  unsigned char head[8], tail[4];
  put32(head, (uint32_t)len);
  memcpy(head + 4, type, 4);
  uint32_t crc = libdeflate_crc32(0, head + 4, 4);
  if (len) crc = libdeflate_crc32(crc, data, len);
  put32(tail, crc);
  if (write(ctx, head, 8)) return FOLIO_RENDER_E_WRITE;
  if (len && write(ctx, data, len)) return FOLIO_RENDER_E_WRITE;
  if (write(ctx, tail, 4)) return FOLIO_RENDER_E_WRITE;
  return 0;
}

void folio_png_scratch_free(struct folio_png_scratch *s) {
  free(s->raw);
  free(s->z);
  folio_deflate_scratch_free(&s->d);
  *s = (struct folio_png_scratch){0};
}

/* Grows *buf to at least n bytes. */
static int reserve(unsigned char **buf, size_t *cap, size_t n) {
  if (*buf && *cap >= n) return 0;
  unsigned char *p = realloc(*buf, n);
  if (!p) return -1;
  *buf = p;
  *cap = n;
  return 0;
}

int folio_render_png_encode(const unsigned char *pixels, unsigned width, unsigned height,
                            size_t stride, unsigned dpi, folio_render_write_fn write, void *ctx) {
  struct folio_png_scratch s = {0};
  int rc = folio_png_encode_with(&s, pixels, width, height, stride, dpi, write, ctx);
  folio_png_scratch_free(&s);
  return rc;
}

int folio_png_encode_with(struct folio_png_scratch *s, const unsigned char *pixels, unsigned width,
                          unsigned height, size_t stride, unsigned dpi, folio_render_write_fn write, void *ctx) {
  if (width == 0 || height == 0 || width > (1u << 24) || height > (1u << 24))
    return FOLIO_RENDER_E_ARG;
  size_t row = 1 + (size_t)width * 3;
  size_t raw_len = row * height;
  size_t bound = 2 + folio_deflate_bound(raw_len) + 4; /* zlib header, deflate, Adler-32 */
  if (folio_deflate_scratch_init(&s->d) || reserve(&s->raw, &s->raw_cap, raw_len) ||
      reserve(&s->z, &s->z_cap, bound))
    return FOLIO_RENDER_E_NOMEM;
  unsigned char *raw = s->raw;
  /* One pass: unpack native-endian 0xXXRRGGBB to RGB and Up-filter against the
   * same pixel of the source row above (the row above the first is zeros). A
   * row equal to the one above (blank paper, the gap between text lines) is a
   * run of zeros without touching its pixels one by one. */
  for (unsigned y = 0; y < height; y++) {
    const uint32_t *src = (const uint32_t *)(const void *)(pixels + (size_t)y * stride);
    const uint32_t *up = y ? (const uint32_t *)(const void *)(pixels + (size_t)(y - 1) * stride) : NULL;
    unsigned char *dst = raw + (size_t)y * row;
    dst[0] = 2; /* Up */
    unsigned char *o = dst + 1;
    if (up && memcmp(src, up, (size_t)width * 4) == 0) {
      memset(o, 0, (size_t)width * 3);
      continue;
    }
    static const uint32_t none = 0;
    for (unsigned x = 0; x < width; x++) {
      uint32_t v = src[x], u = up ? up[x] : none;
      o[3 * (size_t)x] = (unsigned char)((v >> 16) - (u >> 16));
      o[3 * (size_t)x + 1] = (unsigned char)((v >> 8) - (u >> 8));
      o[3 * (size_t)x + 2] = (unsigned char)(v - u);
    }
  }

  unsigned char *z = s->z;
  z[0] = 0x78, z[1] = 0x01; /* deflate, 32 KiB window, "fastest" */
  size_t zlen = 2 + folio_deflate_raw(&s->d, raw, raw_len, 1, z + 2);
  put32(z + zlen, libdeflate_adler32(1, raw, raw_len));
  zlen += 4;

  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  unsigned char ihdr[13];
  put32(ihdr, width);
  put32(ihdr + 4, height);
  ihdr[8] = 8;  /* bit depth */
  ihdr[9] = 2;  /* colour type RGB */
  ihdr[10] = 0; /* deflate */
  ihdr[11] = 0; /* adaptive filtering (per-row filter byte) */
  ihdr[12] = 0; /* no interlace */
  int rc = write(ctx, sig, sizeof sig) ? FOLIO_RENDER_E_WRITE : 0;
  if (!rc) rc = chunk(write, ctx, "IHDR", ihdr, sizeof ihdr);
  if (!rc && dpi) {
    unsigned char phys[9];
    uint32_t ppm = (uint32_t)((double)dpi / 0.0254 + 0.5);
    put32(phys, ppm);
    put32(phys + 4, ppm);
    phys[8] = 1; /* metre */
    rc = chunk(write, ctx, "pHYs", phys, sizeof phys);
  }
  /* IDAT chunks of at most 1 MiB keep every chunk length far below 2^31. */
  for (size_t off = 0; !rc && off < zlen; off += 1u << 20) {
    size_t n = zlen - off < (1u << 20) ? zlen - off : (1u << 20);
    rc = chunk(write, ctx, "IDAT", z + off, n);
  }
  if (!rc) rc = chunk(write, ctx, "IEND", NULL, 0);
  return rc;
}
