/* pathtmpl.h: a URL path as its endpoint: numeric and UUID segments collapsed, so that
 * /participants/7 and /participants/12 are one endpoint, /participants/{id}. Problems group
 * failing calls by it (read/problems.c); the mock matches requests by it (read/mock.c). */
#ifndef REQLOG_READ_PATHTMPL_H
#define REQLOG_READ_PATHTMPL_H

#include <stddef.h>

/* The segment that stands for a collapsed one. */
#define PATHTMPL_ID "{id}"

/* Writes PATH's template into OUT (CAP bytes, NUL-terminated, cut when longer): each
 * segment between slashes that is all digits, or a UUID (8-4-4-4-12 hex digits, any
 * case), becomes {id}; the query string (from '?') and the fragment are left out.
 * Returns the template's length. PATH NULL: "". */
size_t path_template(const char *path, char *out, size_t cap);

/* PATH's template as path_template() writes it, never cut, malloc'd (NULL when out of
 * memory). */
char *path_template_dup(const char *path);

#endif
