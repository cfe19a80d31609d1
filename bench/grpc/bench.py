"""bench/grpc driver: unary Health/Check throughput and latency, and
server-streaming MB/s with server RSS, for folio's gRPC runtime against a C++
async server and a Python grpcio server, all measured in this one run.

The load generator is h2load (nghttp2-client) sending a pre-encoded gRPC frame:
it is written in C on nghttp2, parses no protobuf, and its own CPU share is
printed so a reader can see it is not the bottleneck. Each server runs alone,
pinned to the same CPUs (--server-cpus); h2load gets the others (--client-cpus).
Servers are measured in alternating rounds and the median round is reported,
because this machine is shared.

Prints a table and the ratios against the issue's targets; asserts nothing
about timing (exit 0 unless something failed to run or answered wrongly).
"""
import argparse
import os
import re
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "interop", "python"))
import folio_proc  # noqa: E402


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def grpc_frame(msg):
    """A gRPC length-prefixed message: flag 0 (uncompressed), 4-byte big-endian length."""
    return b"\x00" + struct.pack(">I", len(msg)) + msg


def stream_request(total, chunk):
    # folio.bench.v1.StreamRequest{total_bytes=1, chunk_bytes=2}
    return b"\x08" + varint(total) + b"\x10" + varint(chunk)


def stream_wire_bytes(total, chunk):
    """DATA bytes a complete Stream reply carries: per message 5 bytes of gRPC
    prefix + field tag + length varint + payload."""
    n = 0
    left = total
    while left > 0:
        c = min(chunk, left)
        n += 5 + 1 + len(varint(c)) + c
        left -= c
    return n


class Proc:
    """rusage of a child process we run to completion (h2load)."""

    @staticmethod
    def run(argv, timeout, mark_after=None, mark=None):
        """Runs argv to completion; returns (exit code, output, wall s, its CPU s).
        With mark_after, calls mark() that many seconds after the start (e.g. at
        the end of h2load's warm-up)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            if mark_after is not None:
                time.sleep(mark_after)
                mark()
            out, _ = p.communicate(timeout=timeout)
        except BaseException:
            p.kill()
            p.wait()
            raise
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return p.returncode, out.decode("utf-8", "replace"), wall, cpu


def rss_kb(pid, field="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cpu_s(pid):
    """User + system CPU seconds of a process (all its threads) so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    def __init__(self, pid, period=0.01):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.samples = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            v = rss_kb(self.pid)
            if v is not None:
                self.samples.append(v)
            time.sleep(self.period)

    def stop(self):
        self._halt.set()
        self.join()


def h2load_cmd(args, path, data_file, extra):
    cmd = []
    if args.client_cpus:
        cmd += ["taskset", "-c", args.client_cpus]
    return cmd + [args.h2load, "-H", "content-type: application/grpc", "-H", "te: trailers",
                  "-d", data_file] + extra + ["http://%s%s" % (args.addr_placeholder, path)]


def parse_h2load(out):
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
    if not m:
        raise RuntimeError("cannot read h2load's summary:\n" + out)
    done, ok, failed, errored = int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6))
    data = re.search(r"traffic: .*?, [^,]*headers[^,]*, [^(]*\((\d+)\) data", out)
    return done, ok, failed + errored, int(data.group(1)) if data else None


def percentile(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, int(round(q * (len(sorted_vals) - 1)))))
    return sorted_vals[i]


def check_health(address, stubs):
    """Proves the server answers Health/Check("") = SERVING before it is timed
    (h2load sees only HTTP 200 and cannot read grpc-status)."""
    code = ("import sys, grpc; sys.path.insert(0, %r); import health_pb2 as h, health_pb2_grpc as g;"
            "ch = grpc.insecure_channel(%r); r = g.HealthStub(ch).Check(h.HealthCheckRequest(), timeout=10);"
            "sys.exit(0 if r.status == h.HealthCheckResponse.SERVING else 3)") % (stubs, address)
    p = subprocess.run([args_python(), "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("Health/Check against %s failed: %s" % (address, p.stdout.decode()))


def args_python():
    return "/usr/bin/python3"


def pinned(args, argv):
    return (["taskset", "-c", args.server_cpus] if args.server_cpus else []) + argv


def servers_unary(args):
    out = {}
    if args.folio_server:
        out["folio"] = (pinned(args, [args.folio_server]), {"FOLIO_LOG_LEVEL": args.folio_log_level})
    out["cpp"] = (pinned(args, [args.cpp_server, "{port}", str(args.threads)]), {})
    out["python"] = (pinned(args, [args_python(), os.path.join(HERE, "py_server.py")]),
                     {"PYTHONPATH": args.py_stubs})
    return out


def run_unary(args, name, argv, env, tmp):
    frame = os.path.join(tmp, "check.bin")
    with open(frame, "wb") as f:
        f.write(grpc_frame(b""))  # HealthCheckRequest{service=""} encodes to nothing
    # h2load appends to its log file: one fresh file per run.
    fd, log = tempfile.mkstemp(prefix="h2load-%s-" % name, suffix=".log", dir=tmp)
    os.close(fd)
    # Readiness (and the port, bound by the server itself) from /proc: at
    # FOLIO_LOG_LEVEL=warn folio-server logs no "listening" line.
    with folio_proc.Server(argv, env=env, timeout=30, ready=None) as s:
        check_health(s.address, args.py_stubs)
        cmd = h2load_cmd(args, "/grpc.health.v1.Health/Check", frame,
                         ["-c", str(args.connections), "-m", str(args.streams), "-t", "1",
                          "-D", "%dms" % (args.seconds * 1000), "--warm-up-time", "%dms" % (args.warmup * 1000), "--log-file", log])
        cmd = [c.replace(args.addr_placeholder, s.address) for c in cmd]
        # The server's CPU during h2load's measured period (after its warm-up).
        marks = []
        rc, out, wall, cpu = Proc.run(cmd, timeout=args.seconds + args.warmup + 60, mark_after=args.warmup,
                                      mark=lambda: marks.append((proc_cpu_s(s.proc.pid), time.monotonic())))
        server_cpu = proc_cpu_s(s.proc.pid) - marks[0][0]
        server_wall = time.monotonic() - marks[0][1]
        if rc != 0:
            raise RuntimeError("h2load against %s exited %d:\n%s" % (name, rc, out))
        alive = s.proc.poll() is None
        server_log = s.log_text()
    if not alive:
        raise RuntimeError("%s died under load; its log:\n%s" % (name, server_log[-3000:]))
    done, ok, bad, _ = parse_h2load(out)
    rate = re.search(r"finished in [^,]+, ([\d.]+) req/s", out)
    lat = []
    with open(log) as f:
        for line in f:
            parts = line.split("\t")
            if len(parts) >= 3 and parts[1] == "200":
                lat.append(int(parts[2]))
    lat.sort()
    if ok == 0 or bad:
        raise RuntimeError("%s: %d calls succeeded, %d failed:\n%s" % (name, ok, bad, out))
    return {"calls_per_s": float(rate.group(1)) if rate else ok / args.seconds, "ok": ok, "failed": bad,
            "p50_ms": percentile(lat, 0.50) / 1000.0, "p99_ms": percentile(lat, 0.99) / 1000.0,
            "client_cpu": cpu / wall, "server_cpu": server_cpu / server_wall,
            # Calls per CPU second the server burned: steadier than calls/s when
            # other work on the machine takes part of the server's CPU.
            "calls_per_server_cpu_s": ok / max(server_cpu, 1e-3)}


def run_stream(args, name, argv, env, tmp):
    req = os.path.join(tmp, "stream.bin")
    with open(req, "wb") as f:
        f.write(grpc_frame(stream_request(args.stream_bytes, args.chunk_bytes)))
    with folio_proc.Server(argv, env=env, timeout=30) as s:
        pid = s.proc.pid
        base = rss_kb(pid)
        sampler = RssSampler(pid)
        sampler.start()
        cmd = h2load_cmd(args, "/folio.bench.v1.Bench/Stream", req, ["-n", "1", "-c", "1", "-m", "1", "-t", "1"])
        cmd = [c.replace(args.addr_placeholder, s.address) for c in cmd]
        t0 = time.monotonic()
        server_cpu0 = proc_cpu_s(pid)
        rc, out, wall, cpu = Proc.run(cmd, timeout=600)
        server_cpu = proc_cpu_s(pid) - server_cpu0
        secs = time.monotonic() - t0
        sampler.stop()
        hwm = rss_kb(pid, "VmHWM")
        end = rss_kb(pid)
    if rc != 0:
        raise RuntimeError("h2load Stream against %s exited %d:\n%s" % (name, rc, out))
    done, ok, bad, data = parse_h2load(out)
    want = stream_wire_bytes(args.stream_bytes, args.chunk_bytes)
    if ok != 1 or data != want:
        raise RuntimeError("%s: Stream delivered %s DATA bytes, want %d (ok=%d):\n%s" % (name, data, want, ok, out))
    m = re.search(r"finished in ([\d.]+)(ms|s|us)", out)
    t = float(m.group(1)) * {"s": 1, "ms": 1e-3, "us": 1e-6}[m.group(2)] if m else secs
    return {"mb_per_s": args.stream_bytes / t / 1e6, "seconds": t, "rss_start_mb": base / 1024.0,
            "rss_peak_mb": hwm / 1024.0, "rss_end_mb": end / 1024.0,
            "rss_sampled_max_mb": max(sampler.samples or [base]) / 1024.0, "client_cpu": cpu / wall,
            "server_cpu_s": server_cpu,
            # The server's own limit: MB it moves per CPU second it burns. When the
            # client saturates first (loopback, h2load near 100%), this is the
            # figure that still tells the servers apart.
            "mb_per_server_cpu_s": args.stream_bytes / 1e6 / max(server_cpu, 1e-3)}


def rotated(servers, r):
    """The servers in round r's order: each round starts with the next one, so
    no server always runs first (or right after the heaviest)."""
    items = list(servers.items())
    k = r % len(items)
    return items[k:] + items[:k]


def median_by(rounds, key):
    """The round whose `key` is the median (so the row's numbers belong together)."""
    ordered = sorted(rounds, key=lambda r: r[key])
    return ordered[len(ordered) // 2]


def round_ratio(rounds_a, rounds_b, key):
    """The median over rounds of a[key]/b[key] within each round: servers that
    ran back to back saw the same background load, so per-round ratios are
    steadier than a ratio of medians on a shared machine."""
    return statistics.median(a[key] / b[key] for a, b in zip(rounds_a, rounds_b))


def ratio_line(label, value, target, better):
    ok = value >= target if better == "higher" else value <= target
    return "  %-44s %8.2f   target %s %.2f   %s" % (label, value, ">=" if better == "higher" else "<=",
                                                     target, "meets" if ok else "MISSES")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--folio-server", help="folio-server binary (omit to bench only the baselines)")
    p.add_argument("--cpp-server", required=True)
    p.add_argument("--c-stream-server", help="cgrpc-runtime Bench/Stream server")
    p.add_argument("--py-stubs", required=True, help="folder with health_pb2*.py")
    p.add_argument("--h2load", default=shutil.which("h2load") or "h2load")
    p.add_argument("--seconds", type=float, default=5.0, help="measured seconds per unary run")
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--streams", type=int, default=32, help="concurrent streams per connection (h2load -m)")
    p.add_argument("--threads", type=int, default=2, help="CQ threads of the C++ server")
    p.add_argument("--stream-bytes", type=int, default=1 << 30)
    p.add_argument("--chunk-bytes", type=int, default=64 << 10)
    p.add_argument("--server-cpus", default="1" if (os.cpu_count() or 1) > 1 else "")
    p.add_argument("--client-cpus", default="0" if (os.cpu_count() or 1) > 1 else "")
    p.add_argument("--folio-log-level", default="info",
                   help="FOLIO_LOG_LEVEL for folio-server (info = one log line per call, as in production)")
    p.add_argument("--require-all", action="store_true",
                   help="fail unless folio-server and the cgrpc stream server were measured (smoke test)")
    args = p.parse_args()
    if args.require_all and not (args.folio_server and args.c_stream_server):
        p.error("--require-all needs --folio-server and --c-stream-server")
    args.addr_placeholder = "ADDR"
    # Servers run in their own temp dir: make every path absolute.
    for k in ("folio_server", "cpp_server", "c_stream_server", "py_stubs"):
        if getattr(args, k):
            setattr(args, k, os.path.abspath(getattr(args, k)))

    tmp = tempfile.mkdtemp(prefix="folio-bench-grpc-")
    try:
        unary = {name: [] for name in servers_unary(args)}
        for r in range(args.rounds):
            for name, (argv, env) in rotated(servers_unary(args), r):
                unary[name].append(run_unary(args, name, argv, env, tmp))
        stream_servers = {"cpp": (pinned(args, [args.cpp_server, "{port}", str(args.threads)]), {})}
        if args.c_stream_server:
            stream_servers["cgrpc"] = (pinned(args, [args.c_stream_server]), {})
        streaming = {name: [] for name in stream_servers}
        for r in range(args.rounds):
            for name, (argv, env) in rotated(stream_servers, r):
                streaming[name].append(run_stream(args, name, argv, env, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("bench/grpc: unary Health/Check, h2load -c%d -m%d, %g s per run, median of %d rounds;"
          " server on cpus [%s], h2load on [%s]" % (args.connections, args.streams, args.seconds, args.rounds,
                                                     args.server_cpus or "any", args.client_cpus or "any"))
    # "h2load limit": the rate h2load could drive if it had its CPU to itself
    # (rate / its CPU share); far above the measured rate = not the bottleneck.
    print("  %-8s %12s %9s %9s %8s %11s %17s %12s %14s" % (
        "server", "calls/s", "p50 ms", "p99 ms", "failed", "server cpu", "calls/server-cpu-s", "h2load cpu",
        "h2load limit"))
    med = {}
    for name, rounds in unary.items():
        m = med[name] = median_by(rounds, "calls_per_s")
        print("  %-8s %12.0f %9.2f %9.2f %8d %10.0f%% %17.0f %11.0f%% %14.0f" % (
            name, m["calls_per_s"], m["p50_ms"], m["p99_ms"], m["failed"], 100 * m["server_cpu"],
            m["calls_per_server_cpu_s"], 100 * m["client_cpu"], m["calls_per_s"] / max(m["client_cpu"], 1e-6)))
    print("bench/grpc: server-streaming Bench/Stream, %d bytes in %d-byte messages, median of %d rounds"
          % (args.stream_bytes, args.chunk_bytes, args.rounds))
    print("  %-8s %10s %9s %11s %11s %11s %16s %12s %14s" % (
        "server", "MB/s", "seconds", "RSS start", "RSS peak", "RSS end", "MB/server-cpu-s", "h2load cpu",
        "h2load limit"))
    smed = {}
    for name, rounds in streaming.items():
        m = smed[name] = median_by(rounds, "mb_per_s")
        print("  %-8s %10.1f %9.3f %8.1f MB %8.1f MB %8.1f MB %16.0f %11.0f%% %9.0f MB/s" % (
            name, m["mb_per_s"], m["seconds"], m["rss_start_mb"], m["rss_peak_mb"], m["rss_end_mb"],
            m["mb_per_server_cpu_s"], 100 * m["client_cpu"], m["mb_per_s"] / max(m["client_cpu"], 1e-6)))
    print("ratios (median over rounds of the ratio within each round):")
    if "folio" in med:
        f, c, py = unary["folio"], unary["cpp"], unary["python"]
        print(ratio_line("folio / C++ unary throughput", round_ratio(f, c, "calls_per_s"), 0.9, "higher"))
        print(ratio_line("folio / Python unary throughput", round_ratio(f, py, "calls_per_s"), 10, "higher"))
        print(ratio_line("folio / C++ p99 latency", round_ratio(f, c, "p99_ms"), 1.0, "lower"))
        print(ratio_line("folio / C++ calls per server CPU second", round_ratio(f, c, "calls_per_server_cpu_s"),
                         0.9, "higher"))
    else:
        print("  (no folio-server given: unary ratios not computed)")
    print("  %-44s %8.2f" % ("C++ / Python unary throughput",
                             round_ratio(unary["cpp"], unary["python"], "calls_per_s")))
    if "cgrpc" in smed:
        print(ratio_line("cgrpc / C++ streaming MB/s", round_ratio(streaming["cgrpc"], streaming["cpp"], "mb_per_s"),
                         0.9, "higher"))
        print(ratio_line("cgrpc / C++ streaming MB per server CPU second",
                         round_ratio(streaming["cgrpc"], streaming["cpp"], "mb_per_server_cpu_s"), 0.9, "higher"))
        if max(r["client_cpu"] for rs in streaming.values() for r in rs) > 0.9:
            print("  note: h2load used >90% of its CPU while streaming: MB/s is capped by the client,"
                  " compare MB per server CPU second")
        print(ratio_line("cgrpc / C++ streaming peak RSS",
                         round_ratio(streaming["cgrpc"], streaming["cpp"], "rss_peak_mb"),
                         1.0, "lower"))
    else:
        print("  (no cgrpc stream server given: streaming ratios not computed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
