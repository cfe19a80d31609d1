/* folio.v1.LayoutService's handlers, one file per RPC group: jobs.c
 * (SubmitLayout, GetStatus, WatchJob, CancelJob) and artifacts.c
 * (StreamArtifact, GetArtifactUrl). Each fills in its members of the table. */
#ifndef FOLIO_SERVER_LAYOUT_SERVICE_H
#define FOLIO_SERVER_LAYOUT_SERVICE_H

#include <stdint.h>

#include "folio/v1/layout_service.cgrpc.h"

void srv_jobs_handlers(struct folio__v1__layout_service__handlers *h);
void srv_artifacts_handlers(struct folio__v1__layout_service__handlers *h);

/* StreamArtifact's limits (docs/security.md, "Streams and connections").
 * Zero fields mean the default. */
#define FOLIO_STREAM_STALL_MS_DEFAULT 2000
#define FOLIO_STREAM_IDLE_MS_DEFAULT 60000
#define FOLIO_STREAMS_PER_TENANT_DEFAULT 8
struct srv_stream_limits {
  /* The client took nothing for this long with S3 paused: the S3 GET is
   * released (connection closed) and resumed by range when it reads again. */
  int64_t stall_ms;
  /* A chunk waited this long for the client to take it: the stream ends
   * with ABORTED ("stream idle for N s"). */
  int64_t idle_ms;
  /* Concurrent StreamArtifact calls per tenant (per server); over it
   * RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo. */
  int per_tenant;
};
/* Sets the limits; before the server starts (not thread-safe). */
void srv_artifacts_configure(const struct srv_stream_limits *l);

#endif
