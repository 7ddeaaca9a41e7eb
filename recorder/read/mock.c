/* mock.c: the mock's set of recorded calls (reqlog.h, reqlog_mock_*): entries added
 * newest first, repeats of one request dropped as they come (only the newest can ever
 * answer; a hash of the requests held finds them), then two sorted indexes, by path +
 * method and by path template + method, each newest first within a key, searched by
 * binary search; matching and the closest calls. */
#include "read/mock.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "read/pathtmpl.h"

struct reqlog_mock {
  mock_entry **all; /* as added (newest first), one per request */
  size_t n, cap;
  mock_entry **seen; /* the same, hashed by request (open addressing), for the dedupe */
  size_t seen_cap;
  mock_entry **by_path, **by_tpl;
  size_t recorded; /* servable calls read, repeats included */
};

reqlog_mock *mock_new(void) {
  return calloc(1, sizeof(reqlog_mock));
}

/* S and its NUL, so that "ab","c" and "a","bc" differ */
static uint64_t fnv_str(uint64_t h, const char *s) {
  return util_fnv(h, s, strlen(s) + 1);
}

/* The bytes a request body compares by: JSON by its canonical text. */
static const char *body_text(const mock_entry *e, size_t *len) {
  *len = e->body.canon ? strlen(e->body.canon) : e->req_body_len;
  return e->body.canon ? e->body.canon : (const char *)e->req_body;
}

/* A hash of what cmp_request() compares. */
static uint64_t request_hash(const mock_entry *e) {
  uint64_t h = fnv_str(UTIL_FNV_SEED, e->method);
  h = fnv_str(h, e->path);
  for (size_t i = 0; i < e->query.n; i++)
    h = fnv_str(fnv_str(h, e->query.p[i].name), e->query.p[i].value);
  size_t len;
  const char *b = body_text(e, &len);
  h = util_fnv(h, &e->req_truncated, sizeof e->req_truncated);
  return len ? util_fnv(h, b, len) : h;
}

static int cmp_request(const mock_entry *a, const mock_entry *b);

/* The slot of SEEN where E's request is, or the empty one where it would go. */
static size_t seen_slot(mock_entry *const *seen, size_t cap, const mock_entry *e) {
  size_t i = (size_t)(request_hash(e) & (cap - 1));
  while (seen[i] && cmp_request(seen[i], e) != 0)
    i = (i + 1) & (cap - 1);
  return i;
}

int mock_is_repeat(const reqlog_mock *m, const mock_entry *e) {
  return m->seen_cap && m->seen[seen_slot(m->seen, m->seen_cap, e)] != NULL;
}

/* Room in the hash for one more (kept at most half full). */
static reqlog_err seen_grow(reqlog_mock *m) {
  if ((m->n + 1) * 2 <= m->seen_cap)
    return REQLOG_OK;
  size_t cap = m->seen_cap ? m->seen_cap * 2 : 128;
  mock_entry **seen = calloc(cap, sizeof *seen);
  if (!seen)
    return REQLOG_ERR_NOMEM;
  for (size_t i = 0; i < m->n; i++)
    seen[seen_slot(seen, cap, m->all[i])] = m->all[i];
  free(m->seen);
  m->seen = seen;
  m->seen_cap = cap;
  return REQLOG_OK;
}

reqlog_err mock_add(reqlog_mock *m, mock_entry *e) {
  if (mock_is_repeat(m, e)) {
    mock_entry_free(e); /* an older call of a request held: never the answer */
    return REQLOG_OK;
  }
  if (seen_grow(m) != REQLOG_OK) {
    mock_entry_free(e);
    return REQLOG_ERR_NOMEM;
  }
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
  m->seen[seen_slot(m->seen, m->seen_cap, e)] = e;
  return REQLOG_OK;
}

static int newest_first(const mock_entry *a, const mock_entry *b) {
  return (a->call.id < b->call.id) - (a->call.id > b->call.id);
}

/* The indexes: by path (or template), then method, newest first. Sorted by path, the
 * calls of one path are together, and those sharing the most leading segments with a
 * path lie around where it would be (the closest calls). */
static int cmp_path(const void *pa, const void *pb) {
  const mock_entry *a = *(mock_entry *const *)pa, *b = *(mock_entry *const *)pb;
  int c = strcmp(a->path, b->path);
  if (!c)
    c = strcmp(a->method, b->method);
  return c ? c : newest_first(a, b);
}

static int cmp_tpl(const void *pa, const void *pb) {
  const mock_entry *a = *(mock_entry *const *)pa, *b = *(mock_entry *const *)pb;
  int c = strcmp(a->tpl, b->tpl);
  if (!c)
    c = strcmp(a->method, b->method);
  return c ? c : newest_first(a, b);
}

/* Zero when A and B are the same request: method, path, query, request body (JSON by
 * its canonical text: spacing and member order make no other request). */
static int cmp_request(const mock_entry *a, const mock_entry *b) {
  int c = strcmp(a->method, b->method);
  if (!c)
    c = strcmp(a->path, b->path);
  if (!c)
    c = mock_params_cmp(&a->query, &b->query);
  if (!c)
    c = (a->req_truncated > b->req_truncated) - (a->req_truncated < b->req_truncated);
  size_t la, lb;
  const char *ta = body_text(a, &la), *tb = body_text(b, &lb);
  if (!c)
    c = (la > lb) - (la < lb);
  if (!c && la)
    c = memcmp(ta, tb, la);
  return c;
}

reqlog_err mock_build(reqlog_mock *m) {
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

void mock_count_recorded(reqlog_mock *m) {
  m->recorded++;
}

size_t reqlog_mock_recorded(const reqlog_mock *m) {
  return m ? m->recorded : 0;
}

const reqlog_mock_call *reqlog_mock_at(const reqlog_mock *m, size_t i) {
  return m && m->by_tpl && i < m->n ? &m->by_tpl[i]->call : NULL;
}

void reqlog_mock_free(reqlog_mock *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->n; i++)
    mock_entry_free(m->all[i]);
  free(m->all);
  free(m->seen);
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
  mock_body body;
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
  p->tpl = path_template_dup(p->path);
  if (!p->tpl)
    return REQLOG_ERR_NOMEM;
  const char *q = req->query ? req->query : "";
  reqlog_err err = mock_params_parse(q, strlen(q), &p->query);
  if (err == REQLOG_OK)
    err = mock_body_init(&p->body, req->body, req->body_len, 0);
  if (err != REQLOG_OK) {
    free(p->tpl);
    p->tpl = NULL;
    mock_params_free(&p->query);
  }
  return err;
}

static void probe_free(probe *p) {
  free(p->tpl);
  mock_params_free(&p->query);
  mock_body_free(&p->body);
}

static const char *key_of(const mock_entry *e, int tpl) {
  return tpl ? e->tpl : e->path;
}

/* Orders entry E against key KEY (path or template) and method METHOD (NULL: E's key
 * alone). */
static int cmp_key(const mock_entry *e, const char *method, const char *key, int tpl) {
  int c = strcmp(key_of(e, tpl), key);
  return c || !method ? c : strcmp(e->method, method);
}

/* The first entry of index V (sorted by TPL's key) not before KEY and METHOD. */
static size_t lower_bound(mock_entry *const *v, size_t n, const char *method, const char *key,
                          int tpl) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cmp_key(v[mid], method, key, tpl) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The newest entry of index TPL (0: by path, 1: by template) under P's method and key
 * whose query and body match P's. */
static const mock_entry *find(const reqlog_mock *m, const probe *p, int tpl) {
  mock_entry *const *v = tpl ? m->by_tpl : m->by_path;
  const char *key = tpl ? p->tpl : p->path;
  for (size_t i = lower_bound(v, m->n, p->method, key, tpl);
       i < m->n && cmp_key(v[i], p->method, key, tpl) == 0; i++)
    if (mock_params_match(&v[i]->query, &p->query) && mock_body_match(&v[i]->body, &p->body))
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

/* The best MAX entries so far, best first (score, then newest). */
typedef struct ranking {
  const mock_entry *e[16];
  int score[16];
  size_t n, max;
} ranking;

static void offer(ranking *r, const mock_entry *e, int s) {
  for (size_t i = 0; i < r->n; i++)
    if (r->e[i] == e)
      return; /* offered before, with its best score */
  size_t at = r->n;
  while (at > 0 && (r->score[at - 1] < s ||
                    (r->score[at - 1] == s && r->e[at - 1]->call.id < e->call.id)))
    at--;
  if (at >= r->max)
    return;
  for (size_t k = r->n < r->max ? r->n : r->max - 1; k > at; k--) {
    r->e[k] = r->e[k - 1];
    r->score[k] = r->score[k - 1];
  }
  r->e[at] = e;
  r->score[at] = s;
  if (r->n < r->max)
    r->n++;
}

/* Entries looked at on each side of where the path would be, for shared segments. */
enum { NEIGHBOURS = 64 };

size_t reqlog_mock_closest(const reqlog_mock *m, const reqlog_mock_request *req,
                           const reqlog_mock_call **out, size_t max) {
  probe p;
  if (!m || !req || !out || !max || probe_init(&p, req) != REQLOG_OK)
    return 0;
  ranking r = {.max = max < 16 ? max : 16};
  /* the calls of this path (any method), then of its template, from the indexes */
  for (size_t i = lower_bound(m->by_path, m->n, NULL, p.path, 0);
       i < m->n && strcmp(m->by_path[i]->path, p.path) == 0; i++)
    offer(&r, m->by_path[i], closeness(m->by_path[i], &p));
  for (size_t i = lower_bound(m->by_tpl, m->n, NULL, p.tpl, 1);
       i < m->n && strcmp(m->by_tpl[i]->tpl, p.tpl) == 0; i++)
    offer(&r, m->by_tpl[i], closeness(m->by_tpl[i], &p));
  /* then those around where the path sorts: the most leading segments in common */
  size_t at = lower_bound(m->by_path, m->n, NULL, p.path, 0);
  for (size_t k = 0; k < NEIGHBOURS && k < at; k++)
    offer(&r, m->by_path[at - 1 - k], closeness(m->by_path[at - 1 - k], &p));
  size_t seen = 0;
  for (size_t i = at; i < m->n && seen < NEIGHBOURS; i++)
    if (strcmp(m->by_path[i]->path, p.path) != 0) {
      offer(&r, m->by_path[i], closeness(m->by_path[i], &p));
      seen++;
    }
  for (size_t i = 0; i < r.n; i++)
    out[i] = &r.e[i]->call;
  probe_free(&p);
  return r.n;
}
