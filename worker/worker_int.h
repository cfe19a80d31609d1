/* folio-worker internals: the configuration shared by the supervisor and the
 * render processes, and the two entry points. See docs/internals/worker.md. */
#ifndef FOLIO_WORKER_INT_H
#define FOLIO_WORKER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "folio/log.h"
#include "folio/s3.h"

struct worker_config {
  const char *database_url; /* FOLIO_DATABASE_URL (borrowed from env/argv) */
  const char *redis_url;    /* FOLIO_REDIS_URL */
  int workers;              /* FOLIO_WORKERS: render processes; default CPUs available */
  int render_timeout_ms;    /* FOLIO_RENDER_TIMEOUT_MS: per attempt; default 600000 */
  int visibility_timeout_ms; /* FOLIO_VISIBILITY_TIMEOUT_MS: default 30000 */
  int shutdown_grace_ms;     /* FOLIO_SHUTDOWN_GRACE_MS: default 30000 */
  int heartbeat_ms;          /* FOLIO_HEARTBEAT_MS: default 1000 (also the fallback cancel poll) */
  int render_threads;        /* FOLIO_RENDER_THREADS: PNG threads per job; default 1 */
  int s3_parts_in_flight;    /* FOLIO_S3_PARTS_IN_FLIGHT: default 2 */
  enum folio_log_level log_level; /* FOLIO_LOG_LEVEL */
  const char *worker_name;   /* FOLIO_WORKER_NAME: consumer name prefix; default hostname */
  struct folio_s3_config s3; /* FOLIO_S3_* */
  int child_slot;            /* internal: >= 0 in a render process (--render-process=N) */
};

/* Fills cfg from the environment, then argv flags (which override). Returns 0,
 * 1 when --help was printed, or -1 with the reason in err. Strings borrowed
 * from the environment and argv (valid for the process lifetime). */
int worker_config_load(struct worker_config *cfg, int argc, char **argv, char *err,
                             size_t errcap);

/* The supervisor: starts cfg->workers render processes (re-executing argv[0]
 * with --render-process=N) and watches them. Returns the exit status. */
int worker_supervise(const struct worker_config *cfg, char **argv);

/* A render process; the supervisor's pipe is fd FOLIO_WORKER_PIPE_FD. Returns
 * the process exit status (0 after a clean shutdown; FOLIO_WORKER_EXIT_FATAL
 * when the configuration can never work, so the supervisor stops restarting). */
int worker_render_main(const struct worker_config *cfg);

#define FOLIO_WORKER_PIPE_FD 3
#define FOLIO_WORKER_EXIT_FATAL 78 /* EX_CONFIG */

/* Messages from a render process to its supervisor on the pipe, one line each
 * (shorter than PIPE_BUF, so every write is atomic):
 *   "B <job-id> <attempt>\n"  an attempt started (the render timeout runs)
 *   "E\n"                     it ended (its outcome is recorded) */
#define FOLIO_WORKER_MSG_MAX 80

/* The delay before retrying after the n-th consecutive failure (n >= 1):
 * lib/base's folio_backoff_ms (initial_ms * 2^(n-1), capped, jittered in
 * [d/2, d)) with a fresh random draw, so processes that failed together do
 * not retry in lockstep. The backoff rule itself is folio/backoff.h's. */
int worker_retry_ms(int n, int initial_ms, int cap_ms);

#endif
