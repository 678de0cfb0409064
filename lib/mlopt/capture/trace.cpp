#include "mlopt/core/written_paths.h"
#include "mlopt/capture/trace.h"

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <chrono>

#include <fmt/ranges.h>

#include "mlopt/capture/trace_check.h"
#include "mlopt/capture/trace_module.h"
#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/version.h"

namespace mlopt {
namespace {

void validate(const TraceOptions& options) {
  if (options.inputs.empty())
    fail_usage("trace needs one --input spec per forward argument, e.g. --input x:batch=1x3x32x32");
  std::string ext = extension_of(options.output);
  if (ext != ".pt" && ext != ".ptl")
    fail_usage("--output '{}': expected a .pt (TorchScript) or .ptl (lite interpreter) file", options.output);
  if (options.check_inputs < 0) fail_usage("--check-inputs must be 0 or more, got {}", options.check_inputs);
}

int64_t count_nodes(const torch::jit::Block& block) {
  int64_t n = 0;
  for (const auto* node : block.nodes()) {
    ++n;
    for (const auto* inner : node->blocks()) n += count_nodes(*inner);
  }
  return n;
}

std::string metadata_json(const TraceOptions& options, const TraceResult& result) {
  nlohmann::json meta = {
      {"producer", "mlopt " + mlopt_version()},
      {"command", "trace"},
      {"source", options.model.path},
      {"inputs", result.inputs},
      {"checked_inputs", result.checks.size()},
  };
  return meta.dump();
}

[[noreturn]] void fail_check(const TraceCheck& check) {
  std::string why = check.sizes_fixed ? "use `mlopt script` to keep dims dynamic, or give static input specs"
                                      : "the model's control flow depends on its inputs, which a trace fixes to the "
                                        "example; use `mlopt script` to keep it";
  throw Error(fmt::format("trace check failed on check input {} ({}): {}; {} (--no-check keeps this trace)",
                          check.index, fmt::join(check.inputs, " "), check.problem, why),
              kExitCheckFailed);
}

}  // namespace

TraceResult trace(const TraceOptions& options, const GlobalOptions& globals) {
  check_written_paths(options);
  validate(options);
  TraceResult result;
  result.model = options.model.path;
  result.output = options.output;
  auto specs = parse_input_specs(options.inputs);
  for (const auto& s : specs) result.inputs.push_back(s.to_string());

  torch::jit::Module source = load_model(options.model);
  auto examples = random_inputs(specs, globals.seed);
  auto started = std::chrono::steady_clock::now();
  torch::jit::Module traced = trace_module(source, examples);
  result.trace_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.graph_nodes = count_nodes(*traced.get_method("forward").graph()->block());
  result.parameters = parameter_count(traced);
  log::info("traced {} in {:.2f} s: {} nodes", options.model.path, result.trace_seconds, result.graph_nodes);

  if (!options.no_check && options.check_inputs > 0) {
    TraceCheckSettings settings{options.check_inputs, globals.seed, options.rtol, options.atol};
    result.checks = check_trace(source, traced, specs, settings);
    for (const auto& c : result.checks)
      if (!c.passed) fail_check(c);
    for (const auto& s : specs) result.dynamic_dims_checked = result.dynamic_dims_checked || s.has_dynamic_dims();
  }

  SaveOptions save;
  save.metadata_json = metadata_json(options, result);
  save.check_inputs = examples;
  save.check_rtol = options.rtol;
  save.check_atol = options.atol;
  SaveResult saved = save_module(traced, options.output, save);
  result.format = saved.format;
  result.size_bytes = saved.size;
  result.lite_checked = saved.lite_checked;
  return result;
}

nlohmann::json TraceResult::to_json() const {
  nlohmann::json checks_json = nlohmann::json::array();
  for (const auto& c : checks)
    checks_json.push_back({{"index", c.index}, {"inputs", c.inputs}, {"max_abs_diff", c.max_abs_diff}, {"passed", c.passed},
                           {"sizes_fixed", c.sizes_fixed}, {"problem", c.problem}});
  return {
      {"command", "trace"},     {"model", model},         {"output", output},
      {"format", format},       {"size_bytes", size_bytes}, {"inputs", inputs},
      {"graph_nodes", graph_nodes}, {"parameters", parameters}, {"trace_seconds", trace_seconds},
      {"checks", checks_json},  {"dynamic_dims_checked", dynamic_dims_checked}, {"lite_checked", lite_checked},
  };
}

std::string TraceResult::to_text() const {
  std::string text = fmt::format("traced {} -> {} ({}, {} bytes): {} graph nodes, {} parameters, {:.2f} s\n", model,
                                 output, format, size_bytes, graph_nodes, parameters, trace_seconds);
  if (checks.empty()) {
    text += "not checked (--no-check)\n";
  } else {
    double worst = 0;
    for (const auto& c : checks) worst = std::max(worst, c.max_abs_diff);
    text += fmt::format("checked on {} fresh input{}{}: max abs diff {:.3g}\n", checks.size(),
                        checks.size() == 1 ? "" : "s", dynamic_dims_checked ? " (dynamic dims at other sizes)" : "",
                        worst);
  }
  if (lite_checked) text += "lite-interpreter file reloaded and checked\n";
  return text;
}

}  // namespace mlopt
