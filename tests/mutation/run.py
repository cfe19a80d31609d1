#!/usr/bin/python3
"""folio's mutation runner: does a green suite mean the code is right?

    tests/mutation/run.py [--fast] [--only NAME]... [--list] [--work DIR]
                          [--no-baseline] [--keep-going]

Each mutant in tests/mutation/mutants.py is a named, minimal source change
(file, exact original snippet, replacement). For each one the runner

  1. applies it to a private COPY of the source tree (WORK/src; the checkout
     is never edited, so Ctrl-C or a crash cannot leave a bug behind in it),
  2. rebuilds incrementally (WORK/build, ccache when available),
  3. runs the ctest regex listed with the mutant,
  4. restores the file and reports CAUGHT (some test failed) or SURVIVED.

A mutant whose original snippet is not found exactly once in its file is a
runner ERROR, never "caught": the code moved and the mutant must be updated.
So is a mutant that does not compile, and a regex that selects no test.

Before the mutants, a baseline run (skip with --no-baseline) builds the
unmutated copy and runs every selected regex: a test that already fails would
"catch" every mutant.

Exit status: 0 every mutant caught; 1 some survived; 2 runner error.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import mutants as M  # noqa: E402


class RunnerError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def sync_tree(root, dst):
    """Copy the checkout's tracked and unignored files into dst, touching only
    files whose bytes differ (so the next build stays incremental), and remove
    from dst the files the checkout no longer has (a moved test would otherwise
    be configured twice)."""
    out = subprocess.run(["git", "-C", root, "ls-files", "-co", "--exclude-standard", "-z"],
                         check=True, capture_output=True).stdout
    wanted = {rel for rel in out.decode().split("\0") if rel}
    for dirpath, _dirs, files in os.walk(dst):
        for name in files:
            full = os.path.join(dirpath, name)
            if os.path.relpath(full, dst) not in wanted:
                os.remove(full)
    for rel in sorted(wanted):
        if not rel:
            continue
        src = os.path.join(root, rel)
        if not os.path.isfile(src) or os.path.islink(src):
            continue
        d = os.path.join(dst, rel)
        with open(src, "rb") as f:
            data = f.read()
        try:
            with open(d, "rb") as f:
                if f.read() == data:
                    continue
        except FileNotFoundError:
            os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(src, d)


def run(cmd, log_path, env=None, timeout=None):
    with open(log_path, "w") as lf:
        p = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, env=env, timeout=timeout)
    return p.returncode


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def configure(src, build, logs, env):
    if os.path.exists(os.path.join(build, "CMakeCache.txt")):
        args = ["cmake", "-S", src, "-B", build]
    else:
        args = ["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                "-DFOLIO_BUILD_BENCH=OFF"]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        if shutil.which("ccache"):
            args += ["-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
    if run(args, os.path.join(logs, "configure.log"), env) != 0:
        raise RunnerError("configure failed:\n" + tail(os.path.join(logs, "configure.log")))


def build(build_dir, log_path, env, jobs, targets=None):
    """Builds targets (paths of files inside build_dir, which Ninja accepts as
    targets), or everything when targets is None or the generator is not Ninja."""
    cmd = ["cmake", "--build", build_dir, "-j", str(jobs)]
    if targets and os.path.exists(os.path.join(build_dir, "build.ninja")):
        cmd += ["--target"] + sorted(targets)
    return run(cmd, log_path, env)


def test_targets(build_dir, regex):
    """The files of build_dir that the tests -R regex selects run (the test
    program and every binary passed to it, e.g. folio-server): building just
    these keeps a mutant's rebuild to one compile and a few links."""
    p = subprocess.run(["ctest", "--test-dir", build_dir, "-N", "-V", "-R", regex],
                       capture_output=True, text=True)
    out = set()
    root = os.path.abspath(build_dir) + os.sep
    for line in p.stdout.splitlines():
        if "Test command:" not in line:
            continue
        for tok in re.findall(r'"([^"]*)"|(\S+)', line.split("Test command:", 1)[1]):
            t = tok[0] or tok[1]
            # a directory of the build passed as an argument (a work dir) is
            # no target
            if t.startswith(root) and not os.path.isdir(t):
                out.add(os.path.relpath(t, build_dir))
    return out


def count_tests(build_dir, regex):
    p = subprocess.run(["ctest", "--test-dir", build_dir, "-N", "-R", regex],
                       capture_output=True, text=True)
    m = re.search(r"Total Tests:\s*(\d+)", p.stdout)
    return int(m.group(1)) if m else 0


def ctest(build_dir, regex, log_path, env, jobs, timeout):
    """Runs the tests -R regex selects; returns (failed, total) from ctest's
    summary. No summary (ctest itself broke, e.g. a bad regex) or no test run
    is a RunnerError: neither may pass for "caught" nor for "survived"."""
    rc = run(["ctest", "--test-dir", build_dir, "-R", regex, "-j", str(jobs),
              "--timeout", str(timeout), "--output-on-failure", "--stop-on-failure"],
             log_path, env)
    with open(log_path, errors="replace") as f:
        text = f.read()
    m = re.search(r"(\d+)% tests passed, (\d+) tests? failed out of (\d+)", text)
    if not m or int(m.group(3)) == 0:
        raise RunnerError(f"ctest -R '{regex}' ran no test (exit {rc}); see {log_path}:\n" +
                          tail(log_path, 10))
    failed, total = int(m.group(2)), int(m.group(3))
    if (failed > 0) != (rc != 0):
        raise RunnerError(f"ctest exit {rc} disagrees with its summary ({failed} of {total} failed)")
    return failed, total


class Mutated:
    """Applies one mutant to the copy; restores the original bytes on exit,
    whatever happens in between (exception, SIGINT, SIGTERM)."""

    def __init__(self, src, mutant):
        self.path = os.path.join(src, mutant["file"])
        self.m = mutant

    def __enter__(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                self.orig = f.read()
        except OSError as e:
            raise RunnerError(f"{self.m['name']}: cannot read {self.m['file']}: {e}")
        n = self.orig.count(self.m["original"])
        if n != 1:
            raise RunnerError(f"{self.m['name']}: original snippet found {n} times in "
                              f"{self.m['file']} (want exactly 1): update the mutant")
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(self.orig.replace(self.m["original"], self.m["replacement"], 1))
        return self

    def __exit__(self, *exc):
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(self.orig)
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fast", action="store_true", help="only the CI subset (fast=True)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run this mutant (repeatable; a regex on the name)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--work", default=os.path.join(ROOT, "build-mutation"),
                    help="source copy and build dir (default: build-mutation/)")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the unmutated run of the selected tests")
    ap.add_argument("--keep-going", action="store_true",
                    help="on a runner error, report it and go on with the next mutant")
    ap.add_argument("--full-build", action="store_true",
                    help="rebuild everything for each mutant (default: only the binaries its tests run)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=300, help="per-test ctest timeout (s)")
    args = ap.parse_args()

    sel = [m for m in M.MUTANTS if (not args.fast or m.get("fast"))
           and (not args.only or any(re.search(o, m["name"]) for o in args.only))]
    names = [m["name"] for m in M.MUTANTS]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        log(f"ERROR duplicate mutant names: {sorted(dup)}")
        return 2
    if args.list:
        for m in sel:
            log(f"{m['name']:<34} {'fast' if m.get('fast') else '    '} {m['file']:<32} -R {m['tests']}")
        return 0
    if not sel:
        log("ERROR no mutant selected")
        return 2

    # SIGTERM (ctest/CI timeout) unwinds like Ctrl-C, so Mutated restores.
    def on_term(*_):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_term)
    work = os.path.abspath(args.work)
    src, bdir, logs = (os.path.join(work, d) for d in ("src", "build", "logs"))
    os.makedirs(src, exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("CCACHE_BASEDIR", work)
    t_start = time.monotonic()
    results = []
    try:
        sync_tree(ROOT, src)
        configure(src, bdir, logs, env)
        log(f"== mutation: {len(sel)} mutants, work dir {work}")
        # Build only what the selected mutants' tests run. ctest names a test's
        # program only once it exists, so a fresh copy is built whole first.
        def resolve():
            return {m["name"]: test_targets(bdir, m["tests"]) for m in sel}

        targets = None if args.full_build else resolve()
        if targets is not None and not all(targets.values()):
            if build(bdir, os.path.join(logs, "build-first.log"), env, args.jobs) != 0:
                raise RunnerError("the unmutated copy does not build:\n" +
                                  tail(os.path.join(logs, "build-first.log")))
            targets = resolve()
            for name, t in targets.items():
                if not t:
                    raise RunnerError(f"{name}: its -R regex selects no test")
        union = set().union(*targets.values()) if targets else None
        if build(bdir, os.path.join(logs, "build-baseline.log"), env, args.jobs, union) != 0:
            raise RunnerError("the unmutated copy does not build:\n" +
                              tail(os.path.join(logs, "build-baseline.log")))
        for m in sel:
            if count_tests(bdir, m["tests"]) == 0:
                raise RunnerError(f"{m['name']}: -R '{m['tests']}' selects no test")
        if not args.no_baseline:
            # CMake regexes: plain groups, no (?:...)
            regex = "|".join(f"({r})" for r in sorted({m["tests"] for m in sel}))
            t0 = time.monotonic()
            failed, total = ctest(bdir, regex, os.path.join(logs, "baseline.log"), env, args.jobs,
                                  args.timeout)
            if failed:
                raise RunnerError("the covering tests fail WITHOUT any mutant (see "
                                  f"{logs}/baseline.log):\n" + tail(os.path.join(logs, "baseline.log")))
            log(f"baseline: the {total} covering tests pass unmutated ({time.monotonic() - t0:.0f}s)")
        for i, m in enumerate(sel, 1):
            t0 = time.monotonic()
            blog = os.path.join(logs, m["name"] + ".build.log")
            tlog = os.path.join(logs, m["name"] + ".test.log")
            try:
                with Mutated(src, m):
                    if build(bdir, blog, env, args.jobs,
                             targets[m["name"]] if targets else None) != 0:
                        raise RunnerError(f"{m['name']}: the mutant does not compile "
                                          f"(see {blog}):\n" + tail(blog, 15))
                    failed, _ = ctest(bdir, m["tests"], tlog, env, args.jobs, args.timeout)
            except RunnerError as e:
                if not args.keep_going:
                    raise
                results.append((m, "ERROR", time.monotonic() - t0))
                log(f"[{i}/{len(sel)}] ERROR     {m['name']}: {e}")
                continue
            status = "caught" if failed else "SURVIVED"
            dt = time.monotonic() - t0
            results.append((m, status, dt))
            log(f"[{i}/{len(sel)}] {status:<9} {m['name']:<34} {dt:5.0f}s  -R {m['tests']}")
        # leave the copy's build matching the unmutated source
        build(bdir, os.path.join(logs, "build-restore.log"), env, args.jobs, union)
    except RunnerError as e:
        log(f"ERROR {e}")
        return 2
    except KeyboardInterrupt:
        log("interrupted: the copy is restored; the checkout was never touched")
        return 130

    caught = sum(1 for _, s, _ in results if s == "caught")
    survived = [m["name"] for m, s, _ in results if s == "SURVIVED"]
    errors = [m["name"] for m, s, _ in results if s == "ERROR"]
    log(f"== {caught}/{len(results)} caught, {len(survived)} survived, {len(errors)} errors, "
        f"{time.monotonic() - t_start:.0f}s in all")
    for n in survived:
        log(f"SURVIVED {n}: add a test that fails on it (never weaken the mutant)")
    if errors:
        return 2
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
