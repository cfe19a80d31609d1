/* The artifact RPCs. Artifacts live in S3; the S3 client (lib/s3) and the
 * rendering workers are not built yet, so both answer UNIMPLEMENTED naming
 * the missing capability. */
#include "layout_service.h"

static void stream_artifact(struct cgrpc_call *call, const Folio__V1__StreamArtifactRequest *req,
                            void *impl) {
  cgrpc_call_finish(call, GRPC_STATUS_UNIMPLEMENTED,
                    "StreamArtifact is not available yet: this folio-server has no artifact "
                    "storage (the S3 client and the render workers are not built yet)");
}

static void get_artifact_url(struct cgrpc_call *call, const Folio__V1__GetArtifactUrlRequest *req,
                             void *impl) {
  cgrpc_call_finish(call, GRPC_STATUS_UNIMPLEMENTED,
                    "GetArtifactUrl is not available yet: this folio-server cannot sign S3 URLs "
                    "(the S3 client with SigV4 presigning is not built yet)");
}

void folio_artifacts_handlers(struct folio__v1__layout_service__handlers *h) {
  h->stream_artifact = stream_artifact;
  h->get_artifact_url = get_artifact_url;
}
