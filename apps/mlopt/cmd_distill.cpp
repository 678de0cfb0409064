// mlopt distill: train a student against a teacher (or on labels alone).
#include "mlopt/core/error.h"
#include "cli_binding.h"
#include "command_registry.h"
#include "mlopt/distill/distill.h"
#include "output.h"

#include <nlohmann/json.hpp>

namespace {

mlopt::cli::Action setup_distill(CLI::App& app) {
  auto options = std::make_shared<mlopt::DistillOptions>();
  mlopt::cli::bind_options(app, *options);
  app.footer(
      "Data parallel: launch N copies with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set (as torchrun does);\n"
      "each trains on its shard, rank 0 writes the model and the report.\n\n"
      "Exit codes: 0 success, 1 error (bad input, failure), 2 usage error,\n"
      "            3 a check failed (trace check, verify, pipeline gates), 130 interrupted.");
  return [options](const mlopt::GlobalOptions& globals) {
    auto result = mlopt::distill_model(*options, globals);
    if (result.wrote_output) mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    return mlopt::kExitOk;
  };
}

MLOPT_REGISTER_COMMAND("distill", "Train a student model from a teacher (knowledge distillation) or from labels", 70,
                       setup_distill);

}  // namespace
