/* The request engine of folio_s3: libcurl multi in socket-action mode, wired
 * into a folio_loop (curl tells us which fds to watch and one timeout; we tell
 * curl what became ready). Everything here runs on the loop thread; public
 * operations called from other threads arrive through folio_loop_post().
 *
 * A request (struct folio_s3_req) is one logical S3 call. Each attempt signs
 * the request afresh (new x-amz-date) and runs one curl easy handle; a failed
 * idempotent attempt is retried after a jittered backoff on a loop timer. The
 * request's `complete` hook runs exactly once (success, final failure, cancel,
 * client destroy) and the request is freed right after it.
 *
 * GET bodies stream to the consumer. When the consumer pauses, the write
 * callback returns CURL_WRITEFUNC_PAUSE; curl then keeps that chunk and hands it
 * over again after unpausing, so we remember how many of its bytes were already
 * consumed (skip) and drop them on redelivery. */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"
#include "xml.h"

#define MAX_ERROR_BODY (64 * 1024)
#define MAX_XML_BODY (1024 * 1024)
/* curl's receive buffer for GETs streamed to a consumer. curl's default (16
 * KiB) costs a recv() and a write callback per 16 KiB; 64 KiB took a fifth
 * off folio-server's CPU per GiB streamed (bench/artifacts). Not larger: curl
 * allocates it when a transfer is added, also while the transfer waits for a
 * connection (max_host_connections), so 200 queued GETs hold 200 of them. */
#define STREAM_BUFFER (64 * 1024)

struct folio_s3_client {
  struct folio_loop *loop;
  struct folio_s3_config cfg; /* strings below are owned copies */
  char *s_endpoint, *s_public, *s_region, *s_bucket, *s_access, *s_secret;
  struct folio_s3_endpoint ep;
  CURLM *multi;
  struct folio_loop_timer timer;
  struct folio_s3_req *reqs; /* every live request (running or waiting to retry) */
  bool closing;
  atomic_int refs;
  pthread_mutex_t mu; /* guards closers */
  struct folio_s3_closer *closers;
};

struct folio_s3_req {
  struct folio_s3_client *c;
  struct folio_s3_req *prev, *next;
  struct folio_s3_req_spec spec; /* strings below are owned copies */
  char *s_method, *s_key, *s_q0n, *s_q0v, *s_q1n, *s_q1v, *s_ctype, *s_range, *s_ifmatch;
  char payload_hash[65];
  CURL *easy;
  struct curl_slist *hdrs;
  struct folio_loop_timer retry_timer;
  int attempts;
  size_t body_off;
  /* per attempt */
  long http_status;
  bool error_reply; /* status >= 300: body goes to errbody */
  struct folio_str errbody, xmlbody;
  char etag[128], ctype[128], crange[128];
  uint64_t clen;
  bool have_clen;
  uint64_t delivered; /* body bytes given to on_data, all attempts */
  size_t skip;        /* bytes of a redelivered chunk already consumed */
  bool paused;
  int abort_status; /* set when on_data asked to stop */
  char curl_err[CURL_ERROR_SIZE];
};

static void req_free(struct folio_s3_req *rq) {
  if (rq->easy) curl_easy_cleanup(rq->easy);
  curl_slist_free_all(rq->hdrs);
  folio_str_free(&rq->errbody);
  folio_str_free(&rq->xmlbody);
  free(rq->s_method);
  free(rq->s_key);
  free(rq->s_q0n);
  free(rq->s_q0v);
  free(rq->s_q1n);
  free(rq->s_q1v);
  free(rq->s_ctype);
  free(rq->s_range);
  free(rq->s_ifmatch);
  free(rq);
}

struct folio_loop *folio_s3_client_loop(const struct folio_s3_client *c) { return c->loop; }
const struct folio_s3_config *folio_s3_client_config(const struct folio_s3_client *c) {
  return &c->cfg;
}
bool folio_s3_client_closing(const struct folio_s3_client *c) { return c->closing; }
void *folio_s3_req_arg(const struct folio_s3_req *rq) { return rq->spec.complete_arg; }
const char *folio_s3_req_etag(const struct folio_s3_req *rq) { return rq->etag; }
const char *folio_s3_req_body(const struct folio_s3_req *rq, size_t *len) {
  if (len) *len = rq->xmlbody.len;
  return rq->xmlbody.p ? rq->xmlbody.p : "";
}

/* ---- completion ---- */

static void req_unlink(struct folio_s3_req *rq) {
  struct folio_s3_client *c = rq->c;
  if (rq->prev)
    rq->prev->next = rq->next;
  else if (c->reqs == rq)
    c->reqs = rq->next;
  if (rq->next) rq->next->prev = rq->prev;
  rq->prev = rq->next = NULL;
}

static void req_finish(struct folio_s3_req *rq, struct folio_s3_result *res) {
  folio_loop_timer_stop(rq->c->loop, &rq->retry_timer);
  if (rq->easy) curl_multi_remove_handle(rq->c->multi, rq->easy);
  req_unlink(rq);
  res->attempts = rq->attempts;
  rq->spec.complete(rq, res);
  req_free(rq);
}

static void finish_status(struct folio_s3_req *rq, int status, const char *msg) {
  struct folio_s3_result res = {.status = status,
                                .http_status = rq->http_status,
                                .error_code = "",
                                .error_message = msg ? msg : "",
                                .etag = "",
                                .content_type = ""};
  req_finish(rq, &res);
}

void folio_s3_req_cancel(struct folio_s3_req *rq, int status) {
  finish_status(rq, status, status == FOLIO_S3_ECANCELED ? "cancelled" : "aborted");
}

/* ---- curl callbacks ---- */

static size_t on_header(char *buf, size_t size, size_t n, void *arg) {
  struct folio_s3_req *rq = arg;
  size_t len = size * n;
  if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) { /* a new response (also after 100) */
    rq->etag[0] = rq->ctype[0] = rq->crange[0] = '\0';
    rq->have_clen = false;
    return len;
  }
  const char *colon = memchr(buf, ':', len);
  if (!colon) return len;
  size_t nlen = (size_t)(colon - buf);
  const char *v = colon + 1;
  const char *end = buf + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
  size_t vlen = (size_t)(end - v);
  char *dst = NULL;
  size_t cap = 0;
  if (nlen == 4 && strncasecmp(buf, "ETag", 4) == 0) {
    dst = rq->etag;
    cap = sizeof rq->etag;
  } else if (nlen == 12 && strncasecmp(buf, "Content-Type", 12) == 0) {
    dst = rq->ctype;
    cap = sizeof rq->ctype;
  } else if (nlen == 13 && strncasecmp(buf, "Content-Range", 13) == 0) {
    dst = rq->crange;
    cap = sizeof rq->crange;
  } else if (nlen == 14 && strncasecmp(buf, "Content-Length", 14) == 0) {
    char tmp[32];
    if (vlen < sizeof tmp) {
      memcpy(tmp, v, vlen);
      tmp[vlen] = '\0';
      char *e;
      unsigned long long x = strtoull(tmp, &e, 10);
      if (*e == '\0' && vlen) {
        rq->clen = x;
        rq->have_clen = true;
      }
    }
  }
  if (dst) {
    if (vlen >= cap) vlen = cap - 1;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
  }
  return len;
}

static size_t on_write(char *buf, size_t size, size_t n, void *arg) {
  struct folio_s3_req *rq = arg;
  size_t len = size * n;
  if (rq->http_status == 0) curl_easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &rq->http_status);
  if (rq->http_status >= 300) {
    if (rq->errbody.len + len <= MAX_ERROR_BODY) folio_str_append(&rq->errbody, buf, len);
    return len;
  }
  if (!rq->spec.on_data) {
    if (rq->spec.keep_body) {
      if (rq->xmlbody.len + len > MAX_XML_BODY) return 0; /* fails the transfer */
      folio_str_append(&rq->xmlbody, buf, len);
    }
    return len;
  }
  size_t skip = rq->skip < len ? rq->skip : len;
  rq->skip -= skip;
  if (skip == len) return len;
  int r = rq->spec.on_data(rq->spec.data_arg, buf + skip, len - skip);
  rq->delivered += len - skip;
  if (r < 0) {
    rq->abort_status = FOLIO_S3_EABORTED;
    return 0; /* CURLE_WRITE_ERROR */
  }
  if (r == FOLIO_S3_PAUSE) {
    rq->paused = true;
    rq->skip = len; /* curl redelivers this whole chunk after unpause */
    return CURL_WRITEFUNC_PAUSE;
  }
  return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg) {
  struct folio_s3_req *rq = arg;
  size_t left = rq->spec.body_len - rq->body_off;
  size_t len = size * n < left ? size * n : left;
  if (len) memcpy(buf, (const char *)rq->spec.body + rq->body_off, len);
  rq->body_off += len;
  return len;
}

static int on_seek(void *arg, curl_off_t off, int origin) {
  struct folio_s3_req *rq = arg;
  if (origin != SEEK_SET || off < 0 || (size_t)off > rq->spec.body_len) return CURL_SEEKFUNC_FAIL;
  rq->body_off = (size_t)off;
  return CURL_SEEKFUNC_OK;
}

/* ---- attempts ---- */

static int build_attempt(struct folio_s3_req *rq) {
  struct folio_s3_client *c = rq->c;
  const struct folio_s3_req_spec *s = &rq->spec;
  struct folio_str host = {0}, path = {0}, url = {0}, hv = {0};
  int rc = FOLIO_S3_ENOMEM;
  folio_s3_target(&c->cfg, &c->ep, s->key, &host, &path);
  char date[17];
  folio_s3_sigv4_amz_date(time(NULL), date);
  struct folio_s3_kv h[6];
  size_t nh = 0;
  h[nh++] = (struct folio_s3_kv){"host", host.p};
  h[nh++] = (struct folio_s3_kv){"x-amz-content-sha256", rq->payload_hash};
  h[nh++] = (struct folio_s3_kv){"x-amz-date", date};
  if (s->content_type) h[nh++] = (struct folio_s3_kv){"content-type", s->content_type};
  if (s->range) h[nh++] = (struct folio_s3_kv){"range", s->range};
  if (s->if_match) h[nh++] = (struct folio_s3_kv){"if-match", s->if_match};
  struct folio_s3_sigv4_request sreq = {s->method, path.p, s->query, s->nquery, h, nh,
                                        rq->payload_hash};
  struct folio_s3_sigv4_creds cr = {c->cfg.access_key, c->cfg.secret_key, c->cfg.region, "s3"};
  struct folio_s3_sigv4_result sig;
  if (!folio_str_ok(&host) || !folio_str_ok(&path)) goto out;
  if (folio_s3_sigv4_sign(&sreq, &cr, date, &sig)) goto out;
  /* URL: the same encoding the signer used (query in canonical order) */
  folio_str_printf(&url, "%s://%s", c->ep.scheme, host.p);
  folio_s3_sigv4_uri_encode(&url, path.p, path.len, true);
  {
    const char *cq = strchr(strchr(sig.canonical_request, '\n') + 1, '\n') + 1;
    size_t cqlen = strcspn(cq, "\n");
    if (cqlen) {
      folio_str_putc(&url, '?');
      folio_str_append(&url, cq, cqlen);
    }
  }
  curl_slist_free_all(rq->hdrs);
  rq->hdrs = NULL;
  for (size_t i = 0; i < nh; i++) {
    hv.len = 0;
    if (hv.p) hv.p[0] = '\0';
    folio_str_printf(&hv, "%s: %s", i == 0 ? "Host" : h[i].name, h[i].value);
    if (!folio_str_ok(&hv)) break;
    struct curl_slist *l = curl_slist_append(rq->hdrs, hv.p);
    if (!l) break;
    rq->hdrs = l;
  }
  hv.len = 0;
  folio_str_printf(&hv, "Authorization: %s", sig.authorization);
  struct curl_slist *l = folio_str_ok(&hv) ? curl_slist_append(rq->hdrs, hv.p) : NULL;
  if (l) rq->hdrs = l;
  /* no "Expect: 100-continue" round trip before the body */
  if (l && (l = curl_slist_append(rq->hdrs, "Expect:"))) rq->hdrs = l;
  /* curl labels POST bodies application/x-www-form-urlencoded by default; S3
   * would store that as the type of a multipart object */
  if (l && !s->content_type && (l = curl_slist_append(rq->hdrs, "Content-Type:"))) rq->hdrs = l;
  folio_s3_sigv4_result_free(&sig);
  if (!l || !folio_str_ok(&url)) goto out;

  if (!rq->easy && !(rq->easy = curl_easy_init())) goto out;
  CURL *e = rq->easy;
  curl_easy_reset(e);
  curl_easy_setopt(e, CURLOPT_URL, url.p);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, rq->hdrs);
  curl_easy_setopt(e, CURLOPT_PRIVATE, rq);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, rq->curl_err);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms);
  /* a streamed GET may stay paused for as long as its consumer needs; a dead
   * server is caught by the low-speed limit, which curl suspends while paused */
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->on_data ? 0L : c->cfg.request_timeout_ms);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->cfg.low_speed_timeout_s);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, rq);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, rq);
  if (s->on_data) curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)STREAM_BUFFER);
  if (strcmp(s->method, "PUT") == 0) {
    rq->body_off = 0;
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->body_len);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, rq);
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, rq);
  } else if (strcmp(s->method, "POST") == 0) {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body_len ? s->body : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body_len);
  } else if (strcmp(s->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (strcmp(s->method, "GET") != 0) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s->method);
  }
  rq->http_status = 0;
  rq->error_reply = false;
  rq->errbody.len = 0;
  rq->xmlbody.len = 0;
  rq->etag[0] = rq->ctype[0] = rq->crange[0] = '\0';
  rq->have_clen = false;
  rq->skip = 0;
  rq->paused = false;
  rq->curl_err[0] = '\0';
  rq->attempts++;
  rc = curl_multi_add_handle(c->multi, e) == CURLM_OK ? 0 : FOLIO_S3_ENOMEM;
out:
  folio_str_free(&host);
  folio_str_free(&path);
  folio_str_free(&url);
  folio_str_free(&hv);
  return rc;
}

static void on_retry_timer(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct folio_s3_req *rq = arg;
  if (build_attempt(rq)) finish_status(rq, FOLIO_S3_ENOMEM, "out of memory starting a retry");
}

static uint64_t backoff_ms(const struct folio_s3_client *c, int attempt) {
  uint64_t ceil = (uint64_t)c->cfg.retry_base_ms;
  for (int i = 1; i < attempt && ceil < 5000; i++) ceil *= 2;
  if (ceil > 5000) ceil = 5000;
  /* full jitter: uniform in [0, ceil] */
  return (uint64_t)randombytes_uniform((uint32_t)ceil + 1);
}

static bool retryable_curl(CURLcode cc) {
  switch (cc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return true;
  default:
    return false;
  }
}

static void attempt_done(struct folio_s3_req *rq, CURLcode cc) {
  struct folio_s3_client *c = rq->c;
  curl_multi_remove_handle(c->multi, rq->easy);
  if (rq->abort_status) {
    finish_status(rq, rq->abort_status, "the data consumer stopped the transfer");
    return;
  }
  if (cc == CURLE_OK) curl_easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &rq->http_status);
  bool retry_kind = cc != CURLE_OK ? retryable_curl(cc)
                                   : (rq->http_status >= 500 || rq->http_status == 429);
  /* A request that never reached the server (no connection) is safe to repeat
   * whatever its method: CreateMultipartUpload and CompleteMultipartUpload
   * then survive an S3 restart too. */
  bool never_sent = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST;
  bool can_retry = (rq->spec.idempotent || never_sent) && rq->attempts <= c->cfg.max_retries &&
                   rq->delivered == 0 && !c->closing;
  if (retry_kind && can_retry) {
    folio_loop_timer_start(c->loop, &rq->retry_timer, backoff_ms(c, rq->attempts), 0,
                           on_retry_timer, rq);
    return;
  }
  if (cc != CURLE_OK) {
    char msg[CURL_ERROR_SIZE + 64];
    snprintf(msg, sizeof msg, "%s: %s", curl_easy_strerror(cc),
             rq->curl_err[0] ? rq->curl_err : "no detail");
    rq->http_status = 0;
    finish_status(rq, FOLIO_S3_ETRANSPORT, msg);
    return;
  }
  struct folio_s3_result res = {.status = FOLIO_S3_OK,
                                .http_status = rq->http_status,
                                .error_code = "",
                                .error_message = "",
                                .etag = rq->etag,
                                .content_type = rq->ctype};
  char code[64] = "", message[512] = "";
  if (rq->http_status >= 300 || rq->http_status < 200) {
    res.status = FOLIO_S3_EHTTP;
    if (rq->errbody.len) {
      char xerr[128];
      struct folio_s3_xml_field f[] = {{"Code", code, sizeof code, 0},
                                       {"Message", message, sizeof message, 0}};
      if (folio_s3_xml_parse(rq->errbody.p, rq->errbody.len, f, 2, xerr, sizeof xerr) != 0)
        snprintf(message, sizeof message, "unreadable error reply (%s)", xerr);
    } else if (rq->http_status == 404) {
      snprintf(code, sizeof code, "NotFound"); /* HEAD: no body to carry a code */
    } else if (rq->http_status == 403) {
      snprintf(code, sizeof code, "Forbidden");
    }
    if (!code[0] && !message[0]) snprintf(message, sizeof message, "HTTP %ld", rq->http_status);
    res.error_code = code;
    res.error_message = message;
  }
  res.content_length = rq->have_clen ? rq->clen : 0;
  res.object_size = res.content_length;
  const char *slash = strchr(rq->crange, '/');
  if (slash && slash[1] != '*') res.object_size = strtoull(slash + 1, NULL, 10);
  req_finish(rq, &res);
}

static void check_done(struct folio_s3_client *c) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE) continue;
    struct folio_s3_req *rq = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&rq);
    CURLcode cc = m->data.result;
    if (rq) attempt_done(rq, cc);
  }
}

/* ---- loop adapter ---- */

static void on_io(struct folio_loop *loop, int fd, unsigned ev, void *arg) {
  struct folio_s3_client *c = arg;
  int flags = 0, running;
  if (ev & FOLIO_LOOP_READ) flags |= CURL_CSELECT_IN;
  if (ev & FOLIO_LOOP_WRITE) flags |= CURL_CSELECT_OUT;
  if (ev & FOLIO_LOOP_ERROR) flags |= CURL_CSELECT_ERR;
  curl_multi_socket_action(c->multi, fd, flags, &running);
  check_done(c);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  struct folio_s3_client *c = userp;
  if (what == CURL_POLL_REMOVE) {
    folio_loop_unwatch(c->loop, s);
    return 0;
  }
  unsigned ev = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev |= FOLIO_LOOP_READ;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev |= FOLIO_LOOP_WRITE;
  return folio_loop_watch(c->loop, s, ev, on_io, c) == 0 ? 0 : -1;
}

static void on_timer(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct folio_s3_client *c = arg;
  int running;
  curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(c);
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp) {
  struct folio_s3_client *c = userp;
  if (timeout_ms < 0)
    folio_loop_timer_stop(c->loop, &c->timer);
  else
    folio_loop_timer_start(c->loop, &c->timer, (uint64_t)timeout_ms, 0, on_timer, c);
  return 0;
}

/* ---- requests ---- */

static char *dup_or_null(const char *s, bool *oom) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) *oom = true;
  return d;
}

struct folio_s3_req *folio_s3_req_start(struct folio_s3_client *c,
                                        const struct folio_s3_req_spec *spec) {
  struct folio_s3_req *rq = calloc(1, sizeof *rq);
  if (!rq) {
    struct folio_s3_result res = {.status = FOLIO_S3_ENOMEM, .error_code = "",
                                  .error_message = "out of memory", .etag = "",
                                  .content_type = ""};
    /* complete needs a request to read its arg from: use a stack stand-in */
    struct folio_s3_req tmp = {.c = c, .spec = *spec};
    spec->complete(&tmp, &res);
    return NULL;
  }
  rq->c = c;
  rq->spec = *spec;
  bool oom = false;
  rq->spec.method = rq->s_method = dup_or_null(spec->method, &oom);
  rq->spec.key = rq->s_key = dup_or_null(spec->key, &oom);
  if (spec->nquery > 0) {
    rq->spec.query[0].name = rq->s_q0n = dup_or_null(spec->query[0].name, &oom);
    rq->spec.query[0].value = rq->s_q0v = dup_or_null(spec->query[0].value, &oom);
  }
  if (spec->nquery > 1) {
    rq->spec.query[1].name = rq->s_q1n = dup_or_null(spec->query[1].name, &oom);
    rq->spec.query[1].value = rq->s_q1v = dup_or_null(spec->query[1].value, &oom);
  }
  rq->spec.content_type = rq->s_ctype = dup_or_null(spec->content_type, &oom);
  rq->spec.range = rq->s_range = dup_or_null(spec->range, &oom);
  rq->spec.if_match = rq->s_ifmatch = dup_or_null(spec->if_match, &oom);
  if (spec->payload_hash)
    snprintf(rq->payload_hash, sizeof rq->payload_hash, "%s", spec->payload_hash);
  else
    folio_s3_sigv4_sha256_hex(spec->body_len ? spec->body : "", spec->body_len, rq->payload_hash);
  folio_loop_timer_init(&rq->retry_timer);
  /* link first so that finish_status can unlink uniformly */
  rq->next = c->reqs;
  if (c->reqs) c->reqs->prev = rq;
  c->reqs = rq;
  if (c->closing) {
    finish_status(rq, FOLIO_S3_ECANCELED, "the S3 client is shutting down");
    return NULL;
  }
  if (oom || build_attempt(rq)) {
    finish_status(rq, FOLIO_S3_ENOMEM, "out of memory building the request");
    return NULL;
  }
  return rq;
}

void folio_s3_req_resume(struct folio_s3_req *rq) {
  if (!rq->paused) return;
  rq->paused = false;
  curl_easy_pause(rq->easy, CURLPAUSE_CONT);
  /* unpausing may have delivered data and finished the transfer */
  check_done(rq->c);
}

/* ---- client ---- */

struct folio_s3_client *folio_s3_client_create(const struct folio_s3_config *cfg,
                                               struct folio_loop *loop, char *err,
                                               size_t errcap) {
  static atomic_int curl_inited;
  if (folio_s3_config_check(cfg, err, errcap)) return NULL;
  if (!loop) {
    folio_s3_set_err(err, errcap, "S3 client needs a loop");
    return NULL;
  }
  if (sodium_init() < 0) {
    folio_s3_set_err(err, errcap, "libsodium failed to initialise");
    return NULL;
  }
  if (atomic_exchange(&curl_inited, 1) == 0) curl_global_init(CURL_GLOBAL_DEFAULT);
  struct folio_s3_client *c = calloc(1, sizeof *c);
  if (!c) goto oom;
  atomic_init(&c->refs, 1);
  pthread_mutex_init(&c->mu, NULL);
  c->loop = loop;
  c->cfg = *cfg;
  bool oom = false;
  c->cfg.endpoint = c->s_endpoint = dup_or_null(cfg->endpoint, &oom);
  c->cfg.public_endpoint = c->s_public = dup_or_null(cfg->public_endpoint, &oom);
  c->cfg.region = c->s_region =
      dup_or_null(cfg->region && *cfg->region ? cfg->region : "us-east-1", &oom);
  c->cfg.bucket = c->s_bucket = dup_or_null(cfg->bucket, &oom);
  c->cfg.access_key = c->s_access = dup_or_null(cfg->access_key, &oom);
  c->cfg.secret_key = c->s_secret = dup_or_null(cfg->secret_key, &oom);
  if (oom) goto oom;
  if (!c->cfg.connect_timeout_ms) c->cfg.connect_timeout_ms = 5000;
  if (!c->cfg.request_timeout_ms) c->cfg.request_timeout_ms = 300000;
  if (!c->cfg.low_speed_timeout_s) c->cfg.low_speed_timeout_s = 30;
  if (!c->cfg.max_retries) c->cfg.max_retries = 3;
  if (c->cfg.max_retries < 0) c->cfg.max_retries = 0;
  if (c->cfg.retry_base_ms <= 0) c->cfg.retry_base_ms = 100;
  if (!c->cfg.part_size) c->cfg.part_size = 8u * 1024 * 1024;
  if (c->cfg.parts_in_flight <= 0) c->cfg.parts_in_flight = 4;
  if (c->cfg.max_host_connections <= 0) c->cfg.max_host_connections = 16;
  folio_s3_endpoint_parse(c->cfg.endpoint, &c->ep, NULL, 0);
  folio_loop_timer_init(&c->timer);
  c->multi = curl_multi_init();
  if (!c->multi) goto oom;
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, c->cfg.max_host_connections);
  curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, c->cfg.max_host_connections);
  return c;
oom:
  folio_s3_set_err(err, errcap, "out of memory creating the S3 client");
  folio_s3_client_destroy(c);
  return NULL;
}

void folio_s3_client_ref(struct folio_s3_client *c) { atomic_fetch_add(&c->refs, 1); }

void folio_s3_client_unref(struct folio_s3_client *c) {
  if (atomic_fetch_sub(&c->refs, 1) != 1) return;
  free(c->s_endpoint);
  free(c->s_public);
  free(c->s_region);
  free(c->s_bucket);
  free(c->s_access);
  if (c->s_secret) sodium_memzero(c->s_secret, strlen(c->s_secret));
  free(c->s_secret);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

void folio_s3_client_add_closer(struct folio_s3_client *c, struct folio_s3_closer *cl) {
  pthread_mutex_lock(&c->mu);
  cl->prev = NULL;
  cl->next = c->closers;
  if (c->closers) c->closers->prev = cl;
  c->closers = cl;
  cl->linked = true;
  pthread_mutex_unlock(&c->mu);
}

void folio_s3_client_remove_closer(struct folio_s3_client *c, struct folio_s3_closer *cl) {
  pthread_mutex_lock(&c->mu);
  if (cl->linked) {
    if (cl->prev)
      cl->prev->next = cl->next;
    else
      c->closers = cl->next;
    if (cl->next) cl->next->prev = cl->prev;
    cl->prev = cl->next = NULL;
    cl->linked = false;
  }
  pthread_mutex_unlock(&c->mu);
}

void folio_s3_client_destroy(struct folio_s3_client *c) {
  if (!c) return;
  c->closing = true;
  /* end long-lived operations first (they may hold requests), then whatever
   * requests remain; complete hooks that start follow-up requests see
   * `closing` and fail at once, so this terminates */
  for (;;) {
    pthread_mutex_lock(&c->mu);
    struct folio_s3_closer *cl = c->closers;
    pthread_mutex_unlock(&c->mu);
    if (!cl) break;
    folio_s3_client_remove_closer(c, cl);
    cl->close(cl);
  }
  while (c->reqs) folio_s3_req_cancel(c->reqs, FOLIO_S3_ECANCELED);
  if (c->multi) curl_multi_cleanup(c->multi); /* may unwatch sockets via on_socket */
  c->multi = NULL;
  folio_loop_timer_stop(c->loop, &c->timer);
  folio_s3_client_unref(c);
}
