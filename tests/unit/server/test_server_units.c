/* The work pool's bound (full -> -EAGAIN, so SubmitLayout can answer
 * RESOURCE_EXHAUSTED instead of queueing without limit) and the single
 * error-code -> gRPC status mapping (every row of its table). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"
#include "folio/jobs.h"
#include "folio/pg_async.h"
#include "folio/s3.h"
#include "rpcstatus.h"
#include "workpool.h"

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static atomic_int ran;

static void blocked_task(void *arg) {
  pthread_mutex_lock(&gate);
  pthread_mutex_unlock(&gate);
  atomic_fetch_add(&ran, 1);
}

static void test_workpool(void) {
  struct srv_workpool *p = srv_workpool_create(1, 2);
  CHECK(p);
  pthread_mutex_lock(&gate);
  /* one running (blocked) + two queued; wait until the thread took the first */
  CHECK_EQ_INT(srv_workpool_submit(p, blocked_task, NULL), 0);
  for (int i = 0; i < 1000 && srv_workpool_queued(p) != 0; i++) usleep(1000);
  CHECK_EQ_INT(srv_workpool_queued(p), 0);
  CHECK_EQ_INT(srv_workpool_submit(p, blocked_task, NULL), 0);
  CHECK_EQ_INT(srv_workpool_submit(p, blocked_task, NULL), 0);
  CHECK_EQ_INT(srv_workpool_submit(p, blocked_task, NULL), -EAGAIN);
  pthread_mutex_unlock(&gate);
  srv_workpool_destroy(p); /* runs what is queued, then joins */
  CHECK_EQ_INT(atomic_load(&ran), 3);
  CHECK(srv_workpool_create(0, 1) == NULL);
  CHECK(srv_workpool_create(1, 0) == NULL);
}

/* ---- fairness: shares and round-robin between owners ---- */

static pthread_mutex_t fair_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fair_cv = PTHREAD_COND_INITIALIZER;
static bool fair_open;
static atomic_int a_running, a_max, b_done;
static char order[16];
static atomic_int norder;

static void a_task(void *arg) {
  int now = atomic_fetch_add(&a_running, 1) + 1;
  for (int m = atomic_load(&a_max); now > m && !atomic_compare_exchange_weak(&a_max, &m, now);) {
  }
  pthread_mutex_lock(&fair_mu);
  while (!fair_open) pthread_cond_wait(&fair_cv, &fair_mu);
  pthread_mutex_unlock(&fair_mu);
  order[atomic_fetch_add(&norder, 1) & 15] = 'a';
  atomic_fetch_sub(&a_running, 1);
}

static void b_task(void *arg) {
  order[atomic_fetch_add(&norder, 1) & 15] = 'b';
  atomic_fetch_add(&b_done, 1);
}

static void fair_open_gate(void) {
  pthread_mutex_lock(&fair_mu);
  fair_open = true;
  pthread_cond_broadcast(&fair_cv);
  pthread_mutex_unlock(&fair_mu);
}

static void test_workpool_fair(void) {
  /* Two threads; tenant a (share 1) floods with tasks that block; tenant b's
   * task still runs at once on the other thread. */
  struct srv_workpool *p = srv_workpool_create(2, 16);
  CHECK(p && srv_workpool_threads(p) == 2);
  for (int i = 0; i < 6; i++) CHECK_EQ_INT(srv_workpool_submit_owned(p, "a", 1, a_task, NULL), 0);
  CHECK_EQ_INT(srv_workpool_submit_owned(p, "b", 1, b_task, NULL), 0);
  for (int i = 0; i < 5000 && atomic_load(&b_done) == 0; i++) usleep(1000);
  CHECK_MSG(atomic_load(&b_done) == 1, "b's task waited behind a's flood");
  CHECK_EQ_INT(atomic_load(&a_running), 1);
  /* a's queue is capped at half the pool's queue (8): 5 waiting + 3 more */
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(srv_workpool_submit_owned(p, "a", 1, a_task, NULL), 0);
  CHECK_EQ_INT(srv_workpool_submit_owned(p, "a", 1, a_task, NULL), -EAGAIN);
  CHECK_EQ_INT(srv_workpool_submit_owned(p, "b", 1, b_task, NULL), 0); /* b is not refused */
  fair_open_gate();
  srv_workpool_destroy(p);
  CHECK_EQ_INT(atomic_load(&a_max), 1); /* never more than a's share */
  CHECK_EQ_INT(atomic_load(&b_done), 2);

  /* Round-robin: one thread busy with a's first task, a's two more queued,
   * then b's: b runs right after the running one, not after a's queue. */
  fair_open = false;
  atomic_store(&norder, 0);
  p = srv_workpool_create(1, 16);
  CHECK(p);
  CHECK_EQ_INT(srv_workpool_submit_owned(p, "a", 1, a_task, NULL), 0);
  for (int i = 0; i < 5000 && atomic_load(&a_running) == 0; i++) usleep(1000);
  CHECK_EQ_INT(srv_workpool_submit_owned(p, "a", 1, a_task, NULL), 0);
  CHECK_EQ_INT(srv_workpool_submit_owned(p, "a", 1, a_task, NULL), 0);
  CHECK_EQ_INT(srv_workpool_submit_owned(p, "b", 1, b_task, NULL), 0);
  fair_open_gate();
  srv_workpool_destroy(p);
  CHECK_EQ_INT(atomic_load(&norder), 4);
  order[4] = '\0';
  CHECK_EQ_STR(order, "abaa");
}

static void test_codes(void) {
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, 0, 0), GRPC_STATUS_OK);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_ENOTFOUND, 0), GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_EPRECONDITION, 0),
               GRPC_STATUS_FAILED_PRECONDITION);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_EAUTH, 0), GRPC_STATUS_UNAUTHENTICATED);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_EQUOTA, 0), GRPC_STATUS_RESOURCE_EXHAUSTED);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_PG_ECONNECT, 0), GRPC_STATUS_UNAVAILABLE);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_PG_ECLOSED, 0), GRPC_STATUS_UNAVAILABLE);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_EINVAL, 0), GRPC_STATUS_INVALID_ARGUMENT);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_PG_EINVAL, 0), GRPC_STATUS_INVALID_ARGUMENT);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_EFENCED, 0), GRPC_STATUS_ABORTED);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_PG_ECONFLICT, 0), GRPC_STATUS_ABORTED);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_PG_EABORTED, 0), GRPC_STATUS_ABORTED);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_PG_ETIMEOUT, 0), GRPC_STATUS_RESOURCE_EXHAUSTED);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, FOLIO_PG_EQUERY, 0), GRPC_STATUS_INTERNAL);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_DB, -12345, 0), GRPC_STATUS_INTERNAL);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_S3, FOLIO_S3_EHTTP, 404), GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_S3, FOLIO_S3_EHTTP, 416), GRPC_STATUS_OUT_OF_RANGE);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_S3, FOLIO_S3_EHTTP, 503), GRPC_STATUS_UNAVAILABLE);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_S3, FOLIO_S3_EHTTP, 403), GRPC_STATUS_INTERNAL);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_S3, FOLIO_S3_ETRANSPORT, 0), GRPC_STATUS_UNAVAILABLE);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_S3, FOLIO_S3_ECANCELED, 0), GRPC_STATUS_CANCELLED);
  CHECK_EQ_INT(srv_rpc_code(FOLIO_RPC_POOL, -EAGAIN, 0), GRPC_STATUS_RESOURCE_EXHAUSTED);
}

int main(void) {
  test_workpool();
  test_workpool_fair();
  test_codes();
  return check_done();
}
