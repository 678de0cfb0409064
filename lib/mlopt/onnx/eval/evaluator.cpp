#include "mlopt/onnx/eval/evaluator.h"

#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <set>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/graph_runner.h"
#include "mlopt/onnx/proto/dtype.h"
#include "mlopt/onnx/proto/model_file.h"
#include "mlopt/onnx/proto/tensor.h"

namespace mlopt::onnx_eval {

using onnx_proto::scalar_type_of_onnx;
using onnx_proto::tensor_from_proto;

struct Evaluator::Impl {
  onnx::ModelProto model;
  std::string what;
  int64_t opset = 0;
};

namespace {

constexpr int64_t kMinOpset = 7, kMaxOpset = 18;

void count_ops(const onnx::GraphProto& g, std::vector<std::string>& out) {
  for (const auto& n : g.node()) {
    out.push_back(n.op_type());
    for (const auto& a : n.attribute())
      if (a.has_g()) count_ops(a.g(), out);
  }
}

// Opsets 1-6 differ from 7+ in broadcasting (the `broadcast` attribute),
// is_test and several ops' inputs. A graph made only of ops whose meaning has
// not changed since opset 1 (consumed_inputs aside, which nothing reads) runs;
// any other op of such a graph is refused.
const std::set<std::string>& ops_unchanged_since_opset_1() {
  static const std::set<std::string> ops = {
      "Abs", "ArgMax", "ArgMin", "Ceil", "Elu", "Exp", "Floor", "GlobalAveragePool", "GlobalMaxPool",
      "HardSigmoid", "Identity", "InstanceNormalization", "LeakyRelu", "Log", "LogSoftmax", "Neg", "Not",
      "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
      "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Selu", "Shape", "Sigmoid", "Size",
      "Softmax", "Softplus", "Softsign", "Sqrt", "Tanh", "Transpose"};
  return ops;
}

int64_t default_domain_opset(const onnx::ModelProto& m, const std::string& what) {
  int64_t opset = -1;
  for (const auto& imp : m.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx") opset = imp.version();
  if (opset < 0) fail("{}: the model imports no standard ONNX opset", what);
  if (opset > kMaxOpset || opset < 1)
    fail("{}: opset {} is outside what the evaluator runs ({}..{}; 13-17 fully)", what, opset, kMinOpset, kMaxOpset);
  if (opset < kMinOpset) {
    std::vector<std::string> ops;
    if (m.has_graph()) count_ops(m.graph(), ops);
    for (const auto& op : ops)
      if (!ops_unchanged_since_opset_1().count(op))
        fail("{}: opset {} is outside what the evaluator runs ({}..{}; 13-17 fully; before {} only ops whose meaning "
             "has not changed since, and {} has)",
             what, opset, kMinOpset, kMaxOpset, kMinOpset, op);
  }
  return opset;
}

}  // namespace

Evaluator Evaluator::load(const std::string& path) {
  return Evaluator(onnx_proto::read_model_file(path), "'" + path + "'");
}

Evaluator Evaluator::from_bytes(const std::string& bytes, const std::string& what) {
  return Evaluator(onnx_proto::parse_model(bytes, what), what);
}

Evaluator::Evaluator(const onnx::ModelProto& model, const std::string& what) : impl_(std::make_unique<Impl>()) {
  impl_->model = model;
  impl_->what = what;
  if (!model.has_graph()) fail("{}: the model has no graph", what);
  if (model.graph().output_size() == 0) fail("{}: the graph has no outputs", what);
  impl_->opset = default_domain_opset(model, what);
  // Decode initializers once, up front, so corrupt tensors fail at load time.
  for (const auto& init : model.graph().initializer())
    tensor_from_proto(init, fmt::format("{}: initializer '{}'", what, init.name()));
  execution_order(model.graph(), nullptr, what);
}

Evaluator::~Evaluator() = default;
Evaluator::Evaluator(Evaluator&&) noexcept = default;
Evaluator& Evaluator::operator=(Evaluator&&) noexcept = default;

std::vector<at::Tensor> Evaluator::run(const std::vector<at::Tensor>& inputs) const {
  torch::NoGradGuard no_grad;
  const auto& graph = impl_->model.graph();
  auto specs = input_specs();
  if (inputs.size() != specs.size())
    fail("{}: the model takes {} input(s) ({}), got {}", impl_->what, specs.size(),
         fmt::join(input_names(), ", "), inputs.size());
  std::vector<at::Tensor> bound;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& spec = specs[i];
    const auto& t = inputs[i];
    if (static_cast<int64_t>(spec.dims.size()) != t.dim() && !spec.dims.empty())
      fail("{}: input '{}' has {} dims, the model expects {} ({})", impl_->what, spec.name, t.dim(), spec.dims.size(),
           spec.to_string());
    for (size_t d = 0; d < spec.dims.size(); ++d)
      if (!spec.dims[d].dynamic() && spec.dims[d].size > 0 && t.size(static_cast<int64_t>(d)) != spec.dims[d].size)
        fail("{}: input '{}' dim {} is {}, the model fixes it at {} ({})", impl_->what, spec.name, d,
             t.size(static_cast<int64_t>(d)), spec.dims[d].size, spec.to_string());
    bound.push_back(t);
  }
  // Graph inputs in order; the bound tensors are the non-initializer ones.
  std::set<std::string> inits;
  for (const auto& init : graph.initializer()) inits.insert(init.name());
  std::vector<at::Tensor> ordered;
  size_t next = 0;
  for (const auto& in : graph.input()) {
    if (inits.count(in.name())) break;  // initializer-backed inputs keep their defaults
    ordered.push_back(bound[next++]);
  }
  return run_graph(graph, ordered, nullptr, impl_->opset, impl_->what);
}

std::vector<std::string> Evaluator::input_names() const {
  std::set<std::string> inits;
  for (const auto& init : impl_->model.graph().initializer()) inits.insert(init.name());
  std::vector<std::string> names;
  for (const auto& in : impl_->model.graph().input())
    if (!inits.count(in.name())) names.push_back(in.name());
  return names;
}

std::vector<InputSpec> Evaluator::input_specs() const {
  std::set<std::string> inits;
  for (const auto& init : impl_->model.graph().initializer()) inits.insert(init.name());
  std::vector<InputSpec> specs;
  for (const auto& in : impl_->model.graph().input()) {
    if (inits.count(in.name())) continue;
    InputSpec spec;
    spec.name = in.name();
    if (in.type().has_tensor_type()) {
      const auto& tt = in.type().tensor_type();
      spec.dtype = onnx_proto::onnx_dtype_name(tt.elem_type());
      if (spec.dtype.empty()) spec.dtype = "float32";  // a type tensors cannot hold: fed as float32
      for (const auto& d : tt.shape().dim()) {
        Dim dim;
        if (d.has_dim_value() && d.dim_value() > 0) {
          dim.size = d.dim_value();
        } else {
          dim.size = 1;
          dim.name = d.has_dim_param() && !d.dim_param().empty() ? d.dim_param() : "dim" + std::to_string(spec.dims.size());
        }
        spec.dims.push_back(dim);
      }
    }
    specs.push_back(spec);
  }
  return specs;
}

std::vector<std::string> Evaluator::output_names() const {
  std::vector<std::string> names;
  for (const auto& o : impl_->model.graph().output()) names.push_back(o.name());
  return names;
}

int64_t Evaluator::opset() const { return impl_->opset; }

int64_t Evaluator::parameter_count() const {
  int64_t n = 0;
  for (const auto& init : impl_->model.graph().initializer()) {
    int64_t e = 1;
    for (auto d : init.dims()) e *= d;
    n += e;
  }
  return n;
}

int64_t Evaluator::parameter_bytes() const {
  int64_t n = 0;
  for (const auto& init : impl_->model.graph().initializer()) {
    int64_t e = 1;
    for (auto d : init.dims()) e *= d;
    n += e * static_cast<int64_t>(c10::elementSize(scalar_type_of_onnx(init.data_type(), "initializer")));
  }
  return n;
}

std::vector<std::string> Evaluator::op_types() const {
  std::vector<std::string> ops;
  count_ops(impl_->model.graph(), ops);
  return ops;
}

const onnx::ModelProto& Evaluator::model() const { return impl_->model; }

}  // namespace mlopt::onnx_eval
