#include "mlopt/script/source_file.h"

#include <torch/csrc/jit/frontend/parser.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "mlopt/core/error.h"
#include "mlopt/script/nesting_limits.h"
#include "mlopt/script/python_syntax.h"

namespace mlopt::script {

using namespace torch::jit;

size_t line_of(const SourceRange& range) {
  if (!range.source()) return 0;
  // The Source is created with starting line 1, so this is 1-based (as TorchScript's messages are).
  return range.source()->lineno_to_source_lineno(range.source()->lineno_for_offset(range.start()));
}

std::string location(const SourceRange& range) {
  std::string file = range.source() && range.source()->filename() ? *range.source()->filename() : "<source>";
  return file + ":" + std::to_string(line_of(range));
}

void fail_at(const SourceRange& range, const std::string& message) {
  fail("{}: {}", location(range), message);
}

std::string dotted_name(const Expr& expr) {
  if (expr.kind() == TK_VAR) return Var(expr).name().name();
  if (expr.kind() == '.') {
    std::string base = dotted_name(Select(expr).value());
    return base.empty() ? "" : base + "." + Select(expr).selector().name();
  }
  return "";
}

const ClassDef* ParsedFile::find_class(const std::string& name) const {
  for (auto& c : classes)
    if (c.name().name() == name) return &c;
  return nullptr;
}

const Def* ParsedFile::find_function(const std::string& name) const {
  for (auto& f : functions)
    if (f.name().name() == name) return &f;
  return nullptr;
}

std::vector<const ClassDef*> ParsedFile::class_chain(const std::string& name) const {
  std::vector<const ClassDef*> chain;
  for (const ClassDef* cls = find_class(name); cls;) {
    if (std::find(chain.begin(), chain.end(), cls) != chain.end()) break;
    chain.push_back(cls);
    if (!cls->superclass().present()) break;
    cls = find_class(canonical(dotted_name(cls->superclass().get())));
  }
  return chain;
}

std::string ParsedFile::root_base(const std::string& name) const {
  auto chain = class_chain(name);
  if (chain.empty() || !chain.back()->superclass().present()) return "";
  return canonical(dotted_name(chain.back()->superclass().get()));
}

std::optional<Def> ParsedFile::find_method(const std::string& class_name, const std::string& name,
                                           std::string* owner) const {
  for (const ClassDef* cls : class_chain(class_name))
    for (auto stmt : cls->body())
      if (stmt.kind() == TK_DEF && Def(stmt).name().name() == name) {
        if (owner) *owner = cls->name().name();
        return Def(stmt);
      }
  return std::nullopt;
}

bool ParsedFile::has_decorator(const Def& def, const std::string& name) const {
  auto it = decorators.find(location(def.range()));
  if (it == decorators.end()) return false;
  return std::find(it->second.begin(), it->second.end(), name) != it->second.end();
}

std::string ParsedFile::canonical(const std::string& dotted) const {
  auto dot = dotted.find('.');
  std::string head = dotted.substr(0, dot);
  auto it = aliases.find(head);
  if (it == aliases.end()) return dotted;
  if (is_model_module(it->second)) return dot == std::string::npos ? dotted : dotted.substr(dotted.rfind('.') + 1);
  return it->second + (dot == std::string::npos ? "" : dotted.substr(dot));
}

namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

size_t indent_of(const std::string& line) {
  size_t n = 0;
  while (n < line.size() && (line[n] == ' ' || line[n] == '\t')) ++n;
  return n;
}

void record_import(ParsedFile& file, const std::string& statement, size_t line) {
  static const std::regex import_re(R"(^import\s+([\w.]+)(\s+as\s+(\w+))?$)");
  static const std::regex from_re(R"(^from\s+([\w.]+)\s+import\s+(.+)$)");
  std::smatch m;
  auto where = [&] { return fmt::format("{}:{}", file.path, line); };
  if (std::regex_match(statement, m, import_re)) {
    std::string target = m[1];
    if (m[3].matched) {
      file.aliases[m[3]] = target;
    } else {
      file.aliases[target.substr(0, target.find('.'))] = target.substr(0, target.find('.'));
      if (target.find('.') != std::string::npos) file.plain_imports.push_back(target);
    }
    return;
  }
  if (std::regex_match(statement, m, from_re)) {
    std::string base = m[1];
    std::string names = m[2];
    for (char& c : names)
      if (c == '(' || c == ')') c = ' ';
    std::stringstream parts(names);
    std::string part;
    static const std::regex name_re(R"(^(\w+)(\s+as\s+(\w+))?$)");
    while (std::getline(parts, part, ',')) {
      part = trim(part);
      if (part.empty()) continue;
      std::smatch n;
      if (!std::regex_match(part, n, name_re)) fail("{}: unsupported import '{}'", where(), statement);
      // `from . import blocks` -> ".blocks", `from .blocks import X` -> ".blocks.X"
      file.aliases[n[3].matched ? n[3].str() : n[1].str()] = base + (base.back() == '.' ? "" : ".") + n[1].str();
    }
    return;
  }
  fail("{}: unsupported import statement '{}'", where(), statement);
}

// Blanks out what the TorchScript parser does not take (imports, decorators,
// the `if __name__ == "__main__":` block), keeping line numbers, and records
// imports and decorators.
std::string preprocess(ParsedFile& file, const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::vector<std::string> pending_decorators;
  for (size_t k = 0; k < lines.size(); ++k) {
    std::string t = trim(lines[k]);
    if (indent_of(lines[k]) == 0 && (t.rfind("import ", 0) == 0 || t.rfind("from ", 0) == 0)) {
      std::string statement = t;
      size_t first = k;
      lines[k].clear();
      // parenthesized or backslash-continued imports
      while ((statement.find('(') != std::string::npos && statement.find(')') == std::string::npos) ||
             (!statement.empty() && statement.back() == '\\')) {
        if (statement.back() == '\\') statement.pop_back();
        if (++k >= lines.size()) break;
        statement += " " + trim(lines[k]);
        lines[k].clear();
      }
      auto hash = statement.find('#');
      if (hash != std::string::npos) statement = trim(statement.substr(0, hash));
      record_import(file, statement, first + 1);
      continue;
    }
    if (indent_of(lines[k]) == 0 && std::regex_match(t, std::regex(R"(^if\s+__name__\s*==.*:\s*(#.*)?$)"))) {
      lines[k].clear();
      while (k + 1 < lines.size() && (trim(lines[k + 1]).empty() || indent_of(lines[k + 1]) > 0 ||
                                      trim(lines[k + 1])[0] == '#'))
        lines[++k].clear();
      continue;
    }
    if (!t.empty() && t[0] == '@') {
      std::string name = trim(t.substr(1));
      auto paren = name.find('(');
      if (paren != std::string::npos) name = name.substr(0, paren);
      pending_decorators.push_back(file.canonical(name));
      lines[k].clear();
      continue;
    }
    if (!pending_decorators.empty() && t.rfind("def ", 0) == 0) {
      file.decorators[std::filesystem::path(file.path).filename().string() + ":" + std::to_string(k + 1)] =
          pending_decorators;
      pending_decorators.clear();
    }
  }
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

ParsedFile parse_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("'{}': cannot read the model file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  ParsedFile file;
  file.path = path;
  file.stem = std::filesystem::path(path).stem().string();
  for (char& c : file.stem)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  if (file.stem.empty() || std::isdigit(static_cast<unsigned char>(file.stem[0]))) file.stem = "m_" + file.stem;
  check_source_nesting(buffer.str(), path);  // before the recursive-descent parser sees it
  std::string text = drop_trailing_commas(rewrite_python_sugar(preprocess(file, buffer.str())));
  // The file name alone: the archive's debug info keeps it, and a full path
  // would make the same model differ byte for byte between folders.
  file.source = std::make_shared<Source>(text, std::filesystem::path(path).filename().string(), 1);
  try {
    Parser parser(file.source);
    auto& lexer = parser.lexer();
    while (lexer.cur().kind != TK_EOF) {
      int kind = lexer.cur().kind;
      if (kind == TK_NEWLINE) {
        lexer.next();
      } else if (kind == TK_CLASS_DEF) {
        file.classes.emplace_back(parser.parseClass());
        check_tree_depth(file.classes.back());
      } else if (kind == TK_DEF) {
        file.functions.emplace_back(parser.parseFunction(/*is_method=*/false));
        check_tree_depth(file.functions.back());
      } else if (kind == TK_STRINGLITERAL) {  // module docstring
        parser.parseExp();
        lexer.nextIf(TK_NEWLINE);
      } else if (kind == TK_IDENT) {
        auto range = lexer.cur().range;
        Expr target = parser.parseExp();
        if (target.kind() != TK_VAR) fail_at(range, "unsupported top-level statement (expected NAME = value)");
        if (lexer.nextIf(':')) parser.parseExp();  // NAME: type = value
        lexer.expect('=');
        Expr value = parser.parseExp();
        check_tree_depth(value);
        lexer.expect(TK_NEWLINE);
        file.constants.emplace_back(Var(target).name().name(), value);
      } else {
        fail_at(lexer.cur().range, "unsupported top-level statement '" + lexer.cur().text() + "'");
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // ErrorReport: "message:\n  File "x.py", line N ..." -> "x.py:N: message"
    // Constructs a Python user can name beat the parser's view of the first one.
    auto constructs = unsupported_constructs(text);
    if (!constructs.empty()) {
      std::string name = std::filesystem::path(path).filename().string();
      for (auto& c : constructs) c = name + ":" + c;
      fail("{}", fmt::join(constructs, "; "));
    }
    std::string what = e.what();
    static const std::regex file_line(R"re(File "([^"]*)", line (\d+))re");
    std::smatch m;
    size_t begin = what.find_first_not_of("\n ");
    std::string message = first_line(begin == std::string::npos ? what : what.substr(begin));
    if (!message.empty() && message.back() == ':') message.pop_back();
    if (std::regex_search(what, m, file_line)) fail("{}:{}: syntax not supported: {}", m[1].str(), m[2].str(), message);
    fail("{}: syntax not supported: {}", path, message);
  }
  return file;
}

}  // namespace mlopt::script
