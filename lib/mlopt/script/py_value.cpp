#include "mlopt/script/py_value.h"

#include <fmt/format.h>

#include <cctype>
#include <sstream>

namespace mlopt::script {

PyValue::~PyValue() {
  std::vector<std::shared_ptr<PyList>> pending;
  auto take = [&pending](std::shared_ptr<PyList>& list) {
    if (list && list.use_count() == 1) pending.push_back(std::move(list));
  };
  take(items);
  take(values);
  while (!pending.empty()) {
    std::shared_ptr<PyList> list = std::move(pending.back());
    pending.pop_back();
    // Detach the children's own lists first, so destroying this one is shallow.
    for (auto& value : *list) {
      take(value.items);
      take(value.values);
    }
  }
}


std::string PyValue::type_name() const {
  switch (kind) {
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Dict: return "dict";
    case Kind::Tensor: return "Tensor";
    case Kind::Parameter: return "Parameter";
    case Kind::Module: return module ? module->kind : "Module";
    case Kind::Callable: return s;
  }
  return "?";
}

static std::string float_repr(double v) {
  if (std::isinf(v)) return v > 0 ? "float(\"inf\")" : "float(\"-inf\")";
  if (std::isnan(v)) return "float(\"nan\")";
  std::string text = fmt::format("{:.17g}", v);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

std::string PyValue::repr() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return b ? "True" : "False";
    case Kind::Int: return std::to_string(i);
    case Kind::Float: return float_repr(f);
    case Kind::Str: {
      std::string out = "\"";
      for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    case Kind::List:
    case Kind::Tuple: {
      std::string out = kind == Kind::List ? "[" : "(";
      for (size_t k = 0; k < items->size(); ++k) out += (k ? ", " : "") + (*items)[k].repr();
      if (kind == Kind::Tuple && items->size() == 1) out += ",";
      return out + (kind == Kind::List ? "]" : ")");
    }
    default: return "<" + type_name() + ">";
  }
}

namespace {
// A tiny recursive-descent reader for --init values.
struct LiteralReader {
  const std::string& t;
  size_t p = 0;
  void skip() { while (p < t.size() && std::isspace(static_cast<unsigned char>(t[p]))) ++p; }
  bool eat(char c) { skip(); if (p < t.size() && t[p] == c) { ++p; return true; } return false; }
  std::optional<PyValue> value() {
    skip();
    if (p >= t.size()) return std::nullopt;
    char c = t[p];
    if (c == '[' || c == '(') {
      char close = c == '[' ? ']' : ')';
      ++p;
      PyList items;
      bool trailing_comma = false;
      while (!eat(close)) {
        auto v = value();
        if (!v) return std::nullopt;
        items.push_back(*v);
        trailing_comma = eat(',');
        if (!trailing_comma) { if (!eat(close)) return std::nullopt; break; }
      }
      if (c == '(' && items.size() == 1 && !trailing_comma) return items[0];
      return c == '[' ? PyValue::list(items) : PyValue::tuple(items);
    }
    if (c == '\'' || c == '"') {
      size_t end = t.find(c, p + 1);
      if (end == std::string::npos) return std::nullopt;
      auto v = PyValue::str(t.substr(p + 1, end - p - 1));
      p = end + 1;
      return v;
    }
    size_t start = p;
    while (p < t.size() && (std::isalnum(static_cast<unsigned char>(t[p])) || t[p] == '.' || t[p] == '_' ||
                            t[p] == '-' || t[p] == '+'))
      ++p;
    std::string word = t.substr(start, p - start);
    if (word == "True" || word == "true") return PyValue::boolean(true);
    if (word == "False" || word == "false") return PyValue::boolean(false);
    if (word == "None") return PyValue::none();
    if (word.empty()) return std::nullopt;
    try {
      size_t used = 0;
      if (word.find_first_of(".eE") == std::string::npos || word.find("0x") == 0) {
        int64_t v = std::stoll(word, &used, 0);
        if (used == word.size()) return PyValue::integer(v);
      }
      double d = std::stod(word, &used);
      if (used == word.size()) return PyValue::real(d);
    } catch (...) {
    }
    return std::nullopt;
  }
};
}  // namespace

std::optional<PyValue> parse_python_literal(const std::string& text) {
  LiteralReader reader{text};
  auto v = reader.value();
  reader.skip();
  if (!v || reader.p != text.size()) return std::nullopt;
  return v;
}

}  // namespace mlopt::script
