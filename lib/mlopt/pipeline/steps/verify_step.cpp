// Pipeline step `verify`: the model it reads against a reference (`reference:
// STEP`, default the baseline is not assumed: name it), on random inputs or a
// data set; accuracy on labelled data is recorded on both models (lib/mlopt/verify).
#include <nlohmann/json.hpp>

#include "mlopt/pipeline/step_registry.h"
#include "mlopt/verify/verify.h"

namespace mlopt::pipeline {
namespace {
StepType verify_step() {
  auto type = subcommand_step("verify", "compares a model's outputs with a reference's; accuracy on labelled data", "",
                              &verify);
  type.metrics = [](const nlohmann::json& result) {
    nlohmann::json m = {{"verify", {{"passed", result.value("passed", false)}}}};
    if (result.contains("accuracy_a")) m["accuracy"] = result["accuracy_a"];
    return m;
  };
  type.reference_metrics = [](const nlohmann::json& result) {
    nlohmann::json m = nlohmann::json::object();
    if (result.contains("accuracy_b")) m["accuracy"] = result["accuracy_b"];
    return m;
  };
  type.failure = [](const nlohmann::json& result) -> std::string {
    if (result.value("passed", false)) return "";
    if (result.contains("error")) return result["error"];
    std::string why;
    for (const auto& f : result.value("failures", nlohmann::json::array()))
      if (f.is_string()) why += (why.empty() ? "" : "; ") + f.get<std::string>();
    return why.empty() ? "outputs out of tolerance" : why;
  };
  return type;
}
}  // namespace
MLOPT_REGISTER_STEP(verify_step());
}  // namespace mlopt::pipeline
