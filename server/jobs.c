/* The job RPCs: SubmitLayout, GetStatus, CancelJob, WatchJob.
 *
 * Every handler runs on a CQ thread and only does cheap checks there; then:
 *   auth (cache or work pool) -> [SubmitLayout: decode on the work pool] ->
 *   the loop thread (non-blocking PostgreSQL / Redis) -> reply from the loop.
 * Each RPC's context lives in the call's arena, except WatchJob's, which a
 * Redis subscription may outlive (malloc'd; freed on the loop when both the
 * call is finished and the subscription has ended). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cache.h"
#include "folio/clock.h"
#include "folio/layout.h"
#include "folio/pagerange.h"
#include "jobview.h"
#include "rpcstatus.h"

/* ---- SubmitLayout ------------------------------------------------------------ */

struct submit {
  struct srv_backend *b;
  struct cgrpc_call *call;
  const Folio__V1__SubmitLayoutRequest *req;
  struct folio_job_submit s;
  struct folio_job_submitted out;
  bool admitted; /* holds a folio_quota admission (layout bytes in flight) */
  uint8_t cache_key[FOLIO_RENDER_CACHE_KEY_LEN]; /* s.cache_key points here when set */
};

/* Ends the submit's admission: its layout bytes are no longer in flight.
 * Idempotent; every path that finishes an admitted submit calls it. */
static void submit_release(struct submit *x) {
  if (!x->admitted) return;
  x->admitted = false;
  folio_quota_release(x->b->quota, x->s.tenant, x->s.layout_len);
}

/* RESOURCE_EXHAUSTED for a tenant limit: QuotaFailure (subject
 * "tenant:<name>", as google.rpc's "project:<id>") + RetryInfo. */
static void submit_over_limit(struct submit *x, const char *limit, double value,
                              int64_t retry_ms, const char *detail) {
  char desc[400], msg[512], subject[160];
  snprintf(desc, sizeof desc, "%s=%.15g: %s", limit, value, detail);
  snprintf(msg, sizeof msg, "SubmitLayout: tenant limit %s", desc);
  snprintf(subject, sizeof subject, "tenant:%s", x->s.tenant);
  srv_rpc_quota_failure(x->call, msg, subject, desc, retry_ms);
}

/* The retry hint at max_unfinished_jobs: jobs take seconds to finish. */
#define SUBMIT_UNFINISHED_RETRY_MS 2000

/* The request as lib/jobs' submission: formats and labels as given (in wire
 * order, so violations name the caller's own indexes), in the call's arena.
 * false when out of memory. */
static bool build_submit(struct submit *x) {
  const Folio__V1__SubmitLayoutRequest *r = x->req;
  int *formats = cgrpc_call_alloc(x->call, (r->n_formats + 1) * sizeof *formats);
  struct folio_job_label *labels = cgrpc_call_alloc(x->call, (r->n_labels + 1) * sizeof *labels);
  if (!formats || !labels) return false;
  for (size_t i = 0; i < r->n_formats; i++) formats[i] = (int)r->formats[i];
  for (size_t i = 0; i < r->n_labels; i++)
    labels[i] = (struct folio_job_label){r->labels[i]->key, r->labels[i]->value};
  const Folio__V1__RenderOptions *o = r->options;
  x->s.layout = r->layout_json.data;
  x->s.layout_len = r->layout_json.len;
  x->s.formats = formats;
  x->s.nformats = r->n_formats;
  x->s.png_dpi = o ? (int)o->png_dpi : 0;
  x->s.page_range = o && o->page_range && *o->page_range ? o->page_range : NULL;
  x->s.fail_on_warnings = o && o->fail_on_warnings;
  x->s.require_clean_preflight = o && o->require_clean_preflight;
  x->s.png_include_bleed = o && o->png_include_bleed;
  x->s.pdf_profile = o ? (int)o->pdf_profile : 0;
  if (o && o->n_additional_pdf_profiles) {
    int *extra = cgrpc_call_alloc(x->call, o->n_additional_pdf_profiles * sizeof *extra);
    if (!extra) return false;
    for (size_t i = 0; i < o->n_additional_pdf_profiles; i++) extra[i] = (int)o->additional_pdf_profiles[i];
    x->s.additional_pdf_profiles = extra;
    x->s.n_additional_pdf_profiles = o->n_additional_pdf_profiles;
  }
  x->s.idempotency_key = r->idempotency_key;
  x->s.labels = labels;
  x->s.nlabels = r->n_labels;
  x->s.cache_policy = o ? (int)o->cache : FOLIO_CACHE_USE;
  return true;
}

/* Answers INVALID_ARGUMENT with every violation lib/jobs found, in its order,
 * both in the BadRequest and in the message. */
static void submit_refuse(struct cgrpc_call *call, const struct folio_job_violation *jv, size_t n) {
  struct srv_rpc_violation *v = cgrpc_call_alloc(call, n * sizeof *v);
  if (!v) {
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "SubmitLayout: out of memory");
    return;
  }
  char msg[512];
  size_t len = (size_t)snprintf(msg, sizeof msg, "SubmitLayout: invalid request:");
  for (size_t i = 0; i < n; i++) {
    v[i] = (struct srv_rpc_violation){jv[i].field, jv[i].description};
    if (len < sizeof msg)
      len += (size_t)snprintf(msg + len, sizeof msg - len, "%s %s %s", i ? ";" : "", v[i].field,
                              v[i].description);
  }
  srv_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, v, n);
}

static void submit_reply(void *arg) {
  struct submit *x = arg;
  Folio__V1__SubmitLayoutResponse resp = FOLIO__V1__SUBMIT_LAYOUT_RESPONSE__INIT;
  resp.job_id = x->out.job_id;
  resp.state = (Folio__V1__JobState)x->out.state;
  resp.deduplicated = x->out.deduplicated;
  folio__v1__layout_service__submit_layout__reply(x->call, &resp);
}

/* A render cache hit, verified (cache.h): answer SUCCEEDED, or dispatch it
 * as a new job when its objects were gone. */
static void on_hit_verified(void *arg, enum folio_job_state st) {
  struct submit *x = arg;
  if (st == FOLIO_JOB_UNSPECIFIED) {
    srv_rpc_fail(x->call, FOLIO_RPC_DB, FOLIO_PG_ECONNECT, 0,
                 "SubmitLayout: the job could not be recorded",
                 "a cached result could not be verified");
    return;
  }
  x->out.state = st;
  x->out.from_cache = st == FOLIO_JOB_SUCCEEDED;
  if (st == FOLIO_JOB_SUCCEEDED) submit_reply(x);
  else srv_backend_dispatch(x->b, x->out.job_id, submit_reply, x);
}

static void on_submitted(int rc, const struct folio_job_submitted *out,
                         const struct folio_pg_diag *d, void *arg) {
  struct submit *x = arg;
  submit_release(x);
  if (rc == FOLIO_JOBS_EQUOTA) {
    struct folio_tenant_limits lim;
    folio_quota_limits(x->b->quota, x->s.tenant, &lim);
    submit_over_limit(x, "max_unfinished_jobs", (double)lim.max_unfinished_jobs,
                      SUBMIT_UNFINISHED_RETRY_MS, d ? d->msg : "too many unfinished jobs");
    return;
  }
  if (rc != 0) {
    srv_rpc_fail(x->call, FOLIO_RPC_DB, rc, 0, "SubmitLayout: the job could not be recorded",
                   d ? d->msg : NULL);
    return;
  }
  x->out = *out;
  /* Committed. A duplicate was dispatched when it was first accepted; a
   * render cache hit needs no render, once its objects are verified. */
  if (out->from_cache) srv_cache_verify(x->b, x->s.tenant, out->job_id, on_hit_verified, x);
  else if (out->deduplicated) submit_reply(x);
  else srv_backend_dispatch(x->b, out->job_id, submit_reply, x);
}

static void submit_on_loop(struct folio_loop *loop, void *arg) {
  struct submit *x = arg;
  int rc = folio_jobs_submit_async(srv_backend_pick_db(x->b), &x->s, on_submitted, x);
  if (rc != 0) {
    submit_release(x);
    srv_rpc_fail(x->call, FOLIO_RPC_DB, rc, 0, "SubmitLayout: the job could not be recorded",
                   rc == FOLIO_PG_ECONNECT ? "the database is not reachable"
                                           : folio_jobs_strerror(rc));
  }
}

/* The layout's stored form (folio/layout_store.h), in the call's arena:
 * compressed here, on the decode pool, so that neither the loop thread nor
 * PostgreSQL (pglz) spends its time on it. false when out of memory. */
static bool submit_pack(struct submit *x) {
  size_t cap = folio_jobs_layout_pack_bound(x->s.layout_len);
  uint8_t *buf = cgrpc_call_alloc(x->call, cap);
  return buf && folio_jobs_layout_pack(x->s.layout, x->s.layout_len, 0, buf, cap, &x->s.stored,
                                       NULL) == 0;
}

static void decode_task(void *arg) {
  struct submit *x = arg;
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  /* the server's layout limits with the tenant's lower overrides
   * (layout_max_*, learned with the API-key check; folio/tenant.h) */
  struct folio_tenant_limits tl;
  folio_quota_limits(x->b->quota, x->s.tenant, &tl);
  struct folio_layout_limits lim;
  uint32_t lowered = folio_tenant_layout_limits(&tl, &x->b->layout_limits, &lim);
  int rc = folio_layout_decode((const char *)x->s.layout, x->s.layout_len, &lim, &doc, &diag);
  if (rc != 0) submit_release(x);
  if (rc == FOLIO_LAYOUT_ENOMEM) {
    cgrpc_call_finish(x->call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                      "SubmitLayout: out of memory decoding the layout");
    return;
  }
  if (rc != 0) {
    char *joined = folio_layout_diag_join(&diag);
    /* a refusal under the tenant's own limits names them and their values */
    char note[320] = "";
    size_t nl = 0;
    for (size_t i = 0; diag.too_large && i < folio_tenant_nlimits && nl < sizeof note - 80; i++)
      if (lowered & (1u << i))
        nl += (size_t)snprintf(note + nl, sizeof note - nl, "%s%s=%.15g", nl ? ", " : " (this tenant's limits: ",
                               folio_tenant_limit_defs[i].name, folio_tenant_limit_get(&tl, i));
    if (nl) snprintf(note + nl, sizeof note - nl, ")");
    char *msg = cgrpc_call_alloc(x->call, 64 + sizeof note + (joined ? strlen(joined) : 0));
    if (msg)
      sprintf(msg, "SubmitLayout: %s layout_json: %s%s",
              diag.too_large ? "too large" : "invalid", joined ? joined : "?", note);
    free(joined);
    size_t n = diag.count;
    struct srv_rpc_violation *v = cgrpc_call_alloc(x->call, (n + 1) * sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
      const char *p = diag.errors[i].pointer ? diag.errors[i].pointer : "";
      char *field = cgrpc_call_alloc(x->call, strlen(p) + 16);
      if (field) sprintf(field, "layout_json%s", p);
      v[i] = (struct srv_rpc_violation){field ? field : "layout_json", diag.errors[i].message};
    }
    srv_rpc_bad_request(x->call,
                          diag.too_large ? GRPC_STATUS_RESOURCE_EXHAUSTED
                                         : GRPC_STATUS_INVALID_ARGUMENT,
                          msg ? msg : "SubmitLayout: invalid layout_json", v, v ? n : 0);
    folio_layout_diag_clear(&diag);
    return;
  }
  size_t pages = doc->n_pages;
  folio_layout_doc_free(doc);
  /* The grammar was checked at submit; only now is the page count known. */
  size_t *sel = NULL, nsel;
  char why[FOLIO_PAGES_WHY_MAX];
  int prc = folio_layout_pages_parse(x->s.page_range, pages, &sel, &nsel, why, sizeof why);
  /* the render cache's key, from the layout as decoded and the pages as
   * selected; without it (out of memory) the job just renders */
  if (prc == 0 && x->s.cache_policy != FOLIO_CACHE_OFF &&
      srv_cache_key(&x->s, &lim, sel, nsel, x->cache_key) == 0)
    x->s.cache_key = x->cache_key;
  free(sel);
  if (prc != 0) submit_release(x);
  if (prc == FOLIO_PAGES_ENOMEM) {
    cgrpc_call_finish(x->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "SubmitLayout: out of memory");
    return;
  }
  if (prc != 0) {
    char msg[192];
    snprintf(msg, sizeof msg, "SubmitLayout: options.page_range: %s", why);
    struct srv_rpc_violation v = {"options.page_range", why};
    srv_rpc_bad_request(x->call, GRPC_STATUS_INVALID_ARGUMENT, msg, &v, 1);
    return;
  }
  if (!submit_pack(x) || folio_loop_post(x->b->loop, submit_on_loop, x) != 0) {
    submit_release(x);
    cgrpc_call_finish(x->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "SubmitLayout: out of memory");
  }
}

static void submit_authed(struct cgrpc_call *call, const char *tenant, void *arg) {
  struct submit *x = arg;
  x->s.tenant = tenant;
  struct folio_arena *a = folio_arena_create(0);
  struct folio_job_violation *v;
  size_t n;
  if (!build_submit(x) || !a || folio_jobs_submit_check(&x->s, a, &v, &n) != 0) {
    folio_arena_destroy(a);
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "SubmitLayout: out of memory");
    return;
  }
  if (n) {
    submit_refuse(call, v, n);
    folio_arena_destroy(a);
    return;
  }
  folio_arena_destroy(a);
  /* Tenant limits of this server: submit rate and layout bytes in flight
   * (folio/tenant.h); the unfinished-jobs quota is checked at commit. */
  struct folio_quota_refusal why;
  if (folio_quota_admit(x->b->quota, tenant, x->s.layout_len, folio_clock_mono_ns(), &why) != 0) {
    submit_over_limit(x, why.limit, why.value, why.retry_after_ms,
                      strcmp(why.limit, "submit_rate") == 0
                          ? "too many SubmitLayout calls per second on this server"
                          : "too many layout bytes being decoded at once on this server");
    return;
  }
  x->admitted = true;
  struct folio_tenant_limits lim;
  folio_quota_limits(x->b->quota, tenant, &lim);
  int share = folio_tenant_decode_share(&lim, srv_workpool_threads(x->b->pool));
  int rc = srv_workpool_submit_owned(x->b->pool, tenant, share, decode_task, x);
  if (rc != 0) {
    submit_release(x);
    srv_rpc_fail(call, FOLIO_RPC_POOL, rc, 0, "SubmitLayout: every layout decoder is busy",
                   NULL);
  }
}

static void submit_layout(struct cgrpc_call *call, const Folio__V1__SubmitLayoutRequest *req,
                          void *impl) {
  struct srv_backend *b = impl;
  if (!srv_backend_require(b, call, "SubmitLayout", false)) return;
  struct submit *x = srv_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct submit){.b = b, .call = call, .req = req};
  srv_auth_call(b, call, "SubmitLayout", submit_authed, x);
}

/* ---- GetStatus ------------------------------------------------------------------- */

struct status_rpc {
  struct srv_job_lookup lk;
  long ttl;
};

/* a is ours (st points into it): reply, then free it; lk is not touched
 * after the call is finished. */
static void status_done(struct srv_job_lookup *lk, struct folio_arena *a, int rc,
                        const struct folio_job_status *st, const struct folio_pg_diag *d) {
  struct status_rpc *x = lk->arg;
  if (rc != 0) {
    bool missing = rc == FOLIO_JOBS_ENOTFOUND;
    srv_rpc_fail(lk->call, FOLIO_RPC_DB, rc, 0, missing ? "GetStatus: no such job" : "GetStatus",
                   missing ? lk->job_id : d ? d->msg : NULL);
  } else {
    Folio__V1__Job *j = srv_job_view(lk->b, a, st, x->ttl);
    if (j) folio__v1__layout_service__get_status__reply(lk->call, j);
    else cgrpc_call_finish(lk->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  folio_arena_destroy(a);
}

static void status_authed(struct cgrpc_call *call, const char *tenant, void *arg) {
  struct status_rpc *x = arg;
  x->lk.tenant = tenant;
  srv_job_lookup_start(&x->lk);
}

static void get_status(struct cgrpc_call *call, const Folio__V1__GetStatusRequest *req,
                       void *impl) {
  struct srv_backend *b = impl;
  if (!srv_backend_require(b, call, "GetStatus", false)) return;
  long ttl;
  if (!srv_check_job_id(call, "GetStatus", req->job_id) ||
      !srv_check_ttl(call, "GetStatus", "url_ttl_seconds", req->url_ttl_seconds, &ttl))
    return;
  struct status_rpc *x = srv_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct status_rpc){.lk = {.b = b, .call = call, .job_id = req->job_id, .cb = status_done},
                           .ttl = ttl};
  x->lk.arg = x;
  srv_auth_call(b, call, "GetStatus", status_authed, x);
}

/* ---- CancelJob ----------------------------------------------------------------------- */

static void on_canceled(int rc, enum folio_job_state state, const struct folio_pg_diag *d,
                        void *arg) {
  struct status_rpc *x = arg;
  struct srv_job_lookup *lk = &x->lk;
  if (rc != 0) {
    char what[128];
    snprintf(what, sizeof what, "CancelJob: %s",
             rc == FOLIO_JOBS_ENOTFOUND       ? "no such job"
             : rc == FOLIO_JOBS_EPRECONDITION ? "the job has already finished"
                                              : "cannot cancel");
    srv_rpc_fail(lk->call, FOLIO_RPC_DB, rc, 0, what,
                   rc == FOLIO_JOBS_ENOTFOUND ? lk->job_id : d ? d->msg : NULL);
    return;
  }
  /* Watchers and the worker rendering it (RUNNING + cancel requested) learn now. */
  srv_backend_publish(lk->b, lk->job_id, state, -1);
  lk->cb = status_done;
  srv_job_lookup_again(lk);
}

static void cancel_on_loop(struct folio_loop *loop, void *arg) {
  struct status_rpc *x = arg;
  int rc = folio_jobs_cancel_async(srv_backend_pick_db(x->lk.b), x->lk.tenant, x->lk.job_id,
                                   on_canceled, x);
  if (rc != 0) on_canceled(rc, FOLIO_JOB_UNSPECIFIED, NULL, x);
}

static void cancel_authed(struct cgrpc_call *call, const char *tenant, void *arg) {
  struct status_rpc *x = arg;
  x->lk.tenant = tenant;
  if (folio_loop_post(x->lk.b->loop, cancel_on_loop, x) != 0)
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

static void cancel_job(struct cgrpc_call *call, const Folio__V1__CancelJobRequest *req,
                       void *impl) {
  struct srv_backend *b = impl;
  if (!srv_backend_require(b, call, "CancelJob", false)) return;
  if (!srv_check_job_id(call, "CancelJob", req->job_id)) return;
  struct status_rpc *x = srv_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct status_rpc){.lk = {.b = b, .call = call, .job_id = req->job_id},
                           .ttl = FOLIO_URL_TTL_DEFAULT};
  x->lk.arg = x;
  srv_auth_call(b, call, "CancelJob", cancel_authed, x);
}

/* ---- WatchJob ------------------------------------------------------------------------------
 * Loop-thread state machine. Sends the current state, then re-reads the job
 * on every Pub/Sub event (and every WATCH_POLL_MS as a safety net, or when
 * there is no Redis) and sends it when state or progress changed. One write
 * in flight; a change seen meanwhile is sent after it. Ends after writing a
 * terminal state, on a failed write (client gone), or when the call is
 * cancelled (checked on every tick). */

#define WATCH_POLL_MS 1000
#define WATCH_SAFETY_MS 10000

struct watch {
  struct srv_job_lookup lk;
  struct folio_redis_sub *sub; /* NULL once ended (or never) */
  bool sub_live;
  struct folio_loop_timer timer;
  bool reading, reread, writing, finished, terminal_sent;
  int last_state, last_progress;
  int64_t last_poll_ns;
  char channel[FOLIO_JOBS_CHANNEL_MAX];
};

static void watch_maybe_free(struct watch *w) {
  if (w->finished && !w->sub_live && !w->reading && !w->writing) {
    folio_loop_timer_stop(w->lk.b->loop, &w->timer);
    free(w);
  }
}

static void watch_end(struct watch *w, grpc_status_code code, const char *msg, int rc) {
  if (!w->finished) {
    w->finished = true;
    folio_loop_timer_stop(w->lk.b->loop, &w->timer);
    if (rc) srv_rpc_fail(w->lk.call, FOLIO_RPC_DB, rc, 0, "WatchJob", msg);
    else cgrpc_call_finish(w->lk.call, code, msg);
    if (w->sub) {
      /* The subscription's last callback frees w (now or later). */
      struct folio_redis_sub *s = w->sub;
      w->sub = NULL;
      folio_redis_unsubscribe(w->lk.b->sub, s);
      return;
    }
  }
  watch_maybe_free(w);
}

static void watch_read(struct watch *w);

static void watch_written_on_loop(struct folio_loop *loop, void *arg) {
  struct watch *w = arg;
  w->writing = false;
  if (w->finished) {
    watch_maybe_free(w);
  } else if (w->terminal_sent) {
    watch_end(w, GRPC_STATUS_OK, NULL, 0);
  } else if (w->reread) {
    watch_read(w);
  }
}

/* The write failed: the call went away (CQ thread -> loop). */
static void watch_write_failed(struct folio_loop *loop, void *arg) {
  struct watch *w = arg;
  w->writing = false;
  watch_end(w, GRPC_STATUS_CANCELLED, "the client went away", 0);
}
static void on_watch_written(struct cgrpc_call *call, bool ok, void *arg) {
  folio_loop_post(((struct watch *)arg)->lk.b->loop, ok ? watch_written_on_loop : watch_write_failed,
                  arg);
}

/* An event (or a confirmation) arrived while a read was in flight: that read
 * may have run before the change it announces, so read once more. Without
 * this the change waited for the next safety poll. Only with nothing in
 * flight; a read that fails at once does not come back here with reread set. */
static void watch_reread_pending(struct watch *w) {
  if (w->reread && !w->finished && !w->reading && !w->writing) watch_read(w);
}

/* a (the read's arena, st's strings) is ours: the Job message is built in it
 * and packed by __send before it returns, so a goes at the end of each read. */
static void watch_got_read(struct watch *w, struct folio_arena *a, int rc,
                           const struct folio_job_status *st, const struct folio_pg_diag *d);
static void watch_got(struct srv_job_lookup *lk, struct folio_arena *a, int rc,
                      const struct folio_job_status *st, const struct folio_pg_diag *d) {
  watch_got_read(lk->arg, a, rc, st, d);
  folio_arena_destroy(a);
}

static void watch_got_read(struct watch *w, struct folio_arena *a, int rc,
                           const struct folio_job_status *st, const struct folio_pg_diag *d) {
  struct srv_job_lookup *lk = &w->lk;
  w->reading = false;
  if (w->finished) {
    watch_maybe_free(w);
    return;
  }
  if (rc == FOLIO_JOBS_ENOTFOUND) {
    watch_end(w, GRPC_STATUS_NOT_FOUND, "WatchJob: no such job", 0);
    return;
  }
  if (rc != 0) {
    /* A database outage during a watch: keep the stream, retry on the next
     * tick, unless nothing was sent yet (then tell the caller now). */
    if (w->last_state < 0) watch_end(w, GRPC_STATUS_OK, d ? d->msg : NULL, rc);
    else watch_reread_pending(w);
    return;
  }
  if ((int)st->state == w->last_state && st->progress_percent == w->last_progress) {
    watch_reread_pending(w); /* this read may predate the event that asked again */
    return;
  }
  Folio__V1__Job *j = srv_job_view(lk->b, a, st, FOLIO_URL_TTL_DEFAULT);
  if (!j) {
    watch_reread_pending(w);
    return;
  }
  w->last_state = (int)st->state;
  w->last_progress = st->progress_percent;
  w->terminal_sent = folio_job_state_terminal(st->state);
  w->writing = true;
  if (folio__v1__layout_service__watch_job__send(lk->call, j, on_watch_written, w) != 0) {
    w->writing = false;
    watch_end(w, GRPC_STATUS_CANCELLED, "the client went away", 0);
  }
}

static void watch_read(struct watch *w) {
  if (w->finished) return;
  if (w->reading || w->writing) {
    w->reread = true;
    return;
  }
  w->reread = false;
  w->reading = true;
  w->last_poll_ns = folio_clock_mono_ns();
  w->lk.cb = watch_got;
  srv_job_lookup_again(&w->lk);
}

static void on_watch_event(struct folio_redis *r, int status, const char *channel,
                           const char *msg, size_t len, void *arg) {
  struct watch *w = arg;
  if (status != 0 && !msg) { /* the subscription's last callback */
    w->sub_live = false;
    w->sub = NULL;
    watch_maybe_free(w);
    return;
  }
  watch_read(w); /* an event, or the subscription (re)confirmed (msg NULL): re-read the truth */
}

static void on_watch_tick(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct watch *w = arg;
  if (cgrpc_call_is_cancelled(w->lk.call) && !w->writing) {
    watch_end(w, GRPC_STATUS_CANCELLED, "cancelled", 0);
    return;
  }
  int64_t every = (w->sub_live ? WATCH_SAFETY_MS : WATCH_POLL_MS) * 1000000LL;
  if (folio_clock_mono_ns() - w->last_poll_ns >= every) watch_read(w);
}

static void watch_on_loop(struct folio_loop *loop, void *arg) {
  struct watch *w = arg;
  struct srv_backend *b = w->lk.b;
  if (b->sub) {
    folio_jobs_channel(w->lk.job_id, w->channel);
    if (folio_redis_subscribe(b->sub, w->channel, on_watch_event, w, &w->sub) == 0)
      w->sub_live = true;
  }
  folio_loop_timer_start(loop, &w->timer, 250, 250, on_watch_tick, w);
  /* The current state now; and again when Redis confirms the subscription
   * (on_watch_event with msg NULL), because a change published between this
   * read and the confirmation reaches no subscriber. */
  watch_read(w);
}

/* Until authenticated, only this lives (in the call's arena). */
struct watch_req {
  struct srv_backend *b;
  const char *job_id;
};

static void watch_authed(struct cgrpc_call *call, const char *tenant, void *arg) {
  struct watch_req *r = arg;
  struct watch *w = calloc(1, sizeof *w);
  if (!w) {
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  w->lk = (struct srv_job_lookup){
      .b = r->b, .call = call, .tenant = tenant, .job_id = r->job_id, .arg = w};
  w->last_state = -1;
  w->last_progress = -1;
  folio_loop_timer_init(&w->timer);
  if (folio_loop_post(r->b->loop, watch_on_loop, w) != 0) {
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    free(w);
  }
}

static void watch_job(struct cgrpc_call *call, const Folio__V1__WatchJobRequest *req, void *impl) {
  struct srv_backend *b = impl;
  if (!srv_backend_require(b, call, "WatchJob", false)) return;
  if (!srv_check_job_id(call, "WatchJob", req->job_id)) return;
  struct watch_req *r = srv_call_ctx(call, sizeof *r);
  if (!r) return;
  *r = (struct watch_req){b, req->job_id};
  srv_auth_call(b, call, "WatchJob", watch_authed, r);
}

void srv_jobs_handlers(struct folio__v1__layout_service__handlers *h) {
  h->submit_layout = submit_layout;
  h->get_status = get_status;
  h->watch_job = watch_job;
  h->cancel_job = cancel_job;
}
