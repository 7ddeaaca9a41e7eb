/* testweb.h: the fixture of the dashboard suites (tests/integration/test_web_*.c): one
 * history recorded from the fake API with a web server over it, set up once a group
 * (tw_setup / tw_teardown), and libcurl requests to it with checks of their answers. */
#ifndef TESTWEB_H
#define TESTWEB_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "reqlog.h"
#include "reqlog_demo.h"
#include "reqlog_web.h"

typedef struct tw_env {
  char *dir, *db;
  fakeapi *api;
  web_server *web;
  const char *url;       /* web_url(web) */
  int port;
  int64_t post_201_id;   /* a POST /participants answered 201, with a JSON body */
  int64_t truncated_id;  /* a POST whose stored body was cut at the cap */
  int64_t binary_id;     /* a POST with a binary body */
} tw_env;

typedef struct tw_reply {
  long status;
  char *body;
  size_t len;
  char *headers;
  size_t hlen;
} tw_reply;

typedef struct tw_membuf {
  char *p;
  size_t len;
} tw_membuf;

/* The group's history and server, set by tw_setup. */
extern tw_env *tw_e;

/* A curl write callback into a growing NUL-terminated buffer. */
size_t tw_collect(char *p, size_t s, size_t n, void *arg);

void tw_resp_free(tw_reply *r);

/* METHOD BASE+PATH with extra HEADERS (NULL-ended, may be NULL) and BODY (may be NULL),
 * giving up after TIMEOUT_S. Returns curl's result; *out is filled either way. */
CURLcode tw_http_try(const char *base, const char *method, const char *path,
                         const char *const *headers, const char *body, size_t body_len,
                         long timeout_s, tw_reply *out);

/* As http_try, asserting that an answer came within a minute. */
tw_reply tw_http_at(const char *base, const char *method, const char *path,
                    const char *const *headers, const char *body, size_t body_len);

tw_reply tw_http(const char *method, const char *path, const char *const *headers);

tw_reply tw_get(const char *path);

/* The value of response header NAME (malloc'd, without CR LF), or NULL. */
char *tw_header(const tw_reply *r, const char *name);

cJSON *tw_json_of(const tw_reply *r);

/* Asserts a JSON error reply: STATUS, and MESSAGE when not NULL. */
void tw_expect_error(const tw_reply *r, long status, const char *message);

/* A 400 whose errors object names PARAM. */
void tw_expect_400_naming(const tw_reply *r, const char *param);

/* "?a=b&c=d" query text from "a=b&c=d" with every value percent-encoded. */
char *tw_query_of(const char *spec);

/* A filter from "a=b&c=d" (values unencoded). */
reqlog_filter *tw_filter_of(const char *spec);

/* Ids (newest first) as a comma list, from the library with filter SPEC. */
char *tw_lib_ids(reqlog *r, const char *spec);

/* Ids of ITEMS as a comma list appended to OUT. */
void tw_append_ids(char *out, size_t cap, const cJSON *items);

int64_t tw_newest_id(reqlog *r);

int64_t tw_call(reqlog *r, const char *method, const char *path, const char *body,
                    size_t len);

reqlog *tw_recorder(void);

int tw_setup(void **state);

int tw_teardown(void **state);

/* Starts `reqlog --db DB serve --listen 127.0.0.1:0` (the binary, as tu_spawn) with ENV
 * ("NAME=value", NULL-ended, may be NULL) added to its environment and its output into
 * OUTFILE; waits for its "serving URL" line and puts the URL in BASE. Fails the test
 * when it ends first. Its pid: SIGTERM ends it. */
pid_t tw_serve_bin(const char *db, const char *outfile, char *base, size_t size,
                   const char *const *env);

/* As tw_serve_bin, with EXTRA (NULL-ended, may be NULL) after serve's --listen. */
pid_t tw_serve_bin_with(const char *db, const char *const *extra, const char *const *env,
                        const char *outfile, char *base, size_t size);

/* Starts `reqlog --db DB mock --listen 127.0.0.1:0 EXTRA...` (EXTRA NULL-ended, may be
 * NULL) as tu_spawn, its output into OUTFILE (use a new file for each start: the test
 * may read it before the child truncates it); waits for its ready line ("mock: serving N
 * recorded calls on URL") and puts the URL in BASE. Fails the test when it ends first.
 * SIGTERM ends it. */
pid_t tw_mock_bin(const char *db, const char *const *extra, const char *outfile, char *base,
                  size_t size);

/* A TCP connection to 127.0.0.1:PORT, or -1. */
int tw_connect_local(int port);

#endif
