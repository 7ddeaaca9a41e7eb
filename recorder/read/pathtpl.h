/* pathtpl.h: a URL path's template, the endpoint a call went to with its ids taken out:
 * every segment that is all digits, or a UUID (8-4-4-4-12 hex digits, either case),
 * becomes {id}: /participants/42/notes/9 -> /participants/{id}/notes/{id}. The mock
 * matches requests by it (read/mock.c). */
#ifndef REQLOG_READ_PATHTPL_H
#define REQLOG_READ_PATHTPL_H

#include <stddef.h>

/* The template of the path PATH (its first LEN bytes; a query is not part of a path),
 * malloc'd, or NULL when out of memory. */
char *pathtpl_make(const char *path, size_t len);

#endif
