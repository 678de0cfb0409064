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
  // Inputs on which a .ptl file is checked against the module it came from.
  std::vector<at::Tensor> check_inputs;
  double check_rtol = 1e-4, check_atol = 1e-5;
  // Run optimize_for_mobile before a .ptl save (off for already-quantized modules, say).
  bool mobile_optimize = true;
};

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
int64_t parameter_count(const torch::jit::Module& module);
int64_t parameter_bytes(const torch::jit::Module& module);

}  // namespace mlopt
