/* dlplug.c: loads libreqlog-testplug.so, a library that uses libcurl, the way some
 * programs load their plugins: PHP loads its curl extension with RTLD_DEEPBIND, which
 * binds the plugin to its own libcurl ahead of anything preloaded; dlmopen puts it in a
 * namespace of its own. It finds the plugin by its bare name in its own RUNPATH, as
 * dlopen does for the program that calls it.
 *
 *   dlplug deepbind|dlmopen URL AUTH   a GET of URL with header AUTH; prints the body
 *                                      and "status N"
 *   dlplug deepbind|dlmopen idle       loads the plugin, makes no transfer
 *
 * Exits 0 when the plugin did what was asked, 1 if not, 2 on bad arguments. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define PLUGIN "libreqlog-testplug.so"

static void *load(const char *how) {
  if (strcmp(how, "deepbind") == 0)
    return dlopen(PLUGIN, RTLD_LAZY | RTLD_LOCAL | RTLD_DEEPBIND);
  if (strcmp(how, "dlmopen") == 0)
    return dlmopen(LM_ID_NEWLM, PLUGIN, RTLD_LAZY | RTLD_LOCAL);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[2], "idle") != 0 && argc != 4)) {
    fprintf(stderr, "usage: dlplug deepbind|dlmopen URL AUTH | idle\n");
    return 2;
  }
  void *plugin = load(argv[1]);
  if (!plugin) {
    fprintf(stderr, "dlplug: %s\n", dlerror());
    return 1;
  }
  if (strcmp(argv[2], "idle") == 0) {
    int (*idle)(void) = (int (*)(void))dlsym(plugin, "testplug_idle");
    return idle && idle() == 0 ? 0 : 1;
  }
  int (*get)(const char *, const char *) =
    (int (*)(const char *, const char *))dlsym(plugin, "testplug_get");
  int status = get ? get(argv[2], argv[3]) : -1;
  printf("\nstatus %d\n", status);
  return status == 200 ? 0 : 1;
}
