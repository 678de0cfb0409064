#include "mlopt/script/nesting_limits.h"

#include <cctype>
#include <utility>
#include <vector>

#include "mlopt/core/error.h"
#include "mlopt/script/source_file.h"

namespace mlopt::script {
namespace {

// Skips a string literal starting at text[i] (a quote); returns the index
// after it. Newlines inside triple-quoted strings are counted in `line`.
size_t skip_string(const std::string& text, size_t i, size_t& line) {
  char quote = text[i];
  bool triple = text.compare(i, 3, std::string(3, quote)) == 0;
  size_t k = i + (triple ? 3 : 1);
  while (k < text.size()) {
    if (text[k] == '\\') {
      k += 2;
      continue;
    }
    if (text[k] == '\n') {
      if (!triple) return k;  // unterminated: the parser reports it
      ++line;
    }
    if (text[k] == quote && (!triple || text.compare(k, 3, std::string(3, quote)) == 0)) return k + (triple ? 3 : 1);
    ++k;
  }
  return k;
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// State of one logical line: what makes the parser recurse.
struct LineScan {
  int brackets = 0;       // open ( [ { now
  int recursion = 0;      // prefix operators, `**`, `not`, `if`/`lambda` seen on this line
  bool after_operand = false;  // the previous token ends an operand: a following + - is binary
};

[[noreturn]] void too_deep(const std::string& path, size_t line, const std::string& what) {
  fail("{}:{}: {} nest more than {} deep; refusing to parse (deeper nesting would overflow the parser's stack)",
       path, line, what, kMaxSourceNesting);
}

void check_indentation(const std::string& text, size_t start, size_t line, std::vector<size_t>& indents,
                       const std::string& path) {
  size_t width = 0;
  while (start + width < text.size() && (text[start + width] == ' ' || text[start + width] == '\t')) ++width;
  char next = start + width < text.size() ? text[start + width] : '\n';
  if (next == '\n' || next == '#' || next == '\r') return;  // blank or comment lines do not indent
  while (!indents.empty() && indents.back() > width) indents.pop_back();
  if (indents.empty() || indents.back() < width) indents.push_back(width);
  if (static_cast<int>(indents.size()) > kMaxSourceNesting) too_deep(path, line, "indented blocks");
}

}  // namespace

void check_source_nesting(const std::string& text, const std::string& path) {
  size_t line = 1;
  LineScan scan;
  std::vector<size_t> indents;
  check_indentation(text, 0, line, indents, path);
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '\'' || c == '"') {
      i = skip_string(text, i, line);
      scan.after_operand = true;
      continue;
    }
    if (c == '\n') {
      ++line;
      ++i;
      if (scan.brackets == 0 && (i < 2 || text[i - 2] != '\\')) {  // a logical line ends
        scan = LineScan{};
        check_indentation(text, i, line, indents, path);
      }
      continue;
    }
    if (is_word_char(c)) {
      size_t k = i;
      while (k < text.size() && is_word_char(text[k])) ++k;
      std::string word = text.substr(i, k - i);
      bool keyword = word == "not" || word == "if" || word == "lambda" || word == "else" || word == "and" || word == "or";
      if (word == "not" || word == "if" || word == "lambda") ++scan.recursion;
      scan.after_operand = !keyword;
      i = k;
    } else if (c == '(' || c == '[' || c == '{') {
      if (++scan.brackets > kMaxSourceNesting) too_deep(path, line, "brackets");
      scan.after_operand = false;
      ++i;
    } else if (c == ')' || c == ']' || c == '}') {
      if (scan.brackets > 0) --scan.brackets;
      scan.after_operand = true;
      ++i;
    } else if (c == '*' && i + 1 < text.size() && text[i + 1] == '*') {
      ++scan.recursion;
      scan.after_operand = false;
      i += 2;
    } else if ((c == '-' || c == '+' || c == '~') && !scan.after_operand) {
      ++scan.recursion;
      ++i;
    } else {
      if (!std::isspace(static_cast<unsigned char>(c))) scan.after_operand = false;
      ++i;
    }
    if (scan.brackets + scan.recursion > kMaxSourceNesting)
      too_deep(path, line, "brackets, prefix operators, '**' and conditional expressions");
  }
}

void check_tree_depth(const torch::jit::TreeRef& tree) {
  struct Entry {
    torch::jit::TreeRef node;
    torch::jit::TreeRef compound;  // the node itself or its parent: atoms have no source range
    int depth;
  };
  std::vector<Entry> stack = {{tree, tree, 1}};
  while (!stack.empty()) {
    Entry entry = std::move(stack.back());
    stack.pop_back();
    if (entry.depth > kMaxTreeDepth)
      fail_at(entry.compound->range(),
              fmt::format("the expression or block nests more than {} levels deep (a chain such as "
                          "'x + x + ... + x' counts one level per operator); refusing to compile it",
                          kMaxTreeDepth));
    if (entry.node->isAtom()) continue;
    for (const auto& child : entry.node->trees()) stack.push_back({child, entry.node, entry.depth + 1});
  }
}

}  // namespace mlopt::script
