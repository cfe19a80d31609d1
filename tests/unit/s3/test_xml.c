/* The S3 reply reader: real reply shapes (AWS and RGW, including RGW's empty
 * <ETag> in CompleteMultipartUploadResult) and a table of malformed inputs that
 * must each give a clear error, never a crash. */
#include <string.h>

#include "check.h"
#include "xml.h"

static void test_replies(void) {
  char code[64], msg[128], rid[64], err[160];
  struct folio_s3_xml_field f[] = {{"Code", code, sizeof code, 0},
                                   {"Message", msg, sizeof msg, 0},
                                   {"RequestId", rid, sizeof rid, 0}};
  const char *aws =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The resource you requested does not exist &amp; never did &#x263A;</Message>"
      "<Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>";
  CHECK_EQ_INT(folio_s3_xml_parse(aws, strlen(aws), f, 3, err, sizeof err), 0);
  CHECK_EQ_STR(code, "NoSuchKey");
  CHECK_EQ_STR(msg, "The resource you requested does not exist & never did \xe2\x98\xba");
  CHECK_EQ_STR(rid, "4442587FB7D0A2F9");
  CHECK_EQ_INT(f[0].count, 1);
  /* RGW: empty Message, BucketName and HostId extra */
  const char *rgw = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch"
                    "</Code><Message></Message><BucketName>b</BucketName><RequestId>tx0</RequestId>"
                    "<HostId>1-default</HostId></Error>";
  CHECK_EQ_INT(folio_s3_xml_parse(rgw, strlen(rgw), f, 3, err, sizeof err), 0);
  CHECK_EQ_STR(code, "SignatureDoesNotMatch");
  CHECK_EQ_STR(msg, "");
  CHECK_EQ_INT(f[1].count, 1);

  char upload[128];
  struct folio_s3_xml_field u[] = {{"UploadId", upload, sizeof upload, 0}};
  const char *init =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>a b</Key>"
      "<UploadId>2~abc.DEF-_</UploadId></InitiateMultipartUploadResult>";
  CHECK_EQ_INT(folio_s3_xml_parse(init, strlen(init), u, 1, err, sizeof err), 0);
  CHECK_EQ_STR(upload, "2~abc.DEF-_");

  char etag[80];
  struct folio_s3_xml_field e[] = {{"ETag", etag, sizeof etag, 0}};
  const char *complete_rgw =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUploadResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>http://x/b/k</Location>"
      "<Bucket>b</Bucket><Key>k</Key><ETag></ETag></CompleteMultipartUploadResult>";
  CHECK_EQ_INT(folio_s3_xml_parse(complete_rgw, strlen(complete_rgw), e, 1, err, sizeof err), 0);
  CHECK_EQ_INT(e[0].count, 1);
  CHECK_EQ_STR(etag, "");
  const char *complete_aws =
      "<CompleteMultipartUploadResult><ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;"
      "</ETag></CompleteMultipartUploadResult>";
  CHECK_EQ_INT(folio_s3_xml_parse(complete_aws, strlen(complete_aws), e, 1, err, sizeof err), 0);
  CHECK_EQ_STR(etag, "\"3858f62230ac3c915f300c664312c11f-9\"");

  /* ListMultipartUploads: count Upload elements; nested first-occurrence text */
  char key[32];
  struct folio_s3_xml_field l[] = {{"Upload", NULL, 0, 0}, {"Key", key, sizeof key, 0}};
  const char *list =
      "<ListMultipartUploadsResult><Bucket>b</Bucket><Upload><Key>k1</Key><UploadId>1</UploadId>"
      "</Upload><Upload><Key>k2</Key></Upload><s3:Upload/><!-- c --><IsTruncated>false"
      "</IsTruncated></ListMultipartUploadsResult>\n";
  CHECK_EQ_INT(folio_s3_xml_parse(list, strlen(list), l, 2, err, sizeof err), 0);
  CHECK_EQ_INT(l[0].count, 3);
  CHECK_EQ_STR(key, "k1");
  CHECK_EQ_INT(l[1].count, 2);

  /* text longer than the buffer is cut, CDATA is text */
  char small[4];
  struct folio_s3_xml_field s[] = {{"Code", small, sizeof small, 0}};
  const char *cd = "<Error><Code><![CDATA[Slow<Down>]]></Code></Error>";
  CHECK_EQ_INT(folio_s3_xml_parse(cd, strlen(cd), s, 1, err, sizeof err), 0);
  CHECK_EQ_STR(small, "Slo");
}

static void test_malformed(void) {
  static const struct {
    const char *doc, *want;
  } bad[] = {
      {"", "no root element"},
      {"   ", "no root element"},
      {"<Error><Code>x</Code>", "ends inside <Error>"},
      {"<Error><Code>x</Error></Code>", "does not match"},
      {"</Error>", "without a start tag"},
      {"<Error>x</Error><Error/>", "after the root"},
      {"<Error>x</Error>trailing", "outside the root"},
      {"junk<Error/>", "outside the root"},
      {"<Error a=b/>", "not quoted"},
      {"<Error a/>", "without '='"},
      {"<Error a=\"x/>", "unterminated attribute"},
      {"<Error", "unterminated start tag"},
      {"<Error><Code>&bogus;</Code></Error>", "unknown entity"},
      {"<Error><Code>&amp</Code></Error>", "entity"},
      {"<Error>&#xD800;</Error>", "invalid character reference"},
      {"<Error>&#1114112;</Error>", "out of range"},
      {"<Error>&#x;</Error>", "empty character reference"},
      {"<Error>&#12a;</Error>", "bad character reference"},
      {"<Error><!-- open </Error>", "unterminated comment"},
      {"<Error><![CDATA[x</Error>", "unterminated CDATA"},
      {"<!DOCTYPE x [<!ENTITY a \"b\">]><Error/>", "DOCTYPE"},
      {"<?xml version=\"1.0\"", "unterminated processing instruction"},
      {"<1Error/>", "expected an element name"},
      {"<Error></ >", "expected an element name"},
      {"<Error></Error", "unterminated end tag"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char code[8], err[160];
    struct folio_s3_xml_field f[] = {{"Code", code, sizeof code, 0}};
    int rc = folio_s3_xml_parse(bad[i].doc, strlen(bad[i].doc), f, 1, err, sizeof err);
    CHECK_MSG(rc == -1, "accepted: %s", bad[i].doc);
    CHECK_MSG(strstr(err, bad[i].want) && strstr(err, "byte "), "%s: error \"%s\" lacks \"%s\"",
              bad[i].doc, err, bad[i].want);
  }
  /* nesting bound, NUL inside text, NULL input, truncation of every prefix */
  char deep[200] = "";
  for (int i = 0; i < 40; i++) strcat(deep, "<a>");
  char err[160];
  CHECK_EQ_INT(folio_s3_xml_parse(deep, strlen(deep), NULL, 0, err, sizeof err), -1);
  CHECK(strstr(err, "deeper"));
  CHECK_EQ_INT(folio_s3_xml_parse("<a>x\0y</a>", 10, NULL, 0, err, sizeof err), -1);
  CHECK(strstr(err, "NUL"));
  CHECK_EQ_INT(folio_s3_xml_parse(NULL, 0, NULL, 0, err, sizeof err), -1);
  const char *doc = "<?xml version=\"1.0\"?><E a='1'><Code>C&amp;D</Code><M><![CDATA[z]]></M></E>";
  size_t n = strlen(doc);
  for (size_t cut = 0; cut < n; cut++) {
    char code[8];
    struct folio_s3_xml_field f[] = {{"Code", code, sizeof code, 0}};
    CHECK_MSG(folio_s3_xml_parse(doc, cut, f, 1, err, sizeof err) == -1, "prefix %zu accepted", cut);
  }
  CHECK_EQ_INT(folio_s3_xml_parse(doc, n, NULL, 0, err, 0), 0);
}

int main(void) {
  test_replies();
  test_malformed();
  return check_done();
}
