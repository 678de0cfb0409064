// Structural ops: lists and tuples, casts between numbers and tensors, and
// queries answered at export time (dim, dtype, device, None checks).
#include <algorithm>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

void convert_list_construct(Context& ctx) {
  std::vector<ValPtr> items;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) items.push_back(ctx.in(i));
  ctx.set(0, Val::of_list(items, ctx.node()->kind() == c10::prim::TupleConstruct));
}

void convert_list_unpack(Context& ctx) {
  auto v = ctx.in(0);
  size_t n = ctx.node()->outputs().size();
  if (v->is_list()) {
    if (v->items.size() != n) ctx.fail_op(fmt::format("unpacks {} values from a list of {}", n, v->items.size()));
    for (size_t i = 0; i < n; ++i) ctx.set(i, v->items[i]);
    return;
  }
  if (v->is_dynamic() && !v->number) {
    // A tensor unpacked along dim 0 (rare): Split into n pieces.
    auto parts = ctx.b().add("Split", {v->name}, {{"axis", int64_t{0}}}, static_cast<int>(n));
    for (size_t i = 0; i < n; ++i) ctx.set_tensor(i, squeeze(ctx, parts[i], {0}));
    return;
  }
  ctx.fail_op("cannot unpack this value");
}

void convert_getitem(Context& ctx) {
  auto v = ctx.in(0);
  if (is_dict(v)) {
    convert_dict_getitem(ctx);
    return;
  }
  if (v->stacked) {  // a list filled by a loop of run-time length: one tensor, stacked
    std::string i = ctx.tensor_as(1, at::kLong);
    ctx.set(0, Val::of_tensor(ctx.b().add1("Gather", {v->name, i}, {{"axis", int64_t{0}}}), v->dtype, v->rank - 1));
    return;
  }
  if (v->is_list()) {
    int64_t i = ctx.to_int(1);
    int64_t n = static_cast<int64_t>(v->items.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) ctx.fail_op("index out of range");
    ctx.set(0, v->items[i]);
    return;
  }
  ctx.fail_op("indexing a list needs a constant index");
}

void convert_tuple_index(Context& ctx) { convert_getitem(ctx); }

void convert_len(Context& ctx) {
  auto v = ctx.in(0);
  if (v->is_list()) {
    ctx.set(0, Val::of_constant(static_cast<int64_t>(v->items.size())));
    return;
  }
  if (auto ti = ctx.info(0); ti && ti->rank() > 0 && !ti->dynamic[0]) {
    ctx.set(0, Val::of_constant(ti->sizes[0]));
    return;
  }
  ctx.set_number(0, squeeze(ctx, dim_1d(ctx, ctx.tensor(0), 0), {0}), at::kLong);
}

void convert_identity(Context& ctx) { ctx.set(0, ctx.in(0)); }

// list(l): a copy, so that appending to it leaves `l` alone.
void convert_list_copy(Context& ctx) {
  auto v = ctx.in(0);
  // A copy: changing it (append, l[i] = v) must not change the original.
  ctx.set(0, v->is_list() ? Val::of_list(v->items, false) : v->is_constant() ? Val::of_constant(v->constant) : v);
}

// x.size(d) / x.size() / x.shape: static dims are constants, dynamic ones Shape+Gather.
void convert_size(Context& ctx) {
  auto ti = ctx.info(0);
  int64_t rank = ctx.rank(0);
  std::string x = ctx.tensor(0);
  auto one_dim = [&](int64_t d) -> ValPtr {
    if (d < 0) d += rank;
    if (ti && d < ti->rank() && !ti->dynamic[d]) return Val::of_constant(ti->sizes[d]);
    auto g = ctx.b().add1("Gather", {shape_of(ctx, x), ctx.b().scalar_int(d)}, {{"axis", int64_t{0}}}, "dim");
    return Val::of_number(g, at::kLong);
  };
  if (ctx.num_inputs() == 2) {
    ctx.set(0, one_dim(ctx.to_int(1)));
    return;
  }
  std::vector<ValPtr> items;
  bool all_static = true;
  for (int64_t d = 0; d < rank; ++d) {
    items.push_back(one_dim(d));
    all_static = all_static && items.back()->is_constant();
  }
  if (all_static) {
    std::vector<int64_t> sizes;
    for (auto& i : items) sizes.push_back(i->constant.toInt());
    ctx.set(0, Val::of_constant(sizes));
  } else {
    ctx.set(0, Val::of_list(items, false));
  }
}

void convert_dim(Context& ctx) { ctx.set(0, Val::of_constant(ctx.rank(0))); }

void convert_numel(Context& ctx) {
  auto ti = ctx.info(0);
  if (ti && !ti->any_dynamic()) {
    int64_t n = 1;
    for (auto s : ti->sizes) n *= s;
    ctx.set(0, Val::of_constant(n));
    return;
  }
  ctx.set_number(0, ctx.b().add1("Size", {ctx.tensor(0)}), at::kLong);
}

void convert_dtype(Context& ctx) {
  ctx.set(0, Val::of_constant(static_cast<int64_t>(ctx.dtype(0))));
}
void convert_device(Context& ctx) { ctx.set(0, Val::of_constant(c10::Device(c10::kCPU))); }
void convert_false(Context& ctx) { ctx.set(0, Val::of_constant(false)); }
void convert_is_floating_point(Context& ctx) {
  ctx.set(0, Val::of_constant(c10::isFloatingType(ctx.dtype(0))));
}

// `x is None`, `query is key`: known at export time (None-ness, or the same value).
void convert_is(Context& ctx) {
  bool a_none = ctx.is_none(0), b_none = ctx.is_none(1);
  bool same = (a_none && b_none) || (!a_none && !b_none && ctx.in(0).get() == ctx.in(1).get());
  bool is = ctx.node()->kind() == c10::aten::__is__;
  ctx.set(0, Val::of_constant(is ? same : !same));
}

// isinstance(v, (list, tuple)) (torchvision's box coder checks): decided by the
// value's static type, which TorchScript knows here: true when it is one of
// the candidates, false when it can be none of them.
void convert_isinstance(Context& ctx) {
  const auto& type = ctx.node()->input(0)->type();
  const auto& candidates = ctx.node()->tys(c10::attr::types);
  bool is = false, may_be = false;
  for (const auto& candidate : candidates) {
    is = is || type->isSubtypeOf(*candidate);
    may_be = may_be || candidate->isSubtypeOf(*type);
  }
  if (!is && may_be)
    ctx.fail_op(fmt::format("whether a value of type {} is an instance is known only at run time", type->repr_str()));
  ctx.set(0, Val::of_constant(is));
}

void convert_uninitialized(Context& ctx) { ctx.set(0, Val::of_constant(c10::IValue())); }

// Number <-> 0-d tensor conversions.
void convert_num_to_tensor(Context& ctx) {
  auto v = ctx.in(0);
  auto p = std::make_shared<Val>(*v);
  p->number = false;
  ctx.set(0, p);
}
void convert_to_number(Context& ctx) {
  auto v = ctx.in(0);
  auto kind = ctx.node()->kind();
  c10::ScalarType type = (kind == c10::aten::Int || kind == c10::aten::IntImplicit)       ? at::kLong
                         : (kind == c10::aten::Float || kind == c10::aten::FloatImplicit) ? at::kFloat
                         : kind == c10::aten::Bool                                        ? at::kBool
                                                                                          : ctx.dtype(0);
  std::string x = ctx.tensor(0);
  if (ctx.rank(0) != 0) x = ctx.b().add1("Reshape", {x, ctx.b().ints({})});
  if (ctx.dtype(0) != type) x = cast(ctx, x, type);
  ctx.set_number(0, x, type);
}

void convert_append(Context& ctx) {
  auto list = mutable_list(ctx, 0);
  list->items.push_back(ctx.in(1));
  ctx.set(0, list);
}

// l.extend(other) (torchvision's FPN: results.extend(...))
void convert_extend(Context& ctx) {
  auto other = list_items(ctx, 1);  // first: l.extend(l) reads l before it grows
  auto list = mutable_list(ctx, 0);
  list->items.insert(list->items.end(), other.begin(), other.end());
}

// l.insert(i, v), i known at export time, clamped as Python does (torchvision's
// FPN builds its outputs from the top level down: results.insert(0, ...)).
void convert_insert(Context& ctx) {
  auto list = mutable_list(ctx, 0);
  int64_t size = static_cast<int64_t>(list->items.size());
  int64_t at = ctx.to_int(1);
  at = at < 0 ? std::max<int64_t>(at + size, 0) : std::min(at, size);
  list->items.insert(list->items.begin() + at, ctx.in(2));
}

void convert_not(Context& ctx) { ctx.set_number(0, ctx.b().add1("Not", {ctx.tensor_as(0, at::kBool)}), at::kBool); }

// min(a, b) / max(a, b) / min(list) of numbers known only at run time (e.g.
// min(k, x.size(0)) before a topk): Min/Max of 0-d tensors.
void convert_number_min_max(Context& ctx) {
  auto out_type = ctx.node()->output()->type();
  c10::ScalarType type = out_type->kind() == c10::TypeKind::IntType ? at::kLong : at::kFloat;
  std::vector<ValPtr> items;
  if (ctx.num_inputs() == 1 && ctx.in(0)->is_list()) items = ctx.in(0)->items;
  else if (ctx.num_inputs() == 2) items = {ctx.in(0), ctx.in(1)};
  else ctx.fail_op("min/max of a list known only at run time is not supported");
  std::vector<std::string> parts;
  for (auto& v : items) {
    if (v->is_constant() && (v->constant.isInt() || v->constant.isDouble())) {
      parts.push_back(ctx.b().constant(torch::scalar_tensor(v->constant.toScalar(), type), "scalar"));
      continue;
    }
    std::string name = ctx.materialize(v);
    if (!v->is_dynamic() || v->dtype != type) name = cast(ctx, name, type);
    parts.push_back(name);
  }
  bool is_max = ctx.node()->kind() == c10::prim::max;
  ctx.set_number(0, ctx.b().add1(is_max ? "Max" : "Min", parts), type);
}

}  // namespace

REGISTER_CONVERTER({"prim::min", "prim::max"}, convert_number_min_max);
REGISTER_CONVERTER({"prim::ListConstruct", "prim::TupleConstruct"}, convert_list_construct);
REGISTER_CONVERTER({"prim::ListUnpack", "prim::TupleUnpack"}, convert_list_unpack);
REGISTER_CONVERTER({"aten::__getitem__", "prim::ListIndex"}, convert_getitem);
REGISTER_CONVERTER({"prim::TupleIndex"}, convert_tuple_index);
REGISTER_CONVERTER({"aten::len"}, convert_len);
REGISTER_CONVERTER({"prim::unchecked_cast", "aten::contiguous", "aten::detach", "aten::clone", "aten::alias",
                    "aten::lift_fresh", "aten::dropout", "aten::feature_dropout", "aten::alpha_dropout",
                    "prim::data", "aten::resolve_conj", "aten::resolve_neg"},
                   convert_identity);
REGISTER_CONVERTER({"aten::list"}, convert_list_copy);
REGISTER_CONVERTER({"aten::size", "aten::sym_size"}, convert_size);
REGISTER_CONVERTER({"aten::dim"}, convert_dim);
REGISTER_CONVERTER({"aten::numel"}, convert_numel);
REGISTER_CONVERTER({"prim::dtype"}, convert_dtype);
REGISTER_CONVERTER({"prim::device"}, convert_device);
REGISTER_CONVERTER({"prim::is_cuda", "prim::is_nested", "prim::requires_grad", "prim::is_quantized",
                    "prim::is_mkldnn", "prim::is_sparse", "prim::is_meta", "prim::is_xpu"},
                   convert_false);
REGISTER_CONVERTER({"aten::is_floating_point"}, convert_is_floating_point);
REGISTER_CONVERTER({"aten::__is__", "aten::__isnot__"}, convert_is);
REGISTER_CONVERTER({"prim::Uninitialized"}, convert_uninitialized);
REGISTER_CONVERTER({"prim::isinstance"}, convert_isinstance);
REGISTER_CONVERTER({"prim::NumToTensor", "aten::scalar_tensor"}, convert_num_to_tensor);
REGISTER_CONVERTER({"aten::Int", "aten::Float", "aten::Bool", "aten::ScalarImplicit", "aten::IntImplicit",
                    "aten::FloatImplicit", "aten::item"},
                   convert_to_number);
REGISTER_CONVERTER({"aten::append"}, convert_append);
REGISTER_CONVERTER({"aten::extend"}, convert_extend);
REGISTER_CONVERTER({"aten::insert"}, convert_insert);
REGISTER_CONVERTER({"aten::__not__"}, convert_not);

}  // namespace mlopt::onnx_export
