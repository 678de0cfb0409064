#include "mlopt/verify/compare.h"

#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "mlopt/core/error.h"
#include "mlopt/core/shape_text.h"
#include "mlopt/core/tensor_file.h"

namespace mlopt {
namespace {

enum class Kind { kFloat, kInteger, kBool, kOther };

Kind kind_of(const at::Tensor& t) {
  if (t.scalar_type() == at::kBool) return Kind::kBool;
  if (t.is_floating_point()) return Kind::kFloat;
  if (c10::isIntegralType(t.scalar_type(), /*includeBool=*/false)) return Kind::kInteger;
  return Kind::kOther;
}

at::Tensor plain(const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU);
  if (c.is_quantized()) c = c.dequantize();
  return c.contiguous();
}


// Error metrics over the elements, in float64. Elements equal in both (inf
// included) and NaN in both count as equal; NaN in one only counts as outside
// tolerance with an infinite error.
void measure_errors(OutputComparison& r, const at::Tensor& a, const at::Tensor& b, double rtol, double atol,
                    double scale_atol) {
  auto ad = a.to(at::kDouble).reshape({-1}), bd = b.to(at::kDouble).reshape({-1});
  auto finite_b = bd.isfinite();
  if (scale_atol > 0 && finite_b.any().item<bool>())
    atol += scale_atol * bd.masked_select(finite_b).abs().max().item<double>();
  r.atol_used = atol;
  auto nan_a = ad.isnan(), nan_b = bd.isnan();
  auto same = ad.eq(bd).logical_or(nan_a.logical_and(nan_b));
  auto diff = (ad - bd).abs().masked_fill(same, 0.0).nan_to_num(std::numeric_limits<double>::infinity(),
                                                               std::numeric_limits<double>::infinity());
  auto outside = diff.gt(bd.abs().nan_to_num(0.0, 0.0, 0.0) * rtol + atol);
  r.outside_count = outside.sum().item<int64_t>();
  r.outside_share = static_cast<double>(r.outside_count) / static_cast<double>(r.elements);
  r.max_abs_error = diff.max().item<double>();
  r.abs_error_sum = diff.sum().item<double>();
  r.mean_abs_error = r.abs_error_sum / static_cast<double>(r.elements);
  auto nonzero = bd.ne(0).logical_and(bd.isfinite());
  r.max_rel_error = nonzero.any().item<bool>() ? (diff.masked_select(nonzero) / bd.masked_select(nonzero).abs()).max().item<double>() : 0.0;
  // Cosine over the elements finite in both.
  auto finite = ad.isfinite().logical_and(bd.isfinite());
  auto af = ad.masked_select(finite), bf = bd.masked_select(finite);
  r.dot = (af * bf).sum().item<double>();
  r.norm_a2 = (af * af).sum().item<double>();
  r.norm_b2 = (bf * bf).sum().item<double>();
}

double cosine_of(double dot, double aa, double bb) {
  if (aa == 0 && bb == 0) return 1.0;  // both all-zero: identical
  if (aa == 0 || bb == 0) return 0.0;
  return dot / (std::sqrt(aa) * std::sqrt(bb));
}

void judge(OutputComparison& r, const Tolerance& tol, bool floating, bool exact) {
  r.failures.clear();
  if (r.shape_mismatch) {
    r.failures.push_back(fmt::format("{}: shape {} vs {}", r.name, "[" + dims_text(r.shape_a) + "]", "[" + dims_text(r.shape_b) + "]"));
  } else if (r.dtype_mismatch) {
    r.failures.push_back(fmt::format("{}: dtype {} vs {}", r.name, r.dtype_a, r.dtype_b));
  } else if (r.elements > 0) {
    double allowed = exact ? 0.0 : tol.max_outside;
    if (r.outside_share > allowed)
      r.failures.push_back(fmt::format("{}: {} of {} elements ({:.3g}%) outside rtol={:g} atol={:.3g} (max abs error {:.3g})",
                                       r.name, r.outside_count, r.elements, 100 * r.outside_share, exact ? 0.0 : tol.rtol,
                                       exact ? 0.0 : r.atol_used, r.max_abs_error));
    if (floating && r.cosine_similarity < tol.min_cosine)
      r.failures.push_back(fmt::format("{}: cosine similarity {:.6f} below {:g}", r.name, r.cosine_similarity, tol.min_cosine));
    if (r.top1_agreement && *r.top1_agreement < tol.min_top1)
      r.failures.push_back(fmt::format("{}: top-1 agreement {:.4f} below {:g}", r.name, *r.top1_agreement, tol.min_top1));
  }
  r.passed = r.failures.empty();
}

}  // namespace

Tolerance Tolerance::for_precision(const std::string& precision) {
  Tolerance t;
  t.precision = precision;
  if (precision == "fp32") return t;
  t.scale_atol = 0;  // the looser precisions' own atol and rtol dominate
  if (precision == "fp16") {
    t.rtol = 1e-2, t.atol = 1e-3, t.min_cosine = 0.999, t.min_top1 = 0.98;
  } else if (precision == "bf16") {
    t.rtol = 5e-2, t.atol = 1e-2, t.min_cosine = 0.995, t.min_top1 = 0.95;
  } else if (precision == "int8") {
    // Quantization error scales with the output range, so element-wise
    // tolerance is reported but the gate is the overall agreement.
    t.rtol = 1e-1, t.atol = 1e-1, t.max_outside = 1.0, t.min_cosine = 0.99, t.min_top1 = 0.9;
  } else {
    fail("precision '{}': expected fp32, fp16, bf16 or int8", precision);
  }
  return t;
}

nlohmann::json Tolerance::to_json() const {
  return {{"precision", precision}, {"rtol", rtol},         {"atol", atol}, {"scale_atol", scale_atol},
          {"min_cosine", min_cosine}, {"min_top1", min_top1}, {"max_outside", max_outside}};
}

OutputComparison compare_tensors(const std::string& name, const at::Tensor& a_in, const at::Tensor& b_in,
                                 const Tolerance& tol, bool logits) {
  OutputComparison r;
  r.name = name;
  at::Tensor a = plain(a_in), b = plain(b_in);
  r.shape_a = a.sizes().vec();
  r.shape_b = b.sizes().vec();
  r.dtype_a = dtype_name(a.scalar_type());
  r.dtype_b = dtype_name(b.scalar_type());
  Kind ka = kind_of(a), kb = kind_of(b);
  r.dtype_mismatch = ka != kb || ka == Kind::kOther;
  r.dtype_differs = r.dtype_a != r.dtype_b;
  r.shape_mismatch = r.shape_a != r.shape_b;
  bool floating = ka == Kind::kFloat && kb == Kind::kFloat;
  if (!r.shape_mismatch && !r.dtype_mismatch) {
    r.elements = a.numel();
    if (r.elements > 0) {
      // Integer and bool outputs (indices, masks) must match exactly.
      measure_errors(r, a, b, floating ? tol.rtol : 0.0, floating ? tol.atol : 0.0, floating ? tol.scale_atol : 0.0);
      r.cosine_similarity = cosine_of(r.dot, r.norm_a2, r.norm_b2);
    }
    if (logits && floating && a.dim() == 2 && a.size(1) >= 2 && a.size(0) > 0) {
      r.classifier = true;
      r.rows = a.size(0);
      r.top1_agree = a.argmax(1).eq(b.argmax(1)).sum().item<int64_t>();
      r.top1_agreement = static_cast<double>(r.top1_agree) / static_cast<double>(r.rows);
    }
  }
  judge(r, tol, floating, !floating);
  return r;
}

ComparisonReport compare_outputs(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b,
                                 const Tolerance& tol, const std::vector<std::string>& names,
                                 const std::vector<size_t>& not_logits,
                                 const std::map<size_t, Tolerance>& per_output) {
  ComparisonReport report;
  report.count_a = static_cast<int64_t>(a.size());
  report.count_b = static_cast<int64_t>(b.size());
  report.count_mismatch = a.size() != b.size();
  if (report.count_mismatch)
    report.failures.push_back(fmt::format("output count {} vs {}", a.size(), b.size()));
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    std::string name = i < names.size() && !names[i].empty() ? names[i] : "output" + std::to_string(i);
    bool logits = std::find(not_logits.begin(), not_logits.end(), i) == not_logits.end();
    auto own = per_output.find(i);
    report.outputs.push_back(compare_tensors(name, a[i], b[i], own == per_output.end() ? tol : own->second, logits));
    for (const auto& f : report.outputs.back().failures) report.failures.push_back(f);
  }
  report.passed = report.failures.empty();
  return report;
}

OutputComparison merge_comparisons(const std::vector<OutputComparison>& parts, const Tolerance& tol) {
  if (parts.empty()) fail("merge_comparisons: nothing to merge");
  OutputComparison m = parts.front();
  bool floating = true, exact = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto& p = parts[i];
    m.shape_mismatch = m.shape_mismatch || p.shape_mismatch;
    m.dtype_mismatch = m.dtype_mismatch || p.dtype_mismatch;
    m.dtype_differs = m.dtype_differs || p.dtype_differs;
    if (p.shape_mismatch && !parts.front().shape_mismatch) m.shape_a = p.shape_a, m.shape_b = p.shape_b;
    m.elements += p.elements;
    m.max_abs_error = std::max(m.max_abs_error, p.max_abs_error);
    m.max_rel_error = std::max(m.max_rel_error, p.max_rel_error);
    m.abs_error_sum += p.abs_error_sum;
    m.outside_count += p.outside_count;
    m.atol_used = std::max(m.atol_used, p.atol_used);
    m.dot += p.dot, m.norm_a2 += p.norm_a2, m.norm_b2 += p.norm_b2;
    m.classifier = m.classifier && p.classifier;
    m.rows += p.rows;
    m.top1_agree += p.top1_agree;
  }
  if (m.elements > 0) {
    m.mean_abs_error = m.abs_error_sum / static_cast<double>(m.elements);
    m.outside_share = static_cast<double>(m.outside_count) / static_cast<double>(m.elements);
    m.cosine_similarity = cosine_of(m.dot, m.norm_a2, m.norm_b2);
  }
  if (m.classifier && m.rows > 0) m.top1_agreement = static_cast<double>(m.top1_agree) / static_cast<double>(m.rows);
  else m.top1_agreement.reset();
  floating = m.dtype_a.rfind("float", 0) == 0 || m.dtype_a == "bfloat16";
  exact = !floating;
  judge(m, tol, floating, exact);
  return m;
}

nlohmann::json OutputComparison::to_json() const {
  nlohmann::json j = {{"name", name},
                      {"passed", passed},
                      {"shape_a", shape_a},
                      {"shape_b", shape_b},
                      {"dtype_a", dtype_a},
                      {"dtype_b", dtype_b},
                      {"shape_mismatch", shape_mismatch},
                      {"dtype_mismatch", dtype_mismatch},
                      {"elements", elements},
                      {"max_abs_error", max_abs_error},
                      {"max_rel_error", max_rel_error},
                      {"mean_abs_error", mean_abs_error},
                      {"cosine_similarity", cosine_similarity},
                      {"outside_count", outside_count},
                      {"outside_share", outside_share},
                      {"atol_used", atol_used},
                      {"classifier", classifier},
                      {"failures", failures}};
  j["top1_agreement"] = top1_agreement ? nlohmann::json(*top1_agreement) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json ComparisonReport::to_json() const {
  nlohmann::json outs = nlohmann::json::array();
  for (const auto& o : outputs) outs.push_back(o.to_json());
  return {{"passed", passed}, {"count_a", count_a}, {"count_b", count_b}, {"count_mismatch", count_mismatch},
          {"outputs", outs},  {"failures", failures}};
}

}  // namespace mlopt
