#pragma once
// The floors a quantized artifact must clear before it is written: output
// SQNR against the float model (--min-sqnr) and, for classifiers, top-1
// agreement with it (--min-top1; for detectors, detection agreement: see
// detection_match.h). A badly wrong artifact is exit 3 with the layers to
// blame, never a silent exit 0; NaN/Inf anywhere is never "a number".
#include <torch/script.h>

#include <string>
#include <vector>

#include "mlopt/core/detection_match.h"
#include "mlopt/quantize/quantize.h"

namespace mlopt::quant_support {

// Top-1 agreement is a floor only on at least this many samples (one flip in
// a handful of samples says nothing).
constexpr int64_t kMinTop1Samples = 16;

// The top-1 floor reads the samples whose float top-1 is clear: it leads the
// runner-up by more than output noise at the SQNR floor could make up. Noise at
// --min-sqnr D has an RMS of 10^(-D/20) of the logits' RMS on each logit; the
// gap between two logits moves by sqrt(2) of that, and a lead of twice this
// (2 sqrt(2) 10^(-D/20) of the RMS) flips with a chance of a few percent. A
// near tie (the flat logits of random inputs, say) flips for any int8 model,
// however good: there the SQNR floor speaks, and a flip is not a finding.
constexpr double kClearLeadNoiseFactor = 2.8284271247461903;  // 2 sqrt(2)

struct OutputQuality {
  double sqnr_db = 0;
  bool classifier = false;  // every output is [batch, classes >= 2]
  double top1_agreement = 0;  // over every sample
  int64_t samples = 0;
  // Per sample: float's top-1 lead over its runner-up, in units of the sample's
  // logit RMS, and whether the quantized top-1 agrees.
  std::vector<double> leads;
  std::vector<bool> agrees;
  int64_t nonfinite = 0;    // NaN/Inf values in the quantized outputs
  bool detector = false;    // a detector's outputs: sqnr_db is of the matched boxes and scores
  double detection_agreement = 0;
  int64_t float_detections = 0, quantized_detections = 0, matched_detections = 0, detections_at_cut = 0;
};

OutputQuality measure_quality(const std::vector<at::Tensor>& float_outputs,
                              const std::vector<at::Tensor>& quantized_outputs);
// A detector: the worse SQNR of the matched boxes and scores, and the match's agreement.
OutputQuality measure_detection_quality(const MatchedDetections& matched, const std::vector<DetectionGroup>& groups);
// The samples whose float top-1 is clear under the SQNR floor `min_sqnr_db`
// (every sample when the floor is off), and the top-1 agreement on them.
struct ClearSamples {
  int64_t samples = 0;
  double agreement = 0;
};
ClearSamples clear_samples(const OutputQuality& q, double min_sqnr_db);
// Whether `q` clears the floors of `options`.
bool quality_passes(const QuantizeOptions& options, const OutputQuality& q);
// Records the figures in `result`; on failure sets exit 3, quality_ok = false
// and a warning naming the worst layers (by their output SQNR alone, when
// measured). Returns whether it passed.
bool apply_quality_floors(QuantizeResult& result, const QuantizeOptions& options, const OutputQuality& q);

// One-line errors: NaN/Inf in a data set, or in the float model's own outputs.
void check_finite_data(const std::string& what, const at::Tensor& x);
void check_finite_outputs(const std::vector<at::Tensor>& float_outputs, const std::string& what);

}  // namespace mlopt::quant_support
