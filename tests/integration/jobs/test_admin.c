/* folio_jobs_admin_main: the migrate and apikey subcommands as folio-server
 * will expose them, against a real PostgreSQL. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_run.h"
#include "pgtest.h"


int main(void) {
  pgtest_url();
  CHECK_EQ_INT(admin_run("migrate", NULL), 0);
  char every[64]; /* a fresh database gets every migration */
  snprintf(every, sizeof every, "applied %d migration(s)", folio_jobs_schema_count());
  CHECK_MSG(strstr(admin_out, every) != NULL, "%s", admin_out);
  CHECK_EQ_INT(admin_run("migrate", NULL), 0);
  CHECK(strstr(admin_out, "applied 0 migration(s)") != NULL);

  unsetenv("FOLIO_API_KEY_PEPPER");
  CHECK_EQ_INT(admin_run("apikey", "create", "--tenant", "acme", NULL), 1);
  CHECK(strstr(admin_err, "FOLIO_API_KEY_PEPPER") != NULL && strstr(admin_err, "unset") != NULL);
  setenv("FOLIO_API_KEY_PEPPER", "short", 1);
  CHECK_EQ_INT(admin_run("apikey", "create", "--tenant", "acme", NULL), 1);
  CHECK(strstr(admin_err, "short") == NULL); /* the secret is never echoed */
  setenv("FOLIO_API_KEY_PEPPER", "a-pepper-of-thirty-two-bytes-123", 1);
  CHECK_EQ_INT(admin_run("apikey", "create", "--tenant", "acme", NULL), 0);
  char key[FOLIO_APIKEY_LEN + 2];
  snprintf(key, sizeof key, "%.*s", FOLIO_APIKEY_LEN + 1, admin_out);
  key[strcspn(key, "\n")] = '\0';
  CHECK_EQ_INT(strlen(key), FOLIO_APIKEY_LEN);
  CHECK(strstr(admin_err, "only this once") != NULL && strstr(admin_err, key) == NULL);

  struct folio_pg_conn *c = pgtest_jobs();
  uint8_t pepper[FOLIO_APIKEY_PEPPER_MAX];
  size_t plen;
  CHECK_EQ_INT(folio_jobs_pepper_from_env(pepper, &plen, NULL), 0);
  char tenant[129];
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, key, pepper, plen, tenant, sizeof tenant, NULL), 0);
  CHECK_EQ_STR(tenant, "acme");

  CHECK_EQ_INT(admin_run("apikey", "revoke", key, "--tenant", "other", NULL), 1);
  CHECK(strstr(admin_err, "no active API key") != NULL);
  CHECK_EQ_INT(admin_run("apikey", "revoke", key, NULL), 0);
  CHECK_EQ_INT(folio_jobs_apikey_verify(c, key, pepper, plen, tenant, sizeof tenant, NULL),
               FOLIO_JOBS_EAUTH);
  CHECK_EQ_INT(admin_run("apikey", "revoke", "garbage", NULL), 2);
  CHECK_EQ_INT(admin_run("apikey", "create", NULL), 2);
  CHECK_EQ_INT(admin_run("frobnicate", NULL), 2);
  CHECK(strstr(admin_err, "usage") != NULL);
  folio_pg_conn_close(c);
  return check_done();
}
