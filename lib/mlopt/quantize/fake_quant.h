#pragma once
// Fake-quantizing observers for quantization-aware training (qat.h). They are
// the static observers (observers.h) with a second life: calibrated like them
// first, then, with fake quantization on, their forward returns the value
// rounded to its int8 grid (ATen's fake_quantize_per_tensor_affine for
// activations, fake_quantize_per_channel_affine for weights), whose gradient
// is straight-through inside the range and zero where it clips. The convert
// pass (InsertQuantDeQuant) later reads the same scale and zero point through
// calculate_qparams, so the int8 model rounds exactly where training did.
//
// Activation ranges follow a moving average of each batch's min/max (as
// PyTorch's MovingAverageMinMaxObserver), in training mode, until frozen; weight scales always
// follow the current weights (symmetric, max |w| / 127).
#include <torch/script.h>

#include <vector>

namespace mlopt::quant {

// Class names contain the static observers' names, so activation_observers()
// and choose_activation_qparams() (observers.h) calibrate them too.
torch::jit::Module make_fake_quant_activation_observer(double averaging = 0.01);
torch::jit::Module make_fake_quant_weight_observer(bool per_channel);

// The fake-quantizing observers of a prepared module (activations and weights).
std::vector<torch::jit::Module> fake_quant_observers(const torch::jit::Module& prepared);

// After calibration: rounding on, the moving average starting from the
// calibrated (clipped) range.
void start_fake_quant(torch::jit::Module& prepared);
// Activation ranges stop moving (weight scales keep following the weights).
void freeze_observers(torch::jit::Module& prepared);

}  // namespace mlopt::quant
