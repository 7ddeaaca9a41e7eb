/* cause.c: a web/ server's failure message for its caller (cause.h). */
#include "cause.h"

#include <stdarg.h>
#include <stdio.h>

int web_fail(char **cause, const char *fmt, ...) {
  if (!cause)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(cause, fmt, ap) < 0)
    *cause = NULL;
  va_end(ap);
  return -1;
}
