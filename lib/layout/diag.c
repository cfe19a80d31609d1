/* Error collection for the layout decoder, and the small name map it uses for
 * "colors", "styles" and "assets".
 *
 * Errors are kept in the caller's struct folio_layout_diag as malloc'd strings
 * (not in the document arena: the document is thrown away on failure while the
 * errors travel on to the gRPC status). A JSON Pointer is built only when an
 * error is recorded, from the decoder's path stack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout_int.h"

void folio_layout_diag_clear(struct folio_layout_diag *d) {
  if (!d) return;
  for (size_t i = 0; i < d->count; i++) {
    free(d->errors[i].pointer);
    free(d->errors[i].message);
  }
  free(d->errors);
  memset(d, 0, sizeof *d);
}

char *folio_layout_diag_join(const struct folio_layout_diag *d) {
  if (!d || d->count == 0) return NULL;
  size_t n = 1;
  for (size_t i = 0; i < d->count; i++)
    n += strlen(d->errors[i].pointer) + strlen(d->errors[i].message) + 4;
  if (d->truncated) n += 32;
  char *s = malloc(n), *o = s;
  if (!s) return NULL;
  for (size_t i = 0; i < d->count; i++) {
    o += sprintf(o, "%s%s: %s", i ? "; " : "", d->errors[i].pointer, d->errors[i].message);
  }
  if (d->truncated) strcpy(o, "; (more errors not shown)");
  return s;
}

/* Appends one key to the pointer being built, escaping '~' and '/' (RFC 6901). */
static size_t put_key(char *o, const char *k, size_t len) {
  size_t n = 0;
  o[n++] = '/';
  for (size_t i = 0; i < len; i++) {
    if (k[i] == '~') {
      o[n++] = '~';
      o[n++] = '0';
    } else if (k[i] == '/') {
      o[n++] = '~';
      o[n++] = '1';
    } else {
      o[n++] = k[i];
    }
  }
  return n;
}

void folio_errs_addv(struct folio_errs *e, const struct folio_path_seg *segs, size_t n,
                     const char *extra, const char *fmt, va_list ap) {
  if (e->full) {
    e->dropped = true;
    if (e->diag) e->diag->truncated = true;
    return;
  }
  e->count++;
  if (e->count >= e->max) e->full = true;
  if (!e->diag) return;
  size_t cap = 1 + (extra ? 2 * strlen(extra) + 1 : 0);
  for (size_t i = 0; i < n; i++) cap += segs[i].key ? 2 * segs[i].len + 1 : 24;
  char *ptr = malloc(cap);
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  char *m = strdup(msg);
  struct folio_layout_error *grown =
      realloc(e->diag->errors, (e->diag->count + 1) * sizeof *e->diag->errors);
  if (!ptr || !m || !grown) {
    free(ptr);
    free(m);
    if (grown) e->diag->errors = grown;
    e->oom = true;
    return;
  }
  e->diag->errors = grown;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (segs[i].key) o += put_key(ptr + o, segs[i].key, segs[i].len);
    else if (segs[i].index != FOLIO_PATH_NONE) o += (size_t)sprintf(ptr + o, "/%zu", segs[i].index);
  }
  if (extra) o += put_key(ptr + o, extra, strlen(extra));
  ptr[o] = '\0';
  e->diag->errors[e->diag->count].pointer = ptr;
  e->diag->errors[e->diag->count].message = m;
  e->diag->count++;
}

/* ---- name map --------------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

long folio_nmap_find(const struct folio_nmap *m, const char *const *names, const char *s,
                     size_t len) {
  if (!m->cap) return -1;
  size_t mask = m->cap - 1;
  for (size_t i = hash_bytes(s, len) & mask;; i = (i + 1) & mask) {
    uint32_t v = m->slots[i];
    if (!v) return -1;
    const char *k = names[v - 1];
    if (strncmp(k, s, len) == 0 && k[len] == '\0') return (long)(v - 1);
  }
}

static void put_slot(uint32_t *slots, size_t cap, const char *const *names, uint32_t v) {
  const char *k = names[v - 1];
  size_t mask = cap - 1;
  size_t i = hash_bytes(k, strlen(k)) & mask;
  while (slots[i]) i = (i + 1) & mask;
  slots[i] = v;
}

int folio_nmap_put(struct folio_nmap *m, const char *const *names, size_t idx) {
  if ((m->count + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i]) put_slot(slots, cap, names, m->slots[i]);
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
  }
  put_slot(m->slots, m->cap, names, (uint32_t)idx + 1);
  m->count++;
  return 0;
}

void folio_nmap_free(struct folio_nmap *m) {
  free(m->slots);
  memset(m, 0, sizeof *m);
}
