/* plan_layers.c: a tag's layers above the base, typed (plan.h: struct player), made once when
   the plan is built; the plan's JSON (plan_json.c) and the stager (stage.c) read them. */
#include "plan.h"
#include "digest.h"
#include "nvcc_source.h"
#include "strbuf.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A short, stable digest of a set of pins: two tags whose pins are equal share the layer. */
static void
pins_id (const struct kb_pin *pins, size_t n, int (*keep) (const char *), char out[9])
{
  struct strbuf sb = STRBUF_INIT;
  for (size_t i = 0; i < n; i++)
    if (keep (pins[i].name))
      strbuf_addf (&sb, "%s==%s\n", pins[i].name, pins[i].version);
  char hex[SHA256_HEX_LEN + 1];
  sha256_hex (sb.buf, sb.len, hex);
  memcpy (out, hex, 8);
  out[8] = '\0';
  strbuf_release (&sb);
}

static int
is_cuda_pin (const char *name)
{
  return strstr (name, "cudnn") == NULL;
}

static int
any_pin (const char *name)
{
  (void) name;
  return 1;
}

static void
layer (struct player_list *l, enum layer_role role, char *name, char *what)
{
  l->v = xrealloc (l->v, (l->n + 1) * sizeof *l->v);
  l->v[l->n++] = (struct player) { role, name, what };
}

/* A layer of a base's Debian packages, named by their digests: a new package, a new name. */
static void
debs_layer (struct player_list *l, enum layer_role role, const struct kb_base *b, const struct kb_deb *d, size_t n,
            const char *what)
{
  struct strbuf sb = STRBUF_INIT;
  char hex[SHA256_HEX_LEN + 1];
  for (size_t i = 0; i < n; i++)
    strbuf_addf (&sb, "%s\n", d[i].sha256);
  sha256_hex (sb.buf, sb.len, hex);
  strbuf_release (&sb);
  layer (l, role, xasprintf ("%s-%s-%.8s", layer_role_name (role), b->name, hex), xstrdup (what));
}

/* The layers of a tag above the base, bottom to top: the most widely shared lowest. Names are
   stable (versions and pin digests) so rendered Dockerfiles change only when pins change. */
static void
runtime_layers (const struct ptag *t, struct player_list *a)
{
  char id[9];
  const char *full = plan_cuda_full (t);
  /* The same for every tag on this base: lowest. */
  if (t->base->ntoolchain)
    debs_layer (a, LAYER_TOOLCHAIN, t->base, t->base->toolchain, t->base->ntoolchain,
                "C/C++ compiler, OpenMP and Python headers (torch.compile)");
  pins_id (t->variant->pins, t->variant->npins, is_cuda_pin, id);
  layer (a, LAYER_CUDA, xasprintf ("cuda-%s-%s", full ? full : t->cuda->version, id), xstrdup ("CUDA runtime libraries"));
  layer (a, LAYER_CUDNN, xasprintf ("cudnn-%s-cuda%s", t->variant->cudnn, t->cuda->version), xstrdup ("cuDNN"));
  layer (a, LAYER_TORCH, plan_torch_id (t), xstrdup ("PyTorch and its Python dependencies"));
}

/* What a devel image adds on top of its runtime image (NVIDIA's chain: devel builds on runtime). */
static void
devel_layers (const struct ptag *t, struct player_list *a)
{
  char id[9];
  if (t->flavor == FLAVOR_DEVEL)
    {
      if (t->base->nbuildtools)
        debs_layer (a, LAYER_BUILDTOOLS, t->base, t->base->buildtools, t->base->nbuildtools, "CMake and make");
      pins_id (t->cuda->devel, t->cuda->ndevel, any_pin, id);
      layer (a, LAYER_DEVEL, xasprintf ("cuda-devel-%s-%s", t->cuda->version, id), xstrdup ("ptxas, nvvm and CUDA headers"));
      const struct kb_nvcc *n = t->cuda->nvcc;
      const struct kb_host_compiler *h = t->cuda->host_compiler;
      if (n)
        {
          /* Named by the files' digests: a new package or archive gives a new layer name. */
          struct strbuf sb = STRBUF_INIT;
          char hex[SHA256_HEX_LEN + 1];
          for (size_t i = 0; i < n->nfiles; i++)
            strbuf_addf (&sb, "%s\n", n->files[i].sha256);
          for (size_t i = 0; h && i < h->nfiles; i++)
            strbuf_addf (&sb, "%s\n", h->files[i].sha256);
          sha256_hex (sb.buf, sb.len, hex);
          strbuf_reset (&sb);
          cleanup_free char *from = nvcc_describe (n);
          strbuf_addf (&sb, "nvcc %s from %s", n->version, from);
          if (h)
            {
              /* The package the compiler is named after: g++-11 for /usr/bin/g++-11. */
              const struct kb_deb *pkg = &h->files[0];
              for (size_t i = 0; i < h->nfiles; i++)
                if (strcmp (strrchr (h->ccbin, '/') + 1, h->files[i].name) == 0) /* ccbin is absolute: kb.c */
                  pkg = &h->files[i];
              strbuf_addf (&sb, "; host compiler %s from Debian's %s %s", h->ccbin, pkg->name, pkg->version);
            }
          layer (a, LAYER_NVCC, xasprintf ("nvcc-%s-%.8s", n->version, hex), strbuf_detach (&sb, NULL));
        }
    }
}

/* What a notebook image adds on top of its runtime image, bottom to top: sshd and tini (Debian's
   packages pinned in bases.yaml), JupyterLab (the notebook set of matrix.lock, resolved with the
   tag's torch set), and pcgen's own files: the entrypoint, sshd_config, the user (docs/notebook.md). */
static void
notebook_layers (const struct ptag *t, struct player_list *a)
{
  if (t->flavor != FLAVOR_NOTEBOOK)
    return;
  debs_layer (a, LAYER_NOTEBOOK_DEBS, t->base, t->base->notebook, t->base->nnotebook, "sshd, ssh-keygen and tini");
  layer (a, LAYER_JUPYTER,
         xasprintf ("jupyterlab-%s-torch%s-cu%d%d-py%s", t->base->jupyterlab, t->torch->version, t->cuda->major,
                    t->cuda->minor, t->python),
         xstrdup ("JupyterLab and its Python dependencies"));
  layer (a, LAYER_NOTEBOOK, xasprintf ("notebook-%s", t->base->name),
         xstrdup ("the entrypoint, sshd_config and the user pytorch (uid 1000, home /workspace)"));
}

void
plan_layers_fill (struct ptag *t)
{
  runtime_layers (t, &t->layers);
  devel_layers (t, &t->devel_layers);
  notebook_layers (t, &t->notebook_layers);
}

static void
player_list_release (struct player_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->v[i].name);
      free (l->v[i].what);
    }
  free (l->v);
  memset (l, 0, sizeof *l);
}

void
plan_layers_release (struct ptag *t)
{
  player_list_release (&t->layers);
  player_list_release (&t->devel_layers);
  player_list_release (&t->notebook_layers);
}

const struct player_list *
plan_own_layers (const struct ptag *t)
{
  return t->flavor == FLAVOR_DEVEL ? &t->devel_layers : t->flavor == FLAVOR_NOTEBOOK ? &t->notebook_layers : &t->layers;
}
