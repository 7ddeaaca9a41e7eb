/* errbody.c: the API's "message" / "errors" out of an error body (see errbody.h). */
#include "base/errbody.h"

#include <stdlib.h>
#include <string.h>

int errbody_parse(const char *body, size_t len, char **message, cJSON **errors) {
  *message = NULL;
  *errors = NULL;
  if (!body || !len)
    return 0;
  size_t i = 0;
  while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
    i++;
  if (i == len || body[i] != '{')
    return 0;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  if (!root)
    return 0;
  int rc = 0;
  cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
  if (cJSON_IsString(m) && m->valuestring) {
    *message = strdup(m->valuestring);
    if (!*message)
      rc = -1;
  }
  cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "errors");
  if (rc == 0 && cJSON_IsObject(e))
    *errors = cJSON_DetachItemViaPointer(root, e);
  cJSON_Delete(root);
  return rc;
}
