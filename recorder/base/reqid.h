/* reqid.h: the API's request id of a call (the id a vendor's support desk asks for):
 * the value of the first of a list of response headers that the call carries. */
#ifndef REQLOG_REQID_H
#define REQLOG_REQID_H

#include <stddef.h>

/* The default list: REQLOG_REQUEST_ID_HEADERS and reqlog_set_request_id_headers() replace
 * it. schema/005_request_id.sql and schema/pg/005_request_id.sql fill existing rows with
 * the same names, in the same order. */
#define REQID_DEFAULT "x-request-id,request-id,x-amzn-requestid,x-trace-id"

/* The longest list kept, in bytes, and the longest value taken as an id. */
enum { REQID_LIST_MAX = 512, REQID_VALUE_MAX = 256 };

/* Checks LIST ("Name,Name", blanks around names allowed): 1 to 16 header names, each an
 * RFC 9110 token, at most REQID_LIST_MAX bytes in all. Writes the names, lower case and
 * comma-separated without blanks, to OUT (REQID_LIST_MAX + 1 bytes) and returns 0; -1
 * when LIST is not such a list (OUT then unchanged). */
int reqid_list_parse(const char *list, char out[REQID_LIST_MAX + 1]);

/* The request id in HEADERS_JSON (a row's stored response headers, [[name, value], ...],
 * redacted): the value of the header, of the names of LIST (as reqid_list_parse()
 * writes it) in the list's order, that is present with a value of 1 to REQID_VALUE_MAX
 * bytes, without control characters and not redacted. A malloc'd copy, or NULL (none,
 * or out of memory). */
char *reqid_pick(const char *list, const char *headers_json);

#endif
