/* filter_sql.c: a parsed filter (filter_int.h) as SQL over `calls AS c` whose every
 * value is a bound parameter, never SQL text: one builder a filter, the status filter's
 * per-item branches, the full-text (q) filter's indexed and scanned halves, and the
 * time range the stats reader takes as a shortcut. In SQLite's SQL or PostgreSQL's
 * (q->dialect): most conditions are written the same; the few that are not (prefixes,
 * substrings, wildcards, q, field) have their PostgreSQL form next to SQLite's. What
 * each filter means is in filter_parse.c's opening comment. */
#include "read/filter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "base/util.h"
#include "read/filter_int.h"

typedef void (*sql_fn)(const reqlog_filter *f, int64_t now_us, sqlq *q);

/* ------------------------------------------------------------------ one filter each */

/* The status items of F one by one, each alone: BRANCH-th of the classes (ascending),
 * then the exact codes outside them, then "error". Returns 0 when there is no such item. */
static int status_branch_sql(const reqlog_filter *f, size_t branch, sqlq *q) {
  size_t n = 0;
  for (int k = 1; k <= 5; k++)
    if ((f->classes & (1u << k)) && n++ == branch) {
      if (q->dialect == SQLQ_PG) {
        /* the same rows as a range, which PostgreSQL's statistics can estimate (it
         * guesses 0.5% for an expression, then sorts every row of the range instead of
         * walking the id index: 22 ms -> 0.4 ms for status=4xx&path&since=24h on 1M) */
        sqlq_add(q, "c.status BETWEEN ");
        sqlq_int(q, k * 100);
        sqlq_add(q, " AND ");
        sqlq_int(q, k * 100 + 99);
        return 1;
      }
      sqlq_add(q, "c.status / 100 = ");
      sqlq_int(q, k);
      return 1;
    }
  for (int c = 100; c < 600; c++)
    if (f->codes[c] && !(f->classes & (1u << (c / 100))) && n++ == branch) {
      if (q->dialect == SQLQ_SQLITE) {
        /* a history has no index on the code itself (004_compact.sql): its class
         * (calls_class, in id order) and the code checked on the rows of that class */
        sqlq_add(q, "(c.status / 100 = ");
        sqlq_int(q, c / 100);
        sqlq_add(q, " AND c.status = ");
        sqlq_int(q, c);
        sqlq_add(q, ")");
        return 1;
      }
      sqlq_add(q, "c.status = ");
      sqlq_int(q, c);
      return 1;
    }
  if (f->status_error && n++ == branch) {
    sqlq_add(q, "c.status IS NULL");
    return 1;
  }
  return 0;
}

size_t filter_status_branches(const reqlog_filter *f) {
  if (!f || !(f->given & (1u << FILTER_status)))
    return 0;
  size_t n = f->status_error ? 1 : 0;
  for (int k = 1; k <= 5; k++)
    n += (f->classes & (1u << k)) != 0;
  for (int c = 100; c < 600; c++)
    n += f->codes[c] && !(f->classes & (1u << (c / 100)));
  return n;
}

static void sql_status(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  /* One item alone is its branch: `c.status / 100 = k` (an equality on calls_class,
   * 002_stats.sql, whose entries for one k come in id order, so the newest page needs
   * no sort), `c.status = code` (with its class on SQLite) or `c.status IS NULL`. */
  if (filter_status_branches(f) == 1) {
    status_branch_sql(f, 0, q);
    return;
  }
  int ncodes = 0;
  for (int c = 100; c < 600; c++)
    ncodes += f->codes[c] && !(f->classes & (1u << (c / 100)));
  const char *sep = "";
  sqlq_add(q, "(");
  /* Classes, with neighbours merged: 4xx,5xx -> BETWEEN 400 AND 599. */
  for (int k = 1; k <= 5; k++) {
    if (!(f->classes & (1u << k)))
      continue;
    int last = k;
    while (last < 5 && (f->classes & (1u << (last + 1))))
      last++;
    sqlq_add(q, sep);
    sqlq_add(q, "c.status BETWEEN ");
    sqlq_int(q, k * 100);
    sqlq_add(q, " AND ");
    sqlq_int(q, last * 100 + 99);
    sep = " OR ";
    k = last;
  }
  /* Exact codes not already inside a class. */
  if (ncodes > 0) {
    sqlq_add(q, sep);
    sqlq_add(q, ncodes == 1 ? "c.status = " : "c.status IN (");
    const char *comma = "";
    for (int c = 100; c < 600; c++) {
      if (!f->codes[c] || (f->classes & (1u << (c / 100))))
        continue;
      sqlq_add(q, comma);
      sqlq_int(q, c);
      comma = ", ";
    }
    if (ncodes > 1)
      sqlq_add(q, ")");
    sep = " OR ";
  }
  if (f->status_error) {
    sqlq_add(q, sep);
    sqlq_add(q, "c.status IS NULL");
  }
  sqlq_add(q, ")");
}

/* Methods are compared upper-case on both sides: a client may have sent "get". */
static void sql_method(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  if (f->nmethods == 1) {
    sqlq_add(q, "upper(c.method) = ");
    sqlq_text(q, f->methods[0]);
    return;
  }
  sqlq_add(q, "upper(c.method) IN (");
  for (size_t i = 0; i < f->nmethods; i++) {
    if (i)
      sqlq_add(q, ", ");
    sqlq_text(q, f->methods[i]);
  }
  sqlq_add(q, ")");
}

/* COL >= PREFIX AND COL < (PREFIX with its last byte incremented), which SQLite answers
 * from an index on COL. Trailing 0xFF bytes cannot be incremented: they are dropped
 * first, and when nothing is left there is no upper bound. Text compares bytewise
 * (BINARY collation), so the range holds exactly the values starting with PREFIX. */
static void sql_prefix_range(sqlq *q, const char *col, const char *prefix, size_t len) {
  if (q->dialect == SQLQ_PG) {
    /* PostgreSQL compares text by collation, and a bound made by incrementing a byte
     * may not be UTF-8: starts_with() says exactly "begins with these bytes". */
    char *p = util_strndup(prefix, len);
    if (!p) {
      q->oom = 1;
      return;
    }
    sqlq_add(q, "starts_with(");
    sqlq_add(q, col);
    sqlq_add(q, ", ");
    sqlq_text(q, p);
    sqlq_add(q, ")");
    free(p);
    return;
  }
  char *lo = util_strndup(prefix, len);
  char *hi = util_strndup(prefix, len);
  if (!lo || !hi) {
    q->oom = 1;
    goto done;
  }
  size_t n = len;
  while (n > 0 && (unsigned char)hi[n - 1] == 0xff)
    n--;
  sqlq_add(q, "(");
  sqlq_add(q, col);
  sqlq_add(q, " >= ");
  sqlq_text(q, lo);
  if (n > 0) {
    hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
    hi[n] = '\0';
    sqlq_add(q, " AND ");
    sqlq_add(q, col);
    sqlq_add(q, " < ");
    sqlq_text(q, hi);
  }
  sqlq_add(q, ")");
done:
  free(lo);
  free(hi);
}

/* The GLOB pattern for a path with '*': the other metacharacters ? [ ] are put in
 * brackets so they match themselves; a prefix ("/...") may be followed by anything, a
 * substring may also be preceded by anything. */
static char *path_glob(const char *v) {
  size_t len = strlen(v);
  char *g = malloc(3 * len + 3);
  if (!g)
    return NULL;
  char *o = g;
  if (v[0] != '/')
    *o++ = '*';
  for (const char *p = v; *p; p++) {
    if (*p == '?' || *p == '[' || *p == ']') {
      *o++ = '[';
      *o++ = *p;
      *o++ = ']';
    } else {
      *o++ = *p;
    }
  }
  *o++ = '*';
  *o = '\0';
  return g;
}

/* LEN bytes of S as LIKE text matching themselves (ESCAPE '\\'), with '*' becoming '%'
 * when STAR, between FRONT and BACK ("%" or ""); malloc'd, NULL when out of memory. */
static char *like_text(const char *s, size_t len, int star, const char *front,
                       const char *back) {
  char *l = malloc(2 * len + 3);
  if (!l)
    return NULL;
  char *o = l;
  o += strlen(strcpy(o, front));
  for (size_t i = 0; i < len; i++) {
    if (star && s[i] == '*') {
      *o++ = '%';
      continue;
    }
    if (s[i] == '%' || s[i] == '_' || s[i] == '\\')
      *o++ = '\\';
    *o++ = s[i];
  }
  strcpy(o, back);
  return l;
}

/* PostgreSQL: the path filter as one LIKE (prefix "/...": anchored at the start). */
static void sql_path_pg(const char *v, sqlq *q) {
  char *l = like_text(v, strlen(v), 1, v[0] == '/' ? "" : "%", "%");
  if (!l) {
    q->oom = 1;
    return;
  }
  sqlq_add(q, "c.path LIKE ");
  sqlq_text(q, l);
  sqlq_add(q, " ESCAPE '\\'");
  free(l);
}

static void sql_path(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  const char *v = f->path;
  const char *star = strchr(v, '*');
  if (q->dialect == SQLQ_PG && (star || v[0] != '/')) {
    sql_path_pg(v, q);
    return;
  }
  if (!star) {
    if (v[0] == '/') {
      sql_prefix_range(q, "c.path", v, strlen(v));
    } else {
      sqlq_add(q, "instr(c.path, ");
      sqlq_text(q, v);
      sqlq_add(q, ") > 0");
    }
    return;
  }
  char *g = path_glob(v);
  if (!g) {
    q->oom = 1;
    return;
  }
  sqlq_add(q, "(");
  if (v[0] == '/') {
    /* The literal part before the first '*' still narrows an index range. */
    sql_prefix_range(q, "c.path", v, (size_t)(star - v));
    sqlq_add(q, " AND ");
  }
  sqlq_add(q, "c.path GLOB ");
  sqlq_text(q, g);
  sqlq_add(q, ")");
  free(g);
}

static void sql_host(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sqlq_add(q, "c.host = ");
  sqlq_text(q, f->host);
}

static void sql_origin(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sqlq_add(q, "c.origin = ");
  sqlq_text(q, f->origin);
}

static void sql_request_id(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sqlq_add(q, "c.request_id = ");
  sqlq_text(q, f->request_id);
}

static void sql_key(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  switch (f->key_kind) {
  case KEY_FULL:
    sqlq_add(q, "c.key = ");
    sqlq_text(q, f->key);
    break;
  case KEY_HASH:
    /* The hash is always the last 9 characters ("#" and 8 hex). */
    sqlq_add(q, q->dialect == SQLQ_PG ? "right(c.key, 9) = " : "substr(c.key, -9) = ");
    sqlq_text(q, f->key);
    break;
  case KEY_LAST4:
    /* "…abcd#" starts every fingerprint of a key ending in abcd: an index range. */
    sql_prefix_range(q, "c.key", f->key, strlen(f->key));
    break;
  }
}

/* The time a bound stands for at NOW_US; an age reaching before INT64_MIN saturates. */
static int64_t bound_us(const time_bound *t, int64_t now_us) {
  if (!t->relative)
    return t->us;
  return now_us < INT64_MIN + t->us ? INT64_MIN : now_us - t->us;
}

static void sql_since(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sqlq_add(q, "c.started_at >= ");
  sqlq_int(q, bound_us(&f->since, now_us));
}

static void sql_until(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sqlq_add(q, "c.started_at < ");
  sqlq_int(q, bound_us(&f->until, now_us));
}

static void sql_min_ms(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sqlq_add(q, "c.duration_us >= ");
  sqlq_int(q, f->min_us);
}

/* Next whitespace-separated word of *P: its start, with its length in *LEN; NULL at
 * the end. */
static const char *next_word(const char **p, size_t *len) {
  const char *s = *p;
  while (filter_is_space(*s))
    s++;
  if (!*s)
    return NULL;
  const char *e = s;
  while (*e && !filter_is_space(*e))
    e++;
  *len = (size_t)(e - s);
  *p = e;
  return s;
}

/* A word the trigram index can find: at least 3 characters (UTF-8 lead bytes counted).
 * Shorter words are looked for by substring in every row. */
static bool indexable(const char *w, size_t len) {
  return utf8_chars(w, len) >= 3;
}

typedef enum { WORDS_ALL, WORDS_INDEXABLE } words_kind;

/* next_word(), passing over the words that are not of KIND. */
static const char *next_word_of(const char **p, size_t *len, words_kind kind) {
  const char *w;
  while ((w = next_word(p, len)) != NULL)
    if (kind == WORDS_ALL || indexable(w, *len) == (kind == WORDS_INDEXABLE))
      return w;
  return NULL;
}

/* WORD (lower-cased) is a substring of the URL or of a text body (as recorded: a
 * packed body is unpacked, docs/design.md §10). */
static void sql_word_scan(sqlq *q, const char *w, size_t len) {
  static const char *const cols[] = {
    "lower(c.url)",
    "lower(reqlog_unpack_text(c.packed, c.request_body))",
    "lower(reqlog_unpack_text(c.packed, c.response_body))",
  };
  char *lw = util_strndup(w, len);
  if (!lw) {
    q->oom = 1;
    return;
  }
  for (char *p = lw; *p; p++)
    *p = filter_lower(*p);
  sqlq_add(q, "(");
  for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
    sqlq_add(q, i ? " OR instr(" : "instr(");
    sqlq_add(q, cols[i]);
    sqlq_add(q, ", ");
    sqlq_text(q, lw);
    sqlq_add(q, ") > 0");
  }
  sqlq_add(q, ")");
  free(lw);
}

/* At most this many trigrams of one word go into the index query, spread over the
 * word (its first, middle and last): enough to leave few candidates, while each more is
 * one more row list to walk in step. On the 1M-row bench history, the first 50 rows of
 * the 11 trigrams of "physiotherapy" took 6.0 ms, of 4 of them 1.25 ms; "invalid email"
 * 2.5 ms with all 7, 0.74 ms with 4. The candidates are checked against the words. */
#define FTS_MAX_TRIGRAMS 3

/* Appends to *O the trigrams of word W (LEN bytes, at least 3 UTF-8 characters), each
 * an FTS5 string ("..." with '"' doubled, so no user text is ever FTS5 syntax). */
static char *put_trigrams(char *o, const char *w, size_t len, bool *first) {
  size_t starts[FTS_MAX_TRIGRAMS], nchars = 0, total = utf8_chars(w, len);
  /* the byte offset of each character that may start a trigram, sampled evenly when
   * there are more than FTS_MAX_TRIGRAMS */
  size_t ntri = total - 2, want = ntri < FTS_MAX_TRIGRAMS ? ntri : FTS_MAX_TRIGRAMS;
  size_t k = 0;
  for (size_t i = 0; i < len && k < want; i++) {
    if (((unsigned char)w[i] & 0xC0) == 0x80)
      continue; /* a continuation byte */
    if (nchars == (want > 1 ? k * (ntri - 1) / (want - 1) : 0))
      starts[k++] = i;
    nchars++;
  }
  for (size_t t = 0; t < k; t++) {
    size_t b = starts[t], e = b, c = 0;
    while (e < len && c < 3) { /* three characters from b */
      e++;
      while (e < len && ((unsigned char)w[e] & 0xC0) == 0x80)
        e++;
      c++;
    }
    if (!*first)
      *o++ = ' ';
    *first = false;
    *o++ = '"';
    for (size_t i = b; i < e; i++) {
      if (w[i] == '"')
        *o++ = '"';
      *o++ = w[i];
    }
    *o++ = '"';
  }
  return o;
}

/* The FTS5 query for the indexable words of TEXT: the trigrams of each word (put_trigrams),
 * separated by spaces (implicit AND). The index keeps which rows hold a trigram, not
 * where (detail=none, 004_compact.sql), so a row it gives holds every trigram of every
 * word but perhaps not the words: the caller checks each candidate (sql_q_part). NULL
 * when no word is indexable (then *none is set) or out of memory. */
static char *fts_query(const char *text, bool *none) {
  size_t cap = (size_t)FTS_MAX_TRIGRAMS * 16 * strlen(text) + 8;
  char *m = malloc(cap);
  *none = true;
  if (!m)
    return NULL;
  char *o = m;
  const char *p = text, *w;
  size_t len;
  bool first = true;
  while ((w = next_word_of(&p, &len, WORDS_INDEXABLE)) != NULL) {
    *none = false;
    o = put_trigrams(o, w, len, &first);
  }
  *o = '\0';
  if (*none) {
    free(m);
    return NULL;
  }
  return m;
}

/* Scan conditions, AND-ed, for the words of TEXT. Appends nothing when there is none. */
static void sql_words_scan(sqlq *q, const char *text, const char *sep) {
  const char *p = text, *w;
  size_t len;
  while ((w = next_word_of(&p, &len, WORDS_ALL))) {
    sqlq_add(q, sep);
    sql_word_scan(q, w, len);
    sep = " AND ";
  }
}

/* Rows up to the indexer's mark are found through calls_fts, rows above it by scanning;
 * the two halves are disjoint, and mean the same: every word a substring, ASCII case
 * ignored. The index only names candidates (each holds the words' trigrams), so every
 * word is checked on them as in the scanned half. PART says which half to emit: both
 * OR-ed (FILTER_ALL), the indexed half without its MATCH, which the caller joins
 * (FILTER_FTS_PART), or the scanned half (FILTER_TAIL_PART). */
static void sql_q_part(const reqlog_filter *f, filter_part part, sqlq *q) {
  bool none = true;
  char *match = fts_query(f->q, &none);
  if (!match && !none) {
    q->oom = 1;
    return;
  }
  if (none) {
    sqlq_add(q, "(");
    sql_words_scan(q, f->q, "");
    sqlq_add(q, ")");
    return;
  }
  switch (part) {
  case FILTER_ALL:
  case FILTER_FIELD_PART: /* not given with q (the index drives that query) */
    sqlq_add(q, "((c.id <= " FILTER_FTS_MARK
                " AND c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ");
    sqlq_text(q, match);
    sqlq_add(q, ")");
    sql_words_scan(q, f->q, " AND ");
    sqlq_add(q, ") OR (c.id > " FILTER_FTS_MARK);
    sql_words_scan(q, f->q, " AND ");
    sqlq_add(q, "))");
    break;
  case FILTER_FTS_PART:
    sqlq_add(q, "(1");
    sql_words_scan(q, f->q, " AND ");
    sqlq_add(q, ")");
    break;
  case FILTER_TAIL_PART:
    sqlq_add(q, "(c.id > " FILTER_FTS_MARK);
    sql_words_scan(q, f->q, " AND ");
    sqlq_add(q, ")");
    break;
  }
  free(match);
}

/* PostgreSQL: every word an ILIKE '%word%' over the URL and the text bodies (the
 * pg_trgm indexes answer it; binary bodies are in other columns). */
static void sql_q_pg(const reqlog_filter *f, sqlq *q) {
  static const char *const cols[] = {"c.url", "c.request_body", "c.response_body"};
  const char *p = f->q, *w, *sep = "(";
  size_t len;
  while ((w = next_word(&p, &len)) != NULL) {
    char *l = like_text(w, len, 0, "%", "%");
    if (!l) {
      q->oom = 1;
      return;
    }
    sqlq_add(q, sep);
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
      sqlq_add(q, i ? " OR " : "(");
      sqlq_add(q, cols[i]);
      sqlq_add(q, " ILIKE ");
      sqlq_text(q, l);
    }
    sqlq_add(q, ")");
    free(l);
    sep = " AND ";
  }
  sqlq_add(q, *sep == '(' ? "(true)" : ")");
}

static void sql_q(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sql_q_part(f, FILTER_ALL, q);
}

const char *filter_field(const reqlog_filter *f) {
  return f && (f->given & (1u << FILTER_field)) ? f->field : NULL;
}

char *filter_fts_match(const reqlog_filter *f, int *oom) {
  *oom = 0;
  if (!f || !f->q)
    return NULL;
  bool none = true;
  char *match = fts_query(f->q, &none);
  if (!match && !none)
    *oom = 1;
  return match;
}

static void sql_field(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  if (q->dialect == SQLQ_PG) {
    sqlq_text(q, f->field);
    sqlq_add(q, " = ANY (c.error_field_list)");
    return;
  }
  sqlq_add(q, "c.id IN (SELECT call_id FROM call_fields WHERE field = ");
  sqlq_text(q, f->field);
  sqlq_add(q, ")");
}

/* Both read the notes' own tables (schema/006_notes.sql), the same in both dialects. */
static void sql_tag(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sqlq_add(q, "c.id IN (SELECT call_id FROM call_tags WHERE tag = ");
  sqlq_text(q, f->tag);
  sqlq_add(q, ")");
}

static void sql_pinned(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sqlq_add(q, f->pinned ? "c.id IN" : "c.id NOT IN");
  sqlq_add(q, " (SELECT call_id FROM call_notes WHERE pinned = 1)");
}

static void sql_replay_of(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sqlq_add(q, "c.replay_of = ");
  sqlq_int(q, f->replay_of);
}

/* ------------------------------------------------------------------ the whole filter */

#define FILTER_BUILDER_ENTRY(name, ...) [FILTER_##name] = sql_##name,
/* sql_<name>() of each filter, by filter_id. */
static const sql_fn builders[FILTER_COUNT] = {FILTER_LIST(FILTER_BUILDER_ENTRY)};
#undef FILTER_BUILDER_ENTRY

/* BRANCH: SIZE_MAX for the whole status filter, else that item alone. */
static void emit(const reqlog_filter *f, int64_t now_us, filter_part part, size_t branch,
                 sqlq *q) {
  if (filter_is_empty(f)) {
    sqlq_add(q, q->dialect == SQLQ_PG ? "true" : "1");
    return;
  }
  const char *sep = "";
  sqlq_add(q, "(");
  for (size_t i = 0; i < FILTER_COUNT; i++) {
    if (!(f->given & (1u << i)))
      continue;
    sqlq_add(q, sep);
    if (i == FILTER_field && part == FILTER_FIELD_PART)
      sqlq_add(q, "1"); /* the caller's join on call_fields */
    else if (i == FILTER_q && q->dialect == SQLQ_PG)
      sql_q_pg(f, q);
    else if (i == FILTER_q)
      sql_q_part(f, part, q);
    else if (i == FILTER_status && branch != SIZE_MAX)
      status_branch_sql(f, branch, q);
    else
      builders[i](f, now_us, q);
    sep = " AND ";
  }
  sqlq_add(q, ")");
}

void filter_sql_part(const reqlog_filter *f, int64_t now_us, filter_part part, sqlq *q) {
  emit(f, now_us, part, SIZE_MAX, q);
}

void filter_sql_branch(const reqlog_filter *f, int64_t now_us, size_t branch, sqlq *q) {
  emit(f, now_us, FILTER_ALL, branch, q);
}

void filter_sql(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  filter_sql_part(f, now_us, FILTER_ALL, q);
}

void filter_bounds(const reqlog_filter *f, int64_t now_us, int64_t *since_us,
                   int64_t *until_us) {
  *since_us = f && f->since.set ? bound_us(&f->since, now_us) : INT64_MIN;
  *until_us = f && f->until.set ? bound_us(&f->until, now_us) : INT64_MAX;
}

int filter_time_range(const reqlog_filter *f, int64_t now_us, int64_t *since_us,
                      int64_t *until_us) {
  filter_bounds(f, now_us, since_us, until_us);
  unsigned time_bits = (1u << FILTER_since) | (1u << FILTER_until);
  return !f || !(f->given & ~time_bits);
}
