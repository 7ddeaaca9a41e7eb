/* schema.h: the migrations of schema/, embedded into the library at build time by
 * tools/bin2c (build/gen/schema_sql.c), in file-name order, ending with {0,0,0}. */
#ifndef REQLOG_SCHEMA_H
#define REQLOG_SCHEMA_H

#include "reqlog_embedded.h"

extern const struct embedded_file reqlog_schema_files[];

#endif
