/* folio_jobs_admin_main: the migrate and apikey subcommands as folio-server
 * will expose them, against a real PostgreSQL. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pgtest.h"

static char out_buf[4096], err_buf[4096];

/* run("migrate", NULL): argv as main() would get it (writable strings). */
static int run(const char *first, ...) {
  static char store[8][128];
  char *argv[8];
  int argc = 0;
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a && argc < 8; a = va_arg(ap, const char *)) {
    snprintf(store[argc], sizeof store[argc], "%s", a);
    argv[argc] = store[argc];
    argc++;
  }
  va_end(ap);
  FILE *out = tmpfile(), *err = tmpfile();
  CHECK(out && err);
  int rc = folio_jobs_admin_main(argc, argv, out, err);
  rewind(out);
  rewind(err);
  size_t n = fread(out_buf, 1, sizeof out_buf - 1, out);
  out_buf[n] = '\0';
  n = fread(err_buf, 1, sizeof err_buf - 1, err);
  err_buf[n] = '\0';
  fclose(out);
  fclose(err);
  return rc;
}

int main(void) {
  pgtest_url();
  CHECK_EQ_INT(run("migrate", NULL), 0);
  char every[64]; /* a fresh database gets every migration */
  snprintf(every, sizeof every, "applied %d migration(s)", folio_jobs_schema_version());
  CHECK_MSG(strstr(out_buf, every) != NULL, "%s", out_buf);
  CHECK_EQ_INT(run("migrate", NULL), 0);
  CHECK(strstr(out_buf, "applied 0 migration(s)") != NULL);

  unsetenv("FOLIO_API_KEY_PEPPER");
  CHECK_EQ_INT(run("apikey", "create", "--tenant", "acme", NULL), 1);
  CHECK(strstr(err_buf, "FOLIO_API_KEY_PEPPER") != NULL && strstr(err_buf, "unset") != NULL);
  setenv("FOLIO_API_KEY_PEPPER", "short", 1);
  CHECK_EQ_INT(run("apikey", "create", "--tenant", "acme", NULL), 1);
  CHECK(strstr(err_buf, "short") == NULL); /* the secret is never echoed */
  setenv("FOLIO_API_KEY_PEPPER", "a-pepper-of-thirty-two-bytes-123", 1);
  CHECK_EQ_INT(run("apikey", "create", "--tenant", "acme", NULL), 0);
  char key[FOLIO_APIKEY_LEN + 2];
  snprintf(key, sizeof key, "%.*s", FOLIO_APIKEY_LEN + 1, out_buf);
  key[strcspn(key, "\n")] = '\0';
  CHECK_EQ_INT(strlen(key), FOLIO_APIKEY_LEN);
  CHECK(strstr(err_buf, "only this once") != NULL && strstr(err_buf, key) == NULL);

  struct folio_pg_conn *c = pgtest_jobs();
  uint8_t pepper[FOLIO_APIKEY_PEPPER_MAX];
  size_t plen;
  CHECK_EQ_INT(folio_jobs_pepper_from_env(pepper, &plen, NULL), 0);
  char tenant[129];
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, key, pepper, plen, tenant, sizeof tenant, NULL), 0);
  CHECK_EQ_STR(tenant, "acme");

  CHECK_EQ_INT(run("apikey", "revoke", key, "--tenant", "other", NULL), 1);
  CHECK(strstr(err_buf, "no active API key") != NULL);
  CHECK_EQ_INT(run("apikey", "revoke", key, NULL), 0);
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, key, pepper, plen, tenant, sizeof tenant, NULL),
               FOLIO_JOBS_EAUTH);
  CHECK_EQ_INT(run("apikey", "revoke", "garbage", NULL), 2);
  CHECK_EQ_INT(run("apikey", "create", NULL), 2);
  CHECK_EQ_INT(run("frobnicate", NULL), 2);
  CHECK(strstr(err_buf, "usage") != NULL);
  folio_pg_conn_close(c);
  return check_done();
}
