/* filter.c: the filter model's public face (reqlog.h): the table of filters built from
 * FILTER_LIST, the one list of their names, CLI spellings and help, which the CLI and
 * the dashboard read; making, freeing and setting a filter by name. Parsing a value is
 * filter_parse.c's job, the SQL filter_sql.c's. */
#include "read/filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "read/filter_int.h"

#define FILTER_INFO_ENTRY(id, flag, short_flag, arg, repeatable, help) \
  {#id, flag, short_flag, arg, help, repeatable},
static const reqlog_filter_info infos[FILTER_COUNT] = {FILTER_LIST(FILTER_INFO_ENTRY)};
#undef FILTER_INFO_ENTRY

#define FILTER_NAME_ENTRY(id, ...) #id,
static const char *const names[FILTER_COUNT + 1] = {FILTER_LIST(FILTER_NAME_ENTRY) NULL};
#undef FILTER_NAME_ENTRY

/* The filter called NAME, or FILTER_COUNT. */
static filter_id find(const char *name) {
  size_t i = 0;
  while (i < FILTER_COUNT && strcmp(names[i], name) != 0)
    i++;
  return (filter_id)i;
}

/* The error for an unknown filter NAME, listing the known ones. */
static reqlog_err unknown(const char *name, char **cause) {
  char known[256] = "";
  size_t len = 0;
  for (size_t i = 0; i < FILTER_COUNT && len < sizeof known; i++)
    len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
                            names[i]);
  char buf[FILTER_SHOWN_MAX + 4];
  return util_fail(cause, REQLOG_ERR_FILTER, "unknown filter '%s' (known: %s)",
                   filter_shown(name, strlen(name), buf), known);
}

/* *DST a copy of SRC (NULL stays NULL); 0, or -1 when out of memory. */
static int copy_text(char **dst, const char *src) {
  *dst = src ? strdup(src) : NULL;
  return src && !*dst ? -1 : 0;
}

reqlog_filter *filter_copy(const reqlog_filter *f) {
  reqlog_filter *c = calloc(1, sizeof *c);
  if (!c || !f)
    return c;
  *c = *f;
  c->path = c->host = c->origin = c->key = c->q = c->field = c->request_id = c->tag = NULL;
  if (copy_text(&c->path, f->path) || copy_text(&c->host, f->host) ||
      copy_text(&c->origin, f->origin) || copy_text(&c->key, f->key) ||
      copy_text(&c->q, f->q) || copy_text(&c->field, f->field) ||
      copy_text(&c->request_id, f->request_id) || copy_text(&c->tag, f->tag)) {
    reqlog_filter_free(c);
    return NULL;
  }
  return c;
}

int filter_has_status(const reqlog_filter *f) {
  return f && (f->given & (1u << FILTER_status)) != 0;
}

reqlog_err reqlog_filter_new(reqlog_filter **out) {
  if (!out)
    return REQLOG_ERR_ARG;
  *out = calloc(1, sizeof **out);
  return *out ? REQLOG_OK : REQLOG_ERR_NOMEM;
}

void reqlog_filter_free(reqlog_filter *f) {
  if (!f)
    return;
  free(f->path);
  free(f->host);
  free(f->origin);
  free(f->key);
  free(f->q);
  free(f->field);
  free(f->request_id);
  free(f->tag);
  free(f);
}

reqlog_err reqlog_filter_set(reqlog_filter *f, const char *name, const char *value,
                             char **cause) {
  if (cause)
    *cause = NULL;
  if (!f || !name)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_filter_set: no filter or name");
  filter_id id = find(name);
  if (id == FILTER_COUNT)
    return unknown(name, cause);
  unsigned bit = 1u << id;
  if (!infos[id].repeatable && (f->given & bit))
    return util_fail(cause, REQLOG_ERR_FILTER, "%s: given twice", names[id]);

  const char *s = value ? value : "";
  while (filter_is_space(*s))
    s++;
  size_t len = strlen(s);
  while (len > 0 && filter_is_space(s[len - 1]))
    len--;
  if (len == 0)
    return util_fail(cause, REQLOG_ERR_FILTER, "%s: empty value", names[id]);
  char *v = util_strndup(s, len);
  if (!v)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  reqlog_err err = filter_parse(f, id, v, cause);
  free(v);
  if (err == REQLOG_OK)
    f->given |= bit;
  return err;
}

int reqlog_filter_is_name(const char *name) {
  return name && find(name) != FILTER_COUNT;
}

int reqlog_filter_odd_method(const reqlog_filter *f, char *out, size_t outlen) {
  static const char *const standard[] = {"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                         "DELETE", "OPTIONS", "TRACE", "CONNECT"};
  for (size_t i = 0; f && i < f->nmethods; i++) {
    size_t k = 0;
    while (k < sizeof standard / sizeof standard[0] && strcmp(standard[k], f->methods[i]) != 0)
      k++;
    if (k == sizeof standard / sizeof standard[0]) {
      if (outlen)
        snprintf(out, outlen, "%s", f->methods[i]);
      return 1;
    }
  }
  return 0;
}

const char *const *reqlog_filter_names(void) {
  return names;
}

const reqlog_filter_info *reqlog_filter_info_at(size_t i) {
  return i < FILTER_COUNT ? &infos[i] : NULL;
}

int filter_is_empty(const reqlog_filter *f) {
  return !f || f->given == 0;
}

int filter_has_pattern(const reqlog_filter *f) {
  return f && (f->given & ((1u << FILTER_q) | (1u << FILTER_path))) != 0;
}
