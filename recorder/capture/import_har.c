/* import_har.c: reqlog_import_har(): a HAR 1.2 file (a browser's DevTools, Playwright's
 * recordHar, reqlog's own export) checked as a whole, then turned into records that the
 * store redacts and writes exactly like captured traffic, with source "import".
 *
 * All or nothing: every entry is checked and built into a record before the first one
 * is submitted, so a malformed file adds no row; the error names the JSON path of the
 * first problem ("log.entries[3].request.url: missing").
 *
 * How an entry becomes a record (the reverse of export_har.c):
 *   headers   a request block "METHOD URL VERSION\r\nName: value\r\n...\r\n\r\n" and a
 *             response block "VERSION STATUS TEXT\r\n...", so row_prepare() redacts
 *             them as it redacts what libcurl saw; HTTP/2 pseudo-headers (":path"...)
 *             are left out: method, URL and status carry them
 *   bodies    postData.text (or its params, form-encoded) and content.text, base64
 *             decoded when marked so (content.encoding, postData._encoding)
 *   timings   queued = blocked, dns, tls = ssl, connect = connect - ssl,
 *             ttfb = send + wait, total = time - blocked (else the sum of the phases);
 *             -1 (not applicable) reads as 0
 *   no answer response.status 0 or -1: no status; the error from _reqlog.error, Chrome's
 *             response._error or Playwright's response._failureText
 *   _reqlog   (reqlog's own exports) attempt, full body sizes and truncation, origin
 *             (kept, so a history exported on one host and imported on another still
 *             says where each call was made; an entry without one gets the importing
 *             handle's origin), and retry_of linked to the imported row of the entry it
 *             names
 * HAR cookies arrays, queryString, _initiator and other custom fields are not read: the
 * Cookie headers and the URL hold the same data and are redacted.
 *
 * This file reads the file, finds the entries, links retries and submits the records;
 * har_entry.c builds each entry (with har_check.c's checks and har_text.c's text). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handle.h"
#include "base/dynbuf.h"
#include "base/utf8.h"
#include "base/util.h"
#include "capture/har_entry.h"
#include "capture/har_text.h"
#include "store/store.h"

/* ------------------------------------------------------------------ the file */

/* Reads FD onto B to its end or B's cap, first making room for the EXPECT bytes fstat()
 * gave. */
static reqlog_err read_all(int fd, const char *path, size_t expect, dynbuf *b, char **cause) {
  size_t want = expect ? expect : 1;
  for (;;) {
    reqlog_err err = dynbuf_reserve(b, want);
    if (err == REQLOG_ERR_FULL)
      return REQLOG_OK; /* past the cap: read_file() refuses it */
    if (err != REQLOG_OK)
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory reading %s", path);
    ssize_t r = read(fd, b->data + b->len, b->cap - 1 - b->len);
    if (r == 0)
      return REQLOG_OK;
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return util_fail(cause, REQLOG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    dynbuf_grew(b, (size_t)r);
    want = 1;
  }
}

/* Reads PATH whole (at most HAR_MAX_BYTES) into *buf, NUL-terminated. */
static reqlog_err read_file(const char *path, char **buf, size_t *len, char **cause) {
  *buf = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return util_fail(cause, REQLOG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat st;
  reqlog_err err = REQLOG_OK;
  if (fstat(fd, &st) != 0) {
    err = util_fail(cause, REQLOG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    err = util_fail(cause, REQLOG_ERR_IO, "%s is not a regular file", path);
  } else if (st.st_size > HAR_MAX_BYTES) {
    err = util_fail(cause, REQLOG_ERR_ARG, "%lld bytes: reqlog imports HAR files of up "
                    "to 512 MiB", (long long)st.st_size);
  }
  if (err != REQLOG_OK) {
    close(fd);
    return err;
  }
  dynbuf b;
  dynbuf_init(&b, (size_t)HAR_MAX_BYTES + 1); /* one byte more: growth is seen */
  err = read_all(fd, path, (size_t)st.st_size, &b, cause);
  close(fd);
  if (err == REQLOG_OK && b.len > (size_t)HAR_MAX_BYTES)
    err = util_fail(cause, REQLOG_ERR_ARG, "the file grew past 512 MiB while being read");
  if (err != REQLOG_OK) {
    dynbuf_free(&b);
    return err;
  }
  *len = b.len;
  *buf = dynbuf_take(&b);
  return REQLOG_OK;
}

/* Parses TEXT (LEN bytes) as JSON; on failure the cause gives the line and column. */
static reqlog_err parse_json(const char *text, size_t len, cJSON **out, char **cause) {
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) /* a BOM, as Windows tools write */
    text += 3;
  /* our own end pointer: cJSON's global error pointer is not thread-safe */
  const char *end = NULL;
  *out = cJSON_ParseWithOpts(text, &end, 1);
  if (*out)
    return REQLOG_OK;
  size_t tl = strlen(text);
  if (!end || end < text || end > text + tl)
    end = text;
  long line = 1, col = 1;
  for (const char *p = text; p < end; p++) {
    if (*p == '\n') {
      line++;
      col = 1;
    } else if (!utf8_is_cont((unsigned char)*p)) { /* characters, not bytes */
      col++;
    }
  }
  return util_fail(cause, REQLOG_ERR_ARG, "not valid JSON (line %ld, column %ld)", line, col);
}

/* The entries array of a HAR document, checked down to it. */
static reqlog_err entries_of(const cJSON *root, cJSON **entries, char **cause) {
  if (!cJSON_IsObject(root))
    return util_fail(cause, REQLOG_ERR_ARG, "not a HAR file: the top level is not a JSON object");
  const cJSON *log = cJSON_GetObjectItemCaseSensitive(root, "log");
  if (!log)
    return util_fail(cause, REQLOG_ERR_ARG, "log: missing");
  if (!cJSON_IsObject(log))
    return util_fail(cause, REQLOG_ERR_ARG, "log: not an object");
  const cJSON *version = cJSON_GetObjectItemCaseSensitive(log, "version");
  if (version && !cJSON_IsString(version))
    return util_fail(cause, REQLOG_ERR_ARG, "log.version: not a string");
  *entries = cJSON_GetObjectItemCaseSensitive(log, "entries");
  if (!*entries)
    return util_fail(cause, REQLOG_ERR_ARG, "log.entries: missing");
  if (!cJSON_IsArray(*entries))
    return util_fail(cause, REQLOG_ERR_ARG, "log.entries: not an array");
  return REQLOG_OK;
}

/* ------------------------------------------------------------------ retry links */

struct id_index {
  int64_t id;
  size_t at;
};

static int by_id(const void *a, const void *b) {
  const struct id_index *x = a, *y = b;
  if (x->id != y->id)
    return x->id < y->id ? -1 : 1;
  return x->at < y->at ? -1 : x->at > y->at;
}

/* For each entry, the index of the earlier entry its _reqlog.retry_of names, or -1:
 * *links (malloc'd, N items). */
static reqlog_err retry_links(const har_built *b, size_t n, ptrdiff_t **links) {
  *links = malloc((n ? n : 1) * sizeof **links);
  struct id_index *idx = malloc((n ? n : 1) * sizeof *idx);
  if (!*links || !idx) {
    free(*links);
    free(idx);
    *links = NULL;
    return REQLOG_ERR_NOMEM;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    (*links)[i] = -1;
    if (b[i].har_id > 0)
      idx[m++] = (struct id_index){b[i].har_id, i};
  }
  qsort(idx, m, sizeof *idx, by_id);
  for (size_t i = 0; i < n; i++) {
    if (b[i].har_retry_of <= 0)
      continue;
    /* the first entry with that id: the lowest index of the run */
    size_t lo = 0, hi = m;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (idx[mid].id < b[i].har_retry_of)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < m && idx[lo].id == b[i].har_retry_of && idx[lo].at < i)
      (*links)[i] = (ptrdiff_t)idx[lo].at;
  }
  free(idx);
  return REQLOG_OK;
}

/* ------------------------------------------------------------------ entry point */

/* Checks and builds every entry of the HAR at PATH: *out (malloc'd, *n items) owns the
 * records. Nothing is built when an entry is malformed. */
static reqlog_err build_all(const char *path, size_t cap, har_built **out, size_t *n,
                            char **cause) {
  char *text = NULL;
  size_t len = 0;
  cJSON *root = NULL, *entries = NULL;
  *out = NULL;
  *n = 0;
  reqlog_err err = read_file(path, &text, &len, cause);
  if (err == REQLOG_OK)
    err = parse_json(text, len, &root, cause);
  free(text); /* cJSON holds copies: the text goes before the records grow */
  if (err == REQLOG_OK)
    err = entries_of(root, &entries, cause);
  if (err != REQLOG_OK) {
    cJSON_Delete(root);
    return err;
  }
  size_t count = (size_t)cJSON_GetArraySize(entries);
  har_built *b = calloc(count ? count : 1, sizeof *b);
  if (!b) {
    cJSON_Delete(root);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  size_t i = 0;
  cJSON *e = entries->child;
  while (e && err == REQLOG_OK) {
    err = har_entry_build(e, i, cap, &b[i], cause);
    /* each entry's JSON goes once its record holds what it needs */
    cJSON *next = e->next;
    cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
    e = next;
    if (err == REQLOG_OK)
      i++;
  }
  cJSON_Delete(root);
  if (err != REQLOG_OK) {
    for (size_t k = 0; k < i; k++)
      record_free(b[k].rec);
    free(b);
    return err;
  }
  *out = b;
  *n = i;
  return REQLOG_OK;
}

reqlog_err reqlog_import_har(reqlog *r, const char *path, int64_t *imported, char **cause) {
  if (imported)
    *imported = 0;
  if (cause)
    *cause = NULL;
  if (!r || !path || !imported)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_import_har: no handle, path or count");
  if (!r->st)
    return util_fail(cause, REQLOG_ERR_ARG, "this reqlog handle has no database");
  pthread_rwlock_rdlock(&r->cfg);
  size_t cap = r->body_cap;
  pthread_rwlock_unlock(&r->cfg);

  har_built *b = NULL;
  size_t n = 0;
  reqlog_err err = build_all(path, cap, &b, &n, cause);
  if (err != REQLOG_OK)
    return err;
  ptrdiff_t *links = NULL;
  uint64_t *seqs = calloc(n ? n : 1, sizeof *seqs);
  if (!seqs || retry_links(b, n, &links) != REQLOG_OK) {
    for (size_t i = 0; i < n; i++)
      record_free(b[i].rec);
    free(b);
    free(seqs);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }

  /* Everything is built: from here every record goes to the store, which owns it. */
  for (size_t i = 0; i < n; i++) {
    int64_t row_id = 0;
    if (links[i] >= 0)
      b[i].rec->retry_of_seq = seqs[links[i]];
    store_submit(r->st, b[i].rec, &seqs[i], &row_id); /* failures come back from flush */
    b[i].rec = NULL;
  }
  free(b);
  free(links);
  free(seqs);
  char *why = NULL;
  err = store_flush(r->st, &why);
  if (err != REQLOG_OK) {
    util_fail(cause, err, "writing the %zu imported calls failed: %s", n,
              why ? why : reqlog_strerror(err));
    free(why);
    return err;
  }
  *imported = (int64_t)n;
  return REQLOG_OK;
}
