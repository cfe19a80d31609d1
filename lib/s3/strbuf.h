/* folio_s3_str: a growable NUL-terminated byte string, private to lib/s3.
 *
 * Appends never fail loudly: on out-of-memory the buffer is marked (oom) and
 * further appends do nothing, so a builder checks once at the end
 * (folio_s3_str_ok). The bytes are owned by the struct and freed with
 * folio_s3_str_free(); folio_s3_str_take() hands them to the caller (free()). */
#ifndef FOLIO_S3_STRBUF_H
#define FOLIO_S3_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct folio_s3_str {
  char *p; /* NUL-terminated when non-NULL */
  size_t len, cap;
  bool oom;
};

void folio_s3_str_append(struct folio_s3_str *s, const char *data, size_t len);
void folio_s3_str_puts(struct folio_s3_str *s, const char *str);
void folio_s3_str_putc(struct folio_s3_str *s, char c);
void folio_s3_str_printf(struct folio_s3_str *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True when no append failed; an empty string is made non-NULL ("") here. */
bool folio_s3_str_ok(struct folio_s3_str *s);
/* Returns the malloc'd string (caller frees) or NULL after an OOM; resets s. */
char *folio_s3_str_take(struct folio_s3_str *s);
void folio_s3_str_free(struct folio_s3_str *s);

#endif
