// .safetensors: an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// optionally "__metadata__": {...}}), then the tensor bytes, offsets relative
// to the end of the header. Everything is checked against the file's size
// before a byte of tensor data is touched.
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/weights_file_formats.h"

namespace mlopt {
namespace {

// The reference implementation refuses headers over 100 MB; so do we.
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;

const std::map<std::string, c10::ScalarType>& safetensors_dtypes() {
  static const std::map<std::string, c10::ScalarType> types = {
      {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
      {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
      {"U8", at::kByte},    {"BOOL", at::kBool},
  };
  return types;
}

struct Entry {
  std::string name;
  c10::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& name, const nlohmann::json& info, uint64_t data_size, const std::string& what) {
  auto bad = [&](const std::string& problem) -> Entry { fail("{}: tensor '{}': {}", what, name, problem); };
  if (!info.is_object()) return bad("expected an object with dtype, shape and data_offsets");
  Entry e;
  e.name = name;
  auto dtype = info.find("dtype");
  if (dtype == info.end() || !dtype->is_string()) return bad("missing dtype");
  auto known = safetensors_dtypes().find(dtype->get<std::string>());
  if (known == safetensors_dtypes().end())
    return bad(fmt::format("unsupported dtype '{}' (expected F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)",
                           dtype->get<std::string>()));
  e.dtype = known->second;
  auto shape = info.find("shape");
  if (shape == info.end() || !shape->is_array() || shape->size() > 64) return bad("missing or invalid shape");
  uint64_t numel = 1;
  for (const auto& d : *shape) {
    if (!d.is_number_unsigned()) return bad("shape must hold non-negative integers");
    uint64_t n = d.get<uint64_t>();
    if (n > (uint64_t{1} << 40) || (n && numel > (uint64_t{1} << 40) / n)) return bad("shape is too large");
    numel *= n;
    e.shape.push_back(static_cast<int64_t>(n));
  }
  auto offsets = info.find("data_offsets");
  if (offsets == info.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    return bad("data_offsets must be [begin, end]");
  e.begin = (*offsets)[0].get<uint64_t>();
  e.end = (*offsets)[1].get<uint64_t>();
  if (e.begin > e.end || e.end > data_size)
    return bad(fmt::format("data_offsets [{}, {}] lie outside the {} data bytes", e.begin, e.end, data_size));
  uint64_t expected = numel * c10::elementSize(e.dtype);
  if (e.end - e.begin != expected)
    return bad(fmt::format("data_offsets span {} bytes but shape and dtype need {}", e.end - e.begin, expected));
  return e;
}

}  // namespace

NamedTensors parse_safetensors(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 8) fail("{}: not a safetensors file (shorter than its 8-byte header length)", what);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<unsigned char>(bytes[i]);
  if (header_size > kMaxHeaderBytes || header_size > bytes.size() - 8)
    fail("{}: not a safetensors file (header length {} exceeds the file size {})", what, header_size, bytes.size());
  nlohmann::json header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + header_size, nullptr, false);
  if (header.is_discarded() || !header.is_object()) fail("{}: safetensors header is not a JSON object", what);
  uint64_t data_size = bytes.size() - 8 - header_size;
  const char* data = bytes.data() + 8 + header_size;

  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    entries.push_back(parse_entry(name, info, data_size, what));
  }
  // File order: by where each tensor's bytes start.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  NamedTensors out;
  for (const auto& e : entries) {
    at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.dtype == at::kBool ? at::kByte : e.dtype));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), data + e.begin, e.end - e.begin);
    if (e.dtype == at::kBool) t = t.ne(0);
    out.emplace_back(e.name, std::move(t));
  }
  return out;
}

NamedTensors load_safetensors_weights(const std::string& path) {
  return parse_safetensors(read_file(path), "'" + path + "'");
}

}  // namespace mlopt
