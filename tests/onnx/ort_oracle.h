#pragma once
// Test helpers of the ONNX exporter: export a module, run the file in ONNX
// Runtime (tests/oracle/run_ort.js through node) and compare with LibTorch.
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <map>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace mlopt::test {

// Edge values for op tests.
inline const float kNaN = std::numeric_limits<float>::quiet_NaN();
inline const float kInf = std::numeric_limits<float>::infinity();

// True when tests/oracle/node_modules is installed.
bool ort_available();
// Fails the test (never skips it) when ONNX Runtime is not installed: the
// oracle is part of the suite (scripts/setup.sh installs it).
void require_ort();

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// What ONNX Runtime made of an .onnx file (tests/oracle/run_ort.js through
// node): its outputs in graph order, or the first line of its error.
struct OrtRun {
  bool ok = false;
  std::string error;
  NamedTensors outputs;
};
OrtRun try_run_in_ort(const std::string& onnx_path, const NamedTensors& inputs);
// The same, failing the test when ONNX Runtime fails or is not installed.
NamedTensors run_in_ort(const std::string& onnx_path, const NamedTensors& inputs);

struct OrtComparison {
  onnx::ModelProto model;
  std::vector<double> max_rel_error;  // per size run, worst output
  std::map<std::string, int64_t> ops;  // node count by op type (subgraphs included)
};

// Exports `module` for `specs`, then for the example sizes and for each of
// `dynamic_sizes` (all dynamic dims set to it) runs LibTorch and ONNX Runtime
// on the same random inputs; returns the worst relative error of each run:
// max |ort - torch| / max(max |torch|, 1e-6) over each output.
OrtComparison compare_with_ort(torch::jit::Module& module, const std::vector<std::string>& specs,
                               const std::vector<int64_t>& dynamic_sizes = {}, int opset = 17,
                               const std::vector<std::vector<at::Tensor>>& extra_inputs = {});

// make_module(body, params) exported and compared with ONNX Runtime at the
// example sizes, at each of `dynamic_sizes` and on each of `extra_inputs`
// (edge values): every run within `tolerance` (NaN and infinities must match
// exactly). Fails when ONNX Runtime is missing.
OrtComparison expect_matches_ort(const std::string& body, const std::vector<std::string>& specs,
                                 const std::vector<int64_t>& dynamic_sizes = {},
                                 const std::vector<std::vector<at::Tensor>>& extra_inputs = {},
                                 const std::map<std::string, at::Tensor>& params = {}, double tolerance = 1e-4);

// The same as expect_matches_ort, then the exported model run by mlopt's own
// evaluator (onnx/eval) on inputs of the same sizes and on `extra_inputs`:
// each run within `tolerance` of LibTorch (NaN and infinities exactly).
OrtComparison expect_matches_ort_and_evaluator(const std::string& body, const std::vector<std::string>& specs,
                                               const std::vector<int64_t>& dynamic_sizes = {},
                                               const std::vector<std::vector<at::Tensor>>& extra_inputs = {},
                                               const std::map<std::string, at::Tensor>& params = {},
                                               double tolerance = 1e-4);

// A module whose forward is `source` (TorchScript), with constant parameters.
torch::jit::Module make_module(const std::string& source, const std::map<std::string, at::Tensor>& params = {});

// Node count by op type, If/Loop bodies included.
std::map<std::string, int64_t> op_counts(const onnx::ModelProto& model);

}  // namespace mlopt::test
