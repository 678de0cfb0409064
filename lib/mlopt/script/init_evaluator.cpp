#include "mlopt/script/init_evaluator.h"

#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/checked_int.h"
#include "mlopt/script/containers.h"
#include "mlopt/script/value_graph.h"

namespace mlopt::script {

using namespace torch::jit;
using Kind = PyValue::Kind;

namespace {

const std::set<std::string> kBuiltins = {"range", "len", "enumerate", "zip", "int", "float", "bool", "str", "list",
                                         "tuple", "min", "max", "abs", "sum", "round", "sorted", "reversed", "print",
                                         "isinstance", "getattr", "setattr", "hasattr", "super", "dict", "any", "all"};

// Errors raised deep inside (layer builders, tensor ops) get the file:line of the statement.
template <typename F>
auto at_line(const SourceRange& range, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& e) {
    std::string message = e.what();
    if (message.find(".py:") != std::string::npos) throw;
    throw Error(location(range) + ": " + message, e.exit_code(), e.detail());
  } catch (const std::exception& e) {
    throw Error(location(range) + ": " + first_line(e.what()), kExitError, e.what());
  }
}

// Budgets of one __init__ evaluation: what a model file may compute while its
// modules are built. Hostile sizes (range(10**12), [0] * 10**10) are refused
// before anything is allocated; endless loops stop at the step budget.
constexpr int64_t kMaxElements = 1'000'000;      // items of one list/tuple/dict
constexpr int64_t kMaxStringBytes = 10'000'000;  // bytes of one str
constexpr int64_t kMaxSteps = 10'000'000;        // statements run + items made, over the whole evaluation

[[noreturn]] void int_overflow(const SourceRange& range, const std::string& what) {
  fail_at(range, what + ": the result does not fit in a 64-bit integer");
}

int64_t checked_or_fail(std::optional<int64_t> value, const SourceRange& range, const std::string& what) {
  if (!value) int_overflow(range, what);
  return *value;
}

bool values_equal(const PyValue& a, const PyValue& b) {
  if (a.is_number() && b.is_number()) return a.as_double() == b.as_double();
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::None: return true;
    case Kind::Str: return a.s == b.s;
    case Kind::Callable: return a.s == b.s;
    case Kind::List:
    case Kind::Tuple:
      if (a.items->size() != b.items->size()) return false;
      for (size_t k = 0; k < a.items->size(); ++k)
        if (!values_equal((*a.items)[k], (*b.items)[k])) return false;
      return true;
    case Kind::Module: return a.module == b.module;
    default: return false;
  }
}

std::optional<at::ScalarType> dtype_of(const std::string& name) {
  static const std::map<std::string, at::ScalarType> dtypes = {
      {"torch.float32", at::kFloat}, {"torch.float", at::kFloat},   {"torch.float64", at::kDouble},
      {"torch.double", at::kDouble}, {"torch.float16", at::kHalf},  {"torch.half", at::kHalf},
      {"torch.int64", at::kLong},    {"torch.long", at::kLong},     {"torch.int32", at::kInt},
      {"torch.int", at::kInt},       {"torch.bool", at::kBool},     {"torch.uint8", at::kByte},
      {"torch.int8", at::kChar},     {"torch.bfloat16", at::kBFloat16}};
  auto it = dtypes.find(name);
  if (it == dtypes.end()) return std::nullopt;
  return it->second;
}

const PyValue* find_kwarg(const KwArgs& kwargs, const std::string& name) {
  for (auto& [k, v] : kwargs)
    if (k == name) return &v;
  return nullptr;
}

}  // namespace

bool truthy(const PyValue& v) {
  switch (v.kind) {
    case Kind::None: return false;
    case Kind::Bool: return v.b;
    case Kind::Int: return v.i != 0;
    case Kind::Float: return v.f != 0;
    case Kind::Str: return !v.s.empty();
    case Kind::List:
    case Kind::Tuple:
    case Kind::Dict: return !v.items->empty();
    case Kind::Tensor:
    case Kind::Parameter:
      if (v.tensor.numel() != 1) fail("the truth value of a tensor with more than one element is ambiguous");
      return v.tensor.item<double>() != 0;
    default: return true;
  }
}

InitEvaluator::InitEvaluator(const ParsedFile& file, LayerContext& ctx) : file_(file), ctx_(ctx) {
  for (auto& [name, expr] : file.constants) globals_[name] = eval(expr, globals_);
}

const PyValue* InitEvaluator::constant(const std::string& name) const {
  for (auto& [n, expr] : file_.constants)
    if (n == name) return &globals_.at(name);
  return nullptr;
}

void InitEvaluator::charge(double steps, const SourceRange& range) {
  steps_ += steps;
  if (steps_ > kMaxSteps)
    fail_at(range, fmt::format("__init__ runs too long: more than {} steps (statements run and items made); "
                               "a model's __init__ needs far fewer", kMaxSteps));
}

void InitEvaluator::check_elements(double count, const SourceRange& range, const std::string& what) {
  if (count > kMaxElements)
    fail_at(range, fmt::format("{} would make {:.0f} items, more than the {} allowed in __init__", what, count, kMaxElements));
  charge(count, range);
}

void InitEvaluator::check_bytes(double count, const SourceRange& range, const std::string& what) {
  if (count > kMaxStringBytes)
    fail_at(range, fmt::format("{} would make a string of {:.0f} bytes, more than the {} allowed in __init__", what,
                               count, kMaxStringBytes));
  charge(count / 64, range);
}

void InitEvaluator::check_nesting(const PyValue& value, const SourceRange& range) {
  if (nesting_depth(value) > kMaxValueNesting)
    fail_at(range, fmt::format("values nest more than {} levels deep", kMaxValueNesting));
}

void InitEvaluator::check_insert(const PyValue& container, const PyValue& value, const SourceRange& range) {
  if (holds(value, container_identity(container))) {
    if (container.kind == Kind::Module)
      fail_at(range, fmt::format("a module cannot hold itself: this makes '{}' contain itself", container.module->kind));
    fail_at(range, "a " + container.type_name() + " cannot contain itself");
  }
  if (nesting_depth(value) >= kMaxValueNesting)
    fail_at(range, fmt::format("values nest more than {} levels deep", kMaxValueNesting));
}

std::shared_ptr<ModuleObject> InitEvaluator::construct(const std::string& class_name, const PyList& args,
                                                       const KwArgs& kwargs) {
  const ClassDef* cls = file_.find_class(class_name);
  if (!cls) fail("{}: no class '{}'", file_.path, class_name);
  std::string base = cls->superclass().present() ? file_.canonical(dotted_name(cls->superclass().get())) : "";
  if (base != "torch.nn.Module" && base != "torch.nn.modules.module.Module") {
    if (file_.find_class(base)) fail_at(cls->range(), "class '" + class_name + "' derives from user class '" + base +
                                                          "': only classes derived from nn.Module directly are supported");
    fail_at(cls->range(), "class '" + class_name + "' is not an nn.Module subclass");
  }
  auto self = std::make_shared<ModuleObject>();
  self->kind = class_name;
  self->user_class = true;
  const Def* init = nullptr;
  for (auto stmt : cls->body())
    if (stmt.kind() == TK_DEF && Def(stmt).name().name() == "__init__") init = new Def(Def(stmt));
  if (init) {
    std::unique_ptr<const Def> owned(init);
    call_def(*init, args, kwargs, self);
  } else if (!args.empty() || !kwargs.empty()) {
    fail_at(cls->range(), "class '" + class_name + "' has no __init__ but was given arguments");
  }
  return self;
}

PyValue InitEvaluator::call_def(const Def& def, const PyList& args, const KwArgs& kwargs,
                                const std::shared_ptr<ModuleObject>& self) {
  if (++depth_ > 64) fail_at(def.range(), "recursion too deep while evaluating '" + def.name().name() + "'");
  Scope scope;
  auto params = def.decl().params();
  size_t first = 0;
  if (self) {
    if (params.size() == 0) fail_at(def.range(), "method '" + def.name().name() + "' has no self parameter");
    scope[params[0].ident().name()] = PyValue::of_module(self);
    first = 1;
  }
  std::string fn = def.name().name();
  if (args.size() > params.size() - first)
    fail_at(def.range(), fmt::format("{}() takes {} arguments but {} were given", fn, params.size() - first, args.size()));
  for (size_t k = 0; k < args.size(); ++k) scope[params[first + k].ident().name()] = args[k];
  for (auto& [name, value] : kwargs) {
    bool known = false;
    for (size_t k = first; k < params.size(); ++k) known = known || params[k].ident().name() == name;
    if (!known) fail_at(def.range(), fmt::format("{}() got an unexpected keyword argument '{}'", fn, name));
    scope[name] = value;
  }
  for (size_t k = first; k < params.size(); ++k) {
    std::string name = params[k].ident().name();
    if (scope.count(name)) continue;
    if (!params[k].defaultValue().present())
      fail_at(params[k].range(), fmt::format("{}() missing required argument '{}'", fn, name));
    scope[name] = eval(params[k].defaultValue().get(), globals_);
  }
  PyValue result;
  exec_block(def.statements(), scope, result);
  --depth_;
  return result;
}

InitEvaluator::Flow InitEvaluator::exec_block(const List<Stmt>& body, Scope& scope, PyValue& result) {
  for (auto stmt : body) {
    Flow flow = exec(stmt, scope, result);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

InitEvaluator::Flow InitEvaluator::exec(const Stmt& stmt, Scope& scope, PyValue& result) {
  charge(1, stmt.range());
  switch (stmt.kind()) {
    case TK_ASSIGN: {
      Assign a(stmt);
      if (!a.rhs().present()) return Flow::Normal;  // `x: int` declaration
      PyValue value = eval(a.rhs().get(), scope);
      for (auto target : a.lhs_list()) assign(target, value, scope);
      return Flow::Normal;
    }
    case TK_AUG_ASSIGN: {
      AugAssign a(stmt);
      PyValue current = eval(a.lhs(), scope);
      PyValue rhs = eval(a.rhs(), scope);
      if (a.aug_op() == '+' && current.kind == Kind::List) {  // list += iterable extends in place
        PyList more = iterate(rhs, a.range());
        check_elements(current.items->size() + more.size(), a.range(), "list +=");
        for (auto& v : more) check_insert(current, v, a.range());
        for (auto& v : more) current.items->push_back(v);
        return Flow::Normal;
      }
      auto op = BinOp::create(a.range(), a.aug_op(), a.lhs(), a.rhs());
      Scope tmp = scope;
      assign(a.lhs(), eval_binary(op, scope), scope);
      return Flow::Normal;
    }
    case TK_EXPR_STMT:
      eval(ExprStmt(stmt).expr(), scope);
      return Flow::Normal;
    case TK_IF: {
      If s(stmt);
      bool cond = at_line(s.range(), [&] { return truthy(eval(s.cond(), scope)); });
      return exec_block(cond ? s.trueBranch() : s.falseBranch(), scope, result);
    }
    case TK_FOR: {
      For s(stmt);
      if (s.itrs().size() != 1) fail_at(s.range(), "unsupported for statement");
      Expr target = s.targets().size() == 1 ? s.targets()[0]
                                            : Expr(TupleLiteral::create(s.range(), s.targets()));
      PyList items = iterate(eval(s.itrs()[0], scope), s.range());
      for (auto& item : items) {
        assign(target, item, scope);
        Flow flow = exec_block(s.body(), scope, result);
        if (flow == Flow::Break) break;
        if (flow == Flow::Return) return flow;
      }
      return Flow::Normal;
    }
    case TK_WHILE: {
      While s(stmt);
      for (int guard = 0; truthy(eval(s.cond(), scope)); ++guard) {
        if (guard > 1000000) fail_at(s.range(), "while loop runs too long in __init__");
        Flow flow = exec_block(s.body(), scope, result);
        if (flow == Flow::Break) break;
        if (flow == Flow::Return) return flow;
      }
      return Flow::Normal;
    }
    case TK_RETURN:
      result = Return(stmt).expr().kind() == TK_NONE ? PyValue::none() : eval(Return(stmt).expr(), scope);
      return Flow::Return;
    case TK_BREAK: return Flow::Break;
    case TK_CONTINUE: return Flow::Continue;
    case TK_PASS: return Flow::Normal;
    case TK_ASSERT: {
      Assert s(stmt);
      if (!truthy(eval(s.test(), scope))) {
        std::string message = s.msg().present() ? eval(s.msg().get(), scope).s : "";
        fail_at(s.range(), "assertion failed in __init__" + (message.empty() ? "" : ": " + message));
      }
      return Flow::Normal;
    }
    case TK_RAISE:
      fail_at(stmt.range(), "__init__ raised an exception");
    case TK_DEF:
      fail_at(stmt.range(), "nested function definitions are not supported in __init__");
    default:
      fail_at(stmt.range(), "unsupported statement in __init__: " + kindToString(stmt.kind()));
  }
}

void InitEvaluator::assign(const Expr& target, const PyValue& value, Scope& scope) {
  switch (target.kind()) {
    case TK_VAR:
      scope[Var(target).name().name()] = value;
      return;
    case '.': {
      Select s(target);
      set_attr(eval(s.value(), scope), s.selector().name(), value, target.range());
      return;
    }
    case TK_SUBSCRIPT: {
      Subscript s(target);
      PyValue object = eval(s.value(), scope);
      if (s.subscript_exprs().size() != 1) fail_at(target.range(), "unsupported subscript assignment");
      PyValue index = eval(s.subscript_exprs()[0], scope);
      if (object.kind == Kind::List && index.kind == Kind::Int) {
        int64_t n = object.items->size(), k = index.i < 0 ? index.i + n : index.i;
        if (k < 0 || k >= n) fail_at(target.range(), "list assignment index out of range");
        check_insert(object, value, target.range());
        (*object.items)[k] = value;
        return;
      }
      if (object.kind == Kind::Dict) {
        check_insert(object, value, target.range());
        for (size_t k = 0; k < object.items->size(); ++k)
          if (values_equal((*object.items)[k], index)) { (*object.values)[k] = value; return; }
        check_elements(object.items->size() + 1, target.range(), "dict");
        object.items->push_back(index);
        object.values->push_back(value);
        return;
      }
      fail_at(target.range(), "unsupported subscript assignment to " + object.type_name());
    }
    case TK_TUPLE_LITERAL:
    case TK_LIST_LITERAL: {
      auto targets = target.kind() == TK_TUPLE_LITERAL ? TupleLiteral(target).inputs() : ListLiteral(target).inputs();
      PyList items = iterate(value, target.range());
      if (items.size() != targets.size())
        fail_at(target.range(), fmt::format("cannot unpack {} values into {} targets", items.size(), targets.size()));
      for (size_t k = 0; k < items.size(); ++k) assign(targets[k], items[k], scope);
      return;
    }
    default:
      fail_at(target.range(), "unsupported assignment target");
  }
}

PyValue InitEvaluator::lookup(const std::string& name, Scope& scope, const SourceRange& range) {
  if (auto it = scope.find(name); it != scope.end()) return it->second;
  if (auto it = globals_.find(name); it != globals_.end()) return it->second;
  if (file_.find_class(name)) return PyValue::callable("class:" + name);
  if (file_.find_function(name)) return PyValue::callable("fn:" + name);
  if (auto it = file_.aliases.find(name); it != file_.aliases.end()) return PyValue::callable(it->second);
  if (kBuiltins.count(name)) return PyValue::callable(name);
  fail_at(range, "name '" + name + "' is not defined");
}

PyValue InitEvaluator::eval(const Expr& expr, Scope& scope) {
  switch (expr.kind()) {
    case TK_CONST: {
      Const c(expr);
      if (c.isFloatingPoint()) return PyValue::real(c.asFloatingPoint());
      if (c.isIntegral()) {
        try {
          return PyValue::integer(c.asIntegral());
        } catch (const std::exception&) {
          fail_at(expr.range(), "integer literal " + c.text() + " does not fit in a 64-bit integer");
        }
      }
      fail_at(expr.range(), "unsupported constant " + c.text());
    }
    case TK_STRINGLITERAL: return PyValue::str(StringLiteral(expr).text());
    case TK_TRUE: return PyValue::boolean(true);
    case TK_FALSE: return PyValue::boolean(false);
    case TK_NONE: return PyValue::none();
    case TK_VAR: return lookup(Var(expr).name().name(), scope, expr.range());
    case '.': {
      Select s(expr);
      return get_attr(eval(s.value(), scope), s.selector().name(), expr.range());
    }
    case TK_APPLY: return eval_apply(Apply(expr), scope);
    case TK_SUBSCRIPT: {
      Subscript s(expr);
      PyValue object = eval(s.value(), scope);
      if (s.subscript_exprs().size() != 1) fail_at(expr.range(), "multi-dimensional subscripts are not supported in __init__");
      Expr index = s.subscript_exprs()[0];
      if (index.kind() == TK_SLICE_EXPR) {
        SliceExpr slice(index);
        PyList items = object.kind == Kind::Module ? iterate(object, expr.range()) : PyList{};
        if (!object.is_sequence() && object.kind != Kind::Str && object.kind != Kind::Module)
          fail_at(expr.range(), "cannot slice " + object.type_name());
        if (object.is_sequence()) items = *object.items;
        int64_t n = object.kind == Kind::Str ? object.s.size() : items.size();
        auto bound = [&](const Maybe<Expr>& e, int64_t fallback) {
          if (!e.present()) return fallback;
          PyValue v = eval(e.get(), scope);
          if (v.kind == Kind::None) return fallback;
          int64_t k = v.i < 0 ? v.i + n : v.i;
          return std::clamp<int64_t>(k, 0, n);
        };
        int64_t step = slice.step().present() ? eval(slice.step().get(), scope).i : 1;
        if (step != 1) fail_at(expr.range(), "slices with a step are not supported in __init__");
        int64_t start = bound(slice.start(), 0), end = bound(slice.end(), n);
        if (object.kind == Kind::Str) return PyValue::str(start < end ? object.s.substr(start, end - start) : "");
        PyList out;
        for (int64_t k = start; k < end; ++k) out.push_back(items[k]);
        if (object.kind == Kind::Module) fail_at(expr.range(), "slicing a module container is not supported");
        return PyValue::list(out, object.kind);
      }
      return subscript(object, eval(index, scope), expr.range());
    }
    case TK_LIST_LITERAL:
    case TK_TUPLE_LITERAL: {
      auto inputs = expr.kind() == TK_LIST_LITERAL ? ListLiteral(expr).inputs() : TupleLiteral(expr).inputs();
      PyList items;
      for (auto e : inputs) {
        if (e.kind() == TK_STARRED) {
          for (auto& v : iterate(eval(Starred(e).expr(), scope), e.range())) items.push_back(v);
        } else {
          items.push_back(eval(e, scope));
        }
      }
      PyValue out = PyValue::list(items, expr.kind() == TK_LIST_LITERAL ? Kind::List : Kind::Tuple);
      check_nesting(out, expr.range());
      return out;
    }
    case TK_DICT_LITERAL: {
      DictLiteral d(expr);
      PyValue out = PyValue::list({}, Kind::Dict);
      out.values = std::make_shared<PyList>();
      for (size_t k = 0; k < d.key_inputs().size(); ++k) {
        out.items->push_back(eval(d.key_inputs()[k], scope));
        out.values->push_back(eval(d.value_inputs()[k], scope));
      }
      return out;
    }
    case TK_LIST_COMP: {
      ListComp c(expr);
      PyList items;
      Scope inner = scope;  // the comprehension variable does not leak
      for (auto& item : iterate(eval(c.iter(), scope), expr.range())) {
        charge(1, expr.range());
        assign(c.target(), item, inner);
        items.push_back(eval(c.elt(), inner));
      }
      return PyValue::list(items);
    }
    case TK_IF_EXPR: {
      TernaryIf t(expr);
      return truthy(eval(t.cond(), scope)) ? eval(t.true_expr(), scope) : eval(t.false_expr(), scope);
    }
    case TK_NOT: return PyValue::boolean(!truthy(eval(Expr(expr.tree()->trees()[0]), scope)));
    case TK_UNARY_MINUS: {
      PyValue v = eval(Expr(expr.tree()->trees()[0]), scope);
      if (v.kind == Kind::Int) return PyValue::integer(checked_or_fail(checked::neg(v.i), expr.range(), "-x"));
      if (v.kind == Kind::Bool) return PyValue::integer(-int64_t(v.b));
      if (v.kind == Kind::Float) return PyValue::real(-v.f);
      if (v.is_tensor()) return PyValue::of_tensor(-v.tensor);
      fail_at(expr.range(), "bad operand type for unary -: " + v.type_name());
    }
    case TK_AND: {
      PyValue lhs = eval(BinOp(expr).lhs(), scope);
      return truthy(lhs) ? eval(BinOp(expr).rhs(), scope) : lhs;
    }
    case TK_OR: {
      PyValue lhs = eval(BinOp(expr).lhs(), scope);
      return truthy(lhs) ? lhs : eval(BinOp(expr).rhs(), scope);
    }
    case '+': case '-': case '*': case '/': case '%': case TK_FLOOR_DIV: case TK_POW: case '<': case '>':
    case TK_LE: case TK_GE: case TK_EQ: case TK_NE: case TK_IN: case TK_NOTIN: case TK_IS: case TK_ISNOT:
    case TK_LSHIFT: case TK_RSHIFT: case '&': case '|': case '^':
      return eval_binary(expr, scope);
    case TK_STARRED: fail_at(expr.range(), "starred expression is not allowed here");
    default:
      fail_at(expr.range(), "unsupported expression in __init__: " + kindToString(expr.kind()));
  }
}

PyValue InitEvaluator::eval_binary(const Expr& expr, Scope& scope) {
  BinOp op(expr);
  PyValue a = eval(op.lhs(), scope), b = eval(op.rhs(), scope);
  int kind = expr.kind();
  auto type_error = [&]() -> PyValue {
    fail_at(expr.range(), fmt::format("unsupported operand types for '{}': {} and {}", kindToString(kind), a.type_name(),
                                      b.type_name()));
  };
  switch (kind) {
    case TK_EQ: return PyValue::boolean(values_equal(a, b));
    case TK_NE: return PyValue::boolean(!values_equal(a, b));
    case TK_IS: return PyValue::boolean(a.kind == b.kind && (a.kind == Kind::None || values_equal(a, b)));
    case TK_ISNOT: return PyValue::boolean(!(a.kind == b.kind && (a.kind == Kind::None || values_equal(a, b))));
    case TK_IN:
    case TK_NOTIN: {
      bool found = false;
      if (b.kind == Kind::Str && a.kind == Kind::Str) found = b.s.find(a.s) != std::string::npos;
      else if (b.is_sequence() || b.kind == Kind::Dict)
        for (auto& v : *b.items) found = found || values_equal(v, a);
      else type_error();
      return PyValue::boolean(kind == TK_IN ? found : !found);
    }
    default: break;
  }
  if (a.is_tensor() || b.is_tensor()) {
    auto as_tensor = [&](const PyValue& v) { return v.is_tensor() ? v.tensor : at::scalar_tensor(v.as_double()); };
    if (!(a.is_tensor() || a.is_number()) || !(b.is_tensor() || b.is_number())) type_error();
    at::Tensor x = as_tensor(a), y = as_tensor(b);
    switch (kind) {
      case '+': return PyValue::of_tensor(x + y);
      case '-': return PyValue::of_tensor(x - y);
      case '*': return PyValue::of_tensor(x * y);
      case '/': return PyValue::of_tensor(x / y);
      case TK_POW: return PyValue::of_tensor(at::pow(x, y));
      default: type_error();
    }
  }
  if (a.is_number() && b.is_number()) {
    bool ints = a.kind != Kind::Float && b.kind != Kind::Float;
    int64_t ai = a.kind == Kind::Bool ? a.b : a.i, bi = b.kind == Kind::Bool ? b.b : b.i;
    double af = a.as_double(), bf = b.as_double();
    auto int_result = [&](std::optional<int64_t> r, const char* op) {
      return PyValue::integer(checked_or_fail(r, expr.range(), fmt::format("{} {} {}", ai, op, bi)));
    };
    switch (kind) {
      case '+': return ints ? int_result(checked::add(ai, bi), "+") : PyValue::real(af + bf);
      case '-': return ints ? int_result(checked::sub(ai, bi), "-") : PyValue::real(af - bf);
      case '*': return ints ? int_result(checked::mul(ai, bi), "*") : PyValue::real(af * bf);
      case '/':
        if (bf == 0) fail_at(expr.range(), "division by zero");
        return PyValue::real(af / bf);
      case TK_FLOOR_DIV:
        if (bf == 0) fail_at(expr.range(), "division by zero");
        return ints ? int_result(checked::floor_div(ai, bi), "//") : PyValue::real(std::floor(af / bf));
      case '%':
        if (bf == 0) fail_at(expr.range(), "modulo by zero");
        return ints ? int_result(checked::mod(ai, bi), "%") : PyValue::real(af - std::floor(af / bf) * bf);
      case TK_POW:
        if (ints && bi >= 0) return int_result(checked::pow(ai, bi), "**");
        return PyValue::real(std::pow(af, bf));
      case TK_LSHIFT:
      case TK_RSHIFT:
      case '&':
      case '|':
      case '^':
        if (!ints) type_error();
        if ((kind == TK_LSHIFT || kind == TK_RSHIFT) && bi < 0) fail_at(expr.range(), "negative shift count");
        if (kind == TK_LSHIFT) return int_result(checked::shl(ai, bi), "<<");
        if (kind == TK_RSHIFT) return PyValue::integer(checked::shr(ai, bi));
        return PyValue::integer(kind == '&' ? (ai & bi) : kind == '|' ? (ai | bi) : (ai ^ bi));
      case '<': return PyValue::boolean(af < bf);
      case '>': return PyValue::boolean(af > bf);
      case TK_LE: return PyValue::boolean(af <= bf);
      case TK_GE: return PyValue::boolean(af >= bf);
      default: type_error();
    }
  }
  if (a.kind == Kind::Str && b.kind == Kind::Str) {
    switch (kind) {
      case '+':
        check_bytes(a.s.size() + b.s.size(), expr.range(), "str +");
        return PyValue::str(a.s + b.s);
      case '<': return PyValue::boolean(a.s < b.s);
      case '>': return PyValue::boolean(a.s > b.s);
      default: type_error();
    }
  }
  if (a.is_sequence() && b.is_sequence() && kind == '+' && a.kind == b.kind) {
    check_elements(a.items->size() + b.items->size(), expr.range(), a.type_name() + " +");
    PyList items = *a.items;
    items.insert(items.end(), b.items->begin(), b.items->end());
    return PyValue::list(items, a.kind);
  }
  if (kind == '*' && (a.is_sequence() || a.kind == Kind::Str) && b.kind == Kind::Int) {
    // the size first: [0] * 10**10 and "a" * 10**12 are refused before anything is allocated
    double total = double(a.kind == Kind::Str ? a.s.size() : a.items->size()) * double(std::max<int64_t>(b.i, 0));
    if (a.kind == Kind::Str) check_bytes(total, expr.range(), "str *");
    else check_elements(total, expr.range(), a.type_name() + " *");
    if (a.kind == Kind::Str) {
      std::string out;
      for (int64_t k = 0; k < b.i; ++k) out += a.s;
      return PyValue::str(out);
    }
    PyList items;
    for (int64_t k = 0; k < b.i; ++k) items.insert(items.end(), a.items->begin(), a.items->end());
    return PyValue::list(items, a.kind);
  }
  return type_error();
}

PyValue InitEvaluator::eval_apply(const Apply& apply, Scope& scope) {
  PyValue callee = eval(apply.callee(), scope);
  PyList args;
  for (auto e : apply.inputs()) {
    if (e.kind() == TK_STARRED) {
      for (auto& v : iterate(eval(Starred(e).expr(), scope), e.range())) args.push_back(v);
    } else {
      args.push_back(eval(e, scope));
    }
  }
  KwArgs kwargs;
  for (auto attr : apply.attributes()) kwargs.emplace_back(attr.name().name(), eval(attr.value(), scope));
  return call(callee, args, kwargs, apply.range());
}

PyValue InitEvaluator::get_attr(const PyValue& object, const std::string& name, const SourceRange& range) {
  if (object.kind == Kind::Callable) {
    const std::string& s = object.s;
    if (s == "math") {
      if (name == "pi") return PyValue::real(M_PI);
      if (name == "e") return PyValue::real(M_E);
      if (name == "inf") return PyValue::real(INFINITY);
      if (name == "tau") return PyValue::real(2 * M_PI);
    }
    if (s.rfind("class:", 0) == 0 || s.rfind("fn:", 0) == 0) fail_at(range, "unsupported attribute '" + name + "' of " + s);
    if (s == "super" && name == "__init__") return PyValue::callable("noop");
    return PyValue::callable(s + "." + name);
  }
  if (object.kind == Kind::Module) {
    auto& m = *object.module;
    if (const PyValue* v = m.member(name)) return *v;
    for (auto& [n, t] : m.buffers)
      if (n == name) return PyValue::of_tensor(t);
    if (name == "training") return PyValue::boolean(true);
    if (m.built && m.built->hasattr(name)) {
      auto value = m.built->attr(name);
      if (value.isTensor()) return PyValue::of_tensor(value.toTensor(), true);
      if (value.isModule()) {
        auto child = std::make_shared<ModuleObject>();
        child->kind = name;
        child->built = value.toModule();
        return PyValue::of_module(child);
      }
    }
    static const std::set<std::string> methods = {"register_buffer", "register_parameter", "add_module", "append",
                                                  "extend", "insert", "__init__", "modules", "children", "parameters"};
    if (m.user_class) {
      const ClassDef* cls = file_.find_class(m.kind);
      for (auto stmt : cls->body())
        if (stmt.kind() == TK_DEF && Def(stmt).name().name() == name) {
          PyValue method = PyValue::callable("method:" + name);
          method.module = object.module;
          return method;
        }
    }
    if (methods.count(name)) {
      PyValue method = PyValue::callable("module." + name);
      method.module = object.module;
      return method;
    }
    fail_at(range, fmt::format("'{}' object has no attribute '{}'", m.kind, name));
  }
  if (object.kind == Kind::List || object.kind == Kind::Dict || object.kind == Kind::Str) {
    PyValue method = PyValue::callable(object.type_name() + "." + name);
    method.bound = std::make_shared<PyValue>(object);
    return method;
  }
  if (object.is_tensor()) {
    if (name == "shape") {
      PyList dims;
      for (auto d : object.tensor.sizes()) dims.push_back(PyValue::integer(d));
      return PyValue::tuple(dims);
    }
    PyValue method = PyValue::callable("tensor." + name);
    method.bound = std::make_shared<PyValue>(object);
    return method;
  }
  fail_at(range, fmt::format("'{}' object has no attribute '{}'", object.type_name(), name));
}

void InitEvaluator::set_attr(const PyValue& object, const std::string& name, const PyValue& value,
                             const SourceRange& range) {
  if (object.kind != Kind::Module || !object.module->user_class)
    fail_at(range, "cannot set attribute '" + name + "' on " + object.type_name());
  check_insert(object, value, range);
  if (value.kind == Kind::Callable) fail_at(range, "attribute '" + name + "': functions and classes cannot be stored on a module");
  auto& m = *object.module;
  for (auto& [n, t] : m.buffers)
    if (n == name) {
      if (!value.is_tensor()) fail_at(range, "buffer '" + name + "' must be assigned a tensor");
      t = value.tensor;
      return;
    }
  m.set_member(name, value);
}

PyValue InitEvaluator::subscript(const PyValue& object, const PyValue& index, const SourceRange& range) {
  if (object.is_sequence() || object.kind == Kind::Str || object.kind == Kind::Module) {
    if (index.kind != Kind::Int) fail_at(range, "indices must be integers, not " + index.type_name());
    PyList items = object.kind == Kind::Str ? PyList{} : object.kind == Kind::Module ? iterate(object, range) : *object.items;
    int64_t n = object.kind == Kind::Str ? object.s.size() : items.size();
    int64_t k = index.i < 0 ? index.i + n : index.i;
    if (k < 0 || k >= n) fail_at(range, "index " + std::to_string(index.i) + " out of range");
    if (object.kind == Kind::Str) return PyValue::str(object.s.substr(k, 1));
    return items[k];
  }
  if (object.kind == Kind::Dict) {
    for (size_t k = 0; k < object.items->size(); ++k)
      if (values_equal((*object.items)[k], index)) return (*object.values)[k];
    fail_at(range, "key " + index.repr() + " not in dict");
  }
  if (object.is_tensor()) {
    if (index.kind != Kind::Int) fail_at(range, "tensor indices must be integers in __init__");
    return PyValue::of_tensor(object.tensor[index.i]);
  }
  fail_at(range, "'" + object.type_name() + "' object is not subscriptable");
}

PyList InitEvaluator::iterate(const PyValue& value, const SourceRange& range) {
  if (value.is_sequence() || value.kind == Kind::Dict) {
    charge(value.items->size(), range);
    return *value.items;
  }
  if (value.kind == Kind::Str) {
    PyList chars;
    for (char c : value.s) chars.push_back(PyValue::str(std::string(1, c)));
    return chars;
  }
  if (value.kind == Kind::Module && is_container(*value.module)) {
    PyList items;
    for (auto& child : value.module->children) items.push_back(PyValue::of_module(child));
    return items;
  }
  fail_at(range, "'" + value.type_name() + "' object is not iterable");
}

PyValue InitEvaluator::call(const PyValue& callee, const PyList& args, const KwArgs& kwargs, const SourceRange& range) {
  if (callee.kind != Kind::Callable) fail_at(range, "'" + callee.type_name() + "' object is not callable");
  const std::string& name = callee.s;
  if (name.rfind("class:", 0) == 0) {
    std::string cls = name.substr(6);
    return at_line(range, [&] { return PyValue::of_module(construct(cls, args, kwargs)); });
  }
  if (name.rfind("fn:", 0) == 0) return call_def(*file_.find_function(name.substr(3)), args, kwargs, nullptr);
  if (name.rfind("method:", 0) == 0) {
    const ClassDef* cls = file_.find_class(callee.module->kind);
    for (auto stmt : cls->body())
      if (stmt.kind() == TK_DEF && Def(stmt).name().name() == name.substr(7)) return call_def(Def(stmt), args, kwargs, callee.module);
  }
  return at_line(range, [&] { return call_builtin(name, callee, args, kwargs, range); });
}

// Counts what torch.NAME(args) would allocate against the model's parameter
// budget before allocating it (the shapes come from the file: hostile sizes
// are refused here, not by the allocator or the OOM killer).
void InitEvaluator::reserve_tensor(const std::string& name, const PyList& args, at::ScalarType dtype,
                                   const SourceRange& range) {
  std::string what = "torch." + name + "()";
  auto number = [&](size_t i) { return i < args.size() && args[i].is_number() ? args[i].as_double() : 0.0; };
  double elements = 0;
  if (name == "zeros" || name == "ones" || name == "empty" || name == "randn" || name == "rand" || name == "full") {
    PyList dims(args.begin(), args.begin() + (name == "full" ? std::min<size_t>(1, args.size()) : args.size()));
    if (dims.size() == 1 && dims[0].is_sequence()) dims = *dims[0].items;
    elements = 1;
    for (auto& d : dims)
      if (d.kind == Kind::Int) {
        if (d.i < 0) fail_at(range, what + ": negative dimension " + std::to_string(d.i));
        elements *= static_cast<double>(d.i);
      }
  } else if (name == "eye") {
    elements = number(0) * number(0);
  } else if (name == "arange") {
    double start = args.size() > 1 ? number(0) : 0, end = args.size() > 1 ? number(1) : number(0);
    double step = args.size() > 2 ? number(2) : 1;
    if (step == 0) fail_at(range, what + ": step must be nonzero");
    elements = std::max(0.0, std::ceil((end - start) / step));
  } else if (name == "linspace") {
    elements = number(2);
  } else {
    return;  // torch.tensor(data): the data is already in memory
  }
  at_line(range, [&] { ctx_.budget.reserve_elements(elements, dtype, what); });
}

PyValue InitEvaluator::make_tensor(const std::string& name, const PyList& args, const KwArgs& kwargs,
                                   const SourceRange& range) {
  at::ScalarType dtype = at::kFloat;
  if (auto* d = find_kwarg(kwargs, "dtype"); d && d->kind != Kind::None) {
    auto parsed = d->kind == Kind::Callable ? dtype_of(d->s) : std::nullopt;
    if (!parsed) fail_at(range, "unsupported dtype " + d->repr());
    dtype = *parsed;
  }
  if (auto* rg = find_kwarg(kwargs, "requires_grad"); rg && truthy(*rg)) {
    // parameters are made by nn.Parameter; requires_grad on a plain tensor is irrelevant for inference
  }
  auto sizes = [&](size_t from) {
    std::vector<int64_t> shape;
    PyList dims(args.begin() + std::min(from, args.size()), args.end());
    if (dims.size() == 1 && dims[0].is_sequence()) dims = *dims[0].items;
    for (auto& d : dims) {
      if (d.kind != Kind::Int) fail_at(range, "torch." + name + "(): sizes must be ints, got " + d.type_name());
      shape.push_back(d.i);
    }
    return shape;
  };
  auto options = at::TensorOptions().dtype(dtype);
  reserve_tensor(name, args, dtype, range);
  if (name == "zeros") return PyValue::of_tensor(at::zeros(sizes(0), options));
  if (name == "ones") return PyValue::of_tensor(at::ones(sizes(0), options));
  if (name == "empty") return PyValue::of_tensor(at::zeros(sizes(0), options));
  if (name == "randn") return PyValue::of_tensor(at::empty(sizes(0), options).normal_(0, 1, ctx_.gen));
  if (name == "rand") return PyValue::of_tensor(at::empty(sizes(0), options).uniform_(0, 1, ctx_.gen));
  if (name == "full") {
    if (args.size() != 2 || !args[1].is_number()) fail_at(range, "torch.full(size, value) expected");
    return PyValue::of_tensor(at::full(sizes(0).empty() ? std::vector<int64_t>{} : [&] {
                                         PyList one{args[0]};
                                         std::vector<int64_t> s;
                                         for (auto& d : iterate(args[0], range)) s.push_back(d.i);
                                         return s;
                                       }(), args[1].as_double(), options));
  }
  if (name == "eye") {
    if (args.empty() || args[0].kind != Kind::Int) fail_at(range, "torch.eye(n) expected");
    return PyValue::of_tensor(at::eye(args[0].i, options));
  }
  if (name == "arange") {
    if (args.empty()) fail_at(range, "torch.arange() needs arguments");
    bool floats = false;
    for (auto& a : args) floats = floats || a.kind == Kind::Float;
    double start = args.size() > 1 ? args[0].as_double() : 0, end = args.size() > 1 ? args[1].as_double() : args[0].as_double();
    double step = args.size() > 2 ? args[2].as_double() : 1;
    auto opts = find_kwarg(kwargs, "dtype") ? options : at::TensorOptions().dtype(floats ? at::kFloat : at::kLong);
    return PyValue::of_tensor(at::arange(start, end, step, opts));
  }
  if (name == "linspace") {
    if (args.size() < 3) fail_at(range, "torch.linspace(start, end, steps) expected");
    return PyValue::of_tensor(at::linspace(args[0].as_double(), args[1].as_double(), args[2].i, options));
  }
  if (name == "tensor") {
    if (args.empty()) fail_at(range, "torch.tensor(data) expected");
    std::function<void(const PyValue&, std::vector<double>&, std::vector<int64_t>&, size_t)> flatten =
        [&](const PyValue& v, std::vector<double>& out, std::vector<int64_t>& shape, size_t depth) {
          if (v.is_sequence()) {
            if (shape.size() <= depth) shape.push_back(v.items->size());
            for (auto& item : *v.items) flatten(item, out, shape, depth + 1);
          } else if (v.is_number()) {
            out.push_back(v.as_double());
          } else {
            fail_at(range, "torch.tensor(): unsupported element " + v.type_name());
          }
        };
    std::vector<double> data;
    std::vector<int64_t> shape;
    flatten(args[0], data, shape, 0);
    bool ints = true;
    std::function<void(const PyValue&)> scan = [&](const PyValue& v) {
      if (v.is_sequence()) for (auto& i : *v.items) scan(i);
      else ints = ints && v.kind != Kind::Float;
    };
    scan(args[0]);
    auto t = at::tensor(data, at::kDouble).reshape(shape);
    return PyValue::of_tensor(t.to(find_kwarg(kwargs, "dtype") ? dtype : ints ? at::kLong : at::kFloat));
  }
  fail_at(range, "torch." + name + "() is not supported in __init__");
}

PyValue InitEvaluator::call_builtin(const std::string& name, const PyValue& callee, const PyList& args,
                                    const KwArgs& kwargs, const SourceRange& range) {
  auto need = [&](size_t lo, size_t hi) {
    if (args.size() < lo || args.size() > hi) fail_at(range, fmt::format("{}() takes {} to {} arguments", name, lo, hi));
  };
  auto need_int = [&](const PyValue& v) {
    if (v.kind == Kind::Bool) return int64_t(v.b);
    if (v.kind != Kind::Int) fail_at(range, name + "(): expected an int, got " + v.type_name());
    return v.i;
  };
  if (name == "noop" || name == "print") return PyValue::none();
  if (name == "super") return PyValue::callable("super");
  if (name == "range") {
    need(1, 3);
    int64_t start = args.size() > 1 ? need_int(args[0]) : 0, end = need_int(args.size() > 1 ? args[1] : args[0]);
    int64_t step = args.size() > 2 ? need_int(args[2]) : 1;
    if (step == 0) fail_at(range, "range() step must not be zero");
    __int128 span = step > 0 ? __int128(end) - start : __int128(start) - end;
    __int128 stride = step > 0 ? step : -__int128(step);
    double count = span <= 0 ? 0.0 : double((span + stride - 1) / stride);
    check_elements(count, range, "range()");
    PyList items;
    for (int64_t k = start; step > 0 ? k < end : k > end; k += step) items.push_back(PyValue::integer(k));
    return PyValue::list(items);
  }
  if (name == "len") {
    need(1, 1);
    if (args[0].kind == Kind::Str) return PyValue::integer(args[0].s.size());
    return PyValue::integer(iterate(args[0], range).size());
  }
  if (name == "enumerate") {
    need(1, 2);
    int64_t start = args.size() > 1 ? need_int(args[1]) : 0;
    if (auto* s = find_kwarg(kwargs, "start")) start = need_int(*s);
    PyList items;
    for (auto& v : iterate(args[0], range)) items.push_back(PyValue::tuple({PyValue::integer(start++), v}));
    return PyValue::list(items);
  }
  if (name == "zip") {
    std::vector<PyList> lists;
    size_t n = SIZE_MAX;
    for (auto& a : args) {
      lists.push_back(iterate(a, range));
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
    need(0, 1);
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
    need(0, 1);
    PyList items = args.empty() ? PyList{} : iterate(args[0], range);
    if (name == "reversed") std::reverse(items.begin(), items.end());
    if (name == "sorted")
      std::sort(items.begin(), items.end(), [](const PyValue& a, const PyValue& b) {
        return a.is_number() ? a.as_double() < b.as_double() : a.s < b.s;
      });
    return PyValue::list(items, name == "tuple" ? Kind::Tuple : Kind::List);
  }
  if (name == "min" || name == "max" || name == "sum" || name == "any" || name == "all") {
    PyList items = args.size() == 1 ? iterate(args[0], range) : args;
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
    need(1, 1);
    if (args[0].kind == Kind::Int) return PyValue::integer(checked_or_fail(checked::abs(args[0].i), range, "abs()"));
    return PyValue::real(std::fabs(args[0].as_double()));
  }
  if (name == "round") {
    need(1, 2);
    if (args.size() == 1 && args[0].kind == Kind::Int) return args[0];
    if (args.size() == 1)
      return PyValue::integer(checked_or_fail(checked::from_double(std::nearbyint(args[0].as_double())), range, "round()"));
    double scale = std::pow(10.0, double(need_int(args[1])));
    return PyValue::real(std::nearbyint(args[0].as_double() * scale) / scale);
  }
  if (name == "isinstance") {
    need(2, 2);
    std::string t = args[1].kind == Kind::Callable ? args[1].s : "";
    std::string actual = args[0].type_name();
    if (t == "int") return PyValue::boolean(args[0].kind == Kind::Int);
    if (t == "float" || t == "bool" || t == "str" || t == "list" || t == "tuple" || t == "dict")
      return PyValue::boolean(actual == t);
    fail_at(range, "isinstance() supports only int, float, bool, str, list, tuple, dict");
  }
  if (name == "getattr" || name == "hasattr") {
    need(2, 3);
    if (args[1].kind != Kind::Str) fail_at(range, name + "(): attribute name must be a string");
    try {
      PyValue v = get_attr(args[0], args[1].s, range);
      return name == "hasattr" ? PyValue::boolean(true) : v;
    } catch (const Error&) {
      if (name == "hasattr") return PyValue::boolean(false);
      if (args.size() == 3) return args[2];
      throw;
    }
  }
  if (name == "setattr") {
    need(3, 3);
    set_attr(args[0], args[1].s, args[2], range);
    return PyValue::none();
  }
  if (name == "dict") {
    PyValue out = PyValue::list({}, Kind::Dict);
    out.values = std::make_shared<PyList>();
    for (auto& [k, v] : kwargs) {
      out.items->push_back(PyValue::str(k));
      out.values->push_back(v);
    }
    return out;
  }
  // bound methods of values
  if (name == "list.append") {
    need(1, 1);
    check_elements(callee.bound->items->size() + 1, range, "list.append()");
    check_insert(*callee.bound, args[0], range);
    callee.bound->items->push_back(args[0]);
    return PyValue::none();
  }
  if (name == "list.extend") {
    need(1, 1);
    PyList more = iterate(args[0], range);
    check_elements(callee.bound->items->size() + more.size(), range, "list.extend()");
    for (auto& v : more) check_insert(*callee.bound, v, range);
    for (auto& v : more) callee.bound->items->push_back(v);
    return PyValue::none();
  }
  if (name == "list.insert") {
    need(2, 2);
    check_elements(callee.bound->items->size() + 1, range, "list.insert()");
    check_insert(*callee.bound, args[1], range);
    auto& items = *callee.bound->items;
    int64_t k = std::clamp<int64_t>(need_int(args[0]) < 0 ? need_int(args[0]) + items.size() : need_int(args[0]), 0, items.size());
    items.insert(items.begin() + k, args[1]);
    return PyValue::none();
  }
  if (name == "list.pop") {
    auto& items = *callee.bound->items;
    if (items.empty()) fail_at(range, "pop from empty list");
    int64_t k = args.empty() ? items.size() - 1 : need_int(args[0]);
    if (k < 0) k += items.size();
    PyValue v = items.at(k);
    items.erase(items.begin() + k);
    return v;
  }
  if (name == "list.index") {
    need(1, 1);
    auto& items = *callee.bound->items;
    for (size_t k = 0; k < items.size(); ++k)
      if (values_equal(items[k], args[0])) return PyValue::integer(k);
    fail_at(range, args[0].repr() + " is not in list");
  }
  if (name == "dict.items" || name == "dict.keys" || name == "dict.values") {
    auto& d = *callee.bound;
    if (name == "dict.keys") return PyValue::list(*d.items);
    if (name == "dict.values") return PyValue::list(*d.values);
    PyList items;
    for (size_t k = 0; k < d.items->size(); ++k) items.push_back(PyValue::tuple({(*d.items)[k], (*d.values)[k]}));
    return PyValue::list(items);
  }
  if (name == "dict.get") {
    need(1, 2);
    auto& d = *callee.bound;
    for (size_t k = 0; k < d.items->size(); ++k)
      if (values_equal((*d.items)[k], args[0])) return (*d.values)[k];
    return args.size() > 1 ? args[1] : PyValue::none();
  }
  if (name == "str.format") {
    std::string out, text = callee.bound->s;
    size_t next = 0;
    for (size_t k = 0; k < text.size(); ++k) {
      if (text[k] == '{' && k + 1 < text.size() && text[k + 1] == '}') {
        if (next >= args.size()) fail_at(range, "str.format(): not enough arguments");
        out += args[next].kind == Kind::Str ? args[next].s : args[next].repr();
        ++next;
        ++k;
      } else {
        out += text[k];
      }
    }
    return PyValue::str(out);
  }
  // module methods
  if (name == "module.register_buffer" || name == "module.register_parameter" || name == "module.add_module") {
    need(2, 3);
    if (args[0].kind != Kind::Str) fail_at(range, name.substr(7) + "(): name must be a string");
    auto& m = *callee.module;
    if (!m.user_class) fail_at(range, name.substr(7) + "() is supported on user modules only");
    if (name == "module.register_buffer") {
      if (args[1].kind == Kind::None) return PyValue::none();
      if (!args[1].is_tensor()) fail_at(range, "register_buffer(): a tensor is expected");
      bool persistent = true;
      if (auto* p = find_kwarg(kwargs, "persistent")) persistent = truthy(*p);
      if (args.size() > 2) persistent = truthy(args[2]);
      if (!persistent) fail_at(range, "register_buffer(persistent=False) is not supported");
      m.buffers.emplace_back(args[0].s, args[1].tensor);
      return PyValue::none();
    }
    if (name == "module.register_parameter" && args[1].kind != Kind::Parameter)
      fail_at(range, "register_parameter(): an nn.Parameter is expected");
    if (name == "module.add_module" && args[1].kind != Kind::Module) fail_at(range, "add_module(): a module is expected");
    check_insert(PyValue::of_module(callee.module), args[1], range);
    m.set_member(args[0].s, args[1]);
    return PyValue::none();
  }
  if (name == "module.append" || name == "module.extend" || name == "module.insert") {
    auto& m = *callee.module;
    if (!is_container(m)) fail_at(range, name.substr(7) + "() needs an nn.ModuleList or nn.Sequential");
    PyList items = name == "module.extend" ? iterate(args.at(0), range) : PyList{args.at(name == "module.insert" ? 1 : 0)};
    size_t at = name == "module.insert" ? size_t(std::clamp<int64_t>(need_int(args[0]), 0, m.children.size())) : m.children.size();
    check_elements(m.children.size() + items.size(), range, m.kind);
    for (auto& v : items) {
      if (v.kind != Kind::Module) fail_at(range, m.kind + " holds modules only, got " + v.type_name());
      check_insert(PyValue::of_module(callee.module), v, range);
      m.children.insert(m.children.begin() + at++, v.module);
    }
    return PyValue::none();
  }
  // torch.nn
  static const std::string nn = "torch.nn.";
  if (name.rfind(nn, 0) == 0) {
    std::string layer = name.substr(nn.size());
    if (layer == "Parameter" || layer == "parameter.Parameter") {
      need(1, 2);
      if (!args[0].is_tensor()) fail_at(range, "nn.Parameter(): a tensor is expected");
      return PyValue::of_tensor(args[0].tensor, true);
    }
    if (layer == "Sequential" || layer == "ModuleList") {
      PyList items = layer == "ModuleList" && args.size() == 1 ? iterate(args[0], range) : args;
      return PyValue::of_module(make_container(layer, items));
    }
    if (const LayerSpec* spec = find_layer(layer)) {
      LayerArgs bound = bind_layer_args(*spec, args, kwargs);
      auto m = std::make_shared<ModuleObject>();
      m->kind = layer;
      ctx_.layer = "nn." + layer;
      m->built = spec->build(bound, ctx_);
      for (auto& [k, v] : bound.values()) m->members.emplace_back(k, v);
      return PyValue::of_module(m);
    }
    if (layer == "Module") fail_at(range, "nn.Module() cannot be instantiated directly");
    fail_at(range, "nn." + layer + " is not supported (supported layers: " + fmt::format("{}", fmt::join(layer_names(), ", ")) + ")");
  }
  if (name.rfind("torch.", 0) == 0 && name.find('.', 6) == std::string::npos) return make_tensor(name.substr(6), args, kwargs, range);
  if (name.rfind("tensor.", 0) == 0) {
    std::string method = name.substr(7);
    const at::Tensor& t = callee.bound->tensor;
    if (method == "size" || method == "dim" || method == "numel") {
      if (method == "dim") return PyValue::integer(t.dim());
      if (method == "numel") return PyValue::integer(t.numel());
      if (args.empty()) return get_attr(*callee.bound, "shape", range);
      return PyValue::integer(t.size(need_int(args[0])));
    }
    if (method == "item") return t.is_floating_point() ? PyValue::real(t.item<double>()) : PyValue::integer(t.item<int64_t>());
    if (method == "float") return PyValue::of_tensor(t.to(at::kFloat));
    if (method == "long") return PyValue::of_tensor(t.to(at::kLong));
    if (method == "unsqueeze") return PyValue::of_tensor(t.unsqueeze(need_int(args.at(0))));
    fail_at(range, "Tensor." + method + "() is not supported in __init__");
  }
  if (name.rfind("math.", 0) == 0) {
    std::string fn = name.substr(5);
    need(1, 2);
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

}  // namespace mlopt::script
