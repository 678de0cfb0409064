#pragma once
// Observers for LibTorch's graph-mode quantization passes, built as TorchScript
// modules (the passes call their forward during calibration and their
// calculate_qparams when quantize/dequantize are inserted).
//
// Activation observers only collect statistics (a running min/max, then a
// histogram over that range); the scale and zero point are chosen here in C++
// (min/max, histogram L2 search or percentile) and stored on the observer
// before the convert pass asks for them.
#include <torch/script.h>

#include <string>
#include <vector>

namespace mlopt::quant {

torch::jit::Module make_activation_observer();
// Symmetric int8 weights, per output channel or per tensor.
torch::jit::Module make_weight_observer(bool per_channel);
// Dynamic quantization: activation parameters are chosen at run time.
torch::jit::Module make_placeholder_observer();

// The state an observer module carries, for observers built elsewhere on the
// same scheme (fake_quant.h): an activation observer's range, histogram and
// uint8 qparams; a weight observer's int8 scheme and qparams.
void add_activation_observer_state(torch::jit::Module& m);
void add_weight_observer_state(torch::jit::Module& m, bool per_channel);

// The activation observers a prepare pass inserted into `prepared`.
std::vector<torch::jit::Module> activation_observers(const torch::jit::Module& prepared);
// After a first calibration pass (ranges): collect histograms over those ranges.
void start_histograms(std::vector<torch::jit::Module>& observers, int64_t bins = 2048);
// Chooses each observer's scale / zero point ("minmax", "histogram", "percentile").
void choose_activation_qparams(std::vector<torch::jit::Module>& observers, const std::string& method,
                               double percentile);

struct Range {
  double low = 0, high = 0;
};
// The clipping range of a histogram over [low, high] that minimizes the
// expected L2 error of 8-bit quantization (clipping + rounding).
Range l2_optimal_range(const std::vector<double>& counts, double low, double high);
Range percentile_range(const std::vector<double>& counts, double low, double high, double percentile);

// Attributes of an observer module made in C++ (a buffer for a tensor, so that it is saved and cloned).
void add_int(torch::jit::Module& m, const std::string& name, int64_t value);
void add_bool(torch::jit::Module& m, const std::string& name, bool value);
void add_tensor(torch::jit::Module& m, const std::string& name, const at::Tensor& value);

}  // namespace mlopt::quant
