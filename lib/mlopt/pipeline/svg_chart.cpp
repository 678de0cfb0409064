#include "mlopt/pipeline/svg_chart.h"

#include <algorithm>
#include <fmt/format.h>

namespace mlopt::pipeline::svg {

namespace {
constexpr int kWidth = 640, kLabelWidth = 200, kRowHeight = 26, kTop = 30, kValueWidth = 110;
constexpr int kPlotWidth = kWidth - kLabelWidth - kValueWidth;

std::string header(const std::string& title, int rows) {
  const int height = kTop + rows * kRowHeight + 10;
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
      "aria-label=\"{2}\"><text x=\"0\" y=\"18\" class=\"title\">{2}</text>\n",
      kWidth, height, escape(title));
}
}  // namespace

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string bar_chart(const std::string& title, const std::vector<Bar>& bars, const std::string& unit) {
  double top = 0;
  for (const auto& bar : bars)
    if (bar.value) top = std::max(top, *bar.value);
  std::string s = header(title, static_cast<int>(bars.size()));
  for (size_t i = 0; i < bars.size(); ++i) {
    const int y = kTop + static_cast<int>(i) * kRowHeight;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", kLabelWidth - 8, y + 16, escape(bars[i].label));
    if (!bars[i].value) {
      s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"missing\">not measured</text>\n", kLabelWidth, y + 16);
      continue;
    }
    const double w = top > 0 ? *bars[i].value / top * kPlotWidth : 0;
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" class=\"bar\"/>", kLabelWidth, y + 3,
                     std::max(w, 1.0), kRowHeight - 8);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{:.4g} {}</text>\n", kLabelWidth + w + 6, y + 16, *bars[i].value, escape(unit));
  }
  return s + "</svg>\n";
}

std::string distribution_chart(const std::string& title, const std::vector<Distribution>& rows, const std::string& unit) {
  double top = 0;
  for (const auto& r : rows)
    for (const auto& v : {r.min, r.p50, r.p90, r.p99, r.max})
      if (v) top = std::max(top, *v);
  auto x = [&](double v) { return kLabelWidth + (top > 0 ? v / top * kPlotWidth : 0); };
  std::string s = header(title, static_cast<int>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const int y = kTop + static_cast<int>(i) * kRowHeight, mid = y + kRowHeight / 2;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", kLabelWidth - 8, y + 16, escape(r.label));
    if (!r.p50) {
      s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"missing\">not profiled</text>\n", kLabelWidth, y + 16);
      continue;
    }
    const double lo = r.min.value_or(*r.p50), hi = r.max ? *r.max : r.p99.value_or(r.p90.value_or(*r.p50));
    const double box_hi = r.p90.value_or(*r.p50);
    // Whisker min..max, box p50..p90, tick at p99.
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" class=\"whisker\"/>", x(lo), x(hi), mid, mid);
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" class=\"box\"/>", x(*r.p50), y + 5,
                     std::max(x(box_hi) - x(*r.p50), 2.0), kRowHeight - 10);
    if (r.p99) s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" class=\"p99\"/>", x(*r.p99), y + 4, y + kRowHeight - 4);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\">p50 {:.3g} {}</text>\n", x(hi) + 6, y + 16, *r.p50, escape(unit));
  }
  return s + "</svg>\n";
}

}  // namespace mlopt::pipeline::svg
