/* mock.h: what the files of the mock (reqlog.h's reqlog_mock_*) share: one recorded
 * call as the mock holds it (mock_entry.c makes it from a row of the row model), the
 * query and form parameters it compares (mock_params.c), the body comparison
 * (mock_body.c), and the set itself (mock.c: dedupe, the two indexes, match, closest).
 * reqlog_mock_load() (mock_load.c) reads the rows through reqlog_query(). */
#ifndef REQLOG_READ_MOCK_H
#define REQLOG_READ_MOCK_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "reqlog.h"

/* What redaction leaves in place of a secret (docs/design.md §4): recorded so, it
 * matches any value a client sends. */
#define MOCK_REDACTED "[REDACTED]"

/* Query or form parameters, percent-decoded ('+' as a space), sorted by name; the
 * values of one name keep their order. */
typedef struct mock_param {
  char *name;
  char *value; /* "" for a name without '=' */
} mock_param;

typedef struct mock_params {
  mock_param *p;
  size_t n;
} mock_params;

/* Parses the LEN bytes at TEXT ("a=1&b=%20x") into OUT. Returns REQLOG_OK or
 * REQLOG_ERR_NOMEM (OUT empty). */
reqlog_err mock_params_parse(const char *text, size_t len, mock_params *out);
void mock_params_free(mock_params *p);
/* Non-zero when GIVEN has the parameters of RECORDED, a recorded [REDACTED] value
 * standing for any value. */
int mock_params_match(const mock_params *recorded, const mock_params *given);
/* Non-zero when A and B hold the same parameters exactly (for the dedupe). */
int mock_params_same(const mock_params *a, const mock_params *b);
/* Orders A and B (names, then values), for the dedupe's sort. */
int mock_params_cmp(const mock_params *a, const mock_params *b);

/* A request body as the mock compares it: its bytes, and when it is JSON its canonical
 * text (the value printed with every object's members sorted by name), so that two JSON
 * bodies compare as one memcmp, whatever their member order and spacing. */
typedef struct mock_body {
  const unsigned char *p;  /* not owned; NULL for none */
  size_t len;
  int truncated;           /* cut at the cap: it matches what starts with it */
  char *canon;             /* JSON: the canonical text (owned), else NULL */
  int wild;                /* it holds [REDACTED]: compared value by value */
} mock_body;

/* Sets B up for the LEN bytes at P. Returns REQLOG_OK or REQLOG_ERR_NOMEM. */
reqlog_err mock_body_init(mock_body *b, const unsigned char *p, size_t len, int truncated);
void mock_body_free(mock_body *b);
/* Non-zero when the request body GIVEN matches the recorded body REC: equal bytes; the
 * same JSON value (members in any order); or the same form parameters; a recorded
 * [REDACTED] matching anything, a cut body matching what starts with it. */
int mock_body_match(const mock_body *rec, const mock_body *given);

typedef struct mock_entry {
  reqlog_mock_call call;     /* the public view; its pointers point into the fields below */
  char *method;              /* upper case (matching takes any case) */
  char *url, *path, *tpl;
  reqlog_mock_header *headers;
  unsigned char *resp_body;
  mock_params query;
  unsigned char *req_body;   /* the stored request body, NULL for none */
  size_t req_body_len;
  int req_truncated;
  mock_body body;            /* REQ_BODY as compared */
} mock_entry;

/* A mock entry from ROW (the row model with bodies) into *out; *out NULL (REQLOG_OK)
 * when the row has no response the mock can serve (no status, or not 200 to 599).
 * Errors: REQLOG_ERR_NOMEM, REQLOG_ERR_DB (a row without its id, method or URL, or
 * with a body in base64 that is not). mock_entry_request() makes its request part only
 * (what mock_is_repeat() compares), mock_entry_response() then adds the response;
 * mock_entry_of_row() does both. */
reqlog_err mock_entry_request(const cJSON *row, mock_entry **out, char **cause);
reqlog_err mock_entry_response(mock_entry *e, const cJSON *row, char **cause);
reqlog_err mock_entry_of_row(const cJSON *row, mock_entry **out, char **cause);
void mock_entry_free(mock_entry *e);

/* A new empty set. NULL when out of memory. */
reqlog_mock *mock_new(void);
/* Non-zero when M holds a call of E's request already (method, path, query, body):
 * rows come newest first, so E can never be the answer. */
int mock_is_repeat(const reqlog_mock *m, const mock_entry *e);
/* Adds E to M (taken: freed with M, or at once when it is a repeat or on error). Rows
 * come newest first. */
reqlog_err mock_add(reqlog_mock *m, mock_entry *e);
/* Counts one recorded call the mock could serve, a repeat or not (reqlog_mock_recorded). */
void mock_count_recorded(reqlog_mock *m);
/* Builds the indexes; once, after the last mock_add(). */
reqlog_err mock_build(reqlog_mock *m);

#endif
