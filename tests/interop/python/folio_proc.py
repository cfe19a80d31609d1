"""The two sides of one contract between a test and a server process.
Test side, Server: start and stop one gRPC server process for a test: free loopback port, own temp
dir, stderr captured to a log file, readiness = a JSON log line containing
"listening". Stops exactly the process it started (SIGTERM, then SIGKILL), also when
the test fails. Used by the interop tests and by bench/grpc.

    with folio_proc.Server([path_to_folio_server], env={"FOLIO_MAX_RECV_BYTES": "1024"}) as s:
        channel = grpc.insecure_channel(s.address)
        ...
        s.log_records()   # parsed JSON log lines so far

Server side, serve(): what the Python servers (reference, canned, bench
baseline) do once built: listen, say "listening", stop on SIGTERM/SIGINT.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def serve(server, listen, grace=1.0, on_signal=None):
    """Binds a grpc.server (servicers already added) to listen ("host:port"),
    starts it, prints {"msg":"listening",...} on stderr, serves until SIGTERM or
    SIGINT, calls on_signal() (if given), then stops it with grace seconds for
    calls in flight. Returns the process exit status (1 when the address cannot
    be bound; after a signal it ends the process itself with status 0)."""
    import threading
    if server.add_insecure_port(listen) == 0:
        sys.stderr.write(json.dumps({"level": "error", "msg": "cannot listen", "listen": listen}) + "\n")
        return 1
    server.start()
    sys.stderr.write(json.dumps({"level": "info", "msg": "listening", "listen": listen}) + "\n")
    sys.stderr.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    if on_signal is not None:
        on_signal()
    server.stop(grace).wait(grace + 5.0)
    # Ends the process here: under load, grpcio's core threads have been seen
    # to keep interpreter finalization from finishing (the test harness then
    # had to SIGKILL the server after 10 s). Every caller exits right after.
    sys.stderr.flush()
    os._exit(0)


def free_port():
    """A loopback TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(Exception):
    pass


class Server:
    """argv: the server command ("{port}" in an argument becomes the port);
    env: extra environment; listen_env: the variable that gets "127.0.0.1:PORT"
    (None: none); ready: the text of the stderr line that says the server is
    ready (None: ready once the port accepts a TCP connection)."""

    def __init__(self, argv, env=None, listen_env="FOLIO_LISTEN", ready="listening",
                 timeout=30.0, cwd=None):
        self.argv = list(argv)
        self.env = dict(env or {})
        self.listen_env = listen_env
        self.ready = ready
        self.timeout = timeout
        self.cwd = cwd
        self.proc = None
        self.port = None
        self.address = None
        self._tmp = None
        self.log_path = None

    # -- lifecycle ---------------------------------------------------------
    def start(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="folio-interop-")
        last = None
        # Another process may take the port between free_port() and the server's
        # bind; a server that exits before it is ready is retried on a new port.
        for attempt in range(3):
            try:
                self._start_once(attempt)
                return self
            except ServerError as e:
                last = e
                if self.proc is not None and self.proc.poll() is None:
                    raise
        raise last

    def _start_once(self, attempt):
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        env = dict(os.environ)
        env.update(self.env)
        if self.listen_env:
            env[self.listen_env] = self.address
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        self.log_path = os.path.join(self._tmp.name, "server-%d.log" % attempt)
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         cwd=self.cwd or self._tmp.name,
                                         start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._is_ready():
                return
            rc = self.proc.poll()
            if rc is not None:
                raise ServerError("%s exited with %d before it was ready; its log:\n%s"
                                  % (argv[0], rc, self.log_text()[-4000:]))
            time.sleep(0.02)
        self.stop()
        raise ServerError("%s was not ready (%s) within %.0f s; its log:\n%s"
                          % (argv[0], "no line containing %r" % self.ready if self.ready else "port closed",
                             self.timeout, self.log_text()[-4000:]))

    def _is_ready(self):
        if self.ready is not None:
            return any(self.ready in line for line in self.log_text().splitlines())
        # ready=None: a server that logs nothing at its level is ready once its
        # port accepts a connection.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self, timeout=10.0):
        """Stops the server; returns its exit code (None if it was not started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self):
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    # -- what the server said ---------------------------------------------
    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_records(self):
        """Every stderr line that parses as a JSON object, in order."""
        out = []
        for line in self.log_text().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict):
                    out.append(rec)
        return out

    def wait_for_log(self, predicate, timeout=5.0):
        """The first JSON log record for which predicate(record) holds, waiting up
        to timeout seconds for the server to write it; None if none did."""
        deadline = time.monotonic() + timeout
        while True:
            for rec in self.log_records():
                if predicate(rec):
                    return rec
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
