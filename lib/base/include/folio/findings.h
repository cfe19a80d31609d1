/* folio_findings: what the stages of a render noticed without failing.
 *
 * A finding is something a caller should know about the document that did not
 * stop the render: text clipped by its box, a font family that was not found,
 * an image printed at too low a resolution, a PDF that misses a rule of the
 * profile it was asked for. Every stage (decode, typeset, paint, output
 * preflight) reports into the same list; the worker stores it with the job's
 * outcome and GetStatus/WatchJob return it (folio.v1.Finding). The codes and
 * what each means are listed in docs/findings.md.
 *
 * The list is bounded: it keeps at most `max` entries (FOLIO_FINDINGS_MAX,
 * the default, unless the owner chose fewer). Past that, findings are counted,
 * not kept: the last entry becomes (or stays) a FINDINGS_OMITTED finding whose
 * message says how many were left out and whose severity is the highest
 * among them, so "any warning fails the job" still sees a dropped warning.
 *
 * Strings are exact: every string kept is valid UTF-8 without C0 controls
 * (an invalid byte or a control becomes U+FFFD), cut at a character boundary
 * to its bound, with "…" marking a cut.
 *
 * Ownership: struct folio_findings is the caller's (usually on its stack or
 * in a larger struct); folio_findings_init / folio_findings_fini pair up, and
 * fini frees every entry. Entries are fixed-size (no per-entry allocation);
 * pointers to entries stay valid until the next add, append, parse or fini.
 * Thread-safety: none; one thread at a time per list (a renderer with several
 * threads serialises its adds). */
#ifndef FOLIO_FINDINGS_H
#define FOLIO_FINDINGS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The limits of a list and of its strings, each written once here
 * (docs/security.md lists them). */
#define FOLIO_FINDINGS_MAX 100          /* entries per list, the FINDINGS_OMITTED one included */
#define FOLIO_FINDING_CODE_MAX 32       /* bytes of a code: 1..32 of [A-Z0-9_] */
#define FOLIO_FINDING_POINTER_MAX 255   /* bytes of a JSON Pointer, UTF-8 */
#define FOLIO_FINDING_MESSAGE_MAX 300   /* bytes of a message, UTF-8 */
/* The serialised form (folio_findings_to_json) of a full list is at most
 * about FOLIO_FINDINGS_MAX * 4 KiB (strings escaped \uXXXX at worst). */

/* The code of the entry that stands for the findings left out. */
#define FOLIO_FINDINGS_OMITTED_CODE "FINDINGS_OMITTED"

enum {
  FOLIO_FINDINGS_ENOMEM = -1,
  FOLIO_FINDINGS_EINVAL = -2, /* a code outside [A-Z0-9_]{1,32}, an unknown severity or stage,
                                 or (parsing) text that is not a serialised list */
};

/* Numbers equal folio.v1.FindingSeverity. */
enum folio_finding_severity {
  FOLIO_FINDING_INFO = 1,
  FOLIO_FINDING_WARNING = 2,
  FOLIO_FINDING_ERROR = 3,
};

/* The stage that reported; numbers equal folio.v1.FindingStage. */
enum folio_finding_stage {
  FOLIO_FINDING_DECODE = 1,    /* lib/layout */
  FOLIO_FINDING_TYPESET = 2,   /* lib/typeset */
  FOLIO_FINDING_PAINT = 3,     /* lib/render */
  FOLIO_FINDING_PREFLIGHT = 4, /* lib/pdf: the finished file against its profiles */
};

struct folio_finding {
  char code[FOLIO_FINDING_CODE_MAX + 1]; /* e.g. "TEXT_OVERSET" */
  enum folio_finding_severity severity;
  enum folio_finding_stage stage;
  uint32_t page;                             /* 1-based page of the document; 0 = the document */
  char pointer[FOLIO_FINDING_POINTER_MAX + 1]; /* JSON Pointer into the layout; "" = none */
  char message[FOLIO_FINDING_MESSAGE_MAX + 1]; /* readable, names what and where */
  uint64_t omitted; /* 0; on the FINDINGS_OMITTED entry, how many findings it stands for */
};

struct folio_findings {
  struct folio_finding *items; /* items[0..n), in the order reported; owned */
  size_t n, cap;
  size_t max; /* entries kept at most, >= 1 */
};

/* An empty list keeping at most max entries (0 = FOLIO_FINDINGS_MAX; values
 * above FOLIO_FINDINGS_MAX are lowered to it). Allocates nothing. */
void folio_findings_init(struct folio_findings *f, size_t max);
/* Frees the entries; the list is empty (and usable) afterwards. NULL allowed. */
void folio_findings_fini(struct folio_findings *f);

/* Reports one finding. pointer may be NULL (= none); message is printf-style.
 * Past the list's max, the finding is counted in the FINDINGS_OMITTED entry.
 * Returns 0, FOLIO_FINDINGS_EINVAL (bad code, severity or stage; nothing
 * recorded: a caller bug), or FOLIO_FINDINGS_ENOMEM (only when the list is
 * empty: a list holding an entry folds the finding into FINDINGS_OMITTED
 * rather than lose its count). */
int folio_findings_add(struct folio_findings *f, const char *code, enum folio_finding_severity sev,
                       enum folio_finding_stage stage, uint32_t page, const char *pointer,
                       const char *fmt, ...) __attribute__((format(printf, 7, 8)));
int folio_findings_addv(struct folio_findings *f, const char *code, enum folio_finding_severity sev,
                        enum folio_finding_stage stage, uint32_t page, const char *pointer,
                        const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));

/* Appends every entry of src to dst, in order, under dst's max; a
 * FINDINGS_OMITTED entry of src adds its count. src is unchanged. Returns 0
 * or FOLIO_FINDINGS_ENOMEM (dst keeps what was appended). */
int folio_findings_append(struct folio_findings *dst, const struct folio_findings *src);

/* The first entry with severity >= min whose stage is in stages (a bit
 * mask of 1u << stage; 0 = every stage), or NULL. What "fail on warnings"
 * and "require a clean preflight" ask. */
const struct folio_finding *folio_findings_first(const struct folio_findings *f,
                                                 enum folio_finding_severity min, unsigned stages);

/* "info", "warning", "error" / "decode", "typeset", "paint", "preflight";
 * NULL for an unknown value. Static strings. */
const char *folio_finding_severity_name(enum folio_finding_severity s);
const char *folio_finding_stage_name(enum folio_finding_stage s);

/* ---- the serialised form ----------------------------------------------------
 *
 * A JSON array, one object per entry, in list order, for the jobs.findings
 * column (jsonb, migration 0007) and anything else that stores a list:
 *   [{"code":"TEXT_OVERSET","severity":"warning","stage":"paint","page":1,
 *     "pointer":"/pages/0/items/2","message":"..."}, ...]
 * with "omitted":N on a FINDINGS_OMITTED entry only. The parser takes the
 * same shape with any whitespace and key order (PostgreSQL's jsonb output
 * reorders keys and adds spaces) and standard JSON escapes. */

/* A malloc'd NUL-terminated serialisation of f (*len bytes, NUL excluded;
 * free() it). "[]" for an empty list. Returns 0 or FOLIO_FINDINGS_ENOMEM. */
int folio_findings_to_json(const struct folio_findings *f, char **out, size_t *len);
/* Appends the entries serialised in s[0..len) to f (under f's max, as
 * folio_findings_append). Every string is checked as on add (exact, bounded).
 * Returns 0, FOLIO_FINDINGS_EINVAL (not a serialised list: f may hold the
 * entries before the fault) or FOLIO_FINDINGS_ENOMEM. */
int folio_findings_from_json(struct folio_findings *f, const char *s, size_t len);

#endif
