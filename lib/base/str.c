/* folio_str: see folio/str.h for the contract. */
#include "folio/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct folio_str *s, size_t extra) {
  if (s->oom) return false;
  if (extra > (size_t)-1 - s->len - 1) { /* len + extra + 1 would wrap */
    s->oom = true;
    return false;
  }
  if (s->p && s->len + extra + 1 <= s->cap) return true;
  size_t cap = s->cap ? s->cap : 64;
  while (cap < s->len + extra + 1) {
    if (cap > ((size_t)-1) / 2) {
      s->oom = true;
      return false;
    }
    cap *= 2;
  }
  char *p = realloc(s->p, cap);
  if (!p) {
    s->oom = true;
    return false;
  }
  s->p = p;
  s->cap = cap;
  return true;
}

void folio_str_append(struct folio_str *s, const void *data, size_t len) {
  if (!reserve(s, len)) return;
  if (len) memcpy(s->p + s->len, data, len);
  s->len += len;
  s->p[s->len] = '\0';
}

void folio_str_puts(struct folio_str *s, const char *str) {
  folio_str_append(s, str, strlen(str));
}

void folio_str_putc(struct folio_str *s, char c) { folio_str_append(s, &c, 1); }

void folio_str_printf(struct folio_str *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    s->oom = true;
  } else if (reserve(s, (size_t)n)) {
    vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap2);
    s->len += (size_t)n;
  }
  va_end(ap2);
}

bool folio_str_ok(struct folio_str *s) {
  if (s->oom) return false;
  if (!s->p) return reserve(s, 0) && (s->p[0] = '\0', true);
  return true;
}

char *folio_str_take(struct folio_str *s) {
  char *p = folio_str_ok(s) ? s->p : NULL;
  if (!p) free(s->p);
  memset(s, 0, sizeof *s);
  return p;
}

void folio_str_free(struct folio_str *s) {
  free(s->p);
  memset(s, 0, sizeof *s);
}
