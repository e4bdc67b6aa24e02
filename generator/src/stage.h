/* stage.h: the layers of a tag, made from the wheels of its lock sets (docs/building.md, "Layers"):
     cuda    nvidia-* runtime libraries -> /usr/local/cuda-X.Y/lib (+ /usr/local/cuda, ld.so.conf.d),
             their dist-info and the `nvidia` package in site-packages (pip check), whose lib
             folders link to /usr/local/cuda-X.Y/lib: every library is stored once
     cudnn   the same for cuDNN
     torch   torch, triton and the pure-Python dependencies in site-packages; /opt/libtorch links
     devel   ptxas, nvvm, CCCL and every runtime wheel's headers -> /usr/local/cuda-X.Y, but a
             wheel the devel set brings itself (CUDA 13: CCCL, nvcc's own release)
     nvcc    nvcc, cicc, cudafe++, fatbinary, nvlink, bin2c, crt/{link,prelink}.stub, the static runtime and
             the libcuda.so stub from Debian's nvidia-cuda-toolkit/-dev packages or NVIDIA's redist
             archives; for CUDA 13 the whole nvidia/cu13/ of PyPI's nvidia-cuda-nvcc, -crt, nvidia-nvvm
             and nvidia-cuda-cccl wheels; and a generated bin/nvcc.profile (devel tags whose CUDA has
             an nvcc source: docs/nvcc.md)
   CUDA 13's runtime wheels share one folder, nvidia/cu13/, mapped like 12's nvidia/<component>/.
   notebook tags (docs/notebook.md), on top of their runtime image:
     notebook-debs  openssh-server, ssh-keygen and tini from Debian's packages (bases.yaml)
     jupyter        JupyterLab's wheels beyond the torch set (matrix.lock's notebook set); their
                    data files (static assets, kernelspec, server config) under /usr/local
     notebook       pcgen's files: the entrypoint, sshd_config, /etc/passwd and /etc/group (the
                    base's, plus pytorch, uid 1000), /workspace and /run/pytorch-notebook (its own)
   A layer is cached under a key made of its name and the sha256 of every input in it, so the
   same inputs give the same tar, built once and shared by every tag that needs it. */
#ifndef PCGEN_STAGE_H
#define PCGEN_STAGE_H

#include "digest.h"
#include "kinds.h"
#include "lock.h"
#include "plan.h"

struct staged_layer
{
  char *name;   /* as the Dockerfile names it: layers/<name>.tar */
  char *path;   /* the cached tar */
  char sha256[SHA256_HEX_LEN + 1];
  unsigned long long bytes;
  int built;    /* made now (not reused) */
};

/* Make (or reuse) every layer of t. out receives ntags layers in Dockerfile order.
   Returns 0, or -1 with err. */
int stage_layers (const struct plan *p, const struct ptag *t, const struct lockset *torch_set,
                  const struct lockset *devel_set, struct staged_layer **out, size_t *n,
                  struct strbuf *err);
void staged_layers_free (struct staged_layer *l, size_t n);

/* The same in steps, so that a caller can fetch a layer's inputs while others are staged
   (build_layers): stager_submit(i) reuses layer i's cached tar or describes the layer (reading
   its wheels' member lists, in this thread) and hands it to a worker thread; stager_finish waits
   for every worker and hands the layers over as stage_layers does (its err: the first failed
   layer in layer order; call it whatever stager_submit returned). Up to stage_workers() layers
   are written at once, the one with the most input bytes first; each layer's bytes are the same
   on any number of workers (docs/building.md, "Layers"). */
struct stager;
struct stager *stager_new (const struct plan *p, const struct ptag *t, const struct lockset *torch_set,
                           const struct lockset *devel_set);
size_t stager_count (const struct stager *s);
enum layer_role stager_role (const struct stager *s, size_t i);
int stager_submit (struct stager *s, size_t i, struct strbuf *err);
/* Whether layer i's tar is complete in the cache already (its key's tar and .sha256; the key is
   made of its inputs' pinned sha256s, not of their files): stager_submit then reuses it and
   reads none of its inputs, so they need not be in the cache. Always 0 for the notebook layer,
   which reads no input. */
int stager_cached (const struct stager *s, size_t i);
/* The pinned sha256 of every input layer i reads (wheels, packages, nvcc's archives), one a line
   (caller frees): what must be in the cache before stager_submit(i) when it is not cached. */
char *stager_inputs (const struct stager *s, size_t i);
int stager_finish (struct stager *s, struct staged_layer **out, size_t *n, struct strbuf *err);
/* PCGEN_STAGE_JOBS when set (1: one layer after the other; at most 64), else the number of
   cores: one layer per core. */
size_t stage_workers (void);

/* Remove <tar>.tmp.<pid> files whose writer has exited (an interrupted build's); a temporary
   of a live process is another pcgen's work in progress and stays. */
void stage_remove_stale_temporaries (const char *tar);

#endif
