/* The stored form of a job's layout (folio/layout_store.h): zstd on the way
 * in, a bounded single-shot decompression on the way out. */
#include "folio/layout_store.h"

#include <zstd.h>
#include <zstd_errors.h>

#include "jobs_int.h"

size_t folio_jobs_layout_pack_bound(size_t json_len) { return ZSTD_compressBound(json_len); }

int folio_jobs_layout_pack(const uint8_t *json, size_t json_len, int level, uint8_t *buf,
                           size_t cap, struct folio_jobs_stored_layout *out,
                           struct folio_pg_diag *diag) {
  *out = (struct folio_jobs_stored_layout){json, json_len, FOLIO_JOBS_LAYOUT_PLAIN};
  if (cap < ZSTD_compressBound(json_len)) {
    folio_jobs_diag(diag, "layout store: buffer of %zu bytes, %zu needed", cap,
                    (size_t)ZSTD_compressBound(json_len));
    return FOLIO_JOBS_EINVAL;
  }
  if (level <= 0) level = FOLIO_JOBS_LAYOUT_ZSTD_LEVEL_DEFAULT;
  if (level > FOLIO_JOBS_LAYOUT_ZSTD_LEVEL_MAX) level = FOLIO_JOBS_LAYOUT_ZSTD_LEVEL_MAX;
  /* ZSTD_compress writes the content size into the frame header, which
   * folio_jobs_layout_unpack requires. */
  size_t n = ZSTD_compress(buf, cap, json, json_len, level);
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation) {
      folio_jobs_diag(diag, "layout store: out of memory compressing the layout");
      return FOLIO_PG_ENOMEM;
    }
    /* cannot happen with cap >= the bound; store it as it is */
    return 0;
  }
  if (n < json_len) *out = (struct folio_jobs_stored_layout){buf, n, FOLIO_JOBS_LAYOUT_ZSTD};
  return 0;
}

int folio_jobs_layout_unpack(const uint8_t *data, size_t len, int codec, size_t max_bytes,
                             struct folio_arena *arena, const uint8_t **json, size_t *json_len,
                             struct folio_pg_diag *diag) {
  *json = NULL;
  *json_len = 0;
  if (codec == FOLIO_JOBS_LAYOUT_PLAIN) {
    *json = data;
    *json_len = len;
    return 0;
  }
  if (codec != FOLIO_JOBS_LAYOUT_ZSTD) {
    folio_jobs_diag(diag, "stored layout: unknown codec %d", codec);
    return FOLIO_JOBS_ESTORED;
  }
  /* Exactly one frame, nothing after it. */
  size_t frame = ZSTD_findFrameCompressedSize(data, len);
  if (ZSTD_isError(frame) || frame != len) {
    folio_jobs_diag(diag, "stored layout: not one complete zstd frame (%zu bytes%s)", len,
                    ZSTD_isError(frame) ? "" : ", trailing bytes");
    return FOLIO_JOBS_ESTORED;
  }
  /* The declared size is checked before any allocation... */
  unsigned long long declared = ZSTD_getFrameContentSize(data, len);
  if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN) {
    folio_jobs_diag(diag, "stored layout: the zstd frame does not declare its size");
    return FOLIO_JOBS_ESTORED;
  }
  if (declared > max_bytes) {
    folio_jobs_diag(diag,
                    "stored layout: declares %llu bytes, over the layout limit of %zu bytes "
                    "(FOLIO_LAYOUT_MAX_BYTES)",
                    declared, max_bytes);
    return FOLIO_JOBS_ESTORED;
  }
  /* ...and the buffer has exactly that capacity: single-shot decompression
   * never writes past it and fails when the content is larger. */
  uint8_t *out = folio_arena_alloc(arena, (size_t)declared + 1);
  ZSTD_DCtx *dctx = out ? ZSTD_createDCtx() : NULL;
  if (!dctx) {
    folio_jobs_diag(diag, "out of memory reading the stored layout");
    return FOLIO_PG_ENOMEM;
  }
  size_t got = ZSTD_decompressDCtx(dctx, out, (size_t)declared, data, len);
  ZSTD_freeDCtx(dctx);
  if (ZSTD_isError(got) || got != declared) {
    folio_jobs_diag(diag, "stored layout: corrupt zstd frame (%s)",
                    ZSTD_isError(got) ? ZSTD_getErrorName(got) : "shorter than it declares");
    return FOLIO_JOBS_ESTORED;
  }
  out[got] = '\0';
  *json = out;
  *json_len = got;
  return 0;
}
