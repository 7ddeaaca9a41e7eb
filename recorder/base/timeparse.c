/* timeparse.c: the times and durations users type (since=, until=, prune --older-than):
 * ISO 8601 dates and date-times, and ages such as "15m" or "7d", as Unix microseconds.
 * In base/ because two rooms read times: read/ (the filters) and capture/ (HAR start
 * times). */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "reqlog.h"

#define US_PER_SEC INT64_C(1000000)

/* Bounds [*s, *e) of TEXT without surrounding ASCII whitespace. */
static void trim(const char *text, const char **s, const char **e) {
  const char *b = text, *end = text + strlen(text);
  while (b < end && strchr(" \t\r\n\v\f", *b))
    b++;
  while (end > b && strchr(" \t\r\n\v\f", end[-1]))
    end--;
  *s = b;
  *e = end;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* Reads exactly N digits at *P (before END) into *V and moves *P past them. */
static int digits(const char **p, const char *end, int n, int *v) {
  if (end - *p < n)
    return 0;
  int x = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (!is_digit(c))
      return 0;
    x = x * 10 + (c - '0');
  }
  *p += n;
  *v = x;
  return 1;
}

/* Microseconds in one UNIT ('s' 'm' 'h' 'd' 'w'), 0 for anything else. */
static int64_t unit_us(char unit) {
  switch (unit) {
  case 's': return US_PER_SEC;
  case 'm': return 60 * US_PER_SEC;
  case 'h': return 3600 * US_PER_SEC;
  case 'd': return 86400 * US_PER_SEC;
  case 'w': return 7 * 86400 * US_PER_SEC;
  default: return 0;
  }
}

/* "<positive integer><unit>" in [S, E). Units are lower-case only: "M" could be read as
 * months, so it is refused rather than guessed. */
static int parse_age(const char *s, const char *e, int64_t *us) {
  if (e - s < 2)
    return 0;
  int64_t unit = unit_us(e[-1]);
  if (!unit)
    return 0;
  int64_t n = 0;
  for (const char *p = s; p < e - 1; p++) {
    if (!is_digit(*p))
      return 0;
    int d = *p - '0';
    if (n > (INT64_MAX - d) / 10)
      return 0;
    n = n * 10 + d;
  }
  if (n == 0 || n > INT64_MAX / unit)
    return 0;
  *us = n * unit;
  return 1;
}

reqlog_err reqlog_parse_duration(const char *text, int64_t *us) {
  if (!text || !us)
    return REQLOG_ERR_ARG;
  const char *s, *e;
  trim(text, &s, &e);
  return parse_age(s, e, us) ? REQLOG_OK : REQLOG_ERR_ARG;
}

static int days_in_month(int year, int month) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

/* ISO 8601 extended format in [S, E):
 *   YYYY-MM-DD
 *   YYYY-MM-DD(T|t|space)HH:MM[:SS[(.|,)F{1,9}]][Z|z|(+|-)HH[[:]MM]]
 * No offset means UTC. Digits past the sixth of a fraction are dropped. */
static int parse_iso(const char *s, const char *e, int64_t *us) {
  const char *p = s;
  int year, month, day, hour = 0, min = 0, sec = 0, frac_us = 0, off_min = 0;
  if (!digits(&p, e, 4, &year) || p == e || *p++ != '-' || !digits(&p, e, 2, &month) ||
      p == e || *p++ != '-' || !digits(&p, e, 2, &day))
    return 0;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
    return 0;
  if (p < e) {
    if (*p != 'T' && *p != 't' && *p != ' ')
      return 0;
    p++;
    if (!digits(&p, e, 2, &hour) || p == e || *p++ != ':' || !digits(&p, e, 2, &min))
      return 0;
    if (p < e && *p == ':') {
      p++;
      if (!digits(&p, e, 2, &sec))
        return 0;
      if (p < e && (*p == '.' || *p == ',')) {
        p++;
        int n = 0;
        while (p < e && is_digit(*p) && n < 9) {
          if (n < 6)
            frac_us = frac_us * 10 + (*p - '0');
          n++;
          p++;
        }
        if (n == 0 || (p < e && is_digit(*p)))
          return 0;
        for (int i = n; i < 6; i++)
          frac_us *= 10;
      }
    }
    if (hour > 23 || min > 59 || sec > 59)
      return 0;
    if (p < e && (*p == 'Z' || *p == 'z')) {
      p++;
    } else if (p < e && (*p == '+' || *p == '-')) {
      int sign = *p++ == '-' ? -1 : 1;
      int oh, om = 0;
      if (!digits(&p, e, 2, &oh))
        return 0;
      if (p < e && *p == ':') {
        p++;
        if (!digits(&p, e, 2, &om))
          return 0;
      } else if (p < e && !digits(&p, e, 2, &om)) {
        return 0;
      }
      if (oh > 23 || om > 59)
        return 0;
      off_min = sign * (oh * 60 + om);
    }
    if (p != e)
      return 0;
  }
  struct tm tm = {0};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t secs = (int64_t)timegm(&tm) - (int64_t)off_min * 60;
  *us = secs * US_PER_SEC + frac_us;
  return 1;
}

reqlog_err reqlog_parse_time(const char *text, int64_t now_us, int64_t *us) {
  if (!text || !us)
    return REQLOG_ERR_ARG;
  const char *s, *e;
  trim(text, &s, &e);
  int64_t age;
  if (parse_age(s, e, &age)) {
    if (now_us < INT64_MIN + age)
      return REQLOG_ERR_ARG;
    *us = now_us - age;
    return REQLOG_OK;
  }
  return parse_iso(s, e, us) ? REQLOG_OK : REQLOG_ERR_ARG;
}
