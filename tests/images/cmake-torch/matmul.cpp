// A CPU matmul through libtorch, checked against a plain loop.
#include <torch/torch.h>
#include <cmath>
#include <iostream>

int main() {
  torch::manual_seed(42);
  auto a = torch::randn({64, 32});
  auto b = torch::randn({32, 16});
  auto c = torch::mm(a, b);
  double worst = 0;
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 16; j++) {
      double ref = 0;
      for (int k = 0; k < 32; k++) ref += a[i][k].item<double>() * b[k][j].item<double>();
      worst = std::max(worst, std::fabs(ref - c[i][j].item<double>()));
    }
  std::cout << "libtorch " << TORCH_VERSION << " matmul max error " << worst << std::endl;
  return worst < 1e-4 ? 0 : 1;
}
