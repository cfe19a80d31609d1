/* Unit tests of lib/layout/image.c (private API from layout_int.h): base64
 * decoding, and the header reading that must reject a decompression bomb
 * before any decoder runs. Plus concurrent decoding (the decoder is reentrant). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "bombs.h"
#include "folio/image.h"
#include "layout_int.h"

static void test_b64(void) {
  unsigned char out[64];
  CHECK_EQ_INT(folio_b64_decode("", 0, out), 0);
  CHECK_EQ_INT(folio_b64_decode("Zm9v", 4, out), 3);
  CHECK(memcmp(out, "foo", 3) == 0);
  CHECK_EQ_INT(folio_b64_decode("Zm9vYg==", 8, out), 4);
  CHECK(memcmp(out, "foob", 4) == 0);
  CHECK_EQ_INT(folio_b64_decode("Zm9vYmE=", 8, out), 5);
  CHECK(memcmp(out, "fooba", 5) == 0);
  CHECK_EQ_INT(folio_b64_decode("+/+/", 4, out), 3);
  CHECK(out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf);
  CHECK_EQ_INT(folio_b64_decode("Zm9", 3, out), -1);       /* not a multiple of 4 */
  CHECK_EQ_INT(folio_b64_decode("Zm 9", 4, out), -1);      /* whitespace */
  CHECK_EQ_INT(folio_b64_decode("Z===", 4, out), -1);      /* too much padding */
  CHECK_EQ_INT(folio_b64_decode("Zg==Zm9v", 8, out), -1);  /* padding inside */
  CHECK_EQ_INT(folio_b64_decode("Zm9-", 4, out), -1);      /* URL alphabet */
  CHECK_EQ_INT(folio_b64_decode("Zm9v\xff\xff\xff\xff", 8, out), -1);
}

static int check(enum folio_asset_type t, const unsigned char *d, size_t n, uint64_t cap,
                 const char **why, bool *big) {
  uint32_t w = 0, h = 0;
  static char buf[160];
  return folio_image_check(t, d, n, cap, &w, &h, why, buf, big);
}

static void test_headers(void) {
  const char *why;
  bool big;
  /* JPEG: SOI, an APP0 segment, fill bytes, then SOF0 claiming 60000 x 60000. */
  static const unsigned char bomb[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00,
                                       0xFF, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0xEA, 0x60,
                                       0xEA, 0x60, 0x01, 0x01, 0x11, 0x00};
  CHECK_EQ_INT(check(FOLIO_ASSET_JPEG, bomb, sizeof bomb, 50000000, &why, &big), -1);
  CHECK_MSG(big && strstr(why, "60000x60000 = 3600000000 pixels"), "%s", why);
  /* the same header under a generous cap: the side limit */
  CHECK_EQ_INT(check(FOLIO_ASSET_JPEG, bomb, sizeof bomb, UINT64_MAX, &why, &big), -1);
  CHECK_MSG(big && strstr(why, "at most 32767"), "%s", why);
  /* a small header passes the caps and then fails to decode (no tables, no scan) */
  unsigned char small[sizeof bomb];
  memcpy(small, bomb, sizeof bomb);
  small[14] = 0, small[15] = 8, small[16] = 0, small[17] = 8;
  CHECK_EQ_INT(check(FOLIO_ASSET_JPEG, small, sizeof small, 50000000, &why, &big), -1);
  CHECK_MSG(!big && strstr(why, "JPEG does not decode"), "%s", why);
  /* SOS before any SOF; DHT (0xC4) is not a frame header */
  static const unsigned char nosof[] = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x02, 0xFF, 0xDA, 0x00, 0x02};
  CHECK_EQ_INT(check(FOLIO_ASSET_JPEG, nosof, sizeof nosof, 50000000, &why, &big), -1);
  CHECK_MSG(strstr(why, "no frame header"), "%s", why);
  static const unsigned char trunc[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x01, 0x00};
  CHECK_EQ_INT(check(FOLIO_ASSET_JPEG, trunc, sizeof trunc, 50000000, &why, &big), -1);
  CHECK_MSG(strstr(why, "truncated"), "%s", why);
  CHECK_EQ_INT(check(FOLIO_ASSET_JPEG, (const unsigned char *)"\x89PNG", 4, 1, &why, &big), -1);
  CHECK_MSG(strstr(why, "not a JPEG"), "%s", why);

  /* PNG: signature + IHDR claiming 2^31 x 2 (CRC is not even read). */
  static const unsigned char png[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                        'I', 'H', 'D', 'R', 0x80, 0, 0, 0, 0, 0, 0, 2, 8, 2};
  CHECK_EQ_INT(check(FOLIO_ASSET_PNG, png, sizeof png, 50000000, &why, &big), -1);
  CHECK_MSG(big && strstr(why, "2147483648x2"), "%s", why);
  CHECK_EQ_INT(check(FOLIO_ASSET_PNG, png, 20, 50000000, &why, &big), -1);
  CHECK_MSG(strstr(why, "no IHDR"), "%s", why);
  unsigned char zero[33];
  memcpy(zero, png, sizeof zero);
  memset(zero + 16, 0, 4);
  CHECK_EQ_INT(check(FOLIO_ASSET_PNG, zero, sizeof zero, 50000000, &why, &big), -1);
  CHECK_MSG(strstr(why, "zero width"), "%s", why);
  /* header fine, small, but no image data: libpng reports it */
  unsigned char tiny[33];
  memcpy(tiny, png, sizeof tiny);
  tiny[16] = 0, tiny[19] = 4;
  CHECK_EQ_INT(check(FOLIO_ASSET_PNG, tiny, sizeof tiny, 50000000, &why, &big), -1);
  CHECK_MSG(!big && strstr(why, "PNG does not decode"), "%s", why);
}

/* The decoder is reentrant: four threads decode the same document at once. */
static const char DOC[] =
    "{\"version\":1,\"colors\":{\"c\":\"#102030\"},\"styles\":{\"s\":{\"color\":\"c\"}},"
    "\"pages\":[{\"items\":[{\"type\":\"text\",\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"style\":\"s\","
    "\"text\":\"1.5e3 \\u00e9\"},{\"type\":\"line\",\"x1\":0.1,\"y1\":1e-3,\"x2\":3,\"y2\":4}]}]}";

static void *worker(void *arg) {
  for (int i = 0; i < 200; i++) {
    struct folio_layout_doc *doc;
    if (folio_layout_decode(DOC, sizeof DOC - 1, NULL, &doc, NULL) != 0) return arg;
    int ok = doc->pages[0].items[0].u.text.runs[0].style.color == &doc->colors[0] &&
             doc->pages[0].items[1].u.line.x1 == 0.1;
    folio_layout_doc_free(doc);
    if (!ok) return arg;
  }
  return NULL;
}

static void test_threads(void) {
  pthread_t t[4];
  int tag = 1;
  for (int i = 0; i < 4; i++) CHECK_EQ_INT(pthread_create(&t[i], NULL, worker, &tag), 0);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    CHECK_MSG(r == NULL, "thread %d decoded a wrong model", i);
  }
}

static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Trial decode under the default limits; returns rc, fills r. */
static int trial(enum folio_asset_type t, const unsigned char *d, size_t n, struct folio_image_result *r) {
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  uint32_t w, h;
  int rc = folio_image_header(t, d, n, &lim, &w, &h, r);
  return rc ? rc : folio_image_trial(t, d, n, &lim, r);
}

/* Inflation is bounded by the rows: 4 GiB of zeros after the last row of a
 * 1x1 image (4 MB of deflate) are refused without being inflated, and 16
 * zTXt chunks of 64 MiB each are skipped unread. Inflating them takes seconds
 * of CPU; refusing or skipping them, milliseconds. */
static void test_inflate_bombs(void) {
  struct folio_image_result r;
  size_t n;
  unsigned char *p = bomb_png(1, 1, 4096, 0, 0, &n);
  CHECK_MSG(n < (8u << 20), "bomb is %zu bytes", n);
  double t0 = cpu_s();
  CHECK_EQ_INT(trial(FOLIO_ASSET_PNG, p, n, &r), -1);
  double t1 = cpu_s();
  CHECK_MSG(r.too_large && strstr(r.message, "after the last row"), "%s", r.message);
  CHECK_MSG(t1 - t0 < 1.0, "trailing IDAT data was inflated: %.2f s of CPU", t1 - t0);
  free(p);
  p = bomb_png(300, 200, 0, 0, 0, &n); /* the same without the tail decodes */
  CHECK_MSG(trial(FOLIO_ASSET_PNG, p, n, &r) == 0, "%s", r.message);
  free(p);
  p = bomb_png(16, 16, 0, 16, 0, &n);
  t0 = cpu_s();
  CHECK_MSG(trial(FOLIO_ASSET_PNG, p, n, &r) == 0, "%s", r.message);
  t1 = cpu_s();
  CHECK_MSG(t1 - t0 < 1.0, "zTXt chunks were inflated: %.2f s of CPU", t1 - t0);
  free(p);
  /* too many chunks: refused as too large, naming the limit */
  p = bomb_png(4, 4, 0, 0, 5000, &n);
  CHECK_EQ_INT(trial(FOLIO_ASSET_PNG, p, n, &r), -1);
  CHECK_MSG(r.too_large && strstr(r.message, "max_image_chunks = 4096"), "%s", r.message);
  free(p);
  p = bomb_png(4, 4, 0, 0, 100, &n); /* but a hundred are fine */
  CHECK_MSG(trial(FOLIO_ASSET_PNG, p, n, &r) == 0, "%s", r.message);
  free(p);
  /* rows missing: an error, not a hang */
  p = bomb_png(64, 64, 0, 0, 0, &n);
  CHECK_MSG(n > 40 && trial(FOLIO_ASSET_PNG, p, n - 20, &r) == -1 && !r.too_large, "%s", r.message);
  free(p);
}

/* A progressive JPEG with 1 + 3*63 scans is refused by max_jpeg_scans; one
 * with 1 + 3*30 = 91 scans is decoded. */
static void test_jpeg_scans(void) {
  struct folio_image_result r;
  size_t n;
  unsigned char *p = bomb_jpeg_scans(64, 64, 63, &n);
  CHECK_EQ_INT(trial(FOLIO_ASSET_JPEG, p, n, &r), -1);
  CHECK_MSG(r.too_large && strstr(r.message, "max_jpeg_scans = 100"), "%s", r.message);
  free(p);
  p = bomb_jpeg_scans(64, 64, 30, &n);
  CHECK_MSG(trial(FOLIO_ASSET_JPEG, p, n, &r) == 0, "%s", r.message);
  free(p);
}

/* The per-document sum of decoded image bytes is decided from the headers:
 * four 6000x6000 headers (144 MB each) with no image data at all are refused
 * as too large, naming the limit; no decoder ever sees them. */
static void test_doc_total(void) {
  unsigned char hdr[45]; /* the header is all that is read */
  bomb_png_header(6000, 6000, hdr);
  char *data = b64(hdr, sizeof hdr);
  char *doc = malloc(4096);
  CHECK(doc);
  snprintf(doc, 4096,
           "{\"version\":1,\"assets\":{\"a\":{\"media_type\":\"image/png\",\"data\":\"%s\"},"
           "\"b\":{\"media_type\":\"image/png\",\"data\":\"%s\"},"
           "\"c\":{\"media_type\":\"image/png\",\"data\":\"%s\"},"
           "\"d\":{\"media_type\":\"image/png\",\"data\":\"%s\"}},\"pages\":[{\"items\":[]}]}",
           data, data, data, data);
  struct folio_layout_doc *out;
  struct folio_layout_diag diag = {0};
  CHECK_EQ_INT(folio_layout_decode(doc, strlen(doc), NULL, &out, &diag), -1);
  char *j = folio_layout_diag_join(&diag);
  CHECK_MSG(diag.too_large && j && strstr(j, "/assets/d/data") && strstr(j, "max_image_bytes_total = 536870912"),
            "%s", j ? j : "?");
  CHECK_MSG(diag.count == 1, "%s", j); /* a, b, c never reached a decoder */
  free(j);
  folio_layout_diag_clear(&diag);
  /* with room for all four the decoders run, and find no image data */
  struct folio_layout_limits lim;
  folio_layout_limits_default(&lim);
  lim.max_image_bytes_total = 4ull * 6000 * 6000 * 4;
  CHECK_EQ_INT(folio_layout_decode(doc, strlen(doc), &lim, &out, &diag), -1);
  j = folio_layout_diag_join(&diag);
  CHECK_MSG(!diag.too_large && j && strstr(j, "/assets/a/data: PNG does not decode"), "%s", j ? j : "?");
  free(j);
  folio_layout_diag_clear(&diag);
  free(doc);
  free(data);
}

int main(void) {
  test_b64();
  test_headers();
  test_inflate_bombs();
  test_jpeg_scans();
  test_doc_total();
  test_threads();
  return check_done();
}
