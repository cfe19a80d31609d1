/* Drives the fuzz target without libFuzzer (any compiler, part of the ASan
 * pass): every seed in the corpus, each of its truncations and single-bit
 * flips, and a fixed series of random byte edits.
 *   jobs_fuzz_replay <corpus dir> */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t state = 0x9e3779b9u;
static uint32_t rnd(void) {
  state = state * 1664525u + 1013904223u; /* LCG: reproducible edits */
  return state >> 8;
}

static size_t exercise(const uint8_t *seed, size_t n) {
  uint8_t buf[2048];
  size_t runs = 0;
  for (size_t len = 0; len <= n; len++, runs++) LLVMFuzzerTestOneInput(seed, len);
  for (size_t i = 1; i < n; i++)
    for (int b = 0; b < 8; b++, runs++) {
      memcpy(buf, seed, n);
      buf[i] ^= (uint8_t)(1u << b);
      LLVMFuzzerTestOneInput(buf, n);
    }
  for (int k = 0; k < 1000 && n > 1; k++, runs++) {
    memcpy(buf, seed, n);
    for (int e = 0; e < 3; e++) buf[1 + rnd() % (n - 1)] = (uint8_t)rnd();
    LLVMFuzzerTestOneInput(buf, n);
  }
  return runs;
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: jobs_fuzz_replay <corpus dir>");
  DIR *d = opendir(argv[1]);
  CHECK_MSG(d != NULL, "cannot open %s", argv[1]);
  size_t seeds = 0, runs = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    uint8_t buf[2048];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    runs += exercise(buf, n);
    seeds++;
  }
  closedir(d);
  CHECK(seeds >= 5);
  printf("%zu seeds, %zu runs\n", seeds, runs);
  return check_done();
}
