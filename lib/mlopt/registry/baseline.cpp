#include "mlopt/registry/baseline.h"

#include <torch/script.h>

#include <filesystem>

#include "mlopt/core/error.h"
#include "mlopt/registry/row_stats.h"
#include "mlopt/runtime/runner.h"

using nlohmann::json;

namespace mlopt::registry {
namespace {

// p1..p99 of a tensor's elements (a strided sample of at most 1M of them).
json quantiles_of(const at::Tensor& t) {
  at::Tensor flat = t.reshape({-1}).to(at::kDouble);
  constexpr int64_t kMax = 1 << 20;
  if (flat.numel() > kMax) flat = flat.slice(0, 0, flat.numel(), (flat.numel() + kMax - 1) / kMax);
  const at::Tensor sorted = std::get<0>(flat.sort());
  json q = json::object();
  for (const int p : {1, 5, 25, 50, 75, 95, 99}) {
    const int64_t index = std::min<int64_t>(sorted.numel() - 1, (sorted.numel() - 1) * p / 100);
    q["p" + std::to_string(p)] = sorted[index].item<double>();
  }
  return q;
}

}  // namespace

json measure_baseline(const BaselineRequest& request) {
  DataOptions options = request.data_options;
  options.path = request.data;
  const Dataset data = load_dataset(options);
  at::Tensor x = data.x_val.defined() && data.x_val.numel() > 0 ? data.x_val : data.x;
  if (x.size(0) == 0) fail("{}: the data set has no rows for the baseline", request.data);
  if (!x.is_floating_point()) x = x.to(at::kFloat);
  auto runner = load_runner(request.artifact);
  StatsWindow window;
  with_context("measuring the baseline of " + request.artifact + " on " + request.data,
               [&] { run_into_window(*runner, {x}, 64, window); });
  std::vector<std::string> output_names = request.output_names;
  if (output_names.empty()) output_names = runner->output_names();
  json baseline = window.to_json(request.input_names, output_names);
  auto& input = baseline["inputs"][0];
  input["shape"] = std::vector<int64_t>(x.sizes().begin() + 1, x.sizes().end());
  input["dtype"] = "float32";
  input["quantiles"] = quantiles_of(x);
  baseline["data"] = {{"file", std::filesystem::path(request.data).filename().string()},
                      {"split", data.x_val.defined() && data.x_val.numel() > 0 ? "validation" : "all"},
                      {"rows", x.size(0)},
                      {"val_split", options.val_split},
                      {"split_seed", options.split_seed},
                      {"reshape", options.reshape},
                      {"scale", options.scale}};
  baseline["thresholds"] = request.thresholds.to_json();
  return baseline;
}

}  // namespace mlopt::registry
