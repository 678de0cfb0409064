// Control flow: prim::If and prim::Loop. ONNX's rules live here, in one place:
//  - a condition known at export time inlines the branch taken; a loop with a
//    known trip count whose carried values are all known is unrolled (list
//    comprehensions, flag checks);
//  - otherwise If/Loop nodes with subgraphs: the condition is a bool tensor,
//    subgraph outputs carry their type, a value passed through a block
//    unchanged gets an Identity (a subgraph output must be produced inside it),
//    both branches' outputs have the same type, outer values are captured by name.
#include <functional>
#include <limits>

#include "mlopt/core/error.h"
#include "mlopt/onnx/block_nesting.h"
#include "mlopt/onnx/converter.h"
#include "mlopt/onnx/converter_driver.h"

namespace mlopt::onnx_export {
namespace {

using torch::jit::Block;

bool produced_in(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& n : g.node())
    for (const auto& o : n.output())
      if (o == name) return true;
  for (const auto& i : g.input())
    if (i.name() == name) return false;  // an input passed straight through still needs an Identity
  return false;
}

// `scalar`: a 0-d value (ONNX Runtime wants the shape of Loop's iteration
// count and condition known).
void add_value_info(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name,
                    c10::ScalarType type, bool scalar = false) {
  auto* vi = list->Add();
  vi->set_name(name);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx_dtype(type));
  if (scalar) vi->mutable_type()->mutable_tensor_type()->mutable_shape();
}

struct BlockOutput {
  std::string name;
  c10::ScalarType dtype;
  int64_t rank;
  bool number;
};

// Converts `block` into subgraph `g` (its inputs already declared) and
// declares its outputs; `types` forces output types (Loop: carried types).
// `more`: values made in the block that follow its outputs (Loop: scan outputs).
std::vector<BlockOutput> convert_subgraph(Context& ctx, const Block* block, onnx::GraphProto* g, size_t skip_outputs,
                                          const std::vector<c10::ScalarType>* types,
                                          const std::function<std::vector<ValPtr>()>& more = nullptr) {
  auto& conv = ctx.converter();
  ctx.b().push_graph(g);
  conv.convert_block(block);
  std::vector<ValPtr> values;
  for (size_t i = skip_outputs; i < block->outputs().size(); ++i) values.push_back(conv.get(block->outputs()[i]));
  size_t block_outputs = values.size();
  if (more)
    for (auto& v : more()) values.push_back(v);
  std::vector<BlockOutput> outs;
  for (size_t k = 0; k < values.size(); ++k) {
    ValPtr v = values[k];
    types = k < block_outputs ? types : nullptr;
    if (v->is_constant() && v->constant.isNone()) ctx.fail_op("a branch returns None where the other returns a value");
    std::string name = ctx.materialize(v);
    c10::ScalarType type = v->is_dynamic() ? v->dtype : ctx.dtype(0);
    if (v->is_constant()) {
      const auto& c = v->constant;
      type = c.isTensor() ? c.toTensor().scalar_type() : c.isInt() ? at::kLong : c.isDouble() ? at::kFloat : at::kBool;
    }
    if (types && (*types)[outs.size()] != type) {
      name = cast(ctx, name, (*types)[outs.size()]);
      type = (*types)[outs.size()];
    }
    if (!produced_in(*g, name)) name = ctx.b().add1("Identity", {name}, {}, "pass");
    int64_t rank = v->is_dynamic() ? v->rank : (v->is_constant() && v->constant.isTensor() ? v->constant.toTensor().dim() : 0);
    bool number = v->is_dynamic() ? v->number : !(v->is_constant() && v->constant.isTensor());
    outs.push_back({name, type, rank, number});
  }
  ctx.b().pop_graph();
  return outs;
}

void set_outputs(Context& ctx, const std::vector<std::string>& names, const std::vector<BlockOutput>& info) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (info[i].number) ctx.set_number(i, names[i], info[i].dtype);
    else ctx.set(i, Val::of_tensor(names[i], info[i].dtype, info[i].rank));
  }
}

void convert_if(Context& ctx) {
  auto& conv = ctx.converter();
  const auto* node = ctx.node();
  auto cond = ctx.in(0);
  if (cond->is_constant()) {
    const Block* taken = node->blocks()[cond->constant.toBool() ? 0 : 1];
    conv.convert_block(taken);
    for (size_t i = 0; i < node->outputs().size(); ++i) ctx.set(i, conv.get(taken->outputs()[i]));
    return;
  }
  std::string c = ctx.tensor_as(0, at::kBool);
  onnx::GraphProto* then_g = conv.new_subgraph();
  onnx::GraphProto* else_g = conv.new_subgraph();
  then_g->set_name(ctx.b().fresh("then"));
  else_g->set_name(ctx.b().fresh("else"));
  auto then_out = convert_subgraph(ctx, node->blocks()[0], then_g, 0, nullptr);
  std::vector<c10::ScalarType> types;
  for (auto& o : then_out) types.push_back(o.dtype);
  auto else_out = convert_subgraph(ctx, node->blocks()[1], else_g, 0, &types);
  for (auto& o : then_out) add_value_info(then_g->mutable_output(), o.name, o.dtype);
  for (auto& o : else_out) add_value_info(else_g->mutable_output(), o.name, o.dtype);
  if (then_out.empty()) return;  // an If with no results has no effect on the exported values
  auto names = ctx.b().add_node("If", {c}, {Attr("then_branch", *then_g), Attr("else_branch", *else_g)},
                                static_cast<int>(then_out.size()), "if");
  set_outputs(ctx, names, then_out);
}

constexpr int64_t kMaxUnroll = 4096;
// A short loop over a list known at export time (torchvision's batch_images:
// `for i in range(len(images))`, writing each image into the batch) is
// unrolled even though it carries tensors: its body indexes lists by the
// iteration, which an ONNX Loop cannot do.
constexpr int64_t kMaxUnrollCarryingTensors = 16;

// Unrolls a loop whose trip count, condition and carried values are known
// (TorchScript's list comprehensions and `all(...)` checks), or whose trip
// count is known and short; false if it cannot.
bool try_unroll(Context& ctx) {
  auto& conv = ctx.converter();
  const auto* node = ctx.node();
  if (!ctx.is_constant(0) || !ctx.is_constant(1)) return false;
  for (size_t i = 2; i < ctx.num_inputs(); ++i)
    if (ctx.in(i)->is_dynamic() && ctx.to_int(0) > kMaxUnrollCarryingTensors) return false;
  int64_t trip = ctx.to_int(0);
  bool cond = ctx.to_bool(1);
  const Block* body = node->blocks()[0];
  std::vector<ValPtr> carried;
  for (size_t i = 2; i < ctx.num_inputs(); ++i) carried.push_back(ctx.in(i));
  int64_t it = 0;
  for (; it < trip && cond; ++it) {
    if (it >= kMaxUnroll) ctx.fail_op(fmt::format("loop runs more than {} iterations at export time", kMaxUnroll));
    conv.set(body->inputs()[0], Val::of_constant(it));
    for (size_t i = 0; i < carried.size(); ++i) conv.set(body->inputs()[i + 1], carried[i]);
    conv.convert_block(body);
    auto c = conv.get(body->outputs()[0]);
    if (!c->is_constant()) ctx.fail_op("a loop's condition depends on the input values after it started unrolled");
    cond = c->constant.toBool();
    for (size_t i = 0; i < carried.size(); ++i) carried[i] = conv.get(body->outputs()[i + 1]);
  }
  for (size_t i = 0; i < carried.size(); ++i) ctx.set(i, carried[i]);
  return true;
}

// Lists the loop fills, one append per iteration (`res = [paste(m, b) for m, b
// in zip(masks, boxes)]` over detections counted at run time): empty before
// the loop, appended to once at the top of its body, made outside it.
std::vector<ValPtr> lists_filled_by(Context& ctx, const Block* body) {
  auto& conv = ctx.converter();
  std::vector<ValPtr> lists;
  for (const auto* n : body->nodes()) {
    if (n->kind() != c10::aten::append || nested_in(n->input(0)->node(), body)) continue;
    ValPtr list = conv.get(n->input(0));
    bool empty = (list->is_list() && !list->dict && list->items.empty()) ||
                 (list->is_constant() && list->constant.isList() && list->constant.toListRef().empty());
    if (!empty) ctx.fail_op("a loop whose trip count is known only at run time appends to a list that is not empty");
    for (const auto& seen : lists)
      if (seen == list) ctx.fail_op("a loop whose trip count is known only at run time appends twice to one list");
    if (list->is_constant()) {
      list->kind = Val::Kind::kList;
      list->constant = c10::IValue();
    }
    lists.push_back(list);
  }
  return lists;
}

void convert_loop(Context& ctx) {
  if (try_unroll(ctx)) return;
  auto& conv = ctx.converter();
  const auto* node = ctx.node();
  const Block* body = node->blocks()[0];
  // Each becomes a scan output: the appended values stacked along a new dim 0.
  // After the loop the list is that tensor (ops/prim.cpp: len, indexing;
  // ops/shape.cpp: stack, cat).
  auto scanned = lists_filled_by(ctx, body);
  auto appended = [&] {
    std::vector<ValPtr> values;
    for (auto& list : scanned) {
      if (list->items.size() != 1) ctx.fail_op("a list is appended to under a condition in a loop of run-time length");
      values.push_back(list->items[0]);
    }
    return values;
  };
  std::string trip;
  if (!(ctx.is_constant(0) && ctx.to_int(0) == std::numeric_limits<int64_t>::max())) trip = ctx.tensor_as(0, at::kLong);
  std::string cond = ctx.tensor_as(1, at::kBool);
  std::vector<std::string> inputs{trip, cond};
  std::vector<c10::ScalarType> types;
  onnx::GraphProto* g = conv.new_subgraph();
  g->set_name(ctx.b().fresh("loop_body"));
  std::string iter = ctx.b().fresh("iter"), cond_in = ctx.b().fresh("cond_in");
  add_value_info(g->mutable_input(), iter, at::kLong, true);
  add_value_info(g->mutable_input(), cond_in, at::kBool, true);
  conv.set(body->inputs()[0], Val::of_number(iter, at::kLong));
  for (size_t i = 2; i < ctx.num_inputs(); ++i) {
    ValPtr v = ctx.in(i);
    inputs.push_back(ctx.materialize(v));
    c10::ScalarType type = ctx.dtype(i);
    types.push_back(type);
    std::string name = ctx.b().fresh("carried");
    bool number = !(v->is_dynamic() ? !v->number : (v->is_constant() && v->constant.isTensor()));
    add_value_info(g->mutable_input(), name, type, number);
    int64_t rank = v->is_dynamic() ? v->rank : (v->is_constant() && v->constant.isTensor() ? v->constant.toTensor().dim() : 0);
    conv.set(body->inputs()[i - 1], number ? Val::of_number(name, type) : Val::of_tensor(name, type, rank));
  }
  std::vector<c10::ScalarType> out_types{at::kBool};
  out_types.insert(out_types.end(), types.begin(), types.end());
  auto outs = convert_subgraph(ctx, body, g, 0, &out_types, appended);
  for (auto& o : outs) add_value_info(g->mutable_output(), o.name, o.dtype);
  auto names = ctx.b().add_node("Loop", inputs, {Attr("body", *g)}, static_cast<int>(types.size() + scanned.size()),
                                "loop");
  for (size_t k = 0; k < scanned.size(); ++k) {
    const auto& item = outs[outs.size() - scanned.size() + k];
    ValPtr list = scanned[k];
    list->items.clear();
    list->kind = Val::Kind::kDynamic;
    list->name = names[types.size() + k];
    list->dtype = item.dtype;
    list->rank = item.rank + 1;
    list->stacked = true;
  }
  names.resize(types.size());
  outs.resize(outs.size() - scanned.size());
  std::vector<BlockOutput> info(outs.begin() + 1, outs.end());
  // Carried values keep the kind (number or tensor) they entered with.
  for (size_t i = 0; i < info.size(); ++i) {
    auto v = ctx.in(i + 2);
    info[i].number = !(v->is_dynamic() ? !v->number : (v->is_constant() && v->constant.isTensor()));
  }
  set_outputs(ctx, names, info);
}

}  // namespace

REGISTER_CONVERTER({"prim::If"}, convert_if);
REGISTER_CONVERTER({"prim::Loop"}, convert_loop);

}  // namespace mlopt::onnx_export
