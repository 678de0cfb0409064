#pragma once
// A Python model file, parsed with LibTorch's TorchScript parser: its imports
// (as aliases), classes, functions and top-level constants. Errors name
// file:line.
#include <torch/csrc/jit/frontend/tree_views.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlopt::script {

struct ParsedFile {
  std::string path;
  std::string stem;  // file name without folder and .py, used in type names
  std::shared_ptr<torch::jit::Source> source;
  // import aliases: "nn" -> "torch.nn", "F" -> "torch.nn.functional", "List" -> "typing.List"
  std::map<std::string, std::string> aliases;
  // `import a.b` without `as`: the dotted module ("a.b"; aliases holds "a" -> "a").
  std::vector<std::string> plain_imports;
  std::vector<torch::jit::ClassDef> classes;
  std::vector<torch::jit::Def> functions;
  std::vector<std::pair<std::string, torch::jit::Expr>> constants;  // NAME = expr at top level
  // decorators by the "file:line" of the `def` they decorate ("torch.jit.export", "staticmethod", ...)
  std::map<std::string, std::vector<std::string>> decorators;

  const torch::jit::ClassDef* find_class(const std::string& name) const;
  const torch::jit::Def* find_function(const std::string& name) const;
  // The class and its user base classes, derived first (`class Net(Base)` -> [Net, Base]);
  // stops at the first base that is not a class of the file (nn.Module) or at a cycle.
  std::vector<const torch::jit::ClassDef*> class_chain(const std::string& name) const;
  // The dotted base of the chain's last class ("torch.nn.Module"), canonical; empty when none.
  std::string root_base(const std::string& name) const;
  // The method `name` as the class sees it: its own or the nearest base's; owner gets that class's name.
  std::optional<torch::jit::Def> find_method(const std::string& class_name, const std::string& name,
                                             std::string* owner = nullptr) const;
  bool has_decorator(const torch::jit::Def& def, const std::string& name) const;
  // "F.relu" -> "torch.nn.functional.relu" (the first component through the import aliases);
  // "blocks.ResBlock" -> "ResBlock" when `blocks` is one of the model's own modules.
  std::string canonical(const std::string& dotted) const;
};

ParsedFile parse_model_file(const std::string& path);

// The alias target of an import that names one of the model's own modules rather than a name in it
// (`import models.layers as L`, `from . import blocks`): "model:models.layers". Its classes, functions
// and constants are the model's (`L.Attention` is `Attention`).
constexpr const char* kModelModulePrefix = "model:";
inline bool is_model_module(const std::string& target) { return target.rfind(kModelModulePrefix, 0) == 0; }

// 1-based line of a source range.
size_t line_of(const torch::jit::SourceRange& range);
// "path:line"
std::string location(const torch::jit::SourceRange& range);
[[noreturn]] void fail_at(const torch::jit::SourceRange& range, const std::string& message);
// "a.b.c" for Var/Select chains, empty for anything else.
std::string dotted_name(const torch::jit::Expr& expr);

}  // namespace mlopt::script
