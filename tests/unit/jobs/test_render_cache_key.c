/* The render cache's request key (folio_render_cache_key): what must give
 * the same key, and every input that must change it. */
#include <string.h>

#include "check.h"
#include "folio/layout.h"
#include "folio/render_cache.h"

static const char L[] = "{\"pages\":[]}";
static const int PDF_PNG[] = {FOLIO_FORMAT_PDF, FOLIO_FORMAT_PNG};
static const int PNG_PDF_PNG[] = {FOLIO_FORMAT_PNG, FOLIO_FORMAT_PDF, FOLIO_FORMAT_PNG};
static const int PDF[] = {FOLIO_FORMAT_PDF};
static const size_t P12[] = {0, 1}, P1[] = {0};
static const uint8_t A1[1][32] = {{1}}, A2[1][32] = {{2}};

static struct folio_render_cache_request base(void) {
  return (struct folio_render_cache_request){.layout_canonical = L,
                                             .layout_canonical_len = sizeof L - 1,
                                             .formats = PDF_PNG,
                                             .nformats = 2,
                                             .pages = P12,
                                             .npages = 2};
}

static void key(const struct folio_render_cache_request *r, uint8_t out[32]) {
  folio_render_cache_key(r, out);
}

#define SAME(r) do { uint8_t k[32]; key(&(r), k); CHECK(memcmp(k, k0, 32) == 0); } while (0)
#define DIFFERS(r) do { uint8_t k[32]; key(&(r), k); CHECK(memcmp(k, k0, 32) != 0); } while (0)

int main(void) {
  struct folio_render_cache_request r0 = base(), r;
  uint8_t k0[32];
  key(&r0, k0);
  /* formats are a set: order and duplicates do not matter */
  r = base(), r.formats = PNG_PDF_PNG, r.nformats = 3;
  SAME(r);
  /* png_dpi 0 is the default */
  r = base(), r.png_dpi = FOLIO_PNG_DPI_DEFAULT;
  SAME(r);
  /* every input changes the key */
  r = base(), r.formats = PDF, r.nformats = 1;
  DIFFERS(r);
  r = base(), r.png_dpi = 300;
  DIFFERS(r);
  r = base(), r.pages = P1, r.npages = 1;
  DIFFERS(r);
  r = base(), r.layout_canonical = "{\"pages\":[1]}", r.layout_canonical_len = 13;
  DIFFERS(r);
  r = base(), r.asset_digests = A1, r.nassets = 1;
  DIFFERS(r);
  /* issue 14's options: each one changes the key */
  r = base(), r.pdf_profiles = 1u << 1;
  DIFFERS(r);
  {
    struct folio_render_cache_request a = base(), b = base();
    a.pdf_profiles = 1u << 1, b.pdf_profiles = 1u << 2;
    uint8_t ka[32], kb[32];
    key(&a, ka), key(&b, kb);
    CHECK(memcmp(ka, kb, 32) != 0);
  }
  r = base(), r.png_include_bleed = true;
  DIFFERS(r);
  r = base(), r.fail_on_warnings = true;
  DIFFERS(r);
  r = base(), r.require_clean_preflight = true;
  DIFFERS(r);
  {
    struct folio_render_cache_request a = base(), b = base();
    a.asset_digests = A1, a.nassets = 1, b.asset_digests = A2, b.nassets = 1;
    uint8_t ka[32], kb[32];
    key(&a, ka), key(&b, kb);
    CHECK(memcmp(ka, kb, 32) != 0);
  }
  /* no formats means [PDF] */
  {
    struct folio_render_cache_request a = base(), b = base();
    a.formats = NULL, a.nformats = 0, b.formats = PDF, b.nformats = 1;
    uint8_t ka[32], kb[32];
    key(&a, ka), key(&b, kb);
    CHECK(memcmp(ka, kb, 32) == 0);
  }
  char hex[65];
  folio_render_cache_hex(k0, hex);
  CHECK_EQ_INT(strlen(hex), 64);
  return check_done();
}
