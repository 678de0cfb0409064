#include "mlopt/core/libtorch_cause.h"
#include "mlopt/capture/trace_check.h"

#include <fmt/ranges.h>

#include <cmath>
#include <sstream>

#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"

namespace mlopt {
namespace {

// The largest |a - b| over all outputs; empty when shapes or counts differ.
std::string compare(const std::vector<at::Tensor>& want, const std::vector<at::Tensor>& got, double rtol, double atol,
                    double& max_abs_diff) {
  if (want.size() != got.size()) return fmt::format("the trace returns {} outputs, the model {}", got.size(), want.size());
  std::string problem;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want[i].sizes().equals(got[i].sizes()))
      return fmt::format("output {} has shape [{}] in the trace but [{}] in the model", i, fmt::join(got[i].sizes(), ", "),
                         fmt::join(want[i].sizes(), ", "));
    if (want[i].numel() == 0) continue;
    auto a = want[i].to(at::kDouble), b = got[i].to(at::kDouble);
    // NaN in both counts as equal; NaN in one only as an infinite difference.
    double diff = (a - b).abs().masked_fill(a.isnan() & b.isnan(), 0).max().item<double>();
    if (std::isnan(diff)) diff = INFINITY;
    max_abs_diff = std::max(max_abs_diff, diff);
    if (problem.empty() && !at::allclose(b, a, rtol, atol, /*equal_nan=*/true))
      problem = fmt::format("output {} differs from the model's, max abs diff {:.4g}", i, diff);
  }
  return problem;
}


// Runs the traced module; returns what went wrong, or "" when it matches `want`.
std::string compare_run(torch::jit::Module& traced, const std::vector<at::Tensor>& inputs,
                        const std::vector<at::Tensor>& want, const TraceCheckSettings& settings, double& max_abs_diff) {
  try {
    return compare(want, run_module(traced, inputs), settings.rtol, settings.atol, max_abs_diff);
  } catch (const c10::Error& e) {
    return fmt::format("the traced graph fails on it ({})", libtorch_cause(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return fmt::format("the traced graph fails on it ({})", libtorch_cause(e.what()));
  }
}

}  // namespace

std::vector<InputSpec> check_input_specs(const std::vector<InputSpec>& specs, int index) {
  std::vector<InputSpec> out = specs;
  for (auto& spec : out)
    for (auto& dim : spec.dims)
      if (dim.dynamic()) dim.size += index;
  return out;
}

std::vector<TraceCheck> check_trace(torch::jit::Module& source, torch::jit::Module& traced,
                                    const std::vector<InputSpec>& specs, const TraceCheckSettings& settings) {
  std::vector<TraceCheck> checks;
  bool has_dynamic_dims = false;
  for (const auto& s : specs) has_dynamic_dims = has_dynamic_dims || s.has_dynamic_dims();
  for (int i = 1; i <= settings.count; ++i) {
    TraceCheck check;
    check.index = i;
    auto check_specs = check_input_specs(specs, i);
    for (const auto& s : check_specs) check.inputs.push_back(s.to_string());
    auto inputs = random_inputs(check_specs, settings.seed + static_cast<uint64_t>(i));
    std::string shown = fmt::format("{}", fmt::join(check.inputs, " "));
    auto want = with_context(fmt::format("the model itself fails on check input {} ({})", i, shown),
                             [&] { return run_module(source, inputs); });
    check.problem = compare_run(traced, inputs, want, settings, check.max_abs_diff);
    check.passed = check.problem.empty();
    if (!check.passed && has_dynamic_dims) {
      // Same values at the example's sizes: if that matches, the trace fixed sizes, not a branch.
      auto same_size = random_inputs(specs, settings.seed + static_cast<uint64_t>(i));
      auto want_same = run_module(source, same_size);
      double ignored = 0;
      if (compare_run(traced, same_size, want_same, settings, ignored).empty()) {
        check.sizes_fixed = true;
        check.problem += "; at the example's sizes it matches, so the trace fixed a dynamic dim (the model reads "
                         "x.size()/x.shape, which a trace records as constants)";
      }
    }
    checks.push_back(check);
    if (!check.passed) break;
  }
  return checks;
}

}  // namespace mlopt
