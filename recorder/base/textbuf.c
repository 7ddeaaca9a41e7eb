/* textbuf.c: the growing or sinking byte buffer of exported and served text, and the
 * writers of numbers, base64 and JSON strings into it. */
#include "base/textbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/dynbuf.h"
#include "base/util.h"

textbuf tb_from_buf(const reqlog_buf *b) {
  textbuf t = {.data = b->data, .len = b->len, .cap = b->cap};
  return t;
}

void tb_to_buf(const textbuf *t, reqlog_buf *b) {
  b->data = t->data;
  b->len = t->len;
  b->cap = t->cap;
}

void tb_flush(textbuf *t) {
  if (t->len && !t->stopped && t->sink(t->sink_ctx, t->data, t->len) != 0)
    t->stopped = 1;
  t->len = 0;
}

/* Growing mode: at least N + 1 bytes free after LEN (the growth is dynbuf's, uncapped
 * but for size_t). Returns 0 (NOMEM set) on failure. */
static int grow(textbuf *t, size_t n) {
  if (t->cap > t->len && t->cap - t->len > n) /* room already: the common case, per byte */
    return !t->nomem;
  if (t->nomem)
    return 0;
  dynbuf d = {.data = t->data, .len = t->len, .cap = t->cap, .max = SIZE_MAX / 2};
  if (dynbuf_reserve(&d, n) != REQLOG_OK) {
    t->nomem = 1;
    return 0;
  }
  t->data = d.data;
  t->cap = d.cap;
  return 1;
}

char *tb_reserve(textbuf *t, size_t n) {
  if (!t->sink)
    return grow(t, n) ? t->data + t->len : NULL;
  if (t->cap - t->len < n)
    tb_flush(t);
  return t->data + t->len;
}

void tb_terminate(textbuf *t) {
  if (!t->sink && t->data)
    t->data[t->len] = '\0'; /* grow() always leaves this byte */
}

void tb_bytes_slow(textbuf *t, const void *data, size_t n) {
  const char *p = data;
  if (!t->sink) {
    if (n && grow(t, n)) {
      memcpy(t->data + t->len, p, n);
      t->len += n;
    }
    return;
  }
  while (n > 0) {
    if (t->len == t->cap)
      tb_flush(t);
    size_t room = t->cap - t->len;
    size_t k = n < room ? n : room;
    memcpy(t->data + t->len, p, k);
    t->len += k;
    p += k;
    n -= k;
  }
}

void tb_str(textbuf *t, const char *s) {
  tb_bytes(t, s, strlen(s));
}

void tb_byte_slow(textbuf *t, char c) {
  char *p = tb_reserve(t, 1);
  if (p) {
    *p = c;
    t->len++;
  }
}

/* ------------------------------------------------------------------ numbers */

/* Decimal digits of U, ending at END; returns where they start. */
static char *digits(char *end, uint64_t u) {
  do {
    *--end = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  return end;
}

static uint64_t magnitude(int64_t v) {
  return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

/* The LEN bytes at P, written through one reservation (LEN <= 64). */
static void put_small(textbuf *t, const char *p, size_t len) {
  char *d = tb_reserve(t, len);
  if (d) {
    memcpy(d, p, len);
    t->len += len;
  }
}

void tb_int(textbuf *t, int64_t v) {
  char tmp[24];
  char *end = tmp + sizeof tmp;
  char *p = digits(end, magnitude(v));
  if (v < 0)
    *--p = '-';
  put_small(t, p, (size_t)(end - p));
}

/* Doubles hold every integer below 2^53 exactly: up to there, US / 1000.0 is the double
 * nearest the decimal quotient, which is what reading the quotient's text gives. */
#define EXACT_US (INT64_C(1) << 53)

void tb_ms(textbuf *t, int64_t us, int fixed) {
  char tmp[32];
  if (!fixed && (us >= EXACT_US || us <= -EXACT_US)) {
    int n = snprintf(tmp, sizeof tmp, "%.17g", (double)us / 1000.0);
    put_small(t, tmp, (size_t)n);
    return;
  }
  uint64_t u = magnitude(us);
  char *end = tmp + sizeof tmp;
  char frac[4] = {'.', (char)('0' + u / 100 % 10), (char)('0' + u / 10 % 10),
                  (char)('0' + u % 10)};
  size_t nfrac = 4;
  while (!fixed && nfrac > 1 && frac[nfrac - 1] == '0')
    nfrac--;
  if (nfrac == 1 && !fixed)
    nfrac = 0;
  char *p = end - nfrac;
  memcpy(p, frac, nfrac);
  p = digits(p, u / 1000);
  if (us < 0)
    *--p = '-';
  put_small(t, p, (size_t)(end - p));
}

/* ------------------------------------------------------------------ base64 */

/* Straight into the buffer, in pieces of whole 3-byte groups (base64_encode() gives the
 * same text for such pieces as for the whole). */
void tb_base64(textbuf *t, const unsigned char *data, size_t n) {
  if (!t->sink) {
    if (n && grow(t, BASE64_LEN(n)))
      t->len += base64_encode(data, n, t->data + t->len);
    return;
  }
  while (n > 0) {
    if (t->cap - t->len < 4)
      tb_flush(t);
    size_t take = (t->cap - t->len) / 4 * 3;
    if (take > n)
      take = n;
    t->len += base64_encode(data, take, t->data + t->len);
    data += take;
    n -= take;
  }
}

/* ------------------------------------------------------------------ JSON strings */

/* What a byte becomes inside a JSON string: 0 as it is, 'u' as \u00XX, else the letter
 * of its short escape. NUL ends the string and is never written. */
static const char json_escape[256] = {
  [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
  [0x06] = 'u', [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [0x0b] = 'u',
  ['\f'] = 'f', ['\r'] = 'r', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u',
  [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u',
  [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u',
  [0x1e] = 'u', [0x1f] = 'u', ['"'] = '"', ['\\'] = '\\',
};

void tb_json_string(textbuf *t, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  tb_byte(t, '"');
  for (;;) {
    const unsigned char *run = p;
    while (!json_escape[*p])
      p++;
    tb_bytes(t, run, (size_t)(p - run));
    if (!*p)
      break;
    char esc = json_escape[*p];
    char seq[7] = {'\\', esc};
    size_t n = 2;
    if (esc == 'u') {
      memcpy(seq + 1, "u00", 3);
      util_hex_encode(p, 1, seq + 4); /* and a NUL, not written */
      n = 6;
    }
    put_small(t, seq, n);
    p++;
  }
  tb_byte(t, '"');
}

/* ------------------------------------------------------------------ public buffers */

reqlog_err reqlog_buf_add(reqlog_buf *b, const char *text, size_t n) {
  if (!b || (n && !text))
    return REQLOG_ERR_ARG;
  textbuf t = tb_from_buf(b);
  if (!tb_reserve(&t, n)) /* realloc failed: B's memory is as it was */
    return REQLOG_ERR_NOMEM;
  tb_bytes(&t, text, n);
  tb_terminate(&t);
  tb_to_buf(&t, b);
  return REQLOG_OK;
}

void reqlog_buf_free(reqlog_buf *b) {
  if (!b)
    return;
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
