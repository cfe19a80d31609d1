/* The render cache's key and its statements (folio/render_cache.h; the SQL
 * is in stmts.c, the design in docs/internals/jobs.md, "The render cache").
 *
 * The request key is SHA-256 over a sequence of fields, each written as a
 * one-byte tag, an 8-byte big-endian length and the bytes, after a version
 * string. Tags are never reused: a field that changes meaning gets a new
 * tag, and the version string changes when the encoding itself does, so an
 * old entry can never be read as a new one. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/layout.h"
#include "folio/pg_async.h"
#include "folio/render_cache.h"
#include "jobs_int.h"

#define KEY_VERSION "folio.render-cache.v1"

static void field(crypto_hash_sha256_state *h, uint8_t tag, const void *data, size_t len) {
  uint8_t head[9];
  head[0] = tag;
  for (int i = 0; i < 8; i++) head[1 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
  crypto_hash_sha256_update(h, head, sizeof head);
  if (len) crypto_hash_sha256_update(h, data, len);
}

static void field_u64(crypto_hash_sha256_state *h, uint8_t tag, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (56 - 8 * i));
  field(h, tag, b, sizeof b);
}

/* THE key function: every input that decides a render's bytes is a field
 * here. When RenderOptions (or anything else a render reads) gains a field
 * that can change the output, it joins this list with a new tag, in the
 * same commit - an option missing here would let a cached render answer a
 * request it does not match. Fields that cannot change the bytes (labels,
 * idempotency_key, max_attempts, the cache policy itself) stay out. */
void folio_render_cache_key(const struct folio_render_cache_request *r,
                            uint8_t out[FOLIO_RENDER_CACHE_KEY_LEN]) {
  crypto_hash_sha256_state h;
  crypto_hash_sha256_init(&h);
  crypto_hash_sha256_update(&h, (const uint8_t *)KEY_VERSION, sizeof KEY_VERSION);
  /* 1: the layout, canonical (folio_layout_canonical) */
  field(&h, 1, r->layout_canonical, r->layout_canonical_len);
  /* 2: the formats as a set (bit f for FOLIO_FORMAT_f; none = PDF) */
  uint64_t set = 0;
  for (size_t i = 0; i < r->nformats; i++)
    if (r->formats[i] >= 1 && r->formats[i] < 64) set |= 1ull << r->formats[i];
  if (!set) set = 1ull << FOLIO_FORMAT_PDF;
  field_u64(&h, 2, set);
  /* 3: RenderOptions.png_dpi = 1, resolved */
  field_u64(&h, 3, (uint64_t)(r->png_dpi ? r->png_dpi : FOLIO_PNG_DPI_DEFAULT));
  /* 4: RenderOptions.page_range = 2, as the selected pages (0-based) */
  field_u64(&h, 4, (uint64_t)r->npages);
  for (size_t i = 0; i < r->npages; i++) field_u64(&h, 4, (uint64_t)r->pages[i]);
  /* 5: stored assets (issue 13), in reference order */
  field_u64(&h, 5, (uint64_t)r->nassets);
  for (size_t i = 0; i < r->nassets; i++) field(&h, 5, r->asset_digests[i], 32);
  /* 6: RenderOptions.pdf_profile = 3 and additional_pdf_profiles = 4, as
   * the profile set (folio/pdf_profile.h) */
  field_u64(&h, 6, (uint64_t)r->pdf_profiles);
  /* 7: RenderOptions.png_include_bleed = 5 */
  field_u64(&h, 7, r->png_include_bleed);
  /* 8, 9: RenderOptions.fail_on_warnings = 6, require_clean_preflight = 7 */
  field_u64(&h, 8, r->fail_on_warnings);
  field_u64(&h, 9, r->require_clean_preflight);
  /* RenderOptions.cache = 8 is the policy, not an input. The next field
   * takes tag 10. */
  crypto_hash_sha256_final(&h, out);
}

void folio_render_cache_hex(const uint8_t key[FOLIO_RENDER_CACHE_KEY_LEN], char out[65]) {
  sodium_bin2hex(out, 65, key, FOLIO_RENDER_CACHE_KEY_LEN);
}

int folio_jobs_renderer_register(struct folio_pg_conn *c, const char *fingerprint_hex,
                                 const char *description, struct folio_pg_diag *diag) {
  if (!fingerprint_hex || strlen(fingerprint_hex) != 64) {
    folio_jobs_diag(diag, "fingerprint: 64 hex digits expected");
    return FOLIO_JOBS_EINVAL;
  }
  const char *v[2] = {fingerprint_hex, description ? description : ""};
  struct folio_pg_params p = {2, v, NULL, NULL};
  PGresult *r;
  int rc = folio_pg_conn_exec(c, S_RENDERER_REGISTER, &p, &r, diag);
  PQclear(r);
  return rc;
}

/* A PostgreSQL text[] literal of keys ("..." each, \ and " escaped). */
static char *text_array(const char *const *keys, size_t n) {
  size_t cap = 3;
  for (size_t i = 0; i < n; i++) cap += 2 * strlen(keys[i]) + 3;
  char *s = malloc(cap), *o = s;
  if (!s) return NULL;
  *o++ = '{';
  for (size_t i = 0; i < n; i++) {
    if (i) *o++ = ',';
    *o++ = '"';
    for (const char *p = keys[i]; *p; p++) {
      if (*p == '"' || *p == '\\') *o++ = '\\';
      *o++ = *p;
    }
    *o++ = '"';
  }
  *o++ = '}';
  *o = '\0';
  return s;
}

int folio_jobs_objects_referenced(struct folio_pg_conn *c, const char *const *keys, size_t n,
                                  bool *referenced, struct folio_pg_diag *diag) {
  for (size_t i = 0; i < n; i++) referenced[i] = true; /* until known: keep */
  if (n == 0) return 0;
  char *arr = text_array(keys, n);
  if (!arr) {
    folio_jobs_diag(diag, "out of memory");
    return FOLIO_PG_ENOMEM;
  }
  const char *v[1] = {arr};
  struct folio_pg_params p = {1, v, NULL, NULL};
  PGresult *r;
  int rc = folio_pg_conn_exec(c, S_OBJECTS_REFERENCED, &p, &r, diag);
  free(arr);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++) {
    referenced[i] = false;
    for (int row = 0; row < PQntuples(r); row++)
      if (strcmp(PQgetvalue(r, row, 0), keys[i]) == 0) referenced[i] = true;
  }
  PQclear(r);
  return 0;
}

int folio_jobs_cache_purge(struct folio_pg_conn *c, const char *tenant, long *deleted,
                           struct folio_pg_diag *diag) {
  const char *v[1] = {tenant};
  struct folio_pg_params p = {1, v, NULL, NULL};
  PGresult *r;
  int rc = folio_pg_conn_exec(c, S_CACHE_PURGE, &p, &r, diag);
  if (rc) return rc;
  if (deleted) *deleted = atol(PQcmdTuples(r));
  PQclear(r);
  return 0;
}

struct unhit_op {
  folio_jobs_done_cb cb;
  void *arg;
  char job_id[FOLIO_UUID_STR_LEN + 1];
};

static void on_unhit(struct folio_pg_async *a, int status, const PGresult *res,
                     const struct folio_pg_diag *diag, void *arg) {
  (void)a;
  struct unhit_op *op = arg;
  struct folio_pg_diag d = diag ? *diag : (struct folio_pg_diag){0};
  if (status == 0 && PQntuples(res) != 1) {
    folio_jobs_diag(&d, "job %s is not an unverified cache hit", op->job_id);
    status = FOLIO_JOBS_ENOTFOUND;
  }
  op->cb(status, &d, op->arg);
  free(op);
}

int folio_jobs_cache_unhit_async(struct folio_pg_async *a, const char *job_id, bool invalidate,
                                 const char *why, folio_jobs_done_cb cb, void *arg) {
  if (!cb || folio_jobs_check_id("job_id", job_id, NULL)) return FOLIO_JOBS_EINVAL;
  struct unhit_op *op = calloc(1, sizeof *op);
  if (!op) return FOLIO_PG_ENOMEM;
  op->cb = cb;
  op->arg = arg;
  snprintf(op->job_id, sizeof op->job_id, "%s", job_id);
  const char *v[3] = {job_id, invalidate ? "t" : "f", why ? why : "CACHE_UNVERIFIED"};
  struct folio_pg_params p = {3, v, NULL, NULL};
  int rc = folio_pg_async_exec(a, S_CACHE_UNHIT, &p, 0, on_unhit, op);
  if (rc) free(op);
  return rc;
}
