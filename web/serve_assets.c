/* serve_assets.c: serves the page app's files (the folder web/static): GET / is
 * index.html, GET /static/NAME a file of that folder, from the copy embedded at build
 * time or, with --assets-dir, from the folder given. Names are plain file names (no
 * '/', not starting with '.'), so no path leaves the folder. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assets.h"
#include "handlers.h"
#include "reply.h"

enum { NAME_MAX_LEN = 128 };

static const struct {
  const char *ext;
  const char *type;
} types[] = {
  {".html", "text/html; charset=utf-8"},
  {".js", "text/javascript; charset=utf-8"},
  {".css", "text/css; charset=utf-8"},
  {".svg", "image/svg+xml"},
  {".png", "image/png"},
  {".json", "application/json"},
  {".ico", "image/x-icon"},
};

static const char *content_type(const char *name) {
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0)
      return types[i].type;
  return "application/octet-stream";
}

static int safe_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > NAME_MAX_LEN || name[0] == '.')
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '-' || c == '_'))
      return 0;
  }
  return 1;
}

static struct MHD_Response *from_dir(const char *dir, const char *name) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return NULL;
  int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  close(dfd);
  struct stat st;
  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return NULL;
  }
  struct MHD_Response *resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
  if (!resp)
    close(fd);
  return resp; /* MHD closes FD with the response */
}

static struct MHD_Response *from_embedded(const char *name) {
  for (const struct embedded_file *f = reqlog_assets_files; f->name; f++)
    if (strcmp(f->name, name) == 0)
      return MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
  return NULL;
}

static enum MHD_Result serve(web_req *q, const char *name) {
  if (!name || !safe_name(name))
    return reply_not_found(q);
  struct MHD_Response *resp = q->s->assets_dir ? from_dir(q->s->assets_dir, name)
                                               : from_embedded(name);
  if (!resp)
    return reply_not_found(q);
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(name)) != MHD_YES ||
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache") != MHD_YES) {
    MHD_destroy_response(resp);
    return MHD_NO;
  }
  return reply_send(q, MHD_HTTP_OK, resp);
}

enum MHD_Result assets_index(web_req *q, const char *arg) {
  (void)arg;
  return serve(q, "index.html");
}

enum MHD_Result assets_file(web_req *q, const char *arg) {
  return serve(q, arg);
}
