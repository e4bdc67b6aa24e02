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
  return v == COMPAT_ARCH_UNKNOWN || v == COMPAT_ARCH_NOT_BUILT || v == COMPAT_ARCH_DROPPED;
}

/* Whether `other` answers the refusal of e: it runs on the host (driver refusals), or it is
   built for the GPU (architecture refusals). Only the same flavor: a runtime user wants a
   runtime image. */
static int
is_alternative (const struct compat_entry *e, const struct compat_entry *other)
{
  if (other == e || strcmp (other->tag->flavor, e->tag->flavor) != 0)
    return 0;
  if (is_arch_refusal (e->r.verdict))
    return other->r.arch_verdict == COMPAT_RUNS;
  return compat_verdict_runs (other->r.verdict);
}

static void
add_alternatives (struct compat_report *rep, struct compat_entry *e)
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
  if (is_arch_refusal (e->r.verdict))
    strbuf_addf (&sb, e->nalts ? "; built for %s: " : "; no tag of the plan is built for %s", label);
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
  for (size_t i = 0; i < out->n && rc == 0; i++)
    if (out->v[i].r.verdict > COMPAT_RUNS_MINOR)
      add_alternatives (out, &out->v[i]);
  return rc;
}

void
compat_report_release (struct compat_report *rep)
{
  for (size_t i = 0; i < rep->n; i++)
    {
      compat_result_release (&rep->v[i].r);
      free (rep->v[i].alts);
    }
  free (rep->v);
  rep->v = NULL;
  rep->n = 0;
}
