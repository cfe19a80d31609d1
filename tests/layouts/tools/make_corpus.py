#!/usr/bin/python3
"""Writes the layout corpus: tests/layouts/valid/*.json, invalid/*.json and
expectations.tsv (what each invalid/ file must fail with).

    /usr/bin/python3 tests/layouts/tools/make_corpus.py

The corpus files are committed; this script is how they were made and how to
add more. Images come from make_images.c (compiled on the fly with cc, libpng
and libjpeg) and are embedded as base64, so every file stays a few KB.

expectations.tsv has a line per invalid file: its name, the schema verdict,
and the JSON Pointer and a message substring of one error the decoder must
report. The verdict says whether an independent JSON Schema validator must
"reject" the file too or "accept" it (what a schema cannot say: duplicate
keys, undefined names, undecodable images, U+0000, unpaired surrogates).
"""
import base64
import json
import os
import struct
import subprocess
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VALID = os.path.join(ROOT, "valid")
INVALID = os.path.join(ROOT, "invalid")


def images():
    tmp = tempfile.mkdtemp()
    exe = os.path.join(tmp, "make_images")
    subprocess.check_call(["cc", "-O2", os.path.join(HERE, "make_images.c"), "-lpng", "-ljpeg", "-o", exe])
    subprocess.check_call([exe, tmp])
    out = {}
    for n in ["logo.png", "gray.png", "interlaced.png", "photo.jpg", "photo-progressive.jpg"]:
        with open(os.path.join(tmp, n), "rb") as f:
            out[n] = f.read()
    return out


IMG = images()


def b64(b):
    return base64.b64encode(b).decode()


def png_asset(name="logo.png"):
    return {"media_type": "image/png", "data": b64(IMG[name])}


def jpeg_asset(name="photo.jpg"):
    return {"media_type": "image/jpeg", "data": b64(IMG[name])}


def png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_with_ihdr(w, h):
    """A PNG whose header claims w x h (a decompression bomb's calling card)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def write(dirname, name, doc):
    path = os.path.join(dirname, name)
    if isinstance(doc, bytes):
        data = doc
    elif isinstance(doc, str):
        data = doc.encode()
    else:
        data = (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()
    with open(path, "wb") as f:
        f.write(data)


def page(*items, **kw):
    p = dict(kw)
    p["items"] = list(items)
    return p


def doc(*pages, **kw):
    d = {"version": 1}
    d.update(kw)
    d["pages"] = list(pages) if pages else [page()]
    return d


def text(x, y, w, h, **kw):
    return {"type": "text", "x": x, "y": y, "w": w, "h": h, **kw}


CATALOGUE = {
    "version": 1, "unit": "mm",
    "meta": {"title": "Spring catalogue", "author": "ACME"},
    "page": {"size": "A4"},
    "colors": {"brand": "#1a73e8", "ink": {"cmyk": [0, 0, 0, 100]}},
    "styles": {"title": {"font": "DejaVu Sans", "weight": "bold", "size": 28, "color": "brand", "align": "center"},
               "body": {"font": "DejaVu Serif", "size": 10.5, "line_height": 1.35, "align": "justify"}},
    "assets": {"logo": png_asset()},
    "pages": [{"items": [
        {"type": "text", "x": 20, "y": 20, "w": 170, "h": 30, "style": "title", "text": "Spring 2026"},
        {"type": "text", "x": 20, "y": 60, "w": 80, "h": 200, "style": "body", "overflow": "error",
         "runs": [{"text": "Plain and "}, {"text": "bold", "weight": "bold"}]},
        {"type": "image", "x": 120, "y": 60, "w": 70, "h": 40, "asset": "logo", "fit": "contain"},
        {"type": "rect", "x": 10, "y": 270, "w": 190, "h": 17, "fill": "brand", "radius": 2},
        {"type": "ellipse", "x": 150, "y": 20, "w": 30, "h": 30, "stroke": "ink", "stroke_width": 0.5},
        {"type": "line", "x1": 20, "y1": 55, "x2": 190, "y2": 55, "stroke": "ink", "stroke_width": 0.3}]}]}

ARABIC = "مرحبا بالعالم. هذا نص عربي يُكتب من اليمين إلى اليسار، مع أرقام ١٢٣."
CJK = "春のカタログ 2026 — 新しい商品をご覧ください。中文排版测试：春季新品。한국어 텍스트도 있습니다."
CYRILLIC = "Весенний каталог: съешь же ещё этих мягких французских булок, да выпей чаю."
LOREM = ("Folio lays out text in boxes. " * 40).strip()


def valid():
    v = {}
    v["catalogue.json"] = CATALOGUE
    v["minimal.json"] = {"version": 1, "pages": [{"items": []}]}
    v["unit-pt.json"] = doc(page(text(72, 72, 300, 40, text="Points are the default unit.")))
    v["unit-in.json"] = doc(page(text(1, 1, 6.5, 1, text="One inch margins, in inches."),
                                 {"type": "line", "x1": 1, "y1": 2.1, "x2": 7.5, "y2": 2.1, "stroke_width": 0.02}),
                            unit="in", page={"size": "Letter"})
    v["page-sizes.json"] = doc(*[page(text(10, 10, 100, 20, text=s), size=s) for s in
                                 ["A0", "A1", "A2", "A3", "A4", "A5", "A6", "B4", "B5", "Letter", "Legal", "Tabloid", "Executive"]])
    v["page-landscape.json"] = doc(page(text(10, 10, 200, 20, text="landscape A4")),
                                   page(text(10, 10, 200, 20, text="portrait override"), orientation="portrait"),
                                   page(text(10, 10, 200, 20, text="A3 landscape via default orientation"), size="A3"),
                                   page(text(10, 10, 100, 20, text="custom, swapped"), size={"width": 100, "height": 300}),
                                   page=({"size": "A4", "orientation": "landscape"}))
    v["page-custom.json"] = doc(page(text(5, 5, 80, 20, text="a business card")), unit="mm",
                                page={"size": {"width": 85, "height": 55}})
    v["multipage-overrides.json"] = doc(
        page(text(20, 20, 100, 20, text="page 1: default Letter")),
        page(text(20, 20, 100, 20, text="page 2: A5"), size="A5"),
        page(text(20, 20, 100, 20, text="page 3: 400x400 pt"), size={"width": 400, "height": 400}),
        page(text(20, 20, 100, 20, text="page 4: Letter landscape"), orientation="landscape"),
        page(),
        meta={"title": "Overrides"}, page={"size": "Letter"})
    v["text-runs.json"] = doc(page(text(50, 50, 400, 200, font="DejaVu Serif", size=14, align="justify", line_height=1.5,
                                        color="#333333", runs=[
                                            {"text": "Regular, "},
                                            {"text": "bold, ", "weight": "bold"},
                                            {"text": "italic, ", "font_style": "italic"},
                                            {"text": "oblique, ", "font_style": "oblique"},
                                            {"text": "red, ", "color": "#cc0000"},
                                            {"text": "big, ", "size": 24},
                                            {"text": "mono, ", "font": "DejaVu Sans Mono"},
                                            {"text": "spaced.", "letter_spacing": 2}])))
    v["text-arabic.json"] = doc(page(text(40, 40, 500, 100, text=ARABIC, font="DejaVu Sans", size=16, align="right"),
                                     text(40, 160, 500, 60, runs=[{"text": "Arabic inside Latin: "}, {"text": "السلام عليكم", "weight": "bold"},
                                                                  {"text": " and back."}])),
                                meta={"title": "نص عربي", "author": "فوليو"})
    v["text-cjk.json"] = doc(page(text(40, 40, 500, 100, text=CJK, size=14)), meta={"title": "春のカタログ"})
    v["text-cyrillic.json"] = doc(page(text(40, 40, 500, 100, text=CYRILLIC, style="body")),
                                  styles={"body": {"font": "DejaVu Serif", "size": 12, "align": "justify"}},
                                  meta={"title": "Каталог", "author": "Фолио"})
    v["text-mixed-scripts.json"] = doc(page(text(20, 20, 550, 300, runs=[
        {"text": "English. "}, {"text": CYRILLIC + " "}, {"text": ARABIC + " "}, {"text": CJK + " "},
        {"text": "Ελληνικά. עברית. हिन्दी. 😀"}])))
    v["text-escapes.json"] = (
        '{"version": 1, "pages": [{"items": [{"type": "text", "x": 10, "y": 10, "w": 300, "h": 100,\n'
        ' "text": "quote \\" backslash \\\\ slash \\/ tab\\tnewline\\nunicode \\u00e9\\u4e2d emoji \\ud83d\\ude00 bs\\b ff\\f cr\\r"}]}]}\n')
    v["text-empty.json"] = doc(page(text(10, 10, 100, 20, text="")))
    v["text-long.json"] = doc(page(text(40, 40, 515, 760, text=LOREM, size=9, overflow="shrink")))
    v["image-png.json"] = doc(page({"type": "image", "x": 10, "y": 10, "w": 64, "h": 64, "asset": "logo"}),
                              assets={"logo": png_asset()})
    v["image-png-gray.json"] = doc(page({"type": "image", "x": 10, "y": 10, "w": 80, "h": 40, "asset": "g"}),
                                   assets={"g": png_asset("gray.png")})
    v["image-png-interlaced.json"] = doc(page({"type": "image", "x": 10, "y": 10, "w": 120, "h": 90, "asset": "i"}),
                                         assets={"i": png_asset("interlaced.png")})
    v["image-jpeg.json"] = doc(page({"type": "image", "x": 10, "y": 10, "w": 240, "h": 160, "asset": "photo"}),
                               assets={"photo": jpeg_asset()})
    v["image-jpeg-progressive.json"] = doc(page({"type": "image", "x": 10, "y": 10, "w": 100, "h": 100, "asset": "p"}),
                                           assets={"p": jpeg_asset("photo-progressive.jpg")})
    v["image-fits.json"] = doc(page(*[{"type": "image", "x": 10 + 130 * i, "y": 10, "w": 120, "h": 60, "asset": "photo", "fit": f,
                                       "name": "fit " + f} for i, f in enumerate(["contain", "cover", "fill", "none"])],
                                    {"type": "image", "x": 10, "y": 100, "w": 50, "h": 50, "asset": "logo"}),
                               assets={"photo": jpeg_asset(), "logo": png_asset()}, page={"orientation": "landscape"})
    v["shapes.json"] = doc(page(
        {"type": "rect", "x": 10, "y": 10, "w": 100, "h": 50},
        {"type": "rect", "x": 120, "y": 10, "w": 100, "h": 50, "fill": "#ffcc00"},
        {"type": "rect", "x": 230, "y": 10, "w": 100, "h": 50, "stroke": "#000000"},
        {"type": "rect", "x": 340, "y": 10, "w": 100, "h": 50, "fill": "#eeeeee", "stroke": "#333333", "stroke_width": 3, "radius": 12},
        {"type": "ellipse", "x": 10, "y": 100, "w": 100, "h": 50, "fill": "#00aa55"},
        {"type": "ellipse", "x": 120, "y": 100, "w": 50, "h": 50, "stroke": "#aa0055", "stroke_width": 0.25},
        {"type": "line", "x1": 10, "y1": 200, "x2": 500, "y2": 200},
        {"type": "line", "x1": 500, "y1": 300, "x2": 10, "y2": 220, "stroke": "#0000ff", "stroke_width": 4},
        {"type": "line", "x1": 250, "y1": 320, "x2": 250, "y2": 420}))
    v["colors-cmyk.json"] = doc(page(*[{"type": "rect", "x": 10 + 60 * i, "y": 10, "w": 50, "h": 50, "fill": n}
                                       for i, n in enumerate(["cyan", "magenta", "yellow", "black", "rich", "half"])],
                                     text(10, 80, 300, 20, text="CMYK text", color="magenta")),
                                colors={"cyan": {"cmyk": [100, 0, 0, 0]}, "magenta": {"cmyk": [0, 100, 0, 0]},
                                        "yellow": {"cmyk": [0, 0, 100, 0]}, "black": {"cmyk": [0, 0, 0, 100]},
                                        "rich": {"cmyk": [60, 40, 40, 100]}, "half": {"cmyk": [12.5, 0, 50.25, 7]}})
    v["rotation-opacity.json"] = doc(page(
        text(100, 100, 200, 30, text="rotated 30°", rotation=30),
        {"type": "rect", "x": 100, "y": 200, "w": 100, "h": 60, "fill": "#ff0000", "rotation": -45, "opacity": 0.5},
        {"type": "ellipse", "x": 250, "y": 200, "w": 100, "h": 60, "fill": "#0000ff", "opacity": 0},
        {"type": "line", "x1": 100, "y1": 400, "x2": 300, "y2": 400, "rotation": 90, "opacity": 1},
        {"type": "image", "x": 350, "y": 100, "w": 64, "h": 64, "asset": "logo", "rotation": 360, "opacity": 0.25}),
        assets={"logo": png_asset()})
    v["overflow-modes.json"] = doc(page(text(10, 10, 100, 20, text="clip " * 20, overflow="clip"),
                                        text(10, 40, 100, 20, text="shrink " * 20, overflow="shrink"),
                                        text(10, 70, 300, 40, text="fits", overflow="error")))
    v["weights-styles.json"] = doc(page(*[text(10, 10 + 25 * i, 300, 20, text="weight %s" % w, weight=w)
                                         for i, w in enumerate([100, 200, 300, 400, 500, 600, 700, 800, 900, "normal", "bold"])],
                                       text(10, 300, 300, 20, text="italic", font_style="italic"),
                                       text(10, 330, 300, 20, text="normal", font_style="normal")))
    v["styles-cascade.json"] = doc(page(
        text(10, 10, 300, 40, style="base", text="named style only"),
        text(10, 60, 300, 40, style="base", size=20, color="accent", text="item fields over the style"),
        text(10, 110, 300, 40, style="base", weight=300, runs=[{"text": "run over item "}, {"text": "over style", "size": 8, "color": "#00ff00"}]),
        text(10, 160, 300, 40, text="no style: defaults")),
        colors={"accent": "#AbCdEf"},
        styles={"base": {"font": "DejaVu Sans Mono", "weight": 600, "font_style": "italic", "size": 11, "color": "#101010",
                         "align": "center", "line_height": 2, "letter_spacing": -0.5},
                "unused": {}})
    v["order-pages-first.json"] = (
        '{"pages": [{"items": [{"h": 20, "w": 100, "y": 10, "x": 10, "text": "defined later", "style": "s", "type": "text"},\n'
        '  {"asset": "a", "type": "image", "x": 0, "y": 40, "w": 16, "h": 16},\n'
        '  {"fill": "c", "type": "rect", "x": 0, "y": 60, "w": 10, "h": 10}], "size": "A5"}],\n'
        ' "styles": {"s": {"color": "c", "size": 9}}, "colors": {"c": "#123456"},\n'
        ' "assets": {"a": ' + json.dumps(png_asset()) + '}, "unit": "mm", "page": {"size": "A3"}, "version": 1}\n')
    v["names.json"] = doc(page(text(10, 10, 100, 20, text="x", name="headline"),
                               {"type": "rect", "x": 10, "y": 40, "w": 10, "h": 10, "name": "box № 1 — «ünïcødé»"},
                               {"type": "line", "x1": 0, "y1": 0, "x2": 1, "y2": 1, "name": ""}),
                          colors={"_x.y-z": "#000000", "A1": "#ffffff"},
                          styles={"Heading_1": {"size": 20}})
    v["empty-pages.json"] = doc(page(), page(), page(size="A6"))
    v["numbers.json"] = ('{"version": 1.0, "unit": "pt", "pages": [{"items": [\n'
                         ' {"type": "text", "x": -0.0, "y": 1E1, "w": 2.5e+2, "h": 3e-0, "text": "n", "weight": 700.0, "size": 1e1},\n'
                         ' {"type": "rect", "x": -1000000, "y": 1000000, "w": 0.000001, "h": 1e6, "radius": 0},\n'
                         ' {"type": "line", "x1": 12.345678901234567890, "y1": 0.1, "x2": 123456.7, "y2": -999999.999999, "stroke_width": 1000}\n'
                         ']}]}\n')
    v["whitespace.json"] = ('\r\n\t {\r\n\t"version"\t:\t1 ,\r\n "pages" : [ { "items" : [ ] } ] \r\n}\r\n\t ')
    v["meta-partial.json"] = doc(page(), meta={"title": "Only a title"})
    v["meta-empty.json"] = doc(page(), meta={})
    v["many-items.json"] = doc(page(*[{"type": "rect", "x": (i % 20) * 25, "y": (i // 20) * 25, "w": 20, "h": 20,
                                        "fill": "#%02x%02x%02x" % (i * 7 % 256, i * 13 % 256, i * 29 % 256)} for i in range(300)]))
    v["lines-only.json"] = doc(page(*[{"type": "line", "x1": 0, "y1": i * 10, "x2": 595, "y2": i * 10 + 5,
                                       "stroke": "ink", "stroke_width": 0.1 * (i + 1)} for i in range(20)]),
                               colors={"ink": "#202020"})
    # print geometry: bleed (one length, per side), marks, slug; /page defaults and per-page overrides
    v["bleed-uniform.json"] = doc(page({"type": "rect", "x": -3, "y": -3, "w": 91, "h": 61, "fill": "#1a73e8"},
                                       text(5, 5, 75, 10, text="Bleeds 3 mm on every side")),
                                  unit="mm", page={"size": {"width": 85, "height": 55}, "bleed": 3, "marks": ["crop"]})
    v["bleed-per-side.json"] = doc(page(text(10, 10, 100, 20, text="per side"), bleed={"top": 9, "left": 4.5}),
                                   page(text(10, 10, 100, 20, text="the default"), bleed=0),
                                   page={"bleed": {"top": 1, "right": 2, "bottom": 3, "left": 4}})
    v["marks-all.json"] = doc(page(text(10, 10, 100, 20, text="every mark")),
                              page(text(10, 10, 100, 20, text="no marks here"), marks=[]),
                              page(text(10, 10, 100, 20, text="a wider slug"), slug=1),
                              meta={"title": "Marks"}, unit="in",
                              page={"size": "A6", "bleed": 0.125,
                                    "marks": ["crop", "registration", "color_bars", "page_info"]})
    # a page with bleed, marks, slug and a label: each field has its own duplicate-key bit
    v["bleed-and-label.json"] = doc(page(text(10, 10, 100, 20, text="front matter"), bleed=3, marks=["crop"], slug=20,
                                         label="i"))
    v["slug-without-marks.json"] = doc(page(text(10, 10, 100, 20, text="white paper around")), page={"slug": 72, "bleed": 72})
    v.update(structure_valid())
    return v


def structure_valid():
    """Tagged-PDF structure: roles, lang, alt, links, ids, lists, tables, page labels."""
    v = {}
    img = {"type": "image", "x": 300, "y": 120, "w": 120, "h": 80, "asset": "logo", "alt": "The ACME logo: a blue square"}
    v["structure-report.json"] = doc(
        page(
            {"type": "rect", "x": 0, "y": 0, "w": 595, "h": 30, "fill": "#1a73e8"},
            text(40, 40, 500, 30, text="Annual report", role="h1", id="top", size=22),
            text(40, 80, 500, 20, text="Summary", role="h2", id="summary"),
            text(40, 100, 250, 80, runs=[{"text": "See "}, {"text": "our site", "link": "https://example.com/a?b=1&c=(2)"},
                                         {"text": " or "}, {"text": "write", "link": "mailto:info@example.com"},
                                         {"text": "; back to the "}, {"text": "top", "link": "#top"}]),
            img,
            text(300, 205, 120, 15, text="Figure 1: the logo", role="caption", size=8),
            text(40, 190, 10, 15, text="•", role="list_label", list="points"),
            text(52, 190, 200, 15, text="First point", role="list_item", list="points"),
            {"type": "line", "x1": 40, "y1": 206, "x2": 250, "y2": 206, "stroke_width": 0.2},
            text(52, 208, 200, 15, text="Second point", role="list_item", list="points", lang="de-CH"),
            text(40, 240, 80, 15, text="Region", table="t1", row=0, col=0, header=True),
            text(120, 240, 80, 15, text="Sales", table="t1", row=0, col=1, header=True),
            text(40, 255, 80, 15, text="North", table="t1", row=1, col=0),
            text(120, 255, 80, 15, text="12", table="t1", row=1, col=1),
            text(120, 265, 80, 10, text="(est.)", table="t1", row=1, col=1, size=6),
            {"type": "ellipse", "x": 450, "y": 240, "w": 40, "h": 40, "fill": "#ff0000", "role": "figure",
             "alt": "A red dot", "link": "#page=2"},
            text(40, 300, 300, 15, text="print(1)", role="code", lang="en"),
            text(40, 320, 300, 30, text="To be or not to be.", role="quote"),
            text(40, 800, 300, 15, text="page footer", role="artifact", size=8),
            label="i"),
        page(text(40, 40, 300, 20, text="Details", role="h2", link="#summary"),
             text(40, 60, 300, 20, text="Sub-details", role="h3"),
             {"type": "image", "x": 40, "y": 100, "w": 20, "h": 20, "asset": "logo", "role": "artifact"},
             label="ii"),
        meta={"title": "Annual report", "lang": "en-GB"}, assets={"logo": png_asset()})
    v["structure-lang-tags.json"] = doc(page(*[text(10, 10 + 20 * i, 200, 18, text=t, lang=t) for i, t in enumerate(
        ["en", "de-CH", "zh-Hant-TW", "sr-Latn-RS", "de-CH-1996", "es-419", "sl-rozaj-biske", "en-US-x-twain",
         "ast", "zh-yue-HK", "en-a-bbb-x-a-ccc", "EN-us"])]), meta={"lang": "fr"})
    v["structure-roles.json"] = doc(page(*[text(10, 10 + 20 * i, 200, 18, text=r, role=r) for i, r in enumerate(
        ["p", "h1", "h2", "h3", "h4", "h5", "h6", "caption", "quote", "code", "artifact"])],
        {"type": "line", "x1": 0, "y1": 0, "x2": 10, "y2": 10, "role": "figure", "alt": "a slash"},
        {"type": "rect", "x": 0, "y": 0, "w": 10, "h": 10, "role": "artifact", "id": "box"},
        text(10, 400, 100, 20, text="table in one cell", table="solo", row=65535, col=65535, header=False)))
    return v


def structure_invalid(with_item):
    t = lambda **kw: text(0, 0, 100, 20, text="x", **kw)
    img = lambda **kw: {"type": "image", "x": 0, "y": 0, "w": 10, "h": 10, "asset": "a", **kw}
    assets = {"a": png_asset()}
    x = {}
    x["lang-underscore.json"] = (doc(meta={"lang": "en_US"}), "/meta/lang", "BCP 47", "reject")
    x["lang-private-only.json"] = (with_item(t(lang="x-klingon")), "/pages/0/items/0/lang", "BCP 47", "reject")
    x["lang-long-subtag.json"] = (with_item(t(lang="en-abcdefghi")), "/pages/0/items/0/lang", "BCP 47", "reject")
    x["lang-too-long.json"] = (with_item(t(lang="en" + "-abcdefgh" * 8)), "/pages/0/items/0/lang", "at most 64", "reject")
    x["role-unknown.json"] = (with_item(t(role="title")), "/pages/0/items/0/role", "must be one of", "reject")
    x["role-figure-on-text.json"] = (with_item(t(role="figure")), "/pages/0/items/0/role",
                                     "role \"figure\" is not for an item of type \"text\"", "reject")
    x["role-h1-on-image.json"] = (doc(page(img(role="h1")), assets=assets), "/pages/0/items/0/role",
                                  "is not for an item of type \"image\"", "reject")
    x["alt-on-text.json"] = (with_item(t(alt="words")), "/pages/0/items/0/alt", "unknown field for an item of type \"text\"", "reject")
    x["alt-empty.json"] = (doc(page(img(alt="")), assets=assets), "/pages/0/items/0/alt", "must not be empty", "reject")
    x["alt-on-artifact.json"] = (doc(page(img(alt="a logo", role="artifact")), assets=assets), "/pages/0/items/0/alt",
                                 "an artifact has no alt", "reject")
    x["alt-on-rect-no-role.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "alt": "box"}),
                                     "/pages/0/items/0/alt", "an artifact has no alt", "reject")
    x["link-javascript.json"] = (with_item(t(link="javascript:alert(1)")), "/pages/0/items/0/link", "must be an http:", "reject")
    x["link-file.json"] = (with_item(t(link="file:///etc/passwd")), "/pages/0/items/0/link", "must be an http:", "reject")
    x["link-upper-scheme.json"] = (with_item(t(link="HTTPS://example.com")), "/pages/0/items/0/link", "lower-case", "reject")
    x["link-space.json"] = (with_item(t(link="https://example.com/a b")), "/pages/0/items/0/link", "RFC 3986", "reject")
    x["link-no-host.json"] = (with_item(t(link="https://")), "/pages/0/items/0/link", "must be an http:", "reject")
    x["link-non-ascii.json"] = (with_item(t(link="https://example.com/café")), "/pages/0/items/0/link", "RFC 3986", "reject")
    x["link-page-zero.json"] = (with_item(t(link="#page=0")), "/pages/0/items/0/link", "#page=N", "reject")
    x["link-bad-anchor.json"] = (with_item(t(link="#1st")), "/pages/0/items/0/link", "#id", "reject")
    x["link-too-long.json"] = (with_item(t(link="https://e.org/" + "a" * 2040)), "/pages/0/items/0/link",
                               "at most 2048 characters", "reject")
    x["link-run-bad.json"] = (with_item(text(0, 0, 9, 9, runs=[{"text": "a", "link": "ftp://x"}])),
                              "/pages/0/items/0/runs/0/link", "must be an http:", "reject")
    x["link-undefined-anchor.json"] = (with_item(t(link="#nowhere")), "/pages/0/items/0/link",
                                       "id \"nowhere\" is not defined", "accept")
    x["link-run-undefined-anchor.json"] = (doc(page(t(id="here"), text(0, 0, 9, 9, runs=[{"text": "a"}, {"text": "b", "link": "#there"}]))),
                                           "/pages/0/items/1/runs/1/link", "id \"there\" is not defined", "accept")
    x["link-page-past-end.json"] = (doc(page(t(link="#page=3")), page()), "/pages/0/items/0/link",
                                    "page 3 is not defined (the document has 2 pages)", "accept")
    x["link-on-artifact.json"] = (with_item(t(role="artifact", link="https://e.org")), "/pages/0/items/0/link",
                                  "an artifact cannot be a link", "reject")
    x["link-on-rect-no-role.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "link": "https://e.org"}),
                                      "/pages/0/items/0/link", "an artifact cannot be a link", "reject")
    x["link-item-and-run.json"] = (with_item(text(0, 0, 9, 9, link="https://e.org", runs=[{"text": "a", "link": "https://f.org"}])),
                                   "/pages/0/items/0/runs", "its runs cannot be links too", "reject")
    x["link-run-in-artifact.json"] = (with_item(text(0, 0, 9, 9, role="artifact", runs=[{"text": "a", "link": "https://f.org"}])),
                                      "/pages/0/items/0/runs", "an artifact's runs cannot be links", "reject")
    x["id-duplicate.json"] = (doc(page(t(id="a")), page(t(), t(id="a"))), "/pages/1/items/1/id",
                              "duplicate id \"a\" (also at /pages/0/items/0", "accept")
    x["id-bad-name.json"] = (with_item(t(id="a b")), "/pages/0/items/0/id", "must be a name", "reject")
    x["list-missing.json"] = (with_item(t(role="list_item")), "/pages/0/items/0/list", "required field is missing", "reject")
    x["list-without-role.json"] = (with_item(t(list="l")), "/pages/0/items/0/list", "only for role", "reject")
    x["list-interrupted.json"] = (doc(page(t(role="list_item", list="l"), t(), t(role="list_item", list="l"))),
                                  "/pages/0/items/2/list", "list \"l\" was interrupted", "accept")
    x["list-in-table.json"] = (with_item(t(role="list_item", list="l", table="t", row=0, col=0)),
                               "/pages/0/items/0/table", "cannot be an artifact or a list item", "reject")
    x["table-missing-col.json"] = (with_item(t(table="t", row=0)), "/pages/0/items/0/col", "required field is missing", "reject")
    x["table-row-alone.json"] = (with_item(t(row=0)), "/pages/0/items/0/row", "only for a table cell", "reject")
    x["table-header-alone.json"] = (with_item(t(header=True)), "/pages/0/items/0/header", "only for a table cell", "reject")
    x["table-row-negative.json"] = (with_item(t(table="t", row=-1, col=0)), "/pages/0/items/0/row", "must be >= 0", "reject")
    x["table-col-fraction.json"] = (with_item(t(table="t", row=0, col=0.5)), "/pages/0/items/0/col", "must be an integer", "reject")
    x["table-row-too-big.json"] = (with_item(t(table="t", row=65536, col=0)), "/pages/0/items/0/row", "must be <= 65535", "reject")
    x["table-header-string.json"] = (with_item(t(table="t", row=0, col=0, header="yes")), "/pages/0/items/0/header",
                                     "must be true or false", "reject")
    x["table-artifact.json"] = (with_item(t(role="artifact", table="t", row=0, col=0)), "/pages/0/items/0/table",
                                "cannot be an artifact", "reject")
    x["table-order.json"] = (doc(page(t(table="t", row=0, col=1), t(table="t", row=0, col=0))), "/pages/0/items/1/row",
                             "cells must come in document order row by row", "accept")
    x["table-interrupted.json"] = (doc(page(t(table="t", row=0, col=0), t(), t(table="t", row=1, col=0))),
                                   "/pages/0/items/2/table", "table \"t\" was interrupted", "accept")
    x["label-empty.json"] = (doc(page(label="")), "/pages/0/label", "must not be empty", "reject")
    x["label-too-long.json"] = (doc(page(label="x" * 65)), "/pages/0/label", "at most 64", "reject")
    x["label-on-default-page.json"] = (doc(page(), page={"label": "i"}), "/page/label", "unknown field", "reject")
    return x


def invalid():
    """name -> (document, pointer, message substring, schema verdict)"""
    x = {}
    good_item = text(10, 10, 100, 20, text="x")

    def with_item(item, **kw):
        return doc(page(item), **kw)

    # -- not JSON (a schema validator cannot even parse these)
    x["json-empty.json"] = (b"", "", "invalid JSON at byte 0", "reject")
    x["json-truncated.json"] = ('{"version": 1, "pages": [{"items": [', "/pages/0/items/0", "invalid JSON", "reject")
    x["json-trailing-comma.json"] = ('{"version": 1, "pages": [{"items": []},]}', "/pages/1", "invalid JSON", "reject")
    x["json-trailing-data.json"] = ('{"version": 1, "pages": [{"items": []}]} {}', "", "end of the document", "reject")
    x["json-single-quotes.json"] = ("{'version': 1}", "", "invalid JSON at byte 1: expected a '\"' starting a key", "reject")
    x["json-leading-zero.json"] = ('{"version": 01, "pages": [{"items": []}]}', "/version", "leading zero", "reject")
    x["json-nan.json"] = ('{"version": 1, "pages": [{"items": [{"type": "rect", "x": NaN, "y": 0, "w": 1, "h": 1}]}]}',
                          "/pages/0/items/0/x", "invalid JSON", "reject")
    x["json-infinity.json"] = ('{"version": 1, "pages": [{"items": [{"type": "rect", "x": -Infinity, "y": 0, "w": 1, "h": 1}]}]}',
                               "/pages/0/items/0/x", "invalid JSON", "reject")
    x["json-bad-escape.json"] = ('{"version": 1, "pages": [{"items": [{"type": "text", "x": 0, "y": 0, "w": 1, "h": 1, "text": "\\x41"}]}]}',
                                 "/pages/0/items/0/text", "valid escape", "reject")
    x["json-control-char.json"] = ('{"version": 1, "pages": [{"items": [{"type": "text", "x": 0, "y": 0, "w": 1, "h": 1, "text": "a\tb"}]}]}',
                                   "/pages/0/items/0/text", "control character", "reject")
    x["utf8-invalid-byte.json"] = (b'{"version": 1, "meta": {"title": "caf\xe9"}, "pages": [{"items": []}]}',
                                   "/meta/title", "valid UTF-8", "reject")
    x["utf8-overlong.json"] = (b'{"version": 1, "meta": {"title": "\xc0\xaf"}, "pages": [{"items": []}]}',
                               "/meta/title", "valid UTF-8", "reject")
    x["utf8-surrogate-bytes.json"] = (b'{"version": 1, "meta": {"author": "\xed\xa0\x80"}, "pages": [{"items": []}]}',
                                      "/meta/author", "valid UTF-8", "reject")
    x["utf8-bom.json"] = (b'\xef\xbb\xbf{"version": 1, "pages": [{"items": []}]}', "", "invalid JSON at byte 0", "reject")
    deep = "[" * 100 + "]" * 100
    x["json-deep-nesting.json"] = ('{"version": 1, "deep": ' + deep + ', "pages": [{"items": []}]}', "/deep", "unknown field", "reject")
    # -- decoder-only: JSON that parses, schema accepts, decoder rejects
    x["dup-key-top.json"] = ('{"version": 1, "pages": [{"items": []}], "pages": [{"items": []}]}', "/pages", "duplicate key", "accept")
    x["dup-key-item.json"] = ('{"version": 1, "pages": [{"items": [{"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "x": 2}]}]}',
                              "/pages/0/items/0/x", "duplicate key", "accept")
    x["dup-key-color.json"] = ('{"version": 1, "colors": {"a": "#000000", "a": "#ffffff"}, "pages": [{"items": []}]}',
                               "/colors/a", "duplicate key", "accept")
    x["unpaired-surrogate.json"] = ('{"version": 1, "meta": {"title": "\\ud800x"}, "pages": [{"items": []}]}',
                                    "/meta/title", "surrogate", "accept")
    x["nul-in-text.json"] = ('{"version": 1, "pages": [{"items": [{"type": "text", "x": 0, "y": 0, "w": 1, "h": 1, "text": "a\\u0000b"}]}]}',
                             "/pages/0/items/0/text", "U+0000", "accept")
    x["undefined-style.json"] = (with_item(text(0, 0, 10, 10, text="x", style="nope")), "/pages/0/items/0/style",
                                 "style \"nope\" is not defined", "accept")
    x["undefined-color-fill.json"] = (doc(page(good_item, {"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "fill": "brand"})),
                                      "/pages/0/items/1/fill", "colour \"brand\" is not defined", "accept")
    x["undefined-color-in-style.json"] = (doc(page(), styles={"s": {"color": "missing"}}), "/styles/s/color", "not defined", "accept")
    x["undefined-color-in-run.json"] = (with_item(text(0, 0, 10, 10, runs=[{"text": "a"}, {"text": "b", "color": "red"}])),
                                        "/pages/0/items/0/runs/1/color", "colour \"red\" is not defined", "accept")
    x["undefined-asset.json"] = (with_item({"type": "image", "x": 0, "y": 0, "w": 1, "h": 1, "asset": "logo"}),
                                 "/pages/0/items/0/asset", "asset \"logo\" is not defined", "accept")
    x["image-wrong-type.json"] = (doc(page(), assets={"a": {"media_type": "image/png", "data": b64(IMG["photo.jpg"])}}),
                                  "/assets/a/data", "not a PNG", "accept")
    x["image-not-an-image.json"] = (doc(page(), assets={"a": {"media_type": "image/jpeg", "data": b64(b"hello, world")}}),
                                    "/assets/a/data", "not a JPEG", "accept")
    bad = bytearray(IMG["logo.png"])
    bad[45] ^= 0xFF  # inside IDAT: CRC no longer matches
    x["image-corrupt-png.json"] = (doc(page(), assets={"a": {"media_type": "image/png", "data": b64(bytes(bad))}}),
                                   "/assets/a/data", "PNG does not decode", "accept")
    x["image-truncated-jpeg.json"] = (doc(page(), assets={"a": {"media_type": "image/jpeg", "data": b64(IMG["photo.jpg"][:400])}}),
                                      "/assets/a/data", "JPEG does not decode", "accept")
    x["image-bomb-png.json"] = (doc(page(), assets={"bomb": {"media_type": "image/png", "data": b64(png_with_ihdr(100000, 100000))}}),
                                "/assets/bomb/data", "more than the limit", "accept")
    x["image-too-wide-png.json"] = (doc(page(), assets={"w": {"media_type": "image/png", "data": b64(png_with_ihdr(40000, 1))}}),
                                    "/assets/w/data", "at most 32767", "accept")
    # -- schema violations both must reject
    x["root-not-object.json"] = ("[]", "", "must be an object", "reject")
    x["missing-version.json"] = ({"pages": [{"items": []}]}, "/version", "required", "reject")
    x["version-2.json"] = (doc(version=2), "/version", "must be 1", "reject")
    x["missing-pages.json"] = ({"version": 1}, "/pages", "required", "reject")
    x["pages-empty.json"] = ({"version": 1, "pages": []}, "/pages", "at least 1 page", "reject")
    x["page-missing-items.json"] = ({"version": 1, "pages": [{}]}, "/pages/0/items", "required", "reject")
    x["page-unknown-field.json"] = ({"version": 1, "pages": [{"items": [], "margin": 10}]}, "/pages/0/margin", "unknown field", "reject")
    x["unknown-top-field.json"] = (doc(extra=True), "/extra", "unknown field", "reject")
    x["unknown-item-field.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "colour": "#000000"}),
                                    "/pages/0/items/0/colour", "unknown field", "reject")
    x["field-wrong-type-for-item.json"] = (with_item({"type": "ellipse", "x": 0, "y": 0, "w": 1, "h": 1, "radius": 3}),
                                           "/pages/0/items/0/radius", "unknown field for an item of type \"ellipse\"", "reject")
    x["style-field-on-rect.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "font": "DejaVu Sans"}),
                                     "/pages/0/items/0/font", "unknown field for an item of type \"rect\"", "reject")
    x["item-type-unknown.json"] = (with_item({"type": "circle", "x": 0, "y": 0, "w": 1, "h": 1}), "/pages/0/items/0/type",
                                   "must be one of", "reject")
    x["item-missing-type.json"] = (with_item({"x": 0, "y": 0, "w": 1, "h": 1}), "/pages/0/items/0/type", "required", "reject")
    x["item-not-object.json"] = (doc(page("text")), "/pages/0/items/0", "must be an object", "reject")
    x["items-not-array.json"] = ({"version": 1, "pages": [{"items": {}}]}, "/pages/0/items", "must be an array", "reject")
    x["x-wrong-type.json"] = (with_item({"type": "rect", "x": "10", "y": 0, "w": 1, "h": 1}), "/pages/0/items/0/x",
                              "must be a number", "reject")
    x["w-zero.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 0, "h": 1}), "/pages/0/items/0/w", "must be > 0", "reject")
    x["h-negative.json"] = (with_item(text(0, 0, 10, -5, text="x")), "/pages/0/items/0/h", "must be > 0", "reject")
    x["x-huge.json"] = ('{"version": 1, "pages": [{"items": [{"type": "rect", "x": 1e400, "y": 0, "w": 1, "h": 1}]}]}',
                        "/pages/0/items/0/x", "must be <= 1e+06", "reject")
    x["y-too-far.json"] = (with_item({"type": "rect", "x": 0, "y": -2000000, "w": 1, "h": 1}), "/pages/0/items/0/y",
                           "must be >= -1e+06", "reject")
    x["opacity-over-1.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "opacity": 1.5}),
                                "/pages/0/items/0/opacity", "must be <= 1", "reject")
    x["rotation-out-of-range.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "rotation": 400}),
                                       "/pages/0/items/0/rotation", "must be <= 360", "reject")
    x["stroke-width-zero.json"] = (with_item({"type": "line", "x1": 0, "y1": 0, "x2": 1, "y2": 1, "stroke_width": 0}),
                                   "/pages/0/items/0/stroke_width", "must be > 0", "reject")
    x["radius-negative.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "radius": -1}),
                                 "/pages/0/items/0/radius", "must be >= 0", "reject")
    x["color-bad-hex.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "fill": "#12345"}),
                               "/pages/0/items/0/fill", "#rrggbb", "reject")
    x["color-bad-name.json"] = (with_item({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1, "stroke": "brand blue"}),
                                "/pages/0/items/0/stroke", "#rrggbb", "reject")
    x["color-def-bad.json"] = (doc(page(), colors={"c": "red"}), "/colors/c", "#rrggbb", "reject")
    x["color-key-invalid.json"] = (doc(page(), colors={"my colour": "#000000"}), "/colors/my colour", "invalid name", "reject")
    x["cmyk-three.json"] = (doc(page(), colors={"c": {"cmyk": [0, 0, 0]}}), "/colors/c/cmyk", "4 components", "reject")
    x["cmyk-over-100.json"] = (doc(page(), colors={"c": {"cmyk": [0, 0, 0, 101]}}), "/colors/c/cmyk/3", "must be <= 100", "reject")
    x["cmyk-extra-field.json"] = (doc(page(), colors={"c": {"cmyk": [0, 0, 0, 1], "spot": True}}), "/colors/c/spot",
                                  "unknown field", "reject")
    x["unit-cm.json"] = (doc(unit="cm"), "/unit", "must be one of \"pt\", \"mm\", \"in\"", "reject")
    x["page-size-unknown.json"] = (doc(page={"size": "A10"}), "/page/size", "must be one of", "reject")
    x["page-size-missing-height.json"] = (doc(page(size={"width": 100})), "/pages/0/size/height", "required", "reject")
    x["page-size-zero.json"] = (doc(page={"size": {"width": 0, "height": 10}}), "/page/size/width", "must be > 0", "reject")
    x["page-orientation-bad.json"] = (doc(page(orientation="sideways")), "/pages/0/orientation", "portrait", "reject")
    x["text-and-runs.json"] = (with_item(text(0, 0, 10, 10, text="a", runs=[{"text": "b"}])), "/pages/0/items/0",
                               "not both", "reject")
    x["text-missing.json"] = (with_item(text(0, 0, 10, 10)), "/pages/0/items/0/text", "required", "reject")
    x["runs-empty.json"] = (with_item(text(0, 0, 10, 10, runs=[])), "/pages/0/items/0/runs", "at least 1 run", "reject")
    x["run-missing-text.json"] = (with_item(text(0, 0, 10, 10, runs=[{"weight": "bold"}])), "/pages/0/items/0/runs/0/text",
                                  "required", "reject")
    x["run-align.json"] = (with_item(text(0, 0, 10, 10, runs=[{"text": "a", "align": "center"}])),
                           "/pages/0/items/0/runs/0/align", "unknown field", "reject")
    x["weight-350.json"] = (with_item(text(0, 0, 10, 10, text="a", weight=350)), "/pages/0/items/0/weight", "100, 200", "reject")
    x["weight-heavy.json"] = (doc(page(), styles={"s": {"weight": "heavy"}}), "/styles/s/weight", "\"bold\"", "reject")
    x["font-style-bad.json"] = (with_item(text(0, 0, 10, 10, text="a", font_style="slanted")), "/pages/0/items/0/font_style",
                                "\"italic\"", "reject")
    x["align-bad.json"] = (with_item(text(0, 0, 10, 10, text="a", align="middle")), "/pages/0/items/0/align", "\"justify\"", "reject")
    x["overflow-bad.json"] = (with_item(text(0, 0, 10, 10, text="a", overflow="scroll")), "/pages/0/items/0/overflow",
                              "\"shrink\"", "reject")
    x["font-size-zero.json"] = (with_item(text(0, 0, 10, 10, text="a", size=0)), "/pages/0/items/0/size", "must be > 0", "reject")
    x["font-empty.json"] = (doc(page(), styles={"s": {"font": ""}}), "/styles/s/font", "must not be empty", "reject")
    x["line-height-zero.json"] = (doc(page(), styles={"s": {"line_height": 0}}), "/styles/s/line_height", "must be > 0", "reject")
    x["letter-spacing-big.json"] = (with_item(text(0, 0, 10, 10, text="a", letter_spacing=500)),
                                    "/pages/0/items/0/letter_spacing", "must be <= 100", "reject")
    x["style-unknown-field.json"] = (doc(page(), styles={"s": {"underline": True}}), "/styles/s/underline", "unknown field", "reject")
    x["style-ref-bad-name.json"] = (with_item(text(0, 0, 10, 10, text="a", style="1st")), "/pages/0/items/0/style",
                                    "must be a name", "reject")
    x["fit-bad.json"] = (with_item({"type": "image", "x": 0, "y": 0, "w": 1, "h": 1, "asset": "a", "fit": "stretch"}, assets={"a": png_asset()}),
                         "/pages/0/items/0/fit", "\"contain\"", "reject")
    x["image-missing-asset.json"] = (with_item({"type": "image", "x": 0, "y": 0, "w": 1, "h": 1}), "/pages/0/items/0/asset",
                                     "required", "reject")
    x["line-missing-x2.json"] = (with_item({"type": "line", "x1": 0, "y1": 0, "y2": 1}), "/pages/0/items/0/x2", "required", "reject")
    x["line-with-w.json"] = (with_item({"type": "line", "x1": 0, "y1": 0, "x2": 1, "y2": 1, "w": 5}), "/pages/0/items/0/w",
                             "unknown field for an item of type \"line\"", "reject")
    x["asset-media-type.json"] = (doc(page(), assets={"a": {"media_type": "image/gif", "data": "R0lGODlh"}}),
                                  "/assets/a/media_type", "\"image/png\"", "reject")
    x["asset-not-base64.json"] = (doc(page(), assets={"a": {"media_type": "image/png", "data": "iVBOR w0K"}}),
                                  "/assets/a/data", "must be base64", "reject")
    x["asset-missing-data.json"] = (doc(page(), assets={"a": {"media_type": "image/png"}}), "/assets/a/data", "required", "reject")
    x["meta-unknown-field.json"] = (doc(meta={"title": "t", "subject": "s"}), "/meta/subject", "unknown field", "reject")
    x["meta-title-number.json"] = (doc(meta={"title": 42}), "/meta/title", "must be a string", "reject")
    x["many-errors.json"] = (doc(page(*[{"type": "rect", "x": 0, "y": 0, "w": -1, "h": 1} for _ in range(30)])),
                             "/pages/0/items/19/w", "must be > 0", "reject")
    # print geometry
    x["bleed-negative.json"] = (doc(page={"bleed": -1}), "/page/bleed", "must be >= 0", "reject")
    x["bleed-too-big.json"] = (doc(page(bleed=73)), "/pages/0/bleed", "must be <= 72", "reject")
    x["bleed-too-big-mm.json"] = (doc(unit="mm", page={"bleed": {"left": 30}}), "/page/bleed",
                                  "the bleed may be at most 72 pt a side", "accept")
    x["bleed-string.json"] = (doc(page={"bleed": "3mm"}), "/page/bleed", "must be a length or", "reject")
    x["bleed-side-unknown.json"] = (doc(page({"type": "rect", "x": 0, "y": 0, "w": 1, "h": 1}, bleed={"inside": 3})),
                                    "/pages/0/bleed/inside", "unknown field", "reject")
    x["bleed-side-type.json"] = (doc(page={"bleed": {"top": "3"}}), "/page/bleed/top", "must be a number", "reject")
    x["bleed-side-duplicate.json"] = ('{"version": 1, "page": {"bleed": {"top": 1, "top": 2}}, "pages": [{"items": []}]}',
                                      "/page/bleed/top", "duplicate key", "accept")
    x["marks-unknown.json"] = (doc(page={"marks": ["crop", "trim"]}), "/page/marks/1", "\"registration\"", "reject")
    x["marks-duplicate.json"] = (doc(page(marks=["crop", "page_info", "crop"])), "/pages/0/marks/2",
                                 "\"crop\" is listed twice", "reject")
    x["marks-not-array.json"] = (doc(page={"marks": "crop"}), "/page/marks", "must be an array", "reject")
    x["marks-number.json"] = (doc(page={"marks": [1]}), "/page/marks/0", "must be a string", "reject")
    x["slug-too-big.json"] = (doc(page(slug=100)), "/pages/0/slug", "must be <= 72", "reject")
    x["slug-too-big-in.json"] = (doc(unit="in", page={"slug": 1.5}), "/page/slug", "the slug may be at most 72 pt", "accept")
    x["slug-thin-for-marks.json"] = (doc(page(marks=["crop"], slug=10)), "/pages/0/slug",
                                     "with marks the slug must be at least 16 pt", "accept")
    x["page-side-with-bleed.json"] = (doc(page={"size": {"width": 14400, "height": 100}, "bleed": 1}), "/page/size",
                                      "with bleed and slug", "accept")
    x.update(structure_invalid(with_item))
    return x


def main():
    os.makedirs(VALID, exist_ok=True)
    os.makedirs(INVALID, exist_ok=True)
    for n, d in sorted(valid().items()):
        write(VALID, n, d)
    expect = {}
    for n, (d, ptr, msg, verdict) in sorted(invalid().items()):
        write(INVALID, n, d)
        expect[n] = {"pointer": ptr, "message": msg, "schema": verdict}
    with open(os.path.join(ROOT, "expectations.tsv"), "w") as f:
        f.write("# file\tschema\tpointer\tmessage substring   (written by tools/make_corpus.py)\n")
        for n in sorted(expect):
            e = expect[n]
            f.write("%s\t%s\t%s\t%s\n" % (n, e["schema"], e["pointer"], e["message"]))


if __name__ == "__main__":
    main()
