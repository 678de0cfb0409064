#pragma once
// Quantization-aware training (`mlopt quantize --mode qat`): the model is
// prepared the way static int8 prepares it (the same pattern table, BatchNorm
// folding and conv/linear+ReLU fusions; int8_passes.h) but with fake-quantizing
// observers (fake_quant.h), calibrated on the data, then fine-tuned with
// distill's trainer (optionally distilling from --teacher) so that the weights
// learn to live on the int8 grid. The conversion is the static one, with the
// scales and zero points training ended with, so the artifacts are the ones
// static mode writes.
//
// Schedule: the first --freeze-bn-after epochs train with BatchNorm unfolded
// (its statistics move); then BatchNorm is folded and the model prepared and
// calibrated again; activation ranges follow a moving average until
// --freeze-observers-after epochs, then stay.
//
// Checkpoints (--checkpoint DIR): one per phase, DIR/batch-norm and DIR/folded,
// after every epoch; the observers' ranges and their freeze are buffers, so
// --resume continues both. The first phase must have a checkpoint to resume;
// the folded phase starts afresh when the run stopped before it.
#include <torch/script.h>

#include <set>
#include <string>
#include <vector>

#include "mlopt/quantize/quantize.h"

namespace mlopt::quant {

struct QatModel {
  torch::jit::Module prepared;          // trained, with fake-quantizing observers holding the qparams
  torch::jit::Module trained_float;     // the trained weights as a float model (BatchNorm folded)
  // The folded float model the activation ranges were calibrated on (before the folded training): with
  // ranges frozen from the start, calibrating it again reproduces them (the ONNX back end does).
  torch::jit::Module calibrated_float;
  std::set<std::string> float_modules;  // layers trained (and converted) in float: --skip
  std::vector<at::Tensor> check_inputs; // one calibration batch
  int epochs = 0;
  double seconds = 0, fake_quant_accuracy = 0;  // percent, on the --data validation split after the last epoch
  bool distillation = false;
  double alpha = 0;                     // the teacher term's weight
  std::vector<QatEpoch> history;        // both phases, resumed epochs included
  int resumed_epochs = 0;               // restored from --checkpoint by --resume
};

// Loads the model and --data, checks them (nothing to quantize, sample shape),
// calibrates and trains.
QatModel train_qat(const QuantizeOptions& options, const GlobalOptions& globals);

// The int8 module of the trained model (static conversion with the trained qparams).
torch::jit::Module convert_qat(const QatModel& qat);

// The training figures of the report.
void record_training(const QatModel& qat, QuantizeResult& result);

}  // namespace mlopt::quant
