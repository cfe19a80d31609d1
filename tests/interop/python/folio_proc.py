"""The two sides of one contract between a test and a server process.
Test side, Server: start and stop one gRPC server process for a test: the server
binds port 0 itself and reports the port it got (a test never picks a "free"
port first: a test running in parallel could take it in between), own temp dir,
stderr captured to a log file, readiness = the JSON log line
{"msg":"listening",...,"address":"127.0.0.1:PORT"}. Stops exactly the process it
started (SIGTERM, then SIGKILL), also when the test fails. Used by the interop
tests and by bench/grpc.

    with folio_proc.Server([path_to_folio_server], env={"FOLIO_MAX_RECV_BYTES": "1024"}) as s:
        channel = grpc.insecure_channel(s.address)
        ...
        s.log_records()   # parsed JSON log lines so far

Server side, serve(): what the Python servers (reference, canned, bench
baseline) do once built: listen, say "listening" with the bound address, stop on
SIGTERM/SIGINT.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time


def serve(server, listen, grace=1.0, on_signal=None):
    """Binds a grpc.server (servicers already added) to listen ("host:port", port
    0: the OS picks one), starts it, prints {"msg":"listening",...,"address":
    "host:PORT"} (the port it got) on stderr, serves until SIGTERM or
    SIGINT, calls on_signal() (if given), then stops it with grace seconds for
    calls in flight. Returns the process exit status (1 when the address cannot
    be bound; after a signal it ends the process itself with status 0)."""
    import threading
    port = server.add_insecure_port(listen)
    if port == 0:
        sys.stderr.write(json.dumps({"level": "error", "msg": "cannot listen", "listen": listen}) + "\n")
        return 1
    server.start()
    address = "%s:%d" % (listen.rsplit(":", 1)[0], port)
    sys.stderr.write(json.dumps({"level": "info", "msg": "listening", "listen": listen,
                                 "address": address}) + "\n")
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


def listening_ports(pid):
    """The local ports of the TCP sockets process pid listens on (from /proc:
    its socket inodes matched against /proc/PID/net/tcp{,6})."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(fd_dir):
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return []
    ports = []
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    # local_address is HEXIP:HEXPORT; st 0A is LISTEN
                    if fields[3] == "0A" and fields[9] in inodes:
                        ports.append(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            continue
    return ports


class ServerError(Exception):
    pass


class Server:
    """argv: the server command ("{port}" in an argument becomes 0: the server
    binds a port of the OS's choosing); env: extra environment; listen_env: the
    variable that gets "127.0.0.1:0" (None: none); ready: the "msg" of the JSON
    stderr line that says the server is ready and carries "address":
    "HOST:PORT", the port it bound (None, for a server that logs nothing at
    its level: ready once the process listens on a TCP port, read from /proc).
    After start(), address and port are what the server reported."""

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
        """Starts the server and waits for it to report its address. A server
        that exits first, or says nothing within timeout, is a failure
        (ServerError with its log): there is no port race to retry."""
        self._tmp = tempfile.TemporaryDirectory(prefix="folio-interop-")
        env = dict(os.environ)
        env.update(self.env)
        if self.listen_env:
            env[self.listen_env] = "127.0.0.1:0"
        argv = [a.replace("{port}", "0") for a in self.argv]
        self.log_path = os.path.join(self._tmp.name, "server.log")
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
            address = self._reported_address()
            if address:
                self.address = address
                self.port = int(address.rsplit(":", 1)[1])
                return self
            rc = self.proc.poll()
            if rc is not None:
                raise ServerError("%s exited with %d before it was ready; its log:\n%s"
                                  % (argv[0], rc, self.log_text()[-4000:]))
            time.sleep(0.02)
        self.stop()
        raise ServerError("%s was not ready (%s) within %.0f s; its log:\n%s"
                          % (argv[0], "no %r line with an address" % self.ready if self.ready
                             else "no listening TCP socket", self.timeout, self.log_text()[-4000:]))

    def _reported_address(self):
        if self.ready is not None:
            for rec in self.log_records():
                if rec.get("msg") == self.ready and isinstance(rec.get("address"), str) \
                        and ":" in rec["address"]:
                    return rec["address"]
            return None
        ports = listening_ports(self.proc.pid)
        return "127.0.0.1:%d" % ports[0] if ports else None

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
