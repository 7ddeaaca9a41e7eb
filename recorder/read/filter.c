/* filter.c: the one filter model (docs/design.md §3 FILTERS). Each filter is parsed and
 * checked once, when it is set, and turned into SQL over `calls AS c` whose every value
 * is a bound parameter, never SQL text.
 *
 * Meaning of each filter (all given filters are AND-ed):
 *   status  items OR-ed: an exact code 100..599, a class 1xx..5xx, or "error" (no
 *           response: status IS NULL). Setting it again adds items.
 *   method  HTTP methods, compared case-insensitively. Setting it again adds methods.
 *   path    "/..." is a prefix (an index range on calls_path); anything else a substring;
 *           '*' stands for any characters (GLOB, the other metacharacters literal).
 *   host    exact, case-insensitive.
 *   key     a fingerprint "…abcd#3f2a9c1e" ("..." for the ellipsis, or none), its hash
 *           "3f2a9c1e" / "#3f2a9c1e", or the key's last four characters "abcd".
 *   since   started_at >= the time; until: started_at < the time. An age ("15m") is kept
 *           as an age and resolved against the clock each time the SQL is built.
 *   min_ms  duration >= that many milliseconds (decimals allowed, rounded to 1 µs).
 *   q       every word is found in the URL or a text body: through calls_fts (word
 *           prefixes, as tokens) for rows the indexer has reached, by case-insensitive
 *           substring for the rows above its mark.
 *   field   the call's 422 response named that field in "errors".
 */
#include "read/filter.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

enum {
  METHOD_MAX = 16,    /* bytes in one method */
  METHODS_MAX = 32,   /* methods in one filter */
  PATH_MAX_LEN = 2048,
  HOST_MAX = 255,
  FIELD_MAX = 200,    /* characters */
  Q_MAX_LEN = 1024,
  Q_MAX_WORDS = 32,
  SHOWN_MAX = 60      /* bytes of a value repeated in an error message */
};

typedef enum { KEY_FULL, KEY_HASH, KEY_LAST4 } key_kind;

/* A since/until bound: an absolute time or an age, both in microseconds. */
typedef struct time_bound {
  bool set;
  bool relative;
  int64_t us;
  char text[48];      /* as given, for error messages */
} time_bound;

struct reqlog_filter {
  unsigned given;                     /* bit i: filters[i] was set */

  bool codes[600];                    /* status: exact codes */
  unsigned classes;                   /* status: bit k for the class kxx */
  bool status_error;                  /* status: transport errors */

  char methods[METHODS_MAX][METHOD_MAX + 1];
  size_t nmethods;

  char *path;
  char *host;                         /* lower-case */
  char *key;                          /* normalised, see set_key() */
  key_kind key_kind;
  time_bound since, until;
  int64_t min_us;
  char *q;
  char *field;
};

/* ------------------------------------------------------------------ small helpers */

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

static bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c) {
  return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool is_control(char c) {
  return (unsigned char)c < 0x20 || c == 0x7f;
}

/* Characters (UTF-8 code points) in S. */
static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

/* A copy of [S, S+LEN) fit to repeat in an error message: control characters become
 * '?', and a long value is cut (on a character boundary) and ends in "...". */
static const char *shown(const char *s, size_t len, char out[SHOWN_MAX + 4]) {
  size_t n = len > SHOWN_MAX ? SHOWN_MAX : len;
  while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
    n--;
  for (size_t i = 0; i < n; i++)
    out[i] = is_control(s[i]) ? '?' : s[i];
  if (n < len)
    memcpy(out + n, "...", 4);
  else
    out[n] = '\0';
  return out;
}

/* ------------------------------------------------------------------ setters */

typedef reqlog_err (*set_fn)(reqlog_filter *f, const char *v, char **cause);
typedef void (*sql_fn)(const reqlog_filter *f, int64_t now_us, sqlq *q);

/* Calls FN on each comma-separated item of V, trimmed; an empty item is an error. */
static reqlog_err each_item(const char *name, const char *v, void *ctx,
                            reqlog_err (*fn)(void *ctx, const char *item, size_t len,
                                             char **cause),
                            char **cause) {
  const char *p = v;
  for (;;) {
    const char *end = strchr(p, ',');
    if (!end)
      end = p + strlen(p);
    const char *s = p, *e = end;
    while (s < e && is_space(*s))
      s++;
    while (e > s && is_space(e[-1]))
      e--;
    if (s == e) {
      char buf[SHOWN_MAX + 4];
      return util_fail(cause, REQLOG_ERR_FILTER, "%s: empty item in '%s'", name,
                       shown(v, strlen(v), buf));
    }
    reqlog_err err = fn(ctx, s, (size_t)(e - s), cause);
    if (err != REQLOG_OK)
      return err;
    if (!*end)
      return REQLOG_OK;
    p = end + 1;
  }
}

typedef struct status_set {
  bool codes[600];
  unsigned classes;
  bool error;
} status_set;

static reqlog_err status_item(void *ctx, const char *s, size_t len, char **cause) {
  status_set *st = ctx;
  if (len == 3 && s[0] >= '1' && s[0] <= '5' && lower(s[1]) == 'x' && lower(s[2]) == 'x') {
    st->classes |= 1u << (s[0] - '0');
    return REQLOG_OK;
  }
  if (len == 5 && lower(s[0]) == 'e' && lower(s[1]) == 'r' && lower(s[2]) == 'r' &&
      lower(s[3]) == 'o' && lower(s[4]) == 'r') {
    st->error = true;
    return REQLOG_OK;
  }
  if (len == 3 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2])) {
    int code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (code >= 100 && code <= 599) {
      st->codes[code] = true;
      return REQLOG_OK;
    }
  }
  char buf[SHOWN_MAX + 4];
  return util_fail(cause, REQLOG_ERR_FILTER,
                   "status: '%s' is not a status code, a class like 4xx, or 'error'",
                   shown(s, len, buf));
}

static reqlog_err set_status(reqlog_filter *f, const char *v, char **cause) {
  status_set st;
  memcpy(st.codes, f->codes, sizeof st.codes);
  st.classes = f->classes;
  st.error = f->status_error;
  reqlog_err err = each_item("status", v, &st, status_item, cause);
  if (err != REQLOG_OK)
    return err;
  memcpy(f->codes, st.codes, sizeof f->codes);
  f->classes = st.classes;
  f->status_error = st.error;
  return REQLOG_OK;
}

typedef struct method_set {
  char (*methods)[METHOD_MAX + 1];
  size_t n;
} method_set;

static reqlog_err method_item(void *ctx, const char *s, size_t len, char **cause) {
  method_set *ms = ctx;
  char buf[SHOWN_MAX + 4];
  if (len > METHOD_MAX)
    return util_fail(cause, REQLOG_ERR_FILTER, "method: '%s' is longer than %d characters",
                     shown(s, len, buf), METHOD_MAX);
  char m[METHOD_MAX + 1];
  for (size_t i = 0; i < len; i++) {
    if (!util_is_tchar((unsigned char)s[i]))
      return util_fail(cause, REQLOG_ERR_FILTER, "method: '%s' is not an HTTP method",
                       shown(s, len, buf));
    m[i] = upper(s[i]);
  }
  m[len] = '\0';
  for (size_t i = 0; i < ms->n; i++)
    if (strcmp(ms->methods[i], m) == 0)
      return REQLOG_OK;
  if (ms->n == METHODS_MAX)
    return util_fail(cause, REQLOG_ERR_FILTER, "method: more than %d methods", METHODS_MAX);
  memcpy(ms->methods[ms->n++], m, len + 1);
  return REQLOG_OK;
}

static reqlog_err set_method(reqlog_filter *f, const char *v, char **cause) {
  char methods[METHODS_MAX][METHOD_MAX + 1];
  memcpy(methods, f->methods, sizeof methods);
  method_set ms = {methods, f->nmethods};
  reqlog_err err = each_item("method", v, &ms, method_item, cause);
  if (err != REQLOG_OK)
    return err;
  memcpy(f->methods, methods, sizeof methods);
  f->nmethods = ms.n;
  return REQLOG_OK;
}

/* Stores a copy of V in *DST. */
static reqlog_err keep(char **dst, const char *v, char **cause) {
  char *copy = util_strdup(v);
  if (!copy)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  free(*dst);
  *dst = copy;
  return REQLOG_OK;
}

static reqlog_err set_path(reqlog_filter *f, const char *v, char **cause) {
  if (strlen(v) > PATH_MAX_LEN)
    return util_fail(cause, REQLOG_ERR_FILTER, "path: longer than %d bytes", PATH_MAX_LEN);
  return keep(&f->path, v, cause);
}

static reqlog_err set_host(reqlog_filter *f, const char *v, char **cause) {
  char buf[SHOWN_MAX + 4];
  size_t len = strlen(v);
  if (len > HOST_MAX)
    return util_fail(cause, REQLOG_ERR_FILTER, "host: longer than %d bytes", HOST_MAX);
  for (size_t i = 0; i < len; i++)
    if (is_space(v[i]) || is_control(v[i]) || v[i] == '/')
      return util_fail(cause, REQLOG_ERR_FILTER,
                       "host: '%s' is not a host name (like api.example.com)",
                       shown(v, len, buf));
  reqlog_err err = keep(&f->host, v, cause);
  if (err == REQLOG_OK)
    for (char *p = f->host; *p; p++)
      *p = lower(*p);
  return err;
}

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, as reqlog_key_fingerprint() writes it */

static bool all_hex(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!is_hex(s[i]))
      return false;
  return true;
}

/* Accepts the three forms a user can know without the key itself and keeps them in the
 * form compared with c.key:
 *   KEY_FULL   "…abcd#3f2a9c1e" (also "...abcd#…", "abcd#…", "Bearer …abcd#…", and
 *              "…#3f2a9c1e", the fingerprint of a key too short to show its tail)
 *   KEY_HASH   "#3f2a9c1e"      (from "3f2a9c1e" or "#3f2a9c1e")
 *   KEY_LAST4  "…abcd#"         (from "abcd" or "…abcd")
 * Hex is kept lower-case, as fingerprints are written. The value is never repeated in
 * an error: a user who pasted the key itself must not find it in a log. */
static reqlog_err set_key(reqlog_filter *f, const char *v, char **cause) {
  static const char bad[] =
      "key: not a key fingerprint (like \xe2\x80\xa6" "abcd#3f2a9c1e), its hash (3f2a9c1e) "
      "or the key's last four characters (abcd); the value is not repeated here in case "
      "it is a key";
  const char *s = v;
  if (strncmp(s, "Bearer ", 7) == 0 || strncmp(s, "bearer ", 7) == 0) {
    s += 7;
    while (is_space(*s))
      s++;
  }
  size_t len = strlen(s);
  for (size_t i = 0; i < len; i++)
    if (is_space(s[i]) || is_control(s[i]))
      return util_fail(cause, REQLOG_ERR_FILTER, "%s", bad);

  const char *hash = NULL;
  if (len == 8 && all_hex(s, 8))
    hash = s;
  else if (len == 9 && s[0] == '#' && all_hex(s + 1, 8))
    hash = s + 1;
  if (hash) {
    char norm[10] = "#";
    for (int i = 0; i < 8; i++)
      norm[i + 1] = lower(hash[i]);
    f->key_kind = KEY_HASH;
    return keep(&f->key, norm, cause);
  }

  const char *tail = s; /* without the leading ellipsis */
  bool ellipsis = strncmp(tail, ELLIPSIS, 3) == 0 || strncmp(tail, "...", 3) == 0;
  if (ellipsis)
    tail += 3;
  size_t tlen = strlen(tail);
  /* The hash is the last 9 characters; the part before it may be empty ("…#3f2a9c1e",
   * a key too short to show its tail) or itself hold a '#'. */
  const char *mark = tlen >= 9 ? tail + tlen - 9 : NULL;
  char *norm = NULL;
  if (mark && *mark == '#' && all_hex(mark + 1, 8) && (mark > tail || ellipsis)) {
    f->key_kind = KEY_FULL;
    norm = malloc(3 + tlen + 1);
    if (norm) {
      memcpy(norm, ELLIPSIS, 3);
      memcpy(norm + 3, tail, tlen + 1);
      for (char *p = norm + 3 + (mark - tail) + 1; *p; p++)
        *p = lower(*p);
    }
  } else if (utf8_chars(tail) == 4) {
    f->key_kind = KEY_LAST4;
    norm = malloc(3 + tlen + 2);
    if (norm) {
      memcpy(norm, ELLIPSIS, 3);
      memcpy(norm + 3, tail, tlen);
      memcpy(norm + 3 + tlen, "#", 2);
    }
  } else {
    return util_fail(cause, REQLOG_ERR_FILTER, "%s", bad);
  }
  if (!norm)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  free(f->key);
  f->key = norm;
  return REQLOG_OK;
}

/* Checks that since is not later than until when both are known now: both absolute
 * times, or both ages. NAME is the one being set, for the message. */
static reqlog_err check_order(const reqlog_filter *f, const char *name, char **cause) {
  const time_bound *s = &f->since, *u = &f->until;
  bool later;
  if (!s->set || !u->set)
    return REQLOG_OK;
  if (!s->relative && !u->relative)
    later = s->us > u->us;
  else if (s->relative && u->relative)
    later = s->us < u->us; /* a younger age is a later time */
  else
    return REQLOG_OK;
  if (!later)
    return REQLOG_OK;
  if (strcmp(name, "since") == 0)
    return util_fail(cause, REQLOG_ERR_FILTER, "since: '%s' is later than until: '%s'",
                     s->text, u->text);
  return util_fail(cause, REQLOG_ERR_FILTER, "until: '%s' is earlier than since: '%s'",
                   u->text, s->text);
}

static reqlog_err set_time(reqlog_filter *f, time_bound *tb, const char *name,
                           const char *v, char **cause) {
  time_bound t = {.set = true};
  if (reqlog_parse_duration(v, &t.us) == REQLOG_OK) {
    t.relative = true;
  } else if (reqlog_parse_time(v, 0, &t.us) != REQLOG_OK) {
    char buf[SHOWN_MAX + 4];
    return util_fail(cause, REQLOG_ERR_FILTER,
                     "%s: '%s' is not a time (like 2026-11-27 or 2026-11-27T21:04:05Z) "
                     "or an age (like 15m, 24h, 7d)", name, shown(v, strlen(v), buf));
  }
  snprintf(t.text, sizeof t.text, "%.*s", (int)(sizeof t.text - 1), v);
  time_bound old = *tb;
  *tb = t;
  reqlog_err err = check_order(f, name, cause);
  if (err != REQLOG_OK)
    *tb = old;
  return err;
}

static reqlog_err set_since(reqlog_filter *f, const char *v, char **cause) {
  return set_time(f, &f->since, "since", v, cause);
}

static reqlog_err set_until(reqlog_filter *f, const char *v, char **cause) {
  return set_time(f, &f->until, "until", v, cause);
}

/* A non-negative decimal number of milliseconds, exactly (no floating point), rounded
 * half up to whole microseconds. */
static reqlog_err set_min_ms(reqlog_filter *f, const char *v, char **cause) {
  const char *p = v;
  int64_t ms = 0;
  int ndigits = 0;
  bool too_big = false;
  for (; is_digit(*p); p++, ndigits++) {
    if (ms > (INT64_MAX / 1000 - 1 - (*p - '0')) / 10)
      too_big = true;
    else
      ms = ms * 10 + (*p - '0');
  }
  int64_t frac = 0;
  if (*p == '.') {
    p++;
    int n = 0;
    for (; is_digit(*p); p++, n++, ndigits++) {
      if (n < 3)
        frac = frac * 10 + (*p - '0');
      else if (n == 3 && *p >= '5')
        frac++;
    }
    for (; n < 3; n++)
      frac *= 10;
  }
  char buf[SHOWN_MAX + 4];
  if (*p || ndigits == 0)
    return util_fail(cause, REQLOG_ERR_FILTER,
                     "min_ms: '%s' is not a number of milliseconds (like 250 or 12.5)",
                     shown(v, strlen(v), buf));
  if (too_big)
    return util_fail(cause, REQLOG_ERR_FILTER, "min_ms: '%s' is too large",
                     shown(v, strlen(v), buf));
  f->min_us = ms * 1000 + frac;
  return REQLOG_OK;
}

static reqlog_err set_q(reqlog_filter *f, const char *v, char **cause) {
  if (strlen(v) > Q_MAX_LEN)
    return util_fail(cause, REQLOG_ERR_FILTER, "q: longer than %d bytes", Q_MAX_LEN);
  int words = 0;
  for (const char *p = v; *p;) {
    while (is_space(*p))
      p++;
    if (!*p)
      break;
    words++;
    while (*p && !is_space(*p))
      p++;
  }
  if (words > Q_MAX_WORDS)
    return util_fail(cause, REQLOG_ERR_FILTER, "q: more than %d words", Q_MAX_WORDS);
  return keep(&f->q, v, cause);
}

static reqlog_err set_field(reqlog_filter *f, const char *v, char **cause) {
  if (utf8_chars(v) > FIELD_MAX)
    return util_fail(cause, REQLOG_ERR_FILTER, "field: longer than %d characters",
                     FIELD_MAX);
  return keep(&f->field, v, cause);
}

/* ------------------------------------------------------------------ SQL */

static int status_branch_sql(const reqlog_filter *f, size_t branch, sqlq *q);

static void sql_status(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  /* One item alone is its branch: `c.status / 100 = k` (an equality on calls_class,
   * 002_stats.sql, whose entries for one k come in id order, so the newest page needs
   * no sort), `c.status = code` or `c.status IS NULL`. */
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

static void sql_path(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  const char *v = f->path;
  const char *star = strchr(v, '*');
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

static void sql_key(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  switch (f->key_kind) {
  case KEY_FULL:
    sqlq_add(q, "c.key = ");
    sqlq_text(q, f->key);
    break;
  case KEY_HASH:
    /* The hash is always the last 9 characters ("#" and 8 hex). */
    sqlq_add(q, "substr(c.key, -9) = ");
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
  while (is_space(*s))
    s++;
  if (!*s)
    return NULL;
  const char *e = s;
  while (*e && !is_space(*e))
    e++;
  *len = (size_t)(e - s);
  *p = e;
  return s;
}

/* A word the trigram index can find: at least 3 characters (UTF-8 lead bytes counted).
 * Shorter words are looked for by substring in every row. */
static bool indexable(const char *w, size_t len) {
  size_t chars = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)w[i] & 0xC0) != 0x80)
      chars++;
  return chars >= 3;
}

/* WORD (lower-cased) is a substring of the URL or of a text body. */
static void sql_word_scan(sqlq *q, const char *w, size_t len) {
  static const char *const cols[] = {
    "lower(c.url)",
    "lower(CASE WHEN typeof(c.request_body) = 'text' THEN c.request_body END)",
    "lower(CASE WHEN typeof(c.response_body) = 'text' THEN c.response_body END)",
  };
  char *lw = util_strndup(w, len);
  if (!lw) {
    q->oom = 1;
    return;
  }
  for (char *p = lw; *p; p++)
    *p = lower(*p);
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

/* The FTS5 query for the indexable words of TEXT: each word an FTS5 string ("..." with
 * '"' doubled, so no user text is ever FTS5 syntax), which the trigram tokenizer matches
 * as a case-insensitive substring, the words separated by spaces (implicit AND). NULL when no word is indexable (then
 * *none is set) or out of memory. */
static char *fts_query(const char *text, bool *none) {
  size_t cap = 4 * strlen(text) + 8;
  char *m = malloc(cap);
  *none = true;
  if (!m)
    return NULL;
  char *o = m;
  const char *p = text;
  for (;;) {
    size_t len;
    const char *w = next_word(&p, &len);
    if (!w)
      break;
    if (!indexable(w, len))
      continue;
    if (!*none)
      *o++ = ' ';
    *none = false;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
      if (w[i] == '"')
        *o++ = '"';
      *o++ = w[i];
    }
    *o++ = '"';
  }
  *o = '\0';
  if (*none) {
    free(m);
    return NULL;
  }
  return m;
}

/* Scan conditions, AND-ed, for the words of TEXT (only those the index cannot find when
 * UNINDEXABLE_ONLY). Appends nothing when there is no such word. */
static void sql_words_scan(sqlq *q, const char *text, bool unindexable_only,
                           const char *sep) {
  const char *p = text;
  for (;;) {
    size_t len;
    const char *w = next_word(&p, &len);
    if (!w)
      break;
    if (unindexable_only && indexable(w, len))
      continue;
    sqlq_add(q, sep);
    sql_word_scan(q, w, len);
    sep = " AND ";
  }
}

#define FTS_MARK FILTER_FTS_MARK

/* Rows up to the indexer's mark are found through calls_fts, rows above it by scanning;
 * the two halves are disjoint, and mean the same: every word a substring, case ignored
 * (ASCII case only in the scanned half). Words under 3 characters, which a trigram
 * index cannot see, are scanned for in both halves. PART says which half to emit: both
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
    sql_words_scan(q, f->q, false, "");
    sqlq_add(q, ")");
    return;
  }
  switch (part) {
  case FILTER_ALL:
    sqlq_add(q, "((c.id <= " FTS_MARK
                " AND c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ");
    sqlq_text(q, match);
    sqlq_add(q, ")");
    sql_words_scan(q, f->q, true, " AND ");
    sqlq_add(q, ") OR (c.id > " FTS_MARK);
    sql_words_scan(q, f->q, false, " AND ");
    sqlq_add(q, "))");
    break;
  case FILTER_FTS_PART:
    sqlq_add(q, "(1");
    sql_words_scan(q, f->q, true, " AND ");
    sqlq_add(q, ")");
    break;
  case FILTER_TAIL_PART:
    sqlq_add(q, "(c.id > " FTS_MARK);
    sql_words_scan(q, f->q, false, " AND ");
    sqlq_add(q, ")");
    break;
  }
  free(match);
}

static void sql_q(const reqlog_filter *f, int64_t now_us, sqlq *q) {
  sql_q_part(f, FILTER_ALL, q);
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
  sqlq_add(q, "c.id IN (SELECT call_id FROM call_fields WHERE field = ");
  sqlq_text(q, f->field);
  sqlq_add(q, ")");
}

/* ------------------------------------------------------------------ the table */

typedef struct filter_def {
  const char *name;
  bool repeatable;    /* setting it again adds to it */
  set_fn set;
  sql_fn sql;
} filter_def;

/* In the order of reqlog_filter_names(); the bit of filters[i] in `given` is 1 << i. */
static const filter_def filters[] = {
  {"status", true, set_status, sql_status},
  {"method", true, set_method, sql_method},
  {"path", false, set_path, sql_path},
  {"host", false, set_host, sql_host},
  {"key", false, set_key, sql_key},
  {"since", false, set_since, sql_since},
  {"until", false, set_until, sql_until},
  {"min_ms", false, set_min_ms, sql_min_ms},
  {"q", false, set_q, sql_q},
  {"field", false, set_field, sql_field},
};
#define NFILTERS (sizeof filters / sizeof filters[0])

static const char *const names[NFILTERS + 1] = {
  "status", "method", "path", "host", "key", "since", "until", "min_ms", "q", "field", NULL
};

static const filter_def *find(const char *name) {
  for (size_t i = 0; i < NFILTERS; i++)
    if (strcmp(filters[i].name, name) == 0)
      return &filters[i];
  return NULL;
}

/* ------------------------------------------------------------------ public */

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
  free(f->key);
  free(f->q);
  free(f->field);
  free(f);
}

reqlog_err reqlog_filter_set(reqlog_filter *f, const char *name, const char *value,
                             char **cause) {
  if (cause)
    *cause = NULL;
  if (!f || !name)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_filter_set: no filter or name");
  const filter_def *def = find(name);
  if (!def) {
    char buf[SHOWN_MAX + 4];
    return util_fail(cause, REQLOG_ERR_FILTER,
                     "unknown filter '%s' (known: status, method, path, host, key, since, "
                     "until, min_ms, q, field)", shown(name, strlen(name), buf));
  }
  unsigned bit = 1u << (def - filters);
  if (!def->repeatable && (f->given & bit))
    return util_fail(cause, REQLOG_ERR_FILTER, "%s: given twice", def->name);

  const char *s = value ? value : "";
  while (is_space(*s))
    s++;
  size_t len = strlen(s);
  while (len > 0 && is_space(s[len - 1]))
    len--;
  if (len == 0)
    return util_fail(cause, REQLOG_ERR_FILTER, "%s: empty value", def->name);
  char *v = util_strndup(s, len);
  if (!v)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  reqlog_err err = def->set(f, v, cause);
  free(v);
  if (err == REQLOG_OK)
    f->given |= bit;
  return err;
}

int reqlog_filter_is_name(const char *name) {
  return name && find(name) != NULL;
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

int filter_is_empty(const reqlog_filter *f) {
  return !f || f->given == 0;
}

/* The status items of F one by one, each alone: BRANCH-th of the classes (ascending),
 * then the exact codes outside them, then "error". Returns 0 when there is no such item. */
static int status_branch_sql(const reqlog_filter *f, size_t branch, sqlq *q) {
  size_t n = 0;
  for (int k = 1; k <= 5; k++)
    if ((f->classes & (1u << k)) && n++ == branch) {
      sqlq_add(q, "c.status / 100 = ");
      sqlq_int(q, k);
      return 1;
    }
  for (int c = 100; c < 600; c++)
    if (f->codes[c] && !(f->classes & (1u << (c / 100))) && n++ == branch) {
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
  if (!f || !(f->given & 1u))   /* status is filters[0] */
    return 0;
  size_t n = f->status_error ? 1 : 0;
  for (int k = 1; k <= 5; k++)
    n += (f->classes & (1u << k)) != 0;
  for (int c = 100; c < 600; c++)
    n += f->codes[c] && !(f->classes & (1u << (c / 100)));
  return n;
}

/* BRANCH: SIZE_MAX for the whole status filter, else that item alone. */
static void emit(const reqlog_filter *f, int64_t now_us, filter_part part, size_t branch,
                 sqlq *q) {
  if (filter_is_empty(f)) {
    sqlq_add(q, "1");
    return;
  }
  const char *sep = "";
  sqlq_add(q, "(");
  for (size_t i = 0; i < NFILTERS; i++) {
    if (!(f->given & (1u << i)))
      continue;
    sqlq_add(q, sep);
    if (filters[i].sql == sql_q)
      sql_q_part(f, part, q);
    else if (filters[i].sql == sql_status && branch != SIZE_MAX)
      status_branch_sql(f, branch, q);
    else
      filters[i].sql(f, now_us, q);
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

int filter_time_range(const reqlog_filter *f, int64_t now_us, int64_t *since_us,
                      int64_t *until_us) {
  *since_us = INT64_MIN;
  *until_us = INT64_MAX;
  if (!f)
    return 1;
  unsigned time_bits = 0;
  for (size_t i = 0; i < NFILTERS; i++)
    if (filters[i].sql == sql_since || filters[i].sql == sql_until)
      time_bits |= 1u << i;
  if (f->given & ~time_bits)
    return 0;
  if (f->since.set)
    *since_us = bound_us(&f->since, now_us);
  if (f->until.set)
    *until_us = bound_us(&f->until, now_us);
  return 1;
}
