/* The render process's decisions (rules.h): pure, no threads, no I/O. */
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "folio/layout.h"
#include "folio/render.h"

static void echo_remove(struct worker_echoes *q, int i) {
  memmove(q->msg[i], q->msg[i + 1], sizeof q->msg[0] * (size_t)(q->n - 1 - i));
  memmove(&q->len[i], &q->len[i + 1], sizeof q->len[0] * (size_t)(q->n - 1 - i));
  q->n--;
}

void worker_echo_expect(struct worker_echoes *q, const char *msg, size_t len) {
  if (len > sizeof q->msg[0]) return; /* never ours: folio_jobs_event_format bounds it */
  if (q->n == WORKER_ECHOES_MAX) echo_remove(q, 0);
  memcpy(q->msg[q->n], msg, len);
  q->len[q->n++] = len;
}

void worker_echo_forget(struct worker_echoes *q, const char *msg, size_t len) {
  for (int i = q->n - 1; i >= 0; i--) {
    if (q->len[i] == len && memcmp(q->msg[i], msg, len) == 0) {
      echo_remove(q, i);
      return;
    }
  }
}

bool worker_echo_is_ours(struct worker_echoes *q, const char *msg, size_t len) {
  if (!msg) {
    q->n = 0; /* (re)subscribed: echoes may have been lost */
    return false;
  }
  if (q->n > 0 && len == q->len[0] && memcmp(msg, q->msg[0], len) == 0) {
    echo_remove(q, 0);
    return true;
  }
  return false;
}

bool worker_render_error_kind(int rc, struct worker_error_kind *out) {
  static const struct {
    int rc;
    bool transient;
    const char *code;
  } kinds[] = {
      {FOLIO_RENDER_E_WRITE, true, "STORE_UNAVAILABLE"},
      {FOLIO_RENDER_E_NOMEM, true, "OUT_OF_MEMORY"},
      {FOLIO_RENDER_E_OVERFLOW, false, "TEXT_OVERFLOW"},
      {FOLIO_RENDER_E_IMAGE, false, "INVALID_IMAGE"},
      {FOLIO_RENDER_E_ARG, false, "INVALID_ARGUMENT"},
  };
  if (rc == FOLIO_RENDER_E_CANCELLED) return false;
  *out = (struct worker_error_kind){false, "RENDER_FAILED"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kinds[i].rc == rc) *out = (struct worker_error_kind){kinds[i].transient, kinds[i].code};
  return true;
}

void worker_decode_error_kind(int rc, struct worker_error_kind *out) {
  *out = rc == FOLIO_LAYOUT_EINVAL ? (struct worker_error_kind){false, "INVALID_LAYOUT"}
                  : (struct worker_error_kind){true, "OUT_OF_MEMORY"};
}

bool worker_failure_note(struct worker_failure *f, bool transient, const char *code,
                         const char *fmt, ...) {
  if (f->set) return false;
  f->set = true;
  f->transient = transient;
  snprintf(f->code, sizeof f->code, "%s", code);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->msg, sizeof f->msg, fmt, ap);
  va_end(ap);
  return true;
}

enum worker_outcome worker_outcome(enum worker_stop stop, const struct worker_failure *f,
                                   bool all_written) {
  bool failed = f->set;
  if (stop == WORKER_STOP_SHUTDOWN && ((!failed && all_written) || (failed && !f->transient)))
    stop = WORKER_STOP_NONE;
  switch (stop) {
  case WORKER_STOP_NONE:
    return failed ? WORKER_FAIL : WORKER_SUCCEED;
  case WORKER_STOP_LOST:
    return WORKER_LEAVE;
  case WORKER_STOP_CANCEL:
    return WORKER_CANCEL;
  case WORKER_STOP_SHUTDOWN:
  default:
    return WORKER_RELEASE;
  }
}

bool worker_findings_verdict(const struct folio_findings *findings, bool fail_on_warnings,
                             bool require_clean_preflight, struct worker_failure *f) {
  const struct folio_finding *e = NULL;
  const char *code = NULL, *why = NULL;
  if (require_clean_preflight &&
      (e = folio_findings_first(findings, FOLIO_FINDING_WARNING, 1u << FOLIO_FINDING_PREFLIGHT))) {
    code = "PREFLIGHT_FAILED";
    why = "require_clean_preflight: the output preflight reported";
  } else if (fail_on_warnings && (e = folio_findings_first(findings, FOLIO_FINDING_WARNING, 0))) {
    code = "FINDINGS";
    why = "fail_on_warnings: the render reported";
  }
  if (!e) return false;
  char where[FOLIO_FINDING_POINTER_MAX + 40];
  if (e->page && e->pointer[0]) snprintf(where, sizeof where, " on page %u at %s", e->page, e->pointer);
  else if (e->page) snprintf(where, sizeof where, " on page %u", e->page);
  else if (e->pointer[0]) snprintf(where, sizeof where, " at %s", e->pointer);
  else where[0] = 0;
  return worker_failure_note(f, false, code, "%s %s %s%s: %s (every finding is in Job.findings)", why,
                             folio_finding_severity_name(e->severity), e->code, where, e->message);
}
