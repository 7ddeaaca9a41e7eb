/* export_har.h: the HAR 1.2 mapping of a stored row (export_har.c). export.c streams the
 * envelope and one entry per row through the same output and progress as CSV/NDJSON. */
#ifndef REQLOG_EXPORT_HAR_H
#define REQLOG_EXPORT_HAR_H

#include <cjson/cJSON.h>

/* The HAR entry of ROW (a row-model object with bodies), taking what it needs out of
 * ROW, which stays the caller's to delete. A new object, or NULL when out of memory. */
cJSON *har_entry(cJSON *row);

/* `{"log":{"version":"1.2","creator":{...},"entries":[` (malloc'd; NULL when out of
 * memory): the entries follow, separated by ",\n", then HAR_ENVELOPE_TAIL. */
char *har_envelope_head(void);

#define HAR_ENVELOPE_TAIL "\n]}}\n"

#endif
