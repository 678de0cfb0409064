#include "mlopt/script/module_builder.h"

#include <torch/csrc/jit/frontend/sugared_value.h>

#include <set>

#include "mlopt/core/error.h"
#include "mlopt/script/containers.h"
#include "mlopt/script/method_rewriter.h"
#include "mlopt/script/model_resolver.h"

namespace mlopt::script {

using namespace torch::jit;
using Kind = PyValue::Kind;

namespace {

// The TorchScript type of a plain attribute value (nullptr: not representable).
c10::TypePtr attribute_type(const PyValue& v) {
  switch (v.kind) {
    case Kind::Int: return c10::IntType::get();
    case Kind::Float: return c10::FloatType::get();
    case Kind::Bool: return c10::BoolType::get();
    case Kind::Str: return c10::StringType::get();
    case Kind::None: return c10::NoneType::get();
    case Kind::Tensor: return c10::TensorType::get();
    case Kind::List: {
      if (v.items->empty()) return nullptr;
      auto element = attribute_type((*v.items)[0]);
      for (auto& item : *v.items) {
        auto t = attribute_type(item);
        if (!t || !element || *t != *element) return nullptr;
      }
      return c10::ListType::create(element);
    }
    case Kind::Tuple: {
      std::vector<c10::TypePtr> elements;
      for (auto& item : *v.items) {
        auto t = attribute_type(item);
        if (!t) return nullptr;
        elements.push_back(t);
      }
      return c10::TupleType::create(elements);
    }
    default: return nullptr;
  }
}

c10::IValue attribute_value(const PyValue& v, const c10::TypePtr& type) {
  switch (v.kind) {
    case Kind::Int: return v.i;
    case Kind::Float: return v.f;
    case Kind::Bool: return v.b;
    case Kind::Str: return v.s;
    case Kind::None: return c10::IValue();
    case Kind::Tensor: return v.tensor;
    case Kind::List: {
      auto element = type->expectRef<c10::ListType>().getElementType();
      c10::impl::GenericList list(element);
      for (auto& item : *v.items) list.push_back(attribute_value(item, element));
      return list;
    }
    case Kind::Tuple: {
      std::vector<c10::IValue> items;
      auto& tuple = type->expectRef<c10::TupleType>();
      for (size_t k = 0; k < v.items->size(); ++k) items.push_back(attribute_value((*v.items)[k], tuple.elements()[k]));
      return c10::ivalue::Tuple::create(std::move(items));
    }
    default: return c10::IValue();
  }
}

// Names `self.<name>` used in a tree (to find the methods forward reaches).
void collect_self_attributes(const TreeRef& tree, const std::string& self_name, std::set<std::string>& names) {
  if (tree->kind() == '.') {
    Select select(tree);
    if (select.value().kind() == TK_VAR && Var(select.value()).name().name() == self_name)
      names.insert(select.selector().name());
  }
  if (tree->isAtom()) return;
  for (auto& child : tree->trees()) collect_self_attributes(child, self_name, names);
}

}  // namespace

ModuleBuilder::ModuleBuilder(const ParsedFile& file, const InitEvaluator& evaluator, LayerContext& ctx)
    : file_(file), evaluator_(evaluator), ctx_(ctx), resolver_(make_model_resolver(file, evaluator, ctx.cu)) {}

Module ModuleBuilder::build(const std::shared_ptr<ModuleObject>& object) {
  if (object->built) return *object->built;
  if (is_container(*object)) {
    std::vector<Module> children;
    for (auto& child : object->children) children.push_back(build(child));
    object->built = build_container(*object, children, ctx_);
  } else if (is_parameter_container(*object)) {
    object->built = build_parameter_container(*object, ctx_);
  } else if (object->user_class) {
    object->built = build_user(object);
  } else {
    fail("internal: module '{}' was not built", object->kind);
  }
  return *object->built;
}

Module ModuleBuilder::build_user(const std::shared_ptr<ModuleObject>& object) {
  Module module(c10::QualifiedName("__torch__." + file_.stem + "." + object->kind), ctx_.cu, /*shouldMangle=*/true);
  module.register_attribute("training", c10::BoolType::get(), true);
  for (auto& [name, value] : object->members) {
    switch (value.kind) {
      case Kind::Module: module.register_module(name, build(value.module)); break;
      case Kind::Parameter: module.register_parameter(name, value.tensor, false); break;
      default: {
        auto type = attribute_type(value);
        if (type) module.register_attribute(name, type, attribute_value(value, type));
        // Values TorchScript cannot type (empty lists, dicts) stay Python-only, as
        // torch.jit.script leaves them out; forward code that reads them fails to compile.
      }
    }
  }
  for (auto& [name, tensor] : object->buffers) module.register_buffer(name, tensor);
  compile_methods(module, object);
  return module;
}

void ModuleBuilder::compile_methods(Module& module, const std::shared_ptr<ModuleObject>& object) {
  const ClassDef* cls = file_.find_class(object->kind);
  // Its own methods and those it inherits from user base classes (the nearest definition wins).
  std::map<std::string, Def> methods;
  for (const ClassDef* c : file_.class_chain(object->kind))
    for (auto stmt : c->body())
      if (stmt.kind() == TK_DEF) methods.emplace(Def(stmt).name().name(), Def(stmt));
  // forward and @torch.jit.export methods, plus every method they reach through self.
  std::vector<std::string> pending;
  for (auto& [name, def] : methods)
    if (name == "forward" || file_.has_decorator(def, "torch.jit.export")) pending.push_back(name);
  // A class without forward is a plain holder of layers (its parent's forward calls them); the model's
  // own class must have one (compile_python_model checks).
  if (!methods.count("forward") && pending.empty()) return;
  (void)cls;
  // Lambdas stored on the module (self.act = lambda x: ...) that they call become methods too
  // (method_rewriter.cpp), and what those lambdas reach through self is reached as well.
  std::set<std::string> reached(pending.begin(), pending.end());
  std::map<std::string, Def> lambdas;
  auto stored_lambda = [&](const std::string& name) {
    const PyValue* stored = object->member(name);
    return stored && stored->kind == Kind::Callable && stored->s.rfind("lambda:", 0) == 0 ? stored : nullptr;
  };
  while (!pending.empty()) {
    std::string name = pending.back();
    pending.pop_back();
    const Def& def = methods.count(name) ? methods.at(name) : lambdas.at(name);
    std::set<std::string> used;
    auto params = def.decl().params();
    collect_self_attributes(def.statements().tree(), params.size() ? params[0].ident().name() : "self", used);
    for (auto& u : used) {
      if (reached.count(u) || u == "__init__") continue;
      if (methods.count(u)) {
        reached.insert(u);
        pending.push_back(u);
      } else if (const PyValue* stored = stored_lambda(u)) {
        lambdas.emplace(u, evaluator_.lambda_method(*stored, lambda_method_name(u), object));
        reached.insert(u);
        pending.push_back(u);
      } else if (const PyValue* bound = object->member(u); bound && bound->kind == Kind::Callable &&
                                                           bound->s.rfind("method:", 0) == 0 && bound->module == object) {
        std::string method = bound->s.substr(7);  // self.f = self.scale
        if (methods.count(method) && !reached.count(method)) {
          reached.insert(method);
          pending.push_back(method);
        }
      }
    }
  }
  std::vector<Def> defs;
  std::vector<ResolverPtr> resolvers;
  for (auto& [name, def] : lambdas) {
    defs.push_back(rewrite_method(def, object));
    resolvers.push_back(resolver_);
    reached.erase(name);
  }
  for (auto& name : reached) {
    const Def& def = methods.at(name);
    if (file_.has_decorator(def, "torch.jit.ignore") || file_.has_decorator(def, "torch.jit.unused"))
      fail_at(def.range(), "method '" + name + "' is marked @torch.jit.ignore/unused but forward calls it");
    if (file_.has_decorator(def, "staticmethod") || file_.has_decorator(def, "classmethod"))
      fail_at(def.range(), "static and class methods are not supported");
    defs.push_back(rewrite_method(def, object));
    resolvers.push_back(resolver_);
  }
  SimpleSelf self(module.type());
  try {
    ctx_.cu->define(module.type()->name(), {}, {}, defs, resolvers, &self);
  } catch (const std::exception& e) {
    fail_from_frontend(e, location(cls->range()));
  }
}

}  // namespace mlopt::script
