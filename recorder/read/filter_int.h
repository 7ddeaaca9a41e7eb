/* filter_int.h: what the filter files share and no one else sees: the one list of
 * filters (FILTER_LIST), the struct a reqlog_filter is, and the few character helpers
 * both the parser (filter_parse.c) and the SQL builder (filter_sql.c) use. filter.c
 * holds the public table built from the list. */
#ifndef REQLOG_READ_FILTER_INT_H
#define REQLOG_READ_FILTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reqlog.h"

/* Every filter once, in the order of reqlog_filter_names(). One line a filter:
 *   X(name, CLI flag, CLI short flag or 0, help placeholder, repeatable, one-line help)
 * The name is an identifier: FILTER_<name> is its index, set_<name>() in filter_parse.c
 * parses it, sql_<name>() in filter_sql.c turns it into SQL. */
#define FILTER_LIST(X)                                                                    \
  X(status, "status", 0, "S", true,                                                       \
    "422, a class like 4xx, a list 401,403, or error (transport); repeatable")            \
  X(method, "method", 0, "M", true, "GET, POST...; repeatable")                           \
  X(path, "path", 0, "P", false,                                                          \
    "prefix when P starts with /, else substring; * is a wildcard")                       \
  X(host, "host", 0, "H", false, "host name")                                             \
  X(origin, "origin", 0, "NAME", false,                                                   \
    "calls recorded by NAME, exactly (a host name, or the --origin or REQLOG_ORIGIN "      \
    "the recording was given)")                                                           \
  X(key, "key", 0, "K", false, "key fingerprint, or its last four characters")            \
  X(since, "since", 0, "T", false, "ISO 8601 time or relative: 15m, 24h, 7d")             \
  X(until, "until", 0, "T", false, "as --since")                                          \
  X(min_ms, "min-ms", 0, "N", false, "calls that took at least N ms")                     \
  X(q, "q", 'q', "TEXT", false, "full-text search over URL and bodies")                   \
  X(field, "field", 0, "F", false, "calls whose 422 errors name field F, e.g. email")     \
  X(request_id, "request-id", 0, "ID", false,                                             \
    "the call the API gave request id ID (X-Request-Id...), exactly")                  \
  X(tag, "tag", 0, "TAG", false, "calls tagged TAG (reqlog tag)")                          \
  X(pinned, "pinned", 0, "1|0", false, "1: pinned calls (reqlog pin), 0: the others")      \
  X(replay_of, "replay-of", 0, "ID", false, "the replays of call ID (reqlog replay)")

#define FILTER_ID_ENTRY(name, ...) FILTER_##name,
/* A filter's index in FILTER_LIST; its bit in reqlog_filter.given is 1u << index. */
typedef enum { FILTER_LIST(FILTER_ID_ENTRY) FILTER_COUNT } filter_id;
#undef FILTER_ID_ENTRY

enum {
  FILTER_METHOD_MAX = 16,   /* bytes in one method */
  FILTER_METHODS_MAX = 32,  /* methods in one filter */
  FILTER_SHOWN_MAX = 60     /* bytes of a value repeated in an error message */
};

typedef enum { KEY_FULL, KEY_HASH, KEY_LAST4 } key_kind;

/* A since/until bound: an absolute time or an age, both in microseconds. */
typedef struct time_bound {
  bool set;
  bool relative;
  int64_t us;
  char text[48];      /* as given, for error messages */
} time_bound;

struct reqlog_filter {
  unsigned given;                     /* bit i: filter i (filter_id) was set */

  bool codes[600];                    /* status: exact codes */
  unsigned classes;                   /* status: bit k for the class kxx */
  bool status_error;                  /* status: transport errors */

  char methods[FILTER_METHODS_MAX][FILTER_METHOD_MAX + 1];
  size_t nmethods;

  char *path;
  char *host;                         /* lower-case */
  char *origin;                       /* as given: compared exactly */
  char *key;                          /* normalised, see set_key() in filter_parse.c */
  key_kind key_kind;
  time_bound since, until;
  int64_t min_us;
  char *q;
  char *field;
  char *request_id;                   /* as given: compared exactly */
  char *tag;
  bool pinned;                        /* pinned: 1 (true) or 0 */
  int64_t replay_of;                  /* replay_of: a row id */
};

static inline bool filter_is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline char filter_lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* filter_parse.c: checks V (trimmed, not empty) for filter ID and keeps it in F; on
 * error F is as it was and *CAUSE names the filter. */
reqlog_err filter_parse(reqlog_filter *f, filter_id id, const char *v, char **cause);

/* filter_parse.c: a copy of [S, S+LEN) fit to repeat in an error message: control
 * characters become '?', and a long value is cut (on a character boundary) and ends in
 * "...". Returns OUT. */
const char *filter_shown(const char *s, size_t len, char out[FILTER_SHOWN_MAX + 4]);

#endif
