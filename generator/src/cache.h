/* cache.h: the content-addressed download cache. A wheel lives at
     CACHE/sha256/<hex>/<file name>
   and is verified by its sha256 whenever it is used: a mismatch is refused and the entry
   removed, so a corrupt or tampered file is never built into an image. Files enter the cache by
   rename(2) after hashing, so an interrupted download never leaves a half entry. */
#ifndef PCGEN_CACHE_H
#define PCGEN_CACHE_H

#include "digest.h"
#include "strbuf.h"

/* $PCGEN_CACHE, else $XDG_CACHE_HOME/pytorch-cuda, else $HOME/.cache/pytorch-cuda. */
const char *cache_dir (void);

/* The path of (sha256, file) in the cache, whether or not it is there. */
char *cache_path (const char *sha256, const char *file);

/* 1 if the entry is present and its content hashes to sha256; 0 if absent; -1 if present but
   corrupt (then it is removed and err says so). The hash is computed once and remembered in
   <entry>.verified with the file's size, mtime and inode: a changed file is hashed again. */
int cache_check (const char *sha256, const char *file, struct strbuf *err);

/* Like cache_check, but hashes the file even when its stamp (size, mtime, inode) is unchanged:
   the stamp trusts that nobody rewrote the file in place and restored its size and mtime;
   pcgen fetch --verify trusts nothing. A mismatch is removed as above. */
int cache_verify (const char *sha256, const char *file, struct strbuf *err);

/* Whether s is a sha256 as the cache names its folders (64 lowercase hex digits), and whether
   s is a file name that stays inside its folder (not empty, no '/', no "..", not starting with
   '.' or '-'). Every function here refuses other names: an entry never leads outside the cache. */
int cache_valid_sha256 (const char *s);

/* The sha256 of the file at path (one pcgen made, e.g. the base tar), remembered beside it in
   path.sha256 with its stat stamp (size, mtime, inode): hashed again only when the stamp
   changed, as cache_check does for entries. Returns 0, or -1 with err. */
int cache_file_sha256 (const char *path, char out[SHA256_HEX_LEN + 1], struct strbuf *err);
int cache_valid_file (const char *s);

/* Move src (a downloaded file) into the cache under its own sha256 (returned in sha256, its
   size in *size). With want (not NULL), bytes whose sha256 is not want never enter the cache:
   src is removed and CACHE_MISMATCH returned, err naming both digests. src is gone afterwards.
   Returns 0, or -1 (CACHE_MISMATCH) with err set. */
#define CACHE_MISMATCH (-16) /* unlike every enum pip_failure: callers see both (fetch.c) */
int cache_put (const char *src, const char *file, const char *want, char sha256[SHA256_HEX_LEN + 1],
               unsigned long long *size, struct strbuf *err);

/* Move src into the cache as (sha256, file) when the caller has just hashed it to that digest
   (a verified download); src is gone afterwards. Returns 0, or -1 with err set. */
int cache_adopt (const char *src, const char *file, const char *sha256, struct strbuf *err);

/* src, a file downloaded from url that pinned_by ("matrix.lock", "bases.yaml") pins to sha256
   and size: into the cache when its sha256 is that one, else refused naming both digests and
   sizes, nothing cached. src is gone afterwards. Returns 0, or -1 with err set. */
int cache_put_pinned (const char *src, const char *file, const char *url, const char *sha256,
                      unsigned long long size, const char *pinned_by, struct strbuf *err);

#endif
