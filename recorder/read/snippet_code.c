/* snippet_code.c: a recorded call as a small program (snippet.h): Python requests,
 * JavaScript fetch (Node 18 or a browser console), PHP's curl extension and Go's
 * net/http. Recorded text goes into string literals only: JSON's escaping (tb_json_string)
 * is a valid double-quoted literal in Python, JavaScript and Go; PHP gets single quotes
 * with \ and ' escaped. The key is read from the environment, never written. */
#include "read/snippet.h"

#include <stdlib.h>

#define Q(t, s) tb_json_string(t, s)

/* Header I of P ("Authorization" with the key at KEY_AT), calling EACH(T, NAME, VALUE,
 * IS_KEY) in order: VALUE NULL for the key's header. */
static void each_header(const snippet_plan *p, textbuf *t,
                        void (*each)(textbuf *t, const char *name, const char *value)) {
  for (size_t i = 0; i <= p->nheaders; i++) {
    if (p->key && (size_t)p->key_at == i)
      each(t, "Authorization", NULL);
    if (i < p->nheaders)
      each(t, p->names[i], p->values[i]);
  }
}

/* ------------------------------------------------------------------ Python */

static void py_header(textbuf *t, const char *name, const char *value) {
  tb_str(t, "        ");
  Q(t, name);
  tb_str(t, ": ");
  if (value)
    Q(t, value);
  else
    tb_str(t, "\"Bearer \" + os.environ[\"" SNIPPET_KEY_ENV "\"]");
  tb_str(t, ",\n");
}

void snippet_python(const snippet_plan *p, textbuf *t) {
  snippet_notes(p, "# ", t);
  tb_str(t, "import os\nimport requests\n\nresponse = requests.request(\n    ");
  Q(t, p->method);
  tb_str(t, ",\n    ");
  Q(t, p->url);
  tb_str(t, ",\n    headers={\n");
  each_header(p, t, py_header);
  tb_str(t, "    },\n");
  if (p->body) {
    tb_str(t, "    data=");
    Q(t, p->body);
    tb_str(t, ".encode(\"utf-8\"),\n");
  }
  tb_str(t, "    allow_redirects=False,\n)\nprint(response.status_code)\nprint(response.text)\n");
}

/* ------------------------------------------------------------------ JavaScript */

static void js_header(textbuf *t, const char *name, const char *value) {
  tb_str(t, "    ");
  Q(t, name);
  tb_str(t, ": ");
  if (value)
    Q(t, value);
  else
    tb_str(t, "\"Bearer \" + process.env." SNIPPET_KEY_ENV);
  tb_str(t, ",\n");
}

void snippet_node(const snippet_plan *p, textbuf *t) {
  snippet_notes(p, "// ", t);
  tb_str(t, "const response = await fetch(");
  Q(t, p->url);
  tb_str(t, ", {\n  method: ");
  Q(t, p->method);
  tb_str(t, ",\n  headers: {\n");
  each_header(p, t, js_header);
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
  each_header(p, t, php_header);
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

static void go_header(textbuf *t, const char *name, const char *value) {
  tb_str(t, "\treq.Header.Add(");
  Q(t, name);
  tb_str(t, ", ");
  if (value)
    Q(t, value);
  else
    tb_str(t, "\"Bearer \"+os.Getenv(\"" SNIPPET_KEY_ENV "\")");
  tb_str(t, ")\n");
}

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
  each_header(p, t, go_header);
  tb_str(t, "\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n"
            "\tdefer resp.Body.Close()\n\tout, _ := io.ReadAll(resp.Body)\n"
            "\tfmt.Println(resp.StatusCode)\n\tfmt.Println(string(out))\n}\n");
}
