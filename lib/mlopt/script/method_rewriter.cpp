#include "mlopt/script/method_rewriter.h"

#include "mlopt/script/containers.h"
#include "mlopt/script/source_file.h"

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
        if (!base || !is_container(*base)) return nullptr;
        std::string name = StringLiteral(apply.inputs()[1]).text();
        for (size_t k = 0; k < base->children.size(); ++k)
          if (child_name(*base, k) == name) return base->children[k];
        return nullptr;
      }
    }
    return nullptr;
  }

  Expr child_expr(const Expr& container, const ModuleObject& object, size_t k) {
    auto range = container.range();
    return Apply::create(range, Var::create(range, Ident::create(range, "getattr")),
                         List<Expr>::create(range, {container, StringLiteral::create(range, child_name(object, k))}),
                         List<Attribute>::create(range, {}));
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
    if (module_of(callee)) callee = Select::create(callee.range(), callee, Ident::create(callee.range(), "forward"));
    return Apply::create(range, callee, inputs, attributes);
  }

  TreeRef rewrite_subscript(const Subscript& subscript) {
    Expr value(rewrite(subscript.value()));
    auto m = module_of(value);
    if (m && is_container(*m) && subscript.subscript_exprs().size() == 1) {
      Expr index = subscript.subscript_exprs()[0];
      int64_t sign = 1;
      if (index.kind() == TK_UNARY_MINUS) {
        sign = -1;
        index = Expr(index.tree()->trees()[0]);
      }
      if (index.kind() != TK_CONST || !Const(index).isIntegral())
        fail_at(subscript.range(), "a module container can only be indexed with an integer constant");
      int64_t n = m->children.size(), k = sign * Const(index).asIntegral();
      if (k < 0) k += n;
      if (k < 0 || k >= n) fail_at(subscript.range(), "index out of range for " + m->kind);
      return child_expr(value, *m, k);
    }
    return Subscript::create(subscript.range(), value, List<Expr>(rewrite(subscript.subscript_exprs().tree())));
  }

  std::vector<TreeRef> rewrite_for(const For& loop) {
    if (loop.itrs().size() != 1) return {rebuild(loop)};
    Expr iter(rewrite(loop.itrs()[0]));
    Expr target = loop.targets().size() == 1 ? loop.targets()[0]
                                             : Expr(TupleLiteral::create(loop.range(), loop.targets()));
    bool enumerated = false;
    if (iter.kind() == TK_APPLY && Apply(iter).callee().kind() == TK_VAR &&
        Var(Apply(iter).callee()).name().name() == "enumerate" && Apply(iter).inputs().size() == 1) {
      enumerated = true;
      iter = Apply(iter).inputs()[0];
    }
    auto container = module_of(iter);
    if (!container || !is_container(*container)) {
      if (enumerated) return {rebuild(loop)};
      return {For::create(loop.range(), loop.targets(), List<Expr>::create(loop.range(), {iter}),
                          List<Stmt>(rewrite(loop.body().tree())))};
    }
    // Unroll: one copy of the body per child module.
    std::string index_name, module_name;
    if (enumerated) {
      if (target.kind() != TK_TUPLE_LITERAL || TupleLiteral(target).inputs().size() != 2 ||
          TupleLiteral(target).inputs()[0].kind() != TK_VAR || TupleLiteral(target).inputs()[1].kind() != TK_VAR)
        fail_at(loop.range(), "for i, module in enumerate(...) over a module container needs two plain names");
      index_name = Var(TupleLiteral(target).inputs()[0]).name().name();
      module_name = Var(TupleLiteral(target).inputs()[1]).name().name();
    } else {
      if (target.kind() != TK_VAR) fail_at(loop.range(), "a loop over a module container needs one plain loop variable");
      module_name = Var(target).name().name();
    }
    check_no_break(loop.body().tree());
    std::vector<TreeRef> out;
    auto saved = bindings_;
    for (size_t k = 0; k < container->children.size(); ++k) {
      bindings_.erase(module_name);
      bindings_.emplace(module_name, Binding{child_expr(iter, *container, k), container->children[k]});
      if (enumerated) {
        bindings_.erase(index_name);
        bindings_.emplace(index_name, Binding{Const::create(loop.range(), std::to_string(k)), nullptr});
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

Def rewrite_method(const Def& def, const std::shared_ptr<ModuleObject>& self) {
  auto params = def.decl().params();
  std::string self_name = params.size() > 0 ? params[0].ident().name() : "self";
  Rewriter rewriter(self, self_name);
  List<Stmt> body(rewriter.rewrite(def.statements().tree()));
  return Def::create(def.range(), def.name(), def.decl(), body);
}

}  // namespace mlopt::script
