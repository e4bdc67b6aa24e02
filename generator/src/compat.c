/* compat.c: will an image run on a host (see compat.h and docs/compat.md). */
#include "compat.h"
#include "strbuf.h"
#include "util.h"

#include <ctype.h>
#include <string.h>

static const char *const verdict_names[] = {
  [COMPAT_UNCHECKED] = NULL,
  [COMPAT_RUNS] = "runs",
  [COMPAT_RUNS_MINOR] = "runs-minor-compat",
  [COMPAT_ARCH_UNKNOWN] = "arch-unknown",
  [COMPAT_DRIVER_TOO_OLD] = "driver-too-old",
  [COMPAT_ARCH_NOT_BUILT] = "arch-not-built",
  [COMPAT_ARCH_DROPPED] = "arch-dropped",
  [COMPAT_WRONG_PLATFORM] = "wrong-platform",
};

const char *
compat_verdict_name (enum compat_verdict v)
{
  return (size_t) v < ARRAY_SIZE (verdict_names) ? verdict_names[v] : NULL;
}

int
compat_verdict_runs (enum compat_verdict v)
{
  return v == COMPAT_RUNS || v == COMPAT_RUNS_MINOR;
}

char *
compat_gpu_label (const struct compat_gpu *g)
{
  if (g->name)
    return xasprintf ("%s (sm_%d)", g->name, g->cc);
  return xasprintf ("sm_%d", g->cc);
}

/* One entry: digits '.' digit, then optional 'a' or 'f', then optional "+PTX". */
static int
parse_arch (const char *s, size_t len, struct compat_arch *a)
{
  size_t i = 0;
  int major = 0;
  while (i < len && i < 2 && isdigit ((unsigned char) s[i]))
    major = major * 10 + (s[i++] - '0');
  if (i == 0 || i + 1 >= len || s[i] != '.' || !isdigit ((unsigned char) s[i + 1]))
    return -1;
  a->cc = major * 10 + (s[i + 1] - '0');
  i += 2;
  a->kind = '\0';
  if (i < len && (s[i] == 'a' || s[i] == 'f'))
    a->kind = s[i++];
  a->ptx = 0;
  if (len - i == 4 && strncmp (s + i, "+PTX", 4) == 0)
    a->ptx = 1, i += 4;
  return i == len && major > 0 ? 0 : -1;
}

int
compat_parse_arch_list (const char *list, struct compat_arch *out, size_t max)
{
  size_t n = 0;
  const char *p = list;
  while (*p)
    {
      size_t len = strcspn (p, "; ");
      if (len > 0)
        {
          if (n == max || parse_arch (p, len, &out[n]) < 0)
            return -1;
          n++;
        }
      p += len;
      if (*p)
        p++;
    }
  return n ? (int) n : -1;
}

static const struct kb_cuda *
find_cuda (const struct kb *kb, const char *version)
{
  /* A certificate may say "12.4.1": the knowledge base knows releases by major.minor. */
  const char *dot = strchr (version, '.');
  const char *second = dot ? strchr (dot + 1, '.') : NULL;
  if (second == NULL)
    return kb_cuda_find (kb, version);
  cleanup_free char *mm = xstrndup (version, (size_t) (second - version));
  return kb_cuda_find (kb, mm);
}

/* The driver side: min_driver, else the minor-version-compatibility floor of the CUDA major.
   The floors rise with the major (450 for 11.x, 525 for 12.x, 580 for 13.x), so a driver of an
   older family is always below the floor of a newer major: the family needs no check of its own. */
static enum compat_verdict
judge_driver (const struct kb_cuda *c, const char *driver, struct strbuf *why)
{
  if (version_cmp (driver, c->min_driver) >= 0)
    {
      strbuf_addf (why, "driver %s >= %s, the minimum of CUDA %s", driver, c->min_driver, c->version);
      return COMPAT_RUNS;
    }
  if (c->compat_floor && version_cmp (c->compat_floor, c->min_driver) < 0
      && version_cmp (driver, c->compat_floor) >= 0)
    {
      strbuf_addf (why,
                   "driver %s is older than %s (CUDA %s) but at least %s (CUDA %d.x): minor-version "
                   "compatibility; PTX JIT (CUDA_ERROR_UNSUPPORTED_PTX_VERSION) and newer-driver features fail",
                   driver, c->min_driver, c->version, c->compat_floor, c->major);
      return COMPAT_RUNS_MINOR;
    }
  if (c->compat_floor && version_cmp (c->compat_floor, c->min_driver) < 0)
    strbuf_addf (why,
                 "driver %s is older than %s, the oldest that runs CUDA %d.x "
                 "(minor-version compatibility; %s for full %s support)",
                 driver, c->compat_floor, c->major, c->min_driver, c->version);
  else
    strbuf_addf (why, "driver %s is older than %s, the oldest that runs CUDA %s", driver,
                 c->min_driver, c->version);
  return COMPAT_DRIVER_TOO_OLD;
}

static int
lowest_arch (const struct kb_cuda *c)
{
  int lo = c->narchs ? c->archs[0] : 0;
  for (size_t i = 1; i < c->narchs; i++)
    if (c->archs[i] < lo)
      lo = c->archs[i];
  return lo;
}

/* The best entry of the list that gives cc native code: same major, minor <= the GPU's
   (binary compatibility within a major); an arch-specific entry ('a') only the exact GPU. */
static const struct compat_arch *
sass_for (const struct compat_arch *a, int n, int cc)
{
  const struct compat_arch *best = NULL;
  for (int i = 0; i < n; i++)
    {
      int fits = a[i].kind == 'a' ? a[i].cc == cc : a[i].cc / 10 == cc / 10 && a[i].cc <= cc;
      if (fits && (best == NULL || a[i].cc > best->cc))
        best = &a[i];
    }
  return best;
}

/* The newest PTX the driver can JIT for cc: generic PTX of an architecture <= the GPU's. */
static const struct compat_arch *
ptx_for (const struct compat_arch *a, int n, int cc)
{
  const struct compat_arch *best = NULL;
  for (int i = 0; i < n; i++)
    if (a[i].ptx && a[i].kind == '\0' && a[i].cc <= cc && (best == NULL || a[i].cc > best->cc))
      best = &a[i];
  return best;
}

static enum compat_verdict
judge_arch (const struct kb_cuda *c, const struct compat_image *img, const struct compat_gpu *g,
            int *via_ptx, struct strbuf *why)
{
  cleanup_free char *label = compat_gpu_label (g);
  int lo = lowest_arch (c);
  *via_ptx = 0;
  /* The images are linux/amd64 (manylinux x86_64 wheels): a Jetson module or a Grace
     superchip has an Arm CPU, and no compute capability makes up for that. */
  if (g->platform && strcmp (g->platform, "x86_64") != 0)
    {
      strbuf_addf (why, "%s comes with an %s host (Jetson or Grace): these images are built for "
                        "x86_64 (linux/amd64) and do not run there",
                   label, g->platform);
      return COMPAT_WRONG_PLATFORM;
    }
  if (g->cc < lo)
    {
      strbuf_addf (why, "%s is older than sm_%d, the oldest architecture CUDA %s can target", label,
                   lo, c->version);
      return COMPAT_ARCH_DROPPED;
    }
  struct compat_arch a[64];
  int n = img->arch_list ? compat_parse_arch_list (img->arch_list, a, ARRAY_SIZE (a)) : -1;
  if (n < 0)
    {
      if (img->arch_list)
        strbuf_addf (why, "arch list '%s' of torch %s (CUDA %s) cannot be read: %s not checked",
                     img->arch_list, img->torch, c->version, label);
      else
        strbuf_addf (why, "arch list unknown: the knowledge base does not say which architectures "
                          "torch %s for CUDA %s was built for; %s not checked",
                     img->torch, c->version, label);
      return COMPAT_ARCH_UNKNOWN;
    }
  const struct compat_arch *s = sass_for (a, n, g->cc);
  if (s)
    {
      strbuf_addf (why, "%s runs the %d.%d kernels of torch %s", label, s->cc / 10, s->cc % 10, img->torch);
      return COMPAT_RUNS;
    }
  const struct compat_arch *p = ptx_for (a, n, g->cc);
  if (p)
    {
      *via_ptx = 1;
      strbuf_addf (why, "%s runs torch %s through PTX JIT of %d.%d (kernels compile at first launch)",
                   label, img->torch, p->cc / 10, p->cc % 10);
      return COMPAT_RUNS;
    }
  strbuf_addf (why, "%s is not in the arch list of torch %s for CUDA %s (%s) and no PTX covers it",
               label, img->torch, c->version, img->arch_list);
  return COMPAT_ARCH_NOT_BUILT;
}

/* Every GPU of the host must run the image: keep the worst verdict (on a tie, the one that
   needs PTX JIT, because minor-version compatibility cannot do it). */
static void
judge_gpus (const struct kb_cuda *c, const struct compat_image *img, const struct compat_host *h,
            struct compat_result *r)
{
  int worst = -1;
  for (size_t i = 0; i < h->ngpus; i++)
    {
      struct strbuf why = STRBUF_INIT;
      int ptx;
      enum compat_verdict v = judge_arch (c, img, &h->gpus[i], &ptx, &why);
      int rank = (int) v * 2 + ptx;
      r->via_ptx |= v == COMPAT_RUNS && ptx;
      if (rank <= worst)
        {
          strbuf_release (&why);
          continue;
        }
      worst = rank;
      r->arch_verdict = v;
      r->gpu = &h->gpus[i];
      free (r->arch_why);
      r->arch_why = strbuf_detach (&why, NULL);
    }
}

/* PTX needs a driver at least as new as the CUDA that wrote it: under minor-version
   compatibility the JIT fails with CUDA_ERROR_UNSUPPORTED_PTX_VERSION, so a GPU the build
   covers only through PTX cannot run it on that driver. */
static void
refuse_ptx_on_minor (const struct kb_cuda *c, const struct compat_host *h, struct compat_result *r)
{
  if (r->driver_verdict != COMPAT_RUNS_MINOR || !r->via_ptx)
    return;
  cleanup_free char *label = compat_gpu_label (r->gpu);
  free (r->driver_why);
  r->driver_why = xasprintf ("%s runs this build only through PTX JIT, which minor-version "
                             "compatibility cannot do (CUDA_ERROR_UNSUPPORTED_PTX_VERSION): "
                             "driver %s is older than %s, which CUDA %s needs",
                             label, h->driver, c->min_driver, c->version);
  r->driver_verdict = COMPAT_DRIVER_TOO_OLD;
}

/* The reported reason: for a tag that runs, both sides; for one that does not, every side
   that refuses or could not be judged. */
static char *
summarize (const struct compat_result *r)
{
  struct strbuf sb = STRBUF_INIT;
  const char *whys[2] = { r->driver_why, r->arch_why };
  enum compat_verdict vs[2] = { r->driver_verdict, r->arch_verdict };
  int ok = compat_verdict_runs (r->verdict);
  for (int i = 0; i < 2; i++)
    if (whys[i] && (ok || !compat_verdict_runs (vs[i])))
      strbuf_addf (&sb, "%s%s", sb.len ? "; " : "", whys[i]);
  if (sb.len == 0)
    strbuf_addstr (&sb, "neither a driver nor a GPU given: nothing to judge");
  return strbuf_detach (&sb, NULL);
}

int
compat_judge (const struct kb *kb, const struct compat_image *img, const struct compat_host *h,
              struct compat_result *r)
{
  memset (r, 0, sizeof *r);
  const struct kb_cuda *c = find_cuda (kb, img->cuda);
  if (c == NULL)
    {
      r->why = xasprintf ("CUDA '%s' is not in the knowledge base", img->cuda);
      return -1;
    }
  if (h->driver)
    {
      struct strbuf why = STRBUF_INIT;
      r->driver_verdict = judge_driver (c, h->driver, &why);
      r->driver_why = strbuf_detach (&why, NULL);
    }
  judge_gpus (c, img, h, r);
  refuse_ptx_on_minor (c, h, r);
  r->verdict = r->driver_verdict > r->arch_verdict ? r->driver_verdict : r->arch_verdict;
  r->why = summarize (r);
  return 0;
}

void
compat_result_release (struct compat_result *r)
{
  free (r->driver_why);
  free (r->arch_why);
  free (r->why);
  memset (r, 0, sizeof *r);
}

static int
is_arch_refusal (enum compat_verdict v)
{
  return v == COMPAT_ARCH_UNKNOWN || v == COMPAT_ARCH_NOT_BUILT || v == COMPAT_ARCH_DROPPED
         || v == COMPAT_WRONG_PLATFORM;
}

/* Whether `other` answers the refusal of e: it runs on the host (driver refusals), or it is
   built for the GPU (architecture refusals). Only the same flavor: a runtime user wants a
   runtime image. */
static int
is_alternative (const struct compat_entry *e, const struct compat_entry *other)
{
  if (other == e || other->tag->flavor != e->tag->flavor)
    return 0;
  if (is_arch_refusal (e->r.verdict))
    return other->r.arch_verdict == COMPAT_RUNS;
  return compat_verdict_runs (other->r.verdict);
}

/* The oldest driver that runs c at all: its minor-version-compatibility floor, if lower. */
static const char *
driver_floor (const struct kb_cuda *c)
{
  return c->compat_floor && version_cmp (c->compat_floor, c->min_driver) < 0 ? c->compat_floor : c->min_driver;
}

/* A (torch release, CUDA variant) of the knowledge base, judged on the host. */
struct cand
{
  const struct kb_torch *t;
  const struct kb_variant *v;
  const struct kb_cuda *c;
  enum compat_verdict verdict, driver_verdict, arch_verdict;
};

/* Every variant of the knowledge base whose arch list is known, judged on h. */
static size_t
judge_kb (const struct kb *kb, const struct compat_host *h, struct cand **out)
{
  size_t n = 0, alloc = 0;
  for (size_t i = 0; i < kb->ntorch; i++)
    for (size_t j = 0; j < kb->torch[i].nvariants; j++)
      {
        const struct kb_torch *t = &kb->torch[i];
        const struct kb_variant *v = &t->variants[j];
        struct compat_image img = { v->cuda, t->version, v->arch_list };
        struct compat_result r;
        if (v->arch_list && compat_judge (kb, &img, h, &r) == 0)
          {
            if (n == alloc)
              *out = xrealloc (*out, (alloc = alloc ? 2 * alloc : 64) * sizeof **out);
            (*out)[n++] = (struct cand) { t, v, find_cuda (kb, v->cuda), r.verdict, r.driver_verdict, r.arch_verdict };
          }
        if (v->arch_list)
          compat_result_release (&r);
      }
  return n;
}

static int
python_fits (const struct kb_torch *t, const char *python)
{
  return python == NULL
         || (version_cmp (python, t->python_min) >= 0 && version_cmp (python, t->python_max) <= 0);
}

/* Which of a and b to suggest: one that runs on the host's driver (fully before through
   minor-version compatibility), then the variant PyPI ships (the plan builds it without
   another package index), then the newer torch, then the newer CUDA. */
static int
better (const struct cand *a, const struct cand *b)
{
  int ra = a->driver_verdict == COMPAT_RUNS ? 2 : a->driver_verdict == COMPAT_RUNS_MINOR ? 1 : 0;
  int rb = b->driver_verdict == COMPAT_RUNS ? 2 : b->driver_verdict == COMPAT_RUNS_MINOR ? 1 : 0;
  if (ra != rb)
    return ra > rb;
  /* Neither runs on the host's driver: the one that needs the smaller upgrade. */
  int dv = ra == 0 ? version_cmp (a->c->min_driver, b->c->min_driver) : 0;
  if (dv != 0)
    return dv < 0;
  int pa = strcmp (a->t->pypi_cuda, a->v->cuda) == 0, pb = strcmp (b->t->pypi_cuda, b->v->cuda) == 0;
  if (pa != pb)
    return pa > pb;
  int tv = version_cmp (a->t->version, b->t->version);
  if (tv != 0)
    return tv > 0;
  return version_cmp (a->v->cuda, b->v->cuda) > 0;
}

static void
add_cuda (struct compat_advice *a, const char *cuda)
{
  for (size_t i = 0; i < a->ncudas; i++)
    if (strcmp (a->cudas[i], cuda) == 0)
      return;
  size_t at = a->ncudas;
  while (at > 0 && version_cmp (a->cudas[at - 1], cuda) > 0)
    at--;
  a->cudas = xrealloc (a->cudas, (a->ncudas + 1) * sizeof *a->cudas);
  memmove (a->cudas + at + 1, a->cudas + at, (a->ncudas - at) * sizeof *a->cudas);
  a->cudas[at] = cuda;
  a->ncudas++;
}

/* Fill a from the candidates that serve (serves[i]): the torch range, the CUDA versions, the
   best include. Returns the number that serve. */
static size_t
collect (const struct cand *c, size_t n, const int *serves, const char *python, struct compat_advice *a)
{
  const struct cand *best = NULL;
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (!serves[i])
        continue;
      count++;
      if (a->torch_from == NULL || version_cmp (c[i].t->version, a->torch_from) < 0)
        a->torch_from = c[i].t->version;
      if (a->torch_to == NULL || version_cmp (c[i].t->version, a->torch_to) > 0)
        a->torch_to = c[i].t->version;
      add_cuda (a, c[i].v->cuda);
      if (python_fits (c[i].t, python) && (best == NULL || better (&c[i], best)))
        best = &c[i];
    }
  if (best)
    {
      a->torch = best->t->version;
      a->cuda = best->v->cuda;
      if (!compat_verdict_runs (best->driver_verdict) && best->driver_verdict != COMPAT_UNCHECKED)
        a->needs_driver = best->c->min_driver;
      if (best->driver_verdict == COMPAT_RUNS_MINOR)
        a->full_driver = best->c->min_driver;
    }
  return count;
}

/* "torch 2.7.0+" (up to the newest release known), "torch 2.1.2 to 2.7.1", "torch 2.4.1". */
static void
add_torch_range (struct strbuf *sb, const struct kb *kb, const struct compat_advice *a)
{
  const char *newest = NULL;
  for (size_t i = 0; i < kb->ntorch; i++)
    if (newest == NULL || version_cmp (kb->torch[i].version, newest) > 0)
      newest = kb->torch[i].version;
  if (strcmp (a->torch_from, a->torch_to) == 0)
    strbuf_addf (sb, "torch %s", a->torch_from);
  else if (strcmp (a->torch_to, newest) == 0)
    strbuf_addf (sb, "torch %s+", a->torch_from);
  else
    strbuf_addf (sb, "torch %s to %s", a->torch_from, a->torch_to);
}

/* "CUDA 12.8 and later" when every CUDA of the knowledge base's builds from the oldest one on
   serves, else the list. */
static void
add_cuda_list (struct strbuf *sb, const struct cand *c, size_t n, const struct compat_advice *a)
{
  int tail = a->ncudas > 1;
  for (size_t i = 0; i < n && tail; i++)
    {
      int listed = 0;
      for (size_t j = 0; j < a->ncudas; j++)
        listed |= strcmp (a->cudas[j], c[i].v->cuda) == 0;
      tail = listed || version_cmp (c[i].v->cuda, a->cudas[0]) < 0;
    }
  if (tail)
    {
      strbuf_addf (sb, "CUDA %s and later", a->cudas[0]);
      return;
    }
  strbuf_addstr (sb, "CUDA ");
  for (size_t j = 0; j < a->ncudas; j++)
    strbuf_addf (sb, "%s%s", j == 0 ? "" : j + 1 == a->ncudas ? " and " : ", ", a->cudas[j]);
}

static void
add_include (struct strbuf *sb, const struct compat_advice *a, const char *driver)
{
  if (a->torch == NULL)
    return;
  strbuf_addf (sb, ": add { torch: \"%s\", cuda: \"%s\" } to include", a->torch, a->cuda);
  if (a->needs_driver)
    strbuf_addf (sb, " (it needs driver %s or newer)", a->needs_driver);
  else if (a->full_driver)
    strbuf_addf (sb, " (minor-version compatibility on driver %s; %s for full support)", driver, a->full_driver);
}

/* The host's GPUs, each once: "RTX 5090 (sm_120)", "GTX 1080 (sm_61) and B200 (sm_100)".
   Returns how many differ. */
static size_t
gpus_label (const struct compat_host *h, struct strbuf *sb)
{
  cleanup_free const struct compat_gpu **seen = xcalloc (h->ngpus + 1, sizeof *seen);
  size_t n = 0;
  for (size_t i = 0; i < h->ngpus; i++)
    {
      const struct compat_gpu *g = &h->gpus[i];
      int dup = 0;
      for (size_t j = 0; j < n && !dup; j++)
        dup = seen[j]->cc == g->cc
              && (seen[j]->name == g->name || (seen[j]->name && g->name && strcmp (seen[j]->name, g->name) == 0));
      if (!dup)
        seen[n++] = g;
    }
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *label = compat_gpu_label (seen[i]);
      strbuf_addf (sb, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", label);
    }
  return n;
}

/* No tag of the plan is built for the GPUs: the releases of the knowledge base that are (for
   every GPU of the host, as a tag must be). */
static void
advise_arch (const struct kb *kb, const struct compat_host *h, const struct compat_entry *e,
             const struct cand *c, size_t n, struct compat_advice *a)
{
  struct strbuf label = STRBUF_INIT;
  size_t distinct = gpus_label (h, &label);
  cleanup_free int *serves = xcalloc (n + 1, sizeof *serves);
  for (size_t i = 0; i < n; i++)
    serves[i] = c[i].arch_verdict == COMPAT_RUNS;
  struct strbuf sb = STRBUF_INIT;
  if (collect (c, n, serves, e->tag->python, a) == 0)
    strbuf_addf (&sb, "no torch release of the knowledge base is built for %s%s",
                 distinct > 2 ? "all of " : distinct == 2 ? "both " : "", label.buf);
  else
    {
      strbuf_addf (&sb, "%s %s built by ", label.buf, distinct > 2 ? "are all" : distinct == 2 ? "are both" : "is");
      add_torch_range (&sb, kb, a);
      strbuf_addstr (&sb, " for ");
      add_cuda_list (&sb, c, n, a);
      add_include (&sb, a, h->driver);
    }
  strbuf_release (&label);
  a->text = strbuf_detach (&sb, NULL);
}

/* No tag of the plan runs on the driver: the newest CUDA it runs, and the releases for it. */
static void
advise_driver (const struct compat_host *h, const struct compat_entry *e, const struct cand *c,
               size_t n, struct compat_advice *a)
{
  const struct cand *target = NULL;
  for (size_t i = 0; i < n; i++)
    if (compat_verdict_runs (c[i].verdict)
        && (target == NULL || (c[i].driver_verdict == COMPAT_RUNS) > (target->driver_verdict == COMPAT_RUNS)
            || ((c[i].driver_verdict == COMPAT_RUNS) == (target->driver_verdict == COMPAT_RUNS)
                && version_cmp (c[i].v->cuda, target->v->cuda) > 0)))
      target = &c[i];
  struct strbuf sb = STRBUF_INIT;
  if (target == NULL)
    {
      /* The oldest driver any build of the knowledge base runs on, and whose CUDA that is. */
      const struct cand *oldest = NULL;
      for (size_t i = 0; i < n; i++)
        if (oldest == NULL || version_cmp (driver_floor (c[i].c), driver_floor (oldest->c)) < 0)
          oldest = &c[i];
      if (oldest && version_cmp (h->driver, driver_floor (oldest->c)) < 0)
        strbuf_addf (&sb, "driver %s is older than every CUDA of the knowledge base accepts (the oldest, CUDA %s, "
                          "needs %s or newer): upgrade the driver",
                     h->driver, oldest->c->version, driver_floor (oldest->c));
      else
        strbuf_addf (&sb, "no torch build of the knowledge base both runs on driver %s and is built for %s: "
                          "upgrade the driver",
                     h->driver, e->r.gpu ? e->r.gpu->name ? e->r.gpu->name : "the GPU" : "the GPU");
      a->text = strbuf_detach (&sb, NULL);
      return;
    }
  cleanup_free int *serves = xcalloc (n + 1, sizeof *serves);
  for (size_t i = 0; i < n; i++)
    serves[i] = compat_verdict_runs (c[i].verdict) && strcmp (c[i].v->cuda, target->v->cuda) == 0;
  collect (c, n, serves, e->tag->python, a);
  strbuf_addf (&sb, "the newest CUDA with a torch build that driver %s runs is %s%s; ", h->driver,
               target->v->cuda, target->driver_verdict == COMPAT_RUNS ? "" : " (minor-version compatibility)");
  /* collect gave one CUDA: name the releases. */
  if (strcmp (a->torch_from, a->torch_to) == 0)
    strbuf_addf (&sb, "torch %s is built for it", a->torch_from);
  else
    strbuf_addf (&sb, "torch %s to %s are built for it", a->torch_from, a->torch_to);
  /* The target's own minor-version note is already in the sentence. */
  a->full_driver = NULL;
  add_include (&sb, a, h->driver);
  a->text = strbuf_detach (&sb, NULL);
}

static void
advise (const struct kb *kb, const struct compat_host *h, struct compat_entry *e, struct cand **c,
        size_t *n)
{
  if (e->r.verdict == COMPAT_WRONG_PLATFORM || e->r.verdict == COMPAT_ARCH_UNKNOWN)
    return;
  if (*c == NULL)
    *n = judge_kb (kb, h, c);
  if (is_arch_refusal (e->r.verdict))
    advise_arch (kb, h, e, *c, *n, &e->advice);
  else if (e->r.verdict == COMPAT_DRIVER_TOO_OLD && h->driver)
    advise_driver (h, e, *c, *n, &e->advice);
}

static void
add_alternatives (struct compat_report *rep, struct compat_entry *e, struct cand **cands, size_t *ncands,
                  const struct kb *kb, const struct compat_host *h)
{
  for (size_t j = 0; j < rep->n; j++)
    if (is_alternative (e, &rep->v[j]))
      {
        if (e->alts == NULL)
          e->alts = xcalloc (rep->n, sizeof *e->alts);
        e->alts[e->nalts++] = rep->v[j].tag;
      }
  struct strbuf sb = STRBUF_INIT;
  strbuf_addstr (&sb, e->r.why);
  cleanup_free char *label = e->r.gpu ? compat_gpu_label (e->r.gpu) : NULL;
  if (e->nalts == 0)
    advise (kb, h, e, cands, ncands);
  if (e->r.verdict == COMPAT_WRONG_PLATFORM)
    ; /* no x86_64 image serves it: nothing to name */
  else if (is_arch_refusal (e->r.verdict) && e->advice.text)
    strbuf_addf (&sb, "; no tag of the plan is built for it; %s", e->advice.text);
  else if (is_arch_refusal (e->r.verdict))
    strbuf_addf (&sb, e->nalts ? "; built for %s: " : "; no tag of the plan is built for %s", label);
  else if (e->advice.text)
    strbuf_addf (&sb, "; no tag of the plan runs on this host; %s", e->advice.text);
  else
    strbuf_addstr (&sb, e->nalts ? "; runs on this host instead: " : "; no tag of the plan runs on this host");
  for (size_t j = 0; j < e->nalts; j++)
    strbuf_addf (&sb, "%s%s", j ? ", " : "", e->alts[j]->name);
  free (e->r.why);
  e->r.why = strbuf_detach (&sb, NULL);
}

int
compat_judge_plan (const struct plan *p, const struct compat_host *h, struct compat_report *out)
{
  out->v = xcalloc (p->ntags + 1, sizeof *out->v);
  out->n = p->ntags;
  int rc = 0;
  for (size_t i = 0; i < p->ntags; i++)
    {
      const struct ptag *t = &p->tags[i];
      struct compat_image img = { t->cuda->version, t->torch->version, t->variant->arch_list };
      out->v[i].tag = t;
      if (compat_judge (p->kb, &img, h, &out->v[i].r) < 0)
        rc = -1;
    }
  struct cand *cands = NULL; /* the knowledge base judged on h, when advice needs it */
  size_t ncands = 0;
  for (size_t i = 0; i < out->n && rc == 0; i++)
    if (out->v[i].r.verdict > COMPAT_RUNS_MINOR)
      add_alternatives (out, &out->v[i], &cands, &ncands, p->kb, h);
  free (cands);
  return rc;
}

void
compat_report_release (struct compat_report *rep)
{
  for (size_t i = 0; i < rep->n; i++)
    {
      compat_result_release (&rep->v[i].r);
      free (rep->v[i].alts);
      free (rep->v[i].advice.text);
      free (rep->v[i].advice.cudas);
    }
  free (rep->v);
  rep->v = NULL;
  rep->n = 0;
}
