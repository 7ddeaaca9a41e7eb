/* fakeapi_state.c: the fake API's shared state and the rules that use it: which keys
 * exist, bearer-token checks, the per-key fixed-window rate limit, hit and /flaky
 * counters, and sleeping that a stop cuts short. Everything mutable is under api->lock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "fakeapi_int.h"

static const char *const default_keys[] = {FAKEAPI_KEY, FAKEAPI_KEY2, NULL};
static const char *const default_readonly[] = {FAKEAPI_KEY_RO, NULL};

static long long monotonic_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t count_strings(const char *const *list)
{
  size_t n = 0;
  while (list[n] != NULL)
    n++;
  return n;
}

/* Appends LIST to api->keys; a key listed twice keeps one entry, readonly if either
 * listing says so. */
static int add_keys(fakeapi *api, const char *const *list, bool readonly)
{
  size_t i, j;

  for (i = 0; list[i] != NULL; i++) {
    for (j = 0; j < api->nkeys; j++)
      if (strcmp(api->keys[j].key, list[i]) == 0)
        break;
    if (j < api->nkeys) {
      api->keys[j].readonly = api->keys[j].readonly || readonly;
      continue;
    }
    api->keys[j].key = strdup(list[i]);
    if (api->keys[j].key == NULL)
      return -1;
    api->keys[j].readonly = readonly;
    api->nkeys++;
  }
  return 0;
}

const char *fa_state_init(fakeapi *api, const fakeapi_opts *opts)
{
  static const fakeapi_opts defaults;
  const char *const *keys, *const *readonly;
  pthread_condattr_t attr;

  if (opts == NULL)
    opts = &defaults;
  if (opts->rate < 0 || opts->window_ms < 0 || opts->port < 0 || opts->port > 65535)
    return "invalid options: port, rate and window_ms must not be negative";
  api->rate = opts->rate ? opts->rate : FAKEAPI_DEFAULT_RATE;
  api->window_ms = opts->window_ms ? opts->window_ms : FAKEAPI_DEFAULT_WINDOW_MS;

  /* /slow waits on a monotonic clock, so a wall-clock jump cannot stretch it. */
  if (pthread_condattr_init(&attr) != 0)
    return "cannot create a condition variable";
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (pthread_cond_init(&api->wake, &attr) != 0) {
    pthread_condattr_destroy(&attr);
    return "cannot create a condition variable";
  }
  pthread_condattr_destroy(&attr);
  if (pthread_mutex_init(&api->lock, NULL) != 0) {
    pthread_cond_destroy(&api->wake);
    return "cannot create a mutex";
  }
  api->locks_ready = true;

  keys = opts->keys ? opts->keys : default_keys;
  readonly = opts->readonly_keys ? opts->readonly_keys : default_readonly;
  api->keys = calloc(count_strings(keys) + count_strings(readonly) + 1,
                     sizeof *api->keys);
  if (api->keys == NULL || add_keys(api, keys, false) != 0 ||
      add_keys(api, readonly, true) != 0)
    return "out of memory";
  return NULL;
}

static void free_counters(struct fa_counter *c)
{
  while (c != NULL) {
    struct fa_counter *next = c->next;
    free(c->name);
    free(c);
    c = next;
  }
}

void fa_state_free(fakeapi *api)
{
  size_t i;

  for (i = 0; i < api->nkeys; i++)
    free(api->keys[i].key);
  free(api->keys);
  free_counters(api->hits);
  free_counters(api->flaky);
  if (api->locks_ready) {
    pthread_mutex_destroy(&api->lock);
    pthread_cond_destroy(&api->wake);
  }
}

/* The token of "Bearer <token>" (the scheme is case-insensitive, RFC 7235), or NULL
 * when the value has another scheme or an empty token. */
static const char *bearer_token(const char *value, size_t *len)
{
  const char *t;
  size_t n;

  if (value == NULL || strncasecmp(value, "Bearer", 6) != 0 ||
      (value[6] != ' ' && value[6] != '\t'))
    return NULL;
  t = value + 6;
  while (*t == ' ' || *t == '\t')
    t++;
  n = strlen(t);
  while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
    n--;
  if (n == 0 || memchr(t, ' ', n) != NULL)
    return NULL;
  *len = n;
  return t;
}

enum fa_auth fa_authenticate(fakeapi *api, const char *authorization,
                             struct fa_key **key)
{
  size_t i, n = 0;
  const char *token = bearer_token(authorization, &n);

  *key = NULL;
  if (token == NULL)
    return FA_AUTH_UNAUTHENTICATED;
  /* The key table never changes after start, so no lock is needed to read it. */
  for (i = 0; i < api->nkeys; i++) {
    if (strlen(api->keys[i].key) == n && memcmp(api->keys[i].key, token, n) == 0) {
      *key = &api->keys[i];
      return FA_AUTH_OK;
    }
  }
  if (strlen(FAKEAPI_KEY_REVOKED) == n && memcmp(FAKEAPI_KEY_REVOKED, token, n) == 0)
    return FA_AUTH_REVOKED;
  return FA_AUTH_UNAUTHENTICATED;
}

/* A fixed window per key that opens with the key's first request, as Laravel's
 * throttle middleware does: refused requests do not count. */
struct fa_rate fa_rate_take(fakeapi *api, struct fa_key *key)
{
  struct fa_rate rate = {.limit = api->rate};
  long long now = monotonic_ms(), left_ms;

  pthread_mutex_lock(&api->lock);
  if (key->count == 0 || now - key->window_start_ms >= api->window_ms) {
    key->window_start_ms = now;
    key->count = 0;
  }
  if (key->count < api->rate) {
    key->count++;
    rate.allowed = true;
    rate.remaining = api->rate - key->count;
  } else {
    left_ms = key->window_start_ms + api->window_ms - now;
    rate.retry_after_s = (long)((left_ms + 999) / 1000);
    if (rate.retry_after_s < 1)
      rate.retry_after_s = 1;
    rate.reset_unix = (long long)time(NULL) + rate.retry_after_s;
  }
  pthread_mutex_unlock(&api->lock);
  return rate;
}

long fa_count(fakeapi *api, struct fa_counter **list, const char *name)
{
  struct fa_counter *c;
  long n = -1;

  pthread_mutex_lock(&api->lock);
  for (c = *list; c != NULL; c = c->next)
    if (strcmp(c->name, name) == 0)
      break;
  if (c == NULL) {
    c = calloc(1, sizeof *c);
    if (c != NULL)
      c->name = strdup(name);
    if (c != NULL && c->name == NULL) {
      free(c);
      c = NULL;
    }
    if (c != NULL) {
      c->next = *list;
      *list = c;
    }
  }
  if (c != NULL)
    n = ++c->n;
  pthread_mutex_unlock(&api->lock);
  return n;
}

long fakeapi_hits(const fakeapi *f, const char *path_prefix)
{
  /* Counting needs the lock, which a const pointer cannot take: F itself is not
   * changed. */
  fakeapi *api = (fakeapi *)f;
  const struct fa_counter *c;
  size_t plen = path_prefix ? strlen(path_prefix) : 0;
  long total = 0;

  if (api == NULL)
    return 0;
  pthread_mutex_lock(&api->lock);
  for (c = api->hits; c != NULL; c = c->next)
    if (plen == 0 || strncmp(c->name, path_prefix, plen) == 0)
      total += c->n;
  pthread_mutex_unlock(&api->lock);
  return total;
}

long fa_next_created_id(fakeapi *api)
{
  long id;

  pthread_mutex_lock(&api->lock);
  id = 100 + ++api->created;
  pthread_mutex_unlock(&api->lock);
  return id;
}

bool fa_sleep_ms(fakeapi *api, long ms)
{
  struct timespec deadline;
  bool stopped;

  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&api->lock);
  while (!api->stopping) {
    /* Other wake-ups are spurious or a stop: the loop condition decides. */
    if (pthread_cond_timedwait(&api->wake, &api->lock, &deadline) == ETIMEDOUT)
      break;
  }
  stopped = api->stopping;
  pthread_mutex_unlock(&api->lock);
  return !stopped;
}
