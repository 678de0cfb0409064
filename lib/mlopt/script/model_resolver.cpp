#include "mlopt/script/model_resolver.h"

#include <torch/csrc/jit/frontend/sugared_value.h>

#include <cmath>
#include <regex>

#include "mlopt/core/error.h"
#include "mlopt/script/functional_calls.h"
#include "mlopt/script/functional_prelude.h"
#include "mlopt/script/method_rewriter.h"

namespace mlopt::script {

using namespace torch::jit;

void fail_from_frontend(const std::exception& e, const std::string& fallback_location) {
  if (auto* error = dynamic_cast<const Error*>(&e)) throw *error;
  std::string what = e.what();
  static const std::regex file_line(R"re(File "([^"]*)", line (\d+))re");
  size_t begin = what.find_first_not_of("\n ");
  std::string message = first_line(begin == std::string::npos ? what : what.substr(begin));
  while (!message.empty() && (message.back() == ':' || message.back() == ' ')) message.pop_back();
  std::smatch m;
  // The innermost frame names the user's line; the prelude and layer snippets have no file.
  std::string where = fallback_location;
  for (auto it = std::sregex_iterator(what.begin(), what.end(), file_line); it != std::sregex_iterator(); ++it)
    if ((*it)[1].str() != "<string>") { where = (*it)[1].str() + ":" + (*it)[2].str(); break; }
  throw Error(where + ": " + message, kExitError, what);
}

namespace {

// torch.nn.functional: prelude functions first, then aten::name.
struct FunctionalValue : public SugaredValue {
  explicit FunctionalValue(std::shared_ptr<CompilationUnit> cu) : cu_(std::move(cu)) {}
  std::string kind() const override { return "torch.nn.functional"; }
  std::shared_ptr<SugaredValue> attr(const SourceRange& loc, GraphFunction& m, const std::string& field) override {
    if (field == "interpolate" || field == "upsample")
      return interpolate_call(cu_->find_function(c10::QualifiedName(std::string(kFunctionalPrefix) + "._interpolate")));
    if (auto* fn = cu_->find_function(c10::QualifiedName(std::string(kFunctionalPrefix) + "." + field)))
      return std::make_shared<FunctionValue>(fn);
    return std::make_shared<BuiltinFunction>(Symbol::aten(field), c10::nullopt);
  }
  std::shared_ptr<CompilationUnit> cu_;
};

struct NnValue : public SugaredValue {
  explicit NnValue(std::shared_ptr<CompilationUnit> cu) : cu_(std::move(cu)) {}
  std::string kind() const override { return "torch.nn"; }
  std::shared_ptr<SugaredValue> attr(const SourceRange& loc, GraphFunction& m, const std::string& field) override {
    if (field == "functional") return std::make_shared<FunctionalValue>(cu_);
    throw ErrorReport(loc) << "nn." << field << " can only be created in __init__";
  }
  std::shared_ptr<CompilationUnit> cu_;
};

std::optional<at::ScalarType> dtype_named(const std::string& name) {
  static const std::map<std::string, at::ScalarType> dtypes = {
      {"float32", at::kFloat}, {"float", at::kFloat},   {"float64", at::kDouble}, {"double", at::kDouble},
      {"float16", at::kHalf},  {"half", at::kHalf},     {"int64", at::kLong},     {"long", at::kLong},
      {"int32", at::kInt},     {"int", at::kInt},       {"bool", at::kBool},      {"uint8", at::kByte},
      {"int8", at::kChar},     {"bfloat16", at::kBFloat16}};
  auto it = dtypes.find(name);
  if (it == dtypes.end()) return std::nullopt;
  return it->second;
}

// torch: dtypes, torch.nn, and aten::name for everything else.
struct TorchValue : public SugaredValue {
  explicit TorchValue(std::shared_ptr<CompilationUnit> cu) : cu_(std::move(cu)) {}
  std::string kind() const override { return "torch"; }
  std::shared_ptr<SugaredValue> attr(const SourceRange& loc, GraphFunction& m, const std::string& field) override {
    if (auto dtype = dtype_named(field)) return std::make_shared<SimpleValue>(m.graph()->insertConstant(*dtype, loc));
    if (field == "nn") return std::make_shared<NnValue>(cu_);
    if (field == "jit" || field == "autograd") return std::make_shared<BuiltinModule>("aten");
    return std::make_shared<BuiltinFunction>(Symbol::aten(field), c10::nullopt);
  }
  std::shared_ptr<CompilationUnit> cu_;
};

// math: constants, and functions as their aten scalar overloads (as torch.jit.script does).
struct MathValue : public SugaredValue {
  std::string kind() const override { return "math"; }
  std::shared_ptr<SugaredValue> attr(const SourceRange& loc, GraphFunction& m, const std::string& field) override {
    static const std::map<std::string, double> constants = {
        {"pi", M_PI}, {"e", M_E}, {"tau", 2 * M_PI}, {"inf", INFINITY}, {"nan", NAN}};
    if (auto it = constants.find(field); it != constants.end())
      return std::make_shared<SimpleValue>(m.graph()->insertConstant(it->second, loc));
    return std::make_shared<BuiltinFunction>(Symbol::aten(field), c10::nullopt);
  }
};

class ModelResolver;

// One of the model's own modules (`L` of `import models.layers as L`): its functions and constants.
struct ModelModuleValue : public SugaredValue {
  ModelModuleValue(ModelResolver& resolver, std::string name) : resolver_(resolver), name_(std::move(name)) {}
  std::string kind() const override { return "module " + name_.substr(std::string(kModelModulePrefix).size()); }
  std::shared_ptr<SugaredValue> attr(const SourceRange& loc, GraphFunction& m, const std::string& field) override;
  ModelResolver& resolver_;
  std::string name_;
};

class ModelResolver : public Resolver {
 public:
  friend struct ModelModuleValue;
  ModelResolver(const ParsedFile& file, const InitEvaluator& evaluator, std::shared_ptr<CompilationUnit> cu)
      : file_(file), evaluator_(evaluator), cu_(std::move(cu)) {}

  std::shared_ptr<SugaredValue> resolveValue(const std::string& name, GraphFunction& m, const SourceRange& loc) override {
    if (name == "__lambda__") throw ErrorReport(loc) << "a lambda defined in forward is not supported (store it in __init__: "
                                                "self.f = lambda x: ...)";
    if (name == "__filter__")
      throw ErrorReport(loc) << "a comprehension with an if filter is not supported in forward (it is in __init__)";
    if (const Def* def = file_.find_function(name)) return std::make_shared<FunctionValue>(helper(*def));
    if (const PyValue* constant = evaluator_.constant(name)) return constant_value(*constant, m, loc);
    auto alias = file_.aliases.find(name);
    if (alias == file_.aliases.end()) return name == "torch" ? std::make_shared<TorchValue>(cu_) : nullptr;
    const std::string& target = alias->second;
    if (target == "torch") return std::make_shared<TorchValue>(cu_);
    if (target == "torch.nn") return std::make_shared<NnValue>(cu_);
    if (target == "torch.nn.functional") return std::make_shared<FunctionalValue>(cu_);
    if (target == "math") return std::make_shared<MathValue>();
    if (is_model_module(target)) return std::make_shared<ModelModuleValue>(*this, target);
    static const std::string functional = "torch.nn.functional.";
    if (target.rfind(functional, 0) == 0)
      return FunctionalValue(cu_).attr(loc, m, target.substr(functional.size()));
    if (target.rfind("torch.", 0) == 0 && target.find('.', 6) == std::string::npos)
      return TorchValue(cu_).attr(loc, m, target.substr(6));
    if (target.rfind("math.", 0) == 0) return MathValue().attr(loc, m, target.substr(5));
    return nullptr;
  }

  TypePtr resolveType(const std::string& name, const SourceRange& loc) override { return nullptr; }

 private:
  std::shared_ptr<SugaredValue> constant_value(const PyValue& v, GraphFunction& m, const SourceRange& loc) {
    switch (v.kind) {
      case PyValue::Kind::Int: return std::make_shared<SimpleValue>(m.graph()->insertConstant(v.i, loc));
      case PyValue::Kind::Float: return std::make_shared<SimpleValue>(m.graph()->insertConstant(v.f, loc));
      case PyValue::Kind::Bool: return std::make_shared<SimpleValue>(m.graph()->insertConstant(v.b, loc));
      case PyValue::Kind::Str: return std::make_shared<SimpleValue>(m.graph()->insertConstant(v.s, loc));
      case PyValue::Kind::None: return std::make_shared<SimpleValue>(m.graph()->insertConstant(c10::IValue(), loc));
      default: throw ErrorReport(loc) << "module-level constant of type " << v.type_name() << " cannot be used in forward";
    }
  }

  // Compiles a top-level helper function on first use.
  Function* helper(const Def& def) {
    c10::QualifiedName name("__torch__." + file_.stem + "." + def.name().name());
    if (auto* fn = cu_->find_function(name)) return fn;
    auto self = shared_from_this_resolver();
    // unused *args/**kwargs dropped, used ones refused by name (method_rewriter.cpp)
    auto functions = cu_->define(c10::QualifiedName("__torch__." + file_.stem), {}, {}, {rewrite_method(def, nullptr)},
                                 {self}, nullptr);
    return functions.at(0);
  }
  std::shared_ptr<Resolver> shared_from_this_resolver();

  const ParsedFile& file_;
  const InitEvaluator& evaluator_;
  std::shared_ptr<CompilationUnit> cu_;

 public:
  std::weak_ptr<Resolver> self_;
};

std::shared_ptr<Resolver> ModelResolver::shared_from_this_resolver() { return self_.lock(); }

std::shared_ptr<SugaredValue> ModelModuleValue::attr(const SourceRange& loc, GraphFunction& m, const std::string& field) {
  if (const Def* def = resolver_.file_.find_function(field))
    return std::make_shared<FunctionValue>(resolver_.helper(*def));
  if (const PyValue* constant = resolver_.evaluator_.constant(field)) return resolver_.constant_value(*constant, m, loc);
  if (resolver_.file_.find_class(field))
    throw ErrorReport(loc) << "class " << field << " can only be created in __init__";
  return std::make_shared<ModelModuleValue>(resolver_, name_ + "." + field);  // a submodule: models.layers
}

void install_prelude(const std::shared_ptr<CompilationUnit>& cu) {
  if (cu->find_function(c10::QualifiedName(std::string(kFunctionalPrefix) + ".relu"))) return;
  try {
    cu->define(c10::QualifiedName(kFunctionalPrefix), functional_prelude_source(), nativeResolver(), nullptr);
  } catch (const std::exception& e) {
    fail("internal error compiling the torch.nn.functional prelude: {}", first_line(e.what()));
  }
}

}  // namespace

std::shared_ptr<Resolver> make_model_resolver(const ParsedFile& file, const InitEvaluator& evaluator,
                                              const std::shared_ptr<CompilationUnit>& cu) {
  install_prelude(cu);
  auto resolver = std::make_shared<ModelResolver>(file, evaluator, cu);
  resolver->self_ = resolver;
  return resolver;
}

}  // namespace mlopt::script
