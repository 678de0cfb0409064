#pragma once
// TorchScript model files: .pt archives (load/save) and .ptl lite-interpreter
// files (mobile passes, saved, then reloaded and checked against the module).
#include <torch/script.h>

#include <map>
#include <string>
#include <vector>

namespace mlopt {

// Loads a TorchScript archive in eval mode; errors name the file.
torch::jit::Module load_torchscript(const std::string& path);
// Reads the archive's extra file "mlopt.json" (empty string when absent).
std::string read_metadata(const std::string& path);

struct SaveOptions {
  // JSON text stored as the archive's extra file "mlopt.json" (producer, input spec, engine).
  std::string metadata_json;
  // Inputs on which a .ptl file is checked against the module it came from:
  // each output's max abs diff within check_atol + check_rtol x its largest magnitude.
  std::vector<at::Tensor> check_inputs;
  double check_rtol = 1e-4, check_atol = 1e-5;
  // Run optimize_for_mobile before a .ptl save (off for already-quantized modules, say).
  bool mobile_optimize = true;
};

// Each output of `got` within atol + rtol x the largest magnitude of the same
// output of `reference` (equal shapes expected). The lite interpreter's kernels
// (XNNPACK's convolutions after optimize_for_mobile) round differently from
// the JIT's by a fraction of an output's scale, so an element-wise rtol fails
// a deep model's near-zero logits (ResNet-50: 2e-5 on logits of magnitude ~1)
// while a wrong fusion (a diff of 90) still fails. NaN is never close.
bool outputs_close(const std::vector<at::Tensor>& reference, const std::vector<at::Tensor>& got, double rtol,
                   double atol);

struct SaveResult {
  std::string path;
  std::string format;  // "torchscript" or "torchscript-lite"
  int64_t size = 0;
  bool lite_checked = false;
  double lite_max_abs_diff = 0;
};

// Saves a module atomically: `.ptl` writes a lite-interpreter file, anything
// else a TorchScript archive.
SaveResult save_module(const torch::jit::Module& module, const std::string& path, const SaveOptions& options = {});

// Flattens a module's output (tensor, tuple/list of tensors, dict of tensors)
// into a list of tensors, in order.
std::vector<at::Tensor> flatten_outputs(const c10::IValue& output);

// Runs the module's forward on the given tensors.
std::vector<at::Tensor> run_module(torch::jit::Module& module, const std::vector<at::Tensor>& inputs);

// Count of parameters and their bytes.
// Weight and bias of a packed-params object (int8 conv/linear/LSTM kernels keep
// their weights there, not in parameters), via its unpack() method; empty for
// any other value.
std::vector<at::Tensor> unpacked_weights(const c10::IValue& v);
int64_t parameter_count(const torch::jit::Module& module);
int64_t parameter_bytes(const torch::jit::Module& module);

}  // namespace mlopt
