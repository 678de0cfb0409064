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

namespace {

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Offset just past the string literal whose opening quote is at `start`.
size_t string_end(const std::string& text, size_t start) {
  char c = text[start];
  bool triple = text.compare(start, 3, std::string(3, c)) == 0;
  size_t quote = triple ? 3 : 1, k = start + quote;
  while (k < text.size()) {
    if (text[k] == '\\') { k += 2; continue; }
    if (!triple && text[k] == '\n') return k;
    if (text.compare(k, quote, std::string(quote, c)) == 0) return k + quote;
    ++k;
  }
  return text.size();
}

// Where the string prefix (f, rb, ...) before the quote at `start` begins; `f` tells an f-string.
size_t prefix_start(const std::string& text, size_t start, bool* f) {
  size_t k = start;
  *f = false;
  while (k > 0 && k + 2 >= start && std::isalpha(static_cast<unsigned char>(text[k - 1]))) {
    *f = *f || text[k - 1] == 'f' || text[k - 1] == 'F';
    --k;
  }
  if (k + 2 < start || (k > 0 && is_name_char(text[k - 1]))) *f = false;
  return k;
}

std::string trim_copy(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// The body of an f-string as a str.format template and its argument expressions.
bool split_fstring(const std::string& body, std::string& templ, std::vector<std::string>& args) {
  for (size_t k = 0; k < body.size(); ++k) {
    char c = body[k];
    if ((c == '{' || c == '}') && k + 1 < body.size() && body[k + 1] == c) {
      templ += std::string(2, c);
      ++k;
      continue;
    }
    if (c == '}') return false;
    if (c != '{') {
      templ += c;
      continue;
    }
    int depth = 0;
    size_t j = k + 1, conv = std::string::npos, spec = std::string::npos;
    char quote = 0;
    for (; j < body.size(); ++j) {
      char d = body[j];
      if (quote) {
        if (d == quote) quote = 0;
        continue;
      }
      if (d == '\'' || d == '"') quote = d;
      else if (d == '(' || d == '[' || d == '{') ++depth;
      else if ((d == ')' || d == ']' || d == '}') && depth > 0) --depth;
      else if (d == '}' && depth == 0) break;
      else if (depth == 0 && d == '!' && conv == std::string::npos && spec == std::string::npos && j + 1 < body.size() &&
               body[j + 1] != '=')
        conv = j;
      else if (depth == 0 && d == ':' && spec == std::string::npos) spec = j;
    }
    if (j >= body.size()) return false;
    size_t expr_end = std::min({conv, spec, j});
    std::string expr = trim_copy(body.substr(k + 1, expr_end - k - 1));
    if (expr.empty()) return false;
    args.push_back(expr);
    templ += "{" + body.substr(expr_end, j - expr_end) + "}";
    k = j;
  }
  return true;
}

std::string rewrite_fstrings(std::string text) {
  std::vector<size_t> starts;
  code_only(text, &starts);
  for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
    bool f = false;
    size_t begin = prefix_start(text, *it, &f);
    if (!f) continue;
    size_t end = string_end(text, *it);
    char c = text[*it];
    size_t quote = text.compare(*it, 3, std::string(3, c)) == 0 ? 3 : 1;
    if (end < *it + 2 * quote || text.compare(end - quote, quote, std::string(quote, c)) != 0) continue;
    std::string templ;
    std::vector<std::string> args;
    if (!split_fstring(text.substr(*it + quote, end - quote - *it - quote), templ, args)) continue;
    std::string prefix;
    for (size_t k = begin; k < *it; ++k)
      if (text[k] != 'f' && text[k] != 'F') prefix += text[k];
    std::string q(quote, c), replacement = prefix + q + templ + q;
    if (!args.empty()) {
      replacement += ".format(";
      for (size_t k = 0; k < args.size(); ++k) replacement += (k ? ", " : "") + args[k];
      replacement += ")";
    }
    text.replace(begin, end - begin, replacement);
  }
  return text;
}

// lambda PARAMS: BODY -> __lambda__(BODY, PARAMS), the last lambda first so nested ones are inside out.
std::string rewrite_lambdas(std::string text) {
  static const std::regex lambda_re(R"(\blambda\b)");
  size_t limit = std::string::npos;
  for (;;) {
    std::string code = code_only(text);
    size_t pos = std::string::npos;
    for (auto it = std::sregex_iterator(code.begin(), code.end(), lambda_re); it != std::sregex_iterator(); ++it)
      if (size_t(it->position()) < limit && (it->position() == 0 || code[it->position() - 1] != '.')) pos = it->position();
    if (pos == std::string::npos) return text;
    limit = pos;
    size_t k = pos + 6, colon = std::string::npos;
    int depth = 0;
    for (; k < code.size(); ++k) {
      char c = code[k];
      if (c == '(' || c == '[' || c == '{') ++depth;
      else if (c == ')' || c == ']' || c == '}') { if (--depth < 0) break; }
      else if (c == ':' && depth == 0) { colon = k; break; }
      else if (c == '\n' && depth == 0) break;
    }
    if (colon == std::string::npos) continue;
    static const std::regex stop_re(R"(^(for|async)\b)");
    size_t end = colon + 1;
    depth = 0;
    for (; end < code.size(); ++end) {
      char c = code[end];
      if (c == '(' || c == '[' || c == '{') ++depth;
      else if (c == ')' || c == ']' || c == '}') { if (depth-- == 0) break; }
      else if (depth == 0 && (c == ',' || c == '\n' || c == ';')) break;
      else if (depth == 0 && (end == 0 || !is_name_char(code[end - 1])) && code.compare(end, 3, "for") == 0 &&
               end + 3 < code.size() && !is_name_char(code[end + 3]))
        break;
    }
    std::string params = trim_copy(text.substr(pos + 6, colon - pos - 6));
    std::string body = trim_copy(text.substr(colon + 1, end - colon - 1));
    if (body.empty()) continue;
    std::string tail = text.substr(colon + 1, end - colon - 1);
    size_t trailing = tail.size() - (tail.find_last_not_of(" \t\r") + 1);  // keep spacing before what follows
    text.replace(pos, end - pos, "__lambda__(" + body + (params.empty() ? "" : ", " + params) + ")" +
                                     std::string(trailing, ' '));
  }
}

// def f(a, *args, b=1, **kwargs) -> def f(a, __va__args, b=1, __kw__kwargs); a bare `*,` or `/,` goes.
std::string rewrite_star_params(std::string text) {
  static const std::regex def_re(R"(\bdef\s+\w+\s*\()");
  std::string code = code_only(text);
  std::vector<std::pair<size_t, size_t>> lists;  // '(' offset, matching ')' offset
  for (auto it = std::sregex_iterator(code.begin(), code.end(), def_re); it != std::sregex_iterator(); ++it) {
    size_t open = it->position() + it->length() - 1, k = open + 1;
    for (int depth = 1; k < code.size(); ++k) {
      if (code[k] == '(' || code[k] == '[' || code[k] == '{') ++depth;
      if ((code[k] == ')' || code[k] == ']' || code[k] == '}') && --depth == 0) break;
    }
    lists.emplace_back(open, k);
  }
  for (auto it = lists.rbegin(); it != lists.rend(); ++it) {
    // parameter starts at depth 1, last first
    std::vector<size_t> starts;
    int depth = 0;
    for (size_t k = it->first; k < it->second; ++k) {
      char c = code[k];
      if (c == '(' || c == '[' || c == '{') ++depth;
      else if (c == ')' || c == ']' || c == '}') --depth;
      if (depth == 1 && (c == '(' || c == ',')) {
        size_t s = code.find_first_not_of(" \t\r\n\\", k + 1);
        if (s < it->second) starts.push_back(s);
      }
    }
    for (auto s = starts.rbegin(); s != starts.rend(); ++s) {
      size_t k = *s;
      if (code.compare(k, 2, "**") == 0) {
        text.replace(k, 2, "__kw__");
      } else if (code[k] == '*' || code[k] == '/') {
        size_t next = code.find_first_not_of(" \t", k + 1);
        if (next < code.size() && (code[next] == ',' || code[next] == ')')) {
          // the separator and its comma, blanked (a trailing one before ')' leaves the previous comma, which Python allows)
          text[k] = ' ';
          if (code[next] == ',') text[next] = ' ';
        } else if (code[k] == '*') {
          text.replace(k, 1, "__va__");
        }
      }
    }
  }
  return text;
}

// f(a, **kw) -> f(a, __kwargs_0=kw): `**` right after '(' or ',' of a call.
std::string rewrite_star_star_arguments(std::string text) {
  std::string code = code_only(text);
  std::vector<char> brackets;
  std::vector<size_t> at;
  for (size_t k = 0; k < code.size(); ++k) {
    char c = code[k];
    if (c == '(' || c == '[' || c == '{') brackets.push_back(c);
    else if ((c == ')' || c == ']' || c == '}') && !brackets.empty()) brackets.pop_back();
    else if (c == '*' && k + 1 < code.size() && code[k + 1] == '*' && !brackets.empty() && brackets.back() == '(') {
      size_t prev = code.find_last_not_of(" \t\r\n\\", k - 1);
      if (prev != std::string::npos && (code[prev] == '(' || code[prev] == ',')) at.push_back(k);
      ++k;
    }
  }
  for (size_t n = at.size(); n-- > 0;) text.replace(at[n], 2, "__kwargs_" + std::to_string(n) + "=");
  return text;
}

// [f(v) for v in xs if c(v)] -> [f(v) for v in __filter__(xs, __lambda__(c(v), v))]: the parser
// takes no `if` in comprehensions; the __init__ evaluator runs the filter. The last one first.
std::string rewrite_comprehension_filters(std::string text) {
  auto keyword_at = [](const std::string& code, size_t k, const char* word, size_t n) {
    return code.compare(k, n, word) == 0 && (k == 0 || !is_name_char(code[k - 1])) &&
           (k + n >= code.size() || !is_name_char(code[k + n]));
  };
  size_t limit = std::string::npos;
  for (;;) {
    std::string code = code_only(text);
    size_t found = std::string::npos, in_at = 0, if_at = 0, close = 0;
    int depth = 0;
    for (size_t k = 0; k < code.size() && k < limit; ++k) {
      char c = code[k];
      if (c == '(' || c == '[' || c == '{') ++depth;
      else if (c == ')' || c == ']' || c == '}') --depth;
      if (depth <= 0 || !keyword_at(code, k, "for", 3)) continue;
      int inner = 0;
      size_t in = 0, cond = 0;
      for (size_t j = k + 3; j < code.size(); ++j) {
        char d = code[j];
        if (d == '(' || d == '[' || d == '{') ++inner;
        else if (d == ')' || d == ']' || d == '}') {
          if (--inner < 0) {
            if (in && cond) found = k, in_at = in, if_at = cond, close = j;
            break;
          }
        } else if (inner == 0 && !in && keyword_at(code, j, "in", 2)) in = j;
        else if (inner == 0 && in && !cond && keyword_at(code, j, "if", 2)) cond = j;
        else if (inner == 0 && in && keyword_at(code, j, "for", 3)) break;  // nested generators: left alone
      }
    }
    if (found == std::string::npos) return text;
    limit = found;
    std::string target = trim_copy(text.substr(found + 3, in_at - found - 3));
    std::string iter = trim_copy(text.substr(in_at + 2, if_at - in_at - 2));
    std::string cond = trim_copy(text.substr(if_at + 2, close - if_at - 2));
    if (target.find(',') != std::string::npos && target[0] != '(') target = "(" + target + ")";
    text.replace(in_at + 2, close - in_at - 2, " __filter__(" + iter + ", __lambda__(" + cond + ", " + target + "))");
  }
}

// [v for i, v in x] -> [v for (i, v) in x]: the parser takes one target in comprehensions.
std::string parenthesize_comprehension_targets(std::string text) {
  std::string code = code_only(text);
  std::vector<std::pair<size_t, size_t>> spans;  // target start, target end
  int depth = 0;
  auto keyword_at = [&](size_t k, const char* word, size_t n) {
    return code.compare(k, n, word) == 0 && (k == 0 || !is_name_char(code[k - 1])) &&
           (k + n >= code.size() || !is_name_char(code[k + n]));
  };
  for (size_t k = 0; k < code.size(); ++k) {
    char c = code[k];
    if (c == '(' || c == '[' || c == '{') ++depth;
    else if (c == ')' || c == ']' || c == '}') --depth;
    if (depth <= 0 || !keyword_at(k, "for", 3)) continue;
    int inner = 0;
    bool comma = false;
    for (size_t j = k + 3; j < code.size(); ++j) {
      char d = code[j];
      if (d == '(' || d == '[' || d == '{') ++inner;
      else if (d == ')' || d == ']' || d == '}') { if (--inner < 0) break; }
      else if (d == ',' && inner == 0) comma = true;
      else if (inner == 0 && keyword_at(j, "in", 2)) {
        if (comma) spans.emplace_back(k + 3, j);
        break;
      }
    }
  }
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
    text.insert(it->second, ")");
    text.insert(it->first, " (");
  }
  return text;
}

}  // namespace

std::string rewrite_python_sugar(const std::string& text) {
  return parenthesize_comprehension_targets(rewrite_comprehension_filters(
      rewrite_star_star_arguments(rewrite_star_params(rewrite_lambdas(rewrite_fstrings(text))))));
}

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
