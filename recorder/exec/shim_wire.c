/* shim_wire.c: records as framed messages between the exec shim and `reqlog exec`
 * (format in shim_wire.h). The shim encodes and sends; the parent reads and decodes,
 * trusting nothing it is sent: every length is checked against what arrived. */
#include "exec/shim_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"

static const unsigned char magic[4] = {'R', 'Q', 'L', 'W'};

/* Field tags of a WIRE_MSG_RECORD payload. Never renumbered; new ones are appended. */
enum {
  TAG_METHOD = 1,
  TAG_URL = 2,
  TAG_REQ_HEAD = 3,
  TAG_RESP_HEAD = 4,
  TAG_ERROR = 5,
  TAG_CONTENT_TYPE = 6,
  TAG_HTTP_VERSION = 7,
  TAG_REMOTE_IP = 8,
  TAG_SOURCE = 9,
  TAG_STARTED_US = 20,
  TAG_STATUS = 21,
  TAG_ATTEMPT = 22,
  TAG_TOTAL_US = 23,
  TAG_QUEUED_US = 24,
  TAG_DNS_US = 25,
  TAG_CONNECT_US = 26,
  TAG_TLS_US = 27,
  TAG_TTFB_US = 28,
  TAG_REQ_BODY = 40,        /* + BODY_* */
  TAG_RESP_BODY = 50,
};
enum { BODY_DATA = 0, BODY_TOTAL = 1, BODY_FLAGS = 2, BODY_SHA256 = 3 };
enum { FLAG_TRUNCATED = 1, FLAG_OOM = 2 };

#define FIELD_HEAD 6 /* u16 tag, u32 length */

static void put16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static unsigned get16(const unsigned char *p) {
  return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* ------------------------------------------------------------------ encoding */

/* Writes fields into buf, or (buf NULL) only counts their bytes. */
typedef struct enc {
  unsigned char *buf;
  size_t len;
} enc;

static void field(enc *e, unsigned tag, const void *p, size_t n) {
  if (e->buf) {
    put16(e->buf + e->len, tag);
    put32(e->buf + e->len + 2, (uint32_t)n);
    if (n)
      memcpy(e->buf + e->len + FIELD_HEAD, p, n);
  }
  e->len += FIELD_HEAD + n;
}

static void field_str(enc *e, unsigned tag, const char *s) {
  if (s)
    field(e, tag, s, strlen(s));
}

static void field_int(enc *e, unsigned tag, int64_t v) {
  unsigned char b[8];
  put64(b, (uint64_t)v);
  field(e, tag, b, sizeof b);
}

static void field_body(enc *e, unsigned base, const capbuf *b) {
  field(e, base + BODY_DATA, b->data, b->data ? b->len : 0);
  field_int(e, base + BODY_TOTAL, (int64_t)b->total);
  field_int(e, base + BODY_FLAGS, (b->truncated ? FLAG_TRUNCATED : 0) | (b->oom ? FLAG_OOM : 0));
  if (b->have_digest)
    field(e, base + BODY_SHA256, b->digest, sizeof b->digest);
}

static void record_fields(enc *e, const void *arg) {
  const record *r = arg;
  field_str(e, TAG_METHOD, r->method);
  field_str(e, TAG_URL, r->url);
  if (r->req_head)
    field(e, TAG_REQ_HEAD, r->req_head, r->req_head_len);
  if (r->resp_head)
    field(e, TAG_RESP_HEAD, r->resp_head, r->resp_head_len);
  field_str(e, TAG_ERROR, r->error);
  field_str(e, TAG_CONTENT_TYPE, r->content_type);
  field_str(e, TAG_HTTP_VERSION, r->http_version);
  field_str(e, TAG_REMOTE_IP, r->remote_ip);
  field(e, TAG_SOURCE, r->source, strnlen(r->source, sizeof r->source));
  field_int(e, TAG_STARTED_US, r->started_us);
  field_int(e, TAG_STATUS, r->status);
  field_int(e, TAG_ATTEMPT, r->attempt);
  field_int(e, TAG_TOTAL_US, r->total_us);
  field_int(e, TAG_QUEUED_US, r->queued_us);
  field_int(e, TAG_DNS_US, r->dns_us);
  field_int(e, TAG_CONNECT_US, r->connect_us);
  field_int(e, TAG_TLS_US, r->tls_us);
  field_int(e, TAG_TTFB_US, r->ttfb_us);
  field_body(e, TAG_REQ_BODY, &r->req_body);
  field_body(e, TAG_RESP_BODY, &r->resp_body);
}

/* The fields FILL writes from ARG as one complete frame of TYPE in *out, *len bytes. */
static int encode_frame(unsigned type, void (*fill)(enc *, const void *), const void *arg,
                        unsigned char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  enc count = {NULL, 0};
  fill(&count, arg);
  if (count.len > UINT32_MAX)
    return -1;
  unsigned char *buf = malloc(WIRE_HEADER_LEN + count.len);
  if (!buf)
    return -1;
  memcpy(buf, magic, sizeof magic);
  put16(buf + 4, WIRE_VERSION);
  put16(buf + 6, type);
  put32(buf + 8, (uint32_t)count.len);
  enc e = {buf + WIRE_HEADER_LEN, 0};
  fill(&e, arg);
  *out = buf;
  *len = WIRE_HEADER_LEN + count.len;
  return 0;
}

int wire_encode_record(const record *rec, unsigned char **out, size_t *len) {
  return encode_frame(WIRE_MSG_RECORD, record_fields, rec, out, len);
}

/* Field tags of a WIRE_MSG_UNSEEN payload. */
enum { UNSEEN_PID = 1, UNSEEN_PROGRAM = 2, UNSEEN_CALLER = 3, UNSEEN_LIBCURL = 4 };

static void unseen_fields(enc *e, const void *arg) {
  const wire_unseen *u = arg;
  field_int(e, UNSEEN_PID, u->pid);
  field_str(e, UNSEEN_PROGRAM, u->program);
  field_str(e, UNSEEN_CALLER, u->caller);
  field_str(e, UNSEEN_LIBCURL, u->libcurl);
}

int wire_encode_unseen(const wire_unseen *u, unsigned char **out, size_t *len) {
  return encode_frame(WIRE_MSG_UNSEEN, unseen_fields, u, out, len);
}

/* ------------------------------------------------------------------ decoding */

static int take_str(char **dst, const unsigned char *p, size_t n) {
  free(*dst);
  *dst = util_strndup((const char *)p, n);
  return *dst ? 0 : -1;
}

static int take_int(int64_t *dst, const unsigned char *p, size_t n) {
  if (n != 8)
    return -1;
  *dst = (int64_t)get64(p);
  return 0;
}

/* One body field into B, whose limit is the parent's cap. */
static int take_body(capbuf *b, unsigned part, const unsigned char *p, size_t n) {
  int64_t v = 0;
  switch (part) {
  case BODY_DATA:
    /* set directly rather than appended: the full size is its own field */
    if (b->data || n > b->limit)
      return -1;
    if (!n)
      return 0;
    b->data = malloc(n);
    if (!b->data)
      return -1;
    memcpy(b->data, p, n);
    b->len = b->alloc = n;
    return 0;
  case BODY_TOTAL:
    if (take_int(&v, p, n) != 0 || v < 0)
      return -1;
    b->total = (uint64_t)v;
    return 0;
  case BODY_FLAGS:
    if (take_int(&v, p, n) != 0)
      return -1;
    b->truncated = (v & FLAG_TRUNCATED) != 0;
    b->oom = (v & FLAG_OOM) != 0;
    return 0;
  case BODY_SHA256:
    if (n != sizeof b->digest)
      return -1;
    memcpy(b->digest, p, n);
    b->have_digest = 1;
    return 0;
  default:
    return 0; /* a body part a newer shim knows */
  }
}

static int take_record_field(void *dst, unsigned tag, const unsigned char *p, size_t n) {
  record *r = dst;
  int64_t v = 0;
  int rc = 0;
  switch (tag) {
  case TAG_METHOD: return take_str(&r->method, p, n);
  case TAG_URL: return take_str(&r->url, p, n);
  case TAG_ERROR: return take_str(&r->error, p, n);
  case TAG_CONTENT_TYPE: return take_str(&r->content_type, p, n);
  case TAG_HTTP_VERSION: return take_str(&r->http_version, p, n);
  case TAG_REMOTE_IP: return take_str(&r->remote_ip, p, n);
  case TAG_REQ_HEAD:
    rc = take_str(&r->req_head, p, n);
    r->req_head_len = rc == 0 ? n : 0;
    return rc;
  case TAG_RESP_HEAD:
    rc = take_str(&r->resp_head, p, n);
    r->resp_head_len = rc == 0 ? n : 0;
    return rc;
  case TAG_SOURCE:
    if (n >= sizeof r->source)
      return -1;
    memcpy(r->source, p, n);
    r->source[n] = '\0';
    return 0;
  case TAG_STARTED_US: return take_int(&r->started_us, p, n);
  case TAG_STATUS:
    rc = take_int(&v, p, n);
    r->status = (long)v;
    return rc;
  case TAG_ATTEMPT:
    rc = take_int(&v, p, n);
    if (rc == 0 && (v < 1 || v > 1000000))
      return -1;
    r->attempt = (int)v;
    return rc;
  case TAG_TOTAL_US: return take_int(&r->total_us, p, n);
  case TAG_QUEUED_US: return take_int(&r->queued_us, p, n);
  case TAG_DNS_US: return take_int(&r->dns_us, p, n);
  case TAG_CONNECT_US: return take_int(&r->connect_us, p, n);
  case TAG_TLS_US: return take_int(&r->tls_us, p, n);
  case TAG_TTFB_US: return take_int(&r->ttfb_us, p, n);
  default:
    if (tag >= TAG_REQ_BODY && tag < TAG_REQ_BODY + 10)
      return take_body(&r->req_body, tag - TAG_REQ_BODY, p, n);
    if (tag >= TAG_RESP_BODY && tag < TAG_RESP_BODY + 10)
      return take_body(&r->resp_body, tag - TAG_RESP_BODY, p, n);
    return 0; /* a field a newer shim knows */
  }
}

/* A body as decoded must agree with itself: what is kept fits in what was seen. */
static int body_consistent(const capbuf *b) {
  if (b->total < b->len)
    return 0;
  if (!b->truncated && !b->oom && b->total != b->len)
    return 0;
  return 1;
}

/* Hands each field of PAYLOAD to TAKE. Returns 0, or -1 when a field overruns the
 * payload or TAKE refuses one. */
static int walk_fields(const unsigned char *payload, size_t len,
                       int (*take)(void *, unsigned, const unsigned char *, size_t), void *dst) {
  size_t off = 0;
  while (off < len) {
    if (len - off < FIELD_HEAD)
      return -1;
    unsigned tag = get16(payload + off);
    size_t n = get32(payload + off + 2);
    off += FIELD_HEAD;
    if (n > len - off)
      return -1;
    if (take(dst, tag, payload + off, n) != 0)
      return -1;
    off += n;
  }
  return 0;
}

int wire_decode_record(const unsigned char *payload, size_t len, record *rec) {
  if (walk_fields(payload, len, take_record_field, rec) != 0)
    return -1;
  if (!body_consistent(&rec->req_body) || !body_consistent(&rec->resp_body))
    return -1;
  return 0;
}

static int take_unseen_field(void *dst, unsigned tag, const unsigned char *p, size_t n) {
  wire_unseen *u = dst;
  switch (tag) {
  case UNSEEN_PID: return take_int(&u->pid, p, n);
  case UNSEEN_PROGRAM: return take_str(&u->program, p, n);
  case UNSEEN_CALLER: return take_str(&u->caller, p, n);
  case UNSEEN_LIBCURL: return take_str(&u->libcurl, p, n);
  default: return 0; /* a field a newer shim knows */
  }
}

int wire_decode_unseen(const unsigned char *payload, size_t len, wire_unseen *u) {
  memset(u, 0, sizeof *u);
  if (walk_fields(payload, len, take_unseen_field, u) == 0)
    return 0;
  wire_unseen_free(u);
  return -1;
}

void wire_unseen_free(wire_unseen *u) {
  free(u->program);
  free(u->caller);
  free(u->libcurl);
  memset(u, 0, sizeof *u);
}

/* ------------------------------------------------------------------ transport */

int wire_send(int fd, const void *buf, size_t len) {
  const unsigned char *p = buf;
  while (len) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

void wire_reader_init(wire_reader *rd, size_t max_payload) {
  memset(rd, 0, sizeof *rd);
  rd->max_payload = max_payload;
}

void wire_reader_free(wire_reader *rd) {
  free(rd->buf);
  memset(rd, 0, sizeof *rd);
}

long wire_reader_fill(wire_reader *rd, int fd) {
  if (rd->used) {
    /* drop the frames already handed out before reading more */
    memmove(rd->buf, rd->buf + rd->used, rd->len - rd->used);
    rd->len -= rd->used;
    rd->used = 0;
  }
  if (rd->alloc - rd->len < 16384) {
    size_t a = rd->alloc ? rd->alloc * 2 : 65536;
    unsigned char *b = realloc(rd->buf, a);
    if (!b) {
      errno = ENOMEM;
      return -1;
    }
    rd->buf = b;
    rd->alloc = a;
  }
  for (;;) {
    ssize_t n = read(fd, rd->buf + rd->len, rd->alloc - rd->len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n > 0)
      rd->len += (size_t)n;
    return (long)n;
  }
}

int wire_reader_next(wire_reader *rd, int *type, const unsigned char **payload, size_t *len,
                     int *version) {
  size_t have = rd->len - rd->used;
  const unsigned char *h = rd->buf + rd->used;
  *version = WIRE_VERSION;
  if (have < WIRE_HEADER_LEN) {
    /* reject a stranger as early as its first bytes show it */
    size_t m = have < sizeof magic ? have : sizeof magic;
    return m && memcmp(h, magic, m) != 0 ? -1 : 0;
  }
  if (memcmp(h, magic, sizeof magic) != 0)
    return -1;
  *version = (int)get16(h + 4);
  if (*version != WIRE_VERSION)
    return -1;
  size_t n = get32(h + 8);
  if (n > rd->max_payload)
    return -1;
  if (have - WIRE_HEADER_LEN < n)
    return 0;
  *type = (int)get16(h + 6);
  *payload = h + WIRE_HEADER_LEN;
  *len = n;
  rd->used += WIRE_HEADER_LEN + n;
  return 1;
}

size_t wire_reader_pending(const wire_reader *rd) {
  return rd->len - rd->used;
}
