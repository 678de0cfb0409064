// An independent timing of a TorchScript archive in a plain LibTorch process
// (glibc's allocator defaults, nothing of mlopt linked), for
// scripts/bench-profile.sh: does `mlopt profile` report what a user's own C++
// process sees?
//   time_archive MODEL.pt N,C,H,W THREADS MIN_SECONDS   -> the median ms per call
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: time_archive MODEL.pt N,C,H,W THREADS MIN_SECONDS\n");
    return 2;
  }
  std::vector<int64_t> shape;
  std::stringstream dims(argv[2]);
  for (std::string d; std::getline(dims, d, ',');) shape.push_back(std::stoll(d));
  at::set_num_threads(std::stoi(argv[3]));
  double min_seconds = std::stod(argv[4]);
  auto model = torch::jit::load(argv[1]);
  model.eval();
  torch::NoGradGuard no_grad;
  std::vector<c10::IValue> inputs{torch::randn(shape)};
  for (int i = 0; i < 10; ++i) model.forward(inputs);
  using clock = std::chrono::steady_clock;
  std::vector<double> ms;
  auto end = clock::now() + std::chrono::duration<double>(min_seconds);
  while (clock::now() < end || ms.size() < 5) {
    auto t0 = clock::now();
    model.forward(inputs);
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  std::printf("%.4f\n", ms[ms.size() / 2]);
  return 0;
}
