/* An artifact: an S3 multipart upload fed by the render's write callback,
 * hashed (SHA-256) and counted on the way, so no artifact is ever held whole.
 *
 * Threads: worker_sink_* run on the main thread, the producer (the S3
 * client's upload_write blocks it for backpressure); sink_done runs on the
 * loop thread and signals the main thread. Ownership: a struct sink is
 * malloc'd by the job (job.c, add_sink) and freed after the job, since the
 * S3 callbacks hold its address until they have run. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "folio/tenant.h"
#include "render_int.h"

/* ---- artifacts: a multipart upload fed while hashing ------------------------ */

static void sink_done(void *arg, const struct folio_s3_result *r) {
  struct sink *k = arg;
  k->status = r->status;
  if (r->status)
    snprintf(k->err, sizeof k->err, "S3 upload of %s: %s%s%s%s%s", k->name,
             folio_s3_strerror(r->status), r->error_code[0] ? " " : "", r->error_code,
             r->error_message[0] ? ": " : "", r->error_message);
  worker_sync_signal(&k->s);
}

int worker_sink_begin(struct sink *k, struct rp *rp, const char *tenant_id, const char *job,
                      const char *name, int format, uint32_t page, const char *ctype) {
  memset(k, 0, sizeof *k);
  k->rp = rp;
  snprintf(k->name, sizeof k->name, "%s", name);
  /* by the tenant's opaque id: object keys and signed URLs show no tenant name */
  folio_jobs_object_key(k->key, sizeof k->key, tenant_id, job, name);
  k->format = format;
  k->page = page;
  k->content_type = ctype;
  crypto_hash_sha256_init(&k->sha);
  worker_sync_init(&k->s);
  int rc = folio_s3_upload_begin(rp->s3, k->key, ctype, sink_done, k, &k->up);
  if (rc) {
    snprintf(k->err, sizeof k->err, "S3 upload of %s: %s", name, folio_s3_strerror(rc));
    k->status = rc;
    k->up = NULL;
    worker_sync_fini(&k->s);
    return rc;
  }
  k->begun = true;
  return 0;
}

int worker_sink_write(void *ctx, const unsigned char *data, size_t len) {
  struct sink *k = ctx;
  crypto_hash_sha256_update(&k->sha, data, len);
  k->size += len;
  int rc = folio_s3_upload_write(k->up, data, len);
  return rc ? -1 : 0;
}

/* Completes the upload without waiting for S3's answer: the render goes on
 * while S3 stores the object (worker_sink_wait collects the answer). */
void worker_sink_close(struct sink *k) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&k->sha, h);
  sodium_bin2hex(k->sha_hex, sizeof k->sha_hex, h, sizeof h);
  folio_s3_upload_finish(k->up);
  k->up = NULL;
  k->closed = true;
}

/* Waits for the answer to a closed upload (once; again returns the same).
 * 0 or the upload's error. */
int worker_sink_wait(struct sink *k) {
  if (k->closed && !k->waited) {
    worker_sync_wait(&k->s);
    k->waited = true;
  }
  return k->status;
}

/* Abandons an unfinished upload (the multipart upload is aborted on S3). */
void worker_sink_abort(struct sink *k) {
  if (!k->begun || !k->up) return;
  folio_s3_upload_abort(k->up);
  k->up = NULL;
  worker_sync_wait(&k->s);
}

struct del {
  struct sync s;
  int status;
};
static void del_done(void *arg, const struct folio_s3_result *r) {
  struct del *d = arg;
  d->status = r->status;
  worker_sync_signal(&d->s);
}

int worker_s3_delete(struct rp *rp, const char *key) {
  struct del d;
  worker_sync_init(&d.s);
  int rc = folio_s3_delete(rp->s3, key, del_done, &d);
  if (rc == 0) {
    worker_sync_wait(&d.s);
    rc = d.status;
  }
  worker_sync_fini(&d.s);
  return rc;
}
