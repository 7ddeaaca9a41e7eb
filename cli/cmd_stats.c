/* cmd_stats.c: `reqlog stats`: counts by status, latency percentiles, 429s and per-key
 * usage over the calls matching the filters, readable or as JSON; with --storage, where
 * the history's disk goes instead (bytes per call by part). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog stats [FILTERS] [--json]\n"
  "       reqlog stats --storage [--json]\n"
  "\n"
  "Summarises the calls matching the filters: totals by status class and by status,\n"
  "p50/p95/p99/max latency, 429s, transport errors, and per key the number of calls\n"
  "and the busiest minute against the client-side rate limit.\n"
  "\n"
  "With --storage: the history's size by part (the calls table, the search index,\n"
  "each other index, the other tables), per call, and its header JSON and bodies as\n"
  "stored (packed with zstd) against their size as recorded.\n"
  "\n"
  "Options:\n"
  "  --json        the statistics as one JSON object\n"
  "  --storage     where the disk goes instead (no filters)\n"
  "  -h, --help    this help\n"
  "\n" CLI_FILTER_HELP
  "\n"
  "Examples:\n"
  "  reqlog stats --since 24h --path /participants\n"
  "  reqlog stats --storage\n";

static void print_counts(const cJSON *obj, const char *title) {
  const cJSON *item;
  int first = 1;
  printf("%-14s", title);
  cJSON_ArrayForEach(item, obj) {
    if (!cJSON_IsNumber(item) || item->valuedouble == 0)
      continue;
    printf("%s%s %.0f", first ? "" : " · ", item->string, item->valuedouble);
    first = 0;
  }
  puts(first ? "-" : "");
}

/* EXACT false: read from the daily histogram, within 0.5% (reqlog.h). */
static void print_latency(const cJSON *lat, int exact) {
  static const char *const names[] = {"p50", "p95", "p99", "max"};
  printf("%-14s", "latency");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(lat, names[i]);
    printf("%s%s ", i ? " · " : "", names[i]);
    if (cJSON_IsNumber(v))
      printf("%s%.1f ms", exact ? "" : "≈", v->valuedouble);
    else
      fputs("-", stdout);
  }
  fputs(exact ? "\n" : "  (≈ within 0.5%: whole days from the histogram)\n", stdout);
}

static void print_keys(const cJSON *keys, int color) {
  if (!cJSON_GetArraySize(keys))
    return;
  printf("\n%-16s  %8s  %8s  %6s\n", "KEY", "CALLS", "PEAK/MIN", "LIMIT");
  const cJSON *k;
  cJSON_ArrayForEach(k, keys) {
    const char *key = cli_str(k, "key");
    double peak = cli_num(k, "peak_per_minute", 0), limit = cli_num(k, "limit", -1);
    char lim[32] = "-";
    if (limit >= 0)
      snprintf(lim, sizeof lim, "%.0f", limit);
    cli_pad(stdout, key ? key : "(no key)", 16, 0);
    printf("  %8.0f  %s%8.0f%s  %6s\n", cli_num(k, "count", 0),
           limit >= 0 && peak > limit && color ? "\033[31m" : "", peak,
           limit >= 0 && peak > limit ? CLI_RESET(color) : "", lim);
  }
}

static void print_readable(const cJSON *s) {
  char a[64], b[64];
  int color = cli_color();
  double total = cli_num(s, "total", 0);
  printf("%-14s%.0f", "calls", total);
  if (total > 0)
    printf("  (%s to %s)", cli_local_time(cli_str(s, "first"), 0, a),
           cli_local_time(cli_str(s, "last"), 0, b));
  fputc('\n', stdout);
  if (total == 0)
    return;
  print_counts(cJSON_GetObjectItemCaseSensitive(s, "by_class"), "by class");
  print_counts(cJSON_GetObjectItemCaseSensitive(s, "by_status"), "by status");
  print_latency(cJSON_GetObjectItemCaseSensitive(s, "latency_ms"),
                !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "latency_exact")));
  printf("%-14s%.0f\n", "429s", cli_num(s, "rate_limited", 0));
  printf("%-14s%.0f\n", "no response", cli_num(s, "errors", 0));
  print_keys(cJSON_GetObjectItemCaseSensitive(s, "keys"), color);
}

#define MB(x) ((x) / 1e6)

/* One part of --storage: its size, per call, and NOTE (may be NULL). */
static void print_part(const char *name, double bytes, double calls, const char *note) {
  printf("  %-14s %9.1f MB %7.0f B/call%s%s\n", name, MB(bytes),
         calls > 0 ? bytes / calls : 0.0, note ? "  " : "", note ? note : "");
}

static void print_storage(const cJSON *s) {
  const cJSON *parts = cJSON_GetObjectItemCaseSensitive(s, "parts");
  const cJSON *packed = cJSON_GetObjectItemCaseSensitive(s, "packed");
  double calls = cli_num(s, "calls", 0), file = cli_num(s, "file_bytes", 0);
  printf("%-14s%.1f MB for %.0f calls: %.0f bytes a call\n", "storage", MB(file), calls,
         calls > 0 ? file / calls : 0.0);
  char note[512] = "";
  double stored = cli_num(packed, "headers_stored", 0) + cli_num(packed, "bodies_stored", 0);
  double plain = cli_num(packed, "headers_plain", 0) + cli_num(packed, "bodies_plain", 0);
  if (plain > 0)
    snprintf(note, sizeof note, "(of it header JSON and bodies %.1f MB, packed from %.1f MB"
             " as recorded: %.1fx)", MB(stored), MB(plain), stored > 0 ? plain / stored : 0.0);
  print_part("calls", cli_num(parts, "calls", 0), calls, note[0] ? note : NULL);
  if (cJSON_GetObjectItemCaseSensitive(parts, "search_index"))
    print_part("search index", cli_num(parts, "search_index", 0), calls, NULL);
  size_t n = 0;
  const cJSON *ix;
  note[0] = '\0';
  cJSON_ArrayForEach(ix, cJSON_GetObjectItemCaseSensitive(s, "indexes"))
    if (n < sizeof note - 64)
      n += (size_t)snprintf(note + n, sizeof note - n, "%s%s %.1f", n ? ", " : "(",
                            ix->string, MB(ix->valuedouble));
  if (n)
    snprintf(note + n, sizeof note - n, ")");
  print_part("indexes", cli_num(parts, "indexes", 0), calls, n ? note : NULL);
  print_part("other tables", cli_num(parts, "other_tables", 0), calls, NULL);
  if (cJSON_GetObjectItemCaseSensitive(parts, "free_pages"))
    print_part("free pages", cli_num(parts, "free_pages", 0), calls, NULL);
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  reqlog_filter *filter = NULL;
  reqlog *r = NULL;
  cJSON *stats = NULL;
  int json = 0, storage = 0;
  int rc = cli_filter_json_args(self, argc, argv, &filter, &json, &storage);
  if (rc >= 0)
    goto done;
  rc = cli_open_db(ctx, "stats", 1, &r);
  if (rc != CLI_EXIT_OK)
    goto done;
  char *cause = NULL;
  reqlog_err err = storage ? reqlog_storage(r, &stats, &cause)
                           : reqlog_stats(r, filter, &stats, &cause);
  if (err != REQLOG_OK) {
    rc = cli_lib_error("stats", err, cause);
    goto done;
  }
  if (json) {
    char *text = cli_json_print(stats, 1);
    puts(text);
    free(text);
  } else if (storage) {
    print_storage(stats);
  } else {
    print_readable(stats);
  }
  rc = cli_finish_stdout("stats");

done:
  cJSON_Delete(stats);
  reqlog_close(r);
  if (filter)
    reqlog_filter_free(filter);
  return rc;
}

const cli_command cmd_stats = {
  .name = "stats",
  .summary = "counts, latency percentiles, 429s and per-key usage",
  .usage = usage_text,
  .run = run,
};
