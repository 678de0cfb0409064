// `mlopt verify A [B]` (exit 3 when they disagree) and the step `verify`: the
// model it reads against a reference (`reference: STEP`, not assumed: name it),
// on random inputs or a data set; accuracy on labelled data is recorded on
// both models (lib/mlopt/verify).
#include "mlopt/commands/command.h"
#include "mlopt/core/error.h"
#include "mlopt/verify/verify.h"

namespace mlopt::commands {
namespace {
StepSpec verify_step(const Command& command) {
  StepSpec step = step_of(command, "compares a model's outputs with a reference's; accuracy on labelled data", "");
  step.metrics = [](const nlohmann::json& result) {
    nlohmann::json m = {{"verify", {{"passed", result.value("passed", false)}}}};
    if (result.contains("accuracy_a")) m["accuracy"] = result["accuracy_a"];
    return m;
  };
  step.reference_metrics = [](const nlohmann::json& result) {
    nlohmann::json m = nlohmann::json::object();
    if (result.contains("accuracy_b")) m["accuracy"] = result["accuracy_b"];
    return m;
  };
  step.failure = [](const nlohmann::json& result) -> std::string {
    if (result.value("passed", false)) return "";
    if (result.contains("error")) return result["error"];
    std::string why;
    for (const auto& f : result.value("failures", nlohmann::json::array()))
      if (f.is_string()) why += (why.empty() ? "" : "; ") + f.get<std::string>();
    return why.empty() ? "outputs out of tolerance" : why;
  };
  return step;
}
}  // namespace

Command verify_command() {
  auto command = make_command("verify", "Check that two artifacts (or one and stored outputs) compute the same thing",
                              &verify, [](const VerifyResult& r) {
                                return outcome_of(r, r.passed ? kExitOk : kExitCheckFailed);
                              });
  command.cli.list_flags = {"dynamic-sizes"};
  command.steps = {verify_step(command)};
  return command;
}
}  // namespace mlopt::commands
