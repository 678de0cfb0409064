#include "mlopt/quantize/quality_check.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mlopt/core/error.h"
#include "mlopt/quantize/quantize_support.h"

namespace mlopt::quant_support {

namespace {

int64_t count_nonfinite(const at::Tensor& t) {
  if (!t.is_floating_point()) return 0;
  return (~at::isfinite(t)).sum().item<int64_t>();
}

bool sqnr_ok(const QuantizeOptions& o, const OutputQuality& q) {
  if (q.nonfinite > 0 || std::isnan(q.sqnr_db)) return false;
  return o.min_sqnr <= 0 || q.sqnr_db >= o.min_sqnr;
}

bool top1_ok(const QuantizeOptions& o, const OutputQuality& q) {
  if (q.detector) return o.min_top1 <= 0 || q.detection_agreement >= o.min_top1;
  if (!q.classifier || o.min_top1 <= 0) return true;
  auto clear = clear_samples(q, o.min_sqnr);
  return clear.samples < kMinTop1Samples || clear.agreement >= o.min_top1;
}

// "a (conv2d) 5.9 dB, b (linear) 21.0 dB": the quantized layers whose output
// SQNR alone is lowest, else (not measured) the quantized layers.
std::string blame(const std::vector<QuantizedLayer>& layers) {
  std::vector<const QuantizedLayer*> measured, quantized;
  for (const auto& l : layers) {
    if (!l.quantized) continue;
    quantized.push_back(&l);
    if (l.output_sqnr_db != 0) measured.push_back(&l);
  }
  std::string s;
  if (!measured.empty()) {
    std::stable_sort(measured.begin(), measured.end(),
                     [](const auto* a, const auto* b) { return a->output_sqnr_db < b->output_sqnr_db; });
    for (size_t i = 0; i < measured.size() && i < 3; ++i)
      s += fmt::format("{}{} ({}) {:.1f} dB", i ? ", " : "", measured[i]->name, measured[i]->kind,
                       measured[i]->output_sqnr_db);
    return "worst layers quantized alone: " + s;
  }
  for (size_t i = 0; i < quantized.size() && i < 4; ++i) s += (i ? ", " : "") + quantized[i]->name;
  if (quantized.size() > 4) s += fmt::format(" and {} more", quantized.size() - 4);
  return "quantized layers: " + s;
}

}  // namespace

OutputQuality measure_quality(const std::vector<at::Tensor>& float_outputs,
                              const std::vector<at::Tensor>& quantized_outputs) {
  OutputQuality q;
  for (const auto& t : quantized_outputs) q.nonfinite += count_nonfinite(t);
  q.sqnr_db = q.nonfinite > 0 ? std::numeric_limits<double>::quiet_NaN() : sqnr_db(float_outputs, quantized_outputs);
  q.classifier = !float_outputs.empty();
  for (size_t i = 0; i < float_outputs.size(); ++i)
    q.classifier = q.classifier && float_outputs[i].dim() == 2 && float_outputs[i].size(1) >= 2 &&
                   quantized_outputs[i].sizes().equals(float_outputs[i].sizes());
  if (!q.classifier) return q;
  int64_t agree = 0;
  for (size_t i = 0; i < float_outputs.size(); ++i) {
    auto f = float_outputs[i].to(at::kDouble);
    auto top2 = std::get<0>(f.topk(2, 1));
    auto lead = ((top2.select(1, 0) - top2.select(1, 1)) / f.pow(2).mean(1).sqrt().clamp_min(1e-30)).contiguous();
    auto same = float_outputs[i].argmax(1).eq(quantized_outputs[i].argmax(1)).contiguous();
    for (int64_t k = 0; k < f.size(0); ++k) {
      q.leads.push_back(lead[k].item<double>());
      q.agrees.push_back(same[k].item<bool>());
      agree += q.agrees.back() ? 1 : 0;
    }
    q.samples += f.size(0);
  }
  q.top1_agreement = q.samples ? static_cast<double>(agree) / static_cast<double>(q.samples) : 0;
  return q;
}

ClearSamples clear_samples(const OutputQuality& q, double min_sqnr_db) {
  const double lead = min_sqnr_db > 0 ? kClearLeadNoiseFactor * std::pow(10.0, -min_sqnr_db / 20.0) : 0.0;
  ClearSamples c;
  int64_t agree = 0;
  for (size_t k = 0; k < q.leads.size(); ++k) {
    if (!(q.leads[k] > lead)) continue;
    ++c.samples;
    agree += q.agrees[k] ? 1 : 0;
  }
  c.agreement = c.samples ? static_cast<double>(agree) / static_cast<double>(c.samples) : 0;
  return c;
}

OutputQuality measure_detection_quality(const MatchedDetections& matched, const std::vector<DetectionGroup>& groups) {
  OutputQuality q;
  q.detector = true;
  for (const auto& output : matched.got)
    for (const auto& t : output) q.nonfinite += count_nonfinite(t);
  q.sqnr_db = 200.0;
  for (const auto& g : groups)
    for (size_t k : {g.boxes, g.scores})
      q.sqnr_db = std::min(q.sqnr_db, sqnr_db(matched.reference.at(k), matched.got.at(k)));
  if (q.nonfinite > 0) q.sqnr_db = std::numeric_limits<double>::quiet_NaN();
  q.detection_agreement = matched.agreement;
  q.float_detections = matched.reference_detections;
  q.quantized_detections = matched.got_detections;
  q.matched_detections = matched.matched;
  q.detections_at_cut = matched.at_cut;
  return q;
}

bool quality_passes(const QuantizeOptions& options, const OutputQuality& q) {
  return sqnr_ok(options, q) && top1_ok(options, q);
}

bool apply_quality_floors(QuantizeResult& result, const QuantizeOptions& options, const OutputQuality& q) {
  result.output_sqnr_db = q.sqnr_db;
  result.min_sqnr_db = options.min_sqnr;
  result.min_top1 = options.min_top1;
  result.nonfinite_outputs = q.nonfinite;
  result.has_top1_agreement = q.classifier && q.samples >= kMinTop1Samples;
  result.top1_agreement = q.top1_agreement;
  result.top1_samples = q.samples;
  auto clear = clear_samples(q, options.min_sqnr);
  result.top1_clear_samples = clear.samples;
  result.top1_clear_agreement = clear.agreement;
  result.has_detection_agreement = q.detector;
  result.detection_agreement = q.detection_agreement;
  result.float_detections = q.float_detections;
  result.quantized_detections = q.quantized_detections;
  result.matched_detections = q.matched_detections;
  result.detections_at_cut = q.detections_at_cut;
  if (quality_passes(options, q)) return true;
  std::vector<std::string> what;
  if (q.nonfinite > 0)
    what.push_back(fmt::format("the quantized output holds {} NaN/Inf value(s) where the float output is finite",
                               q.nonfinite));
  else if (!sqnr_ok(options, q))
    what.push_back(fmt::format("{} SQNR vs float {:.1f} dB is under --min-sqnr {:g} dB",
                               q.detector ? "matched detections'" : "output", q.sqnr_db, options.min_sqnr));
  if (!top1_ok(options, q) && q.detector)
    what.push_back(fmt::format("detection agreement with float {:.1f}% ({} of {} float detections matched, {} "
                               "quantized, {} unmatched at the cut), under --min-top1 {:g}",
                               100.0 * q.detection_agreement, q.matched_detections, q.float_detections,
                               q.quantized_detections, q.detections_at_cut, options.min_top1));
  else if (!top1_ok(options, q))
    what.push_back(fmt::format("top-1 agrees with float on {:.1f}% of the {} samples whose float top-1 is clear "
                               "(of {}), under --min-top1 {:g}",
                               100.0 * clear.agreement, clear.samples, q.samples, options.min_top1));
  result.quality_ok = false;
  result.exit_code = kExitCheckFailed;
  result.quality_failure = fmt::format("{} artifact is badly wrong: {}; {}; nothing written to {} (lower the floor to keep it)",
                                       result.mode, fmt::join(what, "; "), blame(result.layers), options.output);
  result.warnings.push_back(result.quality_failure);
  return false;
}

void check_finite_data(const std::string& what, const at::Tensor& x) {
  int64_t bad = count_nonfinite(x);
  if (bad == 0) return;
  auto flat = (~at::isfinite(x)).reshape({x.size(0), -1}).any(1).nonzero();
  fail("{}: {} NaN/Inf value(s) (first in sample {}); clean the data set", what, bad, flat[0][0].item<int64_t>());
}

void check_finite_outputs(const std::vector<at::Tensor>& float_outputs, const std::string& what) {
  int64_t bad = 0;
  for (const auto& t : float_outputs) bad += count_nonfinite(t);
  if (bad)
    fail("the float model outputs {} NaN/Inf value(s) on {}: the quantized model cannot be compared with it", bad,
         what);
}

}  // namespace mlopt::quant_support
