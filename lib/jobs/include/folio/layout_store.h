/* How a job's layout is stored in jobs.layout (migration 0008): the one room
 * for the storage format, used by the server when it submits and by the
 * worker when it reads a claimed job.
 *
 * A layout is stored either as the JSON itself (FOLIO_JOBS_LAYOUT_PLAIN:
 * every row written before migration 0008, and layouts zstd cannot shrink)
 * or as one zstd frame of it (FOLIO_JOBS_LAYOUT_ZSTD), in the column
 * jobs.layout with jobs.layout_codec saying which. The column's storage is
 * EXTERNAL: PostgreSQL no longer pglz-compresses it (pglz cost ~22% of the
 * database's CPU per submit and shrank a 47 KB layout less than zstd -1
 * does); the server compresses on its decode pool instead, next to the
 * decode it already does there. docs/internals/jobs.md, "Layout storage".
 *
 * Reading is bounded: folio_jobs_layout_unpack() never produces more than
 * the caller's budget (the render process's layout byte limit, the same
 * limit the layout was accepted under), checks the frame's declared size
 * before allocating anything, and refuses a frame whose content is larger
 * than it declares, a truncated frame, trailing bytes and unknown codecs
 * (FOLIO_JOBS_ESTORED, diag says which). A corrupt or hostile row costs at
 * most the budget in memory, never a bomb. docs/security.md, "Stored
 * layouts".
 *
 * Both functions are pure (no I/O) and thread-safe; the caller passes every
 * buffer. */
#ifndef FOLIO_LAYOUT_STORE_H
#define FOLIO_LAYOUT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "folio/arena.h"
#include "folio/pg.h"

/* jobs.layout_codec values. Never renumber: rows keep them. */
enum folio_jobs_layout_codec {
  FOLIO_JOBS_LAYOUT_PLAIN = 0, /* the layout JSON as received */
  FOLIO_JOBS_LAYOUT_ZSTD = 1,  /* one zstd frame with its content size */
};

/* The zstd level layouts are stored with (level 0 in folio_jobs_layout_pack
 * means this; at most _MAX). Level 1 compresses bench/pipeline's 47 KB
 * catalogue layout 7.4x; higher levels save a few percent of the bytes for
 * more of the decode pool's time (bench/jobs prints levels 1 and 3). */
#define FOLIO_JOBS_LAYOUT_ZSTD_LEVEL_DEFAULT 1
#define FOLIO_JOBS_LAYOUT_ZSTD_LEVEL_MAX 19

/* The layout as it is to be stored. data is the caller's buffer or the
 * original JSON (PLAIN); it lives as long as those. */
struct folio_jobs_stored_layout {
  const uint8_t *data;
  size_t len;
  int codec; /* enum folio_jobs_layout_codec */
};

/* Bytes a caller must provide in buf for folio_jobs_layout_pack(json_len). */
size_t folio_jobs_layout_pack_bound(size_t json_len);

/* Compresses json[0..json_len) into buf (capacity cap, at least
 * folio_jobs_layout_pack_bound(json_len)) at zstd level `level` (0 = the
 * default) and fills *out: the frame in buf (ZSTD) when it is smaller than
 * the JSON, else the JSON itself (PLAIN; buf unused). Returns 0, or
 * FOLIO_PG_ENOMEM / FOLIO_JOBS_EINVAL (cap too small) with diag set. */
int folio_jobs_layout_pack(const uint8_t *json, size_t json_len, int level, uint8_t *buf,
                           size_t cap, struct folio_jobs_stored_layout *out,
                           struct folio_pg_diag *diag);

/* The JSON of a stored layout: data[0..len) as read from jobs.layout with
 * its jobs.layout_codec. PLAIN: *json = data (borrowed, nothing copied).
 * ZSTD: decompressed into a NUL-terminated buffer of at most max_bytes + 1
 * bytes allocated in arena (lives until the arena is reset or destroyed).
 * Returns 0, FOLIO_JOBS_ESTORED (unknown codec; not one complete zstd frame;
 * content size missing, over max_bytes, or not what the frame declares;
 * trailing bytes) or FOLIO_PG_ENOMEM, with diag saying which and quoting
 * max_bytes when it is the limit. */
int folio_jobs_layout_unpack(const uint8_t *data, size_t len, int codec, size_t max_bytes,
                             struct folio_arena *arena, const uint8_t **json, size_t *json_len,
                             struct folio_pg_diag *diag);

#endif
