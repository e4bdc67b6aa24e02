/* digest.h: sha256 through OpenSSL's libcrypto, as lowercase hex. */
#ifndef PCGEN_DIGEST_H
#define PCGEN_DIGEST_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

/* out receives 64 hex digits and a NUL. */
void sha256_hex (const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

/* n bytes of a digest (md, as EVP_DigestFinal_ex leaves it) as 2n lowercase hex digits and a NUL
   into out: for the callers that hash a stream themselves. */
void digest_to_hex (const unsigned char *md, unsigned int n, char *out);

/* sha256 of a file, streamed; size gets its length. Returns 0, or -1 with errno set. */
int sha256_file (const char *path, char out[SHA256_HEX_LEN + 1], unsigned long long *size);

#endif
