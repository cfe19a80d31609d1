/* Differential SigV4 test: every case line written by sigv4_diff.py (botocore's
 * signature for a generated request or presigned URL, with odd keys, secrets,
 * query strings, ranges and header whitespace) is signed again here and must
 * come out byte for byte the same.
 *   test_s3_sigv4_diff CASES_FILE */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio/s3.h"
#include "sigv4.h"

static char *unhex(const char *h) {
  if (strcmp(h, "-") == 0) return NULL;
  size_t n = strlen(h) / 2;
  char *out = malloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    CHECK(sscanf(h + 2 * i, "%2x", &v) == 1);
    out[i] = (char)v;
  }
  out[n] = '\0';
  return out;
}

/* "hexname=hexvalue,..." → kv array (strings malloc'd, freed by free_pairs). */
static size_t parse_pairs(char *field, struct folio_s3_kv *kv, size_t cap) {
  if (strcmp(field, "-") == 0) return 0;
  size_t n = 0;
  for (char *save, *tok = strtok_r(field, ",", &save); tok && n < cap;
       tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    CHECK(eq);
    *eq = '\0';
    kv[n].name = unhex(tok);
    kv[n].value = eq[1] ? unhex(eq + 1) : strdup("");
    n++;
  }
  return n;
}

static void free_pairs(struct folio_s3_kv *kv, size_t n) {
  for (size_t i = 0; i < n; i++) {
    void *a, *b; /* the strings were malloc'd by parse_pairs */
    memcpy(&a, &kv[i].name, sizeof a);
    memcpy(&b, &kv[i].value, sizeof b);
    free(a);
    free(b);
  }
}

static int split_tabs(char *line, char **f, int cap) {
  int n = 0;
  for (char *save, *t = strtok_r(line, "\t\n", &save); t && n < cap; t = strtok_r(NULL, "\t\n", &save))
    f[n++] = t;
  return n;
}

static void header_case(char **f, int line) {
  /* H method amz_date region access secret path query headers payload authz */
  char *access = unhex(f[4]), *secret = unhex(f[5]), *path = unhex(f[6]), *want = unhex(f[10]);
  struct folio_s3_kv q[8], h[8];
  size_t nq = parse_pairs(f[7], q, 8), nh = parse_pairs(f[8], h, 8);
  struct folio_s3_sigv4_request req = {f[1], path, q, nq, h, nh, f[9]};
  struct folio_s3_sigv4_creds c = {access, secret, f[3], "s3"};
  struct folio_s3_sigv4_result r;
  CHECK_EQ_INT(folio_s3_sigv4_sign(&req, &c, f[2], &r), 0);
  CHECK_MSG(strcmp(r.authorization, want) == 0,
            "line %d: Authorization differs from botocore\n ours:     %s\n botocore: %s\n"
            " canonical request:\n%s",
            line, r.authorization, want, r.canonical_request);
  folio_s3_sigv4_result_free(&r);
  free_pairs(q, nq);
  free_pairs(h, nh);
  free(access);
  free(secret);
  free(path);
  free(want);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void presign_case(char **f, int line) {
  /* P endpoint addressing region access secret key disposition ttl now prefix query sig */
  char *endpoint = unhex(f[1]), *access = unhex(f[4]), *secret = unhex(f[5]), *key = unhex(f[6]);
  char *disp = unhex(f[7]), *prefix = unhex(f[10]), *query = unhex(f[11]);
  struct folio_s3_config cfg = {.endpoint = endpoint,
                                .region = f[3],
                                .bucket = NULL,
                                .access_key = access,
                                .secret_key = secret,
                                .addressing = strcmp(f[2], "virtual") == 0
                                                  ? FOLIO_S3_VIRTUAL_HOSTED
                                                  : FOLIO_S3_PATH_STYLE};
  /* the bucket is the first label (virtual) or first path segment (path) */
  char bucket[64];
  const char *hp = strstr(prefix, "://") + 3;
  if (cfg.addressing == FOLIO_S3_VIRTUAL_HOSTED)
    snprintf(bucket, sizeof bucket, "%.*s", (int)strcspn(hp, "."), hp);
  else {
    const char *s = strchr(hp, '/') + 1;
    snprintf(bucket, sizeof bucket, "%.*s", (int)strcspn(s, "/"), s);
  }
  cfg.bucket = bucket;
  char err[256];
  char *url = folio_s3_presign_get(&cfg, key, atol(f[8]), disp, (time_t)atoll(f[9]), err, sizeof err);
  CHECK_MSG(url, "line %d: %s", line, err);
  char *qm = strchr(url, '?');
  CHECK(qm);
  *qm = '\0';
  CHECK_MSG(strcmp(url, prefix) == 0, "line %d: URL differs\n ours:     %s\n botocore: %s", line,
            url, prefix);
  /* same parameter set (order is free on the wire), same signature */
  char *params[16];
  int n = 0;
  char *sig = NULL;
  for (char *save, *t = strtok_r(qm + 1, "&", &save); t && n < 16; t = strtok_r(NULL, "&", &save)) {
    if (strncmp(t, "X-Amz-Signature=", 16) == 0)
      sig = t + 16;
    else
      params[n++] = t;
  }
  qsort(params, (size_t)n, sizeof params[0], cmp_str);
  char joined[4096] = "";
  for (int i = 0; i < n; i++) {
    if (i) strcat(joined, "&");
    strncat(joined, params[i], sizeof joined - strlen(joined) - 1);
  }
  CHECK_MSG(strcmp(joined, query) == 0, "line %d: query differs\n ours:     %s\n botocore: %s",
            line, joined, query);
  CHECK_MSG(sig && strcmp(sig, f[12]) == 0, "line %d: signature %s, botocore %s", line,
            sig ? sig : "(none)", f[12]);
  free(url);
  free(endpoint);
  free(access);
  free(secret);
  free(key);
  free(disp);
  free(prefix);
  free(query);
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: %s CASES_FILE", argv[0]);
  FILE *in = fopen(argv[1], "r");
  CHECK_MSG(in, "cannot open %s", argv[1]);
  static char line[65536];
  int nh = 0, np = 0, ln = 0;
  while (fgets(line, sizeof line, in)) {
    ln++;
    char *f[16];
    int n = split_tabs(line, f, 16);
    if (n == 11 && strcmp(f[0], "H") == 0) {
      header_case(f, ln);
      nh++;
    } else if (n == 13 && strcmp(f[0], "P") == 0) {
      presign_case(f, ln);
      np++;
    } else {
      CHECK_MSG(0, "line %d: malformed case (%d fields)", ln, n);
    }
  }
  fclose(in);
  CHECK_MSG(nh >= 100 && np >= 100, "too few cases: %d header, %d presign", nh, np);
  printf("%d header-auth and %d presigned cases identical to botocore\n", nh, np);
  return check_done();
}
