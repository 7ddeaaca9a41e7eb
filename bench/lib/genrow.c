/* genrow.c: the rows of a realistic generated history (genrow.h), for the benchmarks'
 * generators (bench/gen_history.c into a SQLite history, bench/gen_pg.c into the team
 * store): 30 endpoints under /public/v1 (ids in the paths), 5 keys (fingerprints as
 * reqlog_key_fingerprint writes them), statuses 200/201/401/403/404/422/429 in a
 * realistic mix, 429s followed by their retry (attempt 2, retry_of), ~500 B JSON bodies,
 * request/response headers, the API's message and per-field errors for 4xx answers,
 * timing phases, SHA-256 of the bodies; start times over the last 30 days with a
 * working-day rhythm. One word (history.h) is in a handful of request bodies, another in
 * about a quarter of the rows. Deterministic for a given N, apart from where "now" is. */
#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "genrow.h"
#include "history.h"

#define US_PER_S INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_S)

/* ------------------------------------------------------------------ randomness */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1du;
}

static double uniform(void) {
  return (double)(rnd() >> 11) / 9007199254740992.0;
}

static int below(int n) {
  return (int)(uniform() * n);
}

/* Index drawn from WEIGHTS[0..N) (any positive scale). */
static int weighted(const int *weights, int n) {
  int total = 0;
  for (int i = 0; i < n; i++)
    total += weights[i];
  int x = below(total);
  for (int i = 0; i < n; i++) {
    if (x < weights[i])
      return i;
    x -= weights[i];
  }
  return n - 1;
}

static double normal(void) { /* Box-Muller */
  double u = uniform(), v = uniform();
  return sqrt(-2.0 * log(u > 1e-12 ? u : 1e-12)) * cos(2.0 * M_PI * v);
}

#define PICK(arr) (arr[below((int)(sizeof arr / sizeof arr[0]))])

/* ------------------------------------------------------------------ vocabulary */

static const char *const FIRST[] = {
  "Ada", "Liam", "Olivia", "Noah", "Charlotte", "Oliver", "Amelia", "Jack", "Isla", "William",
  "Mia", "Henry", "Ava", "Leo", "Grace", "Lucas", "Chloe", "Thomas", "Zoe", "James", "Ruby",
  "Ethan", "Sophie", "Mason", "Harper", "Hudson", "Matilda", "Archie", "Evie", "Oscar"};
static const char *const LAST[] = {
  "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Johnson", "Martin",
  "White", "Anderson", "Walker", "Thompson", "Thomas", "Lee", "Ryan", "Robinson", "Kelly",
  "King", "Harris", "Davis", "Wright", "Evans", "Clarke", "Hughes", "Murphy", "Tran", "Singh"};
static const char *const SUBURBS[] = {
  "Parramatta", "Fitzroy", "Toowong", "Glenelg", "Subiaco", "Newtown", "Carlton", "Fremantle",
  "Hobart", "Geelong", "Ballarat", "Wollongong", "Townsville", "Cairns", "Darwin", "Bendigo"};
static const char *const STATES[] = {"NSW", "VIC", "QLD", "SA", "WA", "TAS", "NT", "ACT"};
static const char *const WORDS[] = {
  "session", "completed", "mobility", "improving", "review", "goals", "support", "worker",
  "attended", "appointment", "cancelled", "rescheduled", "family", "contacted", "plan",
  "funding", "assessment", "occupational", "therapy", "speech", "progress", "notes",
  "transport", "community", "access", "daily", "living", "skills", "capacity", "building",
  "behaviour", "report", "invoice", "claim", "approved", "pending", "referral", "received",
  "coordinator", "meeting", "scheduled", "weekly", "monthly", "quarterly", "home", "visit",
  "equipment", "wheelchair", "ramp", "hoist", "shower", "chair", "medication", "reminder",
  "consent", "signed", "updated", "address", "phone", "email", "guardian", "nominee",
  "respite", "overnight", "group", "activity", "swimming", "art", "music", "cooking"};
static const char *const FIELDS[] = {
  "email", "first_name", "last_name", "date_of_birth", "phone", "ndis_number", "starts_at",
  "ends_at", "service_id", "staff_id", "participant_id", "amount", "status", "address.postcode"};
static const char *const FIELD_MSGS[] = {
  "The %s field is required.", "The %s must be a valid value.",
  "The %s has already been taken.", "The %s may not be greater than 255 characters.",
  "The %s format is invalid."};
static const char *const STATUS_WORDS[] = {"active", "inactive", "pending", "archived"};

/* ------------------------------------------------------------------ endpoints */

typedef enum { E_PARTICIPANT, E_STAFF, E_APPOINTMENT, E_NOTE, E_INVOICE, E_OTHER } entity;

static const struct endpoint {
  const char *path;     /* under /public/v1; "%d" is an id */
  int weight;
  entity kind;
  int writable;         /* POST (collection) or PATCH (item) happen here */
} ENDPOINTS[30] = {
  {"/participants", 140, E_PARTICIPANT, 1},
  {"/participants/%d", 120, E_PARTICIPANT, 1},
  {"/participants/%d/notes", 60, E_NOTE, 1},
  {"/participants/%d/contacts", 25, E_PARTICIPANT, 1},
  {"/participants/%d/funding", 20, E_INVOICE, 0},
  {"/participants/%d/appointments", 30, E_APPOINTMENT, 0},
  {"/staff", 40, E_STAFF, 1},
  {"/staff/%d", 35, E_STAFF, 1},
  {"/staff/%d/availability", 15, E_APPOINTMENT, 1},
  {"/appointments", 80, E_APPOINTMENT, 1},
  {"/appointments/%d", 60, E_APPOINTMENT, 1},
  {"/invoices", 35, E_INVOICE, 1},
  {"/invoices/%d", 25, E_INVOICE, 1},
  {"/invoices/%d/lines", 10, E_INVOICE, 0},
  {"/services", 20, E_OTHER, 0},
  {"/services/%d", 8, E_OTHER, 0},
  {"/locations", 10, E_OTHER, 0},
  {"/notes", 30, E_NOTE, 1},
  {"/notes/%d", 20, E_NOTE, 1},
  {"/groups", 10, E_OTHER, 1},
  {"/groups/%d/members", 8, E_PARTICIPANT, 1},
  {"/referrals", 12, E_PARTICIPANT, 1},
  {"/documents", 15, E_OTHER, 1},
  {"/documents/%d", 10, E_OTHER, 0},
  {"/forms", 6, E_OTHER, 0},
  {"/form-responses", 10, E_NOTE, 1},
  {"/tasks", 14, E_NOTE, 1},
  {"/shifts", 18, E_APPOINTMENT, 1},
  {"/timesheets", 12, E_STAFF, 1},
  {"/users/me", 25, E_STAFF, 0},
};

static const char *const SOURCES[] = {"library", "cli", "proxy", "exec"};
static const int SOURCE_W[] = {60, 15, 17, 8};
static const int KEY_W[HISTORY_NKEYS] = {40, 25, 18, 11, 6};

/* ------------------------------------------------------------------ bodies */

static void add_str(cJSON *o, const char *name, const char *v) {
  cJSON_AddItemToObject(o, name, cJSON_CreateString(v));
}

static void add_num(cJSON *o, const char *name, double v) {
  cJSON_AddItemToObject(o, name, cJSON_CreateNumber(v));
}

/* Did this row get the common word? (gen_row.common) */
static int common_hit;

/* A free-text note of a few ordinary words; about a third of them name the common word. */
static void note_text(char *out, size_t cap, int words) {
  size_t n = 0;
  int common = below(100) < 30;
  int at = common ? below(words) : -1;
  for (int w = 0; w < words && n + 40 < cap; w++) {
    const char *word = w == at ? HISTORY_COMMON_WORD : PICK(WORDS);
    n += (size_t)snprintf(out + n, cap - n, "%s%s", w ? " " : "", word);
  }
  if (common)
    common_hit = 1;
  snprintf(out + n, cap - n, ".");
}

static void iso_date(char *out, size_t cap, int64_t us) {
  time_t t = (time_t)(us / US_PER_S);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, cap, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
}

/* One object of KIND as the API returns it (about 300-450 bytes printed). */
static cJSON *entity_json(entity kind, int id, int64_t at_us) {
  cJSON *o = cJSON_CreateObject();
  char buf[256], when[40];
  add_num(o, "id", id);
  const char *first = PICK(FIRST), *last = PICK(LAST);
  switch (kind) {
  case E_PARTICIPANT:
  case E_STAFF:
    add_str(o, "first_name", first);
    add_str(o, "last_name", last);
    snprintf(buf, sizeof buf, "%c%s.%s%d@example.org", first[0] | 0x20, last, "p", id % 9973);
    for (char *p = buf; *p; p++)
      *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    add_str(o, "email", buf);
    snprintf(buf, sizeof buf, "04%02d %03d %03d", below(100), below(1000), below(1000));
    add_str(o, "phone", buf);
    if (kind == E_PARTICIPANT) {
      snprintf(buf, sizeof buf, "43%07d", id * 7919 % 10000000);
      add_str(o, "ndis_number", buf);
      cJSON *addr = cJSON_AddObjectToObject(o, "address");
      snprintf(buf, sizeof buf, "%d %s Street", 1 + below(200), PICK(LAST));
      add_str(addr, "street", buf);
      add_str(addr, "suburb", PICK(SUBURBS));
      add_str(addr, "state", PICK(STATES));
      snprintf(buf, sizeof buf, "%04d", 2000 + below(5000));
      add_str(addr, "postcode", buf);
    } else {
      add_str(o, "role", below(4) ? "support_worker" : "coordinator");
    }
    break;
  case E_APPOINTMENT:
    add_num(o, "participant_id", 1 + below(5000));
    add_num(o, "staff_id", 1 + below(400));
    iso_date(when, sizeof when, at_us + (int64_t)below(14) * US_PER_DAY);
    add_str(o, "starts_at", when);
    add_num(o, "duration_minutes", 30 * (1 + below(6)));
    add_str(o, "service", "Therapy supports");
    add_str(o, "location", PICK(SUBURBS));
    break;
  case E_NOTE:
    add_num(o, "participant_id", 1 + below(5000));
    add_str(o, "author", first);
    break;
  case E_INVOICE:
    add_num(o, "participant_id", 1 + below(5000));
    snprintf(buf, sizeof buf, "INV-%06d", id);
    add_str(o, "number", buf);
    add_num(o, "amount", (double)below(500000) / 100.0);
    add_str(o, "currency", "AUD");
    break;
  case E_OTHER:
    snprintf(buf, sizeof buf, "%s %s", PICK(WORDS), PICK(WORDS));
    add_str(o, "name", buf);
    break;
  }
  note_text(buf, sizeof buf, kind == E_NOTE ? 14 + below(10) : 4 + below(6));
  add_str(o, kind == E_NOTE ? "body" : "notes", buf);
  add_str(o, "status", PICK(STATUS_WORDS));
  cJSON *tags = cJSON_AddArrayToObject(o, "tags");
  for (int t = 1 + below(3); t > 0; t--)
    cJSON_AddItemToArray(tags, cJSON_CreateString(PICK(WORDS)));
  iso_date(when, sizeof when, at_us - (int64_t)below(300) * US_PER_DAY);
  add_str(o, "created_at", when);
  iso_date(when, sizeof when, at_us - (int64_t)below(30) * US_PER_DAY);
  add_str(o, "updated_at", when);
  return o;
}

/* A request body for a POST/PATCH of KIND (about 150-300 bytes). */
static cJSON *request_json(entity kind, int rare) {
  cJSON *o = cJSON_CreateObject();
  char buf[256];
  const char *first = PICK(FIRST), *last = PICK(LAST);
  switch (kind) {
  case E_PARTICIPANT:
  case E_STAFF:
    add_str(o, "first_name", first);
    add_str(o, "last_name", last);
    snprintf(buf, sizeof buf, "%s.%s%d@example.org", first, last, below(10000));
    add_str(o, "email", below(10) ? buf : "not-an-email");
    if (kind == E_PARTICIPANT)
      add_str(o, "date_of_birth", "1987-04-12");
    break;
  case E_APPOINTMENT:
    add_num(o, "participant_id", 1 + below(5000));
    add_num(o, "staff_id", 1 + below(400));
    add_str(o, "starts_at", "2026-12-01T09:30:00+10:00");
    add_num(o, "duration_minutes", 60);
    break;
  default:
    add_num(o, "participant_id", 1 + below(5000));
    break;
  }
  note_text(buf, sizeof buf, 6 + below(10));
  if (rare) { /* the rare word, in the middle of an ordinary note */
    size_t n = strlen(buf);
    snprintf(buf + n - 1, sizeof buf - n + 1, " near the %s entrance.", HISTORY_RARE_WORD);
  }
  add_str(o, "notes", buf);
  return o;
}

/* ------------------------------------------------------------------ one row */

typedef gen_row row;

static void sha256_hex(const char *s, char out[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
  for (unsigned i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void header(cJSON *arr, const char *name, const char *value) {
  cJSON *pair = cJSON_CreateArray();
  cJSON_AddItemToArray(pair, cJSON_CreateString(name));
  cJSON_AddItemToArray(pair, cJSON_CreateString(value));
  cJSON_AddItemToArray(arr, pair);
}

static void http_date(char *out, size_t cap, int64_t us) {
  time_t t = (time_t)(us / US_PER_S);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void make_headers(row *r, const char *fp, int remaining) {
  char buf[128];
  cJSON *rq = cJSON_CreateArray();
  header(rq, "Host", "api.app.astalty.com.au");
  snprintf(buf, sizeof buf, "Bearer %s", fp);
  header(rq, "Authorization", buf);
  header(rq, "Accept", "application/json");
  header(rq, "User-Agent", strcmp(r->source, "exec") == 0 ? "curl/7.88.1"
                                                          : "reqlog/0.1 libcurl/7.88.1");
  if (r->req_body) {
    header(rq, "Content-Type", "application/json");
    snprintf(buf, sizeof buf, "%zu", strlen(r->req_body));
    header(rq, "Content-Length", buf);
  }
  r->req_headers = cJSON_PrintUnformatted(rq);
  cJSON_Delete(rq);

  cJSON *rs = cJSON_CreateArray();
  http_date(buf, sizeof buf, r->started_at + r->duration);
  header(rs, "Date", buf);
  header(rs, "Content-Type", "application/json");
  header(rs, "Cache-Control", "no-cache, private");
  header(rs, "X-RateLimit-Limit", "60");
  snprintf(buf, sizeof buf, "%d", remaining);
  header(rs, "X-RateLimit-Remaining", buf);
  if (r->status == 429)
    header(rs, "Retry-After", "12");
  snprintf(buf, sizeof buf, "%016llx", (unsigned long long)rnd());
  header(rs, "X-Request-Id", buf);
  header(rs, "Vary", "Accept-Encoding");
  r->resp_headers = cJSON_PrintUnformatted(rs);
  cJSON_Delete(rs);
}

static void make_error(row *r) {
  cJSON *o = cJSON_CreateObject();
  const char *msg = NULL;
  switch (r->status) {
  case 401: msg = "Unauthenticated."; break;
  case 403: msg = "This action is unauthorized."; break;
  case 404: msg = "Not found."; break;
  case 422: msg = "The given data was invalid."; break;
  case 429: msg = "Too Many Attempts."; break;
  }
  add_str(o, "message", msg);
  r->error_message = strdup(msg);
  if (r->status == 422) {
    cJSON *errors = cJSON_AddObjectToObject(o, "errors");
    int n = 1 + (below(10) < 3) + (below(10) < 1);
    r->nfields = 0;
    for (int k = 0; k < n; k++) {
      const char *field = k == 0 && below(10) < 6 ? "email" : PICK(FIELDS);
      if (cJSON_HasObjectItem(errors, field))
        continue;
      char text[160];
      snprintf(text, sizeof text, PICK(FIELD_MSGS), field);
      cJSON *list = cJSON_AddArrayToObject(errors, field);
      cJSON_AddItemToArray(list, cJSON_CreateString(text));
      r->fields[r->nfields++] = field;
    }
    r->error_fields = cJSON_PrintUnformatted(errors);
  }
  r->resp_body = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
}

static void make_ok_body(row *r, const struct endpoint *e) {
  int list = strstr(e->path, "%d") == NULL || strchr(strstr(e->path, "%d") + 2, '/') != NULL;
  cJSON *o = NULL;
  if (r->status == 201 || !list) {
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "data", entity_json(e->kind, r->item_id, r->started_at));
  } else {
    o = cJSON_CreateObject();
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    int items = below(10) < 6 ? 1 : 2; /* small pages keep bodies near 500 bytes */
    for (int k = 0; k < items; k++)
      cJSON_AddItemToArray(data, entity_json(e->kind, 1 + below(20000), r->started_at));
    cJSON *meta = cJSON_AddObjectToObject(o, "meta");
    add_num(meta, "current_page", 1 + below(20));
    add_num(meta, "per_page", items);
    add_num(meta, "total", 20 + below(5000));
    cJSON *links = cJSON_AddObjectToObject(o, "links");
    char link[300];
    snprintf(link, sizeof link, "https://api.app.astalty.com.au%s?page=%d", r->path,
             2 + below(20));
    cJSON_AddItemToObject(links, "next", below(4) ? cJSON_CreateString(link) : cJSON_CreateNull());
    cJSON_AddItemToObject(links, "prev", cJSON_CreateNull());
  }
  r->resp_body = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
}

void gen_row_clear(row *r) {
  cJSON_free(r->req_headers);
  cJSON_free(r->resp_headers);
  cJSON_free(r->req_body);
  cJSON_free(r->resp_body);
  free(r->error_message);
  cJSON_free(r->error_fields);
}

static const int STATUS_CODES[] = {200, 201, 401, 403, 404, 422, 429};
static const int STATUS_W[] = {720, 70, 20, 20, 60, 70, 40};

void gen_row_make(row *r, int64_t id, int64_t at, const row *prev, int rare,
                  char fps[][48]) {
  int retry = prev && prev->status == 429 && below(10) < 8;
  memset(r, 0, sizeof *r);
  common_hit = 0;
  r->id = id;
  r->started_at = at;
  int k;
  if (retry) {
    r->endpoint = prev->endpoint;
    r->item_id = prev->item_id;
    r->method = prev->method;
    r->source = prev->source;
    r->attempt = prev->attempt + 1;
    r->retry_of = prev->id;
    r->status = below(10) < 9 ? (strcmp(r->method, "POST") == 0 ? 201 : 200) : 429;
    for (k = 0; k < HISTORY_NKEYS; k++)
      if (strcmp(fps[k], prev->key) == 0)
        break;
  } else {
    static int weights[30];
    if (!weights[0])
      for (int i = 0; i < 30; i++)
        weights[i] = ENDPOINTS[i].weight;
    r->endpoint = weighted(weights, 30);
    r->item_id = 1 + below(5000);
    r->attempt = 1;
    r->source = SOURCES[weighted(SOURCE_W, 4)];
    k = weighted(KEY_W, HISTORY_NKEYS);
    r->status = STATUS_CODES[weighted(STATUS_W, 7)];
    const struct endpoint *e = &ENDPOINTS[r->endpoint];
    int item = strstr(e->path, "%d") && !strchr(strstr(e->path, "%d") + 2, '/');
    if (r->status == 201 || (r->status == 422 && e->writable))
      r->method = item ? "PATCH" : "POST";
    else if (r->status == 422)
      r->method = "POST";
    else if (item && e->writable && below(100) < 8)
      r->method = below(3) ? "PATCH" : "DELETE";
    else
      r->method = "GET";
    if (r->status == 201 && item) /* an update answers 200 */
      r->status = 200;
  }
  r->key = fps[k];
  const struct endpoint *e = &ENDPOINTS[r->endpoint];
  char path[96];
  snprintf(path, sizeof path, e->path, r->item_id);
  snprintf(r->path, sizeof r->path, "/public/v1%s", path);
  int paged = strcmp(r->method, "GET") == 0 && !strstr(e->path, "%d") && below(3) == 0;
  if (paged)
    snprintf(r->url, sizeof r->url, "%s%s?page=%d&per_page=25", HISTORY_BASE, path,
             1 + below(20));
  else
    snprintf(r->url, sizeof r->url, "%s%s", HISTORY_BASE, path);

  if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0) {
    cJSON *b = request_json(e->kind, rare);
    r->req_body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
  } else if (rare) { /* the rare word goes into a search instead */
    snprintf(r->url + strlen(r->url), sizeof r->url - strlen(r->url), "%cq=%s",
             strchr(r->url, '?') ? '&' : '?', HISTORY_RARE_WORD);
  }
  if (r->status >= 400)
    make_error(r);
  else if (strcmp(r->method, "DELETE") == 0)
    r->resp_body = NULL;
  else
    make_ok_body(r, e);

  /* timing: lognormal around 110 ms; errors answered sooner; a new connection now and
   * then pays DNS, connect and TLS; the busiest key waits on the rate limiter at times */
  double ms = exp(log(r->status >= 400 && r->status != 422 ? 35.0 : 110.0) + 0.45 * normal());
  r->duration = (int64_t)(ms * 1000.0) + 200;
  if (below(10) == 0) {
    r->dns = 800 + below(3000);
    r->connect = 2000 + below(8000);
    r->tls = 6000 + below(20000);
    r->duration += r->dns + r->connect + r->tls;
  }
  r->ttfb = (r->duration - r->dns - r->connect - r->tls) * 9 / 10;
  r->queued = k == 0 && below(10) == 0 ? 1000 * (int64_t)below(1000) : 0;
  make_headers(r, r->key, r->status == 429 ? 0 : below(60));
  if (r->req_body)
    sha256_hex(r->req_body, r->req_sha);
  if (r->resp_body)
    sha256_hex(r->resp_body, r->resp_sha);
  r->common = common_hit;
}

/* ------------------------------------------------------------------ timestamps */

/* How busy an hour is: Australian (AEST, UTC+10) working hours, quieter weekends. */
static double busyness(int64_t us) {
  int64_t local = us / US_PER_S + 10 * 3600;
  int hour = (int)(local / 3600 % 24);
  int weekday = (int)((local / 86400 + 4) % 7); /* 0 = Sunday */
  static const double by_hour[24] = {0.05, 0.04, 0.04, 0.04, 0.05, 0.1, 0.25, 0.5,
                                     0.85, 1.0, 1.0, 0.95, 0.8, 0.9, 1.0, 0.95,
                                     0.8, 0.55, 0.35, 0.25, 0.2, 0.15, 0.1, 0.07};
  return by_hour[hour] * (weekday == 0 || weekday == 6 ? 0.3 : 1.0);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int64_t *gen_start_times(int n, int64_t end_us) {
  int64_t *t = malloc(sizeof *t * (size_t)n);
  if (!t)
    return NULL;
  int64_t span = HISTORY_DAYS * US_PER_DAY;
  for (int i = 0; i < n;) {
    int64_t at = end_us - span + (int64_t)(uniform() * (double)span);
    if (uniform() < busyness(at))
      t[i++] = at;
  }
  qsort(t, (size_t)n, sizeof *t, cmp_i64);
  for (int i = 1; i < n; i++) /* distinct, so id order is time order */
    if (t[i] <= t[i - 1])
      t[i] = t[i - 1] + 1;
  return t;
}


int gen_is_rare(int i, int n, int *nrare) {
  int rare = *nrare < HISTORY_RARE_ROWS &&
             i == (int)((int64_t)n * (2 * *nrare + 1) / (2 * HISTORY_RARE_ROWS));
  *nrare += rare;
  return rare;
}
