/* diff.c: reqlog_diff_rows (reqlog.h): two rows of the row model compared as exchanges:
 * the overview fields, the timing side by side (never a difference), the headers by
 * name whatever their order, and the bodies (structurally when both are JSON, else line
 * by line, binary whole), each difference marked with why it is ignored, if it is. */
#include "read/diff.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "read/row.h"

/* Counts of one part of the result. */
typedef struct {
  int differences;
  int ignored;
} tally;

static void count(tally *t, const cJSON *entry) {
  const cJSON *state = cJSON_GetObjectItemCaseSensitive(entry, "state");
  if (cJSON_IsString(state) && strcmp(state->valuestring, "same") == 0)
    return;
  if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(entry, "ignored")))
    t->ignored++;
  else
    t->differences++;
}

static const char *state_of(const cJSON *a, const cJSON *b) {
  if (!a)
    return b ? "added" : "same";
  if (!b)
    return "removed";
  return cJSON_Compare(a, b, 1) ? "same" : "changed";
}

/* One entry for PATH with the values A and B, counted into T, added to OUT. */
static int put_entry(cJSON *out, tally *t, const diff_rules *rules, const char *path,
                     int header, const char *name, const cJSON *a, const cJSON *b) {
  const char *state = state_of(a, b);
  const char *why = strcmp(state, "same") == 0 ? NULL
                                               : diff_ignored(rules, path, header, name, a, b);
  cJSON *e = diff_entry(path, state, a, b, why);
  if (!e)
    return 0;
  count(t, e);
  cJSON_AddItemToArray(out, e);
  return 1;
}

/* ------------------------------------------------------------------ overview */

static cJSON *side(const cJSON *row) {
  static const char *const members[] = {"id", "started_at", "method", "url", "status",
                                        "error", "duration_ms"};
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; o && i < sizeof members / sizeof members[0]; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, members[i]);
    if (!row_put(o, members[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull())) {
      cJSON_Delete(o);
      return NULL;
    }
  }
  return o;
}

/* MEMBER of ROW, with JSON null read as absent. */
static const cJSON *member(const cJSON *row, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name);
  return cJSON_IsNull(v) ? NULL : v;
}

static cJSON *fields(const cJSON *a, const cJSON *b, const diff_rules *rules, tally *t) {
  static const char *const names[] = {"method", "url", "status", "error"};
  cJSON *out = cJSON_CreateArray();
  for (size_t i = 0; out && i < sizeof names / sizeof names[0]; i++)
    if (!put_entry(out, t, rules, names[i], 0, NULL, member(a, names[i]),
                   member(b, names[i]))) {
      cJSON_Delete(out);
      return NULL;
    }
  return out;
}

static cJSON *timing(const cJSON *a, const cJSON *b) {
  static const char *const phases[] = {"queued_ms", "dns_ms", "connect_ms",
                                       "tls_ms",    "ttfb_ms", "total_ms"};
  const cJSON *ta = cJSON_GetObjectItemCaseSensitive(a, "timing");
  const cJSON *tb = cJSON_GetObjectItemCaseSensitive(b, "timing");
  cJSON *out = cJSON_CreateArray();
  for (size_t i = 0; out && i < sizeof phases / sizeof phases[0]; i++) {
    const cJSON *va = member(ta, phases[i]), *vb = member(tb, phases[i]);
    cJSON *p = cJSON_CreateObject();
    int ok = p != NULL && cJSON_AddStringToObject(p, "phase", phases[i]) != NULL;
    ok = ok && row_put(p, "a", va ? cJSON_Duplicate(va, 1) : cJSON_CreateNull());
    ok = ok && row_put(p, "b", vb ? cJSON_Duplicate(vb, 1) : cJSON_CreateNull());
    if (!ok) {
      cJSON_Delete(p);
      cJSON_Delete(out);
      return NULL;
    }
    cJSON_AddItemToArray(out, p);
  }
  return out;
}

/* ------------------------------------------------------------------ headers */

static int by_string(const void *x, const void *y) {
  return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The headers [[name, value], ...] as {lower-case name: "value, value"}, names in order
 * of first appearance, the values of a repeated name sorted. NULL when out of memory. */
static cJSON *header_map(const cJSON *headers) {
  cJSON *lists = cJSON_CreateObject();
  const cJSON *h;
  cJSON_ArrayForEach(h, headers) {
    const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(h, 0));
    const char *value = cJSON_GetStringValue(cJSON_GetArrayItem(h, 1));
    char *lower = util_strdup(name);
    if (!lists || !lower || !value) {
      free(lower);
      if (!lists || !name || !value)
        continue; /* a malformed pair is left out */
      cJSON_Delete(lists);
      return NULL;
    }
    for (char *p = lower; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(lists, lower);
    if (!list && !(list = cJSON_AddArrayToObject(lists, lower))) {
      free(lower);
      cJSON_Delete(lists);
      return NULL;
    }
    free(lower);
    cJSON *s = cJSON_CreateString(value);
    if (!s) {
      cJSON_Delete(lists);
      return NULL;
    }
    cJSON_AddItemToArray(list, s);
  }
  cJSON *map = lists ? cJSON_CreateObject() : NULL;
  const cJSON *list;
  cJSON_ArrayForEach(list, lists) {
    if (!map)
      break;
    size_t n = (size_t)cJSON_GetArraySize(list), len = 1, k = 0;
    const char **v = malloc((n ? n : 1) * sizeof *v);
    const cJSON *s;
    cJSON_ArrayForEach(s, list) {
      if (v)
        v[k++] = s->valuestring;
      len += strlen(s->valuestring) + 2;
    }
    char *joined = v ? malloc(len) : NULL;
    if (joined) {
      qsort(v, n, sizeof *v, by_string);
      joined[0] = '\0';
      for (size_t i = 0; i < n; i++) {
        if (i)
          strcat(joined, ", ");
        strcat(joined, v[i]);
      }
    }
    if (!joined || !cJSON_AddStringToObject(map, list->string, joined)) {
      cJSON_Delete(map);
      map = NULL;
    }
    free(joined);
    free(v);
  }
  cJSON_Delete(lists);
  return map;
}

static cJSON *headers(const cJSON *a, const cJSON *b, const char *prefix,
                      const diff_rules *rules, tally *t) {
  char member_name[32];
  snprintf(member_name, sizeof member_name, "%s_headers", prefix);
  cJSON *ma = header_map(cJSON_GetObjectItemCaseSensitive(a, member_name));
  cJSON *mb = header_map(cJSON_GetObjectItemCaseSensitive(b, member_name));
  cJSON *out = ma && mb ? cJSON_CreateArray() : NULL;
  int ok = out != NULL;
  for (int pass = 0; ok && pass < 2; pass++) {
    const cJSON *h, *these = pass ? mb : ma, *those = pass ? ma : mb;
    cJSON_ArrayForEach(h, these) {
      const cJSON *other = cJSON_GetObjectItemCaseSensitive(those, h->string);
      if (pass && other)
        continue; /* both have it: done in the first pass */
      char *path = malloc(strlen(prefix) + strlen(h->string) + 16);
      if (!path) {
        ok = 0;
        break;
      }
      sprintf(path, "%s.headers.%s", prefix, h->string);
      ok = pass ? put_entry(out, t, rules, path, 1, h->string, NULL, h)
                : put_entry(out, t, rules, path, 1, h->string, h, other);
      free(path);
      if (!ok)
        break;
    }
  }
  cJSON_Delete(ma);
  cJSON_Delete(mb);
  if (!ok) {
    cJSON_Delete(out);
    return NULL;
  }
  return out;
}

/* ------------------------------------------------------------------ bodies */

/* The body of ROW for PREFIX: its text (NULL when none or empty), or binary. */
typedef struct {
  const char *text;
  const cJSON *binary; /* {"base64": ...} */
  int truncated;
} body_of;

static body_of get_body(const cJSON *row, const char *prefix) {
  char name[32];
  body_of b = {0};
  snprintf(name, sizeof name, "%s_body", prefix);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name);
  if (cJSON_IsString(v) && *v->valuestring)
    b.text = v->valuestring;
  else if (cJSON_IsObject(v))
    b.binary = v;
  snprintf(name, sizeof name, "%s_truncated", prefix);
  b.truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, name));
  return b;
}

/* TEXT parsed as one whole JSON value, or NULL (not JSON, cut at the cap, no text). */
static cJSON *parse_whole(const body_of *b) {
  const char *end = NULL;
  return b->text && !b->truncated ? cJSON_ParseWithOpts(b->text, &end, 1) : NULL;
}

/* A binary body as its size, for the entry: {"binary_bytes": N}; NULL (absent) for none. */
static cJSON *binary_value(const cJSON *row, const char *prefix, const body_of *b) {
  if (!b->binary && !b->text)
    return NULL;
  char name[32];
  snprintf(name, sizeof name, "%s_size", prefix);
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(row, name);
  cJSON *o = cJSON_CreateObject();
  if (o && !cJSON_AddNumberToObject(o, b->binary ? "binary_bytes" : "text_bytes",
                                    cJSON_IsNumber(size) ? size->valuedouble : 0)) {
    cJSON_Delete(o);
    o = NULL;
  }
  return o;
}

static int body_binary(cJSON *out, const cJSON *a, const cJSON *b, const char *prefix,
                       const body_of *ba, const body_of *bb, const diff_rules *rules,
                       tally *t, cJSON *changes) {
  const char *sa = ba->binary ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                  ba->binary, "base64")) : NULL;
  const char *sb = bb->binary ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                  bb->binary, "base64")) : NULL;
  if (sa && sb && strcmp(sa, sb) == 0)
    return cJSON_AddStringToObject(out, "kind", "binary") != NULL;
  char path[32];
  snprintf(path, sizeof path, "%s.body", prefix);
  cJSON *va = binary_value(a, prefix, ba), *vb = binary_value(b, prefix, bb);
  const char *state = !va ? "added" : !vb ? "removed" : "changed";
  cJSON *e = (va || !ba->binary) && (vb || !bb->binary)
               ? diff_entry(path, state, va, vb, diff_ignored(rules, path, 0, NULL, NULL, NULL))
               : NULL;
  cJSON_Delete(va);
  cJSON_Delete(vb);
  if (!e)
    return 0;
  count(t, e);
  cJSON_AddItemToArray(changes, e);
  return cJSON_AddStringToObject(out, "kind", "binary") != NULL;
}

static cJSON *body(const cJSON *a, const cJSON *b, const char *prefix,
                   const diff_rules *rules, tally *total) {
  body_of ba = get_body(a, prefix), bb = get_body(b, prefix);
  cJSON *out = cJSON_CreateObject();
  cJSON *changes = cJSON_CreateArray();
  tally t = {0, 0};
  int ok = out && changes;
  char path[32];
  snprintf(path, sizeof path, "%s.body", prefix);
  if (!ok) {
  } else if (ba.binary || bb.binary) {
    ok = body_binary(out, a, b, prefix, &ba, &bb, rules, &t, changes);
  } else if (!ba.text && !bb.text) {
    ok = cJSON_AddStringToObject(out, "kind", "none") != NULL;
  } else {
    cJSON *ja = parse_whole(&ba), *jb = parse_whole(&bb);
    if ((ja || !ba.text) && (jb || !bb.text)) {
      ok = cJSON_AddStringToObject(out, "kind", "json") &&
           diff_json(rules, path, ja, jb, changes) == REQLOG_OK;
      const cJSON *e;
      cJSON_ArrayForEach(e, changes) count(&t, e);
    } else {
      cJSON *lines = cJSON_AddArrayToObject(out, "lines");
      int changed = 0;
      ok = lines && cJSON_AddStringToObject(out, "kind", "text") &&
           diff_text(ba.text, bb.text, lines, &changed) == REQLOG_OK;
      if (diff_ignored(rules, path, 0, NULL, NULL, NULL))
        t.ignored += changed;
      else
        t.differences += changed;
    }
    cJSON_Delete(ja);
    cJSON_Delete(jb);
  }
  ok = ok && cJSON_AddNumberToObject(out, "differences", t.differences) &&
       cJSON_AddNumberToObject(out, "ignored", t.ignored);
  if (!ok) {
    cJSON_Delete(out);
    cJSON_Delete(changes);
    return NULL;
  }
  cJSON_AddItemToObject(out, "changes", changes);
  total->differences += t.differences;
  total->ignored += t.ignored;
  return out;
}

/* ------------------------------------------------------------------ the whole */

reqlog_err reqlog_diff_rows(const cJSON *a, const cJSON *b, const reqlog_diff_opts *opts,
                            cJSON **out, char **cause) {
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "diff: no place for the result");
  *out = NULL;
  if (!cJSON_IsObject(a) || !cJSON_IsObject(b))
    return util_fail(cause, REQLOG_ERR_ARG, "diff: both calls must be rows (JSON objects)");
  tally t = {0, 0};
  cJSON *o = cJSON_CreateObject();
  int ok = o != NULL;
  ok = ok && row_put(o, "a", side(a));
  ok = ok && row_put(o, "b", side(b));
  ok = ok && row_put(o, "fields", fields(a, b, opts, &t));
  ok = ok && row_put(o, "timing", timing(a, b));
  ok = ok && row_put(o, "request_headers", headers(a, b, "request", opts, &t));
  ok = ok && row_put(o, "response_headers", headers(a, b, "response", opts, &t));
  ok = ok && row_put(o, "request_body", body(a, b, "request", opts, &t));
  ok = ok && row_put(o, "response_body", body(a, b, "response", opts, &t));
  ok = ok && cJSON_AddBoolToObject(o, "equal", t.differences == 0);
  ok = ok && cJSON_AddNumberToObject(o, "differences", t.differences);
  ok = ok && cJSON_AddNumberToObject(o, "ignored", t.ignored);
  if (!ok) {
    cJSON_Delete(o);
    return util_fail(cause, REQLOG_ERR_NOMEM, "diff: out of memory");
  }
  *out = o;
  return REQLOG_OK;
}
