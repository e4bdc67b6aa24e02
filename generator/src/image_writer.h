/* image_writer.h: `pcgen build`'s default engine: the image written by pcgen itself, from the
   rendered Dockerfile (dockerfile.h) and the layer tars pcgen made, with no container run and
   no engine build (docs/image-writer.md):
     FROM base           the base's root file system tar (base.h) is the first layer, config
                         CMD ["bash"], as `docker import --change 'CMD ["bash"]'` makes it
     FROM runtime image  the runtime tag's OCI layout, written before (build/oci/<runtime>)
     ADD layers/N.tar /  the staged layer N, as it is (its sha256 is both digest and diff_id)
     COPY SRC DEST       a layer pcgen writes holding the build context's SRC (mode kept)
     RUN ldconfig, and the devel template's unversioned-link step: a layer pcgen writes
                         (ldcache.h); any other RUN is refused with its file:line:col
     ENV, LABEL, CMD, ENTRYPOINT, USER, WORKDIR, EXPOSE: the config, as Docker sets them
   A flavor's extra content is more ADD/COPY lines and config in its template: nothing here
   names a flavor. Layers pcgen writes for COPY and RUN are cached under CACHE/layers/step-*.tar,
   keyed by everything they are made from.
   Output: an OCI image layout at build/oci/<tag>/ (oci-layout, index.json, blobs/sha256/, the
   layer blobs hard links to the cache) with Docker's manifest.json beside index.json, and the
   image in the engine, streamed into `docker load` as one tar (the layers are read once and
   never written again by pcgen). */
#ifndef PCGEN_IMAGE_WRITER_H
#define PCGEN_IMAGE_WRITER_H

#include "digest.h"
#include "stage.h"
#include "strbuf.h"

#define OCI_DIR "build/oci"

struct writer_input
{
  const char *ref;           /* repo:tag the image is loaded as */
  const char *recipe;        /* the rendered Dockerfile: images/<tag>/Dockerfile */
  const char *context;       /* build/context/<tag>: Dockerfile, COPY sources */
  const char *base_tar;      /* FROM the base: its root file system tar */
  const char *base_sha;
  const char *parent_layout; /* FROM the runtime image: its layout; NULL for FROM the base */
  const struct staged_layer *layers;
  size_t nlayers;
  const char *out_dir;       /* build/oci/<tag> */
};

struct writer_result
{
  char config_sha[SHA256_HEX_LEN + 1];   /* the image ID is sha256:<config_sha> */
  char manifest_sha[SHA256_HEX_LEN + 1];
};

/* Write in->out_dir (replaced as a whole: written beside, renamed over). Returns 0, or -1 with
   err ("images/<tag>/Dockerfile:L:C: ..." where the recipe asks what the writer cannot do). */
int image_write (const struct writer_input *in, struct writer_result *r, struct strbuf *err);

/* Put the layout's image in the engine as ref: nothing to send when the engine has its ID
   already (then only `docker tag`), else one tar stream into `docker load`. Returns 0, or -1
   with err (docker's own message). */
int image_load (const char *layout, const struct writer_result *w, const char *ref, struct strbuf *err);

/* How many of img's bottom layers the engine holds already (as chains: see image_writer.c). */
struct oci_image;
size_t image_present_prefix (const struct oci_image *img);

/* Append the file at path to the docker load stream a as a regular file name (mode 0644, mtime
   1, as every entry of the stream). Returns 0, or -1 with err. */
struct archive;
struct archive_entry;
int image_tar_file (struct archive *a, struct archive_entry *ae, const char *name, const char *path,
                    struct strbuf *err);

#endif
