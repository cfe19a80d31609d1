/* Building the model: protobuf-c's naming rules, comments from
 * SourceCodeInfo, and the output buffer. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static void *oom_exit(void *p) {
  if (!p) {
    fprintf(stderr, "protoc-gen-cgrpc: out of memory\n");
    exit(1);
  }
  return p;
}

static void *xmalloc(size_t n) { return oom_exit(malloc(n ? n : 1)); }

/* Zeroed, so model_free() can run on a model built only in part. */
static void *xcalloc(size_t n, size_t size) { return oom_exit(calloc(n ? n : 1, size)); }

void out_printf(struct out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) abort();
  if (o->len + (size_t)n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap : 4096;
    while (o->len + (size_t)n + 1 > cap) cap *= 2;
    char *b = realloc(o->buf, cap);
    if (!b) {
      fprintf(stderr, "protoc-gen-cgrpc: out of memory\n");
      exit(1);
    }
    o->buf = b;
    o->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  o->len += (size_t)n;
}

void out_comment(struct out *o, const char *indent, const char *comment) {
  if (!comment || !*comment) return;
  out_printf(o, "%s/*", indent);
  const char *p = comment;
  bool first = true;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (!first) out_printf(o, "\n%s *", indent);
    first = false;
    if (n && p[0] != ' ') out_printf(o, " ");
    for (size_t i = 0; i < n; i++) {
      /* Never let the .proto text close our comment early. */
      if (p[i] == '*' && i + 1 < n && p[i + 1] == '/')
        out_printf(o, "*\\");
      else
        out_printf(o, "%c", p[i]);
    }
    p += n + (nl ? 1 : 0);
  }
  out_printf(o, " */\n");
}

/* protobuf-c's ToCamel: the first letter and every letter after '_' upper
 * case, underscores dropped ("ab_cd" -> "AbCd"). */
static void append_camel(struct out *o, const char *s, size_t n) {
  bool up = true;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '_') {
      up = true;
    } else {
      out_printf(o, "%c", up ? toupper((unsigned char)s[i]) : s[i]);
      up = false;
    }
  }
}

/* protobuf-c's CamelToLower: an underscore before an upper-case letter that
 * follows a lower-case one ("GetHTTPStatus" -> "get_httpstatus"). */
static void append_lower(struct out *o, const char *s, size_t n) {
  bool prev_upper = true;
  for (size_t i = 0; i < n; i++) {
    bool up = isupper((unsigned char)s[i]) != 0;
    if (up && !prev_upper) out_printf(o, "_");
    out_printf(o, "%c", tolower((unsigned char)s[i]));
    prev_upper = up || s[i] == '_';
  }
}

/* Applies f to every dot-separated component of name (a leading dot is
 * ignored), joining them with "__", then appends suffix. Returns a malloc'd
 * string. */
static char *join_components(const char *name, void (*f)(struct out *, const char *, size_t),
                             const char *suffix) {
  struct out o = {0};
  if (*name == '.') name++;
  bool first = true;
  while (*name) {
    const char *dot = strchr(name, '.');
    size_t n = dot ? (size_t)(dot - name) : strlen(name);
    if (!first) out_printf(&o, "__");
    f(&o, name, n);
    first = false;
    name += n + (dot ? 1 : 0);
  }
  out_printf(&o, "%s", suffix);
  return o.buf;
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

/* The leading comment attached to the element at path, or NULL. */
static const char *find_comment(const Google__Protobuf__FileDescriptorProto *f, const int *path,
                                size_t n) {
  const Google__Protobuf__SourceCodeInfo *sci = f->source_code_info;
  if (!sci) return NULL;
  for (size_t i = 0; i < sci->n_location; i++) {
    const Google__Protobuf__SourceCodeInfo__Location *l = sci->location[i];
    if (l->n_path != n) continue;
    if (memcmp(l->path, path, n * sizeof *path) != 0) continue;
    return l->leading_comments;
  }
  return NULL;
}

/* Field numbers in descriptor.proto: FileDescriptorProto.service = 6,
 * ServiceDescriptorProto.method = 2. */
enum { FILE_SERVICE = 6, SERVICE_METHOD = 2 };

struct file_model *model_build(const Google__Protobuf__FileDescriptorProto *f, char *err,
                               size_t errcap) {
  struct file_model *fm = xcalloc(1, sizeof *fm);
  fm->proto_name = f->name;
  size_t blen = strlen(f->name);
  if (blen > 6 && strcmp(f->name + blen - 6, ".proto") == 0) blen -= 6;
  fm->base = str_printf("%.*s", (int)blen, f->name);
  fm->guard = str_printf("%s_CGRPC_H", fm->base);
  for (char *p = fm->guard; *p; p++) *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
  const char *pkg = f->package ? f->package : "";
  fm->n_services = f->n_service;
  fm->services = xcalloc(f->n_service, sizeof *fm->services);
  for (size_t si = 0; si < f->n_service; si++) {
    const Google__Protobuf__ServiceDescriptorProto *sd = f->service[si];
    struct service_model *s = &fm->services[si];
    s->name = sd->name;
    s->full_name = *pkg ? str_printf("%s.%s", pkg, sd->name) : str_printf("%s", sd->name);
    s->prefix = join_components(s->full_name, append_lower, "");
    int spath[2] = {FILE_SERVICE, (int)si};
    s->comment = find_comment(f, spath, 2);
    s->n_methods = sd->n_method;
    s->methods = xcalloc(sd->n_method, sizeof *s->methods);
    for (size_t mi = 0; mi < sd->n_method; mi++) {
      const Google__Protobuf__MethodDescriptorProto *md = sd->method[mi];
      struct method_model *m = &s->methods[mi];
      if (!md->input_type || !md->output_type) {
        snprintf(err, errcap, "%s: method %s.%s has no input or output type", f->name,
                 s->full_name, md->name);
        model_free(fm);
        return NULL;
      }
      m->name = md->name;
      m->index = mi;
      m->lower = join_components(md->name, append_lower, "");
      m->prefix = str_printf("%s__%s", s->prefix, m->lower);
      m->path = str_printf("/%s/%s", s->full_name, md->name);
      m->in_type = join_components(md->input_type, append_camel, "");
      m->out_type = join_components(md->output_type, append_camel, "");
      m->in_desc = join_components(md->input_type, append_lower, "__descriptor");
      m->out_desc = join_components(md->output_type, append_lower, "__descriptor");
      m->client_streaming = md->has_client_streaming && md->client_streaming;
      m->server_streaming = md->has_server_streaming && md->server_streaming;
      int mpath[4] = {FILE_SERVICE, (int)si, SERVICE_METHOD, (int)mi};
      m->comment = find_comment(f, mpath, 4);
    }
  }
  return fm;
}

void model_free(struct file_model *fm) {
  if (!fm) return;
  for (size_t si = 0; si < fm->n_services; si++) {
    struct service_model *s = &fm->services[si];
    for (size_t mi = 0; mi < s->n_methods; mi++) {
      struct method_model *m = &s->methods[mi];
      free(m->lower);
      free(m->prefix);
      free(m->path);
      free(m->in_type);
      free(m->out_type);
      free(m->in_desc);
      free(m->out_desc);
    }
    free(s->methods);
    free(s->full_name);
    free(s->prefix);
  }
  free(fm->services);
  free(fm->base);
  free(fm->guard);
  free(fm);
}
