/* Pure parts of lib/jobs: UUIDv7 layout, state names, API key text form
 * (no database). The submit validator has its own test_submit_check.c. */
#include <string.h>

#include "check.h"
#include "folio/jobs.h"
#include "folio/tenant.h"

static void test_uuid(void) {
  char u[FOLIO_UUID_STR_LEN + 1];
  const uint8_t rnd[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  /* RFC 9562 appendix A.6 time: 2022-02-22T19:22:22Z = 0x017F22E279B0 ms */
  folio_uuid7_from(0x017F22E279B0LL, rnd, u);
  CHECK_EQ_STR(u, "017f22e2-79b0-7fff-bfff-ffffffffffff");
  const uint8_t zero[10] = {0};
  folio_uuid7_from(0, zero, u);
  CHECK_EQ_STR(u, "00000000-0000-7000-8000-000000000000");
  CHECK(folio_uuid_valid(u));
  /* fresh ids: valid, version 7, variant 10, time-ordered */
  char a[FOLIO_UUID_STR_LEN + 1], b[FOLIO_UUID_STR_LEN + 1];
  folio_uuid7(a);
  folio_uuid7(b);
  CHECK(folio_uuid_valid(a));
  CHECK_EQ_INT(a[14], '7');
  CHECK(strchr("89ab", a[19]) != NULL);
  CHECK(strcmp(a, b) != 0);
  CHECK(strncmp(a, b, 8) <= 0);
  CHECK(!folio_uuid_valid(NULL));
  CHECK(!folio_uuid_valid(""));
  CHECK(!folio_uuid_valid("017f22e2-79b0-7fff-bfff-ffffffffffff0"));
  CHECK(!folio_uuid_valid("017f22e2x79b0-7fff-bfff-ffffffffffff"));
  CHECK(!folio_uuid_valid("017f22e2-79b0-7fff-bfff-fffffffffffg"));
  CHECK(folio_uuid_valid("017F22E2-79B0-7FFF-BFFF-FFFFFFFFFFFF"));
}

static void test_states(void) {
  for (int s = FOLIO_JOB_QUEUED; s <= FOLIO_JOB_CANCELED; s++)
    CHECK_EQ_INT(folio_job_state_parse(folio_job_state_name((enum folio_job_state)s)), s);
  CHECK(folio_job_state_name(FOLIO_JOB_UNSPECIFIED) == NULL);
  CHECK_EQ_INT(folio_job_state_parse("queued"), FOLIO_JOB_UNSPECIFIED);
  CHECK_EQ_INT(folio_job_state_parse(NULL), FOLIO_JOB_UNSPECIFIED);
  CHECK(!folio_job_state_terminal(FOLIO_JOB_QUEUED) && !folio_job_state_terminal(FOLIO_JOB_RUNNING));
  CHECK(folio_job_state_terminal(FOLIO_JOB_SUCCEEDED) && folio_job_state_terminal(FOLIO_JOB_FAILED) &&
        folio_job_state_terminal(FOLIO_JOB_CANCELED));
  CHECK(strcmp(folio_jobs_strerror(FOLIO_JOBS_ENOTFOUND), "job not found") == 0);
  CHECK(strcmp(folio_jobs_strerror(FOLIO_PG_ETIMEOUT), "database timeout") == 0);
}

static void test_apikey_parse(void) {
  char id[FOLIO_UUID_STR_LEN + 1];
  uint8_t secret[32];
  const char *key = "folio_017f22e279b07fffbfffffffffffffff_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
  CHECK_EQ_INT(strlen(key), FOLIO_APIKEY_LEN);
  CHECK_EQ_INT(folio_jobs_apikey_parse(key, id, secret), 0);
  CHECK_EQ_STR(id, "017f22e2-79b0-7fff-bfff-ffffffffffff");
  for (int i = 0; i < 32; i++) CHECK_EQ_INT(secret[i], i);
  static const char *const bad[] = {
      "",
      "folio_",
      "Bearer folio_017f22e279b07fffbfffffffffffffff_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
      "folix_017f22e279b07fffbfffffffffffffff_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
      "folio_017F22E279B07FFFBFFFFFFFFFFFFFFF_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
      "folio_017f22e279b07fffbfffffffffffffff-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
      "folio_017f22e279b07fffbfffffffffffffff_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+",
      "folio_017f22e279b07fffbfffffffffffffff_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8x",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_MSG(folio_jobs_apikey_parse(bad[i], id, secret) == -1, "%s", bad[i]);
  CHECK_EQ_INT(folio_jobs_apikey_parse(NULL, id, secret), -1);
}

static void test_validate(void) {
  static const uint8_t layout[] = "{}";
  struct folio_pg_diag d;
  struct folio_job_submit ok = {.tenant = "t", .layout = layout, .layout_len = 2};
  CHECK_EQ_INT(folio_jobs_submit_validate(&ok, &d), 0);
  /* png_dpi at its edges: 0 (= default), 36 and 1200 accepted; 35 and 1201 not */
  static const int dpi_ok[] = {0, 36, 1200}, dpi_bad[] = {35, 1201, -1};
  for (size_t i = 0; i < 3; i++) {
    struct folio_job_submit e = ok;
    e.png_dpi = dpi_ok[i];
    CHECK_MSG(folio_jobs_submit_validate(&e, &d) == 0, "png_dpi %d: %s", dpi_ok[i], d.msg);
    e.png_dpi = dpi_bad[i];
    CHECK_MSG(folio_jobs_submit_validate(&e, &d) == FOLIO_JOBS_EINVAL, "png_dpi %d accepted", dpi_bad[i]);
    CHECK(strstr(d.msg, "png_dpi") != NULL);
  }
  struct folio_job_submit intl = ok;
  intl.tenant = "\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x93\x84"; /* 日本-📄 */
  CHECK_EQ_INT(folio_jobs_submit_validate(&intl, &d), 0);
  struct bad_case {
    struct folio_job_submit s;
    const char *needle;
  } cases[12];
  size_t n = 0;
  char longkey[200];
  memset(longkey, 'k', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  static const int badfmt[] = {1, 7};
  static const struct folio_job_label dup[] = {{"a", "1"}, {"a", "2"}};
  static const struct folio_job_label emptykey[] = {{"", "1"}};
  static const struct folio_job_label badutf[] = {{"k", "\xc0\xaf"}};
  for (size_t i = 0; i < 12; i++) cases[i].s = ok;
  cases[n].needle = "tenant", cases[n++].s.tenant = NULL;
  cases[n].needle = "idempotency_key", cases[n++].s.idempotency_key = longkey;
  cases[n].needle = "layout_json", cases[n++].s.layout_len = 0;
  cases[n].needle = "formats[1]", cases[n].s.formats = badfmt, cases[n++].s.nformats = 2;
  cases[n].needle = "png_dpi", cases[n++].s.png_dpi = 5000;
  cases[n].needle = "appears more than once", cases[n].s.labels = dup, cases[n++].s.nlabels = 2;
  cases[n].needle = "labels[\"\"]", cases[n].s.labels = emptykey, cases[n++].s.nlabels = 1;
  cases[n].needle = "max_attempts", cases[n++].s.max_attempts = -1;
  cases[n].needle = "tenant: must be valid UTF-8", cases[n++].s.tenant = "bad\xff";
  cases[n].needle = "idempotency_key: must be valid UTF-8", cases[n++].s.idempotency_key = "\xed\xa0\x80"; /* surrogate */
  cases[n].needle = "page_range: must be valid UTF-8", cases[n++].s.page_range = "1-\xf4\x90\x80\x80"; /* > U+10FFFF */
  cases[n].needle = "labels[\"k\"]: values must be valid UTF-8", cases[n].s.labels = badutf, cases[n++].s.nlabels = 1; /* overlong */
  for (size_t i = 0; i < n; i++) {
    d.msg[0] = '\0';
    CHECK_MSG(folio_jobs_submit_validate(&cases[i].s, &d) == FOLIO_JOBS_EINVAL, "case %zu", i);
    CHECK_MSG(strstr(d.msg, cases[i].needle) != NULL, "case %zu: %s", i, d.msg);
  }
}

static void test_events(void) {
  const char *id = "017f22e2-79b0-7fff-bfff-ffffffffffff";
  char ch[FOLIO_JOBS_CHANNEL_MAX], buf[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(id, ch);
  CHECK_EQ_STR(ch, "folio:job:017f22e2-79b0-7fff-bfff-ffffffffffff");
  int n = folio_jobs_event_format(buf, sizeof buf, id, FOLIO_JOB_RUNNING, 40);
  CHECK_EQ_STR(buf, "{\"job_id\":\"017f22e2-79b0-7fff-bfff-ffffffffffff\",\"state\":\"RUNNING\",\"progress\":40}");
  char got[FOLIO_UUID_STR_LEN + 1];
  enum folio_job_state st;
  int pr;
  CHECK_EQ_INT(folio_jobs_event_parse(buf, (size_t)n, got, &st, &pr), 0);
  CHECK_EQ_STR(got, id);
  CHECK_EQ_INT(st, FOLIO_JOB_RUNNING);
  CHECK_EQ_INT(pr, 40);
  CHECK_EQ_INT(folio_jobs_event_format(buf, 20, id, FOLIO_JOB_RUNNING, 40), -1);
  CHECK_EQ_INT(folio_jobs_event_format(buf, sizeof buf, "x", FOLIO_JOB_RUNNING, 40), -1);
  CHECK_EQ_INT(folio_jobs_event_format(buf, sizeof buf, id, FOLIO_JOB_UNSPECIFIED, 40), -1);
  CHECK_EQ_INT(folio_jobs_event_format(buf, sizeof buf, id, FOLIO_JOB_QUEUED, 101), -1);
  /* every truncation and a few corruptions are refused, never read past len */
  n = folio_jobs_event_format(buf, sizeof buf, id, FOLIO_JOB_SUCCEEDED, 100);
  for (int cut = 0; cut < n; cut++) CHECK_EQ_INT(folio_jobs_event_parse(buf, (size_t)cut, got, &st, &pr), -1);
  static const char *const bad[] = {
      "{\"job_id\":\"017f22e2-79b0-7fff-bfff-ffffffffffff\",\"state\":\"DONE\",\"progress\":1}",
      "{\"job_id\":\"017f22e2-79b0-7fff-bfff-ffffffffffff\",\"state\":\"QUEUED\",\"progress\":1000}",
      "{\"job_id\":\"017f22e2-79b0-7fff-bfff-ffffffffffff\",\"state\":\"QUEUED\",\"progress\":}",
      "{\"job_id\":\"017f22e2-79b0-7fff-bfff-ffffffffffff\",\"state\":\"QUEUED\",\"progress\":07}",
      "{\"job_id\":\"017f22e2-79b0-7fff-bfff-ffffffffffff\",\"state\":\"QUEUED\",\"progress\":1}x",
      "{\"job_id\":\"not-a-uuid-000000000000000000000000\",\"state\":\"QUEUED\",\"progress\":1}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_MSG(folio_jobs_event_parse(bad[i], strlen(bad[i]), got, &st, &pr) == -1, "%s", bad[i]);
  /* regression (fuzz_jobs): a NUL inside the state name ended the name early */
  static const char nul[] =
      "{\"job_id\":\"017f22e2-79b0-7fff-bfff-ffffffffffff\",\"state\":\"RUNNING\0\0\",\"progress\":4}";
  CHECK_EQ_INT(folio_jobs_event_parse(nul, sizeof nul - 1, got, &st, &pr), -1);
}

/* The per-server limiter: token bucket (rate, burst, refill, retry hint),
 * bytes in flight, per-tenant isolation, learned limits. Time is injected. */
static void test_quota(void) {
  struct folio_quota *q = folio_quota_create();
  CHECK(q);
  struct folio_tenant_limits l;
  folio_tenant_limits_default(&l);
  CHECK_EQ_INT(l.max_unfinished_jobs, 1000);
  l.submit_rate = 2; /* per second */
  l.submit_burst = 3;
  l.max_bytes_in_flight = 100;
  const int64_t S = 1000000000LL;
  int64_t t = 10 * S;
  folio_quota_learn(q, "a", &l, t);
  struct folio_quota_refusal why;
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(folio_quota_admit(q, "a", 10, t, &why), 0);
  CHECK_EQ_INT(folio_quota_admit(q, "a", 10, t, &why), -1);
  CHECK_EQ_STR(why.limit, "submit_rate");
  CHECK(why.value == 2.0);
  CHECK_EQ_INT(why.retry_after_ms, 500); /* one token at 2/s */
  CHECK_EQ_INT(folio_quota_in_flight(q, "a"), 30); /* the refusal took nothing */
  /* another tenant has its own bucket (at the defaults) */
  CHECK_EQ_INT(folio_quota_admit(q, "b", 10, t, &why), 0);
  /* half a second later: one token */
  CHECK_EQ_INT(folio_quota_admit(q, "a", 10, t + S / 2, &why), 0);
  CHECK_EQ_INT(folio_quota_admit(q, "a", 10, t + S / 2, &why), -1);
  /* bytes in flight: 40 of 100 held; 70 more is over, 60 fits */
  t += 10 * S; /* bucket full again */
  CHECK_EQ_INT(folio_quota_admit(q, "a", 70, t, &why), -1);
  CHECK_EQ_STR(why.limit, "max_bytes_in_flight");
  CHECK(why.value == 100.0 && why.retry_after_ms > 0);
  CHECK_EQ_INT(folio_quota_admit(q, "a", 60, t, &why), 0);
  for (int i = 0; i < 4; i++) folio_quota_release(q, "a", 10);
  folio_quota_release(q, "a", 60);
  CHECK_EQ_INT(folio_quota_in_flight(q, "a"), 0);
  /* a layout bigger than the limit alone is admitted when nothing else is in flight */
  CHECK_EQ_INT(folio_quota_admit(q, "a", 500, t, &why), 0);
  CHECK_EQ_INT(folio_quota_admit(q, "a", 1, t, &why), -1);
  folio_quota_release(q, "a", 500);
  /* a lowered burst caps the tokens at once */
  l.submit_burst = 1;
  folio_quota_learn(q, "a", &l, t + 100 * S);
  CHECK_EQ_INT(folio_quota_admit(q, "a", 1, t + 100 * S, &why), 0);
  CHECK_EQ_INT(folio_quota_admit(q, "a", 1, t + 100 * S, &why), -1);
  /* a raised burst is there at once */
  l.submit_burst = 4;
  folio_quota_learn(q, "a", &l, t + 100 * S);
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(folio_quota_admit(q, "a", 1, t + 100 * S, &why), 0);
  CHECK_EQ_INT(folio_quota_admit(q, "a", 1, t + 100 * S, &why), -1);
  l.submit_burst = 1;
  folio_quota_learn(q, "a", &l, t + 100 * S);
  struct folio_tenant_limits got;
  folio_quota_limits(q, "a", &got);
  CHECK_EQ_INT(got.submit_burst, 1);
  folio_quota_limits(q, "nobody", &got);
  CHECK_EQ_INT(got.submit_burst, FOLIO_TENANT_DEFAULT_SUBMIT_BURST);
  folio_quota_destroy(q);
  /* the limits table */
  CHECK_EQ_INT(folio_tenant_limit_find("max-running-jobs"), folio_tenant_limit_find("max_running_jobs"));
  CHECK(folio_tenant_limit_find("max-running") < 0);
  folio_tenant_limits_default(&l);
  CHECK_EQ_INT(folio_tenant_decode_share(&l, 8), 4);
  CHECK_EQ_INT(folio_tenant_decode_share(&l, 1), 1);
  l.max_concurrent_decodes = 3;
  CHECK_EQ_INT(folio_tenant_decode_share(&l, 2), 2);
  char key[128];
  CHECK(folio_jobs_object_key(key, sizeof key, "t-id", "job", "document.pdf") > 0);
  CHECK_EQ_STR(key, "t-id/job/document.pdf");
  CHECK_EQ_INT(folio_jobs_object_key(key, 8, "t-id", "job", "document.pdf"), -1);
}

int main(void) {
  test_events();
  test_uuid();
  test_states();
  test_apikey_parse();
  test_validate();
  test_quota();
  return check_done();
}
