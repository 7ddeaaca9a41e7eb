/* pg_ship.h: the shipper's parts inside recorder/pg/: a shipper over one spool
 * (pg_ship.c: one batch at a time), used by the run loop and the status
 * (pg_shiprun.c, pg_shipstatus.c) behind include/reqlog_ship.h. */
#ifndef REQLOG_PG_SHIP_H
#define REQLOG_PG_SHIP_H

#include <stdint.h>
#include "pg/pg.h"
#include "pg/pg_spool.h"

typedef struct pg_shipper pg_shipper;

/* A shipper of the history at SPOOL (opened read-only; HERE: this process records into
 * it, see pg_spool_open_here()), not connected yet. */
reqlog_err pg_ship_open(const char *spool, int here, pg_shipper **out, char **cause);
void pg_ship_close(pg_shipper *s);
/* (Re)connects to the store URL (pg_open: migrations applied). */
reqlog_err pg_ship_connect(pg_shipper *s, const char *url, char **cause);
int pg_ship_connected(const pg_shipper *s);
int64_t pg_ship_history(const pg_shipper *s);
pg_spool *pg_ship_spool(pg_shipper *s);
/* The highest spool id the store has of this history (0: none). */
reqlog_err pg_ship_shipped(pg_shipper *s, int64_t *id, char **cause);
/* Ships the next batch; *shipped gets its rows, 0 when there was nothing to ship (or
 * another shipper of this spool moved on first: ask again). */
reqlog_err pg_ship_batch(pg_shipper *s, int *shipped, char **cause);

#endif
