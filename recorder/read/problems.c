/* problems.c: failing calls (status 400 or more, or no response) grouped into problems:
 * one group per method, path template (pathtmpl.h), status, the API's message (the
 * transport error when no response came) and, for a 422, its failing fields; each with
 * its exact count, the keys it hit, first and last time, the newest call, and its count
 * per hour over the range (a sparkline of at most SPARK_MAX points). The rows come from
 * a backend's export source, oldest first, so both backends group the same rows. */
#include "read/problems.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "read/filter.h"
#include "read/pathtmpl.h"
#include "read/row.h"

enum {
  KEYS_KEPT = 8,       /* key fingerprints named per group in the answer */
  SPARK_MAX = 168,     /* sparkline points at most (a week of hours) */
  GROUPS_SHOWN = 500,  /* groups in the answer at most (groups_total counts them all) */
  TMPL_MAX = 512
};

#define US_PER_HOUR (INT64_C(3600) * 1000000)

typedef struct group {
  char *id;             /* the grouping key */
  char *method, *tmpl, *message, *fields;
  int64_t status;       /* 0: no response */
  int64_t count, first_us, last_us, newest_id;
  char **keys;          /* the distinct keys seen */
  int nkeys, capkeys;
  int no_key;           /* calls without a key */
  int64_t *hours;       /* counts per hour from the run's base hour */
  size_t nhours;
} group;

typedef struct run {
  group **slots;        /* open addressing by the key's hash */
  size_t cap, n;
  int64_t total;
  int64_t base_hour;    /* hour index of sparkline point 0 */
  int have_base;
  int nomem;
} run;

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static void group_free(group *g) {
  if (!g)
    return;
  free(g->id);
  free(g->method);
  free(g->tmpl);
  free(g->message);
  free(g->fields);
  for (int i = 0; i < g->nkeys; i++)
    free(g->keys[i]);
  free(g->keys);
  free(g->hours);
  free(g);
}

static int grow(run *r) {
  size_t cap = r->cap ? r->cap * 2 : 64;
  group **slots = calloc(cap, sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < r->cap; i++) {
    group *g = r->slots[i];
    if (!g)
      continue;
    size_t k = hash(g->id) & (cap - 1);
    while (slots[k])
      k = (k + 1) & (cap - 1);
    slots[k] = g;
  }
  free(r->slots);
  r->slots = slots;
  r->cap = cap;
  return 0;
}

/* The group called ID, made (from the other arguments) when new; NULL out of memory. */
static group *find(run *r, const char *id, const char *method, const char *tmpl,
                   int64_t status, const char *message, const char *fields) {
  if ((r->n + 1) * 2 > r->cap && grow(r) != 0)
    return NULL;
  size_t k = hash(id) & (r->cap - 1);
  while (r->slots[k]) {
    if (strcmp(r->slots[k]->id, id) == 0)
      return r->slots[k];
    k = (k + 1) & (r->cap - 1);
  }
  group *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->id = util_strdup(id);
  g->method = util_strdup(method);
  g->tmpl = util_strdup(tmpl);
  g->message = util_strdup(message);
  g->fields = util_strdup(fields);
  g->status = status;
  if (!g->id || (method && !g->method) || !g->tmpl || (message && !g->message) ||
      (fields && !g->fields)) {
    group_free(g);
    return NULL;
  }
  r->slots[k] = g;
  r->n++;
  return g;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The field names of a 422's error_fields text, sorted and comma-joined (malloc'd), or
 * NULL (none, not an object). *nomem on out of memory. */
static char *field_names(const char *text, int *nomem) {
  cJSON *o = text ? cJSON_Parse(text) : NULL;
  if (!cJSON_IsObject(o) || !o->child) {
    cJSON_Delete(o);
    return NULL;
  }
  size_t n = (size_t)cJSON_GetArraySize(o), len = 1, k = 0;
  const char **names = malloc(n * sizeof *names);
  const cJSON *m;
  cJSON_ArrayForEach(m, o) {
    if (names)
      names[k++] = m->string ? m->string : "";
    len += strlen(m->string ? m->string : "") + 1;
  }
  char *out = names ? malloc(len) : NULL;
  if (out) {
    qsort(names, n, sizeof *names, by_name);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
      if (i && strcmp(names[i], names[i - 1]) == 0)
        continue;
      if (*out)
        strcat(out, ",");
      strcat(out, names[i]);
    }
  } else {
    *nomem = 1;
  }
  free(names);
  cJSON_Delete(o);
  return out;
}

/* Notes KEY (NULL: the call had none) among G's distinct keys; -1 out of memory. A
 * group's calls come from a few keys, so a list is enough. */
static int note_key(group *g, const char *key) {
  if (!key) {
    g->no_key = 1;
    return 0;
  }
  for (int i = 0; i < g->nkeys; i++)
    if (strcmp(g->keys[i], key) == 0)
      return 0;
  if (g->nkeys == g->capkeys) {
    int cap = g->capkeys ? 2 * g->capkeys : 4;
    char **k = realloc(g->keys, (size_t)cap * sizeof *k);
    if (!k)
      return -1;
    g->keys = k;
    g->capkeys = cap;
  }
  if (!(g->keys[g->nkeys] = util_strdup(key)))
    return -1;
  g->nkeys++;
  return 0;
}

static int note_hour(run *r, group *g, int64_t started_us) {
  int64_t hour = started_us >= 0 ? started_us / US_PER_HOUR : -1;
  if (!r->have_base) {
    r->base_hour = hour;
    r->have_base = 1;
  }
  size_t i = hour > r->base_hour ? (size_t)(hour - r->base_hour) : 0;
  if (i >= g->nhours) {
    size_t n = g->nhours ? g->nhours : 8;
    while (n <= i)
      n *= 2;
    int64_t *h = realloc(g->hours, n * sizeof *h);
    if (!h)
      return -1;
    memset(h + g->nhours, 0, (n - g->nhours) * sizeof *h);
    g->hours = h;
    g->nhours = n;
  }
  g->hours[i]++;
  return 0;
}

/* One row into its group; rows that did not fail are passed over. */
static int add_row(run *r, const rowsrc *row) {
  int64_t status = 0;
  int has_status = rowsrc_int_or_null(row, RC_STATUS, &status);
  if (has_status && status < 400)
    return 0;
  if (!has_status)
    status = 0;
  const char *method = (const char *)rowsrc_text(row, RC_METHOD, NULL);
  const char *path = (const char *)rowsrc_text(row, RC_PATH, NULL);
  const char *message = has_status ? (const char *)rowsrc_text(row, RC_ERROR_MESSAGE, NULL)
                                   : (const char *)rowsrc_text(row, RC_ERROR, NULL);
  char tmpl[TMPL_MAX];
  path_template(path, tmpl, sizeof tmpl);
  char *fields = status == 422 ? field_names((const char *)rowsrc_text(row, RC_ERROR_FIELDS,
                                                                        NULL), &r->nomem)
                               : NULL;
  size_t idlen = strlen(method ? method : "") + strlen(tmpl) + strlen(message ? message : "") +
                 strlen(fields ? fields : "") + 40;
  char *id = malloc(idlen);
  group *g = NULL;
  if (id) {
    snprintf(id, idlen, "%s\x1f%s\x1f%lld\x1f%s\x1f%s", method ? method : "", tmpl,
             (long long)status, message ? message : "", fields ? fields : "");
    g = find(r, id, method, tmpl, status, message, fields);
  }
  free(id);
  free(fields);
  if (!g)
    return -1;
  int64_t at = rowsrc_int(row, RC_STARTED_AT), rid = rowsrc_int(row, RC_ID);
  if (g->count == 0 || at < g->first_us)
    g->first_us = at;
  if (g->count == 0 || at > g->last_us)
    g->last_us = at;
  if (rid > g->newest_id)
    g->newest_id = rid;
  g->count++;
  r->total++;
  if (note_key(g, (const char *)rowsrc_text(row, RC_KEY, NULL)) != 0)
    return -1;
  return note_hour(r, g, at);
}

/* ------------------------------------------------------------------ the answer */

static cJSON *iso(int64_t us) {
  char t[32];
  util_format_time(us, t);
  return cJSON_CreateString(t);
}

static cJSON *text_or_null(const char *s) {
  return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Busiest first; among equals the most recent first, then by key for a stable order. */
static int by_count(const void *a, const void *b) {
  const group *x = *(const group *const *)a, *y = *(const group *const *)b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  if (x->last_us != y->last_us)
    return x->last_us > y->last_us ? -1 : 1;
  return strcmp(x->id, y->id);
}

/* The list filters that open the group's calls (as near as the filters can say: the
 * message is not one of them). */
static cJSON *open_filter(const group *g) {
  cJSON *o = cJSON_CreateObject();
  char path[TMPL_MAX + 8], status[24];
  /* each {id} matches any text: the path filter's wildcard */
  size_t n = 0;
  for (const char *p = g->tmpl; *p && n + 2 < sizeof path;) {
    if (strncmp(p, PATHTMPL_ID, sizeof PATHTMPL_ID - 1) == 0) {
      path[n++] = '*';
      p += sizeof PATHTMPL_ID - 1;
    } else {
      path[n++] = *p++;
    }
  }
  path[n] = '\0';
  if (g->status)
    snprintf(status, sizeof status, "%lld", (long long)g->status);
  else
    snprintf(status, sizeof status, "error");
  int ok = o != NULL;
  ok = ok && (!g->method || cJSON_AddStringToObject(o, "method", g->method));
  ok = ok && (!path[0] || cJSON_AddStringToObject(o, "path", path));
  ok = ok && cJSON_AddStringToObject(o, "status", status);
  ok = ok && (!g->fields || strchr(g->fields, ',') || cJSON_AddStringToObject(o, "field", g->fields));
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static cJSON *group_json(const group *g, size_t points, int64_t width) {
  cJSON *o = cJSON_CreateObject();
  int ok = o != NULL;
  ok = ok && row_put(o, "method", text_or_null(g->method));
  ok = ok && row_put(o, "template", cJSON_CreateString(g->tmpl));
  ok = ok && row_put(o, "status", g->status ? cJSON_CreateNumber((double)g->status)
                                            : cJSON_CreateNull());
  ok = ok && row_put(o, "message", text_or_null(g->message));
  cJSON *fields = NULL;
  if (g->fields) {
    fields = cJSON_CreateArray();
    char *copy = util_strdup(g->fields), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && fields;
         t = strtok_r(NULL, ",", &save)) {
      cJSON *s = cJSON_CreateString(t);
      if (!s) {
        cJSON_Delete(fields);
        fields = NULL;
      } else {
        cJSON_AddItemToArray(fields, s);
      }
    }
    if (!copy) {
      cJSON_Delete(fields);
      fields = NULL;
    }
    free(copy);
    ok = ok && fields;
  }
  ok = ok && row_put(o, "fields", fields ? fields : cJSON_CreateNull());
  ok = ok && row_put(o, "count", cJSON_CreateNumber((double)g->count));
  ok = ok && row_put(o, "keys", cJSON_CreateNumber(g->nkeys));
  cJSON *names = cJSON_CreateArray();
  for (int i = 0; names && i < g->nkeys && i < KEYS_KEPT; i++)
    cJSON_AddItemToArray(names, cJSON_CreateString(g->keys[i]));
  ok = ok && row_put(o, "key_names", names);
  ok = ok && row_put(o, "without_key", cJSON_CreateBool(g->no_key));
  ok = ok && row_put(o, "first", iso(g->first_us));
  ok = ok && row_put(o, "last", iso(g->last_us));
  ok = ok && row_put(o, "newest_id", cJSON_CreateNumber((double)g->newest_id));
  cJSON *spark = cJSON_CreateArray();
  for (size_t p = 0; spark && p < points; p++) {
    int64_t sum = 0;
    for (int64_t h = (int64_t)p * width; h < (int64_t)(p + 1) * width; h++)
      if (h >= 0 && (size_t)h < g->nhours)
        sum += g->hours[h];
    cJSON *v = cJSON_CreateNumber((double)sum);
    if (!v) {
      cJSON_Delete(spark);
      spark = NULL;
      break;
    }
    cJSON_AddItemToArray(spark, v);
  }
  ok = ok && row_put(o, "hours", spark);
  ok = ok && row_put(o, "filter", open_filter(g));
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static cJSON *answer(run *r, const reqlog_filter *f, int64_t now_us) {
  int64_t since = INT64_MIN, until = INT64_MAX;
  filter_bounds(f, now_us, &since, &until);
  int64_t end_us = until < now_us ? until : now_us;
  int64_t base = since != INT64_MIN ? since / US_PER_HOUR
                 : r->have_base     ? r->base_hour
                                    : end_us / US_PER_HOUR;
  int64_t last_hour = end_us > 0 ? (end_us - 1) / US_PER_HOUR : 0;
  if (last_hour < base)
    last_hour = base;
  int64_t span = last_hour - base + 1;
  int64_t width = (span + SPARK_MAX - 1) / SPARK_MAX;
  size_t points = (size_t)((span + width - 1) / width);
  /* groups were counted from r->base_hour; shift to BASE */
  int64_t shift = r->have_base ? r->base_hour - base : 0;

  group **list = malloc((r->n ? r->n : 1) * sizeof *list);
  if (!list)
    return NULL;
  size_t n = 0;
  for (size_t i = 0; i < r->cap; i++)
    if (r->slots[i])
      list[n++] = r->slots[i];
  qsort(list, n, sizeof *list, by_count);

  cJSON *o = cJSON_CreateObject();
  int ok = o != NULL;
  ok = ok && row_put(o, "total", cJSON_CreateNumber((double)r->total));
  ok = ok && row_put(o, "groups_total", cJSON_CreateNumber((double)n));
  cJSON *range = cJSON_CreateObject();
  ok = ok && range && row_put(range, "from", iso(base * US_PER_HOUR)) &&
       row_put(range, "to", iso((last_hour + 1) * US_PER_HOUR));
  ok = ok && row_put(o, "range", range);
  ok = ok && row_put(o, "bucket_s", cJSON_CreateNumber((double)(width * 3600)));
  cJSON *groups = cJSON_CreateArray();
  for (size_t i = 0; ok && groups && i < n && i < GROUPS_SHOWN; i++) {
    group *g = list[i];
    if (shift > 0 && g->nhours) { /* move the counts to start at BASE */
      int64_t *h = calloc(g->nhours + (size_t)shift, sizeof *h);
      if (!h) {
        ok = 0;
        break;
      }
      memcpy(h + shift, g->hours, g->nhours * sizeof *h);
      free(g->hours);
      g->hours = h;
      g->nhours += (size_t)shift;
    }
    cJSON *gj = group_json(g, points, width);
    if (!gj)
      ok = 0;
    else
      cJSON_AddItemToArray(groups, gj);
  }
  free(list);
  ok = ok && row_put(o, "groups", groups);
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* ------------------------------------------------------------------ the run */

reqlog_filter *problems_filter(const reqlog_filter *f) {
  reqlog_filter *c = filter_copy(f);
  if (c && !filter_has_status(c) &&
      reqlog_filter_set(c, "status", "4xx,5xx,error", NULL) != REQLOG_OK) {
    reqlog_filter_free(c);
    return NULL;
  }
  return c;
}

reqlog_err problems_run(const export_source *src, const reqlog_filter *f, int64_t now_us,
                        cJSON **out, char **cause) {
  *out = NULL;
  run r = {0};
  if (grow(&r) != 0)
    return util_fail(cause, REQLOG_ERR_NOMEM, "problems: out of memory");
  reqlog_err err = src->open(src->ctx, PROBLEMS_COLS, cause);
  if (err == REQLOG_OK) {
    for (;;) {
      const rowsrc *row = NULL;
      err = src->next(src->ctx, &row, cause);
      if (err != REQLOG_OK)
        break;
      if (add_row(&r, row) != 0 || r.nomem) {
        err = util_fail(cause, REQLOG_ERR_NOMEM, "problems: out of memory");
        break;
      }
    }
    src->close(src->ctx);
    if (err == REQLOG_ERR_DONE)
      err = REQLOG_OK;
  }
  if (err == REQLOG_OK && !(*out = answer(&r, f, now_us)))
    err = util_fail(cause, REQLOG_ERR_NOMEM, "problems: out of memory");
  for (size_t i = 0; i < r.cap; i++)
    group_free(r.slots[i]);
  free(r.slots);
  return err;
}
