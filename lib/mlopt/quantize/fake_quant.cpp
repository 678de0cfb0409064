#include "mlopt/quantize/fake_quant.h"

#include "mlopt/quantize/observers.h"

namespace mlopt::quant {

namespace {

// Calibration (fake_quant off) is the static ActivationObserver's; with it on,
// the range moves in training mode only (validation passes do not move it)
// while `observe` (a buffer, so that a training checkpoint restores the freeze) is set, and
// every pass rounds to the grid of `scale` / `zero_point` (uint8, as the int8 kernels).
constexpr const char* kActivationSource = R"JIT(
def forward(self, x: Tensor) -> Tensor:
    if self.fake_quant:
        if bool(self.observe) and self.training and x.numel() > 0:
            v = x.detach().float()
            c = self.averaging
            self.min_val.copy_(self.min_val + c * (torch.min(v) - self.min_val))
            self.max_val.copy_(self.max_val + c * (torch.max(v) - self.max_val))
            low = torch.clamp(self.min_val, max=0.0)
            high = torch.clamp(self.max_val, min=0.0)
            scale = torch.clamp((high - low) / 255.0, min=1e-8)
            self.scale.copy_(scale.reshape([1]))
            self.zero_point.copy_(torch.clamp(torch.round(-low / scale), 0, 255).reshape([1]))
        return torch.fake_quantize_per_tensor_affine(x, self.scale, self.zero_point, 0, 255)
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

// Symmetric int8 (zero point 0), scale = max |w| / 127 per output channel or per tensor.
constexpr const char* kWeightSource = R"JIT(
def forward(self, w: Tensor) -> Tensor:
    v = w.detach().float()
    if self.per_channel:
        amax = torch.amax(torch.abs(v.reshape([v.size(0), -1])), [1])
    else:
        amax = torch.max(torch.abs(v)).reshape([1])
    scale = torch.clamp(amax / 127.0, 1e-8)
    if self.scale.numel() == scale.numel():
        self.scale.copy_(scale)
    else:
        self.scale = scale
        self.zero_point = torch.zeros([scale.numel()], dtype=4)  # int64
    if not self.fake_quant:
        return w
    if self.per_channel:
        return torch.fake_quantize_per_channel_affine(w, scale, torch.zeros([scale.numel()], dtype=3), 0, -128, 127)
    return torch.fake_quantize_per_tensor_affine(w, scale, torch.zeros([1], dtype=4), -128, 127)

def calculate_qparams(self) -> Tuple[Tensor, Tensor]:
    return self.scale, self.zero_point
)JIT";

constexpr const char* kFakeQuantActivationClass = "__torch__.mlopt.quantize.ActivationObserverFakeQuant";
constexpr const char* kPerChannelClass = "__torch__.mlopt.quantize.PerChannelWeightObserverFakeQuant";
constexpr const char* kPerTensorClass = "__torch__.mlopt.quantize.WeightObserverFakeQuant";

bool is_fake_quant(const torch::jit::Module& m) {
  auto type = m.type()->name();
  return type && type->qualifiedName().find("FakeQuant") != std::string::npos &&
         type->qualifiedName().find("mlopt.quantize.") != std::string::npos;
}

}  // namespace

torch::jit::Module make_fake_quant_activation_observer(double averaging) {
  torch::jit::Module m(kFakeQuantActivationClass);
  add_activation_observer_state(m);
  add_bool(m, "training", false);  // Module::train() sets it on every submodule
  add_bool(m, "fake_quant", false);
  add_tensor(m, "observe", at::ones({}, at::kBool));
  m.register_attribute("averaging", c10::FloatType::get(), averaging);
  m.define(kActivationSource);
  return m;
}

torch::jit::Module make_fake_quant_weight_observer(bool per_channel) {
  torch::jit::Module m(per_channel ? kPerChannelClass : kPerTensorClass);
  add_weight_observer_state(m, per_channel);
  add_bool(m, "training", false);
  add_bool(m, "fake_quant", false);
  m.define(kWeightSource);
  return m;
}

std::vector<torch::jit::Module> fake_quant_observers(const torch::jit::Module& prepared) {
  std::vector<torch::jit::Module> out;
  for (const auto& child : prepared.modules())
    if (is_fake_quant(child)) out.push_back(child);
  return out;
}

void start_fake_quant(torch::jit::Module& prepared) {
  for (auto& o : fake_quant_observers(prepared)) {
    if (o.hasattr("observe")) {
      // The moving average starts from the range calibration chose (histogram clipping included).
      double scale = o.attr("scale").toTensor().item<double>();
      double zero_point = o.attr("zero_point").toTensor().item<double>();
      o.setattr("min_val", at::full({}, -zero_point * scale));
      o.setattr("max_val", at::full({}, (255.0 - zero_point) * scale));
      o.setattr("collect_histogram", false);
    }
    o.setattr("fake_quant", true);
  }
}

// In place: the trainer holds the buffers it checkpoints and restores.
void freeze_observers(torch::jit::Module& prepared) {
  for (auto& o : fake_quant_observers(prepared))
    if (o.hasattr("observe")) o.attr("observe").toTensor().fill_(false);
}

}  // namespace mlopt::quant
