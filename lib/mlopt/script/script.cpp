#include "mlopt/script/script.h"

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <chrono>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/shape_text.h"
#include "mlopt/core/version.h"
#include "mlopt/script/python_model.h"

namespace mlopt {

namespace {
}  // namespace

ScriptResult script(const ScriptOptions& options, const GlobalOptions& globals) {
  auto start = std::chrono::steady_clock::now();
  if (extension_of(options.source.path) != ".py") fail_usage("'{}': script compiles Python model files (.py)", options.source.path);
  std::string ext = extension_of(options.output);
  if (ext != ".pt" && ext != ".ptl") fail_usage("-o '{}': expected a .pt or .ptl file", options.output);
  auto specs = parse_input_specs(options.inputs);

  ModelSource source = options.source;
  source.seed = globals.seed;
  torch::jit::Module module = compile_python_model(source, PythonModelOptions{options.weights_key, options.strict, options.paths});

  ScriptResult result;
  result.model = options.source.path;
  result.class_name = module.type()->name()->name();
  result.weights = options.source.weights;
  result.parameters = parameter_count(module);
  result.parameter_bytes = parameter_bytes(module);

  SaveOptions save;
  if (!specs.empty()) {
    save.check_inputs = random_inputs(specs, globals.seed);
    auto outputs = with_context(fmt::format("running {}.forward on --input", result.class_name),
                                [&] { return run_module(module, save.check_inputs); });
    for (auto& t : outputs) result.output_shapes.push_back(dims_text(t.sizes().vec()));
  } else if (ext == ".ptl") {
    log::warn("no --input given: the lite-interpreter file is not checked against the module");
  }
  nlohmann::json meta = {{"producer", "mlopt " + mlopt_version()},
                         {"command", "script"},
                         {"source", std::filesystem::path(options.source.path).filename().string()},
                         {"class", result.class_name},
                         {"init", options.source.init},
                         {"weights", options.source.weights}};
  std::vector<std::string> spec_texts;
  for (auto& s : specs) spec_texts.push_back(s.to_string());
  meta["input"] = spec_texts;
  save.metadata_json = meta.dump();
  SaveResult saved = save_module(module, options.output, save);
  result.output = saved.path;
  result.format = saved.format;
  result.size = saved.size;
  result.lite_checked = saved.lite_checked;
  result.lite_max_abs_diff = saved.lite_max_abs_diff;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

nlohmann::json ScriptResult::to_json() const {
  return {{"model", model},
          {"class", class_name},
          {"output", output},
          {"format", format},
          {"weights", weights.empty() ? nlohmann::json(nullptr) : nlohmann::json(weights)},
          {"parameters", parameters},
          {"parameter_bytes", parameter_bytes},
          {"size", size},
          {"output_shapes", output_shapes},
          {"lite_checked", lite_checked},
          {"lite_max_abs_diff", lite_max_abs_diff},
          {"seconds", seconds}};
}

std::string ScriptResult::to_text() const {
  std::string text = fmt::format("scripted {} ({}) -> {} [{}], {} parameters, {} bytes, {:.2f}s", class_name, model,
                                 output, format, parameters, size, seconds);
  text += weights.empty() ? "\n  weights: seeded initialization" : "\n  weights: " + weights;
  if (!output_shapes.empty()) text += fmt::format("\n  forward outputs: {}", fmt::join(output_shapes, ", "));
  if (lite_checked) text += fmt::format("\n  lite interpreter reproduces outputs (max abs diff {:.3g})", lite_max_abs_diff);
  return text + "\n";
}

}  // namespace mlopt
