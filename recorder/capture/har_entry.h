/* har_entry.h: one HAR entry checked and built into a record (for import_har.c). */
#ifndef REQLOG_HAR_ENTRY_H
#define REQLOG_HAR_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "capture/record.h"
#include "reqlog.h"

/* One entry built: its record, and reqlog's own id and retry link when it has them. */
typedef struct har_built {
  record *rec;
  int64_t har_id;       /* _reqlog.id, 0 when absent */
  int64_t har_retry_of; /* _reqlog.retry_of, 0 when absent */
} har_built;

/* Checks entry E (number I) and builds its record, bodies kept up to CAP bytes.
 * Returns REQLOG_OK and *out, or an error (ARG with the JSON path, NOMEM) and nothing. */
reqlog_err har_entry_build(const cJSON *e, size_t i, size_t cap, har_built *out,
                           char **cause);

#endif
