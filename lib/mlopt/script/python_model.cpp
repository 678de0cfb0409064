// compile_python_model: parse the file, evaluate the class's __init__ with
// the given arguments, build TorchScript modules and compile their methods,
// then load weights (or keep PyTorch-style seeded initialization).
#include "mlopt/script/python_model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include "mlopt/core/error.h"
#include "mlopt/script/apply_weights.h"
#include "mlopt/script/init_evaluator.h"
#include "mlopt/script/model_files.h"
#include "mlopt/script/module_builder.h"
#include "mlopt/script/source_file.h"

namespace mlopt {

using namespace script;

namespace {

bool mentions(const torch::jit::TreeRef& tree, const std::string& name) {
  if (tree->kind() == torch::jit::TK_VAR) return torch::jit::Var(tree).name().name() == name;
  if (tree->isAtom()) return false;
  for (auto& child : tree->trees())
    if (mentions(child, name)) return true;
  return false;
}

std::string pick_class(const ParsedFile& file, const std::string& requested) {
  std::vector<std::string> names;
  for (auto& c : file.classes)
    if (defined_in_model_file(file, c)) names.push_back(c.name().name());
  if (!requested.empty()) {
    if (!file.find_class(requested) || !defined_in_model_file(file, *file.find_class(requested)))
      fail("'{}': no class '{}' (classes in the file: {})", file.path, requested,
           names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")));
    return requested;
  }
  if (names.size() == 1) return names[0];
  // The one class no other class instantiates is the model.
  std::vector<std::string> roots;
  for (auto& name : names) {
    bool used = false;
    for (auto& other : file.classes)
      if (other.name().name() != name && defined_in_model_file(file, other))
        used = used || mentions(other.body().tree(), name) ||
               (other.superclass().present() && mentions(other.superclass().get().tree(), name));
    if (!used) roots.push_back(name);
  }
  if (roots.size() == 1) return roots[0];
  fail("'{}': give --class (classes in the file: {})", file.path, names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")));
}

KwArgs parse_init_args(const ParsedFile& file, const std::string& class_name, const std::vector<std::string>& init) {
  std::vector<std::string> params;
  if (auto init = file.find_method(class_name, "__init__")) {
    auto decl = init->decl().params();
    for (size_t k = 1; k < decl.size(); ++k) params.push_back(decl[k].ident().name());
  }
  KwArgs kwargs;
  for (const auto& item : init) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) fail_usage("--init '{}': expected key=value", item);
    std::string key = item.substr(0, eq);
    if (std::find(params.begin(), params.end(), key) == params.end())
      fail_usage("--init '{}': {}.__init__ has no parameter '{}' (parameters: {})", item, class_name, key,
                 params.empty() ? "none" : fmt::format("{}", fmt::join(params, ", ")));
    auto value = parse_python_literal(item.substr(eq + 1));
    if (!value) fail_usage("--init '{}': the value must be a Python literal (int, float, bool, None, 'str', list, tuple)", item);
    kwargs.emplace_back(key, *value);
  }
  return kwargs;
}

}  // namespace

torch::jit::Module compile_python_model(const ModelSource& source) { return compile_python_model(source, {}); }

torch::jit::Module compile_python_model(const ModelSource& source, const PythonModelOptions& options) {
  ParsedFile file = parse_model_files(source.path, options.paths);
  std::string class_name = pick_class(file, source.class_name);
  KwArgs kwargs = parse_init_args(file, class_name, source.init);
  LayerContext ctx{std::make_shared<torch::jit::CompilationUnit>(), at::make_generator<at::CPUGeneratorImpl>(source.seed)};
  InitEvaluator evaluator(file, ctx);
  auto object = evaluator.construct(class_name, {}, kwargs);
  ModuleBuilder builder(file, evaluator, ctx);
  torch::jit::Module module = builder.build(object);
  if (!module.find_method("forward")) fail("{}: class '{}' has no forward method", file.path, class_name);
  for (const auto& p : module.named_parameters(true)) p.value.requires_grad_(true);
  if (!source.weights.empty()) apply_weights(module, source.weights, options.weights_key, options.strict);
  else if (!options.weights_key.empty()) fail_usage("--weights-key needs --weights");
  module.eval();
  return module;
}

}  // namespace mlopt
