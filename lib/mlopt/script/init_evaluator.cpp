#include "mlopt/script/init_evaluator.h"

#include <ATen/TensorIndexing.h>

#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/builtin_registry.h"
#include "mlopt/script/checked_int.h"
#include "mlopt/script/containers.h"
#include "mlopt/script/torch_call.h"
#include "mlopt/script/value_graph.h"

namespace mlopt::script {

using namespace torch::jit;
using Kind = PyValue::Kind;

namespace {


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


}  // namespace

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

namespace {

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
  std::string base = file_.root_base(class_name);
  if (base != "torch.nn.Module" && base != "torch.nn.modules.module.Module")
    fail_at(cls->range(), "class '" + class_name + "' is not an nn.Module subclass");
  auto self = std::make_shared<ModuleObject>();
  self->kind = class_name;
  self->user_class = true;
  std::string owner;
  if (!file_.find_method(class_name, "__init__", &owner) && (!args.empty() || !kwargs.empty()))
    fail_at(cls->range(), "class '" + class_name + "' has no __init__ but was given arguments");
  run_init(class_name, self, args, kwargs);
  return self;
}

void InitEvaluator::run_init(const std::string& class_name, const std::shared_ptr<ModuleObject>& self,
                             const PyList& args, const KwArgs& kwargs) {
  std::string owner;
  if (auto init = file_.find_method(class_name, "__init__", &owner)) call_def(*init, args, kwargs, self, owner);
}

namespace {
constexpr const char* kVarArgs = "__va__";  // *args, as python_syntax.cpp rewrites it
constexpr const char* kVarKw = "__kw__";    // **kwargs
constexpr const char* kKwArgsPass = "__kwargs_";  // f(**kw) -> f(__kwargs_0=kw)

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

void InitEvaluator::bind_params(const std::string& fn, const std::vector<Param>& params, const PyList& args,
                                const KwArgs& kwargs, Scope& scope, Scope& defaults, const SourceRange& range) {
  int va = -1, kw = -1;
  for (size_t k = 0; k < params.size(); ++k) {
    const std::string& n = params[k].ident().name();
    if (starts_with(n, kVarArgs) && va < 0) va = int(k);
    if (starts_with(n, kVarKw)) kw = int(k);
  }
  auto plain = [&](size_t k) { return int(k) != va && int(k) != kw; };
  size_t positional = va >= 0 ? size_t(va) : kw >= 0 ? size_t(kw) : params.size();
  if (va < 0 && args.size() > positional)
    fail_at(range, fmt::format("{}() takes {} positional arguments but {} were given", fn, positional, args.size()));
  for (size_t k = 0; k < std::min(args.size(), positional); ++k) scope[params[k].ident().name()] = args[k];
  if (va >= 0) {
    PyList rest(args.begin() + std::min(args.size(), positional), args.end());
    scope[params[va].ident().name().substr(6)] = PyValue::tuple(rest);
  }
  PyValue extra = PyValue::list({}, Kind::Dict);
  extra.values = std::make_shared<PyList>();
  for (auto& [name, value] : kwargs) {
    bool known = false;
    for (size_t k = 0; k < params.size(); ++k) known = known || (plain(k) && params[k].ident().name() == name);
    if (known) {
      if (scope.count(name)) fail_at(range, fmt::format("{}() got multiple values for argument '{}'", fn, name));
      scope[name] = value;
    } else if (kw >= 0) {
      extra.items->push_back(PyValue::str(name));
      extra.values->push_back(value);
    } else {
      fail_at(range, fmt::format("{}() got an unexpected keyword argument '{}'", fn, name));
    }
  }
  if (kw >= 0) scope[params[kw].ident().name().substr(6)] = extra;
  for (size_t k = 0; k < params.size(); ++k) {
    std::string name = params[k].ident().name();
    if (!plain(k) || scope.count(name)) continue;
    if (!params[k].defaultValue().present())
      fail_at(params[k].range(), fmt::format("{}() missing required argument '{}'", fn, name));
    scope[name] = eval(params[k].defaultValue().get(), defaults);
  }
}

PyValue InitEvaluator::call_def(const Def& def, const PyList& args, const KwArgs& kwargs,
                                const std::shared_ptr<ModuleObject>& self, const std::string& owner) {
  if (++depth_ > 64) fail_at(def.range(), "recursion too deep while evaluating '" + def.name().name() + "'");
  frames_.emplace_back(owner, self);
  Scope scope;
  auto params = def.decl().params();
  size_t first = 0;
  if (self) {
    if (params.size() == 0) fail_at(def.range(), "method '" + def.name().name() + "' has no self parameter");
    scope[params[0].ident().name()] = PyValue::of_module(self);
    first = 1;
  }
  std::vector<Param> rest;
  for (size_t k = first; k < params.size(); ++k) rest.push_back(params[k]);
  bind_params(def.name().name(), rest, args, kwargs, scope, globals_, def.range());
  PyValue result;
  exec_block(def.statements(), scope, result);
  --depth_;
  frames_.pop_back();
  return result;
}

PyValue InitEvaluator::make_lambda(const Apply& lambda, Scope& scope) {
  if (lambda.inputs().size() == 0) fail_at(lambda.range(), "lambda without a body");
  for (size_t k = 1; k < lambda.inputs().size(); ++k) {
    Expr p = lambda.inputs()[k];
    bool ok = p.kind() == TK_VAR || p.kind() == TK_TUPLE_LITERAL ||
              (p.kind() == TK_STARRED && Starred(p).expr().kind() == TK_VAR);
    if (!ok) fail_at(p.range(), "unsupported lambda parameter");
  }
  closures_.push_back(Closure{lambda, scope});
  return PyValue::callable("lambda:" + std::to_string(closures_.size() - 1));
}

PyValue InitEvaluator::call_lambda(size_t index, const PyList& args, const KwArgs& kwargs, const SourceRange& range) {
  if (++depth_ > 64) fail_at(range, "recursion too deep while evaluating a lambda");
  Closure closure = closures_.at(index);
  auto r = closure.lambda.range();
  auto none = Maybe<Expr>::create(r);
  std::vector<Param> params;
  std::vector<std::pair<std::string, Expr>> unpack;  // a comprehension filter's tuple target
  for (size_t k = 1; k < closure.lambda.inputs().size(); ++k) {
    Expr p = closure.lambda.inputs()[k];
    std::string name = p.kind() == TK_VAR ? Var(p).name().name()
                       : p.kind() == TK_TUPLE_LITERAL ? "__tuple_" + std::to_string(k)
                                                      : kVarArgs + Var(Starred(p).expr()).name().name();
    if (p.kind() == TK_TUPLE_LITERAL) unpack.emplace_back(name, p);
    params.push_back(Param::create(r, Ident::create(r, name), none, none, false));
  }
  for (auto attr : closure.lambda.attributes())
    params.push_back(Param::create(r, attr.name(), none, Maybe<Expr>::create(r, attr.value()), false));
  Scope scope = closure.scope;
  bind_params("<lambda>", params, args, kwargs, scope, closure.scope, range);
  for (auto& [name, target] : unpack) assign(target, scope.at(name), scope);
  PyValue result = eval(closure.lambda.inputs()[0], scope);
  --depth_;
  return result;
}

std::optional<PyValue> InitEvaluator::class_attribute(const std::string& class_name, const std::string& name) {
  for (const ClassDef* cls : file_.class_chain(class_name)) {
    std::string key = cls->name().name() + "." + name;
    if (auto it = class_attributes_.find(key); it != class_attributes_.end()) return it->second;
    for (auto stmt : cls->body()) {
      if (stmt.kind() != TK_ASSIGN || !Assign(stmt).rhs().present()) continue;
      for (auto target : Assign(stmt).lhs_list())
        if (target.kind() == TK_VAR && Var(target).name().name() == name) {
          Scope scope;
          PyValue value = eval(Assign(stmt).rhs().get(), scope);
          class_attributes_[key] = value;
          return value;
        }
    }
  }
  return std::nullopt;
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
      if (object.is_tensor()) {  // pe[:, 0::2] = torch.sin(...)
        auto indices = tensor_indices(s, scope);
        if (!value.is_tensor() && !value.is_number())
          fail_at(target.range(), "a tensor element takes a tensor or a number, got " + value.type_name());
        at_line(target.range(), [&] {
          torch::NoGradGuard no_grad;
          if (value.is_tensor()) object.tensor.index_put_(indices, value.tensor);
          else object.tensor.index_put_(indices, value.as_double());
        });
        return;
      }
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
      if (object.kind == Kind::Module && object.module->kind == "ModuleDict" && !object.module->user_class &&
          index.kind == Kind::Str) {
        if (value.kind != Kind::Module) fail_at(target.range(), "nn.ModuleDict holds modules only, got " + value.type_name());
        check_insert(object, value, target.range());
        auto& m = *object.module;
        for (size_t k = 0; k < m.children.size(); ++k)
          if (child_name(m, k) == index.s) { m.children[k] = value.module; return; }
        m.child_names.resize(m.children.size());
        m.child_names.push_back(index.s);
        m.children.push_back(value.module);
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
  if (is_bare_builtin(name) || name == "__filter__") return PyValue::callable(name);
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
    case TK_APPLY: {
      Apply apply(expr);
      if (apply.callee().kind() == TK_VAR && Var(apply.callee()).name().name() == "__lambda__")
        return make_lambda(apply, scope);
      return eval_apply(apply, scope);
    }
    case TK_SUBSCRIPT: {
      Subscript s(expr);
      PyValue object = eval(s.value(), scope);
      if (object.is_tensor()) {
        auto indices = tensor_indices(s, scope);
        return at_line(expr.range(), [&] { return PyValue::of_tensor(object.tensor.index(indices)); });
      }
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
    case TK_DICT_COMP: {
      DictComp c(expr);
      PyValue out = PyValue::list({}, Kind::Dict);
      out.values = std::make_shared<PyList>();
      Scope inner = scope;
      for (auto& item : iterate(eval(c.iter(), scope), expr.range())) {
        charge(1, expr.range());
        assign(c.target(), item, inner);
        PyValue key = eval(c.key(), inner), value = eval(c.value(), inner);
        bool replaced = false;
        for (size_t k = 0; k < out.items->size() && !replaced; ++k)
          if (values_equal((*out.items)[k], key)) (*out.values)[k] = value, replaced = true;
        if (!replaced) out.items->push_back(key), out.values->push_back(value);
      }
      return out;
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

// A tensor subscript's indices as ATen takes them: ints, slices (with steps),
// None, ..., and index or mask tensors.
std::vector<at::indexing::TensorIndex> InitEvaluator::tensor_indices(const Subscript& s, Scope& scope) {
  std::vector<at::indexing::TensorIndex> out;
  for (const auto& e : s.subscript_exprs()) {
    if (e.kind() == TK_DOTS) {
      out.emplace_back(at::indexing::Ellipsis);
      continue;
    }
    if (e.kind() == TK_SLICE_EXPR) {
      SliceExpr slice(e);
      auto bound = [&](const Maybe<Expr>& part) -> c10::optional<int64_t> {
        if (!part.present()) return c10::nullopt;
        PyValue v = eval(part.get(), scope);
        if (v.kind == Kind::None) return c10::nullopt;
        if (v.kind != Kind::Int) fail_at(part.get().range(), "slice bounds must be ints, got " + v.type_name());
        return v.i;
      };
      auto start = bound(slice.start()), end = bound(slice.end()), step = bound(slice.step());
      if (step && *step <= 0) fail_at(e.range(), "slice step must be positive");
      out.emplace_back(at::indexing::Slice(start, end, step));
      continue;
    }
    PyValue v = eval(e, scope);
    if (v.kind == Kind::None) out.emplace_back(c10::nullopt);
    else if (v.kind == Kind::Int) out.emplace_back(v.i);
    else if (v.kind == Kind::Bool) out.emplace_back(v.b);
    else if (v.is_tensor()) out.emplace_back(v.tensor);
    else fail_at(e.range(), "a tensor index must be an int, a slice, None, ... or a tensor, got " + v.type_name());
  }
  return out;
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
  for (auto attr : apply.attributes()) {
    PyValue value = eval(attr.value(), scope);
    if (!starts_with(attr.name().name(), kKwArgsPass)) {
      kwargs.emplace_back(attr.name().name(), value);
      continue;
    }
    if (value.kind != Kind::Dict) fail_at(attr.range(), "argument after ** must be a dict, not " + value.type_name());
    for (size_t k = 0; k < value.items->size(); ++k) {
      if ((*value.items)[k].kind != Kind::Str) fail_at(attr.range(), "keywords after ** must be strings");
      kwargs.emplace_back((*value.items)[k].s, (*value.values)[k]);
    }
  }
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
    if (s.rfind("class:", 0) == 0) {
      std::string cls = s.substr(6);
      // Class.method(...): a static or class method, or a plain function taking self (Base.__init__(self))
      if (file_.find_method(cls, name)) return PyValue::callable("static:" + cls + "." + name);
      if (auto value = class_attribute(cls, name)) return *value;
      fail_at(range, "type object '" + cls + "' has no attribute '" + name + "'");
    }
    if (is_model_module(s)) {  // blocks.ResBlock, L.TOKENS: the model's files share one namespace
      if (file_.find_class(name)) return PyValue::callable("class:" + name);
      if (file_.find_function(name)) return PyValue::callable("fn:" + name);
      if (auto it = globals_.find(name); it != globals_.end()) return it->second;
    }
    if (s.rfind("fn:", 0) == 0) fail_at(range, "unsupported attribute '" + name + "' of " + s);
    if (s == "super" && name == "__init__") {
      // super().__init__(...) in a class derived from a user class runs the base's __init__.
      if (frames_.empty() || frames_.back().first.empty() || !frames_.back().second) return PyValue::callable("noop");
      auto chain = file_.class_chain(frames_.back().first);
      if (chain.size() < 2) return PyValue::callable("noop");
      PyValue init = PyValue::callable("init_of:" + chain[1]->name().name());
      init.module = frames_.back().second;
      return init;
    }
    return PyValue::callable(s + "." + name);
  }
  if (object.kind == Kind::Module) {
    auto& m = *object.module;
    // A built layer's parameters and buffers before its constructor arguments (`conv.bias` is the
    // tensor, not bias=True; a layer built with bias=False has bias None, as in PyTorch).
    if (!m.user_class && m.built && m.built->hasattr(name) && m.built->attr(name).isTensor())
      return PyValue::of_tensor(m.built->attr(name).toTensor(), true);
    if (!m.user_class && m.built && name == "bias") return PyValue::none();
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
                                                  "extend", "insert", "__init__", "modules", "children", "parameters",
                                                  "items", "keys", "values", "update"};
    if (m.user_class) {
      if (auto def = file_.find_method(m.kind, name)) {
        if (file_.has_decorator(*def, "staticmethod") || file_.has_decorator(*def, "classmethod"))
          return PyValue::callable("static:" + m.kind + "." + name);
        if (file_.has_decorator(*def, "property")) {
          std::string owner;
          file_.find_method(m.kind, name, &owner);
          return call_def(*def, {}, {}, object.module, owner);
        }
      }
      if (!file_.find_method(m.kind, name))
        if (auto value = class_attribute(m.kind, name)) return *value;
    }
    if (m.user_class && file_.find_method(m.kind, name)) {
      PyValue method = PyValue::callable("method:" + name);
      method.module = object.module;
      return method;
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
  // A callable stored on the module (a lambda, F.relu, partial(...), a class) stays Python-side: __init__
  // may call it, and forward's calls of it are rewritten (method_rewriter.cpp) or refused there.
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
  if (object.kind == Kind::Module && is_parameter_container(*object.module)) {
    auto& members = object.module->members;
    std::string key = index.kind == Kind::Str ? index.s : index.kind == Kind::Int ? std::to_string(index.i < 0 ? index.i + int64_t(members.size()) : index.i) : "";
    for (auto& [n, v] : members)
      if (n == key) return v;
    fail_at(range, "key " + index.repr() + " not in " + object.module->kind);
  }
  if (object.kind == Kind::Module && index.kind == Kind::Str && is_container(*object.module)) {
    auto& m = *object.module;
    for (size_t k = 0; k < m.children.size(); ++k)
      if (child_name(m, k) == index.s) return PyValue::of_module(m.children[k]);
    fail_at(range, "key " + index.repr() + " not in " + m.kind);
  }
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
  if (value.kind == Kind::Module && is_parameter_container(*value.module)) {
    PyList items;
    for (auto& [n, v] : value.module->members) items.push_back(value.module->kind == "ParameterDict" ? PyValue::str(n) : v);
    return items;
  }
  if (value.kind == Kind::Module && value.module->kind == "ModuleDict" && is_container(*value.module)) {
    PyList keys;
    for (size_t k = 0; k < value.module->children.size(); ++k) keys.push_back(PyValue::str(child_name(*value.module, k)));
    return keys;
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
    std::string owner;
    if (auto def = file_.find_method(callee.module->kind, name.substr(7), &owner))
      return call_def(*def, args, kwargs, callee.module, owner);
  }
  if (name.rfind("lambda:", 0) == 0) return call_lambda(std::stoul(name.substr(7)), args, kwargs, range);
  if (name == "isinstance" && args.size() == 2) {
    // user classes (and their bases), torch.nn layer classes and nn.Module; int/str/... go to the builtin
    PyList types = args[1].kind == Kind::Tuple ? *args[1].items : PyList{args[1]};
    bool handled = false, result = false;
    for (auto& t : types) {
      if (t.kind != Kind::Callable) continue;
      const PyValue& v = args[0];
      if (t.s.rfind("class:", 0) == 0) {
        handled = true;
        if (v.kind == Kind::Module && v.module->user_class)
          for (const ClassDef* cls : file_.class_chain(v.module->kind)) result = result || cls->name().name() == t.s.substr(6);
      } else if (t.s.rfind("torch.nn.", 0) == 0) {
        handled = true;
        std::string layer = t.s.substr(9);
        layer = layer.substr(layer.rfind('.') + 1);
        result = result || (v.kind == Kind::Module && (layer == "Module" || (!v.module->user_class && v.module->kind == layer)));
      }
    }
    if (handled) {
      for (auto& t : types)
        if (t.kind == Kind::Callable && t.s.rfind("class:", 0) != 0 && t.s.rfind("torch.nn.", 0) != 0)
          result = result || truthy(call(PyValue::callable("isinstance"), {args[0], t}, {}, range));
      return PyValue::boolean(result);
    }
  }
  if (name == "__filter__") {  // a comprehension's `if` (python_syntax.cpp)
    PyList kept;
    for (auto& item : iterate(args.at(0), range))
      if (truthy(call(args.at(1), {item}, {}, range))) kept.push_back(item);
    return PyValue::list(kept);
  }
  if (name == "functools.partial") {
    // partial(f, *args, **kwargs): a callable holding (f, args, kwargs)
    if (args.empty()) fail_at(range, "partial() needs a function");
    PyValue names = PyValue::list({}), values = PyValue::list({});
    for (auto& [k, v] : kwargs) names.items->push_back(PyValue::str(k)), values.items->push_back(v);
    PyValue bound = PyValue::tuple({args[0], PyValue::tuple(PyList(args.begin() + 1, args.end())), names, values});
    PyValue partial = PyValue::callable("partial:");
    partial.bound = std::make_shared<PyValue>(bound);
    return partial;
  }
  if (name == "partial:") {
    const PyList& held = *callee.bound->items;
    PyList all = *held[1].items;
    all.insert(all.end(), args.begin(), args.end());
    KwArgs merged;
    for (size_t k = 0; k < held[2].items->size(); ++k) merged.emplace_back((*held[2].items)[k].s, (*held[3].items)[k]);
    for (auto& [k, v] : kwargs) {
      auto it = std::find_if(merged.begin(), merged.end(), [&](auto& m) { return m.first == k; });
      if (it != merged.end()) it->second = v;
      else merged.emplace_back(k, v);
    }
    return call(held[0], all, merged, range);
  }
  if (name.rfind("static:", 0) == 0) {  // Class.method of a @staticmethod, or bound to the class (@classmethod)
    std::string rest = name.substr(7), cls = rest.substr(0, rest.find('.')), method = rest.substr(rest.find('.') + 1);
    std::string owner;
    auto def = file_.find_method(cls, method, &owner);
    PyList all = args;
    if (file_.has_decorator(*def, "classmethod")) all.insert(all.begin(), PyValue::callable("class:" + cls));
    return call_def(*def, all, kwargs, nullptr, owner);
  }
  if (name.rfind("init_of:", 0) == 0) {
    run_init(name.substr(8), callee.module, args, kwargs);
    return PyValue::none();
  }
  if (is_model_module(name))
    fail_at(range, "'" + name.substr(std::string(kModelModulePrefix).size()) +
                       "' is not a class or function of the model's files");
  const BuiltinGroup* builtin = find_builtin(name);
  if (!builtin) fail_at(range, "call to '" + name + "' is not supported in __init__");
  return at_line(range, [&] { return builtin->call(BuiltinCall(*this, name, callee, args, kwargs, range)); });
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
    std::vector<int64_t> shape;
    for (auto& d : args[0].is_sequence() ? *args[0].items : PyList{args[0]}) {
      if (d.kind != Kind::Int) fail_at(range, "torch.full(): sizes must be ints, got " + d.type_name());
      shape.push_back(d.i);
    }
    return PyValue::of_tensor(at::full(shape, args[1].as_double(), options));
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
  return call_torch(name, args, kwargs, range);
}

// The tensors of a result (or of its meta-device shapes) against the parameter budget.
void InitEvaluator::reserve_results(const PyValue& result, const std::string& what) {
  if (result.is_tensor()) ctx_.budget.reserve_elements(double(result.tensor.numel()), result.tensor.scalar_type(), what);
  if (result.is_sequence())
    for (auto& item : *result.items) reserve_results(item, what);
}

// Any other torch.* function, through LibTorch (script/torch_call.h); its
// results count against the parameter budget like the factories' do.
PyValue InitEvaluator::call_torch(const std::string& name, const PyList& args, const KwArgs& kwargs,
                                  const SourceRange& range) {
  std::optional<PyValue> result;
  at_line(range, [&] {
    result = call_torch_function(name, args, kwargs, [&](const PyValue& shapes) { reserve_results(shapes, "torch." + name + "()"); });
  });
  if (!result) fail_at(range, "torch." + name + "() is not supported in __init__ with these arguments");
  return *result;
}


}  // namespace mlopt::script
