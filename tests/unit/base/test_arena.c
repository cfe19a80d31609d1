#include <stdint.h>
#include <string.h>

#include "check.h"
#include "folio/arena.h"

int main(void) {
  struct folio_arena *a = folio_arena_create(256);
  CHECK(a);
  char *s = folio_arena_strdup(a, "hello");
  CHECK_EQ_STR(s, "hello");
  /* many small allocations span chunks and keep earlier ones intact */
  char *ptrs[100];
  for (int i = 0; i < 100; i++) {
    ptrs[i] = folio_arena_sprintf(a, "item-%d", i);
    CHECK(ptrs[i]);
  }
  for (int i = 0; i < 100; i++) {
    char want[16];
    snprintf(want, sizeof want, "item-%d", i);
    CHECK_EQ_STR(ptrs[i], want);
  }
  /* oversized allocation gets its own chunk */
  unsigned char *big = folio_arena_alloc(a, 10000);
  CHECK(big);
  memset(big, 0xAB, 10000);
  CHECK(((uintptr_t)big % _Alignof(max_align_t)) == 0);
  CHECK(folio_arena_calloc(a, SIZE_MAX / 2, 4) == NULL);
  CHECK(folio_arena_alloc(a, SIZE_MAX) == NULL);
  int *z = folio_arena_calloc(a, 10, sizeof(int));
  for (int i = 0; i < 10; i++) CHECK_EQ_INT(z[i], 0);
  CHECK(folio_arena_footprint(a) > 10000);
  folio_arena_reset(a);
  CHECK_EQ_INT(folio_arena_footprint(a), 256);
  CHECK_EQ_STR(folio_arena_strndup(a, "abcdef", 3), "abc");
  folio_arena_destroy(a);
  folio_arena_destroy(NULL);
  return check_done();
}
