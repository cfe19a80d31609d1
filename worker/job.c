/* One job in a render process: claim, decode, render every format into its
 * sinks, record the outcome, then ack or leave the entry. Main thread only:
 * the renderer runs every callback (write, page_begin/end, progress) on the
 * thread that called it (folio/render.h), its PNG threads only rasterize.
 * The decisions themselves (error kinds, the outcome) are rules.c's.
 *
 * Delivery. An entry is acknowledged only once the job's outcome is recorded
 * in PostgreSQL (succeeded, failed for good, canceled) or when the claim says
 * the job is finished. An entry whose job is RUNNING elsewhere, or whose
 * attempt failed transiently, stays pending: XAUTOCLAIM (here, after the
 * visibility timeout) re-delivers it. After a transient failure the entry's
 * idle time is set with XCLAIM ... IDLE so that it is re-delivered after the
 * retry backoff (exponential, jittered, capped by the visibility timeout). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folio/arena.h"
#include "folio/clock.h"
#include "folio/layout.h"
#include "folio/pagerange.h"
#include "folio/pdf.h"
#include "folio/pdf_job.h"
#include "folio/render.h"
#include "folio/render_cache.h"

#include "budget.h"
#include "render_int.h"

/* ---- one job ---------------------------------------------------------------- */

static int on_progress(void *ctx, size_t done, size_t total) {
  struct job *j = ctx;
  size_t inner = total ? done * 100 / total : 100;
  int pr = (int)((j->fi * 100 + inner) / (j->nf ? j->nf : 1));
  if (pr > 99) pr = 99; /* 100 is SUCCEEDED's */
  atomic_store(&j->progress, pr);
  if (worker_grace_over()) {
    int none = WORKER_STOP_NONE;
    atomic_compare_exchange_strong(&j->stop, &none, WORKER_STOP_SHUTDOWN);
  }
  return atomic_load(&j->stop) != WORKER_STOP_NONE;
}

static struct sink *add_sink(struct job *j) {
  if (j->nsinks == j->capsinks) {
    size_t cap = j->capsinks ? j->capsinks * 2 : 8;
    struct sink **n = realloc(j->sinks, cap * sizeof *n);
    if (!n) return NULL;
    j->sinks = n;
    j->capsinks = cap;
  }
  struct sink *k = malloc(sizeof *k);
  if (k) j->sinks[j->nsinks++] = k;
  return k;
}

/* Drops the newest sink, whose upload never began. */
static void drop_last_sink(struct job *j) { free(j->sinks[--j->nsinks]); }

/* Renders one whole-document format into one artifact. */
typedef int (*doc_renderer)(const struct folio_layout_doc *, const struct folio_render_options *,
                            folio_render_write_fn, void *, struct folio_render_diag *);

static void note_sink_error(struct job *j, struct sink *k) {
  if (k->status) worker_failure_note(&j->fail, true, "STORE_UNAVAILABLE", "%s", k->err);
}

/* Finished uploads whose S3 answer is awaited while rendering goes on, at
 * most: each holds its part buffer (the artifact's bytes) until the answer,
 * so a 1000-page PNG job holds at most this many pages besides the one being
 * written. */
#define PENDING_UPLOADS_MAX 2

/* Waits for the oldest pending uploads until at most `keep` are pending.
 * -1 when one of them failed (its error noted). */
static int wait_pending(struct job *j, size_t keep) {
  size_t pending = 0;
  for (size_t i = 0; i < j->nsinks; i++)
    if (j->sinks[i]->closed && !j->sinks[i]->waited) pending++;
  int rc = 0;
  int64_t w0 = folio_clock_mono_ns();
  for (size_t i = 0; i < j->nsinks && pending > keep; i++) {
    struct sink *k = j->sinks[i];
    if (!k->closed || k->waited) continue;
    if (worker_sink_wait(k)) {
      note_sink_error(j, k);
      rc = -1;
    }
    pending--;
  }
  j->upload_wait_ns += folio_clock_mono_ns() - w0;
  return rc;
}

/* How a render error ends the attempt (worker_render_error_kind). E_WRITE:
 * an upload failed (its own error was noted first); E_CANCELLED: j->stop
 * says why. */
static void note_render_error(struct job *j, int rc, const struct folio_render_diag *rd) {
  if (rc == FOLIO_RENDER_E_CANCELLED) return;
  { /* a budget's refusal is permanent and names the limit (budget.h) */
    bool ceiling;
    const struct worker_budget *b = worker_budget_get(&ceiling);
    if (j->budget) b = j->budget; /* the tenant's values, as the job ran with them */
    char bcode[40], bmsg[sizeof j->fail.msg];
    if (b && worker_budget_error(b, ceiling, rc, rd, bcode, sizeof bcode, bmsg, sizeof bmsg)) {
      worker_failure_note(&j->fail, false, bcode, "%s", bmsg);
      return;
    }
  }
  struct worker_error_kind k;
  if (worker_render_error_kind(rc, &k))
    worker_failure_note(&j->fail, k.transient, k.code, "%s",
                        rd->message[0] ? rd->message : folio_render_strerror(rc));
}

static int render_doc(struct job *j, const struct folio_layout_doc *doc,
                      const struct folio_render_options *opt, doc_renderer fn, const char *name,
                      int format, const char *ctype) {
  struct sink *k = add_sink(j);
  if (!k) {
    worker_failure_note(&j->fail, true, "OUT_OF_MEMORY", "no memory for an artifact");
    return -1;
  }
  if (worker_sink_begin(k, j->rp, j->cl.tenant_id, j->id, name, format, 0, ctype)) {
    note_sink_error(j, k);
    drop_last_sink(j);
    return -1;
  }
  struct folio_render_diag rd = {0};
  int rc = fn(doc, opt, worker_sink_write, k, &rd);
  if (rc) {
    worker_sink_abort(k);
    if (rc == FOLIO_RENDER_E_WRITE) note_sink_error(j, k); /* else: our own abort */
    note_render_error(j, rc, &rd);
    return -1;
  }
  worker_sink_close(k); /* S3's answer is awaited while the next format renders */
  return wait_pending(j, PENDING_UPLOADS_MAX);
}

/* ---- the PDF with a profile: cairo to a file, lib/pdf into the sink ----------- */

struct tmp_file {
  FILE *f;
  int err; /* errno of the first failed write */
};

static int tmp_write(void *ctx, const unsigned char *data, size_t len) {
  struct tmp_file *t = ctx;
  if (fwrite(data, 1, len, t->f) != len) {
    t->err = errno ? errno : EIO;
    return 1;
  }
  return 0;
}

/* How a lib/pdf failure ends the attempt. A profile the document cannot meet
 * (PDF/UA without a title) or a worker whose ICC profile is missing or wrong
 * fails the job for good with a message naming why; memory and local disk
 * are transient. */
static void note_pdf_error(struct job *j, int rc, const struct folio_pdf_diag *pd) {
  switch (rc) {
  case FOLIO_PDF_E_ARG: worker_failure_note(&j->fail, false, "INVALID_ARGUMENT", "%s", pd->message); break;
  case FOLIO_PDF_E_ICC:
    worker_failure_note(&j->fail, false, "PDF_ICC_PROFILE", "the worker's ICC profile: %s", pd->message);
    break;
  case FOLIO_PDF_E_NOMEM: worker_failure_note(&j->fail, true, "OUT_OF_MEMORY", "%s", pd->message); break;
  case FOLIO_PDF_E_PDF: worker_failure_note(&j->fail, false, "PDF_PROFILE_FAILED", "%s", pd->message); break;
  default: worker_failure_note(&j->fail, true, "LOCAL_IO", "%s", pd->message); break;
  }
}

/* The PDF when lib/pdf has work (a profile, or print boxes) or a preflight
 * to run (check: a profile, or require_clean_preflight): cairo writes a
 * temporary file in $TMPDIR (default /tmp), folio_pdf_finish_stream_checked
 * reads it, finishes it into a temporary file of its own (or keeps cairo's
 * when there is nothing to add), preflights that and streams it into the
 * sink. Both are unlinked as soon as they are made and reached through
 * /proc/self/fd, so nothing is left behind on any path — a render process
 * killed at its timeout included. Files, not buffers: a 1,000-page document
 * is never held in memory. */
static int render_pdf_profiled(struct job *j, const struct folio_layout_doc *doc,
                               const struct folio_render_options *opt,
                               const struct folio_pdf_options *po, bool check) {
  const char *env = getenv("TMPDIR");
  const char *dir = env && *env ? env : "/tmp";
  char path[512];
  snprintf(path, sizeof path, "%s/folio-cairo-XXXXXX", dir);
  int fd = mkostemp(path, O_CLOEXEC);
  if (fd >= 0) unlink(path); /* from here on only the descriptor names it */
  int wfd = fd >= 0 ? dup(fd) : -1;
  struct tmp_file t = {.f = wfd >= 0 ? fdopen(wfd, "wb") : NULL};
  if (!t.f) {
    worker_failure_note(&j->fail, true, "LOCAL_IO", "temporary PDF in %s: %s", dir, strerror(errno));
    if (wfd >= 0) close(wfd);
    if (fd >= 0) close(fd);
    return -1;
  }
  struct folio_render_diag rd = {0};
  int rc = folio_render_pdf(doc, opt, tmp_write, &t, &rd);
  if (fclose(t.f) && !t.err) t.err = errno ? errno : EIO;
  if (rc || t.err) {
    if (t.err) worker_failure_note(&j->fail, true, "LOCAL_IO", "temporary PDF in %s: %s", dir, strerror(t.err));
    if (rc) note_render_error(j, rc, &rd);
    close(fd);
    return -1;
  }
  struct sink *k = add_sink(j);
  if (!k) {
    worker_failure_note(&j->fail, true, "OUT_OF_MEMORY", "no memory for an artifact");
    close(fd);
    return -1;
  }
  if (worker_sink_begin(k, j->rp, j->cl.tenant_id, j->id, "document.pdf", FOLIO_FORMAT_PDF, 0,
                        "application/pdf")) {
    note_sink_error(j, k);
    drop_last_sink(j);
    close(fd);
    return -1;
  }
  char in[64];
  snprintf(in, sizeof in, "/proc/self/fd/%d", fd);
  struct folio_pdf_diag pd = {0};
  /* the output preflight (folio/pdf_preflight.h) runs on the finished file
   * before its first byte is uploaded; its findings join the job's */
  rc = folio_pdf_finish_stream_checked(in, po, dir, po->profiles, check ? &j->findings : NULL,
                                       worker_sink_write, k, &pd);
  close(fd);
  if (rc) {
    worker_sink_abort(k);
    if (rc == FOLIO_PDF_E_WRITE && k->status) note_sink_error(j, k);
    else note_pdf_error(j, rc, &pd);
    return -1;
  }
  worker_sink_close(k); /* S3's answer is awaited while the next format renders */
  return wait_pending(j, PENDING_UPLOADS_MAX);
}

struct png_ctx {
  struct job *j;
  struct sink *cur;
};

static int png_begin(void *ctx, size_t page, folio_render_write_fn *write, void **wctx) {
  struct png_ctx *p = ctx;
  struct sink *k = add_sink(p->j);
  if (!k) return -1;
  char name[32];
  snprintf(name, sizeof name, "page-%04zu.png", page + 1);
  if (worker_sink_begin(k, p->j->rp, p->j->cl.tenant_id, p->j->id, name, FOLIO_FORMAT_PNG,
                 (uint32_t)(page + 1), "image/png")) {
    note_sink_error(p->j, k);
    drop_last_sink(p->j);
    return -1;
  }
  p->cur = k;
  *write = worker_sink_write;
  *wctx = k;
  return 0;
}

static int png_end(void *ctx, size_t page) {
  (void)page;
  struct png_ctx *p = ctx;
  struct sink *k = p->cur;
  p->cur = NULL;
  worker_sink_close(k); /* the next page renders while S3 stores this one */
  return wait_pending(p->j, PENDING_UPLOADS_MAX);
}

/* Deletes every object this attempt created or started (partial uploads were
 * aborted already) that no job refers to. The keys are this job's own, but
 * another attempt of the same job may have succeeded with them (this one
 * was reaped and kept going), and the render cache then shares them with
 * other jobs: an object some artifacts row names is never deleted
 * (worker_objects_deletable; when that cannot be asked, nothing is). */
static void remove_artifacts(struct job *j) {
  if (j->nsinks == 0) return;
  const char **keys = calloc(j->nsinks, sizeof *keys);
  bool *deletable = calloc(j->nsinks, sizeof *deletable);
  for (size_t i = 0; keys && i < j->nsinks; i++) keys[i] = j->sinks[i]->key;
  if (keys && deletable) worker_objects_deletable(j->rp, keys, j->nsinks, deletable);
  for (size_t i = 0; keys && deletable && i < j->nsinks; i++) {
    struct sink *k = j->sinks[i];
    if (!deletable[i]) {
      worker_log_job(FOLIO_LOG_INFO, "an object is in use by a job; not deleted", j->id,
                     j->cl.attempt, "key", k->key);
      continue;
    }
    int rc = worker_s3_delete(j->rp, k->key);
    if (rc)
      worker_log_job(FOLIO_LOG_WARN, "could not delete a partial artifact", j->id, j->cl.attempt, "key",
              k->key);
  }
  free(keys);
  free(deletable);
}

static void render_with(struct job *j, const struct worker_budget *budget) {
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag ld = {0};
  struct worker_job_budget jb;
  worker_budget_job_begin(&jb, budget);
  /* the stored form back to JSON, never more than the layout byte limit
   * (folio/layout_store.h); a row that cannot be read fails the job for good */
  const uint8_t *json;
  size_t json_len;
  struct folio_pg_diag sd = {0};
  int src = folio_jobs_layout_unpack(j->cl.layout, j->cl.layout_len, j->cl.layout_codec,
                                     jb.b->layout.max_bytes, j->arena, &json, &json_len, &sd);
  if (src) {
    bool oom = src == FOLIO_PG_ENOMEM;
    worker_failure_note(&j->fail, oom, oom ? "OUT_OF_MEMORY" : "LAYOUT_UNREADABLE", "%s", sd.msg);
    return;
  }
  int rc = folio_layout_decode((const char *)json, json_len, &jb.b->layout, &doc, &ld);
  if (rc) {
    char *why = rc == FOLIO_LAYOUT_EINVAL ? folio_layout_diag_join(&ld) : NULL;
    struct worker_error_kind k;
    worker_decode_error_kind(rc, &k);
    worker_failure_note(&j->fail, k.transient, k.code, "%s",
                        why ? why : rc == FOLIO_LAYOUT_EINVAL ? "invalid layout" : "out of memory decoding the layout");
    free(why);
    folio_layout_diag_clear(&ld);
    return;
  }
  struct folio_render_options opt = {.dpi = (unsigned)j->cl.png_dpi,
                                     .png_include_bleed = j->cl.png_include_bleed,
                                     .threads = (unsigned)j->rp->cfg->render_threads,
                                     .progress = on_progress,
                                     .progress_ctx = j,
                                     .context = j->rp->render_ctx};
  /* the job's budget (budget.h) and CancelJob's way in, checked between
   * layout steps, items, pages and image rows */
  struct folio_render_budget rbud;
  opt.budget = &rbud;
  opt.cancel = worker_cancel_flag;
  opt.cancel_ctx = &j->stop;
  size_t *pages = NULL;
  if (j->cl.page_range && *j->cl.page_range) {
    char why[FOLIO_PAGES_WHY_MAX];
    if (folio_layout_pages_parse(j->cl.page_range, doc->n_pages, &pages, &opt.n_pages, why,
                                 sizeof why)) {
      worker_failure_note(&j->fail, false, "INVALID_ARGUMENT", "page_range: %s", why);
      folio_layout_doc_free(doc);
      return;
    }
    opt.pages = pages;
  }
  bool want[4] = {false};
  for (size_t i = 0; i < j->cl.nformats; i++)
    if (j->cl.formats[i] >= 1 && j->cl.formats[i] <= 3) want[j->cl.formats[i]] = true;
  j->nf = (size_t)want[1] + want[2] + want[3];
  j->fi = 0;
  /* output order: the PDF, the PNG pages, the SLA (folio.v1.JobStatus).
   * The paint stage's findings come from the first painted format (PDF and
   * PNG paint the same pages and would report the same findings twice). */
  if (want[FOLIO_FORMAT_PDF]) {
    worker_budget_for_render(&jb, &rbud); /* what is left of the job's CPU */
    opt.findings = &j->findings;
    /* the ICC profiles and output condition from the environment
     * (docs/operations.md, "PDF profiles"); the document's own metadata */
    struct folio_pdf_options po;
    folio_pdf_options_from_env(&po);
    po.profiles = j->cl.pdf_profiles;
    /* title, author, meta.lang, the print boxes of the rendered pages, a
     * tagged render for PDF/UA and its structure attributes: as the CLI
     * (folio/pdf_job.h) */
    struct folio_pdf_job pj;
    if (folio_pdf_job_init(&pj, doc, NULL, &po, &opt)) {
      worker_failure_note(&j->fail, true, "OUT_OF_MEMORY", "no memory for the PDF's page boxes");
      goto out;
    }
    bool check = po.profiles || j->cl.require_clean_preflight;
    int prc = folio_pdf_needed(&po) || check
                  ? render_pdf_profiled(j, doc, &opt, &po, check)
                  : render_doc(j, doc, &opt, folio_render_pdf, "document.pdf", FOLIO_FORMAT_PDF,
                               "application/pdf");
    folio_pdf_job_fini(&pj);
    opt.pdf_tagged = false;
    opt.pdf_struct = NULL;
    opt.pdf_struct_ctx = NULL;
    if (prc) goto out;
    opt.findings = NULL;
    j->fi++;
  }
  if (want[FOLIO_FORMAT_PNG]) {
    struct png_ctx p = {.j = j};
    struct folio_render_diag rd = {0};
    worker_budget_for_render(&jb, &rbud);
    if (!want[FOLIO_FORMAT_PDF]) opt.findings = &j->findings;
    rc = folio_render_png(doc, &opt, png_begin, png_end, &p, &rd);
    opt.findings = NULL;
    if (rc) {
      if (p.cur) {
        worker_sink_abort(p.cur);
        if (rc == FOLIO_RENDER_E_WRITE) note_sink_error(j, p.cur);
      }
      note_render_error(j, rc, &rd);
      goto out;
    }
    j->fi++;
  }
  if (want[FOLIO_FORMAT_SLA]) {
    worker_budget_for_render(&jb, &rbud);
    if (render_doc(j, doc, &opt, folio_render_sla, "document.sla", FOLIO_FORMAT_SLA,
                   "application/vnd.scribus"))
      goto out;
    j->fi++;
  }
  /* Every format is written: the findings decide whether the job passes
   * (RenderOptions.fail_on_warnings, .require_clean_preflight). The output
   * preflight (lib/pdf) adds its findings before this verdict. A failed
   * verdict fails the job for good and finish_job removes its artifacts. */
  if (!j->fail.set && j->fi == j->nf)
    worker_findings_verdict(&j->findings, j->cl.fail_on_warnings, j->cl.require_clean_preflight, &j->fail);
out:
  free(pages);
  folio_layout_doc_free(doc);
}

/* Waits for S3's answer to every closed upload (rendering went on while S3
 * stored them): the outcome is recorded only once every artifact is stored,
 * and a failed upload fails the attempt (STORE_UNAVAILABLE, unless a failure
 * was noted first). */
static void wait_uploads(struct job *j) { wait_pending(j, 0); }

/* Decodes and renders with the job's copy of the budget: the process's with
 * its tenant's overrides (read with the claim; budget.h), applied before the
 * decode and every render call, and named by a budget failure. */
static void render_all(struct job *j) {
  struct worker_budget budget;
  worker_budget_for_tenant(worker_budget_get(NULL), j->cl.render_cpu_ms,
                                 j->cl.render_image_cache_bytes, &budget);
  j->budget = &budget;
  render_with(j, &budget);
  j->budget = NULL;
  wait_uploads(j);
}

static void tell_supervisor(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tell_supervisor(const char *fmt, ...) {
  char buf[FOLIO_WORKER_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0 && (size_t)n < sizeof buf) {
    ssize_t w;
    do w = write(FOLIO_WORKER_PIPE_FD, buf, (size_t)n);
    while (w < 0 && errno == EINTR);
  }
}

/* Records the outcome of a claimed attempt, then acks or leaves the entry. */
static void finish_job(struct job *j) {
  struct rp *rp = j->rp;
  struct folio_pg_diag d = {0};
  int rc;
  enum worker_outcome out = worker_outcome((enum worker_stop)atomic_load(&j->stop), &j->fail,
                                           j->nf > 0 && j->fi == j->nf);
  if (out == WORKER_SUCCEED) {
    struct folio_job_artifact *arts = calloc(j->nsinks ? j->nsinks : 1, sizeof *arts);
    for (size_t i = 0; arts && i < j->nsinks; i++) {
      struct sink *k = j->sinks[i];
      arts[i] = (struct folio_job_artifact){k->name, k->format, k->page, k->size, k->sha_hex,
                                            k->content_type, k->key};
    }
    int64_t c0 = folio_clock_mono_ns();
    rc = arts ? worker_db_connect(rp, &rp->db, "folio-worker") : FOLIO_PG_ENOMEM;
    /* with its findings, and its render cache entry when it has a key (same statement) */
    if (rc == 0)
      rc = folio_jobs_succeed_findings(rp->db, j->id, j->cl.attempt, arts, j->nsinks, &j->findings,
                                       worker_renderer_for_entry(rp), &d);
    free(arts);
    if (rc == 0) {
      int64_t c1 = folio_clock_mono_ns();
      struct folio_logline l;
      folio_log_begin(&l, FOLIO_LOG_INFO, "job succeeded");
      folio_log_int(&l, "pid", getpid());
      folio_log_str(&l, "job_id", j->id);
      folio_log_int(&l, "attempt", j->cl.attempt);
      /* where the attempt's time went, in ms: the claim (connect, claim
       * transaction), render with uploads (of it, waiting for S3 to answer
       * the uploads) and the SUCCEEDED transaction */
      folio_log_ms(&l, "ms_claim", j->t_claimed - j->t_start);
      folio_log_ms(&l, "ms_render", j->t_rendered - j->t_claimed);
      folio_log_ms(&l, "ms_upload_wait", j->upload_wait_ns);
      folio_log_ms(&l, "ms_commit", c1 - c0);
      folio_log_end(&l);
      worker_publish(rp, j->id, FOLIO_JOB_SUCCEEDED, 100);
      worker_ack(rp, j->entry, j->id);
      return;
    }
    if (rc == FOLIO_JOBS_EFENCED) {
      /* a cancel arrived, or the claim was lost: find out which */
      bool cancel = false;
      if (folio_jobs_heartbeat(rp->db, j->id, j->cl.attempt, -1, &cancel, &d) == 0 && cancel)
        out = WORKER_CANCEL;
      else
        out = WORKER_LEAVE;
    } else {
      worker_failure_note(&j->fail, true, "DATABASE_UNAVAILABLE", "recording the artifacts: %s",
                          d.msg);
      out = WORKER_FAIL;
    }
  }
  if (out == WORKER_LEAVE) {
    /* another attempt owns the job (and the same object keys): touch nothing */
    worker_log_job(FOLIO_LOG_WARN, "claim lost; leaving the job to its current attempt", j->id,
            j->cl.attempt, NULL, NULL);
    return;
  }
  remove_artifacts(j);
  rc = worker_db_connect(rp, &rp->db, "folio-worker");
  if (out == WORKER_CANCEL) {
    if (rc == 0) rc = folio_jobs_cancel_confirm(rp->db, j->id, j->cl.attempt, &d);
    if (rc == 0) {
      worker_log_job(FOLIO_LOG_INFO, "job canceled", j->id, j->cl.attempt, NULL, NULL);
      worker_publish(rp, j->id, FOLIO_JOB_CANCELED, atomic_load(&j->progress));
      worker_ack(rp, j->entry, j->id);
    } else {
      worker_log_job(FOLIO_LOG_WARN, "cancel not confirmed; the lease will expire", j->id, j->cl.attempt,
              "error", d.msg);
    }
    return;
  }
  enum folio_job_state st = FOLIO_JOB_UNSPECIFIED;
  if (out == WORKER_RELEASE) {
    /* handed back, not failed: the attempt does not count (folio_jobs_release) */
    if (rc == 0)
      rc = folio_jobs_release(rp->db, j->id, j->cl.attempt,
                              "WORKER_SHUTDOWN: the worker shut down before the attempt finished "
                              "(grace period over)",
                              &st, &d);
    if (rc) {
      worker_log_job(FOLIO_LOG_WARN, "hand-back not recorded; the heartbeat lease will expire", j->id,
              j->cl.attempt, "error", d.msg);
      return;
    }
    worker_log_job(FOLIO_LOG_INFO, "job handed back (shutdown)", j->id, j->cl.attempt, "state",
            folio_job_state_name(st));
    worker_publish(rp, j->id, st, atomic_load(&j->progress));
    if (st == FOLIO_JOB_QUEUED) worker_redeliver_after(rp, j->entry, 0); /* to another consumer now */
    else worker_ack(rp, j->entry, j->id);
    return;
  }
  /* with what was reported before the failure (all of it when the findings failed the job) */
  if (rc == 0)
    rc = folio_jobs_fail_findings(rp->db, j->id, j->cl.attempt, j->fail.transient, j->fail.code, j->fail.msg,
                                  &j->findings, &st, &d);
  if (rc) {
    worker_log_job(FOLIO_LOG_WARN, "failure not recorded; the heartbeat lease will expire", j->id,
            j->cl.attempt, "error", d.msg);
    return;
  }
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_WARN, "attempt failed");
  folio_log_str(&l, "job_id", j->id);
  folio_log_int(&l, "attempt", j->cl.attempt);
  folio_log_str(&l, "code", j->fail.code);
  folio_log_str(&l, "error", j->fail.msg);
  folio_log_str(&l, "state", folio_job_state_name(st));
  folio_log_end(&l);
  worker_publish(rp, j->id, st, atomic_load(&j->progress));
  if (st == FOLIO_JOB_QUEUED) {
    worker_redeliver_after(rp, j->entry,
                    worker_retry_ms(j->cl.attempt, 250, rp->cfg->visibility_timeout_ms));
  } else {
    worker_ack(rp, j->entry, j->id);
  }
}

void worker_run_job(struct rp *rp, const char *entry, const char *job_id) {
  struct folio_arena *arena = folio_arena_create(0);
  if (!arena) return;
  struct job j = {.rp = rp, .id = job_id, .entry = entry, .arena = arena, .t_start = folio_clock_mono_ns()};
  folio_findings_init(&j.findings, 0);
  pthread_mutex_init(&j.hb_mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* heartbeat_main's deadlines */
  pthread_cond_init(&j.hb_cv, &ca);
  pthread_condattr_destroy(&ca);
  /* before the claim, so a cancel of the running job cannot slip in between */
  struct job_sub sub = {0};
  if (folio_uuid_valid(job_id)) worker_job_subscribe(&sub, &j);
  struct folio_pg_diag d = {0};
  int rc = worker_db_connect(rp, &rp->db, "folio-worker");
  if (rc == 0) rc = folio_jobs_claim(rp->db, job_id, rp->consumer, arena, &j.cl, &d);
  if (rc == FOLIO_JOBS_ENOTFOUND || rc == FOLIO_JOBS_EINVAL) {
    worker_log_job(FOLIO_LOG_WARN, "dispatched job does not exist; dropping the entry", job_id, 0, "error",
            d.msg);
    worker_ack(rp, entry, job_id);
  } else if (rc == FOLIO_JOBS_EFENCED) {
    enum folio_job_state st = j.cl.state; /* as the claim found it */
    if (st == FOLIO_JOB_RUNNING) {
      /* its owner acks it; if the owner died, the lease expires, the job is
       * re-queued, and this entry comes back */
      worker_log_job(FOLIO_LOG_DEBUG, "duplicate delivery of a running job; left pending", job_id, 0,
              NULL, NULL);
    } else {
      worker_log_job(FOLIO_LOG_INFO, "duplicate delivery; skipped", job_id, 0, "state",
              folio_job_state_name(st));
      if (st != FOLIO_JOB_UNSPECIFIED) worker_ack(rp, entry, job_id);
    }
  } else if (rc) {
    rp->pg_failures++;
    worker_log_job(FOLIO_LOG_WARN, "claim failed; will retry", job_id, 0, "error", d.msg);
    usleep((useconds_t)worker_retry_ms(rp->pg_failures, 100, 5000) * 1000);
  } else {
    rp->pg_failures = 0;
    j.t_claimed = folio_clock_mono_ns();
    worker_log_job(FOLIO_LOG_INFO, "job claimed", job_id, j.cl.attempt, "tenant", j.cl.tenant);
    tell_supervisor("B %s %d\n", job_id, j.cl.attempt);
    worker_job_publish(&j, FOLIO_JOB_RUNNING, 0);
    bool hb = worker_spawn_quiet(&j.hb_thread, worker_heartbeat_main, &j) == 0;
    if (!hb) worker_failure_note(&j.fail, true, "OUT_OF_MEMORY", "could not start the heartbeat thread");
    else render_all(&j);
    j.t_rendered = folio_clock_mono_ns();
    if (hb) {
      pthread_mutex_lock(&j.hb_mu);
      j.hb_quit = true;
      pthread_cond_signal(&j.hb_cv);
      pthread_mutex_unlock(&j.hb_mu);
      pthread_join(j.hb_thread, NULL);
    }
    finish_job(&j);
    tell_supervisor("E\n");
    for (size_t i = 0; i < j.nsinks; i++) {
      worker_sync_fini(&j.sinks[i]->s);
      free(j.sinks[i]);
    }
    free(j.sinks);
  }
  worker_job_unsubscribe(&sub);
  folio_findings_fini(&j.findings);
  pthread_mutex_destroy(&j.hb_mu);
  pthread_cond_destroy(&j.hb_cv);
  folio_arena_destroy(arena);
}
