/* docker.c: see docker.h. */
#include "docker.h"
#include "run.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *
docker_bin (void)
{
  const char *env = getenv ("PCGEN_DOCKER");
  if (env && *env)
    return env;
  return access ("/usr/bin/docker", X_OK) == 0 ? "/usr/bin/docker" : "docker";
}

int
docker_run (const char *const *argv, struct strbuf *out, struct strbuf *err)
{
  struct strbuf perr = STRBUF_INIT, sink = STRBUF_INIT;
  size_t n = 0;
  while (argv[n])
    n++;
  const char **av = xcalloc (n + 1, sizeof *av);
  memcpy (av, argv, n * sizeof *av);
  if (strcmp (av[0], "docker") == 0)
    av[0] = docker_bin ();
  struct run_opts o = { av, NULL, NULL, out ? out : &sink, &perr, 1 };
  int rc = run_command (&o);
  if (rc != 0)
    {
      run_describe (argv, err);
      if (rc < 0)
        strbuf_addstr (err, ": cannot run docker: install it with make deps");
      else
        strbuf_addf (err, ": exit %d: %s", rc, perr.buf);
    }
  strbuf_release (&perr);
  strbuf_release (&sink);
  free (av);
  return rc == 0 ? 0 : -1;
}

int
docker_image_id (const char *ref, struct strbuf *id)
{
  const char *argv[] = { "docker", "image", "inspect", "--format", "{{.Id}}", ref, NULL };
  struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  int rc = docker_run (argv, &out, &err);
  if (rc == 0 && id)
    {
      strbuf_reset (id);
      strbuf_add (id, out.buf, strcspn (out.buf, "\n"));
    }
  strbuf_release (&out);
  strbuf_release (&err);
  return rc;
}

unsigned long long
docker_image_size (const char *ref)
{
  const char *argv[] = { "docker", "image", "inspect", "--format", "{{.Size}}", ref, NULL };
  struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  unsigned long long size = 0;
  if (docker_run (argv, &out, &err) == 0)
    size = strtoull (out.buf, NULL, 10);
  strbuf_release (&out);
  strbuf_release (&err);
  return size;
}

int
docker_ping (struct strbuf *err)
{
  const char *argv[] = { "docker", "version", "--format", "{{.Server.Version}}", NULL };
  struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
  int rc = docker_run (argv, &out, &perr);
  if (rc < 0)
    strbuf_addstr (err, "the Docker engine does not answer: start it with scripts/ensure-docker "
                        "(make deps does)");
  strbuf_release (&out);
  strbuf_release (&perr);
  return rc;
}
