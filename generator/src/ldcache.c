/* ldcache.c: see ldcache.h. */
#define _XOPEN_SOURCE 700
#include "ldcache.h"
#include "run.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HOPS 40
#define MAX_INCLUDE_DEPTH 8

/* Folders ldconfig always scans on Debian amd64 (glibc's trusted folders: slibdir, libdir, and
   the plain ones Debian keeps), besides what ld.so.conf names. More is harmless: a file staged
   in a folder ldconfig does not scan changes nothing. */
static const char *const trusted[] = { "lib", "usr/lib", "lib64", "usr/lib64", "lib/x86_64-linux-gnu",
                                       "usr/lib/x86_64-linux-gnu", "usr/local/lib" };

struct stage
{
  char *root;
  struct strbuf *err;
  char **dirs; /* resolved folders ldconfig scans, relative */
  size_t ndirs, dalloc;
  char *last_parent, *last_resolved; /* entries come folder by folder: resolve each folder once */
};

/* path (relative to the stage's root, symlinks resolved inside the stage the way the kernel
   would inside the image: an absolute target starts again at the root) into out, relative.
   Components that do not exist are kept as written. Returns 0, or -1 on a loop. */
static int
resolve (const struct stage *s, const char *path, struct strbuf *out)
{
  struct strbuf todo = STRBUF_INIT, full = STRBUF_INIT;
  strbuf_addstr (&todo, path);
  strbuf_reset (out);
  int hops = 0, rc = 0;
  size_t i = 0;
  while (i < todo.len)
    {
      size_t j = i;
      while (j < todo.len && todo.buf[j] != '/')
        j++;
      size_t n = j - i;
      const char *c = todo.buf + i;
      i = j + 1;
      if (n == 0 || (n == 1 && c[0] == '.'))
        continue;
      if (n == 2 && c[0] == '.' && c[1] == '.')
        {
          char *slash = strrchr (out->buf, '/');
          size_t keep = slash ? (size_t) (slash - out->buf) : 0;
          out->len = keep;
          out->buf[keep] = '\0';
          continue;
        }
      size_t before = out->len;
      if (out->len)
        strbuf_addch (out, '/');
      strbuf_add (out, c, n);
      strbuf_reset (&full);
      strbuf_addf (&full, "%s/%s", s->root, out->buf);
      char target[4096];
      ssize_t tl = readlink (full.buf, target, sizeof target - 1);
      if (tl < 0)
        continue;
      if (++hops > MAX_HOPS)
        {
          rc = -1;
          break;
        }
      target[tl] = '\0';
      out->len = before;
      out->buf[before] = '\0';
      if (target[0] == '/')
        strbuf_reset (out);
      struct strbuf next = STRBUF_INIT;
      strbuf_addf (&next, "%s/%s", target, i < todo.len ? todo.buf + i : "");
      strbuf_release (&todo);
      todo = next;
      i = 0;
    }
  strbuf_release (&todo);
  strbuf_release (&full);
  return rc;
}

static const char *
entry_path (struct archive_entry *ae)
{
  const char *p = archive_entry_pathname (ae);
  while (p && (starts_with (p, "./") || p[0] == '/'))
    p += p[0] == '/' ? 1 : 2;
  return p;
}

static int
mkdirs (const char *root, const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", root, rel);
  for (char *q = p + strlen (root) + 1; *q; q++)
    if (*q == '/')
      {
        *q = '\0';
        if (mkdir (p, 0755) < 0 && errno != EEXIST)
          return -1;
        *q = '/';
      }
  return mkdir (p, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Where entry `path` lands in the stage (its folder resolved, its name kept). */
static char *
place (struct stage *s, const char *path)
{
  const char *slash = strrchr (path, '/');
  cleanup_free char *parent = slash ? xstrndup (path, (size_t) (slash - path)) : xstrdup ("");
  if (s->last_parent == NULL || strcmp (parent, s->last_parent) != 0)
    {
      struct strbuf r = STRBUF_INIT;
      if (resolve (s, parent, &r) < 0)
        {
          strbuf_release (&r);
          return NULL;
        }
      free (s->last_parent);
      free (s->last_resolved);
      s->last_parent = xstrdup (parent);
      s->last_resolved = strbuf_detach (&r, NULL);
    }
  const char *name = slash ? slash + 1 : path;
  return *s->last_resolved ? xasprintf ("%s/%s", s->last_resolved, name) : xstrdup (name);
}

static void
forget_parent (struct stage *s)
{
  free (s->last_parent);
  free (s->last_resolved);
  s->last_parent = s->last_resolved = NULL;
}

/* Write the entry at rel (resolved) in the stage: what was there goes, as a layer replaces it. */
static int
extract (struct stage *s, struct archive *a, struct archive_entry *ae, const char *rel)
{
  cleanup_free char *full = xasprintf ("%s/%s", s->root, rel);
  const char *slash = strrchr (rel, '/');
  if (slash)
    {
      cleanup_free char *parent = xstrndup (rel, (size_t) (slash - rel));
      if (mkdirs (s->root, parent) < 0)
        return strbuf_addf (s->err, "cannot create '%s/%s': %s", s->root, parent, strerror (errno)), -1;
    }
  struct stat st;
  mode_t type = archive_entry_filetype (ae);
  if (lstat (full, &st) == 0 && !(S_ISDIR (st.st_mode) && type == AE_IFDIR))
    unlink (full);
  forget_parent (s); /* a symlink made or removed may change how later folders resolve */
  if (type == AE_IFDIR)
    return mkdirs (s->root, rel) < 0 ? (strbuf_addf (s->err, "cannot create '%s': %s", full, strerror (errno)), -1) : 0;
  if (type == AE_IFLNK)
    return symlink (archive_entry_symlink (ae), full) < 0
               ? (strbuf_addf (s->err, "cannot create '%s': %s", full, strerror (errno)), -1)
               : 0;
  if (archive_entry_hardlink (ae))
    {
      const char *hl = archive_entry_hardlink (ae);
      while (starts_with (hl, "./") || hl[0] == '/')
        hl += hl[0] == '/' ? 1 : 2;
      cleanup_free char *to = place (s, hl);
      cleanup_free char *tofull = to ? xasprintf ("%s/%s", s->root, to) : NULL;
      if (tofull && link (tofull, full) == 0)
        return 0;
      return 0; /* its target was not staged: not a library ldconfig reads */
    }
  if (type != AE_IFREG)
    return 0;
  int fd = open (full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755);
  if (fd < 0)
    return strbuf_addf (s->err, "cannot create '%s': %s", full, strerror (errno)), -1;
  const void *buf;
  size_t size;
  la_int64_t off;
  int r, rc = 0;
  while ((r = archive_read_data_block (a, &buf, &size, &off)) == ARCHIVE_OK)
    if (pwrite (fd, buf, size, off) != (ssize_t) size)
      {
        rc = -1;
        strbuf_addf (s->err, "cannot write '%s': %s", full, strerror (errno));
        break;
      }
  if (rc == 0 && r != ARCHIVE_EOF)
    rc = -1, strbuf_addf (s->err, "cannot read '%s' from its layer: %s", rel, archive_error_string (a));
  if (rc == 0 && ftruncate (fd, archive_entry_size (ae)) < 0)
    rc = -1, strbuf_addf (s->err, "cannot write '%s': %s", full, strerror (errno));
  close (fd);
  return rc;
}

enum pass
{
  PASS_CONF, /* ld.so.conf, ldconfig itself, every symlink (folder links: lib -> usr/lib) */
  PASS_LIBS  /* the libraries in the folders ldconfig scans */
};

static int
is_lib_name (const char *name)
{
  return (starts_with (name, "lib") || starts_with (name, "ld-")) && strstr (name, ".so") != NULL;
}

static int
in_scanned (const struct stage *s, const char *rel)
{
  /* the file's folder, or one or two levels above it (hwcaps subfolders) */
  cleanup_free char *d = xstrdup (rel);
  for (int level = 0; level < 3; level++)
    {
      char *slash = strrchr (d, '/');
      if (slash == NULL)
        return 0;
      *slash = '\0';
      for (size_t i = 0; i < s->ndirs; i++)
        if (strcmp (d, s->dirs[i]) == 0)
          return 1;
    }
  return 0;
}

static int
wanted (struct stage *s, enum pass pass, const char *path, mode_t type, char **rel)
{
  *rel = NULL;
  if (pass == PASS_CONF)
    {
      if (!(type == AE_IFLNK || streq (path, "etc/ld.so.conf") || starts_with (path, "etc/ld.so.conf.d/")
            || streq (path, "sbin/ldconfig") || streq (path, "usr/sbin/ldconfig")))
        return 0;
    }
  else
    {
      const char *base = strrchr (path, '/');
      if (type == AE_IFDIR || !is_lib_name (base ? base + 1 : path))
        return 0;
    }
  *rel = place (s, path);
  if (*rel == NULL)
    return 0; /* a symlink loop in the image: ldconfig would not read it either */
  return pass == PASS_CONF || in_scanned (s, *rel);
}

static int
stage_tar (struct stage *s, const char *tar, enum pass pass)
{
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  archive_read_support_filter_none (a);
  int rc = 0;
  if (archive_read_open_filename (a, tar, 1 << 16) != ARCHIVE_OK)
    {
      strbuf_addf (s->err, "cannot read '%s': %s", tar, archive_error_string (a));
      archive_read_free (a);
      return -1;
    }
  struct archive_entry *ae;
  int r;
  while (rc == 0 && (r = archive_read_next_header (a, &ae)) == ARCHIVE_OK)
    {
      const char *p = entry_path (ae);
      if (p == NULL || *p == '\0' || strstr (p, "..") || strstr (p, "/.wh.") || starts_with (p, ".wh."))
        continue;
      cleanup_free char *path = xstrdup (p);
      size_t n = strlen (path);
      while (n && path[n - 1] == '/')
        path[--n] = '\0';
      char *rel = NULL;
      if (wanted (s, pass, path, archive_entry_filetype (ae), &rel))
        rc = extract (s, a, ae, rel);
      free (rel);
    }
  if (rc == 0 && r != ARCHIVE_EOF)
    rc = -1, strbuf_addf (s->err, "cannot read '%s': %s", tar, archive_error_string (a));
  archive_read_free (a);
  return rc;
}

static void
add_dir (struct stage *s, const char *dir)
{
  struct strbuf r = STRBUF_INIT;
  if (resolve (s, dir, &r) == 0 && r.len)
    {
      for (size_t i = 0; i < s->ndirs; i++)
        if (strcmp (s->dirs[i], r.buf) == 0)
          {
            strbuf_release (&r);
            return;
          }
      ARRAY_GROW (s->dirs, s->ndirs + 1, s->dalloc);
      s->dirs[s->ndirs++] = strbuf_detach (&r, NULL);
    }
  strbuf_release (&r);
}

/* ld.so.conf as ldconfig reads it (glibc elf/ldconfig.c, parse_conf): '#' starts a comment;
   "include PATTERN" (relative to the file's folder) reads each match in glob order; "hwcap"
   lines are ignored; any other line names a folder (what follows '=' or a blank is a type). */
static void
read_conf (struct stage *s, const char *rel, int depth)
{
  cleanup_free char *full = xasprintf ("%s/%s", s->root, rel);
  FILE *f = fopen (full, "r");
  if (f == NULL || depth > MAX_INCLUDE_DEPTH)
    {
      if (f)
        fclose (f);
      return;
    }
  char line[4096];
  while (fgets (line, sizeof line, f))
    {
      char *h = strchr (line, '#');
      if (h)
        *h = '\0';
      char *p = line;
      while (isspace ((unsigned char) *p))
        p++;
      size_t n = strcspn (p, " \t\r\n=,:");
      if (n == 0)
        continue;
      if (n == 7 && strncmp (p, "include", 7) == 0)
        {
          char *pat = p + 7;
          while (isspace ((unsigned char) *pat))
            pat++;
          pat[strcspn (pat, " \t\r\n")] = '\0';
          const char *slash = strrchr (rel, '/');
          cleanup_free char *g = pat[0] == '/' ? xasprintf ("%s%s", s->root, pat)
                                               : xasprintf ("%s/%.*s/%s", s->root, slash ? (int) (slash - rel) : 0, rel, pat);
          glob_t gl;
          if (glob (g, 0, NULL, &gl) == 0)
            for (size_t i = 0; i < gl.gl_pathc; i++)
              read_conf (s, gl.gl_pathv[i] + strlen (s->root) + 1, depth + 1);
          globfree (&gl);
          continue;
        }
      if (n == 5 && strncmp (p, "hwcap", 5) == 0)
        continue;
      p[n] = '\0';
      add_dir (s, p);
    }
  fclose (f);
}

/* Every symlink of the stage, "path\0target\n"-free: a sorted list of (path, target). */
struct linkset
{
  struct ldcache_link *v;
  size_t n, alloc;
};

static struct linkset *walking;
static size_t walk_root_len;

static int
walk_link (const char *fpath, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void) sb;
  (void) ftw;
  if (flag != FTW_SL)
    return 0;
  char target[4096];
  ssize_t n = readlink (fpath, target, sizeof target - 1);
  if (n < 0)
    return 0;
  target[n] = '\0';
  ARRAY_GROW (walking->v, walking->n + 1, walking->alloc);
  walking->v[walking->n].path = xstrdup (fpath + walk_root_len + 1);
  walking->v[walking->n++].target = xstrdup (target);
  return 0;
}

/* nftw's callback takes no context: the walk's list is a global, one walk at a time (builds
   run in threads). */
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;

static void
list_links (const char *root, struct linkset *ls)
{
  pthread_mutex_lock (&walk_lock);
  walking = ls;
  walk_root_len = strlen (root);
  nftw (root, walk_link, 64, FTW_PHYS);
  walking = NULL;
  pthread_mutex_unlock (&walk_lock);
}

static int
remove_one (const char *fpath, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void) sb;
  (void) ftw;
  if (flag == FTW_DP || flag == FTW_D)
    rmdir (fpath);
  else
    unlink (fpath);
  return 0;
}

static const char *
link_target (const struct linkset *ls, const char *path)
{
  for (size_t i = 0; i < ls->n; i++)
    if (strcmp (ls->v[i].path, path) == 0)
      return ls->v[i].target;
  return NULL;
}

static int
cmp_link (const void *a, const void *b)
{
  return strcmp (((const struct ldcache_link *) a)->path, ((const struct ldcache_link *) b)->path);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
result_link (struct ldcache_result *out, const char *path, const char *target)
{
  ARRAY_GROW (out->links, out->nlinks + 1, out->alloc);
  out->links[out->nlinks].path = xstrdup (path);
  out->links[out->nlinks++].target = xstrdup (target);
}

/* The devel template's step: for f in lib*.so.* (the shell's glob: byte order), libX.so -> f
   when libX.so does not exist ([ -e ] follows symlinks). */
static int
devel_links (struct stage *s, const char *dir, struct ldcache_result *out)
{
  struct strbuf r = STRBUF_INIT;
  resolve (s, dir, &r);
  cleanup_free char *full = xasprintf ("%s/%s", s->root, r.buf);
  DIR *d = opendir (full);
  char **names = NULL;
  size_t n = 0, alloc = 0;
  struct dirent *de;
  while (d && (de = readdir (d)))
    if (starts_with (de->d_name, "lib") && strstr (de->d_name, ".so."))
      {
        ARRAY_GROW (names, n + 1, alloc);
        names[n++] = xstrdup (de->d_name);
      }
  if (d)
    closedir (d);
  if (n)
    qsort (names, n, sizeof *names, cmp_str);
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *l = xasprintf ("%.*s.so", (int) (strstr (names[i], ".so.") - names[i]), names[i]);
      cleanup_free char *lp = xasprintf ("%s/%s", full, l);
      struct stat st;
      if (stat (lp, &st) == 0)
        continue;
      if (symlink (names[i], lp) < 0)
        {
          rc = -1;
          strbuf_addf (s->err, "cannot create '%s': %s", lp, strerror (errno));
          break;
        }
      cleanup_free char *rel = xasprintf ("%s/%s", dir, l);
      result_link (out, rel, names[i]);
    }
  for (size_t i = 0; i < n; i++)
    free (names[i]);
  free (names);
  strbuf_release (&r);
  return rc;
}

static void
linkset_release (struct linkset *ls)
{
  for (size_t i = 0; i < ls->n; i++)
    {
      free (ls->v[i].path);
      free (ls->v[i].target);
    }
  free (ls->v);
}

static int
run_ldconfig (struct stage *s)
{
  struct strbuf bin = STRBUF_INIT;
  resolve (s, "sbin/ldconfig", &bin);
  cleanup_free char *exe = xasprintf ("%s/%s", s->root, bin.buf);
  strbuf_release (&bin);
  if (access (exe, X_OK) != 0)
    return strbuf_addf (s->err, "the base has no /sbin/ldconfig (looked for '%s')", exe), -1;
  const char *as_root[] = { exe, "-r", s->root, NULL };
  const char *in_ns[] = { "unshare", "--user", "--map-root-user", exe, "-r", s->root, NULL };
  struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  struct run_opts o = { geteuid () == 0 ? as_root : in_ns, NULL, NULL, &out, &err, 1 };
  int rc = run_command (&o);
  if (rc != 0)
    {
      struct strbuf cmd = STRBUF_INIT;
      run_describe (o.argv, &cmd);
      strbuf_addf (s->err, "%s failed (exit %d): %s", cmd.buf, rc, err.buf);
      strbuf_release (&cmd);
    }
  strbuf_release (&out);
  strbuf_release (&err);
  return rc == 0 ? 0 : -1;
}

int
ldcache_make (const char *const *tars, size_t ntars, const char *devel_dir, const char *tmp_dir,
              struct ldcache_result *out, struct strbuf *err)
{
  memset (out, 0, sizeof *out);
  strbuf_init (&out->cache, 0);
  struct stage s = { 0 };
  s.err = err;
  s.root = xasprintf ("%s/ldconfig.XXXXXX", tmp_dir);
  if (mkdtemp (s.root) == NULL)
    {
      strbuf_addf (err, "cannot create '%s': %s", s.root, strerror (errno));
      free (s.root);
      return -1;
    }
  int rc = 0;
  for (size_t i = 0; i < ntars && rc == 0; i++)
    rc = stage_tar (&s, tars[i], PASS_CONF);
  if (rc == 0)
    {
      read_conf (&s, "etc/ld.so.conf", 0);
      for (size_t i = 0; i < ARRAY_SIZE (trusted); i++)
        add_dir (&s, trusted[i]);
    }
  for (size_t i = 0; i < ntars && rc == 0; i++)
    rc = stage_tar (&s, tars[i], PASS_LIBS);
  if (rc == 0 && devel_dir)
    rc = devel_links (&s, devel_dir, out);
  struct linkset before = { 0 }, after = { 0 };
  if (rc == 0)
    {
      list_links (s.root, &before);
      rc = run_ldconfig (&s);
    }
  cleanup_free char *cache = xasprintf ("%s/etc/ld.so.cache", s.root);
  if (rc == 0 && strbuf_read_file (&out->cache, cache, 1u << 30) < 0)
    rc = -1, strbuf_addf (err, "ldconfig wrote no '%s': %s", cache, strerror (errno));
  if (rc == 0)
    {
      list_links (s.root, &after);
      for (size_t i = 0; i < after.n; i++)
        {
          const char *was = link_target (&before, after.v[i].path);
          if (was == NULL || strcmp (was, after.v[i].target) != 0)
            result_link (out, after.v[i].path, after.v[i].target);
        }
      if (out->nlinks)
        qsort (out->links, out->nlinks, sizeof *out->links, cmp_link);
    }
  linkset_release (&before);
  linkset_release (&after);
  nftw (s.root, remove_one, 64, FTW_DEPTH | FTW_PHYS);
  for (size_t i = 0; i < s.ndirs; i++)
    free (s.dirs[i]);
  free (s.dirs);
  forget_parent (&s);
  free (s.root);
  if (rc < 0)
    ldcache_result_release (out);
  return rc;
}

void
ldcache_result_release (struct ldcache_result *r)
{
  strbuf_release (&r->cache);
  for (size_t i = 0; i < r->nlinks; i++)
    {
      free (r->links[i].path);
      free (r->links[i].target);
    }
  free (r->links);
  r->links = NULL;
  r->nlinks = r->alloc = 0;
}
