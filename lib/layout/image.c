/* Asset checks: base64 decoding, and the bounded PNG/JPEG decoder of
 * folio/image.h that both the trial decode here and the renderer use.
 *
 * Order matters for decompression bombs: the pixel count comes from our own
 * reading of the header (PNG IHDR, JPEG SOFn), and an image over the cap is
 * rejected before any decoder runs (the decoder of the document also sums the
 * headers of all assets before trial-decoding any). Only then is the image
 * decoded, with libpng and libjpeg(-turbo), one row at a time into storage the
 * caller's sink provides: the trial decode gives one row buffer for every row,
 * so checking a 50-megapixel image costs one row of memory (plus libjpeg's
 * coefficient buffer for progressive files, capped by max_memory_to_use).
 * The trial decode scales JPEGs by 1/8: every entropy-coded bit is still read
 * (so corruption is found) but the inverse DCT and colour work shrink 64x.
 * Corrupt-data warnings count as failures: libjpeg would otherwise paint grey.
 *
 * Inflation is bounded by construction: libpng inflates IDAT only into the
 * rows it is asked for, and png_read_end (which would inflate whatever follows
 * the last row: a 1x1 image with gigabytes of trailing zeros) is never called;
 * ancillary chunks (iCCP, zTXt, iTXt, ... none of which we draw) are skipped
 * unread, so none is ever inflated; the number of chunks is capped before
 * libpng runs.
 *
 * Why libpng/libjpeg rather than cairo or gdk-pixbuf: they are already on the
 * build (libpng-dev, libjpeg-dev), they decode row by row with bounded memory
 * and report errors through a callback we control; gdk-pixbuf decodes whole
 * images into memory through dynamically loaded modules and cairo has no JPEG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs size_t and FILE declared first */
#include <jpeglib.h>
#include <png.h>

#include "folio/image.h"
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

static int fail(struct folio_image_result *r, bool too_large, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct folio_image_result *r, bool too_large, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
  r->too_large = too_large;
  return -1;
}

/* Signature and IHDR. */
static int png_header(const unsigned char *d, size_t n, uint32_t *w, uint32_t *h,
                      struct folio_image_result *r) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n < 8 || memcmp(d, sig, 8) != 0) return fail(r, false, "is not a PNG (bad signature)");
  if (n < 33 || be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
    return fail(r, false, "is not a PNG (no IHDR chunk)");
  *w = be32(d + 16);
  *h = be32(d + 20);
  if (*w == 0 || *h == 0) return fail(r, false, "PNG has a zero width or height");
  return 0;
}

/* The chunk list: lengths within the data, at most max_chunks chunks, an IEND. */
static int png_chunks(const unsigned char *d, size_t n, size_t max_chunks, struct folio_image_result *r) {
  size_t pos = 8, chunks = 0;
  for (;;) {
    if (n - pos < 12) return fail(r, false, "PNG does not decode: truncated chunk list");
    uint32_t len = be32(d + pos);
    if (len > n - pos - 12) return fail(r, false, "PNG does not decode: a chunk runs past the end");
    if (++chunks > max_chunks)
      return fail(r, true, "PNG has more than max_image_chunks = %zu chunks", max_chunks);
    if (memcmp(d + pos + 4, "IEND", 4) == 0) return 0;
    pos += 12 + (size_t)len;
  }
}

static int jpeg_header(const unsigned char *d, size_t n, uint32_t *w, uint32_t *h,
                       struct folio_image_result *r) {
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return fail(r, false, "is not a JPEG (no SOI marker)");
  size_t i = 2;
  for (;;) {
    if (i >= n || d[i] != 0xFF)
      return fail(r, false, "is not a JPEG (bad marker before the frame header)");
    while (i < n && d[i] == 0xFF) i++; /* fill bytes */
    if (i >= n) return fail(r, false, "is not a JPEG (truncated)");
    unsigned m = d[i++];
    if (m == 0xD8 || m == 0xD9 || m == 0xDA || m == 0x00)
      return fail(r, false, "is not a JPEG (no frame header before the image data)");
    if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) continue; /* no length */
    if (i + 2 > n) return fail(r, false, "is not a JPEG (truncated)");
    unsigned len = be16(d + i);
    if (len < 2 || i + len > n) return fail(r, false, "is not a JPEG (truncated segment)");
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      if (len < 7) return fail(r, false, "is not a JPEG (short frame header)");
      *h = be16(d + i + 3);
      *w = be16(d + i + 5);
      if (*w == 0 || *h == 0)
        return fail(r, false, "JPEG has a zero width or height (DNL is not supported)");
      return 0;
    }
    i += len;
  }
}

int folio_image_header(enum folio_asset_type type, const unsigned char *data, size_t size,
                       const struct folio_layout_limits *lim, uint32_t *w, uint32_t *h,
                       struct folio_image_result *r) {
  struct folio_layout_limits deflim;
  if (!lim) {
    folio_layout_limits_default(&deflim);
    lim = &deflim;
  }
  memset(r, 0, sizeof *r);
  *w = *h = 0;
  int rc = type == FOLIO_ASSET_PNG ? png_header(data, size, w, h, r)
           : type == FOLIO_ASSET_JPEG ? jpeg_header(data, size, w, h, r)
                                      : fail(r, false, "unknown image type %d", (int)type);
  if (rc) return rc;
  uint64_t px = (uint64_t)*w * *h;
  if (px > lim->max_image_pixels)
    return fail(r, true, "image is %ux%u = %llu pixels, more than the limit of %llu", *w, *h,
                (unsigned long long)px, (unsigned long long)lim->max_image_pixels);
  if (*w > MAX_SIDE || *h > MAX_SIDE)
    return fail(r, true, "image is %ux%u pixels, a side may be at most %u", *w, *h, MAX_SIDE);
  if (type == FOLIO_ASSET_PNG) return png_chunks(data, size, lim->max_image_chunks, r);
  return 0;
}

/* ---- decoding -------------------------------------------------------------------- */

struct png_ctx {
  const unsigned char *data;
  size_t size, pos;
  struct folio_image_result *r;
  /* Once the last row is asked for, libpng inflates the rest of the image
   * data to its end (png_read_finish_IDAT, in 1 KiB pieces) to check that
   * nothing follows: a 1x1 image with gigabytes of zeros after its row costs
   * seconds of CPU there. So from then on at most `allow` more input bytes
   * are handed over: the last row's own data (at most its raw size and a
   * little) and the end of the stream; a stream going on past that is a bomb. */
  bool last;
  size_t after, allow;
};

static void png_err(png_structp png, png_const_charp m) {
  struct png_ctx *c = png_get_error_ptr(png);
  if (!c->r->message[0]) snprintf(c->r->message, sizeof c->r->message, "PNG does not decode: %s", m);
  png_longjmp(png, 1);
}
static void png_warn(png_structp png, png_const_charp m) {
  (void)png;
  (void)m;
}

static void png_read(png_structp png, png_bytep out, size_t n) {
  struct png_ctx *c = png_get_io_ptr(png);
  if (c->size - c->pos < n) png_error(png, "truncated data");
  if (c->last) {
    c->after += n;
    if (c->after > c->allow) {
      fail(c->r, true, "PNG image data goes on after the last row (more than %zu bytes)", c->allow);
      png_error(png, "data after the last row");
    }
  }
  memcpy(out, c->data + c->pos, n);
  c->pos += n;
}

static int png_decode(const unsigned char *data, size_t size, uint32_t w, uint32_t h,
                      const struct folio_layout_limits *lim, const struct folio_image_sink *sink,
                      struct folio_image_result *r) {
  struct png_ctx c = {.data = data, .size = size, .r = r};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, png_err, png_warn);
  if (!png) return fail(r, false, "out of memory decoding PNG");
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    if (!r->message[0]) snprintf(r->message, sizeof r->message, "PNG does not decode");
    return -1;
  }
  png_set_read_fn(png, &c, png_read);
  png_set_user_limits(png, MAX_SIDE, MAX_SIDE);
  /* Ancillary chunks are never read into memory, nor inflated: we draw none
   * of them (cairo ignored them too). -1: every chunk but IHDR, PLTE, tRNS
   * (it decides the alpha channel), IDAT and IEND. */
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
  png_set_chunk_cache_max(png, 16);
  png_set_chunk_malloc_max(png, 1u << 20);
  png_read_info(png, info);
  if (png_get_image_width(png, info) != w || png_get_image_height(png, info) != h)
    png_error(png, "size differs from the header");
  int ct = png_get_color_type(png, info);
  png_set_expand(png); /* palette, low-bit grey, tRNS -> 8-bit channels with alpha */
  png_set_strip_16(png);
  if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_filler(png, 0xff, PNG_FILLER_AFTER); /* RGB -> RGBA, no-op with alpha */
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != (size_t)w * 4) png_error(png, "unexpected row layout");
  if (sink->start(sink->ctx, w, h)) {
    r->stopped = true;
    png_error(png, "stopped");
  }
  for (int p = 0; p < passes; p++)
    for (uint32_t y = 0; y < h; y++) {
      unsigned char *row = sink->row(sink->ctx, y);
      if (p == passes - 1 && y == h - 1) {
        c.last = true;
        c.allow = 2 * ((size_t)w * 8 + 1) + (64u << 10); /* 16-bit RGBA: 8 bytes a pixel */
      }
      png_read_row(png, row, NULL);
      if (p == passes - 1 && sink->row_done && sink->row_done(sink->ctx, y)) {
        r->stopped = true;
        png_error(png, "stopped");
      }
    }
  /* no png_read_end: what follows the last row is never inflated */
  png_destroy_read_struct(&png, &info, NULL);
  return 0;
}

struct jpeg_ctx {
  struct jpeg_error_mgr pub;
  jmp_buf jb;
  struct folio_image_result *r;
  size_t max_scans;
};

static void jpeg_exit(j_common_ptr ci) {
  struct jpeg_ctx *c = (struct jpeg_ctx *)ci->err;
  char m[JMSG_LENGTH_MAX];
  ci->err->format_message(ci, m);
  m[120] = '\0'; /* fits the 160-byte message with its prefix */
  if (!c->r->message[0]) snprintf(c->r->message, sizeof c->r->message, "JPEG does not decode: %.120s", m);
  longjmp(c->jb, 1);
}
static void jpeg_quiet(j_common_ptr ci) { (void)ci; }

/* A progressive JPEG of a few KB can hold thousands of scans, each a pass over
 * the whole coefficient buffer: a CPU bomb the pixel cap does not catch.
 * libjpeg-turbo suggests a limit like this one (djpeg -maxscan). */
static void jpeg_progress(j_common_ptr ci) {
  j_decompress_ptr di = (j_decompress_ptr)ci;
  struct jpeg_ctx *c = (struct jpeg_ctx *)ci->err;
  if (di->is_decompressor && (size_t)di->input_scan_number > c->max_scans) {
    fail(c->r, true, "JPEG has more than max_jpeg_scans = %zu scans", c->max_scans);
    longjmp(c->jb, 1);
  }
}

static int jpeg_decode(const unsigned char *data, size_t size, uint32_t w, uint32_t h,
                       const struct folio_layout_limits *lim, unsigned scale_denom,
                       const struct folio_image_sink *sink, struct folio_image_result *r) {
  struct jpeg_decompress_struct ci;
  struct jpeg_ctx c;
  memset(&ci, 0, sizeof ci);
  c.r = r;
  c.max_scans = lim->max_jpeg_scans;
  ci.err = jpeg_std_error(&c.pub);
  c.pub.error_exit = jpeg_exit;
  c.pub.output_message = jpeg_quiet;
  unsigned char *volatile line = NULL;
  if (setjmp(c.jb)) {
    free(line);
    jpeg_destroy_decompress(&ci);
    if (!r->message[0]) snprintf(r->message, sizeof r->message, "JPEG does not decode");
    return -1;
  }
  jpeg_create_decompress(&ci);
  struct jpeg_progress_mgr progress = {.progress_monitor = jpeg_progress};
  ci.progress = &progress;
  ci.mem->max_memory_to_use = 256L << 20;
  jpeg_mem_src(&ci, data, (unsigned long)size);
  jpeg_read_header(&ci, TRUE);
  if (ci.image_width != w || ci.image_height != h) {
    fail(r, false, "JPEG does not decode: size differs from the header");
    longjmp(c.jb, 1);
  }
  bool cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
  ci.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  if (scale_denom > 1) {
    ci.scale_num = 1;
    ci.scale_denom = scale_denom;
    ci.dct_method = JDCT_IFAST;
    ci.do_fancy_upsampling = FALSE;
  }
  jpeg_start_decompress(&ci);
  uint32_t ow = ci.output_width, oh = ci.output_height;
  unsigned nc = (unsigned)ci.output_components;
  line = malloc((size_t)ow * nc + 1);
  if (!line) {
    fail(r, false, "out of memory decoding JPEG");
    longjmp(c.jb, 1);
  }
  if (sink->start(sink->ctx, ow, oh)) {
    r->stopped = true;
    fail(r, false, "stopped");
    longjmp(c.jb, 1);
  }
  while (ci.output_scanline < oh) {
    uint32_t y = ci.output_scanline;
    JSAMPROW row = line;
    jpeg_read_scanlines(&ci, &row, 1);
    unsigned char *o = sink->row(sink->ctx, y);
    for (uint32_t x = 0; x < ow; x++) {
      const unsigned char *s = line + (size_t)x * nc;
      if (cmyk) { /* Adobe writes inverted CMYK: the samples are 255-C etc. */
        o[4 * (size_t)x] = (unsigned char)((unsigned)s[0] * s[3] / 255);
        o[4 * (size_t)x + 1] = (unsigned char)((unsigned)s[1] * s[3] / 255);
        o[4 * (size_t)x + 2] = (unsigned char)((unsigned)s[2] * s[3] / 255);
      } else {
        o[4 * (size_t)x] = s[0], o[4 * (size_t)x + 1] = s[1], o[4 * (size_t)x + 2] = s[2];
      }
      o[4 * (size_t)x + 3] = 0xff;
    }
    if (sink->row_done && sink->row_done(sink->ctx, y)) {
      r->stopped = true;
      fail(r, false, "stopped");
      longjmp(c.jb, 1);
    }
  }
  jpeg_finish_decompress(&ci);
  long warnings = c.pub.num_warnings;
  free(line);
  line = NULL;
  jpeg_destroy_decompress(&ci);
  if (warnings) return fail(r, false, "JPEG does not decode: corrupt data");
  return 0;
}

int folio_image_decode(enum folio_asset_type type, const unsigned char *data, size_t size,
                       const struct folio_layout_limits *lim, unsigned scale_denom,
                       const struct folio_image_sink *sink, struct folio_image_result *r) {
  struct folio_layout_limits deflim;
  if (!lim) {
    folio_layout_limits_default(&deflim);
    lim = &deflim;
  }
  uint32_t w, h;
  if (folio_image_header(type, data, size, lim, &w, &h, r)) return -1;
  return type == FOLIO_ASSET_PNG ? png_decode(data, size, w, h, lim, sink, r)
                                 : jpeg_decode(data, size, w, h, lim, scale_denom, sink, r);
}

/* ---- the trial decode -------------------------------------------------------------- */

struct trial {
  unsigned char *row;
};
static int trial_start(void *ctx, uint32_t w, uint32_t h) {
  (void)h;
  struct trial *t = ctx;
  t->row = malloc((size_t)w * 4);
  return t->row == NULL;
}
static unsigned char *trial_row(void *ctx, uint32_t y) {
  (void)y;
  return ((struct trial *)ctx)->row;
}

int folio_image_trial(enum folio_asset_type type, const unsigned char *data, size_t size,
                      const struct folio_layout_limits *lim, struct folio_image_result *r) {
  struct trial t = {0};
  struct folio_image_sink sink = {trial_start, trial_row, NULL, &t};
  int rc = folio_image_decode(type, data, size, lim, 8, &sink, r);
  if (rc && r->stopped) snprintf(r->message, sizeof r->message, "out of memory decoding an image");
  free(t.row);
  return rc;
}

int folio_image_check(enum folio_asset_type type, const unsigned char *data, size_t size,
                      uint64_t max_pixels, uint32_t *w, uint32_t *h, const char **why, char *buf,
                      bool *too_large) {
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  lim.max_image_pixels = max_pixels;
  struct folio_image_result r;
  int rc = folio_image_header(type, data, size, &lim, w, h, &r);
  if (!rc) rc = folio_image_trial(type, data, size, &lim, &r);
  *too_large = r.too_large;
  snprintf(buf, 160, "%s", r.message);
  *why = buf;
  return rc;
}
