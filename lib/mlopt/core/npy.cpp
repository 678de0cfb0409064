#include "mlopt/core/npy.h"

#include <cctype>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/zip_archive.h"

namespace mlopt {
namespace {

struct DtypeCode {
  const char* numpy;  // descr without byte order
  const char* name;
  size_t size;
};

const DtypeCode kDtypes[] = {
    {"f4", "float32", 4}, {"f8", "float64", 8}, {"f2", "float16", 2}, {"i8", "int64", 8},
    {"i4", "int32", 4},   {"i2", "int16", 2},   {"i1", "int8", 1},    {"u1", "uint8", 1},
    {"b1", "bool", 1},    {"u2", "uint16", 2},  {"u4", "uint32", 4},  {"u8", "uint64", 8},
};

const DtypeCode* find_by_numpy(const std::string& code) {
  for (const auto& d : kDtypes)
    if (code == d.numpy) return &d;
  return nullptr;
}
const DtypeCode* find_by_name(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

// Extracts the value text of 'key' from numpy's header dict literal.
std::string header_value(const std::string& header, const std::string& key, const std::string& what) {
  auto k = header.find("'" + key + "'");
  if (k == std::string::npos) fail("{}: npy header has no '{}' field", what, key);
  auto colon = header.find(':', k);
  if (colon == std::string::npos) fail("{}: malformed npy header", what);
  size_t i = colon + 1;
  while (i < header.size() && header[i] == ' ') ++i;
  if (i >= header.size()) fail("{}: malformed npy header", what);
  if (header[i] == '(') {
    auto close = header.find(')', i);
    if (close == std::string::npos) fail("{}: malformed npy header (shape)", what);
    return header.substr(i, close - i + 1);
  }
  auto end = header.find_first_of(",}", i);
  if (end == std::string::npos) fail("{}: malformed npy header", what);
  std::string v = header.substr(i, end - i);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

std::vector<int64_t> parse_shape(const std::string& tuple, const std::string& what) {
  std::vector<int64_t> shape;
  // A Python tuple: "(3, 4)", "(5,)", "()". Anything else (even empty) is refused.
  if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')')
    fail("{}: malformed npy shape '{}' (expected a tuple such as (3, 4))", what, tuple);
  std::string inner = tuple.substr(1, tuple.size() - 2);
  size_t i = 0;
  while (i < inner.size()) {
    while (i < inner.size() && (inner[i] == ' ' || inner[i] == ',')) ++i;
    if (i >= inner.size()) break;
    if (!std::isdigit(static_cast<unsigned char>(inner[i]))) fail("{}: malformed npy shape '{}'", what, tuple);
    int64_t v = 0;
    while (i < inner.size() && std::isdigit(static_cast<unsigned char>(inner[i]))) {
      v = v * 10 + (inner[i] - '0');
      if (v > (int64_t{1} << 40)) fail("{}: npy shape '{}' is absurdly large", what, tuple);
      ++i;
    }
    shape.push_back(v);
  }
  return shape;
}

}  // namespace

size_t dtype_item_size(const std::string& dtype) {
  const DtypeCode* d = find_by_name(dtype);
  if (d == nullptr) fail("unsupported dtype '{}'", dtype);
  return d->size;
}

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}
size_t NpyArray::item_size() const { return dtype_item_size(dtype); }

NpyArray parse_npy(const std::string& b, const std::string& what) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) fail("{}: not a .npy file (bad magic)", what);
  int major = static_cast<unsigned char>(b[6]);
  size_t header_len, header_off;
  if (major == 1) {
    header_len = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    header_off = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) fail("{}: truncated .npy header", what);
    header_len = 0;
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(b[8 + i]);
    header_off = 12;
  } else {
    fail("{}: unsupported .npy version {}", what, major);
  }
  if (header_off + header_len > b.size()) fail("{}: truncated .npy header", what);
  std::string header = b.substr(header_off, header_len);

  std::string descr = header_value(header, "descr", what);
  if (descr.size() < 4 || (descr.front() != '\'' && descr.front() != '"'))
    fail("{}: unsupported npy dtype {}", what, descr);
  descr = descr.substr(1, descr.size() - 2);
  char order = descr[0];
  if (order == '>') fail("{}: big-endian arrays are not supported (dtype {})", what, descr);
  const DtypeCode* code = find_by_numpy(descr.substr(1));
  if (code == nullptr || (order != '<' && order != '|' && order != '='))
    fail("{}: unsupported npy dtype '{}' (expected a numeric dtype such as <f4 or <i8)", what, descr);
  if (header_value(header, "fortran_order", what) != "False")
    fail("{}: Fortran-ordered arrays are not supported (save with np.ascontiguousarray)", what);

  NpyArray a;
  a.dtype = code->name;
  a.shape = parse_shape(header_value(header, "shape", what), what);
  // Check the declared size against the data actually present before allocating.
  uint64_t numel = 1;
  for (auto s : a.shape) {
    if (s != 0 && numel > (uint64_t{1} << 40) / static_cast<uint64_t>(s)) fail("{}: declared shape is absurdly large", what);
    numel *= static_cast<uint64_t>(s);
  }
  uint64_t nbytes = numel * code->size;
  size_t data_off = header_off + header_len;
  if (b.size() - data_off < nbytes)
    fail("{}: truncated .npy data (header declares {} bytes, file has {})", what, nbytes, b.size() - data_off);
  a.data = b.substr(data_off, nbytes);
  return a;
}

std::string serialize_npy(const NpyArray& a) {
  const DtypeCode* code = find_by_name(a.dtype);
  if (code == nullptr) fail("cannot write dtype '{}' to .npy", a.dtype);
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 ? "," : (i + 1 < a.shape.size() ? ", " : ""));
  shape += ")";
  char order = code->size == 1 ? '|' : '<';
  std::string header = fmt::format("{{'descr': '{}{}', 'fortran_order': False, 'shape': {}, }}", order, code->numpy, shape);
  // Pad so that the data starts on a 64-byte boundary, ending the header with '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out += a.data;
  return out;
}

NpyArray read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

std::vector<std::pair<std::string, NpyArray>> parse_npz(const std::string& bytes, const std::string& what) {
  std::vector<std::pair<std::string, NpyArray>> arrays;
  for (auto& entry : read_zip(bytes, what)) {
    std::string name = entry.name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    arrays.emplace_back(name, parse_npy(entry.data, what + ":" + entry.name));
  }
  return arrays;
}

std::vector<std::pair<std::string, NpyArray>> read_npz(const std::string& path) {
  return parse_npz(read_file(path), path);
}

void write_npy(const std::string& path, const NpyArray& array) { write_file_atomically(path, serialize_npy(array)); }

void write_npz(const std::string& path, const std::vector<std::pair<std::string, NpyArray>>& arrays) {
  std::vector<ZipEntry> entries;
  for (const auto& [name, a] : arrays) entries.push_back({name + ".npy", serialize_npy(a)});
  write_file_atomically(path, write_zip(entries));
}

}  // namespace mlopt
