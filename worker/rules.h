/* The render process's decisions, as pure functions (no threads, no I/O), so
 * that tests/unit/worker can hold them to their rules:
 *  - which messages on a job's channel are the echoes of our own events;
 *  - how a render error ends an attempt (transient or permanent, and its code);
 *  - what a stopped or SIGTERM'd attempt records (succeed, fail, cancel,
 *    hand back, or leave alone).
 * The callers (heartbeat.c, job.c) own the locking: an echo queue is
 * guarded by its job's hb_mu. */
#ifndef FOLIO_WORKER_RULES_H
#define FOLIO_WORKER_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "folio/findings.h"
#include "folio/jobs.h"

/* ---- echoes --------------------------------------------------------------------
 * Our own publications come back in the order we sent them (one publishing
 * connection, one channel), interleaved with others' messages: a message
 * equal to the oldest unseen one of ours is its echo. If another publisher's
 * identical message arrives first, it is taken for the echo, and our real
 * echo, arriving next, no longer matches and pokes: a foreign message always
 * pokes, at worst one echo later. */
#define WORKER_ECHOES_MAX 8

struct worker_echoes {
  char msg[WORKER_ECHOES_MAX][FOLIO_JOBS_EVENT_MAX];
  size_t len[WORKER_ECHOES_MAX];
  int n; /* oldest first */
};

/* Notes msg (len <= FOLIO_JOBS_EVENT_MAX) as published by us, before it is
 * sent: it may come back before PUBLISH's reply. A full queue forgets its
 * oldest entry (that echo will poke once: harmless). */
void worker_echo_expect(struct worker_echoes *q, const char *msg, size_t len);
/* Forgets the newest entry equal to msg (its PUBLISH failed: no echo comes). */
void worker_echo_forget(struct worker_echoes *q, const char *msg, size_t len);
/* A message arrived on the channel: true when it is the echo of the oldest
 * one of ours (consumed). msg NULL means (re)subscribed: echoes may have
 * been lost, the queue is emptied, and the answer is false. A false answer
 * means "poke the heartbeat". */
bool worker_echo_is_ours(struct worker_echoes *q, const char *msg, size_t len);

/* ---- render errors ---------------------------------------------------------------- */

struct worker_error_kind {
  bool transient; /* retried (QUEUED again while attempts remain) */
  const char *code; /* static: "STORE_UNAVAILABLE", "TEXT_OVERFLOW", ... */
};
/* How a FOLIO_RENDER_E_* code ends an attempt. Returns false for
 * FOLIO_RENDER_E_CANCELLED: the render stopped because we asked, the job's
 * stop reason decides (worker_outcome). E_WRITE: an upload failed
 * (STORE_UNAVAILABLE, transient); E_NOMEM: transient; the layout's own
 * faults (overflow, image, argument) are permanent; anything else is
 * RENDER_FAILED, permanent (it would fail the same way again). */
bool worker_render_error_kind(int rc, struct worker_error_kind *out);
/* How a folio_layout_decode result ends an attempt: FOLIO_LAYOUT_EINVAL is
 * INVALID_LAYOUT, permanent; anything else (out of memory) transient. */
void worker_decode_error_kind(int rc, struct worker_error_kind *out);

/* The first failure of an attempt is the one reported: later ones (an
 * upload aborted because the render failed...) are consequences. */
struct worker_failure {
  bool set;
  bool transient;
  char code[40];
  char msg[1024];
};
/* Records the failure unless one is recorded already; returns whether it
 * was recorded. */
bool worker_failure_note(struct worker_failure *f, bool transient, const char *code,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- the outcome of an attempt ------------------------------------------------------ */

/* Why the render was asked to stop (set by the heartbeat or the progress
 * hook; the first reason wins, except that a lost claim overrides). */
enum worker_stop { WORKER_STOP_NONE = 0, WORKER_STOP_CANCEL, WORKER_STOP_LOST, WORKER_STOP_SHUTDOWN };

enum worker_outcome {
  WORKER_SUCCEED, /* record SUCCEEDED + artifacts, ack */
  WORKER_FAIL,    /* record the failure (retry or FAILED), ack when final */
  WORKER_CANCEL,  /* delete artifacts, confirm the cancel, ack */
  WORKER_RELEASE, /* delete artifacts, hand back (does not count), re-deliver now */
  WORKER_LEAVE,   /* the claim is lost: touch nothing */
};

/* The outcome of an attempt that ended with stop reason `stop`, failure f
 * (f->set false: no failure) and every wanted format written (all_written).
 * SIGTERM's grace period may run out after the render already ended: a
 * render that wrote every format is recorded as done, and a permanent
 * failure as failed — handing either back would delete finished artifacts
 * and render the job again elsewhere (or fail it again there). Only an
 * unfinished render or a transient failure is handed back. */
enum worker_outcome worker_outcome(enum worker_stop stop, const struct worker_failure *f,
                                   bool all_written);

/* ---- findings that fail a job ------------------------------------------------------- */

/* The verdict on a rendered job's findings (folio/findings.h) under its
 * options (RenderOptions.require_clean_preflight, .fail_on_warnings): with
 * require_clean_preflight, the first finding of severity WARNING or ERROR
 * from the output preflight fails it as PREFLIGHT_FAILED; else, with
 * fail_on_warnings, the first such finding of any stage fails it as
 * FINDINGS. The failure is permanent (the same document gives the same
 * findings) and its message names that finding: code, severity, page,
 * pointer and message. Notes it in f (worker_failure_note: the first
 * failure wins) and returns true, or returns false when the job passes. */
bool worker_findings_verdict(const struct folio_findings *findings, bool fail_on_warnings,
                             bool require_clean_preflight, struct worker_failure *f);

#endif
