// Pipeline step `export-onnx`: an ONNX file from the model it reads (lib/mlopt/onnx).
#include "mlopt/onnx/export.h"
#include "mlopt/pipeline/step_registry.h"

namespace mlopt::pipeline {
MLOPT_REGISTER_STEP(subcommand_step("export-onnx", "ONNX file (opset 13-17, dynamic dims from the input specs)", ".onnx",
                                    &export_onnx));
}  // namespace mlopt::pipeline
