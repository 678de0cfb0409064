// Activation ranges of a float ONNX graph on calibration batches.
#include "mlopt/quantize/onnx_calibrate.h"

#include <algorithm>

#include "mlopt/onnx/eval/evaluator.h"

namespace mlopt::quant {

namespace {

constexpr int64_t kBins = 2048;

// The model with `values` appended to its outputs (the evaluator returns them in order).
onnx::ModelProto exposing(const onnx::ModelProto& model, const std::vector<std::string>& values) {
  onnx::ModelProto copy = model;
  for (const auto& v : values) copy.mutable_graph()->add_output()->set_name(v);
  return copy;
}

}  // namespace

std::map<std::string, Range> calibrate_onnx(const onnx::ModelProto& model, const std::vector<std::string>& values,
                                            const std::vector<std::vector<at::Tensor>>& batches,
                                            const std::string& method, double percentile) {
  onnx_eval::Evaluator evaluator(exposing(model, values), "calibration graph");
  size_t first = static_cast<size_t>(model.graph().output_size());
  auto observed = [&](const std::vector<at::Tensor>& batch) {
    auto outs = evaluator.run(batch);
    return std::vector<at::Tensor>(outs.begin() + static_cast<std::ptrdiff_t>(first), outs.end());
  };
  // Pass 1: running min / max.
  std::vector<Range> ranges(values.size(), Range{1e30, -1e30});
  for (const auto& b : batches) {
    auto outs = observed(b);
    for (size_t i = 0; i < values.size(); ++i) {
      auto v = outs[i].to(at::kFloat);
      if (v.numel() == 0) continue;
      ranges[i].low = std::min(ranges[i].low, v.min().item<double>());
      ranges[i].high = std::max(ranges[i].high, v.max().item<double>());
    }
  }
  for (auto& r : ranges)
    if (r.low > r.high) r = Range{0, 0};
  std::map<std::string, Range> out;
  if (method == "minmax") {
    for (size_t i = 0; i < values.size(); ++i) out[values[i]] = ranges[i];
    return out;
  }
  // Pass 2: histograms over those ranges, then the clipping range.
  std::vector<at::Tensor> hist(values.size());
  for (auto& h : hist) h = at::zeros({kBins}, at::kDouble);
  for (const auto& b : batches) {
    auto outs = observed(b);
    for (size_t i = 0; i < values.size(); ++i) {
      if (ranges[i].high <= ranges[i].low) continue;
      hist[i] += at::histc(outs[i].to(at::kFloat).reshape({-1}), kBins, ranges[i].low, ranges[i].high).to(at::kDouble);
    }
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (ranges[i].high <= ranges[i].low) {
      out[values[i]] = ranges[i];
      continue;
    }
    auto h = hist[i].contiguous();
    std::vector<double> counts(h.data_ptr<double>(), h.data_ptr<double>() + kBins);
    out[values[i]] = method == "percentile" ? percentile_range(counts, ranges[i].low, ranges[i].high, percentile)
                                            : l2_optimal_range(counts, ranges[i].low, ranges[i].high);
  }
  return out;
}

}  // namespace mlopt::quant
