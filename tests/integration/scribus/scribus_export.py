# Runs inside Scribus (scribus -g -ns -py scribus_export.py STATUS SLA...):
# opens each .sla, exports SLA.scribus.pdf, and appends one line per document
# to STATUS: "<index> ok <pages>" or "<index> error <message>". The driver
# (scribus_check.py) reads STATUS, because Scribus' exit code is always 0.
#
# Every font is subset rather than embedded whole: Scribus 1.5.8 crashes while
# fully embedding the CFF-flavoured Noto CJK collections (NotoSansCJK-*.ttc),
# and subsets make PDFs a fraction of the size, faster to write and to read.
import os
import sys

import scribus

status_path = sys.argv[1]
slas = sys.argv[2:]
with open(status_path, "a", buffering=1) as status:
    for i, sla in enumerate(slas):
        if sla == "-":  # already done by an earlier run (after a crash)
            continue
        try:
            scribus.openDoc(sla)
            n = scribus.pageCount()
            pdf = scribus.PDFfile()
            pdf.file = sla + ".scribus.pdf"
            pdf.pages = list(range(1, n + 1))
            pdf.fontEmbedding = 0
            pdf.subsetList = list(pdf.fonts)
            pdf.fonts = []
            pdf.compressmtd = 2
            pdf.save()
            scribus.closeDoc()
            status.write("%d ok %d\n" % (i, n))
        except Exception as e:  # report and go on with the next document
            status.write("%d error %s\n" % (i, str(e).replace("\n", " ")))
            try:
                scribus.closeDoc()
            except Exception:
                pass
os._exit(0)
