/* reqlog_embedded.h: the shape of a file embedded into the binary by tools/bin2c (schema
 * migrations, dashboard assets): a table of these, ending with {0, 0, 0}. */
#ifndef REQLOG_EMBEDDED_H
#define REQLOG_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
  const char *name;          /* the file's base name */
  const unsigned char *data; /* its bytes, followed by a NUL not counted in LEN */
  size_t len;
};

#endif
