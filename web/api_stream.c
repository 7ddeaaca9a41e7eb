/* api_stream.c: GET /api/stream: new matching rows as server-sent events, oldest first.
 *
 * The connection's own thread (one per connection) runs the loop inside the response
 * callback: about twice a second it looks for rows newer than the last one sent, and it
 * sleeps in between on the server's condition variable, which web_stop() signals.
 * New rows are read in windows of ids: one reqlog_query() with both bounds (after_id =
 * last, before_id = last + WINDOW + 1) and oldest_first reads the matching rows of
 * (last, last + WINDOW] in order, at most WINDOW of them. A burst larger than a window
 * is sent window by window, in order, with bounded memory. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "params.h"
#include "reply.h"

enum {
  POLL_MS = 500,
  KEEPALIVE_MS = 15000,
  WINDOW = 200,          /* ids per query */
  BLOCK = 16 * 1024      /* bytes MHD asks for at a time */
};

typedef struct stream {
  struct web_server *s;
  struct MHD_Connection *conn;
  reqlog_filter *filter;
  int64_t last;          /* the newest id considered so far */
  reqlog_buf out;        /* events not yet handed to MHD, from POS on */
  size_t pos;
  reqlog_buf row;        /* the text of the row being sent */
  int64_t last_write_ms; /* monotonic */
  int64_t next_poll_ms;
  int failed;            /* a read error was logged; say it once */
} stream;

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int append(stream *st, const char *text, size_t n) {
  return reqlog_buf_add(&st->out, text, n) == REQLOG_OK ? 0 : -1;
}

/* The cursor's next row as "id: ID\nevent: row\ndata: {row}\n\n"; the row's text has no
 * raw newline. Returns what reqlog_cursor_next_text() says, or REQLOG_ERR_NOMEM. */
static reqlog_err append_event(stream *st, reqlog_cursor *c) {
  int64_t id = 0;
  st->row.len = 0;
  reqlog_err err = reqlog_cursor_next_text(c, &st->row, &id);
  if (err != REQLOG_OK)
    return err;
  char head[64];
  int n = snprintf(head, sizeof head, "id: %" PRId64 "\nevent: row\ndata: ", id);
  size_t mark = st->out.len;
  if (append(st, head, (size_t)n) != 0 || append(st, st->row.data, st->row.len) != 0 ||
      append(st, "\n\n", 2) != 0) {
    st->out.len = mark;
    return REQLOG_ERR_NOMEM;
  }
  return REQLOG_OK;
}

/* The newest id in the history (0 when empty), whatever the filter. */
static reqlog_err newest_id(reqlog *r, int64_t *id) {
  reqlog_query_opts opts = {.limit = 1};
  reqlog_cursor *c = NULL;
  reqlog_err err = reqlog_query(r, NULL, &opts, &c, NULL);
  if (err != REQLOG_OK)
    return err;
  cJSON *row = NULL;
  *id = 0;
  err = reqlog_cursor_next(c, &row);
  if (err == REQLOG_OK) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "id");
    *id = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
  }
  cJSON_Delete(row);
  reqlog_cursor_free(c);
  return err == REQLOG_ERR_DONE ? REQLOG_OK : err;
}

/* Adds the matching rows of the next window of ids to the output. *MORE: windows remain
 * before the newest row. */
static reqlog_err poll_rows(stream *st, int *more) {
  *more = 0;
  int64_t newest = 0;
  reqlog_err err = newest_id(st->s->r, &newest);
  if (err != REQLOG_OK || newest <= st->last)
    return err;
  int64_t hi = newest - st->last > WINDOW ? st->last + WINDOW : newest;
  /* one range query over the window (after_id, before_id], oldest first */
  reqlog_query_opts opts = {.after_id = st->last, .before_id = hi + 1, .oldest_first = 1};
  reqlog_cursor *c = NULL;
  err = reqlog_query(st->s->r, st->filter, &opts, &c, NULL);
  if (err != REQLOG_OK)
    return err;
  do
    err = append_event(st, c);
  while (err == REQLOG_OK);
  reqlog_cursor_free(c);
  if (err == REQLOG_ERR_DONE)
    err = REQLOG_OK;
  if (err == REQLOG_OK) {
    st->last = hi;
    *more = hi < newest;
  }
  return err;
}

/* Non-zero when the client closed its side: an idle stream notices it here instead of
 * at the next keepalive. */
static int client_gone(stream *st) {
  const union MHD_ConnectionInfo *info =
    MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (!info)
    return 0;
  struct pollfd pfd = {.fd = info->connect_fd, .events = POLLRDHUP};
  return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  stream *st = cls;
  for (;;) {
    if (st->pos < st->out.len) {
      size_t n = st->out.len - st->pos < max ? st->out.len - st->pos : max;
      memcpy(buf, st->out.data + st->pos, n);
      st->pos += n;
      if (st->pos == st->out.len)
        st->pos = st->out.len = 0;
      st->last_write_ms = mono_ms();
      return (ssize_t)n;
    }
    if (web_stopping(st->s))
      return MHD_CONTENT_READER_END_OF_STREAM;
    if (client_gone(st))
      return MHD_CONTENT_READER_END_WITH_ERROR;
    int64_t now = mono_ms();
    if (now >= st->next_poll_ms) {
      int more = 0;
      reqlog_err err = poll_rows(st, &more);
      if (err == REQLOG_ERR_NOMEM)
        return MHD_CONTENT_READER_END_WITH_ERROR;
      if (err != REQLOG_OK && !st->failed) /* e.g. busy: try again at the next poll */
        fprintf(stderr, "reqlog: serve: live stream: %s\n", reqlog_strerror(err));
      st->failed = err != REQLOG_OK;
      st->next_poll_ms = more ? now : now + POLL_MS;
      if (st->out.len)
        continue;
    }
    if (now - st->last_write_ms >= KEEPALIVE_MS) {
      if (append(st, ": keepalive\n\n", 13) != 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
      continue;
    }
    int64_t wake = st->next_poll_ms;
    if (st->last_write_ms + KEEPALIVE_MS < wake)
      wake = st->last_write_ms + KEEPALIVE_MS;
    if (wake > now)
      web_sleep(st->s, (long)(wake - now));
  }
}

static void free_stream(void *cls) {
  stream *st = cls;
  reqlog_filter_free(st->filter);
  reqlog_buf_free(&st->out);
  reqlog_buf_free(&st->row);
  free(st);
}

enum MHD_Result api_stream(web_req *q, const char *arg) {
  (void)arg;
  web_params p;
  enum MHD_Result ret;
  if (params_take(q, PARAM_FILTERS | PARAM_AFTER, &p, &ret) != 0)
    return ret;
  if (conns_stream_begin(&q->s->conns, q->conn) != 0) {
    params_free(&p);
    char msg[160];
    snprintf(msg, sizeof msg, "Too many live streams: at most %d from one address and %d in "
             "all. Close another dashboard tab or its live tail.",
             WEB_STREAMS_PER_IP, WEB_STREAMS_TOTAL);
    return reply_message(q, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
  }
  stream *st = calloc(1, sizeof *st);
  int64_t start = p.after;
  reqlog_err err = start >= 0 ? REQLOG_OK : newest_id(q->s->r, &start);
  if (!st || err != REQLOG_OK) {
    free(st);
    params_free(&p);
    return st ? reply_lib_error(q, err, NULL) : MHD_NO;
  }
  st->s = q->s;
  st->conn = q->conn;
  st->filter = p.filter;
  p.filter = NULL;
  params_free(&p);
  st->last = start;
  st->last_write_ms = st->next_poll_ms = mono_ms();
  /* a first comment gets the headers out at once, so the client knows it is connected */
  if (append(st, ": connected\n\n", 13) != 0) {
    free_stream(st);
    return MHD_NO;
  }
  struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK,
                                                                read_stream, st, free_stream);
  if (!resp) {
    free_stream(st);
    return MHD_NO;
  }
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream") != MHD_YES) {
    MHD_destroy_response(resp);
    return MHD_NO;
  }
  /* a live stream is idle by nature: no 30 s timeout for this connection */
  MHD_set_connection_option(q->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
  return reply_send(q, MHD_HTTP_OK, resp);
}
