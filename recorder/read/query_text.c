/* query_text.c: reading a cursor's rows as JSON text (rowtext.c) rather than as cJSON
 * objects, for callers that only pass the rows on (the dashboard's list). */
#include "read/cursor.h"
#include "read/rowtext.h"

reqlog_err reqlog_cursor_next_text(reqlog_cursor *c, reqlog_buf *out, int64_t *id) {
  if (!c || !out)
    return REQLOG_ERR_ARG;
  reqlog_err err = cursor_step(c);
  if (err != REQLOG_OK)
    return err;
  textbuf t = tb_from_buf(out);
  row_text(c->st, c->with_bodies, &t);
  if (t.nomem)
    t.len = out->len;
  tb_terminate(&t);
  tb_to_buf(&t, out);
  if (t.nomem)
    return REQLOG_ERR_NOMEM;
  if (id)
    *id = sqlite3_column_int64(c->st, RC_ID);
  return REQLOG_OK;
}
