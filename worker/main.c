/* folio-worker: renders queued jobs. See docs/operations-worker.md for the
 * configuration and docs/internals/worker.md for how it works. */
#include <stdio.h>

#include "folio/log.h"
#include "worker_int.h"

int main(int argc, char **argv) {
  struct folio_worker_config cfg;
  char err[512];
  int rc = folio_worker_config_load(&cfg, argc, argv, err, sizeof err);
  if (rc == 1) return 0;
  if (rc) {
    fprintf(stderr, "folio-worker: %s\n", err);
    return 2;
  }
  folio_log_set_level(cfg.log_level);
  if (cfg.child_slot >= 0) return folio_worker_render_main(&cfg);
  return folio_worker_supervise(&cfg, argv);
}
