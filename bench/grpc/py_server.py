"""The Python baseline for bench/grpc: grpc.health.v1.Health/Check on Debian's
python3-grpcio (sync server, thread pool), the way a Python service would
usually be written. Always SERVING for "", NOT_FOUND otherwise.

    FOLIO_LISTEN=127.0.0.1:PORT PYTHONPATH=<health stubs> py_server.py
"""
import os
import signal
import sys
import threading
from concurrent import futures

import grpc

import health_pb2
import health_pb2_grpc


class Health(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        if request.service:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


def main():
    listen = os.environ["FOLIO_LISTEN"]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    if server.add_insecure_port(listen) == 0:
        sys.stderr.write('{"msg":"cannot listen"}\n')
        return 1
    server.start()
    sys.stderr.write('{"msg":"listening","listen":"%s"}\n' % listen)
    sys.stderr.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    server.stop(0.5).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
