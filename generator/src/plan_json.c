/* plan_json.c: the plan as JSON, the view `pcgen plan --json` prints and templates render
   (see plan_json.h). */
#include "plan_json.h"
#include "strbuf.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static json_t *
pin_component (const char *name, const char *version, const char *role)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:n}", "name", name, "version", version, "kind", "wheel",
                    "role", role, "sha256");
}

static json_t *
nvcc_component (const struct kb_deb *f, const char *kind, const char *role, const char *source)
{
  json_t *c = json_pack ("{s:s, s:s, s:s, s:s, s:o, s:s}", "name", f->name, "version", f->version, "kind", kind,
                         "role", role, "sha256", f->sha256 ? json_string (f->sha256) : json_null (), "source", source);
  if (f->path)
    json_object_set_new (c, "path", json_string (f->path));
  if (f->size)
    json_object_set_new (c, "size", json_integer ((json_int_t) f->size));
  return c;
}

static json_t *
deb_component (const struct kb_deb *d, const char *role)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:s}", "name", d->name, "version", d->version, "kind", "deb", "role", role,
                    "sha256", d->sha256);
}

static json_t *
components_json (const struct ptag *t)
{
  json_t *a = json_array ();
  json_array_append_new (a, json_pack ("{s:s, s:s, s:s, s:s, s:n}", "name", "torch", "version",
                                       t->torch->version, "kind", "wheel", "role", "torch", "sha256"));
  for (size_t i = 0; i < t->variant->npins; i++)
    json_array_append_new (a, pin_component (t->variant->pins[i].name, t->variant->pins[i].version,
                                             strstr (t->variant->pins[i].name, "cudnn") ? "cudnn" : "cuda"));
  if (t->flavor == FLAVOR_DEVEL)
    for (size_t i = 0; i < t->cuda->ndevel; i++)
      json_array_append_new (a, pin_component (t->cuda->devel[i].name, t->cuda->devel[i].version, "devel"));
  for (size_t i = 0; i < t->base->ntoolchain; i++)
    json_array_append_new (a, deb_component (&t->base->toolchain[i], "toolchain"));
  for (size_t i = 0; t->flavor == FLAVOR_DEVEL && i < t->base->nbuildtools; i++)
    json_array_append_new (a, deb_component (&t->base->buildtools[i], "buildtools"));
  if (t->flavor == FLAVOR_NOTEBOOK)
    {
      /* JupyterLab's own dependencies are pip's choice, pinned in matrix.lock (the notebook set). */
      json_array_append_new (a, pin_component ("jupyterlab", t->base->jupyterlab, "notebook"));
      for (size_t i = 0; i < t->base->nnotebook; i++)
        json_array_append_new (a, deb_component (&t->base->notebook[i], "notebook-debs"));
    }
  if (t->flavor == FLAVOR_DEVEL && t->cuda->nvcc)
    {
      /* nvcc's files, pinned in the knowledge base (lock copies them): Debian packages or redist
         archives, then the host compiler's packages where nvcc needs an older one. */
      const struct kb_nvcc *n = t->cuda->nvcc;
      const char *kind = n->kind == NVCC_DEBIAN ? "deb" : n->kind == NVCC_REDIST ? "redist" : "wheel";
      for (size_t i = 0; i < n->nfiles; i++)
        json_array_append_new (a, nvcc_component (&n->files[i], kind, "nvcc", n->source));
      for (size_t i = 0; t->cuda->host_compiler && i < t->cuda->host_compiler->nfiles; i++)
        json_array_append_new (a, nvcc_component (&t->cuda->host_compiler->files[i], "deb", "host-compiler",
                                                  t->cuda->host_compiler->source));
    }
  return a;
}

static json_t *
str_or_null (const char *s)
{
  return s ? json_string (s) : json_null ();
}

static json_t *
layers_json (const struct player_list *l)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < l->n; i++)
    json_array_append_new (a, json_pack ("{s:s, s:s, s:s}", "role", layer_role_name (l->v[i].role), "name",
                                         l->v[i].name, "what", l->v[i].what));
  return a;
}

/* What a devel tag's nvcc is and where it comes from; null for runtime tags and for devel tags
   whose CUDA has no source pcgen can build. */
static json_t *
nvcc_json (const struct ptag *t)
{
  const struct kb_nvcc *n = t->cuda->nvcc;
  if (t->flavor != FLAVOR_DEVEL || n == NULL)
    return json_null ();
  const struct kb_host_compiler *h = t->cuda->host_compiler;
  return json_pack ("{s:s, s:s, s:o, s:s, s:s, s:o}", "version", n->version, "kind", kb_nvcc_kind_name (n->kind),
                    "release", n->release ? json_string (n->release) : json_null (), "source", n->source, "setting",
                    n->kind == NVCC_REDIST ? "PCGEN_CUDA_REDIST"
                    : n->kind == NVCC_PYPI ? "PIP_INDEX_URL"
                                           : "PCGEN_DEBIAN_MIRROR",
                    "ccbin",
                    h ? json_string (h->ccbin) : json_null ());
}

json_t *
plan_tag_json (const struct plan *p, const struct ptag *t)
{
  json_t *aliases = json_array ();
  for (size_t i = 0; i < t->naliases; i++)
    json_array_append_new (aliases, json_sprintf ("%s:%s", p->m->repository.s, t->aliases[i]));
  const char *cuda_full = plan_cuda_full (t);
  cleanup_free char *site = xasprintf ("/usr/local/lib/python%s/dist-packages", t->python);
  char cudnn_major[16];
  snprintf (cudnn_major, sizeof cudnn_major, "%d", atoi (t->variant->cudnn));
  json_t *j = json_pack (
      "{s:s, s:s, s:o, s:s, s:s, s:s, s:s,"
      " s:{s:s, s:i, s:i, s:i, s:s},"
      " s:{s:s, s:o, s:i, s:i, s:s, s:s, s:o, s:s},"
      " s:{s:s, s:s}, s:o, s:{s:s, s:o}, s:o, s:s, s:o, s:o, s:o, s:o}",
      "tag", t->name, "image", t->ref, "aliases", aliases, "flavor", flavor_name (t->flavor), "python", t->python,
      "base", t->base->name, "base_suite", t->base->suite,
      "torch", "version", t->torch->version, "major", t->torch->major, "minor", t->torch->minor,
      "patch", t->torch->patch, "pypi_cuda", t->torch->pypi_cuda,
      "cuda", "version", t->cuda->version, "full", str_or_null (cuda_full), "major", t->cuda->major,
      "minor", t->cuda->minor, "min_driver", t->cuda->min_driver, "compat_floor", t->cuda->compat_floor,
      "arch_list", str_or_null (t->variant->arch_list), "require", t->require_cuda,
      "cudnn", "version", t->variant->cudnn, "major", cudnn_major, "cublas", str_or_null (plan_cublas (t)),
      "source", "kind", source_kind_name (t->source_kind), "where", str_or_null (t->source_where),
      "from", t->runtime ? json_string (t->runtime->ref) : json_null (), "site_packages", site,
      "layers", layers_json (&t->layers), "devel_layers", layers_json (&t->devel_layers), "components", components_json (t),
      "user", str_or_null (p->m->user.s));
  json_object_set_new (j, "nvcc", nvcc_json (t));
  json_object_set_new (j, "notebook_layers", layers_json (&t->notebook_layers));
  return j;
}

json_t *
plan_json (const struct plan *p)
{
  json_t *tags = json_array ();
  for (size_t i = 0; i < p->ntags; i++)
    json_array_append_new (tags, plan_tag_json (p, &p->tags[i]));
  json_t *labels = json_object ();
  for (size_t i = 0; i < p->m->nlabels; i++)
    json_object_set_new (labels, p->m->labels[i].key.s, json_string (p->m->labels[i].value.s));
  return json_pack ("{s:i, s:s, s:s, s:o, s:o}", "schema", PLAN_SCHEMA_VERSION, "matrix", p->m->file,
                    "repository", p->m->repository.s, "labels", labels, "tags", tags);
}

json_t *
plan_github_json (const struct plan *p)
{
  json_t *inc = json_array ();
  for (size_t i = 0; i < p->ntags; i++)
    {
      const struct ptag *t = &p->tags[i];
      json_array_append_new (inc, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "tag", t->name, "image",
                                             t->ref, "flavor", flavor_name (t->flavor), "torch", t->torch->version,
                                             "cuda", t->cuda->version, "source", source_kind_name (t->source_kind)));
    }
  return json_pack ("{s:o}", "include", inc);
}
