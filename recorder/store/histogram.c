/* histogram.c: the duration histogram's bucket in C, the twin of HISTOGRAM_BUCKET_SQL
 * (histogram.h says the rule; test_store_histogram checks they agree). */
#include "store/histogram.h"

#include <stdio.h>

int histogram_bucket(int64_t d) {
  if (d < 0)
    d = 0;
  char digits[24];
  int len = snprintf(digits, sizeof digits, "%lld", (long long)d);
  int lead = 0;
  for (int i = 0; i < len && i < 3; i++)
    lead = lead * 10 + (digits[i] - '0');
  return len * 1000 + lead;
}
