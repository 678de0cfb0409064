#pragma once
// The functions and methods a model's __init__ may call (range, list.append,
// self.register_buffer, nn.Linear, torch.zeros ...) as a table of builtin
// groups, registered like layers: each group is one file under builtins/ that
// names the builtins it implements. A name is looked up exactly, then by its
// longest registered prefix ("torch.nn.", "math.").
#include <optional>
#include <string>
#include <vector>

#include "mlopt/core/registry.h"
#include "mlopt/script/init_evaluator.h"

namespace mlopt::script {

// One call of a builtin: its arguments and what it may use of the evaluator.
class BuiltinCall {
 public:
  BuiltinCall(InitEvaluator& evaluator, const std::string& name, const PyValue& callee, const PyList& args,
              const KwArgs& kwargs, const torch::jit::SourceRange& range)
      : name(name), callee(callee), args(args), kwargs(kwargs), range(range), evaluator_(evaluator) {}

  const std::string& name;  // "range", "list.append", "torch.nn.Linear"
  const PyValue& callee;    // bound methods: callee.bound (a value) or callee.module
  const PyList& args;
  const KwArgs& kwargs;
  const torch::jit::SourceRange& range;

  // Fails naming the call's line unless lo <= args.size() <= hi.
  void need(size_t lo, size_t hi) const;
  int64_t need_int(const PyValue& v) const;
  const PyValue* kwarg(const std::string& key) const;

  PyList iterate(const PyValue& v) const { return evaluator_.iterate(v, range); }
  PyValue get_attr(const PyValue& object, const std::string& attr) const { return evaluator_.get_attr(object, attr, range); }
  void set_attr(const PyValue& object, const std::string& attr, const PyValue& value) const {
    evaluator_.set_attr(object, attr, value, range);
  }
  void check_elements(double count, const std::string& what) const { evaluator_.check_elements(count, range, what); }
  void check_insert(const PyValue& container, const PyValue& value) const {
    evaluator_.check_insert(container, value, range);
  }
  PyValue make_tensor(const std::string& fn) const { return evaluator_.make_tensor(fn, args, kwargs, range); }
  LayerContext& ctx() const { return evaluator_.ctx_; }

 private:
  InitEvaluator& evaluator_;
};

using BuiltinFn = PyValue (*)(const BuiltinCall&);

struct BuiltinGroup {
  std::string group;                // "python", "containers", "module", "torch"
  std::vector<std::string> names;   // exact names, or prefixes ending in '.'
  BuiltinFn call;
};

struct BuiltinRegistrar {
  explicit BuiltinRegistrar(BuiltinGroup group);
};

// The group implementing `name`, or nullptr.
const BuiltinGroup* find_builtin(const std::string& name);
// Names that resolve to a builtin when used bare in a model file (range, len ...).
bool is_bare_builtin(const std::string& name);

// Python int results outside int64 are an error naming the line.
int64_t checked_or_fail(std::optional<int64_t> value, const torch::jit::SourceRange& range, const std::string& what);

}  // namespace mlopt::script

#define MLOPT_REGISTER_BUILTINS(...) \
  MLOPT_STATIC_REGISTRAR(::mlopt::script::BuiltinRegistrar, ::mlopt::script::BuiltinGroup{__VA_ARGS__})
