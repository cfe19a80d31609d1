/* See cache.h. Why a hit is verified before the reply: the cache shares the
 * source job's S3 objects, and objects can vanish behind folio's back (a
 * bucket emptied by hand, a lifecycle rule). A SUCCEEDED reply naming dead
 * artifacts would be a lie the caller cannot detect until it downloads, so
 * the server HEADs every object of the hit (in parallel; ~1 ms on a local
 * RGW for a one-page job, bench/jobs prints the cost) and, when one is
 * missing, turns the job back into an ordinary QUEUED one - before the
 * SubmitLayout reply, so no caller has seen it SUCCEEDED - and deletes the
 * entry, so the next submission renders too. folio itself never deletes an
 * object a job refers to (folio_jobs_objects_referenced), so a miss here
 * means someone else did. */
#include "cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/layout.h"
#include "folio/pdf_profile.h"
#include "folio/log.h"

int srv_cache_key(const struct folio_job_submit *s, const struct folio_layout_limits *lim,
                  const size_t *pages, size_t npages, uint8_t out[FOLIO_RENDER_CACHE_KEY_LEN]) {
  if (s->layout_len > FOLIO_RENDER_CACHE_LAYOUT_MAX) return -1; /* not cached */
  char *canon = NULL;
  size_t clen = 0;
  if (folio_layout_canonical((const char *)s->layout, s->layout_len, lim->max_depth, &canon,
                             &clen) != 0)
    return -1;
  struct folio_render_cache_request r = {
      .layout_canonical = canon,
      .layout_canonical_len = clen,
      .formats = s->formats,
      .nformats = s->nformats,
      .png_dpi = s->png_dpi,
      .pages = pages,
      .npages = npages,
      .png_include_bleed = s->png_include_bleed,
      .fail_on_warnings = s->fail_on_warnings,
      .require_clean_preflight = s->require_clean_preflight,
  };
  /* the submit check accepted the profile fields, so this succeeds */
  folio_pdf_profiles_set(s->pdf_profile, s->additional_pdf_profiles, s->n_additional_pdf_profiles,
                         &r.pdf_profiles, NULL, 0, NULL, 0);
  folio_render_cache_key(&r, out);
  free(canon);
  return 0;
}

struct verify {
  struct srv_backend *b;
  char tenant[FOLIO_JOBS_TENANT_MAX + 1];
  char job_id[FOLIO_UUID_STR_LEN + 1];
  srv_cache_verified_cb done;
  void *arg;
  size_t pending;
  bool missing;   /* some object answered 404 */
  bool unknown;   /* some HEAD failed otherwise */
};

static void verify_end(struct verify *v, enum folio_job_state st) {
  v->done(v->arg, st);
  free(v);
}

static void on_unhit(int status, const struct folio_pg_diag *d, void *arg) {
  struct verify *v = arg;
  struct folio_logline l;
  folio_log_begin(&l, status ? FOLIO_LOG_ERROR : FOLIO_LOG_WARN,
                  status ? "render cache: a hit could not be verified nor undone"
                         : "render cache: a hit's objects are missing; rendering it");
  folio_log_str(&l, "job_id", v->job_id);
  if (status) folio_log_str(&l, "error", d ? d->msg : folio_jobs_strerror(status));
  folio_log_end(&l);
  verify_end(v, status ? FOLIO_JOB_UNSPECIFIED : FOLIO_JOB_QUEUED);
}

static void verify_decided(struct verify *v) {
  if (!v->missing && !v->unknown) {
    verify_end(v, FOLIO_JOB_SUCCEEDED);
    return;
  }
  const char *why = v->missing
                        ? "CACHE_OBJECTS_MISSING: an artifact of the cached job is no longer in "
                          "the bucket; the cache entry is dropped and the job rendered"
                        : "CACHE_UNVERIFIED: the cached artifacts could not be checked in the "
                          "bucket; the job is rendered";
  int rc = folio_jobs_cache_unhit_async(srv_backend_pick_db(v->b), v->job_id, v->missing, why,
                                        on_unhit, v);
  if (rc) on_unhit(rc, NULL, v);
}

static void on_head(void *arg, const struct folio_s3_result *r) {
  struct verify *v = arg;
  if (r->status == FOLIO_S3_EHTTP && r->http_status == 404) v->missing = true;
  else if (r->status != 0) v->unknown = true;
  if (--v->pending == 0) verify_decided(v);
}

static void on_status(int rc, const struct folio_job_status *st, const struct folio_pg_diag *d,
                      void *arg) {
  struct verify *v = arg;
  (void)d;
  if (rc != 0 || st->nartifacts == 0) {
    v->unknown = true;
    verify_decided(v);
    return;
  }
  /* one reference held by this loop turn, so a synchronous callback cannot
   * finish v before every HEAD is sent */
  v->pending = 1;
  for (size_t i = 0; i < st->nartifacts; i++) {
    v->pending++;
    if (folio_s3_head(v->b->s3, st->artifacts[i].object_key, on_head, v) != 0) {
      v->pending--;
      v->unknown = true;
    }
  }
  if (--v->pending == 0) verify_decided(v);
}

struct status_ctx {
  struct verify *v;
  struct folio_arena *arena;
};

static void on_status_owned(int rc, const struct folio_job_status *st,
                            const struct folio_pg_diag *d, void *arg) {
  struct status_ctx c = *(struct status_ctx *)arg;
  free(arg);
  on_status(rc, st, d, c.v); /* the HEADs copy their keys when sent */
  folio_arena_destroy(c.arena);
}

void srv_cache_verify(struct srv_backend *b, const char *tenant, const char *job_id,
                      srv_cache_verified_cb done, void *arg) {
  struct verify *v = calloc(1, sizeof *v);
  if (!v) {
    done(arg, FOLIO_JOB_UNSPECIFIED);
    return;
  }
  *v = (struct verify){.b = b, .done = done, .arg = arg};
  snprintf(v->tenant, sizeof v->tenant, "%s", tenant);
  snprintf(v->job_id, sizeof v->job_id, "%s", job_id);
  if (!b->s3) { /* no bucket configured: nothing to check against */
    verify_end(v, FOLIO_JOB_SUCCEEDED);
    return;
  }
  struct status_ctx *c = malloc(sizeof *c);
  struct folio_arena *arena = c ? folio_arena_create(0) : NULL;
  if (!arena) {
    free(c);
    v->unknown = true;
    verify_decided(v);
    return;
  }
  *c = (struct status_ctx){v, arena};
  int rc = folio_jobs_get_status_async(srv_backend_pick_db(b), v->tenant, v->job_id, arena,
                                       on_status_owned, c);
  if (rc) {
    free(c);
    folio_arena_destroy(arena);
    v->unknown = true;
    verify_decided(v);
  }
}
