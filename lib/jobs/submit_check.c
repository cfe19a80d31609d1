/* The submit validator: the one place that applies the limits on a
 * submission (folio/jobs.h states them). folio-server calls it to answer a
 * SubmitLayout with a google.rpc.BadRequest listing every violation;
 * folio_jobs_submit* call it (through folio_jobs_submit_validate) so no
 * caller can record a job that breaks them.
 *
 * Every field path and description is built from the submission and
 * constants only, into the caller's arena: nothing is read from any other
 * buffer, so an error detail can carry no bytes but the caller's own. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "folio/layout.h"
#include "folio/log.h"
#include "folio/pagerange.h"
#include "folio/pdf_profile.h"
#include "folio/render_cache.h"
#include "jobs_int.h"

/* True when s[0..len) is valid UTF-8 (no overlongs, surrogates or code points
 * past U+10FFFF): PostgreSQL refuses anything else in text columns, and the
 * caller deserves to hear which field was wrong rather than a database error. */
static bool utf8_valid(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str, *end = s + len;
  while (s < end) {
    unsigned char c = *s;
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || (size_t)(end - s) < n) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t i = 1; i < n; i++) {
      if ((s[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i] & 0x3fu);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    s += n;
  }
  return true;
}

struct list {
  struct folio_arena *arena;
  struct folio_job_violation *v; /* FOLIO_JOBS_VIOLATIONS_MAX + 1 slots */
  size_t n;                      /* listed */
  size_t more;                   /* found beyond the listed ones */
  bool nomem;
};

/* Adds a violation; field and description are copied unless static. */
static void add(struct list *l, const char *field, const char *description) {
  if (l->n >= FOLIO_JOBS_VIOLATIONS_MAX) {
    l->more++;
    return;
  }
  l->v[l->n++] = (struct folio_job_violation){field, description};
  if (!field || !description) l->nomem = true;
}

__attribute__((format(printf, 2, 3))) static char *fmt(struct list *l, const char *f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return folio_arena_strdup(l->arena, buf);
}

/* "labels[<key as a JSON string literal>]" for a key of at most
 * FOLIO_JOBS_LABEL_KEY_MAX bytes. */
static char *label_path(struct list *l, const char *key, size_t len) {
  size_t cap = 6 * len + 16, pos = 0;
  char *p = folio_arena_alloc(l->arena, cap);
  if (!p) return NULL;
  memcpy(p, "labels[", 7);
  pos = 7;
  if (!folio_json_quote(p, cap, &pos, key, len)) return NULL;
  p[pos++] = ']';
  p[pos] = '\0';
  return p;
}

static void check_text(struct list *l, const char *field, const char *v, size_t max) {
  size_t len = v ? strlen(v) : 0;
  if (len > max) add(l, field, fmt(l, "must be at most %zu bytes (got %zu)", max, len));
  else if (!utf8_valid(v, len)) add(l, field, "must be valid UTF-8");
}

static void check_labels(struct list *l, const struct folio_job_submit *s) {
  if (s->nlabels > FOLIO_JOBS_LABELS_MAX)
    add(l, "labels",
        fmt(l, "must have at most %d entries (got %zu)", FOLIO_JOBS_LABELS_MAX, s->nlabels));
  for (size_t i = 0; i < s->nlabels; i++) {
    const struct folio_job_label *lb = &s->labels[i];
    const char *key = lb->key ? lb->key : "", *val = lb->value ? lb->value : "";
    size_t kn = strlen(key), vn = strlen(val);
    if (kn > FOLIO_JOBS_LABEL_KEY_MAX) {
      add(l, "labels",
          fmt(l, "key %zu (0-based, in request order) is %zu bytes; keys must be 1..%d bytes", i,
              kn, FOLIO_JOBS_LABEL_KEY_MAX));
      continue;
    }
    char *path = label_path(l, key, kn);
    if (kn == 0)
      add(l, path, fmt(l, "keys must be 1..%d bytes", FOLIO_JOBS_LABEL_KEY_MAX));
    else if (!utf8_valid(key, kn))
      add(l, path, "keys must be valid UTF-8");
    if (vn > FOLIO_JOBS_LABEL_VALUE_MAX)
      add(l, path,
          fmt(l, "values must be at most %d bytes (got %zu)", FOLIO_JOBS_LABEL_VALUE_MAX, vn));
    else if (!utf8_valid(val, vn))
      add(l, path, "values must be valid UTF-8");
    /* Quadratic, so only within the limit (beyond it, the count is the error). */
    if (s->nlabels <= FOLIO_JOBS_LABELS_MAX) {
      size_t first = i;
      for (size_t j = 0; j < i && first == i; j++)
        if (s->labels[j].key && strcmp(s->labels[j].key, key) == 0) first = j;
      if (first != i) add(l, path, "the key appears more than once");
    }
  }
}

int folio_jobs_submit_check(const struct folio_job_submit *s, struct folio_arena *arena,
                            struct folio_job_violation **v, size_t *n) {
  *v = NULL;
  *n = 0;
  struct list l = {.arena = arena};
  l.v = folio_arena_alloc(arena, (FOLIO_JOBS_VIOLATIONS_MAX + 1) * sizeof *l.v);
  if (!l.v) return FOLIO_PG_ENOMEM;

  if (!s->layout || s->layout_len == 0) add(&l, "layout_json", "must not be empty");
  else if (s->layout_len > FOLIO_JOBS_LAYOUT_MAX)
    add(&l, "layout_json", fmt(&l, "must be at most %d bytes", FOLIO_JOBS_LAYOUT_MAX));

  for (size_t i = 0; i < s->nformats; i++)
    if (s->formats[i] < FOLIO_FORMAT_PDF || s->formats[i] > FOLIO_FORMAT_SLA)
      add(&l, fmt(&l, "formats[%zu]", i), "must be FORMAT_PDF, FORMAT_PNG or FORMAT_SLA");

  if (s->png_dpi != 0 && (s->png_dpi < FOLIO_PNG_DPI_MIN || s->png_dpi > FOLIO_PNG_DPI_MAX))
    add(&l, "options.png_dpi",
        fmt(&l, "must be %d..%d (0 = %d)", FOLIO_PNG_DPI_MIN, FOLIO_PNG_DPI_MAX,
            FOLIO_PNG_DPI_DEFAULT));

  if (s->page_range && *s->page_range) {
    size_t len = strlen(s->page_range);
    char why[FOLIO_PAGES_WHY_MAX];
    if (len > FOLIO_JOBS_PAGE_RANGE_MAX || !utf8_valid(s->page_range, len))
      check_text(&l, "options.page_range", s->page_range, FOLIO_JOBS_PAGE_RANGE_MAX);
    else if (folio_layout_pages_check(s->page_range, NULL, why, sizeof why) != 0)
      add(&l, "options.page_range", folio_arena_strdup(arena, why));
  }

  /* A request for something the job will not produce is a mistake worth
   * hearing about, not an option to ignore silently. */
  if (s->png_include_bleed) {
    bool png = false;
    for (size_t i = 0; i < s->nformats; i++) png |= s->formats[i] == FOLIO_FORMAT_PNG;
    if (!png) add(&l, "options.png_include_bleed", "applies to PNG pages only: add FORMAT_PNG to formats");
  }

  { /* which profiles combine is folio/pdf_profile.h's rule */
    unsigned set;
    char field[64], why[FOLIO_PDF_WHY_MAX];
    if (folio_pdf_profiles_set(s->pdf_profile, s->additional_pdf_profiles,
                               s->n_additional_pdf_profiles, &set, field, sizeof field, why,
                               sizeof why))
      add(&l, fmt(&l, "options.%s", field), folio_arena_strdup(arena, why));
  }
  if (s->cache_policy < 0 || s->cache_policy > FOLIO_CACHE_POLICY_MAX)
    add(&l, "options.cache",
        "must be CACHE_POLICY_UNSPECIFIED, CACHE_POLICY_BYPASS or CACHE_POLICY_OFF");

  if (s->idempotency_key)
    check_text(&l, "idempotency_key", s->idempotency_key, FOLIO_JOBS_IDEMPOTENCY_KEY_MAX);

  check_labels(&l, s);

  size_t tn = s->tenant ? strlen(s->tenant) : 0;
  if (tn == 0) add(&l, "tenant", fmt(&l, "must be 1..%d bytes", FOLIO_JOBS_TENANT_MAX));
  else check_text(&l, "tenant", s->tenant, FOLIO_JOBS_TENANT_MAX);

  if (s->max_attempts < 0 || s->max_attempts > FOLIO_JOBS_MAX_ATTEMPTS_MAX)
    add(&l, "max_attempts",
        fmt(&l, "must be 0..%d (0 = %d)", FOLIO_JOBS_MAX_ATTEMPTS_MAX,
            FOLIO_JOBS_MAX_ATTEMPTS_DEFAULT));

  if (l.more) {
    l.v[l.n++] = (struct folio_job_violation){
        "request", fmt(&l, "%zu more violation%s not listed (at most %d are)", l.more,
                       l.more == 1 ? "" : "s", FOLIO_JOBS_VIOLATIONS_MAX)};
    if (!l.v[l.n - 1].description) l.nomem = true;
  }
  if (l.nomem) return FOLIO_PG_ENOMEM;
  *v = l.n ? l.v : NULL;
  *n = l.n;
  return 0;
}

int folio_jobs_submit_validate(const struct folio_job_submit *s, struct folio_pg_diag *diag) {
  struct folio_arena *a = folio_arena_create(0);
  if (!a) {
    folio_jobs_diag(diag, "out of memory");
    return FOLIO_PG_ENOMEM;
  }
  struct folio_job_violation *v;
  size_t n;
  int rc = folio_jobs_submit_check(s, a, &v, &n);
  if (rc) folio_jobs_diag(diag, "out of memory");
  else if (n) {
    folio_jobs_diag(diag, "%s: %s", v[0].field, v[0].description);
    rc = FOLIO_JOBS_EINVAL;
  }
  folio_arena_destroy(a);
  return rc;
}
