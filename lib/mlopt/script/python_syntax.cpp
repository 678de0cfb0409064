#include "mlopt/script/python_syntax.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace mlopt::script {

namespace {

// The text with strings and comments blanked out (same length, newlines kept),
// so scans below see only code. string_starts: offsets of the strings' opening quotes.
std::string code_only(const std::string& text, std::vector<size_t>* string_starts = nullptr) {
  std::string out = text;
  size_t k = 0;
  while (k < text.size()) {
    char c = text[k];
    if (c == '#') {
      while (k < text.size() && text[k] != '\n') out[k++] = ' ';
    } else if (c == '"' || c == '\'') {
      if (string_starts) string_starts->push_back(k);
      bool triple = text.compare(k, 3, std::string(3, c)) == 0;
      size_t quote = triple ? 3 : 1;
      for (size_t q = 0; q < quote; ++q) out[k++] = ' ';
      while (k < text.size()) {
        if (text[k] == '\\' && k + 1 < text.size()) {
          out[k] = ' ';
          if (text[k + 1] != '\n') out[k + 1] = ' ';
          k += 2;
          continue;
        }
        if (!triple && text[k] == '\n') break;  // unterminated: the parser reports it
        if (text.compare(k, quote, std::string(quote, c)) == 0) {
          for (size_t q = 0; q < quote; ++q) out[k++] = ' ';
          break;
        }
        if (text[k] != '\n') out[k] = ' ';
        ++k;
      }
    } else {
      ++k;
    }
  }
  return out;
}

size_t line_at(const std::string& text, size_t offset) {
  size_t line = 1;
  for (size_t k = 0; k < offset && k < text.size(); ++k) line += text[k] == '\n';
  return line;
}

}  // namespace

std::string drop_trailing_commas(const std::string& text) {
  std::string code = code_only(text), out = text;
  for (size_t k = 0; k < code.size(); ++k) {
    if (code[k] != ',') continue;
    size_t next = code.find_first_not_of(" \t\r\n\\", k + 1);
    if (next != std::string::npos && code[next] == '}') out[k] = ' ';
  }
  return out;
}

std::vector<std::string> unsupported_constructs(const std::string& text) {
  struct Pattern {
    std::regex re;
    const char* construct;
  };
  static const std::vector<Pattern> patterns = {
      {std::regex(R"(\blambda\b)"), "lambda"},
      {std::regex(R"(\bdef\s+\w+\s*\([^)]*\*\*\s*\w+)"), "a **kwargs parameter"},
      {std::regex(R"(\bdef\s+\w+\s*\([^)]*[(,]\s*\*\s*\w+)"), "an *args parameter"},
      {std::regex(R"([(,]\s*\*\*\s*[A-Za-z_][\w.]*\s*[,)])"), "passing **kwargs"},
      {std::regex(R"(\byield\b)"), "a generator (yield)"},
      {std::regex(R"(\b(global|nonlocal)\b)"), "a global or nonlocal statement"},
      {std::regex(R"((^|\n)[ \t]*try\s*:)"), "try/except"},
      {std::regex(R"(:=)"), "an assignment expression (:=)"},
      {std::regex(R"((^|\n)[ \t]*async\b)"), "async code"},
  };
  std::vector<size_t> strings;
  std::string code = code_only(text, &strings);
  std::vector<std::pair<size_t, std::string>> found;
  // f"..." / rf'...': a string prefix holding f, not the tail of a longer name
  for (size_t start : strings) {
    size_t k = start;
    bool f = false;
    while (k > 0 && k + 2 >= start && std::isalpha(static_cast<unsigned char>(text[k - 1]))) {
      f = f || text[k - 1] == 'f' || text[k - 1] == 'F';
      --k;
    }
    bool prefix = k + 2 >= start && (k == 0 || !(std::isalnum(static_cast<unsigned char>(text[k - 1])) || text[k - 1] == '_'));
    if (f && prefix) found.emplace_back(line_at(code, start), "an f-string is not supported (str.format is)");
  }
  for (const auto& p : patterns)
    for (auto it = std::sregex_iterator(code.begin(), code.end(), p.re); it != std::sregex_iterator(); ++it)
      found.emplace_back(line_at(code, it->position() + (it->str().front() == '\n')), std::string(p.construct) + " is not supported");
  std::stable_sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& [line, message] : found) out.push_back(std::to_string(line) + ": " + message);
  return out;
}

}  // namespace mlopt::script
