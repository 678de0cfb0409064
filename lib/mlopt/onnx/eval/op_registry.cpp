#include "mlopt/onnx/eval/op_registry.h"

#include "mlopt/core/error.h"

namespace mlopt::onnx_eval {
namespace {
struct OpKernelTag;
using OpKernelRegistry = Registry<OpKernel, OpKernelTag>;
}  // namespace

void register_op(const std::string& op_type, OpKernel kernel) { OpKernelRegistry::instance().add(op_type, std::move(kernel)); }
const OpKernel* find_op(const std::string& op_type) { return OpKernelRegistry::instance().find(op_type); }
std::vector<std::string> registered_ops() { return OpKernelRegistry::instance().names(); }
std::vector<std::string> duplicate_ops() { return OpKernelRegistry::instance().duplicates(); }

OpRegistrar::OpRegistrar(std::initializer_list<const char*> names, OpKernel kernel) {
  OpKernelRegistry::instance().add_all(names, kernel);
}

void OpContext::fail(const std::string& message) const { throw Error(message); }

const at::Tensor& OpContext::input(size_t i) const {
  if (!has_input(i)) fail(fmt::format("input {} is required but missing", i));
  return inputs[i];
}

const onnx::AttributeProto* OpContext::attribute(const std::string& name) const {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t OpContext::attr_int(const std::string& name, int64_t fallback) const {
  const auto* a = attribute(name);
  return a ? a->i() : fallback;
}

double OpContext::attr_float(const std::string& name, double fallback) const {
  const auto* a = attribute(name);
  return a ? a->f() : fallback;
}

std::string OpContext::attr_string(const std::string& name, const std::string& fallback) const {
  const auto* a = attribute(name);
  return a ? a->s() : fallback;
}

std::vector<int64_t> OpContext::attr_ints(const std::string& name, std::vector<int64_t> fallback) const {
  const auto* a = attribute(name);
  if (!a) return fallback;
  return {a->ints().begin(), a->ints().end()};
}

std::vector<double> OpContext::attr_floats(const std::string& name) const {
  const auto* a = attribute(name);
  if (!a) return {};
  return {a->floats().begin(), a->floats().end()};
}

const onnx::GraphProto& OpContext::attr_graph(const std::string& name) const {
  const auto* a = attribute(name);
  if (!a || !a->has_g()) fail(fmt::format("attribute '{}' (a graph) is missing", name));
  return a->g();
}

std::vector<int64_t> to_int_vector(const at::Tensor& t) {
  auto c = t.to(at::kLong).contiguous().reshape({-1});
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

int64_t normalize_axis(int64_t axis, int64_t rank, const OpContext& ctx) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= std::max<int64_t>(rank, 1))
    ctx.fail(fmt::format("axis {} is out of range for rank {}", axis, rank));
  return a;
}

}  // namespace mlopt::onnx_eval
