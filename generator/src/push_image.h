/* push_image.h: what `pcgen publish` sends for an image the writer made (docs/publishing.md):
   the layout build/oci/<tag>/ read back (oci.h), each layer's gzip blob (blob_gzip.h), and a
   push manifest naming the config (the same bytes, so the same image ID) and the gzip blobs
   (application/vnd.oci.image.layer.v1.tar+gzip; the config's rootfs.diff_ids stay the sha256s
   of the uncompressed tars). The layout itself is left as it is: its manifest names the
   uncompressed tars, which is what `docker load` reads. The push manifest's bytes (sorted keys,
   compact, as oci.c writes JSON) are a function of the layout and the gzip bytes, so its digest
   is the same on every machine; it is also written into the layout as
   build/oci/<tag>/push-manifest.json for anyone to compare. */
#ifndef PCGEN_PUSH_IMAGE_H
#define PCGEN_PUSH_IMAGE_H

#include "blob_gzip.h"
#include "digest.h"
#include "strbuf.h"

struct push_blob
{
  char sha[SHA256_HEX_LEN + 1];
  unsigned long long size;
  char *path;
};

struct push_image
{
  char config_sha[SHA256_HEX_LEN + 1]; /* the image ID */
  struct push_blob config;
  struct push_blob *layers; /* the gzip blobs, bottom to top */
  size_t nlayers;
  char *manifest; /* the push manifest's bytes */
  char manifest_sha[SHA256_HEX_LEN + 1];
};

/* The image ID of the layout at dir, without its "sha256:": the config digest its index.json's
   manifest names. Returns 0, or -1 with err. */
int layout_config_sha (const char *dir, char out[SHA256_HEX_LEN + 1], struct strbuf *err);

/* The push manifest for the image in layout (the layers compressed on jobs threads, 0: every
   CPU). Returns 0, or -1 with err. */
int push_image_prepare (const char *layout, int jobs, struct push_image *p, struct strbuf *err);

/* The manifest's bytes for a config and gzip layers (pure: the unit tests pin them). */
char *push_manifest_json (const struct push_blob *config, const struct push_blob *layers, size_t n);

void push_image_release (struct push_image *p);

#endif
