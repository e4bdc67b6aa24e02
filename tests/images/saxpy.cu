// Compiled by the devel image's nvcc (no GPU needed to compile and link).
#include <cstdio>
__global__ void saxpy(int n, float a, const float *x, float *y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}
int main() {
  printf("saxpy compiled for CUDA %d\n", CUDART_VERSION);
  return 0;
}
