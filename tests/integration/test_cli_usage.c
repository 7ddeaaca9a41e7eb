/* test_cli_usage.c: how `reqlog` answers being asked for help or used wrongly: versions,
 * help texts, unknown commands and options, bad arguments, a missing database.
 *
 * Plan:
 *   misc           --version, --help, COMMAND --help, unknown command / option, a reader
 *                  on a missing database creates nothing
 *   usage errors   extra/missing arguments, bad numbers, bad -H/-d, unknown options:
 *                  exit 2 naming what is wrong, nothing created
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reqlog.h"
#include "testcli.h"

/* ------------------------------------------------------------------ misc */

static void test_misc(void **state) {
  tc_env *e = *state;
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, NULL, NULL, NULL, ARGS("--version"), &out, &err);
  tu_expect_exit(rc, 0, "--version", err);
  assert_int_equal(strncmp(out, "reqlog " REQLOG_VERSION, strlen("reqlog " REQLOG_VERSION)), 0);
  tu_free2(&out, &err);
  rc = tc_run(e, NULL, NULL, NULL, ARGS("--help"), &out, &err);
  tu_expect_exit(rc, 0, "--help", err);
  tu_expect_has(out, "usage: reqlog", "--help");
  static const char *const cmds[] = {"call", "list", "show", "export", "stats", "prune",
                                     "demo"};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    char line[32];
    snprintf(line, sizeof line, "\n  %s ", cmds[i]);
    tu_expect_has(out, line, "--help lists the command");
  }
  tu_free2(&out, &err);
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    rc = tc_run(e, NULL, NULL, NULL, ARGS(cmds[i], "--help"), &out, &err);
    tu_expect_exit(rc, 0, cmds[i], err);
    char want[48];
    snprintf(want, sizeof want, "usage: reqlog ");
    assert_int_equal(strncmp(out, want, strlen(want)), 0);
    tu_expect_has(out, cmds[i], "COMMAND --help names it");
    char *via_help = NULL;
    rc = tc_run(e, NULL, NULL, NULL, ARGS("help", cmds[i]), &via_help, NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(via_help, out);
    free(via_help);
    tu_free2(&out, &err);
  }
  printf("checked: --version prints 'reqlog %s'; --help lists all 7 commands; each "
         "COMMAND --help and 'help COMMAND' print the same usage, exit 0\n", REQLOG_VERSION);

  rc = tc_run(e, NULL, NULL, NULL, ARGS("frobnicate"), &out, &err);
  tu_expect_exit(rc, 2, "unknown command", err);
  tu_expect_has(err, "unknown command 'frobnicate'", "unknown command named");
  assert_string_equal(out, "");
  tu_free2(&out, &err);
  rc = tc_run(e, NULL, NULL, NULL, ARGS("--frob", "list"), &out, &err);
  tu_expect_exit(rc, 2, "unknown global option", err);
  tu_expect_has(err, "--frob", "unknown global option named");
  tu_free2(&out, &err);
  const char *none[] = {NULL};
  rc = tc_run(e, NULL, NULL, NULL, none, &out, &err);
  tu_expect_exit(rc, 2, "no command", err);
  tu_expect_has(err, "usage: reqlog", "no command: usage on stderr");
  tu_free2(&out, &err);
  char *nodb = tu_path(e->dir, "never-created.db");
  static const char *const readers[] = {"list", "show", "export", "stats", "prune"};
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    const char *a[] = {readers[i], i == 1 ? "1" : i == 2 ? "--format=csv" :
                       i == 4 ? "--max-rows=1" : NULL, NULL};
    rc = tc_run(e, nodb, NULL, NULL, a, &out, &err);
    tu_expect_exit(rc, 4, readers[i], err);
    tu_expect_has(err, nodb, "missing database named");
    tu_free2(&out, &err);
    assert_int_not_equal(access(nodb, F_OK), 0);
  }
  free(nodb);
  printf("checked: an unknown command or global option exits 2 naming it; no command "
         "prints usage on stderr, exit 2; list/show/export/stats/prune on a missing "
         "database exit 4 naming it and create no file\n");
}

/* A usage error: the arguments, the exit code and what stderr must contain. */
struct usecase {
  const char *args[8];
  int want;
  const char *says;
};

static void test_usage_errors(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "usage.db");
  const struct usecase cases[] = {
    {{"show", "1x"}, 2, "'1x'"},
    {{"show", "1", "2"}, 2, "one call ID"},
    {{"prune", "--max-rows", "5", "extra"}, 2, "'extra'"},
    {{"list", "extra"}, 2, "'extra'"},
    {{"list", "--limit", "99999999999999999999"}, 2, "--limit"},
    {{"call", "GET", "/participants", "extra"}, 2, "METHOD and PATH-or-URL"},
    {{"call", "GET"}, 2, "METHOD and PATH-or-URL"},
    {{"call", "", "/participants"}, 2, "must not be empty"},
    {{"call", "G T", "/participants"}, 2, "'G T'"},
    {{"call", "-H", "NoColon", "GET", "/participants"}, 2, "-H 'NoColon'"},
    {{"call", "-d", "{\"a\":1", "POST", "/echo"}, 2, "-d"},
    {{"call", "--retries", "many", "GET", "/participants"}, 2, "--retries"},
    {{"call", "--rate", "-5", "GET", "/participants"}, 2, "--rate"},
    {{"call", "--colour", "GET", "/participants"}, 2, "--colour"},
    {{"export", "--format", "csv", "-o", ""}, 2, "-o"},
    {{"demo", "--port", "70000"}, 2, "--port"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *out = NULL, *err = NULL;
    int rc = tc_run(e, db, FAKEAPI_KEY, NULL, cases[i].args, &out, &err);
    char label[200];
    tu_label_of(cases[i].args, label, sizeof label);
    tu_expect_exit(rc, cases[i].want, label, err);
    tu_expect_has(err, cases[i].says, label);
    assert_string_equal(out, "");
    tu_free2(&out, &err);
  }
  assert_int_not_equal(access(db, F_OK), 0);
  char *out = NULL, *err = NULL;
  const char *const empty_db[] = {"--db", "", "list", NULL};
  int rc = tc_run(e, NULL, NULL, NULL, empty_db, &out, &err);
  tu_expect_exit(rc, 2, "--db ''", err);
  tu_expect_has(err, "--db", "--db ''");
  tu_free2(&out, &err);
  free(db);
  printf("checked: %zu usage errors (extra or missing arguments, bad numbers, bad -H and "
         "-d, unknown options, --db '') exit 2 with a message naming what is wrong, "
         "nothing on stdout, no database created\n", sizeof cases / sizeof cases[0] + 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_misc),
    cmocka_unit_test(test_usage_errors),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
