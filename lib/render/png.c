/* folio's PNG encoder: speed over size.
 *
 * cairo's own PNG writer (libpng, zlib level 6, adaptive filters) spends ~110 ms
 * on an A4 page at 150 dpi; this one spends a fraction of that. Choices:
 *  - 8-bit RGB, no alpha: pages are opaque (white paper), a quarter less data.
 *  - filter "Up" on every row: a rendered page is mostly rows identical to the
 *    row above (margins, white space between lines), which Up turns into zeros,
 *    and it costs one subtraction per byte with no per-row heuristic.
 *  - zlib's deflate at level 1, in pieces of 512 rows (see PIECE_ROWS) that
 *    spare threads of a one-page job encode side by side, as pigz does: one
 *    raw-deflate z_stream per thread, a sync flush ending every piece but the
 *    last, one zlib header, the pieces' Adler-32s joined by adler32_combine.
 *    Measured with bench_render_png on bench/render's text page at 150 dpi
 *    (docs/performance.md, "Render"): CPU on par with libdeflate level 2 on the
 *    whole page in one call (which cannot sync-flush or continue a stream, so
 *    no pieces), 5 % larger. The filtered page and its compressed form are
 *    held in memory: one page per rasterizing thread.
 *  - CRC-32 and Adler-32 from libdeflate (vectorised: zlib's adler32 cost
 *    1.5-3.5 ms more CPU on that page). */
#include <libdeflate.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "render_int.h"

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static inline uint64_t load64(const uint32_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
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
  for (unsigned t = 0; t < FOLIO_PNG_MAX_THREADS; t++)
    if (s->zs[t]) deflateEnd(s->zs[t]), free(s->zs[t]);
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
  int rc = folio_png_encode_with(&s, pixels, width, height, stride, dpi, 1, write, ctx);
  folio_png_scratch_free(&s);
  return rc;
}

static int write_png(const unsigned char *z, size_t zlen, unsigned width, unsigned height, unsigned dpi,
                     folio_render_write_fn write, void *ctx);

/* Up-filters rows y0..y1 of the page into raw (row bytes a row). One pass:
 * unpack native-endian 0xXXRRGGBB to RGB and subtract the same pixel of the
 * source row above (the row above the first is zeros). A row equal to the one
 * above (blank paper, the gap between text lines) is a run of zeros without
 * touching its pixels one by one. */
static void filter_rows(const unsigned char *pixels, size_t stride, unsigned width, unsigned y0, unsigned y1,
                        unsigned char *raw, size_t row) {
  for (unsigned y = y0; y < y1; y++) {
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
    for (unsigned x = 0; x < width;) {
      if (up) { /* pixels equal to the ones above (paper between glyphs): zeros, two at a time */
        unsigned x0 = x;
        while (x + 2 <= width && load64(src + x) == load64(up + x)) x += 2;
        if (x < width && src[x] == up[x]) x++;
        if (x > x0) {
          memset(o + 3 * (size_t)x0, 0, 3 * (size_t)(x - x0));
          continue;
        }
      }
      uint32_t v = src[x], u = up ? up[x] : none;
      o[3 * (size_t)x] = (unsigned char)((v >> 16) - (u >> 16));
      o[3 * (size_t)x + 1] = (unsigned char)((v >> 8) - (u >> 8));
      o[3 * (size_t)x + 2] = (unsigned char)(v - u);
      x++;
    }
  }
}

/* The page is cut into pieces of PIECE_ROWS rows, each filtered and
 * deflated on its own (deflate_piece: no match reaches into the previous
 * piece; a sync flush ends every piece but the last), so pieces can be
 * encoded on several threads. The cut depends only on the page's height and
 * zlib's output only on its input and parameters, so the file is the same
 * whatever the number of threads. Cost: the 32 KiB window restarts every
 * piece. */
#define PIECE_ROWS 512
/* zlib level 1 (deflate_fast), default strategy: measured against levels 2
 * and Z_RLE / Z_HUFFMAN_ONLY (a filtered page is mostly zeros, but RLE left
 * the ink uncompressed: 2.7x larger and slower to write). */
#define ZLEVEL 1

struct piece_run {
  const unsigned char *pixels;
  size_t stride, row;
  unsigned width, height, pieces, step, first;
  unsigned char *raw, *z;
  size_t *zoff, *zlen;
  uint32_t *adler;
  z_stream *zs;
  int failed;
};

/* Raw deflate of in[0..n) into out (cap bytes) with zs (reset first: no match
 * reaches into the previous piece). last: ends with the final block (Z_FINISH);
 * else with a sync flush (an empty stored block on a byte boundary), so the
 * next piece's output can follow it byte for byte. *outlen = bytes written.
 * 0, or -1 when zlib fails or cap is too small (not with piece_bound). */
static int deflate_piece(z_stream *zs, const unsigned char *in, size_t n, int last, unsigned char *out, size_t cap,
                         size_t *outlen) {
  if (deflateReset(zs) != Z_OK) return -1;
  const unsigned step = 1u << 30; /* avail_in / avail_out are 32-bit */
  size_t in_left = n, out_left = cap;
  zs->next_in = (Bytef *)(uintptr_t)in;
  zs->next_out = out;
  for (;;) {
    uInt ci = in_left > step ? step : (uInt)in_left, co = out_left > step ? step : (uInt)out_left;
    int flush = ci == in_left ? (last ? Z_FINISH : Z_SYNC_FLUSH) : Z_NO_FLUSH;
    zs->avail_in = ci, zs->avail_out = co;
    int r = deflate(zs, flush);
    in_left -= ci - zs->avail_in;
    out_left -= co - zs->avail_out;
    if (r == Z_STREAM_ERROR) return -1;
    if (flush == Z_FINISH && r == Z_STREAM_END) break;
    if (flush == Z_SYNC_FLUSH && in_left == 0 && zs->avail_out > 0) break; /* flush complete */
    if (out_left == 0 || (r == Z_BUF_ERROR && co == zs->avail_out && ci == zs->avail_in)) return -1;
  }
  *outlen = cap - out_left;
  return 0;
}

/* Encodes pieces first, first + step, ... into z at zoff[piece]. */
static void *pieces_main(void *arg) {
  struct piece_run *r = arg;
  for (unsigned k = r->first; k < r->pieces; k += r->step) {
    unsigned y0 = k * PIECE_ROWS, y1 = y0 + PIECE_ROWS < r->height ? y0 + PIECE_ROWS : r->height;
    filter_rows(r->pixels, r->stride, r->width, y0, y1, r->raw, r->row);
    const unsigned char *in = r->raw + (size_t)y0 * r->row;
    size_t len = (size_t)(y1 - y0) * r->row;
    size_t cap = r->zoff[k + 1] - r->zoff[k];
    if (deflate_piece(r->zs, in, len, k + 1 == r->pieces, r->z + r->zoff[k], cap, &r->zlen[k])) r->failed = 1;
    r->adler[k] = libdeflate_adler32(1, in, len);
  }
  return NULL;
}

/* The most bytes deflate_piece writes for n input bytes: deflateBound (for
 * Z_FINISH in one call) plus the sync flush's empty stored block, with room
 * to spare. */
static size_t piece_bound(z_stream *zs, size_t n) { return (size_t)deflateBound(zs, (uLong)n) + 16; }

int folio_png_encode_with(struct folio_png_scratch *s, const unsigned char *pixels, unsigned width,
                          unsigned height, size_t stride, unsigned dpi, unsigned threads,
                          folio_render_write_fn write, void *ctx) {
  if (width == 0 || height == 0 || width > (1u << 24) || height > (1u << 24))
    return FOLIO_RENDER_E_ARG;
  size_t row = 1 + (size_t)width * 3;
  size_t raw_len = row * height;
  unsigned pieces = (height + PIECE_ROWS - 1) / PIECE_ROWS;
  if (threads > FOLIO_PNG_MAX_THREADS) threads = FOLIO_PNG_MAX_THREADS;
  if (threads > pieces) threads = pieces;
  if (threads < 1) threads = 1; /* last: runs[0] is always set up */
  /* one zlib stream per encoding thread, kept in s between pages */
  for (unsigned t = 0; t < threads; t++) {
    if (s->zs[t]) continue;
    z_stream *zs = calloc(1, sizeof *zs);
    if (!zs) return FOLIO_RENDER_E_NOMEM;
    if (deflateInit2(zs, ZLEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      free(zs);
      return FOLIO_RENDER_E_NOMEM;
    }
    s->zs[t] = zs;
  }
  /* piece k's output goes at zoff[k] (after the 2-byte zlib header), up to zoff[k + 1] */
  size_t zoff_small[65], zlen_small[64] = {0};
  uint32_t adler_small[64] = {0};
  size_t *zoff = zoff_small, *zlen = zlen_small;
  uint32_t *adler = adler_small;
  if (pieces > 64) {
    zoff = malloc((pieces + 1) * sizeof *zoff), zlen = calloc(pieces, sizeof *zlen);
    adler = calloc(pieces, sizeof *adler);
  }
  size_t bound = 2;
  for (unsigned k = 0; zoff && k < pieces; k++) {
    size_t rows = k + 1 < pieces ? PIECE_ROWS : height - (size_t)k * PIECE_ROWS;
    zoff[k] = bound;
    bound += piece_bound(s->zs[0], rows * row);
  }
  if (zoff) zoff[pieces] = bound;
  bound += 4; /* Adler-32 */
  int rc = !zoff || !zlen || !adler || reserve(&s->raw, &s->raw_cap, raw_len) || reserve(&s->z, &s->z_cap, bound)
               ? FOLIO_RENDER_E_NOMEM
               : 0;
  if (rc) goto out;

  struct piece_run runs[FOLIO_PNG_MAX_THREADS];
  pthread_t tids[FOLIO_PNG_MAX_THREADS];
  unsigned started = 0;
  for (unsigned t = 0; t < threads; t++)
    runs[t] = (struct piece_run){.pixels = pixels, .stride = stride, .row = row, .width = width, .height = height,
                                 .pieces = pieces, .step = threads, .first = t, .raw = s->raw, .z = s->z,
                                 .zoff = zoff, .zlen = zlen, .adler = adler, .zs = s->zs[t]};
  for (unsigned t = 1; t < threads; t++) {
    if (pthread_create(&tids[t], NULL, pieces_main, &runs[t])) break; /* this thread does the rest */
    started = t;
  }
  if (started + 1 < threads) /* a helper did not start: its pieces are done here */
    for (unsigned t = started + 1; t < threads; t++) pieces_main(&runs[t]);
  pieces_main(&runs[0]);
  for (unsigned t = 1; t <= started; t++) pthread_join(tids[t], NULL);
  for (unsigned t = 0; t < threads; t++)
    if (runs[t].failed) rc = FOLIO_RENDER_E_NOMEM;
  if (rc) goto out;

  /* join the pieces (the first is in place) and their checksums */
  unsigned char *z = s->z;
  z[0] = 0x78, z[1] = 0x01; /* deflate, 32 KiB window, "fastest" */
  size_t zlen_all = zoff[0] + zlen[0];
  uint32_t ad = adler[0];
  for (unsigned k = 1; k < pieces; k++) {
    memmove(z + zlen_all, z + zoff[k], zlen[k]);
    zlen_all += zlen[k];
    size_t rows = k + 1 < pieces ? PIECE_ROWS : height - (size_t)k * PIECE_ROWS;
    ad = (uint32_t)adler32_combine(ad, adler[k], (z_off_t)(rows * row));
  }
  put32(z + zlen_all, ad);
  size_t zlen_total = zlen_all + 4;
  rc = write_png(z, zlen_total, width, height, dpi, write, ctx);
out:
  if (zoff != zoff_small) free(zoff), free(zlen), free(adler);
  return rc;
}

/* Signature, IHDR, pHYs, the zlib stream in IDAT chunks, IEND. */
static int write_png(const unsigned char *z, size_t zlen, unsigned width, unsigned height, unsigned dpi,
                     folio_render_write_fn write, void *ctx) {
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
