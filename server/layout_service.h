/* folio.v1.LayoutService's handlers, one file per RPC group: jobs.c
 * (SubmitLayout, GetStatus, WatchJob, CancelJob) and artifacts.c
 * (StreamArtifact, GetArtifactUrl). Each fills in its members of the table. */
#ifndef FOLIO_SERVER_LAYOUT_SERVICE_H
#define FOLIO_SERVER_LAYOUT_SERVICE_H

#include "folio/v1/layout_service.cgrpc.h"

void folio_jobs_handlers(struct folio__v1__layout_service__handlers *h);
void folio_artifacts_handlers(struct folio__v1__layout_service__handlers *h);

#endif
