/* saxpy.cu: a kernel launched through the CUDA runtime, built by nvcc in the test image.
   Exit 0: a device ran it and the result is right; 3: no usable device (what a machine without
   a GPU or driver gives: cudaGetDeviceCount fails, e.g. "CUDA driver version is insufficient");
   1: a device gave a wrong result or an error. tests/nvcc118/run.sh and
   tests/cuda13/run.sh expect 3 here (no GPU). */
#include <cuda_runtime.h>
#include <stdio.h>

__global__ void
saxpy (int n, float a, const float *x, float *y)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    y[i] = a * x[i] + y[i];
}

int
main (void)
{
  int count = 0;
  /* The runtime this was compiled and linked against (cudart_static: no driver needed to say). */
  printf ("cudart %d\n", CUDART_VERSION);
  cudaError_t e = cudaGetDeviceCount (&count);
  if (e != cudaSuccess || count == 0)
    {
      printf ("no CUDA device: %s\n", e != cudaSuccess ? cudaGetErrorString (e) : "none found");
      return 3;
    }
  enum { N = 1 << 16 };
  static float x[N], y[N];
  for (int i = 0; i < N; i++)
    x[i] = 1.0f, y[i] = 2.0f;
  float *dx, *dy;
  if (cudaMalloc (&dx, sizeof x) != cudaSuccess || cudaMalloc (&dy, sizeof y) != cudaSuccess)
    return 1;
  cudaMemcpy (dx, x, sizeof x, cudaMemcpyHostToDevice);
  cudaMemcpy (dy, y, sizeof y, cudaMemcpyHostToDevice);
  saxpy<<<(N + 255) / 256, 256>>> (N, 2.0f, dx, dy);
  if (cudaMemcpy (y, dy, sizeof y, cudaMemcpyDeviceToHost) != cudaSuccess)
    return 1;
  for (int i = 0; i < N; i++)
    if (y[i] != 4.0f)
      return printf ("wrong result at %d: %g\n", i, y[i]), 1;
  printf ("saxpy ok on %d device(s)\n", count);
  return 0;
}
