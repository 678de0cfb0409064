#include "mlopt/core/model_io.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/mobile/import.h>
#include <torch/csrc/jit/mobile/module.h>
#include <torch/csrc/jit/passes/xnnpack_rewrite.h>
#include <torch/csrc/jit/serialization/import.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/zip_archive.h"

namespace mlopt {

torch::jit::Module load_torchscript(const std::string& path) {
  if (!file_exists(path)) fail("model file '{}' does not exist", path);
  // LibTorch's reader and unpickler are not hardened against corrupt files: check the zip first.
  check_zip_file(path, fmt::format("'{}' is not a readable TorchScript archive", path));
  return with_context(fmt::format("'{}' is not a readable TorchScript archive", path), [&] {
    auto m = torch::jit::load(path);
    m.eval();
    return m;
  });
}

// The extra file alone, from the archive's directory: loading the module to
// get it would unpickle every weight (and pack int8 weights) for one small file.
std::string read_metadata(const std::string& path) {
  check_zip_file(path, fmt::format("'{}' is not a readable TorchScript archive", path));
  return with_context(fmt::format("reading metadata of '{}'", path), [&] {
    caffe2::serialize::PyTorchStreamReader reader(path);
    const char* record = "extra/mlopt.json";
    if (!reader.hasRecord(record)) return std::string();
    auto [data, size] = reader.getRecord(record);
    return std::string(static_cast<const char*>(data.get()), size);
  });
}

std::vector<at::Tensor> flatten_outputs(const c10::IValue& v) {
  std::vector<at::Tensor> out;
  if (v.isTensor()) {
    out.push_back(v.toTensor());
  } else if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) {
      auto inner = flatten_outputs(e);
      out.insert(out.end(), inner.begin(), inner.end());
    }
  } else if (v.isList()) {
    for (const auto& e : v.toListRef()) {
      auto inner = flatten_outputs(e);
      out.insert(out.end(), inner.begin(), inner.end());
    }
  } else if (v.isGenericDict()) {
    for (const auto& kv : v.toGenericDict()) {
      auto inner = flatten_outputs(kv.value());
      out.insert(out.end(), inner.begin(), inner.end());
    }
  } else if (v.isDouble() || v.isInt() || v.isBool()) {
    out.push_back(at::scalar_tensor(v.toScalar()));
  } else if (!v.isNone()) {
    fail("model output of type '{}' is not supported (expected tensors, tuples, lists or dicts of tensors)",
         v.tagKind());
  }
  return out;
}

std::vector<at::Tensor> run_module(torch::jit::Module& module, const std::vector<at::Tensor>& inputs) {
  std::vector<c10::IValue> args(inputs.begin(), inputs.end());
  torch::NoGradGuard no_grad;
  return flatten_outputs(module.forward(args));
}

namespace {

double max_abs_diff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b, bool& shapes_match) {
  shapes_match = a.size() == b.size();
  double worst = 0;
  for (size_t i = 0; shapes_match && i < a.size(); ++i) {
    if (!a[i].sizes().equals(b[i].sizes())) {
      shapes_match = false;
      break;
    }
    if (a[i].numel() == 0) continue;
    auto x = a[i].to(at::kDouble), y = b[i].to(at::kDouble);
    worst = std::max(worst, (x - y).abs().max().item<double>());
  }
  return worst;
}

// LibTorch 1.13's conv-BatchNorm fusion in optimizeForMobile is wrong on some
// graphs (a traced torchvision ResNet-18 with trained statistics: max abs diff
// ~90), so the optimized module is checked on the check inputs and, when it
// does not reproduce the module, optimized again without that fusion.
torch::jit::Module optimize_for_lite(const torch::jit::Module& mobile, const torch::jit::Module& module,
                                     const std::string& path, const SaveOptions& options) {
  auto optimized = torch::jit::optimizeForMobile(mobile);
  if (options.check_inputs.empty()) return optimized;
  auto reference = run_module(const_cast<torch::jit::Module&>(module), options.check_inputs);
  auto got = run_module(optimized, options.check_inputs);
  bool shapes_match = false;
  double diff = max_abs_diff(reference, got, shapes_match);
  if (shapes_match && outputs_close(reference, got, options.check_rtol, options.check_atol)) return optimized;
  log::info("'{}': LibTorch's mobile conv-BatchNorm fusion changes the outputs (max abs diff {:.3g}); optimizing "
            "without it", path, diff);
  return torch::jit::optimizeForMobile(mobile, {torch::jit::MobileOptimizerType::CONV_BN_FUSION});
}

}  // namespace

bool outputs_close(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b, double rtol, double atol) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].numel() == 0) continue;
    auto x = a[i].to(at::kDouble), y = b[i].to(at::kDouble);
    const double scale = x.abs().max().item<double>();
    if (!((x - y).abs().max().item<double>() <= atol + rtol * scale)) return false;  // NaN: not close
  }
  return true;
}

SaveResult save_module(const torch::jit::Module& module, const std::string& path, const SaveOptions& options) {
  SaveResult result;
  result.path = path;
  torch::jit::ExtraFilesMap extra;
  if (!options.metadata_json.empty()) extra["mlopt.json"] = options.metadata_json;
  bool lite = extension_of(path) == ".ptl";
  result.format = lite ? "torchscript-lite" : "torchscript";
  if (!lite) {
    write_atomically(path, [&](const std::string& tmp) {
      with_context(fmt::format("saving '{}'", path), [&] { module.save(tmp, extra); });
    });
  } else {
    torch::jit::Module mobile = module.clone();
    mobile.eval();
    if (options.mobile_optimize) {
      // Some modules cannot be frozen (dynamic int8 LSTM keeps its packed
      // weights in Capsules the freezer cannot inspect). They still run in the
      // lite interpreter unoptimized, which the check below proves.
      try {
        mobile = optimize_for_lite(mobile, module, path, options);
      } catch (const std::exception& e) {
        std::string why = e.what();
        why = why.substr(0, why.find('\n'));
        log::warn("'{}': mobile optimization passes skipped ({}); saving the module unoptimized", path, why);
        mobile = module.clone();
        mobile.eval();
      }
    }
    write_atomically(path, [&](const std::string& tmp) {
      with_context(fmt::format("saving lite-interpreter file '{}'", path), [&] { mobile._save_for_mobile(tmp, extra); });
      if (options.check_inputs.empty()) return;
      // The lite interpreter must load the file and reproduce the module's outputs.
      auto reference = run_module(const_cast<torch::jit::Module&>(module), options.check_inputs);
      auto lite_module = with_context(fmt::format("the lite interpreter cannot load '{}'", path),
                                      [&] { return torch::jit::_load_for_mobile(tmp); });
      std::vector<c10::IValue> args(options.check_inputs.begin(), options.check_inputs.end());
      auto got = with_context(fmt::format("the lite interpreter cannot run '{}'", path), [&] {
        torch::NoGradGuard no_grad;
        return flatten_outputs(lite_module.forward(args));
      });
      bool shapes_match = false;
      result.lite_max_abs_diff = max_abs_diff(reference, got, shapes_match);
      if (!shapes_match || !outputs_close(reference, got, options.check_rtol, options.check_atol))
        throw Error(fmt::format("lite-interpreter file '{}' does not reproduce the module's outputs (max abs diff {:.3g})",
                                path, result.lite_max_abs_diff),
                    kExitCheckFailed);
      result.lite_checked = true;
    });
  }
  result.size = file_size(path);
  return result;
}

std::vector<at::Tensor> unpacked_weights(const c10::IValue& v) {
  std::vector<at::Tensor> out;
  if (!v.isObject()) return out;
  try {
    auto* unpack = v.toObjectRef().type()->findMethod("unpack");
    if (!unpack) return out;
    torch::jit::Stack stack{v};
    unpack->run(stack);
    if (stack.empty() || !stack.back().isTuple()) return out;
    for (const auto& part : stack.back().toTupleRef().elements())
      if (part.isTensor() && part.toTensor().defined()) out.push_back(part.toTensor());
  } catch (const std::exception&) {
    // Not a packed-params object after all.
  }
  return out;
}

namespace {

// Every weight tensor of the module: parameters and packed int8 weights.
template <class F>
void for_each_weight(const torch::jit::Module& module, F&& f) {
  for (const auto& p : module.parameters()) f(p);
  for (const auto& a : module.named_attributes(/*recurse=*/true))
    for (const auto& t : unpacked_weights(a.value)) f(t);
}

}  // namespace

int64_t parameter_count(const torch::jit::Module& module) {
  int64_t n = 0;
  for_each_weight(module, [&](const at::Tensor& t) { n += t.numel(); });
  return n;
}

int64_t parameter_bytes(const torch::jit::Module& module) {
  int64_t n = 0;
  for_each_weight(module, [&](const at::Tensor& t) { n += static_cast<int64_t>(t.nbytes()); });
  return n;
}

}  // namespace mlopt
