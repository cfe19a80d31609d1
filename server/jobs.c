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
#include "folio/clock.h"
#include "folio/layout.h"
#include "jobview.h"
#include "rpcstatus.h"

/* ---- SubmitLayout ------------------------------------------------------------ */

struct submit {
  struct folio_backend *b;
  struct cgrpc_call *call;
  const Folio__V1__SubmitLayoutRequest *req;
  struct folio_job_submit s;
  int formats[3];
  unsigned max_page; /* highest page named by page_range; 0 = none */
  struct folio_job_submitted out;
};

#define MAX_VIOLATIONS 8

/* "1-3,5": items N or N-M, 1 <= N <= M. Returns the highest page, 0 if bad. */
static unsigned page_range_max(const char *s) {
  unsigned max = 0;
  const char *p = s;
  for (;;) {
    char *end;
    if (*p < '0' || *p > '9') return 0;
    unsigned long a = strtoul(p, &end, 10), z = a;
    p = end;
    if (*p == '-') {
      p++;
      if (*p < '0' || *p > '9') return 0;
      z = strtoul(p, &end, 10);
      p = end;
    }
    if (a < 1 || z < a || z > 1000000) return 0;
    if (z > max) max = (unsigned)z;
    if (*p == '\0') return max;
    if (*p != ',') return 0;
    p++;
  }
}

/* Field checks that need no decoding; fills v, returns the count. */
static size_t check_fields(struct submit *x, struct folio_rpc_violation *v, char (*buf)[128]) {
  const Folio__V1__SubmitLayoutRequest *r = x->req;
  size_t n = 0;
  if (r->layout_json.len == 0) v[n++] = (struct folio_rpc_violation){"layout_json", "is empty"};
  size_t nf = 0;
  for (size_t i = 0; i < r->n_formats && n < MAX_VIOLATIONS; i++) {
    int f = (int)r->formats[i];
    if (f < FOLIO_FORMAT_PDF || f > FOLIO_FORMAT_SLA) {
      snprintf(buf[n], 128, "formats[%zu]", i);
      v[n] = (struct folio_rpc_violation){buf[n], "must be FORMAT_PDF, FORMAT_PNG or FORMAT_SLA"};
      n++;
      continue;
    }
    bool dup = false;
    for (size_t k = 0; k < nf; k++) dup |= x->formats[k] == f;
    if (!dup && nf < 3) x->formats[nf++] = f;
  }
  x->s.formats = x->formats;
  x->s.nformats = nf;
  const Folio__V1__RenderOptions *o = r->options;
  if (o && o->png_dpi != 0 && (o->png_dpi < 36 || o->png_dpi > 1200) && n < MAX_VIOLATIONS)
    v[n++] = (struct folio_rpc_violation){"options.png_dpi", "must be 36..1200 (0 = 150)"};
  x->s.png_dpi = o ? (int)o->png_dpi : 0;
  if (o && o->page_range && *o->page_range) {
    x->max_page = page_range_max(o->page_range);
    if (!x->max_page && n < MAX_VIOLATIONS)
      v[n++] = (struct folio_rpc_violation){
          "options.page_range", "must be 1-based pages and ranges like \"1-3,5\""};
    x->s.page_range = o->page_range;
  }
  if (r->idempotency_key && strlen(r->idempotency_key) > 128 && n < MAX_VIOLATIONS)
    v[n++] = (struct folio_rpc_violation){"idempotency_key", "must be at most 128 bytes"};
  x->s.idempotency_key = r->idempotency_key;
  if (r->n_labels > 32 && n < MAX_VIOLATIONS)
    v[n++] = (struct folio_rpc_violation){"labels", "at most 32 labels"};
  struct folio_job_label *labels =
      cgrpc_call_alloc(x->call, (r->n_labels + 1) * sizeof *labels);
  for (size_t i = 0; labels && i < r->n_labels && n < MAX_VIOLATIONS; i++) {
    const char *k = r->labels[i]->key, *val = r->labels[i]->value;
    size_t kl = strlen(k);
    if (kl < 1 || kl > 63) {
      snprintf(buf[n], 128, "labels[%.63s]", k);
      v[n] = (struct folio_rpc_violation){buf[n], "label keys must be 1..63 bytes"};
      n++;
    } else if (strlen(val) > 256) {
      snprintf(buf[n], 128, "labels[%s]", k);
      v[n] = (struct folio_rpc_violation){buf[n], "label values must be at most 256 bytes"};
      n++;
    }
    labels[i] = (struct folio_job_label){k, val};
  }
  x->s.labels = labels;
  x->s.nlabels = labels ? r->n_labels : 0;
  x->s.layout = r->layout_json.data;
  x->s.layout_len = r->layout_json.len;
  return n;
}

static void submit_reply(void *arg) {
  struct submit *x = arg;
  Folio__V1__SubmitLayoutResponse resp = FOLIO__V1__SUBMIT_LAYOUT_RESPONSE__INIT;
  resp.job_id = x->out.job_id;
  resp.state = (Folio__V1__JobState)x->out.state;
  resp.deduplicated = x->out.deduplicated;
  folio__v1__layout_service__submit_layout__reply(x->call, &resp);
}

static void on_submitted(int rc, const struct folio_job_submitted *out,
                         const struct folio_pg_diag *d, void *arg) {
  struct submit *x = arg;
  if (rc != 0) {
    folio_rpc_fail(x->call, FOLIO_RPC_DB, rc, 0, "SubmitLayout: the job could not be recorded",
                   d ? d->msg : NULL);
    return;
  }
  x->out = *out;
  /* Committed. A duplicate was dispatched when it was first accepted. */
  if (out->deduplicated) submit_reply(x);
  else folio_backend_dispatch(x->b, out->job_id, submit_reply, x);
}

static void submit_on_loop(struct folio_loop *loop, void *arg) {
  struct submit *x = arg;
  int rc = folio_jobs_submit_async(folio_backend_pick_db(x->b), &x->s, on_submitted, x);
  if (rc != 0)
    folio_rpc_fail(x->call, FOLIO_RPC_DB, rc, 0, "SubmitLayout: the job could not be recorded",
                   rc == FOLIO_PG_ECONNECT ? "the database is not reachable"
                                           : folio_jobs_strerror(rc));
}

static void decode_task(void *arg) {
  struct submit *x = arg;
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag diag = {0};
  int rc = folio_layout_decode((const char *)x->s.layout, x->s.layout_len, NULL, &doc, &diag);
  if (rc == FOLIO_LAYOUT_ENOMEM) {
    cgrpc_call_finish(x->call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                      "SubmitLayout: out of memory decoding the layout");
    return;
  }
  if (rc != 0) {
    char *joined = folio_layout_diag_join(&diag);
    char *msg = cgrpc_call_alloc(x->call, 64 + (joined ? strlen(joined) : 0));
    if (msg)
      sprintf(msg, "SubmitLayout: %s layout_json: %s",
              diag.too_large ? "too large" : "invalid", joined ? joined : "?");
    free(joined);
    size_t n = diag.count;
    struct folio_rpc_violation *v = cgrpc_call_alloc(x->call, (n + 1) * sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
      const char *p = diag.errors[i].pointer ? diag.errors[i].pointer : "";
      char *field = cgrpc_call_alloc(x->call, strlen(p) + 16);
      if (field) sprintf(field, "layout_json%s", p);
      v[i] = (struct folio_rpc_violation){field ? field : "layout_json", diag.errors[i].message};
    }
    folio_rpc_bad_request(x->call,
                          diag.too_large ? GRPC_STATUS_RESOURCE_EXHAUSTED
                                         : GRPC_STATUS_INVALID_ARGUMENT,
                          msg ? msg : "SubmitLayout: invalid layout_json", v, v ? n : 0);
    folio_layout_diag_clear(&diag);
    return;
  }
  size_t pages = doc->n_pages;
  folio_layout_doc_free(doc);
  if (x->max_page > pages) {
    char msg[160], desc[96];
    snprintf(desc, sizeof desc, "names page %u but the document has %zu page%s", x->max_page,
             pages, pages == 1 ? "" : "s");
    snprintf(msg, sizeof msg, "SubmitLayout: options.page_range %s", desc);
    struct folio_rpc_violation v = {"options.page_range", desc};
    folio_rpc_bad_request(x->call, GRPC_STATUS_INVALID_ARGUMENT, msg, &v, 1);
    return;
  }
  if (folio_loop_post(x->b->loop, submit_on_loop, x) != 0)
    cgrpc_call_finish(x->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "SubmitLayout: out of memory");
}

static void submit_authed(struct cgrpc_call *call, const char *tenant, void *arg) {
  struct submit *x = arg;
  x->s.tenant = tenant;
  struct folio_rpc_violation v[MAX_VIOLATIONS];
  char buf[MAX_VIOLATIONS][128];
  size_t n = check_fields(x, v, buf);
  if (n) {
    char msg[512];
    size_t len = (size_t)snprintf(msg, sizeof msg, "SubmitLayout: invalid request:");
    for (size_t i = 0; i < n && len < sizeof msg; i++)
      len += (size_t)snprintf(msg + len, sizeof msg - len, "%s %s %s", i ? ";" : "", v[i].field,
                              v[i].description);
    folio_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, v, n);
    return;
  }
  struct folio_pg_diag d;
  memset(&d, 0, sizeof d);
  if (folio_jobs_submit_validate(&x->s, &d) != 0) {
    char msg[600];
    snprintf(msg, sizeof msg, "SubmitLayout: %s", d.msg);
    struct folio_rpc_violation one = {"request", d.msg};
    folio_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, &one, 1);
    return;
  }
  int rc = folio_workpool_submit(x->b->pool, decode_task, x);
  if (rc != 0)
    folio_rpc_fail(call, FOLIO_RPC_POOL, rc, 0, "SubmitLayout: every layout decoder is busy",
                   NULL);
}

static void submit_layout(struct cgrpc_call *call, const Folio__V1__SubmitLayoutRequest *req,
                          void *impl) {
  struct folio_backend *b = impl;
  if (!folio_backend_require(b, call, "SubmitLayout", false)) return;
  struct submit *x = folio_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct submit){.b = b, .call = call, .req = req};
  folio_auth_call(b, call, "SubmitLayout", submit_authed, x);
}

/* ---- GetStatus ------------------------------------------------------------------- */

struct status_rpc {
  struct folio_job_lookup lk;
  long ttl;
};

static void status_done(struct folio_job_lookup *lk, int rc, const struct folio_job_status *st,
                        const struct folio_pg_diag *d) {
  struct status_rpc *x = lk->arg;
  /* lk lives in the call's arena, gone once the call is finished: take the
   * lookup's arena (which st points into) first, free it after. */
  struct folio_arena *a = lk->arena;
  lk->arena = NULL;
  if (rc != 0) {
    bool missing = rc == FOLIO_JOBS_ENOTFOUND;
    folio_rpc_fail(lk->call, FOLIO_RPC_DB, rc, 0, missing ? "GetStatus: no such job" : "GetStatus",
                   missing ? lk->job_id : d ? d->msg : NULL);
  } else {
    Folio__V1__Job *j = folio_job_view(lk->b, a, st, x->ttl);
    if (j) folio__v1__layout_service__get_status__reply(lk->call, j);
    else cgrpc_call_finish(lk->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  folio_arena_destroy(a);
}

static void status_authed(struct cgrpc_call *call, const char *tenant, void *arg) {
  struct status_rpc *x = arg;
  x->lk.tenant = tenant;
  folio_job_lookup_start(&x->lk);
}

static void get_status(struct cgrpc_call *call, const Folio__V1__GetStatusRequest *req,
                       void *impl) {
  struct folio_backend *b = impl;
  if (!folio_backend_require(b, call, "GetStatus", false)) return;
  long ttl;
  if (!folio_check_job_id(call, "GetStatus", req->job_id) ||
      !folio_check_ttl(call, "GetStatus", "url_ttl_seconds", req->url_ttl_seconds, &ttl))
    return;
  struct status_rpc *x = folio_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct status_rpc){.lk = {.b = b, .call = call, .job_id = req->job_id, .cb = status_done},
                           .ttl = ttl};
  x->lk.arg = x;
  folio_auth_call(b, call, "GetStatus", status_authed, x);
}

/* ---- CancelJob ----------------------------------------------------------------------- */

static void on_canceled(int rc, enum folio_job_state state, const struct folio_pg_diag *d,
                        void *arg) {
  struct status_rpc *x = arg;
  struct folio_job_lookup *lk = &x->lk;
  if (rc != 0) {
    char what[128];
    snprintf(what, sizeof what, "CancelJob: %s",
             rc == FOLIO_JOBS_ENOTFOUND       ? "no such job"
             : rc == FOLIO_JOBS_EPRECONDITION ? "the job has already finished"
                                              : "cannot cancel");
    folio_rpc_fail(lk->call, FOLIO_RPC_DB, rc, 0, what,
                   rc == FOLIO_JOBS_ENOTFOUND ? lk->job_id : d ? d->msg : NULL);
    return;
  }
  /* Watchers and the worker rendering it (RUNNING + cancel requested) learn now. */
  folio_backend_publish(lk->b, lk->job_id, state, -1);
  lk->cb = status_done;
  folio_job_lookup_again(lk);
}

static void cancel_on_loop(struct folio_loop *loop, void *arg) {
  struct status_rpc *x = arg;
  int rc = folio_jobs_cancel_async(folio_backend_pick_db(x->lk.b), x->lk.tenant, x->lk.job_id,
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
  struct folio_backend *b = impl;
  if (!folio_backend_require(b, call, "CancelJob", false)) return;
  if (!folio_check_job_id(call, "CancelJob", req->job_id)) return;
  struct status_rpc *x = folio_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct status_rpc){.lk = {.b = b, .call = call, .job_id = req->job_id},
                           .ttl = FOLIO_URL_TTL_DEFAULT};
  x->lk.arg = x;
  folio_auth_call(b, call, "CancelJob", cancel_authed, x);
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
  struct folio_job_lookup lk;
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
    folio_job_lookup_free(&w->lk);
    free(w);
  }
}

static void watch_end(struct watch *w, grpc_status_code code, const char *msg, int rc) {
  if (!w->finished) {
    w->finished = true;
    folio_loop_timer_stop(w->lk.b->loop, &w->timer);
    if (rc) folio_rpc_fail(w->lk.call, FOLIO_RPC_DB, rc, 0, "WatchJob", msg);
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

static void watch_got(struct folio_job_lookup *lk, int rc, const struct folio_job_status *st,
                      const struct folio_pg_diag *d) {
  struct watch *w = lk->arg;
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
  Folio__V1__Job *j = folio_job_view(lk->b, lk->arena, st, FOLIO_URL_TTL_DEFAULT);
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
  folio_job_lookup_again(&w->lk);
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
  struct folio_backend *b = w->lk.b;
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
  struct folio_backend *b;
  const char *job_id;
};

static void watch_authed(struct cgrpc_call *call, const char *tenant, void *arg) {
  struct watch_req *r = arg;
  struct watch *w = calloc(1, sizeof *w);
  if (!w) {
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  w->lk = (struct folio_job_lookup){
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
  struct folio_backend *b = impl;
  if (!folio_backend_require(b, call, "WatchJob", false)) return;
  if (!folio_check_job_id(call, "WatchJob", req->job_id)) return;
  struct watch_req *r = folio_call_ctx(call, sizeof *r);
  if (!r) return;
  *r = (struct watch_req){b, req->job_id};
  folio_auth_call(b, call, "WatchJob", watch_authed, r);
}

void folio_jobs_handlers(struct folio__v1__layout_service__handlers *h) {
  h->submit_layout = submit_layout;
  h->get_status = get_status;
  h->watch_job = watch_job;
  h->cancel_job = cancel_job;
}
