/* publish.h: where certified images go and how they get there: the destination, and for
   `--engine docker` the engine's push (`docker push` uploads every blob before it puts the
   manifest, and a registry refuses a manifest whose blobs it lacks, so a tag never points at
   content that was not fully uploaded) with credentials kept out of sight. The default engine
   pushes the writer's layout itself, in the same order: push_image.h and registry.h. */
#ifndef PCGEN_PUBLISH_H
#define PCGEN_PUBLISH_H

#include "strbuf.h"

struct publish_dest
{
  char *host; /* "localhost:5000", "ghcr.io" */
  char *repo; /* "myrepo/pytorch-cuda" */
};

/* Parse --to REGISTRY[/REPO]. Without /REPO the repository is default_repo (the matrix's
   `repository`, its own registry host dropped). Returns 0, or -1 with a one-line reason in
   err naming the bad part and what would be valid. */
int publish_parse_dest (const char *to, const char *default_repo, struct publish_dest *d, struct strbuf *err);
void publish_dest_release (struct publish_dest *d);

/* Credentials from PCGEN_REGISTRY_USER and PCGEN_REGISTRY_PASSWORD, when both are set: a
   private Docker config folder (mode 0700, config.json 0600) holding them for host only, so
   they never reach a command line, a log or the user's own config. The file also keeps the
   user's own config.json settings other than credentials for host (contexts, proxies, other
   hosts' helpers; the user's contexts folder is linked in). *dir is NULL when the variables
   are unset (docker's own config then applies). Returns 0, or -1 with err.
   Call publish_credentials_guard first (once, in the command): only SIGKILL can then leave the
   folder behind. */
int publish_credentials (const char *host, char **dir, struct strbuf *err);
/* Whether publish_credentials will make a folder: both variables are set. */
int publish_credentials_wanted (void);
/* Process-wide, once, before publish_credentials: the folder is removed at exit (atexit), and
   every signal in publish_fatal_signals removes it before it ends the process as it would have;
   SIGPIPE no longer ends it (writes fail with EPIPE). A signal the caller ignores stays ignored. */
void publish_credentials_guard (void);
/* Remove the folder publish_credentials made (also done at exit and on a signal). */
void publish_credentials_remove (void);
/* The signals publish_credentials catches, 0-terminated (for tests). */
extern const int publish_fatal_signals[];

/* Tag image_id as ref and push it (docker [--config dir] tag, then push: the same config for
   both); *digest gets the manifest
   digest the registry stored ("sha256:..."), *uploaded and *present the layers docker
   uploaded and found already there. Returns 0, or -1 with docker's reason in err. */
int publish_push (const char *config_dir, const char *image_id, const char *ref, char **digest, int *uploaded,
                  int *present, struct strbuf *err);

#endif
