#pragma once
// The op converter registry and the context a converter works in.
//
// Every TorchScript value maps to a Val: a constant known at export time (an
// IValue: weights, ints, static shapes, None, strings), a dynamic ONNX value
// (a tensor, or a number held as a 0-d tensor), or a list/tuple whose items
// are Vals. Nodes whose inputs are all constants are folded by running them;
// the others go to the converter registered for their kind:
//
//   REGISTER_CONVERTER("aten::relu", convert_relu);
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <fmt/format.h>

#include <functional>
#include <unordered_map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlopt/core/registry.h"
#include "mlopt/onnx/graph_builder.h"
#include "mlopt/onnx/shape_probe.h"

namespace mlopt::onnx_export {

struct Val;
using ValPtr = std::shared_ptr<Val>;

struct Val {
  enum class Kind { kConstant, kDynamic, kList };
  Kind kind = Kind::kConstant;
  c10::IValue constant;          // kConstant
  std::string name;              // kDynamic: the ONNX value name
  bool number = false;           // kDynamic: a TorchScript int/float/bool held as a 0-d tensor
  c10::ScalarType dtype = at::kFloat;  // kDynamic: element type
  int64_t rank = -1;             // kDynamic: -1 unknown
  std::vector<ValPtr> items;     // kList
  bool tuple = false;            // kList
  bool dict = false;             // kList holding a dict: keys[k] maps to items[k] (insertion order)
  std::vector<c10::IValue> keys; // kList with dict: the keys, known at export time
  // kDynamic: a list of tensors filled by a loop of run-time length, held as
  // one tensor of them stacked along a new dim 0 (a Loop's scan output).
  bool stacked = false;

  bool is_constant() const { return kind == Kind::kConstant; }
  bool is_dynamic() const { return kind == Kind::kDynamic; }
  bool is_list() const { return kind == Kind::kList; }
  static ValPtr of_constant(c10::IValue v);
  static ValPtr of_tensor(std::string name, c10::ScalarType dtype, int64_t rank);
  static ValPtr of_number(std::string name, c10::ScalarType dtype);
  static ValPtr of_list(std::vector<ValPtr> items, bool tuple);
  static ValPtr of_dict(std::vector<c10::IValue> keys, std::vector<ValPtr> items);
};

class Converter;

// What a converter sees: its node, its inputs as Vals, the builder and the
// probed shapes. Helpers turn any input into an ONNX value name.
class Context {
 public:
  Context(Converter& conv, const torch::jit::Node* node) : conv_(conv), node_(node) {}
  const torch::jit::Node* node() const { return node_; }
  GraphBuilder& b();
  int opset() const;
  const ShapeInfo& shapes() const;

  size_t num_inputs() const { return node_->inputs().size(); }
  ValPtr in(size_t i) const;
  bool is_none(size_t i) const;
  bool is_constant(size_t i) const { return in(i)->is_constant(); }
  c10::IValue constant(size_t i) const;  // fails naming the op when input i is not constant
  int64_t to_int(size_t i) const { return constant(i).toInt(); }
  double to_double(size_t i) const { return constant(i).toScalar().toDouble(); }
  bool to_bool(size_t i) const { return constant(i).toBool(); }
  std::vector<int64_t> to_ints(size_t i) const;
  at::Tensor const_tensor(size_t i) const { return constant(i).toTensor(); }

  // Input i as an ONNX tensor name (constants become initializers; numbers 0-d tensors).
  std::string tensor(size_t i) const { return materialize(in(i)); }
  std::string materialize(const ValPtr& v) const;
  // Input i (an int list, static or partly dynamic) as a 1-D int64 tensor.
  std::string ints_1d(size_t i) const { return ints_1d(in(i)); }
  std::string ints_1d(const ValPtr& v) const;
  // Input i cast to `type` when needed (for scalars mixed into tensor ops).
  std::string tensor_as(size_t i, c10::ScalarType type) const;

  // Element type and rank of input i (constants, dynamic values, probe).
  c10::ScalarType dtype(size_t i) const;
  int64_t rank(size_t i) const;  // fails when unknown
  std::optional<TensorInfo> info(size_t i) const;
  std::optional<TensorInfo> out_info(size_t i = 0) const;
  c10::ScalarType out_dtype(size_t i = 0) const;

  // Binds output i of the node.
  void set(size_t i, ValPtr v);
  void set_tensor(size_t i, const std::string& name);  // dtype/rank from the probe or JIT type
  void set_number(size_t i, const std::string& name, c10::ScalarType dtype);
  // Rebinds a value (in-place ops: later uses of `input i` see the result).
  void rebind_input(size_t i, ValPtr v);
  // Output i once set.
  ValPtr out(size_t i) const;

  [[noreturn]] void fail_op(const std::string& what) const;
  std::string where() const;  // source location of the node

  Converter& converter() { return conv_; }

 private:
  Converter& conv_;
  const torch::jit::Node* node_;
};

using ConvertFn = std::function<void(Context&)>;

struct ConverterTag;
using ConverterRegistry = Registry<ConvertFn, ConverterTag>;
ConverterRegistry& converter_registry();
const ConvertFn* find_converter(const std::string& kind);

struct ConverterRegistrar {
  ConverterRegistrar(std::initializer_list<const char*> kinds, ConvertFn fn);
};

// Input i as a list Val whose items can change (append, l[i] = v): a constant
// list is turned into one in place, so that every later use sees the change.
ValPtr mutable_list(Context& ctx, size_t i);
// The items of list input i (a list Val, or a constant list), without changing it.
std::vector<ValPtr> list_items(Context& ctx, size_t i);

// A dim index as PyTorch takes it (negative counts from the end) counted from the front.
inline int64_t normalize_dim(int64_t d, int64_t rank) { return d < 0 ? d + rank : d; }

// ONNX op helpers shared by converters.
std::string unsqueeze(Context& ctx, const std::string& x, const std::vector<int64_t>& axes);
std::string squeeze(Context& ctx, const std::string& x, const std::vector<int64_t>& axes);
std::string cast(Context& ctx, const std::string& x, c10::ScalarType to);
std::string shape_of(Context& ctx, const std::string& x);
// sqrt(x) with +inf kept (ONNX Runtime's float Sqrt gives NaN for +inf; PyTorch inf).
std::string sqrt_of(Context& ctx, const std::string& x);
// Dim `d` of x's shape as a 1-D [1] int64 tensor.
std::string dim_1d(Context& ctx, const std::string& x, int64_t d);

// Index of the node's argument named `name` in its schema (overloads differ
// in their arguments: var(x, unbiased) / var(x, dim, correction=...)).
std::optional<size_t> schema_arg(const torch::jit::Node* node, const std::string& name);

// Dicts (ops/dict.cpp): whether v is a dict, and d[key] (aten::__getitem__
// serves lists and dicts alike).
bool is_dict(const ValPtr& v);
void convert_dict_getitem(Context& ctx);

// nonzero_numpy(x) (ops/indexing.cpp), also torch.where(x) with one argument.
void convert_nonzero_numpy(Context& ctx);

// The in-place form of converter F (x.add_(y), x.index_put_(...)), for the ops
// left in place after RemoveTensorMutation: F's result replaces the mutated
// input for every later use.
template <void (*F)(Context&)>
void in_place(Context& ctx) {
  F(ctx);
  ctx.rebind_input(0, ctx.out(0));
}

}  // namespace mlopt::onnx_export

// REGISTER_CONVERTER({"aten::relu", "aten::relu_"}, convert_relu);
#define REGISTER_CONVERTER(...) MLOPT_STATIC_REGISTRAR(::mlopt::onnx_export::ConverterRegistrar, __VA_ARGS__)
