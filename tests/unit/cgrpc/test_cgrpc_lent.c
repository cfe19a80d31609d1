/* cgrpc's zero-copy writes (cgrpc_call_write_lent, cgrpc_pack_lent):
 *  - packing: the bytes equal protobuf-c's own packing (cgrpc_pack) for
 *    payloads at odd offsets and sizes around CGRPC_LEND_MIN; every piece of
 *    the lent region at least CGRPC_LEND_MIN long takes one reference, pieces
 *    outside it or shorter take none, and destroying the buffer drops every
 *    reference taken;
 *  - end to end: a Count stream whose payloads (large enough to span many
 *    HTTP/2 DATA frames) are sent by reference from one buffer that the
 *    handler overwrites with poison as soon as gRPC has let go of it (the
 *    reuse rule of folio-server's StreamArtifact). The client sees the
 *    intended bytes of every message, and the last reference is
 *    dropped once the call is over. */
#include <grpc/byte_buffer_reader.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "cgrpc_int.h"
#include "check.h"
#include "echo_server.h"

#define S(x) ((char *)(uintptr_t)(x))

/* ---- a counted lender ---- */

struct lender {
  atomic_int refs, taken;
};
static void l_ref(void *ud) {
  struct lender *l = ud;
  atomic_fetch_add(&l->refs, 1);
  atomic_fetch_add(&l->taken, 1);
}
static void l_unref(void *ud) {
  struct lender *l = ud;
  CHECK(atomic_fetch_sub(&l->refs, 1) > 0);
}

static void fill(uint8_t *b, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) b[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
}

static void bb_bytes(grpc_byte_buffer *bb, uint8_t **out, size_t *n) {
  grpc_byte_buffer_reader r;
  CHECK(grpc_byte_buffer_reader_init(&r, bb));
  grpc_slice s = grpc_byte_buffer_reader_readall(&r);
  grpc_byte_buffer_reader_destroy(&r);
  *n = GRPC_SLICE_LENGTH(s);
  *out = malloc(*n + 1);
  CHECK(*out);
  memcpy(*out, GRPC_SLICE_START_PTR(s), *n);
  grpc_slice_unref(s);
}

/* Packs r both ways; returns the references the lent packing took. */
static int pack_both(const CgrpcTest__V1__EchoReply *r, const uint8_t *region, size_t rlen) {
  struct lender l = {0};
  struct cgrpc_lend lend = {region, rlen, l_ref, l_unref, &l};
  size_t n1, n2;
  grpc_byte_buffer *want = cgrpc_pack(&r->base, &n1);
  grpc_byte_buffer *got = cgrpc_pack_lent(&r->base, &lend, &n2);
  CHECK(want && got);
  CHECK_EQ_INT(n1, n2);
  uint8_t *a, *b;
  size_t na, nb;
  bb_bytes(want, &a, &na);
  bb_bytes(got, &b, &nb);
  CHECK_EQ_INT(na, nb);
  CHECK_EQ_INT(na, n1);
  CHECK_MSG(memcmp(a, b, na) == 0, "lent packing differs from protobuf-c's (%zu bytes)", na);
  free(a);
  free(b);
  int taken = atomic_load(&l.taken);
  CHECK_EQ_INT(atomic_load(&l.refs), taken); /* the buffer holds them all */
  grpc_byte_buffer_destroy(want);
  grpc_byte_buffer_destroy(got);
  CHECK_EQ_INT(atomic_load(&l.refs), 0); /* and gives them all back */
  return taken;
}

static void test_pack(void) {
  enum { REGION = 300 * 1024 };
  uint8_t *region = malloc(REGION);
  CHECK(region);
  fill(region, REGION, 7);
  static const size_t sizes[] = {0, 1, 127, 128, 1023, 1024, 1025, 16383, 16384, 16385, 65536,
                                 200001};
  static const size_t offs[] = {0, 1, 3, 4097, 65535};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
    for (size_t j = 0; j < sizeof offs / sizeof *offs; j++) {
      size_t n = sizes[i], off = offs[j];
      CgrpcTest__V1__EchoReply r = CGRPC_TEST__V1__ECHO_REPLY__INIT;
      r.payload.data = region + off;
      r.payload.len = n;
      r.index = (uint32_t)(i * 100 + j);
      r.text = S("a small copied field after the payload");
      int want = n >= CGRPC_LEND_MIN ? 1 : 0;
      CHECK_MSG(pack_both(&r, region, REGION) == want, "size %zu offset %zu", n, off);
      /* the same payload from outside the region: copied, no reference */
      uint8_t *elsewhere = malloc(n + 1);
      CHECK(elsewhere);
      memcpy(elsewhere, region + off, n);
      r.payload.data = elsewhere;
      CHECK_EQ_INT(pack_both(&r, region, REGION), 0);
      /* a region that ends one byte short of the payload: copied */
      r.payload.data = region + off;
      CHECK_EQ_INT(pack_both(&r, region + off, n ? n - 1 : 0), 0);
      free(elsewhere);
    }
  /* two lent pieces (a string and the bytes) around copied fields */
  char *text = (char *)region + 100000;
  text[5000] = '\0';
  for (size_t k = 0; k < 5000; k++) text[k] = (char)('a' + k % 26);
  CgrpcTest__V1__EchoReply r = CGRPC_TEST__V1__ECHO_REPLY__INIT;
  r.text = text;
  r.index = 9;
  r.payload.data = region + 3;
  r.payload.len = 40000;
  r.peer = S("peer");
  CHECK_EQ_INT(pack_both(&r, region, REGION), 2);
  free(region);
}

/* ---- end to end: a stream of lent payloads, the buffer poisoned on reuse ---- */

#define MSGS 40
#define PAYLOAD (150 * 1024 + 17) /* ~10 DATA frames of 16 KiB, odd length */
#define BUF (PAYLOAD + 16)
#define SLOTS MSGS

/* Buffers, each its own lender; a buffer is refilled only when gRPC holds
 * no reference to it, and poisoned first. */
static struct {
  struct lender l[SLOTS];
  uint8_t *buf[SLOTS];
  int nbuf;
  uint32_t next;
  atomic_int poisoned, taken;
  atomic_bool done;
} srv;

static void lent_next(struct cgrpc_call *call, bool ok, void *ud);

static void lent_send(struct cgrpc_call *call) {
  int k = 0;
  while (k < srv.nbuf && atomic_load(&srv.l[k].refs) != 0) k++;
  if (k == srv.nbuf) { /* every buffer still read by gRPC: a new one */
    CHECK(srv.nbuf < SLOTS);
    srv.buf[k] = malloc(BUF);
    CHECK(srv.buf[k]);
    srv.nbuf++;
  } else {
    memset(srv.buf[k], 0xEE, BUF); /* bytes sent late would show this */
    atomic_fetch_add(&srv.poisoned, 1);
  }
  size_t off = 1 + srv.next % 13; /* odd offsets */
  fill(srv.buf[k] + off, PAYLOAD, srv.next);
  CgrpcTest__V1__EchoReply r = CGRPC_TEST__V1__ECHO_REPLY__INIT;
  r.index = srv.next++;
  r.payload.data = srv.buf[k] + off;
  r.payload.len = PAYLOAD;
  r.text = S("t");
  struct cgrpc_lend lend = {srv.buf[k], BUF, l_ref, l_unref, &srv.l[k]};
  CHECK_EQ_INT(cgrpc_call_write_lent(call, &r.base, &lend, lent_next, NULL), 0);
  CHECK_EQ_INT(atomic_load(&srv.l[k].taken), 1); /* the payload, by reference */
  atomic_store(&srv.l[k].taken, 0);
  atomic_fetch_add(&srv.taken, 1);
}

static void lent_next(struct cgrpc_call *call, bool ok, void *ud) {
  (void)ud;
  CHECK(ok);
  if (srv.next == MSGS) {
    cgrpc_call_finish(call, GRPC_STATUS_OK, NULL);
    atomic_store(&srv.done, true);
    return;
  }
  lent_send(call);
}

static void lent_count(struct cgrpc_call *call, const CgrpcTest__V1__EchoRequest *req,
                       void *impl) {
  (void)req, (void)impl;
  srv.next = 0;
  lent_send(call);
}

static void test_stream(void) {
  struct cgrpc_server_config c = {.listen = "127.0.0.1:0", .cq_threads = 2};
  char err[256] = "";
  struct cgrpc_server *s = cgrpc_server_create(&c, err, sizeof err);
  CHECK_MSG(s, "cgrpc_server_create: %s", err);
  static const struct cgrpc_test__v1__echo__handlers h = {.count = lent_count};
  CHECK(cgrpc_test__v1__echo__register(s, &h, NULL) == 0);
  CHECK_MSG(cgrpc_server_start(s, err, sizeof err) == 0, "cgrpc_server_start: %s", err);
  struct cgrpc_channel *ch = cgrpc_channel_create(echo_target(s), NULL, err, sizeof err);
  CHECK_MSG(ch, "cgrpc_channel_create: %s", err);

  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  struct cgrpc_client_call *cc = cgrpc_test__v1__echo__count__start(ch, &req, NULL);
  CHECK(cc);
  uint8_t *want = malloc(PAYLOAD);
  CHECK(want);
  for (uint32_t i = 0; i < MSGS; i++) {
    CgrpcTest__V1__EchoReply *r;
    CHECK_EQ_INT(cgrpc_test__v1__echo__count__read(cc, &r), 1);
    CHECK_EQ_INT(r->index, i);
    CHECK_EQ_INT(r->payload.len, PAYLOAD);
    fill(want, PAYLOAD, i);
    CHECK_MSG(memcmp(r->payload.data, want, PAYLOAD) == 0, "message %u: payload bytes differ", i);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (i % 8 == 0) { /* a slow reader now and then: writes wait for window */
      struct timespec ts = {0, 20 * 1000000};
      nanosleep(&ts, NULL);
    }
  }
  CgrpcTest__V1__EchoReply *r;
  CHECK_EQ_INT(cgrpc_test__v1__echo__count__read(cc, &r), 0);
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_client_call_finish(cc, &st), 0);
  CHECK_EQ_INT(st.code, GRPC_STATUS_OK);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(cc);
  CHECK(atomic_load(&srv.done));
  CHECK_EQ_INT(atomic_load(&srv.taken), MSGS); /* every payload went by reference */
  CHECK(atomic_load(&srv.poisoned) > 0);      /* and buffers were reused */
  cgrpc_channel_destroy(ch);
  cgrpc_server_destroy(s);
  for (int k = 0; k < srv.nbuf; k++) {
    CHECK_EQ_INT(atomic_load(&srv.l[k].refs), 0); /* gRPC dropped every one */
    free(srv.buf[k]);
  }
  free(want);
}

int main(void) {
  grpc_init();
  test_pack();
  test_stream();
  grpc_shutdown();
  return check_done();
}
