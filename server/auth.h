/* API-key authentication of every folio.v1 RPC (Health is not authenticated).
 *
 * A call must carry `authorization: Bearer <api-key>`. The key is verified
 * against PostgreSQL (lib/jobs: keyed BLAKE2b hash, constant-time compare) on
 * a work-pool thread, never on a CQ thread. Verified keys are cached in
 * memory for FOLIO_AUTH_CACHE_MS, keyed by a hash of the key (the key itself
 * is not kept), so a revoked key stops working within that time on every
 * server. Failures are never cached. The check also brings the tenant's
 * limits (folio/tenant.h) into the server's folio_quota, so a changed limit
 * applies within the same time. */
#ifndef FOLIO_SERVER_AUTH_H
#define FOLIO_SERVER_AUTH_H

#include "cgrpc/cgrpc.h"
#include "folio/tenant.h"

#define FOLIO_AUTH_CACHE_MS 5000
_Static_assert(FOLIO_AUTH_CACHE_MS <= FOLIO_TENANT_LIMITS_TTL_MS,
               "tenant limits ride on the key check: its cache bounds their staleness");

struct srv_backend;
struct srv_auth_cache;

struct srv_auth_cache *srv_auth_cache_create(void);
void srv_auth_cache_destroy(struct srv_auth_cache *c); /* NULL allowed */

/* tenant lives in the call's arena (valid until the call is released). Runs
 * on the CQ thread (cache hit) or a work-pool thread; must not block. */
typedef void (*srv_auth_cb)(struct cgrpc_call *call, const char *tenant, void *arg);

/* Authenticates call; on success cb runs exactly once. On failure the call is
 * finished here (UNAUTHENTICATED naming what is missing or wrong, UNAVAILABLE
 * when the database cannot be reached, RESOURCE_EXHAUSTED when the pool is
 * full) and cb never runs. rpc names the method in messages. */
void srv_auth_call(struct srv_backend *b, struct cgrpc_call *call, const char *rpc,
                     srv_auth_cb cb, void *arg);

#endif
