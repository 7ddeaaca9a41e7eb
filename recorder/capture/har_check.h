/* har_check.h: the checks of a HAR import (import_har.c): typed JSON members, the URL,
 * the start time and the HTTP version, each failure named by its JSON path. */
#ifndef REQLOG_HAR_CHECK_H
#define REQLOG_HAR_CHECK_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "reqlog.h"

/* Where checking is: the entry, so messages read "log.entries[3].request.url: missing". */
typedef struct har_ctx {
  size_t entry;
  char **cause;
} har_ctx;

/* REQLOG_ERR_ARG with the message "log.entries[N].PATH: WHAT" in the cause. */
reqlog_err har_check_bad(const har_ctx *c, const char *path, const char *what);

/* Member NAME of OBJ (at PATH, "" for the entry itself) when it has cJSON type TYPE
 * (cJSON_True stands for either boolean). *out is NULL when the member is absent, or
 * null and not REQUIRED. Returns REQLOG_OK, or REQLOG_ERR_ARG with the message. */
reqlog_err har_check_get(const har_ctx *c, const cJSON *obj, const char *path,
                         const char *name, int type, int required, const cJSON **out);
/* The value of an optional string member, or NULL. */
reqlog_err har_check_str(const har_ctx *c, const cJSON *obj, const char *path,
                         const char *name, const char **out);
/* An optional time in milliseconds as µs: absent, null or negative (HAR's -1, "not
 * applicable") read as -1. */
reqlog_err har_check_ms(const har_ctx *c, const cJSON *obj, const char *path,
                        const char *name, int64_t *us);

/* The request's URL: absolute, and http or https, the only schemes reqlog sends (a row
 * is a call that may be replayed). Returns REQLOG_OK, or REQLOG_ERR_ARG with the path. */
reqlog_err har_check_url(const har_ctx *c, const char *url);

/* Non-zero when S is an ISO 8601 start time (what reqlog_parse_time() reads as a date,
 * not an age), in *us. */
int har_check_started(const char *s, int64_t *us);

/* The HTTP version as reqlog writes it ("HTTP/1.1", "HTTP/2"), from what browsers write
 * ("http/1.1", "h2", "HTTP/2.0"); NULL for none or "unknown". Returns a malloc'd copy,
 * or NULL; *oom is set when a copy could not be made. */
char *har_check_version(const char *v, int *oom);

#endif
