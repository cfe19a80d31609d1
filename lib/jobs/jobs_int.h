/* lib/jobs internals: statement indexes into folio_jobs_stmts. */
#ifndef FOLIO_JOBS_INT_H
#define FOLIO_JOBS_INT_H

#include "folio/jobs.h"

enum folio_jobs_stmt_id {
  S_SUBMIT,
  S_SUBMIT_LOOKUP,
  S_STATUS,
  S_CANCEL,
  S_CLAIM,
  S_HEARTBEAT,
  S_SUCCEED,
  S_FAIL,
  S_CANCEL_CONFIRM,
  S_MARK_DISPATCHED,
  S_TAKE_UNDISPATCHED,
  S_REAP,
  S_APIKEY_INSERT,
  S_APIKEY_LOOKUP,
  S_APIKEY_REVOKE,
  S_COUNT
};

/* Formats into diag (NULL allowed). */
void folio_jobs_diag(struct folio_pg_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
