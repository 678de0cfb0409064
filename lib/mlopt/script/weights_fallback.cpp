// A weak fallback for mlopt::load_weights (core/weights_file.h) so that
// `script --weights` works for torch.save(state_dict) .pth files before the
// core implementation lands; the core's definition replaces this one at link
// time. Uses LibTorch's own reader of torch.save zip archives.
#include <torch/csrc/jit/serialization/pickle.h>

#include <fstream>
#include <iterator>

#include "mlopt/core/error.h"
#include "mlopt/core/weights_file.h"

namespace mlopt {

__attribute__((weak)) NamedTensors load_weights(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("weights file '{}' cannot be read", path);
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue value = with_context(fmt::format("'{}' is not a torch.save() zip archive", path),
                                   [&] { return torch::jit::pickle_load(data); });
  if (value.isNone())
    fail("'{}': this build reads state_dict files saved as a plain dict only (torch.save(dict(model.state_dict())))", path);
  if (!value.isGenericDict()) fail("'{}': expected a state_dict (a dict of tensors)", path);
  NamedTensors out;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor())
      fail("'{}': expected a state_dict (names mapping to tensors)", path);
    out.emplace_back(item.key().toStringRef(), item.value().toTensor());
  }
  return out;
}

}  // namespace mlopt
