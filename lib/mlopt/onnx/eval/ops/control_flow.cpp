// If, Loop and Scan: subgraphs run in a scope that sees the enclosing graph's values.
#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/graph_runner.h"
#include "mlopt/onnx/eval/loop_budget.h"
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
  for (int64_t i = 0; i < max_trips && cond; ++i) {
    count_loop_iteration(c, max_trips);  // a runaway loop is an error, not a hang
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

// Scan (opset 9+): body(state..., one slice of each scan input) ->
// (state..., one slice of each scan output), over the scan inputs' axis.
Ts scan(OpContext& c) {
  if (c.opset < 9) c.fail("Scan before opset 9 (batched, with sequence_lens) is not supported");
  const auto& body = c.attr_graph("body");
  auto scans_in = static_cast<size_t>(c.attr_int("num_scan_inputs", 0));
  if (scans_in < 1 || scans_in > c.input_count()) c.fail("num_scan_inputs must be between 1 and the input count");
  size_t carried = c.input_count() - scans_in;
  if (static_cast<size_t>(body.output_size()) < carried) c.fail("the Scan body has fewer outputs than states");
  size_t scans_out = static_cast<size_t>(body.output_size()) - carried;
  auto in_axes = c.attr_ints("scan_input_axes", std::vector<int64_t>(scans_in, 0));
  auto in_reverse = c.attr_ints("scan_input_directions", std::vector<int64_t>(scans_in, 0));
  auto out_axes = c.attr_ints("scan_output_axes", std::vector<int64_t>(scans_out, 0));
  auto out_reverse = c.attr_ints("scan_output_directions", std::vector<int64_t>(scans_out, 0));
  if (in_axes.size() != scans_in || in_reverse.size() != scans_in || out_axes.size() != scans_out ||
      out_reverse.size() != scans_out)
    c.fail("the scan axes and directions must have one entry per scan input and output");
  int64_t steps = -1;
  for (size_t j = 0; j < scans_in; ++j) {
    const auto& x = c.input(carried + j);
    in_axes[j] = normalize_axis(in_axes[j], x.dim(), c);
    if (steps >= 0 && x.size(in_axes[j]) != steps) c.fail("the scan inputs differ in length along their axes");
    steps = x.size(in_axes[j]);
  }
  std::vector<at::Tensor> state(c.inputs.begin(), c.inputs.begin() + static_cast<std::ptrdiff_t>(carried));
  std::vector<std::vector<at::Tensor>> slices(scans_out);
  for (int64_t t = 0; t < steps; ++t) {
    std::vector<at::Tensor> args = state;
    for (size_t j = 0; j < scans_in; ++j)
      args.push_back(c.input(carried + j).select(in_axes[j], in_reverse[j] ? steps - 1 - t : t));
    auto out = run_graph(body, args, c.scope, c.opset, fmt::format("Scan '{}' body", c.node.name()));
    for (size_t k = 0; k < carried; ++k) state[k] = out[k];
    for (size_t k = 0; k < scans_out; ++k) slices[k].push_back(out[carried + k]);
  }
  Ts results = state;
  for (size_t k = 0; k < scans_out; ++k) {
    if (slices[k].empty()) c.fail("a Scan over zero steps has no output shape");
    if (out_reverse[k]) std::reverse(slices[k].begin(), slices[k].end());
    results.push_back(at::stack(slices[k], normalize_axis(out_axes[k], slices[k][0].dim() + 1, c)));
  }
  return results;
}

}  // namespace

REGISTER_ONNX_OP({"If"}, if_op);
REGISTER_ONNX_OP({"Scan"}, scan);
REGISTER_ONNX_OP({"Loop"}, loop);

}  // namespace mlopt::onnx_eval
