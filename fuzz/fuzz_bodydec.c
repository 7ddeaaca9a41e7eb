/* fuzz_bodydec.c: the body decoder (recorder/capture/bodydec.c): chunked framing, gzip and
 * deflate, streamed into a capped capbuf as libcurl's debug stream hands bodies over.
 *
 * Input: two control bytes, then data.
 *   byte 0: bit 0 chunked; bits 1-2 the Content-Encoding (none, gzip, deflate,
 *           identity); bit 3 "encode first" (below); bits 4-7 the cap (0: 1 MiB, else
 *           N * 7 bytes, small caps to reach truncation)
 *   byte 1: how the stream is cut into pieces (a seed for the piece sizes)
 * Raw mode: the data is fed as the wire bytes. Properties: feeding it in one piece and
 * feeding it cut into pieces give the same body (same kept bytes, total, truncation);
 * with neither chunking nor encoding the body is the data itself; a body that is one
 * whole gzip or zlib stream decodes to what zlib inflates it to in one call.
 * "Encode first" mode: the data is the body; the target compresses it as the encoding
 * says and frames it in chunks (of sizes drawn from the data), then decodes that: the
 * decoded body must be the data again (its total exactly, its kept bytes up to the cap). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "capture/bodydec.h"
#include "fuzz.h"

static const char *const encodings[] = {NULL, "gzip", "deflate", "identity"};

/* Decodes WIRE into OUT (initialised here with LIMIT), in pieces of sizes from SEED
 * (0: one piece). */
static void decode(capbuf *out, size_t limit, int chunked, const char *enc,
                   const unsigned char *wire, size_t len, unsigned seed) {
  bodydec d;
  capbuf_init(out, limit);
  bodydec_init(&d, out, chunked, enc);
  size_t off = 0;
  unsigned s = seed;
  while (off < len) {
    size_t n = seed ? fuzz_piece(&s, 37, len - off) : len - off;
    bodydec_feed(&d, (const char *)wire + off, n);
    off += n;
  }
  bodydec_end(&d);
  capbuf_finish(out);
}

static int same_body(const capbuf *a, const capbuf *b) {
  return a->len == b->len && a->total == b->total && a->truncated == b->truncated &&
         (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* DATA compressed as ENC says (gzip or zlib framing; others: copied) into *out. */
static int compress_as(const char *enc, const unsigned char *data, size_t len,
                       unsigned char **out, size_t *out_len) {
  int bits = enc && strcmp(enc, "gzip") == 0 ? 15 + 16 : 15;
  int compress = enc && (strcmp(enc, "gzip") == 0 || strcmp(enc, "deflate") == 0);
  size_t cap = compress ? deflateBound(NULL, (uLong)len) + 32 : len;
  *out = malloc(cap ? cap : 1);
  if (!*out)
    return -1;
  if (!compress) {
    if (len)
      memcpy(*out, data, len);
    *out_len = len;
    return 0;
  }
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    free(*out);
    return -1;
  }
  z.next_in = (unsigned char *)data;
  z.avail_in = (uInt)len;
  z.next_out = *out;
  z.avail_out = (uInt)cap;
  int rc = deflate(&z, Z_FINISH);
  *out_len = cap - z.avail_out;
  deflateEnd(&z);
  FUZZ_CHECK(rc == Z_STREAM_END, "zlib compresses into deflateBound's room");
  return 0;
}

/* BODY framed in chunks whose sizes come from SEED, with a last chunk and a trailer. */
static int chunk(const unsigned char *body, size_t len, unsigned seed, unsigned char **out,
                 size_t *out_len) {
  size_t cap = len + (len + 1) * 12 + 64, o = 0, off = 0;
  unsigned char *w = malloc(cap);
  if (!w)
    return -1;
  unsigned s = seed | 1;
  while (off < len) {
    size_t n = fuzz_piece(&s, 300, len - off);
    static const char hex[] = "0123456789abcdef";
    char size[20];
    int k = 0;
    for (size_t v = n; v; v >>= 4)
      size[k++] = hex[v & 15];
    while (k)
      w[o++] = (unsigned char)size[--k];
    if (s & 0x100) { /* a chunk extension now and then */
      memcpy(w + o, ";x=1", 4);
      o += 4;
    }
    w[o++] = '\r';
    w[o++] = '\n';
    memcpy(w + o, body + off, n);
    o += n;
    off += n;
    w[o++] = '\r';
    w[o++] = '\n';
  }
  memcpy(w + o, "0\r\nTrailer: x\r\n\r\n", 17);
  o += 17;
  *out = w;
  *out_len = o;
  return 0;
}

/* DATA inflated by zlib in one call into *out (malloc'd, *out_len bytes), the reference
 * for bodydec. Returns 0 when DATA is exactly one complete gzip or zlib stream that
 * inflates to at most 64 MiB, -1 otherwise (nothing to compare with). */
static int inflate_reference(const unsigned char *data, size_t len, unsigned char **out,
                             size_t *out_len) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 15 + 32) != Z_OK)
    return -1;
  size_t cap = 65536, n = 0;
  unsigned char *buf = malloc(cap);
  int rc = Z_OK;
  z.next_in = (unsigned char *)data;
  z.avail_in = (uInt)len;
  while (buf && rc == Z_OK) {
    if (n == cap) {
      unsigned char *b = cap < ((size_t)64 << 20) ? realloc(buf, cap * 2) : NULL;
      if (!b)
        break;
      buf = b;
      cap *= 2;
    }
    z.next_out = buf + n;
    z.avail_out = (uInt)(cap - n);
    rc = inflate(&z, Z_FINISH);
    n = cap - z.avail_out;
    if (rc == Z_BUF_ERROR && z.avail_out == 0)
      rc = Z_OK; /* room was short: grow and go on */
  }
  int whole = rc == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  if (!buf || !whole) {
    free(buf);
    return -1;
  }
  *out = buf;
  *out_len = n;
  return 0;
}

static void round_trip(size_t limit, int chunked, const char *enc, const unsigned char *data,
                       size_t len, unsigned seed) {
  unsigned char *z = NULL, *wire = NULL;
  size_t zlen = 0, wlen = 0;
  if (compress_as(enc, data, len, &z, &zlen) != 0)
    return;
  if (chunked) {
    if (chunk(z, zlen, seed, &wire, &wlen) != 0) {
      free(z);
      return;
    }
    free(z);
  } else {
    wire = z;
    wlen = zlen;
  }
  capbuf out;
  decode(&out, limit, chunked, enc, wire, wlen, seed);
  FUZZ_CHECK(out.total == len, "an encoded body decodes to its full size");
  size_t kept = len < limit ? len : limit;
  FUZZ_CHECK(out.len == kept && (kept == 0 || memcmp(out.data, data, kept) == 0),
             "an encoded body decodes to itself, up to the cap");
  FUZZ_CHECK(out.truncated == (len > limit), "truncated exactly when past the cap");
  capbuf_free(&out);
  free(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  int chunked = data[0] & 1;
  const char *enc = encodings[(data[0] >> 1) & 3];
  int encode_first = (data[0] >> 3) & 1;
  size_t limit = (data[0] >> 4) ? (size_t)(data[0] >> 4) * 7 : (size_t)1 << 20;
  unsigned seed = data[1] | 0x100u;
  const unsigned char *body = data + 2;
  size_t len = size - 2;
  if (encode_first) {
    round_trip(limit, chunked, enc, body, len, seed);
    return 0;
  }
  capbuf whole, cut;
  decode(&whole, limit, chunked, enc, body, len, 0);
  decode(&cut, limit, chunked, enc, body, len, seed);
  FUZZ_CHECK(same_body(&whole, &cut), "cutting the stream into pieces changes nothing");
  FUZZ_CHECK(whole.len <= limit && whole.len <= whole.total && cut.len <= limit &&
             cut.len <= cut.total, "a decoded body keeps at most the cap and its size");
  unsigned char *ref = NULL;
  size_t rlen = 0;
  if (!chunked && enc && strcmp(enc, "identity") != 0 &&
      inflate_reference(body, len, &ref, &rlen) == 0) {
    size_t kept = rlen < limit ? rlen : limit;
    FUZZ_CHECK(whole.total == rlen && whole.len == kept &&
               (kept == 0 || memcmp(whole.data, ref, kept) == 0),
               "a compressed body decodes to what zlib inflates it to");
    free(ref);
  }
  if (!chunked && !enc) {
    size_t kept = len < limit ? len : limit;
    FUZZ_CHECK(whole.total == len && whole.len == kept &&
               (kept == 0 || memcmp(whole.data, body, kept) == 0),
               "a plain body is kept as it is");
  }
  capbuf_free(&whole);
  capbuf_free(&cut);
  return 0;
}
