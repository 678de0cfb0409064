#pragma once
// Small inline SVG charts for report.html (no scripts, no external files).
#include <optional>
#include <string>
#include <vector>

namespace mlopt::pipeline::svg {

struct Bar {
  std::string label;
  std::optional<double> value;  // missing: drawn as "not measured"
};

// Horizontal bars, one per label, with the value written at the bar's end.
std::string bar_chart(const std::string& title, const std::vector<Bar>& bars, const std::string& unit);

// One box per label from percentiles: min, p50, p90, p99, max (any may be missing).
struct Distribution {
  std::string label;
  std::optional<double> min, p50, p90, p99, max;
};
std::string distribution_chart(const std::string& title, const std::vector<Distribution>& rows, const std::string& unit);

std::string escape(const std::string& text);

}  // namespace mlopt::pipeline::svg
