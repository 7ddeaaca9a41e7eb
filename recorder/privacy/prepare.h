/* prepare.h: the privacy room's interface for preparing rows: a captured record (in
 * memory, never on disk as is) turned into the values of one history row, redacted, its
 * headers as JSON text. The store's writer thread calls it before anything is written;
 * prepare.c puts it together from prepare_head.c and prepare_body.c (prepare_int.h). */
#ifndef REQLOG_PREPARE_H
#define REQLOG_PREPARE_H

#include <stddef.h>
#include "capture/record.h"
#include "privacy/redact.h"
#include "reqlog.h"

/* A record turned into the values of one row: redacted, headers as JSON text. */
typedef struct row_values {
  char *method, *url, *host, *path, *error;
  char *key;                    /* fingerprint or NULL */
  char *req_headers, *resp_headers;
  const void *req_body; size_t req_body_len; int req_body_text; int req_body_null;
  const void *resp_body; size_t resp_body_len; int resp_body_text; int resp_body_null;
  char *req_body_own, *resp_body_own;  /* redacted copies, when redaction changed a body */
  char req_sha[65], resp_sha[65];
  char *error_message, *error_fields;
  char **fields; size_t nfields;       /* keys of error_fields, for call_fields */
  char *request_id;             /* the API's request id (base/reqid.h), or NULL; filled
                                   by the writer, which holds the header list */
} row_values;

/* Fills V from R with RD's redaction. Returns REQLOG_OK or REQLOG_ERR_NOMEM. V refers
 * to R's buffers, so R must outlive V; free V with row_values_free. */
reqlog_err row_prepare(const redactor *rd, const record *r, row_values *v);
void row_values_free(row_values *v);

#endif
