/* protoc-gen-cgrpc: a protoc plugin. Reads a CodeGeneratorRequest on stdin,
 * writes a CodeGeneratorResponse on stdout with <name>.cgrpc.h and
 * <name>.cgrpc.c for every file to generate (both always emitted, so build
 * systems can name the outputs in advance). Errors go back in
 * CodeGeneratorResponse.error, which protoc prints and fails on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/compiler/plugin.pb-c.h"
#include "model.h"

static unsigned char *read_all(FILE *in, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + n, 1, cap - n, in);
    n += got;
    if (n < cap) break;
    unsigned char *b = realloc(buf, cap * 2);
    if (!b) {
      free(buf);
      return NULL;
    }
    buf = b;
    cap *= 2;
  }
  *len = n;
  return buf;
}

static const Google__Protobuf__FileDescriptorProto *find_file(
    const Google__Protobuf__Compiler__CodeGeneratorRequest *req, const char *name) {
  for (size_t i = 0; i < req->n_proto_file; i++)
    if (strcmp(req->proto_file[i]->name, name) == 0) return req->proto_file[i];
  return NULL;
}

static Google__Protobuf__Compiler__CodeGeneratorResponse__File *new_file(char *name,
                                                                           char *content) {
  Google__Protobuf__Compiler__CodeGeneratorResponse__File *f = malloc(sizeof *f);
  if (!f) exit(1);
  google__protobuf__compiler__code_generator_response__file__init(f);
  f->name = name;
  f->content = content;
  return f;
}

int main(void) {
  size_t len = 0;
  unsigned char *in = read_all(stdin, &len);
  if (!in) {
    fprintf(stderr, "protoc-gen-cgrpc: cannot read the request\n");
    return 1;
  }
  Google__Protobuf__Compiler__CodeGeneratorRequest *req =
      google__protobuf__compiler__code_generator_request__unpack(NULL, len, in);
  free(in);
  if (!req) {
    fprintf(stderr, "protoc-gen-cgrpc: stdin is not a CodeGeneratorRequest "
                    "(run me through protoc --cgrpc_out)\n");
    return 1;
  }
  Google__Protobuf__Compiler__CodeGeneratorResponse resp;
  google__protobuf__compiler__code_generator_response__init(&resp);
  resp.has_supported_features = 1;
  resp.supported_features =
      GOOGLE__PROTOBUF__COMPILER__CODE_GENERATOR_RESPONSE__FEATURE__FEATURE_PROTO3_OPTIONAL;
  size_t n_out = 0;
  resp.file = calloc(req->n_file_to_generate * 2 + 1, sizeof *resp.file);
  char err[512] = "";
  for (size_t i = 0; i < req->n_file_to_generate && !err[0]; i++) {
    const Google__Protobuf__FileDescriptorProto *fd = find_file(req, req->file_to_generate[i]);
    if (!fd) {
      snprintf(err, sizeof err, "%s: not among the request's proto files",
               req->file_to_generate[i]);
      break;
    }
    struct file_model *fm = model_build(fd, err, sizeof err);
    if (!fm) break;
    struct out h = {0}, c = {0};
    emit_file(fm, &h, &c);
    size_t nl = strlen(fm->base) + 16;
    char *hn = malloc(nl), *cn = malloc(nl);
    if (!hn || !cn) exit(1);
    snprintf(hn, nl, "%s.cgrpc.h", fm->base);
    snprintf(cn, nl, "%s.cgrpc.c", fm->base);
    resp.file[n_out++] = new_file(hn, h.buf);
    resp.file[n_out++] = new_file(cn, c.buf);
    model_free(fm);
  }
  if (err[0]) resp.error = err;
  resp.n_file = err[0] ? 0 : n_out;
  size_t size = google__protobuf__compiler__code_generator_response__get_packed_size(&resp);
  unsigned char *outb = malloc(size ? size : 1);
  if (!outb) return 1;
  google__protobuf__compiler__code_generator_response__pack(&resp, outb);
  int rc = fwrite(outb, 1, size, stdout) == size && fflush(stdout) == 0 ? 0 : 1;
  free(outb);
  for (size_t i = 0; i < n_out; i++) {
    free(resp.file[i]->name);
    free(resp.file[i]->content);
    free(resp.file[i]);
  }
  free(resp.file);
  google__protobuf__compiler__code_generator_request__free_unpacked(req, NULL);
  return rc;
}
