/* nvcc_source.h: where the files of a devel image's nvcc come from, and their download.
   CUDA 13's wheels (kind pypi) are fetched by pip like every wheel (lock_fetch). Two kinds are
   downloaded by pcgen itself, pinned by sha256 in matrix.lock (role "nvcc"):
     Debian packages   path "pool/...": under $PCGEN_DEBIAN_MIRROR (default deb.debian.org)
     NVIDIA's redist   path "<component>/linux-x86_64/<component>-linux-x86_64-<ver>-archive.tar.xz"
                       (the relative_path of redistrib_<X.Y.Z>.json): under $PCGEN_CUDA_REDIST
                       (default NVIDIA's https://developer.download.nvidia.com/compute/cuda/redist)
   The transport is not trusted: a file enters the cache only when its sha256 is the pinned one. */
#ifndef PCGEN_NVCC_SOURCE_H
#define PCGEN_NVCC_SOURCE_H

#include "kb.h"
#include "lockfile.h"
#include "strbuf.h"

#define DEFAULT_CUDA_REDIST "https://developer.download.nvidia.com/compute/cuda/redist"

/* lock_fetch's answer when one of nvcc's files failed: err is complete (the source could not be
   reached: one line naming it and its setting; or its bytes were refused: both digests), and
   the setting of the tag's torch source is no part of it. */
#define NVCC_UNREACHABLE (-2)
/* lock_fetch: an nvcc file failed otherwise (wrong bytes, 404): err names its own setting. */
#define NVCC_FAILED (-3)

/* $PCGEN_CUDA_REDIST without a trailing '/', else DEFAULT_CUDA_REDIST (owned by the caller). */
char *cuda_redist (void);

/* Whether a pinned nvcc file comes from NVIDIA's redist (else: a Debian mirror). */
int nvcc_file_is_redist (const char *path);

/* The environment variable that says where a pinned file is downloaded from. */
const char *nvcc_file_setting (const char *path);

/* "Debian's nvidia-cuda-toolkit 12.4.131~12.4.1-2 and nvidia-cuda-dev 12.4.127~12.4.1-2",
   "NVIDIA's redist 12.1.1 (cuda_nvcc 12.1.105, cuda_cudart 12.1.105)": for plans and Dockerfiles. */
char *nvcc_describe (const struct kb_nvcc *s);

/* Download one pinned file (role nvcc) into dir with libcurl, hash it, and move it into the
   cache only when its sha256 is the pinned one. Returns 0; -1 with err when the bytes differ
   (naming both digests and sizes; nothing cached), cannot be written or the source answers with
   an error (404); NVCC_UNREACHABLE with err when no server answers (HTTP_UNREACHABLE): the tag
   is then unavailable where pcgen runs, not failed (lock_fetch passes it on). */
int nvcc_fetch (const struct locked_wheel *w, const char *dir, struct strbuf *err);

#endif
