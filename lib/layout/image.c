/* Asset checks: base64 decoding and "is this really a PNG/JPEG we can draw?".
 *
 * Order matters for decompression bombs: the pixel count comes from our own
 * reading of the header (PNG IHDR, JPEG SOFn), and an image over the cap is
 * rejected before any decoder runs. Only then is the image decoded for real,
 * with libpng and libjpeg(-turbo), one row at a time into a single row buffer,
 * so checking a 50-megapixel image costs one row of memory (plus libjpeg's
 * coefficient buffer for progressive files, capped by max_memory_to_use).
 * JPEGs are decoded with DCT scaling 1/8: every entropy-coded bit is still
 * read (so corruption is found) but the inverse DCT and colour work shrink 64x.
 * Corrupt-data warnings count as failures: libjpeg would otherwise paint grey.
 *
 * Why libpng/libjpeg rather than cairo or gdk-pixbuf: they are already on the
 * build (libpng-dev, libjpeg-dev), they decode row by row with bounded memory
 * and report errors through a callback we control; gdk-pixbuf decodes whole
 * images into memory through dynamically loaded modules and cairo has no JPEG. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs size_t and FILE declared first */
#include <jpeglib.h>
#include <png.h>

#include "layout_int.h"

/* Sides above this are rejected: cairo image surfaces stop at 32767 pixels. */
#define MAX_SIDE 32767u

/* ---- base64 ----------------------------------------------------------------- */

static const signed char b64[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,
    ['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
    ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
    ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
    ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
    ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
    ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63,
    ['/'] = 64,
}; /* value + 1; 0 = not in the alphabet */

long folio_b64_decode(const char *in, size_t len, unsigned char *out) {
  if (len % 4) return -1;
  if (len == 0) return 0;
  const unsigned char *s = (const unsigned char *)in;
  size_t pad = 0;
  if (s[len - 1] == '=') pad = s[len - 2] == '=' ? 2 : 1;
  size_t full = len / 4 - (pad ? 1 : 0);
  unsigned char *o = out;
  for (size_t i = 0; i < full; i++, s += 4) {
    int a = b64[s[0]], b = b64[s[1]], c = b64[s[2]], d = b64[s[3]];
    if (!a || !b || !c || !d) return -1;
    uint32_t v = (uint32_t)(a - 1) << 18 | (uint32_t)(b - 1) << 12 | (uint32_t)(c - 1) << 6 |
                 (uint32_t)(d - 1);
    o[0] = (unsigned char)(v >> 16);
    o[1] = (unsigned char)(v >> 8);
    o[2] = (unsigned char)v;
    o += 3;
  }
  if (pad) {
    int a = b64[s[0]], b = b64[s[1]];
    int c = pad == 1 ? b64[s[2]] : 1;
    if (!a || !b || !c) return -1;
    uint32_t v = (uint32_t)(a - 1) << 18 | (uint32_t)(b - 1) << 12 | (uint32_t)(c - 1) << 6;
    *o++ = (unsigned char)(v >> 16);
    if (pad == 1) *o++ = (unsigned char)(v >> 8);
  }
  return (long)(o - out);
}

/* ---- headers ------------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

static const char *png_header(const unsigned char *d, size_t n, uint32_t *w, uint32_t *h) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n < 8 || memcmp(d, sig, 8) != 0) return "is not a PNG (bad signature)";
  if (n < 33 || be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
    return "is not a PNG (no IHDR chunk)";
  *w = be32(d + 16);
  *h = be32(d + 20);
  if (*w == 0 || *h == 0) return "PNG has a zero width or height";
  return NULL;
}

static const char *jpeg_header(const unsigned char *d, size_t n, uint32_t *w, uint32_t *h) {
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return "is not a JPEG (no SOI marker)";
  size_t i = 2;
  for (;;) {
    if (i >= n || d[i] != 0xFF) return "is not a JPEG (bad marker before the frame header)";
    while (i < n && d[i] == 0xFF) i++; /* fill bytes */
    if (i >= n) return "is not a JPEG (truncated)";
    unsigned m = d[i++];
    if (m == 0xD8 || m == 0xD9 || m == 0xDA || m == 0x00)
      return "is not a JPEG (no frame header before the image data)";
    if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) continue; /* no length */
    if (i + 2 > n) return "is not a JPEG (truncated)";
    unsigned len = be16(d + i);
    if (len < 2 || i + len > n) return "is not a JPEG (truncated segment)";
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      if (len < 7) return "is not a JPEG (short frame header)";
      *h = be16(d + i + 3);
      *w = be16(d + i + 5);
      if (*w == 0 || *h == 0) return "JPEG has a zero width or height (DNL is not supported)";
      return NULL;
    }
    i += len;
  }
}

/* ---- trial decoding -------------------------------------------------------------- */

struct png_ctx {
  const unsigned char *data;
  size_t size, pos;
  char *msg; /* 160 bytes */
};

static void png_err(png_structp png, png_const_charp m) {
  struct png_ctx *c = png_get_error_ptr(png);
  snprintf(c->msg, 160, "PNG does not decode: %s", m);
  png_longjmp(png, 1);
}
static void png_warn(png_structp png, png_const_charp m) {}

static void png_read(png_structp png, png_bytep out, size_t n) {
  struct png_ctx *c = png_get_io_ptr(png);
  if (c->size - c->pos < n) png_error(png, "truncated data");
  memcpy(out, c->data + c->pos, n);
  c->pos += n;
}

static int png_decode(const unsigned char *data, size_t size, uint32_t w, uint32_t h, char *buf) {
  struct png_ctx c = {data, size, 0, buf};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, png_err, png_warn);
  if (!png) {
    snprintf(buf, 160, "out of memory decoding PNG");
    return -1;
  }
  png_infop info = png_create_info_struct(png);
  unsigned char *volatile row = NULL;
  if (!info || setjmp(png_jmpbuf(png))) {
    free(row);
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    return -1;
  }
  png_set_read_fn(png, &c, png_read);
  png_set_user_limits(png, MAX_SIDE, MAX_SIDE);
  png_set_chunk_malloc_max(png, 8u << 20);
  png_read_info(png, info);
  if (png_get_image_width(png, info) != w || png_get_image_height(png, info) != h)
    png_error(png, "size differs from the header");
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  size_t rb = png_get_rowbytes(png, info);
  row = malloc(rb ? rb : 1);
  if (!row) png_error(png, "out of memory");
  for (int p = 0; p < passes; p++)
    for (uint32_t y = 0; y < h; y++) png_read_row(png, row, NULL);
  png_read_end(png, NULL);
  free(row);
  png_destroy_read_struct(&png, &info, NULL);
  return 0;
}

struct jpeg_ctx {
  struct jpeg_error_mgr pub;
  jmp_buf jb;
  char *msg;
};

static void jpeg_exit(j_common_ptr ci) {
  struct jpeg_ctx *c = (struct jpeg_ctx *)ci->err;
  char m[JMSG_LENGTH_MAX];
  ci->err->format_message(ci, m);
  m[120] = '\0'; /* fits the 160-byte message with its prefix */
  snprintf(c->msg, 160, "JPEG does not decode: %.120s", m);
  longjmp(c->jb, 1);
}
static void jpeg_quiet(j_common_ptr ci) {}

/* A progressive JPEG of a few KB can hold thousands of scans, each a pass over
 * the whole coefficient buffer: a CPU bomb the pixel cap does not catch.
 * libjpeg-turbo suggests a limit like this one (djpeg -maxscan). */
#define MAX_SCANS 1000
static void jpeg_progress(j_common_ptr ci) {
  j_decompress_ptr di = (j_decompress_ptr)ci;
  if (di->is_decompressor && di->input_scan_number > MAX_SCANS) {
    struct jpeg_ctx *c = (struct jpeg_ctx *)ci->err;
    snprintf(c->msg, 160, "JPEG does not decode: more than %d scans", MAX_SCANS);
    longjmp(c->jb, 1);
  }
}

static int jpeg_decode(const unsigned char *data, size_t size, uint32_t w, uint32_t h, char *buf) {
  struct jpeg_decompress_struct ci;
  struct jpeg_ctx c;
  c.msg = buf;
  ci.err = jpeg_std_error(&c.pub);
  c.pub.error_exit = jpeg_exit;
  c.pub.output_message = jpeg_quiet;
  unsigned char *volatile row = NULL;
  if (setjmp(c.jb)) {
    free(row);
    jpeg_destroy_decompress(&ci);
    return -1;
  }
  jpeg_create_decompress(&ci);
  struct jpeg_progress_mgr progress = {.progress_monitor = jpeg_progress};
  ci.progress = &progress;
  ci.mem->max_memory_to_use = 256L << 20;
  jpeg_mem_src(&ci, data, (unsigned long)size);
  jpeg_read_header(&ci, TRUE);
  if (ci.image_width != w || ci.image_height != h) {
    snprintf(buf, 160, "JPEG does not decode: size differs from the header");
    jpeg_destroy_decompress(&ci);
    return -1;
  }
  ci.scale_num = 1;
  ci.scale_denom = 8;
  ci.dct_method = JDCT_IFAST;
  ci.do_fancy_upsampling = FALSE;
  jpeg_start_decompress(&ci);
  row = malloc((size_t)ci.output_width * (size_t)ci.output_components + 1);
  if (!row) {
    snprintf(buf, 160, "out of memory decoding JPEG");
    jpeg_destroy_decompress(&ci);
    return -1;
  }
  while (ci.output_scanline < ci.output_height) {
    JSAMPROW r = row;
    jpeg_read_scanlines(&ci, &r, 1);
  }
  jpeg_finish_decompress(&ci);
  long warnings = c.pub.num_warnings;
  free(row);
  jpeg_destroy_decompress(&ci);
  if (warnings) {
    snprintf(buf, 160, "JPEG does not decode: corrupt data");
    return -1;
  }
  return 0;
}

int folio_image_check(enum folio_asset_type type, const unsigned char *data, size_t size,
                      uint64_t max_pixels, uint32_t *w, uint32_t *h, const char **why,
                      char *buf, bool *too_large) {
  *too_large = false;
  const char *e = type == FOLIO_ASSET_PNG ? png_header(data, size, w, h)
                                          : jpeg_header(data, size, w, h);
  if (e) {
    *why = e;
    return -1;
  }
  uint64_t px = (uint64_t)*w * *h;
  if (px > max_pixels) {
    snprintf(buf, 160, "image is %ux%u = %llu pixels, more than the limit of %llu", *w, *h,
             (unsigned long long)px, (unsigned long long)max_pixels);
    *why = buf;
    *too_large = true;
    return -1;
  }
  if (*w > MAX_SIDE || *h > MAX_SIDE) {
    snprintf(buf, 160, "image is %ux%u pixels, a side may be at most %u", *w, *h, MAX_SIDE);
    *why = buf;
    *too_large = true;
    return -1;
  }
  int rc = type == FOLIO_ASSET_PNG ? png_decode(data, size, *w, *h, buf)
                                   : jpeg_decode(data, size, *w, *h, buf);
  if (rc < 0) *why = buf;
  return rc;
}
