/* notes.c: the notes model (notes.h): tags and notes checked, a change applied to what a
 * call has (tags kept sorted and unique as one comma list), and the SQL of both
 * backends that reads and writes them. */
#include "read/notes.h"

#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "base/util.h"

int notes_tag_ok(const char *s, size_t len) {
  if (len == 0 || len > NOTES_TAG_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             (c && strchr("._-:/+", c));
    if (!ok)
      return 0;
  }
  return 1;
}

void notes_state_free(notes_state *s) {
  if (!s)
    return;
  free(s->tags);
  free(s->note);
  *s = (notes_state){0};
}

/* ------------------------------------------------------------------ tag lists */

typedef struct tag_list {
  char v[NOTES_TAGS_MAX * 2][NOTES_TAG_MAX + 1];
  size_t n;
} tag_list;

static int has_tag(const tag_list *l, const char *t) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], t) == 0)
      return 1;
  return 0;
}

/* Adds the comma items of TEXT (trimmed of blanks; empty items skipped) to L. With
 * CHECK, a bad tag or too many is an error; without (text read back from the database),
 * such items are skipped. */
static reqlog_err parse_tags(const char *text, tag_list *l, int check, char **cause) {
  const char *p = text;
  while (p && *p) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    const char *s = p;
    while (len > 0 && (*s == ' ' || *s == '\t')) {
      s++;
      len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
      len--;
    p = e ? e + 1 : NULL;
    if (len == 0)
      continue;
    if (!notes_tag_ok(s, len)) {
      if (!check)
        continue;
      return util_fail(cause, REQLOG_ERR_ARG,
                       "tags: '%.*s' is not a tag (1 to %d of the characters A-Z a-z 0-9 "
                       ". _ - : / +)", (int)(len > 64 ? 64 : len), s, NOTES_TAG_MAX);
    }
    char t[NOTES_TAG_MAX + 1];
    memcpy(t, s, len);
    t[len] = '\0';
    if (has_tag(l, t))
      continue;
    if (l->n >= sizeof l->v / sizeof l->v[0]) {
      if (!check)
        continue;
      return util_fail(cause, REQLOG_ERR_ARG, "tags: more than %d tags", NOTES_TAGS_MAX);
    }
    memcpy(l->v[l->n++], t, len + 1);
  }
  return REQLOG_OK;
}

static int cmp_tag(const void *a, const void *b) {
  return strcmp(a, b);
}

/* L sorted as one comma list (malloc'd), NULL when empty; *oom set on failure. */
static char *join_tags(tag_list *l, int *oom) {
  *oom = 0;
  if (l->n == 0)
    return NULL;
  qsort(l->v, l->n, sizeof l->v[0], cmp_tag);
  char *out = malloc(l->n * (NOTES_TAG_MAX + 1) + 1);
  if (!out) {
    *oom = 1;
    return NULL;
  }
  char *o = out;
  for (size_t i = 0; i < l->n; i++) {
    if (i)
      *o++ = ',';
    size_t n = strlen(l->v[i]);
    memcpy(o, l->v[i], n);
    o += n;
  }
  *o = '\0';
  return out;
}

/* The call's tags after A: OLD with A's tags added, removed, or instead. */
static reqlog_err new_tags(const char *old, const reqlog_annotation *a, char **out,
                           char **cause) {
  *out = NULL;
  tag_list *cur = calloc(1, sizeof *cur), *given = calloc(1, sizeof *given);
  reqlog_err err = cur && given ? REQLOG_OK : util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  if (err == REQLOG_OK)
    err = parse_tags(a->tags, given, 1, cause);
  if (err == REQLOG_OK && a->tags_op != REQLOG_TAGS_SET)
    parse_tags(old, cur, 0, NULL);
  if (err == REQLOG_OK && a->tags_op == REQLOG_TAGS_REMOVE) {
    size_t k = 0;
    for (size_t i = 0; i < cur->n; i++)
      if (!has_tag(given, cur->v[i]))
        memcpy(cur->v[k++], cur->v[i], sizeof cur->v[i]);
    cur->n = k;
  } else if (err == REQLOG_OK) {
    for (size_t i = 0; i < given->n && cur->n <= NOTES_TAGS_MAX; i++)
      if (!has_tag(cur, given->v[i]))
        memcpy(cur->v[cur->n++], given->v[i], sizeof given->v[i]);
  }
  if (err == REQLOG_OK && cur->n > NOTES_TAGS_MAX)
    err = util_fail(cause, REQLOG_ERR_ARG, "tags: a call has at most %d tags", NOTES_TAGS_MAX);
  int oom = 0;
  if (err == REQLOG_OK)
    *out = join_tags(cur, &oom);
  if (oom)
    err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  free(cur);
  free(given);
  return err;
}

/* ------------------------------------------------------------------ a change */

static reqlog_err check_note(const char *note, char **cause) {
  size_t n = strlen(note);
  if (n > NOTES_NOTE_MAX)
    return util_fail(cause, REQLOG_ERR_ARG, "note: longer than %d bytes", NOTES_NOTE_MAX);
  if (!utf8_valid((const unsigned char *)note, n))
    return util_fail(cause, REQLOG_ERR_ARG, "note: not UTF-8 text");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)note[i];
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
      return util_fail(cause, REQLOG_ERR_ARG,
                       "note: holds a control character (only tab and newline may be used)");
  }
  return REQLOG_OK;
}

reqlog_err notes_apply(const notes_state *old, const reqlog_annotation *a, notes_state *new_,
                       char **cause) {
  *new_ = (notes_state){0};
  if (!a)
    return util_fail(cause, REQLOG_ERR_ARG, "no change given");
  if (a->pin < -1 || a->pin > 1)
    return util_fail(cause, REQLOG_ERR_ARG, "pin: -1 (unchanged), 0 or 1");
  if (a->tags && (a->tags_op < REQLOG_TAGS_ADD || a->tags_op > REQLOG_TAGS_SET))
    return util_fail(cause, REQLOG_ERR_ARG, "tags: unknown operation");
  reqlog_err err = a->note ? check_note(a->note, cause) : REQLOG_OK;
  if (err != REQLOG_OK)
    return err;
  new_->pinned = a->pin >= 0 ? a->pin : old->pinned;
  if (a->tags)
    err = new_tags(old->tags, a, &new_->tags, cause);
  else if (old->tags && !(new_->tags = util_strdup(old->tags)))
    err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  const char *note = a->note ? a->note : old->note;
  if (err == REQLOG_OK && note && *note && !(new_->note = util_strdup(note)))
    err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  if (err != REQLOG_OK)
    notes_state_free(new_);
  return err;
}

/* ------------------------------------------------------------------ SQL */

reqlog_err notes_change(int64_t id, const reqlog_annotation *a, int64_t now_us,
                        sqlq_dialect dialect, const notes_ops *ops, void *ctx, char **cause) {
  notes_state old = {0}, now = {0};
  sqlq r = {.dialect = dialect};
  notes_read_sql(id, &r);
  reqlog_err err = ops->read(ctx, &r, &old, cause);
  sqlq_free(&r);
  if (err == REQLOG_ERR_DONE || err == REQLOG_ERR_NOTFOUND)
    err = util_fail(cause, REQLOG_ERR_NOTFOUND, "no call with id %lld", (long long)id);
  if (err == REQLOG_OK)
    err = notes_apply(&old, a, &now, cause);
  sqlq w[NOTES_WRITES];
  for (int i = 0; i < NOTES_WRITES; i++)
    w[i] = (sqlq){.dialect = dialect};
  if (err == REQLOG_OK)
    notes_write_sql(id, &now, now_us, w);
  for (int i = 0; i < NOTES_WRITES; i++) {
    if (err == REQLOG_OK && (w[i].sql.data || w[i].oom))
      err = ops->exec(ctx, &w[i], cause);
    sqlq_free(&w[i]);
  }
  notes_state_free(&old);
  notes_state_free(&now);
  return err;
}

void notes_read_sql(int64_t id, sqlq *q) {
  sqlq_add(q, "SELECT c.id, n.pinned, n.tags, n.note FROM calls AS c"
              " LEFT JOIN call_notes AS n ON n.call_id = c.id WHERE c.id = ");
  sqlq_int(q, id);
}

void notes_write_sql(int64_t id, const notes_state *s, int64_t now_us, sqlq q[NOTES_WRITES]) {
  sqlq_add(&q[0], "DELETE FROM call_tags WHERE call_id = ");
  sqlq_int(&q[0], id);
  tag_list *l = calloc(1, sizeof *l);
  if (!l) {
    q[1].oom = 1;
  } else {
    parse_tags(s->tags, l, 0, NULL);
    for (size_t i = 0; i < l->n; i++) {
      sqlq_add(&q[1], i ? ", (" : "INSERT INTO call_tags(tag, call_id) VALUES (");
      sqlq_text(&q[1], l->v[i]);
      sqlq_add(&q[1], ", ");
      sqlq_int(&q[1], id);
      sqlq_add(&q[1], ")");
    }
    free(l);
  }
  if (!s->pinned && !s->tags && !s->note) {
    sqlq_add(&q[2], "DELETE FROM call_notes WHERE call_id = ");
    sqlq_int(&q[2], id);
    return;
  }
  sqlq_add(&q[2], "INSERT INTO call_notes(call_id, pinned, tags, note, updated_at) VALUES (");
  sqlq_int(&q[2], id);
  sqlq_add(&q[2], ", ");
  sqlq_int(&q[2], s->pinned);
  sqlq_add(&q[2], ", ");
  sqlq_text(&q[2], s->tags);
  sqlq_add(&q[2], ", ");
  sqlq_text(&q[2], s->note);
  sqlq_add(&q[2], ", ");
  sqlq_int(&q[2], now_us);
  sqlq_add(&q[2], ") ON CONFLICT (call_id) DO UPDATE SET pinned = excluded.pinned,"
                  " tags = excluded.tags, note = excluded.note, updated_at = excluded.updated_at");
}
