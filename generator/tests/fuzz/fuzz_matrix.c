/* fuzz_matrix.c: libFuzzer target for the matrix loader: YAML tree, schema, and the plan
   against the real knowledge base (loaded once from $PCGEN_DATA or generator/data).
   Run: make fuzz (or build/fuzz/fuzz_matrix CORPUS). A crash file replays with
   build/fuzz/fuzz_matrix CRASHFILE. Diagnostics are collected and freed, never printed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kb.h"
#include "matrix.h"
#include "plan_json.h"

static struct kb kb;
static int kb_ready;

static void
load_kb_once (void)
{
  if (kb_ready)
    return;
  struct diags d = DIAGS_INIT;
  const char *dir = getenv ("PCGEN_DATA");
  if (kb_load (dir ? dir : "generator/data", &kb, &d) < 0)
    {
      fprintf (stderr, "fuzz_matrix: cannot load the knowledge base (run from the top folder)\n");
      exit (1);
    }
  diags_release (&d);
  kb_ready = 1;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  load_kb_once ();
  struct diags d = DIAGS_INIT;
  struct matrix m;
  if (matrix_load_text ("fuzz.yaml", (const char *) data, size, &m, &d) == 0)
    {
      struct plan p;
      if (plan_build (&m, &kb, &p, &d) == 0)
        json_decref (plan_json (&p));
      plan_release (&p);
    }
  matrix_release (&m);
  diags_release (&d);
  return 0;
}
