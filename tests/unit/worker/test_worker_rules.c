/* The render process's decisions (worker/rules.h), without a process:
 * which channel messages are our own echoes, how a render error ends an
 * attempt, and what a stopped or SIGTERM'd attempt records. */
#include <string.h>

#include "check.h"
#include "folio/render.h"
#include "rules.h"

static bool ours(struct worker_echoes *q, const char *m) { return worker_echo_is_ours(q, m, strlen(m)); }
static void expect(struct worker_echoes *q, const char *m) { worker_echo_expect(q, m, strlen(m)); }

static void test_echoes(void) {
  struct worker_echoes q = {0};
  /* nothing of ours outstanding: every message pokes (a cancel) */
  CHECK(!ours(&q, "a 2 10"));
  /* ours come back in order, interleaved with others' */
  expect(&q, "a 2 10");
  expect(&q, "a 2 20");
  CHECK(!ours(&q, "cancel"));      /* foreign: pokes, and consumes nothing */
  CHECK(ours(&q, "a 2 10"));       /* echo of the oldest */
  CHECK(!ours(&q, "a 2 10"));      /* the same text again is foreign now */
  CHECK(ours(&q, "a 2 20"));
  CHECK_EQ_INT(q.n, 0);
  /* only the oldest matches: a newer one of ours arriving first pokes */
  expect(&q, "x");
  expect(&q, "y");
  CHECK(!ours(&q, "y"));
  CHECK(ours(&q, "x"));
  CHECK(ours(&q, "y"));
  /* a prefix or a longer message is not an echo */
  expect(&q, "abc");
  CHECK(!worker_echo_is_ours(&q, "ab", 2));
  CHECK(!worker_echo_is_ours(&q, "abcd", 4));
  CHECK(ours(&q, "abc"));
  /* binary-safe: compared by length, not by NUL */
  worker_echo_expect(&q, "a\0b", 3);
  CHECK(!worker_echo_is_ours(&q, "a\0c", 3));
  CHECK(worker_echo_is_ours(&q, "a\0b", 3));
  /* (re)subscribed (msg NULL): echoes may be lost, forget them all and poke */
  expect(&q, "p");
  expect(&q, "q");
  CHECK(!worker_echo_is_ours(&q, NULL, 0));
  CHECK_EQ_INT(q.n, 0);
  CHECK(!ours(&q, "p"));
  /* a failed publish forgets the newest equal entry, not an older one */
  expect(&q, "same");
  expect(&q, "other");
  expect(&q, "same");
  worker_echo_forget(&q, "same", 4);
  CHECK_EQ_INT(q.n, 2);
  CHECK(ours(&q, "same"));
  CHECK(ours(&q, "other"));
  CHECK_EQ_INT(q.n, 0);
  worker_echo_forget(&q, "none", 4); /* harmless */
  CHECK_EQ_INT(q.n, 0);
  /* full: the oldest is dropped (its echo will poke once), the rest match */
  char m[WORKER_ECHOES_MAX + 1][8];
  for (int i = 0; i <= WORKER_ECHOES_MAX; i++) {
    snprintf(m[i], sizeof m[i], "m%d", i);
    expect(&q, m[i]);
  }
  CHECK_EQ_INT(q.n, WORKER_ECHOES_MAX);
  CHECK(!ours(&q, m[0]));
  for (int i = 1; i <= WORKER_ECHOES_MAX; i++) CHECK_MSG(ours(&q, m[i]), "m%d", i);
  CHECK_EQ_INT(q.n, 0);
}

static void test_render_errors(void) {
  static const struct {
    int rc;
    bool transient;
    const char *code;
  } want[] = {
      {FOLIO_RENDER_E_WRITE, true, "STORE_UNAVAILABLE"},
      {FOLIO_RENDER_E_NOMEM, true, "OUT_OF_MEMORY"},
      {FOLIO_RENDER_E_OVERFLOW, false, "TEXT_OVERFLOW"},
      {FOLIO_RENDER_E_IMAGE, false, "INVALID_IMAGE"},
      {FOLIO_RENDER_E_ARG, false, "INVALID_ARGUMENT"},
      {FOLIO_RENDER_E_CAIRO, false, "RENDER_FAILED"},
      {-999, false, "RENDER_FAILED"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    struct worker_error_kind k = {0};
    CHECK_MSG(worker_render_error_kind(want[i].rc, &k), "rc %d", want[i].rc);
    CHECK_MSG(k.transient == want[i].transient, "rc %d", want[i].rc);
    CHECK_EQ_STR(k.code, want[i].code);
  }
  /* a cancelled render is not a failure: the stop reason decides */
  struct worker_error_kind k = {true, "untouched"};
  CHECK(!worker_render_error_kind(FOLIO_RENDER_E_CANCELLED, &k));
  /* the layout decoder: invalid is permanent, out of memory is not */
  worker_decode_error_kind(-1, &k);
  CHECK(!k.transient);
  CHECK_EQ_STR(k.code, "INVALID_LAYOUT");
  worker_decode_error_kind(-2, &k);
  CHECK(k.transient);
  CHECK_EQ_STR(k.code, "OUT_OF_MEMORY");
  /* the first failure is the one reported */
  struct worker_failure f = {0};
  CHECK(worker_failure_note(&f, false, "TEXT_OVERFLOW", "/pages/0: %s", "overflow"));
  CHECK(!worker_failure_note(&f, true, "STORE_UNAVAILABLE", "aborted"));
  CHECK(f.set && !f.transient);
  CHECK_EQ_STR(f.code, "TEXT_OVERFLOW");
  CHECK_EQ_STR(f.msg, "/pages/0: overflow");
}

static void test_outcome(void) {
  const struct worker_failure none = {0};
  const struct worker_failure transient = {.set = true, .transient = true, .code = "STORE_UNAVAILABLE"};
  const struct worker_failure permanent = {.set = true, .transient = false, .code = "TEXT_OVERFLOW"};
  /* no stop */
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_NONE, &none, true), WORKER_SUCCEED);
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_NONE, &transient, false), WORKER_FAIL);
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_NONE, &permanent, false), WORKER_FAIL);
  /* a cancel wins over everything but a lost claim, even a finished render */
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_CANCEL, &none, true), WORKER_CANCEL);
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_CANCEL, &none, false), WORKER_CANCEL);
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_CANCEL, &permanent, false), WORKER_CANCEL);
  /* a lost claim touches nothing */
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_LOST, &none, true), WORKER_LEAVE);
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_LOST, &transient, false), WORKER_LEAVE);
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_LOST, &permanent, false), WORKER_LEAVE);
  /* SIGTERM'd: an unfinished render is handed back ... */
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_SHUTDOWN, &none, false), WORKER_RELEASE);
  /* ... and so is a transient failure (the next worker may succeed) ... */
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_SHUTDOWN, &transient, false), WORKER_RELEASE);
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_SHUTDOWN, &transient, true), WORKER_RELEASE);
  /* ... but a render that wrote everything is finished, not thrown away ... */
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_SHUTDOWN, &none, true), WORKER_SUCCEED);
  /* ... and a permanent failure is recorded: it would fail again elsewhere */
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_SHUTDOWN, &permanent, false), WORKER_FAIL);
  CHECK_EQ_INT(worker_outcome(WORKER_STOP_SHUTDOWN, &permanent, true), WORKER_FAIL);
}

/* Findings that fail a job: PREFLIGHT_FAILED first, then FINDINGS; info never. */
static void test_findings_verdict(void) {
  struct folio_findings f;
  folio_findings_init(&f, 0);
  struct worker_failure w = {0};
  CHECK(!worker_findings_verdict(&f, true, true, &w) && !w.set); /* none */
  folio_findings_add(&f, "NOTE", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 1, "/pages/0/items/0", "just so");
  CHECK(!worker_findings_verdict(&f, true, true, &w) && !w.set); /* info never fails */
  folio_findings_add(&f, "TEXT_OVERSET", FOLIO_FINDING_WARNING, FOLIO_FINDING_PAINT, 2, "/pages/1/items/3",
                     "text overflows its box");
  CHECK(!worker_findings_verdict(&f, false, false, &w) && !w.set); /* not asked */
  CHECK(!worker_findings_verdict(&f, false, true, &w) && !w.set);  /* no preflight finding */
  CHECK(worker_findings_verdict(&f, true, false, &w));
  CHECK(w.set && !w.transient);
  CHECK_EQ_STR(w.code, "FINDINGS");
  CHECK_EQ_STR(w.msg, "fail_on_warnings: the render reported warning TEXT_OVERSET on page 2 at "
                      "/pages/1/items/3: text overflows its box (every finding is in Job.findings)");
  folio_findings_add(&f, "PDF_ID_MISSING", FOLIO_FINDING_ERROR, FOLIO_FINDING_PREFLIGHT, 0, NULL,
                     "the trailer has no /ID");
  w = (struct worker_failure){0};
  CHECK(worker_findings_verdict(&f, true, true, &w)); /* the preflight's verdict comes first */
  CHECK_EQ_STR(w.code, "PREFLIGHT_FAILED");
  CHECK_EQ_STR(w.msg, "require_clean_preflight: the output preflight reported error PDF_ID_MISSING: "
                      "the trailer has no /ID (every finding is in Job.findings)");
  /* an earlier failure wins */
  w = (struct worker_failure){0};
  worker_failure_note(&w, true, "STORE_UNAVAILABLE", "down");
  CHECK(!worker_findings_verdict(&f, true, true, &w));
  CHECK_EQ_STR(w.code, "STORE_UNAVAILABLE");
  folio_findings_fini(&f);
}

int main(void) {
  test_findings_verdict();
  test_echoes();
  test_render_errors();
  test_outcome();
  return check_done();
}
