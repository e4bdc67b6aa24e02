/* plan_json.h: the plan as JSON: each tag with its aliases, components and layers (the context
   templates render), the whole plan, and GitHub Actions' matrix of it. */
#ifndef PCGEN_PLAN_JSON_H
#define PCGEN_PLAN_JSON_H

#include <jansson.h>

#include "plan.h"

/* JSON views; see docs/matrix.md, "plan --json schema". */
json_t *plan_tag_json (const struct plan *p, const struct ptag *t);
json_t *plan_json (const struct plan *p);
json_t *plan_github_json (const struct plan *p);

#endif
