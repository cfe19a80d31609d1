/* Generators of hostile images for the decode-budget tests: small files that
 * ask a naive decoder for gigabytes of inflation or thousands of passes.
 * Nothing big is committed; each file is built in memory in milliseconds.
 *
 *   bomb_png(w, h, trailing_mib, n_ztxt, extra_chunks, &len)
 *       an RGB PNG of w x h black pixels whose IDAT stream goes on with
 *       trailing_mib MiB of zeros after the last row, n_ztxt zTXt chunks
 *       each inflating to 64 MiB, and extra_chunks tiny tEXt
 *       chunks. Built from one sync-flushed deflate block of zeros repeated,
 *       so the compressed size is about 1 KiB per MiB of zeros.
 *   bomb_png_start(&buf, w, h)
 *       the signature and IHDR of an 8-bit RGB w x h PNG, for generators of
 *       other images (bench/adversarial's noise picture).
 *   bomb_png_header(w, h, out)
 *       45 bytes: signature, IHDR claiming w x h, IEND; no image data (for
 *       limits decided from headers alone).
 *   bomb_jpeg_scans(w, h, scans_per_component_ac, &len)
 *       a 3-component progressive JPEG with one scan per AC coefficient and
 *       component (up to 3 + 3*63 = 192 scans): valid, and costly.
 *   b64(data, len) base64 with padding (malloc'd, NUL-terminated).
 * Link zlib and libjpeg. Include after check.h. */
#ifndef FOLIO_TEST_BOMBS_H
#define FOLIO_TEST_BOMBS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs size_t and FILE first */
#include <jpeglib.h>
#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

struct bomb_buf {
  unsigned char *p;
  size_t len, cap;
};

static inline void bomb_put(struct bomb_buf *b, const void *d, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    b->p = realloc(b->p, cap);
    CHECK(b->p);
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->len, d, n);
  b->len += n;
}

static inline void bomb_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static inline void bomb_chunk(struct bomb_buf *b, const char *type, const unsigned char *d, size_t n) {
  unsigned char h[8];
  bomb_be32(h, (uint32_t)n);
  memcpy(h + 4, type, 4);
  bomb_put(b, h, 8);
  bomb_put(b, d, n);
  uLong crc = crc32(0, (const Bytef *)type, 4);
  if (n) crc = crc32(crc, d, (uInt)n);
  unsigned char t[4];
  bomb_be32(t, (uint32_t)crc);
  bomb_put(b, t, 4);
}

/* Raw deflate of n bytes of src, sync-flushed (byte aligned, not final). */
static inline void bomb_deflate_sync(struct bomb_buf *out, const unsigned char *src, size_t n) {
  z_stream z = {0};
  CHECK(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  size_t cap = deflateBound(&z, (uLong)n) + 64;
  unsigned char *tmp = malloc(cap);
  CHECK(tmp);
  z.next_in = src;
  z.avail_in = (uInt)n;
  z.next_out = tmp;
  z.avail_out = (uInt)cap;
  CHECK(deflate(&z, Z_SYNC_FLUSH) == Z_OK);
  bomb_put(out, tmp, cap - z.avail_out);
  deflateEnd(&z);
  free(tmp);
}

/* A zlib stream of head[0..hn) followed by mib MiB of zeros. */
static inline void bomb_zlib(struct bomb_buf *out, const unsigned char *head, size_t hn, size_t mib) {
  static const unsigned char zh[2] = {0x78, 0x01};
  bomb_put(out, zh, 2);
  if (hn) bomb_deflate_sync(out, head, hn);
  uLong adler = adler32(1, head, (uInt)hn);
  if (mib) {
    unsigned char *zeros = calloc(1, 1u << 20);
    CHECK(zeros);
    struct bomb_buf blk = {0};
    bomb_deflate_sync(&blk, zeros, 1u << 20);
    uLong az = adler32(1, zeros, 1u << 20);
    for (size_t i = 0; i < mib; i++) {
      bomb_put(out, blk.p, blk.len);
      adler = adler32_combine(adler, az, 1 << 20);
    }
    free(blk.p);
    free(zeros);
  }
  static const unsigned char fin[2] = {0x03, 0x00}; /* final empty fixed block */
  bomb_put(out, fin, 2);
  unsigned char a[4];
  bomb_be32(a, (uint32_t)adler);
  bomb_put(out, a, 4);
}

/* Starts a PNG in b: the signature and an IHDR of an 8-bit RGB w x h image
 * (what every generator here writes first). */
static inline void bomb_png_start(struct bomb_buf *b, uint32_t w, uint32_t h) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  bomb_put(b, sig, 8);
  unsigned char ihdr[13] = {0};
  bomb_be32(ihdr, w);
  bomb_be32(ihdr + 4, h);
  ihdr[8] = 8, ihdr[9] = 2; /* 8-bit RGB */
  bomb_chunk(b, "IHDR", ihdr, 13);
}

static inline unsigned char *bomb_png(uint32_t w, uint32_t h, size_t trailing_mib, size_t n_ztxt,
                                      size_t extra_chunks, size_t *len) {
  struct bomb_buf b = {0};
  bomb_png_start(&b, w, h);
  for (size_t i = 0; i < extra_chunks; i++) bomb_chunk(&b, "tEXt", (const unsigned char *)"k\0v", 3);
  if (n_ztxt) {
    struct bomb_buf z = {0};
    static const unsigned char kw[] = {'C', 'o', 'm', 'm', 'e', 'n', 't', 0, 0};
    bomb_put(&z, kw, sizeof kw);
    bomb_zlib(&z, NULL, 0, 64);
    for (size_t i = 0; i < n_ztxt; i++) bomb_chunk(&b, "zTXt", z.p, z.len);
    free(z.p);
  }
  size_t raw_len = (size_t)h * (1 + (size_t)w * 3);
  unsigned char *raw = calloc(1, raw_len); /* filter 0, black */
  CHECK(raw);
  struct bomb_buf idat = {0};
  bomb_zlib(&idat, raw, raw_len, trailing_mib);
  free(raw);
  for (size_t off = 0; off < idat.len; off += 1u << 20) {
    size_t n = idat.len - off < (1u << 20) ? idat.len - off : (1u << 20);
    bomb_chunk(&b, "IDAT", idat.p + off, n);
  }
  free(idat.p);
  bomb_chunk(&b, "IEND", NULL, 0);
  *len = b.len;
  return b.p;
}

static inline void bomb_png_header(uint32_t w, uint32_t h, unsigned char out[45]) {
  struct bomb_buf b = {0};
  bomb_png_start(&b, w, h);
  bomb_chunk(&b, "IEND", NULL, 0);
  CHECK(b.len == 45);
  memcpy(out, b.p, 45);
  free(b.p);
}

static inline unsigned char *bomb_jpeg_scans(unsigned w, unsigned h, int ac_scans, size_t *len) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  unsigned char *out = NULL;
  unsigned long olen = 0;
  jpeg_mem_dest(&c, &out, &olen);
  c.image_width = w, c.image_height = h, c.input_components = 3, c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  /* DC of all components, then ac_scans single-coefficient AC scans per component */
  int n = 1 + 3 * ac_scans;
  jpeg_scan_info *si = calloc((size_t)n, sizeof *si);
  CHECK(si);
  si[0] = (jpeg_scan_info){3, {0, 1, 2, 0}, 0, 0, 0, 0};
  int k = 1;
  for (int comp = 0; comp < 3; comp++)
    for (int a = 1; a <= ac_scans; a++) si[k++] = (jpeg_scan_info){1, {comp, 0, 0, 0}, a, a, 0, 0};
  c.scan_info = si;
  c.num_scans = n;
  jpeg_start_compress(&c, TRUE);
  unsigned char *row = malloc((size_t)w * 3);
  CHECK(row);
  for (unsigned y = 0; y < h; y++) {
    for (unsigned x = 0; x < w; x++) row[3 * x] = (unsigned char)x, row[3 * x + 1] = (unsigned char)y, row[3 * x + 2] = 7;
    JSAMPROW r = row;
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  free(row);
  free(si);
  *len = olen;
  return out; /* malloc'd by libjpeg: free() */
}

static inline char *b64(const unsigned char *d, size_t n) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *o = malloc((n + 2) / 3 * 4 + 1), *p = o;
  CHECK(o);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
    *p++ = a[v >> 18 & 63], *p++ = a[v >> 12 & 63];
    *p++ = i + 1 < n ? a[v >> 6 & 63] : '=';
    *p++ = i + 2 < n ? a[v & 63] : '=';
  }
  *p = 0;
  return o;
}

#endif
