"""A Python grpcio server of folio.v1.LayoutService with canned replies, for the
reverse interop test: C client stubs (tests/interop/c/) calling a server that is
not ours. The replies are fixed so the C side can check every field; the values
here and in tests/interop/c/reverse_client.c must agree.

    FOLIO_LISTEN=127.0.0.1:PORT canned_server.py

  SubmitLayout   echoes the request's shape back in job_id (checks C encoding of
                 bytes, repeated enums, nested messages and maps)
  GetStatus      "job-1" -> a SUCCEEDED Job with labels, timestamps, 2 artifacts;
                 anything else -> NOT_FOUND "job <id> not found"
  WatchJob       "job-1" -> 3 Jobs (QUEUED 0%, RUNNING 50%, SUCCEEDED 100%)
  StreamArtifact 3 chunks of a byte pattern, sha256 on the last
  CancelJob      FAILED_PRECONDITION "job <id> already finished (SUCCEEDED)"
  GetArtifactUrl sleeps until the client's deadline passes (for the deadline test)

Every call must carry `authorization: Bearer interop-key` (else UNAUTHENTICATED);
x-request-id is echoed in the initial metadata and `x-canned: yes` is sent as
trailing metadata. One JSON line per call on stderr.
"""
import hashlib
import json
import os
import sys
import time
from concurrent import futures

import grpc
from google.protobuf import timestamp_pb2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import folio_proc  # noqa: E402
from folio.v1 import layout_service_pb2 as pb  # noqa: E402
from folio.v1 import layout_service_pb2_grpc as pbg  # noqa: E402


def ts(seconds, nanos=0):
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def job_1():
    return pb.Job(
        job_id="job-1", state=pb.JOB_STATE_SUCCEEDED, progress_percent=100, attempts=2,
        created_at=ts(1700000000, 123000000), started_at=ts(1700000005),
        finished_at=ts(1700000009, 999999999),
        labels={"team": "print", "order": "A-17"},
        formats=[pb.FORMAT_PDF, pb.FORMAT_PNG],
        artifacts=[
            pb.Artifact(name="document.pdf", format=pb.FORMAT_PDF, page=0, size_bytes=5000000000,
                        sha256_hex="ab" * 32, content_type="application/pdf",
                        signed_url="http://127.0.0.1:9000/folio/job-1/document.pdf?X-Amz-Signature=00ff",
                        url_expires_at=ts(1700000900)),
            pb.Artifact(name="page-0001.png", format=pb.FORMAT_PNG, page=1, size_bytes=4096,
                        sha256_hex="cd" * 32, content_type="image/png",
                        signed_url="http://127.0.0.1:9000/folio/job-1/page-0001.png?X-Amz-Signature=11ee",
                        url_expires_at=ts(1700000900)),
        ])


def chunk_bytes(offset, n):
    return bytes((offset + i) * 7 % 251 for i in range(n))


def log(**fields):
    sys.stderr.write(json.dumps(fields) + "\n")
    sys.stderr.flush()


def call(method):
    """Wraps a handler: checks authorization, echoes x-request-id, logs the call."""
    def wrap(fn):
        def handler(self, request, context):
            md = dict(context.invocation_metadata())
            context.send_initial_metadata((("x-request-id", md.get("x-request-id", "none")),))
            context.set_trailing_metadata((("x-canned", "yes"),))
            log(msg="rpc", method=method, request_id=md.get("x-request-id"))
            if md.get("authorization") != "Bearer interop-key":
                context.abort(grpc.StatusCode.UNAUTHENTICATED,
                              "authorization: want 'Bearer interop-key', got %r" % md.get("authorization"))
            return fn(self, request, context)
        return handler
    return wrap


def stream_call(method):
    def wrap(fn):
        inner = call(method)(lambda self, request, context: list(fn(self, request, context)))

        def handler(self, request, context):
            yield from inner(self, request, context)
        return handler
    return wrap


class Layout(pbg.LayoutServiceServicer):
    @call("SubmitLayout")
    def SubmitLayout(self, request, context):
        shape = "%s|%d|%s|%d:%s|%s" % (
            request.idempotency_key, len(request.layout_json),
            ",".join(pb.Format.Name(f) for f in request.formats),
            request.options.png_dpi, request.options.page_range,
            ",".join("%s=%s" % kv for kv in sorted(request.labels.items())))
        return pb.SubmitLayoutResponse(job_id=shape, state=pb.JOB_STATE_QUEUED,
                                       deduplicated=bool(request.idempotency_key))

    @call("GetStatus")
    def GetStatus(self, request, context):
        if request.job_id != "job-1":
            context.abort(grpc.StatusCode.NOT_FOUND, "job %s not found" % request.job_id)
        return job_1()

    @stream_call("WatchJob")
    def WatchJob(self, request, context):
        if request.job_id != "job-1":
            context.abort(grpc.StatusCode.NOT_FOUND, "job %s not found" % request.job_id)
        yield pb.Job(job_id="job-1", state=pb.JOB_STATE_QUEUED, progress_percent=0,
                     created_at=ts(1700000000, 123000000))
        yield pb.Job(job_id="job-1", state=pb.JOB_STATE_RUNNING, progress_percent=50, attempts=1,
                     created_at=ts(1700000000, 123000000), started_at=ts(1700000005))
        yield job_1()

    @stream_call("StreamArtifact")
    def StreamArtifact(self, request, context):
        size = request.chunk_size or 65536
        total = 3 * size
        whole = chunk_bytes(0, total)
        for i in range(3):
            yield pb.ArtifactChunk(data=whole[i * size:(i + 1) * size], offset=i * size, total_size=total,
                                   sha256_hex=hashlib.sha256(whole).hexdigest() if i == 2 else "")

    @call("CancelJob")
    def CancelJob(self, request, context):
        context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                      "job %s already finished (SUCCEEDED)" % request.job_id)

    @call("GetArtifactUrl")
    def GetArtifactUrl(self, request, context):
        # Never answers in time: waits until the client gives up (deadline or cancel).
        while context.is_active():
            time.sleep(0.02)
        return pb.ArtifactUrl()


def main():
    listen = os.environ.get("FOLIO_LISTEN", "127.0.0.1:50051")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pbg.add_LayoutServiceServicer_to_server(Layout(), server)
    return folio_proc.serve(server, listen)


if __name__ == "__main__":
    sys.exit(main())
