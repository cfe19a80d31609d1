/* Job state names and the error vocabulary of lib/jobs: readable text. (Their
 * gRPC status codes are folio-server's, in server/rpcstatus.c.) Pure. */
#include <string.h>

#include "folio/pg_async.h"
#include "jobs_int.h"

static const char *const state_names[] = {NULL, "QUEUED", "RUNNING", "SUCCEEDED", "FAILED",
                                          "CANCELED"};

const char *folio_job_state_name(enum folio_job_state s) {
  return (s > 0 && s <= FOLIO_JOB_CANCELED) ? state_names[s] : NULL;
}

enum folio_job_state folio_job_state_parse(const char *name) {
  for (int i = 1; name && i <= FOLIO_JOB_CANCELED; i++)
    if (strcmp(name, state_names[i]) == 0) return (enum folio_job_state)i;
  return FOLIO_JOB_UNSPECIFIED;
}

bool folio_job_state_terminal(enum folio_job_state s) {
  return s == FOLIO_JOB_SUCCEEDED || s == FOLIO_JOB_FAILED || s == FOLIO_JOB_CANCELED;
}

const char *folio_jobs_strerror(int code) {
  switch (code) {
    case FOLIO_JOBS_ENOTFOUND: return "job not found";
    case FOLIO_JOBS_EPRECONDITION: return "job is not in a state that allows this";
    case FOLIO_JOBS_EFENCED: return "claim is no longer current";
    case FOLIO_JOBS_EINVAL: return "invalid argument";
    case FOLIO_JOBS_EAUTH: return "invalid API key";
    case FOLIO_JOBS_EQUOTA: return "a tenant limit is reached";
    case FOLIO_JOBS_ESTORED: return "the stored layout cannot be read";
    default: return folio_pg_strerror(code);
  }
}
