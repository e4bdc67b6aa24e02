/* image_writer.c: see image_writer.h. */
#include "image_writer.h"
#include "cache.h"
#include "docker.h"
#include "dockerfile.h"
#include "fsutil.h"
#include "layer.h"
#include "ldcache.h"
#include "oci.h"
#include "run.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Bump when what a step layer holds changes, so cached step layers of the old kind are not reused. */
#define STEP_FORMAT 1
#define COPY_MAX (256u << 20)

/* The devel template's step (templates/devel.Dockerfile.tmpl), after "cd DIR && ". */
static const char devel_links_step[]
    = "for f in lib*.so.*; do l=\"${f%%.so.*}.so\"; [ -e \"$l\" ] || ln -s \"$f\" \"$l\"; done && ldconfig";

static pthread_mutex_t step_lock = PTHREAD_MUTEX_INITIALIZER;

struct writer
{
  const struct writer_input *in;
  struct oci_image img;
  struct strbuf *err;
  int cmd_set; /* CMD given in this Dockerfile: a later ENTRYPOINT keeps it */
};

static int64_t
step_mtime (void)
{
  const char *e = getenv ("SOURCE_DATE_EPOCH");
  return e && *e ? strtoll (e, NULL, 10) : 1700000000; /* as stage.c's layers */
}

static int
at (struct writer *w, const struct df_instr *d, const char *fmt, const char *what)
{
  strbuf_addf (w->err, "%s:%d:%d: ", w->in->recipe, d->line, d->col);
  strbuf_addf (w->err, fmt, what);
  return -1;
}

/* Where a layer pcgen writes (COPY, RUN) is cached: CACHE/layers/step-<kind>-<key>.tar, key
   hashing `key_text` (every input of the layer). */
static char *
step_path (const char *kind, const char *key_text)
{
  char key[SHA256_HEX_LEN + 1];
  cleanup_free char *text = xasprintf ("step %d %s\n%s", STEP_FORMAT, kind, key_text);
  sha256_hex (text, strlen (text), key);
  return xasprintf ("%s/layers/step-%s-%.24s.tar", cache_dir (), kind, key);
}

/* Make the step layer unless cached, and add it to the image. */
static int
step_layer (struct writer *w, const char *kind, const char *key_text, const struct layer_file *files,
            const size_t *sizes, size_t nf, const struct layer_link *links, size_t nl, const char *created_by)
{
  char sha[SHA256_HEX_LEN + 1];
  cleanup_free char *dir = xasprintf ("%s/layers", cache_dir ());
  cleanup_free char *tar = step_path (kind, key_text);
  unsigned long long size = 0;
  if (mkdir_p (dir, 0755) < 0)
    return strbuf_addf (w->err, "cannot create '%s': %s", dir, strerror (errno)), -1;
  struct layer_spec spec = { NULL, 0, links, nl, files, nf, step_mtime (), dir, NULL, 0 };
  /* Builds run in threads (-j) and two tags may need the same step layer (the verifier's
     COPY): layer_write's temporary is per process, so one thread makes it at a time. Another
     pcgen process uses its own temporary, and both rename the same bytes into place. */
  pthread_mutex_lock (&step_lock);
  int rc = access (tar, F_OK) != 0 ? layer_write_sized (&spec, sizes, tar, sha, NULL, w->err) : 0;
  pthread_mutex_unlock (&step_lock);
  if (rc < 0)
    return -1;
  if (sha256_file (tar, sha, &size) < 0)
    return strbuf_addf (w->err, "cannot read '%s': %s", tar, strerror (errno)), -1;
  oci_add_layer (&w->img, sha, size, tar, created_by);
  return 0;
}

static void
layers_key (const struct oci_image *img, struct strbuf *key)
{
  for (size_t i = 0; i < img->nlayers; i++)
    strbuf_addf (key, "layer %s\n", img->layers[i].digest);
}

/* RUN ldconfig, or the devel template's links (in dir) then ldconfig. A cached step is reused
   without staging anything: its key is every layer below it. */
static int
run_ldconfig_step (struct writer *w, const char *devel_dir, const char *created_by)
{
  struct strbuf key = STRBUF_INIT;
  layers_key (&w->img, &key);
  strbuf_addf (&key, "devel %s\n", devel_dir ? devel_dir : "-");
  cleanup_free char *tar = step_path ("ldconfig", key.buf);
  struct ldcache_result res = { STRBUF_INIT, NULL, 0, 0 };
  int rc = 0;
  if (access (tar, F_OK) != 0)
    {
      const char **tars = xcalloc (w->img.nlayers + 1, sizeof *tars);
      for (size_t i = 0; i < w->img.nlayers; i++)
        tars[i] = w->img.layers[i].path;
      cleanup_free char *tmp = xasprintf ("%s/tmp", cache_dir ());
      if (mkdir_p (tmp, 0755) < 0)
        rc = -1, strbuf_addf (w->err, "cannot create '%s': %s", tmp, strerror (errno));
      else
        rc = ldcache_make (tars, w->img.nlayers, devel_dir, tmp, &res, w->err);
      free (tars);
    }
  if (rc == 0)
    {
      struct layer_file f = { "etc/ld.so.cache", res.cache.buf, 0644 };
      struct layer_link *links = xcalloc (res.nlinks + 1, sizeof *links);
      for (size_t i = 0; i < res.nlinks; i++)
        links[i] = (struct layer_link) { res.links[i].path, res.links[i].target };
      rc = step_layer (w, "ldconfig", key.buf, &f, &res.cache.len, res.cache.len ? 1 : 0, links, res.nlinks, created_by);
      free (links);
    }
  ldcache_result_release (&res);
  strbuf_release (&key);
  return rc;
}

/* COPY SRC DEST from the build context: one file, its mode kept, owned by root (Docker's COPY
   without --chown). */
static int
copy_step (struct writer *w, const struct df_instr *d)
{
  char src[1024], dest[1024], extra[8];
  int n = sscanf (d->args, "%1023s %1023s %7s", src, dest, extra);
  if (n != 2 || src[0] == '-' || strstr (src, "..") || src[0] == '/')
    return at (w, d, "COPY '%s': the image writer copies one file of the build context (COPY SRC /DEST)", d->args);
  cleanup_free char *path = xasprintf ("%s/%s", w->in->context, src);
  struct stat st;
  struct strbuf content = STRBUF_INIT;
  if (stat (path, &st) < 0 || !S_ISREG (st.st_mode) || strbuf_read_file (&content, path, COPY_MAX) < 0)
    {
      strbuf_release (&content);
      return at (w, d, "COPY: cannot read '%s' in the build context (a regular file is needed)", src);
    }
  const char *base = strrchr (src, '/');
  cleanup_free char *to = dest[strlen (dest) - 1] == '/' ? xasprintf ("%s%s", dest + 1, base ? base + 1 : src)
                                                         : xstrdup (dest + (dest[0] == '/'));
  char sha[SHA256_HEX_LEN + 1];
  sha256_hex (content.buf, content.len, sha);
  cleanup_free char *key = xasprintf ("%s %o %s\n", to, (unsigned) (st.st_mode & 07777), sha);
  struct layer_file f = { to, content.buf, (int) (st.st_mode & 07777) };
  cleanup_free char *by = xasprintf ("COPY %s # pcgen image writer", d->args);
  int rc = step_layer (w, "copy", key, &f, &content.len, 1, NULL, 0, by);
  strbuf_release (&content);
  return rc;
}

static int
add_step (struct writer *w, const struct df_instr *d)
{
  char src[1024], dest[16], extra[8];
  int n = sscanf (d->args, "%1023s %15s %7s", src, dest, extra);
  if (n == 2 && starts_with (src, "layers/") && ends_with (src, ".tar") && streq (dest, "/"))
    for (size_t i = 0; i < w->in->nlayers; i++)
      {
        const struct staged_layer *l = &w->in->layers[i];
        if (strlen (src) == strlen (l->name) + 11 && strncmp (src + 7, l->name, strlen (l->name)) == 0)
          {
            /* The descriptor's size is the tar's own (OCI descriptor.md), not the content bytes
               staging counted, and a layer reused from the cache has no count at all. */
            struct stat st;
            if (stat (l->path, &st) != 0)
              {
                cleanup_free char *why = xasprintf ("'%s': %s", l->path, strerror (errno));
                return at (w, d, "ADD: cannot read the staged layer %s", why);
              }
            cleanup_free char *by = xasprintf ("ADD %s # pcgen image writer", d->args);
            oci_add_layer (&w->img, l->sha256, (unsigned long long) st.st_size, l->path, by);
            return 0;
          }
      }
  return at (w, d, "ADD '%s': the image writer adds only the tag's staged layers (ADD layers/NAME.tar /)", d->args);
}

/* s with every run of blanks one space, none at the ends: the shell reads both the same when
   no quote holds a blank (the steps matched here have none). */
static char *
squeeze (const char *s)
{
  char *out = xmalloc (strlen (s) + 1), *o = out;
  for (; *s; s++)
    if (!isspace ((unsigned char) *s))
      *o++ = *s;
    else if (o > out && o[-1] != ' ')
      *o++ = ' ';
  if (o > out && o[-1] == ' ')
    o--;
  *o = '\0';
  return out;
}

static int
run_step (struct writer *w, const struct df_instr *d)
{
  cleanup_free char *by = xasprintf ("RUN %s # pcgen image writer", d->args);
  cleanup_free char *cmd = squeeze (d->args);
  if (streq (cmd, "ldconfig"))
    return run_ldconfig_step (w, NULL, by);
  const char *amp = strstr (cmd, " && ");
  if (starts_with (cmd, "cd /") && amp && streq (amp + 4, devel_links_step))
    {
      cleanup_free char *dir = xstrndup (cmd + 4, (size_t) (amp - cmd - 4)); /* relative to / */
      if (strchr (dir, ' ') == NULL && strstr (dir, "..") == NULL)
        return run_ldconfig_step (w, dir, by);
    }
  return at (w, d,
             "RUN '%s': the image writer runs nothing in a container; it knows `RUN ldconfig` and the devel "
             "template's link step. Build with `pcgen build --engine docker`, or make this step a layer pcgen writes",
             d->args);
}

static int
from_step (struct writer *w, const struct df_instr *d)
{
  cleanup_free char *created = oci_created ();
  if (w->in->parent_layout)
    {
      if (oci_image_load (&w->img, w->in->parent_layout, w->err) < 0)
        return strbuf_addf (w->err, " (the runtime image's layout: build the runtime tag with the image writer first)"), -1;
      return 0;
    }
  oci_image_init (&w->img, created);
  struct stat st;
  if (stat (w->in->base_tar, &st) < 0)
    return strbuf_addf (w->err, "cannot read the base '%s': %s", w->in->base_tar, strerror (errno)), -1;
  oci_add_layer (&w->img, w->in->base_sha, (unsigned long long) st.st_size, w->in->base_tar, "pcgen base: mmdebstrap root file system (docker import)");
  const char *bash[] = { "bash" };
  oci_set_argv (&w->img, "Cmd", bash, 1);
  (void) d;
  return 0;
}

static int
config_step (struct writer *w, const struct df_instr *d)
{
  const char **argv = xcalloc (d->npairs + 1, sizeof *argv);
  for (size_t i = 0; i < d->npairs; i++)
    argv[i] = d->pairs[i].value;
  switch (d->kind)
    {
    case DF_ENV:
      for (size_t i = 0; i < d->npairs; i++)
        oci_set_env (&w->img, d->pairs[i].key, d->pairs[i].value);
      break;
    case DF_LABEL:
      for (size_t i = 0; i < d->npairs; i++)
        oci_set_label (&w->img, d->pairs[i].key, d->pairs[i].value);
      break;
    case DF_CMD:
      oci_set_argv (&w->img, "Cmd", argv, d->npairs);
      w->cmd_set = 1;
      break;
    case DF_ENTRYPOINT:
      oci_set_argv (&w->img, "Entrypoint", argv, d->npairs);
      if (!w->cmd_set) /* Docker: ENTRYPOINT resets a CMD inherited from the parent image */
        json_object_del (json_object_get (w->img.config, "config"), "Cmd");
      break;
    case DF_USER:
      oci_set_string (&w->img, "User", d->args);
      break;
    case DF_WORKDIR:
      if (d->args[0] != '/')
        {
          free (argv);
          return at (w, d, "WORKDIR '%s': the image writer takes an absolute path", d->args);
        }
      oci_set_string (&w->img, "WorkingDir", d->args);
      break;
    default: /* EXPOSE */
      {
        cleanup_free char *ports = xstrdup (d->args);
        for (char *save = NULL, *p = strtok_r (ports, " \t", &save); p; p = strtok_r (NULL, " \t", &save))
          oci_add_exposed (&w->img, p);
      }
    }
  free (argv);
  cleanup_free char *by = xasprintf ("%s %s # pcgen image writer", d->name, d->args);
  oci_add_history (&w->img, by);
  return 0;
}

static int
interpret (struct writer *w, const struct dockerfile *df)
{
  int from_seen = 0;
  for (size_t i = 0; i < df->n; i++)
    {
      const struct df_instr *d = &df->v[i];
      if (!from_seen && d->kind != DF_ARG && d->kind != DF_FROM)
        return at (w, d, "'%s' before FROM", d->name);
      int rc = 0;
      switch (d->kind)
        {
        case DF_ARG:
          break; /* FROM's image is the writer's input, not the ARG */
        case DF_FROM:
          if (from_seen)
            return at (w, d, "a second FROM ('%s'): the image writer makes single-stage images", d->args);
          from_seen = 1;
          rc = from_step (w, d);
          break;
        case DF_ADD:
          rc = add_step (w, d);
          break;
        case DF_COPY:
          rc = copy_step (w, d);
          break;
        case DF_RUN:
          rc = run_step (w, d);
          break;
        case DF_OTHER:
          return at (w, d, "'%s': not an instruction the image writer knows (FROM, ARG, ADD, COPY, RUN, ENV, LABEL, "
                           "CMD, ENTRYPOINT, USER, WORKDIR, EXPOSE)", d->name);
        default:
          rc = config_step (w, d);
        }
      if (rc < 0)
        return -1;
    }
  if (!from_seen)
    return strbuf_addf (w->err, "%s: no FROM", w->in->recipe), -1;
  return 0;
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

/* A blob: a hard link to the file that holds it (the cache), else a symlink to it. */
static int
link_blob (const char *blobs, const struct oci_layer *l, struct strbuf *err)
{
  cleanup_free char *dst = xasprintf ("%s/%s", blobs, l->digest);
  if (link (l->path, dst) == 0 || errno == EEXIST)
    return 0;
  char real[4096];
  if (realpath (l->path, real) && symlink (real, dst) == 0)
    return 0;
  return strbuf_addf (err, "cannot link '%s' to '%s': %s", l->path, dst, strerror (errno)), -1;
}

static int
write_blob (const char *blobs, const char *data, char sha[SHA256_HEX_LEN + 1], struct strbuf *err)
{
  sha256_hex (data, strlen (data), sha);
  cleanup_free char *p = xasprintf ("%s/%s", blobs, sha);
  if (write_file_atomic (p, data, strlen (data), 0644) < 0)
    return strbuf_addf (err, "cannot write '%s': %s", p, strerror (errno)), -1;
  return 0;
}

static int
write_named (const char *dir, const char *name, const char *data, struct strbuf *err)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  if (write_file_atomic (p, data, strlen (data), 0644) < 0)
    return strbuf_addf (err, "cannot write '%s': %s", p, strerror (errno)), -1;
  return 0;
}

static int
write_layout (struct writer *w, struct writer_result *r)
{
  const char *out = w->in->out_dir;
  cleanup_free char *tmp = xasprintf ("%s.tmp.%ld", out, (long) getpid ());
  cleanup_free char *blobs = xasprintf ("%s/blobs/sha256", tmp);
  nftw (tmp, remove_one, 64, FTW_DEPTH | FTW_PHYS);
  if (mkdir_p (blobs, 0755) < 0)
    return strbuf_addf (w->err, "cannot create '%s': %s", blobs, strerror (errno)), -1;
  int rc = 0;
  for (size_t i = 0; i < w->img.nlayers && rc == 0; i++)
    rc = link_blob (blobs, &w->img.layers[i], w->err);
  cleanup_free char *config = oci_config_json (&w->img);
  if (rc == 0)
    rc = write_blob (blobs, config, r->config_sha, w->err);
  cleanup_free char *manifest = rc == 0 ? oci_manifest_json (&w->img, r->config_sha, strlen (config)) : NULL;
  if (rc == 0)
    rc = write_blob (blobs, manifest, r->manifest_sha, w->err);
  cleanup_free char *index = rc == 0 ? oci_index_json (r->manifest_sha, strlen (manifest), w->in->ref) : NULL;
  cleanup_free char *docker = rc == 0 ? oci_docker_manifest_json (&w->img, r->config_sha, w->in->ref) : NULL;
  if (rc == 0)
    rc = write_named (tmp, "index.json", index, w->err);
  if (rc == 0)
    rc = write_named (tmp, "oci-layout", OCI_LAYOUT_JSON, w->err);
  if (rc == 0)
    rc = write_named (tmp, "manifest.json", docker, w->err);
  if (rc == 0)
    {
      nftw (out, remove_one, 64, FTW_DEPTH | FTW_PHYS);
      if (rename (tmp, out) < 0)
        rc = -1, strbuf_addf (w->err, "cannot rename '%s' to '%s': %s", tmp, out, strerror (errno));
    }
  if (rc < 0)
    nftw (tmp, remove_one, 64, FTW_DEPTH | FTW_PHYS);
  return rc;
}

int
image_write (const struct writer_input *in, struct writer_result *r, struct strbuf *err)
{
  struct writer w = { in, { NULL, NULL, 0, 0 }, err, 0 };
  struct strbuf text = STRBUF_INIT;
  struct dockerfile df;
  memset (r, 0, sizeof *r);
  if (strbuf_read_file (&text, in->recipe, 1u << 20) < 0)
    {
      strbuf_addf (err, "cannot read '%s': %s", in->recipe, strerror (errno));
      strbuf_release (&text);
      return -1;
    }
  int rc = dockerfile_parse (in->recipe, text.buf, text.len, &df, err);
  strbuf_release (&text);
  if (rc < 0)
    return -1;
  cleanup_free char *parent = xstrdup (in->out_dir);
  char *slash = strrchr (parent, '/');
  if (slash)
    *slash = '\0';
  if (slash && mkdir_p (parent, 0755) < 0)
    rc = -1, strbuf_addf (err, "cannot create '%s': %s", parent, strerror (errno));
  if (rc == 0)
    rc = interpret (&w, &df);
  if (rc == 0)
    rc = write_layout (&w, r);
  dockerfile_release (&df);
  if (w.img.config)
    oci_image_release (&w.img);
  return rc;
}

/* ---- docker load ---- */

int
image_tar_file (struct archive *a, struct archive_entry *ae, const char *name, const char *path, struct strbuf *err)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      if (fd >= 0)
        close (fd);
      return strbuf_addf (err, "cannot read '%s': %s", path, strerror (errno)), -1;
    }
  archive_entry_clear (ae);
  archive_entry_set_pathname (ae, name);
  archive_entry_set_filetype (ae, AE_IFREG);
  archive_entry_set_perm (ae, 0644);
  archive_entry_set_size (ae, st.st_size);
  archive_entry_set_mtime (ae, 1, 0);
  int rc = 0;
  if (archive_write_header (a, ae) < ARCHIVE_WARN)
    rc = -1, strbuf_addf (err, "cannot send '%s' to docker load: %s", name, archive_error_string (a));
  static char buf[1 << 20];
  for (ssize_t n; rc == 0 && (n = read (fd, buf, sizeof buf)) != 0;)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        rc = -1, strbuf_addf (err, "cannot read '%s': %s", path, strerror (errno));
      else if (archive_write_data (a, buf, (size_t) n) < 0)
        rc = -1, strbuf_addf (err, "cannot send '%s' to docker load: %s", name, archive_error_string (a));
    }
  close (fd);
  return rc;
}

static void
tar_dir (struct archive *a, struct archive_entry *ae, const char *name)
{
  archive_entry_clear (ae);
  archive_entry_set_pathname (ae, name);
  archive_entry_set_filetype (ae, AE_IFDIR);
  archive_entry_set_perm (ae, 0755);
  archive_entry_set_mtime (ae, 1, 0);
  archive_write_header (a, ae);
}

/* The layout as one tar on fd: the JSON first, then each blob once (a layer can appear twice),
   but not the bottom `skip` layers: the engine has them (present_prefix). */
static int
stream_layout (int fd, const char *layout, const struct writer_result *w, size_t skip, struct strbuf *err)
{
  struct oci_image img;
  if (oci_image_load (&img, layout, err) < 0)
    return -1;
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  archive_write_add_filter_none (a);
  archive_write_set_bytes_in_last_block (a, 1);
  int rc = archive_write_open_fd (a, fd) == ARCHIVE_OK ? 0 : -1;
  struct archive_entry *ae = archive_entry_new ();
  const char *top[] = { "oci-layout", "index.json", "manifest.json" };
  for (size_t i = 0; i < ARRAY_SIZE (top) && rc == 0; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", layout, top[i]);
      rc = image_tar_file (a, ae, top[i], p, err);
    }
  if (rc == 0)
    {
      tar_dir (a, ae, "blobs");
      tar_dir (a, ae, "blobs/sha256");
    }
  const char *json_blobs[] = { w->config_sha, w->manifest_sha };
  for (size_t i = 0; i < 2 && rc == 0; i++)
    {
      cleanup_free char *name = xasprintf ("blobs/sha256/%s", json_blobs[i]);
      cleanup_free char *p = xasprintf ("%s/%s", layout, name);
      rc = image_tar_file (a, ae, name, p, err);
    }
  for (size_t i = skip; i < img.nlayers && rc == 0; i++)
    {
      /* sent already in this stream; a skipped layer's blob is not (a devel image's last COPY
         layer is its runtime's 8th: the same blob, but another chain the engine lacks) */
      int dup = 0;
      for (size_t k = skip; k < i; k++)
        dup |= strcmp (img.layers[k].digest, img.layers[i].digest) == 0;
      if (dup)
        continue;
      cleanup_free char *name = xasprintf ("blobs/sha256/%s", img.layers[i].digest);
      rc = image_tar_file (a, ae, name, img.layers[i].path, err);
    }
  if (rc == 0 && archive_write_close (a) != ARCHIVE_OK)
    rc = -1, strbuf_addf (err, "cannot finish the stream to docker load: %s", archive_error_string (a));
  archive_entry_free (ae);
  archive_write_free (a);
  oci_image_release (&img);
  return rc;
}

static int
docker_load (const char *layout, const struct writer_result *w, size_t skip, struct strbuf *err)
{
  int in[2];
  int out = open ("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (out < 0 || pipe2 (in, O_CLOEXEC) < 0)
    {
      if (out >= 0)
        close (out);
      return strbuf_addf (err, "cannot start docker load: %s", strerror (errno)), -1;
    }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, in[0], 0);
  posix_spawn_file_actions_adddup2 (&fa, out, 1);
  posix_spawn_file_actions_adddup2 (&fa, out, 2);
  char *argv[] = { (char *) docker_bin (), "load", NULL };
  pid_t pid;
  int e = posix_spawnp (&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (in[0]);
  if (e != 0)
    {
      close (in[1]);
      close (out);
      return strbuf_addf (err, "cannot run '%s load': %s", argv[0], strerror (e)), -1;
    }
  /* docker load ending early must be an error here, not a SIGPIPE that ends pcgen: SIGPIPE
     goes to the thread that wrote, so this thread blocks it (other builds run in other
     threads) and takes a pending one back before unblocking */
  sigset_t pipe_set, old_mask;
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old_mask);
  struct strbuf serr = STRBUF_INIT;
  int rc = stream_layout (in[1], layout, w, skip, &serr);
  close (in[1]);
  struct timespec zero = { 0, 0 };
  while (sigtimedwait (&pipe_set, NULL, &zero) == SIGPIPE)
    ;
  pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  struct strbuf said = STRBUF_INIT;
  char buf[4096];
  lseek (out, 0, SEEK_SET);
  for (ssize_t n; (n = read (out, buf, sizeof buf)) > 0;)
    strbuf_add (&said, buf, (size_t) n);
  close (out);
  while (said.len && said.buf[said.len - 1] == '\n')
    said.buf[--said.len] = '\0';
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || rc < 0)
    {
      strbuf_addf (err, "docker load of '%s' failed: %s%s%s", layout, said.len ? said.buf : "(no output)",
                   serr.len ? "; " : "", serr.buf);
      rc = -1;
    }
  strbuf_release (&said);
  strbuf_release (&serr);
  return rc;
}

/* How many of img's bottom layers the engine holds already. Docker keys a layer by its ChainID
   (the layer and every one below it), and engine 20.10's docker load opens a layer's file only
   when that chain is missing (moby image/tarexport/load.go: ls.Get (ChainID) first, loadLayer
   only on failure), so a chain any image in the engine starts with need not be sent: a devel
   image sends only its own layers, a runtime image not the base. */
static size_t
present_prefix (const struct oci_image *img)
{
  struct strbuf ids = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
  const char *ls[] = { "docker", "image", "ls", "-q", "--no-trunc", NULL };
  size_t best = 0;
  if (docker_run (ls, &ids, &err) == 0 && ids.len)
    {
      size_t n = 5, alloc = 0;
      const char **argv = NULL;
      ARRAY_GROW (argv, n + 1, alloc);
      argv[0] = "docker", argv[1] = "image", argv[2] = "inspect", argv[3] = "--format";
      argv[4] = "{{json .RootFS.Layers}}";
      for (char *save = NULL, *id = strtok_r (ids.buf, "\n", &save); id; id = strtok_r (NULL, "\n", &save))
        {
          ARRAY_GROW (argv, n + 2, alloc);
          argv[n++] = id;
        }
      argv[n] = NULL;
      json_t *mine = json_object_get (json_object_get (img->config, "rootfs"), "diff_ids");
      if (docker_run (argv, &out, &err) == 0)
        for (char *save = NULL, *line = strtok_r (out.buf, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
          {
            json_t *theirs = json_loads (line, 0, NULL);
            size_t k = 0;
            while (k < json_array_size (theirs) && k < json_array_size (mine)
                   && json_equal (json_array_get (theirs, k), json_array_get (mine, k)))
              k++;
            best = k > best ? k : best;
            json_decref (theirs);
          }
      free (argv);
    }
  strbuf_release (&ids);
  strbuf_release (&out);
  strbuf_release (&err);
  return best;
}

int
image_load (const char *layout, const struct writer_result *w, const char *ref, struct strbuf *err)
{
  cleanup_free char *id = xasprintf ("sha256:%s", w->config_sha);
  struct strbuf have = STRBUF_INIT;
  int present = docker_image_id (ref, &have) == 0 && streq (have.buf, id);
  strbuf_release (&have);
  if (present)
    return 0;
  if (docker_image_id (id, NULL) == 0)
    {
      /* the engine has this image under another name: naming it is all that is left */
      const char *argv[] = { "docker", "tag", id, ref, NULL };
      return docker_run (argv, NULL, err);
    }
  struct oci_image img;
  size_t skip = 0;
  if (oci_image_load (&img, layout, err) < 0)
    return -1;
  skip = present_prefix (&img);
  oci_image_release (&img);
  struct strbuf first = STRBUF_INIT;
  int loaded = docker_load (layout, w, skip, skip ? &first : err);
  if (loaded < 0 && skip) /* an engine that reads every listed file after all: send them all */
    loaded = docker_load (layout, w, 0, err);
  strbuf_release (&first);
  if (loaded < 0)
    return -1;
  struct strbuf got = STRBUF_INIT;
  int rc = 0;
  if (docker_image_id (ref, &got) < 0 || !streq (got.buf, id))
    {
      strbuf_addf (err, "after docker load, '%s' is image '%s', not '%s' that pcgen wrote", ref, got.buf, id);
      rc = -1;
    }
  strbuf_release (&got);
  return rc;
}

size_t
image_present_prefix (const struct oci_image *img)
{
  return present_prefix (img);
}
