/* Unit tests of client/cli_common.c (durations, formats, numbers, exit codes,
 * progress bar) and folio_client_resume_plan (what a resumed fetch keeps). */
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"

static void test_durations(void) {
  uint64_t s = 0;
  CHECK(cli_parse_duration("90s", &s) == 0 && s == 90);
  CHECK(cli_parse_duration("15m", &s) == 0 && s == 900);
  CHECK(cli_parse_duration("1h", &s) == 0 && s == 3600);
  CHECK(cli_parse_duration("7d", &s) == 0 && s == 604800);
  CHECK(cli_parse_duration("300", &s) == 0 && s == 300);
  CHECK(cli_parse_duration("0s", &s) == 0 && s == 0);
  static const char *const bad[] = {"", "h", "1x", "1hh", "-5s", "1.5h", " 1h", "1h ", "99999999999999999999s",
                                    "9999999999999999999d"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_MSG(cli_parse_duration(bad[i], &s) == -1, "accepted \"%s\"", bad[i]);
  CHECK(cli_parse_duration(NULL, &s) == -1);
}

static void test_formats(void) {
  int f[3];
  CHECK_EQ_INT(cli_parse_formats("pdf", f), 1);
  CHECK_EQ_INT(f[0], FOLIO__V1__FORMAT__FORMAT_PDF);
  CHECK_EQ_INT(cli_parse_formats("pdf,png,sla", f), 3);
  CHECK_EQ_INT(f[2], FOLIO__V1__FORMAT__FORMAT_SLA);
  CHECK_EQ_INT(cli_parse_formats("png,png,png,pdf", f), 2);
  CHECK_EQ_INT(f[0], FOLIO__V1__FORMAT__FORMAT_PNG);
  CHECK_EQ_INT(cli_parse_formats("", f), -1);
  CHECK_EQ_INT(cli_parse_formats("pdf,", f), -1);
  CHECK_EQ_INT(cli_parse_formats("PDF", f), -1);
  CHECK_EQ_INT(cli_parse_formats("pdf,svg", f), -1);
  unsigned long v = 0;
  CHECK(cli_parse_uint("150", 36, 1200, &v) == 0 && v == 150);
  CHECK(cli_parse_uint("35", 36, 1200, &v) == -1);
  CHECK(cli_parse_uint("1201", 36, 1200, &v) == -1);
  CHECK(cli_parse_uint("15o", 36, 1200, &v) == -1);
  CHECK(cli_parse_uint("-1", 0, 10, &v) == -1);
}

static void test_flags(void) {
  setenv("FOLIO_ADDR", "10.0.0.1:1", 1);
  unsetenv("FOLIO_API_KEY");
  struct cli_conn c;
  cli_conn_init(&c);
  CHECK_EQ_STR(c.addr, "10.0.0.1:1");
  CHECK(c.key == NULL);
  static char words[][16] = {"x", "--key", "K1", "--addr=h:2", "--tls-ca", "ca.pem", "--keys", "--key"};
  char *argv[8];
  for (int k = 0; k < 8; k++) argv[k] = words[k];
  int argc = 8, i = 1;
  CHECK_EQ_INT(cli_conn_flag("t", argc, argv, &i, &c), 1);
  CHECK_EQ_INT(i, 2);
  CHECK_EQ_STR(c.key, "K1");
  i = 3;
  CHECK_EQ_INT(cli_conn_flag("t", argc, argv, &i, &c), 1);
  CHECK_EQ_STR(c.addr, "h:2");
  i = 4;
  CHECK_EQ_INT(cli_conn_flag("t", argc, argv, &i, &c), 1);
  CHECK_EQ_STR(c.tls_ca, "ca.pem");
  i = 6;
  CHECK_EQ_INT(cli_conn_flag("t", argc, argv, &i, &c), 0); /* --keys is not --key */
  i = 7;
  CHECK_EQ_INT(cli_conn_flag("t", argc, argv, &i, &c), -1); /* value missing */
  unsetenv("FOLIO_ADDR");
  cli_conn_init(&c);
  CHECK_EQ_STR(c.addr, "127.0.0.1:50051");
}

static void test_exit_codes(void) {
  static const struct {
    grpc_status_code code;
    bool io;
    int want;
  } cases[] = {
      {GRPC_STATUS_INVALID_ARGUMENT, false, 3}, {GRPC_STATUS_FAILED_PRECONDITION, false, 3},
      {GRPC_STATUS_OUT_OF_RANGE, false, 3},     {GRPC_STATUS_NOT_FOUND, false, 6},
      {GRPC_STATUS_UNAUTHENTICATED, false, 7},  {GRPC_STATUS_PERMISSION_DENIED, false, 7},
      {GRPC_STATUS_UNAVAILABLE, false, 8},      {GRPC_STATUS_DEADLINE_EXCEEDED, false, 8},
      {GRPC_STATUS_RESOURCE_EXHAUSTED, false, 8}, {GRPC_STATUS_DATA_LOSS, false, 5},
      {GRPC_STATUS_UNKNOWN, true, 5},           {GRPC_STATUS_INTERNAL, false, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    struct folio_client_error e = {.code = cases[i].code, .local_io = cases[i].io};
    CHECK_MSG(cli_exit_code(&e) == cases[i].want, "case %zu", i);
  }
  CHECK_EQ_INT(cli_state_exit(FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED), 0);
  CHECK_EQ_INT(cli_state_exit(FOLIO__V1__JOB_STATE__JOB_STATE_FAILED), 4);
  CHECK_EQ_INT(cli_state_exit(FOLIO__V1__JOB_STATE__JOB_STATE_CANCELED), 4);
  CHECK_EQ_INT(cli_state_exit(FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING), -1);
  CHECK_EQ_STR(cli_state_name(FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED), "QUEUED");
}

static void test_bar(void) {
  char b[256];
  cli_bar(b, sizeof b, 40, 0.5, "job", "RUNNING");
  CHECK_EQ_INT((int)strlen(b), 40);
  CHECK(strncmp(b, "job [", 5) == 0);
  CHECK(strstr(b, " 50% RUNNING") != NULL);
  size_t hashes = 0, dots = 0;
  for (char *p = b; *p; p++) hashes += *p == '#', dots += *p == '.';
  CHECK(hashes > 0 && hashes + 1 >= dots && dots + 1 >= hashes); /* half full */
  cli_bar(b, sizeof b, 40, 1.7, "job", "");
  CHECK(strstr(b, "100%") != NULL && strchr(b, '.') == NULL);
  cli_bar(b, sizeof b, 40, -1, "x", "");
  CHECK(strchr(b, '%') == NULL && strchr(b, '#') == NULL);
  /* long label and suffix are cut, the width holds */
  cli_bar(b, sizeof b, 30, 0.25, "a-very-long-label-that-does-not-fit", "and a suffix that is long too");
  CHECK_EQ_INT((int)strlen(b), 30);
  /* a small buffer is never overrun */
  char s[16];
  cli_bar(s, sizeof s, 80, 0.5, "label", "suffix");
  CHECK(strlen(s) < sizeof s);
  /* not a terminal: plain lines, only on change */
  FILE *f = tmpfile();
  struct cli_progress p;
  cli_progress_init(&p, f);
  CHECK(!p.tty);
  cli_progress_show(&p, 0, "j", "QUEUED", "j QUEUED 0%");
  cli_progress_show(&p, 0, "j", "QUEUED", "j QUEUED 0%");
  cli_progress_show(&p, 0.5, "j", "RUNNING", "j RUNNING 50%");
  cli_progress_done(&p);
  rewind(f);
  char out[128] = "";
  size_t n = fread(out, 1, sizeof out - 1, f);
  out[n] = '\0';
  CHECK_EQ_STR(out, "j QUEUED 0%\nj RUNNING 50%\n");
  fclose(f);
}

static void sha_hex(const void *d, size_t n, char out[65]) {
  unsigned char h[32];
  crypto_hash_sha256(h, d, n);
  sodium_bin2hex(out, 65, h, 32);
}

static void put(const char *path, const void *d, size_t n) {
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(d, 1, n, f) == n);
  if (f) fclose(f);
}

/* Finishes a plan with the rest of the artifact and returns whether the
 * resulting hash matches the whole artifact's. */
static bool finish_matches(struct folio_client_resume *plan, const unsigned char *all, size_t n,
                           const char *want) {
  crypto_hash_sha256_state *h = (crypto_hash_sha256_state *)(void *)&plan->state;
  crypto_hash_sha256_update(h, all + plan->offset, n - plan->offset);
  unsigned char d[32];
  char hex[65];
  crypto_hash_sha256_final(h, d);
  sodium_bin2hex(hex, sizeof hex, d, sizeof d);
  return !strcmp(hex, want);
}

static void test_resume(void) {
  char dir[] = "/tmp/folio-cli-unit-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[128];
  snprintf(path, sizeof path, "%s/a.bin", dir);
  enum { N = 200000 };
  unsigned char *all = malloc(N);
  for (size_t i = 0; i < N; i++) all[i] = (unsigned char)(i * 7 + (i >> 9));
  char want[65];
  sha_hex(all, N, want);
  struct folio_client_resume plan;
  struct folio_client_error err;

  /* no file: created, start at 0 */
  int fd = folio_client_resume_plan(path, N, want, &plan, &err);
  CHECK(fd >= 0 && plan.offset == 0 && !plan.complete && !plan.restarted);
  CHECK(finish_matches(&plan, all, N, want));
  close(fd);

  /* a prefix: resume after it; the hash covers prefix + rest */
  put(path, all, 123457);
  fd = folio_client_resume_plan(path, N, want, &plan, &err);
  CHECK(fd >= 0 && plan.offset == 123457 && !plan.complete && !plan.restarted);
  CHECK(lseek(fd, 0, SEEK_CUR) == 123457); /* positioned to append */
  CHECK(finish_matches(&plan, all, N, want));
  close(fd);

  /* the whole file, correct: nothing to fetch */
  put(path, all, N);
  fd = folio_client_resume_plan(path, N, want, &plan, &err);
  CHECK(fd >= 0 && plan.complete && plan.offset == N);
  close(fd);

  /* the whole size, wrong bytes: truncated, start over */
  all[5] ^= 1;
  put(path, all, N);
  all[5] ^= 1;
  fd = folio_client_resume_plan(path, N, want, &plan, &err);
  CHECK(fd >= 0 && !plan.complete && plan.restarted && plan.offset == 0);
  CHECK(lseek(fd, 0, SEEK_END) == 0);
  CHECK(finish_matches(&plan, all, N, want));
  close(fd);

  /* longer than the artifact: start over */
  put(path, all, N);
  fd = folio_client_resume_plan(path, N - 10, NULL, &plan, &err);
  CHECK(fd >= 0 && plan.restarted && plan.offset == 0);
  close(fd);

  /* full size but no expected hash: re-fetched rather than trusted */
  put(path, all, N);
  fd = folio_client_resume_plan(path, N, NULL, &plan, &err);
  CHECK(fd >= 0 && !plan.complete && plan.restarted);
  close(fd);

  /* an unwritable place: an I/O error naming the path */
  char bad[160];
  snprintf(bad, sizeof bad, "%s/missing-dir/x", dir);
  CHECK(folio_client_resume_plan(bad, N, want, &plan, &err) == -1);
  CHECK(err.local_io && strstr(err.message, "missing-dir") != NULL);
  CHECK_EQ_INT(cli_exit_code(&err), FOLIO_EXIT_IO);

  unlink(path);
  rmdir(dir);
  free(all);
}

int main(void) {
  CHECK(sodium_init() >= 0);
  test_durations();
  test_formats();
  test_flags();
  test_exit_codes();
  test_bar();
  test_resume();
  return check_done();
}
