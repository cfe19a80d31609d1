/* folio_s3_presign_get (pure): AWS's published presigned-URL example through the
 * public API, the public endpoint, response-content-disposition, addressing
 * styles, and clear errors for bad configuration (folio_s3_config_from_env). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/s3.h"

int main(void) {
  char err[256];
  /* "Authenticating Requests: Using Query Parameters", S3 API reference */
  struct folio_s3_config aws = {.endpoint = "https://s3.amazonaws.com",
                                .region = "us-east-1",
                                .bucket = "examplebucket",
                                .access_key = "AKIAIOSFODNN7EXAMPLE",
                                .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                .addressing = FOLIO_S3_VIRTUAL_HOSTED};
  char *url = folio_s3_presign_get(&aws, "test.txt", 86400, NULL, 1369353600, err, sizeof err);
  CHECK_MSG(url, "%s", err);
  CHECK_EQ_STR(url,
               "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
               "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&"
               "X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"
               "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  free(url);

  /* internal endpoint for the server, public one for clients */
  struct folio_s3_config c = {.endpoint = "http://10.0.0.5:9000",
                              .public_endpoint = "https://files.example.com",
                              .bucket = "folio",
                              .access_key = "AK",
                              .secret_key = "SK"};
  url = folio_s3_presign_get(&c, "jobs/42/a b+c.pdf", 300, "attachment; filename=\"a b.pdf\"",
                             1369353600, err, sizeof err);
  CHECK_MSG(url, "%s", err);
  CHECK(strncmp(url, "https://files.example.com/folio/jobs/42/a%20b%2Bc.pdf?", 54) == 0);
  CHECK(strstr(url, "&response-content-disposition=attachment%3B%20filename%3D%22a%20b.pdf%22&"));
  CHECK(strstr(url, "X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"));
  CHECK(strstr(url, "X-Amz-Expires=300"));
  free(url);

  /* errors name what is wrong */
  CHECK(!folio_s3_presign_get(&c, "k", 604801, NULL, 0, err, sizeof err));
  CHECK(strstr(err, "604800"));
  CHECK(!folio_s3_presign_get(&c, "", 60, NULL, 0, err, sizeof err));
  CHECK(strstr(err, "key"));
  struct folio_s3_config bad = c;
  bad.endpoint = "ftp://x";
  CHECK(!folio_s3_presign_get(&bad, "k", 60, NULL, 0, err, sizeof err));
  CHECK(strstr(err, "http://"));
  bad = c;
  bad.public_endpoint = "https://host/with/path";
  CHECK(!folio_s3_presign_get(&bad, "k", 60, NULL, 0, err, sizeof err));
  CHECK(strstr(err, "without a path"));
  bad = c;
  bad.bucket = "Bad_Bucket";
  CHECK(!folio_s3_presign_get(&bad, "k", 60, NULL, 0, err, sizeof err));
  CHECK(strstr(err, "bucket"));
  bad = c;
  bad.secret_key = "";
  CHECK(!folio_s3_presign_get(&bad, "k", 60, NULL, 0, err, sizeof err));
  CHECK(strstr(err, "secret"));
  bad = c;
  bad.part_size = 1024;
  CHECK(!folio_s3_presign_get(&bad, "k", 60, NULL, 0, err, sizeof err));
  CHECK(strstr(err, "5 MiB"));

  /* configuration from the environment */
  struct folio_s3_config e;
  unsetenv("FOLIO_S3_ENDPOINT");
  CHECK_EQ_INT(folio_s3_config_from_env(&e, err, sizeof err), FOLIO_S3_EINVAL);
  CHECK(strstr(err, "FOLIO_S3_ENDPOINT"));
  setenv("FOLIO_S3_ENDPOINT", "http://127.0.0.1:9000", 1);
  setenv("FOLIO_S3_BUCKET", "folio-test", 1);
  setenv("FOLIO_S3_ACCESS_KEY", "a", 1);
  setenv("FOLIO_S3_SECRET_KEY", "s", 1);
  setenv("FOLIO_S3_ADDRESSING", "sideways", 1);
  CHECK_EQ_INT(folio_s3_config_from_env(&e, err, sizeof err), FOLIO_S3_EINVAL);
  CHECK(strstr(err, "FOLIO_S3_ADDRESSING"));
  setenv("FOLIO_S3_ADDRESSING", "virtual", 1);
  setenv("FOLIO_S3_PUBLIC_ENDPOINT", "https://cdn.example.com", 1);
  CHECK_EQ_INT(folio_s3_config_from_env(&e, err, sizeof err), 0);
  CHECK_EQ_INT(e.addressing, FOLIO_S3_VIRTUAL_HOSTED);
  CHECK_EQ_STR(e.region, "us-east-1");
  CHECK_EQ_STR(e.public_endpoint, "https://cdn.example.com");
  CHECK_EQ_STR(folio_s3_strerror(FOLIO_S3_EHTTP), "EHTTP");
  return check_done();
}
