// Models that return dicts, lists, tuples and nestings of them: flattened to
// ONNX outputs named by their path (docs/export-onnx.md, "Outputs"), with the
// values LibTorch returns, in ONNX Runtime, at two batch sizes.
#include <catch2/catch.hpp>

#include "mlopt/core/input_spec.h"
#include "mlopt/onnx/export.h"
#include "onnx/ort_oracle.h"

using mlopt::test::expect_matches_ort;

namespace {

std::vector<std::string> output_names(const onnx::ModelProto& model) {
  std::vector<std::string> names;
  for (const auto& o : model.graph().output()) names.push_back(o.name());
  return names;
}

}  // namespace

TEST_CASE("onnx outputs: a returned dict becomes one output per key, named by the key", "[onnx-ort]") {
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  return {'out': x * 2.0, 'aux': x.relu()}",
      {"x:batch=2x3x4"}, {5});
  CHECK(output_names(r.model) == std::vector<std::string>{"out", "aux"});
  CHECK(r.model.graph().output(0).type().tensor_type().shape().dim(0).dim_param() == "batch");
}

TEST_CASE("onnx outputs: a dict built item by item (torchvision's segmentation heads) keeps insertion order",
          "[onnx-ort]") {
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  features: Dict[str, Tensor] = {}\n"
      "  features['a'] = x + 1.0\n"
      "  features['b'] = x * 3.0\n"
      "  result: Dict[str, Tensor] = {}\n"
      "  y = features['a']\n"
      "  result['out'] = y.sigmoid()\n"
      "  if 'b' in features:\n"
      "    result['aux'] = features['b'] - y\n"
      "  result['out'] = result['out'] * 2.0\n"
      "  return result",
      {"x:batch=1x2x3"}, {4});
  CHECK(output_names(r.model) == std::vector<std::string>{"out", "aux"});
}

TEST_CASE("onnx outputs: nested tuples, lists and dicts flatten depth first with dotted names", "[onnx-ort]") {
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  d: Dict[str, Tuple[Tensor, Tensor]] = {'k': (x - 1.0, x * 3.0)}\n"
      "  return x.abs(), [x * 2.0, x.exp()], d",
      {"x:batch=2x3"}, {4});
  CHECK(output_names(r.model) ==
        std::vector<std::string>{"output", "output_1.0", "output_1.1", "output_2.k.0", "output_2.k.1"});
}

TEST_CASE("onnx outputs: a dict of lists and int keys, None values are left out, as LibTorch's callers see them",
          "[onnx-ort]") {
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  d: Dict[int, List[Tensor]] = {3: [x, x + 1.0], 7: [x.neg()]}\n"
      "  return d",
      {"x:batch=2x3"}, {1});
  CHECK(output_names(r.model) == std::vector<std::string>{"3.0", "3.1", "7.0"});
  auto n = expect_matches_ort(
      "def forward(self, x):\n"
      "  y: Optional[Tensor] = None\n"
      "  return x * 2.0, y, x + 1.0",
      {"x:2x3"});
  CHECK(output_names(n.model) == std::vector<std::string>{"output", "output_2"});
}

TEST_CASE("onnx outputs: --output-names renames flattened dict outputs, a key clashing with an input is refused",
          "[onnx]") {
  auto m = mlopt::test::make_module("def forward(self, x):\n  return {'out': x * 2.0, 'aux': x + 1.0}");
  mlopt::ModuleExportOptions options;
  options.output_names = {"seg", "aux_seg"};
  auto model = mlopt::export_module(m, mlopt::parse_input_specs({"x:2x3"}), options);
  CHECK(output_names(model) == std::vector<std::string>{"seg", "aux_seg"});
  auto clash = mlopt::test::make_module("def forward(self, x):\n  return {'x': x * 2.0}");
  CHECK_THROWS_WITH(mlopt::export_module(clash, mlopt::parse_input_specs({"x:2x3"})),
                    Catch::Contains("output name 'x' is already an input") && Catch::Contains("--output-names"));
}
