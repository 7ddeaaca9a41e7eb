/* cursor.c: reading a cursor's rows (of either backend, cursor.h) as row-model objects
 * (row.c) or as their JSON text (rowtext.c), for callers that only pass the rows on (the
 * dashboard's list); and freeing the cursor. */
#include <stdlib.h>

#include "read/cursor.h"
#include "read/row.h"
#include "read/rowtext.h"

reqlog_err reqlog_cursor_next(reqlog_cursor *c, cJSON **row) {
  if (row)
    *row = NULL;
  if (!c || !row)
    return REQLOG_ERR_ARG;
  reqlog_err err = cursor_step(c);
  if (err != REQLOG_OK)
    return err;
  *row = row_json(&c->row, c->with_bodies);
  return *row ? REQLOG_OK : REQLOG_ERR_NOMEM;
}

reqlog_err reqlog_cursor_next_text(reqlog_cursor *c, reqlog_buf *out, int64_t *id) {
  if (!c || !out)
    return REQLOG_ERR_ARG;
  reqlog_err err = cursor_step(c);
  if (err != REQLOG_OK)
    return err;
  textbuf t = tb_from_buf(out);
  row_text(&c->row, c->with_bodies, &t);
  if (t.nomem)
    t.len = out->len;
  tb_terminate(&t);
  tb_to_buf(&t, out);
  if (t.nomem)
    return REQLOG_ERR_NOMEM;
  if (id)
    *id = rowsrc_int(&c->row, RC_ID);
  return REQLOG_OK;
}

void reqlog_cursor_free(reqlog_cursor *c) {
  if (!c)
    return;
  if (c->close)
    c->close(c);
  free(c);
}
