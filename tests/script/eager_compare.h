#pragma once
// Comparing a scripted .py model with PyTorch eager: the fixture scripts
// (tests/fixtures/make_script*_fixtures.py) save each model's input and eager
// output as tests/data/script/<name>.npz ("input", "output").
#include <torch/script.h>

#include <string>
#include <utility>
#include <vector>

#include "mlopt/script/python_model.h"

namespace mlopt::test {

// The tensor called `name` in `tensors`; fails the test when there is none.
at::Tensor tensor_named(const std::vector<std::pair<std::string, at::Tensor>>& tensors, const std::string& name);

// max |got - eager| / max |eager| of the model compiled from `source`, run on
// the input saved in tests/data/script/<npz>.
double relative_error_to_eager(const ModelSource& source, const std::string& npz,
                               const PythonModelOptions& options = {});

// Writes `text` as the model file `name` in a fresh temporary folder; returns its path.
std::string write_model_file(const std::string& name, const std::string& text);

}  // namespace mlopt::test
