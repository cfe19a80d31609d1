"""folio-server seen from a Python grpcio client (Debian's python3-grpcio, stubs
generated at build time by grpc_python_plugin). Each test starts its own server (on
a port it binds itself and reports: folio_proc) and stops it.

    client_test.py --stubs DIR --server CMD [--server-arg ARG]... [unittest args]

CMD is folio-server (or, to check the tests themselves, reference_server.py).
"""
import argparse
import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

ARGS = None  # set in main()


def stubs():
    import grpc  # noqa: F401  (import order: grpcio before the generated modules)
    import health_pb2
    import health_pb2_grpc
    from folio.v1 import layout_service_pb2, layout_service_pb2_grpc
    return health_pb2, health_pb2_grpc, layout_service_pb2, layout_service_pb2_grpc


class ClientTest(unittest.TestCase):
    env = {}

    def setUp(self):
        import grpc
        import folio_proc
        self.grpc = grpc
        (self.hpb, self.hgrpc, self.lpb, self.lgrpc) = stubs()
        self.server = folio_proc.Server(ARGS.server, env=self.env)
        self.server.start()
        self.addCleanup(self.stop_server)
        self.channel = grpc.insecure_channel(self.server.address)
        self.addCleanup(self.channel.close)
        self.health = self.hgrpc.HealthStub(self.channel)
        self.layout = self.lgrpc.LayoutServiceStub(self.channel)

    def stop_server(self):
        """Stops the server; it must exit 0 on SIGTERM (under ASan, a leak or
        error report makes it exit non-zero)."""
        rc = self.server.stop()
        log = self.server.log_text()
        self.server.close()
        self.assertEqual(rc, 0, "server exit status %s on SIGTERM; its log:\n%s" % (rc, log[-6000:]))

    def check(self, service, **kw):
        return self.health.Check(self.hpb.HealthCheckRequest(service=service), timeout=10, **kw)

    def assertServerAlive(self):
        self.assertIsNone(self.server.proc.poll(), "server exited; log:\n" + self.server.log_text())

    def call_log(self, method, status_name):
        """Waits for the server's per-call log line ({"msg":"rpc","method":...,
        "status":"<NAME>",...}) of a call to method (full path) that ended with
        status_name."""
        return self.server.wait_for_log(
            lambda rec: rec.get("msg") == "rpc" and rec.get("method") == method and rec.get("status") == status_name)


class HealthTest(ClientTest):
    def test_check(self):
        S = self.hpb.HealthCheckResponse
        self.assertEqual(self.check("").status, S.SERVING)
        self.assertEqual(self.check("folio.v1.LayoutService").status, S.SERVING)
        with self.assertRaises(self.grpc.RpcError) as cm:
            self.check("no.such.Service")
        self.assertEqual(cm.exception.code(), self.grpc.StatusCode.NOT_FOUND, cm.exception.details())

    def test_watch_first_message_is_current_status(self):
        for service in ("", "folio.v1.LayoutService"):
            stream = self.health.Watch(self.hpb.HealthCheckRequest(service=service), timeout=10)
            first = next(stream)
            self.assertEqual(first.status, self.hpb.HealthCheckResponse.SERVING)
            stream.cancel()
        self.assertServerAlive()

    def test_watch_unknown_service(self):
        # The health protocol: Watch of an unknown service is not an error, it
        # reports SERVICE_UNKNOWN (and would report the service once it exists).
        stream = self.health.Watch(self.hpb.HealthCheckRequest(service="no.such.Service"), timeout=10)
        self.assertEqual(next(stream).status, self.hpb.HealthCheckResponse.SERVICE_UNKNOWN)
        stream.cancel()

    def test_watch_deadline_expires(self):
        # Watch never ends by itself: with a deadline it must end DEADLINE_EXCEEDED.
        # The channel is connected first so the deadline covers the stream, not
        # the connection; the first message usually arrives before it expires, but
        # the test does not depend on that (no timing assertions).
        self.assertEqual(self.check("").status, self.hpb.HealthCheckResponse.SERVING)
        stream = self.health.Watch(self.hpb.HealthCheckRequest(service=""), timeout=1.0)
        got = []
        with self.assertRaises(self.grpc.RpcError) as cm:
            for msg in stream:
                got.append(msg.status)
        self.assertEqual(cm.exception.code(), self.grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertIn(got, ([], [self.hpb.HealthCheckResponse.SERVING]))
        self.assertEqual(self.check("").status, self.hpb.HealthCheckResponse.SERVING)

    def test_watch_cancelled_mid_stream(self):
        stream = self.health.Watch(self.hpb.HealthCheckRequest(service=""), timeout=30)
        self.assertEqual(next(stream).status, self.hpb.HealthCheckResponse.SERVING)
        stream.cancel()
        with self.assertRaises(self.grpc.RpcError) as cm:
            next(stream)
        self.assertEqual(cm.exception.code(), self.grpc.StatusCode.CANCELLED)
        # The server stays healthy and says the call was cancelled.
        self.assertEqual(self.check("").status, self.hpb.HealthCheckResponse.SERVING)
        rec = self.call_log("/grpc.health.v1.Health/Watch", "CANCELLED")
        self.assertIsNotNone(rec, "no log line for a CANCELLED Watch; log:\n" + self.server.log_text())
        self.assertServerAlive()


class ShutdownTest(ClientTest):
    env = {"FOLIO_SHUTDOWN_GRACE_MS": "1000"}

    def test_watch_sees_not_serving_on_sigterm(self):
        # Watch streams changes, not just the first status: on SIGTERM the server
        # turns NOT_SERVING before its grace period, then ends the stream and
        # exits 0 (checked by stop_server).
        S = self.hpb.HealthCheckResponse
        stream = self.health.Watch(self.hpb.HealthCheckRequest(service="folio.v1.LayoutService"), timeout=30)
        self.assertEqual(next(stream).status, S.SERVING)
        self.server.proc.send_signal(signal.SIGTERM)
        self.assertEqual(next(stream).status, S.NOT_SERVING)
        with self.assertRaises(self.grpc.RpcError) as cm:
            next(stream)
        self.assertNotEqual(cm.exception.code(), self.grpc.StatusCode.DEADLINE_EXCEEDED,
                            "the stream outlived the server's grace period")
        # Let it finish its own shutdown (a second SIGTERM from stop_server could
        # land in the middle of it); stop_server then checks the exit status.
        self.server.proc.wait(timeout=30)


class UnimplementedTest(ClientTest):
    def test_every_layout_rpc_is_unimplemented_and_named(self):
        lpb = self.lpb
        calls = [
            ("SubmitLayout", lambda: self.layout.SubmitLayout(lpb.SubmitLayoutRequest(layout_json=b"{}"), timeout=10)),
            ("GetStatus", lambda: self.layout.GetStatus(lpb.GetStatusRequest(job_id="j"), timeout=10)),
            ("StreamArtifact", lambda: list(self.layout.StreamArtifact(
                lpb.StreamArtifactRequest(job_id="j", name="document.pdf"), timeout=10))),
            ("WatchJob", lambda: list(self.layout.WatchJob(lpb.WatchJobRequest(job_id="j"), timeout=10))),
            ("CancelJob", lambda: self.layout.CancelJob(lpb.CancelJobRequest(job_id="j"), timeout=10)),
            ("GetArtifactUrl", lambda: self.layout.GetArtifactUrl(
                lpb.GetArtifactUrlRequest(job_id="j", name="document.pdf"), timeout=10)),
        ]
        for name, call in calls:
            with self.subTest(rpc=name):
                with self.assertRaises(self.grpc.RpcError) as cm:
                    call()
                self.assertEqual(cm.exception.code(), self.grpc.StatusCode.UNIMPLEMENTED, cm.exception.details())
                self.assertIn(name, cm.exception.details() or "")


class MetadataTest(ClientTest):
    def test_request_id_echoed_and_version_sent(self):
        resp, call = self.health.Check.with_call(self.hpb.HealthCheckRequest(service=""), timeout=10,
                                                 metadata=(("x-request-id", "interop-py-42"),))
        self.assertEqual(resp.status, self.hpb.HealthCheckResponse.SERVING)
        md = dict(call.initial_metadata())
        self.assertEqual(md.get("x-request-id"), "interop-py-42", md)
        self.assertTrue(md.get("x-folio-version"), md)
        # The call's log line carries the same id, so logs correlate with clients.
        rec = self.server.wait_for_log(lambda r: r.get("msg") == "rpc" and r.get("request_id") == "interop-py-42")
        self.assertIsNotNone(rec, "no log line with request_id interop-py-42; log:\n" + self.server.log_text())
        self.assertEqual(rec.get("method"), "/grpc.health.v1.Health/Check")
        self.assertEqual(rec.get("status"), "OK")

    def test_request_id_generated_when_absent(self):
        ids = []
        for _ in range(2):
            _, call = self.health.Check.with_call(self.hpb.HealthCheckRequest(service=""), timeout=10)
            md = dict(call.initial_metadata())
            self.assertTrue(md.get("x-request-id"), md)
            self.assertTrue(md.get("x-folio-version"), md)
            ids.append(md["x-request-id"])
        self.assertNotEqual(ids[0], ids[1])

    def test_metadata_on_error_and_stream(self):
        # Initial metadata also arrives on a call that fails and on a stream.
        fut = self.layout.GetStatus.future(self.lpb.GetStatusRequest(job_id="j"), timeout=10,
                                           metadata=(("x-request-id", "interop-py-err"),))
        with self.assertRaises(self.grpc.RpcError) as cm:
            fut.result()
        self.assertEqual(cm.exception.code(), self.grpc.StatusCode.UNIMPLEMENTED)
        self.assertEqual(dict(fut.initial_metadata()).get("x-request-id"), "interop-py-err")
        stream = self.health.Watch(self.hpb.HealthCheckRequest(service=""), timeout=10,
                                   metadata=(("x-request-id", "interop-py-watch"),))
        next(stream)
        self.assertEqual(dict(stream.initial_metadata()).get("x-request-id"), "interop-py-watch")
        stream.cancel()


class LimitTest(ClientTest):
    env = {"FOLIO_MAX_RECV_BYTES": "1024"}

    def test_message_over_limit_is_resource_exhausted(self):
        big = self.lpb.SubmitLayoutRequest(layout_json=b"x" * 4096)
        with self.assertRaises(self.grpc.RpcError) as cm:
            self.layout.SubmitLayout(big, timeout=10)
        self.assertEqual(cm.exception.code(), self.grpc.StatusCode.RESOURCE_EXHAUSTED, cm.exception.details())
        # A message under the limit still reaches the handler, and the server lives on.
        small = self.lpb.SubmitLayoutRequest(layout_json=b"{}")
        with self.assertRaises(self.grpc.RpcError) as cm:
            self.layout.SubmitLayout(small, timeout=10)
        self.assertEqual(cm.exception.code(), self.grpc.StatusCode.UNIMPLEMENTED, cm.exception.details())
        self.assertEqual(self.check("").status, self.hpb.HealthCheckResponse.SERVING)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--stubs", required=True, help="folder with the generated *_pb2*.py")
    p.add_argument("--server", required=True, action="append",
                   help="server command; repeat for its arguments")
    ARGS, rest = p.parse_known_args()
    sys.path.insert(0, ARGS.stubs)
    # Python servers started by the tests (reference_server.py) import them too.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [ARGS.stubs] + [x for x in os.environ.get("PYTHONPATH", "").split(os.pathsep) if x])
    unittest.main(argv=[sys.argv[0], "-v"] + rest)


if __name__ == "__main__":
    main()
