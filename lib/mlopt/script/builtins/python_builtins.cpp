// Python builtins in __init__: range, len, int, min, getattr ... and math.*.
#include <algorithm>
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/builtin_registry.h"
#include "mlopt/script/checked_int.h"

namespace mlopt::script {
namespace {

using Kind = PyValue::Kind;

PyValue python_builtin(const BuiltinCall& c) {
  const std::string& name = c.name;
  const PyValue& callee = c.callee;
  const PyList& args = c.args;
  const KwArgs& kwargs = c.kwargs;
  const torch::jit::SourceRange& range = c.range;
  (void)callee;
  if (name == "noop" || name == "print") return PyValue::none();
  if (name == "super") return PyValue::callable("super");
  if (name == "range") {
    c.need(1, 3);
    int64_t start = args.size() > 1 ? c.need_int(args[0]) : 0, end = c.need_int(args.size() > 1 ? args[1] : args[0]);
    int64_t step = args.size() > 2 ? c.need_int(args[2]) : 1;
    if (step == 0) fail_at(range, "range() step must not be zero");
    __int128 span = step > 0 ? __int128(end) - start : __int128(start) - end;
    __int128 stride = step > 0 ? step : -__int128(step);
    double count = span <= 0 ? 0.0 : double((span + stride - 1) / stride);
    c.check_elements(count, "range()");
    PyList items;
    for (int64_t k = start; step > 0 ? k < end : k > end; k += step) items.push_back(PyValue::integer(k));
    return PyValue::list(items);
  }
  if (name == "len") {
    c.need(1, 1);
    if (args[0].kind == Kind::Str) return PyValue::integer(args[0].s.size());
    return PyValue::integer(c.iterate(args[0]).size());
  }
  if (name == "enumerate") {
    c.need(1, 2);
    int64_t start = args.size() > 1 ? c.need_int(args[1]) : 0;
    if (auto* s = c.kwarg("start")) start = c.need_int(*s);
    PyList items;
    for (auto& v : c.iterate(args[0])) items.push_back(PyValue::tuple({PyValue::integer(start++), v}));
    return PyValue::list(items);
  }
  if (name == "zip") {
    std::vector<PyList> lists;
    size_t n = SIZE_MAX;
    for (auto& a : args) {
      lists.push_back(c.iterate(a));
      n = std::min(n, lists.back().size());
    }
    PyList items;
    for (size_t k = 0; k < (lists.empty() ? 0 : n); ++k) {
      PyList row;
      for (auto& l : lists) row.push_back(l[k]);
      items.push_back(PyValue::tuple(row));
    }
    return PyValue::list(items);
  }
  if (name == "int" || name == "float" || name == "bool" || name == "str") {
    c.need(0, 1);
    PyValue v = args.empty() ? PyValue::integer(0) : args[0];
    if (name == "bool") return PyValue::boolean(truthy(v));
    if (name == "str") return PyValue::str(v.kind == Kind::Str ? v.s : v.repr());
    if (v.kind == Kind::Str) {
      auto parsed = parse_python_literal(v.s);
      if (!parsed || !parsed->is_number()) fail_at(range, name + "(): invalid literal " + v.repr());
      v = *parsed;
    }
    if (!v.is_number()) fail_at(range, name + "(): expected a number, got " + v.type_name());
    if (name == "int") {
      if (v.kind == Kind::Int) return v;
      if (v.kind == Kind::Bool) return PyValue::integer(v.b);
      return PyValue::integer(checked_or_fail(checked::from_double(v.f), range, "int(" + v.repr() + ")"));
    }
    return PyValue::real(v.as_double());
  }
  if (name == "list" || name == "tuple" || name == "sorted" || name == "reversed") {
    c.need(0, 1);
    PyList items = args.empty() ? PyList{} : c.iterate(args[0]);
    if (name == "reversed") std::reverse(items.begin(), items.end());
    if (name == "sorted")
      std::sort(items.begin(), items.end(), [](const PyValue& a, const PyValue& b) {
        return a.is_number() ? a.as_double() < b.as_double() : a.s < b.s;
      });
    return PyValue::list(items, name == "tuple" ? Kind::Tuple : Kind::List);
  }
  if (name == "min" || name == "max" || name == "sum" || name == "any" || name == "all") {
    PyList items = args.size() == 1 ? c.iterate(args[0]) : args;
    if (name == "any" || name == "all") {
      bool any = false, all = true;
      for (auto& v : items) { any = any || truthy(v); all = all && truthy(v); }
      return PyValue::boolean(name == "any" ? any : all);
    }
    if (name == "sum") {
      PyValue total = PyValue::integer(0);
      for (auto& v : items) {
        if (!v.is_number()) fail_at(range, "sum(): numbers expected");
        total = (total.kind == Kind::Int && v.kind != Kind::Float)
                    ? PyValue::integer(checked_or_fail(checked::add(total.i, v.kind == Kind::Bool ? v.b : v.i), range, "sum()"))
                                                                    : PyValue::real(total.as_double() + v.as_double());
      }
      return total;
    }
    if (items.empty()) fail_at(range, name + "() of an empty sequence");
    PyValue best = items[0];
    for (auto& v : items) {
      if (!v.is_number()) fail_at(range, name + "(): numbers expected");
      if (name == "min" ? v.as_double() < best.as_double() : v.as_double() > best.as_double()) best = v;
    }
    return best;
  }
  if (name == "abs") {
    c.need(1, 1);
    if (args[0].kind == Kind::Int) return PyValue::integer(checked_or_fail(checked::abs(args[0].i), range, "abs()"));
    return PyValue::real(std::fabs(args[0].as_double()));
  }
  if (name == "round") {
    c.need(1, 2);
    if (args.size() == 1 && args[0].kind == Kind::Int) return args[0];
    if (args.size() == 1)
      return PyValue::integer(checked_or_fail(checked::from_double(std::nearbyint(args[0].as_double())), range, "round()"));
    double scale = std::pow(10.0, double(c.need_int(args[1])));
    return PyValue::real(std::nearbyint(args[0].as_double() * scale) / scale);
  }
  if (name == "isinstance") {
    c.need(2, 2);
    std::string t = args[1].kind == Kind::Callable ? args[1].s : "";
    std::string actual = args[0].type_name();
    if (t == "int") return PyValue::boolean(args[0].kind == Kind::Int);
    if (t == "float" || t == "bool" || t == "str" || t == "list" || t == "tuple" || t == "dict")
      return PyValue::boolean(actual == t);
    fail_at(range, "isinstance() supports only int, float, bool, str, list, tuple, dict");
  }
  if (name == "getattr" || name == "hasattr") {
    c.need(2, 3);
    if (args[1].kind != Kind::Str) fail_at(range, name + "(): attribute name must be a string");
    try {
      PyValue v = c.get_attr(args[0], args[1].s);
      return name == "hasattr" ? PyValue::boolean(true) : v;
    } catch (const Error&) {
      if (name == "hasattr") return PyValue::boolean(false);
      if (args.size() == 3) return args[2];
      throw;
    }
  }
  if (name == "setattr") {
    c.need(3, 3);
    c.set_attr(args[0], args[1].s, args[2]);
    return PyValue::none();
  }
  if (name == "dict" || name == "collections.OrderedDict") {
    // dict(), dict(pairs), dict(other_dict), dict(key=value, ...): keys in insertion order
    c.need(0, 1);
    PyValue out = PyValue::list({}, Kind::Dict);
    out.values = std::make_shared<PyList>();
    auto put = [&](const PyValue& key, const PyValue& value) {
      for (size_t k = 0; k < out.items->size(); ++k)
        if (values_equal((*out.items)[k], key)) { (*out.values)[k] = value; return; }
      out.items->push_back(key);
      out.values->push_back(value);
    };
    if (!args.empty() && args[0].kind == Kind::Dict) {
      for (size_t k = 0; k < args[0].items->size(); ++k) put((*args[0].items)[k], (*args[0].values)[k]);
    } else if (!args.empty()) {
      for (auto& pair : c.iterate(args[0])) {
        if (!pair.is_sequence() || pair.items->size() != 2) fail_at(range, name + "(): expected (key, value) pairs");
        put((*pair.items)[0], (*pair.items)[1]);
      }
    }
    for (auto& [k, v] : kwargs) put(PyValue::str(k), v);
    return out;
  }
  if (name.rfind("math.", 0) == 0) {
    std::string fn = name.substr(5);
    c.need(1, 2);
    double x = args[0].as_double();
    if (!args[0].is_number()) fail_at(range, name + "(): a number is expected");
    if (fn == "sqrt") return PyValue::real(std::sqrt(x));
    if (fn == "log") return PyValue::real(args.size() > 1 ? std::log(x) / std::log(args[1].as_double()) : std::log(x));
    if (fn == "log2") return PyValue::real(std::log2(x));
    if (fn == "exp") return PyValue::real(std::exp(x));
    if (fn == "ceil") return PyValue::integer(checked_or_fail(checked::from_double(std::ceil(x)), range, name + "()"));
    if (fn == "floor") return PyValue::integer(checked_or_fail(checked::from_double(std::floor(x)), range, name + "()"));
    if (fn == "cos") return PyValue::real(std::cos(x));
    if (fn == "sin") return PyValue::real(std::sin(x));
    if (fn == "pow") return PyValue::real(std::pow(x, args.at(1).as_double()));
    fail_at(range, name + "() is not supported in __init__");
  }
  fail_at(range, "call to '" + name + "' is not supported in __init__");
}

}  // namespace

MLOPT_REGISTER_BUILTINS("python", {"noop", "print", "super", "range", "len", "enumerate", "zip", "int", "float", "bool", "str", "list", "tuple", "sorted", "reversed", "min", "max", "sum", "any", "all", "abs", "round", "isinstance", "getattr", "hasattr", "setattr", "dict", "collections.OrderedDict", "math."}, python_builtin);

}  // namespace mlopt::script
