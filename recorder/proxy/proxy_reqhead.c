/* proxy_reqhead.c: the client's request head as the proxy reads it from libmicrohttpd, in
 * one walk over its fields: the header list forwarded to the upstream (without the
 * hop-by-hop fields and those libcurl writes itself), the head as recorded, and the
 * fields as received for proxy_head_check's verdict on the request's framing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/textbuf.h"
#include "proxy/proxy_head.h"
#include "proxy/proxy_int.h"

#define WALK_HDRS 32 /* header fields a walk keeps on the stack */

typedef struct head_walk {
  exchange *ex;
  const char *connection;   /* the request's Connection header */
  textbuf block;            /* the request head as the client sent it (growing) */
  int have_ctype, have_accept, oom;
  char content_encoding[128];
  const char *head, *head_end; /* the head as MHD keeps it (method .. final line end), or
                                NULL when MHD does not say its size */
  proxy_hdr *hdrs;          /* the fields as received, for proxy_head_check */
  size_t nhdrs, hdrs_cap;
  proxy_hdr small[WALK_HDRS];
} head_walk;

/* Non-zero when the header line whose value MHD handed over as VALUE (VLEN bytes) was
 * continued on the next line (obs-fold), which MHD 0.9.75 accepts and mangles: it parses
 * the head in place, turning each line's CR and LF into NULs, and glues a continuation
 * onto the field's name ("X-A: a" + " b" arrives as "X-Ab: a") but leaves the value
 * where it was. So the bytes after the value show how the next line began. Only that
 * layout (a NUL right after the value) is read, and only bytes of the head (HEAD ..
 * HEAD_END, the request line's start and MHD's count of the head's bytes): after the
 * last line of a head with bare-LF line ends come the body's first bytes, or whatever a
 * previous request left in MHD's buffer, which a space or tab made read as a fold (a
 * valid request refused, at random). */
static int mhd_line_folded(const char *value, size_t vlen, const char *head,
                           const char *head_end) {
  uintptr_t v = (uintptr_t)value, end_at = v + vlen;
  size_t room = 3; /* what may be read after the value: unknown without the head's bounds */
  if (head && head_end && v >= (uintptr_t)head && end_at <= (uintptr_t)head_end)
    room = (size_t)((uintptr_t)head_end - end_at);
  const unsigned char *end = (const unsigned char *)value + vlen;
  if (room < 2 || end[0] != '\0')
    return 0;
  if (end[1] == ' ' || end[1] == '\t') /* LF, then a continuation */
    return 1;
  return room >= 3 && end[1] == '\0' && (end[2] == ' ' || end[2] == '\t'); /* CR LF, then one */
}

/* Keeps a field for proxy_head_check. */
static void walk_keep(head_walk *w, const char *name, size_t nlen, const char *value,
                      size_t vlen) {
  if (w->nhdrs == w->hdrs_cap) {
    size_t cap = w->hdrs_cap * 2;
    proxy_hdr *h = malloc(cap * sizeof *h);
    if (!h) {
      w->oom = 1;
      return;
    }
    memcpy(h, w->hdrs, w->nhdrs * sizeof *h);
    if (w->hdrs != w->small)
      free(w->hdrs);
    w->hdrs = h;
    w->hdrs_cap = cap;
  }
  proxy_hdr *h = &w->hdrs[w->nhdrs++];
  h->name = name;
  h->nlen = nlen;
  h->value = value;
  h->vlen = vlen;
  h->folded = value ? mhd_line_folded(value, vlen, w->head, w->head_end) : 0;
}

/* Appends A, B and C to the recorded head. */
static void walk_append(head_walk *w, const char *a, const char *b, const char *c) {
  tb_str(&w->block, a);
  tb_str(&w->block, b);
  tb_str(&w->block, c);
}

/* Adds NAME: VALUE (NL and VL bytes) to the forwarded header list. "Name;" is how libcurl
 * is told to send a header with an empty value; the line is put together on the stack
 * when it fits (libcurl copies it), else in one exact allocation. */
static void walk_forward(head_walk *w, const char *name, size_t nl, const char *value,
                         size_t vl) {
  size_t len = vl ? nl + 2 + vl : nl + 1;
  char small[512], *line = len < sizeof small ? small : malloc(len + 1);
  if (!line) {
    w->oom = 1;
    return;
  }
  memcpy(line, name, nl);
  if (vl) {
    memcpy(line + nl, ": ", 2);
    memcpy(line + nl + 2, value, vl);
  } else {
    line[nl] = ';';
  }
  line[len] = '\0';
  struct curl_slist *l = curl_slist_append(w->ex->headers, line);
  if (line != small)
    free(line);
  if (l)
    w->ex->headers = l;
  else
    w->oom = 1;
}

static enum MHD_Result walk_header(void *cls, enum MHD_ValueKind kind, const char *name,
                                   size_t nlen, const char *value, size_t vlen) {
  head_walk *w = cls;
  walk_keep(w, name, nlen, value, vlen);
  if (!value) {
    value = "";
    vlen = 0;
  }
  /* the recorded head has the Host sent upstream (libcurl's), put first by the caller */
  if (strcasecmp(name, "Host") != 0) {
    walk_append(w, name, ": ", value);
    walk_append(w, "\r\n", "", "");
  }
  if (strcasecmp(name, "Content-Type") == 0)
    w->have_ctype = 1;
  if (strcasecmp(name, "Accept") == 0)
    w->have_accept = 1;
  if (strcasecmp(name, "Content-Encoding") == 0)
    snprintf(w->content_encoding, sizeof w->content_encoding, "%s", value);
  /* libcurl writes Host, Content-Length and the framing for the upstream itself; MHD has
   * already answered any Expect: 100-continue */
  if (proxy_hop_by_hop(name, strlen(name), w->connection) || strcasecmp(name, "Host") == 0 ||
      strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Expect") == 0)
    return MHD_YES;
  walk_forward(w, name, nlen, value, vlen);
  return MHD_YES;
}

/* Header lines that stop libcurl adding defaults of its own that the client did not send. */
static int suppress_defaults(exchange *ex, const head_walk *w) {
  const char *lines[] = {"Expect:", w->have_accept ? NULL : "Accept:",
                         (ex->has_body && !w->have_ctype) ? "Content-Type:" : NULL};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    if (!lines[i])
      continue;
    struct curl_slist *l = curl_slist_append(ex->headers, lines[i]);
    if (!l)
      return -1;
    ex->headers = l;
  }
  return 0;
}

int proxy_reqhead_read(exchange *ex, struct MHD_Connection *conn, const char *method,
                       const char *version, const char *authority, const char **fault,
                       char *ce, size_t celen) {
  head_walk w = {0};
  w.ex = ex;
  w.hdrs = w.small;
  w.hdrs_cap = WALK_HDRS;
  w.connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
  /* MHD parses the head in place: its method is the head's first byte */
  const union MHD_ConnectionInfo *hs =
    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  if (hs && hs->header_size > 0) {
    w.head = method;
    w.head_end = method + hs->header_size;
  }
  walk_append(&w, method, " ", ex->target);
  walk_append(&w, " ", version && *version ? version : "HTTP/1.1", "\r\n");
  walk_append(&w, "Host: ", authority, "\r\n");
  MHD_get_connection_values_n(conn, MHD_HEADER_KIND, walk_header, &w);
  walk_append(&w, "\r\n", "", "");
  w.oom |= w.block.nomem;
  int refused = w.oom ? 0 : proxy_head_check(method, w.hdrs, w.nhdrs, fault);
  if (w.hdrs != w.small)
    free(w.hdrs);
  record *rec = ex->rec;
  rec->req_head = w.block.data ? record_strndup(rec, w.block.data, w.block.len) : NULL;
  rec->req_head_len = rec->req_head ? w.block.len : 0;
  free(w.block.data);
  snprintf(ce, celen, "%s", w.content_encoding);
  if (w.oom || !rec->req_head || suppress_defaults(ex, &w) != 0)
    return -1;
  return refused;
}
