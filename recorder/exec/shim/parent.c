/* parent.c: the shim's connection to the `reqlog exec` parent. One stream connection
 * per process, opened on the first record, so frames from several processes never
 * interleave; a forked child notices the new pid and opens its own. Nothing here may
 * change what the traced program sees: no signal, no message, no blocked exit when the
 * parent is gone. */
#include "exec/shim/shim.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "exec/shim_wire.h"

/* A parent that stops reading for this long is given up: the program goes on. */
#define SEND_TIMEOUT_S 10

static struct sockaddr_un addr;
static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t conn_pid;       /* the process conn_fd belongs to; 0 before the first send */
static int conn_fd = -1;
static dev_t conn_dev;       /* what conn_fd was when opened: a program that closes */
static ino_t conn_ino;       /* every descriptor may have reused the number since */

int shim_parent_init(const char *path) {
  if (!path || !*path || strlen(path) >= sizeof addr.sun_path)
    return -1;
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, strlen(path) + 1);
  return 0;
}

void shim_parent_lock(void) {
  pthread_mutex_lock(&send_lock);
}

void shim_parent_unlock(void) {
  pthread_mutex_unlock(&send_lock);
}

/* Still the socket this process opened? */
static int conn_valid(void) {
  struct stat st;
  return conn_fd >= 0 && fstat(conn_fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
         st.st_dev == conn_dev && st.st_ino == conn_ino;
}

static int connect_parent(void) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct timeval tv = {SEND_TIMEOUT_S, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct stat st;
  int rc;
  do
    rc = connect(fd, (const struct sockaddr *)&addr, sizeof addr);
  while (rc != 0 && errno == EINTR);
  if (rc != 0 || fstat(fd, &st) != 0) {
    close(fd);
    return -1;
  }
  conn_dev = st.st_dev;
  conn_ino = st.st_ino;
  return fd;
}

/* Sends one frame (LEN bytes, malloc'd, freed here) to the parent, connecting first if
 * this process has not. */
static void send_frame(unsigned char *frame, size_t len) {
  int saved_errno = errno;
  pthread_mutex_lock(&send_lock);
  pid_t me = getpid();
  if (conn_pid != me) {
    /* first record of this process; a forked child drops the copy of its parent's
     * connection (the parent process keeps its own) */
    if (conn_pid != 0 && conn_valid())
      close(conn_fd);
    conn_pid = me;
    conn_fd = connect_parent();
  }
  if (conn_fd >= 0 && !conn_valid())
    conn_fd = -1; /* the program closed it; the number is not ours to touch now */
  if (conn_fd >= 0 && wire_send(conn_fd, frame, len) != 0) {
    /* parent gone or stuck: a half-sent frame makes the stream useless, stop here */
    close(conn_fd);
    conn_fd = -1;
  }
  pthread_mutex_unlock(&send_lock);
  errno = saved_errno;
  free(frame);
}

void shim_parent_send(const record *rec) {
  unsigned char *frame;
  size_t len;
  if (addr.sun_path[0] && wire_encode_record(rec, &frame, &len) == 0)
    send_frame(frame, len);
}

void shim_parent_send_unseen(const wire_unseen *u) {
  unsigned char *frame;
  size_t len;
  if (addr.sun_path[0] && wire_encode_unseen(u, &frame, &len) == 0)
    send_frame(frame, len);
}
