/* dlopen.c: the shim's dlopen. A library opened with RTLD_DEEPBIND binds to its own
 * dependencies ahead of everything preloaded: a plugin that links libcurl (PHP's curl
 * extension is opened so) would call libcurl past the shim, and its transfers would go
 * unrecorded. Under `reqlog exec` the shim opens such libraries without RTLD_DEEPBIND,
 * so their libcurl calls reach it like everyone else's.
 *
 * dlopen looks a bare library name up in the RUNPATH of the code that calls it, and
 * knows that code by its return address: a wrapper calling the real dlopen would make
 * every lookup the shim's. So dlopen here is a trampoline that leaves the return
 * address alone: it saves the arguments, asks shim_dlopen_prepare for the real dlopen
 * and the flags to pass, and jumps there. Written for x86-64; elsewhere the shim does
 * not replace dlopen, and RTLD_DEEPBIND plugins stay unrecorded (reqlog warns, see
 * reach.c). */
#include <dlfcn.h>
#include <pthread.h>

#include "exec/shim/shim.h"

#if defined(__x86_64__)

typedef void *(*dlopen_fn)(const char *, int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static dlopen_fn real_dlopen;

/* Where the real dlopen cannot be found: fails as dlopen fails (dlerror() then tells
 * nothing, but a libc without dlopen cannot run a program that calls it either). */
static void *no_dlopen(const char *file, int mode) {
  (void)file;
  (void)mode;
  return NULL;
}

static void find_dlopen(void) {
  real_dlopen = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
  if (!real_dlopen)
    real_dlopen = no_dlopen;
}

/* Called by the trampoline with the address of dlopen's flags: drops RTLD_DEEPBIND when
 * recording, and returns the real dlopen. */
void *shim_dlopen_prepare(int *mode) __attribute__((used));
void *shim_dlopen_prepare(int *mode) {
  pthread_once(&once, find_dlopen);
  if ((*mode & RTLD_DEEPBIND) && shim_active())
    *mode &= ~RTLD_DEEPBIND;
  return (void *)real_dlopen;
}

/* On entry the stack is 8 bytes off 16-byte alignment (the return address); the two
 * pushes and the 8-byte gap align it for the call, and leave the return address where
 * the real dlopen finds it. */
__attribute__((naked, visibility("default"))) void *dlopen(const char *file, int mode) {
  __asm__("push %rsi\n\t"             /* mode: the helper may change it in place */
          "push %rdi\n\t"             /* file */
          "sub $8, %rsp\n\t"
          "lea 16(%rsp), %rdi\n\t"
          "call shim_dlopen_prepare\n\t"
          "add $8, %rsp\n\t"
          "pop %rdi\n\t"
          "pop %rsi\n\t"
          "jmp *%rax\n\t");
}

#endif
