/* UUIDv7 (RFC 9562 section 5.7): ids for jobs and API keys. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "folio/clock.h"
#include "jobs_int.h"

void folio_uuid7_from(int64_t unix_ms, const uint8_t rnd[10], char out[FOLIO_UUID_STR_LEN + 1]) {
  uint8_t b[16];
  uint64_t ms = (uint64_t)unix_ms & 0xffffffffffffull;
  for (int i = 0; i < 6; i++) b[i] = (uint8_t)(ms >> (40 - 8 * i));
  memcpy(b + 6, rnd, 10);
  b[6] = (uint8_t)(0x70 | (b[6] & 0x0f)); /* version 7 */
  b[8] = (uint8_t)(0x80 | (b[8] & 0x3f)); /* variant 10 */
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = '\0';
}

void folio_uuid7(char out[FOLIO_UUID_STR_LEN + 1]) {
  if (sodium_init() < 0) abort(); /* no CSPRNG: nothing safe to do */
  uint8_t rnd[10];
  randombytes_buf(rnd, sizeof rnd);
  folio_uuid7_from(folio_clock_real_ns() / 1000000, rnd, out);
}

bool folio_uuid_valid(const char *s) {
  if (!s) return false;
  for (int i = 0; i < FOLIO_UUID_STR_LEN; i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return s[FOLIO_UUID_STR_LEN] == '\0';
}
