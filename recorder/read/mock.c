/* mock.c: the mock's set of recorded calls (reqlog.h, reqlog_mock_*): entries added
 * newest first, repeats of one request dropped (only the newest can ever answer), then
 * two sorted indexes, by method + path and by method + path template, each newest first
 * within a key, searched by binary search; matching and the closest calls. */
#include "read/mock.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "read/pathtpl.h"

struct reqlog_mock {
  mock_entry **all; /* as added (newest first), then the ones kept */
  size_t n, cap;
  mock_entry **by_path, **by_tpl;
};

reqlog_mock *mock_new(void) {
  return calloc(1, sizeof(reqlog_mock));
}

reqlog_err mock_add(reqlog_mock *m, mock_entry *e) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    mock_entry **all = realloc(m->all, cap * sizeof *all);
    if (!all) {
      mock_entry_free(e);
      return REQLOG_ERR_NOMEM;
    }
    m->all = all;
    m->cap = cap;
  }
  m->all[m->n++] = e;
  return REQLOG_OK;
}

static int newest_first(const mock_entry *a, const mock_entry *b) {
  return (a->call.id < b->call.id) - (a->call.id > b->call.id);
}

static int cmp_path(const void *pa, const void *pb) {
  const mock_entry *a = *(mock_entry *const *)pa, *b = *(mock_entry *const *)pb;
  int c = strcmp(a->method, b->method);
  if (!c)
    c = strcmp(a->path, b->path);
  return c ? c : newest_first(a, b);
}

static int cmp_tpl(const void *pa, const void *pb) {
  const mock_entry *a = *(mock_entry *const *)pa, *b = *(mock_entry *const *)pb;
  int c = strcmp(a->method, b->method);
  if (!c)
    c = strcmp(a->tpl, b->tpl);
  return c ? c : newest_first(a, b);
}

/* The same request: method, path, query, request body (for the dedupe). */
static int cmp_request(const mock_entry *a, const mock_entry *b) {
  int c = strcmp(a->method, b->method);
  if (!c)
    c = strcmp(a->path, b->path);
  if (!c)
    c = mock_params_cmp(&a->query, &b->query);
  if (!c)
    c = (a->req_truncated > b->req_truncated) - (a->req_truncated < b->req_truncated);
  if (!c)
    c = (a->req_body_len > b->req_body_len) - (a->req_body_len < b->req_body_len);
  if (!c && a->req_body_len)
    c = memcmp(a->req_body, b->req_body, a->req_body_len);
  return c;
}

static int cmp_dedupe(const void *pa, const void *pb) {
  const mock_entry *a = *(mock_entry *const *)pa, *b = *(mock_entry *const *)pb;
  int c = cmp_request(a, b);
  return c ? c : newest_first(a, b);
}

reqlog_err mock_build(reqlog_mock *m) {
  if (m->n) {
    qsort(m->all, m->n, sizeof *m->all, cmp_dedupe);
    size_t kept = 1;
    for (size_t i = 1; i < m->n; i++) {
      if (cmp_request(m->all[kept - 1], m->all[i]) == 0)
        mock_entry_free(m->all[i]); /* an older repeat: never the answer */
      else
        m->all[kept++] = m->all[i];
    }
    m->n = kept;
  }
  m->by_path = malloc((m->n + 1) * sizeof *m->by_path);
  m->by_tpl = malloc((m->n + 1) * sizeof *m->by_tpl);
  if (!m->by_path || !m->by_tpl)
    return REQLOG_ERR_NOMEM;
  if (m->n) {
    memcpy(m->by_path, m->all, m->n * sizeof *m->all);
    memcpy(m->by_tpl, m->all, m->n * sizeof *m->all);
  }
  qsort(m->by_path, m->n, sizeof *m->by_path, cmp_path);
  qsort(m->by_tpl, m->n, sizeof *m->by_tpl, cmp_tpl);
  return REQLOG_OK;
}

size_t reqlog_mock_size(const reqlog_mock *m) {
  return m ? m->n : 0;
}

void reqlog_mock_free(reqlog_mock *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->n; i++)
    mock_entry_free(m->all[i]);
  free(m->all);
  free(m->by_path);
  free(m->by_tpl);
  free(m);
}

/* The request as the indexes compare it. */
typedef struct probe {
  const reqlog_mock_request *req;
  char method[UTIL_METHOD_MAX + 1]; /* upper case */
  const char *path;
  char *tpl;
  mock_params query;
} probe;

static reqlog_err probe_init(probe *p, const reqlog_mock_request *req) {
  memset(p, 0, sizeof *p);
  p->req = req;
  const char *method = req->method ? req->method : "";
  size_t n = strlen(method);
  if (n > UTIL_METHOD_MAX)
    n = UTIL_METHOD_MAX; /* no recorded method is longer: it matches none */
  for (size_t i = 0; i < n; i++)
    p->method[i] = (char)toupper((unsigned char)method[i]);
  p->path = req->path ? req->path : "";
  p->tpl = pathtpl_make(p->path, strlen(p->path));
  if (!p->tpl)
    return REQLOG_ERR_NOMEM;
  const char *q = req->query ? req->query : "";
  reqlog_err err = mock_params_parse(q, strlen(q), &p->query);
  if (err != REQLOG_OK) {
    free(p->tpl);
    p->tpl = NULL;
  }
  return err;
}

static void probe_free(probe *p) {
  free(p->tpl);
  mock_params_free(&p->query);
}

static const char *key_of(const mock_entry *e, int tpl) {
  return tpl ? e->tpl : e->path;
}

/* Orders entry E against method METHOD and key KEY (path or template). */
static int cmp_key(const mock_entry *e, const char *method, const char *key, int tpl) {
  int c = strcmp(e->method, method);
  return c ? c : strcmp(key_of(e, tpl), key);
}

/* The newest entry of index TPL (0: by path, 1: by template) under P's method and key
 * whose query and body match P's. */
static const mock_entry *find(const reqlog_mock *m, const probe *p, int tpl) {
  mock_entry *const *v = tpl ? m->by_tpl : m->by_path;
  const char *key = tpl ? p->tpl : p->path;
  size_t lo = 0, hi = m->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cmp_key(v[mid], p->method, key, tpl) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t i = lo; i < m->n && cmp_key(v[i], p->method, key, tpl) == 0; i++)
    if (mock_params_match(&v[i]->query, &p->query) &&
        mock_body_match(v[i]->req_body, v[i]->req_body_len, v[i]->req_truncated,
                        p->req->body, p->req->body_len))
      return v[i];
  return NULL;
}

reqlog_mock_match_kind reqlog_mock_match(const reqlog_mock *m, const reqlog_mock_request *req,
                                         const reqlog_mock_call **call) {
  if (call)
    *call = NULL;
  probe p;
  if (!m || !req || !call || probe_init(&p, req) != REQLOG_OK)
    return REQLOG_MOCK_NONE;
  reqlog_mock_match_kind kind = REQLOG_MOCK_NONE;
  const mock_entry *e = find(m, &p, 0);
  if (e) {
    kind = REQLOG_MOCK_EXACT;
  } else if ((e = find(m, &p, 1)) != NULL) {
    kind = REQLOG_MOCK_TEMPLATE;
  }
  if (e)
    *call = &e->call;
  probe_free(&p);
  return kind;
}

/* Leading path segments A and B have in common. */
static int common_segments(const char *a, const char *b) {
  int n = 0;
  while (*a && *a == *b) {
    if (*a == '/' && a[1] != '\0')
      n++;
    a++;
    b++;
  }
  return n;
}

/* How close entry E is to P: the higher the closer. */
static int closeness(const mock_entry *e, const probe *p) {
  int method = strcmp(e->method, p->method) == 0;
  if (strcmp(e->path, p->path) == 0)
    return method ? 1000 : 700;
  if (strcmp(e->tpl, p->tpl) == 0)
    return method ? 900 : 600;
  return common_segments(e->path, p->path) * 2 + method;
}

size_t reqlog_mock_closest(const reqlog_mock *m, const reqlog_mock_request *req,
                           const reqlog_mock_call **out, size_t max) {
  probe p;
  if (!m || !req || !out || !max || probe_init(&p, req) != REQLOG_OK)
    return 0;
  /* the best MAX so far, best first: a small insertion sort */
  const mock_entry *best[16];
  int score[16];
  if (max > 16)
    max = 16;
  size_t n = 0;
  for (size_t i = 0; i < m->n; i++) {
    const mock_entry *e = m->all[i];
    int s = closeness(e, &p);
    size_t at = n;
    while (at > 0 && (score[at - 1] < s ||
                      (score[at - 1] == s && best[at - 1]->call.id < e->call.id)))
      at--;
    if (at >= max)
      continue;
    size_t last = n < max ? n : max - 1;
    for (size_t k = last; k > at; k--) {
      best[k] = best[k - 1];
      score[k] = score[k - 1];
    }
    best[at] = e;
    score[at] = s;
    if (n < max)
      n++;
  }
  for (size_t i = 0; i < n; i++)
    out[i] = &best[i]->call;
  probe_free(&p);
  return n;
}
