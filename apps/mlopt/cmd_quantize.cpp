// mlopt quantize: int8 (dynamic/static) and fp16/bf16 TorchScript artifacts.
#include <nlohmann/json.hpp>

#include "cli_binding.h"
#include "command_registry.h"
#include "output.h"
#include "mlopt/quantize/quantize.h"

namespace {

mlopt::cli::Action setup_quantize(CLI::App& app) {
  auto options = std::make_shared<mlopt::QuantizeOptions>();
  mlopt::cli::bind_options(app, *options);
  return [options](const mlopt::GlobalOptions& globals) {
    auto result = mlopt::quantize(*options, globals);
    mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    return result.exit_code;
  };
}

}  // namespace

MLOPT_REGISTER_COMMAND("quantize", "Quantize a model to int8 (dynamic, static) or fp16/bf16 with an accuracy report", 40,
                       setup_quantize);
