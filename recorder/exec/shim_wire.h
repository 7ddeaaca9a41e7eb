/* shim_wire.h: the messages the exec shim (inside a traced program) sends to the
 * `reqlog exec` parent over a Unix stream socket: a record as bytes and back, in
 * length-prefixed frames that survive partial reads and writes.
 *
 * A frame is a 12-byte header and a payload, every integer little-endian:
 *   "RQLW"  u16 version (WIRE_VERSION)  u16 type (WIRE_MSG_*)  u32 payload length
 * A WIRE_MSG_RECORD payload is a list of fields, each
 *   u16 tag  u32 length  LENGTH bytes
 * in any order. Strings are their bytes (no NUL); a NULL string is an absent field.
 * Integers are 8 bytes, two's complement. A body is its kept bytes plus its full size,
 * flags and, past the cap, its SHA-256. A reader skips tags it does not know, so fields
 * can be added without a new version; WIRE_VERSION changes only when an existing field
 * changes meaning, and a reader rejects frames of another version. */
#ifndef REQLOG_SHIM_WIRE_H
#define REQLOG_SHIM_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "capture/record.h"

#define WIRE_VERSION 1
#define WIRE_HEADER_LEN 12

enum { WIRE_MSG_RECORD = 1, WIRE_MSG_UNSEEN = 2 };

/* Where the shim finds its parent: the path of the parent's listening socket, and the
 * body cap the parent records with. Set in the traced program's environment. */
#define WIRE_ENV_SOCKET "REQLOG_SHIM_SOCKET"
#define WIRE_ENV_BODY_CAP "REQLOG_SHIM_BODY_CAP"

/* REC as one complete WIRE_MSG_RECORD frame in *out (malloc'd, the caller frees it),
 * *len bytes. Returns 0, or -1 when out of memory. */
int wire_encode_record(const record *rec, unsigned char **out, size_t *len);

/* Fills REC (fresh from record_new, whose body cap bounds the bodies) from the payload
 * of a WIRE_MSG_RECORD frame. Returns 0, or -1 when the payload is malformed (a field
 * overruns it, a body is larger than the cap or than its stated size) or memory ran
 * out; REC may then hold some fields, and the caller frees it with record_free. */
int wire_decode_record(const unsigned char *payload, size_t len, record *rec);

/* A WIRE_MSG_UNSEEN payload, sent by a traced process as it exits: code in it (CALLER,
 * a library's path or the program's name) calls LIBCURL past the shim, so the transfers
 * it made were not recorded. Its fields are tagged as a record's are; any may be
 * missing (NULL strings). */
typedef struct wire_unseen {
  int64_t pid;
  char *program, *caller, *libcurl;
} wire_unseen;

/* U as one complete WIRE_MSG_UNSEEN frame, as wire_encode_record does. */
int wire_encode_unseen(const wire_unseen *u, unsigned char **out, size_t *len);

/* Fills U (its old contents ignored) from the payload of a WIRE_MSG_UNSEEN frame.
 * Returns 0 (free U with wire_unseen_free), or -1 when malformed or out of memory (U is
 * then empty). */
int wire_decode_unseen(const unsigned char *payload, size_t len, wire_unseen *u);
void wire_unseen_free(wire_unseen *u);

/* Writes all LEN bytes of BUF to socket FD, resuming after partial writes and EINTR,
 * never raising SIGPIPE. Returns 0, or -1 with errno (the peer is gone, a send timeout
 * set on FD expired mid-frame: the connection is then useless). */
int wire_send(int fd, const void *buf, size_t len);

/* Reassembles frames from a non-blocking stream, whatever sizes its reads come in. */
typedef struct wire_reader {
  unsigned char *buf;
  size_t len, alloc;
  size_t used;           /* bytes of buf taken by frames already returned */
  size_t max_payload;    /* frames announcing more are rejected */
} wire_reader;

void wire_reader_init(wire_reader *rd, size_t max_payload);
void wire_reader_free(wire_reader *rd);

/* Reads what FD has now into RD. Returns the number of bytes read (> 0), 0 at end of
 * stream, or -1 with errno (EAGAIN: nothing to read now). */
long wire_reader_fill(wire_reader *rd, int fd);

/* Takes the next complete frame out of what was read: returns 1 with *type, *payload
 * and *len (PAYLOAD points into RD, valid until the next wire_reader call), 0 when no
 * complete frame is there yet, or -1 when the stream is not reqlog's wire protocol, is
 * of another WIRE_VERSION (*version tells which), or announces a frame larger than
 * max_payload; the stream cannot be resynchronised after -1. */
int wire_reader_next(wire_reader *rd, int *type, const unsigned char **payload, size_t *len,
                     int *version);

/* Bytes held by RD that do not form a complete frame (non-zero at end of stream: the
 * sender stopped mid-frame). */
size_t wire_reader_pending(const wire_reader *rd);

#endif
