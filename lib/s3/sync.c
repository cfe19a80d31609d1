/* Synchronous wrappers for the CLI and tests: a private loop and client per
 * call, run on the calling thread until the one operation is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"

struct sync_state {
  struct folio_loop *loop;
  struct folio_s3_sync_result *r;
  struct folio_str body;
  bool done;
};

static void sync_done(void *arg, const struct folio_s3_result *res) {
  struct sync_state *st = arg;
  struct folio_s3_sync_result *r = st->r;
  r->status = res->status;
  r->http_status = res->http_status;
  snprintf(r->error_code, sizeof r->error_code, "%s", res->error_code);
  snprintf(r->error_message, sizeof r->error_message, "%s", res->error_message);
  snprintf(r->etag, sizeof r->etag, "%s", res->etag);
  r->content_length = res->content_length;
  st->done = true;
  folio_loop_stop(st->loop);
}

static int sync_data(void *arg, const void *data, size_t len) {
  struct sync_state *st = arg;
  folio_str_append(&st->body, data, len);
  return st->body.oom ? -1 : FOLIO_S3_CONTINUE;
}

enum sync_kind { S_PUT, S_GET, S_HEAD, S_DELETE, S_BUCKET };

static int run_sync(const struct folio_s3_config *cfg, enum sync_kind kind, const char *key,
                    const void *data, size_t len, const char *ctype,
                    const struct folio_s3_range *range, void **out, size_t *out_len,
                    struct folio_s3_sync_result *r) {
  memset(r, 0, sizeof *r);
  struct sync_state st = {.r = r};
  st.loop = folio_loop_create();
  if (!st.loop) return r->status = FOLIO_S3_ENOMEM;
  struct folio_s3_client *c =
      folio_s3_client_create(cfg, st.loop, r->error_message, sizeof r->error_message);
  if (!c) {
    folio_loop_destroy(st.loop);
    return r->status = FOLIO_S3_EINVAL;
  }
  int rc;
  switch (kind) {
  case S_PUT: rc = folio_s3_put(c, key, data, len, ctype, sync_done, &st); break;
  case S_GET: rc = folio_s3_get(c, key, range, sync_data, sync_done, &st, NULL); break;
  case S_HEAD: rc = folio_s3_head(c, key, sync_done, &st); break;
  case S_DELETE: rc = folio_s3_delete(c, key, sync_done, &st); break;
  default: rc = folio_s3_ensure_bucket(c, sync_done, &st); break;
  }
  if (rc == 0) {
    while (!st.done)
      if (folio_loop_run(st.loop) < 0) break;
  } else {
    r->status = rc;
  }
  folio_s3_client_destroy(c); /* calls back with ECANCELED if still pending */
  folio_loop_destroy(st.loop);
  if (out && r->status == FOLIO_S3_OK && folio_str_ok(&st.body)) {
    *out_len = st.body.len;
    *out = folio_str_take(&st.body);
  }
  folio_str_free(&st.body);
  return r->status;
}

int folio_s3_sync_put(const struct folio_s3_config *cfg, const char *key, const void *data,
                      size_t len, const char *content_type, struct folio_s3_sync_result *r) {
  return run_sync(cfg, S_PUT, key, data, len, content_type, NULL, NULL, NULL, r);
}
int folio_s3_sync_get(const struct folio_s3_config *cfg, const char *key,
                      const struct folio_s3_range *range, void **out, size_t *out_len,
                      struct folio_s3_sync_result *r) {
  *out = NULL;
  *out_len = 0;
  return run_sync(cfg, S_GET, key, NULL, 0, NULL, range, out, out_len, r);
}
int folio_s3_sync_head(const struct folio_s3_config *cfg, const char *key,
                       struct folio_s3_sync_result *r) {
  return run_sync(cfg, S_HEAD, key, NULL, 0, NULL, NULL, NULL, NULL, r);
}
int folio_s3_sync_delete(const struct folio_s3_config *cfg, const char *key,
                         struct folio_s3_sync_result *r) {
  return run_sync(cfg, S_DELETE, key, NULL, 0, NULL, NULL, NULL, NULL, r);
}
int folio_s3_sync_ensure_bucket(const struct folio_s3_config *cfg,
                                struct folio_s3_sync_result *r) {
  return run_sync(cfg, S_BUCKET, NULL, NULL, 0, NULL, NULL, NULL, NULL, r);
}
