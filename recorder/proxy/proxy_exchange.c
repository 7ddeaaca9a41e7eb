/* proxy_exchange.c: the lifetime of one proxied exchange (a client's request, its upstream
 * transfer and its record): made when MHD sees the request-target, freed when the last of
 * its holders (the MHD request, the MHD response, the transfer) lets go; and parking its
 * client connection in MHD while it waits for the upstream. */
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"

exchange *proxy_exchange_new(loop *p, const char *target) {
  exchange *ex = calloc(1, sizeof *ex);
  if (!ex)
    return NULL;
  ex->target = strdup(target);
  if (!ex->target) {
    free(ex);
    return NULL;
  }
  ex->p = p;
  ex->refs = 1;
  /* reqlog_proxy_stats: only this loop's thread writes its count */
  atomic_store_explicit(&p->exchanges,
                        atomic_load_explicit(&p->exchanges, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  ex->body_len = -1;
  return ex;
}

void proxy_exchange_unref(exchange *ex) {
  if (--ex->refs > 0)
    return;
  if (ex->reqdec_on)
    bodydec_end(&ex->reqdec);
  if (ex->respdec_on)
    bodydec_end(&ex->respdec);
  record_free(ex->rec);
  curl_slist_free_all(ex->headers);
  free(ex->up.buf);
  free(ex->resp.buf);
  free(ex->head.data);
  free(ex->error);
  free(ex->method);
  free(ex->target);
  free(ex);
}

void proxy_exchange_park(exchange *ex) {
  if (ex->suspended || !ex->conn)
    return;
  MHD_suspend_connection(ex->conn);
  ex->suspended = 1;
  ex->p->nsuspended++;
}

void proxy_exchange_wake(exchange *ex) {
  if (!ex->suspended)
    return;
  ex->suspended = 0;
  ex->p->nsuspended--;
  ex->p->resumed = 1;
  MHD_resume_connection(ex->conn);
}
