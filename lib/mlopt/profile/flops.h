#pragma once
// FLOP counting (multiply-add = 2 FLOPs) for the ops that dominate compute:
// convolutions, linear layers, matrix products and attention. Counts come from
// the shapes each op really saw in a run (op_recorder.h), so they hold for
// TorchScript, lite-interpreter and ONNX-evaluator runs alike. Torch-free header.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace at {
class Tensor;
}
namespace torch::jit {
struct Module;
}

namespace mlopt {

struct OpEvent;
struct OpRecording;

struct FlopCount {
  int64_t total = 0;
  int64_t conv = 0, linear = 0, matmul = 0, attention = 0;
  nlohmann::json to_json() const;
};

// FLOPs of one op from its input and output shapes; 0 for ops not counted.
// `category` receives conv | linear | matmul.
int64_t op_flops(const std::string& op, const std::vector<std::vector<int64_t>>& input_shapes,
                 const std::vector<int64_t>& output_shape, bool transposed, std::string* category);

// Whether `op` is one whose FLOPs are counted (ops nested inside it are not).
bool counts_flops(const std::string& op);
// Whether ops nested inside `op` count as attention.
bool is_attention_op(const std::string& op);

// Sums the FLOPs of a recording's runs, per run.
FlopCount count_flops(const OpRecording& recording);
// Runs `run_once` once under the op recorder and counts. A TorchScript method
// must be on its first run: see count_module_flops.
FlopCount count_flops(const std::function<void()>& run_once);
// One run of `module` on `inputs`, counted on a copy that shares its tensors.
// Once LibTorch's profiling executor has optimized a method (from its second
// run), the op callbacks see shifted inputs and outputs (a ConvNeXt's linears
// read as 96-element products), so a count is a fresh method's first run.
FlopCount count_module_flops(const torch::jit::Module& module, const std::vector<at::Tensor>& inputs);

}  // namespace mlopt
