/* fuzz.h: what every fuzz target in fuzz/ shares. A target is one file fuzz_NAME.c that
 * defines LLVMFuzzerTestOneInput(); it is linked two ways (see fuzz/README.md):
 *   with libFuzzer (clang -fsanitize=fuzzer): `make fuzz`, build/fuzz/fuzz_NAME;
 *   with fuzz/replay.c's main(): `make check`, BUILD/tests/fuzz/replay_NAME, which
 *   feeds it every file of fuzz/corpus/NAME/ once, so a fixed crash stays fixed.
 * A target checks properties, not just "no crash": when one does not hold it calls
 * fuzz_fail(), which aborts (libFuzzer and the replay then report the input). */
#ifndef REQLOG_FUZZ_H
#define REQLOG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints WHAT to stderr and aborts. */
_Noreturn void fuzz_fail(const char *what);

/* Aborts with WHAT unless COND holds. */
#define FUZZ_CHECK(cond, what) ((cond) ? (void)0 : fuzz_fail(what))

/* The size of the next piece when cutting LEFT bytes into pieces of 1 to MAX bytes,
 * drawn from *STATE (a seed the input chose; a small LCG: the same cuts every run). */
size_t fuzz_piece(unsigned *state, size_t max, size_t left);

/* A private temporary folder (made on the first call, emptied and removed at exit), for
 * targets that need real files. Never NULL: aborts when it cannot be made. */
const char *fuzz_temp_dir(void);

/* A file descriptor of an in-memory file holding DATA[0..N), and in *PATH a name that
 * open() reads it by (/proc/self/fd/N); the same descriptor is reused, rewritten, on
 * every call. For code whose only way in is a path. Aborts on failure. */
int fuzz_input_file(const uint8_t *data, size_t n, const char **path);

#endif
