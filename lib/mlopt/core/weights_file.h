#pragma once
// Weight files as users make them: `torch.save(model.state_dict())` (.pth/.pt,
// an OrderedDict in a zip archive; legacy non-zip files are refused with a
// clear message) and `.safetensors`. The pickle reader accepts only tensors,
// containers and primitives (like torch.load(weights_only=True)) and refuses
// any other pickle global by name.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace mlopt {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Reads a state_dict in file order; errors name the file and the problem.
NamedTensors load_weights(const std::string& path);
// The same, with the state_dict taken from the checkpoint entry `key` (dots reach into nested dicts:
// "ema.model"); an empty key behaves as above.
NamedTensors load_weights(const std::string& path, const std::string& key);

}  // namespace mlopt
