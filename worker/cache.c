/* The render process's side of the render cache (folio/render_cache.h):
 * its renderer fingerprint, registered before the first entry it records,
 * and which of an attempt's objects may be deleted. Main thread. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/render.h"
#include "folio/render_cache.h"
#include "render_int.h"

void worker_renderer_init(struct rp *rp) {
  rp->renderer_hex[0] = '\0';
  char *d = folio_render_describe();
  if (!d) {
    worker_log_job(FOLIO_LOG_WARN, "cannot describe the renderer; no render cache entries", NULL,
                   0, NULL, NULL);
    return;
  }
  uint8_t h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, (const unsigned char *)d, strlen(d));
  sodium_bin2hex(rp->renderer_hex, sizeof rp->renderer_hex, h, sizeof h);
  /* the stored description: the versions and the font count, not every font */
  char *fonts = strstr(d, "\nfont ");
  if (fonts) fonts[1] = '\0';
  rp->renderer_desc = d;
}

void worker_renderer_fini(struct rp *rp) {
  free(rp->renderer_desc);
  rp->renderer_desc = NULL;
}

const char *worker_renderer_for_entry(struct rp *rp) {
  if (!rp->renderer_hex[0] || !rp->db) return NULL;
  if (!rp->renderer_registered) {
    struct folio_pg_diag d = {0};
    if (folio_jobs_renderer_register(rp->db, rp->renderer_hex, rp->renderer_desc, &d) != 0) {
      worker_log_job(FOLIO_LOG_WARN, "registering the renderer failed; no cache entry", NULL, 0,
                     "error", d.msg);
      return NULL;
    }
    rp->renderer_registered = true;
    worker_log_job(FOLIO_LOG_INFO, "renderer registered", NULL, 0, "fingerprint",
                   rp->renderer_hex);
  }
  return rp->renderer_hex;
}

int worker_objects_deletable(struct rp *rp, const char *const *keys, size_t n, bool *deletable) {
  for (size_t i = 0; i < n; i++) deletable[i] = false;
  if (n == 0) return 0;
  bool *ref = calloc(n, sizeof *ref);
  if (!ref) return FOLIO_PG_ENOMEM;
  struct folio_pg_diag d = {0};
  int rc = worker_db_connect(rp, &rp->db, "folio-worker");
  if (rc == 0) rc = folio_jobs_objects_referenced(rp->db, keys, n, ref, &d);
  if (rc == 0)
    for (size_t i = 0; i < n; i++) deletable[i] = !ref[i];
  else
    worker_log_job(FOLIO_LOG_WARN, "cannot tell which objects are shared; deleting none", NULL,
                   0, "error", d.msg);
  free(ref);
  return rc;
}
