/* diff.h: comparing two recorded calls (reqlog_diff_rows, reqlog.h), in pieces of one
 * job each: the rules that say which differences are ignored (diff_rules.c), the
 * structural JSON diff (diff_json.c), the line diff of text bodies (diff_text.c) and the
 * whole exchange (diff.c). Every entry found is a JSON object
 * {"path", "state": "changed"|"added"|"removed"|"same", "a", "b", "ignored": why|null}. */
#ifndef REQLOG_READ_DIFF_H
#define REQLOG_READ_DIFF_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "reqlog.h"

/* What the caller asked (reqlog.h): paths to ignore on top of the defaults, and paths
 * compared even when a default would ignore them. */
typedef reqlog_diff_opts diff_rules;

/* Non-zero when the ignore pattern PAT matches PATH ("response.body.data[3].id"): PAT
 * occurs in PATH starting at the start or at a segment ('.' or '['), ending at the end
 * or before a segment; "[*]" in PAT matches any index, "*" any one key; ASCII case is
 * ignored. So "id" matches every key called id, "response.body.data" the whole subtree. */
int diff_path_match(const char *pat, const char *path);

/* Why the difference at PATH between A and B (either may be NULL: absent) is ignored,
 * or NULL when it counts. HEADER is non-zero for a header (NAME its lower-case name), 0
 * for a JSON value whose last key is NAME (may be NULL) or an overview field. */
const char *diff_ignored(const diff_rules *rules, const char *path, int header,
                         const char *name, const cJSON *a, const cJSON *b);

/* Non-zero when the string S looks like a date and time (ISO 8601 with a time, or an
 * HTTP date), or an already redacted value ("[REDACTED]", a key fingerprint). */
int diff_is_datetime(const char *s);
int diff_is_redacted(const char *s);

/* Adds to OUT (an array) one entry per difference between the JSON values A and B
 * (either may be NULL: absent) below PATH: objects by key, arrays by index, anything
 * else by value. Returns REQLOG_OK or REQLOG_ERR_NOMEM. */
reqlog_err diff_json(const diff_rules *rules, const char *path, const cJSON *a,
                     const cJSON *b, cJSON *out);

/* The line diff of the texts A and B (may be NULL) into OUT (an array) as
 * {"op": "same"|"removed"|"added"|"skip", "a": line or null, "b": line or null,
 * "text"} (a skip stands for "count" unchanged lines away from any change). Sets
 * *changed to the number of removed and added lines. Returns REQLOG_OK or NOMEM. */
reqlog_err diff_text(const char *a, const char *b, cJSON *out, int *changed);

/* A new entry object (NULL when out of memory); A and B are copied. */
cJSON *diff_entry(const char *path, const char *state, const cJSON *a, const cJSON *b,
                  const char *ignored);

#endif
