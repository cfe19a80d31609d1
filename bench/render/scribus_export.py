# Runs inside Scribus: scribus -g -ns -py scribus_export.py pdf|png SLA OUTDIR [DPI]
# Scribus' own headless export of a document, the baseline of run.sh.
import os
import sys

import scribus

mode, sla, out = sys.argv[1], sys.argv[2], sys.argv[3]
dpi = int(sys.argv[4]) if len(sys.argv) > 4 else 150
try:
    scribus.openDoc(sla)
    n = scribus.pageCount()
    if mode == "pdf":
        pdf = scribus.PDFfile()
        pdf.file = os.path.join(out, "scribus.pdf")
        pdf.pages = list(range(1, n + 1))
        pdf.save()
    else:
        for p in range(1, n + 1):
            scribus.gotoPage(p)
            ie = scribus.ImageExport()
            ie.type = "PNG"
            ie.dpi = dpi
            ie.scale = 100
            ie.saveAs(os.path.join(out, "scribus-%04d.png" % p))
except Exception as e:
    sys.stderr.write("scribus export failed: %s\n" % e)
    os._exit(3)
os._exit(0)
