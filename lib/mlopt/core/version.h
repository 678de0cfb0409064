#pragma once
#include <string>

namespace mlopt {
std::string mlopt_version();
std::string libtorch_version();
std::string onnx_version();
int onnx_max_opset();
// "mlopt 0.1.0 (LibTorch 1.13.1, ONNX 1.12.0, opsets 13-17)"
std::string version_line();
}  // namespace mlopt
