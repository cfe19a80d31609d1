/* folio_str: a growable NUL-terminated byte string with a sticky out-of-memory
 * flag, the one buffer builders of text (S3 requests, XMP packets, job lists,
 * canonical layout JSON, fingerprints) append to.
 *
 * Appends never fail loudly: on out-of-memory (or a size that would overflow)
 * the buffer is marked (oom) and every later append does nothing, so a builder
 * appends freely and checks once at the end (folio_str_ok / folio_str_take).
 * `p` is NUL-terminated whenever it is non-NULL; `len` excludes the NUL. The
 * bytes may contain NULs (folio_str_append is byte-exact). A builder may set
 * oom itself to record a failure of its own (one check at the end then covers
 * both), and may shorten len if it rewrites p[len] = '\0'.
 *
 * Ownership: the struct is the caller's (usually on its stack or inside a
 * larger struct), zero-initialised ({0}) before use. The bytes are owned by the
 * struct and freed with folio_str_free(); folio_str_take() hands them to the
 * caller (free()) and resets the struct. Both leave it reusable as {0}.
 * Thread-safety: none; one thread at a time per buffer. */
#ifndef FOLIO_STR_H
#define FOLIO_STR_H

#include <stdbool.h>
#include <stddef.h>

struct folio_str {
  char *p; /* NUL-terminated when non-NULL */
  size_t len, cap;
  bool oom; /* sticky: set by the first failed growth, cleared only by take/free */
};

void folio_str_append(struct folio_str *s, const void *data, size_t len);
void folio_str_puts(struct folio_str *s, const char *str);
void folio_str_putc(struct folio_str *s, char c);
void folio_str_printf(struct folio_str *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True when no append failed; an empty string is made non-NULL ("") here
 * (which itself can fail, and then returns false). */
bool folio_str_ok(struct folio_str *s);
/* Returns the malloc'd string (caller frees) or NULL after an OOM; resets s. */
char *folio_str_take(struct folio_str *s);
void folio_str_free(struct folio_str *s);

#endif
