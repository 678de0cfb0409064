#include "mlopt/onnx/converter.h"

#include <sstream>
#include <unordered_set>

#include "mlopt/core/error.h"
#include "mlopt/onnx/converter_driver.h"

namespace mlopt::onnx_export {

using torch::jit::Node;
using torch::jit::Value;

// ---------------------------------------------------------------- Val

ValPtr Val::of_constant(c10::IValue v) {
  auto p = std::make_shared<Val>();
  p->kind = Kind::kConstant;
  p->constant = std::move(v);
  return p;
}
ValPtr Val::of_tensor(std::string name, c10::ScalarType dtype, int64_t rank) {
  auto p = std::make_shared<Val>();
  p->kind = Kind::kDynamic;
  p->name = std::move(name);
  p->dtype = dtype;
  p->rank = rank;
  return p;
}
ValPtr Val::of_number(std::string name, c10::ScalarType dtype) {
  auto p = of_tensor(std::move(name), dtype, 0);
  p->number = true;
  return p;
}
ValPtr Val::of_list(std::vector<ValPtr> items, bool tuple) {
  auto p = std::make_shared<Val>();
  p->kind = Kind::kList;
  p->items = std::move(items);
  p->tuple = tuple;
  return p;
}

ValPtr Val::of_dict(std::vector<c10::IValue> keys, std::vector<ValPtr> items) {
  auto p = of_list(std::move(items), false);
  p->dict = true;
  p->keys = std::move(keys);
  return p;
}

// ---------------------------------------------------------------- registry

ConverterRegistry& converter_registry() { return ConverterRegistry::instance(); }
const ConvertFn* find_converter(const std::string& kind) { return converter_registry().find(kind); }
ConverterRegistrar::ConverterRegistrar(std::initializer_list<const char*> kinds, ConvertFn fn) {
  converter_registry().add_all(kinds, fn);
}

// ---------------------------------------------------------------- Context

GraphBuilder& Context::b() { return conv_.builder(); }
int Context::opset() const { return conv_.opset(); }
const ShapeInfo& Context::shapes() const { return conv_.shapes(); }
ValPtr Context::in(size_t i) const { return conv_.get(node_->input(i)); }
bool Context::is_none(size_t i) const {
  auto v = in(i);
  return v->is_constant() && v->constant.isNone();
}

std::string source_location(const Node* node) {
  auto range = node->sourceRange();
  if (auto src = range.source()) {
    if (auto file = src->filename()) {
      auto line = src->lineno_for_offset(range.start());
      std::string f = *file;
      auto slash = f.rfind('/');
      if (slash != std::string::npos) f = f.substr(slash + 1);
      return fmt::format("{}:{}", f, line);
    }
  }
  return "";
}
std::string Context::where() const { return source_location(node_); }

void Context::fail_op(const std::string& what) const {
  std::string loc = where();
  // --verbose shows the node itself, its inputs by name, for a bug report.
  std::ostringstream node_text;
  node_text << "the node: " << *node_;
  throw Error(fmt::format("{}{}: {}", node_->kind().toQualString(), loc.empty() ? "" : " (" + loc + ")", what),
              kExitError, node_text.str());
}

c10::IValue Context::constant(size_t i) const {
  auto v = in(i);
  if (!v->is_constant()) {
    if (v->is_list()) {
      // A list whose items are all constant after all (built by append).
      bool all_ints = true, all_const = true;
      for (auto& item : v->items) {
        if (!item->is_constant()) all_const = false;
        else if (!item->constant.isInt()) all_ints = false;
      }
      if (all_const && all_ints) {
        std::vector<int64_t> ints;
        for (auto& item : v->items) ints.push_back(item->constant.toInt());
        return ints;
      }
    }
    fail_op(fmt::format("argument {} must be known at export time (it depends on the input values)", i));
  }
  return v->constant;
}

std::vector<int64_t> Context::to_ints(size_t i) const {
  auto c = constant(i);
  if (c.isInt()) return {c.toInt()};
  return c.toIntVector();
}

std::string Context::materialize(const ValPtr& v) const {
  auto& builder = const_cast<Context*>(this)->b();
  switch (v->kind) {
    case Val::Kind::kDynamic: return v->name;
    case Val::Kind::kList: return ints_1d(v);
    case Val::Kind::kConstant: break;
  }
  const auto& c = v->constant;
  if (c.isTensor()) return builder.constant(c.toTensor());
  if (c.isInt()) return builder.constant(torch::scalar_tensor(c.toInt(), at::kLong), "int");
  if (c.isDouble()) return builder.constant(torch::scalar_tensor(c.toDouble(), at::kFloat), "float");
  if (c.isBool()) return builder.constant(torch::scalar_tensor(c.toBool(), at::kBool), "bool");
  if (c.isIntList()) return builder.ints(c.toIntVector());
  if (c.isDoubleList()) {
    auto d = c.toDoubleVector();
    return builder.constant(torch::tensor(std::vector<double>(d.begin(), d.end()), at::kFloat), "floats");
  }
  fail_op(fmt::format("cannot pass a value of type {} as an ONNX tensor", c.tagKind()));
}

std::string Context::ints_1d(const ValPtr& v) const {
  auto& builder = const_cast<Context*>(this)->b();
  auto& self = const_cast<Context&>(*this);
  if (v->is_constant()) {
    if (v->constant.isInt()) return builder.ints({v->constant.toInt()});
    if (v->constant.isIntList()) return builder.ints(v->constant.toIntVector());
    if (v->constant.isTensor()) return builder.constant(v->constant.toTensor().to(at::kLong).reshape({-1}));
    fail_op("expected a list of ints");
  }
  if (v->is_dynamic()) {
    if (v->rank == 0) return unsqueeze(self, cast(self, v->name, at::kLong), {0});
    return v->dtype == at::kLong ? v->name : cast(self, v->name, at::kLong);
  }
  // A list mixing constants and dynamic numbers: Concat of 1-D pieces.
  std::vector<std::string> pieces;
  std::vector<int64_t> run;
  auto flush = [&] {
    if (!run.empty()) pieces.push_back(builder.ints(run));
    run.clear();
  };
  for (auto& item : v->items) {
    if (item->is_constant() && item->constant.isInt()) {
      run.push_back(item->constant.toInt());
    } else if (item->is_dynamic()) {
      flush();
      std::string x = item->dtype == at::kLong ? item->name : cast(self, item->name, at::kLong);
      pieces.push_back(item->rank == 0 ? unsqueeze(self, x, {0}) : x);
    } else {
      fail_op("expected a list of ints");
    }
  }
  flush();
  if (pieces.size() == 1) return pieces[0];
  return builder.add1("Concat", pieces, {{"axis", int64_t{0}}}, "shape");
}

c10::ScalarType Context::dtype(size_t i) const {
  auto v = in(i);
  if (v->is_dynamic()) return v->dtype;
  if (v->is_constant()) {
    const auto& c = v->constant;
    if (c.isTensor()) return c.toTensor().scalar_type();
    if (c.isInt()) return at::kLong;
    if (c.isDouble()) return at::kFloat;
    if (c.isBool()) return at::kBool;
  }
  return at::kLong;
}

std::optional<TensorInfo> Context::info(size_t i) const {
  auto v = in(i);
  if (v->is_constant() && v->constant.isTensor()) {
    auto t = v->constant.toTensor();
    TensorInfo ti;
    ti.dtype = t.scalar_type();
    ti.sizes = t.sizes().vec();
    ti.dynamic.assign(ti.sizes.size(), false);
    return ti;
  }
  return shapes().find(node_->input(i));
}

int64_t Context::rank(size_t i) const {
  auto v = in(i);
  if (v->is_dynamic() && v->rank >= 0) return v->rank;
  if (auto ti = info(i)) return ti->rank();
  if (auto tt = node_->input(i)->type()->cast<c10::TensorType>())
    if (auto d = tt->dim()) return static_cast<int64_t>(*d);
  fail_op(fmt::format("the rank of argument {} is unknown (it is computed in a branch the example inputs did not take)", i));
}

std::optional<TensorInfo> Context::out_info(size_t i) const { return shapes().find(node_->output(i)); }

c10::ScalarType Context::out_dtype(size_t i) const {
  if (auto ti = out_info(i)) return ti->dtype;
  auto type = node_->output(i)->type();
  if (auto tt = type->cast<c10::TensorType>())
    if (auto st = tt->scalarType()) return *st;
  if (type->kind() == c10::TypeKind::IntType) return at::kLong;
  if (type->kind() == c10::TypeKind::FloatType) return at::kFloat;
  if (type->kind() == c10::TypeKind::BoolType) return at::kBool;
  // Fall back to the first tensor input's type.
  for (size_t k = 0; k < num_inputs(); ++k)
    if (in(k)->is_dynamic() && !in(k)->number) return in(k)->dtype;
  return at::kFloat;
}

std::string Context::tensor_as(size_t i, c10::ScalarType type) const {
  auto v = in(i);
  auto& builder = const_cast<Context*>(this)->b();
  if (v->is_constant()) {
    const auto& c = v->constant;
    if (c.isTensor()) return builder.constant(c.toTensor().to(type));
    if (c.isInt() || c.isDouble() || c.isBool())
      return builder.constant(torch::scalar_tensor(c.toScalar(), type), "scalar");
  }
  std::string name = materialize(v);
  return dtype(i) == type ? name : cast(const_cast<Context&>(*this), name, type);
}

void Context::set(size_t i, ValPtr v) { conv_.set(node_->output(i), std::move(v)); }

void Context::set_tensor(size_t i, const std::string& name) {
  int64_t rank = -1;
  if (auto ti = out_info(i)) rank = ti->rank();
  else if (auto tt = node_->output(i)->type()->cast<c10::TensorType>())
    if (auto d = tt->dim()) rank = static_cast<int64_t>(*d);
  auto type = node_->output(i)->type();
  if (type->kind() == c10::TypeKind::IntType || type->kind() == c10::TypeKind::FloatType ||
      type->kind() == c10::TypeKind::BoolType || type->kind() == c10::TypeKind::NumberType) {
    set_number(i, name, out_dtype(i));
    return;
  }
  set(i, Val::of_tensor(name, out_dtype(i), rank));
}

void Context::set_number(size_t i, const std::string& name, c10::ScalarType dtype) {
  set(i, Val::of_number(name, dtype));
}

void Context::rebind_input(size_t i, ValPtr v) { conv_.set(node_->input(i), std::move(v)); }
ValPtr Context::out(size_t i) const { return conv_.get(node_->output(i)); }

// ---------------------------------------------------------------- helpers

std::string unsqueeze(Context& ctx, const std::string& x, const std::vector<int64_t>& axes) {
  return ctx.b().add1("Unsqueeze", {x, ctx.b().ints(axes)});
}
std::string squeeze(Context& ctx, const std::string& x, const std::vector<int64_t>& axes) {
  return ctx.b().add1("Squeeze", {x, ctx.b().ints(axes)});
}
std::string cast(Context& ctx, const std::string& x, c10::ScalarType to) {
  return ctx.b().add1("Cast", {x}, {{"to", static_cast<int64_t>(onnx_dtype(to))}});
}
std::string shape_of(Context& ctx, const std::string& x) { return ctx.converter().shape_of(x); }
std::string sqrt_of(Context& ctx, const std::string& x) {
  auto& g = ctx.b();
  return g.add1("Where", {g.add1("IsInf", {x}, {{"detect_negative", int64_t{0}}}), x, g.add1("Sqrt", {x})});
}
std::string dim_1d(Context& ctx, const std::string& x, int64_t d) {
  return ctx.b().add1("Gather", {shape_of(ctx, x), ctx.b().ints({d})}, {{"axis", int64_t{0}}}, "dim");
}

std::optional<size_t> schema_arg(const torch::jit::Node* node, const std::string& name) {
  const auto* schema = node->maybeSchema();
  if (!schema) return std::nullopt;
  auto i = schema->argumentIndexWithName(name);
  if (!i || static_cast<size_t>(*i) >= node->inputs().size()) return std::nullopt;
  return static_cast<size_t>(*i);
}

// ---------------------------------------------------------------- driver

ValPtr Converter::get(const Value* v) const {
  auto it = env_.find(v);
  if (it == env_.end()) fail("internal: value %{} has no conversion", v->debugName());
  return it->second;
}

std::string Converter::shape_of(const std::string& x) {
  auto key = std::make_pair(static_cast<const void*>(builder_.current()), x);
  auto it = shape_cache_.find(key);
  if (it != shape_cache_.end()) return it->second;
  std::string s = builder_.add1("Shape", {x}, {}, "shape");
  shape_cache_[key] = s;
  return s;
}

namespace {

// Ops that must never be folded at export time even with constant inputs.
bool never_fold(const Node* node) {
  static const std::unordered_set<std::string> kinds = {
      "aten::rand",       "aten::randn",     "aten::randint",   "aten::rand_like", "aten::randn_like",
      "aten::randint_like", "aten::normal",  "aten::bernoulli", "aten::multinomial", "aten::uniform_",
      "aten::normal_",    "prim::Print",     "prim::RaiseException", "aten::warn", "prim::Uninitialized",
      "prim::If",         "prim::Loop",      "prim::GetAttr",   "prim::CallMethod", "prim::CallFunction"};
  return kinds.count(node->kind().toQualString()) != 0;
}

// Nodes that are no-ops in an exported graph.
bool ignorable(const Node* node) {
  auto k = node->kind();
  return k == c10::aten::warn || k == c10::prim::RaiseException || k == c10::prim::Print;
}

// Why an op that has no converter is refused, where that is known (appended
// to its entry in the "unsupported ops" error).
std::string refusal_reason(const std::string& kind) {
  if (kind == "aten::_pack_padded_sequence" || kind == "aten::_pad_packed_sequence")
    return "packed sequences (nn.utils.rnn.pack_padded_sequence / pad_packed_sequence) are not exported; run the "
           "RNN on the padded batch instead";
  return "";
}

}  // namespace

bool Converter::try_fold(const Node* node) {
  if (never_fold(node) || !node->blocks().empty()) return false;
  std::vector<ValPtr> ins;
  for (const Value* v : node->inputs()) {
    ValPtr val = get(v);
    if (!val->is_constant()) return false;
    ins.push_back(val);
  }
  if (node->kind() == c10::prim::Constant) {
    set(node->output(), Val::of_constant(*torch::jit::toIValue(node->output())));
    return true;
  }
  torch::jit::Stack stack;
  for (auto& v : ins) stack.push_back(v->constant);
  try {
    torch::NoGradGuard no_grad;
    run_node_on_stack(node, stack);
  } catch (const std::exception&) {
    return false;
  }
  if (stack.size() != node->outputs().size()) return false;
  for (size_t i = 0; i < stack.size(); ++i) set(node->outputs()[i], Val::of_constant(std::move(stack[i])));
  return true;
}

void Converter::mark_unsupported(const Node* node, const std::string& why) {
  std::string loc = source_location(node);
  unsupported_[node->kind().toQualString()].push_back(loc.empty() ? why : loc + (why.empty() ? "" : ": " + why));
  // Poison the outputs so that conversion goes on and finds the other unsupported ops.
  for (const Value* out : node->outputs()) {
    auto p = Val::of_tensor("__unsupported__", at::kFloat, -1);
    set(out, p);
  }
}

void Converter::convert_block(const torch::jit::Block* block) {
  for (const Node* node : block->nodes()) convert_node(node);
}

void Converter::convert_node(const Node* node) {
  for (const Value* v : node->inputs()) {
    if (!has(v)) fail("internal: %{} used before definition", v->debugName());
    if (get(v)->is_dynamic() && get(v)->name == "__unsupported__") {
      for (const Value* out : node->outputs()) set(out, get(v));
      return;
    }
  }
  if (try_fold(node)) return;
  if (ignorable(node)) return;
  const ConvertFn* fn = find_converter(node->kind().toQualString());
  if (!fn) {
    mark_unsupported(node, refusal_reason(node->kind().toQualString()));
    return;
  }
  Context ctx(*this, node);
  (*fn)(ctx);
  for (const Value* out : node->outputs())
    if (!has(out)) fail("internal: converter for {} left output %{} unset", node->kind().toQualString(), out->debugName());
}

ValPtr mutable_list(Context& ctx, size_t i) {
  auto list = ctx.in(i);
  if (list->is_constant() && list->constant.isList()) {
    std::vector<ValPtr> items;
    for (const auto& e : list->constant.toListRef()) items.push_back(Val::of_constant(e));
    list->kind = Val::Kind::kList;
    list->items = std::move(items);
    list->constant = c10::IValue();
  }
  if (!list->is_list() || list->dict) ctx.fail_op("expected a list");
  return list;
}

std::vector<ValPtr> list_items(Context& ctx, size_t i) {
  auto v = ctx.in(i);
  if (v->is_list()) return v->items;
  std::vector<ValPtr> items;
  for (const auto& e : ctx.constant(i).toListRef()) items.push_back(Val::of_constant(e));
  return items;
}

}  // namespace mlopt::onnx_export
