#pragma once
// The request rows `mlopt monitor` scores: a .npz/.npy (arrays named like the
// inputs, [N, ...]), a numeric .csv/.csv.gz (one row per request, the inputs'
// elements in order, optionally a trailing label column) or a .jsonl (one
// KServe v2 infer request per line, {"inputs": [{name, shape, data}]}, or
// {"<input>": nested list}), as `serve --log-requests` would write them.
#include <torch/script.h>

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace mlopt::registry {

struct RequestInput {
  std::string name;
  std::vector<int64_t> shape;  // per row, without the batch dim
};

// One [N, shape...] float tensor per input; errors name the file (and line).
std::vector<at::Tensor> read_requests(const std::string& path, const std::vector<RequestInput>& inputs);

// The inputs a baseline.json describes.
std::vector<RequestInput> request_inputs_of(const nlohmann::json& baseline);

}  // namespace mlopt::registry
