/* ldcache.h: what `RUN ldconfig` leaves in an image, made without a container.
   The image's own ldconfig (a static binary in the base: Debian's /sbin/ldconfig is
   static-pie) runs on the host with `-r STAGE` against a staged tree that holds only what
   ldconfig reads: /etc/ld.so.conf and ld.so.conf.d/, the top-level symlinks of the base (lib ->
   usr/lib), and, in every folder ldconfig scans (the conf's folders and the trusted ones), the
   files and symlinks named lib*.so* / ld-*.so* and those of their subfolders (hwcaps), with
   their full content (ldconfig reads ELF headers and the dynamic section). What it writes is
   the layer: /etc/ld.so.cache, and the soname symlinks it made or changed (ldconfig makes
   libfoo.so.1 -> libfoo.so.1.2.3 when missing). /var/cache/ldconfig/aux-cache is not kept: it
   records inode numbers and ctimes of the machine it ran on (glibc elf/cache.c, save_aux_cache),
   so it can never be the same twice; it is a speed-up cache that ldconfig rebuilds.
   The same glibc as `RUN ldconfig` in the image, the same files: the same ld.so.cache bytes
   (the test tests/writer compares them with the docker-built image's).
   chroot(2) needs root: as another user ldconfig runs under `unshare --user --map-root-user`. */
#ifndef PCGEN_LDCACHE_H
#define PCGEN_LDCACHE_H

#include <stddef.h>

#include "strbuf.h"

struct ldcache_link
{
  char *path;   /* relative to /: usr/local/cuda-12.4/lib/libcudart.so */
  char *target; /* libcudart.so.12 */
};

struct ldcache_result
{
  struct strbuf cache; /* the bytes of /etc/ld.so.cache */
  struct ldcache_link *links;
  size_t nlinks, alloc;
};

/* Stage tars (layer tars, bottom to top) in a temporary folder under tmp_dir; with devel_dir
   (relative to /, or NULL) first make in it, for every lib*.so.* there in byte order, the
   unversioned name libX.so -> that file when libX.so does not exist yet (the devel template's
   RUN step); then run ldconfig. out receives the cache and every symlink made (devel_dir's and
   ldconfig's), sorted by path. The stage is removed. Returns 0, or -1 with err. */
int ldcache_make (const char *const *tars, size_t ntars, const char *devel_dir, const char *tmp_dir,
                  struct ldcache_result *out, struct strbuf *err);
void ldcache_result_release (struct ldcache_result *r);

#endif
