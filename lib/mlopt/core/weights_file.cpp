// load_weights: picks the reader from the file's first bytes (and the
// .safetensors extension, since that format has no magic number).
#include "mlopt/core/weights_file.h"

#include <fstream>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/weights_file_formats.h"

namespace mlopt {
namespace {

std::string first_bytes(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string head(n, '\0');
  in.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

}  // namespace

NamedTensors load_weights(const std::string& path) { return load_weights(path, ""); }

NamedTensors load_weights(const std::string& path, const std::string& key) {
  if (!file_exists(path)) fail("weights file '{}' does not exist", path);
  if (extension_of(path) == ".safetensors") {
    if (!key.empty()) fail("'{}': a weights key ('{}') applies to torch.save checkpoints, not .safetensors", path, key);
    return load_safetensors_weights(path);
  }
  std::string head = first_bytes(path, 4);
  if (head.size() == 4 && head.compare(0, 4, "PK\x03\x04") == 0) return load_torch_zip_weights(path, key);
  if (!head.empty() && static_cast<unsigned char>(head[0]) == 0x80)
    fail("'{}' uses the legacy (pre-1.6, non-zip) torch.save format, which mlopt does not read; re-save it "
         "with a current PyTorch: torch.save(torch.load(path), path)",
         path);
  fail("'{}' is not a weights file (expected torch.save's zip format (.pth/.pt) or .safetensors)", path);
}

}  // namespace mlopt
