/* The render cache on folio-server's side (folio/render_cache.h has the
 * design): the request key of a submission, computed on the decode pool,
 * and the verification of a hit before it is answered, on the loop thread. */
#ifndef FOLIO_SERVER_CACHE_H
#define FOLIO_SERVER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "folio/render_cache.h"

/* The request key of s (layout, formats, png_dpi) with its selected pages
 * (0-based, folio_layout_pages_parse) into out. Work-pool thread (it reads
 * the whole layout). 0, or -1 when the submission goes without the cache:
 * a layout over FOLIO_RENDER_CACHE_LAYOUT_MAX, or out of memory. */
int srv_cache_key(const struct folio_job_submit *s, const struct folio_layout_limits *lim,
                  const size_t *pages, size_t npages, uint8_t out[FOLIO_RENDER_CACHE_KEY_LEN]);

/* Loop thread. A committed hit job_id (of tenant) is verified before anyone
 * hears of it: every artifact object is HEADed (in parallel). All there:
 * done(arg, FOLIO_JOB_SUCCEEDED). One missing (404), or S3 not answering:
 * the job goes back to QUEUED (folio_jobs_cache_unhit_async; a 404 also
 * deletes the entry) and done(arg, FOLIO_JOB_QUEUED) - the caller dispatches
 * it like any new job. done(arg, FOLIO_JOB_UNSPECIFIED) when neither could be
 * established (database unreachable): answer an error, never SUCCEEDED.
 * done runs exactly once, on the loop thread; job_id and tenant are copied. */
typedef void (*srv_cache_verified_cb)(void *arg, enum folio_job_state state);
void srv_cache_verify(struct srv_backend *b, const char *tenant, const char *job_id,
                      srv_cache_verified_cb done, void *arg);

#endif
