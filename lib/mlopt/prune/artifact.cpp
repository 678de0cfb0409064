#include "mlopt/prune/artifact.h"

#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/version.h"
#include <onnx/onnx_pb.h>

#include "mlopt/onnx/export.h"
#include "mlopt/onnx/proto/model_file.h"

namespace mlopt::pruning {

namespace {

std::string metadata_json(const PruneOptions& o, const std::vector<InputSpec>& specs) {
  nlohmann::json j;
  j["producer"] = "mlopt " + mlopt_version();
  j["command"] = "prune";
  j["method"] = o.method;
  j["amount"] = o.amount;
  std::vector<std::string> inputs;
  for (const auto& s : specs) inputs.push_back(s.to_string());
  j["inputs"] = inputs;
  return j.dump();
}

double max_abs_diff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].sizes().equals(b[i].sizes())) return INFINITY;
    worst = std::max(worst, (a[i].to(at::kDouble) - b[i].to(at::kDouble)).abs().max().item<double>());
  }
  return worst;
}

void write_torchscript(torch::jit::Module& pruned, const PruneOptions& o, const std::vector<InputSpec>& specs,
                       const std::vector<at::Tensor>& examples, PruneResult& result) {
  SaveOptions save;
  save.metadata_json = metadata_json(o, specs);
  save.check_inputs = examples;
  // optimize_for_mobile folds BatchNorm into the conv submodules' weights, which
  // assumes forward calls those submodules; channel pruning inlines them into one
  // forward, so the fold would be applied twice. Save channel-pruned models as is.
  save.mobile_optimize = o.method != "channel";
  auto saved = save_module(pruned, o.output, save);
  result.file_size_after = saved.size;
  if (examples.empty()) return;
  if (saved.lite_checked) {
    result.artifact_verified = true;
    result.artifact_max_abs_diff = saved.lite_max_abs_diff;
    return;
  }
  auto reloaded = load_torchscript(o.output);
  result.artifact_max_abs_diff = max_abs_diff(run_module(pruned, examples), run_module(reloaded, examples));
  result.artifact_verified = result.artifact_max_abs_diff <= 1e-5;
  if (!result.artifact_verified)
    throw Error(fmt::format("'{}' does not reproduce the pruned model (max abs diff {:.3g})", o.output,
                            result.artifact_max_abs_diff),
                kExitCheckFailed);
}

}  // namespace

void write_artifact(torch::jit::Module& pruned, const PruneOptions& o, const std::vector<InputSpec>& specs,
                    const std::vector<at::Tensor>& examples, PruneResult& result) {
  if (extension_of(o.output) != ".onnx") return write_torchscript(pruned, o, specs, examples, result);
  auto model = export_module(pruned, specs);
  auto* meta = model.add_metadata_props();
  meta->set_key("mlopt");
  meta->set_value(metadata_json(o, specs));
  onnx_proto::write_model_file(model, o.output);
  result.file_size_after = file_size(o.output);
}

}  // namespace mlopt::pruning
