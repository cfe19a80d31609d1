/* folio-worker: renders queued jobs. See docs/operations-worker.md for the
 * configuration and docs/internals/worker.md for how it works. */
#include <stdio.h>

#include "folio/log.h"
#include "folio/s3.h"
#include "worker_int.h"

/* Checks the store once before any render process starts: creates the bucket
 * if missing. S3 refusing the request (wrong secret → SignatureDoesNotMatch,
 * unknown key → InvalidAccessKeyId, no permission → AccessDenied: any 4xx) is
 * a configuration error no retry can fix, so the worker stops at once, naming
 * S3's code. A store that cannot be reached (connection refused, 5xx) is not:
 * the worker starts and its uploads retry until the store is back. Returns 0
 * to go on, FOLIO_WORKER_EXIT_FATAL to stop. */
static int check_store(const struct folio_s3_config *s3) {
  struct folio_s3_sync_result r;
  if (folio_s3_sync_ensure_bucket(s3, &r) == 0) return 0;
  char detail[512];
  /* S3's code (e.g. SignatureDoesNotMatch) and message; RGW sends no message */
  const char *what = *r.error_code ? r.error_code : folio_s3_strerror(r.status);
  snprintf(detail, sizeof detail, "bucket \"%s\" at %s: %s%s%s (HTTP %ld)", s3->bucket,
           s3->endpoint, what, *r.error_message ? ": " : "", r.error_message, r.http_status);
  if (r.status == FOLIO_S3_EHTTP && r.http_status >= 400 && r.http_status < 500) {
    folio_log(FOLIO_LOG_ERROR, "S3 refused the start-up bucket check; check FOLIO_S3_*", detail);
    return FOLIO_WORKER_EXIT_FATAL;
  }
  folio_log(FOLIO_LOG_WARN, "S3 not reachable at start-up (uploads will retry)", detail);
  return 0;
}

int main(int argc, char **argv) {
  struct worker_config cfg;
  char err[512];
  int rc = worker_config_load(&cfg, argc, argv, err, sizeof err);
  if (rc == 1) return 0;
  if (rc) {
    fprintf(stderr, "folio-worker: %s\n", err);
    return 2;
  }
  folio_log_set_level(cfg.log_level);
  if (cfg.child_slot >= 0) return worker_render_main(&cfg);
  if ((rc = check_store(&cfg.s3)) != 0) return rc;
  return worker_supervise(&cfg, argv);
}
