/* test_dynbuf.c: the capped growable buffer (recorder/base/dynbuf.c).
 *
 * Plan:
 *   add_and_nul        appends keep every byte in order, always followed by a NUL; an
 *                      empty add still gives a string; clear keeps the memory
 *   cap_exact          the cap is exact: MAX bytes fit, one more fails with
 *                      REQLOG_ERR_FULL and the buffer is unchanged (no partial append)
 *   reserve_grew       reserve + direct writes + grew; a large first need is allocated
 *                      as asked, never past the cap
 *   take               take hands the bytes over and empties the buffer
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/dynbuf.h"

static void add_and_nul(void **state) {
  (void)state;
  dynbuf b;
  dynbuf_init(&b, 1 << 20);
  assert_null(b.data);
  assert_int_equal(dynbuf_add(&b, "", 0), REQLOG_OK);
  assert_non_null(b.data);
  assert_string_equal(b.data, "");
  for (int i = 0; i < 1000; i++)
    assert_int_equal(dynbuf_add_str(&b, "abc"), REQLOG_OK);
  assert_int_equal(b.len, 3000);
  assert_int_equal(b.data[3000], '\0');
  assert_memory_equal(b.data + 2997, "abc", 3);
  char *before = b.data;
  dynbuf_clear(&b);
  assert_int_equal(b.len, 0);
  assert_ptr_equal(b.data, before);
  assert_string_equal(b.data, "");
  dynbuf_free(&b);
  assert_null(b.data);
}

static void cap_exact(void **state) {
  (void)state;
  dynbuf b;
  dynbuf_init(&b, 10);
  assert_int_equal(dynbuf_add(&b, "0123456", 7), REQLOG_OK);
  assert_int_equal(dynbuf_add(&b, "7890", 4), REQLOG_ERR_FULL);
  assert_int_equal(b.len, 7);
  assert_string_equal(b.data, "0123456");
  assert_int_equal(dynbuf_add(&b, "789", 3), REQLOG_OK);
  assert_string_equal(b.data, "0123456789");
  assert_true(b.cap <= 11);
  assert_int_equal(dynbuf_add(&b, "x", 1), REQLOG_ERR_FULL);
  assert_int_equal(dynbuf_reserve(&b, SIZE_MAX), REQLOG_ERR_FULL);
  assert_string_equal(b.data, "0123456789");
  dynbuf_free(&b);
}

static void reserve_grew(void **state) {
  (void)state;
  dynbuf b;
  dynbuf_init(&b, 100000);
  assert_int_equal(dynbuf_reserve(&b, 50000), REQLOG_OK);
  assert_int_equal(b.cap, 50001);
  memset(b.data, 'z', 50000);
  dynbuf_grew(&b, 50000);
  assert_int_equal(b.data[50000], '\0');
  assert_int_equal(dynbuf_reserve(&b, 1), REQLOG_OK);
  assert_int_equal(b.cap, 100001); /* doubling, held to the cap */
  assert_int_equal(dynbuf_reserve(&b, 50001), REQLOG_ERR_FULL);
  dynbuf_free(&b);
}

static void take(void **state) {
  (void)state;
  dynbuf b;
  dynbuf_init(&b, 100);
  assert_null(dynbuf_take(&b));
  assert_int_equal(dynbuf_add_str(&b, "hello"), REQLOG_OK);
  char *p = dynbuf_take(&b);
  assert_string_equal(p, "hello");
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(dynbuf_add_str(&b, "again"), REQLOG_OK);
  assert_string_equal(b.data, "again");
  free(p);
  dynbuf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(add_and_nul),
    cmocka_unit_test(cap_exact),
    cmocka_unit_test(reserve_grew),
    cmocka_unit_test(take),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
