/* fuzz_wire.c: the exec wire format (recorder/exec/shim_wire.c): frames from a traced
 * program's shim, read by the `reqlog exec` parent, whose contents it must not trust.
 *
 * Input: a mode byte, then bytes.
 *   mode bit 0 clear: the bytes are one WIRE_MSG_RECORD payload for wire_decode_record().
 *   mode bit 0 set:   the bytes are a stream as the parent reads it from its socket:
 *                     written to a pipe in pieces (sizes from the mode byte), taken
 *                     apart by wire_reader_fill()/wire_reader_next(); each record frame
 *                     is decoded as above.
 *   mode bits 1-7: the body cap of the record decoded into (N * 3 bytes; 0: 1 MiB).
 * Properties checked besides "no crash, no leak, no overread":
 *   - a decoded record is consistent: kept body bytes within the cap and within the
 *     stated full size;
 *   - encoding is stable: a decoded record encodes to a frame that decodes and encodes
 *     to the same bytes again;
 *   - the reader returns frames in order, never one larger than its max_payload, and
 *     once it refuses a stream it keeps refusing it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "capture/record.h"
#include "exec/shim_wire.h"

#define MAX_PAYLOAD 65536

/* Encodes REC; returns the frame (malloc'd) or NULL when out of memory. */
static unsigned char *encode(const record *rec, size_t *len) {
  unsigned char *out = NULL;
  if (wire_encode_record(rec, &out, len) != 0)
    return NULL;
  FUZZ_CHECK(*len >= WIRE_HEADER_LEN && memcmp(out, "RQLW", 4) == 0,
             "an encoded record is a frame");
  return out;
}

static void check_body(const capbuf *b, size_t cap) {
  FUZZ_CHECK(b->len <= cap, "a decoded body keeps at most the cap");
  FUZZ_CHECK(b->len <= b->total, "a decoded body keeps at most its full size");
  FUZZ_CHECK(b->len == 0 || b->data != NULL, "a decoded body's bytes are there");
}

static void decode_payload(const unsigned char *p, size_t len, size_t cap) {
  record *rec = record_new(cap);
  if (!rec)
    return;
  if (wire_decode_record(p, len, rec) != 0) {
    record_free(rec);
    return;
  }
  check_body(&rec->req_body, cap);
  check_body(&rec->resp_body, cap);
  size_t n1 = 0, n2 = 0;
  unsigned char *f1 = encode(rec, &n1);
  record_free(rec);
  if (!f1)
    return;
  record *again = record_new(cap);
  if (!again) {
    free(f1);
    return;
  }
  FUZZ_CHECK(wire_decode_record(f1 + WIRE_HEADER_LEN, n1 - WIRE_HEADER_LEN, again) == 0,
             "a re-encoded record decodes");
  unsigned char *f2 = encode(again, &n2);
  if (f2)
    FUZZ_CHECK(n1 == n2 && memcmp(f1, f2, n1) == 0, "a record encodes the same way twice");
  free(f2);
  free(f1);
  record_free(again);
}

/* Takes every complete frame out of RD. Returns -1 once the reader refused the stream. */
static int drain(wire_reader *rd, size_t cap) {
  for (;;) {
    int type = 0, version = 0;
    const unsigned char *payload = NULL;
    size_t len = 0;
    int r = wire_reader_next(rd, &type, &payload, &len, &version);
    if (r <= 0)
      return r;
    FUZZ_CHECK(len <= MAX_PAYLOAD, "a frame never exceeds max_payload");
    if (type == WIRE_MSG_RECORD)
      decode_payload(payload, len, cap);
  }
}

static void read_stream(const unsigned char *data, size_t size, unsigned seed, size_t cap) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
    return;
  wire_reader rd;
  wire_reader_init(&rd, MAX_PAYLOAD);
  size_t off = 0;
  int refused = 0;
  unsigned s = seed | 1;
  while (off < size) {
    size_t n = fuzz_piece(&s, 4096, size - off);
    ssize_t w = write(fds[1], data + off, n);
    FUZZ_CHECK(w > 0, "the pipe takes a piece");
    off += (size_t)w;
    long got = wire_reader_fill(&rd, fds[0]);
    FUZZ_CHECK(got > 0 || (got < 0 && errno == ENOMEM), "the reader reads what was written");
    int r = drain(&rd, cap);
    if (refused)
      FUZZ_CHECK(r == -1, "a refused stream stays refused");
    if (r == -1)
      refused = 1;
  }
  close(fds[1]);
  long end = wire_reader_fill(&rd, fds[0]);
  FUZZ_CHECK(end == 0, "the reader sees the end of the stream");
  close(fds[0]);
  wire_reader_free(&rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t cap = (data[0] >> 1) ? (size_t)(data[0] >> 1) * 3 : (size_t)1 << 20;
  if (data[0] & 1)
    read_stream(data + 1, size - 1, data[0], cap);
  else
    decode_payload(data + 1, size - 1, cap);
  return 0;
}
