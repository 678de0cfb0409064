// Runners for TorchScript archives (.pt), lite-interpreter files (.ptl) and
// Python models (.py, scripted on load).
#include <torch/csrc/jit/mobile/import.h>
#include <torch/csrc/jit/mobile/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/zip_archive.h"
#include "mlopt/runtime/quantized_engine.h"
#include "mlopt/runtime/runner.h"

namespace mlopt {
namespace {

// The precision a tensor's dtype stands for ("" for full precision).
std::string precision_of_dtype(const at::Tensor& t) {
  if (t.is_quantized()) return "int8";
  if (t.scalar_type() == at::kHalf) return "fp16";
  if (t.scalar_type() == at::kBFloat16) return "bf16";
  return "";
}

// What a module's weights and ops say about its precision: int8 kernels or
// packed int8 weights; else half-precision weights wherever they are kept —
// parameters, buffers, plain tensor attributes, or constants of a frozen graph
// (where `mlopt quantize --mode fp16` and torch.jit.freeze put them).
std::string precision_of(const torch::jit::Module& module) {
  std::string half;
  auto note = [&](const at::Tensor& t) {
    auto p = precision_of_dtype(t);
    if (p == "int8" || (half.empty() && !p.empty())) half = p;
  };
  for (const auto& sub : module.modules()) {
    for (const auto& method : sub.get_methods()) {
      for (const auto* node : method.graph()->nodes()) {
        std::string kind = node->kind().toQualString();
        if (kind.rfind("quantized::", 0) == 0 || kind == "aten::quantize_per_tensor") return "int8";
        if (node->kind() == c10::prim::Constant && node->output()->type()->kind() == c10::TypeKind::TensorType) {
          auto value = torch::jit::toIValue(node->output());
          if (value && value->isTensor()) note(value->toTensor());
        }
      }
    }
  }
  for (const auto& attr : module.named_attributes(/*recurse=*/true)) {
    // Packed quantized weights live in attributes, not parameters.
    if (attr.value.isCustomClass()) {
      std::string type = attr.value.type()->str();
      if (type.find("LinearPackedParams") != std::string::npos || type.find("Conv2dPackedParams") != std::string::npos)
        return "int8";
    }
    if (attr.value.isTensor()) note(attr.value.toTensor());
  }
  return half.empty() ? "fp32" : half;
}

class TorchScriptRunner : public Runner {
 public:
  TorchScriptRunner(torch::jit::Module module, std::vector<InputSpec> declared)
      : module_(std::move(module)), declared_(std::move(declared)) {}
  std::vector<at::Tensor> run(const std::vector<at::Tensor>& inputs) override {
    torch::NoGradGuard no_grad;
    return with_context(fmt::format("running '{}'", path()), [&] { return run_module(module_, inputs); });
  }
  std::string engine() const override { return "torchscript"; }
  std::vector<InputSpec> declared_inputs() const override { return declared_; }
  std::string precision() const override { return precision_of(module_); }
  int64_t parameter_count() const override { return mlopt::parameter_count(module_); }
  int64_t parameter_bytes() const override { return mlopt::parameter_bytes(module_); }
  torch::jit::Module* torchscript_module() override { return &module_; }

 private:
  torch::jit::Module module_;
  std::vector<InputSpec> declared_;
};

// The weights of the packed int8 kernels in a lite module's objects (the
// module's parameters() holds the float ones only).
void collect_packed_weights(const c10::IValue& v, std::vector<at::Tensor>& out, int depth = 0) {
  if (!v.isObject() || depth > 64) return;
  auto packed = unpacked_weights(v);
  if (!packed.empty()) {
    out.insert(out.end(), packed.begin(), packed.end());
    return;
  }
  for (const auto& slot : v.toObjectRef().slots()) collect_packed_weights(slot, out, depth + 1);
}

class LiteRunner : public Runner {
 public:
  LiteRunner(torch::jit::mobile::Module module, std::vector<InputSpec> declared)
      : module_(std::move(module)), declared_(std::move(declared)) {}
  std::vector<at::Tensor> run(const std::vector<at::Tensor>& inputs) override {
    torch::NoGradGuard no_grad;
    return with_context(fmt::format("running '{}'", path()), [&] {
      std::vector<c10::IValue> args(inputs.begin(), inputs.end());
      return flatten_outputs(module_.forward(args));
    });
  }
  std::string engine() const override { return "torchscript-lite"; }
  std::vector<InputSpec> declared_inputs() const override { return declared_; }
  std::string precision() const override {
    if (!packed_weights().empty()) return "int8";
    for (const auto& p : module_.parameters()) {
      if (p.is_quantized()) return "int8";
      if (p.scalar_type() == at::kHalf) return "fp16";
      if (p.scalar_type() == at::kBFloat16) return "bf16";
    }
    return "fp32";
  }
  int64_t parameter_count() const override {
    int64_t n = 0;
    for (const auto& p : module_.parameters()) n += p.numel();
    for (const auto& p : packed_weights()) n += p.numel();
    return n;
  }
  int64_t parameter_bytes() const override {
    int64_t n = 0;
    for (const auto& p : module_.parameters()) n += static_cast<int64_t>(p.nbytes());
    for (const auto& p : packed_weights()) n += static_cast<int64_t>(p.nbytes());
    return n;
  }

 private:
  // Unpacked once, on first use: precision and both parameter figures read them.
  const std::vector<at::Tensor>& packed_weights() const {
    if (!packed_) {
      packed_.emplace();
      collect_packed_weights(c10::IValue(module_._ivalue()), *packed_);
    }
    return *packed_;
  }
  mutable std::optional<std::vector<at::Tensor>> packed_;

  mutable torch::jit::mobile::Module module_;
  std::vector<InputSpec> declared_;
};

// What mlopt.json says of an archive: the inputs it declares, and the engine
// its int8 weights were made for.
struct ArchiveMetadata {
  std::vector<InputSpec> declared;
  std::string quantized_engine;
};

ArchiveMetadata metadata_of(const std::string& path) {
  ArchiveMetadata m;
  try {
    auto text = read_metadata(path);
    m.quantized_engine = quantized_engine_of(text);
    m.declared = input_specs_from_metadata(text);
  } catch (const Error&) {
    // metadata is a convenience; a bad one must not stop the run
  }
  return m;
}

// Int8 weights are packed for the active engine as the archive loads: the one
// the artifact was made for is made active first (QNNPACK for a .ptl), so that
// verify, profile and serve run the kernels it targets, not the host's default.
// A build without that engine packs them for its own, as LibTorch would.
void select_engine_for(ArchiveMetadata& m) {
  if (m.quantized_engine.empty()) return;
  if (quantized_engine_available(m.quantized_engine)) set_quantized_engine(m.quantized_engine);
  else m.quantized_engine.clear();
}

}  // namespace

std::vector<InputSpec> input_specs_from_metadata(const std::string& metadata_json) {
  if (metadata_json.empty()) return {};
  auto j = nlohmann::json::parse(metadata_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return {};
  for (const char* key : {"inputs", "input", "input_spec", "input_specs"}) {
    if (!j.contains(key)) continue;
    std::vector<std::string> texts;
    const auto& v = j[key];
    if (v.is_string()) texts.push_back(v.get<std::string>());
    if (v.is_array())
      for (const auto& e : v)
        if (e.is_string()) texts.push_back(e.get<std::string>());
    if (!texts.empty()) return parse_input_specs(texts);
  }
  return {};
}

std::unique_ptr<Runner> load_runner(const std::string& path, const ModelSource& python) {
  std::string ext = extension_of(path);
  std::unique_ptr<Runner> runner;
  if (ext == ".onnx") {
    runner = make_onnx_runner(path);
  } else if (ext == ".ptl") {
    if (!file_exists(path)) fail("'{}': no such file", path);
    // LibTorch's reader is not hardened against corrupt archives: check the zip first.
    check_zip_file(path, fmt::format("'{}' is not a readable lite-interpreter file", path));
    auto metadata = metadata_of(path);
    select_engine_for(metadata);
    auto module = with_context(fmt::format("loading lite-interpreter file '{}'", path),
                               [&] { return torch::jit::_load_for_mobile(path); });
    runner = std::make_unique<LiteRunner>(std::move(module), std::move(metadata.declared));
    runner->set_quantized_engine(metadata.quantized_engine);
  } else if (ext == ".py" || ext == ".pt" || ext == ".pth" || ext == ".zip") {
    // --class/--init/--weights describe the .py artifact; a .pt beside it ignores them.
    ModelSource source = ext == ".py" ? python : ModelSource{};
    source.path = path;
    ArchiveMetadata metadata;
    if (ext != ".py") metadata = metadata_of(path);
    select_engine_for(metadata);
    auto module = load_model(source);
    module.eval();
    runner = std::make_unique<TorchScriptRunner>(std::move(module), std::move(metadata.declared));
    runner->set_quantized_engine(metadata.quantized_engine);
  } else {
    fail("'{}': expected a model artifact ending in .pt, .ptl, .onnx or .py", path);
  }
  runner->set_path(path);
  return runner;
}

}  // namespace mlopt
