/* stop.c: the server's stop flag as the threads that outlive a request see it (the live
 * tail's poll loop, the slow-client reaper): asking whether the server is stopping, and
 * sleeping until a time or until it stops, whichever comes first. web_stop() raises it. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "web_int.h"

int web_stopping(struct web_server *s) {
  pthread_mutex_lock(&s->lock);
  int stop = s->stopping;
  pthread_mutex_unlock(&s->lock);
  return stop;
}

int web_sleep(struct web_server *s, long ms) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&s->lock);
  while (!s->stopping && pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT)
    ;
  int stop = s->stopping;
  pthread_mutex_unlock(&s->lock);
  return stop;
}
