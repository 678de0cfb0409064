// If and Loop: subgraphs run in a scope that sees the enclosing graph's values.
#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/graph_runner.h"
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

bool truth(const OpContext& c, const at::Tensor& t, const char* what) {
  if (t.numel() != 1) c.fail(fmt::format("{} must hold one value, got {}", what, t.numel()));
  return t.reshape({-1})[0].item<double>() != 0;
}

Ts if_op(OpContext& c) {
  bool cond = truth(c, c.input(0), "the If condition");
  const auto& branch = c.attr_graph(cond ? "then_branch" : "else_branch");
  auto outputs = run_graph(branch, {}, c.scope, c.opset, fmt::format("If '{}' {}", c.node.name(), cond ? "then" : "else"));
  if (outputs.size() != c.output_count())
    c.fail(fmt::format("branch returns {} values, the node has {} outputs", outputs.size(), c.output_count()));
  return outputs;
}

// Loop(M, cond, v...): body(i, cond, v...) -> (cond, v..., scan...). Scan
// outputs are stacked along a new first axis.
Ts loop(OpContext& c) {
  const auto& body = c.attr_graph("body");
  int64_t max_trips = c.has_input(0) ? c.input(0).reshape({-1})[0].item<int64_t>() : INT64_MAX;
  bool cond = c.has_input(1) ? truth(c, c.input(1), "the Loop condition") : true;
  size_t carried = c.input_count() - 2;
  std::vector<at::Tensor> state(c.inputs.begin() + 2, c.inputs.end());
  size_t scans = static_cast<size_t>(body.output_size()) - 1 - carried;
  if (static_cast<size_t>(body.output_size()) < 1 + carried) c.fail("the Loop body has too few outputs");
  std::vector<std::vector<at::Tensor>> scan_values(scans);
  const int64_t kMaxTrips = int64_t{1} << 31;  // a runaway loop is an error, not a hang
  for (int64_t i = 0; i < max_trips && cond; ++i) {
    if (i >= kMaxTrips) c.fail("Loop ran 2^31 iterations without stopping");
    std::vector<at::Tensor> args = {torch::scalar_tensor(i, at::kLong), torch::scalar_tensor(cond, at::kBool)};
    args.insert(args.end(), state.begin(), state.end());
    auto out = run_graph(body, args, c.scope, c.opset, fmt::format("Loop '{}' body", c.node.name()));
    cond = truth(c, out[0], "the Loop body's condition output");
    for (size_t k = 0; k < carried; ++k) state[k] = out[1 + k];
    for (size_t k = 0; k < scans; ++k) scan_values[k].push_back(out[1 + carried + k]);
  }
  Ts results = state;
  for (auto& values : scan_values) {
    if (values.empty()) results.push_back(torch::empty({0}));
    else results.push_back(at::stack(values));
  }
  return results;
}

}  // namespace

REGISTER_ONNX_OP(if_op, "If");
REGISTER_ONNX_OP(loop, "Loop");

}  // namespace mlopt::onnx_eval
