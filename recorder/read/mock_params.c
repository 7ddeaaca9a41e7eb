/* mock_params.c: query strings and form bodies as the mock compares them: split at '&',
 * percent-decoded, sorted by name, a recorded [REDACTED] value matching any value. */
#include "read/mock.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* by name only: qsort is not stable, so the parse order breaks ties (see below) */
typedef struct indexed {
  mock_param p;
  size_t at;
} indexed;

static int by_name(const void *a, const void *b) {
  const indexed *x = a, *y = b;
  int c = strcmp(x->p.name, y->p.name);
  return c ? c : (x->at > y->at) - (x->at < y->at);
}

void mock_params_free(mock_params *p) {
  for (size_t i = 0; i < p->n; i++) {
    free(p->p[i].name);
    free(p->p[i].value);
  }
  free(p->p);
  p->p = NULL;
  p->n = 0;
}

reqlog_err mock_params_parse(const char *text, size_t len, mock_params *out) {
  out->p = NULL;
  out->n = 0;
  size_t count = 0;
  for (size_t i = 0; i < len; i++)
    count += text[i] == '&';
  indexed *all = calloc(count + 1, sizeof *all);
  if (!all)
    return REQLOG_ERR_NOMEM;
  size_t n = 0;
  reqlog_err err = REQLOG_OK;
  for (size_t i = 0; i <= len && err == REQLOG_OK;) {
    size_t end = i;
    while (end < len && text[end] != '&')
      end++;
    if (end > i) { /* "a&&b": an empty piece is no parameter */
      const char *eq = memchr(text + i, '=', end - i);
      size_t name_len = eq ? (size_t)(eq - (text + i)) : end - i;
      all[n].p.name = util_form_decode(text + i, name_len, NULL);
      all[n].p.value = eq ? util_form_decode(eq + 1, (size_t)(text + end - (eq + 1)), NULL) : util_strdup("");
      all[n].at = n;
      if (!all[n].p.name || !all[n].p.value)
        err = REQLOG_ERR_NOMEM;
      n++;
    }
    i = end + 1;
  }
  if (err == REQLOG_OK && n)
    out->p = malloc(n * sizeof *out->p);
  if (err == REQLOG_OK && n && !out->p)
    err = REQLOG_ERR_NOMEM;
  if (err != REQLOG_OK) {
    for (size_t i = 0; i < n; i++) {
      free(all[i].p.name);
      free(all[i].p.value);
    }
    free(all);
    return err;
  }
  qsort(all, n, sizeof *all, by_name);
  for (size_t i = 0; i < n; i++)
    out->p[i] = all[i].p;
  out->n = n;
  free(all);
  return REQLOG_OK;
}

int mock_params_match(const mock_params *recorded, const mock_params *given) {
  if (recorded->n != given->n)
    return 0;
  for (size_t i = 0; i < recorded->n; i++) {
    const mock_param *r = &recorded->p[i], *g = &given->p[i];
    if (strcmp(r->name, g->name) != 0)
      return 0;
    if (strcmp(r->value, g->value) != 0 && strcmp(r->value, MOCK_REDACTED) != 0)
      return 0;
  }
  return 1;
}

int mock_params_cmp(const mock_params *a, const mock_params *b) {
  for (size_t i = 0; i < a->n && i < b->n; i++) {
    int c = strcmp(a->p[i].name, b->p[i].name);
    if (!c)
      c = strcmp(a->p[i].value, b->p[i].value);
    if (c)
      return c;
  }
  return (a->n > b->n) - (a->n < b->n);
}

int mock_params_same(const mock_params *a, const mock_params *b) {
  return mock_params_cmp(a, b) == 0;
}
