#!/usr/bin/python3
"""Checks a PDF against what folio's profiles promise, with real tools.

  check_pdf.py FILE.pdf [--profiles pdfa-2b,pdfx-4,pdfua-1] [--title T]
               [--author A] [--lang L] [--plain] [--boxes "x0 y0 x1 y1;..."]

Each check prints "ok <what>" or "FAIL <what>"; the exit status is 1 when
any failed. The checks, and the veraPDF rule each stands in for
(docs/internals/pdf.md has the table):
  qpdf --check is clean (syntax, xref, streams)                 6.1.x
  Ghostscript renders every page without an error
  pdffonts: every font embedded                                 6.2.11.4.1
  pdfinfo -box: TrimBox and BleedBox on every page, nested      PDF/X 6.2.2
  mutool show reads the trailer and the catalog
  trailer /ID: two strings                                      6.1.3-1
  XMP parses (xml.dom.minidom) and equals Info                  6.6.2.3.1, 6.6.2.1
  pdfaid / pdfxid / pdfuaid as asked                            6.6.4-1, PDF/UA 5
  OutputIntents: ICC stream of the right class and colour space 6.2.3-2..4
  PDF/X: /DefaultRGB in every page's resources, Trapped False,
         Info GTS_PDFXVersion
  PDF/A: no /Interpolate true on images                          6.2.8-3
  PDF/UA: /MarkInfo /Marked true, /Lang, DisplayDocTitle, title  UA 7.1
  PDF/UA content (--ua-content, on with pdfua-1): every painting and
         text-showing operator of every page inside a marked-content
         sequence (tagged, or /Artifact); marked content and text objects
         nest; every Figure has /Alt, every TH /A /Scope, every Link
         annotation /Contents, pages with annotations /Tabs /S   UA 7.1-3,
                                                                 7.3-1, 7.5-1,
                                                                 7.18.3-1,
                                                                 7.18.5-2
  --figures N: the structure tree has N Figure elements, --elem-lang L:
  some element carries /Lang L (an item's own language)
--plain checks the opposite: cairo's PDF untouched (no /ID, no XMP, no
OutputIntents).
"""
import argparse
import base64
import json
import re
import subprocess
import sys
import xml.dom.minidom

fails = 0


def check(cond, what):
    global fails
    print(("ok " if cond else "FAIL ") + what)
    if not cond:
        fails += 1
    return cond


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    return p.returncode, p.stdout, p.stderr


def pdf_text(v):
    """qpdf JSON v2 string ("u:..." or "b:hex") to str."""
    if not isinstance(v, str):
        return None
    if v.startswith("u:"):
        return v[2:]
    if v.startswith("b:"):
        return bytes.fromhex(v[2:]).decode("latin-1")
    return v


def pdf_date(s):
    """D:YYYYMMDDHHmmSS(Z|+HH'mm') -> (fields, offset minutes) for comparing."""
    m = re.match(r"^(?:D:)?(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?(Z|[+-]\d\d'?(\d\d)?'?)?$", s or "")
    if not m:
        return None
    f = [int(x) if x else d for x, d in zip(m.groups()[:6], (0, 1, 1, 0, 0, 0))]
    z = m.group(7)
    off = 0 if not z or z == "Z" else (int(z[1:3]) * 60 + int(m.group(8) or 0)) * (1 if z[0] == "+" else -1)
    return tuple(f), off


def xmp_date(s):
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(Z|[+-]\d\d:\d\d)?$", s or "")
    if not m:
        return None
    f = tuple(int(x) for x in m.groups()[:6])
    z = m.group(7)
    off = 0 if not z or z == "Z" else (int(z[1:3]) * 60 + int(z[4:6])) * (1 if z[0] == "+" else -1)
    return f, off


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pdf")
    ap.add_argument("--profiles", default="")
    ap.add_argument("--title")
    ap.add_argument("--author")
    ap.add_argument("--lang")
    ap.add_argument("--boxes", help="'media|bleed|trim' per page as 'x0 y0 x1 y1', pages split by ';'")
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--figures", type=int)
    ap.add_argument("--elem-lang")
    a = ap.parse_args()
    prof = set(p for p in a.profiles.split(",") if p)
    A, X, UA = "pdfa-2b" in prof, "pdfx-4" in prof, "pdfua-1" in prof
    f = a.pdf

    rc, out, err = run("qpdf", "--check", f)
    check(rc == 0 and "No syntax or stream encoding errors" in out, "qpdf --check clean (rc %d) %s" % (rc, err.strip()[:200]))
    rc, out, err = run("gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-dPDFSTOPONERROR", "-sDEVICE=nullpage", f)
    check(rc == 0 and "Error" not in out + err, "Ghostscript renders every page (rc %d) %s" % (rc, (out + err).strip()[:200]))
    rc, out, err = run("pdffonts", f)
    rows = out.splitlines()[2:]
    check(rc == 0 and rows and all(r.split()[-5] == "yes" for r in rows),
          "pdffonts: all %d fonts embedded" % len(rows))
    rc, out, err = run("mutool", "show", f, "trailer")
    check(rc == 0 and "/Root" in out, "mutool show reads the trailer")

    rc, out, err = run("qpdf", "--json=2", "--json-key=qpdf", "--json-stream-data=inline", f)
    if not check(rc == 0, "qpdf --json"):
        return
    q = json.loads(out)["qpdf"]
    objs = q[1]

    def obj(ref):
        if isinstance(ref, str) and ref.endswith(" R"):
            o = objs.get("obj:" + ref)
            if o is None:
                return None
            return o.get("value", o.get("stream"))
        return ref

    def sdata(ref):
        s = objs["obj:" + ref]["stream"]
        return base64.b64decode(s.get("data", "")), s["dict"]

    trailer = objs["trailer"]["value"]
    root = obj(trailer["/Root"])
    info = obj(trailer.get("/Info")) or {}

    pages = []

    def collect(node):
        n = obj(node)
        if n.get("/Type") == "/Pages":
            for k in n["/Kids"]:
                collect(k)
        else:
            pages.append(n)

    collect(root["/Pages"])

    if a.plain:
        check("/ID" not in trailer, "plain: no trailer /ID (cairo's output untouched)")
        check("/Metadata" not in root and "/OutputIntents" not in root, "plain: no XMP, no OutputIntents")
        return

    ids = trailer.get("/ID")
    check(isinstance(ids, list) and len(ids) == 2 and all(isinstance(i, str) and len(i) > 2 for i in ids),
          "trailer /ID has two strings")

    # boxes (pdfinfo -box reads them as a viewer does)
    rc, out, err = run("pdfinfo", "-box", "-f", "1", "-l", str(len(pages)), f)
    check(rc == 0 and out.count("TrimBox:") == len(pages) and out.count("BleedBox:") == len(pages),
          "pdfinfo -box lists TrimBox and BleedBox for %d pages" % len(pages))
    want = [p.split("|") for p in a.boxes.split(";")] if a.boxes else None
    for i, p in enumerate(pages):
        mb = [float(v) for v in p.get("/MediaBox", [])]
        bb = [float(v) for v in p.get("/BleedBox", [])]
        tb = [float(v) for v in p.get("/TrimBox", [])]
        nested = (len(mb) == len(bb) == len(tb) == 4 and bb[0] >= mb[0] and bb[1] >= mb[1]
                  and bb[2] <= mb[2] and bb[3] <= mb[3] and tb[0] >= bb[0]
                  and tb[1] >= bb[1] and tb[2] <= bb[2] and tb[3] <= bb[3])
        check(nested, "page %d: TrimBox %s inside BleedBox %s inside MediaBox %s" % (i + 1, tb, bb, mb))
        if want:
            w = [[float(v) for v in s.split()] for s in want[i % len(want)]]
            same = all(abs(x - y) < 1e-3 for got, exp in zip((mb, bb, tb), w) for x, y in zip(got, exp))
            check(same, "page %d: boxes are the ones asked for %s" % (i + 1, w))

    # XMP: parses, mirrors Info, identifies the profiles
    meta_ref = root.get("/Metadata")
    if not check(meta_ref is not None, "catalog has /Metadata"):
        return
    data, mdict = sdata(meta_ref)
    check(mdict.get("/Type") == "/Metadata" and mdict.get("/Subtype") == "/XML", "metadata stream is /Type /Metadata /Subtype /XML")
    raw = objs["obj:" + meta_ref]["stream"]["dict"]
    check("/Filter" not in raw, "metadata stream unfiltered")
    check(data.startswith(b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'), "xpacket header without bytes/encoding")
    try:
        dom = xml.dom.minidom.parseString(data)
        check(True, "XMP parses as XML")
    except Exception as e:  # noqa
        check(False, "XMP parses as XML: %s" % e)
        return
    NS = {"dc": "http://purl.org/dc/elements/1.1/", "xmp": "http://ns.adobe.com/xap/1.0/",
          "pdf": "http://ns.adobe.com/pdf/1.3/", "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
          "pdfxid": "http://www.npes.org/pdfx/ns/id/", "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
          "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}

    def prop(ns, name):
        els = dom.getElementsByTagNameNS(NS[ns], name)
        if not els:
            return None
        el = els[0]
        lis = el.getElementsByTagNameNS(NS["rdf"], "li")
        node = lis[0] if lis else el
        return "".join(t.data for t in node.childNodes if t.nodeType == t.TEXT_NODE)

    pairs = [("/Title", "dc", "title"), ("/Author", "dc", "creator"), ("/Subject", "dc", "description"),
             ("/Creator", "xmp", "CreatorTool"), ("/Producer", "pdf", "Producer")]
    for key, ns, name in pairs:
        iv, xv = pdf_text(info.get(key)), prop(ns, name)
        check(iv == xv, "Info %s %r equals %s:%s %r" % (key, iv, ns, name, xv))
    for key, name in (("/CreationDate", "CreateDate"), ("/ModDate", "ModifyDate")):
        iv, xv = pdf_date(pdf_text(info.get(key))), xmp_date(prop("xmp", name))
        check(iv is not None and iv == xv, "Info %s equals xmp:%s (%s, %s)" % (key, name, iv, xv))
    if a.title is not None:
        check(pdf_text(info.get("/Title")) == a.title, "Info /Title is the layout's title %r" % a.title)
    if a.author is not None:
        check(pdf_text(info.get("/Author")) == a.author, "Info /Author is the layout's author")
    check(info.get("/Trapped") == "/False" and prop("pdf", "Trapped") == "False", "Trapped /False in Info and XMP")
    check((prop("pdfaid", "part"), prop("pdfaid", "conformance")) == (("2", "B") if A else (None, None)),
          "pdfaid part/conformance %s" % ("2/B" if A else "absent"))
    check(prop("pdfxid", "GTS_PDFXVersion") == ("PDF/X-4" if X else None), "pdfxid:GTS_PDFXVersion %s" % ("PDF/X-4" if X else "absent"))
    if X:  # PDF/X-4's metadata: a title, document and version ids, the metadata date
        mm = "http://ns.adobe.com/xap/1.0/mm/"
        NS["xmpMM"] = mm
        check((prop("xmpMM", "DocumentID") or "").startswith("uuid:") and prop("xmpMM", "VersionID") == "1"
              and prop("xmpMM", "RenditionClass") == "default", "xmpMM:DocumentID, VersionID, RenditionClass")
        check(bool(prop("dc", "title")) and xmp_date(prop("xmp", "MetadataDate")) is not None, "dc:title and xmp:MetadataDate")
    check(pdf_text(info.get("/GTS_PDFXVersion")) == ("PDF/X-4" if X else None), "Info /GTS_PDFXVersion %s" % ("PDF/X-4" if X else "absent"))
    check(prop("pdfuaid", "part") == ("1" if UA else None), "pdfuaid:part %s" % ("1" if UA else "absent"))
    if A and (X or UA):
        ext = dom.getElementsByTagNameNS("http://www.aiim.org/pdfa/ns/schema#", "prefix")
        prefixes = {"".join(t.data for t in e.childNodes) for e in ext}
        need = ({"pdfxid"} if X else set()) | ({"pdfuaid"} if UA else set())
        check(need <= prefixes, "PDF/A extension schemas describe %s" % sorted(need))

    # OutputIntents and their ICC profiles
    intents = [obj(r) for r in root.get("/OutputIntents", [])]
    kinds = sorted(i.get("/S") for i in intents)
    want_kinds = sorted(([ "/GTS_PDFA1"] if A else []) + (["/GTS_PDFX"] if X else []))
    check(kinds == want_kinds, "OutputIntents %s" % want_kinds)
    dests = {i.get("/DestOutputProfile") for i in intents}
    if intents:
        check(len(dests) == 1, "every OutputIntent has the same DestOutputProfile object")
        icc, idict = sdata(next(iter(dests)))
        cls, space, ver = icc[12:16], icc[16:20], icc[8]
        want_cls, want_sp = (b"prtr", b"CMYK") if X else (b"mntr", b"RGB ")
        check(icc[36:40] == b"acsp" and int.from_bytes(icc[0:4], "big") == len(icc), "DestOutputProfile is a whole ICC profile")
        check(cls == want_cls and space == want_sp and ver in (2, 4),
              "ICC class %r colour space %r version %d (want %r %r)" % (cls, space, ver, want_cls, want_sp))
        check(idict.get("/N") == (4 if X else 3), "ICC stream /N %s" % (4 if X else 3))
        for i in intents:
            check(isinstance(i.get("/OutputConditionIdentifier"), str) and i.get("/Type") == "/OutputIntent",
                  "%s has /OutputConditionIdentifier" % i.get("/S"))

    # per-page colour management and images
    for n, p in enumerate(pages):
        res = obj(p.get("/Resources")) or {}
        cs = obj(res.get("/ColorSpace")) or {}
        d = obj(cs.get("/DefaultRGB"))
        if X:
            ok = isinstance(d, list) and d[0] == "/ICCBased"
            check(ok, "page %d: /DefaultRGB is ICCBased" % (n + 1))
            if ok:
                icc, idict = sdata(d[1])
                check(icc[16:20] == b"RGB " and idict.get("/N") == 3, "page %d: /DefaultRGB profile is RGB" % (n + 1))
            g = obj(p.get("/Group"))
            if g:
                check(g.get("/CS") != "/DeviceRGB", "page %d: transparency group colour space is not DeviceRGB" % (n + 1))
        else:
            check(d is None, "page %d: no /DefaultRGB without PDF/X" % (n + 1))
    if A:
        bad = [k for k, v in objs.items() if isinstance(v, dict) and "stream" in v
               and v["stream"]["dict"].get("/Subtype") == "/Image" and v["stream"]["dict"].get("/Interpolate") is True]
        check(not bad, "no image has /Interpolate true %s" % bad)

    # accessibility
    if UA:
        mi = obj(root.get("/MarkInfo")) or {}
        check(mi.get("/Marked") is True, "/MarkInfo /Marked true")
        vp = obj(root.get("/ViewerPreferences")) or {}
        check(vp.get("/DisplayDocTitle") is True, "/ViewerPreferences /DisplayDocTitle true")
        check(bool(pdf_text(info.get("/Title"))), "a title is set")
        ua_content(objs, obj, root, pages, a)
    if a.lang:
        check(pdf_text(root.get("/Lang")) == a.lang, "catalog /Lang %r" % a.lang)
        check(prop("dc", "language") == a.lang, "dc:language %r" % a.lang)


# ---- PDF/UA: content and structure ------------------------------------------

PAINT = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do", "Tj", "TJ", "'", '"', "BI", "EI", "ID"}
TOKEN = re.compile(rb"""(?P<ws>[\x00\t\n\x0c\r ]+)|(?P<comment>%[^\r\n]*)|(?P<str>\()|(?P<hex><[0-9A-Fa-f\s]*>)"""
                   rb"""|(?P<dict><<|>>)|(?P<arr>[\[\]{}])|(?P<name>/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)"""
                   rb"""|(?P<word>[^\x00\t\n\x0c\r ()<>\[\]{}/%]+)""")


def content_ops(data):
    """The operators of a content stream, in order (operands skipped)."""
    ops, i, n = [], 0, len(data)
    while i < n:
        m = TOKEN.match(data, i)
        if not m:
            raise ValueError("cannot lex at %d: %r" % (i, data[i:i + 20]))
        if m.lastgroup == "str":  # a literal string: balanced parentheses, escapes
            depth, j = 0, i
            while j < n:
                c = data[j:j + 1]
                if c == b"\\":
                    j += 2
                    continue
                depth += c == b"("
                depth -= c == b")"
                j += 1
                if depth == 0:
                    break
            i = j
            continue
        i = m.end()
        if m.lastgroup == "word":
            w = m.group().decode("latin-1")
            if not re.match(r"^[-+.0-9]", w) and w not in ("true", "false", "null"):
                ops.append(w)
                if w == "ID":  # inline image data up to EI
                    e = re.compile(rb"\sEI(?=[\s]|$)").search(data, i)
                    i = e.end() if e else n
                    ops.append("EI")
    return ops


def ua_content(objs, obj, root, pages, a):
    def page_data(p):
        c = p.get("/Contents")
        refs = c if isinstance(c, list) else [c]
        out = b""
        for r in refs:
            s = objs["obj:" + r]["stream"]
            out += base64.b64decode(s.get("data", "")) + b"\n"
        return out

    unmarked, crossing, artifacts = 0, 0, 0
    for n, p in enumerate(pages):
        try:
            ops = content_ops(page_data(p))
        except ValueError as e:
            check(False, "page %d: content lexes: %s" % (n + 1, e))
            continue
        depth, stack = 0, []  # stack: "mc" / "text" in opening order
        for op in ops:
            if op in ("BDC", "BMC"):
                depth += 1
                stack.append("mc")
            elif op == "EMC":
                depth -= 1
                if not stack or stack.pop() != "mc":
                    crossing += 1
            elif op == "BT":
                stack.append("text")
            elif op == "ET":
                if not stack or stack.pop() != "text":
                    crossing += 1
            elif op in PAINT and depth <= 0:
                unmarked += 1
        artifacts += ops.count("BMC")
        annots = obj(p.get("/Annots")) or []
        if annots:
            check(p.get("/Tabs") == "/S", "page %d: annotations and /Tabs /S" % (n + 1))
        for r in annots:
            an = obj(r)
            if an.get("/Subtype") == "/Link":
                check(bool(pdf_text(an.get("/Contents"))), "page %d: Link annotation has /Contents %r"
                      % (n + 1, pdf_text(an.get("/Contents"))))
    check(unmarked == 0, "no painting operator outside marked content (%d found)" % unmarked)
    check(crossing == 0, "marked content and text objects nest (%d crossings)" % crossing)
    check(artifacts > 0, "artifacts are marked (%d BMC)" % artifacts)

    figures, langs, ths = [], [], []

    def walk(k, depth=0):
        k = obj(k)
        if isinstance(k, list):
            for x in k:
                walk(x, depth)
            return
        if not isinstance(k, dict) or "/S" not in k or depth > 200:
            return
        s = k["/S"]
        if s == "/Figure":
            figures.append(pdf_text(k.get("/Alt")) or pdf_text(k.get("/ActualText")))
        if s == "/TH":
            ths.append((obj(k.get("/A")) or {}).get("/Scope"))
        if "/Lang" in k:
            langs.append(pdf_text(k["/Lang"]))
        walk(k.get("/K"), depth + 1)

    tree = obj(root.get("/StructTreeRoot"))
    if not check(isinstance(tree, dict), "a structure tree"):
        return
    walk(tree.get("/K"))
    check(all(figures), "every Figure has /Alt (%d figures, %d without)" % (len(figures), figures.count(None)))
    if a.figures is not None:
        check(len(figures) == a.figures, "%d Figure elements (want %d)" % (len(figures), a.figures))
    check(all(t in ("/Column", "/Row") for t in ths), "every TH has /A /Scope (%s)" % ths)
    if a.elem_lang:
        check(a.elem_lang in langs, "an element has /Lang %r (%s)" % (a.elem_lang, langs))


if __name__ == "__main__":
    main()
    print("%s" % ("all checks passed" if fails == 0 else "%d checks failed" % fails))
    sys.exit(1 if fails else 0)
