#pragma once
// The quantize driver: one flow for every back end (backend.h).
//   1. layers: the back end's, less --skip and the back end's pinned ones
//      (with their group mates);
//   2. data: calibration, eval and reference inputs; the float outputs;
//   3. build with every candidate quantized; output SQNR and accuracy;
//   4. sensitivity: each group quantized alone (output SQNR, accuracy drop);
//   5. under --max-accuracy-drop, the most sensitive groups back to float
//      until the budget fits (else the best candidate, exit 3);
//   6. quality floors (--min-sqnr, --min-top1): a badly wrong artifact is not
//      written; latency; write.
#include <cstdint>

#include "mlopt/quantize/backend.h"
#include "mlopt/quantize/quantize.h"

namespace mlopt::quant {

QuantizeResult drive_quantize(const QuantizeOptions& options, uint64_t seed, Backend& backend,
                              QuantizeResult result);

}  // namespace mlopt::quant
