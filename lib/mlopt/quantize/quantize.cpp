// `mlopt quantize`: the option checks, then the driver (driver.h) over the
// back end the output format names: TorchScript for .pt/.ptl, ONNX for .onnx.
// --mode qat trains first (qat.h), then drives static int8 of the trained model.
#include "mlopt/quantize/quantize.h"

#include "mlopt/core/atomic_write.h"
#include "mlopt/quantize/backend.h"
#include "mlopt/quantize/driver.h"
#include "mlopt/quantize/qat.h"
#include "mlopt/quantize/quantize_support.h"

namespace mlopt {

void check_options(const QuantizeOptions& options) { quant_support::check_options(options); }

QuantizeResult quantize(const QuantizeOptions& options, const GlobalOptions& globals) {
  quant_support::check_options(options);
  QuantizeResult result;
  result.model = options.model.path;
  result.mode = options.mode;
  if (options.mode == "qat") {
    auto qat = quant::train_qat(options, globals);
    quant::record_training(qat, result);
    // From here on it is static int8, calibrated on the training data unless --calibration says otherwise.
    auto static_options = options;
    static_options.mode = "static";
    // Training changes the outputs on purpose: SQNR against the float model measures that, not rounding.
    static_options.min_sqnr = 0;
    if (static_options.calibration.empty()) static_options.calibration = options.data.path;
    auto backend = extension_of(options.output) == ".onnx"
                       ? quant::onnx_backend(static_options, globals, result, &qat)
                       : quant::torchscript_backend(static_options, globals, result, &qat);
    return quant::drive_quantize(static_options, globals.seed, *backend, std::move(result));
  }
  auto backend = extension_of(options.output) == ".onnx" ? quant::onnx_backend(options, globals, result)
                                                          : quant::torchscript_backend(options, globals, result);
  return quant::drive_quantize(options, globals.seed, *backend, std::move(result));
}

}  // namespace mlopt
