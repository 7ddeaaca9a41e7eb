/* test_exec_programs.c: `reqlog exec` runs real programs that load libcurl their own
 * way: git (a grandchild using libcurl-gnutls and curl_multi), PHP's curl extension, and
 * plugins loaded with RTLD_DEEPBIND or dlmopen (tests/progs/dlplug). The fixture:
 * testexec.h.
 *
 * Plan:
 *   git               git clone over HTTP from a local server: git-remote-http is a
 *                     grandchild using libcurl-gnutls and curl_multi; every request the
 *                     server saw is a row, the clone is the same
 *   php               php -r with the curl extension (loaded with RTLD_DEEPBIND): output
 *                     and exit code unchanged, curl_exec and curl_multi_exec are rows
 *   plugins           a libcurl plugin loaded with RTLD_DEEPBIND (as PHP loads its curl
 *                     extension) is recorded; one loaded with dlmopen cannot be, and
 *                     reqlog warns; neither warns when it makes no transfer
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reqlog.h"
#include "testexec.h"

/* ------------------------------------------------------------------ git */

/* A static file server for git's "dumb" HTTP protocol, counting the requests it gets. */
typedef struct files {
  struct MHD_Daemon *d;
  const char *root;
  int port;
  int hits;
  pthread_mutex_t lock;
} files;

static enum MHD_Result serve_file(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *up,
                                  size_t *up_len, void **req) {
  (void)version;
  (void)up;
  (void)up_len;
  files *f = cls;
  if (!*req) { /* the first call of a request comes with its head only */
    *req = f;
    pthread_mutex_lock(&f->lock);
    f->hits++;
    pthread_mutex_unlock(&f->lock);
    return MHD_YES;
  }
  char path[4096];
  struct stat st;
  int fd = -1;
  snprintf(path, sizeof path, "%s%s", f->root, url);
  if (strcmp(method, "GET") == 0 && !strstr(url, "..") && stat(path, &st) == 0 &&
      S_ISREG(st.st_mode))
    fd = open(path, O_RDONLY);
  struct MHD_Response *resp =
    fd >= 0 ? MHD_create_response_from_fd((uint64_t)st.st_size, fd)
            : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  enum MHD_Result rc = MHD_queue_response(c, fd >= 0 ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, resp);
  MHD_destroy_response(resp);
  return rc;
}

static void files_start(files *f, const char *root) {
  memset(f, 0, sizeof *f);
  pthread_mutex_init(&f->lock, NULL);
  f->root = root;
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
                          serve_file, f, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                          MHD_OPTION_END);
  assert_non_null(f->d);
  f->port = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static int have_program(const char *name) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
  return system(cmd) == 0;
}

static void test_git_clone(void **state) {
  (void)state;
  if (!have_program("git")) {
    printf("skipped: git is not installed\n");
    skip();
  }
  char *db = te_new_db(), *home = tu_path(TE->dir, "githome"), *srv = tu_path(TE->dir, "gitsrv");
  char henv[4200], script[2000];
  mkdir(home, 0700);
  mkdir(srv, 0700);
  snprintf(henv, sizeof henv, "HOME=%s", home);
  const char *env[] = {henv, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", NULL};
  snprintf(script, sizeof script,
           "set -e; cd '%s'; git init -q src; cd src; echo 'hello from git' > README;"
           "git add README; git -c user.name=t -c user.email=t@example.org commit -q -m one;"
           "cd ..; git clone -q --bare src repo.git; cd repo.git; git update-server-info",
           srv);
  const char *setup[] = {"sh", "-c", script, NULL};
  assert_int_equal(te_run_plain(setup, NULL, env, NULL, NULL), 0);

  files f;
  files_start(&f, srv);
  char url[128], c1[4200], c2[4200];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/repo.git", f.port);
  snprintf(c1, sizeof c1, "%s/plain", srv);
  snprintf(c2, sizeof c2, "%s/traced", srv);
  const char *plain[] = {"git", "clone", "-q", url, c1, NULL};
  const char *traced[] = {"git", "clone", "-q", url, c2, NULL};
  char *o1, *e1, *o2, *e2;
  assert_int_equal(te_run_plain(plain, NULL, env, &o1, &e1), 0);
  pthread_mutex_lock(&f.lock);
  int plain_hits = f.hits;
  f.hits = 0;
  pthread_mutex_unlock(&f.lock);
  assert_int_equal(te_run_exec(db, traced, NULL, env, &o2, &e2), 0);
  pthread_mutex_lock(&f.lock);
  int hits = f.hits;
  pthread_mutex_unlock(&f.lock);
  MHD_stop_daemon(f.d);
  assert_string_equal(o1, o2);
  assert_string_equal(e1, e2);
  char *readme = tu_path(c2, "README"), *text = tu_slurp(readme, NULL);
  assert_string_equal(text, "hello from git\n");

  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), hits);
  assert_int_equal(hits, plain_hits);
  assert_true(hits >= 3);
  int ok = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    assert_string_equal(tu_str(row, "method"), "GET");
    assert_true(strncmp(tu_str(row, "path"), "/repo.git/", 10) == 0);
    assert_false(tu_is_null(row, "status"));
    ok += (int)tu_num(row, "status") == 200;
  }
  assert_true(ok >= 3);
  te_assert_clean(db, rows);
  printf("checked: git clone over HTTP (git-remote-http, a grandchild using "
         "libcurl-gnutls and curl_multi): exit 0, same output, the same README; all %d "
         "requests the server saw are rows (%d with 200), as many as without exec\n",
         hits, ok);
  cJSON_Delete(rows);
  pthread_mutex_destroy(&f.lock);
  free(readme);
  free(text);
  free(o1);
  free(e1);
  free(o2);
  free(e2);
  free(home);
  free(srv);
  free(db);
}

/* ------------------------------------------------------------------ php */

static void test_php(void **state) {
  (void)state;
  if (!have_program("php") || system("php -m 2>/dev/null | grep -qx curl") != 0) {
    printf("skipped: php with the curl extension is not installed "
           "(apt-get install php-cli php-curl)\n");
    skip();
  }
  char *db = te_new_db(), code[1500], u1[300], u2[300];
  te_url_of(u1, sizeof u1, "/participants/1");
  te_url_of(u2, sizeof u2, "/participants/2");
  snprintf(code, sizeof code,
           "$h = ['%s'];"
           "$c = curl_init('%s'); curl_setopt($c, CURLOPT_HTTPHEADER, $h);"
           "curl_setopt($c, CURLOPT_RETURNTRANSFER, true); echo curl_exec($c), \"\\n\";"
           "$m = curl_multi_init(); $d = curl_init('%s');"
           "curl_setopt($d, CURLOPT_HTTPHEADER, $h); curl_setopt($d, CURLOPT_RETURNTRANSFER, true);"
           "curl_multi_add_handle($m, $d);"
           "do { curl_multi_exec($m, $run); curl_multi_select($m); } while ($run);"
           "echo curl_multi_getcontent($d), \"\\n\"; exit(5);",
           TE->auth, u1, u2);
  const char *argv[] = {"php", "-r", code, NULL};
  char *o1, *e1, *o2, *e2;
  assert_int_equal(te_run_plain(argv, NULL, NULL, &o1, &e1), 5);
  assert_int_equal(te_run_exec(db, argv, NULL, NULL, &o2, &e2), 5);
  assert_string_equal(o1, o2);
  assert_string_equal(e1, e2);
  assert_true(strstr(o2, "\"id\":2") != NULL);
  cJSON *rows = te_rows_of(db);
  /* PHP loads its curl extension with RTLD_DEEPBIND; the shim opens it without */
  assert_int_equal(cJSON_GetArraySize(rows), 2);
  const char *urls[] = {u1, u2};
  for (int i = 0; i < 2; i++) {
    cJSON *row = cJSON_GetArrayItem(rows, i);
    assert_string_equal(tu_str(row, "url"), urls[i]);
    assert_int_equal((int)tu_num(row, "status"), 200);
    assert_string_equal(tu_str(row, "key"), TE->fp);
  }
  te_assert_clean(db, rows);
  printf("checked: php -r with curl_exec and curl_multi_exec: exit 5 and the same output "
         "with and without exec, nothing more on stderr; both transfers are rows (the "
         "curl extension, loaded with RTLD_DEEPBIND, is recorded)\n");
  cJSON_Delete(rows);
  free(o1);
  free(e1);
  free(o2);
  free(e2);
  free(db);
}

/* ------------------------------------------------------------------ plugins */

/* dlplug (tests/progs) loads a plugin that links libcurl with RTLD_DEEPBIND, as PHP
 * loads its curl extension: the plugin's libcurl calls are recorded all the same, the
 * program's output is unchanged, and nothing is said. */
static void test_deepbind_plugin(void **state) {
  (void)state;
  char *db = te_new_db(), url[300];
  te_url_of(url, sizeof url, "/participants/2");
  const char *argv[] = {TE->dlplug, "deepbind", url, TE->auth, NULL};
  char *o1, *o2, *err;
  assert_int_equal(te_run_plain(argv, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(te_run_exec(db, argv, NULL, NULL, &o2, &err), 0);
  assert_string_equal(o1, o2);
  assert_true(strstr(o2, "\nstatus 200\n") != NULL);
  assert_string_equal(err, "");
  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  cJSON *row = cJSON_GetArrayItem(rows, 0);
  assert_string_equal(tu_str(row, "method"), "GET");
  assert_string_equal(tu_str(row, "url"), url);
  assert_int_equal((int)tu_num(row, "status"), 200);
  assert_string_equal(tu_str(row, "key"), TE->fp);
  const char *body = tu_str(row, "response_body");
  assert_memory_equal(o2, body, strlen(body));
  te_assert_clean(db, rows);
  printf("checked: a plugin loaded with RTLD_DEEPBIND (by its bare name, from the "
         "program's RUNPATH) that does a GET with its own libcurl: one row, 200, key %s, "
         "the body it printed; the same output as without exec, nothing on stderr\n",
         TE->fp);
  cJSON_Delete(rows);
  free(o1);
  free(o2);
  free(err);

  const char *idle[] = {TE->dlplug, "deepbind", "idle", NULL};
  assert_int_equal(te_run_exec(db, idle, NULL, NULL, &o2, &err), 0);
  assert_string_equal(err, "");
  rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  printf("checked: the same plugin making a handle but no transfer: no new row, no "
         "warning\n");
  cJSON_Delete(rows);
  free(o2);
  free(err);
  free(db);
}

/* A plugin in a namespace of its own (dlmopen) calls a libcurl the shim cannot stand in
 * front of: its transfer cannot be recorded, and reqlog says so rather than nothing;
 * loaded without a transfer, nothing is said. */
static void test_unrecordable_plugin(void **state) {
  (void)state;
  char *db = te_new_db(), url[300];
  te_url_of(url, sizeof url, "/participants/3");
  const char *argv[] = {TE->dlplug, "dlmopen", url, TE->auth, NULL};
  char *o1, *o2, *err;
  assert_int_equal(te_run_plain(argv, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(te_run_exec(db, argv, NULL, NULL, &o2, &err), 0);
  assert_string_equal(o1, o2);
  assert_true(strstr(err, "libreqlog-testplug.so") != NULL);
  assert_true(strstr(err, "libcurl") != NULL);
  assert_true(strstr(err, "not recorded") != NULL);
  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 0);
  printf("checked: a plugin loaded with dlmopen does its GET (same output), no row, and "
         "reqlog warns: %s", err);
  cJSON_Delete(rows);
  free(o1);
  free(o2);
  free(err);

  const char *idle[] = {TE->dlplug, "dlmopen", "idle", NULL};
  assert_int_equal(te_run_exec(db, idle, NULL, NULL, &o2, &err), 0);
  assert_string_equal(err, "");
  printf("checked: the same plugin loaded with dlmopen, making no transfer: no "
         "warning\n");
  free(o2);
  free(err);
  free(db);
}

/* The suite's setup, and dlplug, which the plugin tests run. */
static int setup(void **state) {
  int rc = te_setup(state);
  return rc != 0 ? rc : te_find_dlplug();
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_git_clone),
    cmocka_unit_test(test_php),
    cmocka_unit_test(test_deepbind_plugin),
    cmocka_unit_test(test_unrecordable_plugin),
  };
  return cmocka_run_group_tests(tests, setup, te_teardown);
}
