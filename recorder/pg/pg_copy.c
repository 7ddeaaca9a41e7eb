/* pg_copy.c: values written as PostgreSQL's COPY text format (one row a line, columns
 * separated by tabs, \N for NULL, backslash escapes), what the shipper streams into its
 * staging table. Text must be UTF-8 without NUL for PostgreSQL: what is not gets its
 * bad bytes replaced by U+FFFD (bodies are never repaired: they go to bytea instead). */
#include "pg/pg_int.h"

#include "base/utf8.h"

/* The UTF-8 of U+FFFD REPLACEMENT CHARACTER. */
static const char REPLACEMENT[] = "\xEF\xBF\xBD";

void pg_copy_null(textbuf *b) {
  tb_str(b, "\\N");
}

void pg_copy_int(textbuf *b, int64_t v) {
  tb_int(b, v);
}

void pg_copy_bool(textbuf *b, int v) {
  tb_byte(b, v ? 't' : 'f');
}

int pg_copy_is_text(const unsigned char *p, size_t n) {
  return utf8_scan(p, n, UTF8_STRICT | UTF8_NO_NUL) == n;
}

/* N bytes of UTF-8 at P with COPY's escapes. */
static void escaped(textbuf *b, const unsigned char *p, size_t n) {
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    const char *esc = p[i] == '\\' ? "\\\\" : p[i] == '\n' ? "\\n" : p[i] == '\r' ? "\\r"
                    : p[i] == '\t' ? "\\t" : NULL;
    if (!esc)
      continue;
    tb_bytes(b, p + from, i - from);
    tb_str(b, esc);
    from = i + 1;
  }
  tb_bytes(b, p + from, n - from);
}

/* The length of the UTF-8 sequence that lead byte C starts (1 for anything else). */
static size_t seq_len(unsigned char c) {
  return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

void pg_copy_text(textbuf *b, const unsigned char *p, size_t n) {
  if (pg_copy_is_text(p, n)) {
    escaped(b, p, n);
    return;
  }
  size_t i = 0;
  while (i < n) {
    size_t len = seq_len(p[i]);
    if (p[i] != 0 && i + len <= n && utf8_scan(p + i, len, UTF8_STRICT | UTF8_NO_NUL) == len) {
      escaped(b, p + i, len);
      i += len;
    } else {
      tb_str(b, REPLACEMENT);
      i++;
    }
  }
}

void pg_copy_bytea(textbuf *b, const unsigned char *p, size_t n) {
  /* bytea's hex form \x..., its backslash doubled for COPY */
  tb_str(b, "\\\\x");
  char hex[2 * 256 + 1];
  for (size_t i = 0; i < n; i += 256) {
    size_t k = n - i < 256 ? n - i : 256;
    util_hex_encode(p + i, k, hex);
    tb_bytes(b, hex, 2 * k);
  }
}
