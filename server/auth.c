/* See auth.h. The cache is a small direct-mapped table under one mutex:
 * entry = BLAKE2b-256(key) -> tenant, expiry. A collision just evicts. */
#include "auth.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "folio/clock.h"
#include "rpcstatus.h"

#define SLOTS 256
#define TENANT_MAX 129

struct slot {
  uint8_t hash[32];
  char tenant[TENANT_MAX];
  int64_t expires_ns; /* 0 = empty */
};

struct srv_auth_cache {
  pthread_mutex_t mu;
  struct slot slots[SLOTS];
};

struct srv_auth_cache *srv_auth_cache_create(void) {
  if (sodium_init() < 0) return NULL;
  struct srv_auth_cache *c = calloc(1, sizeof *c);
  if (c) pthread_mutex_init(&c->mu, NULL);
  return c;
}

void srv_auth_cache_destroy(struct srv_auth_cache *c) {
  if (!c) return;
  pthread_mutex_destroy(&c->mu);
  sodium_memzero(c, sizeof *c);
  free(c);
}

static bool cache_get(struct srv_auth_cache *c, const uint8_t h[32], char *tenant) {
  bool hit = false;
  struct slot *s = &c->slots[h[0]];
  pthread_mutex_lock(&c->mu);
  if (s->expires_ns > folio_clock_mono_ns() && sodium_memcmp(s->hash, h, 32) == 0) {
    memcpy(tenant, s->tenant, TENANT_MAX);
    hit = true;
  }
  pthread_mutex_unlock(&c->mu);
  return hit;
}

static void cache_put(struct srv_auth_cache *c, const uint8_t h[32], const char *tenant) {
  struct slot *s = &c->slots[h[0]];
  pthread_mutex_lock(&c->mu);
  memcpy(s->hash, h, 32);
  snprintf(s->tenant, TENANT_MAX, "%s", tenant);
  s->expires_ns = folio_clock_mono_ns() + (int64_t)FOLIO_AUTH_CACHE_MS * 1000000;
  pthread_mutex_unlock(&c->mu);
}

struct verify {
  struct srv_backend *b;
  struct cgrpc_call *call;
  const char *rpc;
  const char *key; /* in the call's arena */
  uint8_t hash[32];
  srv_auth_cb cb;
  void *arg;
};

static void verify_task(void *arg) {
  struct verify *v = arg;
  char *tenant = cgrpc_call_alloc(v->call, TENANT_MAX);
  struct folio_pg_conn *c = NULL;
  struct folio_pg_diag d;
  memset(&d, 0, sizeof d);
  int rc = tenant ? folio_pg_pool_checkout(v->b->blocking, 2000, &c, &d) : FOLIO_PG_ENOMEM;
  if (rc == 0) {
    struct folio_tenant_limits lim;
    rc = folio_jobs_apikey_verify_limits(c, v->key, v->b->pepper, v->b->pepper_len, tenant,
                                         TENANT_MAX, &lim, &d);
    /* the tenant's limits ride on the key check: a server sees a change
     * within FOLIO_AUTH_CACHE_MS (<= FOLIO_TENANT_LIMITS_TTL_MS) */
    if (rc == 0) folio_quota_learn(v->b->quota, tenant, &lim, folio_clock_mono_ns());
    folio_pg_pool_checkin(v->b->blocking, c);
  }
  char what[160];
  if (rc == FOLIO_JOBS_EAUTH) {
    snprintf(what, sizeof what,
             "%s: the API key in the authorization header is unknown or revoked", v->rpc);
    cgrpc_call_finish(v->call, GRPC_STATUS_UNAUTHENTICATED, what);
  } else if (rc != 0) {
    snprintf(what, sizeof what, "%s: cannot verify the API key", v->rpc);
    srv_rpc_fail(v->call, FOLIO_RPC_DB, rc, 0, what, d.msg);
  } else {
    cache_put(v->b->auth, v->hash, tenant);
    v->cb(v->call, tenant, v->arg);
  }
}

void srv_auth_call(struct srv_backend *b, struct cgrpc_call *call, const char *rpc,
                     srv_auth_cb cb, void *arg) {
  char msg[200];
  size_t len = 0;
  const char *h = cgrpc_call_metadata(call, "authorization", &len);
  if (!h) {
    snprintf(msg, sizeof msg,
             "%s: missing the authorization metadata; send \"authorization: Bearer <api-key>\"",
             rpc);
    cgrpc_call_finish(call, GRPC_STATUS_UNAUTHENTICATED, msg);
    return;
  }
  if (len < 7 || strncasecmp(h, "Bearer ", 7) != 0 || len == 7) {
    snprintf(msg, sizeof msg,
             "%s: the authorization metadata must be \"Bearer <api-key>\" (got another scheme "
             "or no key)",
             rpc);
    cgrpc_call_finish(call, GRPC_STATUS_UNAUTHENTICATED, msg);
    return;
  }
  const char *key = h + 7;
  char id[FOLIO_UUID_STR_LEN + 1];
  uint8_t secret[32];
  if (folio_jobs_apikey_parse(key, id, secret) != 0) {
    sodium_memzero(secret, sizeof secret);
    snprintf(msg, sizeof msg,
             "%s: the API key is malformed (expected folio_<32 hex>_<43 base64url>)", rpc);
    cgrpc_call_finish(call, GRPC_STATUS_UNAUTHENTICATED, msg);
    return;
  }
  sodium_memzero(secret, sizeof secret);
  struct verify *v = cgrpc_call_alloc(call, sizeof *v);
  if (!v) {
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  *v = (struct verify){.b = b, .call = call, .rpc = rpc, .key = key, .cb = cb, .arg = arg};
  crypto_generichash(v->hash, 32, (const uint8_t *)key, len - 7, NULL, 0);
  char tenant[TENANT_MAX];
  if (cache_get(b->auth, v->hash, tenant)) {
    char *t = cgrpc_call_alloc(call, TENANT_MAX);
    if (!t) {
      cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
      return;
    }
    memcpy(t, tenant, TENANT_MAX);
    cb(call, t, arg);
    return;
  }
  int rc = srv_workpool_submit(b->pool, verify_task, v);
  if (rc != 0) {
    snprintf(msg, sizeof msg, "%s: the server is busy verifying API keys", rpc);
    srv_rpc_fail(call, FOLIO_RPC_POOL, rc, 0, msg, NULL);
  }
}
