/* The work pool's bound (full -> -EAGAIN, so SubmitLayout can answer
 * RESOURCE_EXHAUSTED instead of queueing without limit) and the single
 * error-code -> gRPC status mapping (every row of its table). */
#include <errno.h>
#include <pthread.h>
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
  struct folio_workpool *p = folio_workpool_create(1, 2);
  CHECK(p);
  pthread_mutex_lock(&gate);
  /* one running (blocked) + two queued; wait until the thread took the first */
  CHECK_EQ_INT(folio_workpool_submit(p, blocked_task, NULL), 0);
  for (int i = 0; i < 1000 && folio_workpool_queued(p) != 0; i++) usleep(1000);
  CHECK_EQ_INT(folio_workpool_queued(p), 0);
  CHECK_EQ_INT(folio_workpool_submit(p, blocked_task, NULL), 0);
  CHECK_EQ_INT(folio_workpool_submit(p, blocked_task, NULL), 0);
  CHECK_EQ_INT(folio_workpool_submit(p, blocked_task, NULL), -EAGAIN);
  pthread_mutex_unlock(&gate);
  folio_workpool_destroy(p); /* runs what is queued, then joins */
  CHECK_EQ_INT(atomic_load(&ran), 3);
  CHECK(folio_workpool_create(0, 1) == NULL);
  CHECK(folio_workpool_create(1, 0) == NULL);
}

static void test_codes(void) {
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, 0, 0), GRPC_STATUS_OK);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_ENOTFOUND, 0), GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_EPRECONDITION, 0),
               GRPC_STATUS_FAILED_PRECONDITION);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_EAUTH, 0), GRPC_STATUS_UNAUTHENTICATED);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_PG_ECONNECT, 0), GRPC_STATUS_UNAVAILABLE);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_PG_ECLOSED, 0), GRPC_STATUS_UNAVAILABLE);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_EINVAL, 0), GRPC_STATUS_INVALID_ARGUMENT);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_PG_EINVAL, 0), GRPC_STATUS_INVALID_ARGUMENT);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_JOBS_EFENCED, 0), GRPC_STATUS_ABORTED);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_PG_ECONFLICT, 0), GRPC_STATUS_ABORTED);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_PG_EABORTED, 0), GRPC_STATUS_ABORTED);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_PG_ETIMEOUT, 0), GRPC_STATUS_RESOURCE_EXHAUSTED);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, FOLIO_PG_EQUERY, 0), GRPC_STATUS_INTERNAL);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_DB, -12345, 0), GRPC_STATUS_INTERNAL);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_S3, FOLIO_S3_EHTTP, 404), GRPC_STATUS_NOT_FOUND);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_S3, FOLIO_S3_EHTTP, 416), GRPC_STATUS_OUT_OF_RANGE);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_S3, FOLIO_S3_EHTTP, 503), GRPC_STATUS_UNAVAILABLE);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_S3, FOLIO_S3_EHTTP, 403), GRPC_STATUS_INTERNAL);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_S3, FOLIO_S3_ETRANSPORT, 0), GRPC_STATUS_UNAVAILABLE);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_S3, FOLIO_S3_ECANCELED, 0), GRPC_STATUS_CANCELLED);
  CHECK_EQ_INT(folio_rpc_code(FOLIO_RPC_POOL, -EAGAIN, 0), GRPC_STATUS_RESOURCE_EXHAUSTED);
}

int main(void) {
  test_workpool();
  test_codes();
  return check_done();
}
