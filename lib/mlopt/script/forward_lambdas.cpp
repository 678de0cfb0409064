// Lambdas that forward calls: `self.act = lambda x: F.leaky_relu(x, slope)` in
// __init__ becomes a method of the module, its closure written in as constants.
#include "mlopt/core/error.h"
#include "mlopt/script/init_evaluator.h"
#include "mlopt/script/value_expr.h"

namespace mlopt::script {

using namespace torch::jit;

namespace {

using Scope = std::map<std::string, PyValue>;

// The closure's names in `tree` (not the lambda's own parameters) replaced by what forward can use.
TreeRef substitute(const TreeRef& tree, const std::set<std::string>& params, const Scope& closure,
                   const std::shared_ptr<ModuleObject>& self) {
  if (tree->kind() == TK_VAR) {
    std::string name = Var(tree).name().name();
    auto it = closure.find(name);
    if (params.count(name) || it == closure.end()) return tree;
    const PyValue& value = it->second;
    auto range = tree->range();
    if (value.kind == PyValue::Kind::Module && value.module == self) return Var::create(range, Ident::create(range, "self"));
    if (auto e = value_expr(value, range)) return *e;
    if (value.kind == PyValue::Kind::Callable) {
      if (auto e = torch_function_expr(value.s, range)) return *e;
      if (value.s.rfind("fn:", 0) == 0) return Var::create(range, Ident::create(range, value.s.substr(3)));
    }
    fail_at(range, fmt::format("a lambda that forward calls, reading '{}' ({}) from __init__, is not supported "
                               "(numbers, strings, tuples, self and torch functions are)",
                               name, value.type_name()));
  }
  if (tree->isAtom()) return tree;
  TreeList children;
  for (auto& child : tree->trees()) children.push_back(substitute(child, params, closure, self));
  return Compound::create(tree->kind(), tree->range(), std::move(children));
}

// The type of a constant default (`scale=2.0` -> float): TorchScript wants defaulted parameters typed.
Maybe<Expr> default_type(const Expr& value, const SourceRange& r) {
  Expr e = value.kind() == TK_UNARY_MINUS ? Expr(value.tree()->trees()[0]) : value;
  std::string type;
  if (e.kind() == TK_CONST) type = Const(e).isFloatingPoint() ? "float" : "int";
  if (e.kind() == TK_TRUE || e.kind() == TK_FALSE) type = "bool";
  if (e.kind() == TK_STRINGLITERAL) type = "str";
  if (type.empty()) fail_at(r, "a lambda that forward calls with a default other than a number, bool or string is not supported");
  return Maybe<Expr>::create(r, Var::create(r, Ident::create(r, type)));
}

}  // namespace

Def InitEvaluator::lambda_method(const PyValue& lambda, const std::string& name,
                                 const std::shared_ptr<ModuleObject>& self) const {
  const Closure& closure = closures_.at(std::stoul(lambda.s.substr(7)));
  auto r = closure.lambda.range();
  auto none = Maybe<Expr>::create(r);
  std::vector<Param> params = {Param::create(r, Ident::create(r, "self"), none, none, false)};
  std::set<std::string> names = {"self"};
  for (size_t k = 1; k < closure.lambda.inputs().size(); ++k) {
    Expr p = closure.lambda.inputs()[k];
    if (p.kind() != TK_VAR)
      fail_at(p.range(), "a lambda with *args or tuple parameters that forward calls is not supported");
    names.insert(Var(p).name().name());
    params.push_back(Param::create(r, Var(p).name(), none, none, false));
  }
  for (auto attr : closure.lambda.attributes()) {  // lambda x, scale=2.0: ...
    Expr value(substitute(attr.value(), names, closure.scope, self));
    names.insert(attr.name().name());
    params.push_back(Param::create(r, attr.name(), default_type(value, r), Maybe<Expr>::create(r, value), false));
  }
  Expr body(substitute(closure.lambda.inputs()[0], names, closure.scope, self));
  auto decl = Decl::create(r, List<Param>::create(r, params), Maybe<Expr>::create(r));
  return Def::create(r, Ident::create(r, name), decl, List<Stmt>::create(r, {Return::create(r, body)}));
}

}  // namespace mlopt::script
