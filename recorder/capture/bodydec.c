/* bodydec.c: streaming de-chunking and inflating of captured bodies (see bodydec.h). */
#include "capture/bodydec.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"

enum { CS_SIZE, CS_EXT, CS_SIZE_LF, CS_DATA, CS_DATA_CR, CS_DATA_LF, CS_TRAILER, CS_DONE };

void bodydec_init(bodydec *d, capbuf *out, int chunked, const char *encoding) {
  memset(d, 0, sizeof *d);
  d->out = out;
  d->chunked = chunked;
  if (encoding && (strcasestr(encoding, "gzip") || strcasestr(encoding, "deflate"))) {
    /* 15+32: zlib detects a gzip or zlib header by itself */
    if (inflateInit2(&d->z, 15 + 32) == Z_OK)
      d->inflating = 1;
  }
}

static void emit(bodydec *d, const char *p, size_t len) {
  if (d->inflating != 1) {
    capbuf_append(d->out, p, len);
    return;
  }
  unsigned char buf[16384];
  d->z.next_in = (unsigned char *)p;
  d->z.avail_in = (uInt)len;
  /* until the input is used up and zlib has room to spare: a buffer it filled may leave
   * output pending inside zlib (the rest of a match) after the last input byte */
  while (d->z.avail_in > 0 || d->z.avail_out == 0) {
    d->z.next_out = buf;
    d->z.avail_out = sizeof buf;
    int rc = inflate(&d->z, Z_NO_FLUSH);
    capbuf_append(d->out, buf, sizeof buf - d->z.avail_out);
    if (rc == Z_STREAM_END) {
      /* a gzip member ended; anything after it is kept raw rather than dropped */
      if (d->z.avail_in)
        capbuf_append(d->out, d->z.next_in, d->z.avail_in);
      inflateEnd(&d->z);
      d->inflating = 0;
      return;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      inflateEnd(&d->z);
      d->inflating = -1;
      capbuf_append(d->out, d->z.next_in, d->z.avail_in);
      return;
    }
    if (rc == Z_BUF_ERROR && d->z.avail_out != 0)
      return;
  }
}

void bodydec_feed(bodydec *d, const char *p, size_t len) {
  if (!d->chunked) {
    emit(d, p, len);
    return;
  }
  size_t i = 0;
  while (i < len) {
    char c = p[i];
    switch (d->cstate) {
    case CS_SIZE: {
      int v = util_hex_value(c);
      if (v >= 0) {
        if (d->chunk_left > (UINT64_MAX >> 4)) {
          d->cstate = CS_DONE; /* absurd size: stop decoding */
          break;
        }
        d->chunk_left = d->chunk_left * 16 + (uint64_t)v;
      } else if (c == ';' || c == ' ' || c == '\t') {
        d->cstate = CS_EXT;
      } else if (c == '\r') {
        d->cstate = CS_SIZE_LF;
      } else if (c == '\n') {
        d->cstate = d->chunk_left ? CS_DATA : CS_TRAILER;
      }
      i++;
      break;
    }
    case CS_EXT:
      if (c == '\n')
        d->cstate = d->chunk_left ? CS_DATA : CS_TRAILER;
      i++;
      break;
    case CS_SIZE_LF:
      if (c == '\n')
        d->cstate = d->chunk_left ? CS_DATA : CS_TRAILER;
      i++;
      break;
    case CS_DATA: {
      size_t n = len - i;
      if (n > d->chunk_left)
        n = (size_t)d->chunk_left;
      emit(d, p + i, n);
      i += n;
      d->chunk_left -= n;
      if (!d->chunk_left)
        d->cstate = CS_DATA_CR;
      break;
    }
    case CS_DATA_CR:
      d->cstate = (c == '\r') ? CS_DATA_LF : CS_SIZE;
      if (c == '\n')
        d->cstate = CS_SIZE;
      i++;
      break;
    case CS_DATA_LF:
      d->cstate = CS_SIZE;
      i++;
      break;
    case CS_TRAILER:
    case CS_DONE:
    default:
      i = len; /* trailers are not part of the body */
      break;
    }
  }
}

void bodydec_end(bodydec *d) {
  if (d->inflating == 1)
    inflateEnd(&d->z);
  d->inflating = 0;
}
