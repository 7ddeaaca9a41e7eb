/* record_fill.c: the parts of filling a record that every capture shares (the library's
 * capture session, the exec shim, the proxy): timing phases and the HTTP version text. */
#include <curl/curl.h>

#include "capture/record.h"

void record_set_phases(record *r, int64_t namelookup, int64_t connect, int64_t appconnect,
                       int64_t starttransfer, int64_t total) {
  /* phases, not cumulative marks: dns + connect + tls + ttfb + download = total. The
   * marks are made monotonic first (on a reused connection connect and appconnect are 0
   * while namelookup is not) and kept within the total. */
  int64_t cap = total > 0 ? total : INT64_MAX;
  int64_t m_dns = namelookup < cap ? namelookup : cap;
  int64_t m_conn = connect > m_dns ? (connect < cap ? connect : cap) : m_dns;
  int64_t m_tls = appconnect > m_conn ? (appconnect < cap ? appconnect : cap) : m_conn;
  int64_t m_first = starttransfer > m_tls ? (starttransfer < cap ? starttransfer : cap) : m_tls;
  r->dns_us = m_dns;
  r->connect_us = m_conn - m_dns;
  r->tls_us = m_tls - m_conn;
  r->ttfb_us = m_first - m_tls;
  r->total_us = total;
}

const char *record_version_text(long curl_http_version) {
  switch (curl_http_version) {
  case CURL_HTTP_VERSION_1_0: return "HTTP/1.0";
  case CURL_HTTP_VERSION_1_1: return "HTTP/1.1";
  case CURL_HTTP_VERSION_2_0: return "HTTP/2";
  case CURL_HTTP_VERSION_3: return "HTTP/3";
  default: return NULL;
  }
}
