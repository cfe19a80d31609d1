/* folio-server's backends: one I/O loop thread owning the non-blocking
 * PostgreSQL client, the Redis clients and the S3 client; a bounded work pool
 * (layout decoding, API-key checks) with a small blocking PostgreSQL pool
 * for the key checks (lib/jobs verifies keys with blocking calls only). docs/internals/server.md has the threads
 * and the life of each RPC.
 *
 * Thread rules: db, redis, sub and s3 are used only on the loop thread
 * (handlers get there with folio_loop_post(b->loop, ...)); s3cfg, pepper and
 * the pool pointers are read-only after srv_backend_start and may be read
 * from any thread; the work pool and the blocking pg pool are thread-safe. */
#ifndef FOLIO_SERVER_BACKEND_H
#define FOLIO_SERVER_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgrpc/cgrpc.h"
#include "config.h"
#include "folio/layout.h"
#include "folio/jobs.h"
#include "folio/loop.h"
#include "folio/pg_async.h"
#include "folio/redis.h"
#include "folio/s3.h"
#include "folio/tenant.h"
#include "workpool.h"

struct srv_auth_cache;

struct srv_backend {
  struct folio_loop *loop;
  pthread_t thread;
  bool thread_started;
  struct srv_workpool *pool;
  struct folio_pg_async *dbs[16]; /* every async connection (loop thread only); dbs[0]
                                     is the reconciler's and the health watch's */
  int ndb;                        /* 0: no database configured */
  struct folio_pg_pool *blocking; /* for work-pool tasks; NULL without a database */
  struct folio_redis *redis;      /* commands (dispatch, publish); NULL: no Redis */
  struct folio_redis *sub;        /* Pub/Sub only (subscriber mode) */
  struct folio_s3_client *s3;     /* NULL: no S3 configured */
  struct folio_s3_config s3cfg;   /* strings borrowed from the config */
  uint8_t pepper[FOLIO_APIKEY_PEPPER_MAX];
  size_t pepper_len;
  struct srv_auth_cache *auth;
  struct folio_layout_limits layout_limits; /* SubmitLayout's decode (a copy of the config's) */
  struct folio_quota *quota; /* per-tenant limits and usage on this server (thread-safe) */
  struct folio_loop_timer reconcile_timer;
  bool reconcile_busy; /* loop thread only */
  /* srv_backend_watch_db: loop thread only */
  void (*db_state_cb)(bool reachable, void *arg);
  void *db_state_arg;
  struct folio_loop_timer db_state_timer;
};

/* Migrates the database and creates the bucket (blocking, before serving),
 * then starts the loop thread with every client on it. Without a database
 * URL the job RPCs answer UNIMPLEMENTED; without S3 the artifact RPCs do.
 * Returns 0, or -1 with a message in err. b is zeroed by the call. */
int srv_backend_start(struct srv_backend *b, const struct srv_config *cfg, char *err,
                        size_t errcap);
/* Stops the loop thread, destroys the clients and the pool. Call after the
 * gRPC server is shut down (every call released). Safe on a zeroed b. */
void srv_backend_stop(struct srv_backend *b);

/* The async connection a job statement should go to: the ready one with the
 * fewest statements in flight (so concurrent group commits and reads use
 * several backends, hence several CPUs), or db when none is ready (the call
 * then fails with ECONNECT as usual). Loop thread only; a database must be configured (ndb > 0).
 * The pointer stays valid until srv_backend_stop. */
struct folio_pg_async *srv_backend_pick_db(struct srv_backend *b);

/* Reports whether PostgreSQL is reachable: cb(reachable, arg) runs on the
 * loop thread on every connect and drop of the server's connection, and
 * every second with the current state (the safety net, e.g. for a first
 * connect that fails), so cb sees repeats and must ignore them. No database
 * configured: never called. cb must not block (it runs on the I/O loop); arg
 * must outlive srv_backend_stop. Returns 0 or -1 (out of memory). */
int srv_backend_watch_db(struct srv_backend *b, void (*cb)(bool reachable, void *arg),
                           void *arg);

/* Finishes call with UNIMPLEMENTED naming rpc and the missing setting when
 * the backend it needs is not configured; returns false then. need_s3 adds S3. */
bool srv_backend_require(struct srv_backend *b, struct cgrpc_call *call, const char *rpc,
                           bool need_s3);

/* Loop thread: XADD the job id on the dispatch stream (if Redis is
 * configured); done(arg) runs exactly once on the loop thread when the attempt
 * is over, whatever its outcome (a failed dispatch is the reconciler's job).
 * done may be NULL. */
void srv_backend_dispatch(struct srv_backend *b, const char *job_id,
                            void (*done)(void *arg), void *arg);
/* Loop thread: PUBLISH a job event on folio_jobs_channel(job_id); best effort. */
void srv_backend_publish(struct srv_backend *b, const char *job_id,
                           enum folio_job_state state, int progress);


#endif
