/* The job RPCs. Their backend (the PostgreSQL job store, the Redis dispatch
 * stream and the worker pool) is not built yet, so each answers UNIMPLEMENTED
 * saying exactly which capability is missing; nothing pretends to work. */
#include "layout_service.h"

#define NO_JOB_STORE                                                                         \
  "is not available yet: this folio-server has no job store (the PostgreSQL/Redis job " \
  "pipeline is not built yet)"

static void submit_layout(struct cgrpc_call *call, const Folio__V1__SubmitLayoutRequest *req,
                          void *impl) {
  cgrpc_call_finish(call, GRPC_STATUS_UNIMPLEMENTED,
                    "SubmitLayout " NO_JOB_STORE "; layouts cannot be accepted for rendering");
}

static void get_status(struct cgrpc_call *call, const Folio__V1__GetStatusRequest *req,
                       void *impl) {
  cgrpc_call_finish(call, GRPC_STATUS_UNIMPLEMENTED, "GetStatus " NO_JOB_STORE);
}

static void watch_job(struct cgrpc_call *call, const Folio__V1__WatchJobRequest *req, void *impl) {
  cgrpc_call_finish(call, GRPC_STATUS_UNIMPLEMENTED,
                    "WatchJob " NO_JOB_STORE " and no job event feed (Pub/Sub)");
}

static void cancel_job(struct cgrpc_call *call, const Folio__V1__CancelJobRequest *req,
                       void *impl) {
  cgrpc_call_finish(call, GRPC_STATUS_UNIMPLEMENTED, "CancelJob " NO_JOB_STORE);
}

void folio_jobs_handlers(struct folio__v1__layout_service__handlers *h) {
  h->submit_layout = submit_layout;
  h->get_status = get_status;
  h->watch_job = watch_job;
  h->cancel_job = cancel_job;
}
