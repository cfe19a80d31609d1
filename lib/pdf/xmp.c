/* The XMP packet of a finished PDF, built from what Info says (docs/internals/pdf.md,
 * "Metadata"): Dublin Core, xmp: and pdf: properties equal to the Info entries
 * (veraPDF 6.6.2.3.1 / ISO 19005-2 6.6.3), and each profile's identification
 * (pdfaid, pdfxid, pdfuaid). A PDF/A file may use only the schemas of the XMP
 * 2005 specification unless it describes the others in a pdfaExtension
 * block (6.6.2.3.1), so with PDF/A the pdfxid and pdfuaid schemas are
 * described there. Plus the small text helpers (escaping, cleaning, dates). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdf_int.h"

int folio_pdf_fail(struct folio_pdf_diag *diag, int code, const char *field, const char *fmt, ...) {
  if (!diag) return code;
  diag->code = code;
  snprintf(diag->field, sizeof diag->field, "%s", field ? field : "");
  char what[sizeof diag->message];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (diag->field[0])
    snprintf(diag->message, sizeof diag->message, "%.47s: %.340s", diag->field, what);
  else snprintf(diag->message, sizeof diag->message, "%s", what);
  return code;
}

void folio_pdf_buf_xml(struct folio_str *b, const char *s) {
  const char *run = s;
  for (; *s; s++) {
    const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
                    : *s == '"' ? "&quot;" : *s == '\'' ? "&apos;" : NULL;
    if (!rep) continue;
    folio_str_append(b, run, (size_t)(s - run));
    folio_str_puts(b, rep);
    run = s + 1;
  }
  folio_str_append(b, run, (size_t)(s - run));
}

char *folio_pdf_text_clean(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(n + 1), *o = out;
  if (!out) return NULL;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned char c = *p;
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
    if (c < 0x20 || c == 0x7f) {
      if (c == '\t' || c == '\n' || c == '\r') *o++ = ' ';
      p++;
      continue;
    }
    if (len == 2 && c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { /* C1 controls */
      p += 2;
      continue;
    }
    if (len == 3 && c == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) { /* U+FFFE/F */
      p += 3;
      continue;
    }
    for (size_t i = 0; i < len && *p; i++) *o++ = (char)*p++;
  }
  *o = '\0';
  return out;
}

static int digits(const char *s, int n, int *v) {
  *v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    *v = *v * 10 + (s[i] - '0');
  }
  return 0;
}

int folio_pdf_date_convert(const char *pdf, char xmp[FOLIO_PDF_DATE_MAX], char info[FOLIO_PDF_DATE_MAX]) {
  if (!pdf) return -1;
  if (strncmp(pdf, "D:", 2) == 0) pdf += 2;
  /* year, then month, day, hour, minute, second, each optional in turn */
  int f[6] = {0, 1, 1, 0, 0, 0};
  static const int width[6] = {4, 2, 2, 2, 2, 2};
  const char *p = pdf;
  for (int i = 0; i < 6; i++) {
    int v;
    if (digits(p, width[i], &v)) {
      if (i == 0) return -1;
      break;
    }
    f[i] = v;
    p += width[i];
  }
  if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59)
    return -1;
  char sign = 'Z';
  int oh = 0, om = 0;
  if (*p == '+' || *p == '-') {
    sign = *p++;
    if (digits(p, 2, &oh) || oh > 23) return -1;
    p += 2;
    if (*p == '\'') p++;
    if (*p >= '0' && *p <= '9' && (digits(p, 2, &om) || om > 59)) return -1; /* the last field */
  } else if (*p == 'Z') {
    p++;
  } else if (*p) {
    return -1;
  } else {
    sign = 0; /* no zone: local time, unknown offset; XMP then carries none either */
  }
  if (sign == 'Z' || sign == 0) {
    snprintf(xmp, FOLIO_PDF_DATE_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%s", f[0], f[1], f[2], f[3], f[4], f[5],
             sign ? "Z" : "");
    snprintf(info, FOLIO_PDF_DATE_MAX, "D:%04d%02d%02d%02d%02d%02d%s", f[0], f[1], f[2], f[3], f[4], f[5],
             sign ? "Z" : "");
  } else {
    snprintf(xmp, FOLIO_PDF_DATE_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", f[0], f[1], f[2], f[3], f[4],
             f[5], sign, oh, om);
    snprintf(info, FOLIO_PDF_DATE_MAX, "D:%04d%02d%02d%02d%02d%02d%c%02d'%02d'", f[0], f[1], f[2], f[3], f[4],
             f[5], sign, oh, om);
  }
  return 0;
}

#define NS_PDFAEXT "http://www.aiim.org/pdfa/ns/extension/"
#define NS_PDFASCHEMA "http://www.aiim.org/pdfa/ns/schema#"
#define NS_PDFAPROP "http://www.aiim.org/pdfa/ns/property#"
#define NS_PDFXID "http://www.npes.org/pdfx/ns/id/"
#define NS_PDFUAID "http://www.aiim.org/pdfua/ns/id/"

/* One pdfaExtension schema entry describing one property. */
static void ext_schema(struct folio_str *b, const char *schema, const char *ns,
                       const char *prefix, const char *prop, const char *type, const char *desc) {
  folio_str_printf(b,
                       "     <rdf:li rdf:parseType=\"Resource\">\n"
                       "      <pdfaSchema:schema>%s</pdfaSchema:schema>\n"
                       "      <pdfaSchema:namespaceURI>%s</pdfaSchema:namespaceURI>\n"
                       "      <pdfaSchema:prefix>%s</pdfaSchema:prefix>\n",
                       schema, ns, prefix);
  folio_str_printf(b,
                       "      <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType=\"Resource\">\n"
                       "       <pdfaProperty:name>%s</pdfaProperty:name>\n"
                       "       <pdfaProperty:valueType>%s</pdfaProperty:valueType>\n"
                       "       <pdfaProperty:category>internal</pdfaProperty:category>\n",
                       prop, type);
  folio_str_printf(b,
                       "       <pdfaProperty:description>%s</pdfaProperty:description>\n"
                       "      </rdf:li></rdf:Seq></pdfaSchema:property>\n"
                       "     </rdf:li>\n",
                       desc);
}

void folio_pdf_xmp_build(struct folio_str *b, const struct folio_pdf_xmp *x) {
  bool a = x->profiles & FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFA_2B);
  bool px = x->profiles & FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFX_4);
  bool ua = x->profiles & FOLIO_PDF_BIT(FOLIO_PDF_PROFILE_PDFUA_1);
  /* The packet header without "bytes"/"encoding" (6.6.2.1: not allowed) */
  folio_str_puts(b, "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
                        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
                        " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
                        "  <rdf:Description rdf:about=\"\"\n"
                        "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
                        "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
                        "    xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\"");
  if (x->document_id) folio_str_puts(b, "\n    xmlns:xmpMM=\"http://ns.adobe.com/xap/1.0/mm/\"");
  if (a) folio_str_puts(b, "\n    xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"");
  if (px) folio_str_puts(b, "\n    xmlns:pdfxid=\"" NS_PDFXID "\"");
  if (ua) folio_str_puts(b, "\n    xmlns:pdfuaid=\"" NS_PDFUAID "\"");
  if (a && (px || ua))
    folio_str_puts(b, "\n    xmlns:pdfaExtension=\"" NS_PDFAEXT "\""
                          "\n    xmlns:pdfaSchema=\"" NS_PDFASCHEMA "\""
                          "\n    xmlns:pdfaProperty=\"" NS_PDFAPROP "\"");
  folio_str_puts(b, ">\n   <dc:format>application/pdf</dc:format>\n");
  if (x->title) {
    folio_str_puts(b, "   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">");
    folio_pdf_buf_xml(b, x->title);
    folio_str_puts(b, "</rdf:li></rdf:Alt></dc:title>\n");
  }
  if (x->author) { /* Info /Author is one string: one creator (6.6.2.3.1 wants dc:creator
                      with exactly that one entry) */
    folio_str_puts(b, "   <dc:creator><rdf:Seq><rdf:li>");
    folio_pdf_buf_xml(b, x->author);
    folio_str_puts(b, "</rdf:li></rdf:Seq></dc:creator>\n");
  }
  if (x->subject) {
    folio_str_puts(b, "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">");
    folio_pdf_buf_xml(b, x->subject);
    folio_str_puts(b, "</rdf:li></rdf:Alt></dc:description>\n");
  }
  if (x->lang) {
    folio_str_puts(b, "   <dc:language><rdf:Bag><rdf:li>");
    folio_pdf_buf_xml(b, x->lang);
    folio_str_puts(b, "</rdf:li></rdf:Bag></dc:language>\n");
  }
  if (x->creator_tool) {
    folio_str_puts(b, "   <xmp:CreatorTool>");
    folio_pdf_buf_xml(b, x->creator_tool);
    folio_str_puts(b, "</xmp:CreatorTool>\n");
  }
  if (x->create_date) folio_str_printf(b, "   <xmp:CreateDate>%s</xmp:CreateDate>\n", x->create_date);
  if (x->modify_date) {
    folio_str_printf(b, "   <xmp:ModifyDate>%s</xmp:ModifyDate>\n", x->modify_date);
    folio_str_printf(b, "   <xmp:MetadataDate>%s</xmp:MetadataDate>\n", x->modify_date);
  }
  if (x->document_id)
    folio_str_printf(b,
                         "   <xmpMM:DocumentID>%s</xmpMM:DocumentID>\n"
                         "   <xmpMM:InstanceID>%s</xmpMM:InstanceID>\n"
                         "   <xmpMM:VersionID>1</xmpMM:VersionID>\n"
                         "   <xmpMM:RenditionClass>default</xmpMM:RenditionClass>\n",
                         x->document_id, x->document_id);
  if (x->producer) {
    folio_str_puts(b, "   <pdf:Producer>");
    folio_pdf_buf_xml(b, x->producer);
    folio_str_puts(b, "</pdf:Producer>\n");
  }
  folio_str_puts(b, "   <pdf:Trapped>False</pdf:Trapped>\n");
  if (a) folio_str_puts(b, "   <pdfaid:part>2</pdfaid:part>\n   <pdfaid:conformance>B</pdfaid:conformance>\n");
  if (px) folio_str_puts(b, "   <pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>\n");
  if (ua) folio_str_puts(b, "   <pdfuaid:part>1</pdfuaid:part>\n");
  if (a && (px || ua)) {
    folio_str_puts(b, "   <pdfaExtension:schemas>\n    <rdf:Bag>\n");
    if (px)
      ext_schema(b, "PDF/X ID Schema", NS_PDFXID, "pdfxid", "GTS_PDFXVersion", "Text",
                 "ID of PDF/X standard");
    if (ua)
      ext_schema(b, "PDF/UA Universal Accessibility Schema", NS_PDFUAID, "pdfuaid", "part",
                 "Integer", "Indicates, which part of ISO 14289 standard is followed");
    folio_str_puts(b, "    </rdf:Bag>\n   </pdfaExtension:schemas>\n");
  }
  folio_str_puts(b, "  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n");
  /* room for editors to grow the packet in place (XMP's recommendation) */
  for (int i = 0; i < 20; i++)
    folio_str_puts(b, "                                                                                                   \n");
  folio_str_puts(b, "<?xpacket end=\"w\"?>");
}
