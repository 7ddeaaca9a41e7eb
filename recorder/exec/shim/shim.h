/* shim.h: what the files of the exec shim share. The shim is preloaded into programs
 * that `reqlog exec` runs; it records their libcurl transfers with a capture session
 * and sends each finished one to the parent (see recorder/exec/shim_wire.h). Everything in
 * it is hidden except the interposed libcurl functions (interpose.c). */
#ifndef REQLOG_SHIM_H
#define REQLOG_SHIM_H

#include "capture/record.h"
#include "exec/shim_wire.h"

/* Non-zero when the shim records: the environment names a parent (read once, on the
 * first call, whoever makes it). */
int shim_active(void);

/* Remembers PATH (copied), the parent's socket; the connection opens with the first
 * record. Call once, at load time. Returns 0, or -1 when PATH is NULL, empty or too
 * long for a socket address: then the shim should stay out of the way. */
int shim_parent_init(const char *path);

/* Sends REC to the parent. Silent: when the parent is gone, nothing happens and the
 * program never notices. Thread-safe; a forked child opens its own connection. */
void shim_parent_send(const record *rec);

/* Sends U to the parent, as shim_parent_send sends a record. */
void shim_parent_send_unseen(const wire_unseen *u);

/* Taken around fork() with the shim's other locks (pthread_atfork), so a child never
 * starts with the sending lock held by a thread it does not have. */
void shim_parent_lock(void);
void shim_parent_unlock(void);

#endif
