/* snippet.c: reqlog_snippet(): what a recorded call sends, planned once from its row (the
 * headers sent again, the key left to $REQLOG_API_KEY, what was redacted or cannot be
 * given back, said as notes), then written by the language's writer. */
#include "read/snippet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"

/* Headers the client sets itself, or meant for one hop. */
static const char *const skipped[] = {
  "host", "content-length", "connection", "transfer-encoding", "expect", "accept-encoding",
};

static const struct lang {
  const char *name;
  void (*write)(const snippet_plan *p, textbuf *t);
} langs[] = {
  {"curl", snippet_curl},     {"python", snippet_python}, {"node", snippet_node},
  {"php", snippet_php},       {"httpie", snippet_httpie}, {"go", snippet_go},
};
#define NLANGS (sizeof langs / sizeof langs[0])

const char *const *reqlog_snippet_langs(void) {
  static const char *const names[NLANGS + 1] = {"curl", "python", "node", "php", "httpie", "go",
                                                NULL};
  return names;
}

static int redacted(const char *v) {
  return strstr(v, "[REDACTED]") != NULL;
}

static void note(snippet_plan *p, const char *fmt, const char *arg) {
  if (p->nnotes < SNIPPET_NOTES_MAX)
    snprintf(p->notes[p->nnotes++], sizeof p->notes[0], fmt, arg);
}

static const char *str(const cJSON *row, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The header P is given for the pair H ([name, value]) of the row. */
static void plan_header(snippet_plan *p, const cJSON *h, char *left_out, size_t left_len) {
  const cJSON *n = cJSON_GetArrayItem(h, 0), *v = cJSON_GetArrayItem(h, 1);
  if (!cJSON_IsString(n) || !cJSON_IsString(v))
    return;
  const char *name = n->valuestring, *value = v->valuestring;
  if (strcasecmp(name, "authorization") == 0 && strncasecmp(value, "bearer", 6) == 0) {
    if (!p->key) {
      p->key = 1;
      p->key_at = (int)p->nheaders;
    }
    return;
  }
  if (strcasecmp(name, "accept-encoding") == 0) {
    p->compressed |= strstr(value, "gzip") || strstr(value, "deflate") || strstr(value, "br") ||
                     strstr(value, "zstd");
    return;
  }
  for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
    if (strcasecmp(name, skipped[i]) == 0)
      return;
  if (redacted(value) || !reqlog_is_token(name) || strcasecmp(name, "authorization") == 0) {
    size_t n_ = strlen(left_out);
    if (n_ + strlen(name) + 3 < left_len)
      snprintf(left_out + n_, left_len - n_, "%s%s", n_ ? ", " : "", name);
    return;
  }
  for (const char *c = value; *c; c++)
    if ((unsigned char)*c < ' ' && *c != '\t')
      return; /* a header value cannot hold a line break */
  if (p->nheaders < SNIPPET_HEADERS_MAX) {
    p->names[p->nheaders] = name;
    p->values[p->nheaders++] = value;
  }
}

/* Fills P from ROW; an error when the row has no method or URL. */
static reqlog_err plan(const cJSON *row, snippet_plan *p, char **cause) {
  memset(p, 0, sizeof *p);
  p->method = str(row, "method");
  p->url = str(row, "url");
  if (!p->method || !reqlog_is_token(p->method) || !p->url)
    return util_fail(cause, REQLOG_ERR_ARG, "snippet: the call has no usable method or URL");
  char left_out[200] = "";
  const cJSON *h;
  cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(row, "request_headers"))
    plan_header(p, h, left_out, sizeof left_out);
  if (!p->key && str(row, "key")) {
    p->key = 1;
    p->key_at = (int)p->nheaders;
  }
  if (left_out[0])
    note(p, "redacted when recorded, left out: %s", left_out);
  if (redacted(p->url))
    note(p, "the URL holds values redacted when recorded ([REDACTED])%s: put the real ones in", "");
  const cJSON *body = cJSON_GetObjectItemCaseSensitive(row, "request_body");
  if (cJSON_IsString(body) && body->valuestring[0]) {
    p->body = body->valuestring;
    if (redacted(p->body))
      note(p, "the body holds values redacted when recorded ([REDACTED])%s: put the real ones in",
           "");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "request_truncated")))
      note(p, "the stored request body was truncated%s: this is its beginning only", "");
  } else if (cJSON_IsObject(body)) {
    note(p, "the request body was binary and is not included%s", "");
  }
  return REQLOG_OK;
}

void snippet_notes(const snippet_plan *p, const char *mark, textbuf *t) {
  for (size_t i = 0; i < p->nnotes; i++) {
    tb_str(t, mark);
    tb_str(t, "note: ");
    tb_str(t, p->notes[i]);
    tb_byte(t, '\n');
  }
}

void snippet_shq(textbuf *t, const char *s) {
  tb_byte(t, '\'');
  for (; *s; s++) {
    if (*s == '\'')
      tb_str(t, "'\\''");
    else
      tb_byte(t, *s);
  }
  tb_byte(t, '\'');
}

reqlog_err reqlog_snippet(const cJSON *row, const char *lang, char **out, char **cause) {
  if (out)
    *out = NULL;
  if (!row || !lang || !out)
    return util_fail(cause, REQLOG_ERR_ARG, "snippet: no row, language or output");
  const struct lang *l = NULL;
  for (size_t i = 0; i < NLANGS; i++)
    if (strcmp(langs[i].name, lang) == 0)
      l = &langs[i];
  if (!l)
    return util_fail(cause, REQLOG_ERR_ARG,
                     "lang: '%.40s' is not one of curl, python, node, php, httpie, go", lang);
  snippet_plan p;
  reqlog_err err = plan(row, &p, cause);
  if (err != REQLOG_OK)
    return err;
  textbuf t = {0};
  l->write(&p, &t);
  tb_terminate(&t);
  if (t.nomem || !t.data) {
    free(t.data);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  *out = t.data;
  return REQLOG_OK;
}
