#include "script/eager_compare.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
#include "support/test_support.h"

namespace mlopt::test {

at::Tensor tensor_named(const std::vector<std::pair<std::string, at::Tensor>>& tensors, const std::string& name) {
  for (auto& [n, t] : tensors)
    if (n == name) return t;
  FAIL("no array " << name);
  return {};
}

double relative_error_to_eager(const ModelSource& source, const std::string& npz, const PythonModelOptions& options) {
  auto module = compile_python_model(source, options);
  auto arrays = load_tensors(test_data("script/" + npz));
  auto got = run_module(module, {tensor_named(arrays, "input")})[0].to(at::kDouble);
  auto expected = tensor_named(arrays, "output").to(at::kDouble);
  REQUIRE(got.sizes() == expected.sizes());
  return (got - expected).abs().max().item<double>() / std::max(expected.abs().max().item<double>(), 1e-12);
}

std::string write_model_file(const std::string& name, const std::string& text) {
  std::string path = temp_dir("script_model") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace mlopt::test
