#include "mlopt/runtime/input_cases.h"

#include "mlopt/core/error.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/shape_text.h"
#include "mlopt/core/tensor_file.h"

namespace mlopt {

std::string shape_label(const std::vector<InputSpec>& specs, const std::vector<at::Tensor>& inputs) {
  std::string out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i) out += ",";
    out += (i < specs.size() && !specs[i].name.empty() ? specs[i].name : "input" + std::to_string(i)) + ":";
    out += dims_text(inputs[i].sizes().vec());
  }
  return out;
}

std::vector<InputCase> random_cases(const std::vector<InputSpec>& specs, int samples,
                                    const std::vector<int64_t>& dynamic_sizes, uint64_t seed) {
  if (samples < 1) fail("--samples {}: expected 1 or more", samples);
  std::vector<std::vector<InputSpec>> shapes = {specs};
  for (int64_t size : dynamic_sizes) {
    std::vector<InputSpec> resized;
    for (const auto& s : specs) resized.push_back(s.with_dynamic_size(size));
    bool same = true;
    for (size_t i = 0; i < specs.size(); ++i) same = same && resized[i].shape() == specs[i].shape();
    if (!same) shapes.push_back(resized);
  }
  std::vector<InputCase> cases;
  uint64_t draw = 0;
  for (const auto& shape_specs : shapes) {
    for (int i = 0; i < samples; ++i) {
      InputCase c;
      c.inputs = random_inputs(shape_specs, seed + 1000003ULL * draw++);
      c.shape_label = shape_label(shape_specs, c.inputs);
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

InputCase file_case(const std::string& path, const std::vector<InputSpec>& specs) {
  auto named = load_tensors(path);
  InputCase c;
  if (named.empty()) fail("'{}': holds no arrays", path);
  bool by_name = !specs.empty();
  for (const auto& s : specs) {
    bool found = false;
    for (const auto& [n, t] : named) found = found || n == s.name;
    by_name = by_name && found;
  }
  if (by_name) {
    for (const auto& s : specs)
      for (const auto& [n, t] : named)
        if (n == s.name) c.inputs.push_back(t);
  } else {
    if (!specs.empty() && named.size() != specs.size()) {
      std::string names;
      for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
      fail("'{}': holds {} array(s) but the model takes {} input(s) ({}); name the npz arrays after the inputs", path,
           named.size(), specs.size(), names);
    }
    for (const auto& [n, t] : named) c.inputs.push_back(t);
  }
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (c.inputs[i].numel() == 0)
      fail("'{}': input {} has shape {} (no elements): there is nothing to compare; give at least one sample", path,
           i < specs.size() ? specs[i].name : std::to_string(i), c10::str(c.inputs[i].sizes()));
  c.shape_label = shape_label(specs, c.inputs);
  return c;
}

std::vector<InputCase> data_cases(const Dataset& data, int batch_size, int max_samples) {
  if (batch_size < 1) fail("--batch-size {}: expected 1 or more", batch_size);
  if (max_samples < 1) fail("--max-samples {}: expected 1 or more", max_samples);
  at::Tensor x = data.x_val.size(0) > 0 ? data.x_val : data.x;
  at::Tensor y = data.x_val.size(0) > 0 ? data.y_val : data.y;
  int64_t n = std::min<int64_t>(x.size(0), max_samples);
  std::vector<InputCase> cases;
  for (int64_t start = 0; start < n; start += batch_size) {
    int64_t len = std::min<int64_t>(batch_size, n - start);
    InputCase c;
    c.inputs = {x.narrow(0, start, len).contiguous()};
    if (y.defined()) c.labels = y.narrow(0, start, len);
    c.shape_label = "data batch";
    cases.push_back(std::move(c));
  }
  if (cases.empty()) fail("the data set has no samples");
  return cases;
}

}  // namespace mlopt
