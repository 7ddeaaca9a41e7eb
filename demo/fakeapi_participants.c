/* fakeapi_participants.c: the /participants resource, with Laravel's validation
 * messages. Five fixed participants; writes are validated and answered but not stored,
 * so tests running against one server never see each other's changes. */
#include <stdio.h>
#include <string.h>
#include "fakeapi_int.h"

enum { NFIELDS = 4 };

struct participant {
  long id;
  const char *v[NFIELDS]; /* in the order of fields[] */
};

static const struct participant seed[] = {
  {1, {"Olivia", "Nguyen", "olivia.nguyen@example.com", "1988-03-14"}},
  {2, {"Jack", "Williams", "jack.williams@example.com", "1975-11-02"}},
  {3, {"Amelia", "Chen", "amelia.chen@example.com", "1992-07-21"}},
  {4, {"Noah", "O'Brien", "noah.obrien@example.com", "2001-01-09"}},
  {5, {"Charlotte", "Singh", "charlotte.singh@example.com", "1969-09-30"}},
};
enum { NSEED = sizeof seed / sizeof seed[0] };

static bool is_email(const char *s)
{
  return strchr(s, '@') != NULL;
}

/* YYYY-MM-DD, the shape the API returns; the calendar itself is not checked. */
static bool is_date(const char *s)
{
  static const char shape[] = "9999-99-99";
  size_t i;

  for (i = 0; shape[i] != '\0'; i++) {
    if (shape[i] == '9' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
      return false;
  }
  return s[i] == '\0';
}

/* The writable fields and their rules. */
static const struct field {
  const char *name;
  const char *label;            /* as Laravel words it in messages */
  bool required;
  bool (*valid)(const char *s); /* NULL: any string */
  const char *invalid;          /* the message when valid() says no */
} fields[NFIELDS] = {
  {"first_name", "first name", true, NULL, NULL},
  {"last_name", "last name", false, NULL, NULL},
  {"email", "email", true, is_email, "The email must be a valid email address."},
  {"date_of_birth", "date of birth", false, is_date,
   "The date of birth is not a valid date."},
};

static cJSON *participant_json(long id, const char *const v[NFIELDS])
{
  cJSON *o = cJSON_CreateObject();
  size_t i;

  if (o == NULL || cJSON_AddNumberToObject(o, "id", (double)id) == NULL)
    goto fail;
  for (i = 0; i < NFIELDS; i++) {
    cJSON *item = v[i] ? cJSON_CreateString(v[i]) : cJSON_CreateNull();
    if (!cJSON_AddItemToObject(o, fields[i].name, item))
      goto fail;
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

cJSON *fa_participants_array(void)
{
  cJSON *a = cJSON_CreateArray();
  size_t i;

  for (i = 0; a != NULL && i < NSEED; i++) {
    cJSON *p = participant_json(seed[i].id, seed[i].v);
    if (p == NULL) {
      cJSON_Delete(a);
      return NULL;
    }
    cJSON_AddItemToArray(a, p);
  }
  return a;
}

/* The participant the route's {id} names; fills R with a 404 when there is none. */
static const struct participant *find(const struct fa_call *c, struct fa_reply *r)
{
  long id;

  if (fa_param_long(c, 1000000, &id) && id >= 1 && id <= (long)NSEED)
    return &seed[id - 1];
  fa_reply_message(r, 404, "Participant not found.");
  return NULL;
}

static bool is_space(char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The request body as JSON. An empty body counts as {} (nothing was sent, which the
 * validation then reports); anything else must parse. Fills R with a 400 otherwise. */
static cJSON *parse_body(const struct fa_call *c, struct fa_reply *r)
{
  const char *end = NULL;
  cJSON *json;
  size_t i = 0;

  while (i < c->body_len && is_space(c->body[i]))
    i++;
  if (i == c->body_len) {
    json = cJSON_CreateObject();
    if (json == NULL)
      r->oom = true;
    return json;
  }
  /* With our own end pointer: cJSON's global error pointer is not thread-safe. */
  json = cJSON_ParseWithLengthOpts(c->body, c->body_len, &end, 0);
  if (json != NULL) {
    i = (size_t)(end - c->body);
    while (i < c->body_len && is_space(c->body[i]))
      i++;
    if (i < c->body_len) { /* something after the JSON value */
      cJSON_Delete(json);
      json = NULL;
    }
  }
  if (json == NULL)
    fa_reply_message(r, 400, "Malformed JSON.");
  return json;
}

/* Appends MSG to errors[FIELD]. */
static bool add_error(cJSON *errors, const char *field, const char *msg)
{
  cJSON *list = cJSON_AddArrayToObject(errors, field);
  cJSON *item = list ? cJSON_CreateString(msg) : NULL;

  if (item == NULL)
    return false;
  cJSON_AddItemToArray(list, item);
  return true;
}

/* Checks IN against fields[]; PARTIAL (PATCH) skips fields that are absent. Returns
 * false on out of memory; *errors is NULL when everything passed. */
static bool validate(const cJSON *in, bool partial, cJSON **errors)
{
  char msg[96];
  size_t i;

  *errors = cJSON_CreateObject();
  if (*errors == NULL)
    return false;
  for (i = 0; i < NFIELDS; i++) {
    const struct field *f = &fields[i];
    const cJSON *v = cJSON_IsObject(in) ? cJSON_GetObjectItemCaseSensitive(in, f->name)
                                        : NULL;
    const char *s = cJSON_GetStringValue(v);

    msg[0] = '\0';
    if (v == NULL && partial)
      continue;
    if (v == NULL || cJSON_IsNull(v) || (s != NULL && *s == '\0')) {
      if (f->required)
        snprintf(msg, sizeof msg, "The %s field is required.", f->label);
    } else if (s == NULL) {
      snprintf(msg, sizeof msg, "The %s must be a string.", f->label);
    } else if (f->valid != NULL && !f->valid(s)) {
      snprintf(msg, sizeof msg, "%s", f->invalid);
    }
    if (msg[0] != '\0' && !add_error(*errors, f->name, msg)) {
      cJSON_Delete(*errors);
      return false;
    }
  }
  if ((*errors)->child == NULL) {
    cJSON_Delete(*errors);
    *errors = NULL;
  }
  return true;
}

/* Parses and validates the body, then answers STATUS with FROM's fields overwritten by
 * the body's (null clears an optional field). ID 0 means a new participant: it gets the
 * next id only once the body passed, so created ids run 101, 102, ... without gaps. */
static void write_participant(const struct fa_call *c, struct fa_reply *r, long id,
                              const char *const from[NFIELDS], bool partial,
                              unsigned status)
{
  const char *v[NFIELDS];
  cJSON *in = parse_body(c, r), *errors = NULL, *body;
  size_t i;

  if (in == NULL)
    return;
  if (!validate(in, partial, &errors)) {
    r->oom = true;
  } else if (errors != NULL) {
    body = fa_message("The given data was invalid.");
    if (body == NULL || !cJSON_AddItemToObject(body, "errors", errors)) {
      cJSON_Delete(errors);
      cJSON_Delete(body);
      body = NULL;
    }
    fa_reply_json(r, 422, body);
  } else {
    for (i = 0; i < NFIELDS; i++) {
      const cJSON *item =
        cJSON_IsObject(in) ? cJSON_GetObjectItemCaseSensitive(in, fields[i].name) : NULL;
      v[i] = item ? cJSON_GetStringValue(item) : from[i];
    }
    if (id == 0)
      id = fa_next_created_id(c->api);
    /* v[] points into IN, so the answer is built before IN goes. */
    fa_reply_json(r, status, participant_json(id, v));
  }
  cJSON_Delete(in);
}

void fa_participants_list(const struct fa_call *c, struct fa_reply *r)
{
  cJSON *o = cJSON_CreateObject(), *meta;

  if (o == NULL || !cJSON_AddItemToObject(o, "data", fa_participants_array()))
    goto fail;
  meta = cJSON_AddObjectToObject(o, "meta");
  if (meta == NULL || cJSON_AddNumberToObject(meta, "current_page", 1) == NULL ||
      cJSON_AddNumberToObject(meta, "last_page", 1) == NULL ||
      cJSON_AddNumberToObject(meta, "per_page", 15) == NULL ||
      cJSON_AddNumberToObject(meta, "total", NSEED) == NULL)
    goto fail;
  fa_reply_json(r, 200, o);
  return;
fail:
  cJSON_Delete(o);
  fa_reply_json(r, 500, NULL);
}

void fa_participants_show(const struct fa_call *c, struct fa_reply *r)
{
  const struct participant *p = find(c, r);

  if (p != NULL)
    fa_reply_json(r, 200, participant_json(p->id, p->v));
}

void fa_participants_create(const struct fa_call *c, struct fa_reply *r)
{
  static const char *const none[NFIELDS];

  write_participant(c, r, 0, none, false, 201);
}

void fa_participants_replace(const struct fa_call *c, struct fa_reply *r)
{
  const struct participant *p = find(c, r);

  if (p != NULL)
    write_participant(c, r, p->id, p->v, false, 200);
}

void fa_participants_patch(const struct fa_call *c, struct fa_reply *r)
{
  const struct participant *p = find(c, r);

  if (p != NULL)
    write_participant(c, r, p->id, p->v, true, 200);
}

void fa_participants_delete(const struct fa_call *c, struct fa_reply *r)
{
  if (find(c, r) != NULL)
    fa_reply_raw(r, 204, NULL, NULL, 0, NULL);
}
