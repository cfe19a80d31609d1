/* The emitters: one per element kind (file, service, method). Each writes the
 * declarations into the header and the definitions into the source; the
 * method emitter is the only place that looks at the kind of a method, and it
 * does so only through the model's predicates. */
#include <string.h>

#include "model.h"

static const char *kind_enum(const struct method_model *m) {
  if (method_is_unary(m)) return "CGRPC_METHOD_UNARY";
  if (method_is_server_streaming(m)) return "CGRPC_METHOD_SERVER_STREAMING";
  if (method_is_client_streaming(m)) return "CGRPC_METHOD_CLIENT_STREAMING";
  return "CGRPC_METHOD_BIDI_STREAMING";
}

static const char *kind_words(const struct method_model *m) {
  if (method_is_unary(m)) return "unary";
  if (method_is_server_streaming(m)) return "server-streaming";
  if (method_is_client_streaming(m)) return "client-streaming";
  return "bidirectional streaming";
}

/* ---- method ---- */

/* The handler's member in the service's handler table. */
static void emit_handler_member(const struct method_model *m, struct out *h) {
  out_comment(h, "  ", m->comment);
  out_printf(h, "  /* %s %s.\n", kind_words(m), m->path);
  if (method_has_single_request(m))
    out_printf(h, "   * request is owned by the call and lives until it is released.\n");
  else
    out_printf(h, "   * Read with cgrpc_call_read(); %s__request() types each message.\n",
               m->prefix);
  if (m->server_streaming)
    out_printf(h, "   * Send with %s__send(), then cgrpc_call_finish(). */\n", m->prefix);
  else
    out_printf(h, "   * Finish with %s__reply() or cgrpc_call_finish(). */\n", m->prefix);
  if (method_has_single_request(m))
    out_printf(h, "  void (*%s)(struct cgrpc_call *call, const %s *request, void *impl);\n",
               m->lower, m->in_type);
  else
    out_printf(h, "  void (*%s)(struct cgrpc_call *call, void *impl);\n", m->lower);
}

void emit_method_header(const struct service_model *s, const struct method_model *m,
                        struct out *h) {
  out_printf(h, "\n/* ---- %s (%s) ---- */\n", m->path, kind_words(m));
  out_comment(h, "", m->comment);
  out_printf(h, "#define %s__METHOD (&%s__methods[%zu])\n", m->prefix, s->prefix, m->index);
  /* Server side. */
  if (!m->server_streaming) {
    out_printf(h,
               "/* Server: sends response with status OK and finishes the call. response is\n"
               " * borrowed (packed before return). */\n"
               "static inline int %s__reply(struct cgrpc_call *call, const %s *response) {\n"
               "  return cgrpc_call_reply(call, &response->base);\n}\n",
               m->prefix, m->out_type);
  } else {
    out_printf(h,
               "/* Server: writes one stream message; done runs once when it is taken (ok) or\n"
               " * the client went away (!ok). One write in flight. */\n"
               "static inline int %s__send(struct cgrpc_call *call, const %s *message,\n"
               "                           cgrpc_write_cb done, void *ud) {\n"
               "  return cgrpc_call_write(call, &message->base, done, ud);\n}\n",
               m->prefix, m->out_type);
  }
  if (m->client_streaming) {
    out_printf(h,
               "/* Server: the typed view of a message delivered to a cgrpc_read_cb. */\n"
               "static inline const %s *%s__request(const ProtobufCMessage *msg) {\n"
               "  return (const %s *)msg;\n}\n",
               m->in_type, m->prefix, m->in_type);
  }
  /* Client side. */
  if (method_is_unary(m)) {
    out_printf(h,
               "/* Client: calls %s and waits. 0 with *response set (free it with\n"
               " * protobuf_c_message_free_unpacked and opts->allocator), or CGRPC_ESTATUS;\n"
               " * status (may be NULL) gets the outcome; clear it with cgrpc_status_clear. */\n"
               "int %s__call(struct cgrpc_channel *channel, const %s *request,\n"
               "    const struct cgrpc_call_options *opts, %s **response,\n"
               "    struct cgrpc_status *status);\n",
               m->path, m->prefix, m->in_type, m->out_type);
  } else if (method_is_server_streaming(m)) {
    out_printf(h,
               "/* Client: starts %s with request (sent and half-closed). Read with\n"
               " * __read, then cgrpc_client_call_finish and cgrpc_client_call_destroy. */\n"
               "struct cgrpc_client_call *%s__start(struct cgrpc_channel *channel,\n"
               "    const %s *request, const struct cgrpc_call_options *opts);\n",
               m->path, m->prefix, m->in_type);
  } else {
    out_printf(h,
               "/* Client: starts %s. Write with __write; destroy with\n"
               " * cgrpc_client_call_destroy. */\n"
               "struct cgrpc_client_call *%s__start(struct cgrpc_channel *channel,\n"
               "    const struct cgrpc_call_options *opts);\n"
               "static inline int %s__write(struct cgrpc_client_call *call, const %s *request) {\n"
               "  return cgrpc_client_call_write(call, &request->base);\n}\n",
               m->path, m->prefix, m->prefix, m->in_type);
  }
  if (m->server_streaming) {
    out_printf(h,
               "/* Client: 1 with *response set (caller frees), 0 at the end, <0 on a\n"
               " * malformed message. */\n"
               "static inline int %s__read(struct cgrpc_client_call *call, %s **response) {\n"
               "  ProtobufCMessage *m = NULL;\n"
               "  int rc = cgrpc_client_call_read(call, &m);\n"
               "  *response = (%s *)m;\n  return rc;\n}\n",
               m->prefix, m->out_type, m->out_type);
  } else if (method_is_client_streaming(m)) {
    out_printf(h,
               "/* Client: half-closes, waits for the response and the status. 0 with\n"
               " * *response set (caller frees), or CGRPC_ESTATUS. The call still needs\n"
               " * cgrpc_client_call_destroy. */\n"
               "int %s__close_and_recv(struct cgrpc_client_call *call, %s **response,\n"
               "    struct cgrpc_status *status);\n",
               m->prefix, m->out_type);
  }
}

void emit_method_source(const struct service_model *s, const struct method_model *m,
                        struct out *c) {
  out_printf(c, "\n/* ---- %s ---- */\n", m->path);
  out_printf(c,
             "static void %s__dispatch(struct cgrpc_call *call, const ProtobufCMessage *request,\n"
             "    const void *handlers, void *impl) {\n"
             "  const struct %s__handlers *h = handlers;\n"
             "  if (!h->%s) {\n"
             "    cgrpc_call_finish(call, GRPC_STATUS_UNIMPLEMENTED,\n"
             "        \"%s is not implemented by this server\");\n"
             "    return;\n  }\n",
             m->prefix, s->prefix, m->lower, m->path);
  if (method_has_single_request(m))
    out_printf(c, "  h->%s(call, (const %s *)request, impl);\n}\n", m->lower, m->in_type);
  else
    out_printf(c, "  (void)request;\n  h->%s(call, impl);\n}\n", m->lower);

  if (method_is_unary(m)) {
    out_printf(c,
               "\nint %s__call(struct cgrpc_channel *channel, const %s *request,\n"
               "    const struct cgrpc_call_options *opts, %s **response,\n"
               "    struct cgrpc_status *status) {\n"
               "  ProtobufCMessage *m = NULL;\n"
               "  int rc = cgrpc_client_unary(channel, %s__METHOD, &request->base, opts, &m, "
               "status);\n"
               "  *response = (%s *)m;\n  return rc;\n}\n",
               m->prefix, m->in_type, m->out_type, m->prefix, m->out_type);
  } else if (method_is_server_streaming(m)) {
    out_printf(c,
               "\nstruct cgrpc_client_call *%s__start(struct cgrpc_channel *channel,\n"
               "    const %s *request, const struct cgrpc_call_options *opts) {\n"
               "  struct cgrpc_client_call *call = cgrpc_client_call_start(channel, %s__METHOD, "
               "opts);\n"
               "  if (call && cgrpc_client_call_write(call, &request->base) == 0)\n"
               "    cgrpc_client_call_writes_done(call);\n"
               "  return call;\n}\n",
               m->prefix, m->in_type, m->prefix);
  } else {
    out_printf(c,
               "\nstruct cgrpc_client_call *%s__start(struct cgrpc_channel *channel,\n"
               "    const struct cgrpc_call_options *opts) {\n"
               "  return cgrpc_client_call_start(channel, %s__METHOD, opts);\n}\n",
               m->prefix, m->prefix);
  }
  if (method_is_client_streaming(m)) {
    out_printf(c,
               "\nint %s__close_and_recv(struct cgrpc_client_call *call, %s **response,\n"
               "    struct cgrpc_status *status) {\n"
               "  ProtobufCMessage *m = NULL;\n"
               "  int rc = cgrpc_client_call_close_and_recv(call, &m, status);\n"
               "  *response = (%s *)m;\n  return rc;\n}\n",
               m->prefix, m->out_type, m->out_type);
  }
}

/* ---- service ---- */

void emit_service(const struct file_model *f, const struct service_model *s, struct out *h,
                  struct out *c) {
  (void)f;
  out_printf(h, "\n/* ==== service %s ==== */\n", s->full_name);
  out_comment(h, "", s->comment);
  out_printf(h,
             "extern const struct cgrpc_method_desc %s__methods[%zu];\n"
             "extern const struct cgrpc_service_desc %s__service;\n",
             s->prefix, s->n_methods ? s->n_methods : 1, s->prefix);
  out_printf(h,
             "\n/* The server's implementation: one handler per method, each called on a\n"
             " * completion-queue thread; it must not block and must finish its call exactly\n"
             " * once, from any thread. A NULL handler answers UNIMPLEMENTED. */\n"
             "struct %s__handlers {\n",
             s->prefix);
  for (size_t i = 0; i < s->n_methods; i++) emit_handler_member(&s->methods[i], h);
  if (s->n_methods == 0) out_printf(h, "  int unused;\n");
  out_printf(h,
             "};\n"
             "/* Adds the service to server (before cgrpc_server_start). handlers is\n"
             " * borrowed and must outlive the server; impl is passed to every handler. */\n"
             "int %s__register(struct cgrpc_server *server,\n"
             "    const struct %s__handlers *handlers, void *impl);\n",
             s->prefix, s->prefix);
  for (size_t i = 0; i < s->n_methods; i++) emit_method_header(s, &s->methods[i], h);

  out_printf(c, "\n/* ==== service %s ==== */\n", s->full_name);
  out_printf(c, "const struct cgrpc_method_desc %s__methods[%zu] = {\n", s->prefix,
             s->n_methods ? s->n_methods : 1);
  for (size_t i = 0; i < s->n_methods; i++) {
    const struct method_model *m = &s->methods[i];
    out_printf(c, "  {\"%s\", %s, &%s, &%s},\n", m->path, kind_enum(m), m->in_desc, m->out_desc);
  }
  out_printf(c, "};\nconst struct cgrpc_service_desc %s__service = {\"%s\", %zu, %s__methods};\n",
             s->prefix, s->full_name, s->n_methods, s->prefix);
  for (size_t i = 0; i < s->n_methods; i++) emit_method_source(s, &s->methods[i], c);
  out_printf(c,
             "\nint %s__register(struct cgrpc_server *server,\n"
             "    const struct %s__handlers *handlers, void *impl) {\n"
             "  static const cgrpc_dispatch_fn dispatch[%zu] = {\n",
             s->prefix, s->prefix, s->n_methods ? s->n_methods : 1);
  for (size_t i = 0; i < s->n_methods; i++)
    out_printf(c, "    %s__dispatch,\n", s->methods[i].prefix);
  out_printf(c,
             "  };\n"
             "  return cgrpc_server_add_service(server, &%s__service, dispatch, handlers, impl);\n"
             "}\n",
             s->prefix);
}

/* ---- file ---- */

void emit_file(const struct file_model *f, struct out *h, struct out *c) {
  out_printf(h,
             "/* Generated by protoc-gen-cgrpc from %s. Do not edit.\n"
             " * Server handler tables and client stubs for its services; the messages\n"
             " * are protobuf-c's (%s.pb-c.h). */\n"
             "#ifndef %s\n#define %s\n\n"
             "#include <cgrpc/cgrpc.h>\n\n#include \"%s.pb-c.h\"\n\n"
             "#ifdef __cplusplus\nextern \"C\" {\n#endif\n",
             f->proto_name, f->base, f->guard, f->guard, f->base);
  out_printf(c, "/* Generated by protoc-gen-cgrpc from %s. Do not edit. */\n"
                "#include \"%s.cgrpc.h\"\n",
             f->proto_name, f->base);
  for (size_t i = 0; i < f->n_services; i++) emit_service(f, &f->services[i], h, c);
  out_printf(h, "\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
}
