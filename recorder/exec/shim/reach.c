/* reach.c: at exit, whether code in the traced process called libcurl past the shim.
 * The shim stands in front of libcurl for every caller that binds to libcurl through
 * the global scope. A library in a link-map namespace of its own (dlmopen), or one
 * opened with RTLD_DEEPBIND where dlopen.c cannot drop the flag, binds to libcurl
 * directly, and its transfers are never seen: rather than say nothing, the process tells
 * the parent, which warns.
 *
 * The dynamic linker writes where each of an object's calls goes into the object's
 * relocated slots (its GOT). A slot for a function that starts a transfer holding
 * libcurl's function, not the shim's, is such a caller. With lazy binding the slot is
 * filled at the first call, so a library that loads libcurl and never starts a transfer
 * is not reported. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exec/shim/shim.h"
#include "exec/shim_wire.h"

#define MAX_SUSPECTS 16

#if UINTPTR_MAX > 0xffffffffu
#define REL_SYM(info) ((size_t)((info) >> 32))
#else
#define REL_SYM(info) ((size_t)((info) >> 8))
#endif

/* The functions that start a transfer, as the shim interposes them. */
static const char *const starters[] = {"curl_easy_perform", "curl_multi_add_handle"};

/* A slot that does not go to the shim: where it goes is looked up after the walk over
 * the loaded objects, which must not take the dynamic linker's other lock. */
typedef struct suspect {
  char caller[512];
  uintptr_t target;
} suspect;

typedef struct walk {
  suspect s[MAX_SUSPECTS];
  int n;
  const struct r_debug_extended *debug; /* from the program's DT_DEBUG */
} walk;

/* The dynamic tables of one object that say where its calls go. */
typedef struct dyntab {
  const ElfW(Sym) *sym;
  const char *str;
  size_t strsz;
  uintptr_t table[3]; /* DT_JMPREL, DT_RELA, DT_REL */
  size_t size[3], ent[3];
  const struct r_debug_extended *debug; /* DT_DEBUG: the program's only */
} dyntab;

static int in_object(const struct dl_phdr_info *o, uintptr_t a) {
  for (int i = 0; i < o->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &o->dlpi_phdr[i];
    uintptr_t start = o->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && a >= start && a - start < ph->p_memsz)
      return 1;
  }
  return 0;
}

static int is_libcurl(const char *path) {
  const char *base = strrchr(path, '/');
  return strncmp(base ? base + 1 : path, "libcurl", 7) == 0;
}

static int is_starter(const char *name) {
  for (size_t i = 0; i < sizeof starters / sizeof starters[0]; i++)
    if (strcmp(name, starters[i]) == 0)
      return 1;
  return 0;
}

/* An address from O's dynamic section as an address in O: glibc relocates most of them
 * in place, other loaders (and the vDSO) keep the link-time value. 0 if outside O. */
static uintptr_t dyn_addr(const struct dl_phdr_info *o, ElfW(Addr) v) {
  if (in_object(o, v))
    return v;
  return in_object(o, o->dlpi_addr + v) ? o->dlpi_addr + v : 0;
}

/* Fills T from O's dynamic section. Returns 0, or -1 when O has no usable one. */
static int read_dynamic(const struct dl_phdr_info *o, dyntab *t) {
  const ElfW(Dyn) *dyn = NULL;
  for (int i = 0; i < o->dlpi_phnum; i++)
    if (o->dlpi_phdr[i].p_type == PT_DYNAMIC)
      dyn = (const ElfW(Dyn) *)(o->dlpi_addr + o->dlpi_phdr[i].p_vaddr);
  if (!dyn)
    return -1;
  memset(t, 0, sizeof *t);
  t->ent[0] = sizeof(ElfW(Rela));
  t->ent[1] = sizeof(ElfW(Rela));
  t->ent[2] = sizeof(ElfW(Rel));
  for (; dyn->d_tag != DT_NULL; dyn++) {
    ElfW(Addr) v = dyn->d_un.d_ptr;
    switch (dyn->d_tag) {
    case DT_SYMTAB: t->sym = (const ElfW(Sym) *)dyn_addr(o, v); break;
    case DT_STRTAB: t->str = (const char *)dyn_addr(o, v); break;
    case DT_STRSZ: t->strsz = dyn->d_un.d_val; break;
    case DT_JMPREL: t->table[0] = dyn_addr(o, v); break;
    case DT_PLTRELSZ: t->size[0] = dyn->d_un.d_val; break;
    case DT_PLTREL:
      t->ent[0] = dyn->d_un.d_val == DT_REL ? sizeof(ElfW(Rel)) : sizeof(ElfW(Rela));
      break;
    case DT_RELA: t->table[1] = dyn_addr(o, v); break;
    case DT_RELASZ: t->size[1] = dyn->d_un.d_val; break;
    case DT_RELAENT: t->ent[1] = dyn->d_un.d_val; break;
    case DT_REL: t->table[2] = dyn_addr(o, v); break;
    case DT_RELSZ: t->size[2] = dyn->d_un.d_val; break;
    case DT_RELENT: t->ent[2] = dyn->d_un.d_val; break;
    case DT_DEBUG: t->debug = (const struct r_debug_extended *)v; break;
    default: break;
    }
  }
  return t->sym && t->str ? 0 : -1;
}

/* Where O's slot for a transfer-starting function in relocation table I goes, for
 * each such slot that goes outside O (inside O: lazy binding, never called). */
static void scan_table(const struct dl_phdr_info *o, const dyntab *t, int i, walk *w) {
  if (!t->table[i] || t->ent[i] < 2 * sizeof(ElfW(Addr)))
    return;
  for (size_t off = 0; off + t->ent[i] <= t->size[i] && w->n < MAX_SUSPECTS;
       off += t->ent[i]) {
    /* a Rel and a Rela both start with r_offset, r_info */
    const ElfW(Addr) *rel = (const ElfW(Addr) *)(t->table[i] + off);
    size_t symi = REL_SYM(rel[1]);
    uintptr_t at = (uintptr_t)t->sym + symi * sizeof(ElfW(Sym)); /* checked before use */
    if (!symi || symi > SIZE_MAX / sizeof(ElfW(Sym)) || !in_object(o, at))
      continue;
    const ElfW(Sym) *sym = (const ElfW(Sym) *)at;
    if (sym->st_name >= t->strsz || !is_starter(t->str + sym->st_name))
      continue;
    uintptr_t slot = o->dlpi_addr + rel[0];
    if (!in_object(o, slot))
      continue;
    uintptr_t target = *(const uintptr_t *)slot;
    if (!target || in_object(o, target))
      continue;
    suspect *s = &w->s[w->n++];
    const char *name = o->dlpi_name && *o->dlpi_name ? o->dlpi_name : program_invocation_name;
    snprintf(s->caller, sizeof s->caller, "%s", name);
    s->target = target;
  }
}

static int visit(struct dl_phdr_info *o, size_t size, void *arg) {
  (void)size;
  walk *w = arg;
  dyntab t;
  /* libcurl's calls to itself and the shim's to libcurl are not callers' */
  if ((o->dlpi_name && is_libcurl(o->dlpi_name)) || in_object(o, (uintptr_t)&visit) ||
      read_dynamic(o, &t) != 0)
    return 0;
  if (t.debug)
    w->debug = t.debug;
  for (int i = 0; i < 3; i++)
    scan_table(o, &t, i, w);
  return w->n >= MAX_SUSPECTS;
}

/* L, an object of a dlmopen namespace, as dl_iterate_phdr would describe it: its
 * program headers from the ELF header at its load address (such an object is a shared
 * library, whose first segment starts there). Returns 0, or -1 when it has none. */
static int info_of(const struct link_map *l, struct dl_phdr_info *o) {
  const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)l->l_addr;
  if (!l->l_addr || l->l_addr % 4096 || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
    return -1;
  memset(o, 0, sizeof *o);
  o->dlpi_addr = l->l_addr;
  o->dlpi_name = l->l_name;
  o->dlpi_phdr = (const ElfW(Phdr) *)(l->l_addr + eh->e_phoff);
  o->dlpi_phnum = eh->e_phnum;
  return 0;
}

/* dl_iterate_phdr sees the caller's namespace only: the others are found through the
 * dynamic linker's debugger interface (the program's DT_DEBUG), which links them from
 * version 2 on. */
static void visit_other_namespaces(walk *w) {
  if (!w->debug || w->debug->base.r_version < 2)
    return;
  for (const struct r_debug_extended *ns = w->debug->r_next; ns && w->n < MAX_SUSPECTS;
       ns = ns->r_next) {
    for (const struct link_map *l = ns->base.r_map; l && w->n < MAX_SUSPECTS; l = l->l_next) {
      struct dl_phdr_info o;
      if (info_of(l, &o) == 0)
        visit(&o, sizeof o, w);
    }
  }
}

/* At exit: tells the parent of the first caller found whose transfers went past the
 * shim. */
__attribute__((destructor)) static void reach_check(void) {
  if (!shim_active())
    return;
  walk w = {0};
  dl_iterate_phdr(visit, &w);
  visit_other_namespaces(&w);
  Dl_info self, to;
  if (!dladdr((void *)&reach_check, &self))
    return;
  for (int i = 0; i < w.n; i++) {
    if (!dladdr((void *)w.s[i].target, &to) || to.dli_fbase == self.dli_fbase ||
        !to.dli_fname || !is_libcurl(to.dli_fname))
      continue;
    wire_unseen u = {getpid(), program_invocation_name, w.s[i].caller, (char *)to.dli_fname};
    shim_parent_send_unseen(&u);
    return;
  }
}
