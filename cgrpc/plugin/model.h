/* protoc-gen-cgrpc's model of what it generates: the names derived from the
 * .proto (following protobuf-c's rules so stubs and messages read as one
 * family) and the single model of a method with its four kind predicates. */
#ifndef CGRPC_PLUGIN_MODEL_H
#define CGRPC_PLUGIN_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "google/protobuf/descriptor.pb-c.h"

/* A growable output buffer; append failures abort (the plugin is a short-lived
 * process and has no partial output worth keeping). */
struct out {
  char *buf;
  size_t len, cap;
};
void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes comment as a C block comment, each line prefixed with indent. Does
 * nothing for NULL/empty comments. */
void out_comment(struct out *o, const char *indent, const char *comment);

struct method_model {
  const char *name;      /* "GetStatus" */
  char *lower;           /* "get_status" */
  char *prefix;          /* "folio__v1__layout_service__get_status" */
  char *path;            /* "/folio.v1.LayoutService/GetStatus" */
  char *in_type, *out_type;  /* "Folio__V1__GetStatusRequest" */
  char *in_desc, *out_desc;  /* "folio__v1__get_status_request__descriptor" */
  bool client_streaming, server_streaming;
  const char *comment;   /* leading comment from the .proto, or NULL */
  size_t index;          /* position in the service */
};

static inline bool method_is_unary(const struct method_model *m) {
  return !m->client_streaming && !m->server_streaming;
}
static inline bool method_is_server_streaming(const struct method_model *m) {
  return !m->client_streaming && m->server_streaming;
}
static inline bool method_is_client_streaming(const struct method_model *m) {
  return m->client_streaming && !m->server_streaming;
}
static inline bool method_is_bidi(const struct method_model *m) {
  return m->client_streaming && m->server_streaming;
}
/* The handler receives a request message (unary, server-streaming). */
static inline bool method_has_single_request(const struct method_model *m) {
  return !m->client_streaming;
}

struct service_model {
  const char *name;  /* "LayoutService" */
  char *full_name;   /* "folio.v1.LayoutService" */
  char *prefix;      /* "folio__v1__layout_service" */
  const char *comment;
  struct method_model *methods;
  size_t n_methods;
};

struct file_model {
  const char *proto_name; /* "folio/v1/layout_service.proto" */
  char *base;             /* "folio/v1/layout_service" */
  char *guard;            /* "FOLIO_V1_LAYOUT_SERVICE_CGRPC_H" */
  struct service_model *services;
  size_t n_services;
};

/* Builds the model of one file; returns NULL with a message in err. */
struct file_model *model_build(const Google__Protobuf__FileDescriptorProto *f, char *err,
                               size_t errcap);
void model_free(struct file_model *m);

/* Emitters, one per element kind; each appends to the header and the source. */
void emit_file(const struct file_model *f, struct out *h, struct out *c);
void emit_service(const struct file_model *f, const struct service_model *s, struct out *h,
                  struct out *c);
void emit_method_header(const struct service_model *s, const struct method_model *m,
                        struct out *h);
void emit_method_source(const struct service_model *s, const struct method_model *m,
                        struct out *c);

#endif
