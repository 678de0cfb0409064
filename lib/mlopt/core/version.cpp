#include "mlopt/core/version.h"

#include <onnx/common/version.h>
#include <onnx/defs/schema.h>
#include <torch/script.h>
#include <torch/version.h>

#include <fmt/format.h>

namespace mlopt {
std::string mlopt_version() { return MLOPT_VERSION; }
std::string libtorch_version() { return TORCH_VERSION; }
std::string onnx_version() { return ONNX_NAMESPACE::LAST_RELEASE_VERSION; }
int onnx_max_opset() {
  return ONNX_NAMESPACE::OpSchemaRegistry::DomainToVersionRange::Instance().Map().at(ONNX_NAMESPACE::ONNX_DOMAIN).second;
}
std::string version_line() {
  return fmt::format("mlopt {} (LibTorch {}, ONNX {}, max opset {})", mlopt_version(), libtorch_version(),
                     onnx_version(), onnx_max_opset());
}
}  // namespace mlopt
