"""Runs the reverse interop test: starts canned_server.py (Python grpcio) on a
loopback port it binds itself and reports (folio_proc), runs the C client given on the command line against it,
stops the server, and exits with the client's status.

    run_reverse.py --stubs DIR CLIENT [ARGS...]   (HOST:PORT is appended)
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import folio_proc  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stubs", required=True)
    p.add_argument("client", nargs="+")
    a = p.parse_args()
    env = {"PYTHONPATH": os.pathsep.join([a.stubs, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    with folio_proc.Server([sys.executable, os.path.join(HERE, "canned_server.py")], env=env) as s:
        try:
            rc = subprocess.run(a.client + [s.address], timeout=120).returncode
        except subprocess.TimeoutExpired:
            print("run_reverse: the client did not finish in 120 s", file=sys.stderr)
            rc = 1
        if rc != 0:
            sys.stderr.write("run_reverse: client exited %d; server log:\n%s" % (rc, s.log_text()))
    return rc


if __name__ == "__main__":
    sys.exit(main())
