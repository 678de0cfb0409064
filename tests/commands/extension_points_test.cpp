// The registries behind the extension points (lib/mlopt/core/registry.h):
// two files claiming one name would silently shadow each other.
#include <catch2/catch.hpp>

#include "mlopt/onnx/converter.h"
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/pipeline/step_registry.h"

TEST_CASE("registry: no converter, evaluator kernel or step type is claimed by two files", "[commands]") {
  CHECK(mlopt::onnx_export::converter_registry().duplicates().empty());
  CHECK(mlopt::onnx_eval::duplicate_ops().empty());
  CHECK(mlopt::pipeline::step_types().duplicates().empty());
}
