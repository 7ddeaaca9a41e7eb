/* textbuf.h: the byte buffer that exported and served text (CSV, JSON) is written into,
 * with the number, base64 and JSON-string writers every text format shares. */
#ifndef REQLOG_TEXTBUF_H
#define REQLOG_TEXTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "reqlog.h"

/* Two kinds, told apart by SINK:
 *   growing  (SINK NULL): DATA is malloc'd and grows as needed; after an allocation fails,
 *            NOMEM is set and later writes are dropped. A non-empty DATA always has room
 *            for a NUL after LEN (tb_terminate()).
 *   sinking  (SINK set): DATA is a fixed buffer of CAP bytes (at least 64) handed to SINK
 *            whenever it is full and by tb_flush(). Once SINK returns non-zero, STOPPED is
 *            set and later bytes are dropped.
 * Writers never fail loudly: the caller looks at NOMEM / STOPPED when it is done. */
typedef struct textbuf {
  char *data;
  size_t len, cap;
  reqlog_write_fn sink;
  void *sink_ctx;
  int nomem;
  int stopped;
} textbuf;

/* A growing buffer that continues the caller's B: tb_from_buf(), write, then
 * tb_to_buf() hands the (maybe moved) memory back to B. */
textbuf tb_from_buf(const reqlog_buf *b);
void tb_to_buf(const textbuf *t, reqlog_buf *b);

/* Sinking mode: hands the gathered bytes to the sink and empties the buffer. */
void tb_flush(textbuf *t);

/* Room for N more bytes at DATA + LEN (N <= 64 in sinking mode); the caller adds what
 * it wrote to LEN. NULL once NOMEM is set (growing mode only). */
char *tb_reserve(textbuf *t, size_t n);

/* Growing mode: a NUL after the LEN bytes (not counted in LEN) when DATA exists. */
void tb_terminate(textbuf *t);

/* tb_bytes and tb_byte write in place when there is room (and one byte more, for
 * growing mode's NUL): a served list page makes tens of thousands of these calls. The
 * _slow forms grow, flush or fail. */
void tb_bytes_slow(textbuf *t, const void *data, size_t n);
void tb_byte_slow(textbuf *t, char c);
static inline void tb_bytes(textbuf *t, const void *data, size_t n) {
  if (t->cap - t->len > n && !t->nomem) {
    if (n)
      memcpy(t->data + t->len, data, n);
    t->len += n;
    return;
  }
  tb_bytes_slow(t, data, n);
}
static inline void tb_byte(textbuf *t, char c) {
  if (t->cap - t->len > 1 && !t->nomem) {
    t->data[t->len++] = c;
    return;
  }
  tb_byte_slow(t, c);
}
void tb_str(textbuf *t, const char *s);

/* V in decimal. */
void tb_int(textbuf *t, int64_t v);

/* Microseconds US as milliseconds: "12.345". FIXED: always three decimals ("12.000");
 * else the shortest form, trailing zeros dropped ("12", "1.5"). The shortest form reads
 * back as the same double as US / 1000.0 (the text of that quotient is exact). */
void tb_ms(textbuf *t, int64_t us, int fixed);

/* Standard base64 of the N bytes at DATA, no quotes. */
void tb_base64(textbuf *t, const unsigned char *data, size_t n);

/* The NUL-terminated S as a quoted JSON string escaped as cJSON prints one: '"', '\\'
 * and \b \f \n \r \t by their short escapes, other bytes below 0x20 as \u00XX, all other
 * bytes (UTF-8 or not) as they are. */
void tb_json_string(textbuf *t, const char *s);

#endif
