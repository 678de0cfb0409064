#include "mlopt/registry/requests_file.h"

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <sstream>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/csv_table.h"
#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"

using nlohmann::json;

namespace mlopt::registry {
namespace {

int64_t row_numel(const RequestInput& input) {
  int64_t n = 1;
  for (auto d : input.shape) n *= d;
  return n;
}

at::Tensor as_rows(const at::Tensor& t, const RequestInput& input, const std::string& what) {
  const int64_t per_row = row_numel(input);
  if (per_row <= 0 || t.numel() % per_row != 0)
    fail("{}: {} has {} elements, not a whole number of rows of shape [{}]", what, input.name, t.numel(),
         fmt::join(input.shape, ", "));
  std::vector<int64_t> shape = {t.numel() / per_row};
  shape.insert(shape.end(), input.shape.begin(), input.shape.end());
  return t.to(at::kFloat).reshape(shape);
}

std::vector<at::Tensor> read_arrays(const std::string& path, const std::vector<RequestInput>& inputs) {
  const auto tensors = load_tensors(path);
  std::vector<at::Tensor> out;
  for (const auto& input : inputs)
    for (const auto& [name, tensor] : tensors)
      if (name == input.name) out.push_back(as_rows(tensor, input, path));
  if (out.size() == inputs.size()) return out;
  out.clear();
  // Unnamed arrays (a .npy, or `x` of a data set .npz): taken in order.
  std::vector<at::Tensor> features;
  for (const auto& [name, tensor] : tensors)
    if (name != "y") features.push_back(tensor);
  if (features.size() != inputs.size()) {
    std::string names;
    for (const auto& [name, tensor] : tensors) names += (names.empty() ? "" : ", ") + name;
    std::string wanted;
    for (const auto& input : inputs) wanted += (wanted.empty() ? "" : ", ") + input.name;
    fail("{}: expected arrays named {} (has {})", path, wanted, names);
  }
  for (size_t i = 0; i < inputs.size(); ++i) out.push_back(as_rows(features[i], inputs[i], path));
  return out;
}

std::vector<at::Tensor> read_csv(const std::string& path, const std::vector<RequestInput>& inputs) {
  const CsvTable table = read_numeric_csv(path);
  int64_t per_row = 0;
  for (const auto& input : inputs) per_row += row_numel(input);
  if (table.columns != per_row && table.columns != per_row + 1)
    fail("{}: {} columns per row; the model's inputs have {} elements (plus an optional label column)", path,
         table.columns, per_row);
  const at::Tensor all =
      at::from_blob(const_cast<double*>(table.values.data()), {table.rows, table.columns}, at::kDouble).clone();
  std::vector<at::Tensor> out;
  int64_t column = 0;
  for (const auto& input : inputs) {
    out.push_back(as_rows(all.slice(1, column, column + row_numel(input)).contiguous(), input, path));
    column += row_numel(input);
  }
  return out;
}

void flatten_numbers(const json& j, std::vector<double>& out, const std::string& where) {
  if (j.is_array()) {
    for (const auto& x : j) flatten_numbers(x, out, where);
  } else if (j.is_number() || j.is_boolean()) {
    out.push_back(j.get<double>());
  } else {
    fail("{}: expected numbers, got {}", where, j.dump().substr(0, 40));
  }
}

std::vector<at::Tensor> read_jsonl(const std::string& path, const std::vector<RequestInput>& inputs) {
  std::istringstream lines(read_maybe_gzipped(path));
  std::vector<std::vector<double>> values(inputs.size());
  std::string line;
  for (int64_t number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", path, number);
    const json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) fail("{}: not a JSON object", where);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const json* data = nullptr;
      if (request.contains("inputs") && request["inputs"].is_array()) {
        for (const auto& entry : request["inputs"])
          if (entry.is_object() && entry.value("name", "") == inputs[i].name && entry.contains("data"))
            data = &entry["data"];
        if (!data && inputs.size() == 1 && request["inputs"].size() == 1 && request["inputs"][0].is_object())
          data = &request["inputs"][0]["data"];
      } else if (request.contains(inputs[i].name)) {
        data = &request[inputs[i].name];
      }
      if (!data) fail("{}: no input '{}' (expected {{\"inputs\": [{{\"name\", \"shape\", \"data\"}}]}})", where, inputs[i].name);
      const size_t before = values[i].size();
      flatten_numbers(*data, values[i], where);
      if ((values[i].size() - before) % row_numel(inputs[i]) != 0)
        fail("{}: input '{}' has {} values, not whole rows of {}", where, inputs[i].name, values[i].size() - before,
             row_numel(inputs[i]));
    }
  }
  std::vector<at::Tensor> out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (values[i].empty()) fail("{}: no requests in the file", path);
    const at::Tensor t =
        at::from_blob(values[i].data(), {static_cast<int64_t>(values[i].size())}, at::kDouble).clone();
    out.push_back(as_rows(t, inputs[i], path));
  }
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<at::Tensor> read_requests(const std::string& path, const std::vector<RequestInput>& inputs) {
  if (!file_exists(path)) fail("{}: no such file", path);
  if (inputs.empty()) fail("{}: the baseline describes no inputs", path);
  std::vector<at::Tensor> out;
  if (ends_with(path, ".npz") || ends_with(path, ".npy")) out = read_arrays(path, inputs);
  else if (ends_with(path, ".csv") || ends_with(path, ".csv.gz")) out = read_csv(path, inputs);
  else if (ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz")) out = read_jsonl(path, inputs);
  else fail("{}: expected a .npz, .npy, .csv(.gz) or .jsonl(.gz) file of requests", path);
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].size(0) != out[0].size(0))
      fail("{}: input '{}' has {} rows, '{}' has {}", path, inputs[i].name, out[i].size(0), inputs[0].name, out[0].size(0));
  if (out.front().size(0) == 0) fail("{}: no request rows", path);
  return out;
}

std::vector<RequestInput> request_inputs_of(const json& baseline) {
  std::vector<RequestInput> inputs;
  for (const auto& input : baseline.value("inputs", json::array())) {
    RequestInput r;
    r.name = input.value("name", "input" + std::to_string(inputs.size()));
    for (const auto& d : input.value("shape", json::array()))
      if (d.is_number_integer()) r.shape.push_back(d.get<int64_t>());
    inputs.push_back(r);
  }
  return inputs;
}

}  // namespace mlopt::registry
