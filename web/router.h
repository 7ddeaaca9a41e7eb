/* router.h: from a complete request to its answer: the security checks in their order
 * (Host, then token, then Origin for POST), then method + path to a handler, or
 * 404 / 405 with Allow. */
#ifndef REQLOG_WEB_ROUTER_H
#define REQLOG_WEB_ROUTER_H

#include "web_int.h"

/* Answers Q, whose body (if any) has been received and was small enough. */
enum MHD_Result router_dispatch(web_req *q);

#endif
