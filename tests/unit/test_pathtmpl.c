/* test_pathtmpl.c: path templates (recorder/read/pathtmpl.c): the endpoint of a path.
 *
 * Plan:
 *   collapse   numeric and UUID segments become {id}, anywhere in the path, any case;
 *              other segments (words, mixed digits and letters, near-UUIDs, empty ones)
 *              stay; the query and the fragment are left out
 *   bounds     a template longer than the buffer is cut and NUL-terminated; NULL and
 *              empty paths give ""
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "read/pathtmpl.h"

static void expect(const char *path, const char *want) {
  char out[256];
  size_t n = path_template(path, out, sizeof out);
  assert_string_equal(out, want);
  assert_int_equal(n, strlen(want));
}

static void collapse(void **state) {
  (void)state;
  expect("/public/v1/participants/7", "/public/v1/participants/{id}");
  expect("/public/v1/participants/12/notes/0", "/public/v1/participants/{id}/notes/{id}");
  expect("/participants/123e4567-e89b-12d3-a456-426614174000",
         "/participants/{id}");
  expect("/p/123E4567-E89B-12D3-A456-426614174000/x", "/p/{id}/x");
  expect("/public/v1/participants", "/public/v1/participants");
  expect("/public/v1/participants/", "/public/v1/participants/");
  expect("/v2/items/abc123", "/v2/items/abc123");           /* not all digits */
  expect("/items/-5", "/items/-5");                           /* a sign is not a digit */
  expect("/x/123e4567e89b12d3a456426614174000", "/x/123e4567e89b12d3a456426614174000");
  expect("/x/123e4567-e89b-12d3-a456-42661417400g", "/x/123e4567-e89b-12d3-a456-42661417400g");
  expect("/a//7//b", "/a//{id}//b");
  expect("/participants/7?page=2&id=9", "/participants/{id}");
  expect("/participants/7#frag", "/participants/{id}");
  expect("42", "{id}");
}

static void bounds(void **state) {
  (void)state;
  expect(NULL, "");
  expect("", "");
  char small[8];
  size_t n = path_template("/participants/7", small, sizeof small);
  assert_int_equal(n, 7);
  assert_string_equal(small, "/partic");
  n = path_template("/1/2/3", small, sizeof small);
  assert_string_equal(small, "/{id}/{");
  assert_int_equal(n, 7);
  char none[1] = {'x'};
  assert_int_equal(path_template("/a", none, sizeof none), 0);
  assert_int_equal(none[0], '\0');
  assert_int_equal(path_template("/a", none, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(collapse),
    cmocka_unit_test(bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
