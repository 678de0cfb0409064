#include "mlopt/serve/warmup.h"

#include <chrono>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"

namespace mlopt::serving {
namespace {

std::vector<HostTensor> zeros(const std::vector<TensorSpec>& inputs, const std::vector<std::vector<int64_t>>& examples,
                              int64_t batch) {
  std::vector<HostTensor> tensors;
  for (size_t i = 0; i < inputs.size(); ++i) {
    HostTensor t{inputs[i].name, inputs[i].datatype, examples[i], {}};
    if (batch > 0) t.shape[0] = batch;
    t.bytes.assign(static_cast<size_t>(t.numel() * element_size(t.datatype)), '\0');
    tensors.push_back(std::move(t));
  }
  return tensors;
}

bool batch_dim_everywhere(const std::vector<TensorSpec>& inputs) {
  if (inputs.empty()) return false;
  for (const auto& spec : inputs)
    if (spec.shape.empty() || spec.shape[0] >= 0) return false;
  return true;
}

}  // namespace

WarmupResult warm_up(std::vector<Model*> models, const std::vector<TensorSpec>& inputs,
                     const std::vector<std::vector<int64_t>>& examples, int max_batch, int runs,
                     const std::vector<std::string>& output_names) {
  const auto start = std::chrono::steady_clock::now();
  WarmupResult result;
  const bool batched_inputs = batch_dim_everywhere(inputs);
  std::vector<HostTensor> one = with_context("warm-up run", [&] { return models[0]->run(zeros(inputs, examples, batched_inputs ? 1 : 0)); });
  std::vector<HostTensor> two;
  if (batched_inputs) {
    try {
      two = models[0]->run(zeros(inputs, examples, 2));
    } catch (const std::exception& e) {
      log::warn("the model fails at batch 2, so it is served one request at a time: {}", e.what());
    }
  }
  result.batchable = !two.empty() && two.size() == one.size();
  for (size_t i = 0; i < one.size(); ++i) {
    TensorSpec spec{i < output_names.size() ? output_names[i] : "output" + std::to_string(i), one[i].datatype, one[i].shape};
    if (result.batchable) {
      const auto& other = two[i].shape;
      if (other.size() != spec.shape.size() || spec.shape.empty() || spec.shape[0] != 1 || other[0] != 2) {
        result.batchable = false;
      } else {
        for (size_t d = 0; d < spec.shape.size(); ++d)
          if (spec.shape[d] != other[d]) spec.shape[d] = -1;
      }
    }
    result.outputs.push_back(spec);
  }
  if (batched_inputs && !result.batchable)
    log::warn("an output does not follow the batch dim: requests are served one at a time");
  // Every batch size batching can form, on every worker's copy of the model.
  std::vector<int64_t> sizes{batched_inputs ? 1 : 0};
  if (result.batchable)
    for (int64_t b = 2; b <= max_batch; b = b * 2 > max_batch && b < max_batch ? max_batch : b * 2) sizes.push_back(b);
  for (Model* model : models)
    for (int64_t b : sizes)
      for (int r = 0; r < runs; ++r) with_context("warm-up run", [&] { return model->run(zeros(inputs, examples, b)); });
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace mlopt::serving
