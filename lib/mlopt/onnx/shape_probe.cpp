#include "mlopt/onnx/shape_probe.h"

#include <limits>
#include <map>

#include "mlopt/core/error.h"
#include "mlopt/onnx/converter_driver.h"
#include "mlopt/onnx/value_lifetimes.h"

namespace mlopt::onnx_export {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

bool TensorInfo::any_dynamic() const {
  for (bool d : dynamic)
    if (d) return true;
  return false;
}

std::optional<TensorInfo> ShapeInfo::find(const Value* v) const {
  auto it = infos.find(v);
  if (it == infos.end()) return std::nullopt;
  return it->second;
}

void ShapeInfo::record(const Value* v, const at::Tensor& t, bool second_run) {
  if (!t.defined()) return;
  auto sizes = t.sizes().vec();
  auto it = infos.find(v);
  if (it == infos.end()) {
    if (second_run) return;  // a branch not taken in the first run: sizes unknown
    TensorInfo info;
    info.dtype = t.scalar_type();
    info.sizes = sizes;
    info.dynamic.assign(sizes.size(), false);
    infos.emplace(v, std::move(info));
    return;
  }
  // Seen before (second run, or another loop iteration): dims that differ are dynamic.
  auto& info = it->second;
  if (info.sizes.size() != sizes.size()) return;  // rank changes across loop iterations: keep the first
  for (size_t d = 0; d < sizes.size(); ++d)
    if (info.sizes[d] != sizes[d]) info.dynamic[d] = true;
}

namespace {

using Env = std::unordered_map<const Value*, c10::IValue>;

struct Runner {
  ShapeInfo* record;
  bool second_run;
  bool meta;
  Env env;
  std::unordered_map<const Block*, DeathPlan> deaths;  // per block, planned once (loop bodies rerun)
  // Module attributes that forward writes (torchvision's warn-once flags) are
  // written here, not into the module: a probe never changes the model that
  // the converter reads afterwards.
  ModuleWrites module_writes;
  std::function<int64_t(const Node*)> shrink;  // RunOptions::shrink_data_dependent

  void set(const Value* v, c10::IValue iv) {
    if (record && iv.isTensor()) record->record(v, iv.toTensor(), second_run);
    env[v] = std::move(iv);
  }
  const c10::IValue& get(const Value* v) {
    auto it = env.find(v);
    if (it == env.end()) fail("internal: value %{} used before it is defined", v->debugName());
    return it->second;
  }

  std::vector<c10::IValue> run_block(const Block* block) {
    auto planned = deaths.find(block);
    if (planned == deaths.end()) planned = deaths.emplace(block, plan_value_deaths(block)).first;
    const DeathPlan& plan = planned->second;
    for (const Node* node : block->nodes()) {
      run_node(node);
      // Values read for the last time are dropped, so that their memory is reused.
      if (auto dying = plan.find(node); dying != plan.end())
        for (const Value* v : dying->second) env.erase(v);
    }
    std::vector<c10::IValue> outs;
    for (const Value* v : block->outputs()) outs.push_back(get(v));
    return outs;
  }

  void run_attribute(const Node* node) {
    const c10::IValue& holder = get(node->input(0));
    std::string name = node->s(c10::attr::name);
    if (!holder.isObject()) fail("{}: reads attribute '{}' of a value that is not an object", node->kind().toQualString(), name);
    auto object = holder.toObject();
    auto key = std::make_pair(object.get(), name);
    bool module = object->type()->is_module();
    if (node->kind() == c10::prim::SetAttr) {
      if (module)
        module_writes[key] = get(node->input(1));
      else
        object->setAttr(name, get(node->input(1)));
      return;
    }
    auto written = module_writes.find(key);
    c10::IValue value = written != module_writes.end() ? written->second : object->getAttr(name);
    set(node->output(), meta && module ? to_meta(value) : value);
  }

  void run_node(const Node* node) {
    auto kind = node->kind();
    if (kind == c10::prim::Constant) {
      auto value = *torch::jit::toIValue(node->output());
      set(node->output(), meta ? to_meta(value) : value);
      return;
    }
    if (kind == c10::prim::If) {
      bool cond = get(node->input(0)).toBool();
      auto outs = run_block(node->blocks()[cond ? 0 : 1]);
      for (size_t i = 0; i < outs.size(); ++i) set(node->outputs()[i], outs[i]);
      return;
    }
    if (kind == c10::prim::Loop) {
      int64_t trip = get(node->input(0)).toInt();
      bool cond = get(node->input(1)).toBool();
      std::vector<c10::IValue> carried;
      for (size_t i = 2; i < node->inputs().size(); ++i) carried.push_back(get(node->input(i)));
      const Block* body = node->blocks()[0];
      for (int64_t it = 0; it < trip && cond; ++it) {
        set(body->inputs()[0], it);
        for (size_t i = 0; i < carried.size(); ++i) set(body->inputs()[i + 1], carried[i]);
        auto outs = run_block(body);
        cond = outs[0].toBool();
        for (size_t i = 0; i < carried.size(); ++i) carried[i] = outs[i + 1];
      }
      for (size_t i = 0; i < carried.size(); ++i) set(node->outputs()[i], carried[i]);
      return;
    }
    if (kind == c10::aten::warn) return;  // no outputs; the interpreter implements it itself
    if (kind == c10::prim::CreateObject) {  // a TorchScript class instance (torchvision's ImageList)
      auto type = node->output()->type()->expect<c10::ClassType>();
      set(node->output(), c10::ivalue::Object::create(c10::StrongTypePtr(type->compilation_unit(), type),
                                                      type->numAttributes()));
      return;
    }
    if (kind == c10::prim::isinstance) {  // the interpreter implements it itself
      auto type = get(node->input(0)).type();
      bool is = false;
      for (const auto& candidate : node->tys(c10::attr::types)) is = is || type->isSubtypeOf(*candidate);
      set(node->output(), is);
      return;
    }
    if (kind == c10::prim::GetAttr || kind == c10::prim::SetAttr) {
      run_attribute(node);
      return;
    }
    torch::jit::Stack stack;
    for (const Value* v : node->inputs()) stack.push_back(get(v));
    try {
      run_node_on_stack(node, stack);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      std::string loc = source_location(node);
      throw Error(fmt::format("{}{}: {}", node->kind().toQualString(), loc.empty() ? "" : " (" + loc + ")",
                              first_line(e.what())),
                  kExitError, e.what());
    }
    if (stack.size() != node->outputs().size())
      fail("internal: {} left {} values, expected {}", node->kind().toQualString(), stack.size(),
           node->outputs().size());
    if (shrink) shrink_outputs(node, stack);
    for (size_t i = 0; i < stack.size(); ++i) set(node->outputs()[i], std::move(stack[i]));
  }

  void shrink_outputs(const Node* node, torch::jit::Stack& stack) {
    int64_t dim = shrink(node);
    if (dim == std::numeric_limits<int64_t>::min()) return;
    for (auto& v : stack) {
      if (!v.isTensor()) continue;
      const at::Tensor& t = v.toTensor();
      int64_t d = dim < 0 ? dim + t.dim() : dim;
      if (d >= 0 && d < t.dim() && t.size(d) > 1) v = t.narrow(d, 0, std::min<int64_t>(2, t.size(d) - 1));
    }
  }
};

}  // namespace

void run_node_on_stack(const Node* node, torch::jit::Stack& stack) {
  auto kind = node->kind();
  if (kind == c10::prim::ListConstruct) {
    c10::impl::GenericList list(node->output()->type()->containedType(0));
    for (auto& v : stack) list.push_back(std::move(v));
    stack.clear();
    stack.emplace_back(std::move(list));
  } else if (kind == c10::prim::TupleConstruct) {
    auto tuple = c10::ivalue::Tuple::create(std::vector<c10::IValue>(stack.begin(), stack.end()));
    stack.clear();
    stack.emplace_back(std::move(tuple));
  } else if (kind == c10::prim::ListUnpack) {
    auto list = stack.back().toListRef().vec();
    stack.pop_back();
    for (auto& v : list) stack.push_back(v);
  } else if (kind == c10::prim::TupleUnpack) {
    auto elems = stack.back().toTupleRef().elements().vec();
    stack.pop_back();
    for (auto& v : elems) stack.push_back(v);
  } else if (kind == c10::prim::TupleIndex) {
    int64_t i = stack.back().toInt();
    stack.pop_back();
    auto elems = stack.back().toTupleRef().elements();
    if (i < 0) i += static_cast<int64_t>(elems.size());
    c10::IValue item = elems.at(i);
    stack.back() = item;
  } else if (kind == c10::prim::DictConstruct) {
    // Keys and values alternate (LibTorch's own dictConstruct is not exported).
    auto type = node->output()->type()->expect<c10::DictType>();
    c10::impl::GenericDict dict(type->getKeyType(), type->getValueType());
    for (size_t i = 0; i + 1 < stack.size(); i += 2) dict.insert_or_assign(stack[i], stack[i + 1]);
    stack.clear();
    stack.emplace_back(std::move(dict));
  } else if (kind == c10::prim::unchecked_cast) {
    // identity
  } else if (kind == c10::prim::Uninitialized) {
    stack.emplace_back();
  } else {
    // Vararg ops (aten::format, ...) read their input count from the stack, as
    // the TorchScript interpreter pushes it.
    if (const auto* schema = node->maybeSchema(); schema && schema->is_vararg())
      stack.emplace_back(static_cast<int64_t>(node->inputs().size()));
    node->getOperation()(stack);
  }
}

std::vector<c10::IValue> run_graph(torch::jit::Graph& graph, const std::vector<c10::IValue>& inputs,
                                   const RunOptions& options) {
  Runner runner{options.record, options.second_run, options.meta, {}, {}};
  runner.shrink = options.shrink_data_dependent;
  if (graph.inputs().size() != inputs.size())
    fail("internal: graph takes {} inputs, {} given", graph.inputs().size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) runner.set(graph.inputs()[i], inputs[i]);
  auto outs = runner.run_block(graph.block());
  if (options.module_writes) *options.module_writes = std::move(runner.module_writes);
  return outs;
}

c10::IValue to_meta(const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    // 0-dim tensors stay real: in traced models they carry sizes (x.size(0)
    // becomes a tensor), whose values the graph reads back as numbers.
    if (!t.defined() || t.is_meta() || t.dim() == 0) return v;
    return at::empty_strided(t.sizes(), t.strides(), t.options().device(at::kMeta));
  }
  if (v.isTensorList()) {
    c10::List<at::Tensor> out;
    for (const at::Tensor& t : v.toTensorList()) out.push_back(to_meta(t).toTensor());
    return out;
  }
  if (v.isList()) {
    c10::impl::GenericList out(v.toList().elementType());
    for (const auto& e : v.toListRef()) out.push_back(to_meta(e));
    return out;
  }
  if (v.isGenericDict()) {
    auto dict = v.toGenericDict();
    c10::impl::GenericDict out(dict.keyType(), dict.valueType());
    for (const auto& kv : dict) out.insert(kv.key(), to_meta(kv.value()));
    return out;
  }
  if (v.isTuple()) {
    std::vector<c10::IValue> elems;
    for (const auto& e : v.toTupleRef().elements()) elems.push_back(to_meta(e));
    return c10::ivalue::Tuple::create(std::move(elems));
  }
  return v;
}

}  // namespace mlopt::onnx_export
