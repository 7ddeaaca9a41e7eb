/* store_pack.c: the packed form of a row's bodies and header JSON (docs/design.md §10)
 * and the SQL functions that write and read it, registered on every connection to a
 * history (store_pack_register):
 *
 *   reqlog_pack(V, DICT)        V packed with dictionary DICT (zdict.id, 0: none)
 *   reqlog_unpack(PACKED, V)    V as it was recorded (text or bytes), PACKED the row's flag
 *   reqlog_unpack_text(PACKED, V)  the same when it is text, else NULL (search reads this)
 *   reqlog_plain_length(PACKED, V) its length as recorded, without unpacking it
 *   reqlog_packed_dict(V)       the dictionary a packed value uses (prune retires some)
 *
 * The writer packs a row's values as it inserts it (store_batch.c, calls.packed = 1)
 * with the history's newest dictionary, or none while the history is too young to have
 * one; the rows of a history converted by 004_compact.sql are packed by the background
 * indexer's catch-up (store_index.c, packed = 0 until then).
 * In a packed row, NULL and TEXT are the value itself (text kept when packing would not
 * make it shorter), and a BLOB is a packed value: one kind byte, then
 *   0  the bytes themselves (a binary body that zstd does not shrink);
 *   1  text, 2 bytes: the dictionary id (LEB128, 0 for none), then one zstd frame with
 *      its content size, without zstd's 4-byte magic number (the kind byte says what
 *      follows), checksum or dictionary id;
 *   3  text that is lower-case hex (32 to 128 digits, as the SHA-256 columns): its bytes,
 *      half the size.
 * Dictionaries (store_dict.c) are rows of zdict, never changed once committed, so a
 * connection keeps the ones it loaded for its life. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#define ZSTD_STATIC_LINKING_ONLY /* the magicless frame format (libzstd >= 1.3.2) */
#include <zstd.h>

#define PACK_MIN 24              /* shorter values stay as they are */
#define PACK_LEVEL 3             /* zstd level: the indexer's catch-up speed vs size */
#define PACK_SHORT 16384         /* values up to this (with their NUL) are unpacked in place */
#define PACK_MAX_PLAIN ((size_t)1000000000) /* SQLite's longest value (SQLITE_MAX_LENGTH) */
#define PACK_DICTS 8             /* dictionaries a connection keeps */

enum { KIND_RAW = 0, KIND_TEXT = 1, KIND_BLOB = 2, KIND_HEX = 3 };
#define HEX_MIN 32
#define HEX_MAX 128

typedef struct pack_dict {
  int64_t id;
  ZSTD_CDict *cd;                /* made at the first pack with it */
  ZSTD_DDict *dd;                /* made at the first unpack with it */
  void *data;
  size_t len;
} pack_dict;

/* One per connection, shared by its functions. */
typedef struct pack_ctx {
  sqlite3 *db;
  ZSTD_CCtx *cc;
  ZSTD_DCtx *dc;
  pack_dict dicts[PACK_DICTS];
  int ndicts, next_evict;
  char *out;                     /* PACK_SHORT bytes: where short values are unpacked */
} pack_ctx;

static void dict_clear(pack_dict *d) {
  ZSTD_freeCDict(d->cd);
  ZSTD_freeDDict(d->dd);
  free(d->data);
  memset(d, 0, sizeof *d);
}

static void ctx_free(void *p) {
  pack_ctx *c = p;
  if (!c)
    return;
  if (c->db)
    sqlite3_rollback_hook(c->db, NULL, NULL);
  for (int i = 0; i < c->ndicts; i++)
    dict_clear(&c->dicts[i]);
  ZSTD_freeCCtx(c->cc);
  ZSTD_freeDCtx(c->dc);
  free(c->out);
  free(c);
}

/* Dictionary ID of zdict, loaded once per connection; NULL (with a message in *why) when
 * it is not there or out of memory. */
static pack_dict *dict_get(pack_ctx *c, sqlite3 *db, int64_t id, const char **why) {
  for (int i = 0; i < c->ndicts; i++)
    if (c->dicts[i].id == id)
      return &c->dicts[i];
  sqlite3_stmt *st = NULL;
  *why = "the dictionary of a packed value is missing";
  if (sqlite3_prepare_v2(db, "SELECT dict FROM zdict WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_int64(st, 1, id);
  pack_dict d = {.id = id};
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) > 0) {
    d.len = (size_t)sqlite3_column_bytes(st, 0);
    d.data = malloc(d.len);
    if (d.data)
      memcpy(d.data, sqlite3_column_blob(st, 0), d.len);
    else
      *why = "out of memory";
  }
  sqlite3_finalize(st);
  if (!d.data)
    return NULL;
  int slot = c->ndicts < PACK_DICTS ? c->ndicts++ : c->next_evict++ % PACK_DICTS;
  dict_clear(&c->dicts[slot]);
  c->dicts[slot] = d;
  return &c->dicts[slot];
}

/* LEB128 of V into OUT (at most 10 bytes); returns its length. */
static size_t put_varint(unsigned char *out, uint64_t v) {
  size_t n = 0;
  do {
    unsigned char b = v & 0x7f;
    v >>= 7;
    out[n++] = b | (v ? 0x80 : 0);
  } while (v);
  return n;
}

/* Reads a LEB128 number from P (LEN bytes) into *v; returns its length, 0 when malformed. */
static size_t get_varint(const unsigned char *p, size_t len, uint64_t *v) {
  *v = 0;
  for (size_t i = 0; i < len && i < 9; i++) {
    *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (!(p[i] & 0x80))
      return i + 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ reqlog_pack */

static int hex_digit(unsigned char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* S (LEN bytes) as KIND_HEX into OUT when it is even-length lower-case hex of HEX_MIN to
 * HEX_MAX digits (so it reads back the same); returns the packed length, 0 when not. */
static size_t pack_hex(const unsigned char *s, size_t len, unsigned char *out) {
  if (len < HEX_MIN || len > HEX_MAX || len % 2)
    return 0;
  out[0] = KIND_HEX;
  for (size_t i = 0; i < len; i += 2) {
    int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0)
      return 0;
    out[1 + i / 2] = (unsigned char)(hi << 4 | lo);
  }
  return 1 + len / 2;
}

static void fn_pack(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  pack_ctx *c = sqlite3_user_data(cx);
  int type = sqlite3_value_type(argv[0]);
  int64_t dict_id = sqlite3_value_int64(argv[1]);
  if (type != SQLITE_TEXT && type != SQLITE_BLOB) {
    sqlite3_result_value(cx, argv[0]);
    return;
  }
  const void *src = type == SQLITE_TEXT ? (const void *)sqlite3_value_text(argv[0])
                                        : sqlite3_value_blob(argv[0]);
  size_t len = (size_t)sqlite3_value_bytes(argv[0]);
  if (type == SQLITE_TEXT && len < PACK_MIN) {
    sqlite3_result_value(cx, argv[0]);
    return;
  }
  unsigned char hex[1 + HEX_MAX / 2];
  size_t hn = type == SQLITE_TEXT ? pack_hex(src, len, hex) : 0;
  if (hn) {
    sqlite3_result_blob64(cx, hex, hn, SQLITE_TRANSIENT);
    return;
  }
  const char *why = "out of memory";
  pack_dict *d = NULL;
  if (dict_id > 0 && !(d = dict_get(c, sqlite3_context_db_handle(cx), dict_id, &why))) {
    sqlite3_result_error(cx, why, -1);
    return;
  }
  if (d && !d->cd)
    d->cd = ZSTD_createCDict(d->data, d->len, PACK_LEVEL);
  size_t cap = 1 + 10 + ZSTD_compressBound(len);
  unsigned char *out = malloc(cap);
  if (!out || (d && !d->cd)) {
    free(out);
    sqlite3_result_error_nomem(cx);
    return;
  }
  out[0] = type == SQLITE_TEXT ? KIND_TEXT : KIND_BLOB;
  size_t h = 1 + put_varint(out + 1, (uint64_t)(d ? dict_id : 0));
  /* compress2 keeps the frame parameters set at registering (the *_usingCDict
   * functions would write zstd's own dictionary id into every frame) */
  ZSTD_CCtx_reset(c->cc, ZSTD_reset_session_only);
  ZSTD_CCtx_refCDict(c->cc, d ? d->cd : NULL);
  size_t z = ZSTD_compress2(c->cc, out + h, cap - h, src, len);
  if (ZSTD_isError(z)) {
    free(out);
    sqlite3_result_error(cx, ZSTD_getErrorName(z), -1);
    return;
  }
  if (h + z < len) {
    sqlite3_result_blob64(cx, out, h + z, free);
    return;
  }
  free(out);
  if (type == SQLITE_TEXT) {
    sqlite3_result_value(cx, argv[0]); /* packing would not make it shorter */
    return;
  }
  unsigned char *raw = malloc(len + 1);
  if (!raw) {
    sqlite3_result_error_nomem(cx);
    return;
  }
  raw[0] = KIND_RAW;
  if (len) /* an empty BLOB's pointer is NULL */
    memcpy(raw + 1, src, len);
  sqlite3_result_blob64(cx, raw, len + 1, free);
}

/* ------------------------------------------------------------------ reqlog_unpack */

/* The plain form of the packed value P (LEN bytes) as the function's result; TEXT_ONLY:
 * NULL when it is bytes. */
static void unpack_blob(sqlite3_context *cx, const unsigned char *p, size_t len, int text_only) {
  pack_ctx *c = sqlite3_user_data(cx);
  if (len < 1 || p[0] > KIND_HEX) {
    sqlite3_result_error(cx, "a packed value is damaged (unknown kind)", -1);
    return;
  }
  if (p[0] == KIND_HEX && len - 1 > HEX_MAX / 2) {
    sqlite3_result_error(cx, "a packed value is damaged (hex too long)", -1);
    return;
  }
  if (p[0] == KIND_HEX) {
    static const char digits[] = "0123456789abcdef";
    char out[HEX_MAX + 1];
    size_t n = len - 1;
    for (size_t i = 0; i < n; i++) {
      out[2 * i] = digits[p[1 + i] >> 4];
      out[2 * i + 1] = digits[p[1 + i] & 15];
    }
    sqlite3_result_text(cx, out, (int)(2 * n), SQLITE_TRANSIENT);
    return;
  }
  if (p[0] == KIND_RAW || (text_only && p[0] == KIND_BLOB)) {
    if (text_only)
      sqlite3_result_null(cx);
    else
      sqlite3_result_blob64(cx, p + 1, len - 1, SQLITE_TRANSIENT);
    return;
  }
  uint64_t dict_id = 0;
  size_t h = get_varint(p + 1, len - 1, &dict_id);
  ZSTD_frameHeader zfh;
  unsigned long long n = ZSTD_CONTENTSIZE_ERROR;
  if (h && ZSTD_getFrameHeader_advanced(&zfh, p + 1 + h, len - 1 - h,
                                        ZSTD_f_zstd1_magicless) == 0)
    n = zfh.frameContentSize;
  if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > PACK_MAX_PLAIN) {
    sqlite3_result_error(cx, "a packed value is damaged (bad frame)", -1);
    return;
  }
  const char *why = "out of memory";
  pack_dict *d = NULL;
  if (dict_id > 0 &&
      !(d = dict_get(c, sqlite3_context_db_handle(cx), (int64_t)dict_id, &why))) {
    sqlite3_result_error(cx, why, -1);
    return;
  }
  if (d && !d->dd)
    d->dd = ZSTD_createDDict(d->data, d->len);
  /* A short value is unpacked into the connection's own buffer, which SQLite copies
   * (a header list or a short body fits its lookaside slots): no malloc and free of our
   * own per value. A long one gets its own block, handed to SQLite without a copy. */
  int own = (size_t)n + 1 > PACK_SHORT;
  if (!own && !c->out)
    c->out = malloc(PACK_SHORT);
  char *out = own ? malloc((size_t)n + 1) : c->out;
  if (!out || (d && !d->dd)) {
    if (own)
      free(out);
    sqlite3_result_error_nomem(cx);
    return;
  }
  size_t got = d ? ZSTD_decompress_usingDDict(c->dc, out, (size_t)n + 1, p + 1 + h,
                                              len - 1 - h, d->dd)
                 : ZSTD_decompressDCtx(c->dc, out, (size_t)n + 1, p + 1 + h, len - 1 - h);
  if (ZSTD_isError(got) || got != n) {
    if (own)
      free(out);
    sqlite3_result_error(cx, "a packed value is damaged (does not decompress)", -1);
    return;
  }
  out[n] = '\0';
  void (*keep)(void *) = own ? free : SQLITE_TRANSIENT;
  if (p[0] == KIND_TEXT)
    sqlite3_result_text64(cx, out, n, keep, SQLITE_UTF8);
  else
    sqlite3_result_blob64(cx, out, n, keep);
}

static void unpack(sqlite3_context *cx, sqlite3_value **argv, int text_only) {
  int type = sqlite3_value_type(argv[1]);
  if (type == SQLITE_BLOB && sqlite3_value_int(argv[0])) {
    unpack_blob(cx, sqlite3_value_blob(argv[1]), (size_t)sqlite3_value_bytes(argv[1]),
                text_only);
    return;
  }
  if (text_only && type != SQLITE_TEXT)
    sqlite3_result_null(cx);
  else
    sqlite3_result_value(cx, argv[1]);
}

static void fn_unpack(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  unpack(cx, argv, 0);
}

static void fn_unpack_text(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  unpack(cx, argv, 1);
}

/* reqlog_plain_length(PACKED, V): the length of V as recorded, read from a packed
 * value's header without unpacking it (stats --storage); NULL for NULL. */
static void fn_plain_length(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  int type = sqlite3_value_type(argv[1]);
  if (type == SQLITE_NULL) {
    sqlite3_result_null(cx);
    return;
  }
  const unsigned char *p = sqlite3_value_blob(argv[1]);
  size_t len = (size_t)sqlite3_value_bytes(argv[1]);
  if (type != SQLITE_BLOB || !sqlite3_value_int(argv[0]) || len < 1) {
    sqlite3_result_int64(cx, (sqlite3_int64)len);
    return;
  }
  uint64_t id = 0;
  size_t h = 0;
  ZSTD_frameHeader zfh;
  if (p[0] == KIND_RAW)
    sqlite3_result_int64(cx, (sqlite3_int64)len - 1);
  else if (p[0] == KIND_HEX)
    sqlite3_result_int64(cx, 2 * ((sqlite3_int64)len - 1));
  else if (p[0] <= KIND_BLOB && (h = get_varint(p + 1, len - 1, &id)) &&
           ZSTD_getFrameHeader_advanced(&zfh, p + 1 + h, len - 1 - h,
                                        ZSTD_f_zstd1_magicless) == 0 &&
           zfh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN)
    sqlite3_result_int64(cx, (sqlite3_int64)zfh.frameContentSize);
  else
    sqlite3_result_error(cx, "a packed value is damaged (bad frame)", -1);
}

/* reqlog_packed_dict(V): the dictionary a packed value V (of a packed row) was packed
 * with, NULL when none (prune finds the values of a dictionary it retires). */
static void fn_packed_dict(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  const unsigned char *p = sqlite3_value_blob(argv[0]);
  size_t len = (size_t)sqlite3_value_bytes(argv[0]);
  uint64_t id = 0;
  if (sqlite3_value_type(argv[0]) == SQLITE_BLOB && len > 1 &&
      (p[0] == KIND_TEXT || p[0] == KIND_BLOB) && get_varint(p + 1, len - 1, &id) && id)
    sqlite3_result_int64(cx, (sqlite3_int64)id);
  else
    sqlite3_result_null(cx);
}

/* A transaction that rolls back may have taken a dictionary row this connection loaded
 * with it: forget them all (they load again from what is committed). */
static void forget_dicts(void *p) {
  pack_ctx *c = p;
  for (int i = 0; i < c->ndicts; i++)
    dict_clear(&c->dicts[i]);
  c->ndicts = 0;
}

/* ------------------------------------------------------------------ registering */

int store_pack_register(sqlite3 *db) {
  pack_ctx *c = calloc(1, sizeof *c);
  if (!c)
    return SQLITE_NOMEM;
  c->cc = ZSTD_createCCtx();
  c->dc = ZSTD_createDCtx();
  if (!c->cc || !c->dc) {
    ctx_free(c);
    return SQLITE_NOMEM;
  }
  /* no checksum (SQLite's pages are the storage) nor zstd's dictionary id (ours is in
   * the header); the content size stays, it sizes the output of an unpack */
  ZSTD_CCtx_setParameter(c->cc, ZSTD_c_checksumFlag, 0);
  ZSTD_CCtx_setParameter(c->cc, ZSTD_c_dictIDFlag, 0);
  ZSTD_CCtx_setParameter(c->cc, ZSTD_c_compressionLevel, PACK_LEVEL);
  ZSTD_CCtx_setParameter(c->cc, ZSTD_c_format, ZSTD_f_zstd1_magicless);
  ZSTD_DCtx_setParameter(c->dc, ZSTD_d_format, ZSTD_f_zstd1_magicless);
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
  /* the last registration owns C: SQLite destroys it when the connection closes */
  int rc = sqlite3_create_function_v2(db, "reqlog_pack", 2, flags, c, fn_pack, NULL, NULL,
                                      NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "reqlog_unpack_text", 2, flags, c, fn_unpack_text,
                                    NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "reqlog_packed_dict", 1, flags, c, fn_packed_dict,
                                    NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "reqlog_plain_length", 2, flags, c, fn_plain_length,
                                    NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "reqlog_unpack", 2, flags, c, fn_unpack, NULL,
                                    NULL, ctx_free);
  if (rc == SQLITE_OK) {
    c->db = db;
    sqlite3_rollback_hook(db, forget_dicts, c);
    return SQLITE_OK;
  }
  ctx_free(c);
  return rc;
}
