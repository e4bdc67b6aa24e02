/* docker.h: the Docker engine, through the docker CLI (no shell, arguments as a vector). */
#ifndef PCGEN_DOCKER_H
#define PCGEN_DOCKER_H

#include "strbuf.h"

/* The docker client: $PCGEN_DOCKER, else Debian's /usr/bin/docker (the engine's own client,
   with BuildKit built in; a newer client elsewhere on PATH may lack its buildx plugin), else
   `docker` from PATH. */
const char *docker_bin (void);

/* Run `docker ...` (argv[0] "docker" stands for docker_bin ()); stdout into out (may be NULL). On failure err gets the command and the
   engine's message. Returns 0 or -1. */
int docker_run (const char *const *argv, struct strbuf *out, struct strbuf *err);

/* The image ID of ref into id (may be NULL); 0 if it exists, -1 if not. */
int docker_image_id (const char *ref, struct strbuf *id);

/* The image's size in bytes, or 0 when unknown. */
unsigned long long docker_image_size (const char *ref);

/* 0 when the engine answers; else -1 with the remedy in err. */
int docker_ping (struct strbuf *err);

#endif
