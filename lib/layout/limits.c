/* The decode-time limits: each one's default and its environment variable,
 * in one table (struct folio_layout_limits in folio/layout.h says what each
 * bounds; docs/security.md why). The server's validation and the worker's
 * decode read the same variables, so a document the server accepted decodes
 * in the worker under the same limits. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "layout_int.h"

enum kind { K_SIZE, K_U64, K_PT };

static const struct {
  const char *env;
  size_t off;
  enum kind kind;
  uint64_t def, lo, hi;
} LIMITS[] = {
    {"FOLIO_LAYOUT_MAX_BYTES", offsetof(struct folio_layout_limits, max_bytes), K_SIZE, 32u << 20, 1024, 1u << 30},
    {"FOLIO_LAYOUT_MAX_DEPTH", offsetof(struct folio_layout_limits, max_depth), K_SIZE, 32, 8, 256},
    {"FOLIO_LAYOUT_MAX_PAGES", offsetof(struct folio_layout_limits, max_pages), K_SIZE, 1000, 1, 1000000},
    {"FOLIO_LAYOUT_MAX_ITEMS_PER_PAGE", offsetof(struct folio_layout_limits, max_items_per_page), K_SIZE, 10000,
     1, 10000000},
    {"FOLIO_LAYOUT_MAX_STRING_BYTES", offsetof(struct folio_layout_limits, max_string_bytes), K_SIZE, 1u << 20,
     64, 1u << 30},
    {"FOLIO_LAYOUT_MAX_ASSET_BYTES", offsetof(struct folio_layout_limits, max_asset_bytes), K_SIZE, 16u << 20,
     64, 1u << 30},
    {"FOLIO_LAYOUT_MAX_IMAGE_PIXELS", offsetof(struct folio_layout_limits, max_image_pixels), K_U64, 50000000, 1,
     UINT64_C(1) << 40},
    {"FOLIO_LAYOUT_MAX_IMAGE_BYTES_TOTAL", offsetof(struct folio_layout_limits, max_image_bytes_total), K_U64,
     512u << 20, 4, UINT64_C(1) << 44},
    {"FOLIO_LAYOUT_MAX_IMAGE_CHUNKS", offsetof(struct folio_layout_limits, max_image_chunks), K_SIZE, 4096, 3,
     1000000},
    {"FOLIO_LAYOUT_MAX_JPEG_SCANS", offsetof(struct folio_layout_limits, max_jpeg_scans), K_SIZE, 100, 1, 100000},
    {"FOLIO_LAYOUT_MAX_PAGE_SIDE", offsetof(struct folio_layout_limits, max_page_side), K_PT,
     (uint64_t)FOLIO_LAYOUT_MAX_PAGE_SIDE_DEFAULT, 72, 100000},
    {"FOLIO_LAYOUT_MAX_ERRORS", offsetof(struct folio_layout_limits, max_errors), K_SIZE, 20, 1, 10000},
};
#define N_LIMITS (sizeof LIMITS / sizeof LIMITS[0])

static void set(struct folio_layout_limits *lim, size_t i, uint64_t v) {
  char *p = (char *)lim + LIMITS[i].off;
  if (LIMITS[i].kind == K_SIZE) *(size_t *)(void *)p = (size_t)v;
  else if (LIMITS[i].kind == K_PT) *(double *)(void *)p = (double)v;
  else *(uint64_t *)(void *)p = v;
}

void folio_layout_limits_default(struct folio_layout_limits *lim) {
  for (size_t i = 0; i < N_LIMITS; i++) set(lim, i, LIMITS[i].def);
}

int folio_layout_limits_from_env(struct folio_layout_limits *lim, char *err, size_t cap) {
  folio_layout_limits_default(lim);
  for (size_t i = 0; i < N_LIMITS; i++) {
    const char *v = getenv(LIMITS[i].env);
    if (!v || !*v) continue;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || x < LIMITS[i].lo || x > LIMITS[i].hi) {
      snprintf(err, cap, "%s: \"%s\" is not an integer in %" PRIu64 "..%" PRIu64, LIMITS[i].env, v,
               LIMITS[i].lo, LIMITS[i].hi);
      return -1;
    }
    set(lim, i, x);
  }
  return 0;
}
