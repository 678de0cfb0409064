#pragma once
// The layer library: one registry entry per torch.nn layer. A builder gets the
// bound constructor arguments and returns a TorchScript module with PyTorch's
// parameter and buffer names (so a state_dict maps 1:1), initialized as
// PyTorch initializes it, and a `forward` defined from a small source snippet.
#include <torch/script.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mlopt/core/registry.h"
#include "mlopt/script/parameter_budget.h"
#include "mlopt/script/py_value.h"

namespace mlopt::script {

struct LayerContext {
  std::shared_ptr<torch::jit::CompilationUnit> cu;
  at::Generator gen;  // seeded from --seed; used in PyTorch's initialization order
  ParameterBudget budget{};  // every tensor helper below counts against it
  std::string layer = "nn.Module";  // the layer being built, named in budget errors
  // Layer class types by what defines them (class, attributes, forward source):
  // equal layers share one type, as torch.jit.script's type sharing does, so a
  // ModuleList of 20000 equal layers compiles and saves one class, not 20000.
  std::map<std::string, c10::ClassTypePtr> shared_types;
};

// Constructor arguments bound to the layer's parameter names.
class LayerArgs {
 public:
  LayerArgs(std::string layer, std::map<std::string, PyValue> values)
      : layer_(std::move(layer)), values_(std::move(values)) {}
  const PyValue& operator[](const std::string& name) const;
  bool is_none(const std::string& name) const { return (*this)[name].kind == PyValue::Kind::None; }
  int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::string text(const std::string& name) const;
  // An int or a tuple/list of `n` ints (kernel_size=3 -> [3, 3]).
  std::vector<int64_t> ints(const std::string& name, size_t n) const;
  std::vector<int64_t> int_list(const std::string& name) const;
  const std::string& layer() const { return layer_; }
  const std::map<std::string, PyValue>& values() const { return values_; }

 private:
  [[noreturn]] void bad(const std::string& name, const std::string& expected) const;
  std::string layer_;
  std::map<std::string, PyValue> values_;
};

using LayerBuilder = std::function<torch::jit::Module(const LayerArgs&, LayerContext&)>;

struct LayerSpec {
  std::string name;       // "Linear" (looked up as torch.nn.Linear)
  std::string signature;  // "in_features, out_features, bias=True, device=None, dtype=None"
  LayerBuilder build;
};

struct LayerRegistrar {
  explicit LayerRegistrar(LayerSpec spec);
};
const LayerSpec* find_layer(const std::string& name);
std::vector<std::string> layer_names();

// Binds positional and keyword arguments to the signature; errors name the layer.
LayerArgs bind_layer_args(const LayerSpec& spec, const PyList& args, const std::vector<std::pair<std::string, PyValue>>& kwargs);

// Helpers for builders.
// A fresh module of a new class type named like PyTorch's (`torch.nn.modules.linear.Linear`),
// with the `training` attribute every module has.
torch::jit::Module new_module(LayerContext& ctx, const std::string& python_class);
// Defines methods from TorchScript source on the module (errors name the layer).
// Call it last: a module equal to one built before takes that one's class type.
void define_methods(LayerContext& ctx, torch::jit::Module& module, const std::string& source, const std::string& layer);
// The `padding_idx` of an embedding table of `rows` rows, negative values
// counted from the end as PyTorch does; -1 when it is None.
int64_t padding_row(const LayerArgs& a, int64_t rows);
// uniform(-bound, bound) drawn from the context generator.
at::Tensor uniform_tensor(LayerContext& ctx, at::IntArrayRef shape, double bound);
at::Tensor normal_tensor(LayerContext& ctx, at::IntArrayRef shape, double stddev = 1.0);
// Constant tensors, counted against the parameter budget like the two above.
at::Tensor zeros_tensor(LayerContext& ctx, at::IntArrayRef shape, at::ScalarType dtype = at::kFloat);
at::Tensor ones_tensor(LayerContext& ctx, at::IntArrayRef shape);
// TorchScript list literal of ints: [1, 2].
std::string int_list_literal(const std::vector<int64_t>& values);

}  // namespace mlopt::script

// MLOPT_REGISTER_LAYER("Linear", "in_features, out_features, bias=True, ...", build_linear);
#define MLOPT_REGISTER_LAYER(...) \
  MLOPT_STATIC_REGISTRAR(::mlopt::script::LayerRegistrar, ::mlopt::script::LayerSpec{__VA_ARGS__})
