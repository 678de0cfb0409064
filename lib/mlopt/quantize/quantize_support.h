#pragma once
// Pieces of `mlopt quantize` shared by the driver (driver.h) and its back
// ends (TorchScript, ONNX): data sets, metrics, option checks.
#include <torch/script.h>

#include <set>
#include <string>
#include <vector>

#include "mlopt/core/input_spec.h"
#include "mlopt/quantize/quantize.h"
#include "mlopt/quantize/weight_granularity.h"

namespace mlopt::quant_support {

using Batch = std::vector<at::Tensor>;
// A model's outputs on a list of batches, by output then batch: outputs[k][b] is
// output k (float32) of batch b. outputs[0] is what accuracy and the quality floors
// read; a layer's SQNR alone reads every output (a head may feed only the second).
using Outputs = std::vector<std::vector<at::Tensor>>;

struct Evaluation {
  bool labelled = false;
  at::Tensor labels;
  std::vector<Batch> batches;
  std::vector<at::Tensor> float_outputs;
};

struct QuantizeData {
  std::vector<Batch> calibration;  // static: --calibration, else eval data or random inputs (with a warning)
  Evaluation evaluation;           // --eval
  std::vector<Batch> reference;    // inputs for SQNR (eval, else calibration, else random)
  std::string reference_what;
};

// Option values (no file access); usage errors.
void check_options(const QuantizeOptions& o);
QuantizeData load_quantize_data(const QuantizeOptions& options, const std::vector<InputSpec>& specs, uint64_t seed,
                                std::vector<std::string>& warnings);
// Input specs: --input, else the .pt archive's metadata.
std::vector<InputSpec> input_specs(const QuantizeOptions& o);
// The data's per-sample shape must be the single input spec's (the batch dim aside); one line naming `what`.
void check_sample_shape(const std::string& what, const at::Tensor& x, const std::vector<InputSpec>& specs);
bool matches_any(const std::string& name, const std::vector<std::string>& patterns, std::string* which = nullptr);
double sqnr_db(const std::vector<at::Tensor>& reference, const std::vector<at::Tensor>& got);
// The SQNR of a model with one layer changed, on the outputs that layer feeds:
// the worst of the outputs that changed (`which`: its index; -1 and 200 dB when
// none changed, i.e. no noise anywhere). Outputs not finite in float are left out.
double sqnr_on_changed_outputs(const Outputs& reference, const Outputs& got, int* which);
// Top-1 accuracy with labels; agreement with the float model's top-1 without (percent).
double accuracy(const Evaluation& e, const std::vector<at::Tensor>& outputs);
std::string candidate_path(const std::string& output);
// After the accuracy-budget search: marks the layers sent back to float, and
// when the budget still does not fit, redirects the artifact to the clearly
// named best candidate with exit code 3. Returns the path to write.
std::string apply_budget_outcome(QuantizeResult& result, const std::set<std::string>& fallback, double budget,
                                 const std::string& output, const std::string& unit);
std::string last_line(const std::string& text);

struct WeightError {
  double relative = 0, sqnr_db = 0;
};
// int8: symmetric, per row or per tensor as `granularity` chooses for each
// weight, or with `row_affine` uint8 rows with their own scale and offset
// (embedding tables).
WeightError weight_error(const std::vector<at::Tensor>& weights, quant::Granularity granularity,
                         const std::string& mode, bool row_affine = false);

}  // namespace mlopt::quant_support

