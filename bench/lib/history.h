/* history.h: what bench/gen_history.c puts into a generated history and bench/web.c
 * queries for: the API keys (stored as their fingerprints), the search words, the path. */
#ifndef REQLOG_BENCH_HISTORY_H
#define REQLOG_BENCH_HISTORY_H

#define HISTORY_NKEYS 5
/* Made-up keys of the five API clients; rows hold only reqlog_key_fingerprint() of them.
 * The first is the busiest. */
static const char *const HISTORY_KEYS[HISTORY_NKEYS] = {
  "astalty_live_Jq3v9Xw2LmP8sT4kZr7N", "astalty_live_Hb6cY1uQe5Wn0gKd2Fx8",
  "astalty_live_Pz4tR8mV3jC7aLs1Eq9D", "astalty_live_Ux2nG6hB0yK5wTf3Mc7S",
  "astalty_live_Wr9eD4pJ7vN1qZb6Ly0H"};

/* A word in a handful of request bodies, and one in about a quarter of all rows. */
#define HISTORY_RARE_WORD "quokkabridge"
#define HISTORY_RARE_ROWS 7
#define HISTORY_COMMON_WORD "physiotherapy"

#define HISTORY_BASE "https://api.app.astalty.com.au/public/v1"
#define HISTORY_PATH_PREFIX "/public/v1/participants"
#define HISTORY_DAYS 30

#endif
