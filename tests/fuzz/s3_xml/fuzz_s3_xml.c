/* libFuzzer target for the S3 reply reader (lib/s3/xml.c): any bytes give 0 or
 * -1 with a NUL-terminated error naming a byte offset, never a crash, an
 * out-of-bounds read or write (small output buffers catch truncation bugs) or
 * undefined behaviour. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* an exact-size copy so ASan sees any read past the end */
  char *doc = malloc(size ? size : 1);
  if (size) memcpy(doc, data, size);
  char code[8], msg[3], id[64], etag[1], err[96];
  struct folio_s3_xml_field f[] = {{"Code", code, sizeof code, 0},
                                   {"Message", msg, sizeof msg, 0},
                                   {"UploadId", id, sizeof id, 0},
                                   {"ETag", etag, sizeof etag, 0},
                                   {"Upload", NULL, 0, 0}};
  int rc = folio_s3_xml_parse(doc, size, f, 5, err, sizeof err);
  if (rc != 0 && rc != -1) abort();
  if (rc == -1 && (strlen(err) >= sizeof err || !strstr(err, "byte "))) abort();
  for (size_t i = 0; i < 4; i++)
    if (f[i].out && strlen(f[i].out) >= f[i].cap) abort();
  free(doc);
  return 0;
}
