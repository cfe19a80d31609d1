/* The findings list (folio/findings.h): the cap and its FINDINGS_OMITTED
 * entry, exact strings, the serialised form round trip (also in the shape
 * PostgreSQL's jsonb gives back), the selection rule the job verdict uses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/findings.h"

/* A call whose allocation failed (the allocation-failure run fails them one
 * by one) ends the test cleanly: exit 1 with a message, never a read of what
 * was not stored. */
#define MUST(call)                                                     \
  do {                                                                 \
    if ((call) == FOLIO_FINDINGS_ENOMEM) {                             \
      fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);   \
      exit(1);                                                         \
    }                                                                  \
  } while (0)

static void basic(void) {
  struct folio_findings f;
  folio_findings_init(&f, 0);
  CHECK_EQ_INT(f.max, FOLIO_FINDINGS_MAX);
  CHECK_EQ_INT(folio_findings_add(&f, "TEXT_OVERSET", FOLIO_FINDING_WARNING, FOLIO_FINDING_PAINT, 2,
                                  "/pages/1/items/4", "%d lines not shown", 3),
               0);
  CHECK_EQ_INT(f.n, 1);
  CHECK_EQ_STR(f.items[0].code, "TEXT_OVERSET");
  CHECK_EQ_INT(f.items[0].severity, FOLIO_FINDING_WARNING);
  CHECK_EQ_INT(f.items[0].stage, FOLIO_FINDING_PAINT);
  CHECK_EQ_INT(f.items[0].page, 2);
  CHECK_EQ_STR(f.items[0].pointer, "/pages/1/items/4");
  CHECK_EQ_STR(f.items[0].message, "3 lines not shown");
  CHECK_EQ_INT(f.items[0].omitted, 0);
  /* bad codes, severities and stages are refused and change nothing */
  CHECK_EQ_INT(folio_findings_add(&f, "", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 0, NULL, "x"),
               FOLIO_FINDINGS_EINVAL);
  CHECK_EQ_INT(folio_findings_add(&f, "lower", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 0, NULL, "x"),
               FOLIO_FINDINGS_EINVAL);
  CHECK_EQ_INT(folio_findings_add(&f, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", FOLIO_FINDING_INFO,
                                  FOLIO_FINDING_PAINT, 0, NULL, "x"),
               FOLIO_FINDINGS_EINVAL); /* 33 bytes */
  CHECK_EQ_INT(folio_findings_add(&f, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", FOLIO_FINDING_INFO,
                                  FOLIO_FINDING_PAINT, 0, NULL, "x"),
               0); /* 32 bytes */
  CHECK_EQ_INT(folio_findings_add(&f, FOLIO_FINDINGS_OMITTED_CODE, FOLIO_FINDING_INFO,
                                  FOLIO_FINDING_PAINT, 0, NULL, "x"),
               FOLIO_FINDINGS_EINVAL); /* reserved */
  CHECK_EQ_INT(folio_findings_add(&f, "X", (enum folio_finding_severity)4, FOLIO_FINDING_PAINT, 0, NULL, "x"),
               FOLIO_FINDINGS_EINVAL);
  CHECK_EQ_INT(folio_findings_add(&f, "X", FOLIO_FINDING_INFO, (enum folio_finding_stage)0, 0, NULL, "x"),
               FOLIO_FINDINGS_EINVAL);
  CHECK_EQ_INT(f.n, 2);
  CHECK_EQ_STR(f.items[1].pointer, ""); /* NULL = none */
  folio_findings_fini(&f);
  CHECK_EQ_INT(f.n, 0);
  folio_findings_fini(NULL);
}

static void cap(void) {
  struct folio_findings f;
  folio_findings_init(&f, 5);
  for (int i = 0; i < 5; i++)
    CHECK_EQ_INT(folio_findings_add(&f, "A", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, (uint32_t)i + 1, NULL,
                                    "n%d", i),
                 0);
  CHECK_EQ_INT(f.n, 5); /* exactly max: every one kept */
  CHECK_EQ_STR(f.items[4].code, "A");
  /* one more: the last entry becomes the omitted one, standing for itself and the new one */
  CHECK_EQ_INT(folio_findings_add(&f, "B", FOLIO_FINDING_WARNING, FOLIO_FINDING_PAINT, 9, "/x", "m"), 0);
  CHECK_EQ_INT(f.n, 5);
  CHECK_EQ_STR(f.items[3].message, "n3");
  CHECK_EQ_STR(f.items[4].code, FOLIO_FINDINGS_OMITTED_CODE);
  CHECK_EQ_INT(f.items[4].omitted, 2);
  CHECK_EQ_INT(f.items[4].severity, FOLIO_FINDING_WARNING); /* the highest left out */
  CHECK_EQ_INT(f.items[4].page, 0);
  CHECK_EQ_STR(f.items[4].message, "2 more findings were left out: a list keeps at most 5 entries");
  for (int i = 0; i < 1000; i++)
    CHECK_EQ_INT(folio_findings_add(&f, "C", FOLIO_FINDING_INFO, FOLIO_FINDING_PREFLIGHT, 1, NULL, "m"), 0);
  CHECK_EQ_INT(f.n, 5);
  CHECK_EQ_INT(f.items[4].omitted, 1002);
  CHECK_EQ_INT(f.items[4].severity, FOLIO_FINDING_WARNING);
  CHECK_EQ_STR(f.items[4].message, "1002 more findings were left out: a list keeps at most 5 entries");
  CHECK(f.cap <= 5); /* never allocates past max */
  /* the omitted entry stands for any stage */
  CHECK(folio_findings_first(&f, FOLIO_FINDING_WARNING, 1u << FOLIO_FINDING_PREFLIGHT) == &f.items[4]);
  CHECK(folio_findings_first(&f, FOLIO_FINDING_ERROR, 0) == NULL);
  folio_findings_fini(&f);

  /* a list of one */
  folio_findings_init(&f, 1);
  MUST(folio_findings_add(&f, "A", FOLIO_FINDING_ERROR, FOLIO_FINDING_PAINT, 1, NULL, "a"));
  MUST(folio_findings_add(&f, "B", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 1, NULL, "b"));
  CHECK_EQ_INT(f.n, 1);
  CHECK_EQ_INT(f.items[0].omitted, 2);
  CHECK_EQ_INT(f.items[0].severity, FOLIO_FINDING_ERROR);
  folio_findings_fini(&f);

  /* the default cap */
  folio_findings_init(&f, 100000);
  CHECK_EQ_INT(f.max, FOLIO_FINDINGS_MAX);
  for (int i = 0; i < FOLIO_FINDINGS_MAX + 7; i++)
    MUST(folio_findings_add(&f, "A", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 1, NULL, "a"));
  CHECK_EQ_INT(f.n, FOLIO_FINDINGS_MAX);
  CHECK_EQ_INT(f.items[FOLIO_FINDINGS_MAX - 1].omitted, 8);
  folio_findings_fini(&f);
}

static void first_and_append(void) {
  struct folio_findings a, b;
  folio_findings_init(&a, 0);
  folio_findings_init(&b, 3);
  MUST(folio_findings_add(&a, "I", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 1, NULL, "i"));
  MUST(folio_findings_add(&a, "W", FOLIO_FINDING_WARNING, FOLIO_FINDING_PAINT, 1, NULL, "w"));
  MUST(folio_findings_add(&a, "P", FOLIO_FINDING_WARNING, FOLIO_FINDING_PREFLIGHT, 0, NULL, "p"));
  MUST(folio_findings_add(&a, "E", FOLIO_FINDING_ERROR, FOLIO_FINDING_PREFLIGHT, 0, NULL, "e"));
  CHECK_EQ_STR(folio_findings_first(&a, FOLIO_FINDING_INFO, 0)->code, "I");
  CHECK_EQ_STR(folio_findings_first(&a, FOLIO_FINDING_WARNING, 0)->code, "W");
  CHECK_EQ_STR(folio_findings_first(&a, FOLIO_FINDING_WARNING, 1u << FOLIO_FINDING_PREFLIGHT)->code, "P");
  CHECK_EQ_STR(folio_findings_first(&a, FOLIO_FINDING_ERROR, 0)->code, "E");
  CHECK(folio_findings_first(&a, FOLIO_FINDING_WARNING, 1u << FOLIO_FINDING_DECODE) == NULL);
  /* append keeps the order and the destination's cap */
  CHECK_EQ_INT(folio_findings_append(&b, &a), 0);
  CHECK_EQ_INT(b.n, 3);
  CHECK_EQ_STR(b.items[1].code, "W");
  CHECK_EQ_STR(b.items[2].code, FOLIO_FINDINGS_OMITTED_CODE);
  CHECK_EQ_INT(b.items[2].omitted, 2);
  CHECK_EQ_INT(b.items[2].severity, FOLIO_FINDING_ERROR);
  /* an omitted entry appended carries its count */
  struct folio_findings c;
  folio_findings_init(&c, 0);
  MUST(folio_findings_add(&c, "Z", FOLIO_FINDING_INFO, FOLIO_FINDING_DECODE, 0, NULL, "z"));
  CHECK_EQ_INT(folio_findings_append(&c, &b), 0);
  CHECK_EQ_INT(c.n, 4);
  CHECK_EQ_INT(c.items[3].omitted, 2);
  /* and stays the final entry: what follows is counted into it */
  MUST(folio_findings_add(&c, "Y", FOLIO_FINDING_INFO, FOLIO_FINDING_DECODE, 0, NULL, "y"));
  CHECK_EQ_INT(c.n, 4);
  CHECK_EQ_INT(c.items[3].omitted, 3);
  folio_findings_fini(&a);
  folio_findings_fini(&b);
  folio_findings_fini(&c);
}

static void exact(void) {
  struct folio_findings f;
  folio_findings_init(&f, 0);
  /* invalid UTF-8, a control, an overlong form, a surrogate: each becomes U+FFFD */
  MUST(folio_findings_add(&f, "X", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 0, "/a\xff", "a\x01" "b\xc0\xaf" "c\xed\xa0\x80" "d"));
  CHECK_EQ_STR(f.items[0].pointer, "/a\xEF\xBF\xBD");
  CHECK_EQ_STR(f.items[0].message, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "d");
  /* valid multi-byte text is kept */
  MUST(folio_findings_add(&f, "X", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 0, NULL, "caf\xC3\xA9 \xF0\x9F\x98\x80"));
  CHECK_EQ_STR(f.items[1].message, "caf\xC3\xA9 \xF0\x9F\x98\x80");
  /* too long: cut at a character boundary, "…" marks it, within the bound */
  char longmsg[2000];
  for (size_t i = 0; i + 2 < sizeof longmsg; i += 2) memcpy(longmsg + i, "\xC3\xA9", 2);
  longmsg[sizeof longmsg - 2] = 0;
  MUST(folio_findings_add(&f, "X", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 0, longmsg, "%s", longmsg));
  size_t n = strlen(f.items[2].message);
  CHECK(n <= FOLIO_FINDING_MESSAGE_MAX);
  CHECK(n >= FOLIO_FINDING_MESSAGE_MAX - 4);
  CHECK_EQ_STR(f.items[2].message + n - 3, "\xE2\x80\xA6");
  CHECK(((unsigned char)f.items[2].message[n - 4] & 0xC0) == 0x80); /* é's last byte before "…" */
  CHECK_EQ_INT(memcmp(f.items[2].message, "\xC3\xA9\xC3\xA9", 4), 0);
  size_t pn = strlen(f.items[2].pointer);
  CHECK(pn <= FOLIO_FINDING_POINTER_MAX && pn >= FOLIO_FINDING_POINTER_MAX - 4);
  CHECK_EQ_STR(f.items[2].pointer + pn - 3, "\xE2\x80\xA6");
  /* exactly the bound: no cut */
  char fit[FOLIO_FINDING_MESSAGE_MAX + 1];
  memset(fit, 'a', FOLIO_FINDING_MESSAGE_MAX);
  fit[FOLIO_FINDING_MESSAGE_MAX] = 0;
  MUST(folio_findings_add(&f, "X", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 0, NULL, "%s", fit));
  CHECK_EQ_STR(f.items[3].message, fit);
  folio_findings_fini(&f);
}

static void round_trip(void) {
  struct folio_findings f, g;
  folio_findings_init(&f, 4);
  MUST(folio_findings_add(&f, "FONT_SUBSTITUTED", FOLIO_FINDING_WARNING, FOLIO_FINDING_PAINT, 3,
                     "/pages/2/items/0", "font \"No Such\" not found; used \"DejaVu Sans\""));
  MUST(folio_findings_add(&f, "GLYPH_MISSING", FOLIO_FINDING_ERROR, FOLIO_FINDING_PAINT, 1, "/pages/0/items/1",
                     "U+E000 \\ tab\there caf\xC3\xA9 \xF0\x9F\x98\x80"));
  MUST(folio_findings_add(&f, "PDF_ID_MISSING", FOLIO_FINDING_ERROR, FOLIO_FINDING_PREFLIGHT, 0, NULL, "no /ID"));
  MUST(folio_findings_add(&f, "A", FOLIO_FINDING_INFO, FOLIO_FINDING_DECODE, 4000000000u, NULL, "a"));
  MUST(folio_findings_add(&f, "B", FOLIO_FINDING_INFO, FOLIO_FINDING_TYPESET, 1, NULL, "b"));
  char *js;
  size_t len;
  CHECK_EQ_INT(folio_findings_to_json(&f, &js, &len), 0);
  CHECK_EQ_INT(strlen(js), len);
  CHECK_MSG(strncmp(js, "[{\"code\":\"FONT_SUBSTITUTED\",\"severity\":\"warning\",\"stage\":\"paint\",\"page\":3,"
                        "\"pointer\":\"/pages/2/items/0\",\"message\":\"font \\\"No Such\\\" not found; used \\\"DejaVu Sans\\\"\"},",
                    110) == 0,
            "%s", js);
  CHECK(strstr(js, "\"omitted\":2}]") != NULL);
  folio_findings_init(&g, 0);
  CHECK_EQ_INT(folio_findings_from_json(&g, js, len), 0);
  CHECK_EQ_INT(g.n, f.n);
  for (size_t i = 0; i < f.n; i++) {
    CHECK_EQ_STR(g.items[i].code, f.items[i].code);
    CHECK_EQ_INT(g.items[i].severity, f.items[i].severity);
    CHECK_EQ_INT(g.items[i].stage, f.items[i].stage);
    CHECK_EQ_INT(g.items[i].page, f.items[i].page);
    CHECK_EQ_STR(g.items[i].pointer, f.items[i].pointer);
    CHECK_EQ_STR(g.items[i].message, f.items[i].message);
    CHECK_EQ_INT(g.items[i].omitted, f.items[i].omitted);
  }
  free(js);
  folio_findings_fini(&g);
  /* empty */
  folio_findings_init(&g, 0);
  CHECK_EQ_INT(folio_findings_to_json(&g, &js, &len), 0);
  CHECK_EQ_STR(js, "[]");
  CHECK_EQ_INT(folio_findings_from_json(&g, js, len), 0);
  CHECK_EQ_INT(g.n, 0);
  free(js);
  folio_findings_fini(&g);
  folio_findings_fini(&f);
}

static void parse_jsonb_shape(void) {
  /* what PostgreSQL gives back for a jsonb: keys reordered, spaces, \u escapes */
  const char *s = "[{\"code\": \"TEXT_OVERSET\", \"page\": 2, \"stage\": \"paint\", \"message\": "
                  "\"caf\\u00e9 \\ud83d\\ude00 \\u0001\", \"pointer\": \"/pages/1/items/0\", "
                  "\"severity\": \"warning\"}, {\"code\": \"FINDINGS_OMITTED\", \"page\": 0, \"stage\": "
                  "\"paint\", \"message\": \"x\", \"omitted\": 7, \"pointer\": \"\", \"severity\": \"error\"}]";
  struct folio_findings g;
  folio_findings_init(&g, 0);
  CHECK_EQ_INT(folio_findings_from_json(&g, s, strlen(s)), 0);
  CHECK_EQ_INT(g.n, 2);
  CHECK_EQ_STR(g.items[0].message, "caf\xC3\xA9 \xF0\x9F\x98\x80 \xEF\xBF\xBD"); /* the control is not kept */
  CHECK_EQ_INT(g.items[0].page, 2);
  CHECK_EQ_INT(g.items[1].omitted, 7);
  CHECK_EQ_STR(g.items[1].message, "x"); /* as stored, until it counts more */
  CHECK_EQ_INT(folio_findings_add(&g, "A", FOLIO_FINDING_INFO, FOLIO_FINDING_PAINT, 0, NULL, "a"), 0);
  CHECK_EQ_INT(g.n, 2);
  CHECK_EQ_STR(g.items[1].message, "8 more findings were left out: a list keeps at most 100 entries");
  folio_findings_fini(&g);
  /* what is not a list */
  const char *bad[] = {
      "", "[", "{}", "[{}]", "[1]", "[{\"code\":\"A\"}]",              /* severity, stage missing */
      "[{\"code\":\"a\",\"severity\":\"info\",\"stage\":\"paint\"}]",   /* bad code */
      "[{\"code\":\"A\",\"severity\":\"fatal\",\"stage\":\"paint\"}]",  /* unknown severity */
      "[{\"code\":\"A\",\"severity\":\"info\",\"stage\":\"print\"}]",   /* unknown stage */
      "[{\"code\":\"A\",\"severity\":\"info\",\"stage\":\"paint\",\"x\":1}]", /* unknown key */
      "[{\"code\":\"A\",\"severity\":\"info\",\"stage\":\"paint\",\"page\":-1}]",
      "[{\"code\":\"A\",\"severity\":\"info\",\"stage\":\"paint\",\"page\":4294967296}]",
      "[{\"code\":\"A\",\"severity\":\"info\",\"stage\":\"paint\",\"omitted\":3}]", /* omitted on another code */
      "[{\"code\":\"FINDINGS_OMITTED\",\"severity\":\"info\",\"stage\":\"paint\"}]", /* without its count */
      "[{\"code\":\"A\",\"severity\":\"info\",\"stage\":\"paint\"}] x",
      "[{\"code\":\"A\",\"severity\":\"info\",\"stage\":\"paint\",\"message\":\"a\\q\"}]",
      "[{\"code\":\"A\",\"severity\":\"info\",\"stage\":\"paint\",\"message\":\"a\x01\"}]",
      "[{\"code\":\"A\\u0000\",\"severity\":\"info\",\"stage\":\"paint\"}]",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    folio_findings_init(&g, 0);
    CHECK_MSG(folio_findings_from_json(&g, bad[i], strlen(bad[i])) == FOLIO_FINDINGS_EINVAL, "%s", bad[i]);
    folio_findings_fini(&g);
  }
  /* parsing honours the list's cap */
  folio_findings_init(&g, 2);
  const char *three = "[{\"code\":\"A\",\"severity\":\"info\",\"stage\":\"paint\"},"
                      "{\"code\":\"B\",\"severity\":\"info\",\"stage\":\"paint\"},"
                      "{\"code\":\"C\",\"severity\":\"warning\",\"stage\":\"paint\"}]";
  CHECK_EQ_INT(folio_findings_from_json(&g, three, strlen(three)), 0);
  CHECK_EQ_INT(g.n, 2);
  CHECK_EQ_INT(g.items[1].omitted, 2);
  CHECK_EQ_INT(g.items[1].severity, FOLIO_FINDING_WARNING);
  folio_findings_fini(&g);
}

static void names(void) {
  CHECK_EQ_STR(folio_finding_severity_name(FOLIO_FINDING_INFO), "info");
  CHECK_EQ_STR(folio_finding_severity_name(FOLIO_FINDING_ERROR), "error");
  CHECK(folio_finding_severity_name((enum folio_finding_severity)0) == NULL);
  CHECK_EQ_STR(folio_finding_stage_name(FOLIO_FINDING_PREFLIGHT), "preflight");
  CHECK(folio_finding_stage_name((enum folio_finding_stage)5) == NULL);
}

int main(void) {
  basic();
  cap();
  first_and_append();
  exact();
  round_trip();
  parse_jsonb_shape();
  names();
  return check_done();
}
