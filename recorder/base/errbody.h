/* errbody.h: reads the API's error shape {"message": "...", "errors": {field: [...]}}
 * (Laravel style) out of a response body. */
#ifndef REQLOG_ERRBODY_H
#define REQLOG_ERRBODY_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* When BODY (LEN bytes) is a JSON object, *message gets a malloc'd copy of its string
 * "message" (or NULL) and *errors a detached cJSON object "errors" (or NULL; cJSON_Delete).
 * Returns 0, or -1 on out of memory. Non-JSON bodies give NULLs and 0. */
int errbody_parse(const char *body, size_t len, char **message, cJSON **errors);

#endif
