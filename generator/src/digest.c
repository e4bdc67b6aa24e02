/* digest.c: see digest.h. */
#include "digest.h"
#include "util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>

void
sha256_hex (const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest (data, len, md, &n, EVP_sha256 (), NULL) != 1 || n != 32)
    die ("sha256 failed in libcrypto");
  digest_to_hex (md, n, out);
}

void
digest_to_hex (const unsigned char *md, unsigned int n, char *out)
{
  static const char hex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < n; i++)
    {
      out[2 * i] = hex[md[i] >> 4];
      out[2 * i + 1] = hex[md[i] & 15];
    }
  out[2 * n] = '\0';
}

int
sha256_file (const char *path, char out[SHA256_HEX_LEN + 1], unsigned long long *size)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return -1;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  if (ctx == NULL || EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL) != 1)
    die ("sha256 failed in libcrypto");
  /* Not static: pcgen build -j hashes files on several threads at once. */
  unsigned char *chunk = xmalloc (1 << 20);
  size_t n;
  unsigned long long total = 0;
  while ((n = fread (chunk, 1, 1 << 20, f)) > 0)
    {
      EVP_DigestUpdate (ctx, chunk, n);
      total += n;
    }
  int bad = ferror (f);
  fclose (f);
  free (chunk);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex (ctx, md, &len);
  EVP_MD_CTX_free (ctx);
  if (bad)
    {
      errno = EIO;
      return -1;
    }
  digest_to_hex (md, len, out);
  if (size)
    *size = total;
  return 0;
}
