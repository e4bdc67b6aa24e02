/* engine_layers.h: layer tars taken back out of the engine. After `pcgen build --lean`, a tag's
   layout keeps its config and manifest but not its layer tars: the engine holds them. To
   compress a layer that no earlier publish compressed, publish takes its tar back from `docker
   save` of the image. The engine keeps the tar headers of each layer it loaded (tar-split), so
   the tar it writes out is the one pcgen wrote, byte for byte; its sha256 (the diff_id) is
   checked before anything is made of it. */
#ifndef PCGEN_ENGINE_LAYERS_H
#define PCGEN_ENGINE_LAYERS_H

#include "strbuf.h"

/* For each layer of the layout at dir whose tar is gone and whose compressed blob is not cached
   (blob_gzip.h): found in the stream of `docker save image_id` (an entry of its size), written
   beside where its blob was while hashed, compressed (gz_layer, cached) once its sha256 is the
   layer's, and removed; one layer at a time, so the disk holds at most one tar more (what an
   interrupted run left there is removed first). Returns the number of layers taken back (0:
   none was needed, docker not run), or -1 with err: the engine lacks the image, its stream
   lacks a layer, or a layer's bytes differ. */
int engine_gz_layers (const char *dir, const char *image_id, struct strbuf *err);

#endif
