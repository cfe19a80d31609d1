/* A layout whose Scribus document is big: used to measure the worker's and
 * the server's memory while an artifact of hundreds of MiB streams through
 * (tests/integration/worker, tests/integration/artifacts). Include after
 * check.h and ../../unit/render/testbuf.h; link folio_render and libsodium
 * (sodium_init() done by the caller). */
#ifndef FOLIO_TEST_BIG_LAYOUT_H
#define FOLIO_TEST_BIG_LAYOUT_H

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/render.h"

/* Bytes the SLA grows by per frame of big_sla_layout (measured: 72 frames
 * make 99 MiB). */
#define BIG_SLA_BYTES_PER_FRAME 1440000

/* One page with `frames` image frames of a noise PNG (incompressible): the
 * SLA carries every frame's picture inline, so it is about frames ×
 * BIG_SLA_BYTES_PER_FRAME bytes; the layout itself stays about 2 MB.
 * malloc'd; the caller frees it. */
static char *big_sla_layout(int frames) {
  unsigned w = 600, h = 600;
  uint32_t *px = malloc((size_t)w * h * 4);
  CHECK(px);
  randombytes_buf(px, (size_t)w * h * 4);
  struct buf png = {0};
  CHECK(folio_render_png_encode((unsigned char *)px, w, h, w * 4, 72, buf_write, &png) == 0);
  free(px);
  size_t b64len = sodium_base64_encoded_len(png.len, sodium_base64_VARIANT_ORIGINAL);
  size_t cap = b64len + (size_t)frames * 160 + 1024;
  char *s = malloc(cap);
  CHECK(s);
  size_t p = (size_t)snprintf(s, cap, "{\"version\":1,\"assets\":{\"noise\":{\"media_type\":\"image/png\",\"data\":\"");
  sodium_bin2base64(s + p, b64len, png.p, png.len, sodium_base64_VARIANT_ORIGINAL);
  p += strlen(s + p);
  free(png.p);
  p += (size_t)snprintf(s + p, cap - p, "\"}},\"pages\":[{\"items\":[");
  for (int i = 0; i < frames; i++)
    p += (size_t)snprintf(s + p, cap - p,
                          "%s{\"type\":\"image\",\"x\":%d,\"y\":%d,\"w\":40,\"h\":40,\"asset\":\"noise\"}",
                          i ? "," : "", 10 + (i % 12) * 45, 10 + (i / 12 % 16) * 45);
  snprintf(s + p, cap - p, "]}]}");
  return s;
}

#endif
