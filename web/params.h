/* params.h: the query string of an API request, checked against what the endpoint
 * accepts: FILTERS through the library's one filter parser, and the endpoint's own
 * parameters (limit, before, after, format, bodies). Every problem is collected as an
 * "errors" entry naming its parameter; an unknown parameter is one such problem. */
#ifndef REQLOG_WEB_PARAMS_H
#define REQLOG_WEB_PARAMS_H

#include "web_int.h"

/* What an endpoint accepts, OR-ed. */
enum {
  PARAM_FILTERS = 1 << 0, /* the filters of reqlog_filter_names(): status ... request_id */
  PARAM_PAGING = 1 << 1,  /* limit (1-500, default 50), before (a row id) */
  PARAM_EXPORT = 1 << 2,  /* format (csv, ndjson, har; required), bodies (0/1) */
  PARAM_AFTER = 1 << 3,   /* after (a row id, or 0) */
  PARAM_LANG = 1 << 4     /* lang (one of reqlog_snippet_langs(); required) */
};

typedef struct web_params {
  unsigned accepted;
  reqlog_filter *filter;  /* always set after params_parse() */
  int64_t limit;          /* PARAM_PAGING: default 50 */
  int64_t before;         /* 0 when not given */
  int64_t after;          /* -1 when not given */
  reqlog_format format;
  int has_format;          /* a valid format was given */
  int format_given;
  int bodies;
  const char *lang;       /* PARAM_LANG: a name of reqlog_snippet_langs() (static) */
  unsigned seen;          /* own parameters given, to refuse repeats */
  cJSON *errors;          /* NULL while all is well */
  int nerrors;            /* problems found; only the first few go into ERRORS */
  int nomem;
} web_params;

/* Reads Q's query string into P as ACCEPTED allows. Returns 0 when all is well; -1 when
 * P->errors holds the problems (params_take() answers them) or memory ran out
 * (P->nomem). Call params_free() in every case. */
int params_parse(web_req *q, unsigned accepted, web_params *p);

void params_free(web_params *p);

/* params_parse() and, when it fails, the answer: returns 0 with P read (params_free()
 * it), or -1 after answering 400 with P's errors or 500 when memory ran out (result in
 * *RET); P is then freed already. */
int params_take(web_req *q, unsigned accepted, web_params *p, enum MHD_Result *ret);

/* Parses a row id: decimal digits only, 1 to INT64_MAX. Returns 0 and *ID, or -1. */
int params_row_id(const char *text, int64_t *id);

/* The {id} of a route's path: 0 and *ID, or -1 after answering 400 (result in *RET). */
int params_path_id(web_req *q, const char *text, int64_t *id, enum MHD_Result *ret);

#endif
