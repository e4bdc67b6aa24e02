/* fuzz_image.c: libFuzzer target for the verifier's image.env parser (verify/image.c). The
   input becomes a memory file read through /proc/self/fd, so the parser runs exactly as it
   does on /etc/pytorch-cuda/image.env. Its messages go to stderr: run with -close_fd_mask=2. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../verify.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd = memfd_create ("image.env", 0);
  if (fd < 0)
    return 0;
  if (write (fd, data, size) == (ssize_t) size)
    {
      char path[64];
      snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
      struct image img;
      image_load (&img, path);
      image_release (&img);
    }
  close (fd);
  return 0;
}
