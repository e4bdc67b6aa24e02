/* user.c: an image that claims a default user (PC_USER, matrix.yaml `user`) runs as that user,
   not as root: the verifier runs as the image's default user (`docker run IMAGE
   pytorch-cuda-verify`, as pcgen certify starts it), so its own uid is the one to check. */
#include "verify.h"

#include <pwd.h>
#include <unistd.h>

void
check_user (struct ctx *c, struct check *out)
{
  const char *want = c->img->user;
  uid_t uid = getuid ();
  struct passwd *pw = getpwuid (uid);
  const char *name = pw && pw->pw_name ? pw->pw_name : "?";
  if (want == NULL || want[0] == '\0')
    check_set (out, ST_SKIP, "image.env names no user (PC_USER): the image runs as uid %u (%s)", (unsigned) uid,
               name);
  else if (uid == 0)
    check_set (out, ST_FAIL, "runs as root (uid 0), but the image claims user %s: its Dockerfile lacks `USER %s`",
               want, want);
  else if (strcmp (name, want) != 0)
    check_set (out, ST_FAIL, "runs as uid %u (%s), but the image claims user %s", (unsigned) uid, name, want);
  else
    check_set (out, ST_PASS, "runs as uid %u (%s), not root", (unsigned) uid, name);
}
