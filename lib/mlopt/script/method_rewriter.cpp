#include "mlopt/script/method_rewriter.h"

#include "mlopt/core/error.h"
#include "mlopt/script/containers.h"
#include "mlopt/script/source_file.h"
#include "mlopt/script/value_expr.h"

namespace mlopt::script {

using namespace torch::jit;

namespace {

struct Binding {
  Expr expr;
  std::shared_ptr<ModuleObject> module;  // null for plain constants (enumerate index)
};

class Rewriter {
 public:
  explicit Rewriter(std::shared_ptr<ModuleObject> self, std::string self_name)
      : self_(std::move(self)), self_name_(std::move(self_name)) {}

  TreeRef rewrite(const TreeRef& tree) {
    switch (tree->kind()) {
      case TK_LIST: return rewrite_list(tree);
      case TK_VAR: {
        auto it = bindings_.find(Var(tree).name().name());
        return it == bindings_.end() ? tree : TreeRef(it->second.expr);
      }
      case TK_APPLY: return rewrite_apply(Apply(tree));
      case TK_SUBSCRIPT: return rewrite_subscript(Subscript(tree));
      default: return rebuild(tree);
    }
  }

 private:
  TreeRef rebuild(const TreeRef& tree) {
    if (tree->isAtom()) return tree;
    TreeList children;
    for (auto& child : tree->trees()) children.push_back(rewrite(child));
    return Compound::create(tree->kind(), tree->range(), std::move(children));
  }

  TreeRef rewrite_list(const TreeRef& tree) {
    TreeList children;
    for (auto& child : tree->trees()) {
      if (child->kind() == TK_FOR) {
        for (auto& stmt : rewrite_for(For(child))) children.push_back(stmt);
      } else {
        children.push_back(rewrite(child));
      }
    }
    return Compound::create(TK_LIST, tree->range(), std::move(children));
  }

  // The module an expression denotes statically, if any.
  std::shared_ptr<ModuleObject> module_of(const Expr& expr) {
    if (expr.kind() == TK_VAR) {
      std::string name = Var(expr).name().name();
      if (name == self_name_) return self_;
      auto it = bindings_.find(name);
      return it == bindings_.end() ? nullptr : it->second.module;
    }
    if (expr.kind() == '.') {
      auto base = module_of(Select(expr).value());
      if (!base || !base->user_class) return nullptr;
      const PyValue* member = base->member(Select(expr).selector().name());
      return member && member->kind == PyValue::Kind::Module ? member->module : nullptr;
    }
    if (expr.kind() == TK_APPLY) {
      Apply apply(expr);
      if (apply.callee().kind() == TK_VAR && Var(apply.callee()).name().name() == "getattr" && apply.inputs().size() == 2 &&
          apply.inputs()[1].kind() == TK_STRINGLITERAL) {
        auto base = module_of(apply.inputs()[0]);
        std::string name = StringLiteral(apply.inputs()[1]).text();
        if (base && base->user_class) {  // getattr(self, "layer1"), as setattr(self, ...) made it
          const PyValue* member = base->member(name);
          return member && member->kind == PyValue::Kind::Module ? member->module : nullptr;
        }
        if (!base || !is_container(*base)) return nullptr;
        for (size_t k = 0; k < base->children.size(); ++k)
          if (child_name(*base, k) == name) return base->children[k];
        return nullptr;
      }
    }
    return nullptr;
  }

  TreeRef rewrite_apply(const Apply& apply) {
    auto range = apply.range();
    // len(self.layers) -> constant
    if (apply.callee().kind() == TK_VAR && Var(apply.callee()).name().name() == "len" && apply.inputs().size() == 1) {
      Expr arg(rewrite(apply.inputs()[0]));
      if (auto m = module_of(arg); m && is_container(*m))
        return Const::create(range, std::to_string(m->children.size()));
    }
    Expr callee(rewrite(apply.callee()));
    List<Expr> inputs(rewrite(apply.inputs().tree()));
    List<Attribute> attributes(rewrite(apply.attributes().tree()));
    if (callee.kind() == '.') {
      Select select(callee);
      auto owner = module_of(select.value());
      const PyValue* stored = owner && owner->user_class ? owner->member(select.selector().name()) : nullptr;
      if (stored && stored->kind == PyValue::Kind::Callable)
        return call_stored(select, owner, *stored, inputs, attributes, range);
    }
    if (module_of(callee)) callee = Select::create(callee.range(), callee, Ident::create(callee.range(), "forward"));
    return Apply::create(range, callee, inputs, attributes);
  }

  // self.act(x) where __init__ stored a callable as self.act: a lambda becomes the method
  // lambda_method_name(act) (module_builder.cpp compiles it), a torch or file function is called by name,
  // and functools.partial(f, *a, **k) is f(*a, x, **k) with its arguments as constants.
  TreeRef call_stored(const Select& select, const std::shared_ptr<ModuleObject>& owner, const PyValue& stored,
                      List<Expr> inputs, List<Attribute> attributes, const SourceRange& range) {
    std::string name = select.selector().name();
    std::string what = "self." + name;
    auto function = [&](const PyValue& f) -> std::optional<Expr> {
      if (auto e = torch_function_expr(f.s, range)) return e;
      if (f.s.rfind("fn:", 0) == 0) return Expr(Var::create(range, Ident::create(range, f.s.substr(3))));
      return std::nullopt;
    };
    if (stored.s.rfind("lambda:", 0) == 0) {
      if (owner != self_)
        fail_at(range, "calling a lambda stored on another module (" + what + ") in forward is not supported");
      return Apply::create(range, Select::create(range, select.value(), Ident::create(range, lambda_method_name(name))),
                           inputs, attributes);
    }
    if (auto f = function(stored)) return Apply::create(range, *f, inputs, attributes);
    if (stored.s.rfind("method:", 0) == 0 && stored.module == owner)  // self.f = self.scale
      return Apply::create(range, Select::create(range, select.value(), Ident::create(range, stored.s.substr(7))),
                           inputs, attributes);
    if (stored.s == "partial:") {
      const PyList& held = *stored.bound->items;  // (f, args, kwarg names, kwarg values): init_evaluator.cpp
      auto f = function(held[0]);
      if (!f)
        fail_at(range, "calling " + what + ", a functools.partial of " + held[0].s.substr(held[0].s.find(':') + 1) +
                           ", in forward is not supported");
      std::vector<Expr> args;
      for (auto& a : *held[1].items) args.push_back(constant(a, what, range));
      for (auto e : inputs) args.push_back(e);
      std::vector<Attribute> kwargs;
      for (size_t k = 0; k < held[2].items->size(); ++k) {
        std::string key = (*held[2].items)[k].s;
        bool overridden = false;
        for (auto a : attributes) overridden = overridden || a.name().name() == key;
        if (!overridden)
          kwargs.push_back(Attribute::create(range, Ident::create(range, key), constant((*held[3].items)[k], what, range)));
      }
      for (auto a : attributes) kwargs.push_back(a);
      return Apply::create(range, *f, List<Expr>::create(range, args), List<Attribute>::create(range, kwargs));
    }
    fail_at(range, "calling " + what + " (" + stored.s.substr(0, stored.s.find(':')) + ") in forward is not supported");
  }

  static Expr constant(const PyValue& value, const std::string& what, const SourceRange& range) {
    if (auto e = value_expr(value, range)) return *e;
    fail_at(range, "calling " + what + " in forward, a functools.partial holding a " + value.type_name() +
                       ", is not supported (numbers, strings and tuples are)");
  }

  TreeRef rewrite_subscript(const Subscript& subscript) {
    Expr value(rewrite(subscript.value()));
    auto m = module_of(value);
    if (m && (is_container(*m) || is_parameter_container(*m)) && subscript.subscript_exprs().size() == 1) {
      Expr index(rewrite(subscript.subscript_exprs()[0]));
      if (index.kind() == TK_STRINGLITERAL) {  // ModuleDict / ParameterDict by a constant key
        std::string key = StringLiteral(index).text();
        if (!has_child(*m, key)) fail_at(subscript.range(), "key '" + key + "' not in " + m->kind);
        return getattr_expr(value, key);
      }
      int64_t sign = 1;
      if (index.kind() == TK_UNARY_MINUS) {
        sign = -1;
        index = Expr(index.tree()->trees()[0]);
      }
      if (index.kind() != TK_CONST || !Const(index).isIntegral())
        fail_at(subscript.range(), "a module container can only be indexed with a constant (an int, or a str key)");
      int64_t n = child_count(*m), k = sign * Const(index).asIntegral();
      if (k < 0) k += n;
      if (k < 0 || k >= n) fail_at(subscript.range(), "index out of range for " + m->kind);
      return getattr_expr(value, child_key(*m, k));
    }
    return Subscript::create(subscript.range(), value, List<Expr>(rewrite(subscript.subscript_exprs().tree())));
  }

  static size_t child_count(const ModuleObject& m) { return is_container(m) ? m.children.size() : m.members.size(); }
  static std::string child_key(const ModuleObject& m, size_t k) {
    return is_container(m) ? child_name(m, k) : m.members[k].first;
  }
  static bool has_child(const ModuleObject& m, const std::string& key) {
    for (size_t k = 0; k < child_count(m); ++k)
      if (child_key(m, k) == key) return true;
    return false;
  }
  Expr getattr_expr(const Expr& container, const std::string& name) {
    auto range = container.range();
    return Apply::create(range, Var::create(range, Ident::create(range, "getattr")),
                         List<Expr>::create(range, {container, StringLiteral::create(range, name)}),
                         List<Attribute>::create(range, {}));
  }

  // Does the tree subscript something with the plain name `name` (self.blocks[name])?
  static bool indexes_with(const TreeRef& tree, const std::string& name) {
    if (tree->kind() == TK_SUBSCRIPT) {
      Subscript s(tree);
      for (auto e : s.subscript_exprs())
        if (e.kind() == TK_VAR && Var(e).name().name() == name) return true;
    }
    if (tree->isAtom()) return false;
    for (auto& child : tree->trees())
      if (indexes_with(child, name)) return true;
    return false;
  }

  std::vector<TreeRef> rewrite_for(const For& loop) {
    if (loop.itrs().size() != 1) return {rebuild(loop)};
    Expr iter(rewrite(loop.itrs()[0]));
    Expr target = loop.targets().size() == 1 ? loop.targets()[0]
                                             : Expr(TupleLiteral::create(loop.range(), loop.targets()));
    // for k in ("a", "b"): ... self.blocks[k] ...: unrolled with k a constant (a ModuleDict takes constant keys)
    if (target.kind() == TK_VAR && (iter.kind() == TK_LIST_LITERAL || iter.kind() == TK_TUPLE_LITERAL) &&
        indexes_with(loop.body().tree(), Var(target).name().name())) {
      auto items = iter.kind() == TK_LIST_LITERAL ? ListLiteral(iter).inputs() : TupleLiteral(iter).inputs();
      bool constants = true;
      for (auto e : items) constants = constants && (e.kind() == TK_STRINGLITERAL || e.kind() == TK_CONST);
      if (constants) {
        std::vector<std::vector<Binding>> rounds;
        for (auto e : items) rounds.push_back({Binding{e, nullptr}});
        return unroll(loop, {Var(target).name().name()}, rounds);
      }
    }
    std::string view;  // ModuleDict / ParameterDict: keys() values() items()
    if (iter.kind() == TK_APPLY && Apply(iter).callee().kind() == '.' && Apply(iter).inputs().size() == 0) {
      Select select(Apply(iter).callee());
      std::string method = select.selector().name();
      auto m = module_of(select.value());
      if (m && (method == "keys" || method == "values" || method == "items") &&
          (m->kind == "ModuleDict" || m->kind == "ParameterDict") && !m->user_class) {
        view = method;
        iter = select.value();
      }
    }
    bool enumerated = false;
    if (view.empty() && iter.kind() == TK_APPLY && Apply(iter).callee().kind() == TK_VAR &&
        Var(Apply(iter).callee()).name().name() == "enumerate" && Apply(iter).inputs().size() == 1) {
      enumerated = true;
      iter = Apply(iter).inputs()[0];
    }
    auto container = module_of(iter);
    if (!container || !(is_container(*container) || is_parameter_container(*container))) {
      if (enumerated) return {rebuild(loop)};
      return {For::create(loop.range(), loop.targets(), List<Expr>::create(loop.range(), {iter}),
                          List<Stmt>(rewrite(loop.body().tree())))};
    }
    if (view.empty() && (container->kind == "ModuleDict" || container->kind == "ParameterDict")) view = "keys";
    if (view.empty()) view = enumerated ? "enumerate" : "values";
    // Unroll: one copy of the body per child.
    std::vector<std::string> names;
    if (view == "enumerate" || view == "items") {
      if (target.kind() != TK_TUPLE_LITERAL || TupleLiteral(target).inputs().size() != 2 ||
          TupleLiteral(target).inputs()[0].kind() != TK_VAR || TupleLiteral(target).inputs()[1].kind() != TK_VAR)
        fail_at(loop.range(), "a loop over a module container's items or enumerate(...) needs two plain names");
      names = {Var(TupleLiteral(target).inputs()[0]).name().name(), Var(TupleLiteral(target).inputs()[1]).name().name()};
    } else {
      if (target.kind() != TK_VAR) fail_at(loop.range(), "a loop over a module container needs one plain loop variable");
      names = {Var(target).name().name()};
    }
    std::vector<std::vector<Binding>> rounds;
    for (size_t k = 0; k < child_count(*container); ++k) {
      Binding key{StringLiteral::create(loop.range(), child_key(*container, k)), nullptr};
      Binding value{getattr_expr(iter, child_key(*container, k)), is_container(*container) ? container->children[k] : nullptr};
      if (view == "keys") rounds.push_back({key});
      else if (view == "values") rounds.push_back({value});
      else if (view == "items") rounds.push_back({key, value});
      else rounds.push_back({Binding{Const::create(loop.range(), std::to_string(k)), nullptr}, value});
    }
    return unroll(loop, names, rounds);
  }

  std::vector<TreeRef> unroll(const For& loop, const std::vector<std::string>& names,
                              const std::vector<std::vector<Binding>>& rounds) {
    check_no_break(loop.body().tree());
    std::vector<TreeRef> out;
    auto saved = bindings_;
    for (auto& round : rounds) {
      for (size_t n = 0; n < names.size(); ++n) {
        bindings_.erase(names[n]);
        bindings_.emplace(names[n], round[n]);
      }
      TreeRef body = rewrite(loop.body().tree());  // keep alive while iterating its children
      for (auto& stmt : body->trees()) out.push_back(stmt);
    }
    bindings_ = saved;
    if (out.empty()) out.push_back(Pass::create(loop.range()));
    return out;
  }

  void check_no_break(const TreeRef& tree) {
    if (tree->kind() == TK_BREAK || tree->kind() == TK_CONTINUE)
      fail_at(tree->range(), "break/continue in a loop over a module container is not supported");
    if (tree->kind() == TK_FOR || tree->kind() == TK_WHILE || tree->isAtom()) return;  // inner loops own theirs
    for (auto& child : tree->trees()) check_no_break(child);
  }

  std::shared_ptr<ModuleObject> self_;
  std::string self_name_;
  std::map<std::string, Binding> bindings_;
};

}  // namespace

std::string lambda_method_name(const std::string& attribute) { return "_lambda_" + attribute; }

namespace {

bool mentions_name(const TreeRef& tree, const std::string& name) {
  if (tree->kind() == TK_VAR) return Var(tree).name().name() == name;
  if (tree->isAtom()) return false;
  for (auto& child : tree->trees())
    if (mentions_name(child, name)) return true;
  return false;
}

}  // namespace

Def rewrite_method(const Def& def, const std::shared_ptr<ModuleObject>& self) {
  auto params = def.decl().params();
  std::string self_name = params.size() > 0 ? params[0].ident().name() : "self";
  Rewriter rewriter(self, self_name);
  List<Stmt> body(rewriter.rewrite(def.statements().tree()));
  // *args / **kwargs (rewritten __va__NAME / __kw__NAME by python_syntax.cpp) that the body never
  // reads are dropped: TorchScript has no variadic methods, and callers here pass none.
  std::vector<Param> kept;
  for (auto param : params) {
    std::string name = param.ident().name();
    bool star = name.rfind("__va__", 0) == 0 || name.rfind("__kw__", 0) == 0;
    if (!star) {
      kept.push_back(param);
      continue;
    }
    std::string user = name.substr(6);
    if (mentions_name(body.tree(), user))
      fail_at(param.range(), fmt::format("{}{} used in {}() is not supported (TorchScript, like torch.jit.script, "
                                         "compiles functions with a fixed list of arguments)",
                                         name[2] == 'v' ? "*" : "**", user, def.name().name()));
  }
  auto decl = Decl::create(def.decl().range(), List<Param>::create(def.decl().range(), kept), def.decl().return_type());
  return Def::create(def.range(), def.name(), decl, body);
}

}  // namespace mlopt::script
