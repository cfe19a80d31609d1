/* Pieces the job and artifact RPCs share: looking a job up on the loop (one
 * GetStatus query), request checks, and turning a job row into a
 * folio.v1.Job with freshly signed URLs. */
#ifndef FOLIO_SERVER_JOBVIEW_H
#define FOLIO_SERVER_JOBVIEW_H

#include <time.h>

#include "backend.h"
#include "folio/arena.h"
#include "layout_service.h"

#define FOLIO_URL_TTL_DEFAULT 900
#define FOLIO_URL_TTL_MAX 604800

struct srv_job_lookup;
/* Runs on the loop thread, exactly once per start/again. rc 0: st is the job
 * (borrowed for the call); its strings live in arena. arena is the
 * callback's: it owns it and frees it with folio_arena_destroy (or keeps it)
 * — it never belongs to lk, which lives in the call's arena and is gone once
 * the call is finished, so finishing the call first and destroying arena
 * after is always safe. arena may be NULL when rc != 0. */
typedef void (*srv_job_lookup_cb)(struct srv_job_lookup *lk, struct folio_arena *arena, int rc,
                                    const struct folio_job_status *st,
                                    const struct folio_pg_diag *diag);

struct srv_job_lookup {
  struct srv_backend *b;
  struct cgrpc_call *call;
  const char *tenant; /* borrowed from the call's arena */
  const char *job_id;
  srv_job_lookup_cb cb;
  void *arg;
};

/* Posts the lookup to the loop; lk must live until cb ran (allocate it in the
 * call's arena). cb runs exactly once, with a fresh arena. Any thread. */
void srv_job_lookup_start(struct srv_job_lookup *lk);
/* Looks the same job up again (loop thread); cb runs exactly once more, with
 * another fresh arena. */
void srv_job_lookup_again(struct srv_job_lookup *lk);

/* n zeroed bytes in the call's arena for a handler's context; NULL after
 * finishing the call with RESOURCE_EXHAUSTED when out of memory. */
void *srv_call_ctx(struct cgrpc_call *call, size_t n);

/* INVALID_ARGUMENT (BadRequest on `field`) unless id is a canonical UUID;
 * returns false after finishing the call. */
bool srv_check_job_id(struct cgrpc_call *call, const char *rpc, const char *id);
/* ttl 0 -> default; 1..604800 ok; else INVALID_ARGUMENT on field. */
bool srv_check_ttl(struct cgrpc_call *call, const char *rpc, const char *field, uint32_t ttl,
                     long *out);

/* Builds the Job message in arena (signed URLs with ttl_s when S3 is
 * configured). NULL when out of memory. */
Folio__V1__Job *srv_job_view(struct srv_backend *b, struct folio_arena *arena,
                               const struct folio_job_status *st, long ttl_s);
/* A presigned GET URL for one artifact into arena; expires receives its end. */
char *srv_artifact_sign(struct srv_backend *b, struct folio_arena *arena,
                          const struct folio_job_artifact *a, long ttl_s, time_t *expires,
                          char *err, size_t errcap);
/* The artifact called name, or NULL. */
const struct folio_job_artifact *srv_artifact_find(const struct folio_job_status *st,
                                                     const char *name);

#endif
