/* thrust_sum.cu: CCCL (Thrust and CUB, from the nvidia-cuda-cccl wheel under include/cccl/)
   compiled by nvcc in the CUDA 13 test image. It must compile and link: the headers are found
   through nvcc.profile's -isystem include/cccl. Run without a GPU it reports no device (exit 3). */
#include <cub/version.cuh>
#include <thrust/device_vector.h>
#include <thrust/reduce.h>
#include <cuda_runtime.h>
#include <stdio.h>

int
main (void)
{
  printf ("cub %d\n", CUB_VERSION);
  int count = 0;
  if (cudaGetDeviceCount (&count) != cudaSuccess || count == 0)
    {
      printf ("no CUDA device\n");
      return 3;
    }
  thrust::device_vector<int> v (1000, 1);
  int sum = thrust::reduce (v.begin (), v.end ());
  printf ("sum %d\n", sum);
  return sum == 1000 ? 0 : 1;
}
