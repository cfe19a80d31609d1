#!/usr/bin/python3
"""Our .sla files in real Scribus: every valid corpus document is rendered by
`folio render --format pdf,sla`, then Scribus 1.5.8 (headless, one process for
the whole batch) opens each .sla and exports a PDF. Checks, per document:
  - Scribus opened it and exported a PDF (status file; Scribus always exits 0),
  - the PDF has the same page count as ours (pdfinfo),
  - its first page has the same MediaBox size as ours (pdfinfo -box): the
    .sla's bleed and PDF export settings (marks, markOffset, markLength) give
    Scribus our print geometry (trim + bleed + slug; Scribus has one bleed and
    one set of marks per document, taken from the first page),
  - every character of our PDF's text is in Scribus' PDF text (pdftotext; see pdf_chars),
    leaving out our page_info mark ("<title> · page n of N"): Scribus draws
    its own docInfoMarks line (file name and date) in its place.
A page with a slug but no marks has no equivalent in Scribus (its slug exists
only for marks), so its MediaBox is not compared (docs/internals/render.md).
A Scribus crash (it segfaults on some inputs) fails that document and the batch
goes on with the next one in a new process. Everything runs in a temp dir; each
Scribus process gets a timeout and is killed with its process group.

usage: scribus_check.py FOLIO_BINARY LAYOUT.json|DIR ... [--timeout SECONDS]"""
import collections
import concurrent.futures
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))


def run_scribus(tmp, status, slas, timeout):
    env = dict(os.environ)
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_DATA_HOME=os.path.join(home, ".local"),
               XDG_RUNTIME_DIR=home, QT_QPA_PLATFORM="offscreen",
               TMPDIR=home)  # inline pictures are unpacked to temp files: keep them in ours
    cmd = ["scribus", "-g", "-ns", "-py", os.path.join(HERE, "scribus_export.py"), status] + slas
    with open(os.path.join(tmp, "scribus.log"), "ab") as log:
        p = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True, cwd=tmp)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            return None


def read_status(status):
    done = {}
    if os.path.exists(status):
        for line in open(status, encoding="utf-8", errors="replace"):
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) >= 2 and parts[0].isdigit():
                done[int(parts[0])] = (parts[1], parts[2] if len(parts) > 2 else "")
    return done


def pdf_pages(path):
    out = subprocess.run(["pdfinfo", path], capture_output=True, text=True, timeout=60).stdout
    for line in out.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return -1


def pdf_media(path):
    """Width and height of page 1's MediaBox, or None."""
    out = subprocess.run(["pdfinfo", "-box", "-f", "1", "-l", "1", path], capture_output=True, text=True,
                         timeout=60).stdout
    for line in out.splitlines():
        if "MediaBox:" in line:
            x0, y0, x1, y1 = (float(v) for v in line.split("MediaBox:")[1].split())
            return x1 - x0, y1 - y0
    return None


PAGE_INFO = re.compile(r"^(.* \u00b7 )?page \d+ of \d+$")


def slug_without_marks(layout_path):
    """True when the layout's first page has a slug but no marks."""
    try:
        with open(layout_path, encoding="utf-8") as f:
            doc = json.load(f)
        first, default = doc["pages"][0], doc.get("page", {})
        slug = first.get("slug", default.get("slug", 0))
        marks = first.get("marks", default.get("marks", []))
        return bool(slug) and not marks
    except (ValueError, KeyError, IndexError, TypeError, OSError):
        return False


def pdf_chars(path, drop_page_info=False):
    """The characters of a PDF's text as a multiset, in a form that does not
    depend on line breaks, reading order or how a producer maps glyphs back to
    text: NFKC (ligatures, Arabic presentation forms), no whitespace, no format
    characters (bidi marks), no combining marks (PDF producers attach them to
    different base characters), and only the Basic Multilingual Plane: Scribus
    1.5.8 mangles characters beyond U+FFFF (an emoji comes out as U+1F60)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", path, "-"], capture_output=True, timeout=60).stdout
    text = out.decode("utf-8", "replace")
    if drop_page_info:
        text = "\n".join(line for line in text.splitlines() if not PAGE_INFO.match(line.strip()))
    text = unicodedata.normalize("NFKC", text)
    return collections.Counter(ch for ch in text if not ch.isspace() and ord(ch) <= 0xFFFF
                               and unicodedata.category(ch)[0] not in "MC")


def main():
    args = sys.argv[1:]
    timeout = 120
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    folio, inputs = args[0], args[1:]
    docs = []
    for p in inputs:
        docs += sorted(glob.glob(os.path.join(p, "*.json"))) if os.path.isdir(p) else [p]
    tmp = tempfile.mkdtemp(prefix="folio-scribus-")
    failures, checked = [], 0
    try:
        todo = []  # (name, our pdf, sla, layout)
        t0 = time.monotonic()
        def render(d):
            name = os.path.splitext(os.path.basename(d))[0]
            out = os.path.join(tmp, name)
            r = subprocess.run([folio, "render", d, "--format", "pdf,sla", "--out", out],
                               capture_output=True, text=True, timeout=120)
            return name, out, r, d

        # a few folio processes at a time (results kept in document order)
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            for name, out, r, layout in pool.map(render, docs):
                # Every input must render: no corpus document overflows, so
                # exit 4 (overflow "error") is a failure like any other, never
                # a skip (a skipped document is a check that did not run).
                if r.returncode != 0:
                    failures.append("%s: folio render exit %d: %s" % (name, r.returncode, r.stderr.strip()))
                else:
                    todo.append((name, os.path.join(out, "document.pdf"), os.path.join(out, "document.sla"), layout))
        t1 = time.monotonic()
        status = os.path.join(tmp, "status.txt")
        slas = [t[2] for t in todo]
        # One Scribus for the batch; after a crash, a new one for the rest.
        while True:
            done = read_status(status)
            pending = [i for i in range(len(slas)) if i not in done]
            if not pending:
                break
            rc = run_scribus(tmp, status, [s if i not in done else "-" for i, s in enumerate(slas)], timeout)
            after = read_status(status)
            if rc is None:
                for i in pending:
                    if i not in after:
                        after[i] = ("error", "Scribus timed out after %gs" % timeout)
                with open(status, "a") as f:
                    for i in pending:
                        if after[i][1].startswith("Scribus timed out"):
                            f.write("%d error %s\n" % (i, after[i][1]))
                break
            first_missing = next((i for i in pending if i not in after), None)
            if first_missing is not None:  # crashed on this one
                with open(status, "a") as f:
                    f.write("%d error Scribus exited (code %s) while handling it\n" % (first_missing, rc))
        t2 = time.monotonic()
        done = read_status(status)
        def check(i):
            name, ours, sla, layout = todo[i]
            st, detail = done.get(i, ("error", "no status"))
            if st != "ok":
                return "%s: Scribus: %s" % (name, detail)
            theirs = sla + ".scribus.pdf"
            np_ours, np_theirs = pdf_pages(ours), pdf_pages(theirs)
            if np_ours != np_theirs or np_ours < 1:
                return "%s: page count: ours %d, Scribus %d" % (name, np_ours, np_theirs)
            m_ours, m_theirs = pdf_media(ours), pdf_media(theirs)
            if not m_ours or not m_theirs or (not slug_without_marks(layout) and
                                              any(abs(a - b) > 0.05 for a, b in zip(m_ours, m_theirs))):
                return "%s: page 1 MediaBox: ours %s, Scribus %s" % (name, m_ours, m_theirs)
            missing = pdf_chars(ours, drop_page_info=True) - pdf_chars(theirs)
            if missing:
                return "%s: text missing from Scribus' PDF: %s" % (name, "".join(sorted(missing.elements()))[:80])
            return None

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            for problem in pool.map(check, range(len(todo))):
                if problem:
                    failures.append(problem)
                else:
                    checked += 1
        for f in failures:
            print("FAIL:", f)
        print("%d of %d documents checked in Scribus, %d failed (folio %.1f s, Scribus %.1f s, checks %.1f s)"
              % (checked, len(docs), len(failures), t1 - t0, t2 - t1, time.monotonic() - t2))
        if failures and os.environ.get("FOLIO_KEEP_TMP"):
            print("kept", tmp)
            tmp = None
        if checked != len(docs) and not failures:
            failures.append("only %d of %d documents were checked" % (checked, len(docs)))
            print("FAIL:", failures[-1])
        return 1 if failures or checked == 0 else 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
