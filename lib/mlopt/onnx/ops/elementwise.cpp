// Elementwise arithmetic, comparisons and unary math, on tensors and on the
// numbers of shape arithmetic (x.size(0) * 2) alike: both are ONNX tensors.
#include <limits>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {

namespace {

bool is_tensor_input(Context& ctx, size_t i) {
  auto v = ctx.in(i);
  if (v->is_dynamic()) return !v->number;
  return v->is_constant() && v->constant.isTensor();
}

bool is_float_input(Context& ctx, size_t i) {
  return c10::isFloatingType(ctx.dtype(i));
}

// The type both operands are computed in: a tensor operand's type wins over a
// number (PyTorch's type promotion for tensor-scalar ops), floats over ints.
bool is_zero_dim(Context& ctx, size_t i) {
  auto v = ctx.in(i);
  if (v->is_constant() && v->constant.isTensor()) return v->constant.toTensor().dim() == 0;
  auto ti = ctx.info(i);
  return ti && ti->rank() == 0;
}

c10::ScalarType operand_type(Context& ctx, size_t a, size_t b) {
  bool ta = is_tensor_input(ctx, a), tb = is_tensor_input(ctx, b);
  if (ta && tb) {
    // A 0-d tensor does not promote a dimensioned one of the same category
    // (float tensor / double 0-d tensor stays float), as in PyTorch.
    auto da = ctx.dtype(a), db = ctx.dtype(b);
    bool za = is_zero_dim(ctx, a), zb = is_zero_dim(ctx, b);
    if (za != zb && c10::isFloatingType(da) == c10::isFloatingType(db)) return za ? db : da;
    return c10::promoteTypes(da, db);
  }
  if (ta || tb) {
    size_t t = ta ? a : b, s = ta ? b : a;
    auto type = ctx.dtype(t);
    if (!c10::isFloatingType(type) && is_float_input(ctx, s)) return at::kFloat;
    if (type == at::kBool && !(ctx.dtype(s) == at::kBool)) return at::kLong;
    return type;
  }
  if (is_float_input(ctx, a) || is_float_input(ctx, b)) return at::kFloat;
  if (ctx.dtype(a) == at::kBool && ctx.dtype(b) == at::kBool) return at::kBool;
  return at::kLong;
}

void set_result(Context& ctx, const std::string& y, c10::ScalarType type) {
  auto out_type = ctx.node()->output()->type();
  if (out_type->kind() == c10::TypeKind::TensorType) ctx.set_tensor(0, y);
  else ctx.set_number(0, y, type);
}

void binary(Context& ctx, const std::string& op, bool swap = false) {
  auto type = operand_type(ctx, 0, 1);
  std::string a = ctx.tensor_as(0, type), b = ctx.tensor_as(1, type);
  // aten::add/sub's alpha
  if (ctx.num_inputs() >= 3 && (op == "Add" || op == "Sub") && ctx.is_constant(2) && !ctx.in(2)->constant.isNone()) {
    double alpha = ctx.to_double(2);
    if (alpha != 1.0)
      b = ctx.b().add1("Mul", {b, ctx.b().constant(torch::scalar_tensor(alpha, type), "alpha")});
  }
  if (swap) std::swap(a, b);
  std::string y = ctx.b().add1(op, {a, b});
  set_result(ctx, y, type);
}

bool is_list_input(Context& ctx, size_t i) { return ctx.node()->input(i)->type()->kind() == c10::TypeKind::ListType; }

// Python list arithmetic on lists with items known only at run time (constant
// lists are folded before): a + b concatenates, l * n repeats (torchvision's
// anchor grids stack (shift_x, shift_y) * len(wh_pairs)).
void list_concat(Context& ctx) {
  auto items = list_items(ctx, 0);
  for (auto& item : list_items(ctx, 1)) items.push_back(item);
  ctx.set(0, Val::of_list(items, false));
}

void list_repeat(Context& ctx) {
  size_t list = is_list_input(ctx, 0) ? 0 : 1;
  auto items = list_items(ctx, list);
  std::vector<ValPtr> out;
  for (int64_t r = 0; r < ctx.to_int(1 - list); ++r) out.insert(out.end(), items.begin(), items.end());
  ctx.set(0, Val::of_list(out, false));
}

void convert_add(Context& ctx) {
  if (is_list_input(ctx, 0)) return list_concat(ctx);
  binary(ctx, "Add");
}
void convert_sub(Context& ctx) { binary(ctx, "Sub"); }
void convert_rsub(Context& ctx) { binary(ctx, "Sub", /*swap=*/true); }
void convert_mul(Context& ctx) {
  if (is_list_input(ctx, 0) || is_list_input(ctx, 1)) return list_repeat(ctx);
  binary(ctx, "Mul");
}
void convert_pow(Context& ctx) {
  // Pow keeps the base's type; the exponent may differ.
  auto type = is_tensor_input(ctx, 0) ? ctx.dtype(0) : operand_type(ctx, 0, 1);
  if (!c10::isFloatingType(type) && is_float_input(ctx, 1)) type = at::kFloat;
  std::string a = ctx.tensor_as(0, type);
  if (ctx.is_constant(1) && !ctx.in(1)->constant.isTensor() && ctx.to_double(1) == 2.0) {
    set_result(ctx, ctx.b().add1("Mul", {a, a}), type);
    return;
  }
  std::string b = ctx.tensor_as(1, c10::isFloatingType(type) ? type : ctx.dtype(1));
  set_result(ctx, ctx.b().add1("Pow", {a, b}), type);
}

// trunc(x) = x < 0 ? ceil(x) : floor(x) (NaN, inf and -0.0 kept).
std::string trunc_of(Context& ctx, const std::string& x, c10::ScalarType type) {
  std::string zero = ctx.b().constant(torch::scalar_tensor(0, type), "zero");
  return ctx.b().add1("Where", {ctx.b().add1("Less", {x, zero}), ctx.b().add1("Ceil", {x}), ctx.b().add1("Floor", {x})});
}

// floor(a / b) as PyTorch computes it (div_floor_floating): from the exact
// remainder fmod(a, b), not from the rounded quotient, so 1 // 0.1 is 9 (the
// rounded quotient is 10.0); b == 0 gives IEEE a / b. Integers: the truncated
// quotient, minus one where the remainder is non-zero and the signs differ.
std::string floor_divide(Context& ctx, const std::string& a, const std::string& b, c10::ScalarType type) {
  auto& g = ctx.b();
  std::string zero = g.constant(torch::scalar_tensor(0, type), "zero");
  std::string mod = g.add1("Mod", {a, b}, {{"fmod", int64_t{1}}});
  std::string signs_differ = g.add1("Xor", {g.add1("Less", {a, zero}), g.add1("Less", {b, zero})});
  if (!c10::isFloatingType(type)) {
    std::string q = g.add1("Div", {a, b});
    std::string nonzero = g.add1("Not", {g.add1("Equal", {mod, zero})});
    return g.add1("Sub", {q, cast(ctx, g.add1("And", {nonzero, signs_differ}), type)});
  }
  std::string div = g.add1("Div", {g.add1("Sub", {a, mod}), b});
  std::string mod_nonzero = g.add1("Not", {g.add1("Equal", {mod, zero})});
  std::string mod_sign_differs = g.add1("Xor", {g.add1("Less", {b, zero}), g.add1("Less", {mod, zero})});
  div = g.add1("Sub", {div, cast(ctx, g.add1("And", {mod_nonzero, mod_sign_differs}), type)});
  std::string floored = g.add1("Floor", {div});
  std::string half = g.constant(torch::scalar_tensor(0.5, type), "half");
  std::string round_up = g.add1("Greater", {g.add1("Sub", {div, floored}), half});
  floored = g.add1("Add", {floored, cast(ctx, round_up, type)});
  return g.add1("Where", {g.add1("Equal", {b, zero}), g.add1("Div", {a, b}), floored});
}

// true division (float result), or rounding_mode "trunc"/"floor".
void convert_div(Context& ctx) {
  std::string mode;
  if (ctx.num_inputs() >= 3 && ctx.is_constant(2) && ctx.in(2)->constant.isString())
    mode = ctx.in(2)->constant.toStringRef();
  auto type = operand_type(ctx, 0, 1);
  bool integral = !c10::isFloatingType(type);
  if (mode.empty() && integral) type = at::kFloat;  // true division
  std::string a = ctx.tensor_as(0, type), b = ctx.tensor_as(1, type);
  std::string y;
  if (mode == "floor") y = floor_divide(ctx, a, b, type);
  else if (mode == "trunc" && !integral) y = trunc_of(ctx, ctx.b().add1("Div", {a, b}), type);
  else y = ctx.b().add1("Div", {a, b});  // true division, or integer division (which truncates)
  set_result(ctx, y, type);
}

// Python's // on numbers, torch.floor_divide on tensors: floor of the quotient.
void convert_floordiv(Context& ctx) {
  auto type = operand_type(ctx, 0, 1);
  set_result(ctx, floor_divide(ctx, ctx.tensor_as(0, type), ctx.tensor_as(1, type), type), type);
}

void convert_remainder(Context& ctx) {
  auto type = operand_type(ctx, 0, 1);
  std::string a = ctx.tensor_as(0, type), b = ctx.tensor_as(1, type);
  if (c10::isFloatingType(type)) {
    // Python's remainder: a - floor(a / b) * b
    std::string f = ctx.b().add1("Floor", {ctx.b().add1("Div", {a, b})});
    set_result(ctx, ctx.b().add1("Sub", {a, ctx.b().add1("Mul", {f, b})}), type);
  } else {
    set_result(ctx, ctx.b().add1("Mod", {a, b}, {{"fmod", int64_t{0}}}), type);
  }
}

void compare(Context& ctx, const std::string& op, bool negate = false) {
  auto type = operand_type(ctx, 0, 1);
  std::string y = ctx.b().add1(op, {ctx.tensor_as(0, type), ctx.tensor_as(1, type)});
  if (negate) y = ctx.b().add1("Not", {y});
  set_result(ctx, y, at::kBool);
}
void convert_eq(Context& ctx) { compare(ctx, "Equal"); }
void convert_ne(Context& ctx) { compare(ctx, "Equal", true); }
void convert_lt(Context& ctx) { compare(ctx, "Less"); }
void convert_le(Context& ctx) { compare(ctx, "LessOrEqual"); }
void convert_gt(Context& ctx) { compare(ctx, "Greater"); }
void convert_ge(Context& ctx) { compare(ctx, "GreaterOrEqual"); }

void logical(Context& ctx, const std::string& op) {
  std::string y = ctx.b().add1(op, {ctx.tensor_as(0, at::kBool), ctx.tensor_as(1, at::kBool)});
  set_result(ctx, y, at::kBool);
}
void convert_and(Context& ctx) { logical(ctx, "And"); }
void convert_or(Context& ctx) { logical(ctx, "Or"); }
void convert_xor(Context& ctx) { logical(ctx, "Xor"); }
void convert_logical_not(Context& ctx) { set_result(ctx, ctx.b().add1("Not", {ctx.tensor_as(0, at::kBool)}), at::kBool); }

void convert_max_min_binary(Context& ctx, const std::string& op) {
  auto type = operand_type(ctx, 0, 1);
  set_result(ctx, ctx.b().add1(op, {ctx.tensor_as(0, type), ctx.tensor_as(1, type)}), type);
}
void convert_maximum(Context& ctx) { convert_max_min_binary(ctx, "Max"); }
void convert_minimum(Context& ctx) { convert_max_min_binary(ctx, "Min"); }

void convert_where(Context& ctx) {
  if (ctx.num_inputs() == 1) {  // torch.where(cond): the positions of the non-zeros, per dim
    convert_nonzero_numpy(ctx);
    return;
  }
  auto type = operand_type(ctx, 1, 2);
  std::string y = ctx.b().add1("Where", {ctx.tensor_as(0, at::kBool), ctx.tensor_as(1, type), ctx.tensor_as(2, type)});
  ctx.set_tensor(0, y);
}

void unary(Context& ctx, const std::string& op) {
  auto type = ctx.dtype(0);
  std::string x = ctx.tensor(0);
  auto out = ctx.out_dtype(0);
  if (c10::isFloatingType(out) && !c10::isFloatingType(type)) {
    x = cast(ctx, x, out);
    type = out;
  }
  std::string y = ctx.b().add1(op, {x});
  if (type != out) y = cast(ctx, y, out);  // math.floor(float) -> int
  set_result(ctx, y, out);
}

// log2(x) = log(x) / log(2) (ONNX has no Log2), in x's float type.
void convert_log2(Context& ctx) {
  auto out = ctx.out_dtype(0);
  std::string x = ctx.tensor_as(0, out);
  std::string ln2 = ctx.b().constant(torch::scalar_tensor(std::log(2.0), out), "ln2");
  set_result(ctx, ctx.b().add1("Div", {ctx.b().add1("Log", {x}), ln2}), out);
}

#define UNARY(fn, op) \
  void fn(Context& ctx) { unary(ctx, op); }
UNARY(convert_neg, "Neg")
UNARY(convert_abs, "Abs")
UNARY(convert_exp, "Exp")
UNARY(convert_log, "Log")
UNARY(convert_reciprocal, "Reciprocal")
UNARY(convert_sin, "Sin")
UNARY(convert_cos, "Cos")
UNARY(convert_tan, "Tan")
UNARY(convert_erf, "Erf")
UNARY(convert_floor, "Floor")
UNARY(convert_ceil, "Ceil")
UNARY(convert_round, "Round")
UNARY(convert_sign, "Sign")
#undef UNARY

void convert_trunc(Context& ctx) {
  auto type = ctx.dtype(0);
  if (!c10::isFloatingType(type)) {
    ctx.set(0, ctx.in(0));
    return;
  }
  set_result(ctx, trunc_of(ctx, ctx.tensor(0), type), type);
}

void convert_sqrt(Context& ctx) {
  std::string x = ctx.tensor(0);
  auto out = ctx.out_dtype(0);
  if (ctx.dtype(0) != out) x = cast(ctx, x, out);
  set_result(ctx, sqrt_of(ctx, x), out);
}

// rsqrt: 1 / x at zeros (so -0 gives -inf, as in PyTorch), 0 at +inf, else
// 1 / sqrt(x). Integer tensors give float tensors.
void convert_rsqrt(Context& ctx) {
  std::string x = ctx.tensor(0);
  auto out = ctx.out_dtype(0);
  if (ctx.dtype(0) != out) x = cast(ctx, x, out);
  auto& g = ctx.b();
  std::string zero = g.constant(torch::scalar_tensor(0, out), "zero");
  std::string y = g.add1("Reciprocal", {g.add1("Sqrt", {x})});
  y = g.add1("Where", {g.add1("IsInf", {x}, {{"detect_negative", int64_t{0}}}), zero, y});
  y = g.add1("Where", {g.add1("Equal", {x, zero}), g.add1("Reciprocal", {x}), y});
  ctx.set_tensor(0, y);
}

bool bound_is_tensor(Context& ctx, size_t i) {
  auto v = ctx.in(i);
  if (v->is_constant()) return v->constant.isTensor() && v->constant.toTensor().dim() > 0;
  if (v->is_dynamic()) return !v->number && v->rank != 0;
  return false;
}

// clamp(x, min, max) / hardtanh / relu6: Clip with optional scalar bounds;
// bounds that are tensors (broadcast against x; Clip takes scalars only) are
// min(max(x, lo), hi), which is also PyTorch's order when lo > hi.
void convert_clamp(Context& ctx) {
  auto type = ctx.dtype(0);
  auto kind = ctx.node()->kind();
  auto bound = [&](size_t i) -> std::string {
    if (i >= ctx.num_inputs() || ctx.is_none(i)) return "";
    return ctx.tensor_as(i, type);
  };
  size_t lo_i = 1, hi_i = 2;
  if (kind == c10::aten::clamp_min) hi_i = 99;
  if (kind == c10::aten::clamp_max) { hi_i = 1; lo_i = 99; }
  std::string lo = bound(lo_i), hi = bound(hi_i);
  bool tensors = (!lo.empty() && bound_is_tensor(ctx, lo_i)) || (!hi.empty() && bound_is_tensor(ctx, hi_i));
  std::string x = ctx.tensor(0);
  if (tensors) {
    if (!lo.empty()) x = ctx.b().add1("Max", {x, lo});
    if (!hi.empty()) x = ctx.b().add1("Min", {x, hi});
    ctx.set_tensor(0, x);
    return;
  }
  std::vector<std::string> ins{x, lo, hi};
  while (!ins.empty() && ins.back().empty()) ins.pop_back();
  ctx.set_tensor(0, ctx.b().add1("Clip", ins));
}

// nan_to_num(x, nan=0, posinf=largest, neginf=lowest): Where on IsNaN/IsInf;
// integer tensors have nothing to replace.
void convert_nan_to_num(Context& ctx) {
  auto type = ctx.dtype(0);
  std::string x = ctx.tensor(0);
  if (!c10::isFloatingType(type)) {
    ctx.set(0, ctx.in(0));
    return;
  }
  auto value = [&](size_t i, double fallback) {
    double v = i < ctx.num_inputs() && !ctx.is_none(i) ? ctx.to_double(i) : fallback;
    return ctx.b().constant(torch::scalar_tensor(v, type), "replacement");
  };
  double largest = type == at::kDouble ? std::numeric_limits<double>::max()
                   : type == at::kHalf ? 65504.0 : std::numeric_limits<float>::max();
  auto& g = ctx.b();
  std::string y = g.add1("Where", {g.add1("IsNaN", {x}), value(1, 0.0), x});
  y = g.add1("Where", {g.add1("IsInf", {x}, {{"detect_negative", int64_t{0}}}), value(2, largest), y});
  y = g.add1("Where", {g.add1("IsInf", {x}, {{"detect_positive", int64_t{0}}}), value(3, -largest), y});
  ctx.set_tensor(0, y);
}

}  // namespace

REGISTER_CONVERTER({"aten::add"}, convert_add);
REGISTER_CONVERTER({"aten::add_"}, in_place<convert_add>);
REGISTER_CONVERTER({"aten::sub"}, convert_sub);
REGISTER_CONVERTER({"aten::sub_"}, in_place<convert_sub>);
REGISTER_CONVERTER({"aten::rsub"}, convert_rsub);
REGISTER_CONVERTER({"aten::mul"}, convert_mul);
REGISTER_CONVERTER({"aten::mul_"}, in_place<convert_mul>);
REGISTER_CONVERTER({"aten::div", "aten::true_divide"}, convert_div);
REGISTER_CONVERTER({"aten::div_"}, in_place<convert_div>);
REGISTER_CONVERTER({"aten::floordiv", "aten::floor_divide"}, convert_floordiv);
REGISTER_CONVERTER({"aten::remainder", "aten::__mod__"}, convert_remainder);
REGISTER_CONVERTER({"aten::pow"}, convert_pow);
REGISTER_CONVERTER({"aten::eq"}, convert_eq);
REGISTER_CONVERTER({"aten::ne"}, convert_ne);
REGISTER_CONVERTER({"aten::lt"}, convert_lt);
REGISTER_CONVERTER({"aten::le"}, convert_le);
REGISTER_CONVERTER({"aten::gt"}, convert_gt);
REGISTER_CONVERTER({"aten::ge"}, convert_ge);
REGISTER_CONVERTER({"aten::logical_and", "aten::__and__", "aten::bitwise_and"}, convert_and);
REGISTER_CONVERTER({"aten::logical_or", "aten::__or__", "aten::bitwise_or"}, convert_or);
REGISTER_CONVERTER({"aten::logical_xor", "aten::__xor__", "aten::bitwise_xor"}, convert_xor);
REGISTER_CONVERTER({"aten::logical_not", "aten::bitwise_not"}, convert_logical_not);
REGISTER_CONVERTER({"aten::maximum"}, convert_maximum);
REGISTER_CONVERTER({"aten::minimum"}, convert_minimum);
REGISTER_CONVERTER({"aten::where"}, convert_where);
REGISTER_CONVERTER({"aten::neg"}, convert_neg);
REGISTER_CONVERTER({"aten::abs"}, convert_abs);
REGISTER_CONVERTER({"aten::exp"}, convert_exp);
REGISTER_CONVERTER({"aten::log"}, convert_log);
REGISTER_CONVERTER({"aten::log2"}, convert_log2);
REGISTER_CONVERTER({"aten::sqrt"}, convert_sqrt);
REGISTER_CONVERTER({"aten::rsqrt"}, convert_rsqrt);
REGISTER_CONVERTER({"aten::reciprocal"}, convert_reciprocal);
REGISTER_CONVERTER({"aten::sin"}, convert_sin);
REGISTER_CONVERTER({"aten::cos"}, convert_cos);
REGISTER_CONVERTER({"aten::tan"}, convert_tan);
REGISTER_CONVERTER({"aten::erf"}, convert_erf);
REGISTER_CONVERTER({"aten::floor"}, convert_floor);
REGISTER_CONVERTER({"aten::ceil"}, convert_ceil);
REGISTER_CONVERTER({"aten::round"}, convert_round);
REGISTER_CONVERTER({"aten::trunc", "aten::fix"}, convert_trunc);
REGISTER_CONVERTER({"aten::nan_to_num"}, convert_nan_to_num);
REGISTER_CONVERTER({"aten::sign"}, convert_sign);
REGISTER_CONVERTER({"aten::clamp", "aten::clip", "aten::clamp_min", "aten::clamp_max"}, convert_clamp);

}  // namespace mlopt::onnx_export
