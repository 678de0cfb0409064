#include "mlopt/script/model_files.h"

#include <filesystem>
#include <set>

#include "mlopt/core/error.h"

namespace mlopt::script {

namespace fs = std::filesystem;

namespace {

bool allowed_outside(const std::string& target) {
  static const std::set<std::string> roots = {"torch", "typing", "typing_extensions", "math", "functools",
                                              "collections", "__future__"};
  return roots.count(target.substr(0, target.find('.'))) > 0;
}

// "pkg.mod" under `root`: pkg/mod.py or pkg/mod/__init__.py.
std::optional<fs::path> module_file(const fs::path& root, const std::string& module) {
  fs::path rel;
  size_t start = 0;
  while (start <= module.size()) {
    size_t dot = module.find('.', start);
    rel /= module.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::error_code ec;
  fs::path file = root / rel;
  file += ".py";
  if (fs::is_regular_file(file, ec)) return file;
  if (fs::is_regular_file(root / rel / "__init__.py", ec)) return root / rel / "__init__.py";
  return std::nullopt;
}

// The file an import alias target ("..blocks.ResBlock", "models.layers.Attention") comes from.
std::optional<fs::path> resolve(const fs::path& importer, const std::string& target,
                                const std::vector<std::string>& search_paths) {
  std::string module = target.substr(0, target.rfind('.'));  // drop the imported name
  fs::path folder = fs::absolute(importer).parent_path();
  if (!module.empty() && module[0] == '.') {
    size_t dots = module.find_first_not_of('.');
    if (dots == std::string::npos) return std::nullopt;  // `from . import x` (a module) is not supported
    for (size_t k = 1; k < dots; ++k) folder = folder.parent_path();
    return module_file(folder, module.substr(dots));
  }
  if (module.empty()) return std::nullopt;
  for (auto& root : search_paths)
    if (auto file = module_file(root, module)) return file;
  for (fs::path root = folder;; root = root.parent_path()) {
    if (auto file = module_file(root, module)) return file;
    if (root == root.parent_path()) break;
  }
  return std::nullopt;
}

void merge(ParsedFile& into, const ParsedFile& from) {
  for (auto& c : from.classes)
    if (!into.find_class(c.name().name())) into.classes.push_back(c);
  for (auto& f : from.functions)
    if (!into.find_function(f.name().name())) into.functions.push_back(f);
  for (auto& constant : from.constants) {
    bool known = false;
    for (auto& c : into.constants) known = known || c.first == constant.first;
    if (!known) into.constants.push_back(constant);
  }
  for (auto& [name, target] : from.aliases) into.aliases.emplace(name, target);
  for (auto& [where, names] : from.decorators) into.decorators.emplace(where, names);
}

void load_imports(ParsedFile& file, const std::vector<std::string>& search_paths, std::set<fs::path>& loaded) {
  std::vector<std::pair<std::string, std::string>> aliases(file.aliases.begin(), file.aliases.end());
  for (auto& [name, target] : aliases) {
    if (allowed_outside(target)) continue;
    auto source = resolve(file.path, target, search_paths);
    if (!source)
      fail("{}: import of '{}' is not supported (a model file may import torch, typing, math, functools, collections "
           "and the model's own files, found next to it or under --path)",
           file.path, target);
    file.aliases.erase(name);  // the imported class or function is found by its name
    fs::path canonical = fs::weakly_canonical(*source);
    if (!loaded.insert(canonical).second) continue;
    ParsedFile imported = parse_model_file(source->string());
    load_imports(imported, search_paths, loaded);
    merge(file, imported);
  }
}

}  // namespace

ParsedFile parse_model_files(const std::string& path, const std::vector<std::string>& search_paths) {
  ParsedFile file = parse_model_file(path);
  std::set<fs::path> loaded;
  std::error_code ec;
  loaded.insert(fs::weakly_canonical(path, ec));
  load_imports(file, search_paths, loaded);
  return file;
}

bool defined_in_model_file(const ParsedFile& file, const torch::jit::ClassDef& cls) {
  auto source = cls.range().source();
  return !source || !file.source || source == file.source;
}

}  // namespace mlopt::script
