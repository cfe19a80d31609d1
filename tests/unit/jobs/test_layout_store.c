/* The stored form of a layout (folio/layout_store.h): zstd round trip, plain
 * when zstd cannot shrink it, and every way a stored frame is refused —
 * over the budget by its declared size (a real bomb and a crafted header),
 * larger than it declares, truncated, trailing bytes, no declared size, an
 * unknown codec. No database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/jobs.h"
#include "folio/layout_store.h"

/* A catalogue-like layout of about n bytes: JSON that compresses well. */
static char *catalogue(size_t n) {
  char *s = malloc(n + 512);
  size_t p = (size_t)sprintf(s, "{\"version\":1,\"pages\":[{\"items\":[");
  for (int i = 0; p < n; i++)
    p += (size_t)sprintf(s + p, "%s{\"type\":\"text\",\"x\":%d,\"y\":%d,\"w\":100,\"h\":14,"
                                "\"text\":\"Garden chair %d, oak and linen, %d.%02d EUR\"}",
                         i ? "," : "", 20 + i % 7, 30 + i % 11, i, i % 997, i % 100);
  sprintf(s + p, "]}]}");
  return s;
}

static int unpack(const uint8_t *data, size_t len, int codec, size_t max, struct folio_arena *a,
                  struct folio_pg_diag *d) {
  const uint8_t *json;
  size_t n;
  return folio_jobs_layout_unpack(data, len, codec, max, a, &json, &n, d);
}

static void test_round_trip(struct folio_arena *a) {
  char *json = catalogue(47000);
  size_t len = strlen(json);
  size_t cap = folio_jobs_layout_pack_bound(len);
  uint8_t *buf = malloc(cap);
  struct folio_jobs_stored_layout st;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_jobs_layout_pack((const uint8_t *)json, len, 0, buf, cap, &st, &d), 0);
  CHECK_EQ_INT(st.codec, FOLIO_JOBS_LAYOUT_ZSTD);
  CHECK(st.data == buf);
  CHECK_MSG(st.len * 4 < len, "stored %zu of %zu bytes", st.len, len);
  const uint8_t *out;
  size_t n;
  CHECK_EQ_INT(folio_jobs_layout_unpack(st.data, st.len, st.codec, len, a, &out, &n, &d), 0);
  CHECK_EQ_INT(n, len);
  CHECK(memcmp(out, json, len) == 0);
  CHECK_EQ_INT(out[n], '\0');
  /* exactly at the budget is fine, one byte under is refused by the header */
  CHECK_EQ_INT(unpack(st.data, st.len, st.codec, len - 1, a, &d), FOLIO_JOBS_ESTORED);
  CHECK_MSG(strstr(d.msg, "over the layout limit"), "%s", d.msg);
  /* a buffer under the bound is the caller's mistake */
  CHECK_EQ_INT(folio_jobs_layout_pack((const uint8_t *)json, len, 0, buf, 10, &st, &d),
               FOLIO_JOBS_EINVAL);
  /* plain rows (before migration 0008) come back as they are, not copied */
  CHECK_EQ_INT(folio_jobs_layout_unpack((const uint8_t *)json, len, FOLIO_JOBS_LAYOUT_PLAIN, 1, a,
                                        &out, &n, &d),
               0);
  CHECK(out == (const uint8_t *)json && n == len);
  free(buf);
  free(json);
}

static void test_incompressible(void) {
  /* "{}" and random bytes: a zstd frame would be longer, so they stay plain */
  const uint8_t tiny[] = "{}";
  uint8_t buf[128];
  struct folio_jobs_stored_layout st;
  CHECK_EQ_INT(folio_jobs_layout_pack(tiny, 2, 0, buf, sizeof buf, &st, NULL), 0);
  CHECK_EQ_INT(st.codec, FOLIO_JOBS_LAYOUT_PLAIN);
  CHECK(st.data == tiny && st.len == 2);
  uint8_t noise[4096];
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < sizeof noise; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    noise[i] = (uint8_t)x;
  }
  size_t cap = folio_jobs_layout_pack_bound(sizeof noise);
  uint8_t *b = malloc(cap);
  CHECK_EQ_INT(folio_jobs_layout_pack(noise, sizeof noise, 0, b, cap, &st, NULL), 0);
  CHECK_EQ_INT(st.codec, FOLIO_JOBS_LAYOUT_PLAIN);
  free(b);
}

static void test_refusals(struct folio_arena *a) {
  struct folio_pg_diag d;
  /* a real bomb: 40 MiB of zeros is a frame of a few KB; a 32 MiB budget
   * refuses it by its declared size, before allocating anything */
  size_t big = 40u << 20;
  uint8_t *zeros = calloc(1, big);
  size_t cap = folio_jobs_layout_pack_bound(big);
  uint8_t *buf = malloc(cap);
  struct folio_jobs_stored_layout st;
  CHECK_EQ_INT(folio_jobs_layout_pack(zeros, big, 0, buf, cap, &st, &d), 0);
  CHECK_EQ_INT(st.codec, FOLIO_JOBS_LAYOUT_ZSTD);
  CHECK(st.len < 64 * 1024);
  CHECK_EQ_INT(unpack(st.data, st.len, st.codec, 32u << 20, a, &d), FOLIO_JOBS_ESTORED);
  CHECK_MSG(strstr(d.msg, "declares 41943040 bytes") && strstr(d.msg, "33554432"), "%s", d.msg);
  free(buf);
  free(zeros);

  /* crafted frames (RFC 8878): magic, frame header descriptor, [window
   * descriptor], frame content size, then blocks (3-byte header:
   * last | type << 1 | size << 3; type 1 = RLE, one byte repeated size times) */
  /* declares 1 GiB (8-byte size, single segment) and holds one RLE byte */
  static const uint8_t gib[] = {0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0x40, 0, 0, 0, 0,
                                0x0b, 0x00, 0x00, 'x'};
  CHECK_EQ_INT(unpack(gib, sizeof gib, FOLIO_JOBS_LAYOUT_ZSTD, 32u << 20, a, &d), FOLIO_JOBS_ESTORED);
  CHECK_MSG(strstr(d.msg, "declares 1073741824 bytes"), "%s", d.msg);
  /* declares 300 bytes (2-byte size: 256 + 44, 1 KiB window) but its RLE
   * block expands to 500: the decompression stops at the buffer's end */
  static const uint8_t liar[] = {0x28, 0xb5, 0x2f, 0xfd, 0x40, 0x00, 44, 0x00, 0xa3, 0x0f, 0x00, 'x'};
  CHECK_EQ_INT(unpack(liar, sizeof liar, FOLIO_JOBS_LAYOUT_ZSTD, 1000, a, &d), FOLIO_JOBS_ESTORED);
  CHECK_MSG(strstr(d.msg, "corrupt zstd frame"), "%s", d.msg);
  /* the same lie in a single-segment frame is refused by its structure */
  static const uint8_t liar1[] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 10, 0x23, 0x03, 0x00, 'x'};
  CHECK_EQ_INT(unpack(liar1, sizeof liar1, FOLIO_JOBS_LAYOUT_ZSTD, 1000, a, &d),
               FOLIO_JOBS_ESTORED);
  /* the honest version of it decodes: declares 100, holds 100 */
  static const uint8_t honest[] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 100, 0x23, 0x03, 0x00, 'x'};
  const uint8_t *out;
  size_t n;
  CHECK_EQ_INT(folio_jobs_layout_unpack(honest, sizeof honest, FOLIO_JOBS_LAYOUT_ZSTD, 100, a, &out,
                                        &n, &d),
               0);
  CHECK(n == 100 && out[0] == 'x' && out[99] == 'x' && out[100] == '\0');
  /* truncated, trailing bytes */
  CHECK_EQ_INT(unpack(honest, sizeof honest - 1, FOLIO_JOBS_LAYOUT_ZSTD, 1000, a, &d),
               FOLIO_JOBS_ESTORED);
  CHECK_MSG(strstr(d.msg, "not one complete zstd frame"), "%s", d.msg);
  uint8_t trail[sizeof honest + 1];
  memcpy(trail, honest, sizeof honest);
  trail[sizeof honest] = 0;
  CHECK_EQ_INT(unpack(trail, sizeof trail, FOLIO_JOBS_LAYOUT_ZSTD, 1000, a, &d), FOLIO_JOBS_ESTORED);
  CHECK_MSG(strstr(d.msg, "trailing bytes"), "%s", d.msg);
  /* no declared size (window descriptor instead, not single segment) */
  static const uint8_t nosize[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x2b, 0x00, 0x00, 'x'};
  CHECK_EQ_INT(unpack(nosize, sizeof nosize, FOLIO_JOBS_LAYOUT_ZSTD, 1000, a, &d),
               FOLIO_JOBS_ESTORED);
  CHECK_MSG(strstr(d.msg, "does not declare its size"), "%s", d.msg);
  /* not zstd at all; an unknown codec */
  CHECK_EQ_INT(unpack((const uint8_t *)"{\"pages\":[]}", 12, FOLIO_JOBS_LAYOUT_ZSTD, 1000, a, &d),
               FOLIO_JOBS_ESTORED);
  CHECK_EQ_INT(unpack(honest, sizeof honest, 7, 1000, a, &d), FOLIO_JOBS_ESTORED);
  CHECK_MSG(strstr(d.msg, "unknown codec 7"), "%s", d.msg);
  CHECK_EQ_STR(folio_jobs_strerror(FOLIO_JOBS_ESTORED), "the stored layout cannot be read");
}

int main(void) {
  struct folio_arena *a = folio_arena_create(0);
  test_round_trip(a);
  test_incompressible();
  test_refusals(a);
  folio_arena_destroy(a);
  printf("layout store: round trip, plain fallback, 10 refusals\n");
  return 0;
}
