#pragma once
// Evaluates `__init__` bodies (and the helper functions/methods they call) of
// a parsed model file: a small Python interpreter that builds the module tree
// (standard layers from the layer library, containers, user classes).
#include <ATen/TensorIndexing.h>
#include <torch/csrc/jit/frontend/tree_views.h>
#include <torch/script.h>

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "mlopt/script/layer_registry.h"
#include "mlopt/script/py_value.h"
#include "mlopt/script/source_file.h"

namespace mlopt::script {

using KwArgs = std::vector<std::pair<std::string, PyValue>>;

class InitEvaluator {
 public:
  InitEvaluator(const ParsedFile& file, LayerContext& ctx);
  // Instantiates a user class: `ClassName(*args, **kwargs)`.
  std::shared_ptr<ModuleObject> construct(const std::string& class_name, const PyList& args, const KwArgs& kwargs);
  // Value of a top-level constant, if the file defines it.
  const PyValue* constant(const std::string& name) const;
  // A lambda stored on a module (`self.act = lambda x: F.leaky_relu(x, slope)`) as the method `name` of
  // `self` that forward calls instead: `def name(self, x): return F.leaky_relu(x, 0.2)`, the closure's
  // numbers, strings and tuples written in as constants (forward_lambdas.cpp).
  torch::jit::Def lambda_method(const PyValue& lambda, const std::string& name,
                                const std::shared_ptr<ModuleObject>& self) const;

 private:
  friend class BuiltinCall;  // builtins (builtin_registry.h) use the evaluator's helpers below
  using Scope = std::map<std::string, PyValue>;
  enum class Flow { Normal, Break, Continue, Return };

  Flow exec_block(const torch::jit::List<torch::jit::Stmt>& body, Scope& scope, PyValue& result);
  Flow exec(const torch::jit::Stmt& stmt, Scope& scope, PyValue& result);
  void assign(const torch::jit::Expr& target, const PyValue& value, Scope& scope);
  PyValue eval(const torch::jit::Expr& expr, Scope& scope);
  PyValue eval_binary(const torch::jit::Expr& expr, Scope& scope);
  PyValue eval_apply(const torch::jit::Apply& apply, Scope& scope);
  PyValue lookup(const std::string& name, Scope& scope, const torch::jit::SourceRange& range);
  PyValue get_attr(const PyValue& object, const std::string& name, const torch::jit::SourceRange& range);
  void set_attr(const PyValue& object, const std::string& name, const PyValue& value, const torch::jit::SourceRange& range);
  PyValue subscript(const PyValue& object, const PyValue& index, const torch::jit::SourceRange& range);
  PyList iterate(const PyValue& value, const torch::jit::SourceRange& range);
  PyValue call(const PyValue& callee, const PyList& args, const KwArgs& kwargs, const torch::jit::SourceRange& range);
  // `owner`: the class defining a method (for super() inside it).
  PyValue call_def(const torch::jit::Def& def, const PyList& args, const KwArgs& kwargs,
                   const std::shared_ptr<ModuleObject>& self, const std::string& owner = "");
  // Runs the __init__ that `class_name` has or inherits (none: nothing to run).
  void run_init(const std::string& class_name, const std::shared_ptr<ModuleObject>& self, const PyList& args,
                const KwArgs& kwargs);
  // lambda (rewritten to __lambda__(body, params...)): a closure over the scope it was made in.
  PyValue make_lambda(const torch::jit::Apply& lambda, Scope& scope);
  PyValue call_lambda(size_t index, const PyList& args, const KwArgs& kwargs, const torch::jit::SourceRange& range);
  // Binds a call's arguments to a def's or lambda's parameters (*args, **kwargs, defaults evaluated in `defaults`).
  void bind_params(const std::string& fn, const std::vector<torch::jit::Param>& params, const PyList& args,
                   const KwArgs& kwargs, Scope& scope, Scope& defaults, const torch::jit::SourceRange& range);
  // A class-body attribute (`expansion = 4`) of the class or its user bases, evaluated once.
  std::optional<PyValue> class_attribute(const std::string& class_name, const std::string& name);
  void reserve_tensor(const std::string& name, const PyList& args, at::ScalarType dtype, const torch::jit::SourceRange& range);
  PyValue make_tensor(const std::string& name, const PyList& args, const KwArgs& kwargs, const torch::jit::SourceRange& range);
  std::vector<at::indexing::TensorIndex> tensor_indices(const torch::jit::Subscript& s, Scope& scope);
  void reserve_results(const PyValue& result, const std::string& what);
  PyValue call_torch(const std::string& name, const PyList& args, const KwArgs& kwargs, const torch::jit::SourceRange& range);

  // Budgets (see init_evaluator.cpp): each fails naming the line of `range`.
  void charge(double steps, const torch::jit::SourceRange& range);
  void check_elements(double count, const torch::jit::SourceRange& range, const std::string& what);
  void check_bytes(double count, const torch::jit::SourceRange& range, const std::string& what);
  void check_nesting(const PyValue& value, const torch::jit::SourceRange& range);
  // Refuses putting `value` into `container` when that would make the container hold itself.
  void check_insert(const PyValue& container, const PyValue& value, const torch::jit::SourceRange& range);

  const ParsedFile& file_;
  LayerContext& ctx_;
  Scope globals_;
  int depth_ = 0;
  // The method being evaluated: its class and self (super() resolves against them).
  std::vector<std::pair<std::string, std::shared_ptr<ModuleObject>>> frames_;
  double steps_ = 0;
  struct Closure {
    torch::jit::Apply lambda;
    Scope scope;
  };
  std::vector<Closure> closures_;
  std::map<std::string, PyValue> class_attributes_;  // "Class.name"
};

bool truthy(const PyValue& v);
// Python's == on the values __init__ handles.
bool values_equal(const PyValue& a, const PyValue& b);

}  // namespace mlopt::script
