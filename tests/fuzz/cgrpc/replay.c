/* Runs the fuzz target without libFuzzer, under any compiler: over the seed
 * corpus, every truncation of each seed, every single-bit flip, and a fixed
 * pseudo-random series of byte mutations. Part of the normal (ASan) test
 * run, so the target is exercised even where clang's libFuzzer is absent.
 *
 *   cgrpc_fuzz_replay <corpus dir> */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rng = 12345;
static uint32_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static size_t runs;

static void mutate_all(const uint8_t *seed, size_t n) {
  uint8_t buf[4096];
  CHECK(n <= sizeof buf);
  for (size_t len = 0; len <= n; len++, runs++) LLVMFuzzerTestOneInput(seed, len);
  for (size_t i = 1; i < n; i++) {
    for (int bit = 0; bit < 8; bit++, runs++) {
      memcpy(buf, seed, n);
      buf[i] ^= (uint8_t)(1u << bit);
      LLVMFuzzerTestOneInput(buf, n);
    }
  }
  for (int k = 0; k < 2000; k++, runs++) {
    memcpy(buf, seed, n);
    int edits = 1 + (int)(next_rand() % 4);
    for (int e = 0; e < edits && n > 1; e++) buf[1 + next_rand() % (n - 1)] = (uint8_t)next_rand();
    LLVMFuzzerTestOneInput(buf, n);
  }
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: cgrpc_fuzz_replay <corpus dir>");
  DIR *d = opendir(argv[1]);
  CHECK_MSG(d, "cannot open %s", argv[1]);
  struct dirent *e;
  size_t seeds = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
    FILE *f = fopen(path, "rb");
    CHECK(f);
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    mutate_all(buf, n);
    seeds++;
  }
  closedir(d);
  CHECK(seeds > 0);
  printf("%zu seeds, %zu inputs\n", seeds, runs);
  return check_done();
}
