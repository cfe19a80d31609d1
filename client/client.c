/* folio client library (include/folio/client.h): each operation is one
 * generated cgrpc stub call with the API key in the metadata; failures are
 * turned into a struct folio_client_error carrying the server's status name,
 * message and google.rpc.BadRequest field violations. folio_client_fetch
 * adds resume (offset = bytes already on disk) and whole-file SHA-256
 * verification on top of StreamArtifact. */
#include "folio/client.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folio/v1/layout_service.cgrpc.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"

/* protobuf-c fields are char * but requests only read them. */
static char *pbstr(const char *s) { return (char *)(uintptr_t)s; }

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((struct folio_client_resume *)0)->state.bytes),
               "resume state too small for libsodium's SHA-256 state");
_Static_assert(_Alignof(crypto_hash_sha256_state) <= _Alignof(union { uint64_t a; long double b; }),
               "resume state under-aligned for libsodium's SHA-256 state");

struct folio_client {
  struct cgrpc_channel *ch;
  char *auth; /* "Bearer <key>" or NULL */
  int64_t timeout_ms;
};

const char *folio_client_status_name(grpc_status_code code) { return cgrpc_status_name(code); }

__attribute__((format(printf, 4, 5))) static void set_err(struct folio_client_error *err,
                                                         grpc_status_code code, bool io,
                                                         const char *fmt, ...) {
  if (!err) return;
  err->code = code;
  err->local_io = io;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
}

/* Where the message starts repeating violation fv ("<pointer>: <description>",
 * the pointer being the field without its "layout_json" prefix), or NULL. */
static char *violation_in(char *msg, const Google__Rpc__BadRequest__FieldViolation *fv) {
  if (!fv->field || !fv->description) return NULL;
  const char *ptr = strncmp(fv->field, "layout_json", 11) ? fv->field : fv->field + 11;
  char want[1024];
  snprintf(want, sizeof want, "%s: %s", ptr, fv->description);
  return *ptr ? strstr(msg, want) : NULL;
}

/* The message, with google.rpc.BadRequest field violations from
 * grpc-status-details-bin listed one per line ("  field: description"). When
 * the message already spells them out on one line, that tail is replaced by
 * the list. */
static void status_err(struct folio_client_error *err, const struct cgrpc_status *st) {
  set_err(err, st->code, false, "%s", st->message && *st->message ? st->message : "(no message)");
  if (!err || !st->details) return;
  Google__Rpc__Status *rs = google__rpc__status__unpack(NULL, st->details_len, st->details);
  if (!rs) return;
  for (size_t i = 0; i < rs->n_details; i++) {
    const Google__Protobuf__Any *any = rs->details[i];
    if (!any->type_url || strcmp(any->type_url, "type.googleapis.com/google.rpc.BadRequest"))
      continue;
    Google__Rpc__BadRequest *br =
        google__rpc__bad_request__unpack(NULL, any->value.len, any->value.data);
    if (!br) continue;
    char *cut = br->n_field_violations ? violation_in(err->message, br->field_violations[0]) : NULL;
    if (cut && cut > err->message) {
      while (cut > err->message && (cut[-1] == ' ' || cut[-1] == ':')) cut--;
      *cut = '\0';
    }
    for (size_t j = 0; j < br->n_field_violations; j++) {
      const Google__Rpc__BadRequest__FieldViolation *fv = br->field_violations[j];
      size_t len = strlen(err->message);
      if (!cut && violation_in(err->message, fv)) continue;
      snprintf(err->message + len, sizeof err->message - len, "\n  %s: %s",
               fv->field ? fv->field : "", fv->description ? fv->description : "");
    }
    google__rpc__bad_request__free_unpacked(br, NULL);
  }
  google__rpc__status__free_unpacked(rs, NULL);
}

int folio_client_connect(const struct folio_client_config *cfg, struct folio_client **out,
                         struct folio_client_error *err) {
  *out = NULL;
  struct folio_client *c = calloc(1, sizeof *c);
  if (!c) {
    set_err(err, GRPC_STATUS_INTERNAL, false, "out of memory");
    return -1;
  }
  c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
  if (cfg->api_key && *cfg->api_key) {
    size_t n = strlen(cfg->api_key) + sizeof "Bearer ";
    c->auth = malloc(n);
    if (!c->auth) {
      free(c);
      set_err(err, GRPC_STATUS_INTERNAL, false, "out of memory");
      return -1;
    }
    snprintf(c->auth, n, "Bearer %s", cfg->api_key);
  }
  struct cgrpc_channel_config cc = {.max_recv_bytes = -1, .tls_root_pem = cfg->tls_ca_pem};
  char eb[256] = "";
  c->ch = cgrpc_channel_create(cfg->addr ? cfg->addr : FOLIO_CLIENT_DEFAULT_ADDR, &cc, eb,
                               sizeof eb);
  if (!c->ch) {
    set_err(err, GRPC_STATUS_UNAVAILABLE, false, "cannot create a channel to %s: %s",
            cfg->addr ? cfg->addr : FOLIO_CLIENT_DEFAULT_ADDR, eb);
    folio_client_close(c);
    return -1;
  }
  *out = c;
  return 0;
}

void folio_client_close(struct folio_client *c) {
  if (!c) return;
  if (c->ch) cgrpc_channel_destroy(c->ch);
  if (c->auth) sodium_memzero(c->auth, strlen(c->auth));
  free(c->auth);
  free(c);
}

void folio_client_free(void *msg) {
  if (msg) protobuf_c_message_free_unpacked(msg, NULL);
}

static struct cgrpc_call_options call_opts(const struct folio_client *c, struct cgrpc_metadata *md,
                                           bool stream) {
  struct cgrpc_call_options o = {.timeout_ms = stream ? 0 : c->timeout_ms};
  if (c->auth) {
    md->key = "authorization";
    md->value = c->auth;
    md->value_len = strlen(c->auth);
    o.metadata = md;
    o.metadata_count = 1;
  }
  return o;
}

/* Runs one generated unary stub; stub has the generated signature with the
 * response type erased. */
#define UNARY(c, fn, req, resp, err)                                              \
  do {                                                                            \
    struct cgrpc_metadata md_;                                                    \
    struct cgrpc_call_options o_ = call_opts(c, &md_, false);                     \
    struct cgrpc_status st_ = {0};                                                \
    int rc_ = fn((c)->ch, req, &o_, resp, &st_);                                  \
    if (rc_ != 0) status_err(err, &st_);                                          \
    cgrpc_status_clear(&st_);                                                     \
    return rc_ != 0 ? -1 : 0;                                                     \
  } while (0)

int folio_client_submit(struct folio_client *c, const Folio__V1__SubmitLayoutRequest *req,
                        Folio__V1__SubmitLayoutResponse **resp, struct folio_client_error *err) {
  UNARY(c, folio__v1__layout_service__submit_layout__call, req, resp, err);
}

int folio_client_status(struct folio_client *c, const char *job_id, uint32_t ttl,
                        Folio__V1__Job **job, struct folio_client_error *err) {
  Folio__V1__GetStatusRequest req = FOLIO__V1__GET_STATUS_REQUEST__INIT;
  req.job_id = pbstr(job_id);
  req.url_ttl_seconds = ttl;
  UNARY(c, folio__v1__layout_service__get_status__call, &req, job, err);
}

int folio_client_cancel(struct folio_client *c, const char *job_id, Folio__V1__Job **job,
                        struct folio_client_error *err) {
  Folio__V1__CancelJobRequest req = FOLIO__V1__CANCEL_JOB_REQUEST__INIT;
  req.job_id = pbstr(job_id);
  UNARY(c, folio__v1__layout_service__cancel_job__call, &req, job, err);
}

int folio_client_url(struct folio_client *c, const char *job_id, const char *name, uint32_t ttl,
                     Folio__V1__ArtifactUrl **url, struct folio_client_error *err) {
  Folio__V1__GetArtifactUrlRequest req = FOLIO__V1__GET_ARTIFACT_URL_REQUEST__INIT;
  req.job_id = pbstr(job_id);
  req.name = pbstr(name);
  req.ttl_seconds = ttl;
  UNARY(c, folio__v1__layout_service__get_artifact_url__call, &req, url, err);
}

/* Ends a streaming call: 0 when it finished OK (or we cancelled it on
 * purpose), -1 with err filled otherwise. Destroys cc. */
static int stream_end(struct cgrpc_client_call *cc, bool cancelled, struct folio_client_error *err) {
  struct cgrpc_status st = {0};
  int rc = cgrpc_client_call_finish(cc, &st);
  if (rc != 0 && !(cancelled && st.code == GRPC_STATUS_CANCELLED)) status_err(err, &st);
  else rc = 0;
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(cc);
  return rc != 0 ? -1 : 0;
}

int folio_client_watch(struct folio_client *c, const char *job_id, folio_client_watch_cb cb,
                       void *ud, Folio__V1__Job **final, struct folio_client_error *err) {
  if (final) *final = NULL;
  Folio__V1__WatchJobRequest req = FOLIO__V1__WATCH_JOB_REQUEST__INIT;
  req.job_id = pbstr(job_id);
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = call_opts(c, &md, true);
  struct cgrpc_client_call *cc = folio__v1__layout_service__watch_job__start(c->ch, &req, &o);
  if (!cc) {
    set_err(err, GRPC_STATUS_INTERNAL, false, "out of memory");
    return -1;
  }
  Folio__V1__Job *last = NULL, *job;
  bool stopped = false;
  int r;
  while ((r = folio__v1__layout_service__watch_job__read(cc, &job)) == 1) {
    folio_client_free(last);
    last = job;
    if (cb && cb(job, ud) != 0) {
      stopped = true;
      cgrpc_client_call_cancel(cc);
      break;
    }
  }
  int rc = stream_end(cc, stopped, err);
  if (rc == 0 && r < 0) {
    set_err(err, GRPC_STATUS_INTERNAL, false, "the server sent a malformed WatchJob message");
    rc = -1;
  }
  if (final && rc == 0) *final = last;
  else folio_client_free(last);
  return rc;
}

static void hex_of(const unsigned char *d, size_t n, char *out) {
  static const char hx[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hx[d[i] >> 4];
    out[2 * i + 1] = hx[d[i] & 15];
  }
  out[2 * n] = '\0';
}

int folio_client_resume_plan(const char *path, uint64_t total, const char *expected,
                             struct folio_client_resume *plan, struct folio_client_error *err) {
  memset(plan, 0, sizeof *plan);
  crypto_hash_sha256_state *h = (crypto_hash_sha256_state *)(void *)&plan->state;
  crypto_hash_sha256_init(h);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0) {
    set_err(err, GRPC_STATUS_UNKNOWN, true, "%s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  uint64_t have = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
  if (have > total) goto restart;
  unsigned char buf[65536];
  uint64_t done = 0;
  while (done < have) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      set_err(err, GRPC_STATUS_UNKNOWN, true, "%s: %s", path, n < 0 ? strerror(errno) : "file shrank");
      close(fd);
      return -1;
    }
    crypto_hash_sha256_update(h, buf, (unsigned long long)n);
    done += (uint64_t)n;
  }
  plan->offset = have;
  if (have == total && total > 0) {
    crypto_hash_sha256_state copy = *h;
    unsigned char d[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256_final(&copy, d);
    hex_of(d, sizeof d, hex);
    if (expected && !strcmp(hex, expected)) {
      plan->complete = true;
      return fd;
    }
    goto restart;
  }
  return fd;
restart:
  if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
    set_err(err, GRPC_STATUS_UNKNOWN, true, "%s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  crypto_hash_sha256_init(h);
  plan->offset = 0;
  plan->restarted = have > 0;
  return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int folio_client_fetch(struct folio_client *c, const char *job_id, const char *name,
                       const char *path, folio_client_progress_cb progress, void *ud,
                       uint64_t *resumed_from, struct folio_client_error *err) {
  if (resumed_from) *resumed_from = 0;
  /* Size and sha256 first: they decide whether what is on disk can be kept. */
  Folio__V1__Job *job = NULL;
  if (folio_client_status(c, job_id, 0, &job, err) != 0) return -1;
  const Folio__V1__Artifact *art = NULL;
  for (size_t i = 0; i < job->n_artifacts; i++)
    if (!strcmp(job->artifacts[i]->name, name)) art = job->artifacts[i];
  uint64_t total = art ? art->size_bytes : 0;
  char want[65] = "";
  if (art && art->sha256_hex) snprintf(want, sizeof want, "%s", art->sha256_hex);
  folio_client_free(job);
  /* Unknown artifact or unfinished job: let StreamArtifact give the server's
   * error rather than inventing one here. */
  struct folio_client_resume plan;
  int fd = -1;
  if (art) {
    fd = folio_client_resume_plan(path, total, want[0] ? want : NULL, &plan, err);
    if (fd < 0) return -1;
  } else {
    memset(&plan, 0, sizeof plan);
    crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)&plan.state);
  }
  if (resumed_from) *resumed_from = plan.offset;
  if (plan.complete) {
    close(fd);
    if (progress) progress(total, total, ud);
    return 0;
  }
  crypto_hash_sha256_state *h = (crypto_hash_sha256_state *)(void *)&plan.state;

  Folio__V1__StreamArtifactRequest req = FOLIO__V1__STREAM_ARTIFACT_REQUEST__INIT;
  req.job_id = pbstr(job_id);
  req.name = pbstr(name);
  req.offset = plan.offset;
  req.chunk_size = 256 * 1024;
  struct cgrpc_metadata md;
  struct cgrpc_call_options o = call_opts(c, &md, true);
  struct cgrpc_client_call *cc = folio__v1__layout_service__stream_artifact__start(c->ch, &req, &o);
  if (!cc) {
    if (fd >= 0) close(fd);
    set_err(err, GRPC_STATUS_INTERNAL, false, "out of memory");
    return -1;
  }
  uint64_t have = plan.offset;
  char got[65] = "";
  int rc = 0, r;
  Folio__V1__ArtifactChunk *ch;
  if (progress) progress(have, total, ud);
  while ((r = folio__v1__layout_service__stream_artifact__read(cc, &ch)) == 1) {
    if (fd < 0) /* the file is only created once the server sends data */
      fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      set_err(err, GRPC_STATUS_UNKNOWN, true, "%s: %s", path, strerror(errno));
      rc = -1;
    } else if (ch->offset != have) {
      set_err(err, GRPC_STATUS_DATA_LOSS, false, "chunk at offset %llu, expected %llu",
              (unsigned long long)ch->offset, (unsigned long long)have);
      rc = -1;
    } else if (write_all(fd, ch->data.data, ch->data.len) != 0) {
      set_err(err, GRPC_STATUS_UNKNOWN, true, "%s: %s", path, strerror(errno));
      rc = -1;
    } else {
      crypto_hash_sha256_update(h, ch->data.data, ch->data.len);
      have += ch->data.len;
      total = ch->total_size;
      if (ch->sha256_hex && *ch->sha256_hex) snprintf(got, sizeof got, "%s", ch->sha256_hex);
      if (progress) progress(have, total, ud);
    }
    folio_client_free(ch);
    if (rc) {
      cgrpc_client_call_cancel(cc);
      break;
    }
  }
  if (rc) {
    struct cgrpc_status st = {0};
    cgrpc_client_call_finish(cc, &st);
    cgrpc_status_clear(&st);
    cgrpc_client_call_destroy(cc);
  } else if (stream_end(cc, false, err) != 0) {
    rc = -1;
  } else if (r < 0) {
    set_err(err, GRPC_STATUS_INTERNAL, false, "the server sent a malformed ArtifactChunk");
    rc = -1;
  }
  if (fd >= 0 && close(fd) != 0 && rc == 0) {
    set_err(err, GRPC_STATUS_UNKNOWN, true, "%s: %s", path, strerror(errno));
    rc = -1;
  }
  if (rc) return -1; /* keep the partial file: the next fetch resumes it */
  unsigned char d[crypto_hash_sha256_BYTES];
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  crypto_hash_sha256_final(h, d);
  hex_of(d, sizeof d, hex);
  const char *expect = got[0] ? got : want;
  if (have != total || !expect[0] || strcmp(hex, expect) || (want[0] && strcmp(want, expect))) {
    set_err(err, GRPC_STATUS_DATA_LOSS, false,
            "%s: sha256 mismatch after %llu of %llu bytes (file %s, server %s); the file was removed",
            path, (unsigned long long)have, (unsigned long long)total, hex,
            expect[0] ? expect : "(none sent)");
    unlink(path);
    return -1;
  }
  return 0;
}
