/* Runs the decoder over the layout corpus (tests/layouts, given as argv[1]):
 * every valid/ document must decode; every invalid/ document must be listed in
 * expectations.tsv and be rejected with an error at the expected JSON Pointer
 * whose message contains the expected substring. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "slurp.h"
#include "folio/layout.h"

/* Decodes <root>/<sub>/<name> with the default limits; returns the decoder's code. */
static int decode_file(const char *root, const char *sub, const char *name,
                       struct folio_layout_doc **doc, struct folio_layout_diag *diag) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/%s", root, sub, name);
  size_t len;
  char *buf = test_slurp(path, &len);
  memset(diag, 0, sizeof *diag);
  int rc = folio_layout_decode(buf, len, NULL, doc, diag);
  free(buf);
  return rc;
}

static int is_json(const struct dirent *e) {
  size_t n = strlen(e->d_name);
  return n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

struct expect {
  char file[256], verdict[16], pointer[256], message[256];
  bool used;
};

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: test_corpus <tests/layouts>");
  char path[4096];
  struct dirent **list;

  snprintf(path, sizeof path, "%s/valid", argv[1]);
  int n = scandir(path, &list, is_json, alphasort);
  CHECK_MSG(n >= 30, "expected at least 30 valid documents in %s, found %d", path, n);
  for (int i = 0; i < n; i++) {
    struct folio_layout_doc *doc = NULL;
    struct folio_layout_diag diag;
    int rc = decode_file(argv[1], "valid", list[i]->d_name, &doc, &diag);
    char *why = folio_layout_diag_join(&diag);
    CHECK_MSG(rc == 0, "%s rejected: %s", list[i]->d_name, why ? why : "(no detail)");
    CHECK(doc != NULL && doc->n_pages >= 1 && doc->version == 1);
    free(why);
    folio_layout_diag_clear(&diag);
    folio_layout_doc_free(doc);
    free(list[i]);
  }
  free(list);
  int n_valid = n;

  static struct expect ex[512];
  size_t n_ex = 0;
  snprintf(path, sizeof path, "%s/expectations.tsv", argv[1]);
  FILE *f = fopen(path, "r");
  CHECK_MSG(f != NULL, "cannot open %s", path);
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    line[strcspn(line, "\n")] = '\0';
    CHECK(n_ex < 512);
    struct expect *e = &ex[n_ex++];
    char *fields[4] = {e->file, e->verdict, e->pointer, e->message};
    char *s = line;
    for (int k = 0; k < 4; k++) {
      char *tab = k < 3 ? strchr(s, '\t') : NULL;
      CHECK_MSG(k == 3 || tab, "bad line in expectations.tsv: %s", line);
      if (tab) *tab = '\0';
      snprintf(fields[k], 256, "%.255s", s);
      s = tab ? tab + 1 : s;
    }
  }
  fclose(f);

  snprintf(path, sizeof path, "%s/invalid", argv[1]);
  n = scandir(path, &list, is_json, alphasort);
  CHECK_MSG(n >= 30, "expected at least 30 invalid documents, found %d", n);
  for (int i = 0; i < n; i++) {
    struct expect *e = NULL;
    for (size_t k = 0; k < n_ex; k++)
      if (strcmp(ex[k].file, list[i]->d_name) == 0) e = &ex[k];
    CHECK_MSG(e != NULL, "invalid/%s has no line in expectations.tsv", list[i]->d_name);
    e->used = true;
    struct folio_layout_doc *doc = NULL;
    struct folio_layout_diag diag;
    int rc = decode_file(argv[1], "invalid", list[i]->d_name, &doc, &diag);
    CHECK_MSG(rc == FOLIO_LAYOUT_EINVAL, "%s: decode returned %d, expected FOLIO_LAYOUT_EINVAL",
              list[i]->d_name, rc);
    CHECK(doc == NULL && diag.count >= 1);
    bool found = false;
    for (size_t k = 0; k < diag.count; k++)
      if (strcmp(diag.errors[k].pointer, e->pointer) == 0 &&
          strstr(diag.errors[k].message, e->message))
        found = true;
    char *why = folio_layout_diag_join(&diag);
    CHECK_MSG(found, "%s: no error \"%s: …%s…\"; got: %s", list[i]->d_name, e->pointer,
              e->message, why);
    free(why);
    folio_layout_diag_clear(&diag);
    free(list[i]);
  }
  free(list);
  for (size_t k = 0; k < n_ex; k++)
    CHECK_MSG(ex[k].used, "expectations.tsv names %s, which is not in invalid/", ex[k].file);
  printf("%d valid and %d invalid documents as expected\n", n_valid, n);
  return check_done();
}
