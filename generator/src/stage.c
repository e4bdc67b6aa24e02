/* stage.c: see stage.h. */
#include "stage.h"
#include "base.h"
#include "cache.h"
#include "debs.h"
#include "fetch.h"
#include "fsutil.h"
#include "layer.h"
#include "wheel.h"
#include "util.h"

#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Every layer entry gets this mtime (SOURCE_DATE_EPOCH when set): same inputs, same bytes. */
static int64_t
layer_mtime (void)
{
  const char *e = getenv ("SOURCE_DATE_EPOCH");
  return e && *e ? strtoll (e, NULL, 10) : 1700000000;
}

/* Bump when the mapping below changes, so cached layers made by the old mapping are not reused. */
#define STAGE_FORMAT 2

/* Rules are built per wheel; their strings live in a pool freed with the layer. */
struct pool
{
  char **s;
  size_t n, alloc;
};

static const char *
keep (struct pool *p, char *s)
{
  ARRAY_GROW (p->s, p->n + 1, p->alloc);
  return p->s[p->n++] = s;
}

static void
pool_free (struct pool *p)
{
  for (size_t i = 0; i < p->n; i++)
    free (p->s[i]);
  free (p->s);
}

/* nvidia-cuda-runtime-cu12 -> cuda_runtime: the folder under nvidia/ the wheel installs. */
static char *
nvidia_component (const char *name)
{
  const char *s = name + strlen ("nvidia-");
  size_t len = strlen (s);
  const char *cu = strstr (s, "-cu1");
  if (cu && (cu[4] == '\0' || cu[5] == '\0'))
    len = (size_t) (cu - s);
  char *c = xstrndup (s, len);
  for (char *q = c; *q; q++)
    if (*q == '-')
      *q = '_';
  return c;
}

/* "torch-2.6.0-cp311-...whl" -> "torch-2.6.0": the prefix of its .dist-info and .data folders. */
static char *
dist_prefix (const struct locked_wheel *w)
{
  const char *d1 = strchr (w->file, '-');
  const char *d2 = d1 ? strchr (d1 + 1, '-') : NULL;
  return d2 ? xstrndup (w->file, (size_t) (d2 - w->file)) : xstrdup (w->file);
}

struct builder
{
  /* JupyterLab's set is the largest: about 90 wheels. */
  struct layer_input in[192];
  struct layer_rule rules[192][10];
  size_t nin;
  struct layer_link links[64];
  size_t nlinks;
  struct layer_file files[8];
  size_t nfiles;
  struct layer_dir dirs[4];
  size_t ndirs;
  struct pool pool;
  const char *cuda_home; /* usr/local/cuda-12.4 */
  const char *site;      /* usr/local/lib/python3.11/dist-packages */
};

static struct layer_rule *
add_input (struct builder *b, const struct locked_wheel *w)
{
  b->in[b->nin].wheel = keep (&b->pool, lock_wheel_path (w));
  b->in[b->nin].rules = b->rules[b->nin];
  b->in[b->nin].nrules = 0;
  return b->rules[b->nin++];
}

static void
rule (struct builder *b, const char *from, const char *to)
{
  struct layer_input *in = &b->in[b->nin - 1];
  b->rules[b->nin - 1][in->nrules++] = (struct layer_rule) { from, to };
}

static void
link_ (struct builder *b, char *path, char *target)
{
  /* CUDA 13's runtime wheels share nvidia/cu13/: each asks for the same link to the CUDA folder. */
  for (size_t i = 0; i < b->nlinks; i++)
    if (strcmp (b->links[i].path, path) == 0 && strcmp (b->links[i].target, target) == 0)
      {
        free (path);
        free (target);
        return;
      }
  b->links[b->nlinks++] = (struct layer_link) { keep (&b->pool, path), keep (&b->pool, target) };
}

/* CUDA 13's wheels all install into one folder per CUDA major, nvidia/cu13/{bin,include,lib,nvvm}
   (nvidia-cuda-runtime 13.0.96: nvidia/cu13/lib/libcudart.so.13; nvidia-cuda-nvcc 13.0.88:
   nvidia/cu13/bin/nvcc), where 11's and 12's had one per component (nvidia/cuda_runtime/lib).
   "nvidia/cu13/" when members (one per line) has a member there, else NULL. */
static char *
cuda_major_dir (const char *members)
{
  for (const char *m = members; m && *m; m = strchr (m, '\n') ? strchr (m, '\n') + 1 : NULL)
    {
      size_t digits = starts_with (m, "nvidia/cu") ? strspn (m + strlen ("nvidia/cu"), "0123456789") : 0;
      if (digits > 0 && m[strlen ("nvidia/cu") + digits] == '/')
        return xstrndup (m, strlen ("nvidia/cu") + digits + 1);
    }
  return NULL;
}

/* Where a wheel keeps its component: nvidia/<c>/ for most, <c>/ at the top for a few
   (nvidia-cusparselt-cu12 installs cusparselt/lib/, where torch's RPATH looks for it). */
static char *
component_dir (const struct locked_wheel *w, const char *comp, struct strbuf *err)
{
  struct strbuf members = STRBUF_INIT;
  cleanup_free char *path = lock_wheel_path (w);
  char *dir = NULL;
  if (wheel_members (path, &members, err) == 0)
    {
      cleanup_free char *top = xasprintf ("\n%s/", comp);
      int at_top = strncmp (members.buf, top + 1, strlen (top + 1)) == 0 || strstr (members.buf, top);
      char *shared = cuda_major_dir (members.buf);
      dir = shared ? shared : at_top ? xasprintf ("%s/", comp) : xasprintf ("nvidia/%s/", comp);
    }
  strbuf_release (&members);
  return dir;
}

/* An nvidia-* wheel as an input of the layer: its component's folder in the wheel (kept in the
   builder's pool), or NULL with err. */
static const char *
add_component (struct builder *b, const struct locked_wheel *w, struct strbuf *err)
{
  cleanup_free char *comp = nvidia_component (w->name);
  const char *dir = keep (&b->pool, component_dir (w, comp, err) ?: xstrdup (""));
  if (*dir == '\0')
    return NULL;
  add_input (b, w);
  return dir;
}

/* A runtime nvidia-* wheel: its libraries into the CUDA folder, its Python side (the nvidia
   namespace and dist-info) into site-packages, with nvidia/<c>/lib a link to the CUDA folder. */
static int
add_nvidia_runtime (struct builder *b, const struct locked_wheel *w, int first, struct strbuf *err)
{
  cleanup_free char *dist = dist_prefix (w);
  struct pool *p = &b->pool;
  const char *dir = add_component (b, w, err);
  if (dir == NULL)
    return -1;
  /* lib/__init__.py would sit where site-packages has a link to the CUDA folder. */
  rule (b, keep (p, xasprintf ("%slib/__init__.py", dir)), NULL);
  rule (b, keep (p, xasprintf ("%slib/", dir)), keep (p, xasprintf ("%s/lib/", b->cuda_home)));
  rule (b, keep (p, xasprintf ("%sinclude/", dir)), NULL);
  rule (b, keep (p, xasprintf ("%sbin/", dir)), keep (p, xasprintf ("%s/bin/", b->cuda_home)));
  rule (b, "nvidia/__init__.py", first ? keep (p, xasprintf ("%s/nvidia/__init__.py", b->site)) : NULL);
  rule (b, dir, keep (p, xasprintf ("%s/%s", b->site, dir)));
  rule (b, keep (p, xasprintf ("%s.dist-info/", dist)), keep (p, xasprintf ("%s/%s.dist-info/", b->site, dist)));
  link_ (b, xasprintf ("%s/%slib", b->site, dir), xasprintf ("/%s/lib", b->cuda_home));
  return 0;
}

static void
add_python_wheel (struct builder *b, const struct locked_wheel *w)
{
  cleanup_free char *dist = dist_prefix (w);
  struct pool *p = &b->pool;
  add_input (b, w);
  rule (b, keep (p, xasprintf ("%s.data/purelib/", dist)), keep (p, xasprintf ("%s/", b->site)));
  rule (b, keep (p, xasprintf ("%s.data/platlib/", dist)), keep (p, xasprintf ("%s/", b->site)));
  /* The data scheme is pip's prefix, /usr/local for Debian's python3 (its sysconfig's
     posix_local scheme): JupyterLab's static assets (share/jupyter/lab), ipykernel's kernelspec,
     the server extension switches (etc/jupyter/jupyter_server_config.d). */
  rule (b, keep (p, xasprintf ("%s.data/data/", dist)), "usr/local/");
  /* Scripts need pip's shebang rewriting: left out; `python3 -m` works for every module. */
  rule (b, keep (p, xasprintf ("%s.data/", dist)), NULL);
  rule (b, "", keep (p, xasprintf ("%s/", b->site)));
}

/* Whether the devel set brings a wheel of this name itself, whose headers then win over the torch
   set's: CUDA 13's nvidia-nvshmem-cu13 requires nvidia-cuda-cccl with no version, so pip puts the
   newest CCCL (13.3.5.0.6 for torch 2.15.0) in the torch set, while the nvcc layer lays the CCCL
   of nvcc's own release (13.2.86, cuda-toolkit 13.2.2's `cccl` extra) over the same
   include/cccl/. Both in the image would leave the newer release's extra files among the older
   one's; NVIDIA's toolkit ships the CCCL of its nvcc, so the devel layer leaves the other out. */
static int
devel_set_has (const struct lockset *ds, const char *name)
{
  for (size_t i = 0; ds && i < ds->n; i++)
    if (strcmp (ds->w[i].name, name) == 0)
      return 1;
  return 0;
}

static int
add_devel_wheel (struct builder *b, const struct locked_wheel *w, int is_runtime_wheel, struct strbuf *err)
{
  cleanup_free char *dist = dist_prefix (w);
  struct pool *p = &b->pool;
  const char *dir = add_component (b, w, err);
  if (dir == NULL)
    return -1;
  rule (b, keep (p, xasprintf ("%sinclude/__init__.py", dir)), NULL);
  rule (b, keep (p, xasprintf ("%sinclude/", dir)), keep (p, xasprintf ("%s/include/", b->cuda_home)));
  if (is_runtime_wheel)
    return 0; /* only the headers of the libraries the runtime layers hold */
  rule (b, keep (p, xasprintf ("%sbin/", dir)), keep (p, xasprintf ("%s/bin/", b->cuda_home)));
  rule (b, keep (p, xasprintf ("%snvvm/", dir)), keep (p, xasprintf ("%s/nvvm/", b->cuda_home)));
  rule (b, keep (p, xasprintf ("%slib/__init__.py", dir)), NULL);
  rule (b, keep (p, xasprintf ("%slib/", dir)), keep (p, xasprintf ("%s/lib/", b->cuda_home)));
  rule (b, keep (p, xasprintf ("%s.dist-info/", dist)), keep (p, xasprintf ("%s/%s.dist-info/", b->site, dist)));
  return 0;
}

/* nvcc.profile for /usr/local/cuda-X.Y/bin: Debian's points at /usr paths, this one at the
   CUDA folder the image has (include/ and lib/ directly under it, nvvm/ beside bin/). */
static const char nvcc_profile[]
    = "# nvcc.profile, written by pcgen for this image's layout (docs/nvcc.md)\n"
      "TOP              = $(_HERE_)/..\n"
      "NVVMIR_LIBRARY_DIR = $(TOP)/nvvm/libdevice\n"
      "LD_LIBRARY_PATH += $(TOP)/lib:\n"
      "PATH            += $(TOP)/nvvm/bin:$(_HERE_):\n"
      "INCLUDES        +=  \"-I$(TOP)/include\" $(_SPACE_)\n"
      "LIBRARIES        =+ $(_SPACE_) \"-L$(TOP)/lib/stubs\" \"-L$(TOP)/lib\"\n"
      "CUDAFE_FLAGS    +=\n"
      "PTXAS_FLAGS     +=\n";

/* nvcc.profile for the layer made from CUDA 13's wheels: NVIDIA's own (nvidia-cuda-nvcc 13.0.88,
   nvidia/cu13/bin/nvcc.profile) with $(_TARGET_DIR_) and lib$(_TARGET_SIZE_) resolved for this
   layout (no targets/x86_64-linux), which is the 12.x profile above plus CUDA 13's CCCL folder:
   the nvidia-cuda-cccl wheel has its headers under include/cccl/ (cub/, thrust/, cuda/), which
   NVIDIA's profile passes as -isystem. */
static const char nvcc_profile_pypi[]
    = "# nvcc.profile, written by pcgen for this image's layout (docs/nvcc.md)\n"
      "TOP              = $(_HERE_)/..\n"
      "CICC_PATH        = $(TOP)/nvvm/bin\n"
      "NVVMIR_LIBRARY_DIR = $(TOP)/nvvm/libdevice\n"
      "LD_LIBRARY_PATH += $(TOP)/lib:\n"
      "PATH            += $(CICC_PATH):$(_HERE_):\n"
      "INCLUDES        +=  \"-I$(TOP)/include\" $(_SPACE_)\n"
      "SYSTEM_INCLUDES +=  \"-isystem\" \"$(TOP)/include/cccl\" $(_SPACE_)\n"
      "LIBRARIES        =+ $(_SPACE_) \"-L$(TOP)/lib/stubs\" \"-L$(TOP)/lib\"\n"
      "CUDAFE_FLAGS    +=\n"
      "PTXAS_FLAGS     +=\n";

/* Whether the devel set's nvcc comes from wheels (cuda.yaml kind pypi: CUDA 13). */
static int
nvcc_from_wheels (const struct lockset *ds)
{
  for (size_t i = 0; ds && i < ds->n; i++)
    if (ds->w[i].role == ROLE_NVCC && ends_with (ds->w[i].file, ".whl"))
      return 1;
  return 0;
}

static const char *
nvcc_profile_for (const struct lockset *ds)
{
  return nvcc_from_wheels (ds) ? nvcc_profile_pypi : nvcc_profile;
}

/* What a devel image takes from CUDA 13's nvcc wheels (nvidia-cuda-nvcc, nvidia-cuda-crt,
   nvidia-nvvm, nvidia-cuda-cccl): everything under nvidia/cuNN/, which is NVIDIA's layout of the
   CUDA folder (bin/nvcc, bin/crt/, include/crt/, include/cccl/, nvvm/bin/cicc, nvvm/libdevice/,
   lib/libnvvm.so.4, lib/cmake/), less the profile (ours is written below) and the .metadata/ of
   NVIDIA's packaging scans. Their dist-info is left out as Debian's packages' is: nvcc is not a
   Python package here. */
static int
add_nvcc_wheel (struct builder *b, const struct locked_wheel *w, struct strbuf *err)
{
  struct pool *p = &b->pool;
  struct strbuf members = STRBUF_INIT;
  cleanup_free char *path = lock_wheel_path (w);
  int rc = wheel_members (path, &members, err);
  const char *dir = rc == 0 ? keep (p, cuda_major_dir (members.buf) ?: xstrdup ("")) : "";
  strbuf_release (&members);
  if (rc < 0)
    return -1;
  if (*dir == '\0')
    return strbuf_addf (err, "%s: no nvidia/cuNN/ folder in it: not a CUDA 13 wheel", w->file), -1;
  add_input (b, w);
  rule (b, keep (p, xasprintf ("%sbin/nvcc.profile", dir)), NULL);
  rule (b, keep (p, xasprintf ("%s.metadata/", dir)), NULL);
  rule (b, dir, keep (p, xasprintf ("%s/", b->cuda_home)));
  return 0;
}

/* What a devel image takes from Debian's packages (the files nvcc needs that no wheel has),
   from Debian's paths to the CUDA folder. Everything else in nvidia-cuda-* is left out. */
static int
add_nvcc_deb (struct builder *b, const struct locked_wheel *w)
{
  struct pool *p = &b->pool;
  const char *h = b->cuda_home;
  add_input (b, w);
  if (strcmp (w->name, "nvidia-cuda-toolkit") == 0)
    {
      static const char *const tools[] = { "cudafe++", "fatbinary", "nvlink", "bin2c" };
      /* A link to /etc/nvcc.profile: ours is written below. */
      rule (b, "usr/lib/nvidia-cuda-toolkit/bin/nvcc.profile", NULL);
      rule (b, "usr/lib/nvidia-cuda-toolkit/bin/nvcc", keep (p, xasprintf ("%s/bin/nvcc", h)));
      rule (b, "usr/lib/nvidia-cuda-toolkit/bin/crt/", keep (p, xasprintf ("%s/bin/crt/", h)));
      rule (b, "usr/lib/nvidia-cuda-toolkit/bin/cicc", keep (p, xasprintf ("%s/nvvm/bin/cicc", h)));
      for (size_t i = 0; i < ARRAY_SIZE (tools); i++)
        rule (b, keep (p, xasprintf ("usr/bin/%s", tools[i])), keep (p, xasprintf ("%s/bin/%s", h, tools[i])));
      return 0;
    }
  if (strcmp (w->name, "nvidia-cuda-dev") == 0)
    {
      static const char *const libs[] = { "libcudart_static.a", "libcudadevrt.a", "libculibos.a", "stubs/libcuda.so" };
      for (size_t i = 0; i < ARRAY_SIZE (libs); i++)
        rule (b, keep (p, xasprintf ("usr/lib/x86_64-linux-gnu/%s", libs[i])), keep (p, xasprintf ("%s/lib/%s", h, libs[i])));
      return 0;
    }
  /* Any other package is the host compiler's (cuda.yaml host_compiler): unpacked where Debian
     puts it, without its documentation. */
  rule (b, "usr/share/doc/", NULL);
  rule (b, "usr/share/man/", NULL);
  rule (b, "usr/share/info/", NULL);
  rule (b, "usr/share/lintian/", NULL);
  rule (b, "", "");
  return 0;
}

/* What a devel image takes from NVIDIA's redist archives, which hold one folder named after the
   archive (cuda_nvcc-linux-x86_64-12.1.105-archive/{bin,include,lib,nvvm,...}, NVIDIA's layout
   under /usr/local/cuda-X.Y): the same files as from Debian's packages. ptxas, nvvm's library
   and libdevice and the headers come from the wheels of the devel layer, the same build. */
static int
add_nvcc_redist (struct builder *b, const struct locked_wheel *w, struct strbuf *err)
{
  struct pool *p = &b->pool;
  const char *h = b->cuda_home;
  if (!ends_with (w->file, ".tar.xz"))
    return strbuf_addf (err, "'%s' is not a redist archive (.tar.xz)", w->file), -1;
  const char *top = keep (p, xasprintf ("%.*s/", (int) (strlen (w->file) - strlen (".tar.xz")), w->file));
  add_input (b, w);
  if (strcmp (w->name, "cuda_nvcc") == 0)
    {
      /* Its nvcc.profile points at targets/x86_64-linux: ours is written below. */
      rule (b, keep (p, xasprintf ("%sbin/nvcc.profile", top)), NULL);
      rule (b, keep (p, xasprintf ("%sbin/", top)), keep (p, xasprintf ("%s/bin/", h)));
      rule (b, keep (p, xasprintf ("%snvvm/bin/", top)), keep (p, xasprintf ("%s/nvvm/bin/", h)));
      return 0;
    }
  if (strcmp (w->name, "cuda_cudart") == 0)
    {
      static const char *const libs[] = { "libcudart_static.a", "libcudadevrt.a", "libculibos.a", "stubs/libcuda.so" };
      for (size_t i = 0; i < ARRAY_SIZE (libs); i++)
        rule (b, keep (p, xasprintf ("%slib/%s", top, libs[i])), keep (p, xasprintf ("%s/lib/%s", h, libs[i])));
      return 0;
    }
  return strbuf_addf (err, "no mapping for the redist component '%s' (stage.c knows cuda_nvcc and cuda_cudart)",
                      w->name), -1;
}

/* A base's Debian packages (bases.yaml: toolchain, buildtools) unpacked as dpkg would, minus
   manuals and translations (what Debian's slim images leave out too); copyright files stay.
   Not installed: no maintainer scripts run and dpkg's status does not list them (docs/toolchain.md),
   so the links the scripts would make are made here: cc and c++ (gcc's and g++'s alternatives). */
static int
add_base_debs (struct builder *b, const struct kb_deb *d, size_t n, enum layer_role role, struct strbuf *err)
{
  static const char *const left_out[] = { "usr/share/man/", "usr/share/info/", "usr/share/locale/", "usr/share/lintian/" };
  static const char *const merged[][2] = { { "bin/", "usr/bin/" }, { "sbin/", "usr/sbin/" }, { "lib/", "usr/lib/" },
                                           { "lib64/", "usr/lib64/" } };
  if (n == 0)
    return strbuf_addf (err, "bases.yaml names no %s packages for this base", layer_role_name (role)), -1;
  if (n > ARRAY_SIZE (b->in))
    return strbuf_addf (err, "%s: more than %zu packages", layer_role_name (role), ARRAY_SIZE (b->in)), -1;
  for (size_t i = 0; i < n; i++)
    {
      b->in[b->nin].wheel = keep (&b->pool, debs_path (&d[i]));
      b->in[b->nin].rules = b->rules[b->nin];
      b->in[b->nin].nrules = 0;
      b->nin++;
      for (size_t k = 0; k < ARRAY_SIZE (left_out); k++)
        rule (b, left_out[k], NULL);
      /* The base is merged-/usr (/bin is a link to usr/bin): a layer's bin/ folder would
         replace that link and take /bin/sh away. bookworm's packages still ship bin/ (procps). */
      for (size_t k = 0; k < ARRAY_SIZE (merged); k++)
        rule (b, merged[k][0], merged[k][1]);
      rule (b, "", "");
    }
  if (role == LAYER_TOOLCHAIN)
    {
      link_ (b, xstrdup ("usr/bin/cc"), xstrdup ("gcc"));
      link_ (b, xstrdup ("usr/bin/c++"), xstrdup ("g++"));
    }
  return 0;
}

/* The notebook image's user: uid and gid 1000 (the first a Debian system gives a person), home
   /workspace, no password at all ('*': nothing hashes to it; sshd takes keys only). */
#define NOTEBOOK_UID 1000
#define NOTEBOOK_HOME "workspace"
#define NOTEBOOK_STATE "run/pytorch-notebook"

/* The notebook layer's generated files, read once: the base's /etc/passwd and /etc/group with
   the user added, and the entrypoint and sshd_config from the knowledge base's notebook/ folder. */
struct notebook_files
{
  struct strbuf passwd, group, entrypoint, sshd_config;
};

static void
notebook_files_release (struct notebook_files *f)
{
  strbuf_release (&f->passwd);
  strbuf_release (&f->group);
  strbuf_release (&f->entrypoint);
  strbuf_release (&f->sshd_config);
}

/* Whether a passwd or group file has `name` or id `id` already (field 0 and field 2). */
static int
has_entry (const char *file, const char *name, int id)
{
  for (const char *l = file; *l;)
    {
      size_t len = strcspn (l, "\n");
      cleanup_free char *line = xstrndup (l, len);
      char *c1 = strchr (line, ':');
      char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c1 && (size_t) (c1 - line) == strlen (name) && strncmp (line, name, strlen (name)) == 0)
        return 1;
      if (c2 && atoi (c2 + 1) == id && c2[1] >= '0' && c2[1] <= '9')
        return 1;
      l += len + (l[len] == '\n');
    }
  return 0;
}

static int
notebook_files_read (const struct ptag *t, const char *kb_dir, struct notebook_files *f, struct strbuf *err)
{
  static const char *const names[] = { "etc/passwd", "etc/group" };
  cleanup_free char *tar = NULL;
  char sha[SHA256_HEX_LEN + 1];
  cleanup_free char *ep = xasprintf ("%s/notebook/entrypoint.sh", kb_dir);
  cleanup_free char *sc = xasprintf ("%s/notebook/sshd_config", kb_dir);
  struct strbuf two[2] = { STRBUF_INIT, STRBUF_INIT };
  strbuf_init (&f->passwd, 0), strbuf_init (&f->group, 0), strbuf_init (&f->entrypoint, 0), strbuf_init (&f->sshd_config, 0);
  if (strbuf_read_file (&f->entrypoint, ep, 1 << 20) < 0)
    return strbuf_addf (err, "cannot read '%s': %s", ep, strerror (errno)), -1;
  if (strbuf_read_file (&f->sshd_config, sc, 1 << 20) < 0)
    return strbuf_addf (err, "cannot read '%s': %s", sc, strerror (errno)), -1;
  if (base_rootfs (t->base, 0, &tar, sha, err) < 0 || base_read_files (tar, names, 2, two, err) < 0)
    {
      strbuf_release (&two[0]);
      strbuf_release (&two[1]);
      return -1;
    }
  f->passwd = two[0];
  f->group = two[1];
  if (has_entry (f->passwd.buf, NOTEBOOK_USER, NOTEBOOK_UID) || has_entry (f->group.buf, NOTEBOOK_USER, NOTEBOOK_UID))
    return strbuf_addf (err, "the %s base has a user or group named %s or numbered %d already: the notebook "
                             "layer cannot add its own", t->base->name, NOTEBOOK_USER, NOTEBOOK_UID), -1;
  if (f->passwd.len && f->passwd.buf[f->passwd.len - 1] != '\n')
    strbuf_addch (&f->passwd, '\n');
  if (f->group.len && f->group.buf[f->group.len - 1] != '\n')
    strbuf_addch (&f->group, '\n');
  strbuf_addf (&f->passwd, "%s:*:%d:%d:PyTorch notebook user:/%s:/bin/bash\n", NOTEBOOK_USER, NOTEBOOK_UID, NOTEBOOK_UID,
               NOTEBOOK_HOME);
  strbuf_addf (&f->group, "%s:x:%d:\n", NOTEBOOK_USER, NOTEBOOK_UID);
  return 0;
}

/* The notebook layer: pcgen's own files and the user's folders, nothing from a package. */
static void
add_notebook_files (struct builder *b, const struct notebook_files *f)
{
  b->files[b->nfiles++] = (struct layer_file) { "etc/passwd", f->passwd.buf, 0644 };
  b->files[b->nfiles++] = (struct layer_file) { "etc/group", f->group.buf, 0644 };
  b->files[b->nfiles++] = (struct layer_file) { "etc/ssh/sshd_config", f->sshd_config.buf, 0644 };
  b->files[b->nfiles++] = (struct layer_file) { "usr/local/bin/pytorch-notebook", f->entrypoint.buf, 0755 };
  b->dirs[b->ndirs++] = (struct layer_dir) { NOTEBOOK_HOME, 0755, NOTEBOOK_UID, NOTEBOOK_UID };
  /* sshd's host keys and authorized_keys, made at start: only pytorch may read them. */
  b->dirs[b->ndirs++] = (struct layer_dir) { NOTEBOOK_STATE, 0700, NOTEBOOK_UID, NOTEBOOK_UID };
}

/* Fill b with the inputs of one layer role. */
static int
describe_layer (struct builder *b, enum layer_role role, const struct ptag *t, const struct lockset *ts,
                const struct lockset *ds, struct strbuf *err)
{
  int first = 1;
  if (role == LAYER_TOOLCHAIN)
    return add_base_debs (b, t->base->toolchain, t->base->ntoolchain, role, err);
  if (role == LAYER_BUILDTOOLS)
    return add_base_debs (b, t->base->buildtools, t->base->nbuildtools, role, err);
  if (role == LAYER_NOTEBOOK_DEBS)
    return add_base_debs (b, t->base->notebook, t->base->nnotebook, role, err);
  if (role == LAYER_JUPYTER)
    {
      /* ds is the notebook set: only what the torch layer lacks (lock_resolve_notebook). */
      for (size_t i = 0; ds && i < ds->n; i++)
        {
          if (b->nin + 1 >= ARRAY_SIZE (b->in))
            return strbuf_addf (err, "layer %s of %s: more than %zu wheels", layer_role_name (role), t->name, ARRAY_SIZE (b->in)), -1;
          add_python_wheel (b, &ds->w[i]);
        }
      return 0;
    }
  if (role == LAYER_DEVEL)
    {
      for (size_t i = 0; ds && i < ds->n; i++)
        if (ds->w[i].role != ROLE_NVCC && add_devel_wheel (b, &ds->w[i], 0, err) < 0)
          return -1;
      for (size_t i = 0; i < ts->n; i++)
        if ((ts->w[i].role == ROLE_CUDA || ts->w[i].role == ROLE_CUDNN)
            && !devel_set_has (ds, ts->w[i].name) && add_devel_wheel (b, &ts->w[i], 1, err) < 0)
          return -1;
      return 0;
    }
  if (role == LAYER_NVCC)
    {
      size_t n = 0;
      for (size_t i = 0; ds && i < ds->n; i++)
        if (ds->w[i].role == ROLE_NVCC
            && (n++, (ends_with (ds->w[i].file, ".deb")   ? add_nvcc_deb (b, &ds->w[i])
                      : ends_with (ds->w[i].file, ".whl") ? add_nvcc_wheel (b, &ds->w[i], err)
                                                          : add_nvcc_redist (b, &ds->w[i], err)) < 0))
          return -1;
      if (n == 0)
        return strbuf_addf (err, "%s: the lock pins no nvcc packages for CUDA %s: run 'pcgen lock'", t->name,
                            t->cuda->version), -1;
      b->files[b->nfiles++] = (struct layer_file) { keep (&b->pool, xasprintf ("%s/bin/nvcc.profile", b->cuda_home)),
                                                    nvcc_profile_for (ds), 0644 };
      if (nvcc_from_wheels (ds))
        {
          /* What NVIDIA's installers have and the wheels do not: lib64, where NVIDIA's own
             profile (lib$(_TARGET_SIZE_)) and CMake's FindCUDAToolkit look. libcudart.so for
             `-cudart shared` is made by the devel Dockerfile, as for every CUDA. */
          link_ (b, xasprintf ("%s/lib64", b->cuda_home), xstrdup ("lib"));
        }
      return 0;
    }
  for (size_t i = 0; i < ts->n; i++)
    {
      const struct locked_wheel *w = &ts->w[i];
      if ((int) w->role != layer_role_wheels (role))
        continue;
      if (b->nin + 1 >= ARRAY_SIZE (b->in))
        return strbuf_addf (err, "layer %s of %s: more than %zu wheels", layer_role_name (role), t->name, ARRAY_SIZE (b->in)), -1;
      if (role == LAYER_TORCH)
        add_python_wheel (b, w);
      else if (starts_with (w->name, "nvidia-"))
        {
          if (add_nvidia_runtime (b, w, first && role == LAYER_CUDA, err) < 0)
            return -1;
          first = 0;
        }
      else if (role == LAYER_CUDA && starts_with (w->name, "cuda-"))
        /* CUDA 13's torch requires cuda-toolkit, a meta-package (dist-info only) whose extras
           name the nvidia-* wheels; NVIDIA's cuda-* Python packages install like any other. */
        add_python_wheel (b, w);
      else
        return strbuf_addf (err, "%s: building images from '%s' (CUDA %s) is not supported yet", t->name, w->name,
                            t->cuda->version), -1;
    }
  if (role == LAYER_CUDA)
    {
      link_ (b, xstrdup ("usr/local/cuda"), xasprintf ("cuda-%s", t->cuda->version));
      b->files[b->nfiles++] = (struct layer_file) { "etc/ld.so.conf.d/pytorch-cuda.conf",
                                                    keep (&b->pool, xasprintf ("/%s/lib\n", b->cuda_home)), 0644 };
    }
  if (role == LAYER_TORCH)
    {
      static const char *const dirs[] = { "include", "lib", "share" };
      for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
        link_ (b, xasprintf ("opt/libtorch/%s", dirs[i]), xasprintf ("/%s/torch/%s", b->site, dirs[i]));
    }
  return 0;
}

static const struct kb_deb *
base_debs_of (const struct ptag *t, enum layer_role role, size_t *n)
{
  if (role == LAYER_TOOLCHAIN)
    return *n = t->base->ntoolchain, t->base->toolchain;
  if (role == LAYER_BUILDTOOLS)
    return *n = t->base->nbuildtools, t->base->buildtools;
  return *n = t->base->nnotebook, t->base->notebook;
}

/* A cache key: the first 24 hex digits of the sha256 of what describes the layer (sb, released). */
static char *
key_of (struct strbuf *sb)
{
  char hex[SHA256_HEX_LEN + 1];
  sha256_hex (sb->buf, sb->len, hex);
  strbuf_release (sb);
  return xstrndup (hex, 24);
}

/* The sha256 of every input layer `role` reads, one a line, into out: a base's packages, the
   notebook set (jupyter), the devel set's nvcc files (nvcc), the devel set's other wheels and the
   torch set's CUDA and cuDNN wheels it does not bring itself (devel), or the torch set's wheels of
   the role. The notebook layer reads none (its files are pcgen's). */
static void
layer_inputs (enum layer_role role, const struct ptag *t, const struct lockset *ts, const struct lockset *ds,
              struct strbuf *out)
{
  if (role == LAYER_NOTEBOOK)
    return;
  if (layer_role_debs (role))
    {
      size_t n;
      const struct kb_deb *d = base_debs_of (t, role, &n);
      for (size_t i = 0; i < n; i++)
        strbuf_addf (out, "%s\n", d[i].sha256);
      return;
    }
  if (role == LAYER_JUPYTER || role == LAYER_NVCC)
    {
      for (size_t i = 0; ds && i < ds->n; i++)
        if (role == LAYER_JUPYTER || ds->w[i].role == ROLE_NVCC)
          strbuf_addf (out, "%s\n", ds->w[i].sha256);
      return;
    }
  for (size_t i = 0; i < ts->n; i++)
    if (role == LAYER_DEVEL ? ts->w[i].role != ROLE_TORCH && !devel_set_has (ds, ts->w[i].name)
                                    : (int) ts->w[i].role == layer_role_wheels (role))
      strbuf_addf (out, "%s\n", ts->w[i].sha256);
  for (size_t i = 0; ds && role == LAYER_DEVEL && i < ds->n; i++)
    if (ds->w[i].role != ROLE_NVCC)
      strbuf_addf (out, "%s\n", ds->w[i].sha256);
}

/* The cache key: the layer's name, the mapping's version, where it maps to and every input's
   sha256 (layer_inputs; the notebook layer: its files' bytes, nf). */
static char *
layer_key (const char *name, enum layer_role role, const struct ptag *t, const struct lockset *ts,
           const struct lockset *ds, const struct notebook_files *nf)
{
  struct strbuf sb = STRBUF_INIT;
  if (nf)
    {
      strbuf_addf (&sb, "%s\n%d\nnotebook\n", name, STAGE_FORMAT);
      const struct strbuf *parts[] = { &nf->passwd, &nf->group, &nf->sshd_config, &nf->entrypoint };
      for (size_t i = 0; i < ARRAY_SIZE (parts); i++)
        {
          char hex[SHA256_HEX_LEN + 1];
          sha256_hex (parts[i]->buf, parts[i]->len, hex);
          strbuf_addf (&sb, "%s\n", hex);
        }
      return key_of (&sb);
    }
  struct strbuf in = STRBUF_INIT;
  layer_inputs (role, t, ts, ds, &in);
  if (role == LAYER_JUPYTER)
    strbuf_addf (&sb, "%s%s\njupyter\npython %s\n", in.buf, name, t->python);
  else if (layer_role_debs (role))
    /* Only the packages: the same layer for every tag of this base, whatever its CUDA. */
    strbuf_addf (&sb, "%s\n%d\nmerged-usr\n%s", name, STAGE_FORMAT, in.buf);
  else
    /* Where the files land is part of the layer: the CUDA folder and the Python site folder;
       nvcc's: only the packages and the profile, the same for every devel tag of this CUDA. */
    strbuf_addf (&sb, "%s\n%d\ncuda %s\npython %s\n%s%s", name, STAGE_FORMAT, t->cuda->version, t->python,
                 role == LAYER_NVCC ? nvcc_profile_for (ds) : "", in.buf);
  strbuf_release (&in);
  return key_of (&sb);
}

/* An interrupted layer_write leaves <tar>.tmp.<pid>: never used (only a complete tar is renamed
   into place), but worth its disk space back. The cache is shared by every pcgen on the machine,
   so a temporary whose writer is still running is another build's work in progress: keep it. */
void
stage_remove_stale_temporaries (const char *tar)
{
  cleanup_free char *pattern = xasprintf ("%s.tmp.*", tar);
  size_t prefix = strlen (pattern) - 1;
  glob_t g;
  if (glob (pattern, 0, NULL, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; i++)
      {
        char *end;
        long pid = strtol (g.gl_pathv[i] + prefix, &end, 10);
        bool writer_alive = *end == '\0' && pid > 0 && (kill ((pid_t) pid, 0) == 0 || errno == EPERM);
        if (!writer_alive)
          unlink (g.gl_pathv[i]);
      }
  globfree (&g);
}

/* ---- The stager: layers described in the calling thread, written by a pool of workers -------

   Each layer is its own layer_write (its own staging file, libarchive objects and buffers), and
   the bytes of a layer depend only on its spec: the same tars in any order, on any number of
   threads. Workers take the waiting layer with the most input bytes first, so that the longest
   job does not start last. */

struct stage_task
{
  struct staged_layer *out;
  enum layer_role role;
  struct builder *b;
  struct notebook_files nf;
  int notebook;
  char *home, *site, *dir;
  struct layer_spec spec;
  unsigned long long cost; /* bytes of its inputs */
  int taken, rc;
  struct strbuf err;
};

struct stager
{
  const struct plan *p;
  const struct ptag *t;
  const struct lockset *ts, *ds;
  const struct player_list *layers;
  struct staged_layer *out;
  size_t n;
  struct stage_task **task; /* per layer: NULL when reused or not submitted */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t *threads;
  size_t nthreads, maxthreads, submitted;
  int closed;
};

size_t
stage_workers (void)
{
  const char *e = getenv ("PCGEN_STAGE_JOBS");
  long cores = sysconf (_SC_NPROCESSORS_ONLN);
  long n = e && *e ? strtol (e, NULL, 10) : cores;
  if (n < 1)
    n = 1;
  return (size_t) (n > 64 ? 64 : n);
}

static void
task_run (struct stage_task *k)
{
  struct layer_stats stats;
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  const char *name = k->out->name;
  if (k->notebook)
    fprintf (stderr, "layer: %s (%zu files, %zu folders) ...\n", name, k->b->nfiles, k->b->ndirs);
  else
    fprintf (stderr, "layer: %s (%zu %s) ...\n", name, k->b->nin,
             k->role == LAYER_NVCC ? "files" : layer_role_debs (k->role) ? "packages" : "wheels");
  k->rc = layer_write (&k->spec, k->out->path, k->out->sha256, &stats, &k->err);
  if (k->rc < 0)
    return;
  k->out->bytes = stats.bytes;
  k->out->built = 1;
  cleanup_free char *sidecar = xasprintf ("%s.sha256", k->out->path);
  cleanup_free char *line = xasprintf ("%s\n", k->out->sha256);
  write_file_atomic (sidecar, line, strlen (line), 0644);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  fprintf (stderr, "layer: %s: %llu entries, %.1f MB, %.1fs\n", name, (unsigned long long) stats.entries,
           (double) stats.bytes / 1e6, secs);
}

static void *
worker (void *arg)
{
  struct stager *s = arg;
  pthread_mutex_lock (&s->mu);
  for (;;)
    {
      struct stage_task *best = NULL;
      for (size_t i = 0; i < s->n; i++)
        if (s->task[i] && !s->task[i]->taken && (best == NULL || s->task[i]->cost > best->cost))
          best = s->task[i];
      if (best)
        {
          best->taken = 1;
          pthread_mutex_unlock (&s->mu);
          task_run (best);
          pthread_mutex_lock (&s->mu);
          continue;
        }
      if (s->closed)
        break;
      pthread_cond_wait (&s->cv, &s->mu);
    }
  pthread_mutex_unlock (&s->mu);
  return NULL;
}

static void
task_free (struct stage_task *k)
{
  if (k == NULL)
    return;
  if (k->b)
    pool_free (&k->b->pool);
  free (k->b);
  if (k->notebook)
    notebook_files_release (&k->nf);
  free (k->home);
  free (k->site);
  free (k->dir);
  strbuf_release (&k->err);
  free (k);
}

struct stager *
stager_new (const struct plan *p, const struct ptag *t, const struct lockset *ts, const struct lockset *ds)
{
  struct stager *s = xcalloc (1, sizeof *s);
  s->p = p, s->t = t, s->ts = ts, s->ds = ds;
  s->layers = plan_own_layers (t);
  s->n = s->layers->n;
  s->out = xcalloc (s->n + 1, sizeof *s->out);
  s->task = xcalloc (s->n + 1, sizeof *s->task);
  s->maxthreads = stage_workers ();
  s->threads = xcalloc (s->maxthreads, sizeof *s->threads);
  pthread_mutex_init (&s->mu, NULL);
  pthread_cond_init (&s->cv, NULL);
  return s;
}

size_t
stager_count (const struct stager *s)
{
  return s->n;
}

enum layer_role
stager_role (const struct stager *s, size_t i)
{
  return s->layers->v[i].role;
}

/* The bytes of the layer's inputs, for the order workers take it in. */
static unsigned long long
inputs_bytes (const struct builder *b)
{
  unsigned long long sum = 0;
  for (size_t i = 0; i < b->nin; i++)
    {
      struct stat st;
      if (stat (b->in[i].wheel, &st) == 0)
        sum += (unsigned long long) st.st_size;
    }
  return sum;
}

/* The cache's tar of layer i (nf: the notebook layer's files, which its key is made of). */
static char *
layer_tar (const struct stager *s, size_t i, const struct notebook_files *nf)
{
  const char *name = s->layers->v[i].name;
  cleanup_free char *key = layer_key (name, stager_role (s, i), s->t, s->ts, s->ds, nf);
  return xasprintf ("%s/layers/%s-%s.tar", cache_dir (), name, key);
}

/* Whether tar is complete in the cache: the tar and the .sha256 written after it, whose digest
   goes to sha (when not NULL). */
static int
tar_known (const char *tar, char sha[SHA256_HEX_LEN + 1])
{
  cleanup_free char *sidecar = xasprintf ("%s.sha256", tar);
  struct strbuf known = STRBUF_INIT;
  int ok = access (tar, F_OK) == 0 && strbuf_read_file (&known, sidecar, 128) == 0 && known.len >= SHA256_HEX_LEN;
  if (ok && sha)
    {
      memcpy (sha, known.buf, SHA256_HEX_LEN);
      sha[SHA256_HEX_LEN] = '\0';
    }
  strbuf_release (&known);
  return ok;
}

int
stager_cached (const struct stager *s, size_t i)
{
  if (stager_role (s, i) == LAYER_NOTEBOOK)
    return 0; /* its key is its files' bytes, read from the base; it reads no input anyway */
  cleanup_free char *tar = layer_tar (s, i, NULL);
  return tar_known (tar, NULL);
}

char *
stager_inputs (const struct stager *s, size_t i)
{
  struct strbuf sb = STRBUF_INIT;
  layer_inputs (stager_role (s, i), s->t, s->ts, s->ds, &sb);
  return strbuf_detach (&sb, NULL);
}

int
stager_submit (struct stager *s, size_t i, struct strbuf *err)
{
  const struct ptag *t = s->t;
  const char *name = s->layers->v[i].name;
  enum layer_role role = stager_role (s, i);
  struct staged_layer *out = &s->out[i];
  struct stage_task *k = xcalloc (1, sizeof *k);
  strbuf_init (&k->err, 0);
  k->out = out;
  k->role = role;
  k->notebook = role == LAYER_NOTEBOOK;
  if (k->notebook && notebook_files_read (t, s->p->kb->dir, &k->nf, err) < 0)
    {
      task_free (k);
      return -1;
    }
  k->dir = xasprintf ("%s/layers", cache_dir ());
  out->name = xstrdup (name);
  out->path = layer_tar (s, i, k->notebook ? &k->nf : NULL);
  if (tar_known (out->path, out->sha256))
    {
      /* Made before from the same inputs: its digest was recorded when it was written. */
      task_free (k);
      return 0;
    }
  if (mkdir_p (k->dir, 0755) < 0)
    {
      strbuf_addf (err, "cannot create '%s': %s", k->dir, strerror (errno));
      task_free (k);
      return -1;
    }
  stage_remove_stale_temporaries (out->path);
  struct builder *b = k->b = xcalloc (1, sizeof *b);
  b->cuda_home = k->home = xasprintf ("usr/local/cuda-%s", t->cuda->version);
  b->site = k->site = xasprintf ("usr/local/lib/python%s/dist-packages", t->python);
  if ((k->notebook ? (add_notebook_files (b, &k->nf), 0) : describe_layer (b, role, t, s->ts, s->ds, err)) < 0)
    {
      task_free (k);
      return -1;
    }
  k->spec = (struct layer_spec) { b->in,    b->nin,   b->links, b->nlinks, b->files, b->nfiles, layer_mtime (),
                                  k->dir, b->dirs, b->ndirs };
  k->cost = inputs_bytes (b);
  pthread_mutex_lock (&s->mu);
  s->task[i] = k;
  s->submitted++;
  /* A worker per layer waiting, up to one per core. */
  if (s->nthreads < s->maxthreads && s->nthreads < s->submitted
      && pthread_create (&s->threads[s->nthreads], NULL, worker, s) == 0)
    s->nthreads++;
  int alone = s->nthreads == 0; /* no thread could start: this one stages it */
  pthread_cond_signal (&s->cv);
  pthread_mutex_unlock (&s->mu);
  if (alone)
    {
      k->taken = 1;
      task_run (k);
    }
  return 0;
}

int
stager_finish (struct stager *s, struct staged_layer **out, size_t *n, struct strbuf *err)
{
  pthread_mutex_lock (&s->mu);
  s->closed = 1;
  pthread_cond_broadcast (&s->cv);
  pthread_mutex_unlock (&s->mu);
  for (size_t i = 0; i < s->nthreads; i++)
    pthread_join (s->threads[i], NULL);
  /* The first failure in layer order: the same message however the workers were scheduled. */
  int rc = 0;
  for (size_t i = 0; i < s->n; i++)
    {
      if (s->task[i] && s->task[i]->rc < 0 && rc == 0)
        {
          strbuf_addstr (err, s->task[i]->err.buf);
          rc = -1;
        }
      task_free (s->task[i]);
    }
  *out = s->out;
  *n = s->n;
  pthread_mutex_destroy (&s->mu);
  pthread_cond_destroy (&s->cv);
  free (s->task);
  free (s->threads);
  free (s);
  return rc;
}

int
stage_layers (const struct plan *p, const struct ptag *t, const struct lockset *ts,
              const struct lockset *ds, struct staged_layer **out, size_t *n, struct strbuf *err)
{
  struct stager *s = stager_new (p, t, ts, ds);
  int rc = 0;
  for (size_t i = 0; i < stager_count (s) && rc == 0; i++)
    rc = stager_submit (s, i, err);
  struct strbuf later = STRBUF_INIT;
  if (stager_finish (s, out, n, rc == 0 ? err : &later) < 0)
    rc = -1;
  strbuf_release (&later);
  return rc;
}

void
staged_layers_free (struct staged_layer *l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (l[i].name);
      free (l[i].path);
    }
  free (l);
}
