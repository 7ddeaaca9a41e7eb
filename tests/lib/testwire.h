/* testwire.h: HTTP/1.1 messages read off a socket exactly as they came, for tests that
 * check framing byte by byte: a request as a scripted upstream receives it, an answer as
 * a raw client receives it. Every read waits at most a given time (poll), so a peer that
 * never finishes a message makes the read return incomplete instead of hanging. */
#ifndef TESTWIRE_H
#define TESTWIRE_H

#include <stddef.h>

/* A connected socket and the bytes read from it that no message has taken yet. */
typedef struct tm_sock {
  int fd;
  char *buf;
  size_t len, cap;
  int eof;        /* the peer closed (or reset) its side */
} tm_sock;

/* One message: RAW holds its bytes as received (head, then the body's framing and bytes),
 * BODY the body without its framing (chunked decoded). NUL-terminated, malloc'd. */
typedef struct tm_msg {
  char *raw, *body;
  size_t rawlen, headlen, bodylen;
  int status;     /* a response's status code (0 for a request or an unreadable line) */
  int complete;   /* the whole message came (by its framing, or EOF for a close-delimited
                     body); 0: the peer closed or fell silent first */
  int got_any;    /* at least one byte of it came */
  int peer_closed; /* the peer had closed its side when the read ended */
} tm_msg;

void tm_sock_init(tm_sock *s, int fd);
/* Frees the buffer and closes the descriptor. */
void tm_sock_close(tm_sock *s);

/* Reads one request (head, then a Content-Length or chunked body) from S, each wait at
 * most MS ms; HEAD_ONLY: return once the head is in. */
void tm_read_request(tm_sock *s, int ms, int head_only, tm_msg *m);
/* Reads the body of the request whose head M holds (after tm_read_request with HEAD_ONLY). */
void tm_read_request_body(tm_sock *s, int ms, tm_msg *m);
/* Reads one response (1xx ones included: each is a message of its own) from S; FOR_HEAD:
 * the answer to a HEAD request (no body). */
void tm_read_response(tm_sock *s, int ms, int for_head, tm_msg *m);
void tm_msg_free(tm_msg *m);

/* The value of header NAME in the head of M (case-insensitive name, first occurrence),
 * into OUT; "" when absent. Returns OUT. */
char *tm_header(const tm_msg *m, const char *name, char *out, size_t outlen);

/* Writes all LEN bytes of DATA to FD: 0, or -1 when the peer is gone (safe off the test's
 * thread: it asserts nothing). */
int tm_write_all(int fd, const char *data, size_t len);

#endif
