"""The Python baseline for bench/grpc: grpc.health.v1.Health/Check on Debian's
python3-grpcio (sync server, thread pool), the way a Python service would
usually be written. Always SERVING for "", NOT_FOUND otherwise.

    FOLIO_LISTEN=127.0.0.1:PORT PYTHONPATH=<health stubs> py_server.py
"""
import os
import sys
from concurrent import futures

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "interop", "python"))
import folio_proc  # noqa: E402
import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402


class Health(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        if request.service:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


def main():
    listen = os.environ["FOLIO_LISTEN"]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    return folio_proc.serve(server, listen, grace=0.5)


if __name__ == "__main__":
    sys.exit(main())
