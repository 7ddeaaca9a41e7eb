/* snippet_code.c: a recorded call as a small program (snippet.h): Python requests,
 * JavaScript fetch (Node 18 or a browser console), PHP's curl extension and Go's
 * net/http. Recorded text goes into string literals only: JSON's escaping (tb_json_string)
 * is a valid double-quoted literal in Python, JavaScript and Go; PHP gets single quotes
 * with \ and ' escaped. The key is read from the environment, never written. */
#include "read/snippet.h"

#include <stdlib.h>

#define Q(t, s) tb_json_string(t, s)

/* How a language writes one header a line: PRE "Name" SEP "value" POST, the key's value
 * written as KEY (an expression reading $REQLOG_API_KEY). */
typedef struct header_style {
  const char *pre, *sep, *post, *key;
} header_style;

/* P's headers in order, the key's Authorization at its place. */
static void header_lines(const snippet_plan *p, textbuf *t, const header_style *st) {
  for (size_t i = 0; i <= p->nheaders; i++) {
    int key = p->key && (size_t)p->key_at == i;
    for (int k = key ? 0 : 1; k < (i < p->nheaders ? 2 : 1); k++) {
      tb_str(t, st->pre);
      Q(t, k == 0 ? "Authorization" : p->names[i]);
      tb_str(t, st->sep);
      if (k == 0)
        tb_str(t, st->key);
      else
        Q(t, p->values[i]);
      tb_str(t, st->post);
    }
  }
}

/* ------------------------------------------------------------------ Python */

static const header_style py_headers = {
  "        ", ": ", ",\n", "\"Bearer \" + os.environ[\"" SNIPPET_KEY_ENV "\"]",
};

void snippet_python(const snippet_plan *p, textbuf *t) {
  snippet_notes(p, "# ", t);
  tb_str(t, "import os\nimport requests\n\nresponse = requests.request(\n    ");
  Q(t, p->method);
  tb_str(t, ",\n    ");
  Q(t, p->url);
  tb_str(t, ",\n    headers={\n");
  header_lines(p, t, &py_headers);
  tb_str(t, "    },\n");
  if (p->body) {
    tb_str(t, "    data=");
    Q(t, p->body);
    tb_str(t, ".encode(\"utf-8\"),\n");
  }
  tb_str(t, "    allow_redirects=False,\n)\nprint(response.status_code)\nprint(response.text)\n");
}

/* ------------------------------------------------------------------ JavaScript */

static const header_style js_headers = {
  "    ", ": ", ",\n", "\"Bearer \" + process.env." SNIPPET_KEY_ENV,
};

void snippet_node(const snippet_plan *p, textbuf *t) {
  snippet_notes(p, "// ", t);
  tb_str(t, "const response = await fetch(");
  Q(t, p->url);
  tb_str(t, ", {\n  method: ");
  Q(t, p->method);
  tb_str(t, ",\n  headers: {\n");
  header_lines(p, t, &js_headers);
  tb_str(t, "  },\n");
  if (p->body) {
    tb_str(t, "  body: ");
    Q(t, p->body);
    tb_str(t, ",\n");
  }
  tb_str(t, "  redirect: \"manual\",\n});\nconsole.log(response.status);\n"
            "console.log(await response.text());\n");
}

/* ------------------------------------------------------------------ PHP */

static void php_string(textbuf *t, const char *s) {
  tb_byte(t, '\'');
  for (; *s; s++) {
    if (*s == '\'' || *s == '\\')
      tb_byte(t, '\\');
    tb_byte(t, *s);
  }
  tb_byte(t, '\'');
}

static void php_header(textbuf *t, const char *name, const char *value) {
  tb_str(t, "        ");
  if (!value) {
    tb_str(t, "'Authorization: Bearer ' . getenv('" SNIPPET_KEY_ENV "'),\n");
    return;
  }
  /* "Name:" with an empty value would remove the header; "Name;" sends it empty */
  textbuf line = {0};
  tb_str(&line, name);
  tb_str(&line, *value ? ": " : ";");
  tb_str(&line, value);
  tb_terminate(&line);
  if (line.nomem || !line.data)
    t->nomem = 1;
  else
    php_string(t, line.data);
  free(line.data);
  tb_str(t, ",\n");
}

void snippet_php(const snippet_plan *p, textbuf *t) {
  tb_str(t, "<?php\n");
  snippet_notes(p, "// ", t);
  tb_str(t, "$ch = curl_init();\ncurl_setopt_array($ch, [\n    CURLOPT_URL => ");
  php_string(t, p->url);
  tb_str(t, ",\n    CURLOPT_CUSTOMREQUEST => ");
  php_string(t, p->method);
  tb_str(t, ",\n    CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,\n"
            "    CURLOPT_HTTPHEADER => [\n");
  for (size_t i = 0; i <= p->nheaders; i++) {
    if (p->key && (size_t)p->key_at == i)
      php_header(t, "Authorization", NULL);
    if (i < p->nheaders)
      php_header(t, p->names[i], p->values[i]);
  }
  tb_str(t, "    ],\n");
  if (p->body) {
    tb_str(t, "    CURLOPT_POSTFIELDS => ");
    php_string(t, p->body);
    tb_str(t, ",\n");
  }
  if (p->compressed)
    tb_str(t, "    CURLOPT_ENCODING => '',\n");
  tb_str(t, "    CURLOPT_RETURNTRANSFER => true,\n]);\n$body = curl_exec($ch);\n"
            "if ($body === false) {\n    fwrite(STDERR, curl_error($ch) . \"\\n\");\n"
            "    exit(1);\n}\necho curl_getinfo($ch, CURLINFO_RESPONSE_CODE), \"\\n\", $body, \"\\n\";\n"
            "curl_close($ch);\n");
}

/* ------------------------------------------------------------------ Go */

static const header_style go_headers = {
  "\treq.Header.Add(", ", ", ")\n", "\"Bearer \"+os.Getenv(\"" SNIPPET_KEY_ENV "\")",
};

void snippet_go(const snippet_plan *p, textbuf *t) {
  snippet_notes(p, "// ", t);
  tb_str(t, "package main\n\nimport (\n\t\"fmt\"\n\t\"io\"\n\t\"net/http\"\n\t\"os\"\n");
  if (p->body)
    tb_str(t, "\t\"strings\"\n");
  tb_str(t, ")\n\nfunc main() {\n\tvar body io.Reader\n");
  if (p->body) {
    tb_str(t, "\tbody = strings.NewReader(");
    Q(t, p->body);
    tb_str(t, ")\n");
  }
  tb_str(t, "\treq, err := http.NewRequest(");
  Q(t, p->method);
  tb_str(t, ", ");
  Q(t, p->url);
  tb_str(t, ", body)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n");
  header_lines(p, t, &go_headers);
  tb_str(t, "\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n"
            "\tdefer resp.Body.Close()\n\tout, _ := io.ReadAll(resp.Body)\n"
            "\tfmt.Println(resp.StatusCode)\n\tfmt.Println(string(out))\n}\n");
}
