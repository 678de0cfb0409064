#include "mlopt/script/model_files.h"

#include <filesystem>
#include <set>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"

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

// The file of module `module` ("..blocks", "models.layers") imported by `importer`.
std::optional<fs::path> find_module(const fs::path& importer, const std::string& module,
                                    const std::vector<std::string>& search_paths) {
  fs::path folder = fs::absolute(importer).parent_path();
  if (!module.empty() && module[0] == '.') {
    size_t dots = module.find_first_not_of('.');
    if (dots == std::string::npos) return std::nullopt;  // `from . import x` names a module: see load_imports
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

// The file an import alias target ("..blocks.ResBlock", "models.layers.Attention") comes from.
std::optional<fs::path> resolve(const fs::path& importer, const std::string& target,
                                const std::vector<std::string>& search_paths) {
  size_t dot = target.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  return find_module(importer, target.substr(0, dot), search_paths);  // drop the imported name
}

// The model's files share one namespace: a second definition of a name is left out, and said so
// (`a.Block` and `b.Block` of two files would otherwise both be the first one).
void note_shadowed(const std::string& what, const torch::jit::SourceRange& dropped, const torch::jit::SourceRange& kept) {
  log::warn("{}: {} is also defined at {}; the model's files share one namespace, that one is used", location(dropped),
            what, location(kept));
}

void merge(ParsedFile& into, const ParsedFile& from) {
  for (auto& c : from.classes) {
    if (auto* known = into.find_class(c.name().name())) note_shadowed("class " + c.name().name(), c.range(), known->range());
    else into.classes.push_back(c);
  }
  for (auto& f : from.functions) {
    if (auto* known = into.find_function(f.name().name())) note_shadowed("function " + f.name().name(), f.range(), known->range());
    else into.functions.push_back(f);
  }
  for (auto& constant : from.constants) {
    bool known = false;
    for (auto& c : into.constants) known = known || c.first == constant.first;
    if (!known) into.constants.push_back(constant);
  }
  for (auto& [name, target] : from.aliases) into.aliases.emplace(name, target);
  for (auto& [where, names] : from.decorators) into.decorators.emplace(where, names);
}

void load_file(ParsedFile& file, const fs::path& source, const std::vector<std::string>& search_paths,
               std::set<fs::path>& loaded);

[[noreturn]] void fail_import(const ParsedFile& file, const std::string& target) {
  fail("{}: import of '{}' is not supported (a model file may import torch, typing, math, functools, collections "
       "and the model's own files, found next to it or under --path)",
       file.path, target);
}

void load_imports(ParsedFile& file, const std::vector<std::string>& search_paths, std::set<fs::path>& loaded) {
  // `import a.b` binds `a`; a.b's classes are then reached as `a.b.ResBlock`.
  for (auto& module : std::vector<std::string>(file.plain_imports)) {
    if (allowed_outside(module)) continue;
    auto source = find_module(file.path, module, search_paths);
    if (!source) fail_import(file, module);
    file.aliases[module.substr(0, module.find('.'))] = kModelModulePrefix + module;
    load_file(file, *source, search_paths, loaded);
  }
  std::vector<std::pair<std::string, std::string>> aliases(file.aliases.begin(), file.aliases.end());
  for (auto& [name, target] : aliases) {
    if (allowed_outside(target) || is_model_module(target)) continue;
    // A module of the model (`import models.layers as L`, `from . import blocks`, `import blocks`) ...
    if (auto module = find_module(file.path, target, search_paths)) {
      file.aliases[name] = kModelModulePrefix + target;
      load_file(file, *module, search_paths, loaded);
      continue;
    }
    // ... or a name in one (`from .blocks import ResBlock`).
    auto source = resolve(file.path, target, search_paths);
    if (!source) fail_import(file, target);
    file.aliases.erase(name);  // the imported class or function is found by its name
    load_file(file, *source, search_paths, loaded);
  }
}

void load_file(ParsedFile& file, const fs::path& source, const std::vector<std::string>& search_paths,
               std::set<fs::path>& loaded) {
  fs::path canonical = fs::weakly_canonical(source);
  if (!loaded.insert(canonical).second) return;
  ParsedFile imported = parse_model_file(source.string());
  load_imports(imported, search_paths, loaded);
  merge(file, imported);
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
