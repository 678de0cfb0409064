#pragma once
// A small, defensive pickle virtual machine for reading torch.save files.
//
// It knows the opcodes that pickle protocols 2-4 emit for containers and
// primitives. It never imports or calls anything itself: GLOBAL/STACK_GLOBAL
// ask `PickleHooks::find_class` (which refuses names not on its allowlist,
// before anything else happens), and REDUCE/NEWOBJ/BINPERSID hand their
// arguments to the hooks, which build opaque objects (tensors, storages) the
// caller keeps. Every read is bounds-checked; the machine has no recursion, so
// hostile input can only produce an mlopt::Error. LibTorch-free, so it stays
// light to compile and easy to fuzz.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mlopt {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Opaque };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;      // Int; Opaque: the handle the hooks gave it
  double real = 0;
  std::string text;         // String, Bytes; Global: "module.name"
  std::vector<PickleRef> items;                          // Tuple, List
  std::vector<std::pair<PickleRef, PickleRef>> entries;  // Dict, in insertion order (repeated keys kept)

  static PickleRef make(Kind kind);
  static PickleRef make_int(int64_t v);
  static PickleRef make_string(std::string s, Kind kind = Kind::String);
  static PickleRef make_opaque(int64_t handle);

  PickleValue() = default;
  PickleValue(const PickleValue&) = delete;
  PickleValue& operator=(const PickleValue&) = delete;
  // Frees nested containers iteratively: a hostile pickle can nest values a
  // million deep, and recursive destruction would overflow the stack.
  ~PickleValue();
};

// A name for a value's kind in messages ("a tuple", "an int").
std::string describe(const PickleValue& value);

class PickleHooks {
 public:
  virtual ~PickleHooks() = default;
  // Returns a Global value for `module.name`, or throws to refuse it.
  virtual PickleRef find_class(const std::string& module, const std::string& name) = 0;
  // `callable(*args)` for REDUCE and NEWOBJ; `callable` came from find_class.
  virtual PickleRef call(const PickleValue& callable, const PickleValue& args) = 0;
  // BINPERSID / PERSID.
  virtual PickleRef persistent_load(const PickleValue& pid) = 0;
  // BUILD (obj.__setstate__(state)); the default ignores the state.
  virtual void build(PickleValue& /*object*/, const PickleValue& /*state*/) {}
};

// Runs the pickle program in `bytes` and returns the value STOP leaves;
// `what` names the source in error messages.
PickleRef read_pickle(const std::string& bytes, PickleHooks& hooks, const std::string& what);

}  // namespace mlopt
