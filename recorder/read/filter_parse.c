/* filter_parse.c: a filter's text value checked and kept in the filter (docs/design.md
 * §3 FILTERS), once, when it is set: one set_<name>() a filter of FILTER_LIST, and the
 * error message naming the filter when the value is bad. filter_sql.c turns what is
 * kept here into SQL.
 *
 * Meaning of each filter (all given filters are AND-ed):
 *   status  items OR-ed: an exact code 100..599, a class 1xx..5xx, or "error" (no
 *           response: status IS NULL). Setting it again adds items.
 *   method  HTTP methods, compared case-insensitively. Setting it again adds methods.
 *   path    "/..." is a prefix (an index range on calls_path); anything else a substring;
 *           '*' stands for any characters (GLOB, the other metacharacters literal).
 *   host    exact, case-insensitive.
 *   origin  exact (bytes), one name: an origin may hold any text but control
 *           characters, commas included, so a list could not be told from a name.
 *   key     a fingerprint "…abcd#3f2a9c1e" ("..." for the ellipsis, or none), its hash
 *           "3f2a9c1e" / "#3f2a9c1e", or the key's last four characters "abcd".
 *   since   started_at >= the time; until: started_at < the time. An age ("15m") is kept
 *           as an age and resolved against the clock each time the SQL is built.
 *   min_ms  duration >= that many milliseconds (decimals allowed, rounded to 1 µs).
 *   q       every word is found in the URL or a text body: through calls_fts (word
 *           prefixes, as tokens) for rows the indexer has reached, by case-insensitive
 *           substring for the rows above its mark.
 *   field   the call's 422 response named that field in "errors".
 *   tag     the call has that tag (reqlog_annotate(), notes.h), exactly.
 *   pinned  1 / true / yes: the call is pinned; 0 / false / no: it is not.
 *   replay_of  the call was replayed from that call id (reqlog_replay()).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/utf8.h"
#include "base/util.h"
#include "read/filter_int.h"
#include "read/notes.h"

enum {
  PATH_MAX_LEN = 2048,
  HOST_MAX = 255,
  FIELD_MAX = 200,    /* characters */
  Q_MAX_LEN = 1024,
  Q_MAX_WORDS = 32
};

/* ------------------------------------------------------------------ small helpers */

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

static bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char upper(char c) {
  return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool is_control(char c) {
  return (unsigned char)c < 0x20 || c == 0x7f;
}

const char *filter_shown(const char *s, size_t len, char out[FILTER_SHOWN_MAX + 4]) {
  size_t n = len > FILTER_SHOWN_MAX ? FILTER_SHOWN_MAX : len;
  while (n < len && n > 0 && utf8_is_cont((unsigned char)s[n]))
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
    while (s < e && filter_is_space(*s))
      s++;
    while (e > s && filter_is_space(e[-1]))
      e--;
    if (s == e) {
      char buf[FILTER_SHOWN_MAX + 4];
      return util_fail(cause, REQLOG_ERR_FILTER, "%s: empty item in '%s'", name,
                       filter_shown(v, strlen(v), buf));
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
  if (len == 3 && s[0] >= '1' && s[0] <= '5' && filter_lower(s[1]) == 'x' &&
      filter_lower(s[2]) == 'x') {
    st->classes |= 1u << (s[0] - '0');
    return REQLOG_OK;
  }
  if (len == 5 && filter_lower(s[0]) == 'e' && filter_lower(s[1]) == 'r' &&
      filter_lower(s[2]) == 'r' && filter_lower(s[3]) == 'o' && filter_lower(s[4]) == 'r') {
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
  char buf[FILTER_SHOWN_MAX + 4];
  return util_fail(cause, REQLOG_ERR_FILTER,
                   "status: '%s' is not a status code, a class like 4xx, or 'error'",
                   filter_shown(s, len, buf));
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
  char (*methods)[FILTER_METHOD_MAX + 1];
  size_t n;
} method_set;

static reqlog_err method_item(void *ctx, const char *s, size_t len, char **cause) {
  method_set *ms = ctx;
  char buf[FILTER_SHOWN_MAX + 4];
  if (len > FILTER_METHOD_MAX)
    return util_fail(cause, REQLOG_ERR_FILTER, "method: '%s' is longer than %d characters",
                     filter_shown(s, len, buf), FILTER_METHOD_MAX);
  char m[FILTER_METHOD_MAX + 1];
  for (size_t i = 0; i < len; i++) {
    if (!util_is_tchar((unsigned char)s[i]))
      return util_fail(cause, REQLOG_ERR_FILTER, "method: '%s' is not an HTTP method",
                       filter_shown(s, len, buf));
    m[i] = upper(s[i]);
  }
  m[len] = '\0';
  for (size_t i = 0; i < ms->n; i++)
    if (strcmp(ms->methods[i], m) == 0)
      return REQLOG_OK;
  if (ms->n == FILTER_METHODS_MAX)
    return util_fail(cause, REQLOG_ERR_FILTER, "method: more than %d methods",
                     FILTER_METHODS_MAX);
  memcpy(ms->methods[ms->n++], m, len + 1);
  return REQLOG_OK;
}

static reqlog_err set_method(reqlog_filter *f, const char *v, char **cause) {
  char methods[FILTER_METHODS_MAX][FILTER_METHOD_MAX + 1];
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
  char buf[FILTER_SHOWN_MAX + 4];
  size_t len = strlen(v);
  if (len > HOST_MAX)
    return util_fail(cause, REQLOG_ERR_FILTER, "host: longer than %d bytes", HOST_MAX);
  for (size_t i = 0; i < len; i++)
    if (filter_is_space(v[i]) || is_control(v[i]) || v[i] == '/')
      return util_fail(cause, REQLOG_ERR_FILTER,
                       "host: '%s' is not a host name (like api.example.com)",
                       filter_shown(v, len, buf));
  reqlog_err err = keep(&f->host, v, cause);
  if (err == REQLOG_OK)
    for (char *p = f->host; *p; p++)
      *p = filter_lower(*p);
  return err;
}

static reqlog_err set_origin(reqlog_filter *f, const char *v, char **cause) {
  if (!util_is_origin(v))
    return util_fail(cause, REQLOG_ERR_FILTER,
                     "origin: not an origin name (at most %d bytes of UTF-8 text, no "
                     "control character)", UTIL_ORIGIN_MAX);
  return keep(&f->origin, v, cause);
}

/* As the writer takes a request id (base/reqid.h): 1 to 256 bytes, no control character. */
static reqlog_err set_request_id(reqlog_filter *f, const char *v, char **cause) {
  size_t len = strlen(v);
  bool ok = len > 0 && len <= 256;
  for (size_t i = 0; ok && i < len; i++)
    ok = (unsigned char)v[i] >= 0x20 && v[i] != 0x7f;
  if (!ok)
    return util_fail(cause, REQLOG_ERR_FILTER,
                     "request_id: not a request id (1 to 256 bytes, no control character)");
  return keep(&f->request_id, v, cause);
}

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, as reqlog_key_fingerprint() writes it */

static bool all_hex(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!is_hex(s[i]))
      return false;
  return true;
}

/* The stored form of a fingerprint ("…abcd#3f2a9c1e") or a key's last four ("…abcd#"),
 * given TAIL (the value without a leading ellipsis) and whether ELLIPSIS led it, with
 * its *KIND (malloc'd). NULL with *MALFORMED set when TAIL is neither; NULL alone when
 * memory ran out. */
static char *key_tail_form(const char *tail, bool ellipsis, key_kind *kind, bool *malformed) {
  size_t tlen = strlen(tail);
  /* The hash is the last 9 characters; the part before it may be empty ("…#3f2a9c1e",
   * a key too short to show its tail) or itself hold a '#'. */
  const char *mark = tlen >= 9 ? tail + tlen - 9 : NULL;
  char *norm = NULL;
  *malformed = false;
  if (mark && *mark == '#' && all_hex(mark + 1, 8) && (mark > tail || ellipsis)) {
    *kind = KEY_FULL;
    norm = malloc(3 + tlen + 1);
    if (norm) {
      memcpy(norm, ELLIPSIS, 3);
      memcpy(norm + 3, tail, tlen + 1);
      for (char *p = norm + 3 + (mark - tail) + 1; *p; p++)
        *p = filter_lower(*p);
    }
  } else if (utf8_chars(tail, tlen) == 4) {
    *kind = KEY_LAST4;
    norm = malloc(3 + tlen + 2);
    if (norm) {
      memcpy(norm, ELLIPSIS, 3);
      memcpy(norm + 3, tail, tlen);
      memcpy(norm + 3 + tlen, "#", 2);
    }
  } else {
    *malformed = true;
  }
  return norm;
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
    while (filter_is_space(*s))
      s++;
  }
  size_t len = strlen(s);
  for (size_t i = 0; i < len; i++)
    if (filter_is_space(s[i]) || is_control(s[i]))
      return util_fail(cause, REQLOG_ERR_FILTER, "%s", bad);

  const char *hash = NULL;
  if (len == 8 && all_hex(s, 8))
    hash = s;
  else if (len == 9 && s[0] == '#' && all_hex(s + 1, 8))
    hash = s + 1;
  if (hash) {
    char norm[10] = "#";
    for (int i = 0; i < 8; i++)
      norm[i + 1] = filter_lower(hash[i]);
    f->key_kind = KEY_HASH;
    return keep(&f->key, norm, cause);
  }

  const char *tail = s; /* without the leading ellipsis */
  bool ellipsis = strncmp(tail, ELLIPSIS, 3) == 0 || strncmp(tail, "...", 3) == 0;
  if (ellipsis)
    tail += 3;
  key_kind kind;
  bool malformed;
  char *norm = key_tail_form(tail, ellipsis, &kind, &malformed);
  if (malformed)
    return util_fail(cause, REQLOG_ERR_FILTER, "%s", bad);
  if (!norm)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  f->key_kind = kind;
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
    char buf[FILTER_SHOWN_MAX + 4];
    return util_fail(cause, REQLOG_ERR_FILTER,
                     "%s: '%s' is not a time (like 2026-11-27 or 2026-11-27T21:04:05Z) "
                     "or an age (like 15m, 24h, 7d)", name, filter_shown(v, strlen(v), buf));
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
  char buf[FILTER_SHOWN_MAX + 4];
  if (*p || ndigits == 0)
    return util_fail(cause, REQLOG_ERR_FILTER,
                     "min_ms: '%s' is not a number of milliseconds (like 250 or 12.5)",
                     filter_shown(v, strlen(v), buf));
  if (too_big)
    return util_fail(cause, REQLOG_ERR_FILTER, "min_ms: '%s' is too large",
                     filter_shown(v, strlen(v), buf));
  f->min_us = ms * 1000 + frac;
  return REQLOG_OK;
}

static reqlog_err set_q(reqlog_filter *f, const char *v, char **cause) {
  if (strlen(v) > Q_MAX_LEN)
    return util_fail(cause, REQLOG_ERR_FILTER, "q: longer than %d bytes", Q_MAX_LEN);
  int words = 0;
  for (const char *p = v; *p;) {
    while (filter_is_space(*p))
      p++;
    if (!*p)
      break;
    words++;
    while (*p && !filter_is_space(*p))
      p++;
  }
  if (words > Q_MAX_WORDS)
    return util_fail(cause, REQLOG_ERR_FILTER, "q: more than %d words", Q_MAX_WORDS);
  return keep(&f->q, v, cause);
}

static reqlog_err set_field(reqlog_filter *f, const char *v, char **cause) {
  if (utf8_chars(v, strlen(v)) > FIELD_MAX)
    return util_fail(cause, REQLOG_ERR_FILTER, "field: longer than %d characters",
                     FIELD_MAX);
  return keep(&f->field, v, cause);
}

static reqlog_err set_tag(reqlog_filter *f, const char *v, char **cause) {
  char buf[FILTER_SHOWN_MAX + 4];
  if (!notes_tag_ok(v, strlen(v)))
    return util_fail(cause, REQLOG_ERR_FILTER,
                     "tag: '%s' is not a tag (1 to %d of the characters A-Z a-z 0-9 . _ - : "
                     "/ +)", filter_shown(v, strlen(v), buf), NOTES_TAG_MAX);
  return keep(&f->tag, v, cause);
}

static reqlog_err set_pinned(reqlog_filter *f, const char *v, char **cause) {
  static const char *const yes[] = {"1", "true", "yes"}, *const no[] = {"0", "false", "no"};
  for (size_t i = 0; i < 3; i++) {
    if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
      f->pinned = strcasecmp(v, yes[i]) == 0;
      return REQLOG_OK;
    }
  }
  char buf[FILTER_SHOWN_MAX + 4];
  return util_fail(cause, REQLOG_ERR_FILTER, "pinned: '%s' is not 1 (pinned) or 0 (not pinned)",
                   filter_shown(v, strlen(v), buf));
}

static reqlog_err set_replay_of(reqlog_filter *f, const char *v, char **cause) {
  int64_t id = 0;
  const char *p = v[0] == '#' ? v + 1 : v;
  for (; *p >= '0' && *p <= '9' && id <= (INT64_MAX - 9) / 10; p++)
    id = id * 10 + (*p - '0');
  char buf[FILTER_SHOWN_MAX + 4];
  if (*p || id <= 0)
    return util_fail(cause, REQLOG_ERR_FILTER, "replay_of: '%s' is not a call id",
                     filter_shown(v, strlen(v), buf));
  f->replay_of = id;
  return REQLOG_OK;
}

/* ------------------------------------------------------------------ by filter_id */

#define FILTER_SETTER_ENTRY(name, ...) [FILTER_##name] = set_##name,
/* set_<name>() of each filter, by filter_id. */
static const set_fn setters[FILTER_COUNT] = {FILTER_LIST(FILTER_SETTER_ENTRY)};
#undef FILTER_SETTER_ENTRY

reqlog_err filter_parse(reqlog_filter *f, filter_id id, const char *v, char **cause) {
  return setters[id](f, v, cause);
}
