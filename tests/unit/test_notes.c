/* test_notes.c: the notes model (recorder/read/notes.c): what a change does to what a
 * call has, and what it refuses.
 *
 * Plan:
 *   tags_ops     add (sorted, without repeats, blanks trimmed), remove (a tag the call
 *                lacks is no error), set (and set "" to none); a pin and a note kept
 *                when the change does not name them
 *   refused      a tag with a space, a comma item too long, more than 32 tags, a note
 *                with a control character or over 4000 bytes or not UTF-8, a pin of 2:
 *                REQLOG_ERR_ARG naming "tags", "note" or "pin", nothing made
 *   tag_chars    notes_tag_ok() takes A-Z a-z 0-9 . _ - : / + only, 1 to 64 bytes
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "read/notes.h"

/* OLD changed by A; the state's tags ("" for none), pin and note checked. */
static void expect(const notes_state *old, reqlog_annotation a, const char *tags, int pinned,
                   const char *note) {
  notes_state now;
  char *cause = NULL;
  reqlog_err err = notes_apply(old, &a, &now, &cause);
  if (err != REQLOG_OK)
    print_error("refused: %s\n", cause ? cause : "?");
  assert_int_equal(err, REQLOG_OK);
  assert_string_equal(now.tags ? now.tags : "", tags);
  assert_int_equal(now.pinned, pinned);
  if (note)
    assert_string_equal(now.note, note);
  else
    assert_null(now.note);
  notes_state_free(&now);
}

static void tags_ops(void **state) {
  (void)state;
  notes_state none = {0};
  expect(&none, (reqlog_annotation){.tags = " zeta , alpha,zeta,,b:c ", .pin = -1}, "alpha,b:c,zeta",
         0, NULL);
  notes_state has = {.pinned = 1, .tags = "alpha,b:c,zeta", .note = "kept"};
  expect(&has, (reqlog_annotation){.tags = "beta", .pin = -1}, "alpha,b:c,beta,zeta", 1, "kept");
  expect(&has, (reqlog_annotation){.tags = "zeta,nope", .tags_op = REQLOG_TAGS_REMOVE, .pin = -1},
         "alpha,b:c", 1, "kept");
  expect(&has, (reqlog_annotation){.tags = "x+y", .tags_op = REQLOG_TAGS_SET, .pin = 0}, "x+y", 0,
         "kept");
  expect(&has, (reqlog_annotation){.tags = "", .tags_op = REQLOG_TAGS_SET, .pin = -1, .note = ""},
         "", 1, NULL);
  expect(&has, (reqlog_annotation){.pin = -1, .note = "new\n\tline"}, "alpha,b:c,zeta", 1,
         "new\n\tline");
  print_message("add sorts and drops repeats and blanks, remove ignores absent tags, set "
                "replaces (\"\" clears); pin and note kept unless named; \"\" removes the note\n");
}

static void refused(void **state) {
  (void)state;
  notes_state has = {.tags = "a"};
  char many[33 * 4 + 1] = "";
  for (int i = 0; i < 33; i++)
    sprintf(many + strlen(many), "%s%c%c", i ? "," : "", 'a' + i / 26, 'a' + i % 26);
  char long_note[4002];
  memset(long_note, 'x', sizeof long_note - 1);
  long_note[sizeof long_note - 1] = '\0';
  const struct {
    reqlog_annotation a;
    const char *cause;
  } cases[] = {
    {{.tags = "a b", .pin = -1}, "tags: 'a b' is not a tag"},
    {{.tags = "ok,\"quoted\"", .pin = -1}, "tags: '\"quoted\"' is not a tag"},
    {{.tags = many, .pin = -1}, "tags: "},
    {{.note = "bell\a", .pin = -1}, "note: holds a control character"},
    {{.note = long_note, .pin = -1}, "note: longer than 4000 bytes"},
    {{.note = "b\xfcro", .pin = -1}, "note: not UTF-8 text"},
    {{.pin = 2}, "pin: "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    notes_state now = {.pinned = 7};
    char *cause = NULL;
    assert_int_equal(notes_apply(&has, &cases[i].a, &now, &cause), REQLOG_ERR_ARG);
    assert_non_null(cause);
    if (strncmp(cause, cases[i].cause, strlen(cases[i].cause)) != 0)
      print_error("case %zu: '%s', want '%s...'\n", i, cause, cases[i].cause);
    assert_int_equal(strncmp(cause, cases[i].cause, strlen(cases[i].cause)), 0);
    assert_null(now.tags);
    assert_null(now.note);
    free(cause);
  }
  print_message("%zu bad changes refused naming tags, note or pin; nothing made\n",
                sizeof cases / sizeof cases[0]);
}

static void tag_chars(void **state) {
  (void)state;
  assert_true(notes_tag_ok("Bug-4411_x.y:z/w+v", 18));
  assert_false(notes_tag_ok("", 0));
  assert_false(notes_tag_ok("a,b", 3));
  assert_false(notes_tag_ok("a b", 3));
  assert_false(notes_tag_ok("caf\xc3\xa9", 5));
  char t[66];
  memset(t, 'a', 65);
  t[65] = '\0';
  assert_true(notes_tag_ok(t, 64));
  assert_false(notes_tag_ok(t, 65));
  for (int c = 1; c < 256; c++) {
    char one = (char)c;
    int want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr("._-:/+", c) != NULL;
    assert_int_equal(notes_tag_ok(&one, 1) != 0, want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(tags_ops),
    cmocka_unit_test(refused),
    cmocka_unit_test(tag_chars),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
