/* replay.c: reqlog_replay(): a recorded call sent again, as recorded or edited (method,
 * URL, headers, body, the base URL whose origin gets the key), by the dashboard's Replay
 * and "Edit and send" and by `reqlog replay`. The plan is made first and said before
 * anything goes (which key, or why none): the key goes only to the configured base URL's
 * origin, or to the base URL given for this replay, and only with a call that was
 * recorded with a key; never to whatever host a recorded or imported row names. What a
 * row cannot give back faithfully is left out (redacted headers, hop-by-hop headers) or
 * refused (a truncated or binary body, a method that is not a token, a URL that is not
 * http or https). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "capture/client.h"

/* Headers libcurl sets itself, headers meant for one hop only, and the Authorization
 * the recorder adds from the handle's key. */
static const char *const dropped[] = {
  "Host", "Content-Length", "Authorization", "Connection", "Keep-Alive",
  "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "TE", "Trailer",
  "Transfer-Encoding", "Upgrade", "Expect", "Accept-Encoding",
};

/* Non-zero when NAME: VALUE may be sent: a token name, a value without line breaks, not
 * redacted, not one of DROPPED. */
static int keep_header(const char *name, const char *value) {
  if (!reqlog_is_token(name) || strstr(value, "[REDACTED]"))
    return 0;
  for (const char *p = value; *p; p++)
    if ((unsigned char)*p < ' ' && *p != '\t')
      return 0;
  for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
    if (strcasecmp(name, dropped[i]) == 0)
      return 0;
  return 1;
}

static void free_list(char **h) {
  for (size_t i = 0; h && h[i]; i++)
    free(h[i]);
  free(h);
}

/* Appends "NAME: VALUE" ("NAME;" for an empty value: libcurl sends it empty, where
 * "NAME:" would remove it) to OUT[*N]. Returns 0, or -1 out of memory. */
static int add(char **out, size_t *n, const char *name, const char *value) {
  int rc = *value ? asprintf(&out[*n], "%s: %s", name, value) : asprintf(&out[*n], "%s;", name);
  if (rc < 0) {
    out[*n] = NULL;
    return -1;
  }
  (*n)++;
  return 0;
}

/* The headers to send (NULL-ended, free_list()): EDIT's or ROW's kept ones, and an empty
 * Authorization (none at all) when WITHHOLD. NULL with *cause on a bad edited header or
 * out of memory. */
static char **headers_of(const cJSON *row, const reqlog_replay_edit *e, int withhold,
                         char **cause) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(row, "request_headers"), *h;
  size_t cap = 2;
  if (e && e->headers)
    for (size_t i = 0; e->headers[i]; i++)
      cap++;
  else
    cap += (size_t)cJSON_GetArraySize(list);
  char **out = calloc(cap, sizeof *out);
  size_t n = 0;
  int bad = !out;
  if (!bad && e && e->headers) {
    for (size_t i = 0; !bad && e->headers[i]; i++) {
      const char *colon = strchr(e->headers[i], ':');
      char name[256];
      size_t len = colon ? (size_t)(colon - e->headers[i]) : 0;
      if (!colon || len == 0 || len >= sizeof name) {
        util_fail(cause, REQLOG_ERR_ARG, "headers: '%.60s' is not 'Name: value'", e->headers[i]);
        free_list(out);
        return NULL;
      }
      memcpy(name, e->headers[i], len);
      name[len] = '\0';
      const char *value = colon + 1;
      while (*value == ' ' || *value == '\t')
        value++;
      if (!keep_header(name, value)) {
        if (!reqlog_is_token(name) || strpbrk(value, "\r\n")) {
          util_fail(cause, REQLOG_ERR_ARG, "headers: '%.60s' cannot be sent", e->headers[i]);
          free_list(out);
          return NULL;
        }
        continue; /* Authorization, Host and the like: the recorder's or libcurl's own */
      }
      bad = add(out, &n, name, value) != 0;
    }
  } else if (!bad) {
    cJSON_ArrayForEach(h, list) {
      const cJSON *name = cJSON_GetArrayItem(h, 0), *value = cJSON_GetArrayItem(h, 1);
      if (!cJSON_IsString(name) || !cJSON_IsString(value) ||
          !keep_header(name->valuestring, value->valuestring))
        continue;
      if ((bad = add(out, &n, name->valuestring, value->valuestring) != 0))
        break;
    }
  }
  if (!bad && withhold && !(out[n] = strdup("Authorization:")))
    bad = 1;
  if (bad) {
    free_list(out);
    util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    return NULL;
  }
  return out;
}

static const char *str(const cJSON *row, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The body to send (NULL: none) into *BODY; an error when the recorded one is kept and
 * cannot be sent again. */
static reqlog_err body_of(const cJSON *row, const reqlog_replay_edit *e, const char **body,
                          char **cause) {
  *body = NULL;
  if (e && e->body_set) {
    *body = e->body && *e->body ? e->body : NULL;
    return REQLOG_OK;
  }
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(row, "request_body");
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "request_truncated")))
    return util_fail(cause, REQLOG_ERR_ARG,
                     "the recorded request body was truncated: the call cannot be sent again "
                     "as recorded (give the body to send)");
  if (b && !cJSON_IsNull(b) && !cJSON_IsString(b))
    return util_fail(cause, REQLOG_ERR_ARG,
                     "the recorded request body is binary: the call cannot be sent again as "
                     "recorded (give the body to send)");
  *body = cJSON_IsString(b) ? b->valuestring : NULL;
  return REQLOG_OK;
}

/* The recorded URL moved onto BASE (a replay against staging or a local server): its part
 * after HANDLE_BASE when it starts with it, else its path and query, put after BASE's
 * origin. malloc'd; NULL out of memory. */
static char *moved_url(const char *url, const char *handle_base, const char *base) {
  char *out = NULL;
  size_t hb = handle_base ? strlen(handle_base) : 0;
  while (hb > 0 && handle_base[hb - 1] == '/')
    hb--;
  size_t b = strlen(base);
  while (b > 0 && base[b - 1] == '/')
    b--;
  if (hb && strncmp(url, handle_base, hb) == 0 && (url[hb] == '/' || url[hb] == '?' || !url[hb])) {
    if (asprintf(&out, "%.*s%s", (int)b, base, url + hb) < 0)
      return NULL;
    return out;
  }
  const char *p = strstr(url, "://");
  p = p ? strpbrk(p + 3, "/?") : NULL;
  const char *bp = strstr(base, "://");
  bp = bp ? strpbrk(bp + 3, "/?") : NULL;
  size_t origin_len = bp ? (size_t)(bp - base) : b;
  if (asprintf(&out, "%.*s%s", (int)origin_len, base, p ? p : "/") < 0)
    return NULL;
  return out;
}

void reqlog_replay_plan_free(reqlog_replay_plan *p) {
  if (!p)
    return;
  free(p->url);
  p->url = NULL;
}

/* The rest of plan(): the key's use for URL, the full URL, and why no key goes. */
static reqlog_err finish(reqlog *r, const cJSON *row, const char *url, const char *base,
                         reqlog_replay_plan *p, int *withhold, char **cause) {
  char *why = NULL;
  reqlog_err err;
  reqlog_key_use use = client_key_applies(r, url, base, p->key, &why);
  if (use == REQLOG_KEY_REFUSED) {
    err = util_fail(cause, REQLOG_ERR_ARG, "url: %s", why ? why : "refused");
    free(why);
    return err;
  }
  free(why);
  /* the URL as it will be sent: a path goes after the base URL */
  const char *b = base;
  char *handle_base = NULL;
  if (!b) {
    pthread_rwlock_rdlock(&r->cfg);
    handle_base = util_strdup(r->base_url);
    pthread_rwlock_unlock(&r->cfg);
    b = handle_base;
  }
  size_t n = util_url_scheme_len(url);
  int absolute = url[0] != '/' && n && url[n + 1] == '/' && url[n + 2] == '/';
  if (!b || (absolute ? !(p->url = util_strdup(url))
                      : asprintf(&p->url, "%s%s%s", b, url[0] == '/' ? "" : "/", url) < 0)) {
    p->url = NULL;
    free(handle_base);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  free(handle_base);
  int row_had_key = str(row, "key") != NULL;
  p->sends_key = use == REQLOG_KEY_SENT && row_had_key;
  *withhold = use == REQLOG_KEY_SENT && !row_had_key;
  if (!p->sends_key)
    p->key[0] = '\0';
  if (use == REQLOG_KEY_OTHER_ORIGIN)
    p->why = base ? "The URL is not on the base URL given for this replay: the key goes to "
                    "that host only."
                  : "The row's host is not the configured API's host (REQLOG_BASE_URL): the "
                    "key goes to that host only.";
  else if (use == REQLOG_KEY_UNSET)
    p->why = "No API key is set (REQLOG_API_KEY).";
  else if (!row_had_key)
    p->why = "The call was recorded without a key.";
  return REQLOG_OK;
}


/* The plan, and what replay() needs besides: whether the key is withheld (the library
 * would send it, the row had none). */
static reqlog_err plan(reqlog *r, const cJSON *row, const reqlog_replay_edit *e,
                       reqlog_replay_plan *p, int *withhold, char **cause) {
  memset(p, 0, sizeof *p);
  *withhold = 0;
  if (!r || !row)
    return util_fail(cause, REQLOG_ERR_ARG, "replay: no handle or row");
  const char *method = e && e->method ? e->method : str(row, "method");
  const char *url = e && e->url ? e->url : str(row, "url");
  const char *base = e ? e->base_url : NULL;
  char *moved = NULL;
  if (!method || !reqlog_is_token(method) || strlen(method) >= sizeof p->method)
    return util_fail(cause, REQLOG_ERR_ARG, "method: not an HTTP method (an RFC 9110 token)");
  if (!url || !*url)
    return util_fail(cause, REQLOG_ERR_ARG, "url: the call has no URL");
  if (base) {
    char origin[512], scheme[16];
    if (util_http_origin(base, origin, sizeof origin, scheme) != 0)
      return util_fail(cause, REQLOG_ERR_ARG, "base_url: not an http or https URL");
  }
  const char *body = NULL;
  reqlog_err err = body_of(row, e, &body, cause);
  if (err != REQLOG_OK)
    return err;
  if (base && !(e && e->url)) {
    /* no URL given: the recorded one, moved onto the base URL of this replay */
    pthread_rwlock_rdlock(&r->cfg);
    moved = moved_url(url, r->base_url, base);
    pthread_rwlock_unlock(&r->cfg);
    if (!moved)
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    url = moved;
  }
  snprintf(p->method, sizeof p->method, "%s", method);
  err = finish(r, row, url, base, p, withhold, cause);
  free(moved);
  return err;
}

reqlog_err reqlog_replay_plan_of(reqlog *r, const cJSON *row, const reqlog_replay_edit *edit,
                                 reqlog_replay_plan *p, char **cause) {
  int withhold;
  reqlog_err err = plan(r, row, edit, p, &withhold, cause);
  if (err != REQLOG_OK)
    reqlog_replay_plan_free(p);
  return err;
}

reqlog_err reqlog_replay(reqlog *r, const cJSON *row, const reqlog_replay_edit *e,
                         reqlog_response **out, char **cause) {
  if (out)
    *out = NULL;
  reqlog_replay_plan p;
  int withhold = 0;
  reqlog_err err = plan(r, row, e, &p, &withhold, cause);
  if (err != REQLOG_OK)
    return err;
  const char *body = NULL;
  body_of(row, e, &body, NULL);
  char **headers = headers_of(row, e, withhold, cause);
  if (!headers) {
    reqlog_replay_plan_free(&p);
    return cause && *cause && strncmp(*cause, "headers", 7) == 0 ? REQLOG_ERR_ARG
                                                                  : REQLOG_ERR_NOMEM;
  }
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "id");
  int64_t replay_of = !(e && e->unlinked) && cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
  err = client_request(r, p.method, p.url, body, body ? strlen(body) : 0,
                       (const char *const *)headers, e ? e->base_url : NULL, replay_of, out);
  free_list(headers);
  reqlog_replay_plan_free(&p);
  if (err == REQLOG_ERR_ARG)
    util_fail(cause, err, "the call cannot be sent (its method or URL is refused)");
  return err;
}
