/* folio_pdf: cairo's PDF, post-processed into the print and archive profiles
 * (PDF/A-2b, PDF/X-4, PDF/UA-1) with libqpdf. See docs/internals/pdf.md for
 * what each profile gets, what it guarantees and what it does not.
 *
 * The pipeline is decode → typeset → paint (lib/render writes cairo's PDF to a
 * file) → finish (here): folio_pdf_finish() reads that file, adds what the
 * profiles need — a deterministic trailer /ID, XMP metadata mirroring the Info
 * dictionary with each profile's identification, OutputIntents with an
 * embedded ICC profile, /DefaultRGB, MediaBox/BleedBox/TrimBox on every page,
 * /MarkInfo, /Lang, /ViewerPreferences — and writes a new file. Nothing is
 * held whole in memory: the input is mmap'd (page cache, not a copy), qpdf
 * parses objects from it as it needs them and copies content streams to the
 * output file without decoding them, so a 1,000-page document costs its
 * object table, not its bytes.
 *
 * Determinism: the same input file and options give the same output bytes
 * (qpdf's deterministic /ID is a digest of the written file); a render cache
 * may rely on it.
 *
 * Why qpdf's C API and a file for the output: qpdf-c.h writes to a named file
 * or to memory only; an (unlinked) file keeps the 1,000-page case bounded, and
 * folio_pdf_finish_stream() then reads that file back through the caller's
 * write callback. The C++ API (QPDFWriter on a custom Pipeline) would save
 * that copy but would bring C++ into folio's libraries; the copy measured
 * small against the render (bench/pdf).
 *
 * Threads: reentrant; every call makes its own qpdf object. Callbacks run on
 * the calling thread.
 *
 * Errors: 0 or a negative FOLIO_PDF_E_* with the detail on a struct
 * folio_pdf_diag: the options field at fault (when there is one) and a
 * readable message. A failed call leaves no output file behind. */
#ifndef FOLIO_PDF_H
#define FOLIO_PDF_H

#include <stddef.h>
#include <stdint.h>

#include "folio/pdf_profile.h"

enum {
  FOLIO_PDF_OK = 0,
  FOLIO_PDF_E_ARG = -1,   /* bad options (diag.field names it): profiles, boxes, missing title/lang */
  FOLIO_PDF_E_NOMEM = -2,
  FOLIO_PDF_E_WRITE = -3, /* the write callback asked to abort, or the output file failed */
  FOLIO_PDF_E_ICC = -4,   /* an ICC profile file is missing, unreadable, too large or of the wrong
                             class/colour space (message names the path and why) */
  FOLIO_PDF_E_PDF = -5,   /* qpdf could not read the input or write the output (message has qpdf's) */
};

/* Filled on failure. The caller owns it (usually on its stack); fixed buffers,
 * nothing to free. NULL is accepted wherever a diag is taken. */
struct folio_pdf_diag {
  int code;          /* the FOLIO_PDF_E_* returned */
  char field[48];    /* the folio_pdf_options field at fault, "" = none */
  char message[400]; /* "field: what" when field is set, else "what" */
};

/* "bad argument", "ICC profile", ... for a FOLIO_PDF_E_* code; static string. */
const char *folio_pdf_strerror(int code);

/* ---- limits and defaults ----------------------------------------------------- */

/* An ICC profile file is read whole into memory to be embedded; larger files
 * are refused (E_ICC). Press profiles are 0.5–3 MB. */
#define FOLIO_PDF_ICC_MAX_BYTES (16u << 20)
/* The default profile files (Debian: icc-profiles-free, ghostscript). */
#define FOLIO_PDF_SRGB_ICC_DEFAULT "/usr/share/color/icc/sRGB.icc"
#define FOLIO_PDF_CMYK_ICC_DEFAULT "/usr/share/color/icc/ghostscript/default_cmyk.icc"
/* The environment variables folio_pdf_options_from_env() reads. */
#define FOLIO_PDF_ENV_SRGB_ICC "FOLIO_PDFA_RGB_ICC"
#define FOLIO_PDF_ENV_OUTPUT_ICC "FOLIO_PDFX_OUTPUT_ICC"
#define FOLIO_PDF_ENV_OUTPUT_CONDITION_ID "FOLIO_PDFX_OUTPUT_CONDITION_IDENTIFIER"
#define FOLIO_PDF_ENV_OUTPUT_CONDITION "FOLIO_PDFX_OUTPUT_CONDITION"
#define FOLIO_PDF_ENV_REGISTRY "FOLIO_PDFX_REGISTRY_NAME"

/* ---- options --------------------------------------------------------------- */

/* A page's boxes in PDF user space (points, origin bottom-left): x0, y0, x1,
 * y1 with x0 < x1, y0 < y1. They must nest: trim inside bleed inside media. A
 * caller without print geometry passes trim = bleed = media. */
struct folio_pdf_page_boxes {
  double media[4], bleed[4], trim[4];
};

/* One structure element's attributes that cairo cannot write (the render
 * reports them: struct folio_pdf_struct_attr in folio/render.h, the same
 * fields). elem is the element's index in a pre-order walk of
 * /StructTreeRoot /K counting dictionaries with /S only, Document = 0; type is
 * its /S without the slash, checked before anything is written. NULL = not
 * to add. */
struct folio_pdf_elem_attr {
  size_t elem;
  const char *type;
  const char *alt;   /* /Alt (figures) */
  const char *lang;  /* /Lang */
  const char *scope; /* "Column" or "Row": /A << /O /Table /Scope /Column >> (TH) */
};

/* A growing list of them. Whoever fills it owns v (free(v)); the strings
 * are borrowed (from the layout document). nomem: an append failed, the
 * list is incomplete and folio_pdf_finish() refuses it (E_NOMEM). */
struct folio_pdf_attrs {
  struct folio_pdf_elem_attr *v;
  size_t n, cap;
  int nomem;
};

/* Every pointer is borrowed for the call; strings are UTF-8, NUL-terminated. */
struct folio_pdf_options {
  /* FOLIO_PDF_BIT(profile) for each profile, as folio_pdf_profiles_set()
   * builds it. 0 = no profile: only the boxes are written (when given). */
  unsigned profiles;
  /* Written to Info and mirrored in XMP (dc:title, dc:creator,
   * dc:description); NULL = none. PDF/X-4 needs a title (as Info /Title),
   * PDF/UA-1 a title and lang. Control
   * characters and U+FFFE/U+FFFF are dropped from both (XML cannot hold them). */
  const char *title;
  const char *author;
  const char *subject;
  const char *lang; /* BCP 47 tag for the catalog's /Lang and dc:language, e.g. "en-GB" */
  /* RGB profile for PDF/A's OutputIntent (when PDF/X-4 is not also asked) and
   * /DefaultRGB; NULL = FOLIO_PDF_SRGB_ICC_DEFAULT. Must be an RGB
   * display/output-class ICC profile of version 2 or 4. */
  const char *rgb_icc_path;
  /* PDF/X-4's output (printing condition) profile, also PDF/A's when both are
   * asked (the standards want one output profile); NULL =
   * FOLIO_PDF_CMYK_ICC_DEFAULT. Must be a CMYK output-class ('prtr') profile. */
  const char *output_icc_path;
  /* The OutputIntent's /OutputConditionIdentifier, /OutputCondition and
   * /RegistryName for PDF/X; NULL = "Custom", the profile file's name, and
   * "http://www.color.org". */
  const char *output_condition_identifier;
  const char *output_condition;
  const char *registry_name;
  /* One entry per page of the input PDF (the rendered pages, so with a page
   * range the selected ones), in order, or NULL (then n_boxes is 0 and
   * every page keeps its MediaBox, with TrimBox = BleedBox = MediaBox written
   * when a profile is set). With entries, MediaBox, BleedBox and TrimBox are
   * written on every page. */
  const struct folio_pdf_page_boxes *boxes;
  size_t n_boxes;
  /* The structure attributes the render reported (NULL = none): written on
   * their elements whenever the PDF has a structure tree. With PDF/UA-1 the
   * finish also wraps the content outside every marked-content sequence as
   * /Artifact, gives each /Link annotation /Contents and each page with
   * annotations /Tabs /S (docs/internals/pdf.md, "PDF/UA-1"). */
  const struct folio_pdf_attrs *attrs;
};

/* Fills *o from the environment: the profile paths and output condition from
 * FOLIO_PDFA_RGB_ICC, FOLIO_PDFX_OUTPUT_ICC, FOLIO_PDFX_OUTPUT_CONDITION_IDENTIFIER,
 * FOLIO_PDFX_OUTPUT_CONDITION, FOLIO_PDFX_REGISTRY_NAME (unset = the defaults
 * above). Everything else is zeroed. The strings point into the environment. */
void folio_pdf_options_from_env(struct folio_pdf_options *o);

/* True when folio_pdf_finish() has something to do: a profile is set, or a
 * page's boxes differ from its MediaBox. A caller with nothing to do skips
 * the temp file and streams cairo's PDF directly (today's bytes, no cost). */
int folio_pdf_needed(const struct folio_pdf_options *o);

/* ---- finishing ---------------------------------------------------------------- */

/* Reads the PDF at in_path (cairo's output), applies o and writes the result
 * to out_path (created or truncated; removed again on failure). in_path and
 * out_path must differ. Returns 0 or FOLIO_PDF_E_*. */
int folio_pdf_finish(const char *in_path, const struct folio_pdf_options *o, const char *out_path,
                     struct folio_pdf_diag *diag);

/* Receives the next len bytes of the output (data borrowed for the call).
 * Return 0 to go on, nonzero to stop (the call then returns E_WRITE). The
 * same shape as folio_render_write_fn, so a render sink serves both. */
typedef int (*folio_pdf_write_fn)(void *ctx, const unsigned char *data, size_t len);

/* folio_pdf_finish() into a temporary file in tmp_dir (NULL = $TMPDIR, else
 * /tmp), then that file's bytes through write in pieces of at most 64 KiB.
 * The file is unlinked as soon as it is created and written through
 * /proc/self/fd (Linux), so it leaves nothing behind on any path, a killed
 * process included. in_path may itself be such a /proc/self/fd/N path.
 * Returns 0 or FOLIO_PDF_E_*. */
int folio_pdf_finish_stream(const char *in_path, const struct folio_pdf_options *o,
                            const char *tmp_dir, folio_pdf_write_fn write, void *write_ctx,
                            struct folio_pdf_diag *diag);

/* folio_pdf_finish_stream() with the output preflight (folio/pdf_preflight.h)
 * between the finish and the first byte written: the finished file is
 * checked against preflight_profiles (FOLIO_PDF_BIT bits, usually
 * o->profiles) and the findings appended to findings before it is streamed.
 * When folio_pdf_needed(o) is false the input is not rewritten: in_path
 * itself is checked and streamed (a plain PDF whose caller requires a clean
 * preflight). findings NULL = no preflight. Returns 0 or FOLIO_PDF_E_*
 * (FOLIO_PDF_E_NOMEM when the findings list cannot take a finding). */
struct folio_findings;
int folio_pdf_finish_stream_checked(const char *in_path, const struct folio_pdf_options *o,
                                    const char *tmp_dir, unsigned preflight_profiles,
                                    struct folio_findings *findings, folio_pdf_write_fn write,
                                    void *write_ctx, struct folio_pdf_diag *diag);

#endif
