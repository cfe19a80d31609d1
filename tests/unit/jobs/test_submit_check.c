/* lib/jobs' submit validator (submit_check.c): every violation is listed,
 * each with its exact field path, nothing else, in request field order; the
 * paths and descriptions are built from the submission and constants only.
 *
 * The regression for issue 10's class 5: server/jobs.c built the field names
 * of several violations with `v[n++] = (…){buf[n], …}` (unsequenced), so
 * each violation was labelled with another's name or with stray bytes — once
 * pieces of the caller's API key. test_every_violation_named fails on any
 * such mix-up, and on a violation left out or invented. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "folio/jobs.h"

static const uint8_t layout[] = "{}";

static struct folio_job_submit valid(void) {
  return (struct folio_job_submit){.tenant = "t", .layout = layout, .layout_len = 2};
}

/* Checks s and compares the list with want[0..nwant) (field, description
 * pairs; a NULL description is not compared). */
static void expect(const char *name, const struct folio_job_submit *s, const char *const (*want)[2],
                   size_t nwant) {
  struct folio_arena *a = folio_arena_create(0);
  CHECK(a);
  struct folio_job_violation *v = (struct folio_job_violation *)(uintptr_t)1;
  size_t n = 99;
  CHECK_EQ_INT(folio_jobs_submit_check(s, a, &v, &n), 0);
  CHECK_MSG(n == nwant, "%s: %zu violations, want %zu", name, n, nwant);
  if (n == 0) CHECK_MSG(v == NULL, "%s: v set with no violation", name);
  for (size_t i = 0; i < n; i++) {
    CHECK_MSG(strcmp(v[i].field, want[i][0]) == 0, "%s [%zu]: field \"%s\", want \"%s\"", name, i,
              v[i].field, want[i][0]);
    if (want[i][1])
      CHECK_MSG(strcmp(v[i].description, want[i][1]) == 0,
                "%s [%zu]: description \"%s\", want \"%s\"", name, i, v[i].description,
                want[i][1]);
  }
  folio_arena_destroy(a);
}

static void test_valid(void) {
  struct folio_job_submit s = valid();
  expect("minimal", &s, NULL, 0);
  static const int formats[] = {1, 2, 3, 2, 1};
  static const struct folio_job_label labels[] = {{"team", "print"}, {"k\"\\", ""}};
  s.formats = formats, s.nformats = 5;
  s.png_dpi = 1200;
  s.page_range = " 1-3, 8- ";
  s.idempotency_key = "\xe6\x97\xa5\xe6\x9c\xac"; /* 日本 */
  s.labels = labels, s.nlabels = 2;
  s.tenant = "\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x93\x84"; /* 日本-📄 */
  s.max_attempts = 100;
  expect("full", &s, NULL, 0);
  s.png_dpi = 36;
  s.page_range = "";
  s.idempotency_key = "";
  expect("edges", &s, NULL, 0);
  /* png_include_bleed with PNG among the formats */
  s.png_include_bleed = true;
  expect("png bleed", &s, NULL, 0);
}

/* Several violations at once, as the SubmitLayout: each named exactly. */
static void test_every_violation_named(void) {
  struct folio_job_submit s = valid();
  static const int formats[] = {1, 99, 2, 77};
  char longval[300];
  memset(longval, 'v', sizeof longval - 1);
  longval[sizeof longval - 1] = '\0';
  struct folio_job_label labels[] = {{"ok", "1"}, {"k", longval}, {"q\"uo\\te", longval}};
  s.formats = formats, s.nformats = 4;
  s.png_dpi = 20;
  s.page_range = "1-x";
  s.labels = labels, s.nlabels = 3;
  static const char *const want[][2] = {
      {"formats[1]", "must be FORMAT_PDF, FORMAT_PNG or FORMAT_SLA"},
      {"formats[3]", "must be FORMAT_PDF, FORMAT_PNG or FORMAT_SLA"},
      {"options.png_dpi", "must be 36..1200 (0 = 150)"},
      {"options.page_range", "byte 2: expected \",\" or the end (e.g. 1-3,5 or 8-)"},
      {"labels[\"k\"]", "values must be at most 256 bytes (got 299)"},
      {"labels[\"q\\\"uo\\\\te\"]", "values must be at most 256 bytes (got 299)"},
  };
  expect("several", &s, want, sizeof want / sizeof want[0]);
}

static void test_each_field(void) {
  char longkey[200];
  memset(longkey, 'k', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  char longrange[1100];
  memset(longrange, '1', sizeof longrange - 1);
  longrange[sizeof longrange - 1] = '\0';
  struct folio_job_submit s = valid();
  s.layout_len = 0;
  static const char *const empty[][2] = {{"layout_json", "must not be empty"}};
  expect("layout", &s, empty, 1);

  s = valid();
  s.idempotency_key = longkey;
  static const char *const key[][2] = {{"idempotency_key", "must be at most 128 bytes (got 199)"}};
  expect("key", &s, key, 1);
  s.idempotency_key = "\xed\xa0\x80"; /* a surrogate */
  static const char *const keyu[][2] = {{"idempotency_key", "must be valid UTF-8"}};
  expect("key utf8", &s, keyu, 1);

  /* png_include_bleed asks for something the job will not produce: without
   * formats (= PDF) and with formats that have no PNG */
  s = valid();
  s.png_include_bleed = true;
  static const char *const bleed[][2] = {
      {"options.png_include_bleed", "applies to PNG pages only: add FORMAT_PNG to formats"}};
  expect("bleed no formats", &s, bleed, 1);
  static const int pdf_sla[] = {1, 3};
  s.formats = pdf_sla, s.nformats = 2;
  expect("bleed pdf sla", &s, bleed, 1);
  static const int with_png[] = {3, 2};
  s.formats = with_png;
  expect("bleed png", &s, NULL, 0);

  s = valid();
  s.page_range = longrange;
  static const char *const pr[][2] = {{"options.page_range", "must be at most 1024 bytes (got 1099)"}};
  expect("range long", &s, pr, 1);
  s.page_range = "1-\xf4\x90\x80\x80"; /* > U+10FFFF */
  static const char *const pru[][2] = {{"options.page_range", "must be valid UTF-8"}};
  expect("range utf8", &s, pru, 1);
  s.page_range = "3-1";
  static const char *const prb[][2] = {{"options.page_range", "byte 0: the range 3-1 runs backwards"}};
  expect("range backwards", &s, prb, 1);

  s = valid();
  struct folio_job_label labels[40];
  for (size_t i = 0; i < 40; i++) labels[i] = (struct folio_job_label){"", ""};
  labels[0] = (struct folio_job_label){"a", "1"};
  labels[1] = (struct folio_job_label){"a", "2"};
  labels[2] = (struct folio_job_label){longkey, "3"};
  labels[3] = (struct folio_job_label){"\xc0\xaf", "4"};  /* an overlong '/' */
  labels[4] = (struct folio_job_label){"v", "\xc0\xaf"};
  s.labels = labels, s.nlabels = 6; /* labels[5] is the empty key */
  static const char *const lb[][2] = {
      {"labels[\"a\"]", "the key appears more than once"},
      {"labels", "key 2 (0-based, in request order) is 199 bytes; keys must be 1..63 bytes"},
      {"labels[\"\xef\xbf\xbd\xef\xbf\xbd\"]", "keys must be valid UTF-8"},
      {"labels[\"v\"]", "values must be valid UTF-8"},
      {"labels[\"\"]", "keys must be 1..63 bytes"},
  };
  expect("labels", &s, lb, sizeof lb / sizeof lb[0]);
  for (size_t i = 0; i < 33; i++) {
    static char names[33][8];
    snprintf(names[i], sizeof names[i], "k%zu", i);
    labels[i] = (struct folio_job_label){names[i], "x"};
  }
  s.nlabels = 33;
  static const char *const many[][2] = {{"labels", "must have at most 32 entries (got 33)"}};
  expect("33 labels", &s, many, 1);

  s = valid();
  s.tenant = "";
  s.max_attempts = 101;
  static const char *const internal[][2] = {{"tenant", "must be 1..128 bytes"},
                                            {"max_attempts", "must be 0..100 (0 = 3)"}};
  expect("internal", &s, internal, 2);
  s.tenant = "bad\xff";
  s.max_attempts = -1;
  static const char *const internal2[][2] = {{"tenant", "must be valid UTF-8"},
                                             {"max_attempts", NULL}};
  expect("internal2", &s, internal2, 2);
}

/* More than FOLIO_JOBS_VIOLATIONS_MAX: the first ones, then a note. */
static void test_truncation_said(void) {
  struct folio_job_submit s = valid();
  int formats[30];
  for (size_t i = 0; i < 30; i++) formats[i] = 9;
  s.formats = formats, s.nformats = 30;
  const char *want[FOLIO_JOBS_VIOLATIONS_MAX + 1][2];
  static char paths[FOLIO_JOBS_VIOLATIONS_MAX][16];
  for (size_t i = 0; i < FOLIO_JOBS_VIOLATIONS_MAX; i++) {
    snprintf(paths[i], sizeof paths[i], "formats[%zu]", i);
    want[i][0] = paths[i];
    want[i][1] = NULL;
  }
  want[FOLIO_JOBS_VIOLATIONS_MAX][0] = "request";
  want[FOLIO_JOBS_VIOLATIONS_MAX][1] = "10 more violations not listed (at most 20 are)";
  expect("30 formats", &s, (const char *const(*)[2])want, FOLIO_JOBS_VIOLATIONS_MAX + 1);
}

/* folio_jobs_submit_validate: the same rule, the first violation in diag. */
static void test_validate_first(void) {
  struct folio_pg_diag d;
  struct folio_job_submit s = valid();
  CHECK_EQ_INT(folio_jobs_submit_validate(&s, &d), 0);
  static const int formats[] = {1, 7};
  s.formats = formats, s.nformats = 2;
  s.png_dpi = 5000;
  CHECK_EQ_INT(folio_jobs_submit_validate(&s, &d), FOLIO_JOBS_EINVAL);
  CHECK_EQ_STR(d.msg, "formats[1]: must be FORMAT_PDF, FORMAT_PNG or FORMAT_SLA");
}

/* options.pdf_profile / additional_pdf_profiles: folio/pdf_profile.h's rule,
 * named with the request's field paths */
static void test_pdf_profiles(void) {
  struct folio_job_submit s = valid();
  static const int ua_x[] = {3, 2, 3};
  s.pdf_profile = 1;
  s.additional_pdf_profiles = ua_x, s.n_additional_pdf_profiles = 3;
  expect("A-2b + UA-1 + X-4, one named twice", &s, NULL, 0);
  s.pdf_profile = 7;
  static const char *const bad_first[][2] = {{"options.pdf_profile", NULL}};
  expect("unknown pdf_profile", &s, bad_first, 1);
  static const int unspecified[] = {3, 0};
  s.pdf_profile = 1;
  s.additional_pdf_profiles = unspecified, s.n_additional_pdf_profiles = 2;
  static const char *const bad_add[][2] = {
      {"options.additional_pdf_profiles[1]",
       "must be PDF_PROFILE_PDFA_2B, PDF_PROFILE_PDFX_4 or PDF_PROFILE_PDFUA_1"}};
  expect("UNSPECIFIED among the additional profiles", &s, bad_add, 1);
  s.pdf_profile = 0;
  s.additional_pdf_profiles = ua_x, s.n_additional_pdf_profiles = 1;
  static const char *const no_first[][2] = {{"options.additional_pdf_profiles", NULL}};
  expect("additional without pdf_profile", &s, no_first, 1);
}

int main(void) {
  test_valid();
  test_pdf_profiles();
  test_every_violation_named();
  test_each_field();
  test_truncation_said();
  test_validate_first();
  return check_done();
}
