/* The bounded PNG/JPEG decoder shared by layout validation and the renderer.
 *
 * One decoder, so the server's trial decode (lib/layout) and the renderer's
 * real decode (lib/render) stop at the same budgets:
 *  - the pixel count and sides come from our own reading of the header and
 *    are checked before libpng/libjpeg run (struct folio_layout_limits);
 *  - PNG: the chunk list is walked first (at most max_image_chunks chunks);
 *    every ancillary chunk is skipped unread by libpng (no iCCP/zTXt/iTXt is
 *    ever inflated), the image data is inflated only as far as the rows need
 *    (data after the last row, however large, is never inflated), so the
 *    inflated size is exactly the pixel data: rows x rowbytes;
 *  - JPEG: at most max_jpeg_scans scans (each progressive scan is a pass over
 *    the whole coefficient buffer), libjpeg's working memory capped;
 *  - the sink's row callback may stop the decode between rows (cancellation).
 *
 * Output: 8-bit RGBA rows (not premultiplied), written into storage the sink
 * provides, so an interlaced PNG needs no second image buffer: libpng combines
 * its seven passes in the sink's rows. Thread-safety: reentrant. */
#ifndef FOLIO_IMAGE_H
#define FOLIO_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/layout.h"

struct folio_image_sink {
  /* The output size is known (w x h, each >= 1; after scaling). Return 0 to
   * go on, nonzero to stop (the decode fails with stopped set). */
  int (*start)(void *ctx, uint32_t w, uint32_t h);
  /* Storage for row y: 4*w bytes, kept by the sink until the decode ends. The
   * same row is asked for once per pass for an interlaced PNG and must then
   * hold what the previous pass left in it. */
  unsigned char *(*row)(void *ctx, uint32_t y);
  /* Row y of the final pass is complete. Return nonzero to stop. May be NULL. */
  int (*row_done)(void *ctx, uint32_t y);
  void *ctx;
};

struct folio_image_result {
  char message[160];  /* why it failed ("PNG does not decode: ..."), "" on success */
  bool too_large;     /* a limit was the reason (RESOURCE_EXHAUSTED) */
  bool stopped;       /* the sink asked to stop */
};

/* Decodes the asset's bytes through sink. scale_denom 1 = full size; 8 = JPEG
 * DCT scaling 1/8 (every entropy-coded bit is still read; PNG ignores it).
 * lim NULL = defaults. Returns 0, or -1 with r filled. */
int folio_image_decode(enum folio_asset_type type, const unsigned char *data, size_t size,
                       const struct folio_layout_limits *lim, unsigned scale_denom,
                       const struct folio_image_sink *sink, struct folio_image_result *r);

/* Reads width and height from the header only and applies the per-image caps
 * (max_image_pixels, 32767 a side, max_image_chunks for PNG). 0, or -1 with r
 * filled (too_large for a cap). No decoder runs. */
int folio_image_header(enum folio_asset_type type, const unsigned char *data, size_t size,
                       const struct folio_layout_limits *lim, uint32_t *w, uint32_t *h,
                       struct folio_image_result *r);

/* Decoded size of a w x h image in bytes as the renderer holds it (4 a pixel). */
static inline uint64_t folio_image_bytes(uint32_t w, uint32_t h) { return (uint64_t)w * h * 4; }

#endif
