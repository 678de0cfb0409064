// torch.save(state_dict) files: a zip archive holding `<root>/data.pkl` (a
// pickle of an OrderedDict of tensors) and `<root>/data/<key>` (one record per
// storage). The pickle runs on our own pickle VM with an allowlist of globals,
// like torch.load(weights_only=True): nothing in the file can run code.
#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <map>
#include <cstring>
#include <set>
#include <unordered_map>

#include <fmt/ranges.h>

#include "mlopt/core/error.h"
#include "mlopt/core/zip_archive.h"
#include "mlopt/core/pickle_reader.h"
#include "mlopt/core/weights_file_formats.h"

namespace mlopt {
namespace {

using Kind = PickleValue::Kind;

// The storage classes torch.save names, by their pickle global.
const std::map<std::string, c10::ScalarType>& storage_types() {
  static const std::map<std::string, c10::ScalarType> types = {
      {"torch.FloatStorage", at::kFloat},     {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},       {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},       {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},     {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},       {"torch.BoolStorage", at::kBool},
      {"torch.ComplexFloatStorage", at::kComplexFloat}, {"torch.ComplexDoubleStorage", at::kComplexDouble},
  };
  return types;
}

const std::set<std::string>& allowed_functions() {
  static const std::set<std::string> names = {
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
  };
  return names;
}

// Builds tensors for the pickle VM; objects live here, the VM holds handles.
class TensorHooks : public PickleHooks {
 public:
  TensorHooks(caffe2::serialize::PyTorchStreamReader& reader, std::string what) : reader_(reader), what_(std::move(what)) {}

  PickleRef find_class(const std::string& module, const std::string& name) override {
    std::string full = module + "." + name;
    if (!allowed_functions().count(full) && !storage_types().count(full))
      fail("{}: refusing to load pickle global '{}' (only tensors, containers and primitives are allowed)", what_,
           full);
    return PickleValue::make_string(full, Kind::Global);
  }

  PickleRef call(const PickleValue& callable, const PickleValue& args) override {
    const std::string& f = callable.text;
    if (f == "collections.OrderedDict") return ordered_dict(args);
    if (f == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(args);
    if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
      if (args.items.empty() || !is_tensor(*args.items[0])) bad("{} expects a tensor", f);
      return args.items[0];
    }
    bad("'{}' cannot be called", f);
  }

  // ('storage', storage class, key, location, numel): the record data/<key>.
  PickleRef persistent_load(const PickleValue& pid) override {
    if (pid.kind != Kind::Tuple || pid.items.size() != 5) bad("persistent id is {}, expected a 5-tuple", describe(pid));
    const auto& it = pid.items;
    if (it[0]->kind != Kind::String || it[0]->text != "storage") bad("persistent id is not a storage");
    if (it[1]->kind != Kind::Global || !storage_types().count(it[1]->text))
      bad("persistent id names {}, not a storage class", describe(*it[1]));
    if (it[2]->kind != Kind::String) bad("storage key is {}, not a string", describe(*it[2]));
    int64_t numel = integer(*it[4], "storage size");
    c10::ScalarType dtype = storage_types().at(it[1]->text);
    const std::string& key = it[2]->text;
    auto cached = storages_.find(key);
    if (cached != storages_.end()) {
      const at::Tensor& s = objects_[cached->second];
      if (s.scalar_type() != dtype || s.numel() < numel) bad("storage '{}' is used with two different types", key);
      return PickleValue::make_opaque(cached->second);
    }
    at::Tensor storage = read_storage(key, dtype, numel);
    objects_.push_back(storage);
    is_storage_.push_back(true);
    storages_[key] = objects_.size() - 1;
    return PickleValue::make_opaque(static_cast<int64_t>(objects_.size() - 1));
  }

  bool is_tensor(const PickleValue& v) const {
    return v.kind == Kind::Opaque && v.integer >= 0 && static_cast<size_t>(v.integer) < objects_.size() &&
           !is_storage_[v.integer];
  }
  const at::Tensor& tensor(const PickleValue& v) const { return objects_.at(v.integer); }

 private:
  template <typename... Args>
  [[noreturn]] void bad(fmt::format_string<Args...> format, Args&&... args) {
    fail("{}: malformed state_dict pickle: {}", what_, fmt::format(format, std::forward<Args>(args)...));
  }

  int64_t integer(const PickleValue& v, const char* field) {
    if (v.kind != Kind::Int) bad("{} is {}, not an int", field, describe(v));
    if (v.integer < 0) bad("{} is negative ({})", field, v.integer);
    return v.integer;
  }

  std::vector<int64_t> int_tuple(const PickleValue& v, const char* field) {
    if (v.kind != Kind::Tuple && v.kind != Kind::List) bad("{} is {}, not a tuple", field, describe(v));
    if (v.items.size() > 64) bad("{} has {} dims", field, v.items.size());
    std::vector<int64_t> out;
    for (const auto& item : v.items) out.push_back(integer(*item, field));
    return out;
  }

  PickleRef ordered_dict(const PickleValue& args) {
    auto dict = PickleValue::make(Kind::Dict);
    if (args.items.empty()) return dict;
    // OrderedDict([(key, value), ...])
    const PickleValue& pairs = *args.items[0];
    if (args.items.size() != 1 || (pairs.kind != Kind::List && pairs.kind != Kind::Tuple))
      bad("OrderedDict arguments are not a list of pairs");
    for (const auto& p : pairs.items) {
      if (p->kind != Kind::Tuple || p->items.size() != 2) bad("OrderedDict arguments are not a list of pairs");
      dict->entries.emplace_back(p->items[0], p->items[1]);
    }
    return dict;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  PickleRef rebuild_tensor(const PickleValue& args) {
    const auto& a = args.items;
    if (a.size() < 4) bad("_rebuild_tensor_v2 takes at least 4 arguments, got {}", a.size());
    if (a[0]->kind != Kind::Opaque || a[0]->integer < 0 || static_cast<size_t>(a[0]->integer) >= objects_.size() ||
        !is_storage_[a[0]->integer])
      bad("_rebuild_tensor_v2 expects a storage, got {}", describe(*a[0]));
    const at::Tensor& storage = objects_[a[0]->integer];
    int64_t offset = integer(*a[1], "storage offset");
    auto size = int_tuple(*a[2], "tensor size");
    auto stride = int_tuple(*a[3], "tensor stride");
    if (size.size() != stride.size()) bad("tensor size has {} dims but stride has {}", size.size(), stride.size());
    // The last element the view touches must lie inside the storage.
    __int128 last = offset, numel = 1;
    for (size_t i = 0; i < size.size(); ++i) {
      numel *= size[i];
      if (numel > (__int128{1} << 62)) bad("tensor size is too large");
      if (size[i] > 0) last += static_cast<__int128>(size[i] - 1) * stride[i];
    }
    if (numel > 0 && last >= storage.numel())
      fail("{}: a tensor of size [{}] at offset {} needs {} elements but its storage holds {}", what_,
           fmt::join(size, ", "), offset, static_cast<int64_t>(last + 1), storage.numel());
    objects_.push_back(storage.as_strided(size, stride, numel > 0 ? offset : 0));
    is_storage_.push_back(false);
    return PickleValue::make_opaque(static_cast<int64_t>(objects_.size() - 1));
  }

  at::Tensor read_storage(const std::string& key, c10::ScalarType dtype, int64_t numel) {
    std::string record = "data/" + key;
    if (!reader_.hasRecord(record)) fail("{}: storage record '{}' is missing from the archive", what_, record);
    auto [data, bytes] = reader_.getRecord(record);
    size_t item = c10::elementSize(dtype);
    if (static_cast<uint64_t>(numel) > bytes / item)
      fail("{}: storage '{}' declares {} elements of {} but its record holds {} bytes", what_, key, numel,
           c10::toString(dtype), bytes);
    at::Tensor storage = at::empty({numel}, at::TensorOptions().dtype(dtype));
    if (numel > 0) std::memcpy(storage.data_ptr(), data.get(), numel * item);
    if (dtype == at::kBool) storage = storage.view(at::kByte).ne(0);  // any non-zero byte is true
    return storage;
  }

  caffe2::serialize::PyTorchStreamReader& reader_;
  std::string what_;
  std::vector<at::Tensor> objects_;
  std::vector<bool> is_storage_;
  std::unordered_map<std::string, size_t> storages_;
};

// A checkpoint often wraps the state_dict: {"epoch": 3, "model_state_dict": {...}, "optimizer_state_dict": ...}.
const PickleValue& state_dict_of(const PickleValue& root, const TensorHooks& hooks, const std::string& what) {
  if (root.kind != Kind::Dict) fail("{}: expected a state_dict (a dict of tensors), found {}", what, describe(root));
  bool all_tensors = true;
  for (const auto& [key, value] : root.entries) all_tensors = all_tensors && hooks.is_tensor(*value);
  if (all_tensors) return root;
  // The names training loops use for it, in this order of preference.
  for (const char* wrapper : {"state_dict", "model_state_dict", "model", "net"}) {
    for (const auto& [key, value] : root.entries)
      if (key->kind == Kind::String && key->text == wrapper && value->kind == Kind::Dict) return *value;
  }
  for (const auto& [key, value] : root.entries)
    if (!hooks.is_tensor(*value))
      fail("{}: entry '{}' is {}, not a tensor (expected a state_dict, or a checkpoint with a 'state_dict', "
           "'model_state_dict', 'model' or 'net' entry)",
           what, key->kind == Kind::String ? key->text : describe(*key), describe(*value));
  return root;
}

// The entry `key` of a checkpoint ("ema.model": nested dicts), named in the error when absent.
const PickleValue& entry_of(const PickleValue& root, const std::string& key, const std::string& what) {
  const PickleValue* at = &root;
  size_t start = 0;
  while (start <= key.size()) {
    size_t dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (at->kind != Kind::Dict) fail("{}: cannot look up '{}' in {}", what, part, describe(*at));
    const PickleValue* next = nullptr;
    std::vector<std::string> keys;
    for (const auto& [k, v] : at->entries) {
      if (k->kind != Kind::String) continue;
      keys.push_back(k->text);
      if (k->text == part) next = v.get();
    }
    if (!next) fail("{}: no entry '{}' (weights key '{}'); the entries are: {}", what, part, key, fmt::join(keys, ", "));
    at = next;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (at->kind != Kind::Dict) fail("{}: entry '{}' is {}, not a state_dict", what, key, describe(*at));
  return *at;
}

NamedTensors collect_tensors(const PickleValue& dict, const TensorHooks& hooks, const std::string& what) {
  NamedTensors out;
  std::unordered_map<std::string, size_t> index;
  for (const auto& [key, value] : dict.entries) {
    if (key->kind != Kind::String) fail("{}: a state_dict key is {}, not a string", what, describe(*key));
    if (!hooks.is_tensor(*value)) fail("{}: entry '{}' is {}, not a tensor", what, key->text, describe(*value));
    auto [it, fresh] = index.emplace(key->text, out.size());
    if (fresh)
      out.emplace_back(key->text, hooks.tensor(*value));
    else
      out[it->second].second = hooks.tensor(*value);  // a repeated key: the last value wins, as in Python
  }
  return out;
}

}  // namespace

NamedTensors load_torch_zip_weights(const std::string& path, const std::string& key) {
  std::string what = "'" + path + "'";
  // LibTorch's zip reader (miniz) is not hardened against corrupt archives: check the zip first.
  check_zip_file(path, what + " is not a readable torch.save archive");
  return with_context(what + " is not a readable torch.save archive", [&] {
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("data.pkl")) fail("{}: not a torch.save archive (no data.pkl record)", what);
    if (reader.hasRecord("constants.pkl") || reader.hasRecord("code/__torch__.py"))
      fail("{} is a TorchScript model archive, not a state_dict; save weights with torch.save(model.state_dict(), path)",
           what);
    if (reader.hasRecord("byteorder")) {
      auto [data, size] = reader.getRecord("byteorder");
      if (std::string(static_cast<const char*>(data.get()), size) != "little")
        fail("{}: big-endian archives are not supported", what);
    }
    auto [data, size] = reader.getRecord("data.pkl");
    std::string program(static_cast<const char*>(data.get()), size);
    TensorHooks hooks(reader, what);
    PickleRef root = read_pickle(program, hooks, what);
    const PickleValue& dict = key.empty() ? state_dict_of(*root, hooks, what) : entry_of(*root, key, what);
    return collect_tensors(dict, hooks, what);
  });
}

}  // namespace mlopt
