/* The render cache: the same request rendered by the same renderer gives the
 * same bytes, so a SUCCEEDED job's artifacts answer every later submission
 * of the same tenant with the same key, without rendering.
 *
 * The key has two halves, stored apart (migration 0009):
 *  - the request key, folio_render_cache_key() below, computed by
 *    folio-server after it decoded the layout: SHA-256 over the canonical
 *    layout (folio_layout_canonical), every render option and the digests of
 *    the assets the layout refers to;
 *  - the renderer fingerprint, computed by each render process at start
 *    (folio_render_fingerprint, lib/render: folio's version, cairo, pango,
 *    harfbuzz, freetype, fontconfig and the installed font set) and
 *    registered in PostgreSQL (folio_jobs_renderer_register). folio-server
 *    never links the renderer; the submit statement looks entries up for the
 *    most recently registered fingerprint, and a worker records an entry
 *    under its own fingerprint in the statement that makes the job SUCCEEDED
 *    (folio_jobs_succeed_findings, folio/jobs.h). An entry from another renderer never hits.
 * Entries are scoped by tenant: one tenant can never learn whether another
 * rendered a document. docs/internals/jobs.md, "The render cache", has the
 * whole design (verification of a hit, deletion safety, purge).
 *
 * Thread-safety: everything here is pure or takes a connection as the rest
 * of lib/jobs. */
#ifndef FOLIO_RENDER_CACHE_H
#define FOLIO_RENDER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/jobs.h"

/* Numbers equal folio.v1.CachePolicy (RenderOptions.cache). */
enum folio_cache_policy {
  FOLIO_CACHE_USE = 0,    /* CACHE_POLICY_UNSPECIFIED: answer from the cache, record on success */
  FOLIO_CACHE_BYPASS = 1, /* render anyway; record (replace) the entry on success */
  FOLIO_CACHE_OFF = 2,    /* neither look up nor record */
};
#define FOLIO_CACHE_POLICY_MAX 2

#define FOLIO_RENDER_CACHE_KEY_LEN 32 /* SHA-256 */

/* Layouts up to this many bytes get a cache key; larger ones are neither
 * looked up nor recorded (they render as with CACHE_POLICY_OFF). The key's
 * canonical pass costs about one decode of CPU on the server's decode pool,
 * and even hashing 6 MB layouts as they stand measurably slowed a flood of
 * them (test_server_e2e's decode flood missed its callers' deadlines on a
 * loaded machine); the cap keeps the cache's cost per submission under
 * ~25 ms of CPU (docs/security.md, "Render cache"). */
#define FOLIO_RENDER_CACHE_LAYOUT_MAX (1u << 20)

/* Everything that decides a render's bytes, besides the renderer itself.
 * Pointers are borrowed for the call. */
struct folio_render_cache_request {
  const char *layout_canonical; /* folio_layout_canonical() of layout_json */
  size_t layout_canonical_len;
  const int *formats; /* FOLIO_FORMAT_*, as requested: order and duplicates do not matter;
                         none means [PDF] */
  size_t nformats;
  int png_dpi;          /* 0 = FOLIO_PNG_DPI_DEFAULT */
  const size_t *pages;  /* the selection, 0-based, ascending, unique
                           (folio_layout_pages_parse); "" and "1-N" give the same */
  size_t npages;
  /* Issue 13 (uploaded assets): the SHA-256 of every stored asset the
   * layout refers to, in the order the layout first refers to them. Inline
   * assets are inside the canonical layout already; none are stored yet. */
  const uint8_t (*asset_digests)[32];
  size_t nassets;
  /* Issue 14: the PDF profile set (folio_pdf_profiles_set of pdf_profile and
   * additional_pdf_profiles: the same set in any order gives the same key),
   * png_include_bleed, and the two finding policies (they decide whether the
   * same render SUCCEEDED or FAILED, so a hit must have been judged by the
   * same rules). */
  unsigned pdf_profiles;
  bool png_include_bleed;
  bool fail_on_warnings;
  bool require_clean_preflight;
};

/* The request key: SHA-256 over a tagged, length-prefixed encoding of every
 * field of *r (render_cache.c names each one). Pure. */
void folio_render_cache_key(const struct folio_render_cache_request *r,
                            uint8_t out[FOLIO_RENDER_CACHE_KEY_LEN]);
/* 64 lower-case hex digits + NUL. */
void folio_render_cache_hex(const uint8_t key[FOLIO_RENDER_CACHE_KEY_LEN], char out[65]);

/* Registers (or refreshes) the renderer a render process runs: the
 * fingerprint as 64 hex digits and a readable description (the versions).
 * The newest registration is the renderer hits are looked up for. */
int folio_jobs_renderer_register(struct folio_pg_conn *c, const char *fingerprint_hex,
                                 const char *description, struct folio_pg_diag *diag);

/* Deletion safety: referenced[i] = some artifacts row (of any job) refers to
 * keys[i]. An object may be deleted only when it is not referenced; the
 * worker asks before it removes an attempt's objects. One statement. */
int folio_jobs_objects_referenced(struct folio_pg_conn *c, const char *const *keys, size_t n,
                                  bool *referenced, struct folio_pg_diag *diag);

/* Deletes the cache entries of tenant (NULL: of every tenant); *deleted
 * (NULL allowed) receives how many. The artifacts stay with their jobs. */
int folio_jobs_cache_purge(struct folio_pg_conn *c, const char *tenant, long *deleted,
                           struct folio_pg_diag *diag);

/* A hit the server could not verify (an object of the source job is gone,
 * or S3 did not answer): the job goes back to QUEUED before its submitter
 * was answered, its copied artifacts rows go, and a 'retried' event records
 * why (borrowed). invalidate also deletes the entry naming the source job.
 * cb gets 0 when the job was a hit and now is QUEUED (dispatch it),
 * FOLIO_JOBS_ENOTFOUND when it was not such a job. On the loop thread; cb
 * runs exactly once unless this returns an error. */
struct folio_pg_async;
int folio_jobs_cache_unhit_async(struct folio_pg_async *a, const char *job_id, bool invalidate,
                                 const char *why, folio_jobs_done_cb cb, void *arg);

#endif
