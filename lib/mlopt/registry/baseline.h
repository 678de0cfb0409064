#pragma once
// The baseline of a version: its served artifact run over the validation split
// of its data set at publish. baseline.json holds the same summary as a drift
// window (drift.h: per input mean/std, per output the predicted-class
// distribution and confidence histogram, or mean/std) plus input quantiles,
// the data it came from, and the drift thresholds of the model.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "mlopt/core/dataset.h"
#include "mlopt/registry/drift.h"

namespace mlopt::registry {

struct BaselineRequest {
  std::string artifact;                   // .pt/.ptl/.onnx
  std::vector<std::string> input_names;   // of the artifact (empty: input0, ...)
  std::vector<std::string> output_names;  // of the artifact (empty: output0, ...)
  std::string data;                       // the data set file
  DataOptions data_options;               // its reshape/scale/split
  Thresholds thresholds;
};

nlohmann::json measure_baseline(const BaselineRequest& request);

}  // namespace mlopt::registry
