#include "mlopt/registry/row_stats.h"

#include <torch/script.h>

#include "mlopt/core/error.h"
#include "mlopt/runtime/runner.h"

namespace mlopt::registry {
namespace {

bool is_classifier(const at::Tensor& t) { return t.dim() == 2 && t.size(1) >= 2 && t.is_floating_point(); }

at::Tensor probabilities(const at::Tensor& output) {
  const at::Tensor x = output.to(at::kDouble);
  const bool already = x.min().item<double>() >= 0 && x.max().item<double>() <= 1 &&
                       (x.sum(1) - 1).abs().max().item<double>() < 1e-3;
  return already ? x : at::softmax(x, 1);
}

}  // namespace

std::vector<RowStats> row_stats(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs) {
  if (inputs.empty()) return {};
  const int64_t n = inputs.front().dim() > 0 ? inputs.front().size(0) : 1;
  std::vector<RowStats> rows(n);
  for (const auto& input : inputs) {
    const at::Tensor flat = input.reshape({n, -1}).to(at::kDouble);
    const at::Tensor sums = flat.sum(1), squares = (flat * flat).sum(1);
    const auto s = sums.accessor<double, 1>();
    const auto q = squares.accessor<double, 1>();
    for (int64_t r = 0; r < n; ++r) rows[r].inputs.push_back({s[r], q[r], flat.size(1)});
  }
  for (const auto& output : outputs) {
    if (output.dim() == 0 || output.size(0) != n) {
      for (auto& row : rows) row.outputs.push_back({-1, 0, 0});
      continue;
    }
    if (is_classifier(output)) {
      const auto [top, index] = probabilities(output).max(1);
      const auto p = top.accessor<double, 1>();
      const auto k = index.accessor<int64_t, 1>();
      for (int64_t r = 0; r < n; ++r) rows[r].outputs.push_back({k[r], p[r], 0, output.size(1)});
    } else {
      const at::Tensor means = output.reshape({n, -1}).to(at::kDouble).mean(1);
      const auto m = means.accessor<double, 1>();
      for (int64_t r = 0; r < n; ++r) rows[r].outputs.push_back({-1, 0, m[r]});
    }
  }
  return rows;
}

void run_into_window(Runner& runner, const std::vector<at::Tensor>& inputs, int64_t batch_size, StatsWindow& window) {
  if (inputs.empty()) fail("no inputs to run");
  const int64_t n = inputs.front().size(0);
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    std::vector<at::Tensor> batch;
    for (const auto& input : inputs) batch.push_back(input.slice(0, start, end));
    std::vector<at::Tensor> outputs;
    {
      c10::InferenceMode guard;
      outputs = runner.run(batch);
    }
    for (const auto& row : row_stats(batch, outputs)) window.add(row);
  }
}

}  // namespace mlopt::registry
