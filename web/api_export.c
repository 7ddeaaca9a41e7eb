/* api_export.c: GET /api/export: the library's exporter streamed to the browser in
 * bounded memory. reqlog_export() runs on a helper thread and writes into one end of a
 * socket pair; the response reads the other end as the client takes the bytes, so at
 * most the exporter's buffer and the socket's buffer are in flight, whatever the size.
 * A client that leaves closes the reading end, the helper's next write fails, and the
 * export stops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "handlers.h"
#include "params.h"
#include "reply.h"

enum { BLOCK = 64 * 1024 }; /* bytes MHD asks for at a time */

static const struct {
  reqlog_format format;
  const char *type, *ext;
} formats[] = {
  {REQLOG_FORMAT_CSV, "text/csv; charset=utf-8", "csv"},
  {REQLOG_FORMAT_NDJSON, "application/x-ndjson", "ndjson"},
  {REQLOG_FORMAT_HAR, "application/json", "har"},
};

typedef struct export_job {
  reqlog *r;
  reqlog_filter *filter;     /* owned by the helper thread until it is joined */
  reqlog_export_opts opts;
  struct MHD_Connection *conn;
  unsigned idle_s;           /* the server's idle timeout */
  int rfd, wfd;              /* the response reads RFD; the helper writes WFD */
  pthread_t thread;
  int joined;
  reqlog_err result;         /* read after the join */
  char *cause;
} export_job;

/* reqlog_write_fn: every byte into the socket, or stop the export. */
static int write_all(void *ctx, const char *data, size_t len) {
  export_job *job = ctx;
  while (len > 0) {
    ssize_t n = send(job->wfd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return 1; /* the reader is gone */
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

static void *run_export(void *arg) {
  export_job *job = arg;
  job->result = reqlog_export(job->r, job->filter, &job->opts, write_all, job, &job->cause);
  close(job->wfd); /* the reader sees the end */
  job->wfd = -1;
  return NULL;
}

static void join(export_job *job) {
  if (!job->joined) {
    pthread_join(job->thread, NULL);
    job->joined = 1;
  }
}

static ssize_t read_export(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  export_job *job = cls;
  ssize_t n;
  do
    n = read(job->rfd, buf, max);
  while (n < 0 && errno == EINTR);
  if (n > 0) {
    /* MHD times a connection out IDLE_S after its last sent byte, also when the wait
     * was ours: the store can take that long to find the first (or next) matching
     * rows. Bytes from the exporter are progress: the connection's clock restarts
     * (setting a timeout where there was none restarts it). */
    MHD_set_connection_option(job->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    MHD_set_connection_option(job->conn, MHD_CONNECTION_OPTION_TIMEOUT, job->idle_s);
    return n;
  }
  if (n < 0)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  join(job);
  if (job->result == REQLOG_OK)
    return MHD_CONTENT_READER_END_OF_STREAM;
  /* headers are gone already: all that is left is to cut the chunked stream short, so
   * the client knows the file is incomplete */
  fprintf(stderr, "reqlog: serve: export failed: %s\n",
          job->cause ? job->cause : reqlog_strerror(job->result));
  return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void free_job(void *cls) {
  export_job *job = cls;
  close(job->rfd); /* a helper still writing gets EPIPE and stops */
  join(job);
  reqlog_filter_free(job->filter);
  reqlog_free(job->cause);
  free(job);
}

/* "attachment; filename="reqlog-YYYYMMDD-HHMMSS.EXT"" for now (UTC). */
static void disposition(char out[80], const char *ext) {
  time_t now = time(NULL);
  struct tm tm;
  char stamp[32] = "export";
  if (gmtime_r(&now, &tm))
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  snprintf(out, 80, "attachment; filename=\"reqlog-%s.%s\"", stamp, ext);
}

static enum MHD_Result start(web_req *q, web_params *p) {
  export_job *job = calloc(1, sizeof *job);
  int fds[2];
  if (!job || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    free(job);
    return reply_message(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "Cannot start the export.");
  }
  job->r = q->s->r;
  job->conn = q->conn;
  job->idle_s = q->s->idle_s;
  job->filter = p->filter;
  p->filter = NULL;
  job->opts.format = p->format;
  job->opts.with_bodies = p->bodies;
  job->rfd = fds[0];
  job->wfd = fds[1];
  shutdown(fds[0], SHUT_WR);
  shutdown(fds[1], SHUT_RD);
  if (pthread_create(&job->thread, NULL, run_export, job) != 0) {
    close(job->wfd);
    job->joined = 1;
    free_job(job);
    return reply_message(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "Cannot start the export.");
  }
  /* from here on the response owns the job: free_job() runs when MHD is done with it */
  struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK,
                                                                read_export, job, free_job);
  if (!resp) {
    free_job(job);
    return MHD_NO;
  }
  size_t k = 0;
  while (k + 1 < sizeof formats / sizeof formats[0] && formats[k].format != p->format)
    k++;
  char disp[80];
  disposition(disp, formats[k].ext);
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, formats[k].type) != MHD_YES ||
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp) != MHD_YES) {
    MHD_destroy_response(resp);
    return MHD_NO;
  }
  return reply_send(q, MHD_HTTP_OK, resp);
}

enum MHD_Result api_export(web_req *q, const char *arg) {
  (void)arg;
  web_params p;
  enum MHD_Result ret;
  if (params_take(q, PARAM_FILTERS | PARAM_EXPORT, &p, &ret) != 0)
    return ret;
  ret = start(q, &p);
  params_free(&p);
  return ret;
}
