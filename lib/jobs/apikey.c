/* API keys: "folio_<32 hex key id>_<43 base64url secret>".
 *
 * The key id is public (it names the row); the secret is 32 random bytes of
 * which only BLAKE2b-256(key = server pepper, id || secret) is stored. Verify
 * looks the row up by id and compares hashes with sodium_memcmp (constant
 * time), so neither a database reader nor a timing observer learns a key.
 *
 * An unknown key id costs what a wrong secret costs: the lookup returns one
 * row either way (NULLs when unknown), the presented secret is always hashed,
 * and it is always compared — against the stored hash, or against a dummy
 * hash when there is none (then the result is refused whatever the compare
 * says). The work counters below let tests check that both paths do the
 * same hashing, without asserting on time. */
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_int.h"

#define PREFIX "folio_"
#define PREFIX_LEN 6
#define SECRET_B64_LEN 43 /* 32 bytes, base64url without padding */

static _Atomic unsigned long hash_calls, compare_calls;

void folio_jobs_apikey_work_counts(unsigned long *hashes, unsigned long *compares) {
  *hashes = hash_calls;
  *compares = compare_calls;
}

static int key_hash(const char *id, const uint8_t secret[32], const uint8_t *pepper,
                    size_t pepper_len, uint8_t out[32]) {
  hash_calls++;
  crypto_generichash_state st;
  if (crypto_generichash_init(&st, pepper, pepper_len, 32) != 0) return -1;
  crypto_generichash_update(&st, (const unsigned char *)id, FOLIO_UUID_STR_LEN);
  crypto_generichash_update(&st, secret, 32);
  crypto_generichash_final(&st, out, 32);
  sodium_memzero(&st, sizeof st);
  return 0;
}

static int check_pepper(const uint8_t *pepper, size_t n, struct folio_pg_diag *diag) {
  if (pepper && n >= FOLIO_APIKEY_PEPPER_MIN && n <= FOLIO_APIKEY_PEPPER_MAX) return 0;
  folio_jobs_diag(diag, "API key pepper must be %d..%d bytes (got %zu)", FOLIO_APIKEY_PEPPER_MIN,
                  FOLIO_APIKEY_PEPPER_MAX, pepper ? n : 0);
  return FOLIO_JOBS_EINVAL;
}

int folio_jobs_apikey_parse(const char *key, char id[FOLIO_UUID_STR_LEN + 1], uint8_t secret[32]) {
  if (!key || strlen(key) != FOLIO_APIKEY_LEN || memcmp(key, PREFIX, PREFIX_LEN) != 0 ||
      key[PREFIX_LEN + 32] != '_')
    return -1;
  const char *hex = key + PREFIX_LEN;
  size_t o = 0;
  for (int i = 0; i < 32; i++) {
    char ch = hex[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return -1;
    if (i == 8 || i == 12 || i == 16 || i == 20) id[o++] = '-';
    id[o++] = ch;
  }
  id[o] = '\0';
  size_t bin_len = 0;
  if (sodium_base642bin(secret, 32, key + PREFIX_LEN + 33, SECRET_B64_LEN, NULL, &bin_len, NULL,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      bin_len != 32)
    return -1;
  return 0;
}

int folio_jobs_apikey_create(struct folio_pg_conn *c, const char *tenant, const uint8_t *pepper,
                             size_t pepper_len, char key_out[FOLIO_APIKEY_LEN + 1],
                             char id_out[FOLIO_UUID_STR_LEN + 1], struct folio_pg_diag *diag) {
  key_out[0] = '\0';
  size_t tn = tenant ? strlen(tenant) : 0;
  if (tn < 1 || tn > 128) {
    folio_jobs_diag(diag, "tenant: must be 1..128 bytes (got %zu)", tn);
    return FOLIO_JOBS_EINVAL;
  }
  int rc = check_pepper(pepper, pepper_len, diag);
  if (rc) return rc;
  if (sodium_init() < 0) abort();
  char id[FOLIO_UUID_STR_LEN + 1];
  folio_uuid7(id);
  uint8_t secret[32], hash[32];
  randombytes_buf(secret, sizeof secret);
  if (key_hash(id, secret, pepper, pepper_len, hash) != 0) {
    folio_jobs_diag(diag, "hashing the key failed");
    return FOLIO_JOBS_EINVAL;
  }
  const char *v[3] = {id, tenant, (const char *)hash};
  int lengths[3] = {0, 0, 32}, formats[3] = {0, 0, 1};
  struct folio_pg_params p = {3, v, lengths, formats};
  PGresult *r;
  rc = folio_pg_conn_exec(c, S_APIKEY_INSERT, &p, &r, diag);
  PQclear(r);
  if (rc == 0) {
    size_t o = 0;
    memcpy(key_out, PREFIX, PREFIX_LEN);
    o = PREFIX_LEN;
    for (const char *s = id; *s; s++)
      if (*s != '-') key_out[o++] = *s;
    key_out[o++] = '_';
    sodium_bin2base64(key_out + o, FOLIO_APIKEY_LEN + 1 - o, secret, 32,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (id_out) memcpy(id_out, id, sizeof id);
  }
  sodium_memzero(secret, sizeof secret);
  return rc;
}

int folio_jobs_apikey_verify(struct folio_pg_conn *c, const char *key, const uint8_t *pepper,
                             size_t pepper_len, char *tenant_out, size_t cap,
                             struct folio_pg_diag *diag) {
  return folio_jobs_apikey_verify_limits(c, key, pepper, pepper_len, tenant_out, cap, NULL, diag);
}

int folio_jobs_apikey_verify_limits(struct folio_pg_conn *c, const char *key,
                                    const uint8_t *pepper, size_t pepper_len, char *tenant_out,
                                    size_t cap, struct folio_tenant_limits *limits,
                                    struct folio_pg_diag *diag) {
  if (cap) tenant_out[0] = '\0';
  if (limits) folio_tenant_limits_default(limits);
  int rc = check_pepper(pepper, pepper_len, diag);
  if (rc) return rc;
  char id[FOLIO_UUID_STR_LEN + 1];
  uint8_t secret[32], want[32];
  if (folio_jobs_apikey_parse(key, id, secret) != 0) {
    folio_jobs_diag(diag, "malformed API key (expected folio_<32 hex>_<43 base64url>)");
    return FOLIO_JOBS_EAUTH;
  }
  int ok = key_hash(id, secret, pepper, pepper_len, want);
  sodium_memzero(secret, sizeof secret);
  if (ok != 0) {
    folio_jobs_diag(diag, "hashing the key failed");
    return FOLIO_JOBS_EAUTH;
  }
  const char *v[1] = {id};
  struct folio_pg_params p = {1, v, NULL, NULL};
  PGresult *r;
  rc = folio_pg_conn_exec(c, S_APIKEY_LOOKUP, &p, &r, diag);
  if (rc) return rc;
  /* One row always (S_APIKEY_LOOKUP); the hash is NULL for an unknown id. */
  static const uint8_t dummy[32] = {0x5a};
  uint8_t stored[32];
  bool known = PQntuples(r) == 1 && !PQgetisnull(r, 0, 1) &&
               sodium_hex2bin(stored, sizeof stored, PQgetvalue(r, 0, 1),
                              (size_t)PQgetlength(r, 0, 1), NULL, NULL, NULL) == 0;
  compare_calls++;
  bool match = sodium_memcmp(known ? stored : dummy, want, 32) == 0;
  rc = FOLIO_JOBS_EAUTH;
  if (known && match) {
    size_t tn = (size_t)PQgetlength(r, 0, 0);
    if (tn < cap) {
      memcpy(tenant_out, PQgetvalue(r, 0, 0), tn);
      tenant_out[tn] = '\0';
      if (limits) folio_jobs_tenant_limits_decode(r, 0, limits, NULL);
      rc = 0;
    } else {
      folio_jobs_diag(diag, "tenant buffer too small");
      rc = FOLIO_JOBS_EINVAL;
    }
  }
  PQclear(r);
  if (rc == FOLIO_JOBS_EAUTH) folio_jobs_diag(diag, "unknown or revoked API key");
  return rc;
}

int folio_jobs_apikey_revoke(struct folio_pg_conn *c, const char *key_id, const char *tenant,
                             struct folio_pg_diag *diag) {
  char id[FOLIO_UUID_STR_LEN + 1];
  uint8_t secret[32];
  if (folio_uuid_valid(key_id)) {
    snprintf(id, sizeof id, "%s", key_id);
  } else if (folio_jobs_apikey_parse(key_id, id, secret) == 0) {
    sodium_memzero(secret, sizeof secret);
  } else {
    folio_jobs_diag(diag, "key id: neither a key id (UUID) nor an API key");
    return FOLIO_JOBS_EINVAL;
  }
  const char *v[2] = {id, tenant};
  struct folio_pg_params p = {2, v, NULL, NULL};
  PGresult *r;
  int rc = folio_pg_conn_exec(c, S_APIKEY_REVOKE, &p, &r, diag);
  if (rc) return rc;
  bool hit = atoi(PQcmdTuples(r)) == 1;
  PQclear(r);
  if (!hit) {
    folio_jobs_diag(diag, "no active API key %s%s%s", id, tenant ? " in tenant " : "",
                    tenant ? tenant : "");
    return FOLIO_JOBS_ENOTFOUND;
  }
  return 0;
}
