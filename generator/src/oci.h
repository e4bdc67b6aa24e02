/* oci.h: the JSON of an image: its config (OCI image spec, config.md: architecture, os, created,
   config {Env, Cmd, Entrypoint, Labels, User, WorkingDir, ExposedPorts}, rootfs.diff_ids,
   history), its manifest (manifest.md, uncompressed tar layers), the layout's index.json and
   oci-layout (image-layout.md), and the docker-archive manifest.json that `docker load` of
   engine 20.10 needs (docs/image-writer.md: it cannot read a bare OCI layout; Docker 25's `docker save`
   writes both, as these functions do).
   The config's bytes are the image ID (sha256 of them), so they must be the same on every
   machine: keys sorted, compact, no time but `created` (fixed: oci_created). */
#ifndef PCGEN_OCI_H
#define PCGEN_OCI_H

#include <jansson.h>
#include <stddef.h>

#include "digest.h"
#include "strbuf.h"

#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER "application/vnd.oci.image.layer.v1.tar"

struct oci_layer
{
  char digest[SHA256_HEX_LEN + 1]; /* of the uncompressed tar: blob digest and diff_id at once */
  unsigned long long size;
  char *path; /* where its bytes are (a cache entry or a layout's blob) */
};

/* An image being written: its layers bottom to top, and the config that grows with them. */
struct oci_image
{
  json_t *config; /* the whole config document */
  struct oci_layer *layers;
  size_t nlayers, alloc;
};

/* The `created` of every config and history entry: $SOURCE_DATE_EPOCH as RFC 3339 UTC, else
   1970-01-01T00:00:01Z (1, not 0: some tools read a zero time as "unset"). */
char *oci_created (void);

/* An image with no layers: linux/amd64, created, no config. */
void oci_image_init (struct oci_image *img, const char *created);
void oci_image_release (struct oci_image *img);

/* Append a layer (path is copied) with its history line. */
void oci_add_layer (struct oci_image *img, const char *sha256, unsigned long long size, const char *path,
                    const char *created_by);
/* A history line for an instruction that adds no layer (ENV, LABEL, CMD). */
void oci_add_history (struct oci_image *img, const char *created_by);

/* What ENV, LABEL, CMD, ENTRYPOINT, USER, WORKDIR, EXPOSE do to the config, as Docker does it:
   ENV replaces KEY's entry in place or appends "KEY=VALUE"; LABEL sets a key; CMD and
   ENTRYPOINT replace the list (and ENTRYPOINT clears an inherited CMD, as Docker does). */
void oci_set_env (struct oci_image *img, const char *key, const char *value);
void oci_set_label (struct oci_image *img, const char *key, const char *value);
void oci_set_argv (struct oci_image *img, const char *field, const char *const *argv, size_t n);
void oci_set_string (struct oci_image *img, const char *field, const char *value);
void oci_add_exposed (struct oci_image *img, const char *port);

/* Serialized JSON (sorted keys, compact), the caller frees: config, manifest (config and
   layers named by digest and size), index.json (one manifest, annotated with ref: the
   org.opencontainers.image.ref.name is the tag part, io.containerd.image.name the whole
   reference, as Docker 25 writes them) and docker's manifest.json. */
char *oci_config_json (const struct oci_image *img);
char *oci_manifest_json (const struct oci_image *img, const char *config_sha, size_t config_size);
char *oci_index_json (const char *manifest_sha, size_t manifest_size, const char *ref);
char *oci_docker_manifest_json (const struct oci_image *img, const char *config_sha, const char *ref);
#define OCI_LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}"

/* Read back an image written to the OCI layout in dir (index.json -> manifest -> config):
   the parent of a devel image is its runtime image's layout. Layers' paths are the layout's
   blobs. Returns 0, or -1 with err naming the file and what is wrong. */
int oci_image_load (struct oci_image *img, const char *dir, struct strbuf *err);

#endif
