#!/usr/bin/python3
"""Tagged PDF, checked with the tools readers and checkers use.

    tags_test.py PDF_TAGS_TOOL FOLIO SOURCE_DIR

Renders examples/accessible-report/report.json and the corpus'
structure-report.json and checks, for each:
  - pdfinfo: "Tagged: yes" (/MarkInfo /Marked true; veraPDF PDF/UA-1 rule 7.1-11);
  - pdfinfo -struct-text (poppler): the element tree in reading order, with the
    text under each element (7.1-3 for what is tagged);
  - the attributes the render reports for the post-processor (Figure /Alt,
    /Lang, TH scope: cairo 1.16 writes none) name the right elements of the
    tree qpdf --json reads (pre-order index and /S), every Figure has one;
  - link annotations: /URI actions and named /Dest, each nested in a Link
    element through /StructParent and the ParentTree (7.18.5-1), named
    destinations for ids;
  - the outline (qpdf --json, mutool show outline) nested as the headings;
  - page labels (qpdf --json);
  - qpdf --check is clean, Ghostscript renders every page;
  - the same input gives the same bytes; tagging moves no text (the words of
    the tagged and the untagged PDF, pdftotext -bbox) and PNG output does not
    depend on it (same bytes);
  - a page selection drops links and outline entries to pages left out.
Each check prints what it compared when it fails.
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

TOOL, FOLIO, SRC = sys.argv[1:4]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def render(layout, out, *extra):
    """Renders with pdf_tags_tool; returns the reported attributes."""
    rows = []
    for line in run(TOOL, layout, out, *extra).splitlines():
        elem, typ, alt, lang, scope = line.split("\t")
        rows.append({"elem": int(elem), "type": typ, "alt": None if alt == "-" else alt,
                     "lang": None if lang == "-" else lang, "scope": None if scope == "-" else scope})
    return rows


def struct_text(pdf):
    """pdfinfo -struct-text as [(depth, element or '"text"')], Object lines dropped."""
    out = []
    for line in run("pdfinfo", "-struct-text", pdf).splitlines():
        if not line.strip() or line.strip().startswith("Object "):
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        s = line.strip()
        out.append((depth, s if s.startswith('"') else s.split(" ")[0]))
    return out


class Pdf:
    def __init__(self, path):
        self.j = json.loads(run("qpdf", "--json", path))
        self.objs = self.j["qpdf"][1]
        self.root = self.get(self.objs["trailer"]["value"]["/Root"])

    def get(self, v):
        if isinstance(v, str) and re.fullmatch(r"\d+ \d+ R", v):
            return self.objs["obj:" + v]["value"]
        return v

    def elems(self):
        """Structure elements in pre-order: [(ref, dict, depth)]."""
        out = []

        def walk(k, depth):
            k = k if isinstance(k, list) else [k]
            for kid in k:
                d = self.get(kid)
                if isinstance(d, dict) and "/S" in d:
                    out.append((kid, d, depth))
                    if "/K" in d:
                        walk(d["/K"], depth + 1)

        walk(self.get(self.root["/StructTreeRoot"])["/K"], 0)
        return out

    def annots(self):
        for page in self.j["pages"]:
            pg = self.get(page["object"])
            for a in self.get(pg.get("/Annots", [])):
                yield page["pageposfrom1"], self.get(a)

    def parent_of(self, n):
        """The ParentTree entry for StructParent n."""
        nums = self.get(self.get(self.get(self.root["/StructTreeRoot"])["/ParentTree"])["/Nums"])
        for i in range(0, len(nums), 2):
            if nums[i] == n:
                return self.get(nums[i + 1])
        return None

    def dest_names(self):
        names = self.get(self.get(self.get(self.root.get("/Names", {})).get("/Dests", {})).get("/Names", []))
        return [names[i][2:] for i in range(0, len(names), 2)]


def outline(entries, depth=0):
    out = []
    for e in entries:
        out.append((depth, e["title"], e.get("destpageposfrom1")))
        out += outline(e.get("kids", []), depth + 1)
    return out


def common(name, layout, tmp, want_tree, want_outline, want_labels, want_uris, want_dests):
    pdf = os.path.join(tmp, name + ".pdf")
    rows = render(layout, pdf)
    info = run("pdfinfo", pdf)
    check(re.search(r"^Tagged: +yes$", info, re.M), "%s: pdfinfo says Tagged: yes\n%s" % (name, info))
    tree = struct_text(pdf)
    check(tree == want_tree, "%s: structure tree (pdfinfo -struct-text)\n got  %s\n want %s" % (name, tree, want_tree))

    p = Pdf(pdf)
    elems = p.elems()
    check(elems and elems[0][1]["/S"] == "/Document", "%s: the tree starts with Document" % name)
    for r in rows:
        ok = r["elem"] < len(elems) and elems[r["elem"]][1]["/S"] == "/" + r["type"]
        check(ok, "%s: reported attribute %s names element %d, which is %s" %
              (name, r, r["elem"], elems[r["elem"]][1]["/S"] if r["elem"] < len(elems) else "past the end"))
    figures = [i for i, (_, d, _) in enumerate(elems) if d["/S"] == "/Figure"]
    with_alt = [r["elem"] for r in rows if r["alt"]]
    check(figures == with_alt, "%s: every Figure has its alt reported: figures %s, alts %s" % (name, figures, with_alt))
    check(all("/Alt" not in d and "/Lang" not in d for _, d, _ in elems),
          "%s: cairo 1.16 writes no /Alt or /Lang (if it does now, the post-processing list in render.md is stale)" % name)

    uris, dests = [], []
    for page, a in p.annots():
        if a.get("/Subtype") != "/Link":
            continue
        if "/A" in a:
            uris.append(p.get(a["/A"])["/URI"][2:])
        else:
            check("/Dest" in a, "%s: a link annotation has /A or /Dest: %s" % (name, a))
            dests.append(a.get("/Dest", "u:?")[2:])
        parent = p.parent_of(a.get("/StructParent"))
        check(isinstance(parent, dict) and parent.get("/S") == "/Link",
              "%s: link annotation %s is in a Link element (ParentTree), got %s" % (name, a, parent))
    check(sorted(uris) == sorted(want_uris), "%s: URI links %s, want %s" % (name, uris, want_uris))
    check(sorted(dests) == sorted(want_dests), "%s: internal links %s, want %s" % (name, dests, want_dests))
    names = p.dest_names()
    check(all(d in names for d in dests), "%s: every link destination %s is a named destination %s" % (name, dests, names))

    got_outline = outline(p.j["outlines"])
    check(got_outline == want_outline, "%s: outline\n got  %s\n want %s" % (name, got_outline, want_outline))
    mutool = run("mutool", "show", pdf, "outline")
    check(len(mutool.splitlines()) == len(want_outline), "%s: mutool reads the outline:\n%s" % (name, mutool))
    labels = [pl["label"].get("/P", "")[2:] for pl in p.j["pagelabels"]]
    check(labels == want_labels, "%s: page labels %s, want %s" % (name, labels, want_labels))

    chk = subprocess.run(["qpdf", "--check", pdf], capture_output=True, text=True)
    check(chk.returncode == 0 and "No syntax or stream encoding errors" in chk.stdout and not chk.stderr,
          "%s: qpdf --check\n%s%s" % (name, chk.stdout, chk.stderr))
    gs = subprocess.run(["gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=nullpage", pdf],
                        capture_output=True, text=True)
    check(gs.returncode == 0 and not gs.stderr.strip() and "rror" not in gs.stdout,
          "%s: Ghostscript renders it\n%s%s" % (name, gs.stdout, gs.stderr))
    again = os.path.join(tmp, name + "-again.pdf")
    check(render(layout, again) == rows, "%s: the same attributes twice" % name)
    check(open(pdf, "rb").read() == open(again, "rb").read(), "%s: the same bytes twice" % name)
    return pdf, rows


STRUCT_KEYS = {"role", "id", "lang", "alt", "link", "list", "table", "row", "col", "header", "label"}


def strip(doc):
    """The document without any structure field (it then renders untagged)."""
    d = copy.deepcopy(doc)
    d.get("meta", {}).pop("lang", None)
    for pg in d["pages"]:
        pg.pop("label", None)
        for it in pg["items"]:
            for k in STRUCT_KEYS:
                it.pop(k, None)
            for r in it.get("runs", []):
                r.pop("link", None)
    return d


def words(pdf):
    """pdftotext -bbox: [(word, xMin, yMin, xMax, yMax)] in reading order."""
    html = run("pdftotext", "-bbox", pdf, "-")
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', html)]


def same_words(name, a, b):
    """Tagging moves no text: the same words at the same places. Not the same
    pixels: untagged, cairo joins the items' text into TJ arrays whose
    rounded offsets drift (0.3 pt over a long line, measured), while the
    tagged PDF starts each element, and each run of a text with links, at
    pango's own position, as the PNG renderer does."""
    wa, wb = words(a), words(b)
    check([w[0] for w in wa] == [w[0] for w in wb] and wa,
          "%s: the same words tagged and untagged\n %s\n %s" % (name, [w[0] for w in wa], [w[0] for w in wb]))
    worst = max((abs(p - q) for x, y in zip(wa, wb) for p, q in zip(x[1:], y[1:])), default=0)
    check(worst < 0.5, "%s: words move by %.3f pt when tagged" % (name, worst))


def example(tmp):
    layout = os.path.join(SRC, "examples", "accessible-report", "report.json")
    P, S, L, LI = "P", "Span", "Link", "LI"
    t = lambda d, s: (d, '"%s"' % s)
    tree = [(0, "Document"),
            (1, "H1"), t(2, "Quarterly accessibility report"),
            (1, P), (2, S), t(3, "This report is a tagged PDF made by folio from a layout document. It sums up the quarter"),
            (2, L), t(3, "the contents"), (2, S), t(3, ". The source is on "), (2, L), t(3, "example.com"),
            (2, S), t(3, "."),
            (1, "H2"), t(2, "Contents"),
            (1, "L"), (2, LI), (3, "Lbl"), t(4, "1."), (3, "LBody"), (4, L), t(5, "Highlights"),
            (2, LI), (3, "Lbl"), t(4, "2."), (3, "LBody"), (4, L), t(5, "Figures"),
            (1, "H2"), t(2, "Highlights"),
            (1, P), t(2, "Three services met the target; one is still being audited. The table below gives the counts."),
            (1, "Table"), (2, "TR"), (3, "TH"), (4, P), t(5, "Service"), (3, "TH"), (4, P), t(5, "Issues"),
            (2, "TR"), (3, "TD"), (4, P), t(5, "Billing"), (3, "TD"), (4, P), t(5, "0"),
            (2, "TR"), (3, "TD"), (4, P), t(5, "Search"), (3, "TD"), (4, P), t(5, "3"),
            (1, "BlockQuote"), t(2, "« L'accessibilité n'est pas une option. »"),
            (1, "H2"), t(2, "Figures"),
            (1, "H3"), t(2, "Issues per service"),
            (1, "Figure"), t(2, ""),
            (1, "Caption"), t(2, "Figure 1: issues per service"),
            (1, P), (2, S), t(3, "Back to the "), (2, L), t(3, "top"), (2, S), t(3, ", or mail "), (2, L),
            t(3, "the editors")]
    pdf, rows = common("example", layout, tmp, tree,
                       [(0, "Quarterly accessibility report", 1), (1, "Contents", 1), (1, "Highlights", 1),
                        (1, "Figures", 2), (2, "Issues per service", 2)],
                       ["i", "ii"],
                       ["https://example.com/reports/q3?format=pdf", "mailto:docs@example.com"],
                       ["contents", "highlights", "page=2", "top"])
    by_type = {}
    for r in rows:
        by_type.setdefault(r["type"], []).append(r)
    check([r["alt"] for r in by_type.get("Figure", [])] == ["Bar chart: Billing 0 issues, Search 3 issues."],
          "example: the figure's alt %s" % by_type.get("Figure"))
    check([r["lang"] for r in by_type.get("BlockQuote", [])] == ["fr"], "example: the quote's lang %s" % by_type.get("BlockQuote"))
    check([r["scope"] for r in by_type.get("TH", [])] == ["Column", "Column"], "example: header scopes %s" % by_type.get("TH"))

    # the same document without structure: untagged, and not a pixel differs
    doc = json.load(open(layout, encoding="utf-8"))
    plain = os.path.join(tmp, "plain.json")
    json.dump(strip(doc), open(plain, "w"))
    plain_pdf = os.path.join(tmp, "plain.pdf")
    check(render(plain, plain_pdf) == [], "plain: no attributes reported")
    check(re.search(r"^Tagged: +no$", run("pdfinfo", plain_pdf), re.M), "plain: untagged without structure fields")
    same_words("example", pdf, plain_pdf)
    # asked for (a PDF/UA render), the plain document is tagged too: text P, image Figure (no alt)
    forced = os.path.join(tmp, "forced.pdf")
    render(plain, forced, "--force")
    kinds = [s for d, s in struct_text(forced) if not s.startswith('"')]
    check(kinds[:3] == ["Document", "P", "P"] and "Figure" in kinds and "Table" not in kinds,
          "forced: a plain document tagged on request %s" % kinds)
    # PNG: the renderer never tags rasters; same bytes with and without structure
    for src, out in ((layout, "png-s"), (plain, "png-p")):
        run(FOLIO, "render", src, "--format", "png", "--dpi", "40", "--out", os.path.join(tmp, out))
    for f in ("page-0001.png", "page-0002.png"):
        a = open(os.path.join(tmp, "png-s", f), "rb").read()
        b = open(os.path.join(tmp, "png-p", f), "rb").read()
        check(a == b, "PNG %s is the same with and without structure" % f)

    # only page 2: the links to page 1 ("#top") and the outline entries there go; its label stays "ii"
    sel = os.path.join(tmp, "sel.pdf")
    render(layout, sel, "--pages", "2")
    p = Pdf(sel)
    dests = [a.get("/Dest", "")[2:] for _, a in p.annots() if "/Dest" in a]
    check(dests == [], "page 2 alone: no link to the page left out, got %s" % dests)
    kinds = [s for d, s in struct_text(sel)]
    check('"top"' in kinds and kinds.count("Link") == 1, "page 2 alone: \"top\" stays as text (a Span) %s" % kinds)
    check(outline(p.j["outlines"]) == [(0, "Figures", 1), (1, "Issues per service", 1)],
          "page 2 alone: outline %s" % outline(p.j["outlines"]))
    check([pl["label"].get("/P", "")[2:] for pl in p.j["pagelabels"]] == ["ii"], "page 2 alone: label")


def corpus(tmp):
    layout = os.path.join(SRC, "tests", "layouts", "valid", "structure-report.json")
    pdf = os.path.join(tmp, "corpus.pdf")
    rows = render(layout, pdf)
    kinds = [s for d, s in struct_text(pdf) if not s.startswith('"')]
    want = ["Document", "H1", "H2", "P", "Span", "Link", "Span", "Link", "Span", "Link", "Figure", "Caption",
            "L", "LI", "Lbl", "LBody", "LI", "LBody", "Table", "TR", "TH", "P", "TH", "P", "TR", "TD", "P", "TD",
            "P", "P", "Figure", "Link", "Code", "BlockQuote", "H2", "Link", "H3"]
    check(kinds == want, "corpus: element order\n got  %s\n want %s" % (kinds, want))
    alts = [(r["type"], r["alt"]) for r in rows if r["alt"]]
    check(alts == [("Figure", "The ACME logo: a blue square"), ("Figure", "A red dot")], "corpus: alts %s" % alts)
    langs = [(r["type"], r["lang"]) for r in rows if r["lang"]]
    check(langs == [("LBody", "de-CH"), ("Code", "en")], "corpus: langs %s" % langs)
    p = Pdf(pdf)
    dests = sorted(a["/Dest"][2:] for _, a in p.annots() if "/Dest" in a)
    check(dests == ["page=2", "summary", "top"], "corpus: internal links %s" % dests)


def edges(tmp):
    """Regressions: run links in a translucent text (cairo 1.16 crashed on tags
    inside its group), right-to-left runs (the structure in reading order,
    not in the visual order of the glyph runs), an empty and a clipped
    heading, rotation, a link to an unpainted item, a list ending on a label
    (the next list's body starts its own item)."""
    T = lambda y, **kw: dict({"type": "text", "x": 10, "y": y, "w": 200, "h": 20}, **kw)
    doc = {"version": 1, "meta": {"lang": "en"}, "pages": [{"items": [
        T(10, text="", role="h1"),
        T(40, h=2, text="clipped away", role="h2"),
        T(60, opacity=0.5, runs=[{"text": "half "}, {"text": "link", "link": "https://e.org"}]),
        T(90, rotation=30, runs=[{"text": "rot "}, {"text": "link", "link": "https://f.org"}]),
        T(120, runs=[{"text": "مرحبا "}, {"text": "link", "link": "https://g.org"}, {"text": " بالعالم"}]),
        T(150, opacity=0.5, link="#page=1", id="t", text="whole"),
        T(180, text="to the invisible", link="#ghost"),
        T(210, opacity=0, id="ghost", text="not painted"),
        T(240, w=10, text="*", role="list_label", list="a"),
        T(240, x=30, text="other list", role="list_item", list="b")]}]}
    path = os.path.join(tmp, "edges.json")
    json.dump(doc, open(path, "w"))
    pdf = os.path.join(tmp, "edges.pdf")
    render(path, pdf)
    tree = struct_text(pdf)
    want = [(0, "Document"), (1, "H1"), (2, '""'), (1, "H2"), (2, '""'),
            (1, "P"), (2, '"half link"'),
            (1, "P"), (2, "Span"), (3, '"rot "'), (2, "Link"), (3, '"link"'),
            (1, "P"), (2, "Span"), (3, '"مرحبا "'), (2, "Link"), (3, '"link"'), (2, "Span"), (3, '" بالعالم"'),
            (1, "P"), (2, "Link"), (3, '"whole"'), (1, "P"), (2, "Link"), (3, '"to the invisible"'),
            (1, "L"), (2, "LI"), (3, "Lbl"), (4, '"*"'), (1, "L"), (2, "LI"), (3, "LBody"), (4, '"other list"')]
    check(tree == want, "edges: structure\n got  %s\n want %s" % (tree, want))
    chk = subprocess.run(["qpdf", "--check", pdf], capture_output=True, text=True)
    check(chk.returncode == 0, "edges: qpdf --check\n%s" % chk.stdout)
    p = Pdf(pdf)
    check(sorted(p.dest_names()) == ["ghost", "page=1", "t"],
          "edges: an unpainted item keeps its destination %s" % p.dest_names())
    names = p.get(p.get(p.get(p.root["/Names"])["/Dests"])["/Names"])
    ghost = p.get(names[names.index("u:ghost") + 1])
    a4 = 297 * 72 / 25.4
    check(ghost[1:3] == ["/XYZ", 10] and abs(ghost[3] - (a4 - 210)) < 0.01,
          "edges: the destination is the item's top-left corner %s" % ghost)


with tempfile.TemporaryDirectory() as tmp:
    example(tmp)
    corpus(tmp)
    edges(tmp)
print("%d failed checks" % len(failures))
sys.exit(1 if failures else 0)
