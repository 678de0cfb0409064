#pragma once
// The readers behind load_weights (weights_file.h), one file per format.
#include "mlopt/core/weights_file.h"

namespace mlopt {

// torch.save zip archives (weights_file_torch.cpp).
NamedTensors load_torch_zip_weights(const std::string& path, const std::string& key = "");
// .safetensors (weights_file_safetensors.cpp).
NamedTensors load_safetensors_weights(const std::string& path);
NamedTensors parse_safetensors(const std::string& bytes, const std::string& what);

}  // namespace mlopt
