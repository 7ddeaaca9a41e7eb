/* snippet_shell.c: a recorded call as a shell command (snippet.h): curl, and HTTPie's
 * `http`. Every recorded part (method, URL, headers, body) is single-quoted, so a pasted
 * command runs that program and nothing else; the key is left to the shell as
 * "$REQLOG_API_KEY". */
#include "read/snippet.h"

#include <string.h>

#define KEY_HEADER "\"Authorization: Bearer $" SNIPPET_KEY_ENV "\""

/* 'A' SEP 'B' as one single-quoted word: 'Name: value'. */
static void shq_pair(textbuf *t, const char *a, const char *sep, const char *b) {
  tb_byte(t, '\'');
  for (const char *parts[] = {a, sep, b, NULL}, **s = parts; *s; s++)
    for (const char *c = *s; *c; c++) {
      if (*c == '\'')
        tb_str(t, "'\\''");
      else
        tb_byte(t, *c);
    }
  tb_byte(t, '\'');
}

static void curl_header(textbuf *t, const char *name, const char *value) {
  tb_str(t, " \\\n  -H ");
  shq_pair(t, name, ": ", value);
}

void snippet_curl(const snippet_plan *p, textbuf *t) {
  tb_str(t, "curl -X ");
  snippet_shq(t, p->method);
  tb_byte(t, ' ');
  snippet_shq(t, p->url);
  for (size_t i = 0; i <= p->nheaders; i++) {
    if (p->key && (size_t)p->key_at == i)
      tb_str(t, " \\\n  -H " KEY_HEADER);
    if (i < p->nheaders)
      curl_header(t, p->names[i], p->values[i]);
  }
  if (p->compressed)
    tb_str(t, " \\\n  --compressed");
  if (p->body) {
    tb_str(t, " \\\n  --data-raw ");
    snippet_shq(t, p->body);
  }
  tb_byte(t, '\n');
  snippet_notes(p, "# ", t);
}

/* HTTPie reads the body from stdin (printf '%s' BODY | http ...), which every version
 * has; headers are request items Name:value (a header name is a token: it holds none of
 * HTTPie's separators). */
void snippet_httpie(const snippet_plan *p, textbuf *t) {
  if (p->body) {
    tb_str(t, "printf '%s' ");
    snippet_shq(t, p->body);
    tb_str(t, " | \\\n  http ");
  } else {
    tb_str(t, "http --ignore-stdin ");
  }
  snippet_shq(t, p->method);
  tb_byte(t, ' ');
  snippet_shq(t, p->url);
  for (size_t i = 0; i <= p->nheaders; i++) {
    if (p->key && (size_t)p->key_at == i)
      tb_str(t, " \\\n  \"Authorization:Bearer $" SNIPPET_KEY_ENV "\"");
    if (i < p->nheaders) {
      tb_str(t, " \\\n  ");
      shq_pair(t, p->names[i], ":", p->values[i]);
    }
  }
  tb_byte(t, '\n');
  snippet_notes(p, "# ", t);
}
