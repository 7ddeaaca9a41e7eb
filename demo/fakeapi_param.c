/* fakeapi_param.c: reading a route's parameter (the {id} or N of a path such as
 * /participants/{id} or /status/CODE), shared by the route handlers. */
#include "fakeapi_int.h"

bool fa_param_long(const struct fa_call *c, long max, long *out)
{
  long v = 0;
  size_t i;

  if (c->param == NULL || c->param_len == 0 || c->param_len > 9)
    return false;
  for (i = 0; i < c->param_len; i++) {
    if (c->param[i] < '0' || c->param[i] > '9')
      return false;
    v = v * 10 + (c->param[i] - '0');
  }
  if (v > max)
    return false;
  *out = v;
  return true;
}
