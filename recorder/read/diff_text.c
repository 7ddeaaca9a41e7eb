/* diff_text.c: the line diff of two text bodies: the common first and last lines are
 * set aside, the lines between are matched by a longest common subsequence (when the
 * table fits in LCS_CELLS_MAX cells; beyond, the middle counts as removed and added
 * whole), and unchanged runs far from a change are folded into one "skip" line. */
#include "read/diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
  CONTEXT = 3,                  /* unchanged lines kept around a change */
  LCS_CELLS_MAX = 4 * 1024 * 1024
};

typedef struct {
  const char *p;
  size_t n;
} line;

typedef struct {
  line *v;
  size_t count;
} lines;

/* TEXT cut at each "\n" (a "\r" before it dropped); a last line without "\n" counts,
 * an empty text has none. */
static int split(const char *text, lines *out) {
  out->v = NULL;
  out->count = 0;
  if (!text || !*text)
    return 0;
  size_t cap = 1;
  for (const char *p = text; *p; p++)
    cap += *p == '\n';
  out->v = malloc(cap * sizeof *out->v);
  if (!out->v)
    return -1;
  const char *p = text;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    out->v[out->count].p = p;
    out->v[out->count].n = n && p[n - 1] == '\r' ? n - 1 : n;
    out->count++;
    p += n + (nl != NULL);
  }
  return 0;
}

static int same(const line *x, const line *y) {
  return x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
}

/* The ops, one byte per line of the result: '=' same, '-' only in A, '+' only in B. */
typedef struct {
  char *op;
  size_t n;
} script;

/* The ops for A[0..NA) against B[0..NB) appended to S (which has room). */
static int lcs(const line *a, size_t na, const line *b, size_t nb, script *s) {
  if ((uint64_t)(na + 1) * (nb + 1) > LCS_CELLS_MAX) {
    memset(s->op + s->n, '-', na);
    memset(s->op + s->n + na, '+', nb);
    s->n += na + nb;
    return 0;
  }
  /* t[i][j]: the LCS length of A[i..] and B[j..] */
  uint32_t *t = calloc((na + 1) * (nb + 1), sizeof *t);
  if (!t)
    return -1;
  for (size_t i = na; i-- > 0;)
    for (size_t j = nb; j-- > 0;) {
      uint32_t down = t[(i + 1) * (nb + 1) + j], right = t[i * (nb + 1) + j + 1];
      t[i * (nb + 1) + j] = same(&a[i], &b[j]) ? t[(i + 1) * (nb + 1) + j + 1] + 1
                            : down >= right ? down : right;
    }
  size_t i = 0, j = 0;
  while (i < na || j < nb) {
    if (i < na && j < nb && same(&a[i], &b[j])) {
      s->op[s->n++] = '=';
      i++;
      j++;
    } else if (j < nb && (i == na || t[(i + 1) * (nb + 1) + j] < t[i * (nb + 1) + j + 1])) {
      s->op[s->n++] = '+';
      j++;
    } else {
      s->op[s->n++] = '-';
      i++;
    }
  }
  free(t);
  return 0;
}

static cJSON *line_entry(const char *op, long la, long lb, const line *l) {
  cJSON *e = cJSON_CreateObject();
  if (!e || !cJSON_AddStringToObject(e, "op", op) ||
      !(la ? cJSON_AddNumberToObject(e, "a", (double)la) : cJSON_AddNullToObject(e, "a")) ||
      !(lb ? cJSON_AddNumberToObject(e, "b", (double)lb) : cJSON_AddNullToObject(e, "b"))) {
    cJSON_Delete(e);
    return NULL;
  }
  char *text = malloc(l->n + 1);
  if (!text) {
    cJSON_Delete(e);
    return NULL;
  }
  memcpy(text, l->p, l->n);
  text[l->n] = '\0';
  cJSON *t = cJSON_AddStringToObject(e, "text", text);
  free(text);
  if (!t) {
    cJSON_Delete(e);
    return NULL;
  }
  return e;
}

static cJSON *skip_entry(size_t count) {
  cJSON *e = cJSON_CreateObject();
  if (!e || !cJSON_AddStringToObject(e, "op", "skip") || !cJSON_AddNullToObject(e, "a") ||
      !cJSON_AddNullToObject(e, "b") || !cJSON_AddNumberToObject(e, "count", (double)count)) {
    cJSON_Delete(e);
    return NULL;
  }
  return e;
}

/* Non-zero when the op at K is within CONTEXT lines of a change. */
static int near_change(const script *s, size_t k) {
  size_t from = k > CONTEXT ? k - CONTEXT : 0, to = k + CONTEXT < s->n ? k + CONTEXT : s->n - 1;
  for (size_t i = from; i <= to; i++)
    if (s->op[i] != '=')
      return 1;
  return 0;
}

static reqlog_err emit(const script *s, const lines *a, const lines *b, cJSON *out) {
  size_t i = 0, j = 0, skipped = 0;
  for (size_t k = 0; k < s->n; k++) {
    char op = s->op[k];
    if (op == '=' && !near_change(s, k)) {
      skipped++;
      i++;
      j++;
      continue;
    }
    if (skipped) {
      cJSON *e = skip_entry(skipped);
      if (!e)
        return REQLOG_ERR_NOMEM;
      cJSON_AddItemToArray(out, e);
      skipped = 0;
    }
    cJSON *e = op == '=' ? line_entry("same", (long)i + 1, (long)j + 1, &a->v[i])
             : op == '-' ? line_entry("removed", (long)i + 1, 0, &a->v[i])
                         : line_entry("added", 0, (long)j + 1, &b->v[j]);
    if (!e)
      return REQLOG_ERR_NOMEM;
    cJSON_AddItemToArray(out, e);
    i += op != '+';
    j += op != '-';
  }
  if (skipped) {
    cJSON *e = skip_entry(skipped);
    if (!e)
      return REQLOG_ERR_NOMEM;
    cJSON_AddItemToArray(out, e);
  }
  return REQLOG_OK;
}

reqlog_err diff_text(const char *a, const char *b, cJSON *out, int *changed) {
  lines la, lb;
  *changed = 0;
  if (split(a, &la) != 0)
    return REQLOG_ERR_NOMEM;
  if (split(b, &lb) != 0) {
    free(la.v);
    return REQLOG_ERR_NOMEM;
  }
  script s = {malloc(la.count + lb.count + 1), 0};
  reqlog_err err = s.op ? REQLOG_OK : REQLOG_ERR_NOMEM;
  if (err == REQLOG_OK) {
    size_t head = 0, tail = 0;
    while (head < la.count && head < lb.count && same(&la.v[head], &lb.v[head]))
      head++;
    while (tail < la.count - head && tail < lb.count - head &&
           same(&la.v[la.count - 1 - tail], &lb.v[lb.count - 1 - tail]))
      tail++;
    memset(s.op, '=', head);
    s.n = head;
    if (lcs(la.v + head, la.count - head - tail, lb.v + head, lb.count - head - tail, &s) != 0)
      err = REQLOG_ERR_NOMEM;
    memset(s.op + s.n, '=', tail);
    s.n += tail;
  }
  if (err == REQLOG_OK) {
    for (size_t k = 0; k < s.n; k++)
      *changed += s.op[k] != '=';
    err = emit(&s, &la, &lb, out);
  }
  free(s.op);
  free(la.v);
  free(lb.v);
  return err;
}
