/* mock_load.c: reqlog_mock_load(): the calls of a filter read through reqlog_query()
 * (so from either backend, in the one row model), newest first with bodies, into a
 * mock set (mock.c); an older call of a request already held is dropped before its
 * response is copied. */
#include "read/mock.h"

#include "base/util.h"

reqlog_err reqlog_mock_load(reqlog *r, const reqlog_filter *f, reqlog_mock **out,
                            char **cause) {
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "mock: no place for the mock");
  *out = NULL;
  reqlog_query_opts opts = {.with_bodies = 1};
  reqlog_cursor *c = NULL;
  reqlog_err err = reqlog_query(r, f, &opts, &c, cause);
  if (err != REQLOG_OK)
    return err;
  reqlog_mock *m = mock_new();
  if (!m) {
    reqlog_cursor_free(c);
    return util_fail(cause, REQLOG_ERR_NOMEM, "mock: out of memory");
  }
  cJSON *row = NULL;
  while ((err = reqlog_cursor_next(c, &row)) == REQLOG_OK) {
    mock_entry *e = NULL;
    err = mock_entry_request(row, &e, cause);
    if (err == REQLOG_OK && e)
      mock_count_recorded(m);
    if (err == REQLOG_OK && e && mock_is_repeat(m, e)) {
      mock_entry_free(e); /* a newer call of this request is held: no response to copy */
      e = NULL;
    }
    if (err == REQLOG_OK && e && (err = mock_entry_response(e, row, cause)) != REQLOG_OK)
      mock_entry_free(e);
    else if (err == REQLOG_OK && e)
      err = mock_add(m, e);
    cJSON_Delete(row);
    if (err != REQLOG_OK)
      break;
  }
  reqlog_cursor_free(c);
  if (err == REQLOG_ERR_DONE)
    err = mock_build(m);
  if (err != REQLOG_OK) {
    reqlog_mock_free(m);
    if (err == REQLOG_ERR_NOMEM && cause && !*cause)
      util_fail(cause, err, "mock: out of memory");
    else if (cause && !*cause)
      util_fail(cause, err, "mock: %s", reqlog_strerror(err));
    return err;
  }
  *out = m;
  return REQLOG_OK;
}
