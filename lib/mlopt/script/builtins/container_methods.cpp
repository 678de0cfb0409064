// Methods of lists, dicts and strs in __init__: list.append, dict.get, str.format ...
#include <algorithm>
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/builtin_registry.h"
#include "mlopt/script/checked_int.h"

namespace mlopt::script {
namespace {

using Kind = PyValue::Kind;

// One replacement field of str.format: value, conversion ('r', 's' or 0) and format spec
// ([[fill]align][sign][#][0][width][,][.precision][type]).
std::string format_field(const PyValue& v, char conversion, const std::string& spec, const torch::jit::SourceRange& range) {
  size_t k = 0;
  char fill = ' ', align = 0, sign = 0, type = 0;
  auto is_align = [](char ch) { return ch == '<' || ch == '>' || ch == '^' || ch == '='; };
  if (spec.size() >= 2 && is_align(spec[1])) fill = spec[0], align = spec[1], k = 2;
  else if (!spec.empty() && is_align(spec[0])) align = spec[0], k = 1;
  if (k < spec.size() && (spec[k] == '+' || spec[k] == '-' || spec[k] == ' ')) sign = spec[k++];
  if (k < spec.size() && spec[k] == '#') ++k;
  if (k < spec.size() && spec[k] == '0') {
    if (!align) fill = '0', align = '=';
    ++k;
  }
  size_t width = 0;
  while (k < spec.size() && std::isdigit(static_cast<unsigned char>(spec[k]))) width = width * 10 + (spec[k++] - '0');
  bool grouping = k < spec.size() && (spec[k] == ',' || spec[k] == '_');
  if (grouping) ++k;
  int precision = -1;
  if (k < spec.size() && spec[k] == '.') {
    precision = 0;
    while (++k < spec.size() && std::isdigit(static_cast<unsigned char>(spec[k]))) precision = precision * 10 + (spec[k] - '0');
  }
  if (k < spec.size()) type = spec[k++];
  if (k != spec.size()) fail_at(range, "str.format(): unsupported format spec '" + spec + "'");
  std::string text;
  bool number = v.is_number() && conversion == 0 && type != 's';
  if (!number) {
    text = conversion == 'r' || v.kind != Kind::Str ? v.repr() : v.s;
    if (conversion == 's' && v.kind == Kind::Str) text = v.s;
    if (precision >= 0 && size_t(precision) < text.size()) text = text.substr(0, precision);
  } else {
    double x = v.as_double();
    bool integral = v.kind != Kind::Float;
    switch (type) {
      case 'd': case 'n':
        if (!integral) fail_at(range, "str.format(): format code 'd' for a float");
        text = std::to_string(v.kind == Kind::Bool ? int64_t(v.b) : v.i);
        break;
      case 'f': case 'F': text = fmt::format("{:.{}f}", x, precision < 0 ? 6 : precision); break;
      case 'e': case 'E': text = fmt::format(type == 'e' ? "{:.{}e}" : "{:.{}E}", x, precision < 0 ? 6 : precision); break;
      case 'g': case 'G': text = fmt::format("{:.{}g}", x, precision < 0 ? 6 : std::max(precision, 1)); break;
      case '%': text = fmt::format("{:.{}f}%", x * 100, precision < 0 ? 6 : precision); break;
      case 'x': case 'X': case 'o': case 'b':
        if (!integral) fail_at(range, std::string("str.format(): format code '") + type + "' for a float");
        text = type == 'x' ? fmt::format("{:x}", v.i) : type == 'X' ? fmt::format("{:X}", v.i)
             : type == 'o' ? fmt::format("{:o}", v.i) : fmt::format("{:b}", v.i);
        break;
      case 0:
        text = integral ? std::to_string(v.kind == Kind::Bool ? int64_t(v.b) : v.i)
                        : precision >= 0 ? fmt::format("{:.{}g}", x, std::max(precision, 1)) : v.repr();
        if (v.kind == Kind::Bool && spec.empty()) text = v.b ? "True" : "False";
        break;
      default: fail_at(range, std::string("str.format(): unsupported format code '") + type + "'");
    }
    if (grouping) {
      size_t digits_end = text.find_first_of(".eE%");
      if (digits_end == std::string::npos) digits_end = text.size();
      size_t digits_start = text[0] == '-' ? 1 : 0;
      for (int64_t at = int64_t(digits_end) - 3; at > int64_t(digits_start); at -= 3) text.insert(at, ",");
    }
    if (text[0] != '-' && (sign == '+' || sign == ' ')) text = std::string(1, sign) + text;
    if (!align) align = '>';
  }
  if (text.size() >= width) return text;
  size_t pad = width - text.size();
  switch (align) {
    case '>': return std::string(pad, fill) + text;
    case '^': return std::string(pad / 2, fill) + text + std::string(pad - pad / 2, fill);
    case '=': {
      size_t signs = (!text.empty() && (text[0] == '-' || text[0] == '+' || text[0] == ' ')) ? 1 : 0;
      return text.substr(0, signs) + std::string(pad, fill) + text.substr(signs);
    }
    default: return text + std::string(pad, fill);
  }
}

// str.format: "{}", "{0}", "{name}", "{!r}", "{:>8.3f}", "{{" and "}}".
std::string format_string(const std::string& text, const PyList& args, const KwArgs& kwargs,
                          const torch::jit::SourceRange& range) {
  std::string out;
  size_t next = 0;
  for (size_t k = 0; k < text.size(); ++k) {
    char ch = text[k];
    if ((ch == '{' || ch == '}') && k + 1 < text.size() && text[k + 1] == ch) {
      out += ch;
      ++k;
      continue;
    }
    if (ch == '}') fail_at(range, "str.format(): single '}' encountered in format string");
    if (ch != '{') {
      out += ch;
      continue;
    }
    size_t close = text.find('}', k);
    if (close == std::string::npos) fail_at(range, "str.format(): single '{' encountered in format string");
    std::string field = text.substr(k + 1, close - k - 1), spec;
    char conversion = 0;
    if (auto colon = field.find(':'); colon != std::string::npos) spec = field.substr(colon + 1), field.resize(colon);
    if (auto bang = field.find('!'); bang != std::string::npos) {
      conversion = bang + 1 < field.size() ? field[bang + 1] : 0;
      field.resize(bang);
    }
    const PyValue* value = nullptr;
    if (field.empty()) {
      if (next >= args.size()) fail_at(range, "str.format(): not enough arguments");
      value = &args[next++];
    } else if (std::all_of(field.begin(), field.end(), [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
      size_t index = std::stoul(field);
      if (index >= args.size()) fail_at(range, "str.format(): replacement index " + field + " out of range");
      value = &args[index];
    } else {
      for (auto& [key, v] : kwargs)
        if (key == field) value = &v;
      if (!value) fail_at(range, "str.format(): no argument named '" + field + "'");
    }
    out += format_field(*value, conversion, spec, range);
    k = close;
  }
  return out;
}

PyValue container_method(const BuiltinCall& c) {
  const std::string& name = c.name;
  const PyValue& callee = c.callee;
  const PyList& args = c.args;
  const KwArgs& kwargs = c.kwargs;
  const torch::jit::SourceRange& range = c.range;
  (void)kwargs;
  if (name == "list.append") {
    c.need(1, 1);
    c.check_elements(callee.bound->items->size() + 1, "list.append()");
    c.check_insert(*callee.bound, args[0]);
    callee.bound->items->push_back(args[0]);
    return PyValue::none();
  }
  if (name == "list.extend") {
    c.need(1, 1);
    PyList more = c.iterate(args[0]);
    c.check_elements(callee.bound->items->size() + more.size(), "list.extend()");
    for (auto& v : more) c.check_insert(*callee.bound, v);
    for (auto& v : more) callee.bound->items->push_back(v);
    return PyValue::none();
  }
  if (name == "list.insert") {
    c.need(2, 2);
    c.check_elements(callee.bound->items->size() + 1, "list.insert()");
    c.check_insert(*callee.bound, args[1]);
    auto& items = *callee.bound->items;
    int64_t k = std::clamp<int64_t>(c.need_int(args[0]) < 0 ? c.need_int(args[0]) + items.size() : c.need_int(args[0]), 0, items.size());
    items.insert(items.begin() + k, args[1]);
    return PyValue::none();
  }
  if (name == "list.pop") {
    auto& items = *callee.bound->items;
    if (items.empty()) fail_at(range, "pop from empty list");
    int64_t k = args.empty() ? items.size() - 1 : c.need_int(args[0]);
    if (k < 0) k += items.size();
    PyValue v = items.at(k);
    items.erase(items.begin() + k);
    return v;
  }
  if (name == "list.index") {
    c.need(1, 1);
    auto& items = *callee.bound->items;
    for (size_t k = 0; k < items.size(); ++k)
      if (values_equal(items[k], args[0])) return PyValue::integer(k);
    fail_at(range, args[0].repr() + " is not in list");
  }
  if (name == "dict.items" || name == "dict.keys" || name == "dict.values") {
    auto& d = *callee.bound;
    if (name == "dict.keys") return PyValue::list(*d.items);
    if (name == "dict.values") return PyValue::list(*d.values);
    PyList items;
    for (size_t k = 0; k < d.items->size(); ++k) items.push_back(PyValue::tuple({(*d.items)[k], (*d.values)[k]}));
    return PyValue::list(items);
  }
  if (name == "dict.get") {
    c.need(1, 2);
    auto& d = *callee.bound;
    for (size_t k = 0; k < d.items->size(); ++k)
      if (values_equal((*d.items)[k], args[0])) return (*d.values)[k];
    return args.size() > 1 ? args[1] : PyValue::none();
  }
  if (name == "str.format") return PyValue::str(format_string(callee.bound->s, args, kwargs, range));
  if (name == "dict.pop") {
    c.need(1, 2);
    auto& d = *callee.bound;
    for (size_t k = 0; k < d.items->size(); ++k)
      if (values_equal((*d.items)[k], args[0])) {
        PyValue v = (*d.values)[k];
        d.items->erase(d.items->begin() + k);
        d.values->erase(d.values->begin() + k);
        return v;
      }
    if (args.size() > 1) return args[1];
    fail_at(range, "KeyError: " + args[0].repr());
  }
  if (name == "dict.setdefault") {
    c.need(1, 2);
    auto& d = *callee.bound;
    for (size_t k = 0; k < d.items->size(); ++k)
      if (values_equal((*d.items)[k], args[0])) return (*d.values)[k];
    PyValue v = args.size() > 1 ? args[1] : PyValue::none();
    c.check_insert(d, v);
    d.items->push_back(args[0]);
    d.values->push_back(v);
    return v;
  }
  if (name == "dict.update") {
    auto& d = *callee.bound;
    auto put = [&](const PyValue& key, const PyValue& value) {
      c.check_insert(d, value);
      for (size_t k = 0; k < d.items->size(); ++k)
        if (values_equal((*d.items)[k], key)) { (*d.values)[k] = value; return; }
      d.items->push_back(key);
      d.values->push_back(value);
    };
    if (!args.empty()) {
      if (args[0].kind != Kind::Dict) fail_at(range, "dict.update(): expected a dict");
      for (size_t k = 0; k < args[0].items->size(); ++k) put((*args[0].items)[k], (*args[0].values)[k]);
    }
    for (auto& [k, v] : kwargs) put(PyValue::str(k), v);
    return PyValue::none();
  }
  if (name == "dict.copy") {
    PyValue out = PyValue::list(*callee.bound->items, Kind::Dict);
    out.values = std::make_shared<PyList>(*callee.bound->values);
    return out;
  }
  if (name == "list.copy") return PyValue::list(*callee.bound->items);
  if (name == "str.join") {
    c.need(1, 1);
    std::string out;
    bool first = true;
    for (auto& v : c.iterate(args[0])) {
      if (v.kind != Kind::Str) fail_at(range, "str.join(): expected str items, got " + v.type_name());
      out += (first ? "" : callee.bound->s) + v.s;
      first = false;
    }
    return PyValue::str(out);
  }
  if (name == "str.lower" || name == "str.upper") {
    std::string out = callee.bound->s;
    for (char& ch : out) ch = name == "str.lower" ? std::tolower(static_cast<unsigned char>(ch)) : std::toupper(static_cast<unsigned char>(ch));
    return PyValue::str(out);
  }
  if (name == "str.startswith" || name == "str.endswith") {
    c.need(1, 1);
    if (args[0].kind != Kind::Str) fail_at(range, name + "(): expected a str");
    const std::string& s = callee.bound->s;
    const std::string& p = args[0].s;
    bool r = p.size() <= s.size() && (name == "str.startswith" ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0);
    return PyValue::boolean(r);
  }
  fail_at(range, "call to '" + name + "' is not supported in __init__");
}

}  // namespace

MLOPT_REGISTER_BUILTINS("containers", {"list.append", "list.extend", "list.insert", "list.pop", "list.index", "list.copy",
                                       "dict.items", "dict.keys", "dict.values", "dict.get", "dict.pop", "dict.setdefault",
                                       "dict.update", "dict.copy", "str.format", "str.join", "str.lower", "str.upper",
                                       "str.startswith", "str.endswith"}, container_method);

}  // namespace mlopt::script
