"""A Python grpcio server that follows folio-server's contract as far as the
interop tests see it (Health, UNIMPLEMENTED LayoutService RPCs naming the RPC,
x-request-id / x-folio-version metadata, FOLIO_MAX_RECV_BYTES, one JSON log line
per call on stderr, a "listening" line when ready).

It is not folio-server. It exists so the Python and Node interop clients can be
checked against a known-good gRPC implementation: a test that fails here is a bug
in the test, one that fails only against folio-server is a bug in folio-server.

    FOLIO_LISTEN=127.0.0.1:PORT [FOLIO_MAX_RECV_BYTES=N] reference_server.py
"""
import json
import os
import sys
import threading
import time
import uuid
from concurrent import futures

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import folio_proc  # noqa: E402
import health_pb2  # noqa: E402
import health_pb2_grpc
from folio.v1 import layout_service_pb2_grpc

# Service -> status. Every known service turns NOT_SERVING on SIGTERM, before the
# grace period, so watchers see the change (as folio-server does).
SERVICES = {"": health_pb2.HealthCheckResponse.SERVING,
            "folio.v1.LayoutService": health_pb2.HealthCheckResponse.SERVING}


def stop_serving():
    for name in SERVICES:
        SERVICES[name] = health_pb2.HealthCheckResponse.NOT_SERVING
_log_lock = threading.Lock()


def log(msg, **fields):
    rec = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "info", "msg": msg}
    rec.update(fields)
    line = json.dumps(rec) + "\n"
    with _log_lock:
        sys.stderr.write(line)
        sys.stderr.flush()


def begin(context):
    md = dict(context.invocation_metadata())
    rid = md.get("x-request-id") or uuid.uuid4().hex
    context.send_initial_metadata((("x-request-id", rid), ("x-folio-version", "reference")))
    return rid


def finish(method, rid, code):
    log("rpc", method=method, request_id=rid, status=code.name, code=code.value[0])


class Health(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        rid = begin(context)
        if request.service not in SERVICES:
            finish("/grpc.health.v1.Health/Check", rid, grpc.StatusCode.NOT_FOUND)
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service %r" % request.service)
        finish("/grpc.health.v1.Health/Check", rid, grpc.StatusCode.OK)
        return health_pb2.HealthCheckResponse(status=SERVICES[request.service])

    def Watch(self, request, context):
        rid = begin(context)

        # Watch never ends by itself, so however it ends the client went away
        # (or its deadline passed). grpcio may stop iterating this generator at
        # once, so the end is logged from the termination callback.
        def ended():
            remaining = context.time_remaining()
            code = (grpc.StatusCode.DEADLINE_EXCEEDED if remaining is not None and remaining <= 0
                    else grpc.StatusCode.CANCELLED)
            finish("/grpc.health.v1.Health/Watch", rid, code)
        context.add_callback(ended)
        sent = None
        # The current status, then every change, until the client goes away.
        while context.is_active():
            status = SERVICES.get(request.service, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN)
            if status != sent:
                sent = status
                yield health_pb2.HealthCheckResponse(status=status)
            time.sleep(0.02)


def unimplemented(name, streaming):
    def unary(self, request, context):
        rid = begin(context)
        finish("/folio.v1.LayoutService/" + name, rid, grpc.StatusCode.UNIMPLEMENTED)
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "folio.v1.LayoutService/%s is not implemented yet" % name)

    def stream(self, request, context):
        unary(self, request, context)
        yield  # pragma: no cover - abort raises
    return stream if streaming else unary


class Layout(layout_service_pb2_grpc.LayoutServiceServicer):
    pass


for _name, _streaming in (("SubmitLayout", False), ("GetStatus", False), ("StreamArtifact", True),
                          ("WatchJob", True), ("CancelJob", False), ("GetArtifactUrl", False)):
    setattr(Layout, _name, unimplemented(_name, _streaming))


def main():
    listen = os.environ.get("FOLIO_LISTEN", "127.0.0.1:50051")
    opts = []
    if os.environ.get("FOLIO_MAX_RECV_BYTES"):
        opts.append(("grpc.max_receive_message_length", int(os.environ["FOLIO_MAX_RECV_BYTES"])))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=opts)
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    layout_service_pb2_grpc.add_LayoutServiceServicer_to_server(Layout(), server)
    return folio_proc.serve(server, listen, on_signal=stop_serving)


if __name__ == "__main__":
    sys.exit(main())
