#include "mlopt/quantize/observers.h"

#include <cmath>
#include <limits>

namespace mlopt::quant {

namespace {

constexpr const char* kActivationObserverSource = R"JIT(
def forward(self, x: Tensor) -> Tensor:
    if x.numel() > 0:
        v = x.detach().float()
        if self.collect_histogram:
            self.histogram = self.histogram + torch.histc(v, self.bins, self.hist_min, self.hist_max)
        else:
            self.min_val = torch.minimum(torch.min(v), self.min_val)
            self.max_val = torch.maximum(torch.max(v), self.max_val)
    return x

def calculate_qparams(self) -> Tuple[Tensor, Tensor]:
    return self.scale, self.zero_point
)JIT";

// Symmetric int8: scale = max|w| / 127 per output channel (axis 0) or per tensor.
constexpr const char* kWeightObserverSource = R"JIT(
def forward(self, w: Tensor) -> Tensor:
    v = w.detach().float()
    if self.per_channel:
        amax = torch.amax(torch.abs(v.reshape([v.size(0), -1])), [1])
    else:
        amax = torch.max(torch.abs(v)).reshape([1])
    scale = torch.clamp(amax / 127.0, 1e-8)
    self.scale = scale
    self.zero_point = torch.zeros([scale.numel()], dtype=4)  # int64
    return w

def calculate_qparams(self) -> Tuple[Tensor, Tensor]:
    return self.scale, self.zero_point
)JIT";

constexpr const char* kPlaceholderSource = R"JIT(
def forward(self, x: Tensor) -> Tensor:
    return x

def calculate_qparams(self) -> Tuple[Tensor, Tensor]:
    return torch.ones([1]), torch.zeros([1], dtype=4)  # int64
)JIT";

constexpr const char* kActivationClass = "__torch__.mlopt.quantize.ActivationObserver";

}  // namespace

void add_int(torch::jit::Module& m, const std::string& name, int64_t value) {
  m.register_attribute(name, c10::IntType::get(), value);
}
void add_bool(torch::jit::Module& m, const std::string& name, bool value) {
  m.register_attribute(name, c10::BoolType::get(), value);
}
void add_tensor(torch::jit::Module& m, const std::string& name, const at::Tensor& value) {
  m.register_attribute(name, c10::TensorType::get(), value, /*is_param=*/false, /*is_buffer=*/true);
}

void add_activation_observer_state(torch::jit::Module& m) {
  add_int(m, "dtype", static_cast<int64_t>(c10::kQUInt8));
  add_int(m, "qscheme", static_cast<int64_t>(c10::kPerTensorAffine));
  add_bool(m, "collect_histogram", false);
  add_int(m, "bins", 2048);
  m.register_attribute("hist_min", c10::FloatType::get(), 0.0);
  m.register_attribute("hist_max", c10::FloatType::get(), 0.0);
  add_tensor(m, "min_val", at::full({}, std::numeric_limits<float>::infinity()));
  add_tensor(m, "max_val", at::full({}, -std::numeric_limits<float>::infinity()));
  add_tensor(m, "histogram", at::zeros({2048}));
  add_tensor(m, "scale", at::ones({1}));
  add_tensor(m, "zero_point", at::zeros({1}, at::kLong));
}

void add_weight_observer_state(torch::jit::Module& m, bool per_channel) {
  add_int(m, "dtype", static_cast<int64_t>(c10::kQInt8));
  add_int(m, "qscheme", static_cast<int64_t>(per_channel ? c10::kPerChannelSymmetric : c10::kPerTensorSymmetric));
  add_int(m, "ch_axis", 0);
  add_bool(m, "per_channel", per_channel);
  add_tensor(m, "scale", at::ones({1}));
  add_tensor(m, "zero_point", at::zeros({1}, at::kLong));
}

torch::jit::Module make_activation_observer() {
  torch::jit::Module m(kActivationClass);
  add_activation_observer_state(m);
  m.define(kActivationObserverSource);
  return m;
}

torch::jit::Module make_weight_observer(bool per_channel) {
  torch::jit::Module m(per_channel ? "__torch__.mlopt.quantize.PerChannelWeightObserver"
                                   : "__torch__.mlopt.quantize.WeightObserver");
  add_weight_observer_state(m, per_channel);
  m.define(kWeightObserverSource);
  return m;
}

torch::jit::Module make_placeholder_observer() {
  // The passes recognize dynamic activation observers by "PlaceholderObserver" in the class name.
  torch::jit::Module m("__torch__.mlopt.quantize.PlaceholderObserver");
  add_int(m, "dtype", static_cast<int64_t>(c10::kQUInt8));
  add_int(m, "compute_dtype", static_cast<int64_t>(c10::kQUInt8));
  add_int(m, "qscheme", static_cast<int64_t>(c10::kPerTensorAffine));
  m.define(kPlaceholderSource);
  return m;
}

std::vector<torch::jit::Module> activation_observers(const torch::jit::Module& prepared) {
  std::vector<torch::jit::Module> out;
  for (const auto& child : prepared.modules()) {
    auto type = child.type()->name();
    if (type && type->qualifiedName().find("mlopt.quantize.ActivationObserver") != std::string::npos)
      out.push_back(child);
  }
  return out;
}

void start_histograms(std::vector<torch::jit::Module>& observers, int64_t bins) {
  for (auto& o : observers) {
    double low = o.attr("min_val").toTensor().item<double>();
    double high = o.attr("max_val").toTensor().item<double>();
    if (!std::isfinite(low) || !std::isfinite(high)) continue;  // never reached by the data
    if (high <= low) high = low + 1e-6;
    o.setattr("hist_min", low);
    o.setattr("hist_max", high);
    o.setattr("bins", bins);
    o.setattr("histogram", at::zeros({bins}));
    o.setattr("collect_histogram", true);
  }
}

namespace {

// Prefix sums of counts, counts*x and counts*x^2 over bin centres.
struct Moments {
  std::vector<double> c, cx, cxx;
  explicit Moments(const std::vector<double>& counts, double low, double width) {
    size_t n = counts.size();
    c.assign(n + 1, 0);
    cx.assign(n + 1, 0);
    cxx.assign(n + 1, 0);
    for (size_t i = 0; i < n; ++i) {
      double x = low + (static_cast<double>(i) + 0.5) * width;
      c[i + 1] = c[i] + counts[i];
      cx[i + 1] = cx[i] + counts[i] * x;
      cxx[i + 1] = cxx[i] + counts[i] * x * x;
    }
  }
  // sum over bins [a, b) of count * (x - edge)^2
  double squared_distance(size_t a, size_t b, double edge) const {
    double n = c[b] - c[a], s = cx[b] - cx[a], ss = cxx[b] - cxx[a];
    return ss - 2 * edge * s + edge * edge * n;
  }
};

}  // namespace

Range l2_optimal_range(const std::vector<double>& counts, double low, double high) {
  size_t n = counts.size();
  if (n == 0 || high <= low) return {low, high};
  double width = (high - low) / static_cast<double>(n);
  Moments m(counts, low, width);
  auto cost = [&](size_t first, size_t last) {  // keep bins [first, last]
    double a = low + static_cast<double>(first) * width, b = low + static_cast<double>(last + 1) * width;
    double step = (b - a) / 255.0;
    double rounding = (m.c[last + 1] - m.c[first]) * step * step / 12.0;
    return rounding + m.squared_distance(0, first, a) + m.squared_distance(last + 1, n, b);
  };
  // Shrink greedily from the side holding less mass; keep the best range seen.
  size_t first = 0, last = n - 1, best_first = 0, best_last = n - 1;
  double best = cost(first, last);
  while (last - first > n / 32) {
    if (counts[first] <= counts[last]) ++first; else --last;
    double c = cost(first, last);
    if (c < best) {
      best = c;
      best_first = first;
      best_last = last;
    }
  }
  return {low + static_cast<double>(best_first) * width, low + static_cast<double>(best_last + 1) * width};
}

Range percentile_range(const std::vector<double>& counts, double low, double high, double percentile) {
  double total = 0;
  for (double c : counts) total += c;
  if (total <= 0 || counts.empty()) return {low, high};
  double width = (high - low) / static_cast<double>(counts.size());
  double tail = total * (1.0 - percentile / 100.0);
  double seen = 0;
  size_t first = 0, last = counts.size() - 1;
  while (first < last && seen + counts[first] <= tail) seen += counts[first++];
  seen = 0;
  while (last > first && seen + counts[last] <= tail) seen += counts[last--];
  return {low + static_cast<double>(first) * width, low + static_cast<double>(last + 1) * width};
}

void choose_activation_qparams(std::vector<torch::jit::Module>& observers, const std::string& method,
                               double percentile) {
  for (auto& o : observers) {
    double low = o.attr("min_val").toTensor().item<double>();
    double high = o.attr("max_val").toTensor().item<double>();
    if (!std::isfinite(low) || !std::isfinite(high)) low = high = 0;  // value never seen in calibration
    if (method != "minmax" && o.attr("collect_histogram").toBool()) {
      auto h = o.attr("histogram").toTensor().to(at::kDouble).contiguous();
      std::vector<double> counts(h.data_ptr<double>(), h.data_ptr<double>() + h.numel());
      double h_low = o.attr("hist_min").toDouble(), h_high = o.attr("hist_max").toDouble();
      Range r = method == "percentile" ? percentile_range(counts, h_low, h_high, percentile)
                                       : l2_optimal_range(counts, h_low, h_high);
      low = r.low;
      high = r.high;
    }
    // The range must hold zero exactly (zero padding, ReLU outputs).
    low = std::min(low, 0.0);
    high = std::max(high, 0.0);
    double scale = std::max((high - low) / 255.0, 1e-8);
    int64_t zero_point = std::clamp<int64_t>(std::llround(-low / scale), 0, 255);
    o.setattr("scale", at::full({1}, scale));
    o.setattr("zero_point", at::full({1}, zero_point, at::kLong));
  }
}

}  // namespace mlopt::quant
