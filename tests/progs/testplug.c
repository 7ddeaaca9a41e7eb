/* testplug.c: a plugin that uses libcurl, as PHP's curl extension is one: the program
 * that loads it (dlplug.c) does not link libcurl itself, this library does. */
#include <curl/curl.h>
#include <stdio.h>

int testplug_get(const char *url, const char *auth);
int testplug_idle(void);

static size_t to_stdout(char *p, size_t size, size_t n, void *arg) {
  (void)arg;
  return fwrite(p, size, n, stdout);
}

/* GET URL with the header AUTH, the body to stdout. Returns the HTTP status, or minus
 * the libcurl error. */
int testplug_get(const char *url, const char *auth) {
  CURL *c = curl_easy_init();
  if (!c)
    return -CURLE_FAILED_INIT;
  struct curl_slist *h = curl_slist_append(NULL, auth);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_stdout);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  curl_slist_free_all(h);
  return rc == CURLE_OK ? (int)status : -(int)rc;
}

/* Uses libcurl without a transfer: a handle made and thrown away. */
int testplug_idle(void) {
  CURL *c = curl_easy_init();
  if (!c)
    return -CURLE_FAILED_INIT;
  curl_easy_cleanup(c);
  return 0;
}
