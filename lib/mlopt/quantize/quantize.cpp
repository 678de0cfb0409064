// `mlopt quantize`: the option checks, then the driver (driver.h) over the
// back end the output format names: TorchScript for .pt/.ptl, ONNX for .onnx.
#include "mlopt/quantize/quantize.h"

#include "mlopt/core/atomic_write.h"
#include "mlopt/quantize/backend.h"
#include "mlopt/quantize/driver.h"
#include "mlopt/quantize/quantize_support.h"

namespace mlopt {

void check_options(const QuantizeOptions& options) { quant_support::check_options(options); }

QuantizeResult quantize(const QuantizeOptions& options, const GlobalOptions& globals) {
  quant_support::check_options(options);
  QuantizeResult result;
  result.model = options.model.path;
  result.mode = options.mode;
  auto backend = extension_of(options.output) == ".onnx" ? quant::onnx_backend(options, globals, result)
                                                          : quant::torchscript_backend(options, globals, result);
  return quant::drive_quantize(options, globals.seed, *backend, std::move(result));
}

}  // namespace mlopt
