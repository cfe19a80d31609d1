/* folio's deflate encoder for PNG pages (RFC 1950/1951), made for what a
 * filtered page is: mostly runs of zero bytes (white paper, and rows equal to
 * the row above once the Up filter has run) with ink in between.
 *
 * A general compressor (libdeflate, zlib) spends the same ~2-3 ns on every
 * input byte, zeros included: 84 % of an A4 text page at 150 dpi is zeros
 * after the Up filter, and compressing them cost libdeflate 13 ms of its 19.
 * Here a run of zeros is found eight bytes at a time and becomes a few
 * distance-1 matches of 258 bytes without hashing a single position; the
 * rest goes through a greedy LZ77 with a one-entry hash table (4-byte
 * sequences, 32 KiB window), then dynamic Huffman blocks of up to 64 Ki
 * tokens. A block whose coded size would exceed its stored size is stored,
 * so the output never exceeds folio_deflate_bound (photos, noise).
 *
 * Independent pieces: folio_deflate_raw encodes one piece of the input
 * without reference to bytes before it, ending either with the final block
 * or, for a piece that others follow, with an empty stored block that ends
 * on a byte boundary (zlib's sync flush). Pieces encoded on different
 * threads and joined in order are one valid deflate stream; the zlib
 * wrapper (header, Adler-32 of the whole input) is the caller's
 * (folio_deflate_adler32_combine joins the pieces' checksums). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

#define HASH_BITS 15
#define WINDOW 32768
#define BLOCK_TOKENS (1u << 16)
#define MIN_MATCH 4 /* hashed sequence length */
#define MAX_MATCH 258

/* A token: a literal byte (< 256), or a match: bit 31, length - 3 in bits
 * 16..23, distance - 1 in bits 0..14. */
#define TOK_MATCH 0x80000000u

/* ---- static tables ---------------------------------------------------------- */

static uint8_t len_sym[256];       /* length - 3 -> symbol - 257 */
static uint8_t len_xbits[29];
static uint16_t len_base[29];
static uint8_t dist_sym[512];      /* distance - 1 < 256: [d], else [256 + (d >> 7)] */
static uint8_t dist_xbits[30];
static uint16_t dist_base[30];     /* distance - 1 of the code's first distance */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
  static const uint16_t lb[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
  static const uint8_t lx[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  static const uint16_t db[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                  193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
  static const uint8_t dx[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
  for (int s = 0; s < 29; s++) {
    len_base[s] = lb[s], len_xbits[s] = lx[s];
    int hi = s == 28 ? 258 : lb[s] + (1 << lx[s]) - 1;
    if (s == 27) hi = 257; /* 258 has its own code */
    for (int l = lb[s]; l <= hi; l++) len_sym[l - 3] = (uint8_t)s;
  }
  for (int s = 0; s < 30; s++) {
    dist_base[s] = (uint16_t)(db[s] - 1), dist_xbits[s] = dx[s];
    for (int d = db[s]; d < db[s] + (1 << dx[s]); d++) {
      int v = d - 1;
      if (v < 256) dist_sym[v] = (uint8_t)s;
      else dist_sym[256 + (v >> 7)] = (uint8_t)s;
    }
  }
}

static inline unsigned dist_code(unsigned dm1) { return dm1 < 256 ? dist_sym[dm1] : dist_sym[256 + (dm1 >> 7)]; }

/* ---- bit output --------------------------------------------------------------- */

struct bits {
  unsigned char *out, *end;
  uint64_t buf;
  unsigned n;
};

/* Appends the low nb bits of v (nb <= 32; v has no bits above nb). The caller
 * made sure there is room (folio_deflate_bound). */
static inline void put(struct bits *b, uint32_t v, unsigned nb) {
  b->buf |= (uint64_t)v << b->n;
  b->n += nb;
  if (b->n >= 32) {
    uint32_t w = (uint32_t)b->buf;
    b->out[0] = (unsigned char)w, b->out[1] = (unsigned char)(w >> 8);
    b->out[2] = (unsigned char)(w >> 16), b->out[3] = (unsigned char)(w >> 24);
    b->out += 4;
    b->buf >>= 32;
    b->n -= 32;
  }
}

/* Pads to a byte boundary with zero bits and writes out what is buffered. */
static void align(struct bits *b) {
  while (b->n > 0) {
    *b->out++ = (unsigned char)b->buf;
    b->buf >>= 8;
    b->n = b->n > 8 ? b->n - 8 : 0;
  }
  b->buf = 0;
}

/* ---- Huffman codes ---------------------------------------------------------- */

/* Code lengths (at most max_len bits) for n symbols of frequencies freq;
 * unused symbols get 0. At least two symbols get a code (deflate decoders
 * want complete codes), so the caller passes freq with two or more nonzero
 * entries. */
static void huff_lengths(const uint32_t *freq, unsigned n, unsigned max_len, uint8_t *len) {
  uint32_t sym[320], w[640];
  int parent[640];
  unsigned m = 0;
  for (unsigned i = 0; i < n; i++) {
    len[i] = 0;
    if (freq[i]) sym[m++] = i;
  }
  /* sort the used symbols by frequency, ascending (insertion sort: n <= 286) */
  for (unsigned i = 1; i < m; i++) {
    uint32_t s = sym[i];
    unsigned j = i;
    while (j > 0 && freq[sym[j - 1]] > freq[s]) sym[j] = sym[j - 1], j--;
    sym[j] = s;
  }
  /* two-queue Huffman: leaves 0..m-1 in order, internal nodes m.. in order of creation */
  for (unsigned i = 0; i < m; i++) w[i] = freq[sym[i]];
  unsigned leaf = 0, node = m, next = m;
  for (unsigned k = 0; k + 1 < m; k++) {
    unsigned pick[2];
    for (int t = 0; t < 2; t++) {
      if (leaf < m && (node >= next || w[leaf] <= w[node])) pick[t] = leaf++;
      else pick[t] = node++;
    }
    w[next] = w[pick[0]] + w[pick[1]];
    parent[pick[0]] = parent[pick[1]] = (int)next;
    next++;
  }
  /* depths, root (next - 1) first */
  unsigned depth[640];
  unsigned count[64] = {0};
  depth[next - 1] = 0;
  for (int i = (int)next - 2; i >= 0; i--) depth[i] = depth[parent[i]] + 1;
  for (unsigned i = 0; i < m; i++) count[depth[i] < 63 ? depth[i] : 63]++;
  /* limit to max_len bits (miniz's adjustment): fold longer codes into
   * max_len, then lengthen shorter codes until the code is complete again */
  for (unsigned i = max_len + 1; i < 64; i++) count[max_len] += count[i], count[i] = 0;
  uint32_t total = 0;
  for (unsigned i = max_len; i > 0; i--) total += count[i] << (max_len - i);
  while (total != (1u << max_len)) {
    count[max_len]--;
    for (unsigned i = max_len - 1; i > 0; i--)
      if (count[i]) {
        count[i]--;
        count[i + 1] += 2;
        break;
      }
    total--;
  }
  /* the least frequent symbols get the longest codes */
  unsigned s = 0;
  for (unsigned l = max_len; l > 0; l--)
    for (unsigned c = 0; c < count[l]; c++) len[sym[s++]] = (uint8_t)l;
}

/* Canonical codes for the lengths, bit-reversed (deflate sends Huffman codes
 * from their first bit, put() from the lowest). */
static void huff_codes(const uint8_t *len, unsigned n, uint16_t *code) {
  unsigned count[16] = {0}, next[16];
  for (unsigned i = 0; i < n; i++) count[len[i]]++;
  count[0] = 0;
  unsigned c = 0;
  for (unsigned l = 1; l < 16; l++) {
    c = (c + count[l - 1]) << 1;
    next[l] = c;
  }
  for (unsigned i = 0; i < n; i++) {
    if (!len[i]) {
      code[i] = 0;
      continue;
    }
    unsigned v = next[len[i]]++, r = 0;
    for (unsigned k = 0; k < len[i]; k++) r = (r << 1) | ((v >> k) & 1);
    code[i] = (uint16_t)r;
  }
}

/* ---- blocks ----------------------------------------------------------------- */

struct block {
  uint32_t lfreq[286], dfreq[30];
  uint32_t *tok;
  size_t ntok;
  const unsigned char *start; /* the input this block covers */
  size_t len;
};

static void write_stored(struct bits *b, const unsigned char *p, size_t len, int final) {
  do {
    size_t k = len > 65535 ? 65535 : len;
    len -= k;
    put(b, (final && len == 0) ? 1 : 0, 3); /* BFINAL, BTYPE 00 */
    align(b);
    b->out[0] = (unsigned char)k, b->out[1] = (unsigned char)(k >> 8);
    b->out[2] = (unsigned char)~k, b->out[3] = (unsigned char)(~k >> 8);
    memcpy(b->out + 4, p, k);
    b->out += 4 + k;
    p += k;
  } while (len > 0);
}

static const uint8_t clc_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

static void write_block(struct bits *b, struct block *k, int final) {
  k->lfreq[256] = 1; /* end of block */
  if (k->ntok == 0) k->lfreq[0] = 1; /* two codes at least */
  unsigned nd = 0;
  for (unsigned i = 0; i < 30; i++) nd += k->dfreq[i] != 0;
  if (nd < 2) k->dfreq[0] |= 1, k->dfreq[1] |= 1;
  uint8_t llen[286 + 30];
  uint8_t *dlen = llen + 286;
  huff_lengths(k->lfreq, 286, 15, llen);
  huff_lengths(k->dfreq, 30, 15, dlen);
  unsigned hlit = 286, hdist = 30;
  while (hlit > 257 && !llen[hlit - 1]) hlit--;
  while (hdist > 1 && !dlen[hdist - 1]) hdist--;
  /* the code lengths, run-length coded (16: repeat 3-6, 17: 3-10 zeros, 18: 11-138 zeros) */
  uint8_t all[286 + 30], rle[286 + 30], rx[286 + 30];
  unsigned na = 0, nr = 0;
  for (unsigned i = 0; i < hlit; i++) all[na++] = llen[i];
  for (unsigned i = 0; i < hdist; i++) all[na++] = dlen[i];
  uint32_t cfreq[19] = {0};
  for (unsigned i = 0; i < na;) {
    unsigned v = all[i], r = 1;
    while (i + r < na && all[i + r] == v) r++;
    i += r;
    if (v == 0) {
      while (r >= 11) {
        unsigned t = r > 138 ? 138 : r;
        rle[nr] = 18, rx[nr++] = (uint8_t)(t - 11), r -= t;
      }
      if (r >= 3) rle[nr] = 17, rx[nr++] = (uint8_t)(r - 3), r = 0;
    } else {
      rle[nr] = (uint8_t)v, rx[nr++] = 0, r--;
      while (r >= 3) {
        unsigned t = r > 6 ? 6 : r;
        rle[nr] = 16, rx[nr++] = (uint8_t)(t - 3), r -= t;
      }
    }
    while (r > 0) rle[nr] = (uint8_t)v, rx[nr++] = 0, r--;
  }
  for (unsigned i = 0; i < nr; i++) cfreq[rle[i]]++;
  unsigned nc = 0;
  for (unsigned i = 0; i < 19; i++) nc += cfreq[i] != 0;
  if (nc < 2) cfreq[cfreq[0] ? 1 : 0] |= 1;
  uint8_t clen[19];
  uint16_t ccode[19], lcode[286], dcode[30];
  huff_lengths(cfreq, 19, 7, clen);
  unsigned hclen = 19;
  while (hclen > 4 && !clen[clc_order[hclen - 1]]) hclen--;

  /* its size in bits against storing it */
  uint64_t cost = 3 + 5 + 5 + 4 + 3 * (uint64_t)hclen;
  static const uint8_t rle_x[19] = {[16] = 2, [17] = 3, [18] = 7};
  for (unsigned i = 0; i < 19; i++) cost += (uint64_t)cfreq[i] * (clen[i] + rle_x[i]);
  for (unsigned i = 0; i < 286; i++) cost += (uint64_t)k->lfreq[i] * llen[i];
  for (unsigned i = 0; i < 29; i++) cost += (uint64_t)k->lfreq[257 + i] * len_xbits[i];
  for (unsigned i = 0; i < 30; i++) cost += (uint64_t)k->dfreq[i] * (dlen[i] + dist_xbits[i]);
  uint64_t stored = ((uint64_t)k->len + 5 * (k->len / 65535 + 1) + 1) * 8;
  if (cost >= stored) {
    write_stored(b, k->start, k->len, final);
    return;
  }

  huff_codes(clen, 19, ccode);
  huff_codes(llen, 286, lcode);
  huff_codes(dlen, 30, dcode);
  put(b, final ? 1 : 0, 1);
  put(b, 2, 2); /* dynamic Huffman */
  put(b, hlit - 257, 5);
  put(b, hdist - 1, 5);
  put(b, hclen - 4, 4);
  for (unsigned i = 0; i < hclen; i++) put(b, clen[clc_order[i]], 3);
  for (unsigned i = 0; i < nr; i++) {
    put(b, ccode[rle[i]], clen[rle[i]]);
    if (rle[i] >= 16) put(b, rx[i], rle_x[rle[i]]);
  }
  for (size_t i = 0; i < k->ntok; i++) {
    uint32_t t = k->tok[i];
    if (!(t & TOK_MATCH)) {
      put(b, lcode[t], llen[t]);
      continue;
    }
    unsigned lm3 = (t >> 16) & 0xff, dm1 = t & 0x7fff;
    unsigned ls = len_sym[lm3], ds = dist_code(dm1);
    put(b, lcode[257 + ls], llen[257 + ls]);
    if (len_xbits[ls]) put(b, lm3 + 3 - len_base[ls], len_xbits[ls]);
    put(b, dcode[ds], dlen[ds]);
    if (dist_xbits[ds]) put(b, dm1 - dist_base[ds], dist_xbits[ds]);
  }
  put(b, lcode[256], llen[256]);
}

/* ---- LZ77 ------------------------------------------------------------------- */

static inline uint32_t load32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static inline uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
static inline uint32_t hash4(uint32_t v) { return (v * 2654435761u) >> (32 - HASH_BITS); }

/* Length of the common prefix of a and b, at most max. */
static inline size_t common(const unsigned char *a, const unsigned char *b, size_t max) {
  size_t n = 0;
  while (n + 8 <= max) {
    uint64_t x = load64(a + n) ^ load64(b + n);
    if (x) return n + (size_t)(__builtin_ctzll(x) >> 3);
    n += 8;
  }
  while (n < max && a[n] == b[n]) n++;
  return n;
}

/* Zero bytes from p, at most max. */
static inline size_t zeros(const unsigned char *p, size_t max) {
  size_t n = 0;
  while (n + 8 <= max) {
    uint64_t x = load64(p + n);
    if (x) return n + (size_t)(__builtin_ctzll(x) >> 3);
    n += 8;
  }
  while (n < max && p[n] == 0) n++;
  return n;
}

/* Every block is at most its stored size: 5 bytes a 65535-byte piece, a
 * partial piece and an alignment byte per block, blocks of at least
 * BLOCK_TOKENS - 16 input bytes but the last; the sync flush's 5 bytes. */
size_t folio_deflate_bound(size_t n) { return n + 12 * (n / (BLOCK_TOKENS - 16) + 2) + 64; }

int folio_deflate_scratch_init(struct folio_deflate_scratch *s) {
  pthread_once(&tables_once, tables_init);
  if (!s->head) s->head = malloc(sizeof(uint32_t) << HASH_BITS);
  if (!s->tok) s->tok = malloc(sizeof(uint32_t) * BLOCK_TOKENS);
  return s->head && s->tok ? 0 : -1;
}

void folio_deflate_scratch_free(struct folio_deflate_scratch *s) {
  free(s->head);
  free(s->tok);
  s->head = s->tok = NULL;
}

size_t folio_deflate_raw(struct folio_deflate_scratch *s, const unsigned char *in, size_t n, int last,
                         unsigned char *out) {
  struct bits b = {.out = out};
  uint32_t *head = s->head;
  /* positions are stored + 1 (0 = empty), relative to in */
  memset(head, 0, sizeof(uint32_t) << HASH_BITS);
  struct block k = {.tok = s->tok, .start = in};
  size_t i = 0;
  const size_t stop_tok = BLOCK_TOKENS - 16;
  for (;;) {
    while (i < n && k.ntok < stop_tok) {
      size_t left = n - i;
      if (left >= MIN_MATCH && i > 0 && in[i - 1] == 0 && load32(in + i) == 0) {
        size_t r = 4 + zeros(in + i + 4, left - 4);
        while (r >= 3 && k.ntok < stop_tok) {
          size_t m = r > MAX_MATCH ? MAX_MATCH : r;
          if (r - m > 0 && r - m < 3) m = r - 3; /* leave a run of 3 or more, not 1 or 2 */
          k.tok[k.ntok++] = TOK_MATCH | (uint32_t)(m - 3) << 16; /* distance 1 */
          k.lfreq[257 + len_sym[m - 3]]++;
          k.dfreq[0]++;
          i += m, r -= m;
        }
        continue;
      }
      if (left >= MIN_MATCH) {
        uint32_t v = load32(in + i), h = hash4(v);
        uint32_t cand = head[h];
        head[h] = (uint32_t)i + 1;
        if (cand && i - (cand - 1) <= WINDOW && load32(in + cand - 1) == v) {
          size_t c = cand - 1;
          size_t max = left > MAX_MATCH ? MAX_MATCH : left;
          size_t m = 4 + common(in + c + 4, in + i + 4, max - 4);
          uint32_t dm1 = (uint32_t)(i - c - 1);
          k.tok[k.ntok++] = TOK_MATCH | (uint32_t)(m - 3) << 16 | dm1;
          k.lfreq[257 + len_sym[m - 3]]++;
          k.dfreq[dist_code(dm1)]++;
          /* one more position hashed inside the match: cheap, and it keeps
           * repeated glyph rows findable */
          if (m > 8) head[hash4(load32(in + i + m - 4))] = (uint32_t)(i + m - 4) + 1;
          i += m;
          continue;
        }
      }
      k.tok[k.ntok++] = in[i];
      k.lfreq[in[i]]++;
      i++;
    }
    k.len = (size_t)(in + i - k.start);
    write_block(&b, &k, last && i >= n);
    if (i >= n) break;
    memset(k.lfreq, 0, sizeof k.lfreq), memset(k.dfreq, 0, sizeof k.dfreq);
    k.ntok = 0;
    k.start = in + i;
  }
  if (!last) { /* sync flush: an empty stored block ends the piece on a byte boundary */
    put(&b, 0, 3);
    align(&b);
    b.out[0] = 0, b.out[1] = 0, b.out[2] = 0xff, b.out[3] = 0xff;
    b.out += 4;
  } else {
    align(&b);
  }
  return (size_t)(b.out - out);
}

/* zlib's adler32_combine: the Adler-32 of A then B from theirs and B's length. */
uint32_t folio_deflate_adler32_combine(uint32_t a1, uint32_t a2, size_t len2) {
  const uint32_t base = 65521;
  uint64_t rem = len2 % base;
  uint64_t sum1 = a1 & 0xffff;
  uint64_t sum2 = (rem * sum1) % base;
  sum1 += (a2 & 0xffff) + base - 1;
  sum2 += ((a1 >> 16) & 0xffff) + ((a2 >> 16) & 0xffff) + base - rem;
  if (sum1 >= base) sum1 -= base;
  if (sum1 >= base) sum1 -= base;
  if (sum2 >= ((uint64_t)base << 1)) sum2 -= ((uint64_t)base << 1);
  if (sum2 >= base) sum2 -= base;
  return (uint32_t)(sum1 | (sum2 << 16));
}
