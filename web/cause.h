/* cause.h: the message a failing start of a web/ server (the dashboard, the mock) gives
 * its caller, as include/reqlog_web.h and reqlog_mock.h promise: malloc'd, freed with
 * free(). */
#ifndef REQLOG_WEB_CAUSE_H
#define REQLOG_WEB_CAUSE_H

/* Sets *cause (when CAUSE is not NULL) to the printf-formatted message (NULL when out of
 * memory) and returns -1, so error paths read `return web_fail(cause, "...", ...);`. */
int web_fail(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
