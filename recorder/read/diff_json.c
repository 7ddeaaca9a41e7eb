/* diff_json.c: the structural diff of two JSON values: objects key by key (A's keys in
 * A's order, then the keys only B has), arrays index by index, anything else by value.
 * Each difference becomes one entry at its path ("response.body.items[2].name"). */
#include "read/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper documents are compared whole below this depth (no unbounded recursion). */
enum { DEPTH_MAX = 64 };

cJSON *diff_entry(const char *path, const char *state, const cJSON *a, const cJSON *b,
                  const char *ignored) {
  cJSON *e = cJSON_CreateObject();
  cJSON *ca = a ? cJSON_Duplicate(a, 1) : cJSON_CreateNull();
  cJSON *cb = b ? cJSON_Duplicate(b, 1) : cJSON_CreateNull();
  if (!e || !ca || !cb || !cJSON_AddStringToObject(e, "path", path) ||
      !cJSON_AddStringToObject(e, "state", state)) {
    cJSON_Delete(e);
    cJSON_Delete(ca);
    cJSON_Delete(cb);
    return NULL;
  }
  cJSON_AddItemToObject(e, "a", ca);
  cJSON_AddItemToObject(e, "b", cb);
  if (!(ignored ? cJSON_AddStringToObject(e, "ignored", ignored)
                : cJSON_AddNullToObject(e, "ignored"))) {
    cJSON_Delete(e);
    return NULL;
  }
  return e;
}

/* A key written as ".key" when it is a plain name, else as ["key"] (JSON-quoted). */
static int plain_key(const char *k) {
  if (!*k)
    return 0;
  for (const unsigned char *p = (const unsigned char *)k; *p; p++)
    if (*p <= ' ' || *p == '.' || *p == '[' || *p == ']' || *p == '"' || *p == '\\' ||
        *p == 0x7f)
      return 0;
  return 1;
}

/* PATH followed by KEY, malloc'd (NULL when out of memory). */
static char *key_path(const char *path, const char *key) {
  if (plain_key(key)) {
    size_t n = strlen(path) + strlen(key) + 2;
    char *s = malloc(n);
    if (s)
      snprintf(s, n, "%s.%s", path, key);
    return s;
  }
  cJSON *str = cJSON_CreateString(key);
  char *quoted = str ? cJSON_PrintUnformatted(str) : NULL;
  cJSON_Delete(str);
  if (!quoted)
    return NULL;
  size_t n = strlen(path) + strlen(quoted) + 3;
  char *s = malloc(n);
  if (s)
    snprintf(s, n, "%s[%s]", path, quoted);
  free(quoted);
  return s;
}

static char *index_path(const char *path, int i) {
  size_t n = strlen(path) + 24;
  char *s = malloc(n);
  if (s)
    snprintf(s, n, "%s[%d]", path, i);
  return s;
}

static reqlog_err add(cJSON *out, const diff_rules *rules, const char *path,
                      const char *name, const char *state, const cJSON *a,
                      const cJSON *b) {
  cJSON *e = diff_entry(path, state, a, b, diff_ignored(rules, path, 0, name, a, b));
  if (!e)
    return REQLOG_ERR_NOMEM;
  cJSON_AddItemToArray(out, e);
  return REQLOG_OK;
}

static reqlog_err walk(const diff_rules *rules, const char *path, const char *name,
                       const cJSON *a, const cJSON *b, cJSON *out, int depth);

/* The member KEY of both objects (either may lack it), below PATH. */
static reqlog_err walk_key(const diff_rules *rules, const char *path, const char *key,
                           const cJSON *a, const cJSON *b, cJSON *out, int depth) {
  char *p = key_path(path, key);
  if (!p)
    return REQLOG_ERR_NOMEM;
  reqlog_err err = walk(rules, p, key, a, b, out, depth + 1);
  free(p);
  return err;
}

static reqlog_err walk_objects(const diff_rules *rules, const char *path, const cJSON *a,
                               const cJSON *b, cJSON *out, int depth) {
  reqlog_err err = REQLOG_OK;
  const cJSON *m;
  cJSON_ArrayForEach(m, a) {
    if (err != REQLOG_OK)
      break;
    err = walk_key(rules, path, m->string, m,
                   cJSON_GetObjectItemCaseSensitive(b, m->string), out, depth);
  }
  cJSON_ArrayForEach(m, b) {
    if (err != REQLOG_OK)
      break;
    if (!cJSON_GetObjectItemCaseSensitive(a, m->string))
      err = walk_key(rules, path, m->string, NULL, m, out, depth);
  }
  return err;
}

static reqlog_err walk_arrays(const diff_rules *rules, const char *path, const char *name,
                              const cJSON *a, const cJSON *b, cJSON *out, int depth) {
  reqlog_err err = REQLOG_OK;
  const cJSON *x = a->child, *y = b->child;
  for (int i = 0; err == REQLOG_OK && (x || y); i++) {
    char *p = index_path(path, i);
    if (!p)
      return REQLOG_ERR_NOMEM;
    /* an element keeps its array's name: a list of dates is still dates */
    err = walk(rules, p, name, x, y, out, depth + 1);
    free(p);
    x = x ? x->next : NULL;
    y = y ? y->next : NULL;
  }
  return err;
}

static reqlog_err walk(const diff_rules *rules, const char *path, const char *name,
                       const cJSON *a, const cJSON *b, cJSON *out, int depth) {
  if (!a && !b)
    return REQLOG_OK;
  if (!a)
    return add(out, rules, path, name, "added", NULL, b);
  if (!b)
    return add(out, rules, path, name, "removed", a, NULL);
  if (depth < DEPTH_MAX && cJSON_IsObject(a) && cJSON_IsObject(b))
    return walk_objects(rules, path, a, b, out, depth);
  if (depth < DEPTH_MAX && cJSON_IsArray(a) && cJSON_IsArray(b))
    return walk_arrays(rules, path, name, a, b, out, depth);
  if (cJSON_Compare(a, b, 1))
    return REQLOG_OK;
  return add(out, rules, path, name, "changed", a, b);
}

reqlog_err diff_json(const diff_rules *rules, const char *path, const cJSON *a,
                     const cJSON *b, cJSON *out) {
  return walk(rules, path, NULL, a, b, out, 0);
}
