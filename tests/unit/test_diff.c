/* test_diff.c: comparing two calls (recorder/read/diff*.c, reqlog_diff_rows).
 *
 * Plan:
 *   json_objects     keys added, removed, changed, nested; A's order then B's new keys;
 *                    equal documents give nothing; a change of type is a change
 *   json_arrays      arrays by index: a changed element, a longer and a shorter array;
 *                    a root array; keys that are not plain names are quoted
 *   json_volatile    created_at / updatedAt / request-id keys and date-times on both
 *                    sides are ignored with their reason; a date without a time and a
 *                    date that comes or goes are not; [REDACTED] and fingerprints are
 *   path_match       the ignore pattern: exact, subtree, a key's name anywhere, [*], *,
 *                    case, no match in the middle of a name
 *   text_lines       the line diff: same, removed, added, skips far from a change, CRLF
 *   rows             reqlog_diff_rows on two rows: fields, headers in another order and
 *                    case with repeats, the Date header ignored, JSON and text bodies,
 *                    binary bodies, timing never a difference, --ignore and --keep,
 *                    "equal" and the counts
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "read/diff.h"

/* The entries of diffing the JSON texts A and B (NULL: absent) under "body". */
static cJSON *json_diff(const char *a, const char *b, const diff_rules *rules) {
  cJSON *ja = a ? cJSON_Parse(a) : NULL, *jb = b ? cJSON_Parse(b) : NULL;
  assert_true(!a || ja);
  assert_true(!b || jb);
  cJSON *out = cJSON_CreateArray();
  assert_int_equal(diff_json(rules, "body", ja, jb, out), REQLOG_OK);
  cJSON_Delete(ja);
  cJSON_Delete(jb);
  return out;
}

/* The entries as "STATE PATH [ignored: WHY]" lines joined with "\n". */
static char *summary(const cJSON *entries) {
  static char buf[4096];
  buf[0] = '\0';
  const cJSON *e;
  cJSON_ArrayForEach(e, entries) {
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(e, "ignored"));
    size_t n = strlen(buf);
    snprintf(buf + n, sizeof buf - n, "%s%s %s%s%s", n ? "\n" : "",
             cJSON_GetStringValue(cJSON_GetObjectItem(e, "state")),
             cJSON_GetStringValue(cJSON_GetObjectItem(e, "path")), why ? " ignored: " : "",
             why ? why : "");
  }
  return buf;
}

static void expect_diff(const char *a, const char *b, const diff_rules *rules,
                        const char *want) {
  cJSON *out = json_diff(a, b, rules);
  const char *got = summary(out);
  if (strcmp(got, want) != 0)
    fprintf(stderr, "diff of\n  %s\n  %s\ngot:\n%s\nwant:\n%s\n", a ? a : "(absent)",
            b ? b : "(absent)", got, want);
  assert_string_equal(got, want);
  cJSON_Delete(out);
}

/* ------------------------------------------------------------------ JSON */

static void json_objects(void **state) {
  (void)state;
  expect_diff("{\"a\":1,\"b\":{\"c\":true}}", "{\"a\":1,\"b\":{\"c\":true}}", NULL, "");
  expect_diff("{\"a\":1,\"b\":2,\"c\":3}", "{\"d\":4,\"c\":3,\"a\":5}", NULL,
              "changed body.a\nremoved body.b\nadded body.d");
  expect_diff("{\"x\":{\"y\":{\"z\":1,\"w\":[1]}}}", "{\"x\":{\"y\":{\"z\":2,\"w\":[1]}}}",
              NULL, "changed body.x.y.z");
  expect_diff("{\"a\":1}", "{\"a\":\"1\"}", NULL, "changed body.a");
  expect_diff("{\"a\":{\"b\":1}}", "{\"a\":[1]}", NULL, "changed body.a");
  expect_diff("{\"a\":null}", "{}", NULL, "removed body.a");
  expect_diff(NULL, "{\"a\":1}", NULL, "added body");
  /* values are copied into the entry, absent as null */
  cJSON *out = json_diff("{\"n\":1}", "{\"n\":2,\"m\":{\"k\":[3]}}", NULL);
  const cJSON *first = cJSON_GetArrayItem(out, 0), *second = cJSON_GetArrayItem(out, 1);
  assert_int_equal(cJSON_GetObjectItem(first, "a")->valueint, 1);
  assert_int_equal(cJSON_GetObjectItem(first, "b")->valueint, 2);
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(second, "a")));
  char *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(second, "b"));
  assert_string_equal(b, "{\"k\":[3]}");
  free(b);
  cJSON_Delete(out);
}

static void json_arrays(void **state) {
  (void)state;
  expect_diff("[1,2,3]", "[1,5,3]", NULL, "changed body[1]");
  expect_diff("{\"l\":[1,2]}", "{\"l\":[1,2,3,4]}", NULL, "added body.l[2]\nadded body.l[3]");
  expect_diff("{\"l\":[{\"id\":1},{\"id\":2}]}", "{\"l\":[{\"id\":1}]}", NULL,
              "removed body.l[1]");
  expect_diff("{\"l\":[{\"n\":\"a\"},{\"n\":\"b\"}]}", "{\"l\":[{\"n\":\"a\"},{\"n\":\"c\"}]}",
              NULL, "changed body.l[1].n");
  expect_diff("{\"a.b\":1,\"\":2,\"q\\\"x\":3}", "{\"a.b\":2,\"\":3,\"q\\\"x\":4}", NULL,
              "changed body[\"a.b\"]\nchanged body[\"\"]\nchanged body[\"q\\\"x\"]");
}

static void json_volatile(void **state) {
  (void)state;
  expect_diff("{\"id\":1,\"created_at\":\"x\",\"updatedAt\":5,\"Request-Id\":\"a\"}",
              "{\"id\":1,\"created_at\":\"y\",\"updatedAt\":6,\"Request-Id\":\"b\"}", NULL,
              "changed body.created_at ignored: volatile value\n"
              "changed body.updatedAt ignored: volatile value\n"
              "changed body.Request-Id ignored: volatile value");
  expect_diff("{\"seen\":\"2026-11-27T21:04:05.123Z\",\"at\":\"Sun, 06 Nov 1994 08:49:37 GMT\"}",
              "{\"seen\":\"2026-11-28T01:00:00+10:00\",\"at\":\"Mon, 07 Nov 1994 08:49:37 GMT\"}",
              NULL,
              "changed body.seen ignored: date and time\n"
              "changed body.at ignored: date and time");
  /* a date alone is data; a timestamp that comes or goes is a change of shape */
  expect_diff("{\"date_of_birth\":\"2001-01-09\",\"x\":\"2026-11-27T21:04:05Z\"}",
              "{\"date_of_birth\":\"1969-09-30\",\"x\":\"soon\"}", NULL,
              "changed body.date_of_birth\nchanged body.x");
  expect_diff("{}", "{\"created_at\":\"2026-11-27T21:04:05Z\"}", NULL, "added body.created_at");
  expect_diff("{\"password\":\"[REDACTED]\",\"k\":\"Bearer …abcd#3f2a9c1e\"}",
              "{\"password\":\"other\",\"k\":\"Bearer …wxyz#00ff00ff\"}", NULL,
              "changed body.password ignored: redacted\nchanged body.k ignored: redacted");
  assert_true(diff_is_datetime("2026-11-27 21:04"));
  assert_false(diff_is_datetime("2026-11-27T21:04:05Zx"));
  assert_false(diff_is_datetime("2026-1-27T21:04:05Z"));
  assert_false(diff_is_redacted("#3f2a9c1"));
  /* --keep wins over the defaults, --ignore adds */
  const char *keep[] = {"created_at", NULL}, *ignore[] = {"l[*].n", "x", NULL};
  diff_rules rules = {ignore, keep};
  expect_diff("{\"created_at\":\"a\",\"l\":[{\"n\":1}],\"x\":{\"y\":1},\"y\":1}",
              "{\"created_at\":\"b\",\"l\":[{\"n\":2}],\"x\":{\"y\":2},\"y\":2}", &rules,
              "changed body.created_at\nchanged body.l[0].n ignored: ignored by request\n"
              "changed body.x.y ignored: ignored by request\nchanged body.y");
}

static void path_match(void **state) {
  (void)state;
  assert_true(diff_path_match("response.body.id", "response.body.id"));
  assert_true(diff_path_match("id", "response.body.data[3].id"));
  assert_true(diff_path_match("data", "response.body.data[3].id"));
  assert_true(diff_path_match("response.body", "response.body.data"));
  assert_true(diff_path_match("data[*].id", "response.body.data[12].id"));
  assert_true(diff_path_match("data[*]", "response.body.data[12]"));
  assert_true(diff_path_match("response.*.id", "response.body.id"));
  assert_true(diff_path_match("X-Runtime", "response.headers.x-runtime"));
  assert_true(diff_path_match("[\"a.b\"]", "request.body[\"a.b\"]"));
  assert_false(diff_path_match("id", "response.body.user_id"));
  assert_false(diff_path_match("id", "response.body.idx"));
  assert_false(diff_path_match("data[1]", "response.body.data[12]"));
  assert_false(diff_path_match("body.id", "response.body.ids"));
  assert_false(diff_path_match("", "response.body"));
  assert_false(diff_path_match("status", "response.body.statuses"));
  assert_true(diff_path_match("status", "status"));
}

/* ------------------------------------------------------------------ text */

static char *line_ops(const char *a, const char *b, int *changed) {
  static char buf[2048];
  cJSON *out = cJSON_CreateArray();
  assert_int_equal(diff_text(a, b, out, changed), REQLOG_OK);
  buf[0] = '\0';
  const cJSON *e;
  cJSON_ArrayForEach(e, out) {
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(e, "op"));
    size_t n = strlen(buf);
    if (strcmp(op, "skip") == 0)
      snprintf(buf + n, sizeof buf - n, "~%d ", cJSON_GetObjectItem(e, "count")->valueint);
    else
      snprintf(buf + n, sizeof buf - n, "%c%s ", op[0] == 's' ? '=' : op[0] == 'r' ? '-' : '+',
               cJSON_GetStringValue(cJSON_GetObjectItem(e, "text")));
  }
  cJSON_Delete(out);
  return buf;
}

static void text_lines(void **state) {
  (void)state;
  int changed = -1;
  assert_string_equal(line_ops("a\nb\nc", "a\nb\nc", &changed), "~3 "); /* no change: all folded */
  assert_int_equal(changed, 0);
  assert_string_equal(line_ops("a\nb\nc\n", "a\nx\nc\nd\n", &changed), "=a -b +x =c +d ");
  assert_int_equal(changed, 3);
  assert_string_equal(line_ops(NULL, "one\r\ntwo", &changed), "+one +two ");
  assert_int_equal(changed, 2);
  assert_string_equal(line_ops("x\r\n", "x\n", &changed), "~1 ");
  assert_int_equal(changed, 0);
  /* twenty same lines, one change in the middle: three lines of context each side */
  char a[256] = "", b[256] = "";
  for (int i = 0; i < 21; i++) {
    char l[16];
    snprintf(l, sizeof l, "%d\n", i);
    strcat(a, l);
    strcat(b, i == 10 ? "ten\n" : l);
  }
  assert_string_equal(line_ops(a, b, &changed), "~7 =7 =8 =9 -10 +ten =11 =12 =13 ~7 ");
  assert_int_equal(changed, 2);
  /* the common middle is found between moved lines */
  assert_string_equal(line_ops("p\nq\nr\ns", "q\nr\ns\np", &changed), "-p =q =r =s +p ");
}

/* ------------------------------------------------------------------ rows */

static cJSON *row(const char *text) {
  cJSON *r = cJSON_Parse(text);
  assert_non_null(r);
  return r;
}

static const cJSON *entry_at(const cJSON *list, const char *path) {
  const cJSON *e;
  cJSON_ArrayForEach(e, list) {
    if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "path")), path) == 0)
      return e;
  }
  return NULL;
}

static void rows(void **state) {
  (void)state;
  cJSON *a = row("{\"id\":1,\"method\":\"POST\",\"url\":\"http://h/p\",\"status\":201,"
                 "\"error\":null,\"duration_ms\":3.5,"
                 "\"timing\":{\"dns_ms\":1,\"total_ms\":3.5},"
                 "\"request_headers\":[[\"Accept\",\"application/json\"],[\"X-Tag\",\"b\"],"
                 "[\"X-Tag\",\"a\"],[\"Authorization\",\"Bearer …abcd#3f2a9c1e\"]],"
                 "\"response_headers\":[[\"Date\",\"Sun, 06 Nov 1994 08:49:37 GMT\"],"
                 "[\"Content-Type\",\"application/json\"]],"
                 "\"request_body\":\"{\\\"name\\\":\\\"Ada\\\"}\","
                 "\"response_body\":\"{\\\"id\\\":7,\\\"created_at\\\":\\\"x\\\"}\"}");
  cJSON *b = row("{\"id\":2,\"method\":\"POST\",\"url\":\"http://h/p\",\"status\":201,"
                 "\"error\":null,\"duration_ms\":9,"
                 "\"timing\":{\"dns_ms\":4,\"total_ms\":9},"
                 "\"request_headers\":[[\"authorization\",\"Bearer …wxyz#00ff00ff\"],"
                 "[\"x-tag\",\"a\"],[\"accept\",\"application/json\"],[\"X-TAG\",\"b\"]],"
                 "\"response_headers\":[[\"content-type\",\"application/json\"],"
                 "[\"date\",\"Mon, 07 Nov 1994 08:49:37 GMT\"]],"
                 "\"request_body\":\"{\\\"name\\\":\\\"Ada\\\"}\","
                 "\"response_body\":\"{\\\"id\\\":7,\\\"created_at\\\":\\\"y\\\"}\"}");
  cJSON *d = NULL;
  assert_int_equal(reqlog_diff_rows(a, b, NULL, &d, NULL), REQLOG_OK);
  /* timing differs, headers are in another order and case, volatile values differ */
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "equal")));
  assert_int_equal(cJSON_GetObjectItem(d, "differences")->valueint, 0);
  assert_int_equal(cJSON_GetObjectItem(d, "ignored")->valueint, 3);
  const cJSON *rq = cJSON_GetObjectItem(d, "request_headers");
  assert_int_equal(cJSON_GetArraySize(rq), 3);
  const cJSON *tag = entry_at(rq, "request.headers.x-tag");
  assert_non_null(tag);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(tag, "state")), "same");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(tag, "a")), "a, b");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                        entry_at(rq, "request.headers.authorization"), "ignored")), "redacted");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                        entry_at(cJSON_GetObjectItem(d, "response_headers"),
                                 "response.headers.date"), "ignored")), "volatile header");
  const cJSON *dns = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "timing"), 1);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(dns, "phase")), "dns_ms");
  assert_int_equal(cJSON_GetObjectItem(dns, "a")->valueint, 1);
  assert_int_equal(cJSON_GetObjectItem(dns, "b")->valueint, 4);
  const cJSON *rb = cJSON_GetObjectItem(d, "response_body");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rb, "kind")), "json");
  assert_int_equal(cJSON_GetObjectItem(rb, "ignored")->valueint, 1);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                        cJSON_GetObjectItem(d, "request_body"), "kind")), "json");
  cJSON_Delete(d);

  /* --keep brings a volatile header back; a status, a text body and a header differ */
  const char *keep[] = {"date", NULL};
  reqlog_diff_opts opts = {NULL, keep};
  cJSON_ReplaceItemInObject(b, "status", cJSON_CreateNumber(422));
  cJSON_ReplaceItemInObject(a, "request_body", cJSON_CreateString("one\ntwo\nthree"));
  cJSON_ReplaceItemInObject(b, "request_body", cJSON_CreateString("one\n2\nthree"));
  cJSON_AddItemToArray(cJSON_GetObjectItem(b, "response_headers"),
                       cJSON_Parse("[\"X-New\",\"1\"]"));
  assert_int_equal(reqlog_diff_rows(a, b, &opts, &d, NULL), REQLOG_OK);
  assert_false(cJSON_IsTrue(cJSON_GetObjectItem(d, "equal")));
  /* status, date, x-new, two text lines */
  assert_int_equal(cJSON_GetObjectItem(d, "differences")->valueint, 5);
  const cJSON *st = entry_at(cJSON_GetObjectItem(d, "fields"), "status");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(st, "state")), "changed");
  const cJSON *xn = entry_at(cJSON_GetObjectItem(d, "response_headers"), "response.headers.x-new");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(xn, "state")), "added");
  const cJSON *tb = cJSON_GetObjectItem(d, "request_body");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(tb, "kind")), "text");
  assert_int_equal(cJSON_GetObjectItem(tb, "differences")->valueint, 2);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(tb, "lines")), 4);
  cJSON_Delete(d);

  /* ignoring the text body and the status as paths */
  const char *ignore[] = {"request.body", "status", "x-new", "date", NULL};
  reqlog_diff_opts opts2 = {ignore, NULL};
  assert_int_equal(reqlog_diff_rows(a, b, &opts2, &d, NULL), REQLOG_OK);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "equal")));
  cJSON_Delete(d);

  /* binary bodies: the same bytes are equal, others differ, with their sizes */
  cJSON_ReplaceItemInObject(a, "response_body", cJSON_Parse("{\"base64\":\"AAEC\"}"));
  cJSON_ReplaceItemInObject(b, "response_body", cJSON_Parse("{\"base64\":\"AAED\"}"));
  cJSON_AddNumberToObject(a, "response_size", 3);
  cJSON_AddNumberToObject(b, "response_size", 3);
  assert_int_equal(reqlog_diff_rows(a, b, &opts2, &d, NULL), REQLOG_OK);
  const cJSON *bin = cJSON_GetObjectItem(d, "response_body");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(bin, "kind")), "binary");
  assert_int_equal(cJSON_GetObjectItem(bin, "differences")->valueint, 1);
  cJSON_Delete(d);
  cJSON_ReplaceItemInObject(b, "response_body", cJSON_Parse("{\"base64\":\"AAEC\"}"));
  assert_int_equal(reqlog_diff_rows(a, b, &opts2, &d, NULL), REQLOG_OK);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "equal")));
  cJSON_Delete(d);

  /* not rows */
  char *cause = NULL;
  cJSON *arr = cJSON_CreateArray();
  assert_int_equal(reqlog_diff_rows(a, arr, NULL, &d, &cause), REQLOG_ERR_ARG);
  assert_null(d);
  assert_non_null(cause);
  free(cause);
  cJSON_Delete(arr);
  cJSON_Delete(a);
  cJSON_Delete(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(json_objects), cmocka_unit_test(json_arrays),
    cmocka_unit_test(json_volatile), cmocka_unit_test(path_match),
    cmocka_unit_test(text_lines),   cmocka_unit_test(rows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
