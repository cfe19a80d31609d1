/* libFuzzer target for the bounded image decoder (folio/image.h): the PNG
 * chunk walk and header readers are ours, and libpng/libjpeg run under our
 * limits with caller-provided rows. Any bytes, as PNG and as JPEG, at full
 * and 1/8 scale, must decode or fail with a message, never crash, leak, touch
 * a row outside what start() was told, or run past the limits. The first
 * byte picks the type and scale; the rest is the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rows {
  unsigned char *px;
  uint32_t w, h;
};

static int start(void *ctx, uint32_t w, uint32_t h) {
  struct rows *r = ctx;
  if (w == 0 || h == 0 || (uint64_t)w * h > (1u << 22)) abort(); /* the limits below */
  r->px = malloc((size_t)w * h * 4);
  r->w = w, r->h = h;
  return r->px == NULL;
}
static unsigned char *row(void *ctx, uint32_t y) {
  struct rows *r = ctx;
  if (y >= r->h) abort();
  return r->px + (size_t)y * r->w * 4;
}
static int row_done(void *ctx, uint32_t y) {
  struct rows *r = ctx;
  if (y >= r->h) abort();
  unsigned sum = 0; /* every byte of the row was written (MSan/ASan see it) */
  for (size_t x = 0; x < (size_t)r->w * 4; x++) sum += r->px[(size_t)y * r->w * 4 + x];
  return sum == 0xFFFFFFFFu;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  lim.max_image_pixels = 1u << 22; /* keep each run fast */
  lim.max_jpeg_scans = 20;
  enum folio_asset_type t = (data[0] & 1) ? FOLIO_ASSET_JPEG : FOLIO_ASSET_PNG;
  unsigned scale = (data[0] & 2) ? 8 : 1;
  struct rows r = {0};
  struct folio_image_sink sink = {start, row, row_done, &r};
  struct folio_image_result res;
  int rc = folio_image_decode(t, data + 1, size - 1, &lim, scale, &sink, &res);
  if (rc != 0 && !res.message[0]) abort(); /* a failure always says why */
  free(r.px);
  return 0;
}
