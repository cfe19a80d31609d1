/* See jobview.h. */
#include "jobview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpcstatus.h"

/* The lookup in flight: the arena travels with it until the callback, which
 * takes it. */
struct lookup_op {
  struct srv_job_lookup *lk;
  struct folio_arena *arena;
};

static void on_status(int rc, const struct folio_job_status *st, const struct folio_pg_diag *d,
                      void *arg) {
  struct lookup_op op = *(struct lookup_op *)arg;
  free(arg);
  op.lk->cb(op.lk, op.arena, rc, st, d); /* the callback owns op.arena now */
}

static void lookup_on_loop(struct folio_loop *loop, void *arg) {
  struct srv_job_lookup *lk = arg;
  struct folio_pg_diag d;
  memset(&d, 0, sizeof d);
  int rc = FOLIO_PG_ENOMEM;
  struct lookup_op *op = malloc(sizeof *op);
  struct folio_arena *arena = op ? folio_arena_create(0) : NULL;
  if (arena) {
    *op = (struct lookup_op){lk, arena};
    rc = folio_jobs_get_status_async(srv_backend_pick_db(lk->b), lk->tenant, lk->job_id, arena,
                                     on_status, op);
    if (rc == 0) return;
    snprintf(d.msg, sizeof d.msg, "%s", rc == FOLIO_PG_ECONNECT
                                            ? "the database is not reachable"
                                            : folio_jobs_strerror(rc));
  }
  free(op);
  lk->cb(lk, arena, rc, NULL, &d);
}

void srv_job_lookup_start(struct srv_job_lookup *lk) {
  if (folio_loop_post(lk->b->loop, lookup_on_loop, lk) != 0)
    srv_rpc_fail(lk->call, FOLIO_RPC_DB, FOLIO_PG_ENOMEM, 0, "cannot queue the lookup", NULL);
}

void srv_job_lookup_again(struct srv_job_lookup *lk) { lookup_on_loop(lk->b->loop, lk); }

void *srv_call_ctx(struct cgrpc_call *call, size_t n) {
  void *p = cgrpc_call_alloc(call, n);
  if (p) memset(p, 0, n);
  else cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  return p;
}

bool srv_check_job_id(struct cgrpc_call *call, const char *rpc, const char *id) {
  if (id && folio_uuid_valid(id)) return true;
  char msg[160];
  snprintf(msg, sizeof msg, "%s: job_id must be a job id (a UUID such as "
           "0190c3e2-7b7a-7c4e-8f00-0123456789ab)", rpc);
  struct srv_rpc_violation v = {"job_id", "must be a UUID in canonical text form"};
  srv_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, &v, 1);
  return false;
}

bool srv_check_ttl(struct cgrpc_call *call, const char *rpc, const char *field, uint32_t ttl,
                     long *out) {
  if (ttl <= FOLIO_URL_TTL_MAX) {
    *out = ttl ? (long)ttl : FOLIO_URL_TTL_DEFAULT;
    return true;
  }
  char msg[160], desc[96];
  snprintf(msg, sizeof msg, "%s: %s must be 1..%d seconds (0 = %d), got %u", rpc, field,
           FOLIO_URL_TTL_MAX, FOLIO_URL_TTL_DEFAULT, ttl);
  snprintf(desc, sizeof desc, "must be 1..%d seconds, got %u", FOLIO_URL_TTL_MAX, ttl);
  struct srv_rpc_violation v = {field, desc};
  srv_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, &v, 1);
  return false;
}

const struct folio_job_artifact *srv_artifact_find(const struct folio_job_status *st,
                                                     const char *name) {
  for (size_t i = 0; name && i < st->nartifacts; i++)
    if (strcmp(st->artifacts[i].name, name) == 0) return &st->artifacts[i];
  return NULL;
}

char *srv_artifact_sign(struct srv_backend *b, struct folio_arena *arena,
                          const struct folio_job_artifact *a, long ttl_s, time_t *expires,
                          char *err, size_t errcap) {
  /* The name is ours ("document.pdf", "page-0001.png"): no quotes to escape. */
  char disp[160];
  snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", a->name);
  time_t now = time(NULL);
  char *url = folio_s3_presign_get(&b->s3cfg, a->object_key, ttl_s, disp, now, err, errcap);
  if (!url) return NULL;
  char *copy = folio_arena_strdup(arena, url);
  free(url);
  *expires = now + ttl_s;
  return copy;
}

_Static_assert((int)FOLIO__V1__FINDING_SEVERITY__FINDING_SEVERITY_INFO == (int)FOLIO_FINDING_INFO &&
                   (int)FOLIO__V1__FINDING_SEVERITY__FINDING_SEVERITY_WARNING == (int)FOLIO_FINDING_WARNING &&
                   (int)FOLIO__V1__FINDING_SEVERITY__FINDING_SEVERITY_ERROR == (int)FOLIO_FINDING_ERROR,
               "folio/findings.h severities equal folio.v1.FindingSeverity");
_Static_assert((int)FOLIO__V1__FINDING_STAGE__FINDING_STAGE_DECODE == (int)FOLIO_FINDING_DECODE &&
                   (int)FOLIO__V1__FINDING_STAGE__FINDING_STAGE_TYPESET == (int)FOLIO_FINDING_TYPESET &&
                   (int)FOLIO__V1__FINDING_STAGE__FINDING_STAGE_PAINT == (int)FOLIO_FINDING_PAINT &&
                   (int)FOLIO__V1__FINDING_STAGE__FINDING_STAGE_PREFLIGHT == (int)FOLIO_FINDING_PREFLIGHT,
               "folio/findings.h stages equal folio.v1.FindingStage");

static Google__Protobuf__Timestamp *ts(struct folio_arena *a, int64_t us) {
  if (us == 0) return NULL;
  Google__Protobuf__Timestamp *t = folio_arena_alloc(a, sizeof *t);
  if (!t) return NULL;
  google__protobuf__timestamp__init(t);
  t->seconds = us / 1000000;
  t->nanos = (int32_t)(us % 1000000) * 1000;
  return t;
}

Folio__V1__Job *srv_job_view(struct srv_backend *b, struct folio_arena *a,
                               const struct folio_job_status *st, long ttl_s) {
  Folio__V1__Job *j = folio_arena_alloc(a, sizeof *j);
  if (!j) return NULL;
  folio__v1__job__init(j);
  j->job_id = folio_arena_strdup(a, st->job_id);
  j->state = (Folio__V1__JobState)st->state;
  j->progress_percent = st->progress_percent < 0 ? 0 : (uint32_t)st->progress_percent;
  j->attempts = st->attempts < 0 ? 0 : (uint32_t)st->attempts;
  if (st->error_code || st->error_message) {
    j->error = folio_arena_alloc(a, sizeof *j->error);
    if (!j->error) return NULL;
    folio__v1__job_error__init(j->error);
    j->error->code = srv_pb_str(st->error_code ? st->error_code : "");
    j->error->message = srv_pb_str(st->error_message ? st->error_message : "");
  }
  j->created_at = ts(a, st->created_at_us);
  j->started_at = ts(a, st->started_at_us);
  j->finished_at = ts(a, st->finished_at_us);
  j->from_cache = st->from_cache;
  j->n_formats = st->nformats;
  j->formats = folio_arena_calloc(a, st->nformats + 1, sizeof *j->formats);
  j->labels = folio_arena_calloc(a, st->nlabels + 1, sizeof *j->labels);
  j->artifacts = folio_arena_calloc(a, st->nartifacts + 1, sizeof *j->artifacts);
  if (!j->formats || !j->labels || !j->artifacts) return NULL;
  for (size_t i = 0; i < st->nformats; i++) j->formats[i] = (Folio__V1__Format)st->formats[i];
  for (size_t i = 0; i < st->nlabels; i++) {
    Folio__V1__Job__LabelsEntry *e = folio_arena_alloc(a, sizeof *e);
    if (!e) return NULL;
    folio__v1__job__labels_entry__init(e);
    e->key = srv_pb_str(st->labels[i].key);
    e->value = srv_pb_str(st->labels[i].value);
    j->labels[j->n_labels++] = e;
  }
  for (size_t i = 0; i < st->nartifacts; i++) {
    const struct folio_job_artifact *src = &st->artifacts[i];
    Folio__V1__Artifact *x = folio_arena_alloc(a, sizeof *x);
    if (!x) return NULL;
    folio__v1__artifact__init(x);
    x->name = srv_pb_str(src->name);
    x->format = (Folio__V1__Format)src->format;
    x->page = src->page;
    x->size_bytes = src->size_bytes;
    x->sha256_hex = srv_pb_str(src->sha256_hex ? src->sha256_hex : "");
    x->content_type = srv_pb_str(src->content_type ? src->content_type : "");
    if (b->s3 && src->object_key) {
      char err[160];
      time_t exp;
      char *url = srv_artifact_sign(b, a, src, ttl_s, &exp, err, sizeof err);
      if (url) {
        x->signed_url = url;
        x->url_expires_at = ts(a, (int64_t)exp * 1000000);
      }
    }
    j->artifacts[j->n_artifacts++] = x;
  }
  /* the findings recorded with the outcome; the enums' numbers equal the proto's */
  j->findings = folio_arena_calloc(a, st->nfindings + 1, sizeof *j->findings);
  if (!j->findings) return NULL;
  for (size_t i = 0; i < st->nfindings; i++) {
    const struct folio_finding *src = &st->findings[i];
    Folio__V1__Finding *x = folio_arena_alloc(a, sizeof *x);
    if (!x) return NULL;
    folio__v1__finding__init(x);
    x->code = srv_pb_str(src->code);
    x->severity = (Folio__V1__FindingSeverity)src->severity;
    x->stage = (Folio__V1__FindingStage)src->stage;
    x->page = src->page;
    x->pointer = srv_pb_str(src->pointer);
    x->message = srv_pb_str(src->message);
    j->findings[j->n_findings++] = x;
  }
  return j;
}
