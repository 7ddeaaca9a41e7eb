/* snippet.h: a recorded call as code that makes it again (reqlog_snippet(), reqlog.h): the
 * one plan of what goes (snippet.c) and a writer per language (snippet_shell.c: curl and
 * HTTPie; snippet_code.c: Python requests, JavaScript fetch, PHP curl, Go net/http). */
#ifndef REQLOG_READ_SNIPPET_H
#define REQLOG_READ_SNIPPET_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "base/textbuf.h"

/* The environment variable the key is left to: the key is never in a row. */
#define SNIPPET_KEY_ENV "REQLOG_API_KEY"

enum { SNIPPET_HEADERS_MAX = 64, SNIPPET_NOTES_MAX = 6 };

/* What the code sends, from the row: METHOD to URL, the headers that are sent again
 * (NAME: VALUE, in order), the key as "Authorization: Bearer $REQLOG_API_KEY" when the
 * call carried one (KEY_AT: its place among the headers), a compressed answer asked for,
 * the text body (NULL: none), and NOTES: comment lines (without the comment mark) on
 * what could not be given back as recorded. */
typedef struct snippet_plan {
  const char *method, *url;
  const char *names[SNIPPET_HEADERS_MAX], *values[SNIPPET_HEADERS_MAX];
  size_t nheaders;
  int key, key_at;
  int compressed;
  const char *body;
  char notes[SNIPPET_NOTES_MAX][200];
  size_t nnotes;
} snippet_plan;

/* The writers: the code for P into T, comments starting with COMMENT ("# ", "// "). */
void snippet_curl(const snippet_plan *p, textbuf *t);
void snippet_httpie(const snippet_plan *p, textbuf *t);
void snippet_python(const snippet_plan *p, textbuf *t);
void snippet_node(const snippet_plan *p, textbuf *t);
void snippet_php(const snippet_plan *p, textbuf *t);
void snippet_go(const snippet_plan *p, textbuf *t);

/* P's notes as comment lines starting with MARK, each ended by a newline. */
void snippet_notes(const snippet_plan *p, const char *mark, textbuf *t);

/* S in POSIX shell single quotes: 'it'\''s'. */
void snippet_shq(textbuf *t, const char *s);

#endif
