#include "mlopt/serve/drift_rows.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mlopt::serving {
namespace {

template <class T>
void append(const std::string& bytes, std::vector<double>& out) {
  const size_t n = bytes.size() / sizeof(T);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, bytes.data() + i * sizeof(T), sizeof(T));
    out.push_back(static_cast<double>(v));
  }
}

// The elements as doubles; empty for a datatype without a plain numeric layout (FP16, BYTES).
std::vector<double> values_of(const HostTensor& t) {
  std::vector<double> v;
  const std::string& d = t.datatype;
  if (d == "FP32") append<float>(t.bytes, v);
  else if (d == "FP64") append<double>(t.bytes, v);
  else if (d == "INT64") append<int64_t>(t.bytes, v);
  else if (d == "INT32") append<int32_t>(t.bytes, v);
  else if (d == "INT16") append<int16_t>(t.bytes, v);
  else if (d == "INT8") append<int8_t>(t.bytes, v);
  else if (d == "UINT8" || d == "BOOL") append<uint8_t>(t.bytes, v);
  return v;
}

int64_t rows_of(const HostTensor& t) { return t.shape.empty() ? 1 : std::max<int64_t>(t.shape[0], 0); }

}  // namespace

std::vector<registry::RowStats> drift_rows(const std::vector<HostTensor>& inputs,
                                           const std::vector<HostTensor>& outputs) {
  if (inputs.empty()) return {};
  const int64_t n = rows_of(inputs.front());
  std::vector<registry::RowStats> rows(n);
  for (const auto& input : inputs) {
    const auto v = values_of(input);
    const int64_t per_row = n > 0 ? static_cast<int64_t>(v.size()) / n : 0;
    for (int64_t r = 0; r < n; ++r) {
      registry::RowStats::Input s;
      for (int64_t i = r * per_row; i < (r + 1) * per_row; ++i) {
        s.sum += v[i];
        s.sum_sq += v[i] * v[i];
      }
      s.count = per_row;
      rows[r].inputs.push_back(s);
    }
  }
  for (const auto& output : outputs) {
    const auto v = values_of(output);
    const bool floating = output.datatype == "FP32" || output.datatype == "FP64";
    const bool classifier = floating && output.shape.size() == 2 && output.shape[1] >= 2 && rows_of(output) == n;
    const int64_t per_row = n > 0 && !v.empty() ? static_cast<int64_t>(v.size()) / n : 0;
    for (int64_t r = 0; r < n; ++r) {
      registry::RowStats::Output o;
      if (per_row == 0) {
        rows[r].outputs.push_back(o);
        continue;
      }
      const double* row = v.data() + r * per_row;
      if (classifier) {
        // Probabilities already (each in [0, 1], summing to 1), else logits.
        double sum = 0, lo = row[0], hi = row[0];
        for (int64_t i = 0; i < per_row; ++i) {
          sum += row[i];
          lo = std::min(lo, row[i]);
          hi = std::max(hi, row[i]);
        }
        const bool probabilities = lo >= 0 && hi <= 1 && std::abs(sum - 1) < 1e-3;
        const int64_t top = std::max_element(row, row + per_row) - row;
        double p = row[top];
        if (!probabilities) {
          double z = 0;
          for (int64_t i = 0; i < per_row; ++i) z += std::exp(row[i] - hi);
          p = 1 / z;  // exp(hi - hi) / z
        }
        o.predicted = top;
        o.confidence = p;
        o.classes = per_row;
      } else {
        double sum = 0;
        for (int64_t i = 0; i < per_row; ++i) sum += row[i];
        o.value = sum / static_cast<double>(per_row);
      }
      rows[r].outputs.push_back(o);
    }
  }
  return rows;
}

}  // namespace mlopt::serving
