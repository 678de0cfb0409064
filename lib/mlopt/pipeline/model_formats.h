#pragma once
// Extra formats of a step's model (`save: [ptl, onnx]`) and the input/output
// signature recorded for each artifact in the manifest.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "mlopt/core/options.h"

namespace mlopt::pipeline {

// Writes `to` (.ptl) from the TorchScript archive `from`, checked on inputs made from `input_specs`.
void save_lite(const std::string& from, const std::string& to, const std::vector<std::string>& input_specs,
               uint64_t seed);

// {"inputs": [{name, shape, dtype}], "outputs": [{shape, dtype}]}: read from
// the ONNX graph, or found by running a TorchScript model once on example inputs.
nlohmann::json artifact_signature(const std::string& path, const std::vector<std::string>& input_specs, uint64_t seed);

// "torchscript", "torchscript-lite", "onnx" by extension.
std::string format_of(const std::string& path);

}  // namespace mlopt::pipeline
