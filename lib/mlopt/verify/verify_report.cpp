// VerifyResult as JSON (every metric) and as a short table with the verdict last.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "mlopt/core/log.h"
#include "mlopt/verify/verify.h"

namespace mlopt {

nlohmann::json VerifyResult::to_json() const {
  nlohmann::json shapes_json = nlohmann::json::array();
  for (const auto& s : shapes)
    shapes_json.push_back({{"shapes", s.shapes}, {"cases", s.cases}, {"passed", s.passed}, {"error", s.error}});
  nlohmann::json j = {{"passed", passed},
                      {"a", a},
                      {"b", b.empty() ? nlohmann::json(nullptr) : nlohmann::json(b)},
                      {"expected", expected.empty() ? nlohmann::json(nullptr) : nlohmann::json(expected)},
                      {"engine_a", engine_a},
                      {"engine_b", engine_b},
                      {"input_source", input_source},
                      {"cases", cases},
                      {"tolerance", tolerance.to_json()},
                      {"shapes", shapes_json},
                      {"output_count", {{"a", report.count_a}, {"b", report.count_b}, {"mismatch", report.count_mismatch}}},
                      {"outputs", report.to_json()["outputs"]},
                      {"failures", failures}};
  if (accuracy_a) j["accuracy_a"] = *accuracy_a;
  if (accuracy_b) j["accuracy_b"] = *accuracy_b;
  if (labelled_samples) j["labelled_samples"] = labelled_samples;
  return j;
}

std::string VerifyResult::to_text() const {
  std::string out;
  out += fmt::format("A: {} ({})\n", a, engine_a);
  out += fmt::format("B: {} ({})\n", b.empty() ? expected : b, engine_b);
  const std::string scale = tolerance.scale_atol > 0 ? fmt::format("+{:g}*max|B|", tolerance.scale_atol) : "";
  out += fmt::format("inputs: {}, {} case(s) at {} shape(s); tolerance for {}: rtol={:g} atol={:g}{} min-cosine={:g} min-top1={:g}\n",
                     input_source, cases, shapes.size(), tolerance.precision, tolerance.rtol, tolerance.atol, scale,
                     tolerance.min_cosine, tolerance.min_top1);
  out += fmt::format("{:<16} {:>11} {:>11} {:>11} {:>10} {:>9} {:>7}  {}\n", "output", "max abs", "max rel",
                     "mean abs", "cosine", "outside", "top-1", "");
  for (const auto& o : report.outputs) {
    std::string verdict = o.passed ? "ok" : "FAIL";
    if (o.shape_mismatch) {
      out += fmt::format("{:<16} shape mismatch  {}\n", o.name, verdict);
      continue;
    }
    if (o.dtype_mismatch) {
      out += fmt::format("{:<16} dtype {} vs {}  {}\n", o.name, o.dtype_a, o.dtype_b, verdict);
      continue;
    }
    out += fmt::format("{:<16} {:>11.3e} {:>11.3e} {:>11.3e} {:>10.6f} {:>8.3f}% {:>7}  {}\n", o.name, o.max_abs_error,
                       o.max_rel_error, o.mean_abs_error, o.cosine_similarity, 100 * o.outside_share,
                       o.top1_agreement ? fmt::format("{:.4f}", *o.top1_agreement) : "-", verdict);
  }
  if (accuracy_a)
    out += fmt::format("accuracy on {} labelled samples: A {:.4f}{}\n", labelled_samples, *accuracy_a,
                       accuracy_b ? fmt::format(", B {:.4f}", *accuracy_b) : "");
  for (const auto& f : failures) out += fmt::format("  - {}\n", f);
  out += passed ? log::green("PASS") + fmt::format(": outputs agree within tolerance\n")
                : log::red("FAIL") + fmt::format(": {} check(s) failed\n", failures.size());
  return out;
}

}  // namespace mlopt
